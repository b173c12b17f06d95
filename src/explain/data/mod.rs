//! Training-data attribution: "which training examples explain this prediction?" The
//! home of forgetting events, data maps, influence functions, TracIn and representer
//! points. Training records come from the observer hook of the training loop,
//! [`crate::fit::Observer`]; Hessian-vector products from [`crate::autodiff::hvp`].
