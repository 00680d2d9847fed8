//! The command-line tools every server has beside `serve`: create an administrator (password
//! from stdin, never a default) and manage API keys (the secret printed once).

use crate::auth::{admins, api_key, password};
use crate::db::{open_server_db, Migrations};
use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;

/// Reads one line from stdin (the password), without echoing it when stdin is a terminal is
/// not possible without a tty crate, so a terminal user is told to pipe it.
pub fn read_password() -> Result<zeroize::Zeroizing<String>, String> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprint!("password (visible; better: pipe it, e.g. `pass show admin | ...`): ");
        let _ = std::io::stderr().flush();
    }
    let mut line = zeroize::Zeroizing::new(String::new());
    stdin
        .lock()
        .read_line(&mut line)
        .map_err(|e| format!("reading the password from stdin: {e}"))?;
    let pw = zeroize::Zeroizing::new(line.trim_end_matches(['\r', '\n']).to_string());
    if pw.is_empty() {
        return Err("no password on stdin".into());
    }
    Ok(pw)
}

/// `admin create`: prints the new administrator as JSON.
pub fn create_admin(
    data_dir: &Path,
    migrations: &[&Migrations],
    username: &str,
    role: &str,
) -> Result<String, String> {
    admins::check_username(username)?;
    let pw = read_password()?;
    let hash = password::hash(&pw)?;
    let db = open_server_db(data_dir, migrations, 1)?;
    let info = db
        .with(|c| admins::create(c, username, &hash, role))
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("an administrator named {username:?} exists already"))?;
    serde_json::to_string(&info).map_err(|e| e.to_string())
}

/// `api-key create`: prints the key's record and, once, its secret.
pub fn create_api_key(
    data_dir: &Path,
    migrations: &[&Migrations],
    new: &api_key::NewApiKey,
) -> Result<String, String> {
    if new.collection.trim().is_empty() || new.collection.len() > 256 {
        return Err("--collection must be 1 to 256 characters".into());
    }
    if new.rate_per_minute == 0 {
        return Err("--rate must be at least 1/min".into());
    }
    let db = open_server_db(data_dir, migrations, 1)?;
    let (info, secret) = db
        .with(|c| api_key::create(c, new))
        .map_err(|e| e.to_string())?;
    let mut v = serde_json::to_value(&info).map_err(|e| e.to_string())?;
    v["key"] = serde_json::Value::String(secret);
    v["note"] = "store this key now: it is kept only as a hash and cannot be shown again".into();
    serde_json::to_string(&v).map_err(|e| e.to_string())
}

pub fn list_api_keys(data_dir: &Path, migrations: &[&Migrations]) -> Result<String, String> {
    let db = open_server_db(data_dir, migrations, 1)?;
    let keys = db.with(|c| api_key::list(c)).map_err(|e| e.to_string())?;
    serde_json::to_string(&keys).map_err(|e| e.to_string())
}

pub fn revoke_api_key(
    data_dir: &Path,
    migrations: &[&Migrations],
    id: &str,
) -> Result<String, String> {
    let db = open_server_db(data_dir, migrations, 1)?;
    if !db
        .with(|c| api_key::revoke(c, id))
        .map_err(|e| e.to_string())?
    {
        return Err(format!("no open API key with id {id}"));
    }
    Ok(serde_json::json!({ "revoked": id }).to_string())
}

/// Parses `--rate` as `N`, `N/min`, `N/s` or `N/h` into calls per minute.
pub fn parse_rate(s: &str) -> Result<u32, String> {
    let (n, unit) = s.split_once('/').unwrap_or((s, "min"));
    let n: f64 = n
        .trim()
        .parse()
        .map_err(|_| format!("rate {s:?}: expected N/min, N/s or N/h"))?;
    let per_min = match unit.trim() {
        "min" | "m" | "minute" => n,
        "s" | "sec" | "second" => n * 60.0,
        "h" | "hour" => n / 60.0,
        other => return Err(format!("rate {s:?}: unknown unit {other:?} (min, s or h)")),
    };
    if !(1.0..=1e7).contains(&per_min) {
        return Err(format!(
            "rate {s:?}: must be between 1/min and 10,000,000/min"
        ));
    }
    Ok(per_min.round() as u32)
}
