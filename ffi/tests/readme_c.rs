//! The README's C example (its ```c block) compiled with `gcc -std=c99 -Wall -Wextra -Werror
//! -pedantic` against include/faceprint.h and libfaceprint, and run as written in a scratch
//! checkout beside ../shared.

use std::path::{Path, PathBuf};
use std::process::Command;

#[test]
fn readme_c_example_runs() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let shared = std::env::var_os("FACEPRINT_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo.join("../shared"));
    if !shared.join("data").is_dir() {
        eprintln!("SKIPPED: no ../shared (set FACEPRINT_SHARED)");
        return;
    }
    let readme = std::fs::read_to_string(repo.join("README.md")).unwrap();
    let start = readme.find("```c\n").expect("a ```c block in the README") + 5;
    let code = &readme[start..start + readme[start..].find("```").unwrap()];

    let scratch = std::env::temp_dir().join(format!("faceprint-readme-c-{}", std::process::id()));
    let checkout = scratch.join("checkout");
    std::fs::create_dir_all(&checkout).unwrap();
    std::os::unix::fs::symlink(
        std::fs::canonicalize(&shared).unwrap(),
        scratch.join("shared"),
    )
    .unwrap();
    std::fs::write(checkout.join("readme.c"), code).unwrap();
    // target/<profile>, where cargo put libfaceprint.so before running this test.
    let exe = std::env::current_exe().unwrap();
    let lib = exe.parent().unwrap().parent().unwrap();
    assert!(
        lib.join("libfaceprint.so").is_file(),
        "no libfaceprint.so in {}: run `cargo build -p faceprint-ffi` in this profile first (./test.sh does)",
        lib.display()
    );
    let status = Command::new("gcc")
        .args(["-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic"])
        .arg("-I")
        .arg(repo.join("include"))
        .arg("readme.c")
        .arg("-L")
        .arg(lib)
        .arg("-lfaceprint")
        .arg(format!("-Wl,-rpath,{}", lib.display()))
        .args(["-o", "readme"])
        .current_dir(&checkout)
        .status()
        .expect("gcc runs");
    assert!(status.success(), "the README's C example does not compile");
    let out = Command::new(checkout.join("readme"))
        .current_dir(&checkout)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    std::fs::remove_dir_all(&scratch).ok();
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.starts_with("same: 1 score 0.7"), "{stdout}");
}
