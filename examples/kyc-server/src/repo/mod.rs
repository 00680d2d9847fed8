//! This server's tables (beside the common ones in `faceprint_server::db`).

pub mod verifications;

use faceprint_server::db::Migrations;

pub const MIGRATIONS: Migrations = Migrations {
    component: "kyc",
    steps: &[r#"
-- One identity verification of one user: its steps, its findings and its decision.
CREATE TABLE verifications (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    -- in_progress, approved, rejected, needs_review
    status TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL,
    -- pending or done
    document_step TEXT NOT NULL,
    selfie_step TEXT NOT NULL,
    -- what the document gave (zone fields and checks, portrait, printed text checks):
    -- personal data, sealed under the master key
    document_sealed BLOB,
    liveness_score REAL,
    live INTEGER,
    match_score REAL,
    -- JSON list of the decision's reason codes
    reasons TEXT NOT NULL,
    decided_by TEXT,
    decided_ms INTEGER,
    review_note TEXT,
    images_deleted_ms INTEGER
);
CREATE INDEX verifications_user ON verifications (user_id, created_ms);
CREATE INDEX verifications_status ON verifications (status, updated_ms);
-- The uploaded images (and the portrait cut from the document), sealed under the master key,
-- deleted by the retention job.
CREATE TABLE verification_images (
    verification_id TEXT NOT NULL,
    -- document_front, document_back, portrait, selfie
    kind TEXT NOT NULL,
    sealed BLOB NOT NULL,
    created_ms INTEGER NOT NULL,
    PRIMARY KEY (verification_id, kind)
);
CREATE INDEX verification_images_time ON verification_images (created_ms);
"#],
};
