//! The CompreFace-compatible recognition API (`x-api-key` header, CompreFace's paths, query
//! options and field names), so a CompreFace client switches by changing its URL. Every call
//! works in the collection of the caller's API key. Errors use the server's one error body
//! (it has CompreFace's `message` field).

use crate::service::recognition::{
    self, Example, ExamplePage, FaceOptions, FacesAnswer, Plugins, VerificationAnswer,
};
use crate::state::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use faceprint_server::auth::api_key::ApiKeyAuth;
use faceprint_server::error::{ApiError, ApiResult, ErrorBody};
use faceprint_server::upload::Upload;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(add_subject, list_subjects, delete_all_subjects))
        .routes(routes!(rename_subject, delete_subject))
        .routes(routes!(add_example, list_examples, delete_examples))
        .routes(routes!(delete_example))
        .routes(routes!(verify_example))
        .routes(routes!(recognize))
        .routes(routes!(detect))
        .routes(routes!(verify_images))
}

type JsonBody<T> = Result<Json<T>, axum::extract::rejection::JsonRejection>;
type QueryOf<T> = Result<Query<T>, axum::extract::rejection::QueryRejection>;

#[derive(Deserialize, Serialize, ToSchema)]
struct SubjectBody {
    subject: String,
}

#[derive(Serialize, ToSchema)]
struct SubjectList {
    subjects: Vec<String>,
}

#[derive(Serialize, ToSchema)]
struct Deleted {
    deleted: usize,
}

#[derive(Serialize, ToSchema)]
struct Updated {
    updated: bool,
}

/// Create a subject without examples.
#[utoipa::path(post, path = "/api/v1/recognition/subjects", tag = "recognition (CompreFace-compatible)", security(("api_key" = [])), request_body = SubjectBody,
    responses((status = 201, body = SubjectBody), (status = 409, body = ErrorBody), (status = 401, body = ErrorBody)))]
async fn add_subject(
    State(state): State<AppState>,
    ApiKeyAuth(key): ApiKeyAuth,
    body: JsonBody<SubjectBody>,
) -> ApiResult<(StatusCode, Json<SubjectBody>)> {
    let Json(body) = body?;
    let subject = recognition::add_subject(state.common(), &key, &body.subject).await?;
    Ok((StatusCode::CREATED, Json(SubjectBody { subject })))
}

/// Every subject of the key's collection.
#[utoipa::path(get, path = "/api/v1/recognition/subjects", tag = "recognition (CompreFace-compatible)", security(("api_key" = [])),
    responses((status = 200, body = SubjectList), (status = 401, body = ErrorBody)))]
async fn list_subjects(
    State(state): State<AppState>,
    ApiKeyAuth(key): ApiKeyAuth,
) -> ApiResult<Json<SubjectList>> {
    Ok(Json(SubjectList {
        subjects: recognition::list_subjects(state.common(), &key).await?,
    }))
}

/// Delete every subject with its examples.
#[utoipa::path(delete, path = "/api/v1/recognition/subjects", tag = "recognition (CompreFace-compatible)", security(("api_key" = [])),
    responses((status = 200, body = Deleted), (status = 401, body = ErrorBody)))]
async fn delete_all_subjects(
    State(state): State<AppState>,
    ApiKeyAuth(key): ApiKeyAuth,
) -> ApiResult<Json<Deleted>> {
    Ok(Json(Deleted {
        deleted: recognition::delete_all_subjects(state.common(), &key).await?,
    }))
}

/// Rename a subject (its examples keep their image ids).
#[utoipa::path(put, path = "/api/v1/recognition/subjects/{subject}", tag = "recognition (CompreFace-compatible)", security(("api_key" = [])),
    params(("subject" = String, Path)), request_body = SubjectBody,
    responses((status = 200, body = Updated), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn rename_subject(
    State(state): State<AppState>,
    ApiKeyAuth(key): ApiKeyAuth,
    Path(subject): Path<String>,
    body: JsonBody<SubjectBody>,
) -> ApiResult<Json<Updated>> {
    let Json(body) = body?;
    recognition::rename_subject(state.common(), &key, &subject, &body.subject).await?;
    Ok(Json(Updated { updated: true }))
}

/// Delete a subject with its examples (templates and their key erased).
#[utoipa::path(delete, path = "/api/v1/recognition/subjects/{subject}", tag = "recognition (CompreFace-compatible)", security(("api_key" = [])),
    params(("subject" = String, Path)), responses((status = 200, body = SubjectBody), (status = 404, body = ErrorBody)))]
