//! Configuration: one typed struct per server, `Config<App>`, made of the common sections and
//! the server's own `[app]` section. Layers, later wins: defaults → TOML file → environment
//! (`FACEPRINT_<SECTION>__<KEY>`, e.g. `FACEPRINT_SERVER__LISTEN=0.0.0.0:8080`) → command line.
//! Unknown keys are errors, so a typo fails at start instead of being ignored.

use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// The whole configuration of a server.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config<App> {
    #[serde(default)]
    pub server: ServerConfig,
    #[serde(default)]
    pub limits: LimitsConfig,
    #[serde(default)]
    pub compute: ComputeConfig,
    #[serde(default)]
    pub tokens: TokenConfig,
    #[serde(default)]
    pub rate_limit: RateLimitConfig,
    #[serde(default)]
    pub http: HttpConfig,
    #[serde(default)]
    pub metrics: MetricsConfig,
    #[serde(default)]
    pub log: LogConfig,
    /// What addresses typed by admins (camera URLs) may reach.
    #[serde(default)]
    pub outbound: crate::outbound::OutboundConfig,
    /// The server's own settings.
    #[serde(default)]
    pub app: App,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// Loopback unless told otherwise.
    pub listen: SocketAddr,
    /// Holds the template store (`faces.db`), the server's state (`server.db`) and, when no
    /// `FACEPRINT_KEY` is given, the generated key files.
    pub data_dir: PathBuf,
    /// Seconds in-flight requests get to finish after SIGTERM/SIGINT.
    pub shutdown_grace_secs: u64,
    /// The model pack (default: the library's search).
    pub models_dir: Option<PathBuf>,
    /// `postgres://user:password@host:port/database`: the server keeps its state (schema
    /// `<server>_server`) and its templates (schema `<server>_templates`) there instead of in
    /// the data dir, so several server processes share them and act as one. Every node needs
    /// the same `FACEPRINT_KEY`.
    pub database: Option<String>,
    /// How the other nodes sharing `database` reach this one (`http://10.0.0.5:8081`), for
    /// requests about work this node holds (an attendance camera's live view). Default:
    /// `http://` and the address it listens on (the host name when that is 0.0.0.0).
    pub node_url: Option<String>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("faceprint-data"),
            shutdown_grace_secs: 20,
            models_dir: None,
            database: None,
            node_url: None,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LimitsConfig {
    /// Largest image accepted, in bytes (after base64 decoding).
    pub max_upload_bytes: usize,
    /// Largest JSON body without an image.
    pub max_json_bytes: usize,
    /// Largest image in pixels, read from its header before anything is decoded. 16 MP: a
    /// phone's photo fits, and no cheap upload (a PNG of zeros compresses 6300x6300 into
    /// 116 KB) costs the models and memory much more than a photo does.
    pub max_image_pixels: u64,
    /// Image formats accepted (by magic bytes): jpeg, png, webp, bmp, gif, tiff, pnm.
    pub image_formats: Vec<String>,
    /// A request (headers + body + handling) that takes longer answers 408.
    pub request_timeout_secs: u64,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        LimitsConfig {
            max_upload_bytes: 8 * 1024 * 1024,
            max_json_bytes: 64 * 1024,
            max_image_pixels: 16_000_000,
            image_formats: ["jpeg", "png", "webp", "bmp"].map(String::from).to_vec(),
            request_timeout_secs: 30,
        }
    }
}

