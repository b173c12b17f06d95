//! The quick tour, rendered in a real browser (headless Chromium, which `.ci/run`
//! installs): no broken picture or link, no console error, every figure captioned and
//! its picture labelled, no page wider than the viewport. Screenshots of every page are
//! kept in `target/browser-artifacts/` (CI keeps them as artifacts).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

/// The viewport the pages must fit.
const WIDTH: u32 = 1280;

fn chromium() -> PathBuf {
    for c in [
        "/usr/bin/chromium",
        "/usr/bin/chromium-browser",
        "/usr/bin/google-chrome",
    ] {
        if Path::new(c).exists() {
            return PathBuf::from(c);
        }
    }
    panic!(
        "no Chromium found: this test renders the report in a real browser. Install it with \
         `apt-get install chromium` (what .ci/run does on a fresh machine)"
    );
}

fn headless(profile: &Path) -> Command {
    let mut c = Command::new(chromium());
    c.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        "--allow-file-access-from-files",
    ])
    .arg(format!("--user-data-dir={}", profile.display()));
    c
}

/// Loads each page in an iframe of the viewport's width and reports, as JSON lines:
/// pictures that did not load, figures without a caption, pictures without alt text,
/// and pages wider than the viewport.
const CHECKER: &str = r#"<!doctype html><html><body><pre id="result">running</pre>
<iframe id="f" style="width:WIDTHpx;height:900px;border:0"></iframe>
<script>
const pages = PAGES;
const out = [];
async function check(p) {
  const f = document.getElementById('f');
  await new Promise(r => { f.onload = r; f.src = p; });
  const d = f.contentDocument;
  const imgs = [...d.images];
  await Promise.all(imgs.map(i => i.complete ? 0 : new Promise(r => { i.onload = i.onerror = r; })));
  for (const i of imgs) {
    if (!(i.naturalWidth > 0)) out.push(p + ': broken picture ' + i.getAttribute('src'));
    if (!i.alt || !i.alt.trim()) out.push(p + ': picture without alt text ' + i.getAttribute('src'));
  }
  for (const fig of d.querySelectorAll('figure')) {
    const c = fig.querySelector('figcaption');
    if (!c || c.textContent.trim().length < 20) out.push(p + ': figure without a caption ' + fig.id);
  }
  const w = d.documentElement.scrollWidth;
  if (w > WIDTH) out.push(p + ': page is ' + w + ' px wide, viewport WIDTH');
  if (!d.querySelector('h1')) out.push(p + ': no title');
  out.push('checked ' + p + ' (' + imgs.length + ' pictures)');
}
(async () => {
  for (const p of pages) { try { await check(p); } catch (e) { out.push(p + ': ' + e); } }
  document.getElementById('result').textContent = 'DONE\n' + out.join('\n');
})();
</script></body></html>"#;

/// Every local `href`/`src` of a page exists, and `#anchors` exist in their page.
fn broken_links(dir: &Path, page: &str) -> Vec<String> {
    let html = std::fs::read_to_string(dir.join(page)).unwrap();
    let mut bad = Vec::new();
    for attr in ["href=\"", "src=\""] {
        for part in html.split(attr).skip(1) {
            let target = &part[..part.find('"').unwrap()];
            if target.starts_with("http") || target.starts_with("data:") {
                continue;
            }
            let (file, anchor) = target.split_once('#').unwrap_or((target, ""));
            let page_path = dir.join(page);
            let path = if file.is_empty() {
                page_path.clone()
            } else {
                page_path.parent().unwrap().join(file)
            };
            if !path.exists() {
                bad.push(format!("{page}: link to missing {target}"));
            } else if !anchor.is_empty()
                && !std::fs::read_to_string(&path)
                    .unwrap()
                    .contains(&format!("id=\"{anchor}\""))
            {
                bad.push(format!("{page}: link to missing anchor {target}"));
            }
        }
    }
    bad
}

