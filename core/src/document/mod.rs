//! Identity documents (ICAO 9303): the machine-readable zone found and read with PP-OCR, its
//! check digits verified and OCR confusions repaired only where a check digit confirms the
//! repair; the holder's portrait in any orientation; the visual zone's text cross-checked
//! against the zone; a selfie matched with the portrait.

pub mod mrz;
pub(crate) mod ocr;
pub mod portrait;
pub mod visual;

pub use mrz::{CheckDigit, Mrz, MrzFormat, Repair};
pub use ocr::TextLine;
pub use portrait::Portrait;
pub use visual::{VisualCheck, VisualZone};

use crate::detect::Face;
use crate::error::{Error, Result};
use crate::image::Image;
use crate::Engine;
use ocr::Alphabet;
use serde::{Deserialize, Serialize};

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

/// What [`Engine::read_document_with`] reads beyond the zone and the portrait.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DocumentOptions {
    /// Also read the visual zone (every printed line) and look for the zone's names, number
    /// and dates in it: about twice the time.
    pub visual_zone: bool,
}

impl DocumentOptions {
    /// From JSON such as `{"visual_zone": true}` (the bindings' form); empty text is the
    /// default.
    pub fn from_json(text: &str) -> Result<DocumentOptions> {
        if text.trim().is_empty() {
            return Ok(DocumentOptions::default());
        }
        serde_json::from_str(text)
            .map_err(|e| Error::InvalidArgument(format!("document options: {e}")))
    }
}

/// What one page of an identity document gives: its zone and its portrait, each when found.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DocumentReading {
    /// The machine-readable zone as read (check it with [`DocumentReading::verified_mrz`]).
    pub mrz: Option<Mrz>,
    /// The holder's photo.
    pub portrait: Option<Portrait>,
    /// Clockwise degrees that make the page upright (the portrait's, unless only another turn
    /// shows the zone; without a portrait, the zone's).
    pub orientation_degrees: u32,
    /// The printed text and the zone's fields found in it, when asked for.
    pub visual_zone: Option<VisualZone>,
}

/// A selfie compared with a document's portrait at [`DOCUMENT_THRESHOLD`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DocumentMatch {
    /// Cosine similarity of the two faces.
    pub score: f32,
    /// The threshold used ([`DOCUMENT_THRESHOLD`]).
    pub threshold: f32,
    /// `score >= threshold`.
    pub matched: bool,
    /// The portrait on the document.
    pub portrait: Portrait,
    /// The selfie's largest face.
    pub selfie_face: Face,
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

    /// The reading as the CLI and every binding give it: these fields, plus `verified` (every
    /// check digit passes) and, when not, `error` (code, number and message of
    /// [`DocumentReading::verified_mrz`]'s error).
    pub fn to_json(&self) -> serde_json::Value {
        let mut v = serde_json::to_value(self).unwrap_or_default();
        let verified = self.verified_mrz();
        v["verified"] = verified.is_ok().into();
        if let Err(e) = verified {
            v["error"] = serde_json::json!({
                "code": e.code().as_str(),
                "number": e.code().number(),
                "message": e.to_string(),
            });
        }
        v
    }
}

impl Engine {
    /// Reads a document page: the portrait (in any orientation), then the zone on the page
    /// turned upright by it. When that turn shows no zone and the portrait was not sure (or
    /// there is none), the other turns are read for a zone, and the one that shows it sets
    /// the orientation (the portrait is then looked for on that page). `no_document` when
    /// neither is found.
    pub fn read_document(&self, page: &Image) -> Result<DocumentReading> {
        self.read_document_with(page, &DocumentOptions::default())
    }

    /// [`Engine::read_document`], with the visual zone when `options` ask for it.
    pub fn read_document_with(
        &self,
        page: &Image,
        options: &DocumentOptions,
    ) -> Result<DocumentReading> {
        let mut portrait = match self.document_portrait(page) {
            Ok(p) => Some(p),
            Err(Error::NoPortrait) => None,
            Err(e) => return Err(e),
        };
        let mut turns = portrait.as_ref().map_or(0, |p| p.orientation_degrees / 90);
        let (mut mrz, mut boxes) = self.zone_and_lines(&page.rotated(turns))?;
        let sure = portrait
            .as_ref()
            .is_some_and(|p| p.face.score >= portrait::SURE_UPRIGHT);
        if mrz.is_none() && !sure {
            // Upside down first: a scanned page is more often that than sideways.
            for t in [2, 1, 3].map(|t| (turns + t) % 4) {
                let (m, b) = self.zone_and_lines(&page.rotated(t))?;
                if m.is_some() {
                    (mrz, boxes, turns) = (m, b, t);
                    break;
                }
            }
            if mrz.is_some() && portrait.is_some() {
                portrait = self.portrait_at(page, turns)?;
            }
        }
        if mrz.is_none() && portrait.is_none() {
            return Err(Error::NoDocument);
        }
        let visual_zone = if options.visual_zone {
            let ocr = self.ocr()?;
            Some(visual_zone_of(
                &text_of(&ocr, &page.rotated(turns), &boxes)?,
                mrz.as_ref(),
            ))
        } else {
            None
        };
        Ok(DocumentReading {
            orientation_degrees: turns * 90,
            mrz,
            portrait,
            visual_zone,
        })
    }

    /// The printed lines of an upright page outside its machine-readable zone, and `mrz`'s
    /// names, number and dates looked for in them.
    pub fn read_visual_zone(&self, upright: &Image, mrz: Option<&Mrz>) -> Result<VisualZone> {
        Ok(visual_zone_of(&self.read_text(upright)?, mrz))
    }

