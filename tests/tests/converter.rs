//! The project's converters rebuild two embedders (`models/convert_dlib_resnet.py` from dlib's CC0
//! weights, `models/convert_omz_ir.py` from Intel's OpenVINO IR); each output must equal the
//! model pack's ONNX to 1e-4 on 20 real LFW faces (setup.sh runs the converters).

use faceprint::models::{Manifest, ModelPack};
use faceprint::Engine;
use sha2::{Digest, Sha256};
use std::path::PathBuf;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

#[test]
fn converted_dlib_resnet_matches_the_pack_on_20_lfw_faces() {
    converted_matches_the_pack("dlib-resnet-v1", "face_embedding_dlib_resnet_v1.onnx");
}

#[test]
fn converted_omz_ir_matches_the_pack_on_20_lfw_faces() {
    converted_matches_the_pack("omz-reid-0095", "face_embedding_omz_reid_retail_0095.onnx");
}

fn converted_matches_the_pack(model_id: &str, file: &str) {
    let converted = root().join(".faceprint/converted").join(file);
    let lfw = root().join("../shared/data/lfw/images");
    if !converted.is_file() || !lfw.is_dir() {
        eprintln!(
            "SKIPPED: needs {} (./setup.sh without --no-convert) and {}",
            converted.display(),
            lfw.display()
        );
        return;
    }
    // A model pack identical to the installed one except that the embedder is the converted
    // file (its own sha256), so both go through exactly the same engine code.
    let pack = ModelPack::discover().unwrap();
    let mut manifest: Manifest = pack.manifest().clone();
    let bytes = std::fs::read(&converted).unwrap();
    let dir = std::env::temp_dir().join(format!(
        "faceprint-converted-{model_id}-{}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    manifest
        .models
        .retain(|m| m.id == "yunet-2023mar" || m.id == model_id);
    for m in &mut manifest.models {
        let target = dir.join(&m.file);
        if m.id == model_id {
            m.sha256 = Sha256::digest(&bytes)
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            m.bytes = bytes.len() as u64;
            std::fs::write(&target, &bytes).unwrap();
        } else {
            std::fs::copy(pack.dir().join(&m.file), &target).unwrap();
        }
    }
    std::fs::write(
        dir.join("manifest.toml"),
        toml::to_string(&manifest).unwrap(),
    )
    .unwrap();

    let reference = Engine::builder().embedder_model(model_id).build().unwrap();
    let rebuilt = Engine::builder()
        .embedder_model(model_id)
        .models_dir(&dir)
        .build()
        .unwrap();
    // Not the same file: the test compares two builds, not one file with itself.
    assert_ne!(
        std::fs::read(reference.models_dir().join(file)).unwrap(),
        bytes
    );
    let mut people: Vec<PathBuf> = std::fs::read_dir(&lfw)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    people.sort();
    let mut checked = 0;
    for person in people.iter().step_by(97) {
        let Some(image) = std::fs::read_dir(person)
            .unwrap()
            .map(|e| e.unwrap().path())
            .min()
        else {
            continue;
        };
        let img = reference.open(&image).unwrap();
        let faces = reference.detect(&img).unwrap();
        if faces.is_empty() {
            continue;
        }
        let a = reference.embed(&img, &faces[..1]).unwrap().remove(0);
        let b = rebuilt.embed(&img, &faces[..1]).unwrap().remove(0);
        let diff = a
            .vector()
            .iter()
            .zip(b.vector())
            .map(|(x, y)| (x - y).abs())
            .fold(0f32, f32::max);
        assert!(
            diff <= 1e-4,
            "{}: max abs difference {diff}",
            image.display()
        );
        checked += 1;
        if checked == 20 {
            break;
        }
    }
    assert_eq!(checked, 20, "fewer than 20 LFW faces were compared");
    std::fs::remove_dir_all(&dir).ok();
}
