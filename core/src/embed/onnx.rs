//! An embedder driven entirely by its manifest entry: crop size, template, colour order and
//! normalisation come from data, so another ONNX embedder is a manifest entry, not new code.
//! The default pack's entry is dlib's ResNet (`dlib-resnet-v1`).

use super::{Embedder, Embedding};
use crate::align::{transform_to_template, warp_into, CropFormat};
use crate::detect::Face;
use crate::error::{Error, Result};
use crate::image::Image;
use crate::models::{EmbedderSpec, ModelPack};
use crate::runtime::{Runtime, SessionPool, TensorFormat};
use ort::value::TensorRef;
use std::sync::Arc;

/// Faces per inference call; bounds the input tensor for crowded images.
const MAX_BATCH: usize = 16;

/// An ONNX face-embedding model described by a manifest entry.
pub struct OnnxEmbedder {
    model_id: Arc<str>,
    input_name: String,
    spec: EmbedderSpec,
    crop: CropFormat,
    pool: SessionPool,
}

impl OnnxEmbedder {
    /// Loads embedder `model_id` of the pack, checking the graph's input and output names against the manifest.
    pub fn load(pack: &ModelPack, model_id: &str, runtime: &Runtime) -> Result<OnnxEmbedder> {
        let entry = pack.entry(model_id)?;
        let spec = entry
            .embedder
            .clone()
            .ok_or_else(|| Error::ModelManifest(format!("{model_id} has no [embedder] section")))?;
        let pool = runtime.pool(pack, model_id)?;
        let (inputs, outputs) = pool.io_names()?;
        if !inputs.contains(&entry.tensor_input()?.name) || !outputs.contains(&spec.output) {
            return Err(Error::ModelManifest(format!(
                "{model_id}: the graph has inputs {inputs:?} and outputs {outputs:?}, the manifest \
                 names {:?} and {:?}",
                entry.tensor_input()?.name, spec.output
            )));
        }
        let fmt = TensorFormat::from_spec(entry.tensor_input()?);
        let crop = CropFormat {
            width: spec.crop_size[0] as usize,
            height: spec.crop_size[1] as usize,
            order: fmt.order,
            layout: fmt.layout,
            norm: fmt.norm,
            pixels: spec.crop_pixels,
        };
        Ok(OnnxEmbedder {
            model_id: model_id.into(),
            input_name: entry.tensor_input()?.name.clone(),
            spec,
            crop,
            pool,
        })
    }

    /// The alignment template and crop size of this model.
    pub fn spec(&self) -> &EmbedderSpec {
        &self.spec
    }

    fn run_batch(&self, image: &Image, faces: &[Face], flip: bool) -> Result<Vec<Embedding>> {
        let per_face = if flip { 2 } else { 1 };
        let n = faces.len() * per_face;
        let crop_len = 3 * self.crop.width * self.crop.height;
        let transforms = faces
            .iter()
            .map(|f| transform_to_template(&f.landmarks, &self.spec.template))
            .collect::<Result<Vec<_>>>()?;
        self.pool.with(|worker| {
            worker.scratch.clear();
            worker.scratch.resize(n * crop_len, 0.0);
            for (i, t) in transforms.iter().enumerate() {
                for m in 0..per_face {
                    let at = (i * per_face + m) * crop_len;
                    warp_into(
                        image,
                        t,
                        &self.crop,
                        m == 1,
                        &mut worker.scratch[at..at + crop_len],
                    );
                }
            }
            let shape = match self.crop.layout {
                crate::image::resize::Layout::Nchw => [n, 3, self.crop.height, self.crop.width],
                crate::image::resize::Layout::Nhwc => [n, self.crop.height, self.crop.width, 3],
            };
            let input = TensorRef::from_array_view((shape, &worker.scratch[..]))?;
            let out = worker
                .session
                .run(ort::inputs![self.input_name.as_str() => input])?;
            let (_, data) = out[self.spec.output.as_str()].try_extract_tensor::<f32>()?;
            let dim = self.spec.dim;
            if data.len() != n * dim {
                return Err(Error::Inference(format!(
                    "{}: expected {n}x{dim} outputs, got {}",
                    self.model_id,
                    data.len()
                )));
            }
            (0..faces.len())
                .map(|i| {
                    if per_face == 1 {
                        // One view: the raw output, whose norm the embedding keeps.
                        let row = &data[i * dim..(i + 1) * dim];
                        return Embedding::new(self.model_id.clone(), row.to_vec());
                    }
                    let mut v = vec![0f32; dim];
                    for m in 0..per_face {
                        // Each view is normalised first so both count equally in the mean.
                        let row = &data[(i * per_face + m) * dim..(i * per_face + m + 1) * dim];
                        let norm = row.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-12);
                        v.iter_mut().zip(row).for_each(|(a, b)| *a += b / norm);
                    }
                    Embedding::new(self.model_id.clone(), v)
                })
                .collect()
        })
    }
}

impl Embedder for OnnxEmbedder {
    fn model_id(&self) -> &str {
        &self.model_id
    }

    fn dim(&self) -> usize {
        self.spec.dim
    }

    fn embed(&self, image: &Image, faces: &[Face], flip: bool) -> Result<Vec<Embedding>> {
        let chunk = if flip { MAX_BATCH / 2 } else { MAX_BATCH };
        let mut out = Vec::with_capacity(faces.len());
        for batch in faces.chunks(chunk) {
            out.extend(self.run_batch(image, batch, flip)?);
        }
        Ok(out)
    }
}
