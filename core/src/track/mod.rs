//! Face tracking across video frames, SORT-style: each track's box runs a constant-velocity
//! Kalman filter; each frame's detections are matched to the tracks' predicted boxes by a
//! minimum-cost assignment on IoU, then (for faces that moved further than their size between
//! two sampled frames) on centre distance; a track ends after `max_missed` frames unseen.
//!
//! The tracker sees boxes only, so it works with any detector and any frame rate: call
//! [`Tracker::update`] once per processed frame with that frame's face boxes.
//!
//! ```
//! use faceprint::{track::{Tracker, TrackerConfig}, BoundingBox};
//! let mut tracker = Tracker::new(TrackerConfig::default())?;
//! let face = |x: f32| BoundingBox { x1: x, y1: 100.0, x2: x + 80.0, y2: 200.0 };
//! let first = tracker.update(&[face(100.0)])?;
//! let second = tracker.update(&[face(112.0)])?;
//! assert_eq!(first.tracks[0].id, second.tracks[0].id);   // the same face, the same id
//! assert!(second.tracks[0].confirmed);
//! # Ok::<(), faceprint::Error>(())
//! ```

mod assign;
mod kalman;

use crate::detect::BoundingBox;
use crate::error::{Error, Result};
use kalman::BoxFilter;
use serde::{Deserialize, Serialize};

/// Settings of a [`Tracker`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrackerConfig {
    /// A detection continues a track when its box overlaps the track's predicted box by at
    /// least this IoU (0..1).
    pub min_iou: f32,
    /// Otherwise when its centre lies within this many predicted-box widths of the predicted
    /// centre and its size is within a factor of 2 (0 turns this second stage off).
    pub max_center_shift: f32,
    /// Processed frames a track may go unseen before it ends.
    pub max_missed: u32,
    /// Detections a track needs before it is `confirmed` (a single stray detection is not).
    pub min_hits: u32,
}

impl Default for TrackerConfig {
    fn default() -> Self {
        TrackerConfig {
            min_iou: 0.2,
            max_center_shift: 1.0,
            max_missed: 10,
            min_hits: 2,
        }
    }
}

impl TrackerConfig {
    fn check(&self) -> Result<()> {
        if !(0.0..=1.0).contains(&self.min_iou) {
            return Err(Error::InvalidArgument(format!(
                "tracker min_iou must be within 0..1, got {}",
                self.min_iou
            )));
        }
        if !(self.max_center_shift.is_finite() && self.max_center_shift >= 0.0) {
            return Err(Error::InvalidArgument(format!(
                "tracker max_center_shift must be a finite number >= 0, got {}",
                self.max_center_shift
            )));
        }
        if self.min_hits == 0 {
            return Err(Error::InvalidArgument(
                "tracker min_hits must be at least 1".into(),
            ));
        }
        Ok(())
    }
}

/// A live track after a step.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrackState {
    /// Stable for the track's life; never reused by one tracker.
    pub id: u64,
    /// The matched detection's box, or the predicted box when unseen this frame.
    pub bbox: BoundingBox,
    /// Index into this step's boxes of the detection that continued the track, if any.
    pub detection: Option<usize>,
    /// Frames in which the track was detected.
    pub hits: u32,
    /// Frames since the track was last detected (0 when detected now).
    pub missed: u32,
    /// Detected at least `min_hits` times: a face, not a stray detection.
    pub confirmed: bool,
}

/// A track that ended in a step (or at [`Tracker::finish`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EndedTrack {
    /// The track's id.
    pub id: u64,
    /// Frames in which it was detected.
    pub hits: u32,
    /// Whether it was ever confirmed.
    pub confirmed: bool,
}

/// What one [`Tracker::update`] did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrackStep {
    /// Every live track, the ones detected in this frame first in detection order; each
    /// detection is in exactly one track.
    pub tracks: Vec<TrackState>,
    /// Tracks that ended in this step (unseen for more than `max_missed` frames).
    pub ended: Vec<EndedTrack>,
}

#[derive(Debug, Clone)]
struct Live {
    id: u64,
    filter: BoxFilter,
    predicted: BoundingBox,
    hits: u32,
    missed: u32,
    confirmed: bool,
}

