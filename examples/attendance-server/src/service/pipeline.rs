//! A camera's pipeline: detect on sampled frames, track faces across them, keep each track's
//! best face, identify a track once (again only when its best face got much better), check
//! passive liveness on that face, and write one attendance record per visit.

use super::calendar::{day_start_ms, local_day};
use super::source::Frame;
use super::status::{CameraStatus, TrackView};
use crate::config::AppConfig;
use crate::repo::cameras::Camera;
use crate::repo::employees;
use crate::repo::records::{self, NewUnknownTrack, Observed, Sighting};
use faceprint::track::{Tracker, TrackerConfig};
use faceprint::{Engine, Face, FaceEmbedding, Image, QualityProfile, Threshold};
use faceprint_server::db::Db;
use faceprint_server::Common;
use std::collections::HashMap;
use std::sync::Arc;

/// How often a visit still in view has its `last_seen_ms` written.
const EXTEND_EVERY_MS: i64 = 2_000;

struct Identified {
    employee_id: String,
    name: String,
    score: f32,
}

/// What the pipeline remembers of one track.
struct TrackMemo {
    first_seen_ms: i64,
    last_seen_ms: i64,
    best_quality: f32,
    best: Option<(Image, Face)>,
    /// The best quality when identification was last tried (None: never tried).
    tried_at_quality: Option<f32>,
    identified: Option<Identified>,
    last_written_ms: i64,
    /// Matched someone but failed liveness (a photo, a screen).
    spoof: bool,
}

pub struct Pipeline {
    engine: Engine,
    db: Db,
    common: Common,
    camera: Camera,
    app: AppConfig,
    status: Arc<CameraStatus>,
    tracker: Tracker,
    memos: HashMap<u64, TrackMemo>,
    frames: u64,
    frame_quality: QualityProfile,
    detection: faceprint::DetectionOptions,
}

impl Pipeline {
    pub fn new(
        common: &Common,
        camera: Camera,
        app: &AppConfig,
        status: Arc<CameraStatus>,
    ) -> Result<Pipeline, String> {
        let tracker = Tracker::new(TrackerConfig {
            max_missed: app.track_max_missed,
            ..TrackerConfig::default()
        })
        .map_err(|e| e.to_string())?;
        // Ranking a track's faces needs no landmark or mask model: sharpness, light, pose
        // from the five points, size and detector confidence.
        let frame_quality = QualityProfile {
            name: "camera".into(),
            landmarks: false,
            mask: false,
            single_face: false,
            ..QualityProfile::authentication()
        };
        // A camera frame with nobody in it is the common case: no second pass on a padded
        // copy (that retry is for photos cropped tight to a face) and no rotation search.
        let detection = faceprint::DetectionOptions {
            crop_retry_margin: 0.0,
            rotation_search: false,
            ..common.engine().config().detection
        };
        Ok(Pipeline {
            engine: common.engine().clone(),
            db: common.database().clone(),
            common: common.clone(),
            camera,
            app: app.clone(),
            status,
            tracker,
            memos: HashMap::new(),
            frames: 0,
            frame_quality,
            detection,
        })
    }

    /// Runs one frame from the source (only every `process_every`-th is analysed; every one is
    /// shown to live viewers, with the latest tracks).
    pub fn process(&mut self, frame: Frame) -> Result<(), String> {
        self.frames += 1;
        let sampled = (self.frames - 1) % u64::from(self.camera.settings.process_every) == 0;
        let result = if sampled {
            self.analyse(&frame)
        } else {
            Ok(())
        };
        if self.status.live.watched() {
            self.status
                .live
                .publish(&frame.image, &self.status.tracks());
        }
        result
    }

    fn analyse(&mut self, frame: &Frame) -> Result<(), String> {
        let faces: Vec<Face> = self
            .engine
            .detect_with(&frame.image, &self.detection)
            .map_err(|e| e.to_string())?
            .into_iter()
            .filter(|f| self.wanted(f))
            .collect();
        let boxes: Vec<_> = faces.iter().map(|f| f.bbox).collect();
        let step = self.tracker.update(&boxes).map_err(|e| e.to_string())?;
        self.status.processed();
        let mut views = Vec::with_capacity(step.tracks.len());
        for t in &step.tracks {
            if let Some(d) = t.detection {
                if t.hits == 1 {
                    self.status.track_started(1);
                }
                self.observe_face(t.id, t.confirmed, frame, &faces[d])?;
            }
            let memo = self.memos.get(&t.id);
            let who = memo.and_then(|m| m.identified.as_ref());
            views.push(TrackView {
                track_id: t.id,
                bbox: [t.bbox.x1, t.bbox.y1, t.bbox.x2, t.bbox.y2],
                employee_id: who.map(|w| w.employee_id.clone()),
                name: who.map(|w| w.name.clone()),
                score: who.map(|w| w.score),
            });
        }
        self.status.set_tracks(views);
        for ended in step.ended {
            self.end_track(ended.id, ended.confirmed)?;
        }
        Ok(())
    }

