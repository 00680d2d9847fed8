//! `include/faceprint.h` must be exactly what cbindgen (pinned in Cargo.toml) generates from this
//! crate. After changing the ABI: `FACEPRINT_BLESS=1 cargo test -p faceprint-ffi --test header`.

use std::path::Path;

#[test]
fn committed_header_is_current() {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config =
        cbindgen::Config::from_file(crate_dir.join("cbindgen.toml")).expect("cbindgen.toml");
    let mut generated = Vec::new();
    cbindgen::Builder::new()
        .with_crate(crate_dir)
        .with_config(config)
        .generate()
        .expect("cbindgen parses ffi/src")
        .write(&mut generated);
    let header = crate_dir.join("../include/faceprint.h");
    if std::env::var_os("FACEPRINT_BLESS").is_some() {
        std::fs::write(&header, &generated).expect("write include/faceprint.h");
        return;
    }
    let committed = std::fs::read(&header).unwrap_or_default();
    assert!(
        committed == generated,
        "include/faceprint.h is out of date with ffi/src: run \
         FACEPRINT_BLESS=1 cargo test -p faceprint-ffi --test header, and commit the header"
    );
}
