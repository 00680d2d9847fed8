//! Quality report on real photos: clean faces pass, each synthetic defect gives its own reason,
//! masks, closed eyes and turned heads are caught, and the mesh pose is right where the truth is
//! known (synthetic roll) and symmetric where it is not (mirror images).

mod common;

use faceprint::{HeadPose, Image, QualityProfile, QualityReason};

fn open(path: &std::path::Path) -> Image {
    common::engine().open(path).expect("test image decodes")
}

fn lfw(name: &str, n: u32) -> std::path::PathBuf {
    common::data_dir()
        .unwrap()
        .join(format!("lfw/images/{name}/{name}_{n:04}.jpg"))
}

fn map_pixels(img: &Image, f: impl Fn(u8) -> u8) -> Image {
    Image::from_rgb(
        img.width(),
        img.height(),
        img.as_rgb().iter().map(|&v| f(v)).collect(),
    )
    .unwrap()
}

fn with_rgb(img: &Image, f: impl Fn(image::RgbImage) -> image::RgbImage) -> Image {
    let buf = image::RgbImage::from_raw(img.width(), img.height(), img.as_rgb().to_vec()).unwrap();
    let out = f(buf);
    let (w, h) = out.dimensions();
    Image::from_rgb(w, h, out.into_raw()).unwrap()
}

fn mirrored(img: &Image) -> Image {
    with_rgb(img, |b| image::imageops::flip_horizontal(&b))
}

/// Rotates about the centre by `degrees` clockwise (as seen), same canvas, black corners.
fn rotated(img: &Image, degrees: f32) -> Image {
    let (w, h) = (img.width() as i64, img.height() as i64);
    let (c, s) = (degrees.to_radians().cos(), degrees.to_radians().sin());
    let (cx, cy) = (w as f32 / 2.0, h as f32 / 2.0);
    let src = img.as_rgb();
    let mut out = vec![0u8; src.len()];
    for y in 0..h {
        for x in 0..w {
            // Inverse map: output pixel → source pixel.
            let (dx, dy) = (x as f32 - cx, y as f32 - cy);
            let sx = (c * dx + s * dy + cx).round() as i64;
            let sy = (-s * dx + c * dy + cy).round() as i64;
            if sx >= 0 && sy >= 0 && sx < w && sy < h {
                let (o, i) = (((y * w + x) * 3) as usize, ((sy * w + sx) * 3) as usize);
                out[o..o + 3].copy_from_slice(&src[i..i + 3]);
            }
        }
    }
    Image::from_rgb(img.width(), img.height(), out).unwrap()
}

#[test]
fn clean_faces_pass_and_each_defect_has_its_reason() {
    with_data!();
    let e = common::engine();
    let profile = QualityProfile::enrollment();
    let img = open(&lfw("Aaron_Peirsol", 1));
    let clean = e.quality(&img, &profile).unwrap();
    assert!(clean.passed, "{clean:?}");
    assert!(clean.score >= 0.5, "{clean:?}");

    let blurred = with_rgb(&img, |b| image::imageops::blur(&b, 4.0));
    let r = e.quality(&blurred, &profile).unwrap();
    assert!(r.reasons.contains(&QualityReason::Blurry), "{r:?}");
    assert!(r.score < 0.5 && r.score < clean.score, "{r:?}");

    let dark = map_pixels(&img, |v| (v as f32 * 0.25).round() as u8);
    let r = e.quality(&dark, &profile).unwrap();
    assert!(r.reasons.contains(&QualityReason::TooDark), "{r:?}");
    assert!(
        !r.reasons.contains(&QualityReason::Blurry),
        "dim is not blurred: {r:?}"
    );
    assert!(r.score < 0.5, "{r:?}");

    let bright = map_pixels(&img, |v| (v as f32 * 2.2).min(255.0) as u8);
    let r = e.quality(&bright, &profile).unwrap();
    assert!(r.reasons.contains(&QualityReason::Overexposed), "{r:?}");

    // Eyes 12 px apart.
    let ied = clean.inter_eye_distance.unwrap();
    let k = 12.0 / ied;
    let small = with_rgb(&img, |b| {
        let (w, h) = b.dimensions();
        image::imageops::resize(
            &b,
            (w as f32 * k).round() as u32,
            (h as f32 * k).round() as u32,
            image::imageops::FilterType::Triangle,
        )
    });
    let r = e.quality(&small, &profile).unwrap();
    assert!(r.reasons.contains(&QualityReason::TooSmall), "{r:?}");
    assert!(r.score < 0.5, "{r:?}");
}

#[test]
fn degradation_lowers_the_score_step_by_step() {
    with_data!();
    let e = common::engine();
    let profile = QualityProfile::enrollment();
    let img = open(&lfw("Colin_Powell", 1));
    let mut last = e.quality(&img, &profile).unwrap().score;
    for sigma in [1.0, 2.0, 3.0, 4.0] {
        let s = e
            .quality(
                &with_rgb(&img, |b| image::imageops::blur(&b, sigma)),
                &profile,
            )
            .unwrap()
            .score;
        assert!(s <= last + 0.02, "blur {sigma}: {s} after {last}");
        last = s;
    }
    let mut last = 1.0;
    for k in [0.75, 0.5, 0.35, 0.25] {
        let s = e
            .quality(
                &map_pixels(&img, |v| (v as f32 * k).round() as u8),
                &profile,
            )
            .unwrap()
            .score;
        assert!(s <= last + 0.02, "brightness x{k}: {s} after {last}");
        last = s;
    }
    assert!(last < 0.5);
}

