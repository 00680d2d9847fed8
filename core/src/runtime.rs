//! The one ONNX Runtime environment of the process, and pools of inference sessions.
//!
//! ONNX Runtime is loaded dynamically from an absolute path (never downloaded). `Session::run`
//! needs `&mut`, so each model keeps a small pool of sessions, each with its own scratch buffer:
//! concurrent callers run in parallel up to the pool size instead of queueing on one lock.

use crate::error::{Error, Result};
use ort::session::{builder::GraphOptimizationLevel, Session};
#[cfg(unix)]
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::{Condvar, Mutex, OnceLock};

/// The library file name the project installs (from the PyPI wheel onnxruntime==1.31.1).
pub const ORT_LIBRARY_NAME: &str = "libonnxruntime.so.1.31.1";

static ENVIRONMENT: OnceLock<
    std::result::Result<(ort::environment::Environment, PathBuf), String>,
> = OnceLock::new();

/// Where to look for ONNX Runtime when the caller names no path, in order.
pub fn onnxruntime_candidates() -> Vec<PathBuf> {
    let mut out = Vec::new();
    for var in ["FACEPRINT_ORT_LIB", "ORT_DYLIB_PATH"] {
        if let Some(v) = std::env::var_os(var).filter(|v| !v.is_empty()) {
            out.push(PathBuf::from(v));
        }
    }
    // Beside the shared library this code is linked into (libfaceprint.so, the Python
    // extension, the Node addon): where packages and `ffi/install.sh` put ONNX Runtime.
    let mut dirs: Vec<PathBuf> = own_library_dir().into_iter().collect();
    if let Some(dir) = std::env::current_exe()
        .ok()
        .and_then(|e| e.parent().map(Path::to_path_buf))
    {
        dirs.push(dir.clone());
        dirs.push(dir.join("../lib"));
    }
    for dir in dirs {
        let path = dir.join(ORT_LIBRARY_NAME);
        if !out.contains(&path) {
            out.push(path);
        }
    }
    out
}

/// The directory of the binary or shared library holding this function.
#[cfg(unix)]
pub(crate) fn own_library_dir() -> Option<PathBuf> {
    let mut info: libc::Dl_info = unsafe { std::mem::zeroed() };
    // SAFETY: dladdr only reads the loader's tables and fills in `info`.
    let found = unsafe { libc::dladdr(own_library_dir as *const libc::c_void, &mut info) };
    if found == 0 || info.dli_fname.is_null() {
        return None;
    }
    // SAFETY: dli_fname is a NUL-terminated path owned by the loader.
    let file = unsafe { std::ffi::CStr::from_ptr(info.dli_fname) };
    let path = Path::new(std::ffi::OsStr::from_bytes(file.to_bytes()));
    path.canonicalize().ok()?.parent().map(Path::to_path_buf)
}

#[cfg(not(unix))]
pub(crate) fn own_library_dir() -> Option<PathBuf> {
    None
}

