//! Checked conversions of C arguments, and handle ownership.

use crate::status::{quiet, Failure, FfiResult};
use std::ffi::{c_char, CStr, CString};

/// Moves a value to the heap and hands C the pointer.
pub(crate) fn into_raw<T>(value: T) -> *mut T {
    Box::into_raw(Box::new(value))
}

/// Frees a handle made by `into_raw`; NULL is a no-op.
pub(crate) unsafe fn free<T>(ptr: *mut T) {
    if !ptr.is_null() {
        // A panicking destructor must not unwind into C; the value is lost either way.
        quiet((), || drop(Box::from_raw(ptr)));
    }
}

pub(crate) unsafe fn borrow<'a, T>(ptr: *const T, name: &'static str) -> FfiResult<&'a T> {
    ptr.as_ref().ok_or(Failure::Null(name))
}

pub(crate) unsafe fn borrow_mut<'a, T>(ptr: *mut T, name: &'static str) -> FfiResult<&'a mut T> {
    ptr.as_mut().ok_or(Failure::Null(name))
}

pub(crate) unsafe fn string<'a>(ptr: *const c_char, name: &'static str) -> FfiResult<&'a str> {
    if ptr.is_null() {
        return Err(Failure::Null(name));
    }
    CStr::from_ptr(ptr)
        .to_str()
        .map_err(|_| Failure::Utf8(name))
}

/// An optional string argument: NULL means "not given".
pub(crate) unsafe fn optional_string<'a>(
    ptr: *const c_char,
    name: &'static str,
) -> FfiResult<Option<&'a str>> {
    if ptr.is_null() {
        Ok(None)
    } else {
        string(ptr, name).map(Some)
    }
}

/// `len` bytes at `ptr`; NULL is accepted only for an empty buffer.
pub(crate) unsafe fn bytes<'a>(
    ptr: *const u8,
    len: usize,
    name: &'static str,
) -> FfiResult<&'a [u8]> {
    if len == 0 {
        return Ok(&[]);
    }
    if ptr.is_null() {
        return Err(Failure::Null(name));
    }
    Ok(std::slice::from_raw_parts(ptr, len))
}

/// An out-parameter, checked for NULL before any work is done and written only on success.
pub(crate) struct Out<T>(*mut T);

impl<T> Out<T> {
    pub(crate) fn new(ptr: *mut T, name: &'static str) -> FfiResult<Out<T>> {
        if ptr.is_null() {
            Err(Failure::Null(name))
        } else {
            Ok(Out(ptr))
        }
    }

    pub(crate) fn write(self, value: T) {
        // SAFETY: checked non-NULL; the caller promises it is writable.
        unsafe { self.0.write(value) }
    }
}

/// An optional out-parameter (NULL: the caller does not want it).
pub(crate) struct MaybeOut<T>(*mut T);

impl<T> MaybeOut<T> {
    pub(crate) fn new(ptr: *mut T) -> MaybeOut<T> {
        MaybeOut(ptr)
    }

    pub(crate) fn wanted(&self) -> bool {
        !self.0.is_null()
    }

    pub(crate) fn write(self, value: T) {
        if !self.0.is_null() {
            // SAFETY: non-NULL; the caller promises it is writable.
            unsafe { self.0.write(value) }
        }
    }
}

/// A Rust string as a C string the caller frees with `faceprint_string_free`.
pub(crate) fn c_string(text: String) -> FfiResult<*mut c_char> {
    CString::new(text).map(CString::into_raw).map_err(|_| {
        Failure::Core(faceprint_core::Error::Internal(
            "string holds a NUL byte".into(),
        ))
    })
}

/// JSON of a result, as a C string the caller frees with `faceprint_string_free`.
pub(crate) fn json_string(value: &impl serde::Serialize) -> FfiResult<*mut c_char> {
    let text = serde_json::to_string(value).map_err(|e| {
        Failure::Core(faceprint_core::Error::Internal(format!(
            "result to JSON: {e}"
        )))
    })?;
    c_string(text)
}

/// Frees a string returned by this library; NULL is a no-op.
#[no_mangle]
pub unsafe extern "C" fn faceprint_string_free(text: *mut c_char) {
    if !text.is_null() {
        quiet((), || drop(CString::from_raw(text)));
    }
}

/// The `_get` of a list of plain structs: copies item `index` into `*out`;
/// `FACEPRINT_STATUS_INVALID_ARGUMENT` when out of range.
pub(crate) unsafe fn copy_item<L, T: Copy>(
    list: *const L,
    items: impl FnOnce(&L) -> &[T],
    index: usize,
    out: *mut T,
    err: *mut *mut crate::status::faceprint_error,
) -> crate::status::faceprint_status {
    crate::status::guard(err, || {
        let list = borrow(list, "list")?;
        let out = Out::new(out, "out")?;
        let items = items(list);
        let item = items
            .get(index)
            .ok_or_else(|| crate::status::out_of_range(index, items.len()))?;
        out.write(*item);
        Ok(())
    })
}
