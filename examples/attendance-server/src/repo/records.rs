//! `attendance_records`: one row per visit of an employee to a camera's view.

use super::employees;
use faceprint_server::db::prelude::*;
use faceprint_server::db::Row;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct Record {
    pub id: i64,
    pub employee_id: String,
    pub camera_id: String,
    pub first_seen_ms: i64,
    pub last_seen_ms: i64,
    /// Best similarity of the visit's face to the employee's templates.
    pub score: f32,
    /// Passive liveness of the frame that was identified (none when not checked).
    pub liveness_score: Option<f32>,
    /// The camera pipeline's track of the visit (ids restart with the server).
    pub track_id: i64,
    /// `in` (check-in), `out` (check-out) or `seen`.
    pub direction: String,
    /// A JPEG face crop was kept with the record (`GET /api/records/{id}/snapshot`).
    pub has_snapshot: bool,
}

const COLUMNS: &str = "id, employee_id, camera_id, first_seen_ms, last_seen_ms, score, \
                       liveness_score, track_id, direction, snapshot IS NOT NULL";

fn row(r: &Row) -> DbResult<Record> {
    Ok(Record {
        id: r.get(0)?,
        employee_id: r.get(1)?,
        camera_id: r.get(2)?,
        first_seen_ms: r.get(3)?,
        last_seen_ms: r.get(4)?,
        score: r.get::<f64>(5)? as f32,
        liveness_score: r.get::<Option<f64>>(6)?.map(|v| v as f32),
        track_id: r.get(7)?,
        direction: r.get(8)?,
        has_snapshot: r.get(9)?,
    })
}

/// A sighting of an identified employee by a camera's pipeline, from `first_ms` to `last_ms`.
#[derive(Debug, Clone)]
pub struct Sighting {
    pub employee_id: String,
    pub camera_id: String,
    pub first_ms: i64,
    pub last_ms: i64,
    pub score: f32,
    pub liveness_score: Option<f32>,
    pub track_id: i64,
    pub snapshot: Option<Vec<u8>>,
}

/// What [`observe`] did.
#[derive(Debug, Clone, PartialEq)]
pub enum Observed {
    /// A new visit: this record was written.
    New(Record),
    /// The same visit as this record, which now lasts until the sighting.
    Extended(i64),
}

/// Records a sighting (call it inside a transaction, with whatever else must commit with it):
/// it extends the employee's latest record on that camera when that ended within
/// `cooldown_ms` of the sighting's start, otherwise it is a new visit whose direction comes
/// from the camera's role (`any`: `in` for the first visit since `day_start_ms`, `out` after).
pub fn observe(
    c: &mut Sql<'_>,
    s: &Sighting,
    cooldown_ms: i64,
    role: &str,
    day_start_ms: i64,
) -> DbResult<Observed> {
    let recent: Option<(i64, i64)> = c
        .query_row(
            "SELECT id, last_seen_ms FROM attendance_records
             WHERE employee_id = ?1 AND camera_id = ?2 ORDER BY last_seen_ms DESC LIMIT 1",
            args![&s.employee_id, &s.camera_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    if let Some((id, last)) = recent {
        if s.first_ms - last <= cooldown_ms && s.last_ms >= last - cooldown_ms {
            c.execute(
                "UPDATE attendance_records
                 SET last_seen_ms = CASE WHEN last_seen_ms > ?2 THEN last_seen_ms ELSE ?2 END,
                     score = CASE WHEN score > ?3 THEN score ELSE ?3 END
                 WHERE id = ?1",
                args![id, s.last_ms, s.score as f64],
            )?;
            employees::seen(c, &s.employee_id, s.last_ms)?;
            return Ok(Observed::Extended(id));
        }
    }
    let direction = match role {
        "in" => "in",
        "out" => "out",
        _ => {
            let earlier: i64 = c.query_row(
                "SELECT count(*) FROM attendance_records WHERE employee_id = ?1
                 AND first_seen_ms >= ?2 AND first_seen_ms < ?3",
                args![&s.employee_id, day_start_ms, s.first_ms],
                |r| r.get(0),
            )?;
            if earlier == 0 {
                "in"
            } else {
                "out"
            }
        }
    };
    let id: i64 = c.query_one(
        "INSERT INTO attendance_records (employee_id, camera_id, first_seen_ms, last_seen_ms,
             score, liveness_score, track_id, direction, snapshot)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) RETURNING id",
        args![
            &s.employee_id,
            &s.camera_id,
            s.first_ms,
            s.last_ms,
            s.score as f64,
            s.liveness_score.map(|v| v as f64),
            s.track_id,
            direction,
            &s.snapshot
        ],
    )?;
    employees::seen(c, &s.employee_id, s.last_ms)?;
    let record = c.query_row(
        &format!("SELECT {COLUMNS} FROM attendance_records WHERE id = ?1"),
        args![id],
        row,
    )?;
    Ok(Observed::New(record))
}

