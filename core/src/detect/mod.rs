//! Face detection: the [`Detector`] trait, the [`Face`] it returns, and two implementations
//! (YuNet, the default; BlazeFace front-128 for selfie-range input).

mod blazeface;
mod nms;
mod yunet;

pub use blazeface::BlazeFace;
pub use yunet::YuNet;

use crate::error::Result;
use crate::image::Image;
use serde::{Deserialize, Serialize};

/// An axis-aligned box in image pixels, `(x1, y1)` top-left, `(x2, y2)` bottom-right.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BoundingBox {
    /// Left edge in pixels.
    pub x1: f32,
    /// Top edge in pixels.
    pub y1: f32,
    /// Right edge in pixels.
    pub x2: f32,
    /// Bottom edge in pixels.
    pub y2: f32,
}

impl BoundingBox {
    /// `x2 - x1`.
    pub fn width(&self) -> f32 {
        (self.x2 - self.x1).max(0.0)
    }
    /// `y2 - y1`.
    pub fn height(&self) -> f32 {
        (self.y2 - self.y1).max(0.0)
    }
    /// Width times height (0 for an empty box).
    pub fn area(&self) -> f32 {
        self.width() * self.height()
    }
    /// Intersection over union with `other`, 0..1.
    pub fn iou(&self, other: &BoundingBox) -> f32 {
        let ix = (self.x2.min(other.x2) - self.x1.max(other.x1)).max(0.0);
        let iy = (self.y2.min(other.y2) - self.y1.max(other.y1)).max(0.0);
        let inter = ix * iy;
        let union = self.area() + other.area() - inter;
        if union <= 0.0 {
            0.0
        } else {
            inter / union
        }
    }
}

/// One detected face.
///
/// `landmarks` are, in this order: the eye with the smaller x, the other eye, the nose tip, the
/// mouth corner with the smaller x, the other mouth corner — "smaller x" as seen in an upright
/// face. For a face found through rotation search the points keep that face-relative order and
/// are given in the coordinates of the image as passed in.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Face {
    /// The face's box in image pixels.
    pub bbox: BoundingBox,
    /// Left eye, right eye, nose tip, left and right mouth corner (as seen upright), in pixels.
    pub landmarks: [[f32; 2]; 5],
    /// The detector's confidence, 0..1 (0 for a face placed in a given box).
    pub score: f32,
}

impl Face {
    /// Distance between the two eye landmarks, in pixels.
    pub fn inter_eye_distance(&self) -> f32 {
        let [l, r] = [self.landmarks[0], self.landmarks[1]];
        ((l[0] - r[0]).powi(2) + (l[1] - r[1]).powi(2)).sqrt()
    }
}

/// Where YuNet's five landmarks lie inside its own face box, as fractions of the box's width
/// and height: the mean over LFW faces (`tight-crops` benchmark, README). An image that already
/// is a face crop (from another detector, an ID photo) is aligned by these points.
pub const FACE_CROP_LANDMARKS: [[f32; 2]; 5] = [
    [0.2694, 0.3859],
    [0.7234, 0.3805],
    [0.4948, 0.5858],
    [0.3048, 0.7405],
    [0.6984, 0.7371],
];

impl Face {
    /// The face an image that is a face crop holds: its box is the whole image and its
    /// landmarks are [`FACE_CROP_LANDMARKS`] (score 1).
    pub fn whole_image(width: u32, height: u32) -> Face {
        let (w, h) = (width as f32, height as f32);
        Face {
            bbox: BoundingBox {
                x1: 0.0,
                y1: 0.0,
                x2: w,
                y2: h,
            },
            landmarks: FACE_CROP_LANDMARKS.map(|[x, y]| [x * w, y * h]),
            score: 1.0,
        }
    }
}

