//! The holder's photo on a document page: the largest face, found upright or on the page
//! turned by a quarter, half or three quarters.
//!
//! Document photos are small, printed, often pale, and pages come sideways from scanners and
//! phones. Upright, the detector runs with a lower score floor than for photos of people; an
//! upright face scoring at least [`SURE_UPRIGHT`] is taken at once, otherwise every quarter
//! turn is tried and the best-scoring largest face wins, a turned page counting only with a
//! face at least that sure: YuNet scores a face lying on its side 0.70-0.86 with landmarks
//! that look upright (and a dog's head 0.88), so the first hit is not trusted.

use crate::align::square_side;
use crate::detect::{unrotate, BoundingBox, DetectionOptions, Face};
use crate::error::{Error, Result};
use crate::image::Image;
use crate::quality::{QualityProfile, QualityReport};
use crate::Engine;
use serde::{Deserialize, Serialize};

/// A face upright and this sure ends the search.
pub const SURE_UPRIGHT: f32 = 0.9;
/// Faces below this score are not taken for a portrait.
const FLOOR: f32 = 0.6;

/// The portrait found on a document.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Portrait {
    /// The face in the page as given (box and landmarks in its pixels).
    pub face: Face,
    /// The same face in the upright page (`page.rotated(orientation_degrees / 90)`).
    pub upright_face: Face,
    /// Clockwise quarter turns (0, 90, 180, 270 degrees) that make the page upright.
    pub orientation_degrees: u32,
    /// The upright face with a margin (a square of 1.5 times the face box), RGB.
    #[serde(skip)]
    pub crop: Option<Image>,
    /// The face's quality on the upright page (document profile: no mask model, one face not
    /// required: documents carry ghost images of the holder).
    pub quality: QualityReport,
}

impl Engine {
    /// The embedding of a document's portrait (found by [`Engine::document_portrait`] on
    /// `page`), to compare with a selfie at the document threshold.
    pub fn embed_portrait(&self, page: &Image, portrait: &Portrait) -> Result<crate::Embedding> {
        let upright = page.rotated(portrait.orientation_degrees / 90);
        self.embed(&upright, &[portrait.upright_face])?
            .pop()
            .ok_or_else(|| Error::Internal("no embedding for the portrait".into()))
    }

    /// Finds the holder's photo on a document page (`no_portrait` when there is none).
    pub fn document_portrait(&self, page: &Image) -> Result<Portrait> {
        self.portrait_in_turns(page, &[0, 1, 3, 2])?
            .ok_or(Error::NoPortrait)
    }

    /// The portrait on the page turned by `turns` quarters, if that page shows one upright.
    pub(crate) fn portrait_at(&self, page: &Image, turns: u32) -> Result<Option<Portrait>> {
        // On a page the zone has set upright, a less sure face is still the portrait.
        self.portrait_in_turns(&page.rotated(turns), &[0]).map(|p| {
            p.map(|p| Portrait {
                face: unrotate(
                    &p.upright_face,
                    turns,
                    page.width() as f32,
                    page.height() as f32,
                ),
                orientation_degrees: turns * 90,
                ..p
            })
        })
    }

    fn portrait_in_turns(&self, page: &Image, order: &[u32]) -> Result<Option<Portrait>> {
        let options = DetectionOptions {
            score_threshold: FLOOR,
            crop_retry_margin: 0.0,
            rotation_search: false,
            ..self.config().detection
        };
        let mut best: Option<(u32, Face, usize)> = None;
        for &turns in order {
            let upright = page.rotated(turns);
            let faces = self.detect_with(&upright, &options)?;
            let count = faces.len();
            let Some(largest) = faces.into_iter().max_by(|a, b| {
                (a.bbox.width() * a.bbox.height()).total_cmp(&(b.bbox.width() * b.bbox.height()))
            }) else {
                continue;
            };
            // Turned, only a sure face counts: a dog's head lying sideways scores 0.88, while
            // the dev pages' portraits score 0.91-0.94 in every orientation. Upright, a pale
            // printed face down to the floor is taken.
            if turns != 0 && largest.score < SURE_UPRIGHT {
                continue;
            }
            let sure = turns == 0 && largest.score >= SURE_UPRIGHT;
            if best.as_ref().map_or(true, |b| b.1.score < largest.score) {
                best = Some((turns, largest, count));
            }
            if sure {
                break;
            }
        }
        let Some((turns, face, count)) = best else {
            return Ok(None);
        };
        let upright = page.rotated(turns);
        let profile = QualityProfile {
            name: "document".into(),
            mask: false,
            single_face: false,
            ..QualityProfile::authentication()
        };
        let quality = self.face_quality(&upright, &face, count.max(1), &profile)?;
        let crop = crop(&upright, &face.bbox)?;
        let (w, h) = (page.width() as f32, page.height() as f32);
        Ok(Some(Portrait {
            face: unrotate(&face, turns, w, h),
            upright_face: face,
            orientation_degrees: turns * 90,
            crop: Some(crop),
            quality,
        }))
    }
}

/// A square of 1.5 times the face box around its centre, clamped to the image.
fn crop(image: &Image, b: &BoundingBox) -> Result<Image> {
    let side = square_side(b, 1.5)?;
    let (cx, cy) = ((b.x1 + b.x2) / 2.0, (b.y1 + b.y2) / 2.0);
    let (w, h) = (image.width() as f32, image.height() as f32);
    let region = BoundingBox {
        x1: (cx - side / 2.0).max(0.0),
        y1: (cy - side / 2.0).max(0.0),
        x2: (cx + side / 2.0).min(w),
        y2: (cy + side / 2.0).min(h),
    };
    Ok(image.cropped(&region))
}
