//! SQL of identity: users, sessions, refresh tokens, API tokens, instance settings.

use std::time::Duration;

use rusqlite::{params, Connection, OptionalExtension, Row};

use super::{Actor, AuthVia, RefreshOutcome, Registration, UserView};
use crate::error::AppError;
use crate::time::{now, now_rfc3339, rfc3339};

fn user_view(r: &Row<'_>) -> rusqlite::Result<UserView> {
    Ok(UserView {
        id: r.get("id")?,
        email: r.get("email")?,
        display_name: r.get("display_name")?,
        is_instance_admin: r.get::<_, i64>("is_instance_admin")? != 0,
        has_password: r.get::<_, i64>("has_password")? != 0,
        created_at: r.get("created_at")?,
    })
}

const USER_COLS: &str = "id, email, display_name, is_instance_admin, has_password, created_at";

pub(crate) fn user_count(c: &Connection) -> rusqlite::Result<i64> {
    c.query_row("SELECT COUNT(*) FROM users WHERE deleted_at IS NULL", [], |r| r.get(0))
}

pub(crate) fn registration(c: &Connection) -> rusqlite::Result<Registration> {
    let v: Option<String> = c
        .query_row(
            "SELECT value FROM instance_settings WHERE key = 'registration'",
            [],
            |r| r.get(0),
        )
        .optional()?;
    Ok(v.as_deref().and_then(Registration::parse).unwrap_or(Registration::Open))
}

pub(crate) fn setting(c: &Connection, key: &str) -> rusqlite::Result<Option<String>> {
    c.query_row("SELECT value FROM instance_settings WHERE key = ?1", [key], |r| {
        r.get(0)
    })
    .optional()
}

pub(crate) fn set_setting(c: &Connection, key: &str, value: &str) -> rusqlite::Result<()> {
    c.execute(
        "INSERT INTO instance_settings (key, value) VALUES (?1, ?2)
         ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        [key, value],
    )?;
    Ok(())
}

pub(crate) fn set_registration(c: &Connection, r: Registration) -> rusqlite::Result<()> {
    c.execute(
        "INSERT INTO instance_settings (key, value) VALUES ('registration', ?1)
         ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        [r.as_str()],
    )?;
    Ok(())
}

pub(crate) fn user_by_email(c: &Connection, email: &str) -> rusqlite::Result<Option<UserView>> {
    c.query_row(
        &format!("SELECT {USER_COLS} FROM users WHERE email = ?1 AND deleted_at IS NULL"),
        [email],
        user_view,
    )
    .optional()
}

pub(crate) fn user_by_id(c: &Connection, id: &str) -> rusqlite::Result<Option<UserView>> {
    c.query_row(
        &format!("SELECT {USER_COLS} FROM users WHERE id = ?1 AND deleted_at IS NULL"),
        [id],
        user_view,
    )
    .optional()
}

pub(crate) fn credentials_by_email(c: &Connection, email: &str) -> rusqlite::Result<Option<(UserView, String)>> {
    c.query_row(
        &format!("SELECT {USER_COLS}, password_hash FROM users WHERE email = ?1 AND deleted_at IS NULL"),
        [email],
        |r| Ok((user_view(r)?, r.get("password_hash")?)),
    )
    .optional()
}

/// The password hash of an account, and whether its owner ever set a password.
pub(crate) fn credentials_by_id(c: &Connection, id: &str) -> rusqlite::Result<Option<(String, bool)>> {
    c.query_row(
        "SELECT password_hash, has_password FROM users WHERE id = ?1 AND deleted_at IS NULL",
        [id],
        |r| Ok((r.get("password_hash")?, r.get::<_, i64>("has_password")? != 0)),
    )
    .optional()
}

pub(crate) fn insert_user(
    c: &Connection,
    email: &str,
    display_name: &str,
    hash: &str,
    admin: bool,
) -> rusqlite::Result<UserView> {
    insert_user_as(c, &crate::new_id(), email, display_name, hash, admin)
}

/// Inserts an account under a given id (a device adopting its user's account from the
/// server it pairs with, so the records it syncs name the same person).
pub(crate) fn insert_user_as(
    c: &Connection,
    id: &str,
    email: &str,
    display_name: &str,
    hash: &str,
    admin: bool,
) -> rusqlite::Result<UserView> {
    let id = id.to_string();
    let now = now_rfc3339();
    c.execute(
        "INSERT INTO users (id, email, display_name, password_hash, is_instance_admin, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
        params![id, email, display_name, hash, i64::from(admin), now],
    )?;
    Ok(UserView {
        id,
        email: email.to_string(),
        display_name: display_name.to_string(),
        is_instance_admin: admin,
        has_password: true,
        created_at: now,
    })
}

