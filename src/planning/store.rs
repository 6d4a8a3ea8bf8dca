//! SQL of cycles, modules and saved views.

use rusqlite::{params, Connection, OptionalExtension, Row};

use super::{CycleStatus, CycleView, ModuleStatus, ModuleView, SavedView};

/// Whether the user has the record among their favorites.
const FAV: &str =
    "EXISTS(SELECT 1 FROM favorites f WHERE f.user_id = ?2 AND f.entity_id = x.id AND f.deleted_at IS NULL)";
/// Issue counts of a cycle or module (`col` names the issue field).
fn counts(col: &str) -> String {
    format!(
        "(SELECT COUNT(*) FROM issues i WHERE i.{col} = x.id AND i.deleted_at IS NULL) AS total_issues,
         (SELECT COUNT(*) FROM issues i JOIN states s ON s.id = i.state_id
          WHERE i.{col} = x.id AND i.deleted_at IS NULL AND s.state_group = 'completed') AS completed_issues"
    )
}

/// Tables named by callers in this crate, never by input.
fn table(name: &str) -> &'static str {
    match name {
        "cycles" => "cycles",
        "modules" => "modules",
        _ => "issue_views",
    }
}

pub(crate) fn exists(c: &Connection, tbl: &str, pid: &str, id: &str) -> rusqlite::Result<bool> {
    c.query_row(
        &format!(
            "SELECT EXISTS(SELECT 1 FROM {} WHERE project_id = ?1 AND id = ?2 AND deleted_at IS NULL)",
            table(tbl)
        ),
        [pid, id],
        |r| r.get(0),
    )
}

/// The creator of a live record (`Some(None)` when it has none), `None` when there is no record.
pub(crate) fn created_by(c: &Connection, tbl: &str, pid: &str, id: &str) -> rusqlite::Result<Option<Option<String>>> {
    c.query_row(
        &format!(
            "SELECT created_by FROM {} WHERE project_id = ?1 AND id = ?2 AND deleted_at IS NULL",
            table(tbl)
        ),
        [pid, id],
        |r| r.get(0),
    )
    .optional()
}

pub(crate) fn owner_project(
    c: &Connection,
    ws_id: &str,
    entity_type: &str,
    id: &str,
) -> rusqlite::Result<Option<(String, Option<String>)>> {
    let sql = match entity_type {
        "cycle" => {
            "SELECT project_id, NULL AS private_owner FROM cycles
             WHERE workspace_id = ?1 AND id = ?2 AND deleted_at IS NULL"
        }
        "module" => {
            "SELECT project_id, NULL AS private_owner FROM modules
             WHERE workspace_id = ?1 AND id = ?2 AND deleted_at IS NULL"
        }
        "view" => {
            "SELECT project_id, CASE WHEN is_private = 1 THEN created_by END AS private_owner FROM issue_views
             WHERE workspace_id = ?1 AND id = ?2 AND deleted_at IS NULL"
        }
        "issue" => {
            "SELECT project_id, NULL AS private_owner FROM issues
             WHERE workspace_id = ?1 AND id = ?2 AND deleted_at IS NULL"
        }
        _ => return Ok(None),
    };
    c.query_row(sql, [ws_id, id], |r| {
        Ok((r.get("project_id")?, r.get("private_owner")?))
    })
    .optional()
}

fn cycle_view(r: &Row<'_>) -> rusqlite::Result<CycleView> {
    let start: Option<String> = r.get("start_date")?;
    let end: Option<String> = r.get("end_date")?;
    let today = chrono::Utc::now().date_naive().format("%Y-%m-%d").to_string();
    let status = match (&start, &end) {
        (Some(_), Some(e)) if *e < today => CycleStatus::Completed,
        (Some(s), Some(_)) if *s > today => CycleStatus::Upcoming,
        (Some(_), Some(_)) => CycleStatus::Current,
        _ => CycleStatus::Draft,
    };
    Ok(CycleView {
        id: r.get("id")?,
        project_id: r.get("project_id")?,
        name: r.get("name")?,
        description: r.get("description")?,
        start_date: start,
        end_date: end,
        status,
        total_issues: r.get("total_issues")?,
        completed_issues: r.get("completed_issues")?,
        is_favorite: r.get("is_favorite")?,
        created_by: r.get("created_by")?,
        created_at: r.get("created_at")?,
        updated_at: r.get("updated_at")?,
    })
}