/// Follows faces from frame to frame. One per video stream; not shared between threads (it is
/// `Send`, so it can move to the thread that processes the stream).
#[derive(Debug, Clone)]
pub struct Tracker {
    config: TrackerConfig,
    tracks: Vec<Live>,
    next_id: u64,
}

impl Tracker {
    /// A tracker with no tracks; `invalid_argument` for settings out of range.
    pub fn new(config: TrackerConfig) -> Result<Self> {
        config.check()?;
        Ok(Tracker {
            config,
            tracks: Vec::new(),
            next_id: 1,
        })
    }

    /// The settings.
    pub fn config(&self) -> &TrackerConfig {
        &self.config
    }

    /// Advances one processed frame with its face boxes. `invalid_argument` (and nothing
    /// changed) for a box that is not finite or has no area.
    pub fn update(&mut self, boxes: &[BoundingBox]) -> Result<TrackStep> {
        if let Some((i, b)) = boxes.iter().enumerate().find(|(_, b)| {
            ![b.x1, b.y1, b.x2, b.y2].iter().all(|v| v.is_finite()) || b.area() <= 0.0
        }) {
            return Err(Error::InvalidArgument(format!(
                "box {i} is not a finite box of positive size: {b:?}"
            )));
        }
        for t in &mut self.tracks {
            t.predicted = t.filter.predict();
        }
        let matched = self.associate(boxes);
        let mut track_of = vec![None; boxes.len()];
        for (ti, det) in matched.iter().enumerate() {
            if let Some(d) = *det {
                track_of[d] = Some(ti);
            }
        }
        let mut detected = Vec::with_capacity(boxes.len());
        for (d, b) in boxes.iter().enumerate() {
            let ti = match track_of[d] {
                Some(ti) => {
                    let t = &mut self.tracks[ti];
                    t.filter.update(b);
                    t.hits += 1;
                    t.missed = 0;
                    ti
                }
                None => {
                    self.tracks.push(Live {
                        id: self.next_id,
                        filter: BoxFilter::new(b),
                        predicted: *b,
                        hits: 1,
                        missed: 0,
                        confirmed: false,
                    });
                    self.next_id += 1;
                    self.tracks.len() - 1
                }
            };
            let min_hits = self.config.min_hits;
            let t = &mut self.tracks[ti];
            t.confirmed |= t.hits >= min_hits;
            detected.push(TrackState {
                id: t.id,
                bbox: *b,
                detection: Some(d),
                hits: t.hits,
                missed: 0,
                confirmed: t.confirmed,
            });
        }
        for (ti, det) in matched.iter().enumerate() {
            if det.is_none() {
                self.tracks[ti].missed += 1;
            }
        }
        let max_missed = self.config.max_missed;
        let mut ended = Vec::new();
        self.tracks.retain(|t| {
            let keep = t.missed <= max_missed;
            if !keep {
                ended.push(EndedTrack {
                    id: t.id,
                    hits: t.hits,
                    confirmed: t.confirmed,
                });
            }
            keep
        });
        let unseen = self
            .tracks
            .iter()
            .filter(|t| t.missed > 0)
            .map(|t| TrackState {
                id: t.id,
                bbox: t.predicted,
                detection: None,
                hits: t.hits,
                missed: t.missed,
                confirmed: t.confirmed,
            });
        detected.extend(unseen);
        Ok(TrackStep {
            tracks: detected,
            ended,
        })
    }

    /// Ends every live track (the stream is over) and answers them.
    pub fn finish(&mut self) -> Vec<EndedTrack> {
        self.tracks
            .drain(..)
            .map(|t| EndedTrack {
                id: t.id,
                hits: t.hits,
                confirmed: t.confirmed,
            })
            .collect()
    }

    /// Live tracks right now (none ended), oldest first.
    pub fn len(&self) -> usize {
        self.tracks.len()
    }

    /// No live track.
    pub fn is_empty(&self) -> bool {
        self.tracks.is_empty()
    }

