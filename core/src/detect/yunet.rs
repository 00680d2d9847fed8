//! YuNet (libfacedetection, 2023mar), decoded as OpenCV's FaceDetectorYN does.

use super::{finish, fit_long_side, BoundingBox, DetectionOptions, Detector, Face};
use crate::error::{Error, Result};
use crate::image::resize::resample_into;
use crate::image::Image;
use crate::models::ModelPack;
use crate::runtime::{Runtime, SessionPool, TensorFormat};
use ort::value::TensorRef;

const STRIDES: [usize; 3] = [8, 16, 32];

/// The YuNet face detector (any input size; H and W padded to multiples of 32).
pub struct YuNet {
    id: String,
    input_name: String,
    /// Output names per stride: cls, obj, bbox, kps.
    outputs: [[String; 4]; 3],
    format: TensorFormat,
    pool: SessionPool,
}

impl YuNet {
    /// Loads the model `model_id` (e.g. "yunet-2023mar") from a pack.
    pub fn load(pack: &ModelPack, model_id: &str, runtime: &Runtime) -> Result<YuNet> {
        let entry = pack.entry(model_id)?;
        let pool = runtime.pool(pack, model_id)?;
        let (_, outputs) = pool.io_names()?;
        let names =
            STRIDES.map(|s| ["cls", "obj", "bbox", "kps"].map(|head| format!("{head}_{s}")));
        if let Some(missing) = names.iter().flatten().find(|n| !outputs.contains(n)) {
            return Err(Error::ModelManifest(format!(
                "{model_id}: output {missing} missing; not a YuNet model"
            )));
        }
        Ok(YuNet {
            id: model_id.to_string(),
            input_name: entry.tensor_input()?.name.clone(),
            outputs: names,
            format: TensorFormat::from_spec(entry.tensor_input()?),
            pool,
        })
    }
}

impl Detector for YuNet {
    fn id(&self) -> &str {
        &self.id
    }

    fn detect(&self, image: &Image, options: &DetectionOptions) -> Result<Vec<Face>> {
        options.validate()?;
        let long = image.width().max(image.height());
        let finer = options.max_detail_side.min(long);
        if finer <= options.max_input_side {
            let faces = self.run(
                image,
                options.min_input_side,
                options.max_input_side,
                options.score_threshold,
            )?;
            return Ok(finish(faces, options));
        }
        // A large image: first at max_input_side, keeping near-misses.
        let floor = options.score_threshold.min(CANDIDATE_SCORE);
        let mut faces = self.run(image, 0, options.max_input_side, floor)?;
        let scale = options.max_input_side as f32 / long as f32;
        let needs_detail = faces
            .iter()
            .any(|f| f.score < options.score_threshold || f.bbox.width() * scale < SMALL_FACE_PX);
        if needs_detail {
            faces.extend(self.run(image, 0, finer, options.score_threshold)?);
        }
        Ok(finish(faces, options))
    }
}

/// A first-pass face scoring at least this (under the threshold) suggests the faces are too
/// small at that resolution: YuNet's scores rise with face size (insightface_t1.jpg: two
/// faces at 0.88-0.89 when 50 px wide, 0.91-0.92 when 100 px).
const CANDIDATE_SCORE: f32 = 0.6;
/// A first-pass face narrower than this (detector pixels) suggests smaller ones were missed.
const SMALL_FACE_PX: f32 = 40.0;

impl YuNet {
    /// One inference with the image fitted between `min_side` and `max_side`; faces scoring
    /// at least `floor`, in image coordinates, not yet filtered or suppressed.
    fn run(&self, image: &Image, min_side: u32, max_side: u32, floor: f32) -> Result<Vec<Face>> {
        let (w, h) = (image.width(), image.height());
        let (cw, ch, _) = fit_long_side(w, h, min_side, max_side);
        let (tw, th) = (cw.div_ceil(32) * 32, ch.div_ceil(32) * 32);
        // Exact per-axis factors back to the caller's pixels (rounding made them differ).
        let (sx, sy) = (w as f32 / cw as f32, h as f32 / ch as f32);
        let target = self.format.target(cw, ch, tw, th);
        self.pool.with(|worker| {
            resample_into(image, &target, &mut worker.scratch);
            let input = TensorRef::from_array_view(([1usize, 3, th, tw], &worker.scratch[..]))?;
            let out = worker
                .session
                .run(ort::inputs![self.input_name.as_str() => input])?;
            let mut faces = Vec::new();
            for (s, names) in STRIDES.into_iter().zip(&self.outputs) {
                let get = |k: usize| -> Result<&[f32]> {
                    let v = out
                        .get(&names[k])
                        .ok_or_else(|| Error::Inference(format!("output {} missing", names[k])))?;
                    Ok(v.try_extract_tensor::<f32>()?.1)
                };
                let (cls, obj, bbox, kps) = (get(0)?, get(1)?, get(2)?, get(3)?);
                let cols = tw / s;
                let cells = cols * (th / s);
                if cls.len() < cells
                    || obj.len() < cells
                    || bbox.len() < cells * 4
                    || kps.len() < cells * 10
                {
                    return Err(Error::Inference(format!(
                        "stride {s}: outputs hold fewer rows than the {cells} grid cells"
                    )));
                }
                let sf = s as f32;
                for i in 0..cells {
                    let score = (cls[i].clamp(0.0, 1.0) * obj[i].clamp(0.0, 1.0)).sqrt();
                    if score < floor {
                        continue;
                    }
                    let (col, row) = ((i % cols) as f32, (i / cols) as f32);
                    let b = &bbox[i * 4..i * 4 + 4];
                    let cx = (col + b[0]) * sf;
                    let cy = (row + b[1]) * sf;
                    let bw = b[2].exp() * sf;
                    let bh = b[3].exp() * sf;
                    let k = &kps[i * 10..i * 10 + 10];
                    let mut landmarks = [[0f32; 2]; 5];
                    for (j, lm) in landmarks.iter_mut().enumerate() {
                        *lm = [(col + k[2 * j]) * sf * sx, (row + k[2 * j + 1]) * sf * sy];
                    }
                    faces.push(Face {
                        bbox: BoundingBox {
                            x1: (cx - bw / 2.0) * sx,
                            y1: (cy - bh / 2.0) * sy,
                            x2: (cx + bw / 2.0) * sx,
                            y2: (cy + bh / 2.0) * sy,
                        },
                        landmarks,
                        score,
                    });
                }
            }
            Ok(faces)
        })
    }
}
