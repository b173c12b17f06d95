//! Global explanations: "what does a filter, or a class, look like to the network?" The
//! home of activation maximization with its regularizers, class visualization, fooling
//! images and whole-model surrogates. Gradients with respect to the input come from the
//! same tape as every attribution ([`super::attribution::input_gradient`]).
