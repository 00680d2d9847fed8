//! Reading the records: a day's summary per employee (present, late, absent) and CSV export.

use super::calendar::{day_start_ms, local_day, local_time, parse_clock, parse_day};
use crate::repo::records::{self, Record, RecordQuery};
use crate::repo::{cameras, employees};
use crate::state::AppState;
use faceprint_server::error::{ApiError, ApiResult};
use serde::Serialize;
use std::collections::HashMap;
use utoipa::ToSchema;

/// One employee's day.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DayEntry {
    pub employee_id: String,
    pub name: String,
    /// `present` (first seen by `workday_start`), `late`, or `absent`.
    pub status: String,
    pub first_seen_ms: Option<i64>,
    pub last_seen_ms: Option<i64>,
    /// Visits recorded that day.
    pub visits: usize,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DaySummary {
    /// YYYY-MM-DD, site time.
    pub day: String,
    pub workday_start: String,
    pub present: usize,
    pub late: usize,
    pub absent: usize,
    /// Faces followed that day that matched nobody.
    pub unknown_tracks: i64,
    /// Active employees, by name.
    pub employees: Vec<DayEntry>,
}

/// The day's attendance (`day` YYYY-MM-DD in site time; default today).
pub async fn summary(state: &AppState, day: Option<&str>) -> ApiResult<DaySummary> {
    let off = state.config().utc_offset_minutes;
    let start = match day {
        Some(d) => parse_day(d, off).map_err(ApiError::bad_request)?,
        None => day_start_ms(faceprint_server::db::now_ms(), off),
    };
    let day = local_day(start, off);
    let late_after =
        start + parse_clock(&state.config().workday_start).map_err(ApiError::internal)? * 60_000;
    let q = RecordQuery {
        from_ms: Some(start),
        to_ms: Some(start + 86_400_000),
        limit: Some(10_000),
        ..RecordQuery::default()
    };
    let d = day.clone();
    let (people, recs, unknown) = state
        .common()
        .db(move |c| {
            // CAST: PostgreSQL sums BIGINTs into a NUMERIC.
            let unknown: i64 = c.query_one(
                "SELECT CAST(coalesce(sum(tracks), 0) AS BIGINT) FROM unknown_counts WHERE day = ?1",
                faceprint_server::args![&d],
            )?;
            Ok((employees::list(c)?, records::query(c, &q)?, unknown))
        })
        .await?;
    let mut by_employee: HashMap<&str, Vec<&Record>> = HashMap::new();
    for r in &recs {
        by_employee
            .entry(r.employee_id.as_str())
            .or_default()
            .push(r);
    }
    let mut entries = Vec::new();
    for e in people.iter().filter(|e| e.status == "active") {
        let mine = by_employee.get(e.id.as_str());
        let first = mine.and_then(|v| v.iter().map(|r| r.first_seen_ms).min());
        let last = mine.and_then(|v| v.iter().map(|r| r.last_seen_ms).max());
        let status = match first {
            None => "absent",
            Some(t) if t > late_after => "late",
            Some(_) => "present",
        };
        entries.push(DayEntry {
            employee_id: e.id.clone(),
            name: e.name.clone(),
            status: status.into(),
            first_seen_ms: first,
            last_seen_ms: last,
            visits: mine.map_or(0, |v| v.len()),
        });
    }
    let count = |s: &str| entries.iter().filter(|e| e.status == s).count();
    Ok(DaySummary {
        day,
        workday_start: state.config().workday_start.clone(),
        present: count("present"),
        late: count("late"),
        absent: count("absent"),
        unknown_tracks: unknown,
        employees: entries,
    })
}

