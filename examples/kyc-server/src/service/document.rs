//! A document's pages read into what the case keeps: the zone (the verified one of the two
//! pages first), the portrait (the front's first) and the printed text's agreement with the
//! zone. One blocking call, run on the model gate.

use faceprint::document::{DocumentOptions, DocumentReading, Mrz, VisualCheck};
use faceprint::{Engine, Error, ErrorCode, Image};
use serde::{Deserialize, Serialize};

/// What the document gave.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DocumentFindings {
    /// The machine-readable zone as read: fields, every check digit, repairs.
    #[schema(value_type = Option<Object>)]
    pub mrz: Option<Mrz>,
    /// Why the zone did not verify: `no_mrz`, `mrz_unreadable` or `mrz_check_failed`.
    pub mrz_error: Option<String>,
    /// The page the zone is on: `front` or `back`.
    pub mrz_page: Option<String>,
    pub portrait: PortraitFinding,
    /// The zone's names, number and dates looked for in the printed text (when the server
    /// reads it).
    #[schema(value_type = Option<Vec<Object>>)]
    pub printed: Option<Vec<VisualCheck>>,
}

impl DocumentFindings {
    /// Zone fields the printed text did not show.
    pub fn not_printed(&self) -> usize {
        self.printed
            .as_ref()
            .map_or(0, |p| p.iter().filter(|c| !c.found).count())
    }
}

/// The holder's photo on the document.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PortraitFinding {
    /// `front` or `back`.
    pub page: String,
    /// `[x1, y1, x2, y2]` in the page's pixels as uploaded.
    pub bbox: [f32; 4],
    /// Clockwise degrees that make the page upright.
    pub orientation_degrees: u32,
    pub detector_score: f32,
    pub quality_score: f32,
    /// The face's box and landmarks on the upright page: the selfie step embeds the portrait
    /// from them without looking for it again (absent in cases stored before it was kept).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub upright_face: Option<faceprint::Face>,
}

impl PortraitFinding {
    /// The portrait's embedding from its page (blocking: run it on the model gate).
    pub fn embed(&self, engine: &Engine, page: &Image) -> faceprint::Result<faceprint::Embedding> {
        match &self.upright_face {
            Some(face) => {
                let upright = page.rotated(self.orientation_degrees / 90);
                engine
                    .embed(&upright, &[*face])?
                    .pop()
                    .ok_or_else(|| Error::Internal("no embedding for the portrait".into()))
            }
            None => engine.embed_portrait(page, &engine.document_portrait(page)?),
        }
    }
}

/// The pages read: the findings and the portrait cut out as a JPEG.
pub struct ReadPages {
    pub findings: DocumentFindings,
    pub portrait_jpeg: Vec<u8>,
}

/// `no_document` when neither page is a document, `no_portrait` when neither shows the
/// holder's photo (the user retakes the photo; nothing is stored).
pub fn read_pages(
    engine: &Engine,
    front: &[u8],
    back: Option<&[u8]>,
    visual_zone: bool,
) -> faceprint::Result<ReadPages> {
    let front_img = engine.decode(front)?;
    let back_img = back.map(|b| engine.decode(b)).transpose()?;
    // One page: its own printed text; two: the front's text against the back's zone, below.
    let options = DocumentOptions {
        visual_zone: visual_zone && back_img.is_none(),
    };
    let front_read = unless_no_document(engine.read_document_with(&front_img, &options))?;
    let back_read = match &back_img {
        Some(b) => unless_no_document(engine.read_document(b))?,
        None => None,
    };
    let pages = [
        ("front", Some(&front_img), front_read.as_ref()),
        ("back", back_img.as_ref(), back_read.as_ref()),
    ];
    if pages.iter().all(|p| p.2.is_none()) {
        return Err(Error::NoDocument);
    }
    let (portrait_page, portrait) = pages
        .iter()
        .find_map(|(name, _, r)| r.and_then(|r| r.portrait.as_ref()).map(|p| (*name, p)))
        .ok_or(Error::NoPortrait)?;
    // The zone: a verified one first, else whichever page has one.
    let zone = pages
        .iter()
        .filter_map(|(name, img, r)| r.map(|r| (*name, *img, r)))
        .filter(|(_, _, r)| r.mrz.is_some())
        .max_by_key(|(_, _, r)| r.verified_mrz().is_ok() as u8);
    let (mrz, mrz_page, mrz_error) = match zone {
        Some((name, _, r)) => (
            r.mrz.clone(),
            Some(name.to_string()),
            r.verified_mrz()
                .err()
                .map(|e| e.code().as_str().to_string()),
        ),
        None => (None, None, Some(ErrorCode::NoMrz.as_str().to_string())),
    };
    let printed = if !visual_zone {
        None
    } else if back_img.is_none() {
        front_read
            .as_ref()
            .and_then(|r| r.visual_zone.as_ref())
            .map(|v| v.checks.clone())
    } else {
        match (&mrz, &front_read) {
            (Some(m), Some(r)) => Some(
                engine
                    .read_visual_zone(&front_img.rotated(r.orientation_degrees / 90), Some(m))?
                    .checks,
            ),
            _ => None,
        }
    };
    let crop = portrait
        .crop
        .as_ref()
        .ok_or_else(|| Error::Internal("a portrait without its crop".into()))?;
    let b = portrait.face.bbox;
    Ok(ReadPages {
        findings: DocumentFindings {
            mrz,
            mrz_error,
            mrz_page,
            portrait: PortraitFinding {
                page: portrait_page.into(),
                bbox: [b.x1, b.y1, b.x2, b.y2],
                orientation_degrees: portrait.orientation_degrees,
                detector_score: portrait.face.score,
                quality_score: portrait.quality.score,
                upright_face: Some(portrait.upright_face),
            },
            printed,
        },
        portrait_jpeg: jpeg(crop)?,
    })
}

fn unless_no_document(
    r: faceprint::Result<DocumentReading>,
) -> faceprint::Result<Option<DocumentReading>> {
    match r {
        Ok(r) => Ok(Some(r)),
        Err(e) if e.code() == ErrorCode::NoDocument => Ok(None),
        Err(e) => Err(e),
    }
}

/// An image as a JPEG (the portrait shown to verifiers).
pub fn jpeg(img: &Image) -> faceprint::Result<Vec<u8>> {
    let rgb = image::RgbImage::from_raw(img.width(), img.height(), img.as_rgb().to_vec())
        .ok_or_else(|| Error::Internal("crop size".into()))?;
    let mut out = std::io::Cursor::new(Vec::new());
    rgb.write_to(&mut out, image::ImageFormat::Jpeg)
        .map_err(|e| Error::Internal(format!("JPEG: {e}")))?;
    Ok(out.into_inner())
}
