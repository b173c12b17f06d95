//! CART decision trees (Breiman et al. 1984), written for the course.
//!
//! *Question:* which few if-then rules reproduce these labels (or this network's
//! predictions)?
//!
//! Binary splits `x_f ≤ θ` on real-valued features, chosen greedily to maximize the
//! decrease of Gini impurity `G = 1 − Σ_k p_k²` weighted by node size, with θ halfway
//! between consecutive distinct values; `max_depth` and `min_samples_leaf` stop growth,
//! and minimal cost-complexity pruning removes subtrees whose impurity gain per leaf is
//! below α: `g(t) = (R(t) − R(T_t)) / (|leaves(T_t)| − 1)` with `R(t) = (n_t/n)·G(t)`.
//!
//! **Average path length** (Wu et al. 2018): the mean, over reference inputs, of the
//! number of decision nodes an input visits. (The authors' public code instead averages
//! the *index* of the leaf reached; [`AplDefinition::LeafIndex`] reproduces it.)
//!
//! Pinned by the tests below: a known optimal split and its APL, pruning monotone in α.

use crate::error::{Result, invalid, shape_err};

/// How a tree grows.
#[derive(Clone, Debug, PartialEq)]
pub struct TreeParams {
    pub max_depth: Option<usize>,
    pub min_samples_leaf: usize,
    /// Cost-complexity pruning strength (0 = no pruning).
    pub ccp_alpha: f64,
}

impl Default for TreeParams {
    fn default() -> Self {
        TreeParams {
            max_depth: None,
            min_samples_leaf: 1,
            ccp_alpha: 0.0,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    /// Class counts of the training samples that reach the node.
    pub counts: Vec<usize>,
    pub impurity: f64,
    pub depth: usize,
    /// `(feature, threshold, left, right)`: left is `x[feature] ≤ threshold`.
    pub split: Option<(usize, f64, usize, usize)>,
}

impl Node {
    pub fn n(&self) -> usize {
        self.counts.iter().sum()
    }
    /// The majority class (lowest index on ties).
    pub fn class(&self) -> usize {
        let mut best = 0;
        for (k, &c) in self.counts.iter().enumerate() {
            if c > self.counts[best] {
                best = k;
            }
        }
        best
    }
}

/// The two definitions of average path length.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum AplDefinition {
    /// Decision nodes visited (the paper's definition).
    #[default]
    DecisionNodes,
    /// Index of the leaf reached in depth-first order (what the authors' code computes).
    LeafIndex,
}

#[derive(Clone, Debug, PartialEq)]
pub struct DecisionTree {
    /// Node 0 is the root; children come after their parent (depth-first order).
    pub nodes: Vec<Node>,
    pub n_features: usize,
    pub n_classes: usize,
}

fn gini(counts: &[usize]) -> f64 {
    let n: usize = counts.iter().sum();
    if n == 0 {
        return 0.0;
    }
    1.0 - counts
        .iter()
        .map(|&c| (c as f64 / n as f64).powi(2))
        .sum::<f64>()
}

/// Rows of `x` (each `d` features) are the samples.
fn check(x: &[f64], d: usize, n: usize) -> Result<()> {
    if d == 0 || x.len() != n * d {
        return shape_err(format!(
            "{} feature values for {n} samples of {d} features",
            x.len()
        ));
    }
    if x.iter().any(|v| !v.is_finite()) {
        return invalid("features contain NaN or infinity");
    }
    Ok(())
}

impl DecisionTree {
    /// Fits a tree to `n` samples (`x` row-major `[n, d]`) with labels in `0..n_classes`.
    pub fn fit(
        x: &[f64],
        d: usize,
        y: &[usize],
        n_classes: usize,
        params: &TreeParams,
    ) -> Result<DecisionTree> {
        check(x, d, y.len())?;
        if y.is_empty() {
            return invalid("cannot fit a tree to no samples");
        }
        if let Some(&c) = y.iter().find(|&&c| c >= n_classes) {
            return invalid(format!("label {c} out of range for {n_classes} classes"));
        }
        let mut tree = DecisionTree {
            nodes: Vec::new(),
            n_features: d,
            n_classes,
        };
        let idx: Vec<usize> = (0..y.len()).collect();
        tree.grow(
            x,
            y,
            idx,
            0,
            params.min_samples_leaf.max(1),
            params.max_depth,
        );
        if params.ccp_alpha > 0.0 {
            tree = tree.pruned(params.ccp_alpha);
        }
        Ok(tree)
    }