    /// For each existing track (by index), the detection that continues it.
    fn associate(&self, boxes: &[BoundingBox]) -> Vec<Option<usize>> {
        let (nt, nd) = (self.tracks.len(), boxes.len());
        let mut out = vec![None; nt];
        if nt == 0 || nd == 0 {
            return out;
        }
        // Stage 1: overlap with the predicted box.
        let iou: Vec<f32> = self
            .tracks
            .iter()
            .flat_map(|t| boxes.iter().map(move |b| t.predicted.iou(b)))
            .collect();
        let cost: Vec<f64> = iou.iter().map(|&v| 1.0 - v as f64).collect();
        let mut taken = vec![false; nd];
        for (ti, d) in assign::min_cost_assignment(&cost, nt, nd)
            .into_iter()
            .enumerate()
        {
            if let Some(d) = d.filter(|&d| iou[ti * nd + d] >= self.config.min_iou) {
                out[ti] = Some(d);
                taken[d] = true;
            }
        }
        // Stage 2: faces that moved more than their size between two processed frames (low
        // frame rates, every-nth-frame sampling) by centre distance, in units of box width.
        if self.config.max_center_shift <= 0.0 {
            return out;
        }
        let free_t: Vec<usize> = (0..nt).filter(|&t| out[t].is_none()).collect();
        let free_d: Vec<usize> = (0..nd).filter(|&d| !taken[d]).collect();
        if free_t.is_empty() || free_d.is_empty() {
            return out;
        }
        let shift = |t: &BoundingBox, d: &BoundingBox| -> f64 {
            let ratio = (d.width() / t.width().max(1e-3)) as f64;
            if !(0.5..=2.0).contains(&ratio) {
                return f64::INFINITY;
            }
            let (dx, dy) = (
                (t.x1 + t.x2 - d.x1 - d.x2) as f64 / 2.0,
                (t.y1 + t.y2 - d.y1 - d.y2) as f64 / 2.0,
            );
            (dx * dx + dy * dy).sqrt() / t.width().max(1e-3) as f64
        };
        let dist: Vec<f64> = free_t
            .iter()
            .flat_map(|&t| free_d.iter().map(move |&d| (t, d)))
            .map(|(t, d)| shift(&self.tracks[t].predicted, &boxes[d]))
            .collect();
        // Infinite costs would break the potentials: cap them above any accepted cost.
        let cap = self.config.max_center_shift as f64 * 10.0 + 1.0;
        let cost: Vec<f64> = dist.iter().map(|&v| v.min(cap)).collect();
        for (i, d) in assign::min_cost_assignment(&cost, free_t.len(), free_d.len())
            .into_iter()
            .enumerate()
        {
            if let Some(j) =
                d.filter(|&j| dist[i * free_d.len() + j] <= self.config.max_center_shift as f64)
            {
                out[free_t[i]] = Some(free_d[j]);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn face(cx: f32, cy: f32, size: f32) -> BoundingBox {
        BoundingBox {
            x1: cx - size / 2.0,
            y1: cy - size / 2.0,
            x2: cx + size / 2.0,
            y2: cy + size / 2.0,
        }
    }

    fn ids(step: &TrackStep) -> Vec<u64> {
        step.tracks
            .iter()
            .filter(|t| t.detection.is_some())
            .map(|t| t.id)
            .collect()
    }

    #[test]
    fn two_faces_crossing_keep_their_ids() {
        // A walks right, B walks left along the same line, 60 px faces, 15 px per frame: they
        // overlap in the middle, and the motion model carries each through.
        let mut tr = Tracker::new(TrackerConfig::default()).unwrap();
        let mut first = None;
        for f in 0..30 {
            let a = face(100.0 + 15.0 * f as f32, 200.0, 60.0);
            let b = face(535.0 - 15.0 * f as f32, 205.0, 60.0);
            let step = tr.update(&[a, b]).unwrap();
            let got = ids(&step);
            match first {
                None => first = Some(got),
                Some(ref want) => assert_eq!(&got, want, "frame {f}"),
            }
        }
        assert_eq!(tr.len(), 2);
    }

    #[test]
    fn a_short_gap_keeps_the_track_a_long_one_ends_it() {
        let cfg = TrackerConfig {
            max_missed: 3,
            ..TrackerConfig::default()
        };
        let mut tr = Tracker::new(cfg).unwrap();
        let a = tr.update(&[face(100.0, 100.0, 80.0)]).unwrap().tracks[0].id;
        tr.update(&[face(104.0, 100.0, 80.0)]).unwrap();
        // Unseen for 3 frames (e.g. the detector missed a turned head): still live, predicted.
        for _ in 0..3 {
            let s = tr.update(&[]).unwrap();
            assert_eq!(s.tracks.len(), 1);
            assert!(s.tracks[0].detection.is_none() && s.ended.is_empty());
        }
        let back = tr.update(&[face(120.0, 100.0, 80.0)]).unwrap();
        assert_eq!(
            back.tracks[0].id, a,
            "the face came back where it was heading"
        );
        for _ in 0..3 {
            tr.update(&[]).unwrap();
        }
        let gone = tr.update(&[]).unwrap();
        assert_eq!(
            gone.ended,
            vec![EndedTrack {
                id: a,
                hits: 3,
                confirmed: true
            }]
        );
        assert!(tr.is_empty());
        // A new face later is a new track, never an old id.
        let new = tr.update(&[face(100.0, 100.0, 80.0)]).unwrap();
        assert!(new.tracks[0].id > a && !new.tracks[0].confirmed);
    }

    #[test]
    fn a_fast_face_at_a_low_frame_rate_is_followed_by_its_centre() {
        // 50 px face moving 45 px per processed frame: IoU with the last box is under 0.1.
        let mut tr = Tracker::new(TrackerConfig::default()).unwrap();
        let id = tr.update(&[face(50.0, 240.0, 50.0)]).unwrap().tracks[0].id;
        for f in 1..12 {
            let s = tr
                .update(&[face(50.0 + 45.0 * f as f32, 240.0, 50.0)])
                .unwrap();
            assert_eq!(ids(&s), vec![id], "frame {f}");
        }
        // Without the centre stage the same motion starts a new track every frame.
        let cfg = TrackerConfig {
            max_center_shift: 0.0,
            ..TrackerConfig::default()
        };
        let mut iou_only = Tracker::new(cfg).unwrap();
        let first = iou_only.update(&[face(50.0, 240.0, 50.0)]).unwrap().tracks[0].id;
        let next = iou_only.update(&[face(95.0, 240.0, 50.0)]).unwrap();
        assert_ne!(ids(&next), vec![first]);
    }

    #[test]
    fn a_single_stray_detection_never_confirms() {
        let mut tr = Tracker::new(TrackerConfig::default()).unwrap();
        tr.update(&[face(300.0, 300.0, 40.0)]).unwrap();
        let mut ended = Vec::new();
        for _ in 0..=10 {
            ended.extend(tr.update(&[]).unwrap().ended);
        }
        assert_eq!(ended.len(), 1);
        assert!(!ended[0].confirmed && ended[0].hits == 1);
    }

    #[test]
    fn bad_boxes_and_settings_are_errors_that_change_nothing() {
        let mut tr = Tracker::new(TrackerConfig::default()).unwrap();
        tr.update(&[face(100.0, 100.0, 50.0)]).unwrap();
        for bad in [
            face(f32::NAN, 100.0, 50.0),
            face(100.0, 100.0, 0.0),
            BoundingBox {
                x1: 10.0,
                y1: 10.0,
                x2: f32::INFINITY,
                y2: 20.0,
            },
        ] {
            let e = tr.update(&[face(100.0, 100.0, 50.0), bad]).unwrap_err();
            assert_eq!(e.code(), crate::ErrorCode::InvalidArgument, "{e}");
        }
        assert_eq!(tr.len(), 1);
        let s = tr.update(&[face(102.0, 100.0, 50.0)]).unwrap();
        assert_eq!((s.tracks[0].id, s.tracks[0].hits), (1, 2));
        for cfg in [
            TrackerConfig {
                min_iou: 1.5,
                ..Default::default()
            },
            TrackerConfig {
                max_center_shift: f32::NAN,
                ..Default::default()
            },
            TrackerConfig {
                min_hits: 0,
                ..Default::default()
            },
        ] {
            assert!(Tracker::new(cfg).is_err());
        }
        let _: &dyn Send = &tr;
    }
}
