//! A server process as a client sees it: an administrator signed in over HTTP.
#![allow(dead_code)]

use serde_json::{json, Value};

pub struct Api {
    pub http: reqwest::Client,
    pub base: String,
    pub token: String,
}

impl Api {
    pub async fn login(base: &str) -> Api {
        Api::login_as(base, "root", "a long test password").await
    }

    /// Signed in as the staff account `username`.
    pub async fn login_as(base: &str, username: &str, password: &str) -> Api {
        let http = reqwest::Client::new();
        let r: Value = http
            .post(format!("{base}/api/auth/admin/login"))
            .json(&json!({"username": username, "password": password}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        Api {
            token: r["access_token"].as_str().expect("a token").to_string(),
            http,
            base: base.to_string(),
        }
    }

    pub async fn get(&self, path: &str) -> Value {
        self.http
            .get(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// The status and JSON body of a POST, whatever the status.
    pub async fn try_post(&self, path: &str, body: Value) -> (u16, Value) {
        let r = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
    }

    pub async fn post(&self, path: &str, body: Value) -> Value {
        let r = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{path}: {}", r.status());
        r.json().await.unwrap()
    }
}
