//! Serving with a graceful stop: on the signal, readiness fails, background tasks are cancelled
//! and awaited (with a deadline), in-flight requests drain, and the engine saves its index
//! snapshots before the store closes.

use crate::state::Common;
use axum::Router;
use std::future::{Future, IntoFuture};
use std::net::SocketAddr;
use std::time::Duration;

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
    let c = common.clone();
    let grace = Duration::from_secs(common.settings().server.shutdown_grace_secs);
    let drained = axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        stop.await;
        c.begin_drain();
        // WebSocket sessions and other background tasks save their state and close now;
        // an upgraded connection would otherwise hold the drain open.
        c.shutdown().token.cancel();
    });
    let mut drained = std::pin::pin!(drained.into_future());
    let served = tokio::select! {
        r = &mut drained => r.map_err(|e| e.to_string()),
        _ = async {
            common.shutdown().token.cancelled().await;
            tokio::time::sleep(grace).await;
        } => {
            tracing::warn!(grace_secs = grace.as_secs(), "requests still running after the grace period; stopping anyway");
            Ok(())
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