#[test]
fn masks_closed_eyes_and_turned_heads_are_named() {
    with_data!();
    let e = common::engine();
    let profile = QualityProfile::enrollment();

    // YuNet scores the masked face 0.6, under the 0.9 default: still assessed, not "no_face".
    let r = e
        .quality(&open(&common::dev("hard/masks/if_mask.png")), &profile)
        .unwrap();
    assert!(r.reasons.contains(&QualityReason::MaskOrOcclusion), "{r:?}");
    assert!(r.mask_probability.unwrap() > 0.9, "{r:?}");
    let clean = e
        .quality(&open(&lfw("Aaron_Peirsol", 1)), &profile)
        .unwrap();
    assert!(clean.mask_probability.unwrap() < 0.1, "{clean:?}");

    // The wink: one eye under 0.12, the other well open.
    let r = e
        .quality(
            &open(&common::dev("portraits/keijiro_facelandmark_Test2.jpg")),
            &profile,
        )
        .unwrap();
    let eyes = r.eyes.unwrap();
    assert!(
        eyes.min() < 0.12 && eyes.left.max(eyes.right) > 0.2,
        "{eyes:?}"
    );
    assert!(r.reasons.contains(&QualityReason::EyesClosed), "{r:?}");
    // Both eyes shut (LFW Billy_Crystal_0002) against the same man's open eyes.
    let shut = e
        .quality(&open(&lfw("Billy_Crystal", 2)), &profile)
        .unwrap();
    let open_eyes = e
        .quality(&open(&lfw("Billy_Crystal", 5)), &profile)
        .unwrap();
    assert!(shut.eyes.unwrap().left.max(shut.eyes.unwrap().right) < 0.12);
    assert!(open_eyes.eyes.unwrap().min() > 0.2, "{open_eyes:?}");

    let r = e
        .quality(&open(&common::dev("hard/pose/if_left_face.jpeg")), &profile)
        .unwrap();
    assert!(r.reasons.contains(&QualityReason::PoseYaw), "{r:?}");

    let none = e
        .quality(
            &open(&common::dev("hard/non_face/skimage_rocket.jpg")),
            &profile,
        )
        .unwrap();
    assert_eq!(none.reasons, vec![QualityReason::NoFace]);
    assert_eq!(none.score, 0.0);

    let many = e
        .quality(
            &open(&common::dev("hard/multi_face/fr_two_people.jpg")),
            &profile,
        )
        .unwrap();
    assert!(
        many.reasons.contains(&QualityReason::MultipleFaces),
        "{many:?}"
    );
    assert!(many.face_count >= 2);
}

fn pose_of(img: &Image) -> HeadPose {
    let e = common::engine();
    // Strong roll lowers YuNet's confidence: accept 0.5 here.
    let options = faceprint::DetectionOptions {
        score_threshold: 0.5,
        ..e.config().detection
    };
    let faces = e.detect_with(img, &options).unwrap();
    let face = faceprint::detect::largest(&faces).expect("a face");
    e.landmarks(img, face).unwrap().pose()
}

#[test]
fn mesh_pose_is_accurate_for_roll_and_symmetric_for_yaw() {
    with_data!();
    let upright = open(&common::dev("hard/rotation/if_r0.jpg"));
    let base = pose_of(&upright);
    for truth in [20.0f32, -30.0, 45.0] {
        let p = pose_of(&rotated(&upright, truth));
        let measured = p.roll - base.roll;
        assert!(
            (measured - truth).abs() <= 5.0,
            "rotated {truth}°: mesh roll moved {measured}°"
        );
    }
    // The dev pose photos: the true yaw is unknown, but a mirror must flip its sign and keep
    // its size, and the direction must match the file's name.
    for (file, sign) in [
        ("hard/pose/if_left_face.jpeg", -1.0f32),
        ("hard/pose/if_right_face.png", 1.0),
    ] {
        let img = open(&common::dev(file));
        let p = pose_of(&img);
        let m = pose_of(&mirrored(&img));
        assert!(p.yaw * sign > 30.0, "{file}: yaw {}", p.yaw);
        // The mesh is not exactly symmetric near profile (measured: 43.6° vs 49.2°).
        assert!(
            (p.yaw + m.yaw).abs() < 8.0,
            "{file}: {} vs mirror {}",
            p.yaw,
            m.yaw
        );
    }
}

#[test]
fn profiles_are_checked_and_differ() {
    with_data!();
    let e = common::engine();
    let img = open(&common::dev("hard/pose/if_right_face.png"));
    let strict = e.quality(&img, &QualityProfile::enrollment()).unwrap();
    let login = QualityProfile {
        max_yaw: 70.0,
        ..QualityProfile::authentication()
    };
    let lenient = e.quality(&img, &login).unwrap();
    assert!(strict.reasons.contains(&QualityReason::PoseYaw));
    assert!(
        !lenient.reasons.contains(&QualityReason::PoseYaw),
        "{lenient:?}"
    );
    // Fast profile: no optional models, five-point pose.
    assert!(lenient.eyes.is_none() && lenient.mask_probability.is_none());
    let bad = QualityProfile {
        min_brightness: f32::NAN,
        ..QualityProfile::enrollment()
    };
    let err = e.quality(&img, &bad).unwrap_err();
    assert_eq!(err.code(), faceprint::ErrorCode::InvalidArgument);
}
