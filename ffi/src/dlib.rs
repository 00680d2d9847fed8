//! What the face_recognition drop-in needs, for C callers too: faces found and aligned as
//! face_recognition aligns them (dlib's 5-point shape predictor and face chip), and embeddings
//! of faces the caller already has.

use crate::engine::{faceprint_engine, faceprint_image};
use crate::faces::{faceprint_embedding, faceprint_embedding_list, faceprint_face};
use crate::handle::{borrow, copy_item, free, into_raw, Out};
use crate::status::{faceprint_error, faceprint_status, guard, quiet, Failure};
use faceprint_core::{BoundingBox, Face};

/// A face as face_recognition finds and aligns it.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct faceprint_dlib_face {
    /// dlib's box: left, top, right, bottom (inclusive), face_recognition's location.
    pub rect: [f32; 4],
    /// dlib's 5 points as x0, y0, ... x4, y4: outer and inner corner of the eye on the image's
    /// right, outer and inner corner of the other eye, base of the nose.
    pub points: [f32; 10],
    /// The face aligned on dlib's chip: pass it to `faceprint_embed`.
    pub aligned: faceprint_face,
}

/// The faces of one `faceprint_dlib_faces` call. Immutable: may be shared between threads.
pub struct faceprint_dlib_face_list(Vec<faceprint_dlib_face>);

/// `count` faces from C, checked by the core ([`Face::checked`]).
unsafe fn faces_in(faces: *const faceprint_face, count: usize) -> Result<Vec<Face>, Failure> {
    if count == 0 {
        return Ok(Vec::new());
    }
    if faces.is_null() {
        return Err(Failure::Null("faces"));
    }
    std::slice::from_raw_parts(faces, count)
        .iter()
        .map(|f| {
            let p = |k: usize| [f.landmarks[2 * k], f.landmarks[2 * k + 1]];
            let bbox = BoundingBox {
                x1: f.x1,
                y1: f.y1,
                x2: f.x2,
                y2: f.y2,
            };
            Ok(Face::checked(
                bbox,
                [p(0), p(1), p(2), p(3), p(4)],
                f.score,
            )?)
        })
        .collect()
}

/// The embeddings of `count` faces of `image` found before (by `faceprint_detect` or
/// `faceprint_dlib_faces`), in order. Free the list with `faceprint_embedding_list_free`.
#[no_mangle]
pub unsafe extern "C" fn faceprint_embed(
    engine: *const faceprint_engine,
    image: *const faceprint_image,
    faces: *const faceprint_face,
    count: usize,
    out: *mut *mut faceprint_embedding_list,
    err: *mut *mut faceprint_error,
) -> faceprint_status {
    guard(err, || {
        let engine = borrow(engine, "engine")?;
        let image = borrow(image, "image")?;
        let out = Out::new(out, "out")?;
        let faces = faces_in(faces, count)?;
        let embeddings = engine.0.embed(&image.0, &faces)?;
        let list = embeddings
            .into_iter()
            .zip(faces)
            .map(|(embedding, face)| {
                faceprint_embedding::from(faceprint_core::FaceEmbedding { face, embedding })
            })
            .collect();
        out.write(into_raw(faceprint_embedding_list::new(list)));
        Ok(())
    })
}

/// Faces as face_recognition finds and aligns them: one per box of `boxes` (`box_count` boxes
/// of 4 floats: dlib's left, top, right, bottom, e.g. stored face_recognition locations), or,
/// with `box_count` 0, one per detected face in the box dlib's HOG detector would draw
/// (largest first). Free with `faceprint_dlib_face_list_free`.
#[no_mangle]
pub unsafe extern "C" fn faceprint_dlib_faces(
    engine: *const faceprint_engine,
    image: *const faceprint_image,
    boxes: *const f32,
    box_count: usize,
    out: *mut *mut faceprint_dlib_face_list,
    err: *mut *mut faceprint_error,
) -> faceprint_status {
    guard(err, || {
        let engine = borrow(engine, "engine")?;
        let image = borrow(image, "image")?;
        let out = Out::new(out, "out")?;
        let rects = if box_count == 0 {
            None
        } else if boxes.is_null() {
            return Err(Failure::Null("boxes"));
        } else if box_count > 1 << 20 {
            return Err(Failure::Core(faceprint_core::Error::InvalidArgument(
                format!("{box_count} boxes is more than any image holds"),
            )));
        } else {
            let numbers = std::slice::from_raw_parts(boxes, 4 * box_count);
            Some(
                numbers
                    .chunks_exact(4)
                    .map(|b| BoundingBox {
                        x1: b[0],
                        y1: b[1],
                        x2: b[2],
                        y2: b[3],
                    })
                    .collect::<Vec<_>>(),
            )
        };
        let faces = engine.0.dlib_faces(&image.0, rects.as_deref())?;
        let list = faces
            .iter()
            .map(|d| {
                let mut points = [0.0; 10];
                for (k, p) in d.points.iter().enumerate() {
                    points[2 * k] = p[0];
                    points[2 * k + 1] = p[1];
                }
                faceprint_dlib_face {
                    rect: [d.rect.x1, d.rect.y1, d.rect.x2, d.rect.y2],
                    points,
                    aligned: faceprint_face::from(&d.aligned),
                }
            })
            .collect();
        out.write(into_raw(faceprint_dlib_face_list(list)));
        Ok(())
    })
}

/// Number of faces (0 for NULL).
#[no_mangle]
pub unsafe extern "C" fn faceprint_dlib_face_list_len(
    list: *const faceprint_dlib_face_list,
) -> usize {
    quiet(0, || list.as_ref().map_or(0, |l| l.0.len()))
}

/// Copies face `index` into `*out`; `FACEPRINT_STATUS_INVALID_ARGUMENT` when out of range.
#[no_mangle]
pub unsafe extern "C" fn faceprint_dlib_face_list_get(
    list: *const faceprint_dlib_face_list,
    index: usize,
    out: *mut faceprint_dlib_face,
    err: *mut *mut faceprint_error,
) -> faceprint_status {
    copy_item(list, |l| &l.0, index, out, err)
}

#[no_mangle]
pub unsafe extern "C" fn faceprint_dlib_face_list_free(list: *mut faceprint_dlib_face_list) {
    free(list)
}