/// Loads ONNX Runtime once per process and returns the shared environment. The first
/// successful path wins; later calls with another path get the already-loaded runtime.
pub(crate) fn environment(explicit: Option<&Path>) -> Result<ort::environment::Environment> {
    let result = ENVIRONMENT.get_or_init(|| {
        // Microsoft builds enable telemetry by default; the library must never phone home.
        std::env::set_var("ORT_DISABLE_TELEMETRY", "1");
        let candidates = match explicit {
            Some(p) => vec![p.to_path_buf()],
            None => onnxruntime_candidates(),
        };
        let Some(path) = candidates.iter().find(|p| p.is_file()) else {
            return Err(format!(
                "{ORT_LIBRARY_NAME} not found (looked in: {}); set FACEPRINT_ORT_LIB to the \
                 library's absolute path (in a source checkout, ./setup.sh installs it)",
                candidates
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        };
        let path = path.canonicalize().unwrap_or_else(|_| path.clone());
        let builder =
            ort::init_from(&path).map_err(|e| format!("loading {}: {e}", path.display()))?;
        let env = builder
            .with_name("faceprint")
            .with_telemetry(false)
            .build()
            .map_err(|e| format!("creating the environment: {e}"))?;
        Ok((env, path))
    });
    match result {
        Ok((env, _)) => Ok(env.clone()),
        Err(msg) => Err(Error::RuntimeUnavailable(msg.clone())),
    }
}

/// The path ONNX Runtime was loaded from, once it has been.
pub fn loaded_onnxruntime() -> Option<PathBuf> {
    ENVIRONMENT
        .get()
        .and_then(|r| r.as_ref().ok())
        .map(|(_, p)| p.clone())
}

/// The most threads or sessions a setting may ask for: far above any core count this runs on,
/// far below what would exhaust the process.
pub const MAX_THREADS: usize = 256;

/// Checks a thread or session count: 1..=[`MAX_THREADS`]. `what` names the setting.
pub fn check_thread_count(n: usize, what: &str) -> Result<usize> {
    if (1..=MAX_THREADS).contains(&n) {
        Ok(n)
    } else {
        Err(Error::InvalidArgument(format!(
            "{what} is {n}: it must be 1..={MAX_THREADS}"
        )))
    }
}

/// Threading of inference sessions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Threading {
    /// ONNX Runtime intra-op threads per session (default 1: callers parallelise across images).
    pub intra_op_threads: usize,
    /// Most sessions per model, i.e. concurrent inferences (default: available cores).
    pub max_sessions: usize,
}

impl Default for Threading {
    fn default() -> Self {
        Threading {
            intra_op_threads: 1,
            max_sessions: std::thread::available_parallelism()
                .map_or(2, |n| n.get().min(MAX_THREADS)),
        }
    }
}

/// A session plus the scratch buffer its input tensor is built in (reused across calls).
pub(crate) struct Worker {
    pub session: Session,
    pub scratch: Vec<f32>,
}

struct PoolState {
    idle: Vec<Worker>,
    created: usize,
}

/// A session on loan. If the borrower panics, the session (whose state is then unknown) is
/// dropped and its slot freed, so the pool never shrinks into a deadlock.
struct Lease<'p> {
    pool: &'p SessionPool,
    worker: Option<Worker>,
}

impl Lease<'_> {
    fn give_back(&mut self) {
        if let Some(w) = self.worker.take() {
            self.pool.lock().idle.push(w);
            self.pool.available.notify_one();
        }
    }
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        if self.worker.take().is_some() {
            self.pool.lock().created -= 1;
            self.pool.available.notify_one();
        }
    }
}

/// A pool of sessions over one model file.
pub(crate) struct SessionPool {
    env: ort::environment::Environment,
    model: Vec<u8>,
    label: String,
    threading: Threading,
    state: Mutex<PoolState>,
    available: Condvar,
}

impl SessionPool {
    /// Creates the pool and its first session, so a broken model fails at build time.
    pub fn new(
        env: ort::environment::Environment,
        model: Vec<u8>,
        label: &str,
        threading: Threading,
    ) -> Result<SessionPool> {
        let pool = SessionPool {
            env,
            model,
            label: label.to_string(),
            threading,
            state: Mutex::new(PoolState {
                idle: Vec::new(),
                created: 0,
            }),
            available: Condvar::new(),
        };
        let first = pool.create()?;
        {
            let mut st = pool.lock();
            st.idle.push(first);
            st.created = 1;
        }
        Ok(pool)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, PoolState> {
        // A panic while holding this lock cannot leave the Vec inconsistent.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn create(&self) -> Result<Worker> {
        let ctx = |e: ort::Error| Error::ModelManifest(format!("{}: {e}", self.label));
        let session = Session::builder(&self.env)
            .map_err(ctx)?
            .with_optimization_level(GraphOptimizationLevel::Level3)
            .map_err(|e| ctx(e.into()))?
            .with_intra_threads(self.threading.intra_op_threads.max(1))
            .map_err(|e| ctx(e.into()))?
            .commit_from_memory(&self.model)
            .map_err(ctx)?;
        Ok(Worker {
            session,
            scratch: Vec::new(),
        })
    }

    /// Runs `f` with exclusive use of one session, creating one if all are busy and the pool
    /// may grow, waiting otherwise.
    pub fn with<R>(&self, f: impl FnOnce(&mut Worker) -> Result<R>) -> Result<R> {
        let worker = {
            let mut st = self.lock();
            loop {
                if let Some(w) = st.idle.pop() {
                    break w;
                }
                if st.created < self.threading.max_sessions.max(1) {
                    st.created += 1;
                    drop(st);
                    match self.create() {
                        Ok(w) => break w,
                        Err(e) => {
                            self.lock().created -= 1;
                            self.available.notify_one();
                            return Err(e);
                        }
                    }
                }
                st = self.available.wait(st).unwrap_or_else(|p| p.into_inner());
            }
        };
        let mut lease = Lease {
            pool: self,
            worker: Some(worker),
        };
        let out = f(lease.worker.as_mut().expect("leased worker"));
        lease.give_back();
        out
    }

    /// Names of the model's inputs and outputs, for manifest checks.
    pub fn io_names(&self) -> Result<(Vec<String>, Vec<String>)> {
        self.with(|w| {
            Ok((
                w.session
                    .inputs()
                    .iter()
                    .map(|i| i.name().to_string())
                    .collect(),
                w.session
                    .outputs()
                    .iter()
                    .map(|o| o.name().to_string())
                    .collect(),
            ))
        })
    }
}

/// A loaded ONNX Runtime plus the threading settings sessions are created with. Cheap to clone.
#[derive(Clone)]
pub struct Runtime {
    env: ort::environment::Environment,
    threading: Threading,
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime")
            .field("library", &loaded_onnxruntime())
            .field("threading", &self.threading)
            .finish()
    }
}

