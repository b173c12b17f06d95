//! Global explanations: "what does a filter, or a class, look like to the network?" The
//! home of activation maximization with its regularizers and a generator
//! ([`ascent`]), and of the adversarial images that show why unregularized ascent gives
//! noise ([`attack`]). Gradients with respect to the input come from the same tape as
//! every attribution. Whole-model surrogates (a tree that mimics a network) live with
//! the other surrogates, in [`crate::explain::surrogate::distil`].

pub mod ascent;
pub mod attack;