    /// Compares a selfie (its largest face) with the portrait of a document page, at
    /// [`DOCUMENT_THRESHOLD`]: `no_portrait` when the page has none, `no_face` when the selfie
    /// has none.
    pub fn match_document(&self, page: &Image, selfie: &Image) -> Result<DocumentMatch> {
        let portrait = self.document_portrait(page)?;
        self.match_portrait(page, &portrait, selfie)
    }

    /// [`Engine::match_document`] with a portrait already found on `page`.
    pub fn match_portrait(
        &self,
        page: &Image,
        portrait: &Portrait,
        selfie: &Image,
    ) -> Result<DocumentMatch> {
        let document = self.embed_portrait(page, portrait)?;
        let face = self.extract_largest(selfie)?;
        let score = self.similarity(&document, &face.embedding)?;
        Ok(DocumentMatch {
            score,
            threshold: DOCUMENT_THRESHOLD,
            matched: score >= DOCUMENT_THRESHOLD,
            portrait: portrait.clone(),
            selfie_face: face.face,
        })
    }

    /// The text lines of an image (PP-OCR; no angle classifier), top to bottom.
    pub fn read_text(&self, image: &Image) -> Result<Vec<TextLine>> {
        let ocr = self.ocr()?;
        let boxes = ocr.line_boxes(image, PAGE_SIDE)?;
        text_of(&ocr, image, &boxes)
    }

    /// Finds and reads the machine-readable zone: the wide lines of the page (long side at
    /// 960 pixels) read with the zone's alphabet, the last two or three consecutive ones that
    /// look like a zone parsed. When not every check digit passes, the band those lines lie in
    /// is cut out, enlarged to 1280 pixels wide and read again; the reading with more passing
    /// digits wins. None when no zone is found.
    pub fn read_mrz(&self, image: &Image) -> Result<Option<Mrz>> {
        Ok(self.zone_and_lines(image)?.0)
    }

    /// [`Engine::read_mrz`], and the page's line boxes (for the visual zone).
    fn zone_and_lines(&self, image: &Image) -> Result<(Option<Mrz>, Vec<ocr::LineBox>)> {
        let ocr = self.ocr()?;
        let boxes = ocr.line_boxes(image, PAGE_SIDE)?;
        let Some((first, lines)) = zone_in(&ocr, image, &boxes)? else {
            return Ok((None, boxes));
        };
        if first.valid {
            return Ok((Some(first), boxes));
        }
        let band = image.cropped(&band_around(&lines, image));
        let again = zone_in(&ocr, &band, &ocr.line_boxes(&band, BAND_WIDTH)?)?;
        let passing = |m: &Mrz| m.checks.iter().filter(|c| c.valid).count();
        let best = match again {
            Some((m, _)) if passing(&m) > passing(&first) => m,
            _ => first,
        };
        Ok((Some(best), boxes))
    }
}

fn visual_zone_of(lines: &[TextLine], mrz: Option<&Mrz>) -> VisualZone {
    let lines: Vec<TextLine> = lines
        .iter()
        .filter(|l| !visual::is_zone_text(&l.text))
        .cloned()
        .collect();
    let checks = mrz.map_or_else(Vec::new, |m| visual::cross_check(m, &lines));
    VisualZone { lines, checks }
}

/// Width the zone's band is read at the second time.
const BAND_WIDTH: u32 = 1280;

/// The zone's lines with a margin: half a line above and below, 4 % of the width each side
/// (a line's first or last character may have been missed).
fn band_around(lines: &[TextLine], image: &Image) -> crate::BoundingBox {
    let (mut x1, mut y1, mut x2, mut y2) = (f32::MAX, f32::MAX, f32::MIN, f32::MIN);
    let mut height = 0.0;
    for l in lines {
        x1 = x1.min(l.bbox.x1);
        y1 = y1.min(l.bbox.y1);
        x2 = x2.max(l.bbox.x2);
        y2 = y2.max(l.bbox.y2);
        height += l.bbox.height() / lines.len() as f32;
    }
    let margin = 0.04 * (x2 - x1);
    crate::BoundingBox {
        x1: (x1 - margin).max(0.0),
        y1: (y1 - height / 2.0).max(0.0),
        x2: (x2 + margin).min(image.width() as f32),
        y2: (y2 + height / 2.0).min(image.height() as f32),
    }
}

/// The lines in `boxes` read with any character, top to bottom, empty ones left out.
fn text_of(ocr: &ocr::Ocr, image: &Image, boxes: &[ocr::LineBox]) -> Result<Vec<TextLine>> {
    let mut lines = Vec::new();
    for b in boxes {
        let line = ocr.read(image, b, &Alphabet::Any)?;
        if !line.text.trim().is_empty() {
            lines.push(line);
        }
    }
    lines.sort_by(|a, b| a.bbox.y1.total_cmp(&b.bbox.y1));
    Ok(lines)
}

/// The zone among the line boxes of a page, with the lines it was parsed from.
fn zone_in(
    ocr: &ocr::Ocr,
    image: &Image,
    boxes: &[ocr::LineBox],
) -> Result<Option<(Mrz, Vec<TextLine>)>> {
    let page_w = image.width() as f32;
    let mut boxes: Vec<_> = boxes
        .iter()
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
    let zone = zone.split_off(zone.len() - take);
    let texts: Vec<&str> = zone.iter().map(|l| l.text.as_str()).collect();
    Ok(Mrz::parse(&texts).map(|m| (m, zone)))
}