/// Marks an account as having no password its owner knows (the desktop's local owner).
pub(crate) fn clear_has_password(c: &Connection, id: &str) -> rusqlite::Result<()> {
    c.execute("UPDATE users SET has_password = 0 WHERE id = ?1", [id])?;
    Ok(())
}

pub(crate) fn set_display_name(c: &Connection, id: &str, name: &str) -> rusqlite::Result<()> {
    c.execute(
        "UPDATE users SET display_name = ?2, updated_at = ?3 WHERE id = ?1",
        params![id, name, now_rfc3339()],
    )?;
    Ok(())
}

pub(crate) fn set_password(c: &Connection, id: &str, hash: &str) -> rusqlite::Result<()> {
    c.execute(
        "UPDATE users SET password_hash = ?2, has_password = 1, updated_at = ?3 WHERE id = ?1",
        params![id, hash, now_rfc3339()],
    )?;
    Ok(())
}

pub(crate) fn insert_session(c: &Connection, user_id: &str) -> rusqlite::Result<String> {
    let id = crate::new_id();
    c.execute(
        "INSERT INTO sessions (id, user_id, created_at) VALUES (?1, ?2, ?3)",
        params![id, user_id, now_rfc3339()],
    )?;
    Ok(id)
}

pub(crate) fn insert_refresh(c: &Connection, hash: &str, session_id: &str, ttl: Duration) -> rusqlite::Result<()> {
    let now = now();
    let exp = now + chrono::Duration::seconds(ttl.as_secs() as i64);
    c.execute(
        "INSERT INTO refresh_tokens (token_hash, session_id, created_at, expires_at) VALUES (?1, ?2, ?3, ?4)",
        params![hash, session_id, rfc3339(now), rfc3339(exp)],
    )?;
    Ok(())
}

pub(crate) fn revoke_session(c: &Connection, id: &str, reason: &str) -> rusqlite::Result<()> {
    c.execute(
        "UPDATE sessions SET revoked_at = ?2, revoke_reason = ?3 WHERE id = ?1 AND revoked_at IS NULL",
        params![id, now_rfc3339(), reason],
    )?;
    Ok(())
}

pub(crate) fn revoke_sessions_except(
    c: &Connection,
    user_id: &str,
    keep: Option<&str>,
    reason: &str,
) -> rusqlite::Result<usize> {
    c.execute(
        "UPDATE sessions SET revoked_at = ?3, revoke_reason = ?4
         WHERE user_id = ?1 AND revoked_at IS NULL AND id IS NOT ?2",
        params![user_id, keep, now_rfc3339(), reason],
    )
}

/// Revokes every live API token of a user; answers how many.
pub(crate) fn revoke_api_tokens(c: &Connection, user_id: &str) -> rusqlite::Result<usize> {
    c.execute(
        "UPDATE api_tokens SET revoked_at = ?2 WHERE user_id = ?1 AND revoked_at IS NULL",
        params![user_id, now_rfc3339()],
    )
}

pub(crate) fn rotate_refresh(
    c: &Connection,
    hash: &str,
    new_hash: &str,
    ttl: Duration,
) -> Result<RefreshOutcome, AppError> {
    // (session, used_at, expires_at, user, session revoked_at)
    type Found = (String, Option<String>, String, String, Option<String>);
    let row: Option<Found> = c
        .query_row(
            "SELECT t.session_id, t.used_at, t.expires_at, s.user_id, s.revoked_at
             FROM refresh_tokens t JOIN sessions s ON s.id = t.session_id
             WHERE t.token_hash = ?1",
            [hash],
            |r| {
                Ok((
                    r.get("session_id")?,
                    r.get("used_at")?,
                    r.get("expires_at")?,
                    r.get("user_id")?,
                    r.get("revoked_at")?,
                ))
            },
        )
        .optional()?;
    let Some((session_id, used_at, expires_at, user_id, revoked_at)) = row else {
        return Ok(RefreshOutcome::Invalid);
    };
    if revoked_at.is_some() {
        return Ok(RefreshOutcome::Invalid);
    }
    if used_at.is_some() {
        revoke_session(c, &session_id, "refresh_token_reused")?;
        return Ok(RefreshOutcome::Reused);
    }
    let now_s = now_rfc3339();
    if expires_at <= now_s {
        return Ok(RefreshOutcome::Invalid);
    }
    c.execute(
        "UPDATE refresh_tokens SET used_at = ?2 WHERE token_hash = ?1",
        params![hash, now_s],
    )?;
    insert_refresh(c, new_hash, &session_id, ttl)?;
    Ok(RefreshOutcome::Rotated {
        user_id,
        session_id,
        refresh_token: String::new(),
    })
}

