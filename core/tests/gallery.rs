//! Enroll, verify and identify on real photos over an encrypted SQLite store.

mod common;

use common::dev;
use faceprint::store::{AuditAction, MasterKey, SqliteStore, TemplateStore};
use faceprint::IndexConfig;
use faceprint::{Engine, EnrollOptions, ErrorCode, FacePolicy, Image, Threshold};
use std::path::PathBuf;
use std::sync::Arc;

fn temp_db(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("faceprint-gallery-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d.join("faces.db")
}

fn engine_with(db: &PathBuf, key: &MasterKey) -> Engine {
    let store = SqliteStore::open(db, key.clone()).unwrap();
    Engine::builder().store(Arc::new(store)).build().unwrap()
}

fn open(e: &Engine, rel: &str) -> Image {
    e.open(dev(rel)).unwrap()
}

/// Enrolls every person of dev/faces/train (one folder per person).
fn enroll_train(e: &Engine) {
    for person in [
        "alex_lacamoire",
        "biden",
        "kit_harington",
        "obama",
        "rose_leslie",
    ] {
        let dir = dev("faces/train").join(person);
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|f| f.unwrap().path())
            .collect();
        files.sort();
        let images: Vec<Image> = files.iter().map(|f| e.open(f).unwrap()).collect();
        let opts = EnrollOptions {
            display_name: Some(person.replace('_', " ")),
            sources: files
                .iter()
                .map(|f| f.file_name().unwrap().to_string_lossy().to_string())
                .collect(),
            actor: Some("test".into()),
            ..Default::default()
        };
        let r = e.enroll("people", person, &images, &opts).unwrap();
        assert_eq!(r.template_ids.len(), images.len());
        assert!(r.warnings.is_empty(), "{person}: {:?}", r.warnings);
    }
}

#[test]
fn enroll_then_verify_and_identify_real_people() {
    with_data!();
    let key = MasterKey::generate();
    let db = temp_db("main");
    let e = engine_with(&db, &key);
    enroll_train(&e);
    let t = Some(Threshold::Fmr(1e-3));

    let probe = open(&e, "faces/test/obama1.jpg");
    let v = e
        .verify("people", "obama", &probe, t, Some("desk 1"))
        .unwrap();
    assert!(v.matched, "obama1 vs obama: {}", v.score);
    let v = e.verify("people", "biden", &probe, t, None).unwrap();
    assert!(!v.matched, "obama1 vs biden matched at {}", v.score);

    for (file, who) in [
        ("faces/test/obama1.jpg", "obama"),
        ("faces/test/alex_lacamoire1.jpg", "alex_lacamoire"),
        ("faces/test/johnsnow_test1.jpg", "kit_harington"),
    ] {
        let id = e.identify("people", &open(&e, file), 3, t, None).unwrap();
        assert_eq!(id.candidates[0].subject, who, "{file}: {:?}", id.candidates);
        assert!(id.candidates[0].matched);
        assert_eq!(id.candidates.len(), 3);
        assert!(id.candidates.windows(2).all(|w| w[0].score >= w[1].score));
        let mut seen: Vec<&str> = id.candidates.iter().map(|c| c.subject.as_str()).collect();
        seen.dedup();
        assert_eq!(seen.len(), 3, "one entry per subject");
    }

    // A new process over the same file rebuilds the index from the store.
    drop(e);
    let e = engine_with(&db, &key);
    let id = e
        .identify("people", &open(&e, "faces/test/obama1.jpg"), 1, t, None)
        .unwrap();
    assert_eq!(id.candidates[0].subject, "obama");

    // Disabled subjects are skipped by identify and refused by verify.
    e.set_subject_disabled("people", "obama", true, None)
        .unwrap();
    let id = e
        .identify("people", &open(&e, "faces/test/obama1.jpg"), 5, t, None)
        .unwrap();
    assert!(id.candidates.iter().all(|c| c.subject != "obama"));
    assert!(!id.candidates[0].matched);
    let err = e.verify("people", "obama", &probe, t, None).unwrap_err();
    assert_eq!(err.code(), ErrorCode::SubjectDisabled);
    e.set_subject_disabled("people", "obama", false, None)
        .unwrap();

    // Export holds metadata and decrypted templates; delete removes the subject for good.
    let x = e.export_subject("people", "biden", Some("dpo")).unwrap();
    assert_eq!(x.subject.display_name.as_deref(), Some("biden"));
    assert_eq!(x.templates.len(), 2);
    assert!(serde_json::to_string(&x).unwrap().contains("\"vector\""));
    e.delete_subject("people", "obama", Some("admin")).unwrap();
    let id = e
        .identify("people", &open(&e, "faces/test/obama1.jpg"), 5, t, None)
        .unwrap();
    assert!(id.candidates.iter().all(|c| c.subject != "obama"));
    assert_eq!(
        e.verify("people", "obama", &probe, t, None)
            .unwrap_err()
            .code(),
        ErrorCode::NotFound
    );
    let listed: Vec<String> = e
        .list_subjects("people", 0, 10)
        .unwrap()
        .into_iter()
        .map(|s| s.external_id)
        .collect();
    assert_eq!(
        listed,
        vec!["alex_lacamoire", "biden", "kit_harington", "rose_leslie"]
    );

    // Every operation left an audit record, and none holds a vector.
    let log = e.store().unwrap().audit(Some("people"), 100).unwrap();
    for action in [
        AuditAction::Enroll,
        AuditAction::Verify,
        AuditAction::Identify,
        AuditAction::Delete,
        AuditAction::Export,
        AuditAction::Disable,
    ] {
        assert!(
            log.iter().any(|a| a.action == action),
            "no {action:?} in the audit log"
        );
    }
    assert!(log
        .iter()
        .any(|a| a.actor.as_deref() == Some("desk 1") && a.outcome == "match"));
}

