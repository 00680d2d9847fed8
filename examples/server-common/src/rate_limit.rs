//! Rate limits (GCRA): per client IP on the unauthenticated routes (signup, login, refresh),
//! per API key at the key's own rate. Over the limit answers 429 with `Retry-After`.
//!
//! One process (SQLite): the limits live in memory (`governor`). Several processes sharing
//! PostgreSQL (`server.database`): each bucket is one row of `rate_buckets` there, so a limit
//! holds across every node behind the balancer — in PostgreSQL rather than Redis because the
//! nodes share it already (no other service to run and secure) and a check is one upsert of one
//! row.

use crate::config::RateLimitConfig;
use crate::error::ApiError;
use crate::state::Common;
use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultDirectRateLimiter, DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};

pub struct RateLimits {
    per_ip: DefaultKeyedRateLimiter<IpAddr>,
    per_key: Mutex<HashMap<String, (u32, Arc<DefaultDirectRateLimiter>)>>,
    trusted_proxies: Vec<crate::outbound::Cidr>,
}

fn nz(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n.max(1)).unwrap_or(NonZeroU32::MIN)
}

impl RateLimits {
    pub fn new(c: &RateLimitConfig) -> RateLimits {
        RateLimits {
            per_ip: RateLimiter::keyed(
                Quota::per_minute(nz(c.per_ip_per_minute)).allow_burst(nz(c.per_ip_burst)),
            ),
            per_key: Mutex::new(HashMap::new()),
            // Checked by the configuration's validation.
            trusted_proxies: c.trusted_proxies().unwrap_or_default(),
        }
    }

    fn retry_after(wait: std::time::Duration) -> u64 {
        wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
    }

    pub fn check_ip(&self, ip: IpAddr) -> Result<(), ApiError> {
        self.per_ip.check_key(&ip).map_err(|not_until| {
            metrics::counter!("faceprint_rate_limited_total", "scope" => "ip").increment(1);
            ApiError::rate_limited(Self::retry_after(
                not_until.wait_time_from(DefaultClock::default().now()),
            ))
        })
    }

    /// One call of API key `id` at `per_minute` (a changed rate replaces the key's limiter).
    pub fn check_key(&self, id: &str, per_minute: u32) -> Result<(), ApiError> {
        let limiter = {
            let mut map = self.per_key.lock().unwrap_or_else(|p| p.into_inner());
            match map.get(id) {
                Some((rate, l)) if *rate == per_minute => l.clone(),
                _ => {
                    // Burst of a tenth of a minute's calls, at least one.
                    let q =
                        Quota::per_minute(nz(per_minute)).allow_burst(nz((per_minute / 10).max(1)));
                    let l = Arc::new(RateLimiter::direct(q));
                    map.insert(id.to_string(), (per_minute, l.clone()));
                    l
                }
            }
        };
        limiter.check().map_err(|not_until| {
            metrics::counter!("faceprint_rate_limited_total", "scope" => "api_key").increment(1);
            ApiError::rate_limited(Self::retry_after(
                not_until.wait_time_from(DefaultClock::default().now()),
            ))
        })
    }

    /// The caller's IP: the socket's, or behind `rate_limit.trusted_proxies` the address the
    /// nearest untrusted hop appended to `X-Forwarded-For` (see
    /// [`crate::outbound::client_address`]).
    pub fn client_ip(&self, req: &axum::http::request::Parts) -> IpAddr {
        let peer = req
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(IpAddr::from([127, 0, 0, 1]), |c| c.0.ip());
        if self.trusted_proxies.is_empty() {
            return peer;
        }
        // Every X-Forwarded-For line, in order, as one list.
        let forwarded: Vec<&str> = req
            .headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect();
        let forwarded = (!forwarded.is_empty()).then(|| forwarded.join(","));
        crate::outbound::client_address(peer, forwarded.as_deref(), &self.trusted_proxies)
    }

    /// Forgets idle keys (called now and then, so the maps do not grow without bound).
    pub fn prune(&self) {
        self.per_ip.retain_recent();
        self.per_ip.shrink_to_fit();
    }
}

