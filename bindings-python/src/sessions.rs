//! Frame-by-frame sessions. Each `feed` answers a dict (the JSON the servers send). A session
//! is used by one thread at a time (a second thread gets a RuntimeError "already borrowed").

use crate::engine::{dict_json, Engine};
use crate::errors::IntoPy;
use crate::image::load;
use crate::results::to_dict;
use faceprint::session::{AuthenticationConfig, EnrollmentConfig};
use pyo3::prelude::*;

/// Challenge-response liveness: show `challenges` in order, feed frames with the `nonce`.
#[pyclass(module = "faceprint")]
pub struct LivenessSession {
    session: faceprint::ActiveLivenessSession,
}

#[pymethods]
impl LivenessSession {
    /// `config` over the defaults, e.g. `{"count": 2}`; `now_ms` is the clock frames use.
    #[new]
    #[pyo3(signature = (config=None, *, now_ms=0))]
    fn new(py: Python<'_>, config: Option<&Bound<'_, PyAny>>, now_ms: u64) -> PyResult<Self> {
        let config = faceprint::ActiveConfig::from_json(&dict_json(py, config)?).py_err(py)?;
        let session = faceprint::ActiveLivenessSession::start(config, now_ms).py_err(py)?;
        Ok(LivenessSession { session })
    }

    #[getter]
    fn nonce(&self) -> &str {
        self.session.nonce()
    }

    /// Challenge names, in the order they will be asked.
    #[getter]
    fn challenges(&self) -> Vec<&'static str> {
        self.session.challenges().iter().map(|c| c.name()).collect()
    }

    #[pyo3(signature = (engine, nonce, timestamp_ms, image, *, bgr=false))]
    fn feed<'py>(
        &mut self,
        py: Python<'py>,
        engine: &Engine,
        nonce: &str,
        timestamp_ms: u64,
        image: &Bound<'py, PyAny>,
        bgr: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let img = load(py, engine.core(), image, bgr)?;
        let session = &mut self.session;
        let result = py
            .detach(|| session.feed(engine.core(), nonce, timestamp_ms, &img))
            .py_err(py)?;
        to_dict(py, &result)
    }
}

/// A session fed frame by frame whose settings come as a dict over the defaults.
macro_rules! frame_session {
    ($(#[$doc:meta])* $name:ident: $session:ty, $config:ty) => {
        $(#[$doc])*
        #[pyclass(module = "faceprint")]
        pub struct $name {
            session: $session,
        }

        #[pymethods]
        impl $name {
            #[new]
            #[pyo3(signature = (config, *, now_ms=0))]
            fn new(py: Python<'_>, config: &Bound<'_, PyAny>, now_ms: u64) -> PyResult<Self> {
                let config = <$config>::from_json(&dict_json(py, Some(config))?).py_err(py)?;
                let session = <$session>::start(config, now_ms).py_err(py)?;
                Ok($name { session })
            }

            #[pyo3(signature = (engine, timestamp_ms, image, *, bgr=false))]
            fn feed<'py>(
                &mut self,
                py: Python<'py>,
                engine: &Engine,
                timestamp_ms: u64,
                image: &Bound<'py, PyAny>,
                bgr: bool,
            ) -> PyResult<Bound<'py, PyAny>> {
                let img = load(py, engine.core(), image, bgr)?;
                let session = &mut self.session;
                let progress = py
                    .detach(|| session.feed(engine.core(), timestamp_ms, &img))
                    .py_err(py)?;
                to_dict(py, &progress)
            }
        }
    };
}

frame_session!(
    /// Collects enrollment samples frame by frame, then enrolls. `config` needs `collection`
    /// and `subject`.
    EnrollmentSession: faceprint::EnrollmentSession, EnrollmentConfig
);

frame_session!(
    /// Matches frame by frame until a login succeeds or gives up. `config` needs
    /// `collection`; `mode` defaults to identify.
    AuthenticationSession: faceprint::AuthenticationSession, AuthenticationConfig
);