impl Face {
    /// A face handed in by a caller (a binding, a stored detection): every number finite and
    /// the box of positive size, else `invalid_argument`; a score that is not finite becomes 0.
    pub fn checked(bbox: BoundingBox, landmarks: [[f32; 2]; 5], score: f32) -> Result<Face> {
        let numbers = [bbox.x1, bbox.y1, bbox.x2, bbox.y2]
            .into_iter()
            .chain(landmarks.into_iter().flatten());
        if !numbers.clone().all(|v| v.is_finite() && v.abs() < 1e7)
            || bbox.x2 <= bbox.x1
            || bbox.y2 <= bbox.y1
        {
            return Err(crate::Error::InvalidArgument(
                "face: numbers must be finite and the box must have a positive size".into(),
            ));
        }
        Ok(Face {
            bbox,
            landmarks,
            score: if score.is_finite() { score } else { 0.0 },
        })
    }

    /// The face in `bbox` when only a box is known (another detector's): landmarks where YuNet
    /// puts them in its own box ([`FACE_CROP_LANDMARKS`]), score 0.
    pub fn in_box(bbox: BoundingBox) -> Face {
        let (w, h) = (bbox.x2 - bbox.x1, bbox.y2 - bbox.y1);
        Face {
            bbox,
            landmarks: FACE_CROP_LANDMARKS.map(|[x, y]| [bbox.x1 + x * w, bbox.y1 + y * h]),
            score: 0.0,
        }
    }
}

/// The face with the largest box, the usual subject of a photo.
pub fn largest(faces: &[Face]) -> Option<&Face> {
    faces
        .iter()
        .max_by(|a, b| a.bbox.area().total_cmp(&b.bbox.area()))
}

/// Default [`DetectionOptions::crop_retry_margin`], measured on tight grey crops (README).
pub const CROP_RETRY_MARGIN: f32 = 0.25;
/// How much of the image (IoU) a face scoring under the usual threshold must cover in the
/// crop retry.
const CROP_FILL: f32 = 0.5;
/// Default [`DetectionOptions::crop_retry_min_score`] (README, Tight crops).
pub const CROP_RETRY_MIN_SCORE: f32 = 0.8;

/// Detection settings shared by all detectors.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DetectionOptions {
    /// Faces scoring below this are dropped (0..1).
    pub score_threshold: f32,
    /// Overlap above which the lower-scoring of two boxes is suppressed.
    pub nms_iou: f32,
    /// Faces whose box is narrower than this many pixels (in the input image) are dropped.
    pub min_face_size: f32,
    /// The image is downscaled so its long side is at most this before inference (default 640).
    pub max_input_side: u32,
    /// A larger image whose first pass (at `max_input_side`) finds small faces or near-misses
    /// is searched again at up to this long side, and both passes merged by NMS (default
    /// 1280; 0 or `max_input_side`: one pass). Group photos need it: faces 50 px wide at 640
    /// score under the threshold, while a face filling a photo is lost at full size.
    pub max_detail_side: u32,
    /// Smaller images are upscaled so their long side is at least this (0: never upscale;
    /// default 320).
    /// YuNet's landmarks are markedly more precise on faces of 150 px and more, which matters
    /// for alignment: on LFW (250x250) upscaling to 320 raises 10-fold accuracy from 98.32 % to
    /// 98.95 % (README, Accuracy).
    pub min_input_side: u32,
    /// At most this many faces are returned, best first.
    pub max_faces: usize,
    /// When no face is found, try again on the image with this fraction of its width and
    /// height added on every side (edge pixels repeated): YuNet misses faces cropped to their
    /// box with no margin (0: no retry). Faces come back in the image's own coordinates.
    pub crop_retry_margin: f32,
    /// Score threshold of that retry (at most `score_threshold`): a tight grey crop loses
    /// some of YuNet's confidence (0.87-0.89 for a face scoring above 0.9 in colour with its
    /// surroundings).
    pub crop_retry_min_score: f32,
    /// When no face is found upright, also try the image turned by 90, 270 and 180 degrees
    /// (photos whose EXIF orientation was lost). Costs up to 3 more detector runs.
    pub rotation_search: bool,
}

