//! The Rust side of the language parity check (tests/parity/check.py).
//! Usage: parity-dump LFW_DIR DEV_DIR TMP_DIR

use faceprint::document::DocumentOptions;
use faceprint::store::MemoryStore;
use faceprint::{Engine, EnrollOptions, Image};
use serde_json::{json, Map, Value};
use std::path::{Path, PathBuf};
use std::sync::Arc;

const FACES: [(&str, &str, u32); 3] = [
    ("a", "Tony_Blair", 1),
    ("b", "Tony_Blair", 2),
    ("c", "George_W_Bush", 2),
];

fn photo(lfw: &Path, person: &str, n: u32) -> PathBuf {
    lfw.join(person).join(format!("{person}_{n:04}.jpg"))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    let [lfw, dev, tmp] = args.as_slice() else {
        return Err("usage: parity-dump LFW_DIR DEV_DIR TMP_DIR".into());
    };
    let engine = Engine::builder()
        .store(Arc::new(MemoryStore::new()))
        .build()?;

    let mut embeddings = Map::new();
    let mut vectors = Vec::new();
    for (name, person, n) in FACES {
        let e = engine
            .extract_largest(&engine.open(photo(lfw, person, n))?)?
            .embedding;
        embeddings.insert(name.into(), json!(e.vector()));
        vectors.push(e);
    }
    let (mut scores, mut same) = (Map::new(), Map::new());
    for (pair, i, j) in [("a_b", 0, 1), ("a_c", 0, 2)] {
        let c = engine.compare(&vectors[i], &vectors[j], None)?;
        scores.insert(pair.into(), json!(c.score));
        same.insert(pair.into(), json!(c.same));
    }

    let open = |p: PathBuf| engine.open(p);
    let tony: Vec<Image> = vec![
        open(photo(lfw, "Tony_Blair", 1))?,
        open(photo(lfw, "Tony_Blair", 2))?,
    ];
    engine.enroll("parity", "tony", &tony, &EnrollOptions::default())?;
    engine.enroll(
        "parity",
        "george",
        &[open(photo(lfw, "George_W_Bush", 1))?],
        &EnrollOptions::default(),
    )?;
    let v = engine.verify(
        "parity",
        "tony",
        &open(photo(lfw, "Tony_Blair", 10))?,
        None,
        None,
    )?;
    let id = engine.identify(
        "parity",
        &open(photo(lfw, "George_W_Bush", 5))?,
        1,
        None,
        None,
    )?;
    let best = &id.candidates[0];

    // The same bad inputs every language is given.
    let truncated = tmp.join("truncated.jpg");
    let bytes = std::fs::read(photo(lfw, "Tony_Blair", 3))?;
    std::fs::write(&truncated, &bytes[..5000])?;
    let code = |r: faceprint::Result<()>| match r {
        Ok(()) => Value::from("ok"),
        Err(e) => Value::from(e.code().as_str()),
    };
    let extract =
        |img: faceprint::Result<Image>| img.and_then(|i| engine.extract_largest(&i)).map(|_| ());
    let mut nan = vectors[0].vector().to_vec();
    nan[2] = f32::NAN;
    let errors = json!({
        "empty": code(extract(engine.decode(b""))),
        "garbage": code(extract(engine.decode(b"not an image"))),
        "truncated": code(extract(engine.open(&truncated))),
        "missing": code(extract(engine.open("/nonexistent/photo.jpg"))),
        "no_face": code(extract(engine.open(dev.join("hard/non_face/skimage_coffee.png")))),
        "nan_vector": code(engine.embedding_from_vector(nan).map(|_| ())),
        "wrong_dim": code(engine.embedding_from_vector(vec![1.0; 7]).map(|_| ())),
        "unknown_subject": code(engine.verify("parity", "nobody", &tony[0], None, None).map(|_| ())),
    });

    // Batch extraction, subject management and collections: the same sequence everywhere.
    let batch_inputs = [
        photo(lfw, "Tony_Blair", 1),
        truncated.clone(),
        photo(lfw, "George_W_Bush", 2),
        PathBuf::from("/nonexistent/photo.jpg"),
    ]
    .map(faceprint::ImageSource::Path);
    let most = std::sync::atomic::AtomicUsize::new(0);
    let batch = engine.extract_batch(&batch_inputs, 2, &|done, _total| {
        most.fetch_max(done, std::sync::atomic::Ordering::Relaxed);
    })?;
    let batch_outcomes: Vec<Value> = batch
        .iter()
        .map(|item| match item {
            Ok(faces) => json!(format!("faces:{}", faces.len())),
            Err(e) => json!(e.code().as_str()),
        })
        .collect();
    if let Ok(faces) = &batch[0] {
        embeddings.insert("batch_a".into(), json!(faces[0].embedding.vector()));
    }
    let george5 = open(photo(lfw, "George_W_Bush", 5))?;
    let subjects = |engine: &Engine| -> faceprint::Result<Value> {
        Ok(json!(engine
            .list_subjects("parity", 0, 100)?
            .iter()
            .map(|s| json!([s.external_id, s.templates, s.disabled]))
            .collect::<Vec<_>>()))
    };
    engine.set_subject_disabled("parity", "george", true, None)?;
    let listed_disabled = subjects(&engine)?;
    let verify_disabled = code(
        engine
            .verify("parity", "george", &george5, None, None)
            .map(|_| ()),
    );
    let identify_disabled = engine
        .identify("parity", &george5, 1, None, None)?
        .candidates
        .iter()
        .filter(|c| c.matched)
        .map(|c| c.subject.clone())
        .collect::<Vec<_>>();
    engine.set_subject_disabled("parity", "george", false, None)?;
    let verify_enabled = engine
        .verify("parity", "george", &george5, None, None)?
        .matched;
    let export = engine.export_subject("parity", "tony", None)?;
    let first_template = export.templates[0].id.clone();
    let deleted_from = engine.delete_template("parity", &first_template, None)?;
    engine.delete_subject("parity", "george", None)?;
    let collections: Vec<Value> = engine
        .list_collections()?
        .iter()
        .map(|c| json!([c.name, c.model_id, c.dim]))
        .collect();
    let manage = json!({
        "batch": batch_outcomes,
        "batch_progress": most.into_inner(),
        "listed_disabled": listed_disabled,
        "verify_disabled": verify_disabled,
        "identify_disabled": identify_disabled,
        "verify_enabled": verify_enabled,
        "export": [export.subject.external_id, export.templates.len(), export.templates[0].embedding.model_id()],
        "deleted_template_of": deleted_from,
        "listed_after": subjects(&engine)?,
        "collections": collections,
    });

    // face_recognition's faces: dlib boxes and points, and the first one's embedding.
    let group = engine.open(dev.join("faces/test/obama_and_biden.jpg"))?;
    let found = engine.dlib_faces(&group, None)?;
    let dlib = json!({
        "boxes": found.iter().map(|f| json!([f.rect.x1, f.rect.y1, f.rect.x2, f.rect.y2])).collect::<Vec<_>>(),
        "points": found.iter().map(|f| json!(f.points)).collect::<Vec<_>>(),
    });
    let first = engine.embed(&group, &[found[0].aligned])?;
    embeddings.insert("dlib_first".into(), json!(first[0].vector()));

    // Identity documents: the page as the library reads it, a selfie matched with its
    // portrait, and the two document errors a caller sees first.
    let docs = dev.join("documents");
    let page = engine.open(docs.join("passport-td3.jpg"))?;
    let selfie = engine.open(docs.join("25_pass-uto.jpg"))?;
    let document = engine
        .read_document_with(&page, &DocumentOptions { visual_zone: true })?
        .to_json();
    let dm = engine.match_document(&page, &selfie)?;
    let document_errors = json!({
        "no_document": code(
            engine
                .open(dev.join("hard/non_face/skimage_coffee.png"))
                .and_then(|i| engine.read_document(&i))
                .map(|_| ())
        ),
        "no_portrait": code(
            engine
                .open(docs.join("27_pass-gbr.jpg"))
                .and_then(|i| engine.match_document(&i, &selfie))
                .map(|_| ())
        ),
    });

    let out = json!({
        "document": document,
        "document_match": {
            "score": dm.score,
            "matched": dm.matched,
            "orientation_degrees": dm.portrait.orientation_degrees,
        },
        "document_errors": document_errors,
        "manage": manage,
        "dlib": dlib,
        "embeddings": embeddings,
        "scores": scores,
        "same": same,
        "verify": {"score": v.score, "matched": v.matched},
        "identify": [best.subject, best.score],
        "errors": errors,
    });
    println!("{out}");
    Ok(())
}
