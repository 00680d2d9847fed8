//! Promise-returning work: each task runs a closure on libuv's worker pool and converts the
//! result (or the error, with its code) back on the JS thread.

use crate::errors::core_error;
use crate::reports::{
    ActiveFrameResult, AuthenticationProgress, EnrollReport, EnrollmentProgress, QualityReport,
};
use crate::results::{
    BatchItem, Candidate, Collection, DlibFace, Face, FaceEmbedding, Identification, Liveness,
    Subject, SubjectExport, Verification,
};
use napi::{Env, Task};
use napi_derive::napi;

type Work<T> = Box<dyn FnOnce() -> faceprint::Result<T> + Send>;

/// Runs the work once; a panic becomes an `internal` error instead of killing the worker.
fn run<T>(work: Option<Work<T>>) -> napi::Result<faceprint::Result<T>> {
    let work = work.ok_or_else(|| napi::Error::from_reason("task ran twice"))?;
    Ok(
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(work)).unwrap_or_else(|_| {
            Err(faceprint::Error::Internal(
                "panic in Faceprint (please report it)".into(),
            ))
        }),
    )
}

macro_rules! task {
    ($(#[$doc:meta])* $name:ident => $out:ty) => {
        $(#[$doc])*
        pub struct $name(Option<Work<$out>>);

        impl $name {
            pub fn new(work: impl FnOnce() -> faceprint::Result<$out> + Send + 'static) -> Self {
                $name(Some(Box::new(work)))
            }
        }

        #[napi]
        impl Task for $name {
            type Output = faceprint::Result<$out>;
            type JsValue = $out;

            fn compute(&mut self) -> napi::Result<Self::Output> {
                run(self.0.take())
            }

            fn resolve(&mut self, env: Env, output: Self::Output) -> napi::Result<Self::JsValue> {
                output.map_err(|e| core_error(&env, &e))
            }
        }
    };
}

task!(DetectTask => Vec<Face>);
task!(ExtractTask => Vec<FaceEmbedding>);
task!(ExtractLargestTask => FaceEmbedding);
task!(VerifyTask => Verification);
task!(IdentifyTask => Vec<Candidate>);
task!(IdentificationTask => Identification);
task!(IdentifyAllTask => Vec<Identification>);
task!(VerifyAllTask => Vec<Verification>);
task!(LivenessTask => Liveness);
task!(SubjectsTask => Vec<Subject>);
task!(CollectionsTask => Vec<Collection>);
task!(ExportTask => SubjectExport);
task!(BatchTask => Vec<BatchItem>);
task!(StringTask => String);
task!(EnrollTask => EnrollReport);
task!(QualityTask => QualityReport);
task!(EnrollmentProgressTask => EnrollmentProgress);
task!(AuthenticationProgressTask => AuthenticationProgress);
task!(ActiveFrameTask => ActiveFrameResult);
task!(UnitTask => ());
task!(DlibFacesTask => Vec<DlibFace>);
task!(PointsTask => Vec<Vec<f64>>);
task!(
    /// A result the core gives as JSON (document readings).
    JsonTask => Json
);

/// A JSON value handed to JS as a plain object.
pub struct Json(pub serde_json::Value);

impl napi::bindgen_prelude::TypeName for Json {
    fn type_name() -> &'static str {
        "Object"
    }

    fn value_type() -> napi::ValueType {
        napi::ValueType::Object
    }
}

impl napi::bindgen_prelude::ToNapiValue for Json {
    unsafe fn to_napi_value(
        env: napi::sys::napi_env,
        value: Self,
    ) -> napi::Result<napi::sys::napi_value> {
        // SAFETY: called by napi with a live env on the JS thread, as for any return value.
        unsafe { serde_json::Value::to_napi_value(env, value.0) }
    }
}
