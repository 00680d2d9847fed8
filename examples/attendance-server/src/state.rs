//! `AppState`: the common parts, this server's settings and its running cameras, one `Arc`.

use crate::config::AppConfig;
use crate::service::cameras::Cameras;
use crate::service::source::SourcePolicy;
use axum::extract::FromRef;
use faceprint_server::Common;
use std::sync::Arc;

#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    pub common: Common,
    pub config: AppConfig,
    pub cameras: Cameras,
}

impl AppState {
    pub fn new(common: Common, config: AppConfig, sources: SourcePolicy) -> AppState {
        AppState(Arc::new(Inner {
            common,
            config,
            cameras: Cameras::new(sources),
        }))
    }

    pub fn common(&self) -> &Common {
        &self.0.common
    }

    pub fn config(&self) -> &AppConfig {
        &self.0.config
    }

    pub fn cameras(&self) -> &Cameras {
        &self.0.cameras
    }
}

impl FromRef<AppState> for Common {
    fn from_ref(s: &AppState) -> Common {
        s.0.common.clone()
    }
}
