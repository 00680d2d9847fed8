//! The one error type of every server and its one JSON body:
//! `{"error": code, "message": …, "details": …, "request_id": …}`.
//!
//! Handlers return [`ApiError`]; its `IntoResponse` sets the status and stashes the error in the
//! response's extensions. The outer [`error_envelope`] middleware, which sees the request id,
//! writes the body and logs once — and gives axum's own plain-text errors (404, 405, 408, 413,
//! 415, 422) the same body.

use axum::body::Body;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use faceprint::ErrorCode;
use serde::Serialize;
use serde_json::Value;

pub type ApiResult<T> = Result<T, ApiError>;

/// An error answer: status, stable snake_case code, public message, optional details.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub details: Option<Box<Value>>,
    /// Seconds, for 429 and 503.
    pub retry_after: Option<u64>,
    /// What the log gets beside the public message (never sent to the client).
    pub internal: Option<String>,
}

/// The JSON error body (also the OpenAPI schema of every error response).
#[derive(Debug, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// Stable snake_case code: the library's `ErrorCode` names, plus the servers' own
    /// (`unauthorized`, `forbidden`, `rate_limited`, `busy`…).
    pub error: String,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<Value>,
    pub request_id: Option<String>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            details: None,
            retry_after: None,
            internal: None,
        }
    }

    pub fn with_details(mut self, details: Value) -> Self {
        self.details = Some(Box::new(details));
        self
    }

    pub fn with_retry_after(mut self, seconds: u64) -> Self {
        self.retry_after = Some(seconds.max(1));
        self
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, "invalid_argument", message)
    }

    /// Missing, malformed, expired or revoked credentials. One message for every cause (the
    /// cause goes to the log), so an answer tells an attacker nothing.
    pub fn unauthorized(cause: impl Into<String>) -> Self {
        let mut e = ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "missing or invalid credentials",
        );
        e.internal = Some(cause.into());
        e
    }

    /// Login failed: same answer whatever the reason.
    pub fn authentication_failed(cause: impl Into<String>) -> Self {
        let mut e = ApiError::new(
            StatusCode::UNAUTHORIZED,
            "authentication_failed",
            "authentication failed",
        );
        e.internal = Some(cause.into());
        e
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::CONFLICT, code, message)
    }

    /// This caller is over its share: 429 + Retry-After.
    pub fn rate_limited(retry_after_secs: u64) -> Self {
        ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            "too many requests; retry later",
        )
        .with_retry_after(retry_after_secs)
    }

    /// The server is full (every model slot busy): 503 + Retry-After.
    pub fn busy() -> Self {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "busy",
            "the server is at capacity; retry shortly",
        )
        .with_retry_after(1)
    }

    /// A failure whose text must not reach the client (database, IO, a panicked task).
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        let mut e = ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal error",
        );
        e.internal = Some(cause.to_string());
        e
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.status.as_u16(),
            self.code,
            self.message
        )
    }
}

impl std::error::Error for ApiError {}

/// The HTTP status of each library code. `ErrorCode` is non-exhaustive: a code added later
/// answers 500 until it is placed here (a test walks `ErrorCode::ALL`).
pub fn status_of(code: ErrorCode) -> StatusCode {
    use ErrorCode as C;
    match code {
        C::InvalidArgument
        | C::InvalidPixelBuffer
        | C::InvalidEmbedding
        | C::ImageEmpty
        | C::ImageTruncated
        | C::ImageCorrupt
        | C::CalibrationRange
        | C::ModelMismatch => StatusCode::BAD_REQUEST,
        C::ImageTooLarge | C::ImageTooManyPixels => StatusCode::PAYLOAD_TOO_LARGE,
        C::ImageUnsupportedFormat => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        C::NoFace
        | C::MultipleFaces
        | C::QualityRejected
        | C::NoDocument
        | C::NoMrz
        | C::MrzUnreadable
        | C::MrzCheckFailed
        | C::NoPortrait => StatusCode::UNPROCESSABLE_ENTITY,
        C::NotFound => StatusCode::NOT_FOUND,
        C::AlreadyExists | C::SessionFinished => StatusCode::CONFLICT,
        C::SubjectDisabled => StatusCode::FORBIDDEN,
        C::ModelsNotFound | C::RuntimeUnavailable => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl From<faceprint::Error> for ApiError {
    fn from(e: faceprint::Error) -> Self {
        let code = e.code();
        let status = status_of(code);
        if status.is_server_error() {
            // Store, IO, crypto and model text stays in the log.
            let mut err = ApiError::new(status, code.as_str(), public_server_message(code));
            err.internal = Some(e.to_string());
            if status == StatusCode::SERVICE_UNAVAILABLE {
                err.retry_after = Some(30);
            }
            return err;
        }
        let mut err = ApiError::new(status, code.as_str(), e.to_string());
        match e {
            faceprint::Error::MultipleFaces(n) => {
                err.details = Some(Box::new(serde_json::json!({ "faces": n })));
            }
            // The fields are still worth showing, with which digits failed.
            faceprint::Error::MrzCheckFailed(m) => {
                err.details = Some(Box::new(serde_json::json!({ "mrz": m })));
            }
            _ => {}
        }
        err
    }
}

fn public_server_message(code: ErrorCode) -> &'static str {
    match code {
        ErrorCode::ModelsNotFound | ErrorCode::RuntimeUnavailable => {
            "face models are not available on this server"
        }
        _ => "internal error",
    }
}

impl From<tokio::task::JoinError> for ApiError {
    fn from(e: tokio::task::JoinError) -> Self {
        ApiError::internal(format!("blocking task failed: {e}"))
    }
}

impl From<crate::db::DbError> for ApiError {
    fn from(e: crate::db::DbError) -> Self {
        ApiError::internal(format!("database: {e}"))
    }
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> Self {
        let status = r.status();
        let code = if status == StatusCode::UNSUPPORTED_MEDIA_TYPE {
            "unsupported_media_type"
        } else if status == StatusCode::PAYLOAD_TOO_LARGE {
            "payload_too_large"
        } else {
            "invalid_argument"
        };
        ApiError::new(
            if status == StatusCode::UNPROCESSABLE_ENTITY {
                StatusCode::BAD_REQUEST
            } else {
                status
            },
            code,
            r.body_text(),
        )
    }
}

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> Self {
        ApiError::bad_request(r.body_text())
    }
}

