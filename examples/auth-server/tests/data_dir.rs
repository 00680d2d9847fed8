//! The data directory is private on every start (issue 33, finding 6): a 0755 directory an
//! operator made by hand, with a readable file in it, is tightened to 0700 and 0600, and the
//! databases the server creates there (with SQLite's `-wal` and `-shm`) are 0600.

use faceprint_server::testing::start_server;
use std::os::unix::fs::PermissionsExt;

const BIN: &str = env!("CARGO_BIN_EXE_faceprint-auth");

fn mode(path: &std::path::Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_readable_data_dir_is_made_private_and_so_is_everything_the_server_writes() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).unwrap();
    let notes = data.join("notes.txt");
    std::fs::write(&notes, "left here by the operator").unwrap();
    std::fs::set_permissions(&notes, std::fs::Permissions::from_mode(0o644)).unwrap();

    let server = start_server(BIN, &data, &[]).await;
    let base = server.base.clone();
    // A signup attempt writes to both databases (refused or not, the audit trail is written).
    let r = reqwest::Client::new()
        .post(format!("{base}/api/auth/admin/login"))
        .json(&serde_json::json!({"username": "nobody", "password": "wrong password here"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let mut seen = Vec::new();
    for entry in std::fs::read_dir(&data).unwrap().flatten() {
        let path = entry.path();
        // (The server's log is beside the data directory, not in it.)
        if path.is_file() {
            seen.push(entry.file_name().to_string_lossy().to_string());
            assert_eq!(mode(&path), 0o600, "{}", path.display());
        }
    }
    drop(server);
    assert_eq!(mode(&data), 0o700);
    for name in [
        "notes.txt",
        "server.db",
        "faces.db",
        "server.db-wal",
        "server.db-shm",
    ] {
        assert!(seen.iter().any(|s| s == name), "{name} not among {seen:?}");
    }
}
