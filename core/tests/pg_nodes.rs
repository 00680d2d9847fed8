//! Nodes sharing one PostgreSQL store, against a real server these tests start and kill
//! themselves (tests/postgres.sh; ./setup.sh installs it):
//! - a server killed (SIGKILL) in the middle of enrollments and started again: no acknowledged
//!   template is lost, the failed calls are errors (never a hang or a panic), and the same
//!   store handle carries on without being opened again;
//! - two engines, each with its own handle and in-memory index: an enrollment on one is found
//!   by the other within a second (the distribution over 100 is printed), a subject deleted
//!   or disabled on one is never answered by the other afterwards, and after the server is
//!   killed and restarted the nodes catch up without being restarted;
//! - a collection switched to the pgvector mode is searched in the database, and a streaming
//!   read replica serves those searches with answers checked against the primary.
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

mod common;

/// A PostgreSQL server of its own under a fresh directory (stopped and removed at the end).
fn own_server(name: &str) -> (TempDir, String) {
    // Outside the build tree: as root the server runs as another user, who must reach it.
    let dir =
        TempDir(std::env::temp_dir().join(format!("faceprint-pg-{name}-{}", std::process::id())));
    let url = pg("start", dir.path());
    (dir, url)
}

/// A node: an engine with the real models and its own handle on the shared store.
fn node(url: &str, key: &MasterKey) -> faceprint::Engine {
    let store = PgStore::open(url, key.clone()).unwrap();
    faceprint::Engine::builder()
        .store(Arc::new(store))
        .build()
        .expect("engine builds: run ./setup.sh first")
}

