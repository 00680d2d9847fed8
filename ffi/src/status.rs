//! Status codes, the error object and the panic boundary every exported body runs inside.

use faceprint_core::ErrorCode;
use std::any::Any;
use std::ffi::{c_char, CStr, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};

/// The outcome of a fallible call. Numbers 1-99 are the library's error codes (the same numbers
/// as the Python and Node `code`s); 100 and up are C-only. Numbers never change.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum faceprint_status {
    Ok = 0,
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
    NoDocument = 80,
    NoMrz = 81,
    MrzUnreadable = 82,
    MrzCheckFailed = 83,
    NoPortrait = 84,
    Internal = 99,
    /// A required pointer argument was NULL.
    NullArgument = 100,
    /// Rust code panicked; the call had no effect that can be relied on. Please report it.
    Panic = 101,
    /// A string argument was not valid UTF-8.
    InvalidUtf8 = 102,
}

impl faceprint_status {
    pub(crate) fn from_code(code: ErrorCode) -> faceprint_status {
        use faceprint_status as S;
        match code {
            ErrorCode::InvalidArgument => S::InvalidArgument,
            ErrorCode::Io => S::Io,
            ErrorCode::ImageEmpty => S::ImageEmpty,
            ErrorCode::ImageTooLarge => S::ImageTooLarge,
            ErrorCode::ImageTooManyPixels => S::ImageTooManyPixels,
            ErrorCode::ImageTruncated => S::ImageTruncated,
            ErrorCode::ImageCorrupt => S::ImageCorrupt,
            ErrorCode::ImageUnsupportedFormat => S::ImageUnsupportedFormat,
            ErrorCode::InvalidPixelBuffer => S::InvalidPixelBuffer,
            ErrorCode::NoFace => S::NoFace,
            ErrorCode::MultipleFaces => S::MultipleFaces,
            ErrorCode::ModelsNotFound => S::ModelsNotFound,
            ErrorCode::ModelChecksum => S::ModelChecksum,
            ErrorCode::ModelManifest => S::ModelManifest,
            ErrorCode::RuntimeUnavailable => S::RuntimeUnavailable,
            ErrorCode::Inference => S::Inference,
            ErrorCode::ModelMismatch => S::ModelMismatch,
            ErrorCode::InvalidEmbedding => S::InvalidEmbedding,
            ErrorCode::CalibrationRange => S::CalibrationRange,
            ErrorCode::Decrypt => S::Decrypt,
            ErrorCode::WrongKey => S::WrongKey,
            ErrorCode::StoreCorrupt => S::StoreCorrupt,
            ErrorCode::NotFound => S::NotFound,
            ErrorCode::AlreadyExists => S::AlreadyExists,
            ErrorCode::Storage => S::Storage,
            ErrorCode::SubjectDisabled => S::SubjectDisabled,
            ErrorCode::QualityRejected => S::QualityRejected,
            ErrorCode::SessionFinished => S::SessionFinished,
            ErrorCode::NoDocument => S::NoDocument,
            ErrorCode::NoMrz => S::NoMrz,
            ErrorCode::MrzUnreadable => S::MrzUnreadable,
            ErrorCode::MrzCheckFailed => S::MrzCheckFailed,
            ErrorCode::NoPortrait => S::NoPortrait,
            // A code added to the core before this enum learns it.
            _ => S::Internal,
        }
    }

    /// The snake_case name shared with the other bindings ("no_face").
    pub(crate) fn name(self) -> &'static CStr {
        use faceprint_status as S;
        match self {
            S::Ok => c"ok",
            S::NullArgument => c"null_argument",
            S::Panic => c"panic",
            S::InvalidUtf8 => c"invalid_utf8",
            other => ErrorCode::ALL
                .iter()
                .find(|c| c.number() == other as u32)
                .map(|c| code_name(*c))
                .unwrap_or(c"internal"),
        }
    }
}

/// `ErrorCode::as_str` as a C string, built once per code.
fn code_name(code: ErrorCode) -> &'static CStr {
    use std::sync::OnceLock;
    static NAMES: OnceLock<Vec<(ErrorCode, CString)>> = OnceLock::new();
    let names = NAMES.get_or_init(|| {
        ErrorCode::ALL
            .iter()
            .map(|c| {
                (
                    *c,
                    CString::new(c.as_str()).expect("code names have no NUL"),
                )
            })
            .collect()
    });
    names
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(_, n)| n.as_c_str())
        .unwrap_or(c"internal")
}

/// Details of a failed call: its status and a message. Owned by the caller; free it with
/// `faceprint_error_free`. Immutable: may be read from any thread.
pub struct faceprint_error {
    status: faceprint_status,
    message: CString,
}