    /// The stream is over: every open visit gets its last sighting written.
    pub fn finish(&mut self) -> Result<(), String> {
        for ended in self.tracker.finish() {
            self.end_track(ended.id, ended.confirmed)?;
        }
        self.status.set_tracks(Vec::new());
        Ok(())
    }

    fn wanted(&self, f: &Face) -> bool {
        let s = &self.camera.settings;
        if f.bbox.width() < s.min_face_px as f32 {
            return false;
        }
        match s.roi {
            Some([x, y, w, h]) => {
                let (cx, cy) = ((f.bbox.x1 + f.bbox.x2) / 2.0, (f.bbox.y1 + f.bbox.y2) / 2.0);
                cx >= x as f32 && cx < (x + w) as f32 && cy >= y as f32 && cy < (y + h) as f32
            }
            None => true,
        }
    }

    fn observe_face(
        &mut self,
        track_id: u64,
        confirmed: bool,
        frame: &Frame,
        face: &Face,
    ) -> Result<(), String> {
        let gain = self.app.reidentify_quality_gain;
        // A face is ranked only while a better one could still change the answer: not for an
        // identified track whose next attempt would need a quality above 1.
        let settled = self.memos.get(&track_id).is_some_and(|m| {
            m.identified.is_some() && m.tried_at_quality.is_some_and(|q| q + gain > 1.0)
        });
        let quality = if settled {
            f32::MIN
        } else {
            self.engine
                .face_quality(&frame.image, face, 1, &self.frame_quality)
                .map(|r| r.score)
                .unwrap_or(0.0)
        };
        let memo = self.memos.entry(track_id).or_insert_with(|| TrackMemo {
            first_seen_ms: frame.at_ms,
            last_seen_ms: frame.at_ms,
            best_quality: f32::MIN,
            best: None,
            tried_at_quality: None,
            identified: None,
            last_written_ms: 0,
            spoof: false,
        });
        memo.last_seen_ms = frame.at_ms;
        if quality > memo.best_quality {
            memo.best_quality = quality;
            memo.best = Some((frame.image.clone(), *face));
        }
        if !confirmed {
            return Ok(());
        }
        let retry = match (memo.identified.is_some(), memo.tried_at_quality) {
            (_, None) => true,
            // Identified: only a much better face may change the answer; not identified: the
            // same rule, so a track is not re-run every frame.
            (_, Some(q)) => memo.best_quality >= q + gain,
        };
        if retry {
            self.identify(track_id)?;
        } else if memo.identified.is_some() && frame.at_ms - memo.last_written_ms >= EXTEND_EVERY_MS
        {
            self.write_sighting(track_id, frame.at_ms)?;
        }
        Ok(())
    }

    fn identify(&mut self, track_id: u64) -> Result<(), String> {
        let Some(memo) = self.memos.get_mut(&track_id) else {
            return Ok(());
        };
        memo.tried_at_quality = Some(memo.best_quality);
        let Some((image, face)) = memo.best.clone() else {
            return Ok(());
        };
        let embedding = self
            .engine
            .embed(&image, &[face])
            .map_err(|e| e.to_string())?
            .remove(0);
        let actor = format!("camera:{}", self.camera.id);
        let answer = self.engine.identify_embedding(
            &self.app.employees_collection,
            &FaceEmbedding { face, embedding },
            1,
            Some(Threshold::Fmr(self.app.identify_fmr)),
            Some(&actor),
        );
        let best = match answer {
            Ok(a) => a.candidates.into_iter().next().filter(|c| c.matched),
            // No employee enrolled yet: nobody to match.
            Err(e) if e.code() == faceprint::ErrorCode::NotFound => None,
            Err(e) => return Err(e.to_string()),
        };
        let Some(best) = best else {
            return Ok(());
        };
        let liveness = if self.camera.settings.liveness {
            let l = self
                .engine
                .face_liveness(&image, &face)
                .map_err(|e| e.to_string())?;
            if !l.live {
                // A photo or a screen: not a visit. A better face later is tried again.
                if let Some(m) = self.memos.get_mut(&track_id) {
                    m.spoof = true;
                }
                return Ok(());
            }
            Some(l.score)
        } else {
            None
        };
        let employee_id = best.subject.clone();
        let db = self.db.clone();
        let name = db
            .with(|c| employees::get(c, &employee_id))
            .map_err(|e| e.to_string())?
            .map(|e| e.name)
            .unwrap_or_else(|| employee_id.clone());
        let memo = self.memos.get_mut(&track_id).expect("present above");
        let first = memo.first_seen_ms;
        let snapshot = if self.camera.settings.snapshots {
            crop_jpeg(&image, &face)
        } else {
            None
        };
        let previous = memo.identified.replace(Identified {
            employee_id: employee_id.clone(),
            name,
            score: best.score,
        });
        let last = memo.last_seen_ms;
        if previous
            .as_ref()
            .is_some_and(|p| p.employee_id == employee_id)
        {
            return self.write_sighting(track_id, last);
        }
        memo.last_written_ms = last;
        // The visit from the track's first frame to now, in one transaction.
        self.record(Sighting {
            employee_id,
            camera_id: self.camera.id.clone(),
            first_ms: first,
            last_ms: last,
            score: best.score,
            liveness_score: liveness,
            track_id: track_id as i64,
            snapshot,
        })
    }

