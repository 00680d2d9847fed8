//! Text lines with PP-OCR v4 (Apache-2.0): the detector's probability map cut into line boxes
//! (DB post-processing: threshold 0.3, box score 0.5, unclip 1.6, as MODELS.md gives), each box
//! read by the recogniser with greedy CTC over the character list stored in the model. No angle
//! classifier: MRZ lines come out better without it.

use crate::align::{warp_affine_into, Affine, CropFormat, CropPixels};
use crate::detect::BoundingBox;
use crate::error::{Error, Result};
use crate::image::resize::resample_into;
use crate::image::Image;
use crate::models::ModelPack;
use crate::runtime::{Runtime, SessionPool, TensorFormat};
use ort::value::TensorRef;

pub(crate) const DET_ID: &str = "ppocr-v4-det";
pub(crate) const REC_ID: &str = "ppocr-v4-rec";

const PROB_THRESHOLD: f32 = 0.3;
const BOX_THRESHOLD: f32 = 0.5;
const UNCLIP: f32 = 1.6;
const REC_HEIGHT: usize = 48;

/// A line of text read from an image.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TextLine {
    /// The text, as read.
    pub text: String,
    /// Mean probability of its characters (0..1).
    pub confidence: f32,
    /// Where it is, in image pixels.
    pub bbox: BoundingBox,
}

/// Which characters a reading may contain (others are never chosen).
pub(crate) enum Alphabet {
    Any,
    /// A–Z, 0–9 and `<`: the machine-readable zone.
    Mrz,
}

pub(crate) struct Ocr {
    det: SessionPool,
    det_input: String,
    det_format: TensorFormat,
    rec: SessionPool,
    rec_input: String,
    rec_format: TensorFormat,
    /// Class i of the recogniser's output: 0 is the CTC blank.
    classes: Vec<String>,
    mrz_mask: Vec<bool>,
}

