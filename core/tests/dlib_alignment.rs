//! dlib's shape predictor and face chip, checked against what dlib itself computed
//! (face_recognition 1.3 on LFW photos: tests/fixtures/dlib_face_recognition.json).
//!
//! face_recognition decodes JPEG with PIL (libjpeg-turbo), we with the `image` crate: the two
//! differ by a level here and there, which moves a predicted point by at most one pixel and a
//! descriptor by about 0.008. Fed PIL's own pixels (the same photos saved as PNG), the points
//! were all exact and the descriptors within 0.0012 of dlib's (median 0.0005).

mod common;

use faceprint::{BoundingBox, Engine, Image, ImageLimits};
use serde_json::Value;

fn fixture() -> Value {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/dlib_face_recognition.json"
    ))
    .unwrap();
    serde_json::from_str(&text).unwrap()
}

fn pair(v: &Value) -> [f32; 2] {
    [v[0].as_f64().unwrap() as f32, v[1].as_f64().unwrap() as f32]
}

#[test]
fn points_and_descriptors_match_dlib() {
    with_data!();
    let engine = Engine::builder()
        .embedder_model("dlib-resnet-v1")
        .build()
        .unwrap();
    let lfw = common::data_dir().unwrap().join("lfw/images");
    let (mut exact, mut off_by_one, mut faces) = (0, 0, 0);
    let mut distances = Vec::new();
    for f in fixture()["faces"].as_array().unwrap() {
        let image = Image::open(
            lfw.join(f["image"].as_str().unwrap()),
            &ImageLimits::default(),
        )
        .unwrap();
        let b: Vec<f32> = f["hog_box"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap() as f32)
            .collect();
        let rect = BoundingBox {
            x1: b[0],
            y1: b[1],
            x2: b[2],
            y2: b[3],
        };
        let want: Vec<[f32; 2]> = f["points"].as_array().unwrap().iter().map(pair).collect();
        let got = engine.dlib_points(&image, &rect).unwrap();
        faces += 1;
        let worst = got
            .iter()
            .zip(&want)
            .map(|(g, w)| (g[0] - w[0]).abs().max((g[1] - w[1]).abs()))
            .fold(0f32, f32::max);
        if worst == 0.0 {
            exact += 1;
        } else if worst <= 1.0 {
            off_by_one += 1;
        }
        // The chip from dlib's own points: our warp against dlib's extract_image_chip.
        let face = engine
            .align_like_dlib(&rect, &want.clone().try_into().unwrap())
            .unwrap();
        let e = &engine.embed(&image, &[face]).unwrap()[0];
        let d: f32 = e
            .vector()
            .iter()
            .zip(f["encoding"].as_array().unwrap())
            .map(|(v, r)| (v * e.norm() - r.as_f64().unwrap() as f32).powi(2))
            .sum::<f32>()
            .sqrt();
        distances.push(d);
    }
    distances.sort_by(f32::total_cmp);
    let median = distances[distances.len() / 2];
    let max = distances[distances.len() - 1];
    eprintln!(
        "dlib points: {exact}/{faces} exact, {off_by_one} off by one pixel; descriptor distance \
         to face_recognition's: median {median:.4}, max {max:.4}"
    );
    assert!(exact * 4 >= faces, "{exact}/{faces} exact");
    assert_eq!(
        exact + off_by_one,
        faces,
        "a point more than a pixel from dlib's"
    );
    assert!(median < 0.015 && max < 0.03, "median {median}, max {max}");
}

#[test]
fn refuses_boxes_that_are_not_boxes() {
    with_data!();
    let engine = common::engine();
    let image = Image::from_rgb(8, 8, vec![0; 192]).unwrap();
    for b in [[0.0, 0.0, f32::NAN, 4.0], [5.0, 5.0, 1.0, 1.0]] {
        let rect = BoundingBox {
            x1: b[0],
            y1: b[1],
            x2: b[2],
            y2: b[3],
        };
        let err = engine.dlib_points(&image, &rect).unwrap_err();
        assert_eq!(err.code(), faceprint::ErrorCode::InvalidArgument);
    }
}
