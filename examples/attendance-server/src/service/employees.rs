//! Employees: the people the cameras recognise. Their faces are templates in the store under
//! the employee's id (no name reaches the store); archiving disables them (kept, not matched).

use crate::repo::employees::{self, Employee};
use crate::repo::records;
use crate::state::AppState;
use bytes::Bytes;
use faceprint::{EnrollOptions, QualityProfile};
use faceprint_server::caller::Caller;
use faceprint_server::error::{ApiError, ApiResult};
use faceprint_server::face::{check_face, FaceChecks};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A new employee, or the changed fields of one.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EmployeeInput {
    pub name: String,
    pub email: Option<String>,
    pub department: Option<String>,
}

impl EmployeeInput {
    fn check(&self) -> ApiResult<()> {
        let name = self.name.trim();
        if name.is_empty() || name.chars().count() > 200 {
            return Err(ApiError::bad_request("name must be 1 to 200 characters"));
        }
        if let Some(e) = &self.email {
            if e.len() > 254 || !e.contains('@') {
                return Err(ApiError::bad_request("email is not an email address"));
            }
        }
        if self
            .department
            .as_ref()
            .is_some_and(|d| d.chars().count() > 200)
        {
            return Err(ApiError::bad_request(
                "department must be at most 200 characters",
            ));
        }
        Ok(())
    }
}

pub async fn create(
    state: &AppState,
    caller: &Caller,
    actor: &str,
    input: EmployeeInput,
) -> ApiResult<Employee> {
    input.check()?;
    let e = Employee {
        id: uuid::Uuid::new_v4().to_string(),
        name: input.name.trim().to_string(),
        email: input.email.map(|s| s.trim().to_lowercase()),
        department: input.department,
        status: "active".into(),
        created_ms: faceprint_server::db::now_ms(),
        photos: 0,
        last_seen_ms: None,
    };
    let row = e.clone();
    if state
        .common()
        .db(move |c| employees::insert(c, &row))
        .await?
        .is_none()
    {
        return Err(ApiError::conflict(
            "already_exists",
            "an employee with this email exists",
        ));
    }
    state
        .common()
        .audit(caller.done("create_employee", actor, format!("employee:{}", e.id)))
        .await?;
    Ok(e)
}

pub async fn get(state: &AppState, id: &str) -> ApiResult<Employee> {
    let i = id.to_string();
    state
        .common()
        .db(move |c| employees::get(c, &i))
        .await?
        .ok_or_else(|| ApiError::not_found("no such employee"))
}

pub async fn update(
    state: &AppState,
    caller: &Caller,
    actor: &str,
    id: &str,
    input: EmployeeInput,
) -> ApiResult<Employee> {
    input.check()?;
    let mut e = get(state, id).await?;
    e.name = input.name.trim().to_string();
    e.email = input.email.map(|s| s.trim().to_lowercase());
    e.department = input.department;
    let row = e.clone();
    // The row exists (read above): not changed means the email belongs to someone else.
    if !state
        .common()
        .db(move |c| employees::update(c, &row))
        .await?
    {
        return Err(ApiError::conflict(
            "already_exists",
            "an employee with this email exists",
        ));
    }
    state
        .common()
        .audit(caller.done("update_employee", actor, format!("employee:{id}")))
        .await?;
    Ok(e)
}

/// One photo of an enrollment that was not used, and why.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Rejection {
    /// The photo's position in the request (0-based) and its form field.
    pub index: usize,
    pub field: String,
    /// The library's error code (`no_face`, `multiple_faces`, `quality_rejected`, …).
    pub code: String,
    pub message: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EnrollAnswer {
    pub employee: Employee,
    /// Photos stored as faces.
    pub accepted: usize,
    pub rejected: Vec<Rejection>,
    /// Faces that already match another employee (a mix-up to look at).
    pub warnings: Vec<serde_json::Value>,
}

