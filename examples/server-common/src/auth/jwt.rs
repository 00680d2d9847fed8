//! Access tokens: HS256 JWTs, short-lived, bound to a login session (`sid`) that the extractor
//! checks is still open, so logout and revocation take effect at once. The algorithm, issuer,
//! audience and expiry are all checked; the `alg` in the header is never trusted.

use crate::error::ApiError;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::sync::Arc;
use zeroize::Zeroizing;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Claims {
    /// The principal: `user:<id>` or `admin:<id>`.
    pub sub: String,
    /// The login session this token belongs to.
    pub sid: String,
    pub role: String,
    pub iss: String,
    pub aud: String,
    pub iat: u64,
    pub exp: u64,
}

#[derive(Clone)]
pub struct TokenKeys(Arc<TokenKeysInner>);

struct TokenKeysInner {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    issuer: String,
    audience: String,
    access_ttl_secs: u64,
}

impl TokenKeys {
    pub fn new(secret: &[u8], issuer: &str, audience: &str, access_ttl_secs: u64) -> TokenKeys {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[issuer]);
        validation.set_audience(&[audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = 5;
        TokenKeys(Arc::new(TokenKeysInner {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            issuer: issuer.into(),
            audience: audience.into(),
            access_ttl_secs,
        }))
    }

    pub fn access_ttl_secs(&self) -> u64 {
        self.0.access_ttl_secs
    }

    pub fn issue(&self, principal: &str, session_id: &str, role: &str) -> Result<String, ApiError> {
        let now = crate::db::now_ms() as u64 / 1000;
        let claims = Claims {
            sub: principal.into(),
            sid: session_id.into(),
            role: role.into(),
            iss: self.0.issuer.clone(),
            aud: self.0.audience.clone(),
            iat: now,
            exp: now + self.0.access_ttl_secs,
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.0.encoding)
            .map_err(ApiError::internal)
    }

    /// Checks signature, algorithm, issuer, audience and expiry.
    pub fn decode(&self, token: &str) -> Result<Claims, ApiError> {
        jsonwebtoken::decode::<Claims>(token, &self.0.decoding, &self.0.validation)
            .map(|d| d.claims)
            .map_err(|e| ApiError::unauthorized(format!("access token refused: {e}")))
    }
}

/// The signing secret: from the config, from a file, or generated into `DATA/jwt.secret`
/// (mode 0600) on first start.
pub fn load_secret(
    config: &crate::config::TokenConfig,
    data_dir: &Path,
) -> Result<Zeroizing<Vec<u8>>, String> {
    if let Some(s) = &config.jwt_secret {
        return Ok(Zeroizing::new(s.as_bytes().to_vec()));
    }
    let path = match &config.jwt_secret_file {
        Some(p) => p.clone(),
        None => data_dir.join("jwt.secret"),
    };
    if path.exists() {
        let s =
            Zeroizing::new(std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?);
        let trimmed = Zeroizing::new(s.trim_ascii().to_vec());
        if trimmed.len() < 32 {
            return Err(format!(
                "{}: a JWT secret needs at least 32 bytes",
                path.display()
            ));
        }
        return Ok(trimmed);
    }
    if config.jwt_secret_file.is_some() {
        return Err(format!(
            "tokens.jwt_secret_file {} does not exist",
            path.display()
        ));
    }
    let secret = super::random_token("");
    crate::files::write_secret_file(&path, secret.as_bytes())?;
    tracing::warn!(path = %path.display(), "generated a new JWT signing secret; keep this file private and back it up with the data dir");
    Ok(Zeroizing::new(secret.into_bytes()))
}

/// The signing secret kept in the server's database, sealed under the master key: the first
/// node to start makes it, every other node reads it, so a token one node issued the others
/// accept (`server.database` without a configured secret).
pub fn shared_secret(
    db: &crate::db::Db,
    key: &faceprint::store::MasterKey,
) -> Result<Zeroizing<Vec<u8>>, String> {
    use crate::db::prelude::*;
    const CONTEXT: &[&str] = &["shared_secret", "jwt"];
    let sealed = db
        .write(|c| {
            let found: Option<Vec<u8>> = c
                .query_one(
                    "SELECT sealed FROM shared_secrets WHERE name = 'jwt'",
                    args![],
                )
                .optional()?;
            if let Some(sealed) = found {
                return Ok(sealed);
            }
            let secret = Zeroizing::new(super::random_token(""));
            let sealed = key
                .seal_blob(secret.as_bytes(), CONTEXT)
                .map_err(|e| DbError::Other(format!("sealing the JWT secret: {e}")))?;
            c.execute(
                "INSERT INTO shared_secrets (name, sealed) VALUES ('jwt', ?1)",
                args![&sealed],
            )?;
            tracing::info!("generated the JWT signing secret, kept sealed in the database");
            Ok(sealed)
        })
        .map_err(|e| format!("the JWT secret in the database: {e}"))?;
    key.open_blob(&sealed, CONTEXT).map_err(|e| {
        format!("the JWT secret in the database does not open with this FACEPRINT_KEY: {e}")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_checked_for_signature_audience_and_algorithm() {
        let keys = TokenKeys::new(&[7u8; 32], "faceprint", "auth", 60);
        let t = keys.issue("user:1", "s1", "user").unwrap();
        let c = keys.decode(&t).unwrap();
        assert_eq!((c.sub.as_str(), c.sid.as_str()), ("user:1", "s1"));
        // Another server's audience.
        let other = TokenKeys::new(&[7u8; 32], "faceprint", "kyc", 60);
        assert!(other.decode(&t).is_err());
        // Another secret.
        assert!(TokenKeys::new(&[8u8; 32], "faceprint", "auth", 60)
            .decode(&t)
            .is_err());
        // Tampered payload.
        let mut parts: Vec<String> = t.split('.').map(String::from).collect();
        parts[1] = parts[1].chars().rev().collect();
        assert!(keys.decode(&parts.join(".")).is_err());
        // alg: none.
        use base64::Engine as _;
        let none = format!(
            "{}.{}.",
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .encode(br#"{"alg":"none","typ":"JWT"}"#),
            t.split('.').nth(1).unwrap()
        );
        assert!(keys.decode(&none).is_err());
        // Expired.
        let expired = TokenKeys::new(&[7u8; 32], "faceprint", "auth", 0);
        let t = expired.issue("user:1", "s1", "user").unwrap();
        std::thread::sleep(std::time::Duration::from_millis(10));
        let mut strict = TokenKeys::new(&[7u8; 32], "faceprint", "auth", 0);
        Arc::get_mut(&mut strict.0).unwrap().validation.leeway = 0;
        std::thread::sleep(std::time::Duration::from_secs(1));
        assert!(strict.decode(&t).is_err());
    }
}