impl Runtime {
    /// Loads ONNX Runtime (from `library`, or the default search) for this process.
    pub fn load(library: Option<&Path>, threading: Threading) -> Result<Runtime> {
        check_thread_count(threading.intra_op_threads, "intra_op_threads")?;
        check_thread_count(threading.max_sessions, "max_sessions")?;
        Ok(Runtime {
            env: environment(library)?,
            threading,
        })
    }

    /// The thread settings the runtime was made with.
    pub fn threading(&self) -> Threading {
        self.threading
    }

    /// A session pool over one model of a pack (file checked against the manifest).
    pub(crate) fn pool(&self, pack: &crate::models::ModelPack, id: &str) -> Result<SessionPool> {
        let bytes = pack.load(id)?;
        SessionPool::new(self.env.clone(), bytes, id, self.threading)
    }
}

/// Channel order, layout and normalisation of a model input, from its manifest spec.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TensorFormat {
    pub order: crate::image::resize::ChannelOrder,
    pub layout: crate::image::resize::Layout,
    pub norm: crate::image::resize::Normalize,
}

impl TensorFormat {
    pub fn from_spec(spec: &crate::models::InputSpec) -> TensorFormat {
        use crate::image::resize::{ChannelOrder, Layout, Normalize};
        // Manifest::parse has validated both strings.
        TensorFormat {
            order: if spec.channels == "BGR" {
                ChannelOrder::Bgr
            } else {
                ChannelOrder::Rgb
            },
            layout: if spec.layout == "NHWC" {
                Layout::Nhwc
            } else {
                Layout::Nchw
            },
            norm: Normalize {
                mean: spec.mean,
                scale: spec.scale,
            },
        }
    }

    pub fn target(
        &self,
        content_w: usize,
        content_h: usize,
        tensor_w: usize,
        tensor_h: usize,
    ) -> crate::image::resize::TensorTarget {
        crate::image::resize::TensorTarget {
            content_w,
            content_h,
            tensor_w,
            tensor_h,
            order: self.order,
            layout: self.layout,
            norm: self.norm,
        }
    }
}

/// A model that takes one face crop per call (landmark, liveness and mask models): the crop is
/// warped straight into the input tensor, sized and normalised from the manifest entry.
pub(crate) struct CropModel {
    pub id: String,
    input: String,
    pub format: crate::align::CropFormat,
    pool: SessionPool,
}

