//! Cross-crate end-to-end tests live in `tests/`; this crate has no library code.