/// Why an exported body failed.
pub(crate) enum Failure {
    Core(faceprint_core::Error),
    Null(&'static str),
    Utf8(&'static str),
    Panic(String),
}

impl From<faceprint_core::Error> for Failure {
    fn from(e: faceprint_core::Error) -> Self {
        Failure::Core(e)
    }
}

pub(crate) type FfiResult<T = ()> = Result<T, Failure>;

/// An index past the end of a result list.
pub(crate) fn out_of_range(index: usize, len: usize) -> Failure {
    faceprint_core::Error::InvalidArgument(format!("index {index} is out of range (length {len})"))
        .into()
}

impl Failure {
    fn describe(self) -> (faceprint_status, String) {
        match self {
            Failure::Core(e) => (faceprint_status::from_code(e.code()), e.to_string()),
            Failure::Null(name) => (
                faceprint_status::NullArgument,
                format!("argument `{name}` is NULL"),
            ),
            Failure::Utf8(name) => (
                faceprint_status::InvalidUtf8,
                format!("argument `{name}` is not valid UTF-8"),
            ),
            Failure::Panic(msg) => (
                faceprint_status::Panic,
                format!("internal panic (please report it): {msg}"),
            ),
        }
    }
}

fn panic_message(payload: Box<dyn Any + Send>) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into())
}

/// Runs an exported body: a panic becomes `FACEPRINT_STATUS_PANIC`, a failure writes `*err`
/// (when `err` is not NULL) and returns its status.
pub(crate) fn guard(
    err: *mut *mut faceprint_error,
    body: impl FnOnce() -> FfiResult,
) -> faceprint_status {
    let outcome = catch_unwind(AssertUnwindSafe(body))
        .unwrap_or_else(|p| Err(Failure::Panic(panic_message(p))));
    match outcome {
        Ok(()) => faceprint_status::Ok,
        Err(failure) => {
            let (status, message) = failure.describe();
            if !err.is_null() {
                let message = CString::new(message.replace('\0', " ")).unwrap_or_default();
                // SAFETY: the caller passes NULL or a writable faceprint_error*.
                unsafe { *err = Box::into_raw(Box::new(faceprint_error { status, message })) };
            }
            status
        }
    }
}

/// Runs a body that cannot fail but must not unwind into C (getters, frees); `fallback` on panic.
pub(crate) fn quiet<T>(fallback: T, body: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(body)).unwrap_or(fallback)
}

/// The status of an error object (`FACEPRINT_STATUS_INVALID_ARGUMENT` for NULL).
#[no_mangle]
pub unsafe extern "C" fn faceprint_error_status(err: *const faceprint_error) -> faceprint_status {
    quiet(faceprint_status::InvalidArgument, || {
        err.as_ref()
            .map(|e| e.status)
            .unwrap_or(faceprint_status::InvalidArgument)
    })
}

/// The message of an error object, valid until it is freed ("" for NULL).
#[no_mangle]
pub unsafe extern "C" fn faceprint_error_message(err: *const faceprint_error) -> *const c_char {
    quiet(c"".as_ptr(), || {
        err.as_ref()
            .map(|e| e.message.as_ptr())
            .unwrap_or(c"".as_ptr())
    })
}

/// Frees an error object; NULL is a no-op.
#[no_mangle]
pub unsafe extern "C" fn faceprint_error_free(err: *mut faceprint_error) {
    crate::handle::free(err)
}

/// The stable snake_case name of a status ("no_face"), a static string.
#[no_mangle]
pub extern "C" fn faceprint_status_name(status: faceprint_status) -> *const c_char {
    quiet(c"internal".as_ptr(), || status.name().as_ptr())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_code_has_the_same_number_and_name() {
        for code in ErrorCode::ALL {
            let status = faceprint_status::from_code(*code);
            assert_eq!(status as u32, code.number(), "{code}");
            assert_eq!(status.name().to_str().unwrap(), code.as_str());
        }
    }

    #[test]
    fn a_panic_becomes_a_status_and_a_message() {
        let mut err: *mut faceprint_error = std::ptr::null_mut();
        let status = guard(&mut err, || panic!("boom"));
        assert_eq!(status, faceprint_status::Panic);
        unsafe {
            assert_eq!(faceprint_error_status(err), faceprint_status::Panic);
            let msg = CStr::from_ptr(faceprint_error_message(err))
                .to_str()
                .unwrap();
            assert!(msg.contains("boom"), "{msg}");
            faceprint_error_free(err);
        }
    }
}
