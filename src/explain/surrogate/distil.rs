//! Whole-model surrogates: a decision tree that mimics a network (model distillation
//! into an interpretable model; Craven & Shavlik 1996, the "global surrogate" of
//! Molnar's *Interpretable Machine Learning*, ch. 8.6).
//!
//! *Question:* how many if-then rules on features a person can read (here: pixel
//! intensities) does it take to reproduce what the network answers, and how faithfully?
//!
//! *Formula:* a CART tree ([`super::tree`]) is fitted to the **network's predictions**
//! `ŷ = argmax f(x)` on training inputs, not to the true labels. Its quality as an
//! explanation is its **fidelity**, the share of held-out inputs where tree and network
//! agree, `(1/n) Σ 1[t(x) = argmax f(x)]`, beside its size: depth, leaves and average
//! path length (decision nodes visited). One tree is grown to the largest depth; the
//! tree of depth `d` is that tree cut at depth `d` (CART's greedy splits do not depend
//! on the depth limit, so the cut tree equals one grown with `max_depth = d`).
//!
//! Pinned by `tests/global.rs`: fidelity to a linear model's own predictions rises with
//! depth; the cut tree predicts as a tree grown to that depth.

use super::tree::{DecisionTree, TreeParams};
use crate::error::{Result, invalid};

/// One depth of the surrogate.
#[derive(Clone, Debug, PartialEq)]
pub struct DistilRow {
    pub depth: usize,
    pub leaves: usize,
    /// Average number of decision nodes a held-out input visits.
    pub apl: f64,
    /// Agreement with the network on the training inputs the tree was fitted to.
    pub fidelity_train: f64,
    /// Agreement with the network on held-out inputs.
    pub fidelity_test: f64,
    /// Agreement with the true labels on held-out inputs.
    pub accuracy_test: f64,
}

/// The class a tree cut at `depth` gives `sample`, and the decisions taken.
pub fn predict_cut(tree: &DecisionTree, sample: &[f64], depth: usize) -> (usize, usize) {
    let mut i = 0;
    let mut decisions = 0;
    while let Some((f, thr, l, r)) = tree.nodes[i].split {
        if decisions == depth {
            break;
        }
        i = if sample[f] <= thr { l } else { r };
        decisions += 1;
    }
    (tree.nodes[i].class(), decisions)
}

/// Leaves of the tree cut at `depth`.
pub fn leaves_cut(tree: &DecisionTree, depth: usize) -> usize {
    let mut n = 0;
    let mut stack = vec![0usize];
    while let Some(i) = stack.pop() {
        match tree.nodes[i].split {
            Some((_, _, l, r)) if tree.nodes[i].depth < depth => stack.extend([l, r]),
            _ => n += 1,
        }
    }
    n
}

/// Inputs as rows `[n, d]`, the network's predictions for them, and (held out) the true labels.
pub struct DistilData<'a> {
    pub d: usize,
    pub train_x: &'a [f64],
    pub train_pred: &'a [usize],
    pub test_x: &'a [f64],
    pub test_pred: &'a [usize],
    pub test_y: &'a [usize],
    pub classes: usize,
}

/// Fits the surrogate to depth `max_depth` and reports every depth from 1.
pub fn distil(
    data: &DistilData,
    max_depth: usize,
    min_samples_leaf: usize,
) -> Result<(DecisionTree, Vec<DistilRow>)> {
    if max_depth == 0 {
        return invalid("--max-depth must be at least 1");
    }
    let nt = data.test_pred.len();
    if nt == 0 || data.test_y.len() != nt || data.test_x.len() != nt * data.d {
        return invalid("distillation needs held-out inputs with one prediction and label each");
    }
    let tree = DecisionTree::fit(
        data.train_x,
        data.d,
        data.train_pred,
        data.classes,
        &TreeParams {
            max_depth: Some(max_depth),
            min_samples_leaf,
            ccp_alpha: 0.0,
        },
    )?;
    let agree = |x: &[f64], want: &[usize], depth: usize| -> (f64, f64) {
        let (mut hit, mut path) = (0usize, 0usize);
        for (s, &w) in x.chunks(data.d).zip(want) {
            let (c, k) = predict_cut(&tree, s, depth);
            hit += usize::from(c == w);
            path += k;
        }
        let n = want.len().max(1) as f64;
        (hit as f64 / n, path as f64 / n)
    };
    let deepest = tree.depth().max(1);
    let rows = (1..=max_depth.min(deepest))
        .map(|depth| {
            let (fidelity_test, apl) = agree(data.test_x, data.test_pred, depth);
            DistilRow {
                depth,
                leaves: leaves_cut(&tree, depth),
                apl,
                fidelity_train: agree(data.train_x, data.train_pred, depth).0,
                fidelity_test,
                accuracy_test: agree(data.test_x, data.test_y, depth).0,
            }
        })
        .collect();
    Ok((tree, rows))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cut_tree_predicts_as_a_tree_grown_to_that_depth() {
        // four features, labels from a rule two levels deep plus noise-free structure
        let n = 200;
        let x: Vec<f64> = (0..n * 4)
            .map(|i| ((i * 37 + 11) % 101) as f64 / 101.0)
            .collect();
        let y: Vec<usize> = x
            .chunks(4)
            .map(|s| {
                usize::from(s[0] > 0.5) * 2 + usize::from(s[1] > 0.3) + usize::from(s[2] > 0.8)
            })
            .map(|c| c.min(3))
            .collect();
        let deep = DecisionTree::fit(&x, 4, &y, 4, &TreeParams::default()).unwrap();
        for depth in 1..=3 {
            let grown = DecisionTree::fit(
                &x,
                4,
                &y,
                4,
                &TreeParams {
                    max_depth: Some(depth),
                    ..TreeParams::default()
                },
            )
            .unwrap();
            for s in x.chunks(4) {
                assert_eq!(predict_cut(&deep, s, depth).0, grown.predict(s));
            }
            assert_eq!(leaves_cut(&deep, depth), grown.n_leaves());
        }
    }
}
