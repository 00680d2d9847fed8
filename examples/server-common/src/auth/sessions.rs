//! Login sessions and refresh tokens.
//!
//! A login opens a session (one refresh-token *family*). Refreshing rotates: the presented
//! token is marked used and a new one is issued, in one immediate transaction, so two racing
//! refreshes cannot both win. Presenting a token that was already used means it was copied:
//! the whole family is revoked. Access tokens name their session; the extractor refuses them
//! once it is revoked or expired.

use super::{random_token, token_hash};
use crate::args;
use crate::db::{now_ms, DbResult, Sql};
use serde::Serialize;

/// What a login or refresh answers.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct IssuedTokens {
    pub access_token: String,
    pub refresh_token: String,
    pub token_type: &'static str,
    /// Seconds the access token lives.
    pub expires_in: u64,
    pub session_id: String,
}

/// A login session as its owner sees it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SessionInfo {
    pub id: String,
    pub created_ms: i64,
    pub last_used_ms: i64,
    pub expires_ms: i64,
    pub user_agent: Option<String>,
    pub ip: Option<String>,
    pub current: bool,
}

/// Where a login came from (stored with the session, shown to its owner).
#[derive(Debug, Clone, Default)]
pub struct ClientInfo {
    pub user_agent: Option<String>,
    pub ip: Option<String>,
}

/// Why a refresh was refused (all answer the same 401; the log gets the reason).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefreshRefused {
    Unknown,
    Reused {
        session_id: String,
        principal: String,
    },
    Revoked,
    Expired,
}

/// The new refresh token and the session it belongs to.
pub struct Opened {
    pub session_id: String,
    pub refresh_token: String,
}

#[derive(Debug)]
pub struct Rotated {
    pub session_id: String,
    pub principal: String,
    pub role: String,
    pub refresh_token: String,
}

/// Opens a session for `principal` and returns its first refresh token.
pub fn open(
    c: &mut Sql<'_>,
    principal: &str,
    role: &str,
    ttl_secs: u64,
    client: &ClientInfo,
) -> DbResult<Opened> {
    let id = uuid::Uuid::new_v4().to_string();
    let token = random_token("fpr_");
    let now = now_ms();
    c.atomic(|c| {
        c.execute(
            "INSERT INTO sessions (id, principal, role, created_ms, last_used_ms, expires_ms, user_agent, ip)
             VALUES (?1, ?2, ?3, ?4, ?4, ?5, ?6, ?7)",
            args![
                &id,
                principal,
                role,
                now,
                now + ttl_secs as i64 * 1000,
                client.user_agent.as_deref().map(|s| truncate(s, 256)),
                &client.ip
            ],
        )?;
        c.execute(
            "INSERT INTO refresh_tokens (hash, session_id, created_ms) VALUES (?1, ?2, ?3)",
            args![token_hash(&token), &id, now],
        )
    })?;
    Ok(Opened {
        session_id: id,
        refresh_token: token,
    })
}

