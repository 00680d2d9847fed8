//! This server's tables (beside the common ones in `faceprint_server::db`).

pub mod cameras;
pub mod employees;
pub mod records;

use faceprint_server::db::Migrations;

pub const MIGRATIONS: Migrations = Migrations {
    component: "attendance",
    steps: &[
        r#"
CREATE TABLE employees (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    email TEXT UNIQUE,
    department TEXT,
    -- active; archived: faces kept in the store but disabled, never matched
    status TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    photos INTEGER NOT NULL DEFAULT 0,
    last_seen_ms INTEGER
);
CREATE TABLE cameras (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    -- url (rtsp/http), file, dir, push
    kind TEXT NOT NULL,
    source TEXT,
    -- in, out, or any (first sighting of the day checks in, the last checks out)
    role TEXT NOT NULL,
    settings TEXT NOT NULL,
    enabled INTEGER NOT NULL,
    created_ms INTEGER NOT NULL
);
-- One row per visit: a person in view on one camera, extended while they stay (cooldown).
CREATE TABLE attendance_records (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    employee_id TEXT NOT NULL,
    camera_id TEXT NOT NULL,
    first_seen_ms INTEGER NOT NULL,
    last_seen_ms INTEGER NOT NULL,
    score REAL NOT NULL,
    liveness_score REAL,
    track_id INTEGER NOT NULL,
    -- in / out / seen
    direction TEXT NOT NULL,
    snapshot BLOB
);
CREATE INDEX records_employee ON attendance_records (employee_id, first_seen_ms);
CREATE INDEX records_time ON attendance_records (first_seen_ms);
-- Faces seen and not matched: counted per camera and day, no biometrics kept.
CREATE TABLE unknown_counts (
    camera_id TEXT NOT NULL,
    day TEXT NOT NULL,
    tracks INTEGER NOT NULL,
    PRIMARY KEY (camera_id, day)
);
"#,
        r#"
-- Tracks nobody was identified in, kept only when app.keep_unknown_tracks is on: when and
-- where, no template; a face crop only when the camera keeps snapshots.
CREATE TABLE unknown_tracks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    camera_id TEXT NOT NULL,
    track_id INTEGER NOT NULL,
    -- unknown (matched nobody) or spoof (matched someone, failed liveness)
    kind TEXT NOT NULL,
    first_seen_ms INTEGER NOT NULL,
    last_seen_ms INTEGER NOT NULL,
    best_quality REAL NOT NULL,
    snapshot BLOB
);
CREATE INDEX unknown_tracks_time ON unknown_tracks (first_seen_ms);
"#,
    ],
};
