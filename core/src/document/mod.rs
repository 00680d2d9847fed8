//! Identity documents (ICAO 9303): the machine-readable zone found and read with PP-OCR, its
//! check digits verified and OCR confusions repaired only where a check digit confirms the
//! repair. (The portrait and the selfie match build on it.)

pub mod mrz;
pub(crate) mod ocr;
pub mod portrait;

pub use mrz::{CheckDigit, Mrz, MrzFormat, Repair};
pub use ocr::TextLine;
pub use portrait::Portrait;

use crate::error::Result;
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

impl Engine {
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
