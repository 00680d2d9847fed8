//! Webhooks: HMAC-signed JSON posts of the servers' events (enrollments, authentications,
//! decisions) to HTTPS or loopback URLs, through a durable outbox: an event is written as a
//! pending delivery in the server database, then a background worker posts it and retries
//! with exponential backoff (2 s, 4 s, … up to an hour, 8 attempts) until a 2xx. Every
//! attempt is in the delivery log.
//!
//! Each post carries `x-faceprint-event`, `x-faceprint-delivery`, `x-faceprint-timestamp` and
//! `x-faceprint-signature: sha256=<hex>`, the HMAC-SHA256 under the webhook's secret of
//! `"<timestamp>.<body>"` — a receiver recomputes it and refuses stale timestamps.
//!
//! An admin's webhook must not reach the services beside the server: targets on internal
//! addresses (loopback, private, link-local…) are refused when saved and at every delivery
//! (the name is resolved again, each address checked) unless `outbound.allow_private_networks`.
//! Deliveries run side by side, at most one per webhook at a time, each bounded by a total
//! timeout, so a receiver that hangs holds up only its own.

use crate::db::prelude::*;
use crate::error::ApiResult;
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

/// Only HTTPS, or plain HTTP to this machine (events carry personal data); and no internal
/// address unless `allow_private` (see [`crate::outbound`]). Resolves the name: call it off
/// the async workers.
pub fn check_url(raw: &str, allow_private: bool) -> Result<(), String> {
    let u = url::Url::parse(raw).map_err(|e| format!("webhook url: {e}"))?;
    let loopback = match u.host() {
        Some(url::Host::Domain(d)) => d == "localhost",
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    match u.scheme() {
        "https" => {}
        "http" if loopback => {}
        _ => return Err("a webhook url must be https://, or http:// to localhost".into()),
    }
    crate::outbound::check_url(raw, allow_private).map_err(|e| format!("webhook url: {e}"))
}

/// Resolves the names of webhook targets for the delivery client, keeping internal addresses
/// out (unless allowed): what a name pointed to when the webhook was saved does not matter.
struct PublicOnly {
    allow_private: bool,
}

impl reqwest::dns::Resolve for PublicOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let allow_private = self.allow_private;
        Box::pin(async move {
            let host = name.as_str().to_string();
            let found: Vec<std::net::SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            if !allow_private {
                if let Some(a) = found
                    .iter()
                    .find(|a| crate::outbound::internal_kind(a.ip()).is_some())
                {
                    return Err(format!(
                        "{host} resolves to an internal address ({}): refused unless \
                         outbound.allow_private_networks",
                        a.ip()
                    )
                    .into());
                }
            }
            let addrs: reqwest::dns::Addrs = Box::new(found.into_iter());
            Ok(addrs)
        })
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

/// A delivery taken for sending.
struct Due {
    id: i64,
    webhook_id: String,
    url: String,
    secret: String,
    event: String,
    payload: String,
    attempts: i64,
}

const DELIVERY_LEASE_MS: i64 = 60_000;

/// Takes the next due delivery of a webhook not in `busy`: it is leased (not due again for a
/// minute), so that the other nodes sharing the database do not send it too; a node that dies
/// while sending leaves it to be sent again after the lease.
fn next_due(c: &mut Sql<'_>, busy: &[String]) -> DbResult<Option<Due>> {
    c.atomic(|c| {
        let now = now_ms();
        // The oldest few due: the first whose webhook is not busy here (one delivery per
        // webhook at a time keeps a slow receiver's queue from taking every slot).
        let due: Vec<Due> = c.query_map(
            "SELECT d.id, w.id, w.url, w.secret, d.event, d.payload, d.attempts FROM webhook_deliveries d
             JOIN webhooks w ON w.id = d.webhook_id
             WHERE d.status = 'pending' AND d.next_attempt_ms <= ?1 ORDER BY d.next_attempt_ms LIMIT 64",
            args![now],
            |r| {
                Ok(Due {
                    id: r.get(0)?,
                    webhook_id: r.get(1)?,
                    url: r.get(2)?,
                    secret: r.get(3)?,
                    event: r.get(4)?,
                    payload: r.get(5)?,
                    attempts: r.get(6)?,
                })
            },
        )?;
        let Some(d) = due.into_iter().find(|d| !busy.contains(&d.webhook_id)) else {
            return Ok(None);
        };
        c.execute(
            "UPDATE webhook_deliveries SET next_attempt_ms = ?2 WHERE id = ?1",
            args![d.id, now + DELIVERY_LEASE_MS],
        )?;
        Ok(Some(d))
    })
}

fn soonest(c: &mut Sql<'_>) -> DbResult<Option<i64>> {
    c.query_row(
        "SELECT MIN(next_attempt_ms) FROM webhook_deliveries WHERE status = 'pending'",
        args![],
        |r| r.get(0),
    )
}

/// Deliveries in flight at once, in all (each webhook has at most one).
const PARALLEL_DELIVERIES: usize = 8;

/// The delivery worker: runs until shutdown. Deliveries go side by side, one per webhook at a
/// time, each within a 10 s total timeout: a receiver that hangs delays its own deliveries,
/// not the others'.
pub async fn run_worker(common: Common) {
    let allow_private = common.settings().outbound.allow_private_networks;
    let client = match reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .connect_timeout(Duration::from_secs(5))
        .redirect(reqwest::redirect::Policy::none())
        .dns_resolver(std::sync::Arc::new(PublicOnly { allow_private }))
        .build()
    {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "webhook worker could not start");
            return;
        }
    };
    let token = common.shutdown().token.clone();
    let busy: std::sync::Arc<std::sync::Mutex<std::collections::HashSet<String>>> =
        Default::default();
    let slots = std::sync::Arc::new(tokio::sync::Semaphore::new(PARALLEL_DELIVERIES));
    let mut sending = tokio::task::JoinSet::new();
    loop {
        // Finished deliveries recorded their own outcome.
        while sending.try_join_next().is_some() {}
        let permit = tokio::select! {
            _ = token.cancelled() => return,
            p = slots.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => return,
            },
        };
        let skip: Vec<String> = lock(&busy).iter().cloned().collect();
        let due = match common.db(move |c| next_due(c, &skip)).await {
            Ok(d) => d,
            Err(e) => {
                tracing::warn!(error = %e, "webhook worker: database");
                None
            }
        };
        let Some(due) = due else {
            drop(permit);
            let wait = match common.db(soonest).await {
                Ok(Some(t)) => Duration::from_millis((t - now_ms()).clamp(10, 60_000) as u64),
                _ => Duration::from_secs(60),
            };
            // A delivery that ends may free a webhook whose next delivery is due already.
            let wait = if sending.is_empty() {
                wait
            } else {
                wait.min(Duration::from_millis(200))
            };
            tokio::select! {
                _ = token.cancelled() => return,
                _ = common.outbox().notify.notified() => {}
                _ = tokio::time::sleep(wait) => {}
            }
            continue;
        };
        lock(&busy).insert(due.webhook_id.clone());
        let (common, client, busy, token) =
            (common.clone(), client.clone(), busy.clone(), token.clone());
        sending.spawn(async move {
            let webhook = due.webhook_id.clone();
            tokio::select! {
                _ = token.cancelled() => {}
                _ = deliver(&common, &client, allow_private, due) => {}
            }
            lock(&busy).remove(&webhook);
            drop(permit);
        });
    }
}

fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Posts one delivery and records the outcome (retried with backoff, or given up).
async fn deliver(common: &Common, client: &reqwest::Client, allow_private: bool, due: Due) {
    let Due {
        id,
        url,
        secret,
        event,
        payload,
        attempts,
        ..
    } = due;
    // An address written in the URL is not resolved, so the resolver never sees it.
    let literal_internal = !allow_private
        && url::Url::parse(&url)
            .ok()
            .and_then(|u| match u.host() {
                Some(url::Host::Ipv4(ip)) => crate::outbound::internal_kind(ip.into()),
                Some(url::Host::Ipv6(ip)) => crate::outbound::internal_kind(ip.into()),
                _ => None,
            })
            .is_some();
    let (ok, status, error) = if literal_internal {
        (false, None, Some("internal address refused".to_string()))
    } else {
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
            .send()
            .await;
        match sent {
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
                } else if format!("{e:?}").contains("internal address") {
                    "internal address refused".to_string()
                } else {
                    "connection failed".to_string()
                }),
            ),
        }
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
