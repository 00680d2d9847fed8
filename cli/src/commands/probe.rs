//! Where a verify / identify / enroll face comes from: a photo (largest face, or every face),
//! a photo that already is a face crop (no detection), or a stored embedding (JSON).

use clap::Args;
use faceprint::{Engine, Error, FaceEmbedding, Image};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// An embedding file is a few KB of JSON; anything far larger is not one.
const MAX_EMBEDDING_FILE_BYTES: u64 = 1 << 20;

#[derive(Args, Clone)]
pub struct ProbeArgs {
    /// The photo to search with (its largest face unless --all-faces)
    #[arg(required_unless_present = "embedding", conflicts_with = "embedding")]
    pub image: Option<PathBuf>,
    /// Search with every face of the photo: one result per face, each with its box
    #[arg(long, conflicts_with = "face_crop")]
    pub all_faces: bool,
    /// The photo already is a face crop (another detector's, an ID photo): embed it whole,
    /// without detection
    #[arg(long)]
    pub face_crop: bool,
    /// Search with a stored embedding instead of a photo: a JSON file holding an array of
    /// numbers, an object with "embedding" (and optionally "model"), or a `faceprint embed`
    /// line with exactly one face
    #[arg(long, value_name = "JSON")]
    pub embedding: Option<PathBuf>,
}

/// One probe: its embedding, and the face it came from (none for a stored embedding).
pub struct Probe {
    pub embedding: FaceEmbedding,
    pub from_photo: bool,
}

impl ProbeArgs {
    /// The probes this command searches with: one, or one per face with --all-faces (none when
    /// the photo has no face).
    pub fn probes(&self, engine: &Engine) -> Result<Vec<Probe>, Error> {
        if let Some(file) = &self.embedding {
            return Ok(vec![Probe {
                embedding: read_embedding(engine, file)?,
                from_photo: false,
            }]);
        }
        let path = self
            .image
            .as_deref()
            .ok_or_else(|| Error::InvalidArgument("give IMAGE or --embedding FILE".into()))?;
        let img = engine.open(path)?;
        let found = if self.face_crop {
            vec![engine.embed_face_crop(&img)?]
        } else if self.all_faces {
            engine.extract(&img)?
        } else {
            vec![engine.extract_largest(&img)?]
        };
        Ok(found
            .into_iter()
            .map(|embedding| Probe {
                embedding,
                from_photo: true,
            })
            .collect())
    }
}

/// The embedding of one photo for enrollment: a face crop embedded whole, else the photo's only
/// (or with `largest`, largest) face.
pub fn enrollment_face(
    engine: &Engine,
    img: &Image,
    face_crop: bool,
    largest: bool,
) -> Result<faceprint::Embedding, Error> {
    if face_crop {
        return Ok(engine.embed_face_crop(img)?.embedding);
    }
    let faces = engine.detect(img)?;
    let face = match (faces.len(), largest) {
        (0, _) => return Err(Error::NoFace),
        (1, _) | (_, true) => *faceprint::detect::largest(&faces).ok_or(Error::NoFace)?,
        (n, false) => return Err(Error::MultipleFaces(n)),
    };
    Ok(engine.embed(img, &[face])?.remove(0))
}

/// Reads an embedding file (formats in [`ProbeArgs::embedding`]) as this engine's model.
pub fn read_embedding(engine: &Engine, file: &Path) -> Result<FaceEmbedding, Error> {
    let text =
        faceprint::files::read_text_limited(file, MAX_EMBEDDING_FILE_BYTES, "embedding file")?;
    let bad = |why: String| Error::InvalidEmbedding(format!("{}: {why}", file.display()));
    let value: Value = serde_json::from_str(&text).map_err(|e| bad(format!("not JSON: {e}")))?;
    let object = match &value {
        Value::Object(o) => match o.get("faces") {
            Some(Value::Array(faces)) if faces.len() == 1 => {
                let mut face = faces[0].clone();
                if let (Some(m), Value::Object(f)) = (o.get("model"), &mut face) {
                    f.entry("model").or_insert(m.clone());
                }
                face
            }
            Some(Value::Array(faces)) => {
                return Err(bad(format!(
                    "holds {} faces; keep one (e.g. jq '.faces[0]')",
                    faces.len()
                )))
            }
            _ => value.clone(),
        },
        _ => value.clone(),
    };
    let (numbers, model) = match &object {
        Value::Array(a) => (a, None),
        Value::Object(o) => match o.get("embedding") {
            Some(Value::Array(a)) => (a, o.get("model").and_then(Value::as_str)),
            _ => return Err(bad("no \"embedding\" array".into())),
        },
        _ => return Err(bad("expected an array of numbers or an object".into())),
    };
    if let Some(m) = model.filter(|m| *m != engine.embedder_id()) {
        return Err(Error::ModelMismatch {
            left: m.to_string(),
            right: engine.embedder_id().to_string(),
        });
    }
    let vector = numbers
        .iter()
        .enumerate()
        .map(|(i, v)| {
            v.as_f64()
                .map(|x| x as f32)
                .ok_or_else(|| bad(format!("element {i} is not a number")))
        })
        .collect::<Result<Vec<f32>, Error>>()?;
    Ok(FaceEmbedding::stored(engine.embedding_from_vector(vector)?))
}
