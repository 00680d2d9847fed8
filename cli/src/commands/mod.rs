pub mod compare;
pub mod eval;
pub mod eval_quality;
pub mod eval_spoof;
pub mod gallery;
pub mod images;
pub mod models;
pub mod probe;
