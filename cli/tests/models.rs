//! `faceprint models list | verify | install` and where the pack is found: FACEPRINT_MODELS
//! first (set but wrong is an error), then the user's data directory, then beside the program;
//! an install checks every file before it writes and leaves the old pack on a failure.

mod common;

use common::{json_lines, temp};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The checkout's pack (cargo gives FACEPRINT_MODELS through .cargo/config.toml).
fn checkout_pack() -> Option<PathBuf> {
    let d = PathBuf::from(std::env::var_os("FACEPRINT_MODELS")?);
    if d.join("manifest.toml").is_file() {
        Some(d)
    } else {
        eprintln!("SKIPPED: no model pack at {} (run ./setup.sh)", d.display());
        None
    }
}

/// Runs faceprint with HOME set to `home`, XDG_DATA_HOME and FACEPRINT_MODELS removed unless
/// given in `env`.
fn run_in(home: &Path, env: &[(&str, &str)], args: &[&str]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_faceprint"));
    c.env("HOME", home)
        .env_remove("XDG_DATA_HOME")
        .env_remove("FACEPRINT_MODELS");
    for (k, v) in env {
        c.env(k, v);
    }
    c.args(args).output().expect("faceprint runs")
}

fn error_of(out: &Output) -> Value {
    assert!(!out.status.success(), "expected a failure");
    let lines = json_lines(&out.stderr);
    lines
        .into_iter()
        .find(|l| l.get("error").is_some())
        .expect("an error line")["error"]
        .clone()
}

/// A copy of the checkout's pack (manifest and model files only).
fn copy_pack(from: &Path, to: &Path) {
    let manifest = std::fs::read_to_string(from.join("manifest.toml")).unwrap();
    std::fs::create_dir_all(to).unwrap();
    std::fs::write(to.join("manifest.toml"), &manifest).unwrap();
    for line in manifest.lines() {
        if let Some(file) = line
            .strip_prefix("file = \"")
            .and_then(|r| r.strip_suffix('"'))
        {
            let dest = to.join(file);
            std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
            std::fs::copy(from.join(file), dest).unwrap();
        }
    }
}

#[test]
fn a_faceprint_models_that_holds_no_pack_is_an_error_naming_it() {
    let home = temp("models", "env-wrong");
    let out = run_in(
        &home,
        &[("FACEPRINT_MODELS", "/nonexistent/pack")],
        &["models", "list"],
    );
    let e = error_of(&out);
    assert_eq!(e["code"], "models_not_found");
    let msg = e["message"].as_str().unwrap();
    assert!(
        msg.contains("FACEPRINT_MODELS") && msg.contains("/nonexistent/pack"),
        "{msg}"
    );
    // The same for a command that runs a model, although a pack is installed elsewhere.
    let Some(pack) = checkout_pack() else { return };
    let data = home.join(".local/share/faceprint/models");
    copy_pack(&pack, &data);
    let out = run_in(
        &home,
        &[("FACEPRINT_MODELS", "/nonexistent/pack")],
        &["detect", "/nonexistent.jpg"],
    );
    assert_eq!(error_of(&out)["code"], "models_not_found");
}

