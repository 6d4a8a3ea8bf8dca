//! SQL of workspaces, members and invitations (reads of the projection tables).

use rusqlite::{params, Connection, OptionalExtension, Row};

use super::{InvitationView, MemberView, WorkspaceView};
use crate::policy::WsRole;

const WS_COLS: &str = "w.id, w.name, w.slug, w.display_id, w.plan, w.created_at, w.updated_at, w.created_by";

fn ws_view(r: &Row<'_>, role: Option<WsRole>) -> rusqlite::Result<WorkspaceView> {
    Ok(WorkspaceView {
        id: r.get("id")?,
        name: r.get("name")?,
        slug: r.get("slug")?,
        display_id: r.get("display_id")?,
        plan: r.get("plan")?,
        created_at: r.get("created_at")?,
        updated_at: r.get("updated_at")?,
        created_by: r.get("created_by")?,
        role,
    })
}

/// The live workspace `slug` and the role `user_id` holds in it (None if not a member).
pub(crate) fn workspace_with_role(
    c: &Connection,
    slug: &str,
    user_id: &str,
) -> rusqlite::Result<Option<(WorkspaceView, Option<WsRole>)>> {
    let mut stmt = c.prepare_cached(&format!(
        "SELECT {WS_COLS}, m.role FROM workspaces w
         LEFT JOIN workspace_members m
           ON m.workspace_id = w.id AND m.user_id = ?2 AND m.deleted_at IS NULL
         WHERE w.slug = ?1 AND w.deleted_at IS NULL"
    ))?;
    stmt.query_row(params![slug, user_id], |r| {
        let role = r.get::<_, Option<String>>("role")?.as_deref().and_then(WsRole::parse);
        Ok((ws_view(r, role)?, role))
    })
    .optional()
}

pub(crate) fn slug_exists(c: &Connection, slug: &str) -> rusqlite::Result<bool> {
    c.query_row("SELECT EXISTS(SELECT 1 FROM workspaces WHERE slug = ?1)", [slug], |r| {
        r.get(0)
    })
}

pub(crate) fn live_id_of_slug(c: &Connection, slug: &str) -> rusqlite::Result<Option<String>> {
    c.query_row(
        "SELECT id FROM workspaces WHERE slug = ?1 AND deleted_at IS NULL",
        [slug],
        |r| r.get(0),
    )
    .optional()
}

pub(crate) fn member_count(c: &Connection, ws: &str) -> rusqlite::Result<i64> {
    c.query_row(
        "SELECT COUNT(*) FROM workspace_members WHERE workspace_id = ?1 AND deleted_at IS NULL",
        [ws],
        |r| r.get(0),
    )
}

pub(crate) fn display_id_of(c: &Connection, ws: &str) -> rusqlite::Result<Option<String>> {
    c.query_row("SELECT display_id FROM workspaces WHERE id = ?1", [ws], |r| r.get(0))
        .optional()
}

pub(crate) fn display_id_exists(c: &Connection, id: &str) -> rusqlite::Result<bool> {
    c.query_row(
        "SELECT EXISTS(SELECT 1 FROM workspaces WHERE display_id = ?1)",
        [id],
        |r| r.get(0),
    )
}

