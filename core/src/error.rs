//! One error type for the whole library. Every variant maps to a stable [`ErrorCode`] whose
//! number and name never change: the CLI JSON, the C status enum and the Python/Node exception
//! classes are all derived from it.

use std::path::PathBuf;

/// Stable error codes. Numbers are part of the public ABI: never renumber, only append.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u32)]
#[non_exhaustive]
pub enum ErrorCode {
    /// A bad argument: a value out of range, a malformed option, a box outside the image.
    InvalidArgument = 1,
    /// A file could not be read or written.
    Io = 2,
    /// The image data is empty.
    ImageEmpty = 10,
    /// The encoded image is over the byte limit ([`crate::ImageLimits`]).
    ImageTooLarge = 11,
    /// The decoded image is over the pixel limit ([`crate::ImageLimits`]).
    ImageTooManyPixels = 12,
    /// The image data ends early.
    ImageTruncated = 13,
    /// The image data is damaged.
    ImageCorrupt = 14,
    /// Not an image format the library decodes.
    ImageUnsupportedFormat = 15,
    /// Raw pixels whose size, stride or format do not agree.
    InvalidPixelBuffer = 16,
    /// No face where one was needed.
    NoFace = 20,
    /// Several faces where exactly one was expected.
    MultipleFaces = 21,
    /// No model pack, or a model file missing from it.
    ModelsNotFound = 30,
    /// A model file whose sha256 is not the manifest's.
    ModelChecksum = 31,
    /// A manifest or model that does not say or hold what the library needs.
    ModelManifest = 32,
    /// ONNX Runtime could not be loaded.
    RuntimeUnavailable = 33,
    /// ONNX Runtime failed while running a model.
    Inference = 34,
    /// Embeddings (or a collection) of different models.
    ModelMismatch = 40,
    /// A vector that is not an embedding: empty, zero, NaN, infinite, wrong length.
    InvalidEmbedding = 41,
    /// A false-match rate outside the model's calibration table.
    CalibrationRange = 42,
    /// Stored data that does not decrypt (tampered or damaged).
    Decrypt = 50,
    /// A key that does not open the store.
    WrongKey = 51,
    /// Store contents that make no sense.
    StoreCorrupt = 52,
    /// No such subject, template, collection or session.
    NotFound = 53,
    /// The subject (or collection) already exists.
    AlreadyExists = 54,
    /// The store's database failed (disk full, locked, read-only).
    Storage = 55,
    /// The subject is disabled: kept, but not matched.
    SubjectDisabled = 56,
    /// A face below the quality profile.
    QualityRejected = 60,
    /// A frame for a session that has already ended.
    SessionFinished = 70,
    /// No identity document in the image: neither a machine-readable zone nor a portrait.
    NoDocument = 80,
    /// A document without a machine-readable zone that could be found.
    NoMrz = 81,
    /// A machine-readable zone was found but its lines fit no format.
    MrzUnreadable = 82,
    /// The machine-readable zone was read but check digits fail (its fields come with it).
    MrzCheckFailed = 83,
    /// A document page shows no holder's photo.
    NoPortrait = 84,
    /// A bug: please report it.
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
        ErrorCode::NoDocument,
        ErrorCode::NoMrz,
        ErrorCode::MrzUnreadable,
        ErrorCode::MrzCheckFailed,
        ErrorCode::NoPortrait,
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
            ErrorCode::NoDocument => "no_document",
            ErrorCode::NoMrz => "no_mrz",
            ErrorCode::MrzUnreadable => "mrz_unreadable",
            ErrorCode::MrzCheckFailed => "mrz_check_failed",
            ErrorCode::NoPortrait => "no_portrait",
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
    /// Code `invalid_argument`.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// Code `io`: the file and the system's error.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What the system said.
        #[source]
        source: std::io::Error,
    },
    /// Code `image_empty`.
    #[error("image data is empty")]
    ImageEmpty,
    /// Code `image_too_large`: the encoded size and the limit.
    #[error("image is {bytes} bytes, over the limit of {limit} bytes")]
    ImageTooLarge {
        /// Size of the encoded image.
        bytes: u64,
        /// The limit it is over.
        limit: u64,
    },
    /// Code `image_too_many_pixels`: the image's size and the pixel limit.
    #[error("image is {width}x{height} pixels, over the limit of {limit} pixels")]
    ImageTooManyPixels {
        /// The image's width.
        width: u32,
        /// The image's height.
        height: u32,
        /// The pixel limit it is over.
        limit: u64,
    },
    /// Code `image_truncated`.
    #[error("image data is truncated ({0})")]
    ImageTruncated(String),
    /// Code `image_corrupt`.
    #[error("image data is corrupt: {0}")]
    ImageCorrupt(String),
    /// Code `image_unsupported_format`.
    #[error("not a supported image format (JPEG, PNG, WebP, BMP, GIF, PNM, TIFF, QOI): {0}")]
    ImageUnsupportedFormat(String),
    /// Code `invalid_pixel_buffer`.
    #[error("invalid pixel buffer: {0}")]
    InvalidPixelBuffer(String),
    /// Code `no_face`.
    #[error("no face found in the image")]
    NoFace,
    /// Code `multiple_faces`: how many were found.
    #[error("{0} faces found where exactly one was expected")]
    MultipleFaces(usize),
    /// Code `models_not_found`: where the library looked, and how to install a pack.
    #[error("models not found: {0}")]
    ModelsNotFound(String),
    /// Code `model_checksum`.
    #[error("model file {path} has sha256 {actual}, the manifest expects {expected}")]
    ModelChecksum {
        /// The model file.
        path: PathBuf,
        /// The sha256 the manifest gives.
        expected: String,
        /// The file's sha256.
        actual: String,
    },
    /// Code `model_manifest`.
    #[error("model manifest: {0}")]
    ModelManifest(String),
    /// Code `runtime_unavailable`.
    #[error("ONNX Runtime unavailable: {0}")]
    RuntimeUnavailable(String),
    /// Code `inference`.
    #[error("inference failed: {0}")]
    Inference(String),
    /// Code `model_mismatch`: the two models.
    #[error("embeddings come from different models ({left} vs {right}) and cannot be compared")]
    ModelMismatch {
        /// The first embedding's model.
        left: String,
        /// The second embedding's model.
        right: String,
    },
    /// A collection keeps the model it was created with; its templates are never compared with
    /// another model's embeddings. Code `model_mismatch`.
    #[error(
        "collection {collection:?} holds {collection_model} templates but this engine embeds with \
         {engine_model}: use an engine whose embedder is {collection_model} (CLI: --embedder \
         {collection_model})"
    )]
    CollectionModel {
        /// The collection.
        collection: String,
        /// The model its templates are of.
        collection_model: String,
        /// The engine's embedder.
        engine_model: String,
    },
    /// Code `invalid_embedding`.
    #[error("invalid embedding: {0}")]
    InvalidEmbedding(String),
    /// Code `calibration_range`: the rate asked for and the table's range.
    #[error("false-match rate {requested} is outside the calibrated range {min}..{max}")]
    CalibrationRange {
        /// The false-match rate asked for.
        requested: f64,
        /// The smallest rate of the table.
        min: f64,
        /// The largest rate of the table.
        max: f64,
    },
    /// Code `decrypt`.
    #[error("decryption failed: {0}")]
    Decrypt(String),
    /// Code `wrong_key`.
    #[error("the key does not open this store: {0}")]
    WrongKey(String),
    /// Code `store_corrupt`.
    #[error("store data is corrupt: {0}")]
    StoreCorrupt(String),
    /// Code `not_found`.
    #[error("not found: {0}")]
    NotFound(String),
    /// Code `already_exists`.
    #[error("already exists: {0}")]
    AlreadyExists(String),
    /// Code `storage`.
    #[error("storage: {0}")]
    Storage(String),
    /// Code `subject_disabled`.
    #[error("subject {0} is disabled")]
    SubjectDisabled(String),
    /// Code `quality_rejected`: the reasons.
    #[error("face quality too low: {0}")]
    QualityRejected(String),
    /// Code `session_finished`.
    #[error("the session has already finished ({0}); start a new one")]
    SessionFinished(String),
    /// Code `no_document`.
    #[error("no identity document in the image (no machine-readable zone, no portrait)")]
    NoDocument,
    /// Code `no_mrz`.
    #[error("no machine-readable zone found on the document")]
    NoMrz,
    /// Code `mrz_unreadable`: what was read.
    #[error("the machine-readable zone could not be read: {0}")]
    MrzUnreadable(String),
    /// Code `mrz_check_failed`: the zone as read, with which digits failed.
    #[error("the machine-readable zone fails its check digits ({})", failed_checks(.0))]
    MrzCheckFailed(Box<crate::document::Mrz>),
    /// Code `no_portrait`.
    #[error("no portrait (holder's photo) found on the document")]
    NoPortrait,
    /// Code `internal`.
    #[error("internal error: {0}")]
    Internal(String),
}

fn failed_checks(m: &crate::document::Mrz) -> String {
    m.checks
        .iter()
        .filter(|c| !c.valid)
        .map(|c| c.field.as_str())
        .collect::<Vec<_>>()
        .join(", ")
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
            Error::NoDocument => ErrorCode::NoDocument,
            Error::NoMrz => ErrorCode::NoMrz,
            Error::MrzUnreadable(_) => ErrorCode::MrzUnreadable,
            Error::MrzCheckFailed(_) => ErrorCode::MrzCheckFailed,
            Error::NoPortrait => ErrorCode::NoPortrait,
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

/// The result of every fallible call of the library.
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
