//! `/api/admin/audit`, `/api/admin/webhooks` and `/api/admin/api-keys`: the audit trail, the
//! webhooks and the API keys (role `admin`), the same in every server (what a key may be scoped
//! to is the server's [`KeyScope`](crate::auth::api_key::KeyScope)).

use crate::auth::api_key::{self, ApiKeyInfo, NewApiKey};
use crate::auth::{AdminUser, AuditReader};
use crate::caller::Caller;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::events::{self, Event, EventQuery};
use crate::state::Common;
use crate::webhooks::{self, Delivery, NewWebhook, Webhook};
use axum::extract::{FromRef, Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The audit and webhook routes, for a server whose state gives out its `Common`.
pub fn router<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    Common: FromRef<S>,
{
    OpenApiRouter::new()
        .routes(routes!(audit))
        .routes(routes!(list_webhooks, create_webhook))
        .routes(routes!(delete_webhook))
        .routes(routes!(webhook_deliveries))
        .routes(routes!(list_api_keys, create_api_key))
        .routes(routes!(revoke_api_key))
}

type QueryOf<T> = Result<Query<T>, axum::extract::rejection::QueryRejection>;

/// The audit trail: who, what, when, outcome, score — never images or vectors (role `admin`
/// or `auditor`).
#[utoipa::path(get, path = "/api/admin/audit", tag = "admin", security(("bearer" = [])), params(EventQuery),
    responses((status = 200, body = [Event]), (status = 403, body = ErrorBody)))]
async fn audit(
    State(common): State<Common>,
    _reader: AuditReader,
    q: QueryOf<EventQuery>,
) -> ApiResult<Json<Vec<Event>>> {
    let Query(q) = q?;
    Ok(Json(common.db(move |c| events::query(c, &q)).await?))
}

/// Webhooks (their secrets are shown only when created).
#[utoipa::path(get, path = "/api/admin/webhooks", tag = "admin", security(("bearer" = [])),
    responses((status = 200, body = [Webhook]), (status = 403, body = ErrorBody)))]
async fn list_webhooks(
    State(common): State<Common>,
    _admin: AdminUser,
) -> ApiResult<Json<Vec<Webhook>>> {
    Ok(Json(common.db(webhooks::list).await?))
}

#[derive(Serialize, ToSchema)]
struct NewWebhookAnswer {
    #[serde(flatten)]
    webhook: Webhook,
    /// The HMAC-SHA256 signing secret, shown once.
    secret: String,
}

/// Add a webhook: an https:// URL (or http:// to localhost) and the events it wants
/// (`enrollment`, `authentication`, or `*`).
#[utoipa::path(post, path = "/api/admin/webhooks", tag = "admin", security(("bearer" = [])), request_body = NewWebhook,
    responses((status = 201, body = NewWebhookAnswer), (status = 400, body = ErrorBody)))]
async fn create_webhook(
    State(common): State<Common>,
    AdminUser(a): AdminUser,
    caller: Caller,
    body: Result<Json<NewWebhook>, axum::extract::rejection::JsonRejection>,
) -> ApiResult<(StatusCode, Json<NewWebhookAnswer>)> {
    let Json(new) = body?;
    let (url, allow_private) = (
        new.url.clone(),
        common.settings().outbound.allow_private_networks,
    );
    // Resolves the name: off the async workers.
    tokio::task::spawn_blocking(move || webhooks::check_url(&url, allow_private))
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::bad_request)?;
    let (webhook, secret) = common.db(move |c| webhooks::create(c, &new)).await?;
    common
        .audit(
            caller
                .event("create_webhook", "success")
                .actor(a.principal.clone())
                .target(format!("webhook:{}", webhook.id)),
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(NewWebhookAnswer { webhook, secret }),
    ))
}

