//! The C ABI of Faceprint (`include/faceprint.h`, generated from this crate by cbindgen).
//!
//! No logic lives here: each function checks its arguments, calls the core and converts the
//! result. Conventions, for every function:
//! - pointers are NULL or valid for the access the header describes; a NULL where a value is
//!   required is `FACEPRINT_STATUS_NULL_ARGUMENT`, never a crash;
//! - the body runs inside a panic boundary (`status::guard`): no unwind reaches C;
//! - out-parameters are written only when the call returns `FACEPRINT_STATUS_OK`;
//! - every handle has a `_free` that accepts NULL.
// The safety contract is the one above, stated once for the whole ABI.
#![allow(clippy::missing_safety_doc)]
#![allow(non_camel_case_types)]

pub mod analysis;
pub mod dlib;
pub mod documents;
pub mod engine;
pub mod faces;
mod handle;
pub mod sessions;
pub mod status;
pub mod store;

pub use handle::faceprint_string_free;

const _: () = {
    const fn shareable<T: Send + Sync>() {}
    shareable::<engine::faceprint_engine>();
    shareable::<engine::faceprint_image>();
    shareable::<store::faceprint_store>();
    shareable::<faces::faceprint_embedding>();
};

#[cfg(test)]
mod tests {
    use super::*;
    use status::faceprint_status as S;
    use std::ptr::{null, null_mut};

    #[test]
    fn null_arguments_are_a_status_and_leave_outputs_alone() {
        unsafe {
            let sentinel = 0x1 as *mut engine::faceprint_image;
            let mut image = sentinel;
            let mut err = null_mut();
            let st = engine::faceprint_image_decode(null(), b"x".as_ptr(), 1, &mut image, &mut err);
            assert_eq!(st, S::NullArgument);
            assert_eq!(image, sentinel, "out-parameter written on failure");
            assert_eq!(status::faceprint_error_status(err), S::NullArgument);
            status::faceprint_error_free(err);

            let builder = engine::faceprint_engine_builder_new();
            assert_eq!(
                engine::faceprint_engine_builder_models_dir(builder, null(), null_mut()),
                S::NullArgument
            );
            let bad_utf8 = [0xffu8, 0];
            assert_eq!(
                engine::faceprint_engine_builder_models_dir(
                    builder,
                    bad_utf8.as_ptr().cast(),
                    null_mut()
                ),
                S::InvalidUtf8
            );
            assert_eq!(
                engine::faceprint_engine_builder_config_json(
                    builder,
                    c"{\"nope\":1}".as_ptr(),
                    null_mut()
                ),
                S::InvalidArgument
            );
            assert_eq!(
                engine::faceprint_engine_builder_build(builder, null_mut(), null_mut()),
                S::NullArgument
            );
            engine::faceprint_engine_builder_free(builder);

            // The face_recognition calls: NULL handles, boxes promised but absent.
            let mut dl = null_mut();
            assert_eq!(
                dlib::faceprint_dlib_faces(null(), null(), null(), 0, &mut dl, null_mut()),
                S::NullArgument
            );
            let mut list = null_mut();
            assert_eq!(
                dlib::faceprint_embed(null(), null(), null(), 1, &mut list, null_mut()),
                S::NullArgument
            );
            assert!(dl.is_null() && list.is_null());
            assert_eq!(dlib::faceprint_dlib_face_list_len(null()), 0);
            dlib::faceprint_dlib_face_list_free(null_mut());

            // Documents: NULL handles, options that are not the options.
            let mut json = null_mut();
            assert_eq!(
                documents::faceprint_read_document(null(), null(), null(), &mut json, null_mut()),
                S::NullArgument
            );
            assert_eq!(
                documents::faceprint_read_document(
                    null(),
                    null(),
                    c"{\"visual\": 1}".as_ptr(),
                    &mut json,
                    null_mut()
                ),
                S::InvalidArgument
            );
            assert!(json.is_null());
            assert_eq!(
                documents::faceprint_match_document(null(), null(), null(), null_mut(), null_mut()),
                S::NullArgument
            );

            // Every _free accepts NULL; getters answer NULL with a neutral value.
            engine::faceprint_engine_free(null_mut());
            engine::faceprint_image_free(null_mut());
            faces::faceprint_face_list_free(null_mut());
            faces::faceprint_embedding_free(null_mut());
            faces::faceprint_embedding_list_free(null_mut());
            store::faceprint_store_free(null_mut());
            store::faceprint_identification_free(null_mut());
            sessions::faceprint_liveness_session_free(null_mut());
            sessions::faceprint_enrollment_session_free(null_mut());
            sessions::faceprint_authentication_session_free(null_mut());
            handle::faceprint_string_free(null_mut());
            status::faceprint_error_free(null_mut());
            assert_eq!(engine::faceprint_image_width(null()), 0);
            assert_eq!(faces::faceprint_embedding_dim(null()), 0);
            assert!(faces::faceprint_embedding_list_get(null(), 0).is_null());
        }
    }