#[test]
fn quick_tour_renders_cleanly_in_chromium() {
    let d = common::tmp("browser");
    let run = |args: &[&str]| common::run(args, &d);
    let o = run(&["tour", "--quick", "--out", "t", "--cache", "c"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = d.join("t");
    let pages = [
        "index.html",
        "models.html",
        "local.html",
        "global.html",
        "data.html",
        "surrogates.html",
        "treereg/index.html",
        "treereg/parabola/index.html",
    ];
    let index = std::fs::read_to_string(out.join("index.html")).unwrap();
    assert!(
        index.contains("Contents") && index.contains("local.html") && index.contains("mnist-gru")
    );
    let local = std::fs::read_to_string(out.join("local.html")).unwrap();
    assert!(
        local.contains("<math") && local.contains("Sundararajan"),
        "formulas and papers"
    );
    assert!(
        local.contains("explain-mnist-gru.svg"),
        "the GRU has its own figure"
    );

    let mut problems: Vec<String> = pages.iter().flat_map(|p| broken_links(&out, p)).collect();

    // the checker page, in the report's folder so its iframes are same-origin
    let list: Vec<String> = pages.iter().map(|p| format!("'{p}'")).collect();
    let checker = CHECKER
        .replace("PAGES", &format!("[{}]", list.join(",")))
        .replace("WIDTH", &WIDTH.to_string());
    std::fs::write(out.join("check.html"), checker).unwrap();
    let profile = d.join("chromium-profile");
    let o = headless(&profile)
        .args([
            "--enable-logging=stderr",
            "--v=0",
            "--virtual-time-budget=60000",
            "--dump-dom",
        ])
        .arg(format!("file://{}", out.join("check.html").display()))
        .output()
        .unwrap();
    let dom = String::from_utf8_lossy(&o.stdout).to_string();
    let log = String::from_utf8_lossy(&o.stderr).to_string();
    let result = dom
        .split("<pre id=\"result\">")
        .nth(1)
        .and_then(|r| r.split("</pre>").next())
        .unwrap_or("")
        .to_string();
    assert!(
        result.starts_with("DONE"),
        "the checker did not finish: {dom}\n{log}"
    );
    let checked = result.lines().filter(|l| l.starts_with("checked ")).count();
    assert_eq!(checked, pages.len(), "{result}");
    problems.extend(
        result
            .lines()
            .skip(1)
            .filter(|l| !l.starts_with("checked "))
            .map(String::from),
    );
    // console messages the pages caused (Chromium logs them as CONSOLE lines)
    problems.extend(
        log.lines()
            .filter(|l| l.contains("CONSOLE") && !l.contains("check.html"))
            .map(|l| format!("console: {l}")),
    );
    std::fs::remove_file(out.join("check.html")).unwrap();

    // screenshots of every page, kept for people and CI
    let shots = Path::new(env!("CARGO_TARGET_TMPDIR")).join("../browser-artifacts");
    std::fs::create_dir_all(&shots).unwrap();
    for p in pages {
        let png = shots.join(format!("{}.png", p.replace('/', "-")));
        let o = headless(&profile)
            .arg(format!("--window-size={WIDTH},2400"))
            .arg(format!("--screenshot={}", png.display()))
            .arg(format!("file://{}", out.join(p).display()))
            .output()
            .unwrap();
        assert!(
            png.exists(),
            "no screenshot of {p}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
    assert!(
        problems.is_empty(),
        "{} problem(s):\n{}",
        problems.len(),
        problems.join("\n")
    );

    let data_page = std::fs::read_to_string(out.join("data.html")).unwrap();
    assert!(
        data_page.contains("AUROC for 'label was flipped'") && data_page.contains("data-map.svg"),
        "the label-noise table and the data map"
    );
    let sweep = std::fs::read(out.join("treereg/results.csv")).unwrap();

    // a second run refuses to overwrite, then reuses the cached models with --force
    assert!(
        !run(&["tour", "--quick", "--out", "t", "--cache", "c"])
            .status
            .success()
    );
    let o = run(&["tour", "--quick", "--out", "t", "--cache", "c", "--force"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stderr).contains("cached"));
    // the tree-regularization sweeps too, to the byte
    assert_eq!(
        std::fs::read(out.join("treereg/results.csv")).unwrap(),
        sweep
    );
    let surrogates = std::fs::read_to_string(out.join("surrogates.html")).unwrap();
    assert!(surrogates.contains("loaded from the cache"));
    std::fs::remove_dir_all(d).unwrap();
}
