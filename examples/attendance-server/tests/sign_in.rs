//! Sign-in routes answer no token, so they are limited per client IP like the other servers':
//! guessing administrator passwords gets 429 with Retry-After.

mod site;

use axum::http::StatusCode;
use serde_json::json;
use site::Site;

#[tokio::test]
async fn password_guessing_from_one_address_gets_429() {
    // The site's own administrator login is the first request of the budget.
    let site = Site::new(|c| {
        c.rate_limit.per_ip_per_minute = 3;
        c.rate_limit.per_ip_burst = 3;
    })
    .await;
    let mut statuses = Vec::new();
    for _ in 0..4 {
        let r = site
            .client
            .post_json(
                "/api/auth/admin/login",
                None,
                json!({"username": "root", "password": "a wrong password guess"}),
            )
            .await;
        statuses.push(r.status);
        if r.status == StatusCode::TOO_MANY_REQUESTS {
            assert_eq!(r.code(), "rate_limited");
            assert!(r.headers.contains_key("retry-after"));
        }
    }
    assert_eq!(
        statuses,
        [
            StatusCode::UNAUTHORIZED,
            StatusCode::UNAUTHORIZED,
            StatusCode::TOO_MANY_REQUESTS,
            StatusCode::TOO_MANY_REQUESTS
        ]
    );
    // Signed-in routes are not behind the per-IP limit of the public ones.
    let r = site.client.get("/api/employees", Some(&site.token)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
}