    fn grow(
        &mut self,
        x: &[f64],
        y: &[usize],
        idx: Vec<usize>,
        depth: usize,
        min_leaf: usize,
        max_depth: Option<usize>,
    ) -> usize {
        let d = self.n_features;
        let mut counts = vec![0; self.n_classes];
        idx.iter().for_each(|&i| counts[y[i]] += 1);
        let impurity = gini(&counts);
        let me = self.nodes.len();
        self.nodes.push(Node {
            counts: counts.clone(),
            impurity,
            depth,
            split: None,
        });
        let n = idx.len();
        if impurity <= 0.0 || n < 2 * min_leaf || max_depth.is_some_and(|m| depth >= m) {
            return me;
        }
        // best (decrease, feature, threshold)
        let mut best: Option<(f64, usize, f64)> = None;
        let parent_cost = n as f64 * impurity;
        let mut order = idx.clone();
        for f in 0..d {
            order.sort_by(|&a, &b| x[a * d + f].total_cmp(&x[b * d + f]).then(a.cmp(&b)));
            let mut left = vec![0usize; self.n_classes];
            for k in 0..n - 1 {
                left[y[order[k]]] += 1;
                let (v, next) = (x[order[k] * d + f], x[order[k + 1] * d + f]);
                let nl = k + 1;
                if v == next || nl < min_leaf || n - nl < min_leaf {
                    continue;
                }
                let right: Vec<usize> = counts.iter().zip(&left).map(|(c, l)| c - l).collect();
                let cost = nl as f64 * gini(&left) + (n - nl) as f64 * gini(&right);
                let dec = parent_cost - cost;
                if dec > 1e-12 && best.is_none_or(|b| dec > b.0 + 1e-12) {
                    best = Some((dec, f, v + (next - v) / 2.0));
                }
            }
        }
        let Some((_, f, thr)) = best else { return me };
        let (li, ri): (Vec<usize>, Vec<usize>) = idx.iter().partition(|&&i| x[i * d + f] <= thr);
        let l = self.grow(x, y, li, depth + 1, min_leaf, max_depth);
        let r = self.grow(x, y, ri, depth + 1, min_leaf, max_depth);
        self.nodes[me].split = Some((f, thr, l, r));
        me
    }

    /// Node indices from the root to the leaf that `sample` reaches.
    pub fn decision_path(&self, sample: &[f64]) -> Vec<usize> {
        let mut path = vec![0];
        let mut i = 0;
        while let Some((f, thr, l, r)) = self.nodes[i].split {
            i = if sample[f] <= thr { l } else { r };
            path.push(i);
        }
        path
    }

    pub fn leaf(&self, sample: &[f64]) -> usize {
        *self
            .decision_path(sample)
            .last()
            .expect("path has the root")
    }

    pub fn predict(&self, sample: &[f64]) -> usize {
        self.nodes[self.leaf(sample)].class()
    }

    /// Class frequencies at the leaf the sample reaches.
    pub fn predict_proba(&self, sample: &[f64]) -> Vec<f64> {
        let node = &self.nodes[self.leaf(sample)];
        node.counts
            .iter()
            .map(|&c| c as f64 / node.n() as f64)
            .collect()
    }

    /// Average path length over the rows of `x` (`[n, d]`).
    pub fn average_path_length(&self, x: &[f64], def: AplDefinition) -> Result<f64> {
        let n = x.len() / self.n_features.max(1);
        check(x, self.n_features, n)?;
        if n == 0 {
            return invalid("average path length over no inputs");
        }
        let total: usize = x
            .chunks(self.n_features)
            .map(|s| match def {
                AplDefinition::DecisionNodes => self.decision_path(s).len() - 1,
                AplDefinition::LeafIndex => self.leaf(s),
            })
            .sum();
        Ok(total as f64 / n as f64)
    }

    pub fn n_leaves(&self) -> usize {
        self.nodes.iter().filter(|n| n.split.is_none()).count() - self.unreachable_leaves()
    }

    fn unreachable_leaves(&self) -> usize {
        let mut reach = vec![false; self.nodes.len()];
        let mut stack = vec![0];
        while let Some(i) = stack.pop() {
            reach[i] = true;
            if let Some((_, _, l, r)) = self.nodes[i].split {
                stack.extend([l, r]);
            }
        }
        self.nodes
            .iter()
            .zip(&reach)
            .filter(|(n, r)| n.split.is_none() && !**r)
            .count()
    }

    pub fn depth(&self) -> usize {
        self.nodes.iter().map(|n| n.depth).max().unwrap_or(0)
    }

