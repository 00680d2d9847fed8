//! Several nodes of one server on one database: who this node is, leases that let one node at a
//! time hold a piece of long-running work (an attendance camera), and relaying a request to the
//! node that holds it.
//!
//! A lease is a row (`leases`): its holder and when it runs out. The holder renews it every
//! [`RENEW_EVERY`]; a node that dies stops renewing and, [`LEASE_TTL_MS`] later, another node
//! may take the work. A node that stops gracefully releases its leases at once. On SQLite there
//! is one node and every lease is its own; the same code runs.

use crate::args;
use crate::db::prelude::*;
use serde::Serialize;
use std::sync::OnceLock;
use std::time::Duration;

/// How long a lease holds without renewal.
pub const LEASE_TTL_MS: i64 = 15_000;
/// How often a holder renews its leases (a third of the lease: two renewals may fail).
pub const RENEW_EVERY: Duration = Duration::from_secs(5);

/// The header a relayed request carries, so the node it reaches answers from itself and never
/// relays it again.
pub const RELAYED: &str = "x-faceprint-relayed";

/// This server process among the nodes sharing its database.
pub struct Node {
    /// Unique to this process (a restarted node is a new holder).
    id: String,
    /// `server.node_url`, or the address this node listens on once it is bound.
    url: OnceLock<String>,
}

impl Node {
    pub fn new(configured_url: Option<&str>) -> Node {
        let url = OnceLock::new();
        if let Some(u) = configured_url {
            let _ = url.set(u.trim_end_matches('/').to_string());
        }
        Node {
            id: uuid::Uuid::new_v4().to_string(),
            url,
        }
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    /// How the other nodes reach this one: `server.node_url`, else `http://` and the bound
    /// address (the host name when it listens on every interface).
    pub fn url(&self) -> &str {
        self.url.get().map_or("", String::as_str)
    }

    /// Records the address the node listens on, unless `server.node_url` named one.
    pub fn bound(&self, addr: std::net::SocketAddr) {
        let host = if addr.ip().is_unspecified() {
            std::fs::read_to_string("/proc/sys/kernel/hostname")
                .map(|h| h.trim().to_string())
                .unwrap_or_else(|_| "localhost".into())
        } else {
            addr.ip().to_string()
        };
        let host = if host.contains(':') {
            format!("[{host}]")
        } else {
            host
        };
        let _ = self.url.set(format!("http://{host}:{}", addr.port()));
    }
}

/// Who holds a lease.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Holder {
    pub node_id: String,
    /// Where that node answers (relayed requests go there).
    pub node_url: String,
}

/// Takes the lease `name` for `node`, or renews it: true when `node` holds it now, false when
/// another node holds an unexpired one. One statement: two nodes racing for a free lease
/// cannot both get it.
pub fn hold(c: &mut Sql<'_>, name: &str, node: &Node) -> DbResult<bool> {
    let now = now_ms();
    let changed = c.execute(
        "INSERT INTO leases (name, node_id, node_url, expires_ms) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (name) DO UPDATE SET node_id = excluded.node_id,
             node_url = excluded.node_url, expires_ms = excluded.expires_ms
         WHERE leases.node_id = excluded.node_id OR leases.expires_ms < ?5",
        args![name, node.id(), node.url(), now + LEASE_TTL_MS, now],
    )?;
    Ok(changed == 1)
}

/// Gives the lease up, if `node` holds it, so another node may take the work at once.
pub fn release(c: &mut Sql<'_>, name: &str, node: &Node) -> DbResult<()> {
    c.execute(
        "DELETE FROM leases WHERE name = ?1 AND node_id = ?2",
        args![name, node.id()],
    )?;
    Ok(())
}

/// Gives up every lease `node` holds (a graceful stop).
pub fn release_all(c: &mut Sql<'_>, node: &Node) -> DbResult<u64> {
    c.execute("DELETE FROM leases WHERE node_id = ?1", args![node.id()])
}

/// Frees the leases of an earlier run of this node: a holder at this node's own address is
/// that run (two live nodes cannot answer at one address), so its work need not wait for the
/// leases to run out after a crash. Nothing when the address is not known yet.
pub fn release_previous(c: &mut Sql<'_>, node: &Node) -> DbResult<u64> {
    if node.url().is_empty() {
        return Ok(0);
    }
    c.execute(
        "DELETE FROM leases WHERE node_url = ?1 AND node_id <> ?2",
        args![node.url(), node.id()],
    )
}

/// The unexpired leases whose names start with `prefix`, and their holders.
pub fn held(c: &mut Sql<'_>, prefix: &str) -> DbResult<Vec<(String, Holder)>> {
    // `substr` rather than LIKE: a prefix holding `%` or `_` means itself.
    c.query_map(
        "SELECT name, node_id, node_url FROM leases
         WHERE substr(name, 1, ?1) = ?2 AND expires_ms >= ?3",
        args![prefix.chars().count() as i64, prefix, now_ms()],
        |r| {
            Ok((
                r.get(0)?,
                Holder {
                    node_id: r.get(1)?,
                    node_url: r.get(2)?,
                },
            ))
        },
    )
}

/// The lease every live node holds on itself: how many nodes share the work.
pub fn node_lease(node: &Node) -> String {
    format!("node:{}", node.id())
}

/// The nodes alive now (their own lease unexpired).
pub fn live_nodes(c: &mut Sql<'_>) -> DbResult<Vec<Holder>> {
    Ok(held(c, "node:")?.into_iter().map(|(_, h)| h).collect())
}

/// Sends a request on to the node that holds the work it asks about, with the caller's
/// credentials (every node checks the same tokens) and the [`RELAYED`] mark; the answer
/// streams back as it comes (a live view never ends).
pub async fn relay(
    to: &Holder,
    path_and_query: &str,
    headers: &http::HeaderMap,
) -> Result<axum::response::Response, crate::ApiError> {
    let client = relay_client();
    let mut req = client
        .get(format!("{}{path_and_query}", to.node_url))
        .header(RELAYED, "1");
    for name in [http::header::AUTHORIZATION, http::header::COOKIE] {
        if let Some(v) = headers.get(&name) {
            req = req.header(name, v.clone());
        }
    }
    let unreachable = |e: String| {
        crate::ApiError::new(
            http::StatusCode::BAD_GATEWAY,
            "node_unreachable",
            format!(
                "this runs on the node at {}, which did not answer: {e}",
                to.node_url
            ),
        )
    };
    let res = req.send().await.map_err(|e| unreachable(without_url(e)))?;
    let mut out = axum::response::Response::builder().status(res.status().as_u16());
    for name in [http::header::CONTENT_TYPE, http::header::CACHE_CONTROL] {
        if let Some(v) = res.headers().get(name.as_str()) {
            out = out.header(name, v.as_bytes());
        }
    }
    out.body(axum::body::Body::from_stream(res.bytes_stream()))
        .map_err(crate::ApiError::internal)
}

fn relay_client() -> &'static reqwest::Client {
    static CLIENT: OnceLock<reqwest::Client> = OnceLock::new();
    CLIENT.get_or_init(|| {
        reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(3))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_default()
    })
}

/// reqwest's error without the URL it names (the caller's query may hold a token).
fn without_url(e: reqwest::Error) -> String {
    e.without_url().to_string()
}