impl CropModel {
    /// Loads `id` and checks the graph has the manifest's input and the `outputs` we read.
    pub fn load(
        pack: &crate::models::ModelPack,
        id: &str,
        runtime: &Runtime,
        outputs: &[&str],
    ) -> Result<CropModel> {
        let entry = pack.entry(id)?;
        let input = entry.tensor_input()?;
        let (w, h) = input
            .size
            .split_once('x')
            .and_then(|(w, h)| Some((w.trim().parse::<usize>().ok()?, h.trim().parse().ok()?)))
            .ok_or_else(|| {
                Error::ModelManifest(format!(
                    "{id}: input size {:?} is not a fixed WIDTHxHEIGHT",
                    input.size
                ))
            })?;
        let pool = runtime.pool(pack, id)?;
        let (in_names, out_names) = pool.io_names()?;
        if !in_names.contains(&input.name)
            || outputs.iter().any(|o| !out_names.iter().any(|n| n == o))
        {
            return Err(Error::ModelManifest(format!(
                "{id}: the graph has inputs {in_names:?} and outputs {out_names:?}; expected input \
                 {:?} and outputs {outputs:?}",
                entry.tensor_input()?.name
            )));
        }
        let fmt = TensorFormat::from_spec(entry.tensor_input()?);
        Ok(CropModel {
            id: id.to_string(),
            input: entry.tensor_input()?.name.clone(),
            format: crate::align::CropFormat {
                width: w,
                height: h,
                order: fmt.order,
                layout: fmt.layout,
                norm: fmt.norm,
                pixels: crate::align::CropPixels::Bilinear,
            },
            pool,
        })
    }

    /// Runs the model on each crop (`crop → image` maps, optionally mirrored) and returns the
    /// named outputs of every crop, flattened, in the order asked.
    pub fn run(
        &self,
        image: &crate::image::Image,
        crops: &[(crate::align::Affine, bool)],
        outputs: &[&str],
    ) -> Result<Vec<Vec<Vec<f32>>>> {
        let f = &self.format;
        let len = 3 * f.width * f.height;
        let shape = match f.layout {
            crate::image::resize::Layout::Nchw => [1, 3, f.height, f.width],
            crate::image::resize::Layout::Nhwc => [1, f.height, f.width, 3],
        };
        self.pool.with(|worker| {
            let mut all = Vec::with_capacity(crops.len());
            for (inv, mirror) in crops {
                worker.scratch.clear();
                worker.scratch.resize(len, 0.0);
                crate::align::warp_affine_into(image, inv, f, *mirror, &mut worker.scratch);
                let input = ort::value::TensorRef::from_array_view((shape, &worker.scratch[..]))?;
                let out = worker
                    .session
                    .run(ort::inputs![self.input.as_str() => input])?;
                let mut values = Vec::with_capacity(outputs.len());
                for name in outputs {
                    let (_, data) = out[*name].try_extract_tensor::<f32>()?;
                    values.push(data.to_vec());
                }
                all.push(values);
            }
            Ok(all)
        })
    }
}

/// A model loaded on first use: optional models (landmarks, liveness, mask) cost nothing until
/// asked for, and a failed load is retried on the next call instead of being remembered.
pub(crate) struct LazyModel<T> {
    cell: Mutex<Option<std::sync::Arc<T>>>,
}

impl<T> Default for LazyModel<T> {
    fn default() -> Self {
        LazyModel {
            cell: Mutex::new(None),
        }
    }
}

impl<T> LazyModel<T> {
    pub fn get(&self, load: impl FnOnce() -> Result<T>) -> Result<std::sync::Arc<T>> {
        let mut cell = self.cell.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(m) = cell.as_ref() {
            return Ok(m.clone());
        }
        let m = std::sync::Arc::new(load()?);
        *cell = Some(m.clone());
        Ok(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_during_inference_frees_the_session_slot() {
        let Ok(pack) = crate::models::ModelPack::discover() else {
            eprintln!("SKIPPED: no model pack (run ./setup.sh)");
            return;
        };
        let threading = Threading {
            intra_op_threads: 1,
            max_sessions: 1,
        };
        let runtime = Runtime::load(None, threading).expect("ONNX Runtime (run ./setup.sh)");
        let pool = runtime.pool(&pack, "yunet-2023mar").unwrap();
        let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            pool.with(|_| -> Result<()> { panic!("simulated failure inside inference") })
        }));
        assert!(panicked.is_err());
        // With one session allowed, this would wait forever if the slot had leaked.
        let (inputs, _) = pool.io_names().unwrap();
        assert_eq!(inputs, vec!["input".to_string()]);
    }

    #[test]
    fn thread_settings_are_refused_by_the_setter_that_takes_them() {
        for n in [0, 257, 100_000] {
            let e = crate::Engine::builder().intra_op_threads(n).err().unwrap();
            assert_eq!(e.code(), crate::ErrorCode::InvalidArgument);
            assert!(e.to_string().contains("1..=256"), "{e}");
            assert!(crate::Engine::builder().max_sessions(n).is_err());
        }
        assert!(crate::Engine::builder().intra_op_threads(256).is_ok());
    }
}