/// Remove a webhook (and its delivery log).
#[utoipa::path(delete, path = "/api/admin/webhooks/{id}", tag = "admin", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)))]
async fn delete_webhook(
    State(common): State<Common>,
    AdminUser(a): AdminUser,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let i = id.clone();
    if !common.db(move |c| webhooks::delete(c, &i)).await? {
        return Err(crate::ApiError::not_found("no such webhook"));
    }
    common
        .audit(
            caller
                .event("delete_webhook", "success")
                .actor(a.principal.clone())
                .target(format!("webhook:{id}")),
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
struct DeliveriesQuery {
    webhook_id: Option<String>,
    limit: Option<u32>,
}

/// The delivery log: every event queued for a webhook, its attempts and its outcome.
#[utoipa::path(get, path = "/api/admin/webhooks/deliveries", tag = "admin", security(("bearer" = [])), params(DeliveriesQuery),
    responses((status = 200, body = [Delivery]), (status = 403, body = ErrorBody)))]
async fn webhook_deliveries(
    State(common): State<Common>,
    _admin: AdminUser,
    q: QueryOf<DeliveriesQuery>,
) -> ApiResult<Json<Vec<Delivery>>> {
    let Query(q) = q?;
    Ok(Json(
        common
            .db(move |c| webhooks::deliveries(c, q.webhook_id.as_deref(), q.limit.unwrap_or(100)))
            .await?,
    ))
}

/// API keys (never their secrets).
#[utoipa::path(get, path = "/api/admin/api-keys", tag = "admin", security(("bearer" = [])),
    responses((status = 200, body = [ApiKeyInfo]), (status = 403, body = ErrorBody)))]
async fn list_api_keys(
    State(common): State<Common>,
    _admin: AdminUser,
) -> ApiResult<Json<Vec<ApiKeyInfo>>> {
    Ok(Json(common.db(api_key::list).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct NewKeyRequest {
    /// What the key is scoped to: a collection (face login), a push camera's id (attendance).
    collection: String,
    label: Option<String>,
    /// Default: the server's `rate_limit.api_key_default_per_minute`.
    rate_per_minute: Option<u32>,
    daily_quota: Option<u64>,
}

#[derive(Serialize, ToSchema)]
struct NewKeyAnswer {
    #[serde(flatten)]
    info: ApiKeyInfo,
    /// Shown once: only its hash is kept.
    key: String,
}

/// Create an API key scoped to one collection (or what the server scopes keys to); the answer
/// is the only time its secret is shown.
#[utoipa::path(post, path = "/api/admin/api-keys", tag = "admin", security(("bearer" = [])), request_body = NewKeyRequest,
    responses((status = 201, body = NewKeyAnswer), (status = 400, body = ErrorBody)))]
async fn create_api_key(
    State(common): State<Common>,
    AdminUser(a): AdminUser,
    caller: Caller,
    body: Result<Json<NewKeyRequest>, axum::extract::rejection::JsonRejection>,
) -> ApiResult<(StatusCode, Json<NewKeyAnswer>)> {
    let Json(b) = body?;
    let new = NewApiKey {
        collection: b.collection,
        label: b.label,
        rate_per_minute: b
            .rate_per_minute
            .unwrap_or(common.settings().rate_limit.api_key_default_per_minute),
        daily_quota: b.daily_quota,
    };
    let rule = common.clone();
    let (info, key) = common
        .db(move |c| {
            Ok(match api_key::check_new(c, &new, rule.key_scope()) {
                Ok(()) => Ok(api_key::create(c, &new)?),
                Err(why) => Err(why),
            })
        })
        .await?
        .map_err(crate::ApiError::bad_request)?;
    common
        .audit(caller.done(
            "create_api_key",
            &a.principal,
            format!("api_key:{}", info.id),
        ))
        .await?;
    Ok((StatusCode::CREATED, Json(NewKeyAnswer { info, key })))
}

/// Revoke an API key.
#[utoipa::path(delete, path = "/api/admin/api-keys/{id}", tag = "admin", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)))]
async fn revoke_api_key(
    State(common): State<Common>,
    AdminUser(a): AdminUser,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let k = id.clone();
    if !common.db(move |c| api_key::revoke(c, &k)).await? {
        return Err(crate::ApiError::not_found("no open API key with this id"));
    }
    common
        .audit(caller.done("revoke_api_key", &a.principal, format!("api_key:{id}")))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
