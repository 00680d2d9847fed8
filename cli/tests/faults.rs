//! Faults from the command line: rotation under a live writer, a full disk, concurrent
//! creators, re-run imports, folder names that are not UTF-8, missing, foreign and read-only
//! stores, and inputs that never end.

mod common;

use faceprint::store::{MasterKey, SqliteStore, TemplateStore};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn temp(name: &str) -> PathBuf {
    common::temp("cli-faults", name)
}

fn faceprint(key: &MasterKey, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_faceprint"))
        .env("FACEPRINT_KEY", key.to_base64())
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn lines(bytes: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(bytes)
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

fn error_code(out: &Output) -> String {
    lines(&out.stderr)
        .iter()
        .find_map(|v| v["error"]["code"].as_str().map(String::from))
        .unwrap_or_else(|| panic!("no error line in {}", String::from_utf8_lossy(&out.stderr)))
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A gallery folder of the first `n` LFW people (symlinked), two images at most each.
fn lfw_gallery(data: &Path, dir: &Path, n: usize) -> PathBuf {
    let gallery = dir.join("gallery");
    std::fs::create_dir_all(&gallery).unwrap();
    let mut people: Vec<PathBuf> = std::fs::read_dir(data.join("lfw/images"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    people.sort();
    for p in people.iter().take(n) {
        let d = gallery.join(p.file_name().unwrap());
        std::fs::create_dir_all(&d).unwrap();
        let mut imgs: Vec<PathBuf> = std::fs::read_dir(p)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        imgs.sort();
        for i in imgs.iter().take(2) {
            std::os::unix::fs::symlink(i, d.join(i.file_name().unwrap())).unwrap();
        }
    }
    gallery
}

/// Every subject opens with `key`, has templates, and the file is consistent.
fn assert_store_sound(db: &Path, key: &MasterKey, collection: &str) -> usize {
    let store = SqliteStore::open(db, key.clone()).unwrap();
    assert_eq!(store.integrity_check().unwrap(), "ok");
    let all = store.all_templates(collection).unwrap();
    assert!(all.damaged.is_empty(), "{:?}", all.damaged);
    let subjects = store.list_subjects(collection, 0, 100_000).unwrap();
    for subject in &subjects {
        assert!(
            subject.templates > 0,
            "{} has no templates",
            subject.external_id
        );
    }
    assert_eq!(
        subjects.iter().map(|s| s.templates).sum::<usize>(),
        all.templates.len()
    );
    all.templates.len()
}

#[test]
fn rotation_under_a_live_engine_loses_nothing() {
    let Some(data) = common::data() else { return };
    let dir = temp("rotate");
    let db = dir.join("faces.db");
    let (k1, k2) = (MasterKey::generate(), MasterKey::generate());
    let train = data.join("dev/faces/train");
    let out = faceprint(&k1, &["enroll", "--db", s(&db), "--from-dir", s(&train)]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // A live engine holds the store open under K1 (as a server would)...
    let engine = faceprint::Engine::builder()
        .store(std::sync::Arc::new(
            SqliteStore::open(&db, k1.clone()).unwrap(),
        ))
        .build()
        .unwrap();
    let photo = engine
        .open(data.join("dev/faces/named/biden_biden.jpg"))
        .unwrap();
    // ...while another process rotates to K2.
    let new_key = dir.join("new.key");
    std::fs::write(&new_key, k2.to_base64()).unwrap();
    let out = faceprint(
        &k1,
        &[
            "keys",
            "rotate",
            "--db",
            s(&db),
            "--new-key-file",
            s(&new_key),
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let e = engine
        .enroll("default", "biden2", &[photo], &Default::default())
        .unwrap_err();
    assert_eq!(e.code(), faceprint::ErrorCode::WrongKey, "{e}");
    assert!(e.to_string().contains("rotated"), "{e}");
    drop(engine);
    // Every subject opens under K2; K1 opens nothing; a second rotation works.
    assert!(assert_store_sound(&db, &k2, "default") > 0);
    let out = faceprint(&k1, &["subjects", "list", "--db", s(&db)]);
    assert_eq!(error_code(&out), "wrong_key");
    let k3 = dir.join("k3.key");
    std::fs::write(&k3, MasterKey::generate().to_base64()).unwrap();
    let out = faceprint(
        &k2,
        &["keys", "rotate", "--db", s(&db), "--new-key-file", s(&k3)],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Rotating a store that does not exist creates nothing.
    let missing = dir.join("missing.db");
    let out = faceprint(
        &k1,
        &[
            "keys",
            "rotate",
            "--db",
            s(&missing),
            "--new-key-file",
            s(&new_key),
        ],
    );
    assert_eq!(error_code(&out), "not_found");
    assert!(!missing.exists());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn read_commands_need_an_existing_faceprint_store() {
    let dir = temp("missing");
    let key = MasterKey::generate();
    let db = dir.join("nothing.db");
    for args in [
        vec!["subjects", "list", "--db", s(&db)],
        vec!["subjects", "export", "--db", s(&db), "alice"],
        vec!["verify", "--db", s(&db), "--subject", "alice", "x.jpg"],
        vec!["identify", "--db", s(&db), "x.jpg"],
    ] {
        let out = faceprint(&key, &args);
        assert_eq!(error_code(&out), "not_found", "{args:?}");
        assert!(!db.exists(), "{args:?} created the store");
    }
    // A SQLite file of someone else's is refused and left untouched.
    let foreign = dir.join("notes.db");
    let status = Command::new("python3")
        .args([
            "-c",
            "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute('create table notes(t)'); c.commit()",
            s(&foreign),
        ])
        .status()
        .unwrap();
    assert!(status.success());
    let before = std::fs::read(&foreign).unwrap();
    let out = faceprint(&key, &["subjects", "list", "--db", s(&foreign)]);
    assert_eq!(error_code(&out), "invalid_argument");
    assert_eq!(std::fs::read(&foreign).unwrap(), before);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_read_only_store_can_be_listed_verified_and_identified() {
    let Some(data) = common::data() else { return };
    let dir = temp("readonly");
    let db = dir.join("faces.db");
    let key = MasterKey::generate();
    let train = data.join("dev/faces/train");
    let out = faceprint(&key, &["enroll", "--db", s(&db), "--from-dir", s(&train)]);
    assert!(out.status.success());
    // Checkpointed and closed: then made immutable (root ignores file modes, not this).
    for ext in ["db-wal", "db-shm"] {
        let _ = std::fs::remove_file(db.with_extension(ext));
    }
    let chattr = Command::new("chattr").args(["+i", s(&db)]).status();
    if !chattr.map(|s| s.success()).unwrap_or(false) {
        eprintln!("SKIPPED: chattr +i is not available on {}", dir.display());
        return;
    }
    let probe = data.join("dev/faces/test/obama1.jpg");
    let list = faceprint(&key, &["subjects", "list", "--db", s(&db)]);
    let id = faceprint(&key, &["identify", "--db", s(&db), s(&probe)]);
    let verify = faceprint(
        &key,
        &["verify", "--db", s(&db), "--subject", "obama", s(&probe)],
    );
    let enroll = faceprint(
        &key,
        &["enroll", "--db", s(&db), "--subject", "x", s(&probe)],
    );
    let _ = Command::new("chattr").args(["-i", s(&db)]).status();
    assert!(
        list.status.success(),
        "{}",
        String::from_utf8_lossy(&list.stderr)
    );
    assert_eq!(lines(&list.stdout).len(), 5);
    assert!(String::from_utf8_lossy(&list.stderr).contains("read_only"));
    assert_eq!(
        lines(&id.stdout)[0]["candidates"][0]["subject"],
        "obama",
        "{}",
        String::from_utf8_lossy(&id.stderr)
    );
    assert_eq!(lines(&verify.stdout)[0]["matched"], true);
    assert_eq!(error_code(&enroll), "storage");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn rerunning_an_import_skips_what_is_enrolled_and_bad_folder_names_never_merge() {
    let Some(data) = common::data() else { return };
    let dir = temp("rerun");
    let db = dir.join("faces.db");
    let key = MasterKey::generate();
    let gallery = dir.join("gallery");
    std::fs::create_dir_all(&gallery).unwrap();
    let photo = |name: &str| data.join("dev/faces/named").join(name);
    // Two folders whose names are different non-UTF-8 bytes: a lossy conversion makes both
    // "caf\u{FFFD}" and merges two people.
    use std::os::unix::ffi::OsStrExt;
    for (name, img) in [
        (&b"caf\xe9"[..], "obama_obama.jpg"),
        (&b"caf\xff"[..], "biden_biden.jpg"),
        (&b"kit"[..], "kit_harington_john1.jpeg"),
    ] {
        let d = gallery.join(std::ffi::OsStr::from_bytes(name));
        std::fs::create_dir_all(&d).unwrap();
        std::fs::copy(photo(img), d.join(img)).unwrap();
    }
    let run = |extra: &[&str]| {
        let mut args = vec!["enroll", "--db", s(&db), "--from-dir", s(&gallery)];
        args.extend_from_slice(extra);
        faceprint(&key, &args)
    };
    let out = run(&[]);
    assert!(!out.status.success(), "bad folder names must fail the run");
    let enrolled = lines(&out.stdout);
    assert_eq!(enrolled.len(), 1);
    assert_eq!(enrolled[0]["subject"], "kit");
    let errors = lines(&out.stderr);
    assert_eq!(
        errors
            .iter()
            .filter(|e| e["error"]["message"]
                .as_str()
                .is_some_and(|m| m.contains("not valid UTF-8")))
            .count(),
        2,
        "{errors:?}"
    );
    let store = SqliteStore::open(&db, key.clone()).unwrap();
    assert_eq!(store.list_subjects("default", 0, 10).unwrap().len(), 1);
    drop(store);
    // A re-run adds nothing twice; --again does.
    let out = run(&[]);
    assert!(lines(&out.stdout).is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).contains("already_enrolled"));
    let out = run(&["--again"]);
    assert_eq!(lines(&out.stdout).len(), 1);
    let store = SqliteStore::open(&db, key).unwrap();
    assert_eq!(store.subject("default", "kit").unwrap().templates, 2);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_full_disk_fails_whole_enrollments_and_a_rerun_completes_the_import() {
    let Some(data) = common::data() else { return };
    let dir = temp("full");
    let db = dir.join("faces.db");
    let key = MasterKey::generate();
    let gallery = lfw_gallery(&data, &dir, 60);
    let enroll = |limit_kb: Option<u64>| {
        // RLIMIT_FSIZE: any write past the limit fails (EFBIG), as on a full disk.
        let ulimit = limit_kb.map_or(String::new(), |k| format!("ulimit -f {k}; trap '' XFSZ; "));
        Command::new("bash")
            .args([
                "-c",
                &format!("{ulimit}exec \"$0\" --threads 2 enroll --db \"$1\" --largest-face --from-dir \"$2\""),
                env!("CARGO_BIN_EXE_faceprint"),
                s(&db),
                s(&gallery),
            ])
            .env("FACEPRINT_KEY", key.to_base64())
            .stdin(Stdio::null())
            .output()
            .unwrap()
    };
    let out = enroll(Some(160));
    let reported = lines(&out.stdout);
    assert!(!out.status.success(), "the limit was never reached");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        lines(&out.stderr)
            .iter()
            .any(|e| e["error"]["code"] == "storage" && e["subject"].is_string()),
        "{stderr}"
    );
    // What was reported is there, nothing is half-written.
    let store = SqliteStore::open(&db, key.clone()).unwrap();
    for r in &reported {
        let t = store
            .templates("default", r["subject"].as_str().unwrap())
            .unwrap();
        assert_eq!(t.len(), r["templates"].as_array().unwrap().len());
    }
    let audit = store.audit(Some("default"), 100_000).unwrap();
    assert_eq!(
        audit.len(),
        store.list_subjects("default", 0, 1000).unwrap().len(),
        "one audit row per enrolled subject"
    );
    drop(store);
    let before = assert_store_sound(&db, &key, "default");
    // With room again, the same command finishes the import without doubling anything.
    let out = enroll(None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let after = assert_store_sound(&db, &key, "default");
    let store = SqliteStore::open(&db, key).unwrap();
    let subjects = store.list_subjects("default", 0, 1000).unwrap();
    assert_eq!(subjects.len(), 60);
    assert!(after > before);
    for subject in subjects {
        let sources: Vec<String> = store
            .templates("default", &subject.external_id)
            .unwrap()
            .into_iter()
            .filter_map(|t| t.source)
            .collect();
        let mut unique = sources.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(
            unique.len(),
            sources.len(),
            "{}: {sources:?}",
            subject.external_id
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn concurrent_processes_creating_one_store_agree_on_one_key() {
    let Some(data) = common::data() else { return };
    let photo = data.join("dev/faces/named/kit_harington_john1.jpeg");
    for trial in 0..3 {
        let dir = temp(&format!("create-{trial}"));
        let db = dir.join("faces.db");
        let keys: Vec<MasterKey> = (0..4).map(|_| MasterKey::generate()).collect();
        let children: Vec<_> = keys
            .iter()
            .enumerate()
            .map(|(i, k)| {
                Command::new(env!("CARGO_BIN_EXE_faceprint"))
                    .env("FACEPRINT_KEY", k.to_base64())
                    .args([
                        "enroll",
                        "--db",
                        s(&db),
                        "--subject",
                        &format!("p{i}"),
                        s(&photo),
                    ])
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        let outs: Vec<Output> = children
            .into_iter()
            .map(|c| c.wait_with_output().unwrap())
            .collect();
        let winners: Vec<usize> = (0..outs.len())
            .filter(|&i| outs[i].status.success())
            .collect();
        assert_eq!(winners.len(), 1, "trial {trial}");
        for (i, out) in outs
            .iter()
            .enumerate()
            .filter(|(i, _)| !winners.contains(i))
        {
            assert_eq!(error_code(out), "wrong_key", "trial {trial} process {i}");
        }
        assert_eq!(assert_store_sound(&db, &keys[winners[0]], "default"), 1);
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[test]
fn endless_and_special_files_are_refused_without_reading_them() {
    let key = MasterKey::generate();
    let dir = temp("special");
    let fifo = dir.join("fifo");
    assert!(Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    let started = std::time::Instant::now();
    for args in [
        vec!["detect", "/dev/zero"],
        vec!["detect", s(&fifo)],
        vec!["quality", "--profile-file", "/dev/zero", "x.jpg"],
        vec![
            "subjects",
            "list",
            "--db",
            "/dev/null",
            "--key-file",
            s(&fifo),
        ],
        vec![
            "keys",
            "rotate",
            "--db",
            "x.db",
            "--new-key-file",
            "/dev/zero",
        ],
    ] {
        let out = faceprint(&key, &args);
        assert!(!out.status.success(), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("not a regular file"), "{args:?}: {err}");
    }
    assert!(started.elapsed().as_secs() < 60, "something blocked");
    for n in ["0", "100000"] {
        let out = faceprint(&key, &["--threads", n, "detect", "x.jpg"]);
        assert_eq!(out.status.code(), Some(2), "--threads {n}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("1..=256"));
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn rotations_killed_at_random_moments_resume_and_lose_nothing() {
    let dir = temp("rotate-kill");
    let db = dir.join("faces.db");
    let keys: Vec<MasterKey> = (0..2).map(|_| MasterKey::generate()).collect();
    let key_files: Vec<PathBuf> = keys
        .iter()
        .enumerate()
        .map(|(i, k)| {
            let f = dir.join(format!("k{i}.key"));
            std::fs::write(&f, k.to_base64()).unwrap();
            f
        })
        .collect();
    // 3,000 subjects (six rotation batches), each with a template.
    {
        let store = SqliteStore::open(&db, keys[0].clone()).unwrap();
        store.ensure_collection("c", "m", 4).unwrap();
        let audit = faceprint::store::AuditEvent {
            at: 0,
            action: faceprint::store::AuditAction::Enroll,
            collection: Some("c".into()),
            subject: None,
            outcome: "ok".into(),
            score: None,
            latency_ms: None,
            actor: None,
        };
        for i in 0..3000 {
            let t = [faceprint::store::NewTemplate {
                embedding: faceprint::Embedding::new("m", vec![1.0, i as f32, 2.0, 3.0]).unwrap(),
                model_version: "1".into(),
                quality: None,
                source: None,
            }];
            let id = format!("s{i:05}");
            store
                .enroll(&faceprint::store::Enrollment {
                    collection: "c",
                    external_id: &id,
                    display_name: None,
                    metadata: None,
                    templates: &t,
                    audit: &audit,
                })
                .unwrap();
        }
    }
    let rotate = |from: usize, to: usize| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_faceprint"));
        c.args([
            "keys",
            "rotate",
            "--db",
            s(&db),
            "--key-file",
            s(&key_files[from]),
        ])
        .args(["--new-key-file", s(&key_files[to])])
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
        c
    };
    let mut current = 0;
    let mut interrupted = 0;
    for trial in 0..8 {
        let next = 1 - current;
        let mut child = rotate(current, next).spawn().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(common::random_below(120)));
        let finished = child.try_wait().unwrap().is_some();
        let _ = child.kill();
        let _ = child.wait();
        if !finished {
            interrupted += 1;
        }
        // The same command finishes the job, whatever moment the kill hit.
        let out = rotate(current, next).output().unwrap();
        assert!(
            out.status.success(),
            "trial {trial}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        current = next;
        assert_eq!(
            assert_store_sound(&db, &keys[current], "c"),
            3000,
            "trial {trial}"
        );
        assert_eq!(
            SqliteStore::open(&db, keys[1 - current].clone())
                .err()
                .map(|e| e.code()),
            Some(faceprint::ErrorCode::WrongKey),
            "trial {trial}: the old key must be retired"
        );
    }
    eprintln!("{interrupted} of 8 rotations were killed mid-way");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn concurrent_writer_processes_all_land_and_the_index_agrees() {
    let Some(data) = common::data() else { return };
    let dir = temp("writers");
    let db = dir.join("faces.db");
    let key = MasterKey::generate();
    let gallery = lfw_gallery(&data, &dir, 40);
    // Four disjoint parts of the gallery, imported by four processes at once.
    let parts: Vec<PathBuf> = (0..4)
        .map(|i| {
            let p = dir.join(format!("part{i}"));
            std::fs::create_dir_all(&p).unwrap();
            p
        })
        .collect();
    let mut people: Vec<PathBuf> = std::fs::read_dir(&gallery)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    people.sort();
    for (i, p) in people.iter().enumerate() {
        std::fs::rename(p, parts[i % 4].join(p.file_name().unwrap())).unwrap();
    }
    let children: Vec<_> = parts
        .iter()
        .map(|p| {
            Command::new(env!("CARGO_BIN_EXE_faceprint"))
                .env("FACEPRINT_KEY", key.to_base64())
                .args([
                    "--threads",
                    "1",
                    "enroll",
                    "--db",
                    s(&db),
                    "--largest-face",
                    "--from-dir",
                    s(p),
                ])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut reported = Vec::new();
    for c in children {
        let out = c.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        reported.extend(lines(&out.stdout));
    }
    assert_eq!(reported.len(), 40);
    assert_store_sound(&db, &key, "default");
    // The index built from the store agrees with it: each subject's own photo finds it first.
    let engine = faceprint::Engine::builder()
        .store(std::sync::Arc::new(SqliteStore::open(&db, key).unwrap()))
        .build()
        .unwrap();
    for part in &parts {
        for person in std::fs::read_dir(part).unwrap().map(|e| e.unwrap().path()) {
            let photo = std::fs::read_dir(&person)
                .unwrap()
                .map(|e| e.unwrap().path())
                .min()
                .unwrap();
            let id = engine
                .identify("default", &engine.open(&photo).unwrap(), 1, None, None)
                .unwrap();
            assert_eq!(
                id.candidates[0].subject,
                person.file_name().unwrap().to_str().unwrap(),
                "{}",
                photo.display()
            );
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A small tmpfs, unmounted when dropped.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(at: &Path, size: &str) -> Option<Tmpfs> {
        std::fs::create_dir_all(at).unwrap();
        let ok = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size}"),
                "faceprint-test",
                s(at),
            ])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|st| st.success());
        ok.then(|| Tmpfs(at.to_path_buf()))
    }

    fn resize(&self, size: &str) {
        let st = Command::new("mount")
            .args(["-o", &format!("remount,size={size}"), s(&self.0)])
            .status()
            .unwrap();
        assert!(st.success());
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

#[test]
fn a_really_full_filesystem_loses_nothing_and_the_import_finishes_after() {
    let Some(data) = common::data() else { return };
    let dir = temp("tmpfs");
    let gallery = lfw_gallery(&data, &dir, 60);
    let Some(fs) = Tmpfs::mount(&dir.join("mnt"), "200k") else {
        eprintln!("SKIPPED: cannot mount a tmpfs here (the RLIMIT_FSIZE test covers full disks)");
        return;
    };
    let db = fs.0.join("faces.db");
    let key = MasterKey::generate();
    let args = [
        "--threads",
        "2",
        "enroll",
        "--db",
        s(&db),
        "--largest-face",
        "--from-dir",
        s(&gallery),
    ];
    let out = faceprint(&key, &args);
    assert!(!out.status.success(), "200 KiB did not fill up");
    assert!(
        lines(&out.stderr)
            .iter()
            .any(|e| e["error"]["code"] == "storage" && e["subject"].is_string()),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let reported = lines(&out.stdout);
    fs.resize("64m");
    let store = SqliteStore::open(&db, key.clone()).unwrap();
    for r in &reported {
        let t = store
            .templates("default", r["subject"].as_str().unwrap())
            .unwrap();
        assert_eq!(t.len(), r["templates"].as_array().unwrap().len());
    }
    drop(store);
    assert_store_sound(&db, &key, "default");
    let out = faceprint(&key, &args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_store_sound(&db, &key, "default");
    let store = SqliteStore::open(&db, key).unwrap();
    assert_eq!(store.list_subjects("default", 0, 1000).unwrap().len(), 60);
    drop(store);
    drop(fs);
    let _ = std::fs::remove_dir_all(&dir);
}
