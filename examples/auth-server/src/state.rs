//! `AppState`: the common parts plus this server's settings, one `Arc`.

use crate::config::AppConfig;
use axum::extract::FromRef;
use faceprint_server::Common;
use std::sync::Arc;

#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    pub common: Common,
    pub config: AppConfig,
}

impl AppState {
    pub fn new(common: Common, config: AppConfig) -> AppState {
        AppState(Arc::new(Inner { common, config }))
    }

    pub fn common(&self) -> &Common {
        &self.0.common
    }

    pub fn config(&self) -> &AppConfig {
        &self.0.config
    }
}

impl FromRef<AppState> for Common {
    fn from_ref(s: &AppState) -> Common {
        s.0.common.clone()
    }
}
