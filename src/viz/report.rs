//! The HTML report: pages of headings, text, tables and figures, and the files they
//! show, collected in memory and written at the end of the work (so a failed run writes
//! nothing). [`site`] joins pages into a book with a table of contents and a navigation
//! bar on every page.

use crate::error::Result;

/// Escapes text for HTML.
pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// One page and the files it shows.
#[derive(Default)]
pub struct Report {
    title: String,
    body: String,
    headings: Vec<(String, String)>,
    files: Vec<(String, Vec<u8>)>,
    figures: usize,
}

impl Report {
    pub fn new(title: &str) -> Report {
        Report {
            title: title.into(),
            ..Report::default()
        }
    }
    pub fn title(&self) -> &str {
        &self.title
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
    /// A section heading, listed in the page's contents.
    pub fn heading(&mut self, text: &str) {
        let id = format!("s{}", self.headings.len() + 1);
        self.body += &format!("<h2 id=\"{id}\">{}</h2>\n", esc(text));
        self.headings.push((id, text.to_string()));
    }
    pub fn paragraph(&mut self, text: &str) {
        self.body += &format!("<p>{}</p>\n", esc(text));
    }
    /// Raw HTML (the caller escapes what needs escaping).
    pub fn html(&mut self, html: &str) {
        self.body += html;
        self.body += "\n";
    }
    /// A picture (path relative to the page) with a numbered caption; wide pictures
    /// scroll inside their figure instead of widening the page.
    pub fn figure(&mut self, src: &str, caption: &str) {
        self.figure_html(src, &esc(caption));
    }
    /// [`Report::figure`] with a caption in HTML (formulas, emphasis).
    pub fn figure_html(&mut self, src: &str, caption_html: &str) {
        self.figures += 1;
        let alt = strip_tags(caption_html);
        self.body += &format!(
            "<figure id=\"f{n}\"><div class=\"scroll\"><img src=\"{}\" alt=\"{}\"></div>\
             <figcaption><b>Figure {n}.</b> {caption_html}</figcaption></figure>\n",
            esc(src),
            esc(&alt),
            n = self.figures
        );
    }
    /// An SVG picture stored as `name` and shown as a figure.
    pub fn svg_figure(&mut self, name: &str, svg: String, caption_html: &str) {
        self.add_file(name, svg.into_bytes());
        self.figure_html(name, caption_html);
    }
    /// A table with a header row and a caption.
    pub fn table(&mut self, header: &[String], rows: &[Vec<String>]) {
        let mut t = String::from("<div class=\"scroll\"><table><tr>");
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
        self.body += "</table></div>\n";
    }
    /// The page's files and the page itself under `page_name`, standing alone.
    pub fn into_files(self, page_name: &str) -> Vec<(String, Vec<u8>)> {
        site(&self.title.clone(), vec![(page_name.to_string(), self)])
    }
}

/// Text of an HTML fragment without its tags (for `alt` text).
fn strip_tags(html: &str) -> String {
    let mut out = String::new();
    let mut depth = 0;
    for c in html.chars() {
        match c {
            '<' => depth += 1,
            '>' if depth > 0 => depth -= 1,
            c if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out.replace("&amp;", "&")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
}

const STYLE: &str = "body{font-family:'DejaVu Sans',Helvetica,Arial,sans-serif;max-width:1180px;margin:0 auto;padding:0 1em 2em;color:#222;line-height:1.45}\
nav{position:sticky;top:0;background:#fafafa;border-bottom:1px solid #ddd;padding:0.5em 0;margin-bottom:1em;z-index:1}\
nav a{margin-right:1.2em;color:#0b5394;text-decoration:none}nav a.here{font-weight:bold;color:#222}\
.toc{background:#f5f7fa;border:1px solid #dde;padding:0.6em 1.2em;display:inline-block}\
table{border-collapse:collapse;margin:0.6em 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}th{background:#f2f2f2}\
figure{margin:1.2em 0}figcaption{font-size:0.92em;color:#444;max-width:900px}\
.scroll{overflow-x:auto;max-width:100%}img{max-width:none;image-rendering:pixelated}\
.card{border-left:4px solid #0b5394;background:#f7f9fc;padding:0.4em 1em;margin:0.8em 0}.card math{font-size:1.1em}\
.lesson{border-left:4px solid #b2182b;background:#fdf5f5;padding:0.4em 1em}";

/// Joins pages (file name, page) into one book: every page gets a navigation bar, and
/// the first page a table of contents listing every page's sections. Returns every file
/// to write, the pages' pictures included.
pub fn site(title: &str, pages: Vec<(String, Report)>) -> Vec<(String, Vec<u8>)> {
    let nav = |here: &str| -> String {
        let links: Vec<String> = pages
            .iter()
            .map(|(f, p)| {
                let class = if f == here { " class=\"here\"" } else { "" };
                format!("<a href=\"{}\"{class}>{}</a>", esc(f), esc(&p.title))
            })
            .collect();
        format!("<nav>{}</nav>", links.join(""))
    };
    let mut toc = String::from("<div class=\"toc\"><b>Contents</b><ol>");
    for (f, p) in &pages {
        toc += &format!("<li><a href=\"{}\">{}</a>", esc(f), esc(&p.title));
        if !p.headings.is_empty() {
            toc += "<ul>";
            for (id, h) in &p.headings {
                toc += &format!("<li><a href=\"{}#{id}\">{}</a></li>", esc(f), esc(h));
            }
            toc += "</ul>";
        }
        toc += "</li>";
    }
    toc += "</ol></div>";
    let many = pages.len() > 1;
    let mut files = Vec::new();
    for (k, (f, p)) in pages.iter().enumerate() {
        let head = if many { nav(f) } else { String::new() };
        let contents = if k == 0 && many { toc.as_str() } else { "" };
        let h1 = if k == 0 { title } else { p.title.as_str() };
        let page = format!(
            "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
             <title>{t}</title><style>{STYLE}</style></head><body>{head}<h1>{h1}</h1>\n{contents}\n{b}</body></html>\n",
            t = esc(&p.title),
            h1 = esc(h1),
            b = p.body
        );
        files.push((f.clone(), page.into_bytes()));
    }
    for (_, p) in pages {
        files.extend(p.files);
    }
    files
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_link_each_other_and_figures_are_numbered_with_alt_text() {
        let mut a = Report::new("Models");
        a.heading("Accuracy");
        a.figure_html("a.svg", "Loss of <i>mnist-cnn</i>");
        let b = Report::new("Local");
        let files = site(
            "tour",
            vec![("index.html".into(), a), ("local.html".into(), b)],
        );
        let index = String::from_utf8(files[0].1.clone()).unwrap();
        assert!(index.contains("href=\"local.html\"") && index.contains("index.html#s1"));
        assert!(index.contains("alt=\"Loss of mnist-cnn\"") && index.contains("Figure 1."));
        let local = String::from_utf8(files[1].1.clone()).unwrap();
        assert!(local.contains("<a href=\"local.html\" class=\"here\">"));
    }
}