#[test]
fn enrollment_refuses_bad_photos_and_warns_about_duplicates() {
    with_data!();
    let e = engine_with(&temp_db("refuse"), &MasterKey::generate());
    enroll_train(&e);
    let group = open(&e, "hard/multi_face/fr_two_people.jpg");
    let err = e
        .enroll(
            "people",
            "someone",
            std::slice::from_ref(&group),
            &EnrollOptions::default(),
        )
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::MultipleFaces);
    let none = open(&e, "hard/non_face/skimage_coffee.png");
    assert_eq!(
        e.enroll("people", "cup", &[none], &EnrollOptions::default())
            .unwrap_err()
            .code(),
        ErrorCode::NoFace
    );
    // Nothing was stored for either.
    assert_eq!(
        e.store()
            .unwrap()
            .subject("people", "someone")
            .unwrap_err()
            .code(),
        ErrorCode::NotFound
    );
    // Told to, enrollment takes the largest face.
    let opts = EnrollOptions {
        face_policy: FacePolicy::Largest,
        ..Default::default()
    };
    e.enroll("people", "someone", &[group], &opts).unwrap();
    // Obama again under another id: enrolled, with a warning naming the existing subject.
    let r = e
        .enroll(
            "people",
            "barack",
            &[open(&e, "faces/test/obama1.jpg")],
            &EnrollOptions::default(),
        )
        .unwrap();
    assert_eq!(r.warnings.len(), 1, "{:?}", r.warnings);
    assert_eq!(r.warnings[0].other_subject, "obama");
    // Empty input and an engine without a store are clear errors.
    assert_eq!(
        e.enroll("people", "x", &[], &EnrollOptions::default())
            .unwrap_err()
            .code(),
        ErrorCode::InvalidArgument
    );
    let plain = Engine::builder().build().unwrap();
    let err = plain
        .identify(
            "people",
            &open(&plain, "faces/test/obama1.jpg"),
            1,
            None,
            None,
        )
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidArgument);
}