/// Adds faces from photos: each must show one face that passes the enrollment quality profile;
/// the others are reported with their reason. 422 when none passed.
pub async fn enroll(
    state: &AppState,
    caller: &Caller,
    actor: &str,
    id: &str,
    photos: Vec<(String, Bytes)>,
) -> ApiResult<EnrollAnswer> {
    if photos.is_empty() {
        return Err(ApiError::bad_request("send at least one photo"));
    }
    let employee = get(state, id).await?;
    if employee.status == "archived" {
        return Err(ApiError::conflict(
            "archived",
            "the employee is archived: unarchive first",
        ));
    }
    let checks = FaceChecks {
        quality: Some(QualityProfile::enrollment()),
        liveness: false,
        single_face: true,
    };
    let mut accepted = Vec::new();
    let mut sources = Vec::new();
    let mut rejected = Vec::new();
    for (index, (field, bytes)) in photos.into_iter().enumerate() {
        let c = checks.clone();
        match state
            .common()
            .model(move |engine| check_face(engine, &bytes, &c))
            .await
        {
            Ok(face) => {
                accepted.push(face.probe.embedding);
                sources.push(format!("photo:{field}"));
            }
            // Busy and other server conditions fail the whole request: the photo is not at fault.
            Err(e) if e.status.is_server_error() => return Err(e),
            Err(e) => rejected.push(Rejection {
                index,
                field,
                code: e.code.to_string(),
                message: e.message.clone(),
            }),
        }
    }
    if accepted.is_empty() {
        return Err(ApiError::new(
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            "no_usable_photo",
            "no photo could be used as a face",
        )
        .with_details(serde_json::to_value(&rejected).unwrap_or_default()));
    }
    let collection = state.config().employees_collection.clone();
    let subject = employee.id.clone();
    let options = EnrollOptions {
        display_name: None,
        sources,
        actor: Some(actor.to_string()),
        ..EnrollOptions::default()
    };
    let n = accepted.len();
    let report = state
        .common()
        .model(move |engine| engine.enroll_embeddings(&collection, &subject, accepted, &options))
        .await?;
    let photos = report.subject.templates as i64;
    let eid = employee.id.clone();
    state
        .common()
        .db(move |c| employees::set_photos(c, &eid, photos))
        .await?;
    state
        .common()
        .audit(caller.done("enroll_employee", actor, format!("employee:{id}")))
        .await?;
    let warnings = report
        .warnings
        .iter()
        .filter_map(|w| serde_json::to_value(w).ok())
        .collect();
    Ok(EnrollAnswer {
        employee: get(state, id).await?,
        accepted: n,
        rejected,
        warnings,
    })
}

/// Removes every face of the employee (the record of them stays).
pub async fn delete_faces(
    state: &AppState,
    caller: &Caller,
    actor: &str,
    id: &str,
) -> ApiResult<Employee> {
    let employee = get(state, id).await?;
    let collection = state.config().employees_collection.clone();
    let subject = employee.id.clone();
    let who = actor.to_string();
    state
        .common()
        .model(
            move |engine| match engine.delete_subject(&collection, &subject, Some(&who)) {
                Err(e) if e.code() == faceprint::ErrorCode::NotFound => Ok(()),
                other => other,
            },
        )
        .await?;
    let eid = employee.id.clone();
    state
        .common()
        .db(move |c| employees::set_photos(c, &eid, 0))
        .await?;
    state
        .common()
        .audit(caller.done("delete_faces", actor, format!("employee:{id}")))
        .await?;
    get(state, id).await
}

/// Archives (faces kept, never matched) or brings back an employee.
pub async fn set_archived(
    state: &AppState,
    caller: &Caller,
    actor: &str,
    id: &str,
    archived: bool,
) -> ApiResult<Employee> {
    let employee = get(state, id).await?;
    if employee.photos > 0 {
        let collection = state.config().employees_collection.clone();
        let subject = employee.id.clone();
        let who = actor.to_string();
        state
            .common()
            .model(move |engine| {
                engine.set_subject_disabled(&collection, &subject, archived, Some(&who))
            })
            .await?;
    }
    let (eid, status) = (
        employee.id.clone(),
        if archived { "archived" } else { "active" },
    );
    state
        .common()
        .db(move |c| employees::set_status(c, &eid, status))
        .await?;
    state
        .common()
        .audit(caller.done(
            if archived {
                "archive_employee"
            } else {
                "unarchive_employee"
            },
            actor,
            format!("employee:{id}"),
        ))
        .await?;
    get(state, id).await
}

/// Deletes the employee, their faces and their attendance records.
pub async fn delete(state: &AppState, caller: &Caller, actor: &str, id: &str) -> ApiResult<()> {
    delete_faces(state, caller, actor, id).await?;
    let eid = id.to_string();
    state
        .common()
        .db(move |c| {
            records::delete_for_employee(c, &eid)?;
            employees::delete(c, &eid)
        })
        .await?;
    state
        .common()
        .audit(caller.done("delete_employee", actor, format!("employee:{id}")))
        .await
}