/// Filters of a records query.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct RecordQuery {
    pub employee_id: Option<String>,
    pub camera_id: Option<String>,
    /// From this time (ms since the epoch, inclusive).
    pub from_ms: Option<i64>,
    /// Until this time (exclusive).
    pub to_ms: Option<i64>,
    /// At most this many, newest first (default 100, at most 10,000).
    pub limit: Option<u32>,
}

pub fn query(c: &mut Sql<'_>, q: &RecordQuery) -> DbResult<Vec<Record>> {
    let limit = q.limit.unwrap_or(100).min(10_000);
    c.query_map(
        &format!(
        "SELECT {COLUMNS} FROM attendance_records
         WHERE (CAST(?1 AS TEXT) IS NULL OR employee_id = ?1) AND (CAST(?2 AS TEXT) IS NULL OR camera_id = ?2)
           AND (CAST(?3 AS BIGINT) IS NULL OR first_seen_ms >= ?3) AND (CAST(?4 AS BIGINT) IS NULL OR first_seen_ms < ?4)
         ORDER BY first_seen_ms DESC, id DESC LIMIT ?5"
        ),
        args![&q.employee_id, &q.camera_id, q.from_ms, q.to_ms, limit],
        row,
    )
}

/// Which table a face crop is kept in.
#[derive(Debug, Clone, Copy)]
pub enum CropOf {
    Record,
    UnknownTrack,
}

/// The JPEG face crop kept with a record or an unknown track, if any.
pub fn snapshot(c: &mut Sql<'_>, of: CropOf, id: i64) -> DbResult<Option<Vec<u8>>> {
    let table = match of {
        CropOf::Record => "attendance_records",
        CropOf::UnknownTrack => "unknown_tracks",
    };
    Ok(c.query_row(
        &format!("SELECT snapshot FROM {table} WHERE id = ?1"),
        args![id],
        |r| r.get::<Option<Vec<u8>>>(0),
    )
    .optional()?
    .flatten())
}

/// Adds `n` unidentified tracks to a camera's count for `day` (YYYY-MM-DD).
pub fn count_unknown(c: &mut Sql<'_>, camera_id: &str, day: &str, n: i64) -> DbResult<()> {
    c.execute(
        "INSERT INTO unknown_counts (camera_id, day, tracks) VALUES (?1, ?2, ?3)
         ON CONFLICT (camera_id, day) DO UPDATE SET tracks = unknown_counts.tracks + ?3",
        args![camera_id, day, n],
    )?;
    Ok(())
}

pub fn delete_for_employee(c: &mut Sql<'_>, employee_id: &str) -> DbResult<usize> {
    c.execute(
        "DELETE FROM attendance_records WHERE employee_id = ?1",
        args![employee_id],
    )
    .map(|n| n as usize)
}

/// A track nobody was identified in (kept only with `app.keep_unknown_tracks`).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct UnknownTrack {
    pub id: i64,
    pub camera_id: String,
    pub track_id: i64,
    /// `unknown` (matched no employee) or `spoof` (matched one, failed liveness).
    pub kind: String,
    pub first_seen_ms: i64,
    pub last_seen_ms: i64,
    /// Quality of the track's best face (0..1).
    pub best_quality: f32,
    pub has_snapshot: bool,
}

/// A track to keep: no template, a face crop only when the camera keeps snapshots.
#[derive(Debug, Clone)]
pub struct NewUnknownTrack {
    pub camera_id: String,
    pub track_id: i64,
    pub kind: &'static str,
    pub first_seen_ms: i64,
    pub last_seen_ms: i64,
    pub best_quality: f32,
    pub snapshot: Option<Vec<u8>>,
}

