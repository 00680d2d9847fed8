//! Serving with a graceful stop: on the signal, readiness fails, background tasks are cancelled
//! and awaited (with a deadline), in-flight requests drain, and the engine saves its index
//! snapshots before the store closes.
//!
//! Connections cost the server nothing it does not bound: a client must send each request's
//! head within `http.header_read_timeout_secs` (also the longest a keep-alive connection may
//! sit idle), and open connections are capped per client address and in all (`http.*`), so
//! thousands of silent sockets from one address are closed, not held.

use crate::state::Common;
use axum::extract::ConnectInfo;
use axum::Router;
use std::collections::HashMap;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The connections open now, per client address and in all.
struct Connections {
    per_ip: Mutex<HashMap<IpAddr, usize>>,
    total: Mutex<usize>,
    max_total: usize,
    max_per_ip: usize,
    /// Proxies in front (`rate_limit.trusted_proxies`): their connections carry many
    /// clients, so only the total caps them.
    proxies: Vec<crate::outbound::Cidr>,
}

/// One admitted connection; freed when dropped.
struct Slot {
    conns: Arc<Connections>,
    ip: Option<IpAddr>,
}

impl Connections {
    fn admit(self: &Arc<Self>, ip: IpAddr) -> Option<Slot> {
        let mut total = self.total.lock().unwrap_or_else(|e| e.into_inner());
        if *total >= self.max_total {
            return None;
        }
        let counted = !self.proxies.iter().any(|p| p.contains(ip));
        if counted {
            let mut per_ip = self.per_ip.lock().unwrap_or_else(|e| e.into_inner());
            let n = per_ip.entry(ip).or_insert(0);
            if *n >= self.max_per_ip {
                return None;
            }
            *n += 1;
        }
        *total += 1;
        Some(Slot {
            conns: self.clone(),
            ip: counted.then_some(ip),
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        *self.conns.total.lock().unwrap_or_else(|e| e.into_inner()) -= 1;
        if let Some(ip) = self.ip {
            let mut per_ip = self.conns.per_ip.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(n) = per_ip.get_mut(&ip) {
                *n -= 1;
                if *n == 0 {
                    per_ip.remove(&ip);
                }
            }
        }
    }
}

/// Binds `listen` (clear error when taken).
pub async fn bind(listen: SocketAddr) -> Result<tokio::net::TcpListener, String> {
    tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| format!("cannot listen on {listen}: {e}"))
}

/// Serves `app` until `stop` resolves, then shuts down in order.
pub async fn serve(
    app: Router,
    common: Common,
    listener: tokio::net::TcpListener,
    stop: impl Future<Output = ()> + Send + 'static,
) -> Result<(), String> {
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    if !addr.ip().is_loopback() {
        tracing::warn!(%addr, "listening beyond loopback: put a TLS proxy in front (see the README's deployment note)");
    }
    common.node().bound(addr);
    tracing::info!(%addr, server = common.name(), node = common.node().url(), "listening");
    common
        .shutdown()
        .spawn(crate::webhooks::run_worker(common.clone()));
    let maintenance = {
        let c = common.clone();
        let token = common.shutdown().token.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(60));
            loop {
                tokio::select! {
                    _ = token.cancelled() => break,
                    _ = tick.tick() => {
                        if let Err(e) = c.prune_rate_limits().await {
                            tracing::warn!(error = %e.message, "rate-limit buckets not pruned; retrying next round");
                        }
                        if let Some(h) = crate::metrics::recorder() { h.run_upkeep(); }
                        // Frame sessions abandoned mid-way hold camera frames: gone an hour
                        // after they expire, whichever server keeps them.
                        if let Err(e) = crate::frames::purge_expired(&c).await {
                            tracing::warn!(error = %e.message, "expired frame sessions not purged; retrying next round");
                        }
                    }
                }
            }
        })
    };
    let grace = Duration::from_secs(common.settings().server.shutdown_grace_secs);
    let http = &common.settings().http;
    let conns = Arc::new(Connections {
        per_ip: Mutex::new(HashMap::new()),
        total: Mutex::new(0),
        max_total: http.max_connections,
        max_per_ip: http.max_connections_per_ip,
        proxies: common
            .settings()
            .rate_limit
            .trusted_proxies()
            .unwrap_or_default(),
    });
    let header_timeout = Duration::from_secs(http.header_read_timeout_secs);
    // HTTP/1.1 (with upgrades, for the WebSockets): what the TLS proxy in front speaks to the
    // server. hyper's protocol sniffing for cleartext HTTP/2 waits for a first byte with no
    // timer at all, so a silent connection would stay open for good.
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(header_timeout);
    // Every connection: told to finish its request and close when the stop comes.
    let connections = tokio_util::task::TaskTracker::new();
    let closing = tokio_util::sync::CancellationToken::new();
    let mut stop = std::pin::pin!(stop);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors and the like: wait a moment, keep serving.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = &mut stop => break,
        };
        let Some(slot) = conns.admit(peer.ip()) else {
            metrics::counter!("faceprint_connections_refused_total").increment(1);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let app = tower::ServiceBuilder::new()
            .map_request(move |mut req: axum::http::Request<hyper::body::Incoming>| {
                req.extensions_mut().insert(ConnectInfo(peer));
                req
            })
            .service(app.clone());
        let conn = builder
            .serve_connection(
                hyper_util::rt::TokioIo::new(stream),
                hyper_util::service::TowerToHyperService::new(app),
            )
            .with_upgrades();
        let closing = closing.clone();
        connections.spawn(async move {
            let mut conn = std::pin::pin!(conn);
            // A client that hangs up or times out ends its connection: nothing to report.
            tokio::select! {
                _ = conn.as_mut() => {}
                _ = closing.cancelled() => {
                    conn.as_mut().graceful_shutdown();
                    let _ = conn.await;
                }
            }
            drop(slot);
        });
    }
    connections.close();
    closing.cancel();
    common.begin_drain();
    // WebSocket sessions and other background tasks save their state and close now; an
    // upgraded connection would otherwise hold the drain open.
    common.shutdown().token.cancel();
    let served = tokio::select! {
        _ = connections.wait() => Ok(()),
        _ = tokio::time::sleep(grace) => {
            tracing::warn!(grace_secs = grace.as_secs(), "requests still running after the grace period; stopping anyway");
            Ok::<(), String>(())
        }
    };
    maintenance.abort();
    let tracker = &common.shutdown().tracker;
    tracker.close();
    if tokio::time::timeout(grace, tracker.wait()).await.is_err() {
        tracing::warn!("background tasks did not finish within the grace period");
    }
    let engine = common.engine().clone();
    let _ = tokio::task::spawn_blocking(move || engine.save_index_snapshots()).await;
    tracing::info!("stopped cleanly");
    served
}
