//! The tour's Pokémon/Digimon section: where does the classifier look? The share of each
//! method's attribution on the background, for the shortcut and the debiased model.

use super::cache::Trained;
use super::models::pct;
use crate::data::source::{DataSpec, Loaded};
use crate::error::Result;
use crate::explain::metrics::mass::{background_fraction, creature_area, story_methods};
use crate::fit::evaluate;
use crate::viz::report::Report;

/// The background table and what it shows.
pub fn section(r: &mut Report, poke: &[(DataSpec, Loaded, Trained)]) -> Result<()> {
    let mut story = Vec::new();
    let area = creature_area(&poke[1].1.test);
    for (spec, data, t) in poke {
        let mut row = vec![spec.describe(), pct(t.eval.accuracy)];
        for (method, options) in story_methods() {
            let f = background_fraction(&t.model, &data.test, method, &options)?;
            // NaN: every map was zero (a model that has not learned, as the quick tour's
            // debiased one can be), so there is no mass to share out
            if f.is_nan() {
                eprintln!(
                    "{}: every {method} map is zero; no mass to place",
                    spec.describe()
                );
                row.push("no mass (every map is zero)".into());
            } else {
                eprintln!(
                    "{}: {:.1}% of the {method} mass on the background",
                    spec.describe(),
                    100.0 * f
                );
                row.push(pct(f));
            }
        }
        story.push(row);
    }
    let shortcut = evaluate(&poke[0].2.model, &poke[1].1.test)?.accuracy;
    r.heading("Where does the Pokémon/Digimon classifier look?");
    let mut head = vec!["model's data".to_string(), "test accuracy".into()];
    head.extend(
        story_methods()
            .iter()
            .map(|(m, _)| format!("{m} mass on background")),
    );
    r.table(&head, &story);
    r.html(&format!(
        "<p>Both models do well on their own test sets; accuracy alone does not say what they look at. \
         The creature covers {} of each picture, so a map that ignored the image would put {} on the background. \
         Compare each column between the two rows: a method that sees the shortcut puts clearly more of the first \
         model's attribution on the background. \
         The check that settles it: the shortcut model scores <b>{}</b> on the debiased test pictures, where the \
         background carries no class. Integrated gradients and occlusion use black (0) as their baseline and fill, which \
         is exactly the Pokémon background: replacing black by black changes nothing, so these two cannot see this \
         shortcut (the baseline problem).</p>",
        pct(area),
        pct(1.0 - area),
        pct(shortcut)
    ));

    Ok(())
}