impl Default for DetectionOptions {
    fn default() -> Self {
        DetectionOptions {
            score_threshold: 0.9,
            nms_iou: 0.3,
            min_face_size: 16.0,
            max_input_side: 640,
            max_detail_side: 1280,
            min_input_side: 320,
            max_faces: 100,
            crop_retry_margin: CROP_RETRY_MARGIN,
            crop_retry_min_score: CROP_RETRY_MIN_SCORE,
            rotation_search: false,
        }
    }
}

impl DetectionOptions {
    pub(crate) fn validate(&self) -> Result<()> {
        let bad = |m: &str| Err(crate::Error::InvalidArgument(m.to_string()));
        if !(0.0..=1.0).contains(&self.score_threshold) {
            return bad("score_threshold must be in 0..=1");
        }
        if !(0.0..=1.0).contains(&self.nms_iou) {
            return bad("nms_iou must be in 0..=1");
        }
        if !self.min_face_size.is_finite() || self.min_face_size < 0.0 {
            return bad("min_face_size must be >= 0");
        }
        if self.max_input_side < 32 {
            return bad("max_input_side must be >= 32");
        }
        if self.max_detail_side != 0 && self.max_detail_side < self.max_input_side {
            return bad("max_detail_side must be 0 or at least max_input_side");
        }
        if self.max_detail_side > 8192 || self.max_input_side > 8192 {
            return bad("max_input_side and max_detail_side must be at most 8192");
        }
        if self.min_input_side > self.max_input_side {
            return bad("min_input_side must not exceed max_input_side");
        }
        if !(0.0..=1.0).contains(&self.crop_retry_min_score) {
            return bad("crop_retry_min_score must be in 0..=1");
        }
        if !(0.0..=2.0).contains(&self.crop_retry_margin) {
            return bad("crop_retry_margin must be in 0..=2");
        }
        if self.max_faces == 0 {
            return bad("max_faces must be >= 1");
        }
        Ok(())
    }
}

/// A face detector. Implement it to plug another model in; the engine calls it from many
/// threads at once.
pub trait Detector: Send + Sync {
    /// A stable identifier, e.g. "yunet-2023mar".
    fn id(&self) -> &str;
    /// Faces in `image`, sorted by decreasing score, filtered and suppressed per `options`.
    fn detect(&self, image: &Image, options: &DetectionOptions) -> Result<Vec<Face>>;
}

/// The filtering every detector applies after decoding: threshold, size, NMS, sort, cap.
pub(crate) fn finish(mut faces: Vec<Face>, options: &DetectionOptions) -> Vec<Face> {
    faces.retain(|f| {
        f.score >= options.score_threshold
            && f.bbox.width() >= options.min_face_size
            && f.score.is_finite()
    });
    let mut kept = nms::suppress(faces, options.nms_iou);
    kept.truncate(options.max_faces);
    kept
}

/// Runs `detector`; when it finds nothing, retries on a padded copy (`crop_retry_margin`) and
/// then, with `rotation_search`, on rotated copies, mapping the faces back into the
/// coordinates of `image`.
pub(crate) fn detect_with_retries(
    detector: &dyn Detector,
    image: &Image,
    options: &DetectionOptions,
) -> Result<Vec<Face>> {
    let faces = detector.detect(image, options)?;
    if !faces.is_empty() {
        return Ok(faces);
    }
    if options.crop_retry_margin > 0.0 {
        // Below the usual threshold, only a face that fills the image the way a tight crop's
        // does counts: a dog or an upside-down face in a photo scores 0.8 too, but small.
        let whole = BoundingBox {
            x1: 0.0,
            y1: 0.0,
            x2: image.width() as f32,
            y2: image.height() as f32,
        };
        let mut faces = detect_padded(detector, image, options, options.crop_retry_margin)?;
        faces.retain(|f| f.score >= options.score_threshold || f.bbox.iou(&whole) >= CROP_FILL);
        if !faces.is_empty() {
            return Ok(faces);
        }
    }
    if !options.rotation_search {
        return Ok(faces);
    }
    let (w, h) = (image.width() as f32, image.height() as f32);
    for turns in [1u32, 3, 2] {
        let rotated = image.rotated(turns);
        let found = detector.detect(&rotated, options)?;
        if found.is_empty() {
            continue;
        }
        return Ok(found
            .into_iter()
            .map(|f| unrotate(&f, turns, w, h))
            .collect());
    }
    Ok(Vec::new())
}

