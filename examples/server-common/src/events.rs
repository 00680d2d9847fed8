//! The servers' audit trail: who did what to whom, when, with what outcome and score — never an
//! image, a vector or a secret.

use crate::db::prelude::*;
use crate::db::Value;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Event {
    #[serde(default)]
    pub id: i64,
    #[serde(default)]
    pub at_ms: i64,
    /// `user:<id>`, `admin:<id>`, `api_key:<id>` or none (anonymous).
    pub actor: Option<String>,
    /// e.g. `signup`, `login`, `refresh`, `logout`, `verify`, `delete_account`.
    pub action: String,
    pub target: Option<String>,
    /// `success`, `failure` or `refused`.
    pub outcome: String,
    pub score: Option<f32>,
    /// A code saying why (`no_match`, `spoof_suspected`, `refresh_token_reuse`…).
    pub reason: Option<String>,
    pub request_id: Option<String>,
}

impl Event {
    pub fn new(action: &str, outcome: &str) -> Event {
        Event {
            action: action.into(),
            outcome: outcome.into(),
            ..Event::default()
        }
    }

    pub fn outcome(mut self, outcome: &str) -> Self {
        self.outcome = outcome.into();
        self
    }

    pub fn actor(mut self, actor: impl Into<String>) -> Self {
        self.actor = Some(actor.into());
        self
    }

    pub fn target(mut self, target: impl Into<String>) -> Self {
        self.target = Some(target.into());
        self
    }

    pub fn score(mut self, score: Option<f32>) -> Self {
        self.score = score;
        self
    }

    pub fn reason(mut self, reason: impl Into<String>) -> Self {
        self.reason = Some(reason.into());
        self
    }

    pub fn request(mut self, request_id: &crate::request_id::RequestId) -> Self {
        if !request_id.0.is_empty() {
            self.request_id = Some(request_id.0.clone());
        }
        self
    }
}

pub fn record(c: &mut Sql<'_>, e: &Event) -> DbResult<()> {
    c.execute(
        "INSERT INTO events (at_ms, actor, action, target, outcome, score, reason, request_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        args![now_ms(), &e.actor, &e.action, &e.target, &e.outcome, e.score.map(f64::from), &e.reason, &e.request_id],
    )?;
    Ok(())
}

/// A query of the trail; every field narrows it.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[serde(default, deny_unknown_fields)]
pub struct EventQuery {
    pub action: Option<String>,
    pub actor: Option<String>,
    pub target: Option<String>,
    pub outcome: Option<String>,
    /// Milliseconds since the epoch.
    pub since_ms: Option<i64>,
    pub until_ms: Option<i64>,
    /// At most 500 (default 100).
    pub limit: Option<u32>,
    /// Events with an id below this (the previous page's last id).
    pub before_id: Option<i64>,
}

/// Events matching `q`, newest first.
pub fn query(c: &mut Sql<'_>, q: &EventQuery) -> DbResult<Vec<Event>> {
    let mut sql = String::from("SELECT id, at_ms, actor, action, target, outcome, score, reason, request_id FROM events WHERE 1=1");
    let mut args: Vec<Value> = Vec::new();
    let mut add = |clause: &str, v: Value| {
        args.push(v);
        sql.push_str(&format!(" AND {clause} ?{}", args.len()));
    };
    if let Some(v) = &q.action {
        add("action =", v.clone().into());
    }
    if let Some(v) = &q.actor {
        add("actor =", v.clone().into());
    }
    if let Some(v) = &q.target {
        add("target =", v.clone().into());
    }
    if let Some(v) = &q.outcome {
        add("outcome =", v.clone().into());
    }
    if let Some(v) = q.since_ms {
        add("at_ms >=", v.into());
    }
    if let Some(v) = q.until_ms {
        add("at_ms <", v.into());
    }
    if let Some(v) = q.before_id {
        add("id <", v.into());
    }
    let limit = q.limit.unwrap_or(100).clamp(1, 500);
    sql.push_str(&format!(" ORDER BY id DESC LIMIT {limit}"));
    c.query_map(&sql, &args, |r| {
        Ok(Event {
            id: r.get(0)?,
            at_ms: r.get(1)?,
            actor: r.get(2)?,
            action: r.get(3)?,
            target: r.get(4)?,
            outcome: r.get(5)?,
            score: r.get::<Option<f64>>(6)?.map(|s| s as f32),
            reason: r.get(7)?,
            request_id: r.get(8)?,
        })
    })
}
