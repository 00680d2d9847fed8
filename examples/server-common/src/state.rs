//! `Common`: what every server's `AppState` holds from this crate — the engine, the two compute
//! gates, the server database, token keys, rate limits, upload rules and the shutdown handles.
//! A cheap `Clone` over one `Arc`. Servers expose it with `FromRef`, so the shared extractors
//! and routes work on any of them.

use crate::auth::TokenKeys;
use crate::compute::Compute;
use crate::config::{
    ComputeConfig, Config, HttpConfig, LimitsConfig, LogConfig, MetricsConfig, RateLimitConfig,
    ServerConfig, TokenConfig,
};
use crate::db::{Db, Migrations};
use crate::error::{ApiError, ApiResult};
use crate::rate_limit::RateLimits;
use crate::shutdown::Shutdown;
use crate::upload::UploadRules;
use faceprint::Engine;
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The common sections of a server's configuration.
#[derive(Debug, Clone)]
pub struct Settings {
    pub server: ServerConfig,
    pub limits: LimitsConfig,
    pub compute: ComputeConfig,
    pub tokens: TokenConfig,
    pub rate_limit: RateLimitConfig,
    pub http: HttpConfig,
    pub metrics: MetricsConfig,
    pub log: LogConfig,
    pub outbound: crate::outbound::OutboundConfig,
}

impl Settings {
    pub fn of<A>(c: &Config<A>) -> Settings {
        Settings {
            server: c.server.clone(),
            limits: c.limits.clone(),
            compute: c.compute.clone(),
            tokens: c.tokens.clone(),
            rate_limit: c.rate_limit.clone(),
            http: c.http.clone(),
            metrics: c.metrics.clone(),
            log: c.log.clone(),
            outbound: c.outbound.clone(),
        }
    }
}

#[derive(Clone)]
pub struct Common(Arc<Inner>);

struct Inner {
    name: &'static str,
    settings: Settings,
    engine: Engine,
    master_key: faceprint::store::MasterKey,
    in_flight: std::sync::Mutex<std::collections::HashSet<String>>,
    models: Compute,
    blocking: Compute,
    db: Db,
    tokens: TokenKeys,
    rate_limits: RateLimits,
    upload_rules: UploadRules,
    shutdown: Shutdown,
    outbox: crate::webhooks::Outbox,
    draining: AtomicBool,
    started: Instant,
    key_scope: Arc<dyn crate::auth::api_key::KeyScope>,
    node: crate::cluster::Node,
}

impl Common {
    /// Opens everything a server needs under `config.server.data_dir` (created on first start):
    /// the engine over the encrypted template store, the server database with the common and
    /// the server's migrations, and the token keys. `name` is the server's name, also the
    /// audience of its tokens (a token of one server is not accepted by another).
    pub fn open<A>(
        name: &'static str,
        config: &Config<A>,
        migrations: &[&Migrations],
    ) -> Result<Common, String>
    where
        A: crate::auth::api_key::KeyScope + Clone,
    {
        // The PostgreSQL client blocks on a runtime of its own, which tokio refuses on a thread
        // that drives async tasks (a server opens its state from `async fn run`): open on a
        // thread of its own.
        std::thread::scope(|s| {
            s.spawn(|| Self::open_here(name, config, migrations))
                .join()
                .map_err(|_| "opening the server's state panicked".to_string())?
        })
    }

