//! The tour's chapter on surrogates: tree regularization (Wu et al. 2018).

use crate::error::Result;
use crate::explain::surrogate::experiment::{
    AUC_CAPTION, SweepOptions, Task, run_sweep, sweep_files, tree_caption,
};
use crate::viz::report::{Report, esc};

/// Runs the sweep on the signal-and-noise HMM and shows the AUC-vs-APL frontier and the tree.
pub fn chapter(r: &mut Report, quick: bool) -> Result<()> {
    eprintln!("tree regularization: sweeping the strengths of four regularizers");
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
    r.html(
        "<div class=\"card\"><b>tree regularization</b>: penalize the average path length of the decision tree that \
         mimics the model, through a small network that predicts it from the weights.\
         <math display=\"block\"><munder><mo>min</mo><mi>W</mi></munder><munder><mo>∑</mo><mi>n</mi></munder><mi>L</mi><mo>(</mo><msub><mi>y</mi><mi>n</mi></msub><mo>,</mo><msub><mover><mi>y</mi><mo>^</mo></mover><mi>n</mi></msub><mo>(</mo><msub><mi>x</mi><mi>n</mi></msub><mo>;</mo><mi>W</mi><mo>)</mo><mo>)</mo><mo>+</mo><mi>λ</mi><mspace width='0.3em'/><mtext>APL</mtext><mo>(</mo><mi>W</mi><mo>)</mo></math>\
         <small>Wu, Hughes, Parbhoo, Zazzi, Roth & Doshi-Velez 2018, Beyond Sparsity: Tree Regularization of Deep Models for Interpretability</small></div>",
    );
    r.paragraph(
        "A GRU trained on the signal-and-noise HMM with tree regularization, L1 and L2 penalties of growing strength, and \
         decision trees fit to the labels directly.",
    );
    // the pictures are the sweep's own files (added above)
    r.figure_html("treereg/auc-vs-apl.svg", &esc(AUC_CAPTION));
    if let Some(i) = sweep.shown {
        r.figure_html("treereg/tree.svg", &tree_caption(&sweep.runs[i]));
    }
    r.html("<p><a href=\"treereg/index.html\">Every run, with its numbers</a> (also in treereg/results.csv).</p>");
    Ok(())
}