#[test]
fn install_puts_a_checked_pack_in_the_user_data_dir_where_it_is_found() {
    let Some(pack) = checkout_pack() else { return };
    let home = temp("models", "install");
    let out = run_in(
        &home,
        &[],
        &["models", "install", "--from", pack.to_str().unwrap()],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = &json_lines(&out.stdout)[0];
    let installed = home.join(".local/share/faceprint/models");
    assert_eq!(report["installed"], installed.display().to_string());
    // Found without FACEPRINT_MODELS, as the user data directory (before beside-the-program).
    let list = &json_lines(&run_in(&home, &[], &["models", "list"]).stdout)[0];
    assert_eq!(list["source"], "user_data", "{list}");
    assert_eq!(list["dir"], installed.display().to_string());
    assert!(list["models"]
        .as_array()
        .unwrap()
        .iter()
        .all(|m| m["present"] == true));
    // XDG_DATA_HOME moves it: the search looks there instead (the pack under HOME is not used).
    let xdg = home.join("xdg");
    let out = run_in(
        &home,
        &[("XDG_DATA_HOME", xdg.to_str().unwrap())],
        &["models", "list"],
    );
    let said = if out.status.success() {
        json_lines(&out.stdout)[0].to_string()
    } else {
        error_of(&out)["message"].to_string()
    };
    assert!(said.contains("xdg/faceprint/models"), "{said}");
    assert!(!said.contains(".local/share/faceprint/models"), "{said}");
    // Every file verifies.
    let out = run_in(&home, &[], &["models", "verify"]);
    assert!(out.status.success());
    let checks = json_lines(&out.stdout);
    assert!(checks.len() >= 10 && checks.iter().all(|c| c["ok"] == true));
}

#[test]
fn a_damaged_file_fails_verify_and_install_and_the_old_pack_stays() {
    let Some(pack) = checkout_pack() else { return };
    let home = temp("models", "damaged");
    let good = home.join("installed");
    let out = run_in(
        &home,
        &[],
        &[
            "models",
            "install",
            "--from",
            pack.to_str().unwrap(),
            "--to",
            good.to_str().unwrap(),
        ],
    );
    assert!(out.status.success());
    let bad = home.join("bad");
    copy_pack(&pack, &bad);
    let victim = bad.join("face_detection_yunet_2023mar_dynamic.onnx");
    let mut bytes = std::fs::read(&victim).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x40;
    std::fs::write(&victim, bytes).unwrap();

    // verify names the damaged file and passes the others.
    let out = run_in(
        &home,
        &[],
        &["--models", bad.to_str().unwrap(), "models", "verify"],
    );
    assert_eq!(out.status.code(), Some(1));
    let checks = json_lines(&out.stdout);
    let failed: Vec<&Value> = checks.iter().filter(|c| c["ok"] == false).collect();
    assert_eq!(failed.len(), 1, "{checks:?}");
    assert_eq!(failed[0]["id"], "yunet-2023mar");
    assert_eq!(failed[0]["error"]["code"], "model_checksum");

    // install refuses it and the pack already there is untouched.
    let out = run_in(
        &home,
        &[],
        &[
            "models",
            "install",
            "--from",
            bad.to_str().unwrap(),
            "--to",
            good.to_str().unwrap(),
        ],
    );
    assert_eq!(error_of(&out)["code"], "model_checksum");
    let out = run_in(
        &home,
        &[],
        &["--models", good.to_str().unwrap(), "models", "verify"],
    );
    assert!(out.status.success(), "the old pack was damaged");
    let leftovers: Vec<_> = std::fs::read_dir(&home)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "staging left behind: {leftovers:?}");

    // A missing file is models_not_found in verify.
    std::fs::remove_file(bad.join("iris_landmark_mediapipe.onnx")).unwrap();
    let out = run_in(
        &home,
        &[],
        &["--models", bad.to_str().unwrap(), "models", "verify"],
    );
    let checks = json_lines(&out.stdout);
    let iris = checks.iter().find(|c| c["id"] == "iris-mediapipe").unwrap();
    assert_eq!(iris["error"]["code"], "models_not_found");
}

#[test]
fn a_manifest_naming_a_file_outside_the_pack_is_refused() {
    let Some(pack) = checkout_pack() else { return };
    let home = temp("models", "escape");
    let bad = home.join("bad");
    copy_pack(&pack, &bad);
    let m = std::fs::read_to_string(bad.join("manifest.toml")).unwrap();
    let m = m.replacen(
        "file = \"face_detection_yunet_2023mar_dynamic.onnx\"",
        "file = \"../../etc/passwd\"",
        1,
    );
    std::fs::write(bad.join("manifest.toml"), m).unwrap();
    let out = run_in(
        &home,
        &[],
        &[
            "models",
            "install",
            "--from",
            bad.to_str().unwrap(),
            "--to",
            home.join("x").to_str().unwrap(),
        ],
    );
    let e = error_of(&out);
    assert_eq!(e["code"], "model_manifest");
    assert!(e["message"].as_str().unwrap().contains("inside the pack"));
}