    fn open_here<A>(
        name: &'static str,
        config: &Config<A>,
        migrations: &[&Migrations],
    ) -> Result<Common, String>
    where
        A: crate::auth::api_key::KeyScope + Clone,
    {
        let settings = Settings::of(config);
        if let Some(url) = &settings.server.node_url {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err(format!(
                    "server.node_url must be an http:// or https:// URL, got {url:?}"
                ));
            }
        }
        crate::metrics::recorder();
        let data = &settings.server.data_dir;
        crate::files::ensure_data_dir(data)?;
        let (engine, master_key) = crate::engine::open(name, &settings)?;
        let db = crate::db::open_server_db(
            name,
            &settings.server,
            migrations,
            settings.compute.blocking_permits,
        )?;
        let configured =
            settings.tokens.jwt_secret.is_some() || settings.tokens.jwt_secret_file.is_some();
        let secret = if settings.server.database.is_some() && !configured {
            // Every node signs and checks tokens with the same secret: the database's.
            crate::auth::jwt::shared_secret(&db, &master_key)?
        } else {
            crate::auth::jwt::load_secret(&settings.tokens, data)?
        };
        let tokens = TokenKeys::new(
            &secret,
            &settings.tokens.issuer,
            name,
            settings.tokens.access_ttl_secs,
        );
        let wait = Duration::from_millis(settings.compute.queue_wait_ms);
        let node = crate::cluster::Node::new(settings.server.node_url.as_deref());
        Ok(Common(Arc::new(Inner {
            name,
            models: Compute::new("model", settings.compute.effective_model_permits(), wait),
            blocking: Compute::new(
                "blocking",
                settings.compute.blocking_permits,
                Duration::from_secs(5),
            ),
            rate_limits: RateLimits::new(&settings.rate_limit),
            upload_rules: UploadRules::from_config(&settings.limits),
            settings,
            engine,
            master_key,
            in_flight: Default::default(),
            db,
            tokens,
            shutdown: Shutdown::new(),
            outbox: crate::webhooks::Outbox::default(),
            draining: AtomicBool::new(false),
            started: Instant::now(),
            key_scope: Arc::new(config.app.clone()),
            node,
        })))
    }

    /// This process among the nodes sharing the database.
    pub fn node(&self) -> &crate::cluster::Node {
        &self.0.node
    }

    pub fn name(&self) -> &'static str {
        self.0.name
    }

    pub fn settings(&self) -> &Settings {
        &self.0.settings
    }

    pub fn engine(&self) -> &Engine {
        &self.0.engine
    }

    /// Seals server data at rest (frame-session state, document images).
    pub fn master_key(&self) -> &faceprint::store::MasterKey {
        &self.0.master_key
    }

    /// Marks `id` busy; false when it already is (one frame in flight per session).
    pub fn try_begin(&self, id: &str) -> bool {
        self.0
            .in_flight
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(id.to_string())
    }

    pub fn end(&self, id: &str) {
        self.0
            .in_flight
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(id);
    }

    /// What this server lets an API key be scoped to.
    pub fn key_scope(&self) -> &dyn crate::auth::api_key::KeyScope {
        &*self.0.key_scope
    }

    pub fn tokens(&self) -> &TokenKeys {
        &self.0.tokens
    }

    pub fn rate_limits(&self) -> &RateLimits {
        &self.0.rate_limits
    }

    pub fn upload_rules(&self) -> &UploadRules {
        &self.0.upload_rules
    }

    pub fn shutdown(&self) -> &Shutdown {
        &self.0.shutdown
    }

    pub fn outbox(&self) -> &crate::webhooks::Outbox {
        &self.0.outbox
    }

    pub fn model_gate(&self) -> &Compute {
        &self.0.models
    }

    pub fn database(&self) -> &Db {
        &self.0.db
    }

    pub fn uptime(&self) -> Duration {
        self.0.started.elapsed()
    }

    /// Readiness fails from the moment shutdown starts.
    pub fn is_draining(&self) -> bool {
        self.0.draining.load(Ordering::Relaxed)
    }

    pub fn begin_drain(&self) {
        self.0.draining.store(true, Ordering::Relaxed);
    }

    /// Runs model work (inference, store search) on the model gate: 503 `busy` when full.
    pub async fn model<T, F>(&self, f: F) -> ApiResult<T>
    where
        F: FnOnce(&Engine) -> faceprint::Result<T> + Send + 'static,
        T: Send + 'static,
    {
        let engine = self.0.engine.clone();
        self.0.models.try_run(move || f(&engine)).await
    }

    /// Runs a database call on the blocking gate.
    pub async fn db<T, F>(&self, f: F) -> ApiResult<T>
    where
        F: FnOnce(&mut crate::db::Sql<'_>) -> crate::db::DbResult<T> + Send + 'static,
        T: Send + 'static,
    {
        let db = self.0.db.clone();
        self.0.blocking.try_run(move || db.with(f)).await
    }

    /// Runs other blocking work (password hashing) on the blocking gate.
    pub async fn blocking<T, F>(&self, f: F) -> ApiResult<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        self.0.blocking.run(f).await
    }

    /// Records an audit event (who, what, when, outcome, score — never images or vectors).
    pub async fn audit(&self, event: crate::events::Event) -> Result<(), ApiError> {
        self.db(move |c| crate::events::record(c, &event)).await
    }
}

/// The version and models a server runs, for `/health`.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ServerInfo {
    pub name: String,
    pub version: String,
    pub detector: String,
    pub embedder: String,
}
