//! One error type for the whole library. Every variant maps to a stable [`ErrorCode`] whose
//! number and name never change: the CLI JSON, the C status enum and the Python/Node exception
//! classes are all derived from it.

use std::path::PathBuf;

/// Stable error codes. Numbers are part of the public ABI: never renumber, only append.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u32)]
#[non_exhaustive]
pub enum ErrorCode {
    InvalidArgument = 1,
    Io = 2,
    ImageEmpty = 10,
    ImageTooLarge = 11,
    ImageTooManyPixels = 12,
    ImageTruncated = 13,
    ImageCorrupt = 14,
    ImageUnsupportedFormat = 15,
    InvalidPixelBuffer = 16,
    NoFace = 20,
    MultipleFaces = 21,
    ModelsNotFound = 30,
    ModelChecksum = 31,
    ModelManifest = 32,
    RuntimeUnavailable = 33,
    Inference = 34,
    ModelMismatch = 40,
    InvalidEmbedding = 41,
    CalibrationRange = 42,
    Decrypt = 50,
    WrongKey = 51,
    StoreCorrupt = 52,
    NotFound = 53,
    AlreadyExists = 54,
    Storage = 55,
    SubjectDisabled = 56,
    QualityRejected = 60,
    SessionFinished = 70,
    Internal = 99,
}

