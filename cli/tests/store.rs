//! Store commands end to end, and crash safety: a bulk enroll killed with SIGKILL at a random
//! moment loses nothing it reported as done.

mod common;

use faceprint::store::{MasterKey, SqliteStore, TemplateStore};
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};

fn shared() -> Option<PathBuf> {
    let d = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/data");
    if d.is_dir() {
        Some(d)
    } else {
        eprintln!("SKIPPED: test data not found at {}", d.display());
        None
    }
}

fn temp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("faceprint-cli-store-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn faceprint(key: &MasterKey) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_faceprint"));
    c.env("FACEPRINT_KEY", key.to_base64());
    c
}

fn json(bytes: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(bytes)
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

#[test]
fn enroll_identify_verify_and_wrong_key_from_the_command_line() {
    let Some(data) = shared() else { return };
    let dir = temp("flow");
    let db = dir.join("faces.db");
    let key = MasterKey::generate();
    let train = data.join("dev/faces/train");
    let out = faceprint(&key)
        .args([
            "enroll",
            "--db",
            db.to_str().unwrap(),
            "--collection",
            "staff",
            "--from-dir",
            train.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(json(&out.stdout).len(), 5, "one line per enrolled subject");
    let probe = data.join("dev/faces/test/obama1.jpg");
    let out = faceprint(&key)
        .args([
            "identify",
            "--db",
            db.to_str().unwrap(),
            "--collection",
            "staff",
            "--top",
            "2",
            probe.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    let v = &json(&out.stdout)[0];
    assert_eq!(v["candidates"][0]["subject"], "obama");
    assert_eq!(v["candidates"][0]["matched"], true);
    assert_eq!(v["candidates"].as_array().unwrap().len(), 2);
    let out = faceprint(&key)
        .args([
            "verify",
            "--db",
            db.to_str().unwrap(),
            "--collection",
            "staff",
            "--subject",
            "biden",
            probe.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(json(&out.stdout)[0]["matched"], false);
    let out = faceprint(&MasterKey::generate())
        .args([
            "subjects",
            "list",
            "--db",
            db.to_str().unwrap(),
            "--collection",
            "staff",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert_eq!(json(&out.stderr)[0]["error"]["code"], "wrong_key");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_bulk_enroll_killed_at_a_random_moment_loses_nothing_it_reported() {
    let Some(data) = shared() else { return };
    let dir = temp("crash");
    // A gallery of the first 400 LFW people, linked rather than copied.
    let gallery = dir.join("gallery");
    std::fs::create_dir_all(&gallery).unwrap();
    let lfw = data.join("lfw/images");
    let mut people: Vec<PathBuf> = std::fs::read_dir(&lfw)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    people.sort();
    for p in people.iter().take(400) {
        std::os::unix::fs::symlink(p, gallery.join(p.file_name().unwrap())).unwrap();
    }
    let db = dir.join("faces.db");
    let key = MasterKey::generate();
    let mut child = faceprint(&key)
        .args([
            "--threads",
            "2",
            "enroll",
            "--db",
            db.to_str().unwrap(),
            "--collection",
            "lfw",
        ])
        .args(["--largest-face", "--from-dir", gallery.to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<Value>();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Ok(v) = serde_json::from_str::<Value>(&line) {
                let _ = tx.send(v);
            }
        }
    });
    // Wait for the first committed enrollment, then kill at a random moment after it.
    let first = rx
        .recv_timeout(std::time::Duration::from_secs(120))
        .expect("no enrollment within 2 minutes");
    let delay = common::random_below(3000);
    std::thread::sleep(std::time::Duration::from_millis(delay));
    let status_before = child.try_wait().unwrap();
    unsafe_kill(child.id());
    let _ = child.wait();
    reader.join().unwrap();
    let mut reported: Vec<Value> = vec![first];
    reported.extend(rx.try_iter());
    assert!(
        status_before.is_none(),
        "the enroll finished before the kill ({delay} ms); gallery too small"
    );
    eprintln!(
        "killed after {delay} ms with {} subjects reported",
        reported.len()
    );

    // Reopen: every reported enrollment is there and decrypts; the file is consistent.
    let store = SqliteStore::open(&db, key.clone()).unwrap();
    assert_eq!(store.integrity_check().unwrap(), "ok");
    for r in &reported {
        let subject = r["subject"].as_str().unwrap();
        let ids: Vec<&str> = r["templates"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t.as_str().unwrap())
            .collect();
        let stored = store
            .templates("lfw", subject)
            .unwrap_or_else(|e| panic!("{subject}: {e}"));
        for id in &ids {
            assert!(
                stored.iter().any(|t| t.id == *id),
                "{subject}: template {id} lost"
            );
        }
    }
    // The index rebuilt from the store agrees with it: each stored subject's own template
    // finds that subject first.
    let all = store.all_templates("lfw").unwrap();
    assert!(all.damaged.is_empty(), "{:?}", all.damaged);
    let all = all.templates;
    let subjects = store.list_subjects("lfw", 0, 10_000).unwrap();
    assert!(subjects.len() >= reported.len());
    // Enrollment is one transaction: the kill leaves no subject without its templates, and
    // nothing reported is missing (at most the enrollment in flight, unreported, is extra).
    for s in &subjects {
        assert!(
            s.templates > 0,
            "{} was left with no templates",
            s.external_id
        );
    }
    assert!(subjects.len() <= reported.len() + 1);
    assert_eq!(
        subjects.iter().map(|s| s.templates).sum::<usize>(),
        all.len()
    );
    let engine = faceprint::Engine::builder()
        .store(std::sync::Arc::new(store))
        .build()
        .unwrap();
    for r in reported.iter().take(10) {
        let subject = r["subject"].as_str().unwrap();
        let image = std::fs::read_dir(gallery.join(subject))
            .unwrap()
            .map(|e| e.unwrap().path())
            .min()
            .unwrap();
        let id = engine
            .identify("lfw", &engine.open(&image).unwrap(), 1, None, None)
            .unwrap();
        assert_eq!(id.candidates[0].subject, subject, "{}", image.display());
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// SIGKILL: no chance to flush, unwind or clean up.
fn unsafe_kill(pid: u32) {
    let status = Command::new("kill")
        .args(["-9", &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}