impl From<PathRejection> for ApiError {
    fn from(r: PathRejection) -> Self {
        ApiError::bad_request(r.body_text())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut res = self.status.into_response();
        if let Some(s) = self.retry_after {
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(s));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            res.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        res.extensions_mut().insert(self);
        res
    }
}

/// Outer middleware: every error answer gets the one JSON body with the request id, and is
/// logged once (5xx with its internal cause at error level, 4xx at info).
pub async fn error_envelope(req: Request, next: Next) -> Response {
    let request_id = req
        .headers()
        .get(crate::request_id::HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let res = next.run(req).await;
    let status = res.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    let err = match parts.extensions.remove::<ApiError>() {
        Some(e) => e,
        None => {
            // Not ours: an axum rejection or a tower layer's answer (plain text, or already
            // JSON from a handler that built its own body, e.g. the CompreFace API).
            let is_json = parts
                .headers
                .get(header::CONTENT_TYPE)
                .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
            if is_json {
                return Response::from_parts(parts, body);
            }
            let text = axum::body::to_bytes(body, 64 * 1024)
                .await
                .map(|b| String::from_utf8_lossy(&b).into_owned())
                .unwrap_or_default();
            from_status(status, text)
        }
    };
    if status.is_server_error() {
        tracing::error!(%method, %path, status = status.as_u16(), code = %err.code,
            cause = err.internal.as_deref().unwrap_or(""), request_id = request_id.as_deref().unwrap_or(""), "request failed");
    } else {
        tracing::info!(%method, %path, status = status.as_u16(), code = %err.code,
            cause = err.internal.as_deref().unwrap_or(""), request_id = request_id.as_deref().unwrap_or(""), "request refused");
    }
    let body = ErrorBody {
        error: err.code.to_string(),
        message: err.message,
        details: err.details.map(|d| *d),
        request_id,
    };
    let bytes = serde_json::to_vec(&body).unwrap_or_default();
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(bytes))
}

/// A code and message for an answer that came without an [`ApiError`].
fn from_status(status: StatusCode, text: String) -> ApiError {
    let (code, message): (&'static str, String) = match status {
        StatusCode::NOT_FOUND => ("not_found", "no such route".into()),
        StatusCode::METHOD_NOT_ALLOWED => (
            "method_not_allowed",
            "method not allowed on this route".into(),
        ),
        StatusCode::REQUEST_TIMEOUT => ("timeout", "the request took too long".into()),
        StatusCode::PAYLOAD_TOO_LARGE => (
            "payload_too_large",
            "the request body is over the size limit".into(),
        ),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => (
            "unsupported_media_type",
            non_empty(text, "unsupported content type"),
        ),
        StatusCode::TOO_MANY_REQUESTS => ("rate_limited", "too many requests; retry later".into()),
        StatusCode::UNAUTHORIZED => ("unauthorized", "missing or invalid credentials".into()),
        StatusCode::FORBIDDEN => ("forbidden", "not allowed".into()),
        StatusCode::SERVICE_UNAVAILABLE => {
            ("busy", "the server is unavailable; retry shortly".into())
        }
        s if s.is_server_error() => ("internal", "internal error".into()),
        _ => ("invalid_argument", non_empty(text, "bad request")),
    };
    ApiError::new(status, code, message)
}

fn non_empty(text: String, default: &str) -> String {
    if text.trim().is_empty() {
        default.to_string()
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_library_code_has_a_deliberate_status() {
        for &code in ErrorCode::ALL {
            let status = status_of(code);
            let expected_server = matches!(
                code,
                ErrorCode::Io
                    | ErrorCode::ModelsNotFound
                    | ErrorCode::ModelChecksum
                    | ErrorCode::ModelManifest
                    | ErrorCode::RuntimeUnavailable
                    | ErrorCode::Inference
                    | ErrorCode::Decrypt
                    | ErrorCode::WrongKey
                    | ErrorCode::StoreCorrupt
                    | ErrorCode::Storage
                    | ErrorCode::Internal
            );
            assert_eq!(
                status.is_server_error(),
                expected_server,
                "{code} answers {status}"
            );
        }
    }

    #[test]
    fn server_errors_keep_their_cause_out_of_the_message() {
        let e: ApiError = faceprint::Error::Storage("disk /var/lib/x full".into()).into();
        assert_eq!(e.status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(e.code, "storage");
        assert!(!e.message.contains("/var/lib"));
        assert!(e.internal.unwrap().contains("/var/lib"));
    }
}
