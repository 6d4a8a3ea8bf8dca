//! SQL of projects and project members (reads of the projection tables).

use rusqlite::{params, Connection, OptionalExtension, Row};

use super::{ProjectMemberView, ProjectView};
use crate::policy::ProjRole;

const PROJECT_COLS: &str = "p.id, p.workspace_id, p.name, p.identifier, p.description, p.is_private,
    p.is_time_tracking_enabled, p.archived_at, p.created_at, p.updated_at, p.created_by, p.linked_department_id";

/// Whether the user (SQL parameter `param`) has the project among their favorites.
fn favorite(param: &str) -> String {
    format!(
        "EXISTS(SELECT 1 FROM favorites f WHERE f.user_id = {param} AND f.entity_id = p.id
         AND f.entity_type = 'project' AND f.deleted_at IS NULL)"
    )
}

fn project_view(r: &Row<'_>) -> rusqlite::Result<ProjectView> {
    let role: Option<String> = r.get("role")?;
    Ok(ProjectView {
        id: r.get("id")?,
        workspace_id: r.get("workspace_id")?,
        name: r.get("name")?,
        identifier: r.get("identifier")?,
        description: r.get("description")?,
        is_private: r.get::<_, i64>("is_private")? != 0,
        is_time_tracking_enabled: r.get::<_, i64>("is_time_tracking_enabled")? != 0,
        archived_at: r.get("archived_at")?,
        created_at: r.get("created_at")?,
        updated_at: r.get("updated_at")?,
        created_by: r.get("created_by")?,
        linked_department_id: r.get("linked_department_id")?,
        is_member: role.is_some(),
        is_favorite: r.get("is_favorite")?,
        member_role: role.as_deref().and_then(ProjRole::parse),
    })
}

/// A live project of `ws_id` with `user_id`'s project role.
pub(crate) fn project_for(
    c: &Connection,
    ws_id: &str,
    project_id: &str,
    user_id: &str,
) -> rusqlite::Result<Option<ProjectView>> {
    let mut stmt = c.prepare_cached(&format!(
        "SELECT {PROJECT_COLS}, m.role, {fav} AS is_favorite FROM projects p
         LEFT JOIN project_members m ON m.project_id = p.id AND m.user_id = ?3 AND m.deleted_at IS NULL
         WHERE p.workspace_id = ?1 AND p.id = ?2 AND p.deleted_at IS NULL",
        fav = favorite("?3")
    ))?;
    stmt.query_row(params![ws_id, project_id, user_id], project_view)
        .optional()
}

/// What the record rules need of a project and one person's membership in it.
pub(crate) struct ProjectFlags {
    pub archived: bool,
    pub time_tracking: bool,
    pub is_private: bool,
    pub live: bool,
    pub member_role: Option<ProjRole>,
}

/// A project of the workspace (live or not) with `user_id`'s live membership role.
pub(crate) fn project_flags(
    c: &Connection,
    ws_id: &str,
    project_id: &str,
    user_id: &str,
) -> rusqlite::Result<Option<ProjectFlags>> {
    c.prepare_cached(
        "SELECT p.archived_at IS NOT NULL AS archived, p.is_time_tracking_enabled, p.is_private,
                p.deleted_at IS NULL AS live, m.role
         FROM projects p
         LEFT JOIN project_members m ON m.project_id = p.id AND m.user_id = ?3 AND m.deleted_at IS NULL
         WHERE p.workspace_id = ?1 AND p.id = ?2",
    )?
    .query_row(params![ws_id, project_id, user_id], |r| {
        Ok(ProjectFlags {
            archived: r.get("archived")?,
            time_tracking: r.get::<_, i64>("is_time_tracking_enabled")? != 0,
            is_private: r.get::<_, i64>("is_private")? != 0,
            live: r.get("live")?,
            member_role: r.get::<_, Option<String>>("role")?.as_deref().and_then(ProjRole::parse),
        })
    })
    .optional()
}

/// Whether two live projects of the workspace share an identifier (after a merge).
pub(crate) fn has_duplicate_identifiers(c: &Connection, ws_id: &str) -> rusqlite::Result<bool> {
    c.prepare_cached(
        "SELECT EXISTS(SELECT 1 FROM projects WHERE workspace_id = ?1 AND deleted_at IS NULL
           GROUP BY identifier HAVING COUNT(*) > 1)",
    )?
    .query_row([ws_id], |r| r.get(0))
}

/// (id, identifier) of the workspace's live projects.
pub(crate) fn identifiers(c: &Connection, ws_id: &str) -> rusqlite::Result<Vec<(String, String)>> {
    c.prepare_cached("SELECT id, identifier FROM projects WHERE workspace_id = ?1 AND deleted_at IS NULL")?
        .query_map([ws_id], |r| Ok((r.get("id")?, r.get("identifier")?)))?
        .collect()
}

