//! Faces cropped to their detector box with no margin and grey-scaled (what other detectors
//! and old grey-scale datasets hand over) are found by the padded retry and by the crop path,
//! and match their uncropped originals at the default threshold.

mod common;

use common::{dev, engine};
use faceprint::{DetectionOptions, Image};
use std::path::PathBuf;

fn dev_faces() -> Vec<PathBuf> {
    let mut out = Vec::new();
    for sub in ["faces/named", "faces/test", "faces/train"] {
        let mut stack = vec![dev(sub)];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    stack.push(p);
                } else {
                    out.push(p);
                }
            }
        }
    }
    out.sort();
    out
}

#[test]
fn tight_grey_crops_are_found_and_match_their_originals() {
    with_data!();
    let e = engine();
    let threshold = e.resolve_threshold(e.config().threshold).unwrap().0;
    let no_retry = DetectionOptions {
        crop_retry_margin: 0.0,
        ..e.config().detection
    };
    let (mut faces, mut found, mut matched, mut by_crop, mut found_without_retry) = (0, 0, 0, 0, 0);
    for path in dev_faces() {
        let img = e.open(&path).unwrap();
        for original in e.extract(&img).unwrap() {
            let crop: Image = img.cropped(&original.face.bbox).to_grey();
            faces += 1;
            found_without_retry += !e.detect_with(&crop, &no_retry).unwrap().is_empty() as usize;
            if let Ok(again) = e.extract_largest(&crop) {
                found += 1;
                let s = e.similarity(&again.embedding, &original.embedding).unwrap();
                matched += (s >= threshold) as usize;
            }
            let direct = e.embed_face_crop(&crop).unwrap();
            let s = e
                .similarity(&direct.embedding, &original.embedding)
                .unwrap();
            by_crop += (s >= threshold) as usize;
        }
    }
    let rate = |n: usize| n as f64 / faces as f64;
    eprintln!(
        "{faces} tight grey crops: found {:.1} % ({:.1} % without the retry), matched {:.1} %, \
         crop path matched {:.1} %",
        rate(found) * 100.0,
        rate(found_without_retry) * 100.0,
        rate(matched) * 100.0,
        rate(by_crop) * 100.0
    );
    assert!(faces >= 35, "only {faces} faces in the dev set");
    assert!(rate(matched) >= 0.95, "matched {matched} of {faces}");
    assert!(
        rate(by_crop) >= 0.95,
        "crop path matched {by_crop} of {faces}"
    );
    // The retry is what makes the difference on this set.
    assert!(
        found > found_without_retry,
        "{found} vs {found_without_retry}"
    );
}

#[test]
fn a_face_crop_embeds_without_detection_and_any_image_size_works() {
    with_data!();
    let e = engine();
    // Images no detector would find a face in still embed: the path trusts the caller.
    for (w, h) in [(1, 1), (7, 300), (640, 480)] {
        let img = Image::from_rgb(w, h, vec![128; (w * h * 3) as usize]).unwrap();
        let f = e.embed_face_crop(&img).unwrap();
        assert_eq!(f.embedding.dim(), e.embedding_dim());
        assert_eq!((f.face.bbox.x2, f.face.bbox.y2), (w as f32, h as f32));
    }
}
