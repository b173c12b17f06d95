//! The crate's layers depend in one direction: tensor ← autodiff/ops ← nn ← data/io ←
//! fit/profile ← explain ← report ← cli. This test reads the sources and fails on an
//! import from a layer above.

use std::path::Path;

/// Layer rank of a top-level module (higher = above).
fn rank(module: &str) -> Option<usize> {
    Some(match module {
        "error" | "float" | "runtime" | "tensor" => 0,
        "autodiff" | "ops" => 1,
        "nn" | "optim" => 2,
        "data" | "io" | "viz" => 3,
        "fit" | "profile" => 4,
        "explain" => 5,
        "report" => 6,
        "cli" => 7,
        _ => return None,
    })
}

fn files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

#[test]
fn no_module_imports_from_a_layer_above() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut all = Vec::new();
    files(&src, &mut all);
    let mut bad = Vec::new();
    for f in &all {
        let rel = f.strip_prefix(&src).unwrap();
        let top = rel
            .iter()
            .next()
            .unwrap()
            .to_str()
            .unwrap()
            .trim_end_matches(".rs");
        let Some(mine) = rank(top) else { continue };
        let text = std::fs::read_to_string(f).unwrap();
        // library code only: doc links and unit tests may name any layer
        let code = text.split("#[cfg(test)]").next().unwrap_or("");
        for (n, line) in code.lines().enumerate() {
            if line.trim_start().starts_with("//") {
                continue;
            }
            for part in line.split("crate::").skip(1) {
                let used: String = part
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if let Some(theirs) = rank(&used)
                    && theirs > mine
                {
                    bad.push(format!(
                        "{}:{}: {top} uses crate::{used}",
                        rel.display(),
                        n + 1
                    ));
                }
            }
        }
    }
    assert!(
        bad.is_empty(),
        "imports from a layer above:\n{}",
        bad.join("\n")
    );
}

#[test]
fn viz_draws_tensors_not_explanations() {
    let viz = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/viz");
    let mut all = Vec::new();
    files(&viz, &mut all);
    for f in all {
        let text = std::fs::read_to_string(&f).unwrap();
        assert!(
            !text.contains("crate::explain"),
            "{} imports explain",
            f.display()
        );
    }
}
