//! The saved HNSW graph of a collection: restored on open with the store's changes since
//! (enrollments by other handles inserted, deletions dropped), rebuilt when it cannot be used
//! (torn, altered, another collection's, another graph setting), kept across a key rotation,
//! and always answering as the exact scan does.

use faceprint::index::HnswConfig;
use faceprint::store::{MasterKey, SqliteStore, TemplateStore};
use faceprint::{Embedding, Engine, EnrollOptions, FaceEmbedding, IndexConfig, IndexSource};
use std::path::{Path, PathBuf};
use std::sync::Arc;

const MODEL: &str = "omz-reid-0095";
const DIM: usize = 256;
const C: &str = "members";

fn temp_db(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("faceprint-snap-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d.join("faces.db")
}

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        ((self.0 >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }
    fn unit(&mut self) -> Vec<f32> {
        let v: Vec<f32> = (0..DIM).map(|_| self.next() as f32 - 0.5).collect();
        let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        v.into_iter().map(|x| x / n).collect()
    }
    fn near(&mut self, v: &[f32]) -> Vec<f32> {
        let noise = self.unit();
        let w: Vec<f32> = v.iter().zip(noise).map(|(a, b)| a + 0.4 * b).collect();
        let n = w.iter().map(|x| x * x).sum::<f32>().sqrt();
        w.into_iter().map(|x| x / n).collect()
    }
}

fn config() -> IndexConfig {
    IndexConfig {
        hnsw_min_templates: 500,
        ..Default::default()
    }
}

fn engine(db: &Path, key: &MasterKey, index: IndexConfig) -> Engine {
    let store = SqliteStore::open(db, key.clone()).unwrap();
    Engine::builder()
        .store(Arc::new(store))
        .index(index)
        .build()
        .unwrap()
}

fn enroll(e: &Engine, who: &str, v: &[f32]) {
    e.enroll_embeddings(
        C,
        who,
        vec![Embedding::new(MODEL, v.to_vec()).unwrap()],
        &EnrollOptions::default(),
    )
    .unwrap();
}

fn snapshot_file(db: &Path) -> PathBuf {
    let dir = PathBuf::from(format!("{}.index", db.display()));
    std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|x| x == "hnsw"))
        .expect("a snapshot file")
}

/// Best subject for each probe, checked against an exact scan of the store's templates.
fn answers(e: &Engine, store_db: &Path, key: &MasterKey, probes: &[Vec<f32>]) -> Vec<String> {
    let store = SqliteStore::open(store_db, key.clone()).unwrap();
    let all = store.all_templates(C).unwrap().templates;
    probes
        .iter()
        .map(|p| {
            let probe = FaceEmbedding::stored(Embedding::new(MODEL, p.clone()).unwrap());
            let got = e.identify_embedding(C, &probe, 3, None, None).unwrap();
            let best = &got.candidates[0];
            let (want, score) = all
                .iter()
                .map(|t| {
                    let score =
                        faceprint::embed::dot(probe.embedding.vector(), t.embedding.vector());
                    (&t.subject, score)
                })
                .max_by(|a, b| a.1.total_cmp(&b.1))
                .unwrap();
            assert_eq!(&best.subject, want);
            assert!(
                (best.score - score).abs() < 1e-5,
                "scores come from the stored vectors: {} vs {score}",
                best.score
            );
            best.subject.clone()
        })
        .collect()
}

fn source(e: &Engine) -> IndexSource {
    e.index_status(C).unwrap().source
}