impl LimitsConfig {
    /// Largest request body: an image sent as base64 inside JSON is 4/3 its size.
    pub fn max_body_bytes(&self) -> usize {
        self.max_upload_bytes / 3 * 4 + self.max_json_bytes + 4096
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ComputeConfig {
    /// Model calls that may run at once (0: cores ÷ intra_op_threads).
    pub model_permits: usize,
    /// Threads ONNX Runtime uses inside one call.
    pub intra_op_threads: usize,
    /// How long a request may wait for a model slot before it gets 503 busy.
    pub queue_wait_ms: u64,
    /// Blocking calls (password hashing, database) that may run at once.
    pub blocking_permits: usize,
}

impl Default for ComputeConfig {
    fn default() -> Self {
        ComputeConfig {
            model_permits: 0,
            intra_op_threads: 1,
            queue_wait_ms: 100,
            blocking_permits: 16,
        }
    }
}

impl ComputeConfig {
    pub fn effective_model_permits(&self) -> usize {
        if self.model_permits > 0 {
            return self.model_permits;
        }
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        (cores / self.intra_op_threads.max(1)).max(1)
    }
}

/// Access (JWT) and refresh tokens.
#[derive(Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TokenConfig {
    pub access_ttl_secs: u64,
    pub refresh_ttl_secs: u64,
    pub issuer: String,
    /// HS256 signing secret (at least 32 bytes). Prefer `jwt_secret_file`; with neither, the
    /// server creates `DATA/jwt.secret` (mode 0600).
    pub jwt_secret: Option<String>,
    pub jwt_secret_file: Option<PathBuf>,
}

impl std::fmt::Debug for TokenConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenConfig")
            .field("access_ttl_secs", &self.access_ttl_secs)
            .field("refresh_ttl_secs", &self.refresh_ttl_secs)
            .field("issuer", &self.issuer)
            .field(
                "jwt_secret",
                &self.jwt_secret.as_ref().map(|_| "<redacted>"),
            )
            .field("jwt_secret_file", &self.jwt_secret_file)
            .finish()
    }
}