pub(crate) fn list_for_user(
    c: &Connection,
    user_id: &str,
    limit: i64,
    offset: i64,
) -> rusqlite::Result<(Vec<WorkspaceView>, i64)> {
    let total: i64 = c.query_row(
        "SELECT COUNT(*) FROM workspace_members m JOIN workspaces w ON w.id = m.workspace_id
         WHERE m.user_id = ?1 AND m.deleted_at IS NULL AND w.deleted_at IS NULL",
        [user_id],
        |r| r.get(0),
    )?;
    let mut stmt = c.prepare_cached(&format!(
        "SELECT {WS_COLS}, m.role FROM workspace_members m JOIN workspaces w ON w.id = m.workspace_id
         WHERE m.user_id = ?1 AND m.deleted_at IS NULL AND w.deleted_at IS NULL
         ORDER BY w.name COLLATE NOCASE, w.id LIMIT ?2 OFFSET ?3"
    ))?;
    let items = stmt
        .query_map(params![user_id, limit, offset], |r| {
            let role = r.get::<_, String>("role").ok().as_deref().and_then(WsRole::parse);
            ws_view(r, role)
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok((items, total))
}

/// A live membership: (member record id, role).
pub(crate) fn membership(c: &Connection, ws_id: &str, user_id: &str) -> rusqlite::Result<Option<(String, WsRole)>> {
    c.query_row(
        "SELECT id, role FROM workspace_members WHERE workspace_id = ?1 AND user_id = ?2 AND deleted_at IS NULL",
        params![ws_id, user_id],
        |r| Ok((r.get::<_, String>("id")?, r.get::<_, String>("role")?)),
    )
    .optional()
    .map(|o| o.and_then(|(id, role)| WsRole::parse(&role).map(|r| (id, r))))
}

pub(crate) fn owner_count(c: &Connection, ws_id: &str) -> rusqlite::Result<i64> {
    c.query_row(
        "SELECT COUNT(*) FROM workspace_members WHERE workspace_id = ?1 AND role = 'owner' AND deleted_at IS NULL",
        [ws_id],
        |r| r.get(0),
    )
}

fn member_view(r: &Row<'_>, show_email: bool) -> rusqlite::Result<MemberView> {
    let role: String = r.get("role")?;
    Ok(MemberView {
        id: r.get("id")?,
        user_id: r.get("user_id")?,
        role: WsRole::parse(&role).unwrap_or(WsRole::Guest),
        display_name: r.get("display_name")?,
        email: if show_email { r.get("email")? } else { None },
        created_at: r.get("created_at")?,
    })
}

const MEMBER_SQL: &str = "SELECT m.id, m.user_id, m.role, COALESCE(u.display_name, '') AS display_name, u.email,
            m.created_at
     FROM workspace_members m LEFT JOIN users u ON u.id = m.user_id
     WHERE m.workspace_id = ?1 AND m.deleted_at IS NULL";

pub(crate) fn list_members(
    c: &Connection,
    ws_id: &str,
    show_email: bool,
    limit: i64,
    offset: i64,
) -> rusqlite::Result<(Vec<MemberView>, i64)> {
    let total: i64 = c.query_row(
        "SELECT COUNT(*) FROM workspace_members WHERE workspace_id = ?1 AND deleted_at IS NULL",
        [ws_id],
        |r| r.get(0),
    )?;
    let mut stmt = c.prepare_cached(&format!(
        "{MEMBER_SQL} ORDER BY u.display_name COLLATE NOCASE, m.id LIMIT ?2 OFFSET ?3"
    ))?;
    let items = stmt
        .query_map(params![ws_id, limit, offset], |r| member_view(r, show_email))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok((items, total))
}

pub(crate) fn member(c: &Connection, ws_id: &str, user_id: &str) -> rusqlite::Result<Option<MemberView>> {
    c.query_row(
        &format!("{MEMBER_SQL} AND m.user_id = ?2"),
        params![ws_id, user_id],
        |r| member_view(r, true),
    )
    .optional()
}

/// Lookup of an account by email for adding members (users are local to this instance).
/// The email of a local account (to match an invitation).
pub(crate) fn user_email(c: &Connection, user: &str) -> rusqlite::Result<Option<String>> {
    c.prepare_cached("SELECT email FROM users WHERE id = ?1")?
        .query_row([user], |r| r.get(0))
        .optional()
}

/// Whether `user` has (or had) a membership record in workspace `ws`.
pub(crate) fn is_or_was_member(c: &Connection, ws: &str, user: &str) -> rusqlite::Result<bool> {
    c.prepare_cached("SELECT EXISTS(SELECT 1 FROM workspace_members WHERE workspace_id = ?1 AND user_id = ?2)")?
        .query_row([ws, user], |r| r.get(0))
}

pub(crate) fn user_id_by_email(c: &Connection, email: &str) -> rusqlite::Result<Option<String>> {
    c.query_row(
        "SELECT id FROM users WHERE email = ?1 AND deleted_at IS NULL",
        [email],
        |r| r.get(0),
    )
    .optional()
}

fn invitation_view(r: &Row<'_>) -> rusqlite::Result<InvitationView> {
    let role: String = r.get("role")?;
    Ok(InvitationView {
        id: r.get("id")?,
        email: r.get("email")?,
        role: WsRole::parse(&role).unwrap_or(WsRole::Guest),
        expires_at: r.get("expires_at")?,
        accepted_at: r.get("accepted_at")?,
        created_at: r.get("created_at")?,
        created_by: r.get("created_by")?,
        token: None,
    })
}

const INV_COLS: &str = "id, email, role, expires_at, accepted_at, created_at, created_by";

pub(crate) fn list_invitations(
    c: &Connection,
    ws_id: &str,
    limit: i64,
    offset: i64,
) -> rusqlite::Result<(Vec<InvitationView>, i64)> {
    let total: i64 = c.query_row(
        "SELECT COUNT(*) FROM invitations WHERE workspace_id = ?1 AND deleted_at IS NULL AND accepted_at IS NULL",
        [ws_id],
        |r| r.get(0),
    )?;
    let mut stmt = c.prepare_cached(&format!(
        "SELECT {INV_COLS} FROM invitations WHERE workspace_id = ?1 AND deleted_at IS NULL AND accepted_at IS NULL
         ORDER BY id DESC LIMIT ?2 OFFSET ?3"
    ))?;
    let items = stmt
        .query_map(params![ws_id, limit, offset], invitation_view)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok((items, total))
}

/// A pending invitation of `ws_id` for `email` that has not expired.
pub(crate) fn pending_invitation_for(c: &Connection, ws_id: &str, email: &str, now: &str) -> rusqlite::Result<bool> {
    c.query_row(
        "SELECT EXISTS(SELECT 1 FROM invitations WHERE workspace_id = ?1 AND email = ?2
           AND deleted_at IS NULL AND accepted_at IS NULL AND expires_at > ?3)",
        params![ws_id, email, now],
        |r| r.get(0),
    )
}

pub(crate) fn pending_invitation_any(c: &Connection, email: &str, now: &str) -> rusqlite::Result<bool> {
    c.query_row(
        "SELECT EXISTS(SELECT 1 FROM invitations i JOIN workspaces w ON w.id = i.workspace_id
           WHERE i.email = ?1 AND i.deleted_at IS NULL AND i.accepted_at IS NULL AND i.expires_at > ?2
             AND w.deleted_at IS NULL)",
        params![email, now],
        |r| r.get(0),
    )
}

pub(crate) fn invitation_in(c: &Connection, ws_id: &str, id: &str) -> rusqlite::Result<Option<InvitationView>> {
    c.query_row(
        &format!(
            "SELECT {INV_COLS} FROM invitations WHERE workspace_id = ?1 AND id = ?2 AND deleted_at IS NULL AND accepted_at IS NULL"
        ),
        params![ws_id, id],
        invitation_view,
    )
    .optional()
}

/// (invitation, workspace id, workspace slug) for a token hash, if live.
pub(crate) fn invitation_by_token(
    c: &Connection,
    hash: &str,
) -> rusqlite::Result<Option<(InvitationView, String, String)>> {
    c.query_row(
        "SELECT i.id, i.email, i.role, i.expires_at, i.accepted_at, i.created_at, i.created_by,
                w.id AS workspace_id, w.slug
         FROM invitations i JOIN workspaces w ON w.id = i.workspace_id
         WHERE i.token_hash = ?1 AND i.deleted_at IS NULL AND w.deleted_at IS NULL",
        [hash],
        |r| Ok((invitation_view(r)?, r.get("workspace_id")?, r.get("slug")?)),
    )
    .optional()
}
