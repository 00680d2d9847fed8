//! Every route against every role: allowed (any answer past the role check: 2xx, or 404 /
//! 409 / 422 for the request itself) or refused (403; 404 for another user's case, whose
//! existence is not theirs to know). The table is printed.

mod desk;

use axum::http::{Method, StatusCode};
use desk::*;
use faceprint_server::testing::{req, Form};
use serde_json::json;

#[derive(Clone, Copy, Debug, PartialEq)]
enum Want {
    Allowed,
    Forbidden,
    Hidden,
}
use Want::*;

/// Method, path, JSON body, whether it is a multipart upload, and what each caller should get:
/// the owner, another user, a verifier, an administrator, an auditor.
type Route = (Method, String, Option<serde_json::Value>, bool, [Want; 5]);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_admits_exactly_its_roles() {
    let desk = Desk::new(Some(SPECIMEN_VALID_MS), |_| {}).await;
    let (_, owner) = desk.user("owner").await;
    let (_, other) = desk.user("other").await;
    let id = desk.start(&owner).await;
    let callers = [
        ("owner", owner.clone()),
        ("other user", other.clone()),
        ("verifier", desk.verifier.clone()),
        ("admin", desk.admin.clone()),
        ("auditor", desk.auditor.clone()),
    ];
    let coffee = faceprint_server::testing::photo("dev/hard/non_face/skimage_coffee.png");
    let case = format!("/api/verifications/{id}");
    let routes: Vec<Route> = vec![
        (
            Method::GET,
            "/api/verifications".into(),
            None,
            false,
            [Allowed, Allowed, Allowed, Allowed, Allowed],
        ),
        (
            Method::POST,
            "/api/verifications".into(),
            Some(json!({})),
            false,
            [Allowed, Allowed, Forbidden, Forbidden, Forbidden],
        ),
        (
            Method::GET,
            case.clone(),
            None,
            false,
            [Allowed, Hidden, Allowed, Allowed, Allowed],
        ),
        (
            Method::POST,
            format!("{case}/document"),
            None,
            true,
            [Allowed, Hidden, Forbidden, Forbidden, Forbidden],
        ),
        (
            Method::POST,
            format!("{case}/selfie"),
            None,
            true,
            [Allowed, Hidden, Forbidden, Forbidden, Forbidden],
        ),
        (
            Method::POST,
            format!("{case}/liveness"),
            Some(json!({})),
            false,
            [Allowed, Hidden, Forbidden, Forbidden, Forbidden],
        ),
        (
            Method::GET,
            format!("{case}/images/document_front"),
            None,
            false,
            [Allowed, Hidden, Allowed, Allowed, Forbidden],
        ),
        (
            Method::GET,
            "/api/review/queue".into(),
            None,
            false,
            [Forbidden, Forbidden, Allowed, Allowed, Forbidden],
        ),
        (
            Method::POST,
            format!("{case}/review"),
            Some(json!({"decision": "approved", "reason": "ok"})),
            false,
            [Forbidden, Forbidden, Allowed, Allowed, Forbidden],
        ),
        (
            Method::GET,
            "/api/admin/audit".into(),
            None,
            false,
            [Forbidden, Forbidden, Forbidden, Allowed, Allowed],
        ),
        (
            Method::GET,
            "/api/admin/webhooks".into(),
            None,
            false,
            [Forbidden, Forbidden, Forbidden, Allowed, Forbidden],
        ),
        (
            Method::GET,
            "/api/me/export".into(),
            None,
            false,
            [Allowed, Allowed, Forbidden, Forbidden, Forbidden],
        ),
        (
            Method::DELETE,
            "/api/users/nobody".into(),
            None,
            false,
            [Forbidden, Forbidden, Forbidden, Allowed, Forbidden],
        ),
    ];
    println!(
        "{:<48} {:>10} {:>10} {:>10} {:>10} {:>10}",
        "route", "owner", "other", "verifier", "admin", "auditor"
    );
    let mut wrong = Vec::new();
    for (method, path, body, multipart, wants) in &routes {
        let mut line = format!("{:<48}", format!("{method} {}", path.replace(&id, "{id}")));
        for ((who, token), want) in callers.iter().zip(wants) {
            let r = if *multipart {
                let field = if path.ends_with("document") {
                    "front"
                } else {
                    "selfie"
                };
                let form = Form::new().file(field, coffee.clone());
                desk.client.post_form(path, Some(token), &form).await
            } else if let Some(b) = body {
                let builder = req(method.clone(), path, Some(token))
                    .header("content-type", "application/json");
                desk.client
                    .call(builder.body(axum::body::Body::from(b.to_string())).unwrap())
                    .await
            } else {
                desk.client
                    .call(
                        req(method.clone(), path, Some(token))
                            .body(axum::body::Body::empty())
                            .unwrap(),
                    )
                    .await
            };
            let got = match r.status {
                StatusCode::FORBIDDEN => Forbidden,
                StatusCode::NOT_FOUND if r.json["message"] == "no such verification" => Hidden,
                s if s == StatusCode::UNAUTHORIZED || s.is_server_error() => {
                    panic!("{method} {path} as {who}: {} {}", r.status, r.text)
                }
                _ => Allowed,
            };
            line.push_str(&format!(" {:>10}", r.status.as_u16()));
            if got != *want {
                wrong.push(format!(
                    "{method} {path} as {who}: {:?} ({}), wanted {want:?}",
                    got, r.text
                ));
            }
        }
        println!("{line}");
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
    // Without a token: 401 everywhere but registration and login.
    let r = desk.client.get("/api/verifications", None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    // Erasing the signed-in account is the user's own act.
    for token in [&desk.verifier, &desk.admin, &desk.auditor] {
        let r = desk.client.delete("/api/me", Some(token)).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
    }
}