/// The records of a query as CSV (site times, names beside ids).
pub async fn csv(state: &AppState, q: RecordQuery) -> ApiResult<String> {
    let off = state.config().utc_offset_minutes;
    let (recs, people, cams) = state
        .common()
        .db(move |c| {
            Ok((
                records::query(c, &q)?,
                employees::list(c)?,
                cameras::list(c)?,
            ))
        })
        .await?;
    let names: HashMap<_, _> = people
        .iter()
        .map(|e| (e.id.as_str(), e.name.as_str()))
        .collect();
    let cam_names: HashMap<_, _> = cams
        .iter()
        .map(|c| (c.id.as_str(), c.name.as_str()))
        .collect();
    let mut out = String::from(
        "record_id,employee_id,employee,camera_id,camera,direction,first_seen,last_seen,score,liveness_score,track_id\r\n",
    );
    for r in recs {
        let fields = [
            r.id.to_string(),
            r.employee_id.clone(),
            names.get(r.employee_id.as_str()).unwrap_or(&"").to_string(),
            r.camera_id.clone(),
            cam_names
                .get(r.camera_id.as_str())
                .unwrap_or(&"")
                .to_string(),
            r.direction.clone(),
            local_time(r.first_seen_ms, off),
            local_time(r.last_seen_ms, off),
            format!("{:.4}", r.score),
            r.liveness_score
                .map(|v| format!("{v:.4}"))
                .unwrap_or_default(),
            r.track_id.to_string(),
        ];
        let line: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
        out.push_str(&line.join(","));
        out.push_str("\r\n");
    }
    Ok(out)
}

/// RFC 4180 quoting, and no formula: a spreadsheet may split a field again on `;`, tab or `|`
/// (the separator of its locale, or the user's pick), so every piece that would start a cell
/// with `=`, `+`, `-`, `@`, tab or CR (after spaces) gets a `'` in front, not only the
/// field's first.
fn csv_field(s: &str) -> String {
    const SEPARATORS: [char; 6] = [',', ';', '\t', '|', '\r', '\n'];
    const TRIGGERS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];
    let mut out = String::with_capacity(s.len() + 2);
    let mut cell_start = true;
    for c in s.chars() {
        if cell_start && TRIGGERS.contains(&c) {
            out.push('\'');
        }
        out.push(c);
        // A cell starts after a separator; spaces before its first character do not count.
        if SEPARATORS.contains(&c) {
            cell_start = true;
        } else if c != ' ' {
            cell_start = false;
        }
    }
    if out.contains([',', '"', '\r', '\n', ';', '\t', '|']) {
        format!("\"{}\"", out.replace('"', "\"\""))
    } else {
        out
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn csv_fields_are_quoted_and_defused() {
        assert_eq!(super::csv_field("Ann"), "Ann");
        assert_eq!(super::csv_field("Doe, \"J\""), "\"Doe, \"\"J\"\"\"");
        assert_eq!(super::csv_field("=HYPERLINK(1)"), "'=HYPERLINK(1)");
        assert_eq!(super::csv_field("-0.5"), "'-0.5");
        // Split again by a spreadsheet on `;`, tab or `|`, no piece is a formula.
        assert_eq!(
            super::csv_field("x;=cmd|' /C calc'!A0"),
            "\"x;'=cmd|' /C calc'!A0\""
        );
        assert_eq!(super::csv_field("a; +1"), "\"a; '+1\"");
        assert_eq!(super::csv_field("a\t@SUM(1)"), "\"a\t'@SUM(1)\"");
        assert_eq!(super::csv_field("a,-2"), "\"a,'-2\"");
        assert_eq!(super::csv_field("\t=1"), "\"'\t'=1\"");
        for evil in ["x;=cmd|'/C calc'!A0", "n|=1+1", "a\r\n=2", " ;  @x", "ok"] {
            let f = super::csv_field(evil);
            let inner = f.trim_matches('"').replace("\"\"", "\"");
            for piece in inner.split([',', ';', '\t', '|', '\r', '\n']) {
                let piece = piece.trim_start_matches(' ');
                assert!(
                    !piece.starts_with(['=', '+', '-', '@']),
                    "{evil:?} gave {f:?}: piece {piece:?}"
                );
            }
        }
    }
}