/// A face found on `image.rotated(turns)`, in the coordinates of `image` (`w` x `h`).
pub(crate) fn unrotate(f: &Face, turns: u32, w: f32, h: f32) -> Face {
    // Inverse of the clockwise rotation applied by `Image::rotated`.
    let back = |[x, y]: [f32; 2]| -> [f32; 2] {
        match turns % 4 {
            0 => [x, y],
            1 => [y, h - 1.0 - x],
            2 => [w - 1.0 - x, h - 1.0 - y],
            _ => [w - 1.0 - y, x],
        }
    };
    let a = back([f.bbox.x1, f.bbox.y1]);
    let b = back([f.bbox.x2, f.bbox.y2]);
    Face {
        bbox: BoundingBox {
            x1: a[0].min(b[0]),
            y1: a[1].min(b[1]),
            x2: a[0].max(b[0]),
            y2: a[1].max(b[1]),
        },
        landmarks: f.landmarks.map(back),
        score: f.score,
    }
}

/// Faces found on `image` padded by `margin` of its size on every side, in `image`'s coordinates.
pub(crate) fn detect_padded(
    detector: &dyn Detector,
    image: &Image,
    options: &DetectionOptions,
    margin: f32,
) -> Result<Vec<Face>> {
    // The detector would shrink the padded copy to max_input_side anyway: shrink first, so a
    // large photo is never copied at 4x its size.
    let long = image.width().max(image.height()) as f32;
    let fit = options.max_input_side as f32 / (1.0 + 2.0 * margin);
    let small;
    let (base, s) = if long > fit {
        let s = fit / long;
        small = image.resized(
            (image.width() as f32 * s).round() as u32,
            (image.height() as f32 * s).round() as u32,
        );
        let sx = small.width() as f32 / image.width() as f32;
        (&small, sx)
    } else {
        (image, 1.0)
    };
    let mx = (base.width() as f32 * margin).round() as u32;
    let my = (base.height() as f32 * margin).round() as u32;
    let padded = base.padded(mx, my);
    let (dx, dy) = (mx as f32, my as f32);
    let back = |[x, y]: [f32; 2]| [(x - dx) / s, (y - dy) / s];
    let scaled = DetectionOptions {
        min_face_size: options.min_face_size * s,
        score_threshold: options.score_threshold.min(options.crop_retry_min_score),
        ..*options
    };
    Ok(detector
        .detect(&padded, &scaled)?
        .into_iter()
        .map(|f| {
            let [x1, y1] = back([f.bbox.x1, f.bbox.y1]);
            let [x2, y2] = back([f.bbox.x2, f.bbox.y2]);
            Face {
                bbox: BoundingBox { x1, y1, x2, y2 },
                landmarks: f.landmarks.map(back),
                score: f.score,
            }
        })
        .collect())
}

/// Size of the detector input for an image: content scaled so the long side lies within
/// `min_side..=max_side`, and the scale used.
pub(crate) fn fit_long_side(w: u32, h: u32, min_side: u32, max_side: u32) -> (usize, usize, f32) {
    let long = w.max(h) as f32;
    let s = if long > max_side as f32 {
        max_side as f32 / long
    } else if long < min_side as f32 {
        min_side as f32 / long
    } else {
        1.0
    };
    let cw = ((w as f32 * s).round() as usize).max(1);
    let ch = ((h as f32 * s).round() as usize).max(1);
    (cw, ch, s)
}
