//! SQL of analytics besides the facts: who sees which project, names of buckets, saved
//! views and full-text matches.

use std::collections::{HashMap, HashSet};

use rusqlite::{params, params_from_iter, Connection, OptionalExtension};

use crate::policy::{ProjRole, WsRole};

/// The live projects of the workspace `uid` may see with workspace role `role` (the rule of
/// the project list: admins all, members public ones and their own, guests their own).
pub(super) fn visible_projects(c: &Connection, ws: &str, uid: &str, role: WsRole) -> rusqlite::Result<Vec<String>> {
    let mut stmt = c.prepare_cached(
        "SELECT p.id, p.is_private, m.role FROM projects p
         LEFT JOIN project_members m ON m.project_id = p.id AND m.user_id = ?2 AND m.deleted_at IS NULL
         WHERE p.workspace_id = ?1 AND p.deleted_at IS NULL",
    )?;
    let rows = stmt.query_map(params![ws, uid], |r| {
        Ok((
            r.get::<_, String>("id")?,
            r.get::<_, i64>("is_private")? != 0,
            r.get::<_, Option<String>>("role")?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (id, private, member) = row?;
        let member = member.as_deref().and_then(ProjRole::parse);
        if crate::work::effective_role_of(role, private, member).is_some() {
            out.push(id);
        }
    }
    Ok(out)
}

/// Names of ids in one of the naming tables, within the workspace (users: its members').
pub(super) fn names(
    c: &Connection,
    ws: &str,
    table: &str,
    ids: &[String],
) -> rusqlite::Result<HashMap<String, String>> {
    let (sql, name) = match table {
        "users" => (
            "SELECT u.id, u.display_name AS name FROM users u
             JOIN workspace_members m ON m.user_id = u.id AND m.workspace_id = ?1
             WHERE u.id IN (SELECT value FROM json_each(?2))",
            "name",
        ),
        "states" | "labels" | "cycles" | "modules" | "projects" | "departments" => (
            match table {
                "states" => "SELECT id, name FROM states WHERE workspace_id = ?1 AND id IN (SELECT value FROM json_each(?2))",
                "labels" => "SELECT id, name FROM labels WHERE workspace_id = ?1 AND id IN (SELECT value FROM json_each(?2))",
                "cycles" => "SELECT id, name FROM cycles WHERE workspace_id = ?1 AND id IN (SELECT value FROM json_each(?2))",
                "modules" => "SELECT id, name FROM modules WHERE workspace_id = ?1 AND id IN (SELECT value FROM json_each(?2))",
                "projects" => "SELECT id, name FROM projects WHERE workspace_id = ?1 AND id IN (SELECT value FROM json_each(?2))",
                _ => "SELECT id, name FROM departments WHERE workspace_id = ?1 AND id IN (SELECT value FROM json_each(?2))",
            },
            "name",
        ),
        _ => return Ok(HashMap::new()),
    };
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let list = serde_json::to_string(ids).unwrap_or_else(|_| "[]".into());
    let mut stmt = c.prepare_cached(sql)?;
    let rows = stmt.query_map(params![ws, list], |r| {
        Ok((r.get::<_, String>("id")?, r.get::<_, String>(name)?))
    })?;
    rows.collect()
}

/// A saved view of the workspace `uid` may see (public, or their own): its project and query.
pub(super) fn view(
    c: &Connection,
    ws: &str,
    id: &str,
    uid: &str,
) -> rusqlite::Result<Option<(String, serde_json::Value)>> {
    c.prepare_cached(
        "SELECT project_id, query FROM issue_views
         WHERE id = ?1 AND workspace_id = ?2 AND deleted_at IS NULL AND (is_private = 0 OR created_by = ?3)",
    )?
    .query_row(params![id, ws, uid], |r| {
        let q: String = r.get("query")?;
        Ok((
            r.get::<_, String>("project_id")?,
            serde_json::from_str(&q).unwrap_or_else(|_| serde_json::json!({})),
        ))
    })
    .optional()
}

/// Ids of the workspace's live issues whose text or comments match an FTS5 query.
pub(super) fn fts_matches(c: &Connection, ws: &str, q: &str) -> rusqlite::Result<HashSet<String>> {
    let mut stmt = c.prepare_cached(
        "SELECT i.id FROM issues i
         WHERE i.rowid IN (SELECT rowid FROM issues_fts WHERE issues_fts MATCH ?2)
           AND i.workspace_id = ?1 AND i.deleted_at IS NULL
         UNION
         SELECT c.issue_id FROM comments_fts f JOIN issue_comments c ON c.rowid = f.rowid
         WHERE comments_fts MATCH ?2 AND c.workspace_id = ?1 AND c.deleted_at IS NULL",
    )?;
    let rows = stmt.query_map(params_from_iter([ws, q]), |r| r.get::<_, String>(0))?;
    rows.collect()
}

pub(super) fn member_count(c: &Connection, ws: &str) -> rusqlite::Result<i64> {
    c.query_row(
        "SELECT COUNT(*) FROM workspace_members WHERE workspace_id = ?1 AND deleted_at IS NULL",
        [ws],
        |r| r.get(0),
    )
}
