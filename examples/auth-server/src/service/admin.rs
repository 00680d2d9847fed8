//! Administration: statistics, users (search, disable, enable, delete), API keys, the audit
//! trail. Every change is an audit event with the administrator as actor.

use super::accounts;
use crate::repo::users::{self, User};
use crate::state::AppState;
use faceprint_server::auth::sessions;
use faceprint_server::caller::Caller;
use faceprint_server::db::prelude::*;
use faceprint_server::error::{ApiError, ApiResult};
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub struct DayCount {
    /// Days since the epoch (UTC).
    pub day: i64,
    pub signups: i64,
    pub logins: i64,
    pub failed_logins: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReasonCount {
    pub reason: String,
    pub count: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Stats {
    pub users: i64,
    pub disabled_users: i64,
    pub active_sessions: i64,
    /// Over the window: logins that succeeded ÷ all login attempts.
    pub login_success_rate: Option<f64>,
    pub logins: i64,
    pub failed_logins: i64,
    pub liveness_rejections: i64,
    pub failure_reasons: Vec<ReasonCount>,
    pub per_day: Vec<DayCount>,
    pub window_days: u32,
}

pub async fn stats(state: &AppState, days: u32) -> ApiResult<Stats> {
    let days = days.clamp(1, 365);
    state
        .common()
        .db(move |c| {
            let since = faceprint_server::db::now_ms() - days as i64 * 86_400_000;
            let users: i64 = c.query_row("SELECT COUNT(*) FROM users WHERE status != 'pending'", args![], |r| r.get(0))?;
            let disabled: i64 = c.query_row("SELECT COUNT(*) FROM users WHERE status = 'disabled'", args![], |r| r.get(0))?;
            let active_sessions = sessions::count_open(c)?;
            let mut count = |sql: &str| -> DbResult<i64> { c.query_one(sql, args![since]) };
            let logins = count("SELECT COUNT(*) FROM events WHERE action = 'login' AND outcome = 'success' AND at_ms >= ?1")?;
            let failed = count("SELECT COUNT(*) FROM events WHERE action = 'login' AND outcome != 'success' AND at_ms >= ?1")?;
            let liveness = count("SELECT COUNT(*) FROM events WHERE reason = 'spoof_suspected' AND at_ms >= ?1")?;
            let failure_reasons = c.query_map(
                "SELECT reason, COUNT(*) FROM events WHERE action = 'login' AND outcome != 'success' AND at_ms >= ?1 AND reason IS NOT NULL GROUP BY reason ORDER BY 2 DESC",
                args![since],
                |r| Ok(ReasonCount { reason: r.get(0)?, count: r.get(1)? }),
            )?;
            // CASE, not a boolean: PostgreSQL does not sum booleans.
            let per_day = c.query_map(
                "SELECT at_ms / 86400000 AS day,
                        SUM(CASE WHEN action = 'signup' AND outcome = 'success' THEN 1 ELSE 0 END),
                        SUM(CASE WHEN action = 'login' AND outcome = 'success' THEN 1 ELSE 0 END),
                        SUM(CASE WHEN action = 'login' AND outcome != 'success' THEN 1 ELSE 0 END)
                 FROM events WHERE at_ms >= ?1 GROUP BY day ORDER BY day",
                args![since],
                |r| Ok(DayCount { day: r.get(0)?, signups: r.get(1)?, logins: r.get(2)?, failed_logins: r.get(3)? }),
            )?;
            Ok(Stats {
                users,
                disabled_users: disabled,
                active_sessions,
                login_success_rate: (logins + failed > 0).then(|| logins as f64 / (logins + failed) as f64),
                logins,
                failed_logins: failed,
                liveness_rejections: liveness,
                failure_reasons,
                per_day,
                window_days: days,
            })
        })
        .await
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UserPage {
    pub users: Vec<User>,
    pub total: i64,
    pub offset: u32,
    pub limit: u32,
}

pub async fn list_users(
    state: &AppState,
    search: Option<String>,
    offset: u32,
    limit: u32,
) -> ApiResult<UserPage> {
    let limit = limit.clamp(1, 200);
    let (users, total) = state
        .common()
        .db(move |c| {
            users::list(
                c,
                search.as_deref().filter(|s| !s.is_empty()),
                limit,
                offset,
            )
        })
        .await?;
    Ok(UserPage {
        users,
        total,
        offset,
        limit,
    })
}

/// Disables or enables an account: a disabled user cannot log in, their sessions end and their
/// faces are skipped by identification.
pub async fn set_disabled(
    state: &AppState,
    caller: &Caller,
    admin: &str,
    user_id: &str,
    disabled: bool,
) -> ApiResult<User> {
    let (uid, status) = (
        user_id.to_string(),
        if disabled { "disabled" } else { "active" },
    );
    if !state
        .common()
        .db(move |c| users::set_status(c, &uid, status))
        .await?
    {
        return Err(ApiError::not_found("no such user"));
    }
    let (uid, collection, who) = (
        user_id.to_string(),
        state.config().users_collection.clone(),
        admin.to_string(),
    );
    state
        .common()
        .model(move |e| e.set_subject_disabled(&collection, &uid, disabled, Some(&who)))
        .await?;
    if disabled {
        let p = super::principal(user_id);
        state
            .common()
            .db(move |c| sessions::revoke_all(c, &p, None, "disabled_by_admin"))
            .await?;
    }
    state
        .common()
        .audit(caller.done(
            if disabled {
                "disable_user"
            } else {
                "enable_user"
            },
            admin,
            super::principal(user_id),
        ))
        .await?;
    let uid = user_id.to_string();
    state
        .common()
        .db(move |c| users::get(c, &uid))
        .await?
        .ok_or_else(|| ApiError::not_found("no such user"))
}

pub async fn delete_user(
    state: &AppState,
    caller: &Caller,
    admin: &str,
    user_id: &str,
) -> ApiResult<()> {
    accounts::delete_account(state, caller, user_id, admin).await
}