pub(crate) fn actor_by_session(c: &Connection, user_id: &str, session_id: &str) -> rusqlite::Result<Option<Actor>> {
    c.query_row(
        "SELECT u.id, u.email, u.display_name, u.is_instance_admin
         FROM sessions s JOIN users u ON u.id = s.user_id
         WHERE s.id = ?1 AND s.user_id = ?2 AND s.revoked_at IS NULL AND u.deleted_at IS NULL",
        params![session_id, user_id],
        |r| {
            Ok(Actor {
                user_id: r.get("id")?,
                email: r.get("email")?,
                display_name: r.get("display_name")?,
                is_instance_admin: r.get::<_, i64>("is_instance_admin")? != 0,
                via: AuthVia::Session {
                    session_id: session_id.to_string(),
                },
            })
        },
    )
    .optional()
}

/// The actor of a live API token, with the token's `last_used_at`.
pub(crate) fn actor_by_api_token(
    c: &Connection,
    hash: &str,
    now: &str,
) -> rusqlite::Result<Option<(Actor, Option<String>)>> {
    c.query_row(
        "SELECT u.id, u.email, u.display_name, u.is_instance_admin, t.id AS token_id, t.last_used_at
         FROM api_tokens t JOIN users u ON u.id = t.user_id
         WHERE t.token_hash = ?1 AND t.revoked_at IS NULL
           AND (t.expires_at IS NULL OR t.expires_at > ?2) AND u.deleted_at IS NULL",
        params![hash, now],
        |r| {
            let actor = Actor {
                user_id: r.get("id")?,
                email: r.get("email")?,
                display_name: r.get("display_name")?,
                is_instance_admin: r.get::<_, i64>("is_instance_admin")? != 0,
                via: AuthVia::ApiToken {
                    token_id: r.get("token_id")?,
                },
            };
            Ok((actor, r.get("last_used_at")?))
        },
    )
    .optional()
}

/// A personal API token as listed (never with its secret).
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct ApiTokenView {
    pub id: String,
    pub name: String,
    pub created_at: String,
    pub expires_at: Option<String>,
    pub last_used_at: Option<String>,
}

pub(crate) fn insert_api_token(
    c: &Connection,
    user_id: &str,
    name: &str,
    hash: &str,
    expires_at: Option<&str>,
) -> rusqlite::Result<ApiTokenView> {
    let id = crate::new_id();
    let now = now_rfc3339();
    c.execute(
        "INSERT INTO api_tokens (id, user_id, name, token_hash, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![id, user_id, name, hash, now, expires_at],
    )?;
    Ok(ApiTokenView {
        id,
        name: name.to_string(),
        created_at: now,
        expires_at: expires_at.map(str::to_string),
        last_used_at: None,
    })
}

pub(crate) fn list_api_tokens(
    c: &Connection,
    user_id: &str,
    limit: i64,
    offset: i64,
) -> rusqlite::Result<(Vec<ApiTokenView>, i64)> {
    let total: i64 = c.query_row(
        "SELECT COUNT(*) FROM api_tokens WHERE user_id = ?1 AND revoked_at IS NULL",
        [user_id],
        |r| r.get(0),
    )?;
    let mut stmt = c.prepare(
        "SELECT id, name, created_at, expires_at, last_used_at FROM api_tokens
         WHERE user_id = ?1 AND revoked_at IS NULL ORDER BY id DESC LIMIT ?2 OFFSET ?3",
    )?;
    let items = stmt
        .query_map(params![user_id, limit, offset], |r| {
            Ok(ApiTokenView {
                id: r.get("id")?,
                name: r.get("name")?,
                created_at: r.get("created_at")?,
                expires_at: r.get("expires_at")?,
                last_used_at: r.get("last_used_at")?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok((items, total))
}

/// Revokes a token of `user_id`; false when there is no such live token of theirs.
pub(crate) fn revoke_api_token(c: &Connection, user_id: &str, id: &str) -> rusqlite::Result<bool> {
    let n = c.execute(
        "UPDATE api_tokens SET revoked_at = ?3 WHERE id = ?1 AND user_id = ?2 AND revoked_at IS NULL",
        params![id, user_id, now_rfc3339()],
    )?;
    Ok(n == 1)
}

pub(crate) fn touch_api_token(c: &Connection, id: &str, at: &str) -> rusqlite::Result<()> {
    c.execute("UPDATE api_tokens SET last_used_at = ?2 WHERE id = ?1", params![id, at])?;
    Ok(())
}
