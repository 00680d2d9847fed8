//! Identity documents (ICAO 9303): the machine-readable zone read from OCR'd lines, its check
//! digits verified and OCR confusions repaired only where a check digit confirms the repair.
//! (Locating and reading the zone in an image, the portrait and the selfie match build on it.)

pub mod mrz;

pub use mrz::{CheckDigit, Mrz, MrzFormat, Repair};