    /// Writes a sighting of the track's employee (a new visit, or the one it extends).
    fn write_sighting(&mut self, track_id: u64, at_ms: i64) -> Result<(), String> {
        let Some(memo) = self.memos.get_mut(&track_id) else {
            return Ok(());
        };
        let Some(who) = &memo.identified else {
            return Ok(());
        };
        memo.last_written_ms = at_ms;
        let sighting = Sighting {
            employee_id: who.employee_id.clone(),
            camera_id: self.camera.id.clone(),
            first_ms: at_ms,
            last_ms: at_ms,
            score: who.score,
            liveness_score: None,
            track_id: track_id as i64,
            snapshot: None,
        };
        self.record(sighting)
    }

    fn record(&self, sighting: Sighting) -> Result<(), String> {
        let cooldown = self.app.cooldown_secs as i64 * 1000;
        let role = self.camera.role.as_str();
        let day_start = day_start_ms(sighting.first_ms, self.app.utc_offset_minutes);
        let camera_name = self.camera.name.clone();
        let observed = self
            .db
            .write(move |tx| {
                let observed = records::observe(tx, &sighting, cooldown, role, day_start)?;
                if let Observed::New(r) = &observed {
                    // Queued with the record: a record is never without its webhook event.
                    let event = if r.direction == "out" {
                        "check_out"
                    } else {
                        "check_in"
                    };
                    let payload = serde_json::json!({
                        "record": r, "camera_name": camera_name,
                    });
                    faceprint_server::webhooks::enqueue(tx, event, &payload)?;
                }
                Ok(observed)
            })
            .map_err(|e| e.to_string())?;
        if matches!(observed, Observed::New(_)) {
            self.status.record_written();
            self.common.outbox().notify.notify_one();
        }
        Ok(())
    }

    fn end_track(&mut self, track_id: u64, confirmed: bool) -> Result<(), String> {
        // An identified track's visit lasts until its last sighting; the memo goes either way.
        let last = self
            .memos
            .get(&track_id)
            .filter(|m| m.identified.is_some())
            .map(|m| m.last_seen_ms);
        let written = last.map_or(Ok(()), |at| self.write_sighting(track_id, at));
        let Some(memo) = self.memos.remove(&track_id) else {
            return written;
        };
        if memo.identified.is_some() {
            return written;
        }
        if !confirmed {
            return Ok(());
        }
        let kind = if memo.spoof {
            self.status.spoof_track();
            "spoof"
        } else {
            self.status.unknown_track();
            "unknown"
        };
        let kept = self.app.keep_unknown_tracks.then(|| NewUnknownTrack {
            camera_id: self.camera.id.clone(),
            track_id: track_id as i64,
            kind,
            first_seen_ms: memo.first_seen_ms,
            last_seen_ms: memo.last_seen_ms,
            best_quality: memo.best_quality.max(0.0),
            snapshot: match (&memo.best, self.camera.settings.snapshots) {
                (Some((image, face)), true) => crop_jpeg(image, face),
                _ => None,
            },
        });
        let day = local_day(memo.first_seen_ms, self.app.utc_offset_minutes);
        let camera = self.camera.id.clone();
        let counted = !memo.spoof;
        self.db
            .write(move |tx| {
                if counted {
                    records::count_unknown(tx, &camera, &day, 1)?;
                }
                if let Some(t) = &kept {
                    records::keep_unknown(tx, t)?;
                }
                Ok(())
            })
            .map_err(|e| e.to_string())
    }
}

/// A JPEG of the face with a margin, for a record's snapshot.
fn crop_jpeg(image: &Image, face: &Face) -> Option<Vec<u8>> {
    let (w, h) = (image.width() as f32, image.height() as f32);
    let m = face.bbox.width().max(face.bbox.height()) * 0.25;
    let x1 = (face.bbox.x1 - m).clamp(0.0, w - 1.0) as u32;
    let y1 = (face.bbox.y1 - m).clamp(0.0, h - 1.0) as u32;
    let x2 = (face.bbox.x2 + m).clamp(x1 as f32 + 1.0, w) as u32;
    let y2 = (face.bbox.y2 + m).clamp(y1 as f32 + 1.0, h) as u32;
    let rgb = image::RgbImage::from_raw(image.width(), image.height(), image.as_rgb().to_vec())?;
    let crop = image::imageops::crop_imm(&rgb, x1, y1, x2 - x1, y2 - y1).to_image();
    let mut out = std::io::Cursor::new(Vec::new());
    crop.write_to(&mut out, image::ImageFormat::Jpeg).ok()?;
    Some(out.into_inner())
}