/// Live cycles of a project (one when `id` is given), newest dates first, drafts last.
pub(crate) fn cycles(c: &Connection, pid: &str, uid: &str, id: Option<&str>) -> rusqlite::Result<Vec<CycleView>> {
    let mut stmt = c.prepare_cached(&format!(
        "SELECT x.id, x.project_id, x.name, x.description, x.start_date, x.end_date, {counts}, {FAV} AS is_favorite,
                x.created_by, x.created_at, x.updated_at
         FROM cycles x WHERE x.project_id = ?1 AND x.deleted_at IS NULL AND (?3 IS NULL OR x.id = ?3)
         ORDER BY x.start_date IS NULL, x.start_date DESC, x.name",
        counts = counts("cycle_id")
    ))?;
    let rows = stmt.query_map(params![pid, uid, id], cycle_view)?.collect();
    rows
}

/// The name of a live cycle whose dates overlap [start, end], other than `except`.
pub(crate) fn overlapping_cycle(
    c: &Connection,
    pid: &str,
    start: &str,
    end: &str,
    except: Option<&str>,
) -> rusqlite::Result<Option<String>> {
    c.query_row(
        "SELECT name FROM cycles WHERE project_id = ?1 AND deleted_at IS NULL AND id IS NOT ?4
           AND start_date IS NOT NULL AND end_date IS NOT NULL AND start_date <= ?3 AND end_date >= ?2
         ORDER BY start_date LIMIT 1",
        params![pid, start, end, except],
        |r| r.get(0),
    )
    .optional()
}

fn module_view(r: &Row<'_>) -> rusqlite::Result<ModuleView> {
    let status: String = r.get("status")?;
    Ok(ModuleView {
        id: r.get("id")?,
        project_id: r.get("project_id")?,
        name: r.get("name")?,
        description: r.get("description")?,
        status: ModuleStatus::parse(&status).unwrap_or(ModuleStatus::Planned),
        lead_id: r.get("lead_id")?,
        start_date: r.get("start_date")?,
        target_date: r.get("target_date")?,
        total_issues: r.get("total_issues")?,
        completed_issues: r.get("completed_issues")?,
        is_favorite: r.get("is_favorite")?,
        created_by: r.get("created_by")?,
        created_at: r.get("created_at")?,
        updated_at: r.get("updated_at")?,
    })
}

pub(crate) fn modules(c: &Connection, pid: &str, uid: &str, id: Option<&str>) -> rusqlite::Result<Vec<ModuleView>> {
    let mut stmt = c.prepare_cached(&format!(
        "SELECT x.id, x.project_id, x.name, x.description, x.status, x.lead_id, x.start_date, x.target_date,
                {counts}, {FAV} AS is_favorite, x.created_by, x.created_at, x.updated_at
         FROM modules x WHERE x.project_id = ?1 AND x.deleted_at IS NULL AND (?3 IS NULL OR x.id = ?3)
         ORDER BY x.name COLLATE NOCASE, x.id",
        counts = counts("module_id")
    ))?;
    let rows = stmt.query_map(params![pid, uid, id], module_view)?.collect();
    rows
}

pub(crate) fn module_name_taken(c: &Connection, pid: &str, name: &str, except: Option<&str>) -> rusqlite::Result<bool> {
    c.query_row(
        "SELECT EXISTS(SELECT 1 FROM modules WHERE project_id = ?1 AND name = ?2 COLLATE NOCASE
           AND deleted_at IS NULL AND id IS NOT ?3)",
        params![pid, name, except],
        |r| r.get(0),
    )
}

/// Views of a project the user may see: public ones and their own private ones.
pub(crate) fn views(c: &Connection, pid: &str, uid: &str, id: Option<&str>) -> rusqlite::Result<Vec<SavedView>> {
    let mut stmt = c.prepare_cached(&format!(
        "SELECT x.id, x.project_id, x.name, x.description, x.query, x.is_private, {FAV} AS is_favorite, x.created_by,
                x.created_at, x.updated_at
         FROM issue_views x WHERE x.project_id = ?1 AND x.deleted_at IS NULL AND (?3 IS NULL OR x.id = ?3)
           AND (x.is_private = 0 OR x.created_by = ?2)
         ORDER BY x.name COLLATE NOCASE, x.id"
    ))?;
    let rows = stmt
        .query_map(params![pid, uid, id], |r| {
            let q: String = r.get("query")?;
            Ok(SavedView {
                id: r.get("id")?,
                project_id: r.get("project_id")?,
                name: r.get("name")?,
                description: r.get("description")?,
                query: serde_json::from_str(&q).unwrap_or_else(|_| serde_json::json!({})),
                is_private: r.get::<_, i64>("is_private")? != 0,
                is_favorite: r.get("is_favorite")?,
                created_by: r.get("created_by")?,
                created_at: r.get("created_at")?,
                updated_at: r.get("updated_at")?,
            })
        })?
        .collect();
    rows
}