/// The first photo of the first `n` LFW people, as (person, embedding) from the real model.
fn people(e: &faceprint::Engine, n: usize) -> Vec<(String, faceprint::Embedding)> {
    let root = common::data_dir().unwrap().join("lfw/images");
    let mut names: Vec<String> = std::fs::read_dir(&root)
        .unwrap()
        .map(|d| d.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
        .into_iter()
        .filter_map(|name| {
            let photo = root.join(&name).join(format!("{name}_0001.jpg"));
            let face = e.extract_largest(&e.open(&photo).ok()?).ok()?;
            Some((name, face.embedding))
        })
        .take(n)
        .collect()
}

const C: &str = "staff";

fn top(e: &faceprint::Engine, probe: &faceprint::Embedding) -> faceprint::Result<Option<String>> {
    let probe = faceprint::FaceEmbedding::stored(probe.clone());
    Ok(e.identify_embedding(C, &probe, 1, None, None)?
        .candidates
        .into_iter()
        .find(|c| c.matched)
        .map(|c| c.subject))
}

fn enroll_on(e: &faceprint::Engine, who: &str, v: &faceprint::Embedding) {
    e.enroll_embeddings(
        C,
        who,
        vec![v.clone()],
        &faceprint::EnrollOptions::default(),
    )
    .unwrap();
}

/// Waits until `b` answers `want` for `probe` (the time it took), or fails after `limit`.
fn found_within(
    b: &faceprint::Engine,
    probe: &faceprint::Embedding,
    want: &str,
    limit: Duration,
) -> Duration {
    let started = Instant::now();
    loop {
        if let Ok(Some(s)) = top(b, probe) {
            if s == want {
                return started.elapsed();
            }
        }
        assert!(
            started.elapsed() < limit,
            "{want} not found by the other node within {limit:?}"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i].as_secs_f64() * 1e3
}

#[test]
fn two_nodes_see_each_others_enrollments_deletions_and_disabled_subjects() {
    if common::data_dir().is_none() {
        return;
    }
    let (_dir, url) = own_server("nodes");
    let key = MasterKey::generate();
    let (a, b) = (node(&url, &key), node(&url, &key));
    let people = people(&a, 110);
    assert_eq!(people.len(), 110, "LFW faces");
    // Node B's index is loaded (empty) before A writes: from here it only follows.
    enroll_on(&a, &people[0].0, &people[0].1);
    found_within(&b, &people[0].1, &people[0].0, Duration::from_secs(1));

    let mut took: Vec<Duration> = people[1..101]
        .iter()
        .map(|(who, v)| {
            enroll_on(&a, who, v);
            found_within(&b, v, who, Duration::from_secs(1))
        })
        .collect();
    took.sort();
    println!(
        "enrolled on A, identified on B after: p50 {:.1} ms, p90 {:.1} ms, p99 {:.1} ms, max {:.1} ms (100 enrollments)",
        percentile(&took, 0.5),
        percentile(&took, 0.9),
        percentile(&took, 0.99),
        percentile(&took, 1.0)
    );

    // Deleted or disabled on A: B never answers with them, not even at once.
    for (who, v) in &people[1..21] {
        a.delete_subject(C, who, None).unwrap();
        assert_ne!(
            top(&b, v).unwrap().as_deref(),
            Some(who.as_str()),
            "{who} deleted"
        );
    }
    for (who, v) in &people[21..26] {
        a.set_subject_disabled(C, who, true, None).unwrap();
        assert_ne!(
            top(&b, v).unwrap().as_deref(),
            Some(who.as_str()),
            "{who} disabled"
        );
    }
    // And once B has caught up, its index holds exactly the store's templates.
    let (who, v) = &people[101];
    enroll_on(&a, who, v);
    found_within(&b, v, who, Duration::from_secs(1));
    assert_eq!(
        b.index_status(C).unwrap().templates,
        a.store().unwrap().all_templates(C).unwrap().templates.len()
    );
    // Enabled again on B: A answers with it.
    let (who, v) = &people[21];
    b.set_subject_disabled(C, who, false, None).unwrap();
    found_within(&a, v, who, Duration::from_secs(1));

    // Rows deleted behind the nodes' backs, logged nowhere (as if the notification were still
    // on its way): B's index still holds them, yet B never answers with them.
    let mut sql = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    for (who, v) in &people[30..35] {
        assert_eq!(top(&b, v).unwrap().as_deref(), Some(who.as_str()));
        sql.execute(
            "DELETE FROM faceprint.subjects WHERE external_id = $1",
            &[who],
        )
        .unwrap();
        assert_ne!(
            top(&b, v).unwrap().as_deref(),
            Some(who.as_str()),
            "{who} gone"
        );
    }
}

#[test]
fn nodes_catch_up_after_the_server_is_killed_and_restarted() {
    if common::data_dir().is_none() {
        return;
    }
    let (dir, url) = own_server("catch-up");
    let key = MasterKey::generate();
    let (a, b) = (node(&url, &key), node(&url, &key));
    let people = people(&a, 30);
    for (who, v) in &people[..10] {
        enroll_on(&a, who, v);
    }
    found_within(&b, &people[9].1, &people[9].0, Duration::from_secs(1));

    pg("kill", dir.path());
    let down = top(&b, &people[0].1);
    assert!(down.is_err(), "a search with the server down is an error");
    assert_eq!(pg("start", dir.path()), url);
    // A writes at once, while B's listener is still away: B catches up when it is back.
    let started = Instant::now();
    for (who, v) in &people[10..30] {
        loop {
            match a.enroll_embeddings(
                C,
                who,
                vec![v.clone()],
                &faceprint::EnrollOptions::default(),
            ) {
                Ok(_) => break,
                Err(e) => {
                    assert_eq!(e.code(), faceprint::ErrorCode::Storage, "{e}");
                    assert!(
                        started.elapsed() < Duration::from_secs(30),
                        "A never reconnected"
                    );
                    std::thread::sleep(Duration::from_millis(50));
                }
            }
        }
    }
    a.delete_subject(C, &people[0].0, None).unwrap();
    let caught_up = Instant::now();
    for (who, v) in &people[10..30] {
        found_within(&b, v, who, Duration::from_secs(10));
    }
    assert_ne!(
        top(&b, &people[0].1).unwrap().as_deref(),
        Some(people[0].0.as_str())
    );
    println!(
        "after the restart B found all 20 enrollments A made meanwhile in {:.0} ms",
        caught_up.elapsed().as_secs_f64() * 1e3
    );
}

#[test]
fn a_collection_switched_to_pgvector_is_searched_in_the_database() {
    if common::data_dir().is_none() {
        return;
    }
    let (_dir, url) = own_server("pgvector");
    let key = MasterKey::generate();
    let (a, b) = (node(&url, &key), node(&url, &key));
    let people = people(&a, 60);
    for (who, v) in &people[..50] {
        enroll_on(&a, who, v);
    }
    let before: Vec<Option<String>> = people[..50]
        .iter()
        .map(|(_, v)| top(&b, v).unwrap())
        .collect();

    let admin = PgStore::open(&url, key.clone()).unwrap();
    assert_eq!(
        admin.search_mode(C).unwrap(),
        faceprint::store::SearchMode::Encrypted
    );
    let mut seen = (0, 0);
    admin
        .use_pgvector(
            C,
            &faceprint::index::HnswConfig::default(),
            |done, total| seen = (done, total),
        )
        .unwrap();
    assert_eq!(seen, (50, 50));
    assert_eq!(
        admin.search_mode(C).unwrap(),
        faceprint::store::SearchMode::Pgvector
    );
    // The trade-off, as documented: the vectors are in the database in clear.
    let mut sql = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    let cid: i64 = sql
        .query_one(
            "SELECT id FROM faceprint.collections WHERE name = $1",
            &[&C],
        )
        .unwrap()
        .get(0);
    let n: i64 = sql
        .query_one(
            &format!("SELECT count(*) FROM faceprint.vectors_{cid}"),
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(n, 50);
    // A node trusts the mode it read for a second (it answers from memory meanwhile, which
    // is still right): past that, both search in the database.
    std::thread::sleep(Duration::from_millis(1100));

    // Both nodes now search in the database: the same answers, and every write at once.
    let after: Vec<Option<String>> = people[..50]
        .iter()
        .map(|(_, v)| top(&b, v).unwrap())
        .collect();
    assert_eq!(before, after);
    for (who, v) in &people[50..60] {
        enroll_on(&a, who, v);
        assert_eq!(top(&b, v).unwrap().as_deref(), Some(who.as_str()));
    }
    let (who, v) = &people[3];
    a.delete_subject(C, who, None).unwrap();
    assert_ne!(top(&b, v).unwrap().as_deref(), Some(who.as_str()));
    let (who, v) = &people[4];
    b.set_subject_disabled(C, who, true, None).unwrap();
    assert_ne!(top(&a, v).unwrap().as_deref(), Some(who.as_str()));
    let (who, v) = &people[5];
    let probe = faceprint::FaceEmbedding::stored(v.clone());
    assert!(
        b.verify_embedding(C, who, &probe, None, None)
            .unwrap()
            .matched
    );
    // A second enrollment of someone already there is flagged as a likely duplicate.
    let report = a
        .enroll_embeddings(
            C,
            "someone-else",
            vec![v.clone()],
            &faceprint::EnrollOptions::default(),
        )
        .unwrap();
    assert_eq!(report.warnings[0].other_subject, *who);

    // Back to the encrypted mode: the clear vectors are gone, the nodes search in memory.
    admin.use_encrypted(C).unwrap();
    let gone: bool = sql
        .query_one(
            &format!("SELECT to_regclass('faceprint.vectors_{cid}') IS NULL"),
            &[],
        )
        .unwrap()
        .get(0);
    assert!(gone);
    let (who, v) = &people[10];
    assert_eq!(top(&b, v).unwrap().as_deref(), Some(who.as_str()));
}

/// A read replica of the primary (tests/postgres.sh replica), stopped and removed at the end.
fn own_replica(name: &str, primary: &str) -> (TempDir, String) {
    let dir =
        TempDir(std::env::temp_dir().join(format!("faceprint-pg-{name}-{}", std::process::id())));
    let out = Command::new("bash")
        .arg(script())
        .args(["replica".as_ref(), dir.path().as_os_str(), primary.as_ref()])
        .output()
        .expect("tests/postgres.sh");
    assert!(
        out.status.success(),
        "postgres.sh replica: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (dir, String::from_utf8_lossy(&out.stdout).trim().to_string())
}

#[test]
fn a_read_replica_serves_pgvector_searches_checked_against_the_primary() {
    if common::data_dir().is_none() {
        return;
    }
    let (_primary_dir, url) = own_server("replica-primary");
    let key = MasterKey::generate();
    let a = node(&url, &key);
    let people = people(&a, 31);
    for (who, v) in &people[..30] {
        enroll_on(&a, who, v);
    }
    PgStore::open(&url, key.clone())
        .unwrap()
        .use_pgvector(C, &faceprint::index::HnswConfig::default(), |_, _| {})
        .unwrap();
    let (replica_dir, replica_url) = own_replica("replica", &url);
    let mut replica = postgres::Client::connect(&replica_url, postgres::NoTls).unwrap();
    let r = faceprint::Engine::builder()
        .store(Arc::new(
            PgStore::builder(&url, key.clone())
                .read_replica(&replica_url)
                .open()
                .unwrap(),
        ))
        .build()
        .unwrap();
    for (who, v) in &people[..5] {
        assert_eq!(top(&r, v).unwrap().as_deref(), Some(who.as_str()));
    }

    // With the replica's replay paused, what the primary gained is not found through the
    // replica (so the searches do go there), and what the primary lost is not answered
    // either (the answers are checked against the primary).
    replica
        .batch_execute("SELECT pg_wal_replay_pause()")
        .unwrap();
    let (new, new_v) = &people[30];
    enroll_on(&a, new, new_v);
    assert_eq!(top(&a, new_v).unwrap().as_deref(), Some(new.as_str()));
    assert_ne!(top(&r, new_v).unwrap().as_deref(), Some(new.as_str()));
    let (gone, gone_v) = &people[1];
    a.delete_subject(C, gone, None).unwrap();
    assert_ne!(top(&r, gone_v).unwrap().as_deref(), Some(gone.as_str()));
    let (off, off_v) = &people[2];
    a.set_subject_disabled(C, off, true, None).unwrap();
    assert_ne!(top(&r, off_v).unwrap().as_deref(), Some(off.as_str()));

    // Replaying again, the replica finds the new subject.
    replica
        .batch_execute("SELECT pg_wal_replay_resume()")
        .unwrap();
    let took = found_within(&r, new_v, new, Duration::from_secs(10));
    println!("found through the replica {took:?} after its replay resumed");

    // The replica gone: the searches go to the primary.
    drop(replica);
    drop(replica_dir);
    let (who, v) = &people[3];
    assert_eq!(top(&r, v).unwrap().as_deref(), Some(who.as_str()));
    assert_ne!(top(&r, gone_v).unwrap().as_deref(), Some(gone.as_str()));
}