impl Ocr {
    pub fn load(pack: &ModelPack, runtime: &Runtime) -> Result<Ocr> {
        let det = runtime.pool(pack, DET_ID)?;
        let det_spec = pack.entry(DET_ID)?.tensor_input()?.clone();
        let rec = runtime.pool(pack, REC_ID)?;
        let rec_spec = pack.entry(REC_ID)?.tensor_input()?.clone();
        let list = rec.with(|w| {
            w.session
                .metadata()?
                .custom("character")
                .ok_or_else(|| Error::ModelManifest(format!("{REC_ID}: no `character` metadata")))
        })?;
        let mut classes = vec![String::new()];
        classes.extend(list.lines().map(str::to_string));
        classes.push(" ".into());
        let mrz_mask = classes
            .iter()
            .enumerate()
            .map(|(i, c)| {
                i == 0
                    || (c.len() == 1
                        && c.bytes()
                            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'<'))
            })
            .collect();
        Ok(Ocr {
            det,
            det_input: det_spec.name.clone(),
            det_format: TensorFormat::from_spec(&det_spec),
            rec,
            rec_input: rec_spec.name.clone(),
            rec_format: TensorFormat::from_spec(&rec_spec),
            classes,
            mrz_mask,
        })
    }

    /// The text lines of `image`, fitted so its long side is `side` (small images are enlarged:
    /// a zone 270 pixels wide is too small to read as it is).
    pub fn line_boxes(&self, image: &Image, side: u32) -> Result<Vec<LineBox>> {
        let (w, h) = (image.width(), image.height());
        let (cw, ch, _) = crate::detect::fit_long_side(w, h, side, side);
        let (tw, th) = (cw.div_ceil(32).max(1) * 32, ch.div_ceil(32).max(1) * 32);
        // Stretched to the tensor (no padding), as PP-OCR's own preprocessing does.
        let target = self.det_format.target(tw, th, tw, th);
        let map = self.det.with(|worker| {
            resample_into(image, &target, &mut worker.scratch);
            let input = TensorRef::from_array_view(([1usize, 3, th, tw], &worker.scratch[..]))?;
            let out = worker
                .session
                .run(ort::inputs![self.det_input.as_str() => input])?;
            let (_, map) = out[0].try_extract_tensor::<f32>()?;
            if map.len() < tw * th {
                return Err(Error::Inference(format!(
                    "{DET_ID}: a map of {} values for a {tw}x{th} input",
                    map.len()
                )));
            }
            Ok(map[..tw * th].to_vec())
        })?;
        let (sx, sy) = (w as f32 / tw as f32, h as f32 / th as f32);
        Ok(components(&map, tw, th)
            .into_iter()
            .filter(|c| c.score >= BOX_THRESHOLD && c.pixels.len() >= 10)
            .filter_map(|c| LineBox::of(&c.pixels, tw, sx, sy, (w as f32, h as f32)))
            .collect())
    }

    /// Reads the line in `line` (straightened along its own angle).
    pub fn read(&self, image: &Image, line: &LineBox, alphabet: &Alphabet) -> Result<TextLine> {
        let scale = line.thickness / REC_HEIGHT as f32;
        let width = ((line.length / scale).round() as usize).clamp(16, 3200);
        let (dx, dy) = (line.angle.cos(), line.angle.sin());
        // Crop pixel (u, v) -> image: from the box's top-left corner along the line and across.
        let (ox, oy) = (
            line.centre[0] - dx * line.length / 2.0 + dy * line.thickness / 2.0,
            line.centre[1] - dy * line.length / 2.0 - dx * line.thickness / 2.0,
        );
        let inverse = Affine {
            m: [dx * scale, -dy * scale, ox, dy * scale, dx * scale, oy],
        };
        let format = CropFormat {
            width,
            height: REC_HEIGHT,
            order: self.rec_format.order,
            layout: self.rec_format.layout,
            norm: self.rec_format.norm,
            pixels: CropPixels::Bilinear,
        };
        let mask = match alphabet {
            Alphabet::Any => None,
            Alphabet::Mrz => Some(&self.mrz_mask),
        };
        self.rec.with(|worker| {
            worker.scratch.clear();
            worker.scratch.resize(3 * width * REC_HEIGHT, 0.0);
            warp_affine_into(image, &inverse, &format, false, &mut worker.scratch);
            let input =
                TensorRef::from_array_view(([1usize, 3, REC_HEIGHT, width], &worker.scratch[..]))?;
            let out = worker
                .session
                .run(ort::inputs![self.rec_input.as_str() => input])?;
            let (shape, probs) = out[0].try_extract_tensor::<f32>()?;
            let classes = *shape.last().unwrap_or(&0) as usize;
            if classes != self.classes.len() {
                return Err(Error::Inference(format!(
                    "{REC_ID}: {classes} classes, the character list gives {}",
                    self.classes.len()
                )));
            }
            let mut text = String::new();
            let (mut sum, mut n) = (0.0f32, 0usize);
            let mut previous = 0usize;
            for step in probs.chunks_exact(classes) {
                let (best, p) = step
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| mask.map_or(true, |m| m[*i]))
                    .fold(
                        (0usize, f32::MIN),
                        |a, (i, &p)| if p > a.1 { (i, p) } else { a },
                    );
                if best != 0 && best != previous {
                    text.push_str(&self.classes[best]);
                    sum += p;
                    n += 1;
                }
                previous = best;
            }
            Ok(TextLine {
                text,
                confidence: if n > 0 { sum / n as f32 } else { 0.0 },
                bbox: line.bbox,
            })
        })
    }
}

/// A text line as the detector found it: a rectangle along the line's own angle (the
/// principal axis of its pixels), grown by DB's unclip, in image pixels.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LineBox {
    pub centre: [f32; 2],
    /// Radians, clockwise from the x axis (image y points down).
    pub angle: f32,
    pub length: f32,
    pub thickness: f32,
    /// The axis-aligned box around it.
    pub bbox: BoundingBox,
}

