//! The saved search index under SIGKILL: `faceprint` processes killed while they write the HNSW
//! snapshot and while they enroll, and after each kill the next open answers every probe as an
//! exact scan over the store does (same best subject, same score), never returning a deleted
//! subject.

mod common;

use faceprint::index::{FlatIndex, VectorIndex};
use faceprint::store::{
    AuditAction, AuditEvent, Enrollment, MasterKey, NewTemplate, SqliteStore, TemplateStore,
};
use faceprint::Embedding;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const MODEL: &str = "omz-reid-0095";
const DIM: usize = 256;
const COLLECTION: &str = "staff";
/// Large enough that building and saving the graph take a moment to kill into.
const SUBJECTS: usize = 20_000;
/// Collections of this many templates use HNSW in these runs.
const HNSW_MIN: &str = "1000";

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        ((self.0 >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }

    fn unit(&mut self) -> Vec<f32> {
        let v: Vec<f32> = (0..DIM)
            .map(|_| {
                ((-2.0 * self.next().ln()).sqrt() * (std::f64::consts::TAU * self.next()).cos())
                    as f32
            })
            .collect();
        normalised(v)
    }

    /// `v` moved by noise, as another photo of the same face would be (cosine about 0.9).
    fn near(&mut self, v: &[f32]) -> Vec<f32> {
        let noise = self.unit();
        normalised(v.iter().zip(noise).map(|(a, b)| a + 0.45 * b).collect())
    }
}

fn normalised(v: Vec<f32>) -> Vec<f32> {
    let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    v.into_iter().map(|x| x / n).collect()
}

fn subject(i: usize) -> String {
    format!("person{i:05}")
}

fn write_embedding(path: &Path, v: &[f32]) {
    std::fs::write(
        path,
        serde_json::json!({"embedding": v, "model": MODEL}).to_string(),
    )
    .unwrap();
}

fn faceprint(key: &MasterKey, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_faceprint"));
    c.env("FACEPRINT_KEY", key.to_base64())
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    c
}

/// `faceprint VERB... --db DB --collection staff --hnsw-min-templates 1000 REST...`
fn on_store(key: &MasterKey, db: &Path, verb: &[&str], rest: &[&str]) -> Command {
    let mut args = verb.to_vec();
    let db = db.to_str().unwrap();
    args.extend([
        "--db",
        db,
        "--collection",
        COLLECTION,
        "--hnsw-min-templates",
        HNSW_MIN,
    ]);
    args.extend(rest);
    faceprint(key, &args)
}

/// Runs `cmd` and SIGKILLs it after a random moment of up to 1.5 s.
fn kill_at_random(mut cmd: Command) {
    let mut child = cmd.spawn().unwrap();
    std::thread::sleep(Duration::from_millis(common::random_below(1500)));
    let _ = child.kill();
    child.wait().unwrap();
}

fn log_messages(out: &Output) -> Vec<String> {
    String::from_utf8_lossy(&out.stderr)
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter_map(|v| v["log"]["message"].as_str().map(String::from))
        .collect()
}

fn snapshot_dir(db: &Path) -> PathBuf {
    PathBuf::from(format!("{}.index", db.display()))
}

/// (final snapshot files, temporary files) in the snapshot folder.
fn snapshot_files(db: &Path) -> (usize, usize) {
    let Ok(entries) = std::fs::read_dir(snapshot_dir(db)) else {
        return (0, 0);
    };
    let names: Vec<String> = entries
        .flatten()
        .map(|e| e.file_name().to_string_lossy().to_string())
        .collect();
    let tmp = names.iter().filter(|n| n.contains(".tmp.")).count();
    (names.len() - tmp, tmp)
}

