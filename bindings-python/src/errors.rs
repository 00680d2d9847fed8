//! Core errors become `faceprint.FaceprintError` subclasses, one per error code, defined in
//! `faceprint/_errors.py` from the table this module exports.

use faceprint::{Error, ErrorCode};
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;

/// `(name, number)` of every error code, for `_errors.py` to make its classes from.
pub fn codes() -> Vec<(&'static str, u32)> {
    ErrorCode::ALL
        .iter()
        .map(|c| (c.as_str(), c.number()))
        .collect()
}

/// The Python exception for a code and message.
pub fn raise(py: Python<'_>, code: ErrorCode, message: String) -> PyErr {
    let made = (|| -> PyResult<PyErr> {
        let errors = py.import("faceprint._errors")?;
        let class = errors.getattr("_by_code")?.get_item(code.as_str())?;
        // The class carries `code` and `number`; the message is its only argument.
        let value = class.call1((message.clone(),))?;
        Ok(PyErr::from_value(value))
    })();
    made.unwrap_or_else(|e| PyRuntimeError::new_err(format!("{code}: {message} (and {e})")))
}

/// `?` for core results inside the binding.
pub trait IntoPy<T> {
    fn py_err(self, py: Python<'_>) -> PyResult<T>;
}

impl<T> IntoPy<T> for Result<T, Error> {
    fn py_err(self, py: Python<'_>) -> PyResult<T> {
        self.map_err(|e| raise(py, e.code(), e.to_string()))
    }
}

/// An `invalid_argument` error raised by the binding itself (bad Python types).
pub fn invalid(py: Python<'_>, message: impl Into<String>) -> PyErr {
    raise(py, ErrorCode::InvalidArgument, message.into())
}