    /// `(R(T_t), leaves of T_t)` for the subtree at `i`, with `R` the size-weighted Gini.
    fn subtree_cost(&self, i: usize, total: f64) -> (f64, usize) {
        match self.nodes[i].split {
            None => (self.nodes[i].n() as f64 / total * self.nodes[i].impurity, 1),
            Some((_, _, l, r)) => {
                let (a, la) = self.subtree_cost(l, total);
                let (b, lb) = self.subtree_cost(r, total);
                (a + b, la + lb)
            }
        }
    }

    /// Minimal cost-complexity pruning: repeatedly collapse the internal node with the
    /// smallest `g(t)` while `g(t) ≤ α`.
    pub fn pruned(&self, alpha: f64) -> DecisionTree {
        let mut t = self.clone();
        let total = t.nodes[0].n() as f64;
        loop {
            let mut weakest: Option<(f64, usize)> = None;
            let mut stack = vec![0];
            while let Some(i) = stack.pop() {
                if let Some((_, _, l, r)) = t.nodes[i].split {
                    let (r_sub, leaves) = t.subtree_cost(i, total);
                    let r_node = t.nodes[i].n() as f64 / total * t.nodes[i].impurity;
                    let g = (r_node - r_sub) / (leaves as f64 - 1.0);
                    if weakest.is_none_or(|w| g < w.0 || (g == w.0 && i < w.1)) {
                        weakest = Some((g, i));
                    }
                    stack.extend([r, l]);
                }
            }
            match weakest {
                Some((g, i)) if g <= alpha => t.nodes[i].split = None,
                _ => break,
            }
        }
        t.compact()
    }

    /// Drops nodes no longer reachable, renumbering depth-first.
    fn compact(&self) -> DecisionTree {
        let mut out = DecisionTree {
            nodes: Vec::new(),
            n_features: self.n_features,
            n_classes: self.n_classes,
        };
        fn copy(src: &DecisionTree, i: usize, out: &mut DecisionTree) -> usize {
            let me = out.nodes.len();
            let mut node = src.nodes[i].clone();
            node.split = None;
            out.nodes.push(node);
            if let Some((f, thr, l, r)) = src.nodes[i].split {
                let nl = copy(src, l, out);
                let nr = copy(src, r, out);
                out.nodes[me].split = Some((f, thr, nl, nr));
            }
            me
        }
        copy(self, 0, &mut out);
        out
    }

    /// An indented text rendering; `names` label the features (else `x0`, `x1`, …).
    pub fn to_text(&self, names: Option<&[String]>) -> String {
        let mut s = String::new();
        self.text_node(0, 0, names, &mut s);
        s
    }

    fn feature_name(&self, f: usize, names: Option<&[String]>) -> String {
        names
            .and_then(|n| n.get(f).cloned())
            .unwrap_or_else(|| format!("x{f}"))
    }

    fn text_node(&self, i: usize, indent: usize, names: Option<&[String]>, s: &mut String) {
        let node = &self.nodes[i];
        let pad = "  ".repeat(indent);
        match node.split {
            Some((f, thr, l, r)) => {
                s.push_str(&format!(
                    "{pad}if {} <= {thr:.4}  (n={}, gini={:.3})\n",
                    self.feature_name(f, names),
                    node.n(),
                    node.impurity
                ));
                self.text_node(l, indent + 1, names, s);
                s.push_str(&format!("{pad}else\n"));
                self.text_node(r, indent + 1, names, s);
            }
            None => s.push_str(&format!(
                "{pad}class {}  (n={}, counts={:?})\n",
                node.class(),
                node.n(),
                node.counts
            )),
        }
    }

