//! Face embeddings: the [`Embedder`] trait and [`Embedding`], a unit vector that always carries
//! the id of the model that made it.

mod onnx;

pub use onnx::OnnxEmbedder;

use crate::detect::Face;
use crate::error::{Error, Result};
use crate::image::Image;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// An L2-normalised face embedding tagged with its model id. Embeddings of different models
/// are never compared.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(try_from = "RawEmbedding")]
pub struct Embedding {
    model_id: Arc<str>,
    vector: Vec<f32>,
    /// The L2 norm of the vector before normalising: the model's raw output is
    /// `vector * norm` for one view of a face (1 for a stored vector). Not serialised, not
    /// compared.
    #[serde(skip)]
    norm: f32,
}

impl PartialEq for Embedding {
    fn eq(&self, other: &Embedding) -> bool {
        self.model_id == other.model_id && self.vector == other.vector
    }
}

/// The serialised form; deserialising goes through [`Embedding::new`] so a stored NaN or zero
/// vector is refused, never silently compared.
#[derive(Deserialize)]
struct RawEmbedding {
    model_id: Arc<str>,
    vector: Vec<f32>,
}

impl TryFrom<RawEmbedding> for Embedding {
    type Error = Error;
    fn try_from(r: RawEmbedding) -> Result<Embedding> {
        Embedding::new(r.model_id, r.vector)
    }
}

impl Embedding {
    /// Validates (finite, non-zero) and L2-normalises a raw model output or a stored vector.
    pub fn new(model_id: impl Into<Arc<str>>, mut vector: Vec<f32>) -> Result<Embedding> {
        if vector.is_empty() {
            return Err(Error::InvalidEmbedding("vector is empty".into()));
        }
        if let Some(i) = vector.iter().position(|v| !v.is_finite()) {
            return Err(Error::InvalidEmbedding(format!(
                "component {i} is {} (NaN or infinite)",
                vector[i]
            )));
        }
        let norm = vector
            .iter()
            .map(|v| (*v as f64) * (*v as f64))
            .sum::<f64>()
            .sqrt();
        if norm < 1e-12 {
            return Err(Error::InvalidEmbedding("vector is all zeros".into()));
        }
        // A vector that already has unit length (to f32 rounding), such as a stored embedding,
        // is kept bit for bit: normalising it again could move its last bits.
        if (norm - 1.0).abs() > 1e-6 {
            let inv = (1.0 / norm) as f32;
            vector.iter_mut().for_each(|v| *v *= inv);
        }
        Ok(Embedding {
            model_id: model_id.into(),
            vector,
            norm: norm as f32,
        })
    }

    /// The L2 norm of the vector this embedding was made from: for one view of a face, the
    /// model's raw output is `vector() * norm()` (what tools comparing raw outputs, such as
    /// face_recognition's Euclidean distance over dlib's descriptors, expect).
    pub fn norm(&self) -> f32 {
        self.norm
    }

    /// The same embedding recording `norm` as its raw output's norm (restoring a serialised
    /// embedding that kept it); a norm that is not finite and positive is refused.
    pub fn with_norm(mut self, norm: f32) -> Result<Embedding> {
        if !(norm.is_finite() && norm > 0.0) {
            return Err(Error::InvalidEmbedding(format!(
                "norm {norm} is not a positive number"
            )));
        }
        self.norm = norm;
        Ok(self)
    }

    /// The model the embedding comes from.
    pub fn model_id(&self) -> &str {
        &self.model_id
    }

    /// The unit vector.
    pub fn vector(&self) -> &[f32] {
        &self.vector
    }

    /// Number of dimensions.
    pub fn dim(&self) -> usize {
        self.vector.len()
    }

    /// Cosine similarity in -1..=1; errors if the models or dimensions differ.
    pub fn similarity(&self, other: &Embedding) -> Result<f32> {
        if self.model_id != other.model_id {
            return Err(Error::ModelMismatch {
                left: self.model_id.to_string(),
                right: other.model_id.to_string(),
            });
        }
        if self.vector.len() != other.vector.len() {
            return Err(Error::InvalidEmbedding(format!(
                "dimensions differ: {} vs {}",
                self.vector.len(),
                other.vector.len()
            )));
        }
        Ok(dot(&self.vector, &other.vector).clamp(-1.0, 1.0))
    }
}

/// Dot product written so the compiler vectorises it: fixed-size chunks (no bounds checks in
/// the loop) into 8 independent accumulators.
#[inline]
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc = [0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for k in 0..8 {
            acc[k] += x[k] * y[k];
        }
    }
    let mut s = (acc[0] + acc[4]) + (acc[1] + acc[5]) + (acc[2] + acc[6]) + (acc[3] + acc[7]);
    for (x, y) in ra.iter().zip(rb) {
        s += x * y;
    }
    s
}

/// A face embedding model. Implement it to plug another model in; the engine calls it from many
/// threads at once.
pub trait Embedder: Send + Sync {
    /// The model id stamped on every embedding (e.g. "dlib-resnet-v1").
    fn model_id(&self) -> &str;
    /// The embedding dimension.
    fn dim(&self) -> usize;
    /// One embedding per face of `image`, in order, computed in batches. With `flip`, each is the
    /// normalised mean of the face and its mirror image.
    fn embed(&self, image: &Image, faces: &[Face], flip: bool) -> Result<Vec<Embedding>>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_and_rejects_bad_vectors() {
        let e = Embedding::new("m", vec![3.0, 4.0]).unwrap();
        assert_eq!(e.vector(), &[0.6, 0.8]);
        for bad in [
            vec![],
            vec![0.0, 0.0],
            vec![1.0, f32::NAN],
            vec![f32::INFINITY, 1.0],
        ] {
            let err = Embedding::new("m", bad).unwrap_err();
            assert_eq!(err.code(), crate::ErrorCode::InvalidEmbedding);
        }
    }

    #[test]
    fn different_models_never_compare() {
        let a = Embedding::new("a", vec![1.0, 0.0]).unwrap();
        let b = Embedding::new("b", vec![1.0, 0.0]).unwrap();
        assert_eq!(
            a.similarity(&b).unwrap_err().code(),
            crate::ErrorCode::ModelMismatch
        );
        let c = Embedding::new("a", vec![1.0, 0.0, 0.0]).unwrap();
        assert_eq!(
            a.similarity(&c).unwrap_err().code(),
            crate::ErrorCode::InvalidEmbedding
        );
        assert!((a.similarity(&a).unwrap() - 1.0).abs() < 1e-6);
    }

    #[test]
    fn dot_matches_naive_for_odd_lengths() {
        let a: Vec<f32> = (0..37).map(|i| i as f32 * 0.1).collect();
        let b: Vec<f32> = (0..37).map(|i| 1.0 - i as f32 * 0.02).collect();
        let naive: f32 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
        assert!((dot(&a, &b) - naive).abs() < 1e-3);
    }
}