async fn delete_subject(
    State(state): State<AppState>,
    ApiKeyAuth(key): ApiKeyAuth,
    Path(subject): Path<String>,
) -> ApiResult<Json<SubjectBody>> {
    recognition::delete_subject(state.common(), &key, &subject).await?;
    Ok(Json(SubjectBody { subject }))
}

#[derive(Deserialize, IntoParams)]
struct AddExampleQuery {
    subject: Option<String>,
    det_prob_threshold: Option<f32>,
}

/// Add an example (the largest face of the image) to a subject, created if new.
#[utoipa::path(post, path = "/api/v1/recognition/faces", tag = "recognition (CompreFace-compatible)", security(("api_key" = [])), params(AddExampleQuery),
    request_body(content = String, content_type = "multipart/form-data", description = "`file`: the image (or JSON with base64 `file`)"),
    responses((status = 201, body = Example), (status = 422, body = ErrorBody), (status = 400, body = ErrorBody)))]
async fn add_example(
    State(state): State<AppState>,
    ApiKeyAuth(key): ApiKeyAuth,
    q: QueryOf<AddExampleQuery>,
    upload: Upload,
) -> ApiResult<(StatusCode, Json<Example>)> {
    let Query(q) = q?;
    let subject = q
        .subject
        .or_else(|| upload.text("subject").map(str::to_string))
        .ok_or_else(|| ApiError::bad_request("subject is required"))?;
    let image = upload.require_image("file")?.bytes.clone();
    let opts = FaceOptions {
        det_prob_threshold: q.det_prob_threshold,
        limit: 0,
    };
    Ok((
        StatusCode::CREATED,
        Json(recognition::add_example(state.common(), &key, &subject, image, opts).await?),
    ))
}

#[derive(Deserialize, IntoParams)]
struct ListExamplesQuery {
    page: Option<u32>,
    size: Option<u32>,
    subject: Option<String>,
}

/// Examples of every subject, or of one; paged (`page` from 0, `size` default 20).
#[utoipa::path(get, path = "/api/v1/recognition/faces", tag = "recognition (CompreFace-compatible)", security(("api_key" = [])), params(ListExamplesQuery),
    responses((status = 200, body = ExamplePage), (status = 401, body = ErrorBody)))]
async fn list_examples(
    State(state): State<AppState>,
    ApiKeyAuth(key): ApiKeyAuth,
    q: QueryOf<ListExamplesQuery>,
) -> ApiResult<Json<ExamplePage>> {
    let Query(q) = q?;
    Ok(Json(
        recognition::list_examples(
            state.common(),
            &key,
            q.subject.as_deref(),
            q.page.unwrap_or(0),
            q.size.unwrap_or(20),
        )
        .await?,
    ))
}

#[derive(Deserialize, IntoParams)]
struct SubjectQuery {
    subject: Option<String>,
}

/// Delete every example of a subject (the subject stays).
#[utoipa::path(delete, path = "/api/v1/recognition/faces", tag = "recognition (CompreFace-compatible)", security(("api_key" = [])), params(SubjectQuery),
    responses((status = 200, body = Deleted), (status = 404, body = ErrorBody)))]
async fn delete_examples(
    State(state): State<AppState>,
    ApiKeyAuth(key): ApiKeyAuth,
    q: QueryOf<SubjectQuery>,
) -> ApiResult<Json<Deleted>> {
    let Query(q) = q?;
    let subject = q
        .subject
        .ok_or_else(|| ApiError::bad_request("subject is required"))?;
    Ok(Json(Deleted {
        deleted: recognition::delete_examples_of(state.common(), &key, &subject).await?,
    }))
}

/// Delete one example by its image id.
#[utoipa::path(delete, path = "/api/v1/recognition/faces/{image_id}", tag = "recognition (CompreFace-compatible)", security(("api_key" = [])),
    params(("image_id" = String, Path)), responses((status = 200, body = Example), (status = 404, body = ErrorBody)))]
async fn delete_example(
    State(state): State<AppState>,
    ApiKeyAuth(key): ApiKeyAuth,
    Path(image_id): Path<String>,
) -> ApiResult<Json<Example>> {
    Ok(Json(
        recognition::delete_example(state.common(), &key, &image_id).await?,
    ))
}

/// Options of recognize, detect and verify.
#[derive(Deserialize, IntoParams)]
struct FaceQuery {
    /// At most this many faces (0: all).
    limit: Option<u32>,
    /// Subjects per face (recognize; default 1).
    prediction_count: Option<u32>,
    /// Minimum detection confidence, 0..1.
    det_prob_threshold: Option<f32>,
    /// Comma-separated: `landmarks` and `calculator` (the embedding) are honoured; `age`,
    /// `gender` and `mask` are accepted and left out.
    face_plugins: Option<String>,
    /// Add execution times and model versions.
    status: Option<bool>,
}

