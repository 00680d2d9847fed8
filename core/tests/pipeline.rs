//! The detect → align → embed → compare pipeline on real photos.

mod common;

use common::{dev, engine};
use faceprint::{DetectionOptions, Engine, ErrorCode, Image, PixelFormat, Threshold};

fn largest(path: &str) -> faceprint::FaceEmbedding {
    let e = engine();
    e.extract_largest(&e.open(dev(path)).unwrap())
        .unwrap_or_else(|err| panic!("{path}: {err}"))
}

#[test]
fn same_people_match_and_different_people_do_not() {
    with_data!();
    let e = engine();
    // At FMR 1e-3 the dlib model accepts ~93 % of genuine LFW pairs (at 1e-4 only ~74 %:
    // README, Thresholds), so every one of these five pairs should pass here.
    let t = Threshold::Fmr(1e-3);
    let people = [
        (
            "obama",
            [
                "faces/named/obama_obama.jpg",
                "faces/named/obama_obama2.jpg",
            ],
        ),
        (
            "biden",
            [
                "faces/named/biden_biden.jpg",
                "faces/named/biden_biden2.jpg",
            ],
        ),
        (
            "kit",
            [
                "faces/named/kit_harington_john1.jpeg",
                "faces/named/kit_harington_john2.jpeg",
            ],
        ),
        (
            "rose",
            [
                "faces/named/rose_leslie_img1.jpg",
                "faces/named/rose_leslie_img2.jpg",
            ],
        ),
        (
            "alex",
            [
                "faces/named/alex_lacamoire_img1.jpg",
                "faces/named/test_alex_lacamoire1.jpg",
            ],
        ),
    ];
    let emb: Vec<_> = people
        .iter()
        .map(|(n, [a, b])| (n, largest(a).embedding, largest(b).embedding))
        .collect();
    for (name, a, b) in &emb {
        let c = e.compare(a, b, Some(t)).unwrap();
        assert!(
            c.same,
            "{name}: two photos of the same person scored {} < {}",
            c.score, c.threshold
        );
    }
    for (i, (n1, a, _)) in emb.iter().enumerate() {
        for (n2, _, b) in emb.iter().skip(i + 1) {
            let c = e.compare(a, b, Some(t)).unwrap();
            assert!(
                !c.same,
                "{n1} vs {n2}: different people matched at {}",
                c.score
            );
        }
    }
}

#[test]
fn group_photos_yield_several_faces_and_non_faces_none() {
    with_data!();
    let e = engine();
    // Exact counts: every visible face, and no face twice (the large photo is searched at two
    // resolutions and merged).
    for (file, n) in [
        ("hard/multi_face/insightface_t1.jpg", 6),
        ("hard/multi_face/fr_obama_and_biden.jpg", 3),
        ("hard/multi_face/fr_two_people.jpg", 2),
        ("hard/multi_face/deepface_couple.jpg", 2),
    ] {
        let faces = e.detect(&e.open(dev(file)).unwrap()).unwrap();
        assert_eq!(faces.len(), n, "{file}: {faces:?}");
        for (i, a) in faces.iter().enumerate() {
            for b in &faces[i + 1..] {
                assert!(a.bbox.iou(&b.bbox) < 0.1, "{file}: overlapping boxes");
            }
        }
        assert!(
            faces.windows(2).all(|w| w[0].score >= w[1].score),
            "{file}: not sorted by score"
        );
    }
    for entry in std::fs::read_dir(dev("hard/non_face")).unwrap() {
        let p = entry.unwrap().path();
        let faces = e.detect(&e.open(&p).unwrap()).unwrap();
        assert!(
            faces.is_empty(),
            "{}: {} false faces, best score {}",
            p.display(),
            faces.len(),
            faces[0].score
        );
    }
}

/// Documented behaviour: YuNet finds upright faces; a photo turned by 90/180/270 degrees (with
/// no EXIF orientation to undo it) is missed at the default threshold, and found — with the same
/// identity — when `rotation_search` is on.
#[test]
fn rotated_photos_behave_as_documented() {
    with_data!();
    let e = engine();
    let upright = largest("hard/rotation/if_r0.jpg").embedding;
    let searching = DetectionOptions {
        rotation_search: true,
        ..DetectionOptions::default()
    };
    for file in [
        "hard/rotation/if_r90.jpg",
        "hard/rotation/if_r180.jpg",
        "hard/rotation/if_r270.jpg",
    ] {
        let img = e.open(dev(file)).unwrap();
        assert!(
            e.detect(&img).unwrap().is_empty(),
            "{file}: found without rotation search"
        );
        let faces = e.detect_with(&img, &searching).unwrap();
        assert_eq!(faces.len(), 1, "{file}: rotation search");
        let emb = e.embed(&img, &faces).unwrap().remove(0);
        let c = e
            .compare(&upright, &emb, Some(Threshold::Fmr(1e-4)))
            .unwrap();
        assert!(
            c.same,
            "{file}: rotated copy scored {} against upright",
            c.score
        );
        // The face box lies inside the rotated image.
        let b = faces[0].bbox;
        assert!(
            b.x1 > -5.0
                && b.y1 > -5.0
                && b.x2 < img.width() as f32 + 5.0
                && b.y2 < img.height() as f32 + 5.0
        );
    }
}

