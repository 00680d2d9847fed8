//! MediaPipe BlazeFace, front (selfie-range) 128x128 model. It sees faces that fill much of the
//! frame; it exists mainly to prove the [`Detector`] seam and for fast selfie flows.

use super::{finish, BoundingBox, DetectionOptions, Detector, Face};
use crate::error::{Error, Result};
use crate::image::resize::{resample_into, TensorTarget};
use crate::image::Image;
use crate::models::ModelPack;
use crate::runtime::{Runtime, SessionPool, TensorFormat};
use ort::value::TensorRef;

const SIDE: usize = 128;
/// (grid size, anchors per cell) of the two heads.
const HEADS: [(usize, usize); 2] = [(16, 2), (8, 6)];

/// The BlazeFace front-128 detector.
pub struct BlazeFace {
    id: String,
    input_name: String,
    format: TensorFormat,
    outputs: [String; 4],
    pool: SessionPool,
}

impl BlazeFace {
    /// Loads detector `model_id` of the pack.
    pub fn load(pack: &ModelPack, model_id: &str, runtime: &Runtime) -> Result<BlazeFace> {
        let entry = pack.entry(model_id)?;
        let pool = runtime.pool(pack, model_id)?;
        let (_, outputs) = pool.io_names()?;
        if outputs.len() != 4 {
            return Err(Error::ModelManifest(format!(
                "{model_id}: expected 4 outputs (2 score heads, 2 regressor heads), got {}",
                outputs.len()
            )));
        }
        // Output order in the graph: scores 512, scores 384, regressors 512, regressors 384.
        let outputs = [
            outputs[0].clone(),
            outputs[1].clone(),
            outputs[2].clone(),
            outputs[3].clone(),
        ];
        Ok(BlazeFace {
            id: model_id.to_string(),
            input_name: entry.tensor_input()?.name.clone(),
            format: TensorFormat::from_spec(entry.tensor_input()?),
            outputs,
            pool,
        })
    }
}

impl Detector for BlazeFace {
    fn id(&self) -> &str {
        &self.id
    }

    fn detect(&self, image: &Image, options: &DetectionOptions) -> Result<Vec<Face>> {
        options.validate()?;
        let (w, h) = (image.width() as f32, image.height() as f32);
        // Letterbox: scale the long side to 128, pad right/bottom.
        let s = SIDE as f32 / w.max(h);
        let (cw, ch) = (
            ((w * s).round() as usize).clamp(1, SIDE),
            ((h * s).round() as usize).clamp(1, SIDE),
        );
        let (sx, sy) = (w / cw as f32, h / ch as f32);
        let target: TensorTarget = self.format.target(cw, ch, SIDE, SIDE);
        let faces = self.pool.with(|worker| {
            resample_into(image, &target, &mut worker.scratch);
            let input = TensorRef::from_array_view(([1usize, SIDE, SIDE, 3], &worker.scratch[..]))?;
            let out = worker
                .session
                .run(ort::inputs![self.input_name.as_str() => input])?;
            let tensor = |i: usize| -> Result<&[f32]> {
                Ok(out[self.outputs[i].as_str()].try_extract_tensor::<f32>()?.1)
            };
            let mut faces = Vec::new();
            for (head, &(grid, per_cell)) in HEADS.iter().enumerate() {
                let (scores, regs) = (tensor(head)?, tensor(head + 2)?);
                let n = grid * grid * per_cell;
                if scores.len() < n || regs.len() < n * 16 {
                    return Err(Error::Inference(format!("head {head}: short output")));
                }
                for i in 0..n {
                    let score = 1.0 / (1.0 + (-scores[i].clamp(-100.0, 100.0)).exp());
                    if score < options.score_threshold {
                        continue;
                    }
                    let cell = i / per_cell;
                    let ax = ((cell % grid) as f32 + 0.5) / grid as f32 * SIDE as f32;
                    let ay = ((cell / grid) as f32 + 0.5) / grid as f32 * SIDE as f32;
                    let r = &regs[i * 16..i * 16 + 16];
                    let (cx, cy, bw, bh) = (ax + r[0], ay + r[1], r[2], r[3]);
                    let pt = |k: usize| [(ax + r[4 + 2 * k]) * sx, (ay + r[5 + 2 * k]) * sy];
                    faces.push(Face {
                        bbox: BoundingBox {
                            x1: (cx - bw / 2.0) * sx,
                            y1: (cy - bh / 2.0) * sy,
                            x2: (cx + bw / 2.0) * sx,
                            y2: (cy + bh / 2.0) * sy,
                        },
                        landmarks: five_points(pt(0), pt(1), pt(2), pt(3)),
                        score,
                    });
                }
            }
            Ok(faces)
        })?;
        Ok(finish(faces, options))
    }
}

/// BlazeFace gives both eyes, the nose tip and the mouth centre. The mouth corners are placed
/// on the line through the mouth centre parallel to the eyes, 0.42 eye distances either side:
/// the ratio of mouth width to eye distance in the dlib alignment template.
fn five_points(a: [f32; 2], b: [f32; 2], nose: [f32; 2], mouth: [f32; 2]) -> [[f32; 2]; 5] {
    let (le, re) = if a[0] <= b[0] { (a, b) } else { (b, a) };
    let d = [re[0] - le[0], re[1] - le[1]];
    let ml = [mouth[0] - 0.42 * d[0], mouth[1] - 0.42 * d[1]];
    let mr = [mouth[0] + 0.42 * d[0], mouth[1] + 0.42 * d[1]];
    [le, re, nose, ml, mr]
}
