//! Frame-by-frame sessions. `feed` resolves to the frame's JSON answer (the fields the servers
//! send). Frames of one session are processed in the order they are fed: each waits for the
//! previous one (a lock), while different sessions run in parallel.

use crate::engine::Engine;
use crate::errors::OrThrow;
use crate::image::{RawImage, Source};
use crate::tasks::{ActiveFrameTask, AuthenticationProgressTask, EnrollmentProgressTask};
use faceprint::session::{AuthenticationConfig, EnrollmentConfig};
use napi::bindgen_prelude::AsyncTask;
use napi::bindgen_prelude::{Either3, Uint8Array};
use napi::Env;
use napi_derive::napi;
use std::sync::{Arc, Mutex};

/// A session's start time (`nowMs`, default 0): a whole number of milliseconds.
fn clock(env: &Env, now_ms: Option<f64>) -> napi::Result<u64> {
    crate::numbers::whole(now_ms.unwrap_or(0.0), "nowMs", crate::numbers::MAX_SAFE).or_throw(env)
}

fn locked<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic while feeding leaves the session as it was before the frame.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn config_text(config: Option<serde_json::Value>) -> String {
    config.map(|c| c.to_string()).unwrap_or_default()
}

/// Challenge-response liveness: show `challenges` in order, feed frames with the `nonce`.
#[napi]
pub struct LivenessSession {
    session: Arc<Mutex<faceprint::ActiveLivenessSession>>,
    nonce: String,
    challenges: Vec<String>,
}

#[napi]
impl LivenessSession {
    /// `config` over the defaults (e.g. `{ count: 2 }`: the JSON configuration's snake_case
    /// keys); `nowMs` is the clock frames use.
    #[napi(
        constructor,
        ts_args_type = "config?: Record<string, unknown> | undefined | null, nowMs?: number | undefined | null"
    )]
    pub fn new(
        env: Env,
        config: Option<serde_json::Value>,
        now_ms: Option<f64>,
    ) -> napi::Result<Self> {
        let config = faceprint::ActiveConfig::from_json(&config_text(config)).or_throw(&env)?;
        let session =
            faceprint::ActiveLivenessSession::start(config, clock(&env, now_ms)?).or_throw(&env)?;
        let challenges = session
            .challenges()
            .iter()
            .map(|c| c.name().to_string())
            .collect();
        Ok(LivenessSession {
            nonce: session.nonce().to_string(),
            challenges,
            session: Arc::new(Mutex::new(session)),
        })
    }

    #[napi(getter)]
    pub fn nonce(&self) -> String {
        self.nonce.clone()
    }

    #[napi(getter)]
    pub fn challenges(&self) -> Vec<String> {
        self.challenges.clone()
    }

    #[napi(ts_return_type = "Promise<ActiveFrameResult>")]
    pub fn feed(
        &self,
        engine: &Engine,
        nonce: String,
        timestamp_ms: f64,
        image: Either3<Uint8Array, String, RawImage>,
    ) -> AsyncTask<ActiveFrameTask> {
        let (session, engine, source) = (
            self.session.clone(),
            engine.core().clone(),
            Source::from(image),
        );
        AsyncTask::new(ActiveFrameTask::new(move || {
            let image = source.load(&engine)?;
            Ok(locked(&session)
                .feed(
                    &engine,
                    &nonce,
                    crate::numbers::whole(timestamp_ms, "timestampMs", crate::numbers::MAX_SAFE)?,
                    &image,
                )?
                .into())
        }))
    }
}

/// A session fed frame by frame whose settings come as an object over the defaults.
macro_rules! frame_session {
    ($doc:literal, $name:ident: $session:ty, $config:ty, $task:ident, $ts:tt) => {
        #[doc = $doc]
        #[napi]
        pub struct $name {
            session: Arc<Mutex<$session>>,
        }

        #[napi]
        impl $name {
            /// `config` over the defaults, with the JSON configuration's snake_case keys.
            #[napi(
                constructor,
                ts_args_type = "config: Record<string, unknown>, nowMs?: number | undefined | null"
            )]
            pub fn new(
                env: Env,
                config: serde_json::Value,
                now_ms: Option<f64>,
            ) -> napi::Result<Self> {
                let config = <$config>::from_json(&config.to_string()).or_throw(&env)?;
                let session = <$session>::start(config, clock(&env, now_ms)?).or_throw(&env)?;
                Ok($name {
                    session: Arc::new(Mutex::new(session)),
                })
            }

            #[napi(ts_return_type = $ts)]
            pub fn feed(
                &self,
                engine: &Engine,
                timestamp_ms: f64,
                image: Either3<Uint8Array, String, RawImage>,
            ) -> AsyncTask<$task> {
                let (session, engine, source) = (
                    self.session.clone(),
                    engine.core().clone(),
                    Source::from(image),
                );
                AsyncTask::new($task::new(move || {
                    let image = source.load(&engine)?;
                    Ok(locked(&session)
                        .feed(
                            &engine,
                            crate::numbers::whole(
                                timestamp_ms,
                                "timestampMs",
                                crate::numbers::MAX_SAFE,
                            )?,
                            &image,
                        )?
                        .into())
                }))
            }
        }
    };
}

frame_session!(
    "Collects enrollment samples frame by frame, then enrolls. `config` needs `collection` and `subject`.",
    EnrollmentSession: faceprint::EnrollmentSession, EnrollmentConfig,
    EnrollmentProgressTask, "Promise<EnrollmentProgress>"
);

frame_session!(
    "Matches frame by frame until a login succeeds or gives up. `config` needs `collection`; `mode` defaults to identify.",
    AuthenticationSession: faceprint::AuthenticationSession, AuthenticationConfig,
    AuthenticationProgressTask, "Promise<AuthenticationProgress>"
);
