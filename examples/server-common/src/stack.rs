//! The one middleware stack of every server, outermost first: request id (set, then echoed),
//! tracing span per request (path only: query strings can carry tokens), the error envelope,
//! panic catching, security headers, CORS, the 408 timeout, the body-size limit and the
//! per-route metrics.

use crate::state::Common;
use axum::extract::DefaultBodyLimit;
use axum::http::{header, HeaderName, HeaderValue, Method, Request, StatusCode};
use axum::middleware::{from_fn, map_request};
use axum::Router;
use std::time::Duration;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::request_id::{PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::{RequestBodyTimeoutLayer, TimeoutLayer};
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

/// A server's whole application: its routes with `state`, the OpenAPI document (`/docs`,
/// `/openapi.json`) under `title` and `description`, inside [`standard_layers`].
pub fn application<S>(
    routes: Router<S>,
    api: utoipa::openapi::OpenApi,
    title: &str,
    description: &str,
    state: S,
) -> Router
where
    S: Clone + Send + Sync + 'static,
    Common: axum::extract::FromRef<S>,
{
    let common = <Common as axum::extract::FromRef<S>>::from_ref(&state);
    let api = crate::openapi::finish(api, title, description);
    let router = routes.merge(crate::openapi::router(api)).with_state(state);
    standard_layers(router, &common)
}

pub fn standard_layers(router: Router, common: &Common) -> Router {
    let s = common.settings();
    let timeout = Duration::from_secs(s.limits.request_timeout_secs.max(1));
    let mut router = router
        .layer(from_fn(crate::metrics::track))
        .layer(DefaultBodyLimit::max(s.limits.max_body_bytes()))
        .layer(RequestBodyTimeoutLayer::new(timeout))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            timeout,
        ))
        .layer(cors(&s.http.cors_origins));
    for (name, value) in security_headers(&s.http) {
        router = router.layer(SetResponseHeaderLayer::if_not_present(name, value));
    }
    router
        .layer(CatchPanicLayer::custom(|_: Box<dyn std::any::Any + Send>| {
            tracing::error!("a handler panicked");
            axum::response::IntoResponse::into_response(crate::error::ApiError::internal("handler panicked"))
        }))
        .layer(from_fn(crate::error::error_envelope))
        .layer(PropagateRequestIdLayer::new(crate::request_id::header_name()))
        .layer(tower_http::propagate_header::PropagateHeaderLayer::new(HeaderName::from_static(
            crate::request_id::CLIENT_HEADER,
        )))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|req: &Request<_>| {
                    let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
                    let (id, theirs) = (header(crate::request_id::HEADER), header(crate::request_id::CLIENT_HEADER));
                    tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id = %id, client_request_id = %theirs)
                })
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
        .layer(SetRequestIdLayer::new(crate::request_id::header_name(), crate::request_id::MakeUuid))
        .layer(map_request(crate::request_id::sanitize))
}

fn security_headers(http: &crate::config::HttpConfig) -> Vec<(HeaderName, HeaderValue)> {
    let mut h = vec![
        (
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
        (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
        (
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ),
        (
            HeaderName::from_static("cross-origin-opener-policy"),
            HeaderValue::from_static("same-origin"),
        ),
        (
            HeaderName::from_static("permissions-policy"),
            HeaderValue::from_static("camera=(self), microphone=(), geolocation=()"),
        ),
    ];
    if let Ok(v) = HeaderValue::from_str(&http.content_security_policy) {
        h.push((header::CONTENT_SECURITY_POLICY, v));
    }
    if http.hsts {
        h.push((
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        ));
    }
    h
}

fn cors(origins: &[String]) -> CorsLayer {
    let methods = [
        Method::GET,
        Method::POST,
        Method::PUT,
        Method::PATCH,
        Method::DELETE,
    ];
    let headers = [
        header::AUTHORIZATION,
        header::CONTENT_TYPE,
        HeaderName::from_static("x-api-key"),
        HeaderName::from_static("x-request-id"),
    ];
    if origins.iter().any(|o| o == "*") {
        return CorsLayer::new()
            .allow_origin(tower_http::cors::Any)
            .allow_methods(methods)
            .allow_headers(headers);
    }
    let list: Vec<HeaderValue> = origins
        .iter()
        .filter_map(|o| HeaderValue::from_str(o).ok())
        .collect();
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(list))
        .allow_methods(methods)
        .allow_headers(headers)
        .expose_headers([
            HeaderName::from_static("x-request-id"),
            HeaderName::from_static(crate::request_id::CLIENT_HEADER),
            header::RETRY_AFTER,
        ])
}
