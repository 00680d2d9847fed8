//! Decisions: thresholds given as a raw similarity or as a false-match rate looked up in the
//! embedder's calibration table.

use crate::error::{Error, Result};
use crate::models::Calibration;
use serde::{Deserialize, Serialize};

/// How strict a match must be.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Threshold {
    /// A raw cosine similarity in -1..=1.
    Score(f32),
    /// A false-match rate (e.g. 1e-4), turned into a similarity by the calibration table.
    Fmr(f64),
}

impl Default for Threshold {
    fn default() -> Self {
        Threshold::Fmr(1e-4)
    }
}

impl Threshold {
    /// The threshold of an API that takes a similarity or a false-match rate as two optional
    /// arguments (the Python and Node bindings): at most one may be given.
    pub fn from_options(score: Option<f32>, fmr: Option<f64>) -> Result<Option<Threshold>> {
        match (score, fmr) {
            (Some(_), Some(_)) => Err(Error::InvalidArgument(
                "give threshold or fmr, not both".into(),
            )),
            (Some(s), None) => Ok(Some(Threshold::Score(s))),
            (None, Some(f)) => Ok(Some(Threshold::Fmr(f))),
            (None, None) => Ok(None),
        }
    }
}

/// The outcome of comparing two faces.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    /// Cosine similarity.
    pub score: f32,
    /// Similarity the decision used.
    pub threshold: f32,
    /// `score >= threshold`.
    pub same: bool,
    /// The false-match rate the threshold corresponds to, when calibrated.
    pub fmr: Option<f64>,
}

/// Resolves a threshold to a similarity value.
pub fn resolve(
    threshold: Threshold,
    calibration: Option<&Calibration>,
) -> Result<(f32, Option<f64>)> {
    match threshold {
        Threshold::Score(s) => {
            if !(-1.0..=1.0).contains(&s) {
                return Err(Error::InvalidArgument(format!(
                    "a score threshold must be in -1..=1, got {s}"
                )));
            }
            Ok((s, calibration.and_then(|c| fmr_at(c, s))))
        }
        Threshold::Fmr(fmr) => {
            let cal = calibration.ok_or_else(|| {
                Error::InvalidArgument(
                    "this embedder has no calibration table; give a score threshold".into(),
                )
            })?;
            Ok((threshold_at(cal, fmr)?, Some(fmr)))
        }
    }
}

/// The similarity threshold giving false-match rate `fmr`, interpolated in log(fmr).
pub fn threshold_at(cal: &Calibration, fmr: f64) -> Result<f32> {
    let pts = &cal.points;
    let (hi, lo) = (pts[0].fmr, pts[pts.len() - 1].fmr);
    if !(fmr.is_finite() && fmr >= lo && fmr <= hi) {
        return Err(Error::CalibrationRange {
            requested: fmr,
            min: lo,
            max: hi,
        });
    }
    for w in pts.windows(2) {
        let (a, b) = (w[0], w[1]);
        if fmr <= a.fmr && fmr >= b.fmr {
            let t = (a.fmr.ln() - fmr.ln()) / (a.fmr.ln() - b.fmr.ln());
            return Ok(a.threshold + (b.threshold - a.threshold) * t as f32);
        }
    }
    Ok(pts[0].threshold)
}

/// The false-match rate at similarity `score`, if inside the table.
pub fn fmr_at(cal: &Calibration, score: f32) -> Option<f64> {
    for w in cal.points.windows(2) {
        let (a, b) = (w[0], w[1]);
        if score >= a.threshold && score <= b.threshold && b.threshold > a.threshold {
            let t = ((score - a.threshold) / (b.threshold - a.threshold)) as f64;
            return Some((a.fmr.ln() + (b.fmr.ln() - a.fmr.ln()) * t).exp());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    #[test]
    fn at_most_one_of_score_and_fmr() {
        assert_eq!(Threshold::from_options(None, None).unwrap(), None);
        assert_eq!(
            Threshold::from_options(Some(0.5), None).unwrap(),
            Some(Threshold::Score(0.5))
        );
        assert_eq!(
            Threshold::from_options(None, Some(1e-3)).unwrap(),
            Some(Threshold::Fmr(1e-3))
        );
        let e = Threshold::from_options(Some(0.5), Some(1e-3)).unwrap_err();
        assert_eq!(e.code(), crate::ErrorCode::InvalidArgument);
    }

    use super::*;
    use crate::models::CalibrationPoint;

    fn table() -> Calibration {
        Calibration {
            metric: "cosine".into(),
            flip: false,
            source: "test".into(),
            impostor_pairs: 0,
            genuine_pairs: 0,
            points: vec![
                CalibrationPoint {
                    fmr: 1e-2,
                    threshold: 0.90,
                    tar: 0.99,
                },
                CalibrationPoint {
                    fmr: 1e-4,
                    threshold: 0.94,
                    tar: 0.9,
                },
            ],
        }
    }

    #[test]
    fn interpolates_in_log_space_and_inverts() {
        let c = table();
        let t = threshold_at(&c, 1e-3).unwrap();
        assert!((t - 0.92).abs() < 1e-5);
        let f = fmr_at(&c, t).unwrap();
        assert!((f.log10() + 3.0).abs() < 1e-4);
        assert_eq!(threshold_at(&c, 1e-2).unwrap(), 0.90);
    }

    #[test]
    fn out_of_range_and_bad_values_are_errors() {
        let c = table();
        for bad in [1e-6, 0.5, f64::NAN] {
            let e = threshold_at(&c, bad).unwrap_err();
            assert_eq!(e.code(), crate::ErrorCode::CalibrationRange);
        }
        assert!(resolve(Threshold::Score(1.5), Some(&c)).is_err());
        assert!(resolve(Threshold::Fmr(1e-3), None).is_err());
    }
}
