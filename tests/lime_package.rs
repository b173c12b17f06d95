//! LIME's surrogate against the lime package itself: the same samples, labels and
//! distances give the same kernel weights, chosen features, ridge coefficients,
//! intercept, weighted R² and local prediction (golden files from
//! `tests/golden/make_lime_golden.py`).

use lamppost::explain::local::lime::{Selection, fit_surrogate, kernel};
use lamppost::io::read_tensors;
use std::collections::HashMap;
use std::path::PathBuf;

fn golden(name: &str) -> (HashMap<String, Vec<f64>>, Vec<usize>, String) {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join(format!("tests/golden/lime/{name}.safetensors"));
    let (t, meta) = read_tensors::<f64>(&p).unwrap();
    let x_shape = t.iter().find(|t| t.0 == "x").unwrap().1.shape().to_vec();
    let map = t.into_iter().map(|(k, v)| (k, v.data().to_vec())).collect();
    (map, x_shape, meta["settings"].clone())
}

fn close(a: f64, b: f64, scale: f64, what: &str) {
    assert!(
        (a - b).abs() <= 1e-8 * scale.max(1.0),
        "{what}: {a} vs lime {b}"
    );
}

#[test]
fn surrogate_matches_the_lime_package() {
    for name in ["tabular", "binary"] {
        let (t, shape, settings) = golden(name);
        let (n, d) = (shape[0], shape[1]);
        let x: Vec<Vec<f64>> = t["x"].chunks(d).map(|r| r.to_vec()).collect();
        assert_eq!(x.len(), n);
        let (y, width) = (&t["y"], t["width"][0]);
        let wts: Vec<f64> = t["distances"]
            .iter()
            .map(|&dist| kernel(dist, width))
            .collect();
        for (ours, lime) in wts.iter().zip(&t["weights"]) {
            assert!(
                (ours - lime).abs() <= 1e-14,
                "{name}: kernel {ours} vs lime {lime}"
            );
        }
        for key in settings.split(',') {
            let (sel, k) = key.rsplit_once('_').unwrap();
            let selection = match sel {
                "forward_selection" => Selection::Forward,
                "highest_weights" => Selection::HighestWeights,
                "lasso_path" => Selection::LassoPath,
                "none" => Selection::All,
                "auto" => Selection::Auto,
                other => panic!("unknown selection {other}"),
            };
            let fit = fit_surrogate(&x, y, &wts, k.parse().unwrap(), selection).unwrap();
            let mut used: Vec<usize> = (0..d)
                .filter(|&j| t[&format!("{key}.used")][j] == 1.0)
                .collect();
            let mut ours = fit.features.clone();
            used.sort();
            ours.sort();
            assert_eq!(ours, used, "{name} {key}: chosen features");
            let coef = &t[&format!("{key}.coef")];
            let scale = coef.iter().fold(0.0f64, |m, c| m.max(c.abs()));
            for (&f, &c) in fit.features.iter().zip(&fit.coef) {
                close(c, coef[f], scale, &format!("{name} {key} coefficient {f}"));
            }
            close(
                fit.intercept,
                t[&format!("{key}.intercept")][0],
                1.0,
                &format!("{name} {key} intercept"),
            );
            close(
                fit.score,
                t[&format!("{key}.score")][0],
                1.0,
                &format!("{name} {key} score"),
            );
            close(
                fit.local_pred,
                t[&format!("{key}.local_pred")][0],
                1.0,
                &format!("{name} {key} local_pred"),
            );
        }
    }
}
