//! The `cameras` table: where frames come from and how they are processed.

use faceprint_server::db::prelude::*;
use faceprint_server::db::Row;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Where a camera's frames come from.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum SourceKind {
    /// An RTSP or HTTP(S) stream (MJPEG, HLS, anything ffmpeg reads), reconnected when it drops.
    Url,
    /// A video file, played at its own frame rate, once.
    File,
    /// A directory of JPEG/PNG frames, read in name order, once.
    Dir,
    /// Frames pushed to `POST /api/cameras/{id}/frames`.
    Push,
}

impl SourceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::Url => "url",
            SourceKind::File => "file",
            SourceKind::Dir => "dir",
            SourceKind::Push => "push",
        }
    }

    fn parse(s: &str) -> SourceKind {
        match s {
            "url" => SourceKind::Url,
            "file" => SourceKind::File,
            "dir" => SourceKind::Dir,
            _ => SourceKind::Push,
        }
    }
}

/// Which records a camera writes.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum CameraRole {
    /// At an entrance: every visit is a check-in.
    In,
    /// At an exit: every visit is a check-out.
    Out,
    /// Anywhere: the first visit of a person's day checks in, later ones check out.
    Any,
}

impl CameraRole {
    pub fn as_str(self) -> &'static str {
        match self {
            CameraRole::In => "in",
            CameraRole::Out => "out",
            CameraRole::Any => "any",
        }
    }

    fn parse(s: &str) -> CameraRole {
        match s {
            "in" => CameraRole::In,
            "out" => CameraRole::Out,
            _ => CameraRole::Any,
        }
    }
}

/// How a camera's frames are processed.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct CameraSettings {
    /// Frames per second taken from the source (ffmpeg resamples to it).
    pub fps: f32,
    /// Run detection on every n-th of those frames (1: all).
    pub process_every: u32,
    /// Region of interest `[x, y, width, height]` in source pixels: faces outside are ignored.
    pub roi: Option<[u32; 4]>,
    /// Faces smaller than this (box width, pixels) are ignored.
    pub min_face_px: u32,
    /// Keep a JPEG crop of the face with each record (off: no image is kept).
    pub snapshots: bool,
    /// A visit needs passive liveness on the identified face (a photo held up to the camera is
    /// not a visit). Turn off for cameras too far away for it: faces under ~100 px.
    pub liveness: bool,
    /// Frame width the source is scaled to (height keeps the aspect); 0: as the source is.
    pub width: u32,
}

impl Default for CameraSettings {
    fn default() -> Self {
        CameraSettings {
            fps: 5.0,
            process_every: 1,
            roi: None,
            min_face_px: 40,
            snapshots: false,
            liveness: true,
            width: 640,
        }
    }
}

impl CameraSettings {
    pub fn check(&self) -> Result<(), String> {
        if !(self.fps.is_finite() && self.fps > 0.0 && self.fps <= 60.0) {
            return Err(format!("fps must be within (0, 60], got {}", self.fps));
        }
        if self.process_every == 0 || self.process_every > 1000 {
            return Err("process_every must be 1 to 1000".into());
        }
        if let Some([_, _, w, h]) = self.roi {
            if w == 0 || h == 0 {
                return Err("roi width and height must be positive".into());
            }
        }
        if self.width > 7680 || (self.width > 0 && self.width < 64) {
            return Err("width must be 0 (as the source) or 64 to 7680".into());
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct Camera {
    pub id: String,
    pub name: String,
    pub kind: SourceKind,
    /// The URL, file or directory (none for `push`). A URL's `user:password@` is shown as
    /// `***@`, to admins too; saving it back so keeps the stored one.
    pub source: Option<String>,
    pub role: CameraRole,
    pub settings: CameraSettings,
    pub enabled: bool,
    pub created_ms: i64,
}

impl Camera {
    /// The camera as the API shows it: credentials in its source redacted.
    pub fn shown(mut self) -> Camera {
        self.source = self
            .source
            .map(|s| faceprint_server::outbound::redact_url(&s));
        self
    }
}

const COLUMNS: &str = "id, name, kind, source, role, settings, enabled, created_ms";

fn row(r: &Row) -> DbResult<Camera> {
    let settings: String = r.get(5)?;
    Ok(Camera {
        id: r.get(0)?,
        name: r.get(1)?,
        kind: SourceKind::parse(&r.get::<String>(2)?),
        source: r.get(3)?,
        role: CameraRole::parse(&r.get::<String>(4)?),
        settings: serde_json::from_str(&settings).unwrap_or_default(),
        enabled: r.get(6)?,
        created_ms: r.get(7)?,
    })
}

pub fn upsert(c: &mut Sql<'_>, camera: &Camera) -> DbResult<()> {
    let settings = serde_json::to_string(&camera.settings).unwrap_or_else(|_| "{}".into());
    c.execute(
        "INSERT INTO cameras (id, name, kind, source, role, settings, enabled, created_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
         ON CONFLICT (id) DO UPDATE SET name = ?2, kind = ?3, source = ?4, role = ?5,
             settings = ?6, enabled = ?7",
        args![
            &camera.id,
            &camera.name,
            camera.kind.as_str(),
            &camera.source,
            camera.role.as_str(),
            settings,
            camera.enabled,
            camera.created_ms
        ],
    )?;
    Ok(())
}

pub fn get(c: &mut Sql<'_>, id: &str) -> DbResult<Option<Camera>> {
    c.query_row(
        &format!("SELECT {COLUMNS} FROM cameras WHERE id = ?1"),
        args![id],
        row,
    )
    .optional()
}

pub fn list(c: &mut Sql<'_>) -> DbResult<Vec<Camera>> {
    c.query_map(
        &format!("SELECT {COLUMNS} FROM cameras ORDER BY created_ms, id"),
        args![],
        row,
    )
}

pub fn delete(c: &mut Sql<'_>, id: &str) -> DbResult<bool> {
    Ok(c.execute("DELETE FROM cameras WHERE id = ?1", args![id])? == 1)
}
