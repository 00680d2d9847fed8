//! Test support for the servers (feature `testing`): an app called in-process (no socket)
//! or served on a loopback port, multipart forms, answers with their JSON, and the shared
//! data mirror beside the checkout.
#![allow(clippy::missing_panics_doc)]

use axum::body::Body;
use axum::http::{header, HeaderMap, Method, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use serde_json::Value;
use std::path::{Path, PathBuf};
use tower::ServiceExt;

/// A file of `../shared/data` (the data mirror beside the checkout).
pub fn data(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data")
        .join(rel)
}

/// The bytes of a file of the data mirror.
pub fn photo(rel: &str) -> Vec<u8> {
    std::fs::read(data(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// Calls a server's router as a client would.
#[derive(Clone)]
pub struct TestClient {
    pub app: Router,
}

impl TestClient {
    pub async fn call(&self, req: Request<Body>) -> Reply {
        let res = self.app.clone().oneshot(req).await.unwrap();
        let status = res.status();
        let headers = res.headers().clone();
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Reply {
            status,
            headers,
            json,
            text: String::from_utf8_lossy(&bytes).into_owned(),
            body: bytes.to_vec(),
        }
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Reply {
        self.call(req(Method::GET, path, token).body(Body::empty()).unwrap())
            .await
    }

    pub async fn delete(&self, path: &str, token: Option<&str>) -> Reply {
        self.call(
            req(Method::DELETE, path, token)
                .body(Body::empty())
                .unwrap(),
        )
        .await
    }

    pub async fn post_json(&self, path: &str, token: Option<&str>, body: Value) -> Reply {
        self.call(
            req(Method::POST, path, token)
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(body.to_string()))
                .unwrap(),
        )
        .await
    }

    pub async fn post_form(&self, path: &str, token: Option<&str>, form: &Form) -> Reply {
        let (ct, body) = form.encode();
        self.call(
            req(Method::POST, path, token)
                .header(header::CONTENT_TYPE, ct)
                .body(Body::from(body))
                .unwrap(),
        )
        .await
    }

    /// Serves the app on a loopback port (WebSocket tests); returns its address.
    pub async fn serve(&self) -> std::net::SocketAddr {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = self.app.clone();
        tokio::spawn(async move {
            axum::serve(
                listener,
                app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
            )
            .await
            .unwrap();
        });
        addr
    }

    pub async fn post_image(&self, path: &str, token: Option<&str>, bytes: Vec<u8>) -> Reply {
        self.call(
            req(Method::POST, path, token)
                .header(header::CONTENT_TYPE, "image/jpeg")
                .body(Body::from(bytes))
                .unwrap(),
        )
        .await
    }
}

pub fn req(method: Method, path: &str, token: Option<&str>) -> axum::http::request::Builder {
    let b = Request::builder().method(method).uri(path);
    match token {
        Some(t) if t.starts_with("fpk_") => b.header("x-api-key", t),
        Some(t) => b.header(header::AUTHORIZATION, format!("Bearer {t}")),
        None => b,
    }
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub json: Value,
    pub text: String,
    /// The body as sent (images).
    pub body: Vec<u8>,
}

impl Reply {
    /// The error code of an error body (and checks the body's shape).
    pub fn code(&self) -> &str {
        assert!(
            self.json["message"].is_string() && self.json["request_id"].is_string(),
            "not the error body: {}",
            self.text
        );
        self.json["error"].as_str().unwrap_or("")
    }
}

/// A multipart form.
#[derive(Default)]
pub struct Form {
    parts: Vec<(String, Option<String>, Vec<u8>)>,
}

impl Form {
    pub fn new() -> Form {
        Form::default()
    }

    pub fn text(mut self, name: &str, value: &str) -> Form {
        self.parts
            .push((name.into(), None, value.as_bytes().to_vec()));
        self
    }

    pub fn file(mut self, name: &str, bytes: Vec<u8>) -> Form {
        self.parts
            .push((name.into(), Some("photo.jpg".into()), bytes));
        self
    }

    pub fn encode(&self) -> (String, Vec<u8>) {
        let boundary = "----faceprint-test-boundary-7MA4YWxkTrZu0gW";
        let mut body = Vec::new();
        for (name, file, bytes) in &self.parts {
            body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
            match file {
                Some(f) => body.extend_from_slice(format!("Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\nContent-Type: application/octet-stream\r\n\r\n").as_bytes()),
                None => body.extend_from_slice(format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes()),
            }
            body.extend_from_slice(bytes);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        (format!("multipart/form-data; boundary={boundary}"), body)
    }
}

/// A loopback port nobody listens on (for a server process a test starts).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts a server binary as its one command runs it (`serve --listen --data`); its stderr is
/// piped for the test to read.
pub fn spawn_server(bin: &str, data: &Path, port: u16) -> std::process::Child {
    std::process::Command::new(bin)
        .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--data"])
        .arg(data)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap()
}

/// A server process a test started, on `base`; killed when dropped. Its log (stderr) is in
/// `DATA.log` beside its data directory.
pub struct Running {
    pub child: std::process::Child,
    pub base: String,
    pub log: std::path::PathBuf,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts a server binary as its one command runs it, with settings in the environment
/// (`FACEPRINT_SECTION__KEY`, as an operator would give them), on a free port of loopback, and
/// waits until it is ready.
pub async fn start_server(bin: &str, data: &Path, env: &[(&str, &str)]) -> Running {
    let port = free_port();
    let log = data.with_extension("log");
    let child = std::process::Command::new(bin)
        .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--data"])
        .arg(data)
        .envs(env.iter().copied())
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let running = Running { child, base, log };
    wait_ready(&running.base).await;
    running
}

/// Waits (up to 60 s) until `base/health/ready` answers 200.
pub async fn wait_ready(base: &str) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        if let Ok(r) = reqwest::get(format!("{base}/health/ready")).await {
            if r.status() == 200 {
                return;
            }
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{base} not ready in 60 s"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// A PostgreSQL server of a test's own (`tests/postgres.sh`, which `./setup.sh` installs): in
/// a fresh directory, killed and started again on demand, stopped and removed at the end.
pub struct OwnPostgres {
    dir: std::path::PathBuf,
    pub url: String,
}

impl OwnPostgres {
    fn script(cmd: &str, dir: &Path) -> String {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/postgres.sh");
        let out = std::process::Command::new("bash")
            .arg(script)
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

    /// Starts one (outside the build tree: as root the server runs as another user, who must
    /// reach its directory).
    pub fn start(name: &str) -> OwnPostgres {
        let dir = std::env::temp_dir().join(format!("faceprint-pg-{name}-{}", std::process::id()));
        let url = Self::script("start", &dir);
        OwnPostgres { dir, url }
    }

    /// SIGKILLs the server and every backend, as a crash would.
    pub fn kill(&self) {
        Self::script("kill", &self.dir);
    }

    /// Starts it again after [`OwnPostgres::kill`], on the same port.
    pub fn restart(&self) {
        Self::script("start", &self.dir);
    }
}

impl Drop for OwnPostgres {
    fn drop(&mut self) {
        let _ = std::process::Command::new("bash")
            .arg(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../tests/postgres.sh"
            ))
            .arg("stop")
            .arg(&self.dir)
            .output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Starts a server binary as one node of several (`serve --listen --data --database`), with
/// the master key every node shares and `env` on top; its log goes to `DATA.log` (a pipe
/// nobody reads would fill up and stall it).
pub fn spawn_node(
    bin: &str,
    data: &Path,
    port: u16,
    database: &str,
    key_base64: &str,
    env: &[(&str, &str)],
) -> std::process::Child {
    std::process::Command::new(bin)
        .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--data"])
        .arg(data)
        .args(["--database", database])
        .env("FACEPRINT_KEY", key_base64)
        .envs(env.iter().copied())
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(data.with_extension("log")).unwrap())
        .spawn()
        .unwrap()
}

/// Runs one of a server's tools (`admin create`, `api-key create`…) against the database at
/// `database`, `stdin` written to it: its JSON answer (the test fails when the tool does).
pub fn run_tool(
    bin: &str,
    data: &Path,
    database: &str,
    args: &[&str],
    stdin: &str,
) -> serde_json::Value {
    use std::io::Write as _;
    use std::process::{Command, Stdio};
    let mut child = Command::new(bin)
        .args(args)
        .arg("--data")
        .arg(data)
        .args(["--database", database])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The databases a repository test runs on, each with the common tables and `migrations`: a
/// SQLite file in `dir`, and a fresh schema of the PostgreSQL in `FACEPRINT_TEST_PG` when it
/// is set (`./test.sh` and `.ci/run` set it; without it the PostgreSQL half is skipped, saying
/// so).
pub fn test_databases(dir: &Path, migrations: &[&crate::db::Migrations]) -> Vec<crate::db::Db> {
    use crate::db::{Db, Location, COMMON_MIGRATIONS};
    let mut at = vec![Location::Sqlite(dir.join("server.db"))];
    match std::env::var("FACEPRINT_TEST_PG") {
        Ok(url) => at.push(Location::Postgres {
            url,
            schema: format!("t_{}", &uuid::Uuid::new_v4().simple().to_string()[..16]),
        }),
        Err(_) => eprintln!("SKIPPED on PostgreSQL: FACEPRINT_TEST_PG is not set"),
    }
    at.iter()
        .map(|l| {
            let db = Db::open(l, 2).unwrap();
            for m in std::iter::once(&COMMON_MIGRATIONS).chain(migrations.iter().copied()) {
                db.migrate(m).unwrap();
            }
            db
        })
        .collect()
}