impl FaceQuery {
    fn options(&self) -> FaceOptions {
        FaceOptions {
            det_prob_threshold: self.det_prob_threshold,
            limit: self.limit.unwrap_or(0),
        }
    }

    fn plugins(&self) -> Plugins {
        Plugins::parse(self.face_plugins.as_deref(), self.status)
    }
}

/// Compare every face of the image with one stored example.
#[utoipa::path(post, path = "/api/v1/recognition/faces/{image_id}/verify", tag = "recognition (CompreFace-compatible)", security(("api_key" = [])),
    params(("image_id" = String, Path), FaceQuery), request_body(content = String, content_type = "multipart/form-data", description = "`file`: the image"),
    responses((status = 200, body = FacesAnswer), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn verify_example(
    State(state): State<AppState>,
    ApiKeyAuth(key): ApiKeyAuth,
    Path(image_id): Path<String>,
    q: QueryOf<FaceQuery>,
    upload: Upload,
) -> ApiResult<Json<FacesAnswer>> {
    let Query(q) = q?;
    let image = upload.require_image("file")?.bytes.clone();
    Ok(Json(
        recognition::verify_example(
            state.common(),
            &key,
            &image_id,
            image,
            q.options(),
            q.plugins(),
        )
        .await?,
    ))
}

/// Recognize every face of the image among the collection's subjects.
#[utoipa::path(post, path = "/api/v1/recognition/recognize", tag = "recognition (CompreFace-compatible)", security(("api_key" = [])), params(FaceQuery),
    request_body(content = String, content_type = "multipart/form-data", description = "`file`: the image (or JSON with base64 `file`)"),
    responses((status = 200, body = FacesAnswer), (status = 422, body = ErrorBody), (status = 429, body = ErrorBody), (status = 503, body = ErrorBody)))]
async fn recognize(
    State(state): State<AppState>,
    ApiKeyAuth(key): ApiKeyAuth,
    q: QueryOf<FaceQuery>,
    upload: Upload,
) -> ApiResult<Json<FacesAnswer>> {
    let Query(q) = q?;
    let image = upload.require_image("file")?.bytes.clone();
    Ok(Json(
        recognition::recognize(
            state.common(),
            &key,
            image,
            q.options(),
            q.prediction_count.unwrap_or(1),
            q.plugins(),
        )
        .await?,
    ))
}

/// Detect every face of the image.
#[utoipa::path(post, path = "/api/v1/detection/detect", tag = "recognition (CompreFace-compatible)", security(("api_key" = [])), params(FaceQuery),
    request_body(content = String, content_type = "multipart/form-data", description = "`file`: the image"),
    responses((status = 200, body = FacesAnswer), (status = 422, body = ErrorBody)))]
async fn detect(
    State(state): State<AppState>,
    ApiKeyAuth(_key): ApiKeyAuth,
    q: QueryOf<FaceQuery>,
    upload: Upload,
) -> ApiResult<Json<FacesAnswer>> {
    let Query(q) = q?;
    let image = upload.require_image("file")?.bytes.clone();
    Ok(Json(
        recognition::detect(state.common(), image, q.options(), q.plugins()).await?,
    ))
}

/// Compare the largest face of `source_image` with every face of `target_image`.
#[utoipa::path(post, path = "/api/v1/verification/verify", tag = "recognition (CompreFace-compatible)", security(("api_key" = [])), params(FaceQuery),
    request_body(content = String, content_type = "multipart/form-data", description = "`source_image` and `target_image`"),
    responses((status = 200, body = VerificationAnswer), (status = 422, body = ErrorBody)))]
async fn verify_images(
    State(state): State<AppState>,
    ApiKeyAuth(_key): ApiKeyAuth,
    q: QueryOf<FaceQuery>,
    upload: Upload,
) -> ApiResult<Json<VerificationAnswer>> {
    let Query(q) = q?;
    let source = upload
        .images
        .iter()
        .find(|i| i.field == "source_image")
        .ok_or_else(|| ApiError::bad_request("source_image is required"))?
        .bytes
        .clone();
    let target = upload
        .images
        .iter()
        .find(|i| i.field == "target_image")
        .ok_or_else(|| ApiError::bad_request("target_image is required"))?
        .bytes
        .clone();
    Ok(Json(
        recognition::verify_images(state.common(), source, target, q.options(), q.plugins())
            .await?,
    ))
}