/// Starts `cmd` and SIGKILLs it as soon as a temporary snapshot file appears (that is, while the
/// snapshot is being written), or after `at_most`. Returns whether it was killed mid-snapshot.
fn kill_mid_snapshot(mut cmd: Command, db: &Path, at_most: Duration) -> bool {
    let (_, tmp_before) = snapshot_files(db);
    let mut child = cmd.spawn().unwrap();
    let started = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            return false;
        }
        if snapshot_files(db).1 > tmp_before {
            child.kill().unwrap();
            child.wait().unwrap();
            return true;
        }
        if started.elapsed() > at_most {
            child.kill().unwrap();
            child.wait().unwrap();
            return false;
        }
    }
}

struct Probe {
    file: PathBuf,
    vector: Vec<f32>,
}

/// Every probe through `faceprint identify` (one process each, as a user would run it) against
/// the exact scan over what the store holds now.
fn assert_answers_match_exact_scan(db: &Path, key: &MasterKey, probes: &[Probe]) -> Vec<String> {
    let store = SqliteStore::open(db, key.clone()).unwrap();
    let all = store.all_templates(COLLECTION).unwrap();
    assert!(all.damaged.is_empty(), "{:?}", all.damaged);
    assert_eq!(store.integrity_check().unwrap(), "ok");
    let mut exact = FlatIndex::new(DIM);
    for (i, t) in all.templates.iter().enumerate() {
        exact.insert(i as u64, t.embedding.vector()).unwrap();
    }
    drop(store);
    let mut logs = Vec::new();
    for p in probes {
        let out = on_store(
            key,
            db,
            &["identify"],
            &["--embedding", p.file.to_str().unwrap()],
        )
        .output()
        .unwrap();
        let answer = common::ok_lines(&out).remove(0);
        logs.extend(log_messages(&out));
        let best = &answer["candidates"][0];
        let hit = exact.search(&p.vector, 1).unwrap()[0];
        let want = &all.templates[hit.key as usize];
        // A probe of an enrolled person must find that person with the exact score; one of
        // nobody enrolled (a newcomer not yet in, a deleted person) only gets noise, where an
        // approximate index may order the near-ties differently.
        if hit.score > 0.5 {
            assert_eq!(
                best["subject"].as_str(),
                Some(want.subject.as_str()),
                "{answer}"
            );
            let score = best["score"].as_f64().unwrap();
            assert!(
                (score - hit.score as f64).abs() < 1e-4,
                "{score} vs {}",
                hit.score
            );
        } else {
            assert!(best["score"].as_f64().unwrap() < 0.5, "{answer}");
        }
        // Every candidate is a stored subject with its stored score.
        for c in answer["candidates"].as_array().unwrap() {
            let s = c["subject"].as_str().unwrap();
            let stored = all
                .templates
                .iter()
                .filter(|t| t.subject == s)
                .map(|t| faceprint::embed::dot(&p.vector, t.embedding.vector()))
                .fold(f32::NEG_INFINITY, f32::max);
            assert!(
                (c["score"].as_f64().unwrap() - stored as f64).abs() < 1e-4,
                "{s} is not in the store with that score: {answer}"
            );
        }
    }
    logs
}