#[test]
fn hnsw_and_exact_search_give_the_same_answers_and_survive_deletes() {
    with_data!();
    let db = temp_db("hnsw");
    let key = MasterKey::generate();
    let exact = engine_with(&db, &key);
    enroll_train(&exact);
    drop(exact);
    // The same store, with HNSW from 4 templates up (the train set has 9).
    let store = SqliteStore::open(&db, key.clone()).unwrap();
    let small = IndexConfig {
        hnsw_min_templates: 4,
        ..Default::default()
    };
    let graph = Engine::builder()
        .store(Arc::new(store))
        .index(small)
        .build()
        .unwrap();
    let exact = engine_with(&db, &key);
    for file in [
        "faces/test/obama1.jpg",
        "faces/test/alex_lacamoire1.jpg",
        "faces/test/kit_with_rose.jpg",
    ] {
        let img = open(&graph, file);
        let a = graph.identify("people", &img, 5, None, None).unwrap();
        let b = exact.identify("people", &img, 5, None, None).unwrap();
        assert_eq!(a.candidates, b.candidates, "{file}");
    }
    // Deleting most subjects rebuilds (tombstones) and then falls back to the exact scan.
    for who in ["obama", "biden", "rose_leslie"] {
        graph.delete_subject("people", who, None).unwrap();
        let id = graph
            .identify(
                "people",
                &open(&graph, "faces/test/obama1.jpg"),
                5,
                None,
                None,
            )
            .unwrap();
        assert!(id.candidates.iter().all(|c| c.subject != who));
    }
    let left = graph
        .identify(
            "people",
            &open(&graph, "faces/test/alex_lacamoire1.jpg"),
            5,
            None,
            None,
        )
        .unwrap();
    assert_eq!(left.candidates.len(), 2);
    assert_eq!(left.candidates[0].subject, "alex_lacamoire");
}

/// Rejects faces whose eyes are less than 60 px apart; scores the rest by eye distance.
struct EyeDistanceGate;

impl faceprint::QualityGate for EyeDistanceGate {
    fn check(&self, _image: &Image, face: &faceprint::Face) -> faceprint::Result<f32> {
        let d = face.inter_eye_distance();
        if d < 60.0 {
            return Err(faceprint::Error::QualityRejected(format!(
                "eyes {d:.0} px apart, need 60"
            )));
        }
        Ok((d / 200.0).min(1.0))
    }
}

#[test]
fn the_quality_gate_decides_before_anything_is_stored() {
    with_data!();
    let store = SqliteStore::open(temp_db("gate"), MasterKey::generate()).unwrap();
    let e = Engine::builder()
        .store(Arc::new(store))
        .quality_gate(Arc::new(EyeDistanceGate))
        .build()
        .unwrap();
    // A large portrait passes; its score is stored with the template.
    let big = open(&e, "faces/named/obama_obama.jpg");
    e.enroll("people", "obama", &[big], &EnrollOptions::default())
        .unwrap();
    let t = e.store().unwrap().templates("people", "obama").unwrap();
    let q = t[0].quality.expect("quality stored");
    assert!(q > 0.3 && q <= 1.0, "{q}");
    // A small LFW face is refused with its own code, and nothing is stored.
    let lfw = common::data_dir()
        .unwrap()
        .join("lfw/images/Aaron_Eckhart/Aaron_Eckhart_0001.jpg");
    let small = e.open(lfw).unwrap();
    let err = e
        .enroll("people", "aaron", &[small], &EnrollOptions::default())
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::QualityRejected, "{err}");
    assert_eq!(
        e.store()
            .unwrap()
            .subject("people", "aaron")
            .unwrap_err()
            .code(),
        ErrorCode::NotFound
    );
}