    #[test]
    fn bad_session_configs_are_invalid_arguments() {
        unsafe {
            let mut s = null_mut();
            let st = sessions::faceprint_enrollment_session_start(
                c"{\"collection\":\"c\"}".as_ptr(),
                0,
                &mut s,
                null_mut(),
            );
            assert_eq!(st, S::InvalidArgument, "subject is required");
            assert!(s.is_null());
            let st = sessions::faceprint_authentication_session_start(
                c"not json".as_ptr(),
                0,
                &mut null_mut(),
                null_mut(),
            );
            assert_eq!(st, S::InvalidArgument);
            let mut live = null_mut();
            assert_eq!(
                sessions::faceprint_liveness_session_start(null(), 5, &mut live, null_mut()),
                S::Ok
            );
            let nonce = std::ffi::CStr::from_ptr(sessions::faceprint_liveness_session_nonce(live));
            assert_eq!(nonce.to_bytes().len(), 32);
            sessions::faceprint_liveness_session_free(live);
        }
    }

    #[test]
    fn sizes_are_checked_against_their_limits_before_anything_is_read() {
        unsafe {
            let builder = engine::faceprint_engine_builder_new();
            for bad in [0usize, 257, 100_000] {
                assert_eq!(
                    engine::faceprint_engine_builder_intra_op_threads(builder, bad, null_mut()),
                    S::InvalidArgument,
                    "{bad} threads refused by the setter"
                );
            }
            let mut e = null_mut();
            let st = engine::faceprint_engine_builder_build(builder, &mut e, null_mut());
            engine::faceprint_engine_builder_free(builder);
            assert_eq!(
                st,
                S::Ok,
                "engine (run ./setup.sh for models and ONNX Runtime)"
            );
            // Three floats behind every claimed dimension: only the matching one may be read.
            let three = [0.5f32, 0.5, 0.5];
            for dim in [usize::MAX, 1 << 40, 1_000_000, 3] {
                let mut out = null_mut();
                let st = faces::faceprint_embedding_from_vector(
                    e,
                    three.as_ptr(),
                    dim,
                    &mut out,
                    null_mut(),
                );
                assert_eq!(st, S::InvalidEmbedding, "dim {dim}");
                assert!(out.is_null());
            }
            // A buffer shorter than its rows: refused by the call that knows the length.
            let px = [0u8; 100];
            let mut img = null_mut();
            let st = engine::faceprint_image_from_pixels_len(
                e,
                px.as_ptr(),
                px.len(),
                64,
                64,
                64 * 3,
                0,
                &mut img,
                null_mut(),
            );
            assert_eq!(st, S::InvalidPixelBuffer);
            let st = engine::faceprint_image_from_pixels_len(
                e,
                px.as_ptr(),
                px.len(),
                100_000,
                100_000,
                300_000,
                0,
                &mut img,
                null_mut(),
            );
            assert_eq!(st, S::ImageTooManyPixels);
            let st = engine::faceprint_image_from_pixels_len(
                e,
                px.as_ptr(),
                px.len(),
                5,
                5,
                15,
                0,
                &mut img,
                null_mut(),
            );
            assert_eq!(st, S::Ok);
            assert_eq!(engine::faceprint_image_width(img), 5);
            engine::faceprint_image_free(img);
            engine::faceprint_engine_free(e);
        }
    }
}