pub(crate) fn identifier_taken(
    c: &Connection,
    ws_id: &str,
    ident: &str,
    except: Option<&str>,
) -> rusqlite::Result<bool> {
    c.query_row(
        "SELECT EXISTS(SELECT 1 FROM projects WHERE workspace_id = ?1 AND identifier = ?2
           AND deleted_at IS NULL AND id IS NOT ?3)",
        params![ws_id, ident, except],
        |r| r.get(0),
    )
}

/// Projects of a workspace that `user_id` may see: all of them for workspace admins
/// (`see_all`), otherwise the ones they are a member of, plus public ones when
/// `see_public` (workspace members, not guests).
#[allow(clippy::too_many_arguments)]
pub(crate) fn list_visible(
    c: &Connection,
    ws_id: &str,
    user_id: &str,
    see_all: bool,
    see_public: bool,
    archived: Option<bool>,
    limit: i64,
    offset: i64,
) -> rusqlite::Result<(Vec<ProjectView>, i64)> {
    let filter = "p.workspace_id = ?1 AND p.deleted_at IS NULL
        AND (?3 OR m.id IS NOT NULL OR (?4 AND p.is_private = 0))
        AND (?5 IS NULL OR (?5 = 1 AND p.archived_at IS NOT NULL) OR (?5 = 0 AND p.archived_at IS NULL))";
    let from = "FROM projects p LEFT JOIN project_members m
        ON m.project_id = p.id AND m.user_id = ?2 AND m.deleted_at IS NULL";
    let archived = archived.map(i64::from);
    let total: i64 = c.query_row(
        &format!("SELECT COUNT(*) {from} WHERE {filter}"),
        params![ws_id, user_id, see_all, see_public, archived],
        |r| r.get(0),
    )?;
    let mut stmt = c.prepare_cached(&format!(
        "SELECT {PROJECT_COLS}, m.role, {fav} AS is_favorite {from} WHERE {filter}
         ORDER BY p.name COLLATE NOCASE, p.id LIMIT ?6 OFFSET ?7",
        fav = favorite("?2")
    ))?;
    let items = stmt
        .query_map(
            params![ws_id, user_id, see_all, see_public, archived, limit, offset],
            project_view,
        )?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok((items, total))
}

/// A live project membership: (record id, role).
pub(crate) fn membership(
    c: &Connection,
    project_id: &str,
    user_id: &str,
) -> rusqlite::Result<Option<(String, ProjRole)>> {
    c.query_row(
        "SELECT id, role FROM project_members WHERE project_id = ?1 AND user_id = ?2 AND deleted_at IS NULL",
        params![project_id, user_id],
        |r| Ok((r.get::<_, String>("id")?, r.get::<_, String>("role")?)),
    )
    .optional()
    .map(|o| o.and_then(|(id, role)| ProjRole::parse(&role).map(|r| (id, r))))
}

pub(crate) fn admin_count(c: &Connection, project_id: &str) -> rusqlite::Result<i64> {
    c.query_row(
        "SELECT COUNT(*) FROM project_members WHERE project_id = ?1 AND role = 'admin' AND deleted_at IS NULL",
        [project_id],
        |r| r.get(0),
    )
}

const PM_SQL: &str = "SELECT m.id, m.user_id, m.role, COALESCE(u.display_name, '') AS display_name, u.email,
            m.created_at, m.manual, m.via_departments
     FROM project_members m LEFT JOIN users u ON u.id = m.user_id
     WHERE m.project_id = ?1 AND m.deleted_at IS NULL";

fn pm_view(r: &Row<'_>, show_email: bool) -> rusqlite::Result<ProjectMemberView> {
    let role: String = r.get("role")?;
    Ok(ProjectMemberView {
        id: r.get("id")?,
        user_id: r.get("user_id")?,
        role: ProjRole::parse(&role).unwrap_or(ProjRole::Guest),
        display_name: r.get("display_name")?,
        email: if show_email { r.get("email")? } else { None },
        created_at: r.get("created_at")?,
        added_by_hand: r.get::<_, Option<i64>>("manual")? != Some(0),
        through_departments: super::parse_via(r.get::<_, Option<String>>("via_departments")?.as_deref())
            .into_iter()
            .map(|id| super::DepartmentRef { id, name: None })
            .collect(),
    })
}

