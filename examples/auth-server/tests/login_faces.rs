//! A photo with two faces does not log in (issue 33, finding 10): it logged in as the larger
//! one. Against the server as its command runs it, with two enrolled people: each alone logs
//! in as themselves; the photo of both (and a group photo) is refused `multiple_faces`, naming
//! how many faces it saw.

use faceprint_server::testing::{data, start_server};

const BIN: &str = env!("CARGO_BIN_EXE_faceprint-auth");

fn photo(rel: &str) -> Vec<u8> {
    std::fs::read(data(rel)).unwrap()
}

async fn login(client: &reqwest::Client, base: &str, bytes: Vec<u8>) -> (u16, serde_json::Value) {
    let r = client
        .post(format!("{base}/api/auth/login"))
        .header("content-type", "image/jpeg")
        .body(bytes)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_photo_of_two_faces_never_logs_in() {
    let dir = tempfile::tempdir().unwrap();
    // LFW-style photos are not live captures: liveness is off here, as in the other tests.
    let server = start_server(
        BIN,
        &dir.path().join("data"),
        &[
            ("FACEPRINT_APP__SIGNUP_REQUIRES_LIVENESS", "false"),
            ("FACEPRINT_APP__LOGIN_REQUIRES_LIVENESS", "false"),
        ],
    )
    .await;
    let base = server.base.clone();
    let client = reqwest::Client::new();
    for (name, email, rel) in [
        (
            "Barack Obama",
            "obama@example.com",
            "dev/faces/named/obama_obama.jpg",
        ),
        (
            "Joe Biden",
            "biden@example.com",
            "dev/faces/named/biden_biden.jpg",
        ),
    ] {
        let form = reqwest::multipart::Form::new()
            .text("name", name)
            .text("email", email)
            .part(
                "photo",
                reqwest::multipart::Part::bytes(photo(rel)).file_name("p.jpg"),
            );
        let r = client
            .post(format!("{base}/api/auth/signup"))
            .multipart(form)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201, "signup of {name}");
    }
    // Each alone: in, as themselves.
    for rel in [
        "dev/faces/named/obama_obama2.jpg",
        "dev/faces/named/biden_biden2.jpg",
    ] {
        let (status, body) = login(&client, &base, photo(rel)).await;
        assert_eq!(status, 200, "{rel}: {body}");
    }
    // Both in one photo (the dev set's, and one made here from their two login photos side by
    // side): refused, whoever is larger.
    let side_by_side = {
        let a = image::load_from_memory(&photo("dev/faces/named/obama_obama2.jpg")).unwrap();
        let b = image::load_from_memory(&photo("dev/faces/named/biden_biden2.jpg")).unwrap();
        let h = a.height().max(b.height());
        let mut both = image::RgbImage::new(a.width() + b.width(), h);
        image::imageops::overlay(&mut both, &a.to_rgb8(), 0, 0);
        image::imageops::overlay(&mut both, &b.to_rgb8(), i64::from(a.width()), 0);
        let mut out = std::io::Cursor::new(Vec::new());
        both.write_to(&mut out, image::ImageFormat::Jpeg).unwrap();
        out.into_inner()
    };
    for (what, bytes) in [
        (
            "the dev set's photo of both",
            photo("dev/faces/named/test_obama_and_biden.jpg"),
        ),
        ("the two login photos side by side", side_by_side),
    ] {
        let (status, body) = login(&client, &base, bytes).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (422, Some("multiple_faces")),
            "{what}: {body}"
        );
        assert!(
            body["details"]["faces"].as_u64() >= Some(2),
            "{what}: {body}"
        );
        assert!(body.get("access_token").is_none(), "{what}: {body}");
    }
}
