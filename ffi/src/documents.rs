//! Identity documents: the page read as JSON (zone, check digits, portrait, visual zone), and
//! a selfie matched with the document's portrait.

use crate::engine::{faceprint_engine, faceprint_image};
use crate::faces::faceprint_face;
use crate::handle::{borrow, json_string, optional_string, Out};
use crate::status::{faceprint_error, faceprint_status, guard};
use faceprint_core::document::DocumentOptions;
use std::ffi::c_char;

/// The result of `faceprint_match_document`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct faceprint_document_match {
    /// Cosine similarity of the selfie and the portrait.
    pub score: f32,
    /// The document threshold (cosine 0.5).
    pub threshold: f32,
    pub matched: bool,
    /// The portrait, in the page's pixels as given.
    pub portrait: faceprint_face,
    /// Clockwise degrees (0, 90, 180, 270) that make the page upright.
    pub portrait_orientation_degrees: u32,
    /// The selfie's largest face.
    pub selfie: faceprint_face,
}

/// Reads an identity document page into `*json_out` (free it with `faceprint_string_free`):
/// `{"mrz": {...fields, "checks": [...], "valid", "repairs": [...]} | null, "portrait": {...} |
/// null, "orientation_degrees", "visual_zone": {...} | null, "verified", "error": {"code",
/// "number", "message"} (when not verified)}`. `options_json` (NULL for none):
/// `{"visual_zone": true}` also reads the printed text. A page with neither a zone nor a
/// portrait is `FACEPRINT_STATUS_NO_DOCUMENT`; a zone whose digits fail is not an error here
/// (the JSON says so under "error").
#[no_mangle]
pub unsafe extern "C" fn faceprint_read_document(
    engine: *const faceprint_engine,
    page: *const faceprint_image,
    options_json: *const c_char,
    json_out: *mut *mut c_char,
    err: *mut *mut faceprint_error,
) -> faceprint_status {
    guard(err, || {
        let options = DocumentOptions::from_json(
            optional_string(options_json, "options_json")?.unwrap_or(""),
        )?;
        let engine = borrow(engine, "engine")?;
        let page = borrow(page, "page")?;
        let out = Out::new(json_out, "json_out")?;
        let reading = engine.0.read_document_with(&page.0, &options)?;
        out.write(json_string(&reading.to_json())?);
        Ok(())
    })
}

/// Compares a selfie's largest face with the portrait on a document page, at the document
/// threshold. `FACEPRINT_STATUS_NO_PORTRAIT` when the page shows no holder's photo,
/// `FACEPRINT_STATUS_NO_FACE` when the selfie shows no face.
#[no_mangle]
pub unsafe extern "C" fn faceprint_match_document(
    engine: *const faceprint_engine,
    page: *const faceprint_image,
    selfie: *const faceprint_image,
    out: *mut faceprint_document_match,
    err: *mut *mut faceprint_error,
) -> faceprint_status {
    guard(err, || {
        let engine = borrow(engine, "engine")?;
        let page = borrow(page, "page")?;
        let selfie = borrow(selfie, "selfie")?;
        let out = Out::new(out, "out")?;
        let m = engine.0.match_document(&page.0, &selfie.0)?;
        out.write(faceprint_document_match {
            score: m.score,
            threshold: m.threshold,
            matched: m.matched,
            portrait: faceprint_face::from(&m.portrait.face),
            portrait_orientation_degrees: m.portrait.orientation_degrees,
            selfie: faceprint_face::from(&m.selfie_face),
        });
        Ok(())
    })
}
