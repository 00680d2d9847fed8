//! Webhooks: HMAC-signed JSON posts of the servers' events (enrollments, authentications,
//! decisions) to HTTPS or loopback URLs, through a durable outbox: an event is written as a
//! pending delivery in the server database, then a background worker posts it and retries
//! with exponential backoff (2 s, 4 s, … up to an hour, 8 attempts) until a 2xx. Every
//! attempt is in the delivery log.
//!
//! Each post carries `x-faceprint-event`, `x-faceprint-delivery`, `x-faceprint-timestamp` and
//! `x-faceprint-signature: sha256=<hex>`, the HMAC-SHA256 under the webhook's secret of
//! `"<timestamp>.<body>"` — a receiver recomputes it and refuses stale timestamps.

use crate::db::now_ms;
use crate::error::{ApiError, ApiResult};
use crate::state::Common;
use hmac::{Hmac, Mac};
use rusqlite::{params, Connection, OptionalExtension};
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
pub fn create(conn: &Connection, new: &NewWebhook) -> rusqlite::Result<(Webhook, String)> {
    let id = uuid::Uuid::new_v4().to_string();
    let secret = crate::auth::random_token("whsec_");
    let events = if new.events.is_empty() {
        "*".to_string()
    } else {
        new.events.join(",")
    };
    conn.execute(
        "INSERT INTO webhooks (id, url, secret, events, created_ms) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![id, new.url, secret, events, now_ms()],
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

pub fn list(conn: &Connection) -> rusqlite::Result<Vec<Webhook>> {
    let mut st = conn.prepare(
        "SELECT id, url, events, created_ms, disabled FROM webhooks ORDER BY created_ms",
    )?;
    let rows = st.query_map([], |r| {
        Ok(Webhook {
            id: r.get(0)?,
            url: r.get(1)?,
            events: r
                .get::<_, String>(2)?
                .split(',')
                .map(String::from)
                .collect(),
            created_ms: r.get(3)?,
            disabled: r.get::<_, i64>(4)? != 0,
        })
    })?;
    rows.collect()
}

pub fn delete(conn: &Connection, id: &str) -> rusqlite::Result<bool> {
    Ok(conn.execute("DELETE FROM webhooks WHERE id = ?1", [id])? > 0)
}

pub fn deliveries(
    conn: &Connection,
    webhook_id: Option<&str>,
    limit: u32,
) -> rusqlite::Result<Vec<Delivery>> {
    let mut st = conn.prepare(
        "SELECT id, webhook_id, event, status, attempts, next_attempt_ms, last_status, last_error, created_ms, delivered_ms
         FROM webhook_deliveries WHERE ?1 IS NULL OR webhook_id = ?1 ORDER BY id DESC LIMIT ?2",
    )?;
    let rows = st.query_map(params![webhook_id, limit.clamp(1, 500) as i64], |r| {
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
    })?;
    rows.collect()
}

/// Queues `event` for every webhook that wants it; returns how many deliveries were queued.
pub fn enqueue(
    conn: &Connection,
    event: &str,
    payload: &serde_json::Value,
) -> rusqlite::Result<usize> {
    let body =
        serde_json::json!({ "event": event, "at_ms": now_ms(), "data": payload }).to_string();
    conn.execute(
        "INSERT INTO webhook_deliveries (webhook_id, event, payload, status, next_attempt_ms, created_ms)
         SELECT id, ?1, ?2, 'pending', ?3, ?3 FROM webhooks
         WHERE disabled = 0 AND (events = '*' OR ',' || events || ',' LIKE '%,' || ?1 || ',%')",
        params![event, body, now_ms()],
    )
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

fn next_due(conn: &Connection) -> rusqlite::Result<Option<Due>> {
    conn.query_row(
        "SELECT d.id, w.url, w.secret, d.event, d.payload, d.attempts FROM webhook_deliveries d
         JOIN webhooks w ON w.id = d.webhook_id
         WHERE d.status = 'pending' AND d.next_attempt_ms <= ?1 ORDER BY d.next_attempt_ms LIMIT 1",
        [now_ms()],
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
    .optional()
}

fn soonest(conn: &Connection) -> rusqlite::Result<Option<i64>> {
    conn.query_row(
        "SELECT MIN(next_attempt_ms) FROM webhook_deliveries WHERE status = 'pending'",
        [],
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
        let due = match common.db(|c| next_due(c)).await {
            Ok(d) => d,
            Err(e) => {
                tracing::warn!(error = %e, "webhook worker: database");
                None
            }
        };
        let Some((id, url, secret, event, payload, attempts)) = due else {
            let wait = match common.db(|c| soonest(c)).await {
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
                    c.execute("UPDATE webhook_deliveries SET status = 'delivered', attempts = ?2, last_status = ?3, last_error = NULL, delivered_ms = ?4 WHERE id = ?1", params![id, attempts, status, now_ms()])?;
                } else {
                    let gave_up = attempts >= MAX_ATTEMPTS;
                    let backoff = 1000i64 << attempts.min(11);
                    c.execute(
                        "UPDATE webhook_deliveries SET status = ?2, attempts = ?3, last_status = ?4, last_error = ?5, next_attempt_ms = ?6 WHERE id = ?1",
                        params![id, if gave_up { "failed" } else { "pending" }, attempts, status, error, now_ms() + backoff.min(3_600_000)],
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
