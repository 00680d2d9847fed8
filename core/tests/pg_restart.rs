//! The PostgreSQL store when its server is killed (SIGKILL) in the middle of enrollments and
//! started again: no acknowledged template is lost, the failed calls are errors (never a
//! hang or a panic), and the same store handle carries on after the restart without being
//! opened again. Runs its own PostgreSQL through tests/postgres.sh (./setup.sh installs it).
#![cfg(feature = "postgres")]

use faceprint::store::{
    AuditAction, AuditEvent, Enrollment, MasterKey, NewTemplate, PgStore, TemplateStore,
};
use faceprint::Embedding;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/postgres.sh")
}

fn pg(cmd: &str, dir: &Path) -> String {
    let out = Command::new("bash")
        .arg(script())
        .arg(cmd)
        .arg(dir)
        .output()
        .expect("tests/postgres.sh");
    assert!(
        out.status.success(),
        "postgres.sh {cmd}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// A directory removed at the end, the server in it stopped first (a failed test too).
struct TempDir(PathBuf);

impl TempDir {
    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .arg(script())
            .arg("stop")
            .arg(&self.0)
            .output();
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn enroll(store: &PgStore, id: &str, i: usize) -> faceprint::Result<()> {
    let t = NewTemplate {
        embedding: Embedding::new("m", vec![1.0, i as f32 + 1.0, 0.5]).unwrap(),
        model_version: "1".into(),
        quality: None,
        source: None,
    };
    let audit = AuditEvent {
        at: 0,
        action: AuditAction::Enroll,
        collection: Some("c".into()),
        subject: Some(id.into()),
        outcome: "success".into(),
        score: None,
        latency_ms: None,
        actor: None,
    };
    store
        .enroll(&Enrollment {
            collection: "c",
            external_id: id,
            display_name: None,
            metadata: None,
            templates: &[t],
            audit: &audit,
        })
        .map(|_| ())
}

#[test]
fn a_killed_server_loses_no_acknowledged_template_and_the_handle_reconnects() {
    // Outside the build tree: as root the server runs as another user, who must reach it.
    let dir =
        TempDir(std::env::temp_dir().join(format!("faceprint-pg-restart-{}", std::process::id())));
    let url = pg("start", dir.path());
    let key = MasterKey::generate();
    let store = Arc::new(PgStore::open(&url, key.clone()).unwrap());
    store.ensure_collection("c", "m", 3).unwrap();

    let acknowledged = Arc::new(Mutex::new(Vec::<String>::new()));
    let failed = Arc::new(Mutex::new(0usize));
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (store, acknowledged, failed, stop) = (
            store.clone(),
            acknowledged.clone(),
            failed.clone(),
            stop.clone(),
        );
        std::thread::spawn(move || {
            let mut i = 0;
            while !stop.load(Ordering::Acquire) {
                let id = format!("s{i:05}");
                let started = Instant::now();
                match enroll(&store, &id, i) {
                    Ok(()) => acknowledged.lock().unwrap().push(id),
                    Err(e) => {
                        assert_eq!(e.code(), faceprint::ErrorCode::Storage, "{e}");
                        assert!(started.elapsed() < Duration::from_secs(15), "a call hung");
                        *failed.lock().unwrap() += 1;
                        std::thread::sleep(Duration::from_millis(50));
                    }
                }
                i += 1;
            }
        })
    };
    // Let enrollments flow, kill the server mid-stream, keep it down a moment, restart it.
    while acknowledged.lock().unwrap().len() < 50 {
        std::thread::sleep(Duration::from_millis(10));
    }
    pg("kill", dir.path());
    let at_kill = acknowledged.lock().unwrap().len();
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(
        pg("start", dir.path()),
        url,
        "the restarted server keeps its URL"
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    while acknowledged.lock().unwrap().len() < at_kill + 50 {
        assert!(Instant::now() < deadline, "no enrollment after the restart");
        std::thread::sleep(Duration::from_millis(10));
    }
    stop.store(true, Ordering::Release);
    writer.join().unwrap();

    let acknowledged = acknowledged.lock().unwrap().clone();
    let failed = *failed.lock().unwrap();
    println!(
        "{} enrollments acknowledged ({} before the kill), {failed} refused while the server was down",
        acknowledged.len(),
        at_kill
    );
    assert!(failed >= 1, "the kill was not noticed");
    // Every acknowledged subject is there with its template, read by a fresh handle too.
    let fresh = PgStore::open(&url, key).unwrap();
    let all = fresh.all_templates("c").unwrap();
    assert_eq!(
        store.all_templates("c").unwrap().templates.len(),
        all.templates.len()
    );
    assert!(all.damaged.is_empty());
    let stored: std::collections::HashSet<&str> =
        all.templates.iter().map(|t| t.subject.as_str()).collect();
    let lost: Vec<&String> = acknowledged
        .iter()
        .filter(|id| !stored.contains(id.as_str()))
        .collect();
    assert!(lost.is_empty(), "acknowledged but lost: {lost:?}");
}
