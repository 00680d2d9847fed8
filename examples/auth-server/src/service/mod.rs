//! The face-login flows. No axum types here: each function takes the state, the caller and
//! typed input, and returns a typed result or an `ApiError`.

pub mod accounts;
pub mod admin;
pub mod frames;
pub mod login;
pub mod recognition;

pub use faceprint_server::caller::Caller;

/// The principal of a user account.
pub fn principal(user_id: &str) -> String {
    format!("user:{user_id}")
}