#[test]
fn bad_inputs_each_get_their_own_error_code() {
    with_data!();
    let e = engine();
    let good = std::fs::read(dev("faces/named/obama_obama.jpg")).unwrap();
    let code = |bytes: &[u8]| e.decode(bytes).unwrap_err().code();
    assert_eq!(code(&[]), ErrorCode::ImageEmpty);
    assert_eq!(code(&good[..good.len() / 2]), ErrorCode::ImageTruncated);
    let mut corrupt = good.clone();
    // Keep the headers and the end marker; destroy the entropy-coded data's structure.
    let n = corrupt.len();
    for (i, b) in corrupt[n / 3..n - 4].iter_mut().enumerate() {
        *b = if i % 2 == 0 { 0xFF } else { 0xC4 };
    }
    assert_eq!(code(&corrupt), ErrorCode::ImageCorrupt);
    assert_eq!(
        code(b"{\"not\": \"an image\"}"),
        ErrorCode::ImageUnsupportedFormat
    );
    let small = Engine::builder()
        .image_limits(faceprint::ImageLimits {
            max_bytes: 10_000,
            ..Default::default()
        })
        .build()
        .unwrap();
    assert_eq!(
        small.decode(&good).unwrap_err().code(),
        ErrorCode::ImageTooLarge
    );
    let few_pixels = Engine::builder()
        .image_limits(faceprint::ImageLimits {
            max_pixels: 100_000,
            ..Default::default()
        })
        .build()
        .unwrap();
    assert_eq!(
        few_pixels.decode(&good).unwrap_err().code(),
        ErrorCode::ImageTooManyPixels
    );
    assert_eq!(
        e.open("/nonexistent/face.jpg").unwrap_err().code(),
        ErrorCode::Io
    );
}

#[test]
fn no_face_is_an_error_only_where_one_face_is_required() {
    with_data!();
    let e = engine();
    let img = e.open(dev("hard/non_face/skimage_coffee.png")).unwrap();
    assert!(e.extract(&img).unwrap().is_empty());
    assert_eq!(
        e.extract_largest(&img).unwrap_err().code(),
        ErrorCode::NoFace
    );
}

#[test]
fn raw_bgr_buffers_give_the_same_embedding_as_the_encoded_file() {
    with_data!();
    let e = engine();
    let img = e.open(dev("faces/named/biden_biden.jpg")).unwrap();
    // Re-pack as BGR with a padded stride, as an OpenCV Mat with row padding would be.
    let (w, h) = (img.width() as usize, img.height() as usize);
    let stride = w * 3 + 13;
    let mut raw = vec![0u8; stride * h];
    for y in 0..h {
        for x in 0..w {
            let s = &img.as_rgb()[(y * w + x) * 3..(y * w + x) * 3 + 3];
            raw[y * stride + x * 3..y * stride + x * 3 + 3].copy_from_slice(&[s[2], s[1], s[0]]);
        }
    }
    let from_raw = Image::from_raw(
        &raw,
        w as u32,
        h as u32,
        stride,
        PixelFormat::Bgr,
        &Default::default(),
    )
    .unwrap();
    let a = e.extract_largest(&img).unwrap().embedding;
    let b = e.extract_largest(&from_raw).unwrap().embedding;
    assert_eq!(a.vector(), b.vector());
}

