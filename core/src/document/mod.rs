//! Identity documents (ICAO 9303): the machine-readable zone found and read with PP-OCR, its
//! check digits verified and OCR confusions repaired only where a check digit confirms the
//! repair. (The portrait and the selfie match build on it.)

pub mod mrz;
pub(crate) mod ocr;
pub mod portrait;

pub use mrz::{CheckDigit, Mrz, MrzFormat, Repair};
pub use ocr::TextLine;
pub use portrait::Portrait;

use crate::error::{Error, Result};
use crate::image::Image;
use crate::Engine;
use ocr::Alphabet;

/// Cosine similarity at or above which a selfie and a document portrait are taken for the
/// same person. On the dev documents (core/tests/documents.rs) the specimen holder's four
/// pages match each other at 0.832-0.968 and different people at most 0.201 (other people's
/// photos against the portraits: at most 0.250); on LFW, 0.5 lies between FMR 1e-4 (0.433)
/// and 1e-5 (0.590).
pub const DOCUMENT_THRESHOLD: f32 = 0.5;

/// Long side the page is read at.
const PAGE_SIDE: u32 = 960;

/// How much a line reading looks like a zone line: long, and mostly zone characters with
/// fillers.
fn zone_like(text: &str) -> bool {
    let n = text.chars().count();
    let zone = text
        .chars()
        .filter(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == '<')
        .count();
    let digits = text.chars().filter(char::is_ascii_digit).count();
    // A names line whose trailing fillers are faint can be short: then it has `<<`; a data
    // line with every field full has no filler at all, but many digits.
    zone * 10 >= n * 9
        && ((n >= 26 && (text.contains('<') || digits >= 8)) || (n >= 18 && text.contains("<<")))
}

/// What one page of an identity document gives: its zone and its portrait, each when found.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct DocumentReading {
    /// The machine-readable zone as read (check it with [`DocumentReading::verified_mrz`]).
    pub mrz: Option<Mrz>,
    /// The holder's photo.
    pub portrait: Option<Portrait>,
    /// Clockwise degrees that make the page upright (the portrait's; without one, 0 or 180 as
    /// the zone was found).
    pub orientation_degrees: u32,
}

impl DocumentReading {
    /// The zone, if every check digit passes: `no_mrz` when none was found, `mrz_unreadable`
    /// when not one digit passes (what was read is not a zone), `mrz_check_failed` (with the
    /// zone and which digits failed) otherwise.
    pub fn verified_mrz(&self) -> Result<&Mrz> {
        let m = self.mrz.as_ref().ok_or(Error::NoMrz)?;
        if m.valid {
            Ok(m)
        } else if m.checks.iter().all(|c| !c.valid) {
            Err(Error::MrzUnreadable(m.raw_lines.join(" / ")))
        } else {
            Err(Error::MrzCheckFailed(Box::new(m.clone())))
        }
    }
}

impl Engine {
    /// Reads a document page: the portrait (in any orientation), then the zone on the page
    /// turned upright by it (without a portrait: upright, then upside down). `no_document`
    /// when neither is found.
    pub fn read_document(&self, page: &Image) -> Result<DocumentReading> {
        let portrait = match self.document_portrait(page) {
            Ok(p) => Some(p),
            Err(Error::NoFace) => None,
            Err(e) => return Err(e),
        };
        let mut turns = portrait.as_ref().map_or(0, |p| p.orientation_degrees / 90);
        let mut mrz = self.read_mrz(&page.rotated(turns))?;
        if mrz.is_none() && portrait.is_none() {
            mrz = self.read_mrz(&page.rotated(2))?;
            if mrz.is_some() {
                turns = 2;
            }
        }
        if mrz.is_none() && portrait.is_none() {
            return Err(Error::NoDocument);
        }
        Ok(DocumentReading {
            orientation_degrees: turns * 90,
            mrz,
            portrait,
        })
    }

    /// The text lines of an image (PP-OCR; no angle classifier), top to bottom.
    pub fn read_text(&self, image: &Image) -> Result<Vec<TextLine>> {
        let ocr = self.ocr()?;
        let mut lines = Vec::new();
        for b in ocr.line_boxes(image, PAGE_SIDE)? {
            let line = ocr.read(image, &b, &Alphabet::Any)?;
            if !line.text.trim().is_empty() {
                lines.push(line);
            }
        }
        lines.sort_by(|a, b| a.bbox.y1.total_cmp(&b.bbox.y1));
        Ok(lines)
    }

    /// Finds and reads the machine-readable zone: the wide lines of the page read with the
    /// zone's alphabet, the last two or three consecutive ones that look like a zone parsed.
    /// The page is read with its long side at 960 pixels; when that gives no zone whose check
    /// digits all pass, again at its own size and at 1280, and the reading with the most
    /// passing digits wins. None when no zone is found.
    pub fn read_mrz(&self, image: &Image) -> Result<Option<Mrz>> {
        let ocr = self.ocr()?;
        let own = image.width().max(image.height()).clamp(320, 2400);
        let mut best: Option<Mrz> = None;
        for side in [PAGE_SIDE, own, 1280] {
            let m = read_zone(&ocr, image, side)?;
            let score = |m: &Option<Mrz>| {
                m.as_ref()
                    .map_or(-1, |m| m.checks.iter().filter(|c| c.valid).count() as i64)
            };
            if score(&m) > score(&best) {
                best = m;
            }
            if best.as_ref().is_some_and(|m| m.valid) {
                break;
            }
        }
        Ok(best)
    }
}

fn read_zone(ocr: &ocr::Ocr, image: &Image, side: u32) -> Result<Option<Mrz>> {
    let page_w = image.width() as f32;
    let mut boxes: Vec<_> = ocr
        .line_boxes(image, side)?
        .into_iter()
        .filter(|b| b.length >= 0.4 * page_w && b.length >= 8.0 * b.thickness)
        .collect();
    boxes.sort_by(|a, b| a.centre[1].total_cmp(&b.centre[1]));
    let mut zone: Vec<TextLine> = Vec::new();
    for b in &boxes {
        let line = ocr.read(image, b, &Alphabet::Mrz)?;
        if zone_like(&line.text) {
            zone.push(line);
        }
    }
    if zone.len() < 2 {
        return Ok(None);
    }
    // The zone is at the bottom: its last three lines when they make a TD1, else two.
    let take = if zone.len() >= 3 && zone[zone.len() - 3..].iter().all(|l| l.text.len() <= 34) {
        3
    } else {
        2
    };
    let lines: Vec<&str> = zone[zone.len() - take..]
        .iter()
        .map(|l| l.text.as_str())
        .collect();
    Ok(Mrz::parse(&lines))
}