pub fn keep_unknown(c: &mut Sql<'_>, t: &NewUnknownTrack) -> DbResult<()> {
    c.execute(
        "INSERT INTO unknown_tracks (camera_id, track_id, kind, first_seen_ms, last_seen_ms,
             best_quality, snapshot) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        args![
            &t.camera_id,
            t.track_id,
            t.kind,
            t.first_seen_ms,
            t.last_seen_ms,
            t.best_quality as f64,
            &t.snapshot
        ],
    )?;
    Ok(())
}

/// Kept unknown tracks, newest first (the records query's camera, range and limit; its
/// `employee_id` must be empty).
pub fn unknown_tracks(c: &mut Sql<'_>, q: &RecordQuery) -> DbResult<Vec<UnknownTrack>> {
    let limit = q.limit.unwrap_or(100).min(10_000);
    c.query_map(
        "SELECT id, camera_id, track_id, kind, first_seen_ms, last_seen_ms, best_quality,
             snapshot IS NOT NULL FROM unknown_tracks
         WHERE (CAST(?1 AS TEXT) IS NULL OR camera_id = ?1)
           AND (CAST(?2 AS BIGINT) IS NULL OR first_seen_ms >= ?2) AND (CAST(?3 AS BIGINT) IS NULL OR first_seen_ms < ?3)
         ORDER BY first_seen_ms DESC, id DESC LIMIT ?4",
        args![&q.camera_id, q.from_ms, q.to_ms, limit],
        |r| {
        Ok(UnknownTrack {
            id: r.get(0)?,
            camera_id: r.get(1)?,
            track_id: r.get(2)?,
            kind: r.get(3)?,
            first_seen_ms: r.get(4)?,
            last_seen_ms: r.get(5)?,
            best_quality: r.get::<f64>(6)? as f32,
            has_snapshot: r.get(7)?,
        })
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sighting(first_ms: i64, last_ms: i64) -> Sighting {
        Sighting {
            employee_id: "e1".into(),
            camera_id: "c1".into(),
            first_ms,
            last_ms,
            score: 0.6,
            liveness_score: None,
            track_id: 1,
            snapshot: None,
        }
    }

    #[test]
    fn a_visit_is_one_record_until_the_cooldown_passes() {
        let dir = tempfile::tempdir().unwrap();
        // On SQLite, and on PostgreSQL when the tests have one.
        for db in
            faceprint_server::testing::test_databases(dir.path(), &[&super::super::MIGRATIONS])
        {
            db.with(|c| {
                // The first sighting of the day is a new visit spanning the track, checking in.
                let Observed::New(r) = observe(c, &sighting(1_000, 5_000), 4_000, "any", 0)? else {
                    panic!("not a new visit");
                };
                assert_eq!(
                    (r.first_seen_ms, r.last_seen_ms, r.direction.as_str()),
                    (1_000, 5_000, "in")
                );
                // Seen again within the cooldown: the same visit, now longer.
                assert_eq!(
                    observe(c, &sighting(8_000, 8_000), 4_000, "any", 0)?,
                    Observed::Extended(r.id)
                );
                // A late, out-of-order sighting inside the visit does not shorten it.
                assert_eq!(
                    observe(c, &sighting(6_000, 6_000), 4_000, "any", 0)?,
                    Observed::Extended(r.id)
                );
                let q = RecordQuery::default();
                assert_eq!(query(c, &q)?[0].last_seen_ms, 8_000);
                // After the cooldown: a second visit, which checks out.
                let Observed::New(second) = observe(c, &sighting(20_000, 21_000), 4_000, "any", 0)?
                else {
                    panic!("not a new visit");
                };
                assert_eq!(second.direction, "out");
                // An entrance camera checks in whatever the hour.
                let mut s = sighting(40_000, 40_000);
                s.camera_id = "door".into();
                let Observed::New(third) = observe(c, &s, 4_000, "in", 0)? else {
                    panic!("not a new visit");
                };
                assert_eq!(third.direction, "in");
                assert_eq!(query(c, &q)?.len(), 3);
                Ok(())
            })
            .unwrap();
        }
    }
}
