pub mod compare;
pub mod eval;
pub mod eval_quality;
pub mod gallery;
pub mod images;
