//! The `faceprint` command as a user runs it: real binary, real photos, JSON checked.

mod common;

use common::{data, json_lines, ok_lines, run, temp};
use serde_json::Value;
use std::process::Command;

#[test]
fn detect_prints_one_object_per_image_with_the_documented_fields() {
    let Some(d) = data() else { return };
    let group = d.join("dev/hard/multi_face/insightface_t1.jpg");
    let none = d.join("dev/hard/non_face/skimage_coffee.png");
    let out = run(&["detect", group.to_str().unwrap(), none.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines = json_lines(&out.stdout);
    assert_eq!(lines.len(), 2);
    let faces = lines[0]["faces"].as_array().unwrap();
    assert!(faces.len() >= 4);
    assert!(lines[0]["width"].as_u64().unwrap() > 0 && lines[0]["height"].as_u64().unwrap() > 0);
    let f = &faces[0];
    assert_eq!(f["box"].as_array().unwrap().len(), 4);
    assert_eq!(f["landmarks"].as_array().unwrap().len(), 5);
    assert!(f["score"].as_f64().unwrap() >= 0.9);
    assert!(lines[1]["faces"].as_array().unwrap().is_empty());
}

#[test]
fn compare_decides_with_a_calibrated_threshold() {
    let Some(d) = data() else { return };
    let p = |f: &str| {
        d.join("dev/faces/named")
            .join(f)
            .to_string_lossy()
            .to_string()
    };
    let same = run(&["compare", &p("obama_obama.jpg"), &p("obama_obama2.jpg")]);
    assert!(
        same.status.success(),
        "{}",
        String::from_utf8_lossy(&same.stderr)
    );
    let v = &json_lines(&same.stdout)[0];
    assert_eq!(v["same"], Value::Bool(true));
    assert!(v["score"].as_f64().unwrap() > v["threshold"].as_f64().unwrap());
    assert!(v["fmr"].as_f64().is_some());
    let diff = run(&[
        "compare",
        "--fmr",
        "1e-3",
        &p("obama_obama.jpg"),
        &p("biden_biden.jpg"),
    ]);
    let v = &json_lines(&diff.stdout)[0];
    assert_eq!(v["same"], Value::Bool(false));
    assert_eq!(v["fmr"].as_f64(), Some(1e-3));
    let human = run(&[
        "-H",
        "compare",
        &p("obama_obama.jpg"),
        &p("obama_obama2.jpg"),
    ]);
    assert!(String::from_utf8_lossy(&human.stdout).starts_with("SAME person"));
}

#[test]
fn errors_are_json_on_stderr_with_stable_codes_and_a_failing_exit() {
    let Some(d) = data() else { return };
    let dir = std::env::temp_dir().join(format!("faceprint-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let jpeg = std::fs::read(d.join("dev/faces/named/obama_obama.jpg")).unwrap();
    let truncated = dir.join("truncated.jpg");
    std::fs::write(&truncated, &jpeg[..jpeg.len() / 2]).unwrap();
    let text = dir.join("notes.jpg");
    std::fs::write(&text, b"hello, not an image").unwrap();
    let empty = dir.join("empty.png");
    std::fs::write(&empty, b"").unwrap();
    let coffee = d.join("dev/hard/non_face/skimage_coffee.png");
    for (file, code) in [
        (truncated.to_str().unwrap(), "image_truncated"),
        (text.to_str().unwrap(), "image_unsupported_format"),
        (empty.to_str().unwrap(), "image_empty"),
        ("/no/such/file.jpg", "io"),
    ] {
        let out = run(&["detect", file]);
        assert!(!out.status.success(), "{file}");
        let err = &json_lines(&out.stderr)[0];
        assert_eq!(err["error"]["code"], code, "{file}");
        assert!(err["error"]["number"].as_u64().is_some());
        assert_eq!(err["image"], file);
    }
    let out = run(&[
        "compare",
        coffee.to_str().unwrap(),
        coffee.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    assert_eq!(json_lines(&out.stderr)[0]["error"]["code"], "no_face");
    let out = run(&[
        "compare",
        "--fmr",
        "0.9",
        coffee.to_str().unwrap(),
        coffee.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    // A usage error is plain text for the person typing (clap's message and usage), exit 2.
    let out = run(&["detect"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("error: ") && err.contains("Usage: faceprint detect"),
        "{err}"
    );
    assert!(serde_json::from_str::<serde_json::Value>(err.trim()).is_err());
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn eval_lfw_on_one_fold_is_accurate() {
    let Some(d) = data() else { return };
    let lfw = d.join("lfw");
    let out = run(&[
        "eval",
        "lfw",
        "--images",
        lfw.join("images").to_str().unwrap(),
        "--pairs",
        lfw.join("pairs.txt").to_str().unwrap(),
        "--folds",
        "1",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = &json_lines(&out.stdout)[0];
    assert_eq!(v["pairs"], 600);
    let acc = v["accuracy"].as_f64().unwrap();
    assert!(acc > 0.97, "accuracy on fold 1: {acc}");
    // Piped output: no progress bar escape codes on stderr.
    assert!(!String::from_utf8_lossy(&out.stderr).contains('\u{1b}'));
}

#[test]
fn human_errors_directories_as_inputs_and_collections() {
    let Some(data) = data() else { return };
    // -H: errors as a sentence naming the code, on stderr.
    let out = run(&["-H", "detect", "/nonexistent/photo.jpg"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("/nonexistent/photo.jpg: error: ") && err.trim_end().ends_with("(io)"),
        "{err}"
    );
    // A directory is searched recursively for images, in path order.
    let train = data.join("dev/faces/train");
    let mut expected = Vec::new();
    for person in std::fs::read_dir(&train).unwrap() {
        for f in std::fs::read_dir(person.unwrap().path()).unwrap() {
            expected.push(f.unwrap().path());
        }
    }
    expected.sort();
    let lines = ok_lines(&run(&["detect", train.to_str().unwrap()]));
    let got: Vec<String> = lines
        .iter()
        .map(|l| l["image"].as_str().unwrap().to_string())
        .collect();
    let want: Vec<String> = expected.iter().map(|p| p.display().to_string()).collect();
    assert_eq!(got, want);
    assert!(lines
        .iter()
        .all(|l| !l["faces"].as_array().unwrap().is_empty()));
    // Files and directories mix, in argument order.
    let one = data.join("dev/faces/test/obama1.jpg");
    let lines = ok_lines(&run(&[
        "detect",
        one.to_str().unwrap(),
        train.join("obama").to_str().unwrap(),
    ]));
    assert_eq!(lines[0]["image"], one.display().to_string());
    assert_eq!(
        lines.len(),
        1 + std::fs::read_dir(train.join("obama")).unwrap().count()
    );
    // A directory without images is an error naming it.
    let empty = temp("cli", "empty-dir");
    std::fs::write(empty.join("notes.txt"), "no images").unwrap();
    let out = run(&["detect", empty.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let e = &json_lines(&out.stderr)[0]["error"];
    assert_eq!(e["code"], "invalid_argument");
    assert!(e["message"]
        .as_str()
        .unwrap()
        .contains("holds no image files"));

    // collections list names each collection with its model.
    let db = empty.join("faces.db");
    let key = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
    let enroll = Command::new(env!("CARGO_BIN_EXE_faceprint"))
        .env("FACEPRINT_KEY", key)
        .args([
            "enroll",
            "--db",
            db.to_str().unwrap(),
            "--collection",
            "staff",
            "--subject",
            "obama",
        ])
        .arg(&one)
        .output()
        .unwrap();
    assert!(
        enroll.status.success(),
        "{}",
        String::from_utf8_lossy(&enroll.stderr)
    );
    let out = Command::new(env!("CARGO_BIN_EXE_faceprint"))
        .env("FACEPRINT_KEY", key)
        .args(["collections", "list", "--db", db.to_str().unwrap()])
        .output()
        .unwrap();
    let lines = ok_lines(&out);
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["name"], "staff");
    assert_eq!(lines[0]["model_id"], "omz-reid-0095");
    assert_eq!(lines[0]["dim"], 256);
    let _ = std::fs::remove_dir_all(&empty);
}

#[test]
fn document_reads_the_zone_and_the_portrait_and_says_why_a_zone_fails() {
    let Some(d) = data() else { return };
    let passport = d.join("dev/documents/passport-td3.jpg");
    let card = d.join("dev/documents/33_id-usa.jpg");
    let coffee = d.join("dev/hard/non_face/skimage_coffee.png");
    let out = run(&[
        "document",
        passport.to_str().unwrap(),
        card.to_str().unwrap(),
        coffee.to_str().unwrap(),
    ]);
    // The picture that is no document fails the run; the two documents are read.
    assert_eq!(out.status.code(), Some(1));
    // One line per image in order (a failed image's line is its error, also on stderr).
    let lines = json_lines(&out.stdout);
    assert_eq!(lines.len(), 3, "{}", String::from_utf8_lossy(&out.stdout));
    assert_eq!(lines[2]["error"]["code"], "no_document");
    let p = &lines[0];
    assert_eq!(p["verified"], true);
    assert_eq!(p["mrz"]["format"], "td3");
    assert_eq!(p["mrz"]["document_number"], "L898902C3");
    assert_eq!(p["mrz"]["checks"].as_array().unwrap().len(), 5);
    assert_eq!(p["portrait"]["orientation_degrees"], 0);
    assert!(p["portrait"]["face"]["bbox"]["x2"].as_f64().unwrap() > 0.0);
    assert!(p["visual_zone"].is_null(), "not asked for");
    // Printed with an invalid digit: the fields, and which digit failed.
    let c = &lines[1];
    assert_eq!(c["verified"], false);
    assert_eq!(c["error"]["code"], "mrz_check_failed");
    assert_eq!(c["error"]["number"], 83);
    assert_eq!(c["mrz"]["checks"][0]["field"], "document_number");
    assert_eq!(c["mrz"]["checks"][0]["valid"], false);
    assert_eq!(c["mrz"]["birth_date"], "1949-10-04");
    assert_eq!(c["mrz"]["expiry_date"], "1994-11-01");
    let err = &json_lines(&out.stderr)[0];
    assert_eq!(err["error"]["code"], "no_document");
    assert_eq!(err["error"]["number"], 80);
}
