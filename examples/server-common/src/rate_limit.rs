//! Rate limits (GCRA, from `governor`): per client IP on the unauthenticated routes (signup,
//! login, refresh), per API key at the key's own rate. Over the limit answers 429 with
//! `Retry-After`. Limits live in this process; several nodes behind one balancer each apply
//! them to the traffic they see.

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
    trust_forwarded_for: bool,
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
            trust_forwarded_for: c.trust_forwarded_for,
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

    /// The caller's IP: the socket's, or the first `X-Forwarded-For` hop behind a trusted proxy.
    pub fn client_ip(&self, req: &axum::http::request::Parts) -> IpAddr {
        if self.trust_forwarded_for {
            if let Some(ip) = req
                .headers
                .get("x-forwarded-for")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.split(',').next())
                .and_then(|s| s.trim().parse().ok())
            {
                return ip;
            }
        }
        req.extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(IpAddr::from([127, 0, 0, 1]), |c| c.0.ip())
    }

    /// Forgets idle keys (called now and then, so the maps do not grow without bound).
    pub fn prune(&self) {
        self.per_ip.retain_recent();
        self.per_ip.shrink_to_fit();
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
    common.rate_limits().check_ip(ip)?;
    Ok(next.run(Request::from_parts(parts, body)).await)
}
