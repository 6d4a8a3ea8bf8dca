//! SQL of departments.

use rusqlite::{Connection, OptionalExtension};

/// One live department as stored (its level is computed from the tree, `super::tree`).
#[derive(Debug, Clone)]
pub(crate) struct DeptRow {
    pub id: String,
    pub workspace_id: String,
    pub name: String,
    pub code: String,
    pub short_name: String,
    pub dept_code: String,
    pub parent_id: Option<String>,
    pub manager_id: Option<String>,
    pub manager_name: Option<String>,
    pub linked_project_id: Option<String>,
    pub is_active: bool,
    pub sort_order: i64,
    pub created_at: String,
    pub updated_at: String,
}

const COLS: &str = "d.id, d.workspace_id, d.name, d.code, d.short_name, d.dept_code, d.parent_id, d.manager_id,
     u.display_name, d.linked_project_id, d.is_active, d.sort_order, d.created_at, d.updated_at";

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<DeptRow> {
    Ok(DeptRow {
        id: r.get("id")?,
        workspace_id: r.get("workspace_id")?,
        name: r.get("name")?,
        code: r.get("code")?,
        short_name: r.get("short_name")?,
        dept_code: r.get("dept_code")?,
        parent_id: r.get("parent_id")?,
        manager_id: r.get("manager_id")?,
        manager_name: r.get("display_name")?,
        linked_project_id: r.get("linked_project_id")?,
        is_active: r.get::<_, i64>("is_active")? != 0,
        sort_order: r.get("sort_order")?,
        created_at: r.get("created_at")?,
        updated_at: r.get("updated_at")?,
    })
}

/// Every live department of a workspace.
pub(crate) fn live(c: &Connection, ws: &str) -> rusqlite::Result<Vec<DeptRow>> {
    let mut stmt = c.prepare_cached(&format!(
        "SELECT {COLS} FROM departments d LEFT JOIN users u ON u.id = d.manager_id
         WHERE d.workspace_id = ?1 AND d.deleted_at IS NULL"
    ))?;
    let rows = stmt.query_map([ws], row)?.collect();
    rows
}

pub(crate) fn department(c: &Connection, ws: &str, id: &str) -> rusqlite::Result<Option<DeptRow>> {
    c.prepare_cached(&format!(
        "SELECT {COLS} FROM departments d LEFT JOIN users u ON u.id = d.manager_id
         WHERE d.workspace_id = ?1 AND d.id = ?2 AND d.deleted_at IS NULL"
    ))?
    .query_row([ws, id], row)
    .optional()
}

pub(crate) fn is_live(c: &Connection, ws: &str, id: &str) -> rusqlite::Result<bool> {
    c.prepare_cached("SELECT 1 FROM departments WHERE workspace_id = ?1 AND id = ?2 AND deleted_at IS NULL")?
        .exists([ws, id])
}

/// Whether another live department of the workspace has `value` in `field` (`code`,
/// `short_name` or `dept_code`; codes compare without case).
pub(crate) fn taken(c: &Connection, ws: &str, field: &str, value: &str, except: &str) -> rusqlite::Result<bool> {
    let col = match field {
        "code" => "code",
        "short_name" => "short_name",
        _ => "dept_code",
    };
    c.prepare_cached(&format!(
        "SELECT 1 FROM departments WHERE workspace_id = ?1 AND deleted_at IS NULL AND id <> ?3
         AND {col} = ?2 COLLATE NOCASE"
    ))?
    .exists([ws, value, except])
}

pub(crate) fn live_children(c: &Connection, ws: &str, id: &str) -> rusqlite::Result<Vec<String>> {
    let mut stmt = c.prepare_cached(
        "SELECT id FROM departments WHERE workspace_id = ?1 AND parent_id = ?2 AND deleted_at IS NULL
         ORDER BY sort_order, id",
    )?;
    let rows = stmt.query_map([ws, id], |r| r.get(0))?.collect();
    rows
}

/// The departments above `id`, nearest first, and whether the walk came back to a
/// department it had seen (a cycle).
pub(crate) struct Ancestors {
    pub ids: Vec<String>,
    pub cycle: bool,
}

pub(crate) fn ancestors(c: &Connection, ws: &str, id: &str) -> rusqlite::Result<Ancestors> {
    let mut stmt = c.prepare_cached(
        "SELECT parent_id FROM departments WHERE workspace_id = ?1 AND id = ?2 AND deleted_at IS NULL",
    )?;
    let mut ids: Vec<String> = Vec::new();
    let mut at = id.to_string();
    loop {
        let parent: Option<String> = stmt.query_row([ws, at.as_str()], |r| r.get(0)).optional()?.flatten();
        let Some(p) = parent else {
            return Ok(Ancestors { ids, cycle: false });
        };
        if p == id || ids.contains(&p) {
            return Ok(Ancestors { ids, cycle: true });
        }
        ids.push(p.clone());
        at = p;
    }
}

/// Levels of the subtree under `id`, itself included (1 for a department without children).
/// Counted a little past the deepest allowed level, which is all a check needs.
pub(crate) fn height(c: &Connection, ws: &str, id: &str) -> rusqlite::Result<i64> {
    c.prepare_cached(
        "WITH RECURSIVE sub(id, depth) AS (
           SELECT ?2, 1
           UNION ALL
           SELECT d.id, s.depth + 1 FROM departments d JOIN sub s ON d.parent_id = s.id
           WHERE d.workspace_id = ?1 AND d.deleted_at IS NULL AND s.depth < 8
         ) SELECT MAX(depth) FROM sub",
    )?
    .query_row([ws, id], |r| r.get(0))
}

/// The next sort position among the live children of `parent` (roots for `None`).
pub(crate) fn next_sort_order(c: &Connection, ws: &str, parent: Option<&str>) -> rusqlite::Result<i64> {
    c.prepare_cached(
        "SELECT COALESCE(MAX(sort_order), 0) + 1 FROM departments
         WHERE workspace_id = ?1 AND deleted_at IS NULL AND parent_id IS ?2",
    )?
    .query_row(rusqlite::params![ws, parent], |r| r.get(0))
}