#[test]
fn a_damaged_subject_is_named_and_the_rest_of_the_collection_still_answers() {
    let db = temp_db("damaged");
    let key = MasterKey::generate();
    enroll_train(&engine_with(&db, &key));
    // Damage biden's templates on disk, as a bad sector or a bad edit would.
    rusqlite::Connection::open(&db)
        .unwrap()
        .execute(
            "UPDATE templates SET ciphertext = zeroblob(length(ciphertext))
             WHERE subject_id = (SELECT id FROM subjects WHERE external_id = 'biden')",
            [],
        )
        .unwrap();
    let e = engine_with(&db, &key);
    let id = e
        .identify("people", &open(&e, "faces/test/obama1.jpg"), 5, None, None)
        .unwrap();
    assert_eq!(id.candidates[0].subject, "obama");
    assert!(id.candidates.iter().all(|c| c.subject != "biden"));
    let err = e
        .verify(
            "people",
            "biden",
            &open(&e, "faces/named/biden_biden.jpg"),
            None,
            None,
        )
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Decrypt, "{err}");
    assert!(
        err.to_string()
            .contains(r#"subject "biden" in collection "people""#),
        "{err}"
    );
    assert!(
        e.verify(
            "people",
            "obama",
            &open(&e, "faces/test/obama1.jpg"),
            None,
            None
        )
        .unwrap()
        .matched
    );
}

#[test]
fn a_collection_keeps_its_model_and_another_model_is_refused_by_name() {
    with_data!();
    let db = temp_db("model");
    let key = MasterKey::generate();
    let store: Arc<SqliteStore> = Arc::new(SqliteStore::open(&db, key.clone()).unwrap());
    // Created with the dlib model, one option away from the default.
    let dlib = Engine::builder()
        .store(store.clone())
        .embedder_model("dlib-resnet-v1")
        .build()
        .unwrap();
    let photo = open(&dlib, "faces/named/obama_obama.jpg");
    dlib.enroll("legacy", "obama", &[photo], &EnrollOptions::default())
        .unwrap();
    let probe_path = "faces/named/obama_obama2.jpg";

    // An engine on the default model never compares its 256-D probes with the 128-D templates:
    // each call is model_mismatch, and the message names the model to load.
    let default = Engine::builder().store(store.clone()).build().unwrap();
    assert_eq!(default.embedder_id(), faceprint::DEFAULT_EMBEDDER);
    let probe = open(&default, probe_path);
    let refusals = [
        default
            .identify("legacy", &probe, 1, None, None)
            .unwrap_err(),
        default
            .verify("legacy", "obama", &probe, None, None)
            .unwrap_err(),
        default
            .enroll(
                "legacy",
                "biden",
                &[open(&default, "faces/named/biden_biden.jpg")],
                &EnrollOptions::default(),
            )
            .unwrap_err(),
    ];
    for e in &refusals {
        assert_eq!(e.code(), ErrorCode::ModelMismatch, "{e}");
        assert!(
            e.to_string()
                .contains("use an engine whose embedder is dlib-resnet-v1"),
            "{e}"
        );
    }
    assert_eq!(
        store.list_subjects("legacy", 0, 10).unwrap().len(),
        1,
        "nothing enrolled"
    );

    // collection_model loads the collection's own model, and then the answers are right.
    let follows = Engine::builder()
        .store(store.clone())
        .collection_model("legacy")
        .build()
        .unwrap();
    assert_eq!(follows.embedder_id(), "dlib-resnet-v1");
    let who = follows
        .identify("legacy", &open(&follows, probe_path), 1, None, None)
        .unwrap();
    assert_eq!(who.candidates[0].subject, "obama");
    // A new collection gets the default model; an explicit other model is refused at build.
    let fresh = Engine::builder()
        .store(store.clone())
        .collection_model("new")
        .build()
        .unwrap();
    assert_eq!(fresh.embedder_id(), faceprint::DEFAULT_EMBEDDER);
    let e = Engine::builder()
        .store(store)
        .embedder_model("omz-reid-0095")
        .collection_model("legacy")
        .build()
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::ModelMismatch);
    assert!(e.to_string().contains("dlib-resnet-v1"), "{e}");
}