    /// Graphviz DOT (`dot -Tpng tree.dot -o tree.png`).
    pub fn to_dot(&self, names: Option<&[String]>) -> String {
        let mut s = String::from(
            "digraph tree {\n  node [shape=box, style=\"rounded,filled\", fontname=helvetica];\n",
        );
        for (i, node) in self.nodes.iter().enumerate() {
            let label = match node.split {
                Some((f, thr, _, _)) => format!(
                    "{} <= {thr:.3}\\nn = {}",
                    self.feature_name(f, names),
                    node.n()
                ),
                None => format!("class {}\\nn = {}", node.class(), node.n()),
            };
            let fill = if node.split.is_some() {
                "#eeeeee"
            } else if node.class() == 0 {
                "#a6cee3"
            } else {
                "#fdbf6f"
            };
            s.push_str(&format!(
                "  n{i} [label=\"{label}\", fillcolor=\"{fill}\"];\n"
            ));
            if let Some((_, _, l, r)) = node.split {
                s.push_str(&format!(
                    "  n{i} -> n{l} [label=\"yes\"];\n  n{i} -> n{r} [label=\"no\"];\n"
                ));
            }
        }
        s.push_str("}\n");
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_known_optimal_split_and_apl() {
        // label = x1 > 2; x0 is noise
        let x = [0.0, 1.0, 5.0, 2.0, 1.0, 3.0, 3.0, 4.0, 9.0, 0.5];
        let y = [0, 0, 1, 1, 0];
        let t = DecisionTree::fit(&x, 2, &y, 2, &TreeParams::default()).unwrap();
        assert_eq!(t.nodes.len(), 3);
        let (f, thr, _, _) = t.nodes[0].split.unwrap();
        assert_eq!((f, thr), (1, 2.5));
        assert_eq!(
            t.average_path_length(&x, AplDefinition::DecisionNodes)
                .unwrap(),
            1.0
        );
        for (s, &c) in x.chunks(2).zip(&y) {
            assert_eq!(t.predict(s), c);
        }
        // leaf indices are 1 and 2: mean (3·1 + 2·2)/5
        assert!((t.average_path_length(&x, AplDefinition::LeafIndex).unwrap() - 1.4).abs() < 1e-12);
    }

    #[test]
    fn xor_needs_depth_two_and_min_leaf_limits_growth() {
        let x: Vec<f64> = (0..40)
            .flat_map(|i| [(i % 2) as f64, ((i / 2) % 2) as f64])
            .collect();
        let y: Vec<usize> = (0..40).map(|i| (i % 2) ^ ((i / 2) % 2)).collect();
        let t = DecisionTree::fit(&x, 2, &y, 2, &TreeParams::default()).unwrap();
        // greedy Gini sees no gain at the root for balanced XOR: the tree stays a leaf
        assert_eq!(t.nodes.len(), 1);
        let and: Vec<usize> = (0..40).map(|i| (i % 2) & ((i / 2) % 2)).collect();
        let t = DecisionTree::fit(&x, 2, &and, 2, &TreeParams::default()).unwrap();
        assert_eq!((t.depth(), t.n_leaves()), (2, 3));
        let apl = t
            .average_path_length(&x, AplDefinition::DecisionNodes)
            .unwrap();
        assert_eq!(
            apl, 1.5,
            "half the inputs stop after one decision, half after two"
        );
        let small = DecisionTree::fit(
            &x,
            2,
            &and,
            2,
            &TreeParams {
                min_samples_leaf: 25,
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(
            small.nodes.len(),
            1,
            "no split leaves 25 samples on each side of 40"
        );
    }

    #[test]
    fn pruning_is_monotone_in_alpha() {
        let n = 200;
        let x: Vec<f64> = (0..n)
            .flat_map(|i| {
                [
                    ((i * 37) % 101) as f64 / 101.0,
                    ((i * 53) % 97) as f64 / 97.0,
                ]
            })
            .collect();
        let y: Vec<usize> = (0..n)
            .map(|i| usize::from(x[2 * i] + 0.3 * x[2 * i + 1] > 0.6 || i % 11 == 0))
            .collect();
        let full = DecisionTree::fit(&x, 2, &y, 2, &TreeParams::default()).unwrap();
        let mut last = full.n_leaves();
        for alpha in [0.0, 0.001, 0.003, 0.01, 0.03, 0.1, 1.0] {
            let p = full.pruned(alpha);
            assert!(
                p.n_leaves() <= last,
                "alpha {alpha}: {} leaves > {last}",
                p.n_leaves()
            );
            last = p.n_leaves();
        }
        assert_eq!(last, 1, "a large alpha prunes to the root");
        assert!(full.n_leaves() > 5);
    }

    #[test]
    fn exports_and_errors() {
        let x = [0.0, 1.0, 2.0, 3.0];
        let t = DecisionTree::fit(&x, 1, &[0, 0, 1, 1], 2, &TreeParams::default()).unwrap();
        assert!(t.to_text(None).contains("if x0 <= 1.5000"));
        assert!(t.to_dot(None).contains("n0 -> n1"));
        assert!(DecisionTree::fit(&x, 1, &[0, 0, 2, 1], 2, &TreeParams::default()).is_err());
        assert!(DecisionTree::fit(&[f64::NAN], 1, &[0], 2, &TreeParams::default()).is_err());
    }
}
