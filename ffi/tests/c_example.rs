//! Builds examples/c/identify.c against include/faceprint.h and libfaceprint with
//! `gcc -std=c99 -Wall -Wextra -Werror -pedantic`, runs it on LFW photos, then again under
//! valgrind: no leaks, no invalid reads or writes (examples/c/valgrind.supp lists the two
//! reports from glibc and ONNX Runtime that are not ours).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn lfw() -> Option<PathBuf> {
    let base = std::env::var_os("FACEPRINT_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("../shared"));
    let d = base.join("data/lfw/images");
    if d.is_dir() {
        Some(d)
    } else {
        eprintln!("SKIPPED: {} not found (set FACEPRINT_SHARED)", d.display());
        None
    }
}

/// target/<profile>, where cargo put libfaceprint.so before running this test.
fn lib_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.parent().unwrap().parent().unwrap().to_path_buf()
}

fn compile(out: &Path) {
    let lib = lib_dir();
    assert!(
        lib.join("libfaceprint.so").is_file(),
        "{} has no libfaceprint.so: run `cargo build -p faceprint-ffi` in this profile first \
         (./test.sh does)",
        lib.display()
    );
    let status = Command::new("gcc")
        .args(["-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic", "-g"])
        .arg("-I")
        .arg(repo().join("include"))
        .arg(repo().join("examples/c/identify.c"))
        .arg("-L")
        .arg(&lib)
        .arg("-lfaceprint")
        .arg(format!("-Wl,-rpath,{}", lib.display()))
        .arg("-o")
        .arg(out)
        .status()
        .expect("gcc runs");
    assert!(status.success(), "gcc failed");
}

/// A gallery folder: one sub-folder per person with the given LFW photos.
fn gallery(lfw: &Path, dir: &Path, people: &[(&str, &[u32])]) {
    for (person, photos) in people {
        let d = dir.join(person);
        std::fs::create_dir_all(&d).unwrap();
        for n in *photos {
            let name = format!("{person}_{n:04}.jpg");
            std::fs::copy(lfw.join(person).join(&name), d.join(&name)).unwrap();
        }
    }
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn c_example_enrolls_a_folder_and_identifies_a_probe() {
    let Some(lfw) = lfw() else { return };
    let tmp = std::env::temp_dir().join(format!("faceprint-c-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).unwrap();
    let exe = tmp.join("identify");
    compile(&exe);
    let people: &[(&str, &[u32])] = &[
        ("Tony_Blair", &[1, 2]),
        ("George_W_Bush", &[1, 2]),
        ("Colin_Powell", &[1, 2]),
    ];
    gallery(&lfw, &tmp.join("gallery"), people);

    let o = Command::new(&exe)
        .arg(tmp.join("gallery"))
        .arg(lfw.join("Colin_Powell/Colin_Powell_0010.jpg"))
        .output()
        .unwrap();
    let t = text(&o);
    assert_eq!(o.status.code(), Some(0), "{t}");
    assert!(t.contains("enrolled Tony_Blair from 2 photo(s)"), "{t}");
    assert!(
        t.contains("face 1 candidate 1: Colin_Powell") && t.contains("MATCH"),
        "{t}"
    );

    // Somebody not enrolled: candidates, but no match (exit 1).
    let o = Command::new(&exe)
        .arg(tmp.join("gallery"))
        .arg(lfw.join("Aaron_Eckhart/Aaron_Eckhart_0001.jpg"))
        .output()
        .unwrap();
    let t = text(&o);
    assert_eq!(o.status.code(), Some(1), "{t}");
    assert!(
        t.contains("face 1: no match") && !t.contains("MATCH"),
        "{t}"
    );

    // Every face of a group photo is identified: each person enrolled is named once.
    let o = Command::new(&exe)
        .arg(tmp.join("gallery"))
        .arg(lfw.join("../../dev/hard/multi_face/fr_obama_and_biden.jpg"))
        .output()
        .unwrap();
    let t = text(&o);
    assert!(
        t.contains("face 3 candidate 1:"),
        "three faces searched: {t}"
    );

    // Errors come back as status names with messages (exit 2).
    let truncated = tmp.join("truncated.jpg");
    let bytes = std::fs::read(lfw.join("Tony_Blair/Tony_Blair_0003.jpg")).unwrap();
    std::fs::write(&truncated, &bytes[..bytes.len() / 3]).unwrap();
    for (probe, status) in [
        (tmp.join("missing.jpg"), "io (2)"),
        (truncated, "image_truncated (13)"),
    ] {
        let o = Command::new(&exe)
            .arg(tmp.join("gallery"))
            .arg(&probe)
            .output()
            .unwrap();
        let t = text(&o);
        assert_eq!(o.status.code(), Some(2), "{t}");
        assert!(t.contains(status), "expected {status}: {t}");
    }
    let _ = std::fs::remove_dir_all(&tmp);
}

#[test]
fn c_example_is_valgrind_clean() {
    let Some(lfw) = lfw() else { return };
    let tmp = std::env::temp_dir().join(format!("faceprint-vg-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).unwrap();
    let exe = tmp.join("identify");
    compile(&exe);
    // Small: everything runs about 50 times slower under valgrind.
    gallery(
        &lfw,
        &tmp.join("gallery"),
        &[("Tony_Blair", &[1]), ("George_W_Bush", &[1])],
    );
    let o = Command::new("valgrind")
        .args([
            "--error-exitcode=99",
            "--leak-check=full",
            "--show-leak-kinds=definite,indirect,possible",
            "--errors-for-leak-kinds=definite,indirect,possible",
        ])
        .arg(format!(
            "--suppressions={}",
            repo().join("examples/c/valgrind.supp").display()
        ))
        .arg(&exe)
        .arg(tmp.join("gallery"))
        .arg(lfw.join("Tony_Blair/Tony_Blair_0010.jpg"))
        .output()
        .expect("valgrind is installed (setup.sh installs it)");
    let t = text(&o);
    assert_eq!(o.status.code(), Some(0), "valgrind found errors:\n{t}");
    assert!(t.contains("candidate 1: Tony_Blair"), "{t}");
    assert!(t.contains("ERROR SUMMARY: 0 errors"), "{t}");
    assert!(
        t.contains("definitely lost: 0 bytes") || t.contains("All heap blocks were freed"),
        "{t}"
    );
    let _ = std::fs::remove_dir_all(&tmp);
}
