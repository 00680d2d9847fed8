//! `faceprint-auth`: serve, and the administrator and API-key tools.

use faceprint_auth_server::{config, repo, run};
use faceprint_server::auth::Role;
use faceprint_server::cli::Server;

fn main() {
    Server {
        name: "faceprint-auth",
        about: "Face login reference server",
        defaults: config::DEFAULTS,
        migrations: &[&repo::MIGRATIONS],
        staff_roles: &[Role::Admin],
    }
    .main(|c: config::Config| run(c, faceprint_server::shutdown::signal()));
}
