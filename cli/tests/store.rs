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
    store_flow(&data, dir.join("faces.db").to_str().unwrap());
    let _ = std::fs::remove_dir_all(&dir);
}

/// A database of its own on the test PostgreSQL (`FACEPRINT_TEST_PG`), made afresh: its URL.
fn pg_database(name: &str) -> Option<String> {
    let Ok(server) = std::env::var("FACEPRINT_TEST_PG") else {
        eprintln!(
            "SKIPPED: FACEPRINT_TEST_PG is not set (tests/postgres.sh start DIR prints a URL)"
        );
        return None;
    };
    let db = format!("{name}_{}", std::process::id());
    let mut c = postgres::Client::connect(&server, postgres::NoTls).unwrap();
    // One statement per call: neither may run inside a transaction block.
    c.batch_execute(&format!("DROP DATABASE IF EXISTS {db}"))
        .unwrap();
    c.batch_execute(&format!("CREATE DATABASE {db}")).unwrap();
    let (base, _) = server.rsplit_once('/').unwrap();
    Some(format!("{base}/{db}"))
}

#[test]
fn the_store_commands_work_on_postgres_and_its_key_rotates() {
    let Some(data) = shared() else { return };
    let Some(url) = pg_database("faceprint_cli") else {
        return;
    };
    let dir = temp("pg");
    let key = store_flow(&data, &url);
    let new = MasterKey::generate();
    let new_file = dir.join("new.key");
    std::fs::write(&new_file, new.to_base64()).unwrap();
    let out = faceprint(&key)
        .args(["keys", "rotate", "--db", &url, "--new-key-file"])
        .arg(&new_file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(json(&out.stdout)[0]["rewrapped"], 5);
    let list = |k: &MasterKey| {
        faceprint(k)
            .args(["subjects", "list", "--db", &url, "--collection", "staff"])
            .output()
            .unwrap()
    };
    let out = list(&new);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(json(&out.stdout).len(), 5);
    assert_eq!(json(&list(&key).stderr)[0]["error"]["code"], "wrong_key");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Enroll a gallery into `db` (a file or a PostgreSQL URL), identify, verify, and refuse a
/// wrong key: the store's key.
fn store_flow(data: &std::path::Path, db: &str) -> MasterKey {
    let key = MasterKey::generate();
    let train = data.join("dev/faces/train");
    let out = faceprint(&key)
        .args([
            "enroll",
            "--db",
            db,
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
            db,
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
            db,
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
        .args(["subjects", "list", "--db", db, "--collection", "staff"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert_eq!(json(&out.stderr)[0]["error"]["code"], "wrong_key");
    key
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

#[test]
fn every_face_a_face_crop_and_a_stored_embedding_identify_from_the_command_line() {
    let Some(data) = shared() else { return };
    let dir = temp("probes");
    let db = dir.join("faces.db");
    let db = db.to_str().unwrap();
    let key = MasterKey::generate();
    let dev = |f: &str| data.join("dev").join(f).to_string_lossy().to_string();
    let run = |args: &[&str]| {
        let out = faceprint(&key).args(args).output().unwrap();
        (out.status.code(), json(&out.stdout), json(&out.stderr))
    };
    let train = dev("faces/train");
    let (code, _, err) = run(&[
        "enroll",
        "--db",
        db,
        "--collection",
        "c",
        "--from-dir",
        &train,
    ]);
    assert_eq!(code, Some(0), "{err:?}");
    let (code, _, err) = run(&[
        "enroll",
        "--db",
        db,
        "--collection",
        "c",
        "--subject",
        "biden",
        &dev("faces/named/biden_biden.jpg"),
    ]);
    assert_eq!(code, Some(0), "{err:?}");

    // Every face of a group photo, each with its box: Obama and Biden are both named.
    let group = dev("hard/multi_face/fr_obama_and_biden.jpg");
    let (code, out, err) = run(&[
        "identify",
        "--db",
        db,
        "--collection",
        "c",
        "--all-faces",
        &group,
    ]);
    assert_eq!(code, Some(0), "{err:?}");
    let faces = out[0]["faces"].as_array().unwrap();
    assert_eq!(faces.len(), 3);
    let named: Vec<&str> = faces
        .iter()
        .filter_map(|f| {
            let best = &f["candidates"][0];
            (best["matched"] == true).then(|| best["subject"].as_str().unwrap())
        })
        .collect();
    assert!(
        named.contains(&"obama") && named.contains(&"biden"),
        "{named:?}"
    );
    assert!(faces
        .iter()
        .all(|f| f["face"]["box"].as_array().unwrap().len() == 4));
    let (_, out, _) = run(&[
        "verify",
        "--db",
        db,
        "--collection",
        "c",
        "--subject",
        "obama",
        "--all-faces",
        &group,
    ]);
    assert_eq!(out[0]["matched"], true);
    assert_eq!(
        out[0]["faces"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["matched"] == true)
            .count(),
        1
    );

    // A stored embedding (a `faceprint embed` line) identifies, verifies and enrolls.
    let probe = dev("faces/test/obama1.jpg");
    let embedded = faceprint(&key).args(["embed", &probe]).output().unwrap();
    let file = dir.join("obama.json");
    std::fs::write(&file, &embedded.stdout).unwrap();
    let file = file.to_str().unwrap();
    let (code, out, err) = run(&[
        "identify",
        "--db",
        db,
        "--collection",
        "c",
        "--embedding",
        file,
    ]);
    assert_eq!(code, Some(0), "{err:?}");
    assert_eq!(out[0]["candidates"][0]["subject"], "obama");
    assert_eq!(out[0]["face"], Value::Null);
    let (_, out, _) = run(&[
        "verify",
        "--db",
        db,
        "--collection",
        "c",
        "--subject",
        "obama",
        "--embedding",
        file,
    ]);
    assert_eq!(out[0]["matched"], true);
    let (code, out, err) = run(&[
        "enroll",
        "--db",
        db,
        "--collection",
        "c",
        "--subject",
        "obama2",
        "--embedding",
        file,
    ]);
    assert_eq!(code, Some(0), "{err:?}");
    assert_eq!(out[0]["warnings"][0]["other_subject"], "obama");

    // A tight grey crop without detection.
    let crop_file = dir.join("crop.png");
    {
        let e = faceprint::Engine::builder().build().unwrap();
        let img = e.open(&probe).unwrap();
        let face = e.extract_largest(&img).unwrap().face;
        let crop = img.cropped(&face.bbox).to_grey();
        image::RgbImage::from_raw(crop.width(), crop.height(), crop.as_rgb().to_vec())
            .unwrap()
            .save(&crop_file)
            .unwrap();
    }
    let (code, out, err) = run(&[
        "identify",
        "--db",
        db,
        "--collection",
        "c",
        "--face-crop",
        crop_file.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(0), "{err:?}");
    // obama2 holds the uncropped photo's own embedding now.
    let best = out[0]["candidates"][0]["subject"].as_str().unwrap();
    assert!(best == "obama2" || best == "obama", "{out:?}");

    // Bad embeddings: wrong length, not numbers, another model's, several faces.
    let bad = dir.join("bad.json");
    for (text, code) in [
        ("[1, 2, 3]", "invalid_embedding"),
        ("{\"embedding\": [\"a\"]}", "invalid_embedding"),
        (
            "{\"embedding\": [1], \"model\": \"dlib-resnet-v1\"}",
            "model_mismatch",
        ),
        ("{\"faces\": [{}, {}]}", "invalid_embedding"),
        ("not json", "invalid_embedding"),
    ] {
        std::fs::write(&bad, text).unwrap();
        let (status, _, err) = run(&[
            "identify",
            "--db",
            db,
            "--collection",
            "c",
            "--embedding",
            bad.to_str().unwrap(),
        ]);
        assert_eq!(status, Some(1), "{text}");
        assert_eq!(err[0]["error"]["code"], code, "{text}: {err:?}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
