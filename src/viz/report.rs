//! A small HTML report: sections of text, tables and pictures, written as one page.

use crate::error::{Error, Result};
use std::path::Path;

/// Escapes text for HTML.
pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[derive(Default)]
pub struct Report {
    title: String,
    body: String,
}

impl Report {
    pub fn new(title: &str) -> Report {
        Report {
            title: title.into(),
            body: String::new(),
        }
    }
    pub fn heading(&mut self, text: &str) {
        self.body += &format!("<h2>{}</h2>\n", esc(text));
    }
    pub fn paragraph(&mut self, text: &str) {
        self.body += &format!("<p>{}</p>\n", esc(text));
    }
    /// Raw HTML (the caller escapes what needs escaping).
    pub fn html(&mut self, html: &str) {
        self.body += html;
        self.body += "\n";
    }
    /// A picture (path relative to the report) with a caption.
    pub fn figure(&mut self, src: &str, caption: &str) {
        self.body += &format!(
            "<figure><img src=\"{}\"><figcaption>{}</figcaption></figure>\n",
            esc(src),
            esc(caption)
        );
    }
    /// A table with a header row.
    pub fn table(&mut self, header: &[String], rows: &[Vec<String>]) {
        let mut t = String::from("<table><tr>");
        for h in header {
            t += &format!("<th>{}</th>", esc(h));
        }
        t += "</tr>";
        for r in rows {
            t += "<tr>";
            for c in r {
                t += &format!("<td>{}</td>", esc(c));
            }
            t += "</tr>";
        }
        self.body += &t;
        self.body += "</table>\n";
    }
    pub fn write(&self, path: &Path) -> Result<()> {
        let page = format!(
            "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>{t}</title><style>\
             body{{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}}\
             table{{border-collapse:collapse;margin:1em 0}}td,th{{border:1px solid #ccc;padding:3px 8px;text-align:right}}\
             figure{{display:inline-block;margin:0.5em}}figcaption{{font-size:0.9em;color:#555;max-width:520px}}\
             img{{image-rendering:pixelated}}</style></head><body><h1>{t}</h1>\n{b}</body></html>\n",
            t = esc(&self.title),
            b = self.body
        );
        std::fs::write(path, page).map_err(|e| Error::Io(format!("{}: {e}", path.display())))
    }
}
