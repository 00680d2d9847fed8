//! `faceprint-attendance`: serve, and the staff and API-key tools.

use faceprint_attendance_server::{config, repo, run};
use faceprint_server::auth::Role;
use faceprint_server::cli::Server;

fn main() {
    Server {
        name: "faceprint-attendance",
        about: "Attendance from camera streams reference server",
        defaults: config::DEFAULTS,
        migrations: &[&repo::MIGRATIONS],
        // Staff are administrators or viewers (dashboards and records, no changes).
        staff_roles: &[Role::Admin, Role::Viewer],
    }
    .main(|c: config::Config| run(c, faceprint_server::shutdown::signal()));
}
