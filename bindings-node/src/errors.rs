//! Core errors become JS `Error`s with `code` (the stable snake_case name shared with C and
//! Python) and `number` (the C status number).

use faceprint::{Error, ErrorCode};
use napi::{Env, JsValue, Status};

/// A JS error object carrying the code, to throw or to reject a promise with.
pub fn js_error(env: &Env, code: ErrorCode, message: String) -> napi::Error {
    let made = (|| -> napi::Result<napi::Error> {
        let mut obj =
            env.create_error(napi::Error::new(Status::GenericFailure, message.clone()))?;
        obj.set("code", code.as_str())?;
        obj.set("number", code.number())?;
        Ok(napi::Error::from(obj.to_unknown()))
    })();
    made.unwrap_or_else(|_| napi::Error::new(Status::GenericFailure, format!("{code}: {message}")))
}

pub fn core_error(env: &Env, e: &Error) -> napi::Error {
    js_error(env, e.code(), e.to_string())
}

/// `?` for core results in synchronous functions.
pub trait OrThrow<T> {
    fn or_throw(self, env: &Env) -> napi::Result<T>;
}

impl<T> OrThrow<T> for Result<T, Error> {
    fn or_throw(self, env: &Env) -> napi::Result<T> {
        self.map_err(|e| core_error(env, &e))
    }
}
