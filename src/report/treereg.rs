//! The tour's tree-regularization section (Wu et al. 2018).

use crate::error::Result;
use crate::explain::surrogate::experiment::{SweepOptions, Task, run_sweep, sweep_files};
use crate::viz::report::Report;

/// Runs the sweep on the signal-and-noise HMM and shows the AUC-vs-APL plot and the tree.
pub fn section(r: &mut Report, quick: bool) -> Result<()> {
    let sweep = run_sweep(&SweepOptions {
        task: Task::Hmm,
        lambdas: None,
        seed: 0,
        quick,
    })?;
    for (name, bytes) in sweep_files(&sweep, "Tree regularization: signal-and-noise HMM")? {
        r.add_file(&format!("treereg/{name}"), bytes);
    }
    r.heading("Tree regularization (Wu et al. 2018)");
    r.paragraph(
        "A GRU trained on the signal-and-noise HMM with tree regularization (blue), L1 (orange) and L2 (green) penalties of \
         growing strength, and decision trees fit to the labels (pink): test AUC against the average path length of the tree \
         that mimics each model.",
    );
    r.figure(
        "treereg/auc-vs-apl.png",
        "Test AUC (y) against average path length in decision nodes (x).",
    );
    if let Some(i) = sweep.shown {
        let run = &sweep.runs[i];
        let caption = format!(
            "The tree that mimics the tree-regularized GRU (λ = {}): APL {:.2}, test AUC {:.3}. Left branch: yes.",
            run.strength, run.apl, run.test_auc
        );
        r.figure("treereg/tree.png", &caption);
    }
    r.html("<p><a href=\"treereg/index.html\">All runs</a></p>");
    Ok(())
}