impl LineBox {
    fn of(pixels: &[usize], map_w: usize, sx: f32, sy: f32, (w, h): (f32, f32)) -> Option<LineBox> {
        let pts: Vec<[f32; 2]> = pixels
            .iter()
            .map(|&i| {
                [
                    ((i % map_w) as f32 + 0.5) * sx,
                    ((i / map_w) as f32 + 0.5) * sy,
                ]
            })
            .collect();
        let n = pts.len() as f32;
        let (mx, my) = pts
            .iter()
            .fold((0.0, 0.0), |a, p| (a.0 + p[0] / n, a.1 + p[1] / n));
        let (mut xx, mut yy, mut xy) = (0.0f32, 0.0f32, 0.0f32);
        for p in &pts {
            let (dx, dy) = (p[0] - mx, p[1] - my);
            xx += dx * dx;
            yy += dy * dy;
            xy += dx * dy;
        }
        let mut angle = 0.5 * (2.0 * xy).atan2(xx - yy);
        // Text runs left to right: a near-vertical axis means a short blob, read upright.
        if angle.abs() > std::f32::consts::FRAC_PI_4 {
            angle = 0.0;
        }
        let (dx, dy) = (angle.cos(), angle.sin());
        let (mut u0, mut u1, mut v0, mut v1) = (f32::MAX, f32::MIN, f32::MAX, f32::MIN);
        for p in &pts {
            let (px, py) = (p[0] - mx, p[1] - my);
            let (u, v) = (px * dx + py * dy, -px * dy + py * dx);
            u0 = u0.min(u);
            u1 = u1.max(u);
            v0 = v0.min(v);
            v1 = v1.max(v);
        }
        // Each pixel of the map covers (sx, sy) of the image.
        let (len, thick) = (u1 - u0 + sx, v1 - v0 + sy);
        let d = len * thick * UNCLIP / (2.0 * (len + thick));
        let (length, thickness) = (len + 2.0 * d, thick + 2.0 * d);
        if !(length.is_finite() && thickness.is_finite() && thickness >= 2.0) {
            return None;
        }
        let (cu, cv) = ((u0 + u1) / 2.0, (v0 + v1) / 2.0);
        let centre = [mx + cu * dx - cv * dy, my + cu * dy + cv * dx];
        let (hx, hy) = (
            (dx.abs() * length + dy.abs() * thickness) / 2.0,
            (dy.abs() * length + dx.abs() * thickness) / 2.0,
        );
        Some(LineBox {
            centre,
            angle,
            length,
            thickness,
            bbox: BoundingBox {
                x1: (centre[0] - hx).max(0.0),
                y1: (centre[1] - hy).max(0.0),
                x2: (centre[0] + hx).min(w),
                y2: (centre[1] + hy).min(h),
            },
        })
    }
}

struct Component {
    pixels: Vec<usize>,
    score: f32,
}

/// 8-connected regions of the map above the threshold, with their mean probability.
fn components(map: &[f32], w: usize, h: usize) -> Vec<Component> {
    let mut seen = vec![false; w * h];
    let mut out = Vec::new();
    let mut stack = Vec::new();
    for start in 0..w * h {
        if seen[start] || map[start] < PROB_THRESHOLD {
            continue;
        }
        seen[start] = true;
        stack.push(start);
        let mut c = Component {
            pixels: Vec::new(),
            score: 0.0,
        };
        while let Some(i) = stack.pop() {
            let (x, y) = (i % w, i / w);
            c.pixels.push(i);
            c.score += map[i];
            for dy in -1i64..=1 {
                for dx in -1i64..=1 {
                    let (nx, ny) = (x as i64 + dx, y as i64 + dy);
                    if nx < 0 || ny < 0 || nx >= w as i64 || ny >= h as i64 {
                        continue;
                    }
                    let j = ny as usize * w + nx as usize;
                    if !seen[j] && map[j] >= PROB_THRESHOLD {
                        seen[j] = true;
                        stack.push(j);
                    }
                }
            }
        }
        c.score /= c.pixels.len() as f32;
        out.push(c);
    }
    out
}