fn truncate(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

/// Rotates `token`: marks it used and returns a new one, or says why not (a reused token
/// revokes its family before answering).
pub fn rotate(c: &mut Sql<'_>, token: &str) -> DbResult<Result<Rotated, RefreshRefused>> {
    let now = now_ms();
    c.atomic(|c| {
        let Some(row) = c.query_opt(
            "SELECT t.session_id, t.used_ms, s.principal, s.role, s.revoked_ms, s.expires_ms
             FROM refresh_tokens t JOIN sessions s ON s.id = t.session_id WHERE t.hash = ?1",
            args![token_hash(token)],
        )?
        else {
            return Ok(Err(RefreshRefused::Unknown));
        };
        let session_id: String = row.get(0)?;
        let principal: String = row.get(2)?;
        if row.get::<Option<i64>>(4)?.is_some() {
            return Ok(Err(RefreshRefused::Revoked));
        }
        if row.get::<Option<i64>>(1)?.is_some() {
            c.execute(
                "UPDATE sessions SET revoked_ms = ?2, revoke_reason = 'refresh_token_reuse' WHERE id = ?1",
                args![&session_id, now],
            )?;
            return Ok(Err(RefreshRefused::Reused {
                session_id,
                principal,
            }));
        }
        if row.get::<i64>(5)? <= now {
            return Ok(Err(RefreshRefused::Expired));
        }
        let new_token = random_token("fpr_");
        c.execute(
            "UPDATE refresh_tokens SET used_ms = ?2 WHERE hash = ?1",
            args![token_hash(token), now],
        )?;
        c.execute(
            "INSERT INTO refresh_tokens (hash, session_id, created_ms) VALUES (?1, ?2, ?3)",
            args![token_hash(&new_token), &session_id, now],
        )?;
        c.execute(
            "UPDATE sessions SET last_used_ms = ?2 WHERE id = ?1",
            args![&session_id, now],
        )?;
        Ok(Ok(Rotated {
            session_id,
            principal,
            role: row.get(3)?,
            refresh_token: new_token,
        }))
    })
}

/// Whether the session is open (not revoked, not expired) and belongs to `principal`.
pub fn is_active(c: &mut Sql<'_>, session_id: &str, principal: &str) -> DbResult<bool> {
    let Some(row) = c.query_opt(
        "SELECT principal, revoked_ms, expires_ms FROM sessions WHERE id = ?1",
        args![session_id],
    )?
    else {
        return Ok(false);
    };
    Ok(row.get::<String>(0)? == principal
        && row.get::<Option<i64>>(1)?.is_none()
        && row.get::<i64>(2)? > now_ms())
}

/// Revokes one session of `principal`; false when it has no such open session.
pub fn revoke(c: &mut Sql<'_>, principal: &str, session_id: &str, reason: &str) -> DbResult<bool> {
    let n = c.execute(
        "UPDATE sessions SET revoked_ms = ?3, revoke_reason = ?4 WHERE id = ?1 AND principal = ?2 AND revoked_ms IS NULL",
        args![session_id, principal, now_ms(), reason],
    )?;
    Ok(n > 0)
}

/// Revokes every open session of `principal` except `keep`; returns how many.
pub fn revoke_all(
    c: &mut Sql<'_>,
    principal: &str,
    keep: Option<&str>,
    reason: &str,
) -> DbResult<usize> {
    let n = c.execute(
        "UPDATE sessions SET revoked_ms = ?3, revoke_reason = ?4
         WHERE principal = ?1 AND revoked_ms IS NULL AND id IS DISTINCT FROM ?2",
        args![principal, keep, now_ms(), reason],
    )?;
    Ok(n as usize)
}

/// Deletes every session of `principal` (account deletion).
pub fn delete_all(c: &mut Sql<'_>, principal: &str) -> DbResult<usize> {
    let n = c.execute(
        "DELETE FROM sessions WHERE principal = ?1",
        args![principal],
    )?;
    Ok(n as usize)
}

/// Open sessions of `principal`, newest first.
pub fn list_open(c: &mut Sql<'_>, principal: &str, current: &str) -> DbResult<Vec<SessionInfo>> {
    c.query(
        "SELECT id, created_ms, last_used_ms, expires_ms, user_agent, ip FROM sessions
         WHERE principal = ?1 AND revoked_ms IS NULL AND expires_ms > ?2 ORDER BY created_ms DESC",
        args![principal, now_ms()],
    )?
    .iter()
    .map(|r| {
        let id: String = r.get(0)?;
        Ok(SessionInfo {
            current: id == current,
            id,
            created_ms: r.get(1)?,
            last_used_ms: r.get(2)?,
            expires_ms: r.get(3)?,
            user_agent: r.get(4)?,
            ip: r.get(5)?,
        })
    })
    .collect()
}

/// Open sessions over all principals (admin statistics).
pub fn count_open(c: &mut Sql<'_>) -> DbResult<i64> {
    c.query_one(
        "SELECT COUNT(*) FROM sessions WHERE revoked_ms IS NULL AND expires_ms > ?1",
        args![now_ms()],
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::{Db, Location, COMMON_MIGRATIONS};

    fn db() -> (tempfile_dir::Dir, Db) {
        let dir = tempfile_dir::Dir::new();
        let db = Db::open(&Location::Sqlite(dir.0.join("s.db")), 2).unwrap();
        db.migrate(&COMMON_MIGRATIONS).unwrap();
        (dir, db)
    }

    mod tempfile_dir {
        pub struct Dir(pub std::path::PathBuf);
        impl Dir {
            pub fn new() -> Dir {
                let p = std::env::temp_dir().join(format!("fp-sessions-{}", uuid::Uuid::new_v4()));
                std::fs::create_dir_all(&p).unwrap();
                Dir(p)
            }
        }
        impl Drop for Dir {
            fn drop(&mut self) {
                let _ = std::fs::remove_dir_all(&self.0);
            }
        }
    }

    #[test]
    fn rotation_kills_the_used_token_and_reuse_revokes_the_family() {
        let (_d, db) = db();
        db.with(|c| {
            let o = open(c, "user:a", "user", 3600, &ClientInfo::default())?;
            let r1 = rotate(c, &o.refresh_token)?.unwrap();
            assert_eq!(r1.session_id, o.session_id);
            assert!(is_active(c, &o.session_id, "user:a")?);
            // The first token again: reuse → the family is revoked, the new token dies too.
            let reused = rotate(c, &o.refresh_token)?.unwrap_err();
            assert!(matches!(reused, RefreshRefused::Reused { .. }));
            assert!(!is_active(c, &o.session_id, "user:a")?);
            assert_eq!(
                rotate(c, &r1.refresh_token)?.err(),
                Some(RefreshRefused::Revoked)
            );
            assert_eq!(
                rotate(c, "fpr_nonsense")?.err(),
                Some(RefreshRefused::Unknown)
            );
            Ok(())
        })
        .unwrap();
    }

    #[test]
    fn revoking_others_keeps_the_current_session() {
        let (_d, db) = db();
        db.with(|c| {
            let a = open(c, "user:a", "user", 3600, &ClientInfo::default())?;
            let b = open(c, "user:a", "user", 3600, &ClientInfo::default())?;
            let other = open(c, "user:b", "user", 3600, &ClientInfo::default())?;
            assert_eq!(revoke_all(c, "user:a", Some(&a.session_id), "others")?, 1);
            assert!(is_active(c, &a.session_id, "user:a")?);
            assert!(!is_active(c, &b.session_id, "user:a")?);
            assert!(is_active(c, &other.session_id, "user:b")?);
            // Not the owner's session: nothing happens.
            assert!(!revoke(c, "user:a", &other.session_id, "x")?);
            assert_eq!(list_open(c, "user:a", &a.session_id)?.len(), 1);
            Ok(())
        })
        .unwrap();
    }
}