impl Default for TokenConfig {
    fn default() -> Self {
        TokenConfig {
            access_ttl_secs: 15 * 60,
            refresh_ttl_secs: 30 * 24 * 3600,
            issuer: "faceprint".into(),
            jwt_secret: None,
            jwt_secret_file: None,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RateLimitConfig {
    /// Unauthenticated calls (signup, login, refresh) per client IP per minute.
    pub per_ip_per_minute: u32,
    /// Burst allowed above the steady rate.
    pub per_ip_burst: u32,
    /// Calls per minute of an API key created without `--rate`.
    pub api_key_default_per_minute: u32,
    /// The proxies in front of the server (addresses or CIDR blocks): from them, the client is
    /// the rightmost `X-Forwarded-For` address that is not one of them. Empty: the socket's
    /// address, and the header never counts.
    pub trusted_proxies: Vec<String>,
    /// Replaced by `trusted_proxies` (it trusted the leftmost address, which the client
    /// writes): `true` is refused at start with a message saying so.
    pub trust_forwarded_for: bool,
}

impl RateLimitConfig {
    /// `trusted_proxies`, parsed.
    pub fn trusted_proxies(&self) -> Result<Vec<crate::outbound::Cidr>, String> {
        self.trusted_proxies
            .iter()
            .map(|c| {
                c.parse()
                    .map_err(|e| format!("rate_limit.trusted_proxies: {e}"))
            })
            .collect()
    }
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        RateLimitConfig {
            per_ip_per_minute: 60,
            per_ip_burst: 20,
            api_key_default_per_minute: 600,
            trusted_proxies: Vec::new(),
            trust_forwarded_for: false,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpConfig {
    /// Origins allowed by CORS (empty: same origin only). `"*"` allows any, without credentials.
    pub cors_origins: Vec<String>,
    /// Send Strict-Transport-Security (set when a TLS proxy is in front).
    pub hsts: bool,
    /// Content-Security-Policy of every answer.
    pub content_security_policy: String,
    /// A connection must send a request's whole head within this many seconds of opening or
    /// of its last answer (keep-alive idle included); else it is closed.
    pub header_read_timeout_secs: u64,
    /// Open connections at once, in all; more are closed as they arrive.
    pub max_connections: usize,
    /// Open connections at once from one client address (a trusted proxy's count only
    /// towards `max_connections`).
    pub max_connections_per_ip: usize,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            cors_origins: Vec::new(),
            hsts: false,
            header_read_timeout_secs: 10,
            max_connections: 4096,
            max_connections_per_ip: 64,
            content_security_policy: "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; connect-src 'self'; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'".into(),
        }
    }
}

#[derive(Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MetricsConfig {
    pub enabled: bool,
    /// When set, `/metrics` needs `Authorization: Bearer <token>`.
    pub token: Option<String>,
}

impl std::fmt::Debug for MetricsConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MetricsConfig")
            .field("enabled", &self.enabled)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

impl Default for MetricsConfig {
    fn default() -> Self {
        MetricsConfig {
            enabled: true,
            token: None,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogConfig {
    /// `json` (one object per line) or `pretty`.
    pub format: String,
    /// A tracing filter, e.g. `info` or `info,faceprint=debug`.
    pub level: String,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            format: "json".into(),
            level: "info".into(),
        }
    }
}

/// What differs between the servers' defaults: the port and the data dir, so two servers
/// started side by side in one folder do not share a database.
#[derive(Debug, Clone, Copy)]
pub struct Defaults {
    pub port: u16,
    pub data_dir: &'static str,
}

impl<App> Config<App>
where
    App: Serialize + for<'de> Deserialize<'de> + Default,
{
    /// Defaults with the server's own port and data dir.
    pub fn with_defaults(defaults: Defaults) -> Self {
        Config {
            server: ServerConfig {
                listen: SocketAddr::from(([127, 0, 0, 1], defaults.port)),
                data_dir: PathBuf::from(defaults.data_dir),
                ..ServerConfig::default()
            },
            limits: LimitsConfig::default(),
            compute: ComputeConfig::default(),
            tokens: TokenConfig::default(),
            rate_limit: RateLimitConfig::default(),
            http: HttpConfig::default(),
            metrics: MetricsConfig::default(),
            log: LogConfig::default(),
            outbound: Default::default(),
            app: App::default(),
        }
    }

    /// Defaults (the server's port and data dir) ← `file` (when given) ← `FACEPRINT_*__*`
    /// variables.
    pub fn load(defaults: Defaults, file: Option<&Path>) -> Result<Self, String> {
        let mut fig = Figment::from(Serialized::defaults(Self::with_defaults(defaults)));
        if let Some(f) = file {
            if !f.is_file() {
                return Err(format!("config file {} does not exist", f.display()));
            }
            fig = fig.merge(Toml::file(f));
        }
        // Only nested names are settings: FACEPRINT_KEY, FACEPRINT_MODELS and FACEPRINT_LOG keep
        // their library meaning.
        fig = fig.merge(
            Env::prefixed("FACEPRINT_")
                .filter(|k| k.as_str().contains("__"))
                .split("__"),
        );
        let config: Self = fig.extract().map_err(|e| format!("configuration: {e}"))?;
        config.validate()?;
        Ok(config)
    }

    pub fn validate(&self) -> Result<(), String> {
        if self.rate_limit.trust_forwarded_for {
            return Err(
                "rate_limit.trust_forwarded_for is gone: it trusted the leftmost \
                        X-Forwarded-For address, which the client writes. List the proxies in \
                        front of the server in rate_limit.trusted_proxies (addresses or CIDR \
                        blocks) instead"
                    .into(),
            );
        }
        self.rate_limit.trusted_proxies()?;
        if self.http.header_read_timeout_secs == 0
            || self.http.max_connections == 0
            || self.http.max_connections_per_ip == 0
        {
            return Err("http.header_read_timeout_secs, http.max_connections and \
                        http.max_connections_per_ip must be positive"
                .into());
        }
        if self.limits.max_upload_bytes < 1024 {
            return Err("limits.max_upload_bytes must be at least 1024".into());
        }
        for f in &self.limits.image_formats {
            if crate::upload::ImageFormat::from_name(f).is_none() {
                return Err(format!(
                    "limits.image_formats: unknown format {f:?} (jpeg, png, webp, bmp, gif, tiff, pnm)"
                ));
            }
        }
        if self.tokens.access_ttl_secs == 0 || self.tokens.refresh_ttl_secs == 0 {
            return Err("tokens: TTLs must be positive".into());
        }
        if self.compute.intra_op_threads == 0 || self.compute.blocking_permits == 0 {
            return Err("compute: intra_op_threads and blocking_permits must be positive".into());
        }
        if self.rate_limit.per_ip_per_minute == 0 || self.rate_limit.api_key_default_per_minute == 0
        {
            return Err("rate_limit: rates must be positive".into());
        }
        if let Some(s) = &self.tokens.jwt_secret {
            if s.len() < 32 {
                return Err("tokens.jwt_secret must be at least 32 bytes".into());
            }
        }
        if self.log.format != "json" && self.log.format != "pretty" {
            return Err("log.format must be json or pretty".into());
        }
        Ok(())
    }

    /// A configuration for tests: a temp data dir, quick timeouts, generous limits.
    pub fn for_testing(data_dir: &Path) -> Self {
        let mut c = Self::with_defaults(Defaults {
            port: 0,
            data_dir: "faceprint-data",
        });
        c.server.data_dir = data_dir.to_path_buf();
        c.server.shutdown_grace_secs = 2;
        c.log.level = "warn".into();
        c
    }
}
