//! Who is calling: access tokens (JWT) over refresh-token sessions, API keys, passwords,
//! administrator accounts, and the extractors that put them in a handler's signature.

pub mod admins;
pub mod api_key;
pub mod extract;
pub mod flows;
pub mod jwt;
pub mod password;
pub mod sessions;

pub use extract::{AdminUser, AuditReader, AuthUser, MaybeAuthUser, QueryToken, Role};
pub use jwt::{Claims, TokenKeys};
pub use sessions::IssuedTokens;

use sha2::{Digest, Sha256};

/// A random secret of 32 bytes, base64url without padding, after `prefix`.
pub fn random_token(prefix: &str) -> String {
    use base64::Engine as _;
    use rand::RngCore;
    let mut b = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut b);
    format!(
        "{prefix}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
    )
}

/// Tokens and keys are stored as SHA-256: they are random, so no salt or slow hash is needed,
/// and a copy of the database gives nobody a usable token.
pub fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}