/// The GCRA in the database: one row per bucket holding its theoretical arrival time. A call
/// moves it one `interval_ms` on (from now at the earliest) unless that puts it more than
/// `burst` intervals ahead of now; `Err(seconds to wait)` then. One statement: racing nodes
/// each see the row as the other left it.
pub fn take_shared(
    c: &mut crate::db::Sql<'_>,
    bucket: &str,
    interval_ms: i64,
    burst: u32,
) -> crate::db::DbResult<Result<(), u64>> {
    use crate::db::prelude::*;
    let now = now_ms();
    let window = interval_ms * i64::from(burst.max(1));
    // CASE, not max()/GREATEST(): SQLite and PostgreSQL spell the larger of two differently.
    let taken: Option<i64> = c
        .query_one(
            "INSERT INTO rate_buckets (bucket, tat_ms) VALUES (?1, ?5)
             ON CONFLICT (bucket) DO UPDATE
               SET tat_ms = (CASE WHEN rate_buckets.tat_ms > ?2 THEN rate_buckets.tat_ms ELSE ?2 END) + ?3
               WHERE (CASE WHEN rate_buckets.tat_ms > ?2 THEN rate_buckets.tat_ms ELSE ?2 END) + ?3 - ?2 <= ?4
             RETURNING tat_ms",
            args![bucket, now, interval_ms, window, now + interval_ms],
        )
        .optional()?;
    if taken.is_some() {
        return Ok(Ok(()));
    }
    let tat: i64 = c.query_one(
        "SELECT tat_ms FROM rate_buckets WHERE bucket = ?1",
        args![bucket],
    )?;
    let wait_ms = (tat + interval_ms - now - window).max(1);
    Ok(Err(((wait_ms + 999) / 1000) as u64))
}

impl Common {
    /// Whether the limits are kept in the shared database (several nodes) or in memory.
    fn shared_limits(&self) -> bool {
        self.settings().server.database.is_some()
    }

    async fn take_shared_bucket(
        &self,
        scope: &'static str,
        bucket: String,
        per_minute: u32,
        burst: u32,
    ) -> Result<(), ApiError> {
        let interval_ms = (60_000 / i64::from(per_minute.max(1))).max(1);
        match self
            .db(move |c| take_shared(c, &bucket, interval_ms, burst))
            .await?
        {
            Ok(()) => Ok(()),
            Err(wait) => {
                metrics::counter!("faceprint_rate_limited_total", "scope" => scope).increment(1);
                Err(ApiError::rate_limited(wait))
            }
        }
    }

    /// One call from `ip` on the public routes: 429 over the limit.
    pub async fn limit_ip(&self, ip: IpAddr) -> Result<(), ApiError> {
        if !self.shared_limits() {
            return self.rate_limits().check_ip(ip);
        }
        let c = &self.settings().rate_limit;
        let (per_minute, burst) = (c.per_ip_per_minute, c.per_ip_burst);
        self.take_shared_bucket("ip", format!("ip:{ip}"), per_minute, burst)
            .await
    }

    /// One call of API key `id` at its rate of `per_minute`: 429 over the limit.
    pub async fn limit_key(&self, id: &str, per_minute: u32) -> Result<(), ApiError> {
        if !self.shared_limits() {
            return self.rate_limits().check_key(id, per_minute);
        }
        // Burst of a tenth of a minute's calls, at least one (as in memory).
        let burst = (per_minute / 10).max(1);
        self.take_shared_bucket("api_key", format!("key:{id}"), per_minute, burst)
            .await
    }

    /// Forgets idle buckets, in memory and (shared limits) in the database.
    pub async fn prune_rate_limits(&self) -> Result<(), ApiError> {
        self.rate_limits().prune();
        if self.shared_limits() {
            use crate::db::prelude::*;
            self.db(|c| {
                c.execute(
                    "DELETE FROM rate_buckets WHERE tat_ms < ?1",
                    args![now_ms() - 3_600_000],
                )
            })
            .await?;
        }
        Ok(())
    }
}

/// `router` with every route limited per client IP ([`limit_by_ip`]): for the routes called
/// without a token (signup, logins, refresh).
pub fn public<S>(router: axum::Router<S>, common: &Common) -> axum::Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    router.route_layer(axum::middleware::from_fn_with_state(
        common.clone(),
        limit_by_ip,
    ))
}

/// Middleware for the unauthenticated routes: one bucket per client IP.
pub async fn limit_by_ip(
    State(common): State<Common>,
    req: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let (parts, body) = req.into_parts();
    let ip = common.rate_limits().client_ip(&parts);
    common.limit_ip(ip).await?;
    Ok(next.run(Request::from_parts(parts, body)).await)
}
