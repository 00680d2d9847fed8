//! Routes every server mounts the same way: token refresh, logout and administrator login
//! (`session`), and the administrators' audit trail and webhooks (`admin`). Generic over the
//! server's state, which only has to hand out its [`Common`](crate::Common).

pub mod admin;
pub mod session;
