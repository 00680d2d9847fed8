//! This server's tables (beside the common ones in `faceprint_server::db`).

pub mod subjects;
pub mod users;

use faceprint_server::db::Migrations;

pub const MIGRATIONS: Migrations = Migrations {
    component: "auth",
    steps: &[
        r#"
CREATE TABLE users (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    email TEXT NOT NULL UNIQUE,
    -- pending: signing up (face not yet enrolled); active; disabled (by an admin)
    status TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    last_login_ms INTEGER,
    faces INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX users_created ON users (created_ms);
"#,
        r#"
-- The recognition API's subject names (CompreFace calls them subjects), per collection. The
-- template store knows each subject by an opaque id, so a rename is one row and no name
-- reaches the store.
CREATE TABLE recognition_subjects (
    collection TEXT NOT NULL,
    name TEXT NOT NULL,
    subject_id TEXT NOT NULL UNIQUE,
    created_ms INTEGER NOT NULL,
    PRIMARY KEY (collection, name)
);
"#,
    ],
};
