//! A small HTML report: sections of text, tables and pictures, written as one page.

use crate::error::Result;

/// Escapes text for HTML.
pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A page and the files it shows, collected in memory and written at the end of the
/// work (so a failed run writes nothing).
#[derive(Default)]
pub struct Report {
    title: String,
    body: String,
    files: Vec<(String, Vec<u8>)>,
}

impl Report {
    pub fn new(title: &str) -> Report {
        Report {
            title: title.into(),
            ..Report::default()
        }
    }
    /// A file the page refers to (name relative to the page).
    pub fn add_file(&mut self, name: &str, bytes: Vec<u8>) {
        self.files.push((name.to_string(), bytes));
    }
    /// A picture the page refers to, as PNG.
    pub fn png(&mut self, name: &str, img: &image::RgbImage) -> Result<()> {
        self.add_file(name, super::png_bytes(img)?);
        Ok(())
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
    /// The page's files and the page itself under `page_name`.
    pub fn into_files(mut self, page_name: &str) -> Vec<(String, Vec<u8>)> {
        let page = self.page();
        self.files.push((page_name.to_string(), page.into_bytes()));
        self.files
    }
    /// The page as HTML.
    pub fn page(&self) -> String {
        format!(
            "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>{t}</title><style>\
             body{{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}}\
             table{{border-collapse:collapse;margin:1em 0}}td,th{{border:1px solid #ccc;padding:3px 8px;text-align:right}}\
             figure{{display:inline-block;margin:0.5em}}figcaption{{font-size:0.9em;color:#555;max-width:520px}}\
             img{{image-rendering:pixelated}}</style></head><body><h1>{t}</h1>\n{b}</body></html>\n",
            t = esc(&self.title),
            b = self.body
        )
    }
}
