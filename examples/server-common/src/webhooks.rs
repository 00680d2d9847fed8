//! Webhooks: HMAC-signed JSON posts of the servers' events (enrollments, authentications,
//! decisions) to HTTPS or loopback URLs, through a durable outbox: an event is written as a
//! pending delivery in the server database, then a background worker posts it and retries
//! with exponential backoff (2 s, 4 s, … up to an hour, 8 attempts) until a 2xx. Every
//! attempt is in the delivery log.
//!
//! Each post carries `x-faceprint-event`, `x-faceprint-delivery`, `x-faceprint-timestamp` and
//! `x-faceprint-signature: sha256=<hex>`, the HMAC-SHA256 under the webhook's secret of
//! `"<timestamp>.<body>"` — a receiver recomputes it and refuses stale timestamps.

use crate::db::prelude::*;
use crate::error::{ApiError, ApiResult};
use crate::state::Common;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use std::time::Duration;
use tokio::sync::Notify;
use utoipa::ToSchema;

pub const MAX_ATTEMPTS: i64 = 8;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Webhook {
    pub id: String,
    pub url: String,
    pub events: Vec<String>,
    pub created_ms: i64,
    pub disabled: bool,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Delivery {
    pub id: i64,
    pub webhook_id: String,
    pub event: String,
    /// `pending`, `delivered` or `failed` (gave up after the last attempt).
    pub status: String,
    pub attempts: i64,
    pub next_attempt_ms: i64,
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
    pub created_ms: i64,
    pub delivered_ms: Option<i64>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewWebhook {
    pub url: String,
    /// Event names (e.g. `signup`, `login`, `enrollment`), or `*` for all.
    pub events: Vec<String>,
}

/// Only HTTPS, or plain HTTP to this machine: events carry personal data.
pub fn check_url(raw: &str) -> ApiResult<()> {
    let u = url::Url::parse(raw).map_err(|e| ApiError::bad_request(format!("webhook url: {e}")))?;
    let loopback = match u.host() {
        Some(url::Host::Domain(d)) => d == "localhost",
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    match u.scheme() {
        "https" => Ok(()),
        "http" if loopback => Ok(()),
        _ => Err(ApiError::bad_request(
            "a webhook url must be https://, or http:// to localhost",
        )),
    }
}

pub fn sign(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Creates a webhook; the answer carries its signing secret, shown once.
pub fn create(c: &mut Sql<'_>, new: &NewWebhook) -> DbResult<(Webhook, String)> {
    let id = uuid::Uuid::new_v4().to_string();
    let secret = crate::auth::random_token("whsec_");
    let events = if new.events.is_empty() {
        "*".to_string()
    } else {
        new.events.join(",")
    };
    c.execute(
        "INSERT INTO webhooks (id, url, secret, events, created_ms) VALUES (?1, ?2, ?3, ?4, ?5)",
        args![&id, &new.url, &secret, &events, now_ms()],
    )?;
    Ok((
        Webhook {
            id,
            url: new.url.clone(),
            events: events.split(',').map(String::from).collect(),
            created_ms: now_ms(),
            disabled: false,
        },
        secret,
    ))
}

pub fn list(c: &mut Sql<'_>) -> DbResult<Vec<Webhook>> {
    c.query_map(
        "SELECT id, url, events, created_ms, disabled FROM webhooks ORDER BY created_ms",
        args![],
        |r| {
            Ok(Webhook {
                id: r.get(0)?,
                url: r.get(1)?,
                events: r.get::<String>(2)?.split(',').map(String::from).collect(),
                created_ms: r.get(3)?,
                disabled: r.get::<i64>(4)? != 0,
            })
        },
    )
}

pub fn delete(c: &mut Sql<'_>, id: &str) -> DbResult<bool> {
    Ok(c.execute("DELETE FROM webhooks WHERE id = ?1", args![id])? > 0)
}

pub fn deliveries(
    c: &mut Sql<'_>,
    webhook_id: Option<&str>,
    limit: u32,
) -> DbResult<Vec<Delivery>> {
    c.query_map(
        "SELECT id, webhook_id, event, status, attempts, next_attempt_ms, last_status, last_error, created_ms, delivered_ms
         FROM webhook_deliveries WHERE CAST(?1 AS TEXT) IS NULL OR webhook_id = ?1 ORDER BY id DESC LIMIT ?2",
        args![webhook_id, limit.clamp(1, 500) as i64],
        |r| {
        Ok(Delivery {
            id: r.get(0)?,
            webhook_id: r.get(1)?,
            event: r.get(2)?,
            status: r.get(3)?,
            attempts: r.get(4)?,
            next_attempt_ms: r.get(5)?,
            last_status: r.get(6)?,
            last_error: r.get(7)?,
            created_ms: r.get(8)?,
            delivered_ms: r.get(9)?,
        })
        },
    )
}

/// Queues `event` for every webhook that wants it; returns how many deliveries were queued.
pub fn enqueue(c: &mut Sql<'_>, event: &str, payload: &serde_json::Value) -> DbResult<usize> {
    let body =
        serde_json::json!({ "event": event, "at_ms": now_ms(), "data": payload }).to_string();
    c.execute(
        "INSERT INTO webhook_deliveries (webhook_id, event, payload, status, next_attempt_ms, created_ms)
         SELECT id, CAST(?1 AS TEXT), CAST(?2 AS TEXT), 'pending', CAST(?3 AS BIGINT), CAST(?3 AS BIGINT) FROM webhooks
         WHERE disabled = 0 AND (events = '*' OR ',' || events || ',' LIKE '%,' || ?1 || ',%')",
        args![event, body, now_ms()],
    )
    .map(|n| n as usize)
}

/// Wakes the worker when something was queued.
#[derive(Default)]
pub struct Outbox {
    pub notify: Notify,
}

impl Common {
    /// Queues an event for the webhooks (durably) and wakes the worker.
    pub async fn emit(&self, event: &'static str, payload: serde_json::Value) -> ApiResult<()> {
        let queued = self.db(move |c| enqueue(c, event, &payload)).await?;
        if queued > 0 {
            self.outbox().notify.notify_one();
        }
        Ok(())
    }
}

type Due = (i64, String, String, String, String, i64);

/// How long a node that took a delivery has to send it before another node may take it.
const DELIVERY_LEASE_MS: i64 = 60_000;

/// Takes the next due delivery: it is leased (not due again for a minute), so that the other
/// nodes sharing the database do not send it too; a node that dies while sending leaves it
/// to be sent again after the lease.
fn next_due(c: &mut Sql<'_>) -> DbResult<Option<Due>> {
    c.atomic(|c| {
        let now = now_ms();
        let due: Option<Due> = c
            .query_row(
                "SELECT d.id, w.url, w.secret, d.event, d.payload, d.attempts FROM webhook_deliveries d
                 JOIN webhooks w ON w.id = d.webhook_id
                 WHERE d.status = 'pending' AND d.next_attempt_ms <= ?1 ORDER BY d.next_attempt_ms LIMIT 1",
                args![now],
                |r| {
                    Ok((
                        r.get(0)?,
                        r.get(1)?,
                        r.get(2)?,
                        r.get(3)?,
                        r.get(4)?,
                        r.get(5)?,
                    ))
                },
            )
            .optional()?;
        if let Some(d) = &due {
            c.execute(
                "UPDATE webhook_deliveries SET next_attempt_ms = ?2 WHERE id = ?1",
                args![d.0, now + DELIVERY_LEASE_MS],
            )?;
        }
        Ok(due)
    })
}

fn soonest(c: &mut Sql<'_>) -> DbResult<Option<i64>> {
    c.query_row(
        "SELECT MIN(next_attempt_ms) FROM webhook_deliveries WHERE status = 'pending'",
        args![],
        |r| r.get(0),
    )
}

/// The delivery worker: runs until shutdown. One delivery at a time (webhooks are few and
/// small); a receiver that hangs costs at most the 10 s timeout.
pub async fn run_worker(common: Common) {
    let client = match reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none())
        .build()
    {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "webhook worker could not start");
            return;
        }
    };
    let token = common.shutdown().token.clone();
    loop {
        let due = match common.db(next_due).await {
            Ok(d) => d,
            Err(e) => {
                tracing::warn!(error = %e, "webhook worker: database");
                None
            }
        };
        let Some((id, url, secret, event, payload, attempts)) = due else {
            let wait = match common.db(soonest).await {
                Ok(Some(t)) => Duration::from_millis((t - now_ms()).clamp(10, 60_000) as u64),
                _ => Duration::from_secs(60),
            };
            tokio::select! {
                _ = token.cancelled() => return,
                _ = common.outbox().notify.notified() => {}
                _ = tokio::time::sleep(wait) => {}
            }
            continue;
        };
        let ts = now_ms() / 1000;
        let signature = sign(&secret, ts, payload.as_bytes());
        let sent = client
            .post(&url)
            .header("content-type", "application/json")
            .header("x-faceprint-event", &event)
            .header("x-faceprint-delivery", id.to_string())
            .header("x-faceprint-timestamp", ts.to_string())
            .header("x-faceprint-signature", signature)
            .body(payload)
            .send();
        let outcome = tokio::select! {
            _ = token.cancelled() => return,
            r = sent => r,
        };
        let (ok, status, error) = match outcome {
            Ok(res) => (
                res.status().is_success(),
                Some(res.status().as_u16() as i64),
                (!res.status().is_success()).then(|| format!("HTTP {}", res.status())),
            ),
            Err(e) => (
                false,
                None,
                Some(if e.is_timeout() {
                    "timeout".to_string()
                } else {
                    "connection failed".to_string()
                }),
            ),
        };
        metrics::counter!("faceprint_webhook_attempts_total", "outcome" => if ok { "delivered" } else { "failed" }).increment(1);
        let attempts = attempts + 1;
        let result = common
            .db(move |c| {
                if ok {
                    c.execute("UPDATE webhook_deliveries SET status = 'delivered', attempts = ?2, last_status = ?3, last_error = NULL, delivered_ms = ?4 WHERE id = ?1", args![id, attempts, status, now_ms()])?;
                } else {
                    let gave_up = attempts >= MAX_ATTEMPTS;
                    let backoff = 1000i64 << attempts.min(11);
                    c.execute(
                        "UPDATE webhook_deliveries SET status = ?2, attempts = ?3, last_status = ?4, last_error = ?5, next_attempt_ms = ?6 WHERE id = ?1",
                        args![id, if gave_up { "failed" } else { "pending" }, attempts, status, error, now_ms() + backoff.min(3_600_000)],
                    )?;
                }
                Ok(())
            })
            .await;
        if let Err(e) = result {
            tracing::warn!(error = %e, "webhook worker: could not record a delivery");
        }
    }
}
