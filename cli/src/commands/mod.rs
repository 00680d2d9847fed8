pub mod compare;
pub mod eval;
pub mod gallery;
pub mod images;
