//! `faceprint-kyc`: serve, and the staff and API-key tools.

use faceprint_kyc_server::{config, repo, run};
use faceprint_server::auth::Role;
use faceprint_server::cli::Server;

fn main() {
    Server {
        name: "faceprint-kyc",
        about: "KYC (document + selfie identity verification) reference server",
        defaults: config::DEFAULTS,
        migrations: &[&repo::MIGRATIONS],
        // Users register themselves; staff are made here.
        staff_roles: &[Role::Admin, Role::Verifier, Role::Auditor],
    }
    .main(|c: config::Config| run(c, faceprint_server::shutdown::signal()));
}
