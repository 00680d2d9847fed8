//! The README's Rust examples, compiled (tests/build.rs) and run as written: in a scratch folder
//! beside ../shared (the README's paths are relative to a checkout), with a fresh FACEPRINT_KEY.

mod readme {
    include!(concat!(env!("OUT_DIR"), "/readme_rust.rs"));
}

#[test]
fn readme_rust_examples_run() {
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let shared = std::env::var_os("FACEPRINT_SHARED")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| repo.join("../shared"));
    if !shared.join("data").is_dir() {
        eprintln!("SKIPPED: no ../shared (set FACEPRINT_SHARED)");
        return;
    }
    let scratch = std::env::temp_dir().join(format!("faceprint-readme-{}", std::process::id()));
    let checkout = scratch.join("checkout");
    std::fs::create_dir_all(&checkout).unwrap();
    std::os::unix::fs::symlink(
        std::fs::canonicalize(&shared).unwrap(),
        scratch.join("shared"),
    )
    .unwrap();
    // The only test of this binary: changing its working directory affects no other.
    std::env::set_current_dir(&checkout).unwrap();
    let key = faceprint::store::MasterKey::generate().to_base64();
    // Single-threaded here: no other thread reads the environment.
    std::env::set_var("FACEPRINT_KEY", key);
    assert!(
        readme::BLOCKS.len() >= 6,
        "the README's Rust blocks went missing"
    );
    let mut failed = Vec::new();
    for (name, block) in readme::BLOCKS {
        match std::panic::catch_unwind(block) {
            Ok(Ok(())) => eprintln!("README Rust {name}: ok"),
            Ok(Err(e)) => failed.push(format!("{name}: {e}")),
            Err(_) => failed.push(format!("{name}: panicked")),
        }
    }
    std::fs::remove_dir_all(&scratch).ok();
    assert!(failed.is_empty(), "README Rust examples failed: {failed:?}");
}
