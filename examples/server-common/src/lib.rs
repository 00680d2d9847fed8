//! `faceprint-server`: what the Faceprint reference servers (face login, attendance, KYC) share.
//! Each concern has its module; a server builds its `AppState` around [`Common`], mounts its
//! routes beside [`health::router`] and [`openapi::router`], wraps them in
//! [`stack::standard_layers`] and runs [`serve::serve`].

pub mod auth;
pub mod calendar;
pub mod caller;
pub mod cli;
pub mod cluster;
pub mod compute;
pub mod config;
pub mod db;
pub mod engine;
pub mod error;
pub mod events;
pub mod face;
pub mod files;
pub mod frames;
pub mod health;
pub mod logging;
pub mod metrics;
pub mod openapi;
pub mod outbound;
pub mod pages;
pub mod rate_limit;
pub mod request_id;
pub mod routes;
pub mod serve;
pub mod shutdown;
pub mod stack;
pub mod state;
#[cfg(feature = "testing")]
pub mod testing;
pub mod upload;
pub mod webhooks;

pub use config::Config;
pub use error::{ApiError, ApiResult};
pub use state::Common;