#[test]
fn killed_mid_snapshot_and_mid_enroll_the_next_open_answers_as_the_exact_scan() {
    let dir = common::temp("cli-index", "kill");
    let db = dir.join("faces.db");
    let key = MasterKey::generate();
    let mut rng = Rng(0x5eed_1234_abcd_0001 ^ common::random_below(1 << 40));

    // The store, written through the library: SUBJECTS people with one template each.
    let gallery: Vec<Vec<f32>> = (0..SUBJECTS).map(|_| rng.unit()).collect();
    {
        let store = SqliteStore::open(&db, key.clone()).unwrap();
        store.ensure_collection(COLLECTION, MODEL, DIM).unwrap();
        let audit = AuditEvent::ok(AuditAction::Enroll, COLLECTION, None);
        for (i, v) in gallery.iter().enumerate() {
            store
                .enroll(&Enrollment {
                    collection: COLLECTION,
                    external_id: &subject(i),
                    display_name: None,
                    metadata: None,
                    templates: &[NewTemplate {
                        embedding: Embedding::new(MODEL, v.clone()).unwrap(),
                        model_version: "test".into(),
                        quality: None,
                        source: None,
                    }],
                    audit: &audit,
                })
                .unwrap();
        }
    }
    // Probes: near stored people, near people enrolled below, near people deleted below.
    let newcomers: Vec<Vec<f32>> = (0..6).map(|_| rng.unit()).collect();
    let mut probes = Vec::new();
    let mut probe = |v: &[f32], rng: &mut Rng| {
        let vector = rng.near(v);
        let file = dir.join(format!("probe{}.json", probes.len()));
        write_embedding(&file, &vector);
        probes.push(Probe { file, vector });
    };
    for i in [0, 7, 4321, 9999, 15000, SUBJECTS - 1] {
        probe(&gallery[i], &mut rng);
    }
    for v in &newcomers {
        probe(v, &mut rng);
    }
    let identify = |probe: &Probe| {
        on_store(
            &key,
            &db,
            &["identify"],
            &["--embedding", probe.file.to_str().unwrap()],
        )
    };
    let enroll = |n: usize| {
        let file = dir.join(format!("new{n}.json"));
        write_embedding(&file, &newcomers[n]);
        let id = format!("newcomer{n}");
        on_store(
            &key,
            &db,
            &["enroll"],
            &["--subject", &id, "--embedding", file.to_str().unwrap()],
        )
    };
    let delete = |i: usize| on_store(&key, &db, &["subjects", "delete"], &[&subject(i)]);

    // 1. Killed while writing the first snapshot (after building the graph): no snapshot
    // file is left but a torn temporary one, and the next open rebuilds and answers right.
    let mut caught = false;
    for _ in 0..8 {
        let _ = std::fs::remove_dir_all(snapshot_dir(&db));
        if kill_mid_snapshot(identify(&probes[0]), &db, Duration::from_secs(120)) {
            caught = true;
            assert_eq!(snapshot_files(&db), (0, 1), "only the torn temporary file");
            break;
        }
    }
    assert!(caught, "never caught a process writing its snapshot");
    let logs = assert_answers_match_exact_scan(&db, &key, &probes);
    for said in [
        "building the search index",
        "snapshot saved",
        "restored from its snapshot",
    ] {
        assert!(
            logs.iter().any(|l| l.contains(said)),
            "{said:?} not in {logs:?}"
        );
    }
    assert_eq!(
        snapshot_files(&db),
        (1, 0),
        "the orphan was removed by a later save"
    );

    // 2. Enrollments and deletions killed at random moments: before, during or after their
    // commit, or while they write the snapshot at exit. A valid older snapshot stays.
    for n in 0..newcomers.len() {
        if n % 2 == 0 {
            kill_mid_snapshot(enroll(n), &db, Duration::from_secs(60));
        } else {
            kill_at_random(enroll(n));
        }
    }
    for i in [7, 9999] {
        kill_at_random(delete(i));
    }
    assert_answers_match_exact_scan(&db, &key, &probes);

    // 3. The same enrollments and deletions run to completion: the snapshot follows them.
    for n in 0..newcomers.len() {
        let enrolled = SqliteStore::open(&db, key.clone())
            .unwrap()
            .subject(COLLECTION, &format!("newcomer{n}"))
            .is_ok();
        if !enrolled {
            let out = enroll(n).output().unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
    for i in [7, 9999] {
        // Already deleted by a killed run, or deleted now.
        delete(i).output().unwrap();
    }
    let logs = assert_answers_match_exact_scan(&db, &key, &probes);
    assert!(
        logs.iter().all(|l| !l.contains("building")),
        "no rebuild once a snapshot exists: {logs:?}"
    );
    let answer: Value =
        serde_json::from_slice(&identify(&probes[1]).output().unwrap().stdout).unwrap();
    assert_ne!(
        answer["candidates"][0]["subject"], "person00007",
        "deleted: {answer}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