pub(crate) fn list_members(
    c: &Connection,
    project_id: &str,
    show_email: bool,
    limit: i64,
    offset: i64,
) -> rusqlite::Result<(Vec<ProjectMemberView>, i64)> {
    let total: i64 = c.query_row(
        "SELECT COUNT(*) FROM project_members WHERE project_id = ?1 AND deleted_at IS NULL",
        [project_id],
        |r| r.get(0),
    )?;
    let mut stmt = c.prepare_cached(&format!(
        "{PM_SQL} ORDER BY u.display_name COLLATE NOCASE, m.id LIMIT ?2 OFFSET ?3"
    ))?;
    let items = stmt
        .query_map(params![project_id, limit, offset], |r| pm_view(r, show_email))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok((items, total))
}

pub(crate) fn member(c: &Connection, project_id: &str, user_id: &str) -> rusqlite::Result<Option<ProjectMemberView>> {
    c.query_row(
        &format!("{PM_SQL} AND m.user_id = ?2"),
        params![project_id, user_id],
        |r| pm_view(r, true),
    )
    .optional()
}

/// The live, unarchived projects of a workspace with the department each names as its own
/// (`linked_department_id`), for the manager rule.
pub(crate) fn open_project_links(c: &Connection, ws: &str) -> rusqlite::Result<Vec<(String, Option<String>)>> {
    let mut stmt = c.prepare_cached(
        "SELECT id, linked_department_id FROM projects
         WHERE workspace_id = ?1 AND deleted_at IS NULL AND archived_at IS NULL",
    )?;
    let rows = stmt
        .query_map([ws], |r| Ok((r.get("id")?, r.get("linked_department_id")?)))?
        .collect();
    rows
}

/// Every membership record of a workspace's projects, live or removed.
pub(crate) fn membership_records(c: &Connection, ws: &str) -> rusqlite::Result<Vec<super::MembershipRecord>> {
    let mut stmt = c.prepare_cached(
        "SELECT id, project_id, user_id, role, manual, via_departments, deleted_at IS NULL AS live
         FROM project_members WHERE workspace_id = ?1",
    )?;
    let rows = stmt
        .query_map([ws], |r| {
            Ok(super::MembershipRecord {
                id: r.get("id")?,
                project_id: r.get("project_id")?,
                user_id: r.get("user_id")?,
                role: r.get("role")?,
                manual: r.get::<_, Option<i64>>("manual")? != Some(0),
                via: super::parse_via(r.get::<_, Option<String>>("via_departments")?.as_deref()),
                live: r.get("live")?,
            })
        })?
        .collect();
    rows
}

/// A project's history, newest first.
pub(crate) fn project_activity(
    c: &Connection,
    project_id: &str,
    limit: i64,
    offset: i64,
) -> rusqlite::Result<(Vec<super::ProjectEventRow>, i64)> {
    let total = c
        .prepare_cached("SELECT COUNT(*) FROM project_activity WHERE project_id = ?1 AND deleted_at IS NULL")?
        .query_row([project_id], |r| r.get(0))?;
    let mut stmt = c.prepare_cached(
        "SELECT a.id, a.user_id, COALESCE(u.display_name, '') AS user_name, a.verb, a.old_value, a.new_value,
                a.created_at, a.created_by, b.display_name AS created_by_name
         FROM project_activity a LEFT JOIN users u ON u.id = a.user_id LEFT JOIN users b ON b.id = a.created_by
         WHERE a.project_id = ?1 AND a.deleted_at IS NULL
         ORDER BY a.created_at DESC, a.id DESC LIMIT ?2 OFFSET ?3",
    )?;
    let rows = stmt
        .query_map(params![project_id, limit, offset], |r| {
            Ok(super::ProjectEventRow {
                id: r.get("id")?,
                user_id: r.get("user_id")?,
                user_name: r.get("user_name")?,
                verb: r.get("verb")?,
                old_value: r.get("old_value")?,
                new_value: r.get("new_value")?,
                created_at: r.get("created_at")?,
                created_by: r.get("created_by")?,
                created_by_name: r.get("created_by_name")?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok((rows, total))
}

/// Whether a membership record was added by a person (`manual` 1 or unset).
pub(crate) fn membership_is_manual(c: &Connection, id: &str) -> rusqlite::Result<bool> {
    c.prepare_cached("SELECT manual FROM project_members WHERE id = ?1")?
        .query_row([id], |r| r.get::<_, Option<i64>>(0))
        .optional()
        .map(|m| m.flatten() != Some(0))
}

/// Whether a membership record exists under `id`, live or removed.
pub(crate) fn record_exists(c: &Connection, id: &str) -> rusqlite::Result<bool> {
    c.prepare_cached("SELECT 1 FROM project_members WHERE id = ?1")?
        .exists([id])
}
