//! Login sessions and refresh tokens.
//!
//! A login opens a session (one refresh-token *family*). Refreshing rotates: the presented
//! token is marked used and a new one is issued, in one immediate transaction, so two racing
//! refreshes cannot both win. Presenting a token that was already used means it was copied:
//! the whole family is revoked. Access tokens name their session; the extractor refuses them
//! once it is revoked or expired.

use super::{random_token, token_hash};
use crate::db::now_ms;
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
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
    conn: &mut Connection,
    principal: &str,
    role: &str,
    ttl_secs: u64,
    client: &ClientInfo,
) -> rusqlite::Result<Opened> {
    let id = uuid::Uuid::new_v4().to_string();
    let token = random_token("fpr_");
    let now = now_ms();
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    tx.execute(
        "INSERT INTO sessions (id, principal, role, created_ms, last_used_ms, expires_ms, user_agent, ip)
         VALUES (?1, ?2, ?3, ?4, ?4, ?5, ?6, ?7)",
        params![id, principal, role, now, now + ttl_secs as i64 * 1000, client.user_agent.as_deref().map(|s| truncate(s, 256)), client.ip],
    )?;
    tx.execute(
        "INSERT INTO refresh_tokens (hash, session_id, created_ms) VALUES (?1, ?2, ?3)",
        params![token_hash(&token), id, now],
    )?;
    tx.commit()?;
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
pub fn rotate(
    conn: &mut Connection,
    token: &str,
) -> rusqlite::Result<Result<Rotated, RefreshRefused>> {
    let now = now_ms();
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    type Row = (String, Option<i64>, String, String, Option<i64>, i64);
    let row: Option<Row> = tx
        .query_row(
            "SELECT t.session_id, t.used_ms, s.principal, s.role, s.revoked_ms, s.expires_ms
             FROM refresh_tokens t JOIN sessions s ON s.id = t.session_id WHERE t.hash = ?1",
            [token_hash(token)],
            |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                ))
            },
        )
        .optional()?;
    let Some((session_id, used, principal, role, revoked, expires)) = row else {
        return Ok(Err(RefreshRefused::Unknown));
    };
    if revoked.is_some() {
        return Ok(Err(RefreshRefused::Revoked));
    }
    if used.is_some() {
        tx.execute(
            "UPDATE sessions SET revoked_ms = ?2, revoke_reason = 'refresh_token_reuse' WHERE id = ?1",
            params![session_id, now],
        )?;
        tx.commit()?;
        return Ok(Err(RefreshRefused::Reused {
            session_id,
            principal,
        }));
    }
    if expires <= now {
        return Ok(Err(RefreshRefused::Expired));
    }
    let new_token = random_token("fpr_");
    tx.execute(
        "UPDATE refresh_tokens SET used_ms = ?2 WHERE hash = ?1",
        params![token_hash(token), now],
    )?;
    tx.execute(
        "INSERT INTO refresh_tokens (hash, session_id, created_ms) VALUES (?1, ?2, ?3)",
        params![token_hash(&new_token), session_id, now],
    )?;
    tx.execute(
        "UPDATE sessions SET last_used_ms = ?2 WHERE id = ?1",
        params![session_id, now],
    )?;
    tx.commit()?;
    Ok(Ok(Rotated {
        session_id,
        principal,
        role,
        refresh_token: new_token,
    }))
}

/// Whether the session is open (not revoked, not expired) and belongs to `principal`.
pub fn is_active(conn: &Connection, session_id: &str, principal: &str) -> rusqlite::Result<bool> {
    let row: Option<(String, Option<i64>, i64)> = conn
        .query_row(
            "SELECT principal, revoked_ms, expires_ms FROM sessions WHERE id = ?1",
            [session_id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    Ok(matches!(row, Some((p, None, exp)) if p == principal && exp > now_ms()))
}

/// Revokes one session of `principal`; false when it has no such open session.
pub fn revoke(
    conn: &Connection,
    principal: &str,
    session_id: &str,
    reason: &str,
) -> rusqlite::Result<bool> {
    let n = conn.execute(
        "UPDATE sessions SET revoked_ms = ?3, revoke_reason = ?4 WHERE id = ?1 AND principal = ?2 AND revoked_ms IS NULL",
        params![session_id, principal, now_ms(), reason],
    )?;
    Ok(n > 0)
}

/// Revokes every open session of `principal` except `keep`; returns how many.
pub fn revoke_all(
    conn: &Connection,
    principal: &str,
    keep: Option<&str>,
    reason: &str,
) -> rusqlite::Result<usize> {
    conn.execute(
        "UPDATE sessions SET revoked_ms = ?3, revoke_reason = ?4
         WHERE principal = ?1 AND revoked_ms IS NULL AND id IS NOT ?2",
        params![principal, keep, now_ms(), reason],
    )
}

/// Deletes every session of `principal` (account deletion).
pub fn delete_all(conn: &Connection, principal: &str) -> rusqlite::Result<usize> {
    conn.execute("DELETE FROM sessions WHERE principal = ?1", [principal])
}

/// Open sessions of `principal`, newest first.
pub fn list_open(
    conn: &Connection,
    principal: &str,
    current: &str,
) -> rusqlite::Result<Vec<SessionInfo>> {
    let mut st = conn.prepare(
        "SELECT id, created_ms, last_used_ms, expires_ms, user_agent, ip FROM sessions
         WHERE principal = ?1 AND revoked_ms IS NULL AND expires_ms > ?2 ORDER BY created_ms DESC",
    )?;
    let rows = st.query_map(params![principal, now_ms()], |r| {
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
    })?;
    rows.collect()
}

/// Open sessions over all principals (admin statistics).
pub fn count_open(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row(
        "SELECT COUNT(*) FROM sessions WHERE revoked_ms IS NULL AND expires_ms > ?1",
        [now_ms()],
        |r| r.get(0),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::{Db, COMMON_MIGRATIONS};

    fn db() -> (tempfile_dir::Dir, Db) {
        let dir = tempfile_dir::Dir::new();
        let db = Db::open(dir.0.join("s.db"), 2).unwrap();
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