#[test]
fn a_large_group_photo_needs_the_second_pass_and_a_face_filling_a_photo_does_not() {
    with_data!();
    let e = engine();
    let group = e.open(dev("hard/multi_face/insightface_t1.jpg")).unwrap();
    let one_pass = DetectionOptions {
        max_detail_side: 0,
        ..DetectionOptions::default()
    };
    // At 640 px two of the six faces (50 px wide) score under 0.9.
    assert_eq!(e.detect_with(&group, &one_pass).unwrap().len(), 4);
    assert_eq!(e.detect(&group).unwrap().len(), 6);
    // Searching every large photo at full size would lose a face that fills it; the second
    // pass only runs on small or uncertain first-pass faces, so this one is still found.
    let close_up = e.open(dev("faces/named/biden_biden2.jpg")).unwrap();
    // (Without the crop retry, which would rescue it: padded, the face no longer fills it.)
    let full_size = DetectionOptions {
        max_input_side: 1280,
        max_detail_side: 1280,
        crop_retry_margin: 0.0,
        ..DetectionOptions::default()
    };
    assert!(close_up.width().max(close_up.height()) > 640);
    assert_eq!(e.detect(&close_up).unwrap().len(), 1);
    assert_eq!(e.detect_with(&close_up, &full_size).unwrap().len(), 0);
}

#[test]
fn concurrent_callers_get_the_same_results_as_sequential_ones() {
    with_data!();
    let e = engine();
    let files = [
        "faces/named/obama_obama.jpg",
        "faces/named/biden_biden.jpg",
        "faces/named/rose_leslie_img1.jpg",
        "hard/multi_face/insightface_t1.jpg",
    ];
    let images: Vec<Image> = files.iter().map(|f| e.open(dev(f)).unwrap()).collect();
    let sequential: Vec<_> = images.iter().map(|i| e.extract(i).unwrap()).collect();
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|t| {
                let (engine, images) = (e.clone(), &images);
                s.spawn(move || {
                    (0..6)
                        .map(|k| {
                            let i = (t + k) % images.len();
                            (i, engine.extract(&images[i]).unwrap())
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        for h in handles {
            for (i, got) in h.join().unwrap() {
                assert_eq!(got, sequential[i], "{}", files[i]);
            }
        }
    });
}

#[test]
fn flip_augmentation_keeps_identities_apart() {
    with_data!();
    let flip = Engine::builder().flip_augmentation(true).build().unwrap();
    let emb = |p: &str| {
        flip.extract_largest(&flip.open(dev(p)).unwrap())
            .unwrap()
            .embedding
    };
    let (a, b, c) = (
        emb("faces/named/obama_obama.jpg"),
        emb("faces/named/obama_obama2.jpg"),
        emb("faces/named/biden_biden.jpg"),
    );
    let same = flip.similarity(&a, &b).unwrap();
    let diff = flip.similarity(&a, &c).unwrap();
    assert!(same > diff + 0.05, "same {same} vs different {diff}");
    // A plain engine's embeddings are of the same model but not interchangeable in meaning;
    // they still compare (same model id) and stay close for the same face.
    let plain = largest("faces/named/obama_obama.jpg").embedding;
    assert!(flip.similarity(&a, &plain).unwrap() > 0.97);
}

#[test]
fn blazeface_is_a_working_second_detector() {
    with_data!();
    let blaze = Engine::builder()
        .detector_model("blazeface-front-128")
        .build()
        .unwrap();
    assert_eq!(blaze.detector_id(), "blazeface-front-128");
    // A selfie-range portrait: one face, and an embedding that matches YuNet's of the same face.
    let file = "portraits/keijiro_blazeface_Test1.jpg";
    let img = blaze.open(dev(file)).unwrap();
    let faces = blaze.detect(&img).unwrap();
    assert!(!faces.is_empty(), "BlazeFace found no face in {file}");
    let yunet = largest(file).embedding;
    let via_blaze = blaze.extract_largest(&img).unwrap().embedding;
    let s = blaze.similarity(&yunet, &via_blaze).unwrap();
    assert!(
        s > 0.85,
        "BlazeFace-aligned embedding differs from YuNet's: {s}"
    );
    let none = blaze
        .detect(&blaze.open(dev("hard/non_face/skimage_coffee.png")).unwrap())
        .unwrap();
    assert!(none.is_empty());
}

#[test]
fn exif_orientation_is_applied_before_detection() {
    with_data!();
    let e = engine();
    // Stored as 640x480 landscape with EXIF orientation 6 (rotate 90 degrees clockwise to view).
    let file = "spoof/live/live_image_T1.jpg";
    let img = e.open(dev(file)).unwrap();
    assert_eq!(
        (img.width(), img.height()),
        (480, 640),
        "{file}: orientation not applied"
    );
    let faces = e.detect(&img).unwrap();
    assert_eq!(
        faces.len(),
        1,
        "{file}: the upright face should be found without rotation search"
    );
    // Eyes above the mouth in the image as viewed.
    let f = &faces[0];
    assert!(f.landmarks[0][1] < f.landmarks[3][1] && f.landmarks[1][1] < f.landmarks[4][1]);
}
