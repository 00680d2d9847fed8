//! `faceprint quality`, `faceprint liveness` and `faceprint eval spoof` on real photos.

mod common;

use common::{data, ok_lines, run};
use serde_json::Value;

#[test]
fn quality_reports_scores_reasons_and_advice() {
    let Some(d) = data() else { return };
    let clean = d.join("lfw/images/Aaron_Peirsol/Aaron_Peirsol_0001.jpg");
    let mask = d.join("dev/hard/masks/if_mask.png");
    let out = run(&["quality", clean.to_str().unwrap(), mask.to_str().unwrap()]);
    let lines = ok_lines(&out);
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["passed"], Value::Bool(true), "{}", lines[0]);
    assert!(lines[0]["score"].as_f64().unwrap() >= 0.5);
    assert_eq!(
        lines[0]["face"]["box"].as_array().unwrap().len(),
        4,
        "as detect prints it"
    );
    for field in [
        "pose",
        "eyes",
        "mask_probability",
        "metrics",
        "factors",
        "inter_eye_distance",
    ] {
        assert!(!lines[0][field].is_null(), "{field} missing: {}", lines[0]);
    }
    let reasons: Vec<&str> = lines[1]["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap())
        .collect();
    assert!(reasons.contains(&"mask_or_occlusion"), "{reasons:?}");
    assert_eq!(lines[1]["advice"].as_array().unwrap().len(), reasons.len());

    // --fast leaves the optional models out; a profile file overrides single limits.
    let dir = std::env::temp_dir().join(format!("faceprint-quality-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let profile = dir.join("strict.toml");
    std::fs::write(
        &profile,
        "name = \"huge\"\nmin_inter_eye_distance = 500.0\n",
    )
    .unwrap();
    let out = run(&[
        "quality",
        "--fast",
        "--profile-file",
        profile.to_str().unwrap(),
        clean.to_str().unwrap(),
    ]);
    let v = &ok_lines(&out)[0];
    assert!(
        v["eyes"].is_null() && v["mask_probability"].is_null(),
        "{v}"
    );
    assert_eq!(v["pose"]["source"], "five_point");
    assert_eq!(v["profile"], "huge");
    assert!(v["reasons"]
        .as_array()
        .unwrap()
        .contains(&Value::from("too_small")));
    std::fs::write(&profile, "min_inter_eye_distanse = 5.0\n").unwrap();
    let out = run(&[
        "quality",
        "--profile-file",
        profile.to_str().unwrap(),
        clean.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    let err: Value = serde_json::from_slice(&out.stderr).unwrap();
    assert_eq!(err["error"]["code"], "invalid_argument", "{err}");
}

#[test]
fn liveness_and_eval_spoof() {
    let Some(d) = data() else { return };
    let live = d.join("dev/spoof/live/live_image_T1.jpg");
    let print = d.join("dev/spoof/attack/attack_print_image_F1.jpg");
    let lines = ok_lines(&run(&[
        "liveness",
        live.to_str().unwrap(),
        print.to_str().unwrap(),
    ]));
    assert_eq!(lines[0]["live"], Value::Bool(true), "{}", lines[0]);
    assert_eq!(lines[1]["live"], Value::Bool(false), "{}", lines[1]);
    assert_eq!(lines[0]["model_scores"].as_array().unwrap().len(), 2);

    let out = run(&[
        "eval",
        "spoof",
        "--live",
        d.join("dev/spoof/live").to_str().unwrap(),
        "--attack",
        d.join("dev/spoof/attack").to_str().unwrap(),
        "--default-attack-type",
        "print",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let at = &v["at_threshold"];
    assert_eq!(at["apcer"]["print"].as_f64(), Some(0.0), "{v}");
    assert_eq!(at["apcer"]["replay"].as_f64(), Some(0.0), "{v}");
    assert!(at["bpcer"].as_f64().unwrap() <= 0.10, "{v}");
    assert_eq!(v["attack_images"]["replay"], 1);
    assert!(v["sweep"].as_array().unwrap().len() > 10);
}