#[test]
fn the_graph_is_restored_with_the_changes_since_and_rebuilt_when_unusable() {
    let db = temp_db("restore");
    let key = MasterKey::generate();
    let mut rng = Rng(0x1234_5678_9abc_def1);
    let people: Vec<Vec<f32>> = (0..1450).map(|_| rng.unit()).collect();
    let probes: Vec<Vec<f32>> = people.iter().step_by(37).map(|v| rng.near(v)).collect();

    // Built when it passes 500 templates, saved when the engine goes.
    let e = engine(&db, &key, config());
    for (i, v) in people.iter().enumerate().take(1200) {
        enroll(&e, &format!("p{i}"), v);
    }
    let status = e.index_status(C).unwrap();
    assert!(status.hnsw);
    assert!(
        matches!(status.source, IndexSource::Built { .. }),
        "{status:?}"
    );
    let before = answers(&e, &db, &key, &probes[..30]);
    drop(e);
    assert!(snapshot_file(&db).exists());

    // Reopened: restored, nothing to apply, the same answers.
    let e = engine(&db, &key, config());
    assert_eq!(
        source(&e),
        IndexSource::Snapshot {
            change_seq: Some(1200),
            added: 0,
            removed: 0
        }
    );
    assert_eq!(e.index_status(C).unwrap().unsaved_changes, 0);
    assert_eq!(answers(&e, &db, &key, &probes[..30]), before);
    drop(e);

    // Another handle (another process) enrolls 250 and deletes 40 without touching the
    // snapshot: the next open applies exactly those changes.
    let snap_before = std::fs::read(snapshot_file(&db)).unwrap();
    {
        let other = engine(
            &db,
            &key,
            IndexConfig {
                snapshots: false,
                ..config()
            },
        );
        for (i, v) in people.iter().enumerate().skip(1200) {
            enroll(&other, &format!("p{i}"), v);
        }
        for i in (0..1200).step_by(30) {
            other.delete_subject(C, &format!("p{i}"), None).unwrap();
        }
    }
    assert_eq!(std::fs::read(snapshot_file(&db)).unwrap(), snap_before);
    let e = engine(&db, &key, config());
    assert_eq!(
        source(&e),
        IndexSource::Snapshot {
            change_seq: Some(1200),
            added: 250,
            removed: 40
        }
    );
    let got = answers(&e, &db, &key, &probes);
    assert!(got.iter().all(|s| {
        let i: usize = s[1..].parse().unwrap();
        i >= 1200 || i % 30 != 0
    }));
    assert_eq!(e.index_status(C).unwrap().unsaved_changes, 290);
    e.save_index_snapshots().unwrap();
    assert_eq!(e.index_status(C).unwrap().unsaved_changes, 0);
    drop(e);
    let e = engine(&db, &key, config());
    assert_eq!(
        source(&e),
        IndexSource::Snapshot {
            change_seq: Some(1490),
            added: 0,
            removed: 0
        }
    );
    drop(e);

    // Unusable snapshots are rebuilt (and re-saved), never trusted.
    let path = snapshot_file(&db);
    let good = std::fs::read(&path).unwrap();
    let rebuilt_because = |bytes: &[u8], index: IndexConfig| -> String {
        std::fs::write(&path, bytes).unwrap();
        let e = engine(&db, &key, index);
        let IndexSource::Built { reason } = source(&e) else {
            panic!("{:?}", source(&e));
        };
        answers(&e, &db, &key, &probes);
        drop(e);
        reason
    };
    let mut flipped = good.clone();
    let mid = flipped.len() / 2;
    flipped[mid] ^= 0x40;
    assert!(rebuilt_because(&flipped, config()).contains("authentication failed"));
    assert!(rebuilt_because(&good[..good.len() - 100], config()).contains("authentication"));
    assert!(rebuilt_because(&good[..20], config()).contains("cut short"));
    assert!(rebuilt_because(b"", config()).contains("not a Faceprint snapshot"));
    let other_m = IndexConfig {
        hnsw: HnswConfig {
            m: 24,
            ..Default::default()
        },
        ..config()
    };
    assert!(rebuilt_because(&good, other_m).contains("m = 16"));
    // The rebuild above saved a good snapshot again.
    let e = engine(&db, &key, other_m);
    assert!(matches!(source(&e), IndexSource::Snapshot { .. }));
    e.delete_subject(C, "p1", None).unwrap();
    std::mem::forget(e); // a crash: the deletion is not in the snapshot

    // A read-only store restores the snapshot with the change since, and saves nothing.
    let before = std::fs::read(snapshot_file(&db)).unwrap();
    let store = SqliteStore::builder(&db, key.clone())
        .read_only(true)
        .open()
        .unwrap();
    let e = Engine::builder()
        .store(Arc::new(store))
        .index(other_m)
        .build()
        .unwrap();
    assert!(matches!(
        source(&e),
        IndexSource::Snapshot {
            removed: 1,
            added: 0,
            ..
        }
    ));
    assert_eq!(e.index_status(C).unwrap().unsaved_changes, 1);
    answers(&e, &db, &key, &probes);
    drop(e);
    assert_eq!(std::fs::read(snapshot_file(&db)).unwrap(), before);
}

#[test]
fn a_snapshot_is_bound_to_its_collection_and_survives_key_rotation() {
    let db = temp_db("bound");
    let key = MasterKey::generate();
    let mut rng = Rng(0x0bad_cafe_f00d_0001);
    let e = engine(&db, &key, config());
    let people: Vec<Vec<f32>> = (0..600).map(|_| rng.unit()).collect();
    for (i, v) in people.iter().enumerate() {
        enroll(&e, &format!("a{i}"), v);
        e.enroll_embeddings(
            "other",
            &format!("b{i}"),
            vec![Embedding::new(MODEL, rng.unit()).unwrap()],
            &EnrollOptions::default(),
        )
        .unwrap();
    }
    drop(e);
    let dir = PathBuf::from(format!("{}.index", db.display()));
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert_eq!(files.len(), 2, "{files:?}");
    // No vector is in the snapshot, and it is sealed: no template id shows in clear either.
    let some_id = SqliteStore::open(&db, key.clone())
        .unwrap()
        .all_templates(C)
        .unwrap()
        .templates[0]
        .id
        .clone();
    for f in &files {
        let bytes = std::fs::read(f).unwrap();
        assert!(!bytes
            .windows(some_id.len())
            .any(|w| w == some_id.as_bytes()));
    }
    // The two collections' snapshots swapped: neither opens as the other's.
    let (a, b) = (
        std::fs::read(&files[0]).unwrap(),
        std::fs::read(&files[1]).unwrap(),
    );
    std::fs::write(&files[0], &b).unwrap();
    std::fs::write(&files[1], &a).unwrap();
    let e = engine(&db, &key, config());
    for c in [C, "other"] {
        let IndexSource::Built { reason } = e.index_status(c).unwrap().source else {
            panic!("{:?}", source(&e))
        };
        assert!(reason.contains("authentication failed"), "{reason}");
    }
    drop(e);

    // Rotation re-wraps the snapshots: the new key restores them, the old opens nothing.
    let new = MasterKey::generate();
    let mut store = SqliteStore::open(&db, key.clone()).unwrap();
    store.rotate_key(new.clone(), |_, _| {}).unwrap();
    drop(store);
    let e = engine(&db, &new, config());
    assert!(
        matches!(source(&e), IndexSource::Snapshot { .. }),
        "{:?}",
        source(&e)
    );
    let probes: Vec<Vec<f32>> = people.iter().step_by(50).map(|v| rng.near(v)).collect();
    answers(&e, &db, &new, &probes);
}