impl ErrorCode {
    /// Every code, in number order (for bindings that generate one class per code).
    pub const ALL: &'static [ErrorCode] = &[
        ErrorCode::InvalidArgument,
        ErrorCode::Io,
        ErrorCode::ImageEmpty,
        ErrorCode::ImageTooLarge,
        ErrorCode::ImageTooManyPixels,
        ErrorCode::ImageTruncated,
        ErrorCode::ImageCorrupt,
        ErrorCode::ImageUnsupportedFormat,
        ErrorCode::InvalidPixelBuffer,
        ErrorCode::NoFace,
        ErrorCode::MultipleFaces,
        ErrorCode::ModelsNotFound,
        ErrorCode::ModelChecksum,
        ErrorCode::ModelManifest,
        ErrorCode::RuntimeUnavailable,
        ErrorCode::Inference,
        ErrorCode::ModelMismatch,
        ErrorCode::InvalidEmbedding,
        ErrorCode::CalibrationRange,
        ErrorCode::Decrypt,
        ErrorCode::WrongKey,
        ErrorCode::StoreCorrupt,
        ErrorCode::NotFound,
        ErrorCode::AlreadyExists,
        ErrorCode::Storage,
        ErrorCode::SubjectDisabled,
        ErrorCode::QualityRejected,
        ErrorCode::SessionFinished,
        ErrorCode::Internal,
    ];

    /// The stable number of this code.
    pub fn number(self) -> u32 {
        self as u32
    }

    /// The stable snake_case name of this code (used in JSON and by the bindings).
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidArgument => "invalid_argument",
            ErrorCode::Io => "io",
            ErrorCode::ImageEmpty => "image_empty",
            ErrorCode::ImageTooLarge => "image_too_large",
            ErrorCode::ImageTooManyPixels => "image_too_many_pixels",
            ErrorCode::ImageTruncated => "image_truncated",
            ErrorCode::ImageCorrupt => "image_corrupt",
            ErrorCode::ImageUnsupportedFormat => "image_unsupported_format",
            ErrorCode::InvalidPixelBuffer => "invalid_pixel_buffer",
            ErrorCode::NoFace => "no_face",
            ErrorCode::MultipleFaces => "multiple_faces",
            ErrorCode::ModelsNotFound => "models_not_found",
            ErrorCode::ModelChecksum => "model_checksum",
            ErrorCode::ModelManifest => "model_manifest",
            ErrorCode::RuntimeUnavailable => "runtime_unavailable",
            ErrorCode::Inference => "inference",
            ErrorCode::ModelMismatch => "model_mismatch",
            ErrorCode::InvalidEmbedding => "invalid_embedding",
            ErrorCode::CalibrationRange => "calibration_range",
            ErrorCode::Decrypt => "decrypt",
            ErrorCode::WrongKey => "wrong_key",
            ErrorCode::StoreCorrupt => "store_corrupt",
            ErrorCode::NotFound => "not_found",
            ErrorCode::AlreadyExists => "already_exists",
            ErrorCode::Storage => "storage",
            ErrorCode::SubjectDisabled => "subject_disabled",
            ErrorCode::QualityRejected => "quality_rejected",
            ErrorCode::SessionFinished => "session_finished",
            ErrorCode::Internal => "internal",
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Everything that can go wrong in Faceprint.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("image data is empty")]
    ImageEmpty,
    #[error("image is {bytes} bytes, over the limit of {limit} bytes")]
    ImageTooLarge { bytes: u64, limit: u64 },
    #[error("image is {width}x{height} pixels, over the limit of {limit} pixels")]
    ImageTooManyPixels { width: u32, height: u32, limit: u64 },
    #[error("image data is truncated ({0})")]
    ImageTruncated(String),
    #[error("image data is corrupt: {0}")]
    ImageCorrupt(String),
    #[error("not a supported image format (JPEG, PNG, WebP, BMP, GIF, PNM, TIFF, QOI): {0}")]
    ImageUnsupportedFormat(String),
    #[error("invalid pixel buffer: {0}")]
    InvalidPixelBuffer(String),
    #[error("no face found in the image")]
    NoFace,
    #[error("{0} faces found where exactly one was expected")]
    MultipleFaces(usize),
    #[error("models not found: {0}")]
    ModelsNotFound(String),
    #[error("model file {path} has sha256 {actual}, the manifest expects {expected}")]
    ModelChecksum {
        path: PathBuf,
        expected: String,
        actual: String,
    },
    #[error("model manifest: {0}")]
    ModelManifest(String),
    #[error("ONNX Runtime unavailable: {0}")]
    RuntimeUnavailable(String),
    #[error("inference failed: {0}")]
    Inference(String),
    #[error("embeddings come from different models ({left} vs {right}) and cannot be compared")]
    ModelMismatch { left: String, right: String },
    /// A collection keeps the model it was created with; its templates are never compared with
    /// another model's embeddings. Code `model_mismatch`.
    #[error(
        "collection {collection:?} holds {collection_model} templates but this engine embeds with \
         {engine_model}: use an engine whose embedder is {collection_model} (CLI: --embedder \
         {collection_model})"
    )]
    CollectionModel {
        collection: String,
        collection_model: String,
        engine_model: String,
    },
    #[error("invalid embedding: {0}")]
    InvalidEmbedding(String),
    #[error("false-match rate {requested} is outside the calibrated range {min}..{max}")]
    CalibrationRange { requested: f64, min: f64, max: f64 },
    #[error("decryption failed: {0}")]
    Decrypt(String),
    #[error("the key does not open this store: {0}")]
    WrongKey(String),
    #[error("store data is corrupt: {0}")]
    StoreCorrupt(String),
    #[error("not found: {0}")]
    NotFound(String),
    #[error("already exists: {0}")]
    AlreadyExists(String),
    #[error("storage: {0}")]
    Storage(String),
    #[error("subject {0} is disabled")]
    SubjectDisabled(String),
    #[error("face quality too low: {0}")]
    QualityRejected(String),
    #[error("the session has already finished ({0}); start a new one")]
    SessionFinished(String),
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    /// The stable code of this error.
    pub fn code(&self) -> ErrorCode {
        match self {
            Error::InvalidArgument(_) => ErrorCode::InvalidArgument,
            Error::Io { .. } => ErrorCode::Io,
            Error::ImageEmpty => ErrorCode::ImageEmpty,
            Error::ImageTooLarge { .. } => ErrorCode::ImageTooLarge,
            Error::ImageTooManyPixels { .. } => ErrorCode::ImageTooManyPixels,
            Error::ImageTruncated(_) => ErrorCode::ImageTruncated,
            Error::ImageCorrupt(_) => ErrorCode::ImageCorrupt,
            Error::ImageUnsupportedFormat(_) => ErrorCode::ImageUnsupportedFormat,
            Error::InvalidPixelBuffer(_) => ErrorCode::InvalidPixelBuffer,
            Error::NoFace => ErrorCode::NoFace,
            Error::MultipleFaces(_) => ErrorCode::MultipleFaces,
            Error::ModelsNotFound(_) => ErrorCode::ModelsNotFound,
            Error::ModelChecksum { .. } => ErrorCode::ModelChecksum,
            Error::ModelManifest(_) => ErrorCode::ModelManifest,
            Error::RuntimeUnavailable(_) => ErrorCode::RuntimeUnavailable,
            Error::Inference(_) => ErrorCode::Inference,
            Error::ModelMismatch { .. } | Error::CollectionModel { .. } => ErrorCode::ModelMismatch,
            Error::InvalidEmbedding(_) => ErrorCode::InvalidEmbedding,
            Error::CalibrationRange { .. } => ErrorCode::CalibrationRange,
            Error::Decrypt(_) => ErrorCode::Decrypt,
            Error::WrongKey(_) => ErrorCode::WrongKey,
            Error::StoreCorrupt(_) => ErrorCode::StoreCorrupt,
            Error::NotFound(_) => ErrorCode::NotFound,
            Error::AlreadyExists(_) => ErrorCode::AlreadyExists,
            Error::Storage(_) => ErrorCode::Storage,
            Error::SubjectDisabled(_) => ErrorCode::SubjectDisabled,
            Error::QualityRejected(_) => ErrorCode::QualityRejected,
            Error::SessionFinished(_) => ErrorCode::SessionFinished,
            Error::Internal(_) => ErrorCode::Internal,
        }
    }

    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}

impl From<ort::Error> for Error {
    fn from(e: ort::Error) -> Self {
        Error::Inference(e.to_string())
    }
}

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        match e {
            rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::NotADatabase => {
                Error::StoreCorrupt(e.to_string())
            }
            rusqlite::Error::SqliteFailure(f, _)
                if f.code == rusqlite::ErrorCode::DatabaseCorrupt =>
            {
                Error::StoreCorrupt(e.to_string())
            }
            other => Error::Storage(other.to_string()),
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_listed() {
        let mut numbers: Vec<u32> = ErrorCode::ALL.iter().map(|c| c.number()).collect();
        let mut names: Vec<&str> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
        numbers.sort();
        numbers.dedup();
        names.sort();
        names.dedup();
        assert_eq!(numbers.len(), ErrorCode::ALL.len());
        assert_eq!(names.len(), ErrorCode::ALL.len());
    }
}
