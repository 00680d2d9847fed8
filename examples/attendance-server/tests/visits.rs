//! The whole path on a recorded camera: real LFW faces walking through a synthetic scene,
//! encoded by ffmpeg, read back by the server's ffmpeg source, tracked, identified once per
//! track and written as one record per visit.

mod scene;
mod site;

use axum::http::StatusCode;
use scene::{lfw, Visit};
use serde_json::{json, Value};
use site::Site;
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recorded_camera_gives_one_record_per_visit() {
    let site = Site::new(|c| c.app.cooldown_secs = 4).await;
    let people = [
        ("Colin_Powell", [1, 3]),
        ("Tony_Blair", [1, 2]),
        ("Donald_Rumsfeld", [1, 2]),
    ];
    let mut ids = BTreeMap::new();
    for (person, photos) in people {
        let photos: Vec<String> = photos.iter().map(|&n| lfw(person, n)).collect();
        ids.insert(site.employee(person, &photos).await, person);
    }
    // Powell crosses left to right, Blair right to left below him (both in view for 2 s);
    // a stranger, then Rumsfeld joining him; Powell again after half a minute.
    let visits = vec![
        Visit {
            person: "Colin_Powell",
            photo: lfw("Colin_Powell", 10),
            start: 5,
            end: 45,
            from: (-20.0, 40.0),
            to: (480.0, 70.0),
        },
        Visit {
            person: "Tony_Blair",
            photo: lfw("Tony_Blair", 10),
            start: 35,
            end: 80,
            from: (500.0, 250.0),
            to: (10.0, 230.0),
        },
        Visit {
            person: "Ariel_Sharon",
            photo: lfw("Ariel_Sharon", 3),
            start: 90,
            end: 125,
            from: (60.0, 200.0),
            to: (420.0, 180.0),
        },
        Visit {
            person: "Donald_Rumsfeld",
            photo: lfw("Donald_Rumsfeld", 10),
            start: 110,
            end: 150,
            from: (480.0, 30.0),
            to: (150.0, 60.0),
        },
        Visit {
            person: "Colin_Powell",
            photo: lfw("Colin_Powell", 11),
            start: 175,
            end: 205,
            from: (100.0, 150.0),
            to: (400.0, 140.0),
        },
    ];
    let video = site.dir().join("scene.mp4");
    scene::encode(&visits, 215, &video);

    // A webhook for the check-ins and check-outs (nobody listens: the deliveries queue).
    let r = site
        .client
        .post_json(
            "/api/admin/webhooks",
            Some(&site.token),
            json!({"url": "http://127.0.0.1:9/hook", "events": ["check_in", "check_out"]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    // Two cameras on the same recording: "lobby" records visits; "kiosk" also requires
    // passive liveness, which these faces (photos pasted into a scene) must fail.
    let camera = |liveness: bool| json!({"kind": "file", "source": video, "settings": {"fps": 5, "width": 640, "liveness": liveness}});
    let lobby = site.camera("lobby", camera(false)).await;
    let kiosk = site.camera("kiosk", camera(true)).await;
    // Watch the live status while the file plays: which tracks each employee had.
    let mut tracks_of: BTreeMap<String, BTreeSet<u64>> = BTreeMap::new();
    let deadline = Instant::now() + Duration::from_secs(150);
    let (last, kiosk_last) = loop {
        let s = site.status(&lobby).await;
        for t in s["tracks"].as_array().unwrap() {
            if let Some(e) = t["employee_id"].as_str() {
                tracks_of
                    .entry(e.to_string())
                    .or_default()
                    .insert(t["track_id"].as_u64().unwrap());
            }
        }
        let k = site.status(&kiosk).await;
        let done =
            |s: &Value| s["state"] == "finished" && s["tracks"].as_array().unwrap().is_empty();
        if done(&s) && done(&k) {
            break (s, k);
        }
        assert!(
            Instant::now() < deadline,
            "the cameras did not finish: {s} {k}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    // The pipeline writes the last sightings as the file ends.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let r = site
        .client
        .get(
            &format!("/api/records?limit=100&camera_id={lobby}"),
            Some(&site.token),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let records = r.json.as_array().unwrap().clone();
    let mut per_person: BTreeMap<&str, usize> = BTreeMap::new();
    for rec in &records {
        let who = ids
            .get(rec["employee_id"].as_str().unwrap())
            .copied()
            .unwrap_or("?");
        *per_person.entry(who).or_default() += 1;
        assert!(rec["last_seen_ms"].as_i64() >= rec["first_seen_ms"].as_i64());
    }
    let expected: BTreeMap<&str, usize> = [
        ("Colin_Powell", 2),
        ("Donald_Rumsfeld", 1),
        ("Tony_Blair", 1),
    ]
    .into();
    let correct: usize = expected
        .iter()
        .map(|(p, n)| per_person.get(p).copied().unwrap_or(0).min(*n))
        .sum();
    let visits_enrolled = expected.values().sum::<usize>();
    println!(
        "per-visit precision {:.3} ({correct}/{} records), recall {:.3} ({correct}/{visits_enrolled} visits); \
         frames in {}, processed {}, dropped {}, tracks {}, unknown tracks {}; tracks per employee {:?}",
        correct as f64 / records.len().max(1) as f64,
        records.len(),
        correct as f64 / visits_enrolled as f64,
        last["frames_in"], last["frames_processed"], last["frames_dropped"],
        last["tracks_total"], last["unknown_tracks"], tracks_of
    );
    assert_eq!(per_person, expected, "records: {records:#?}");
    // One track per visit while in view: Powell's two visits, one each for the others.
    for (id, person) in &ids {
        let want = if *person == "Colin_Powell" { 2 } else { 1 };
        assert_eq!(
            tracks_of.get(id).map_or(0, |t| t.len()),
            want,
            "{person}'s track ids: {tracks_of:?}"
        );
    }
    // The stranger was followed and counted, never recorded.
    assert_eq!(last["unknown_tracks"], 1, "{last}");
    // Powell's first visit of the day checked him in, the second out (role `any`); each
    // record queued its webhook event.
    let directions: Vec<&str> = records
        .iter()
        .rev()
        .filter(|r| ids.get(r["employee_id"].as_str().unwrap()) == Some(&"Colin_Powell"))
        .map(|r| r["direction"].as_str().unwrap())
        .collect();
    assert_eq!(directions, ["in", "out"]);
    let r = site
        .client
        .get("/api/admin/webhooks/deliveries", Some(&site.token))
        .await;
    let events: Vec<&str> = r
        .json
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["event"].as_str().unwrap())
        .collect();
    assert_eq!(
        events.iter().filter(|e| **e == "check_in").count(),
        3,
        "{}",
        r.text
    );
    assert_eq!(
        events.iter().filter(|e| **e == "check_out").count(),
        1,
        "{}",
        r.text
    );
    // The day's summary: everyone enrolled was seen (present or late by 09:00 UTC).
    let r = site
        .client
        .get("/api/attendance/summary", Some(&site.token))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let day = &r.json;
    assert_eq!(day["absent"], 0, "{day}");
    assert_eq!(
        day["present"].as_u64().unwrap() + day["late"].as_u64().unwrap(),
        3,
        "{day}"
    );
    for e in day["employees"].as_array().unwrap() {
        let first = e["first_seen_ms"].as_i64().unwrap();
        let nine = first - first.rem_euclid(86_400_000) + 9 * 3_600_000;
        assert_eq!(
            e["status"],
            if first > nine { "late" } else { "present" },
            "{e}"
        );
        let want = if e["name"] == "Colin_Powell" { 2 } else { 1 };
        assert_eq!(e["visits"], want, "{e}");
    }
    assert!(day["unknown_tracks"].as_i64().unwrap() >= 1, "{day}");
    // CSV: a header and one line per record, with the employees' names.
    let r = site
        .client
        .get(
            &format!("/api/records/export.csv?camera_id={lobby}"),
            Some(&site.token),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    let lines: Vec<&str> = r.text.lines().collect();
    assert_eq!(lines.len(), 5, "{}", r.text);
    assert!(lines[0].starts_with("record_id,employee_id,employee,camera_id,camera,direction"));
    assert_eq!(
        lines
            .iter()
            .filter(|l| l.contains(",Colin_Powell,"))
            .count(),
        2,
        "{}",
        r.text
    );
    // The kiosk matched the employees' faces but recorded none: they are photos.
    let r = site
        .client
        .get(
            &format!("/api/records?camera_id={kiosk}"),
            Some(&site.token),
        )
        .await;
    assert_eq!(r.json, json!([]), "the liveness camera recorded a photo");
    println!("kiosk: {kiosk_last}");
    assert!(
        kiosk_last["spoof_tracks"].as_u64().unwrap() >= 3,
        "{kiosk_last}"
    );
}
