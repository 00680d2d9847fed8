//! `AppState`: the common parts, this server's settings and its clock, one `Arc`.

use crate::config::AppConfig;
use axum::extract::FromRef;
use faceprint_server::Common;
use std::sync::Arc;

/// The time the server decides by (document expiry, retention). Tests set it.
pub trait Clock: Send + Sync {
    fn now_ms(&self) -> i64;
}

pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        faceprint_server::db::now_ms()
    }
}

/// A clock stopped at one instant.
pub struct FixedClock(pub i64);

impl Clock for FixedClock {
    fn now_ms(&self) -> i64 {
        self.0
    }
}

#[derive(Clone)]
pub struct AppState(Arc<Inner>);

struct Inner {
    common: Common,
    config: AppConfig,
    clock: Arc<dyn Clock>,
}

impl AppState {
    pub fn new(common: Common, config: AppConfig) -> AppState {
        AppState::with_clock(common, config, Arc::new(SystemClock))
    }

    pub fn with_clock(common: Common, config: AppConfig, clock: Arc<dyn Clock>) -> AppState {
        AppState(Arc::new(Inner {
            common,
            config,
            clock,
        }))
    }

    pub fn common(&self) -> &Common {
        &self.0.common
    }

    pub fn config(&self) -> &AppConfig {
        &self.0.config
    }

    pub fn now_ms(&self) -> i64 {
        self.0.clock.now_ms()
    }

    /// Today as YYYY-MM-DD at the configured offset (or the configured fixed day).
    pub fn today(&self) -> String {
        match &self.0.config.fixed_today {
            Some(day) => day.clone(),
            None => faceprint_server::calendar::local_day(
                self.now_ms(),
                self.0.config.utc_offset_minutes,
            ),
        }
    }
}

impl FromRef<AppState> for Common {
    fn from_ref(s: &AppState) -> Common {
        s.0.common.clone()
    }
}
