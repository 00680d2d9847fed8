//! `models/convert_dlib_resnet.py` rebuilds the embedder from dlib's CC0 weights; its output must
//! equal the model pack's ONNX to 1e-4 on real LFW faces (setup.sh runs the converter).

use faceprint::models::{Manifest, ModelPack};
use faceprint::Engine;
use sha2::{Digest, Sha256};
use std::path::PathBuf;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

#[test]
fn converted_dlib_resnet_matches_the_pack_on_20_lfw_faces() {
    let converted = root().join(".faceprint/converted/face_embedding_dlib_resnet_v1.onnx");
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
    let dir = std::env::temp_dir().join(format!("faceprint-converted-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    manifest
        .models
        .retain(|m| m.id == "yunet-2023mar" || m.id == "dlib-resnet-v1");
    for m in &mut manifest.models {
        let target = dir.join(&m.file);
        if m.id == "dlib-resnet-v1" {
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

    let reference = Engine::builder().build().unwrap();
    let rebuilt = Engine::builder().models_dir(&dir).build().unwrap();
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
