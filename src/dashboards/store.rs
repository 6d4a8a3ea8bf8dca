//! SQL of dashboards and widgets. Rows are read by column name.

use rusqlite::{Connection, OptionalExtension, Row};

use super::records::{parse_position, Position};

#[derive(Debug, Clone)]
pub struct DashboardRow {
    pub id: String,
    pub user_id: Option<String>,
    pub name: String,
    pub description: String,
    pub is_default: bool,
    pub config: String,
    pub sort_order: i64,
    pub created_at: String,
    pub updated_at: String,
    pub created_by: Option<String>,
}

#[derive(Debug, Clone)]
pub struct WidgetRow {
    pub id: String,
    pub dashboard_id: String,
    pub widget_type: String,
    pub title: String,
    pub config: String,
    pub position: Position,
    pub sort_order: i64,
    pub refresh_seconds: i64,
    pub is_visible: bool,
    pub chart_type: Option<String>,
    pub updated_at: String,
}

fn dashboard(r: &Row<'_>) -> rusqlite::Result<DashboardRow> {
    Ok(DashboardRow {
        id: r.get("id")?,
        user_id: r.get("user_id")?,
        name: r.get("name")?,
        description: r.get("description")?,
        is_default: r.get::<_, i64>("is_default")? == 1,
        config: r.get("config")?,
        sort_order: r.get("sort_order")?,
        created_at: r.get("created_at")?,
        updated_at: r.get("updated_at")?,
        created_by: r.get("created_by")?,
    })
}

fn widget(r: &Row<'_>) -> rusqlite::Result<WidgetRow> {
    let position: String = r.get("position")?;
    Ok(WidgetRow {
        id: r.get("id")?,
        dashboard_id: r.get("dashboard_id")?,
        widget_type: r.get("widget_type")?,
        title: r.get("title")?,
        config: r.get("config")?,
        // The rules let no other position in; a row written by plain SQL reads as 1×1.
        position: parse_position(&position).unwrap_or(Position { x: 0, y: 0, w: 1, h: 1 }),
        sort_order: r.get("sort_order")?,
        refresh_seconds: r.get("refresh_seconds")?,
        is_visible: r.get::<_, i64>("is_visible")? == 1,
        chart_type: r.get("chart_type")?,
        updated_at: r.get("updated_at")?,
    })
}

const DASHBOARD_COLS: &str =
    "id, user_id, name, description, is_default, config, sort_order, created_at, updated_at, created_by";

/// The live dashboards `uid` sees in `ws`: the shared ones and their own; the default
/// first (of two defaults a merge left, the smaller id), then by order and name.
pub fn list(c: &Connection, ws: &str, uid: &str) -> rusqlite::Result<Vec<DashboardRow>> {
    let mut st = c.prepare_cached(&format!(
        "SELECT {DASHBOARD_COLS} FROM dashboards
         WHERE workspace_id = ?1 AND deleted_at IS NULL AND (user_id IS NULL OR user_id = ?2)
         ORDER BY is_default DESC, id = (SELECT min(id) FROM dashboards WHERE workspace_id = ?1
                  AND is_default = 1 AND deleted_at IS NULL) DESC,
                  sort_order, name COLLATE NOCASE, id"
    ))?;
    let rows = st.query_map(rusqlite::params![ws, uid], dashboard)?;
    rows.collect()
}

/// One live dashboard `uid` sees.
pub fn get(c: &Connection, ws: &str, uid: &str, id: &str) -> rusqlite::Result<Option<DashboardRow>> {
    c.prepare_cached(&format!(
        "SELECT {DASHBOARD_COLS} FROM dashboards
         WHERE id = ?3 AND workspace_id = ?1 AND deleted_at IS NULL AND (user_id IS NULL OR user_id = ?2)"
    ))?
    .query_row(rusqlite::params![ws, uid, id], dashboard)
    .optional()
}

/// The workspace's default dashboard (of two that a merge left, the one with the smaller id).
pub fn default_id(c: &Connection, ws: &str) -> rusqlite::Result<Option<String>> {
    c.prepare_cached(
        "SELECT min(id) FROM dashboards WHERE workspace_id = ?1 AND is_default = 1 AND deleted_at IS NULL",
    )?
    .query_row([ws], |r| r.get(0))
}

/// Whether another live dashboard of the same document has this name (case aside).
pub fn name_taken(c: &Connection, ws: &str, owner: Option<&str>, name: &str, id: &str) -> rusqlite::Result<bool> {
    c.prepare_cached(
        "SELECT EXISTS(SELECT 1 FROM dashboards WHERE workspace_id = ?1 AND user_id IS ?2
         AND name = ?3 COLLATE NOCASE AND id <> ?4 AND deleted_at IS NULL)",
    )?
    .query_row(rusqlite::params![ws, owner, name.trim(), id], |r| r.get(0))
}

/// Whether `id` is a live dashboard of the document of `owner` (None: the shared one), and
/// if so whether it is the default.
pub fn dashboard_in(c: &Connection, ws: &str, owner: Option<&str>, id: &str) -> rusqlite::Result<Option<bool>> {
    c.prepare_cached(
        "SELECT is_default FROM dashboards WHERE id = ?3 AND workspace_id = ?1 AND user_id IS ?2
         AND deleted_at IS NULL",
    )?
    .query_row(rusqlite::params![ws, owner, id], |r| Ok(r.get::<_, i64>(0)? == 1))
    .optional()
}

const WIDGET_COLS: &str = "id, dashboard_id, widget_type, title, config, position, sort_order, refresh_seconds,
    is_visible, chart_type, updated_at";

/// The live widgets of a dashboard, in their order.
pub fn widgets(c: &Connection, dashboard: &str) -> rusqlite::Result<Vec<WidgetRow>> {
    let mut st = c.prepare_cached(&format!(
        "SELECT {WIDGET_COLS} FROM dashboard_widgets WHERE dashboard_id = ?1 AND deleted_at IS NULL
         ORDER BY sort_order, id"
    ))?;
    let rows = st.query_map([dashboard], widget)?;
    rows.collect()
}

/// Workspaces made here (none of a peer) that have no live default dashboard.
pub fn without_default(c: &Connection) -> rusqlite::Result<Vec<(String, Option<String>)>> {
    let mut st = c.prepare(
        "SELECT w.id, w.created_by FROM workspaces w
         WHERE w.deleted_at IS NULL
           AND NOT EXISTS (SELECT 1 FROM dashboards d WHERE d.workspace_id = w.id AND d.is_default = 1
                           AND d.deleted_at IS NULL)
           AND NOT EXISTS (SELECT 1 FROM peer_workspaces p WHERE p.workspace_id = w.id)",
    )?;
    let rows = st.query_map([], |r| Ok((r.get("id")?, r.get("created_by")?)))?;
    rows.collect()
}

/// How many live widgets a dashboard has.
pub fn widget_count(c: &Connection, dashboard: &str) -> rusqlite::Result<usize> {
    c.prepare_cached("SELECT count(*) FROM dashboard_widgets WHERE dashboard_id = ?1 AND deleted_at IS NULL")?
        .query_row([dashboard], |r| r.get::<_, i64>(0))
        .map(|n| usize::try_from(n).unwrap_or(0))
}

#[derive(Debug, Clone)]
pub struct LayoutRow {
    pub id: String,
    pub positions: String,
    pub note: String,
    pub created_at: String,
    pub created_by: Option<String>,
    /// Its place among every layout the dashboard ever saved, retired ones included, from 1.
    pub version: usize,
    pub retired: bool,
}

/// Every layout a dashboard saved, oldest first, retired ones included.
pub fn layouts(c: &Connection, dashboard: &str) -> rusqlite::Result<Vec<LayoutRow>> {
    let mut st = c.prepare_cached(
        "SELECT id, positions, note, created_at, created_by, deleted_at IS NOT NULL AS retired
         FROM dashboard_layouts WHERE dashboard_id = ?1 ORDER BY created_at, id",
    )?;
    let rows = st.query_map([dashboard], |r| {
        Ok(LayoutRow {
            version: 0,
            retired: r.get("retired")?,
            id: r.get("id")?,
            positions: r.get("positions")?,
            note: r.get("note")?,
            created_at: r.get("created_at")?,
            created_by: r.get("created_by")?,
        })
    })?;
    let mut all: Vec<LayoutRow> = rows.collect::<rusqlite::Result<_>>()?;
    for (n, l) in all.iter_mut().enumerate() {
        l.version = n + 1;
    }
    Ok(all)
}

/// A person's choice about one dashboard.
#[derive(Debug, Clone)]
pub struct PrefRow {
    pub id: String,
    pub dashboard_id: String,
    pub is_favorite: bool,
    pub is_default: bool,
}

/// A person's live choices in a workspace; their default first (of two that devices chose
/// offline, the one changed last).
pub fn prefs(c: &Connection, ws: &str, uid: &str) -> rusqlite::Result<Vec<PrefRow>> {
    let mut st = c.prepare_cached(
        "SELECT id, dashboard_id, is_favorite, is_default FROM dashboard_prefs
         WHERE workspace_id = ?1 AND user_id = ?2 AND deleted_at IS NULL
         ORDER BY is_default DESC, updated_at DESC, id",
    )?;
    let rows = st.query_map(rusqlite::params![ws, uid], |r| {
        Ok(PrefRow {
            id: r.get("id")?,
            dashboard_id: r.get("dashboard_id")?,
            is_favorite: r.get::<_, i64>("is_favorite")? == 1,
            is_default: r.get::<_, i64>("is_default")? == 1,
        })
    })?;
    rows.collect()
}

/// How many layouts a dashboard keeps live.
pub fn live_layouts(c: &Connection, dashboard: &str) -> rusqlite::Result<usize> {
    c.prepare_cached("SELECT count(*) FROM dashboard_layouts WHERE dashboard_id = ?1 AND deleted_at IS NULL")?
        .query_row([dashboard], |r| r.get::<_, i64>(0))
        .map(|n| usize::try_from(n).unwrap_or(0))
}

/// Whether a choice record of this key is there, live or deleted.
pub fn pref_exists(c: &Connection, id: &str) -> rusqlite::Result<bool> {
    c.prepare_cached("SELECT EXISTS(SELECT 1 FROM dashboard_prefs WHERE id = ?1)")?
        .query_row([id], |r| r.get(0))
}

/// A workspace's own metric, as stored.
#[derive(Debug, Clone)]
pub struct MetricRow {
    pub id: String,
    pub name: String,
    pub description: String,
    pub category: String,
    pub query: String,
    pub unit: String,
    pub format: String,
    pub target_value: Option<String>,
    pub warning_threshold: Option<String>,
    pub critical_threshold: Option<String>,
    pub direction: String,
    pub refresh_seconds: i64,
    pub is_enabled: bool,
    pub color: String,
    pub icon: String,
    pub sort_order: i64,
    pub created_at: String,
    pub updated_at: String,
}

fn metric(r: &Row<'_>) -> rusqlite::Result<MetricRow> {
    Ok(MetricRow {
        id: r.get("id")?,
        name: r.get("name")?,
        description: r.get("description")?,
        category: r.get("category")?,
        query: r.get("query")?,
        unit: r.get("unit")?,
        format: r.get("format")?,
        target_value: r.get("target_value")?,
        warning_threshold: r.get("warning_threshold")?,
        critical_threshold: r.get("critical_threshold")?,
        direction: r.get("direction")?,
        refresh_seconds: r.get("refresh_seconds")?,
        is_enabled: r.get::<_, i64>("is_enabled")? == 1,
        color: r.get("color")?,
        icon: r.get("icon")?,
        sort_order: r.get("sort_order")?,
        created_at: r.get("created_at")?,
        updated_at: r.get("updated_at")?,
    })
}

const METRIC_COLS: &str = "id, name, description, category, query, unit, format, target_value, warning_threshold,
    critical_threshold, direction, refresh_seconds, is_enabled, color, icon, sort_order, created_at, updated_at";

/// The live metrics of `ws`, in their order.
pub fn metrics(c: &Connection, ws: &str) -> rusqlite::Result<Vec<MetricRow>> {
    let mut st = c.prepare_cached(&format!(
        "SELECT {METRIC_COLS} FROM dashboard_metrics WHERE workspace_id = ?1 AND deleted_at IS NULL
         ORDER BY sort_order, name COLLATE NOCASE, id"
    ))?;
    let rows = st.query_map([ws], metric)?;
    rows.collect()
}

pub fn metric_row(c: &Connection, ws: &str, id: &str) -> rusqlite::Result<Option<MetricRow>> {
    c.prepare_cached(&format!(
        "SELECT {METRIC_COLS} FROM dashboard_metrics WHERE workspace_id = ?1 AND id = ?2 AND deleted_at IS NULL"
    ))?
    .query_row([ws, id], metric)
    .optional()
}

pub fn metric_name_taken(c: &Connection, ws: &str, name: &str, id: &str) -> rusqlite::Result<bool> {
    c.prepare_cached(
        "SELECT EXISTS(SELECT 1 FROM dashboard_metrics WHERE workspace_id = ?1 AND name = ?2 COLLATE NOCASE
         AND id <> ?3 AND deleted_at IS NULL)",
    )?
    .query_row(rusqlite::params![ws, name, id], |r| r.get(0))
}

/// The live workspaces here (the metric refresher's round).
pub fn workspaces(c: &Connection) -> rusqlite::Result<Vec<String>> {
    let mut st = c.prepare_cached("SELECT id FROM workspaces WHERE deleted_at IS NULL ORDER BY id")?;
    let rows = st.query_map([], |r| r.get(0))?;
    rows.collect()
}

/// Of `ids` (of one kind of record a filter names), those that are not live in `ws`.
pub fn missing(c: &Connection, ws: &str, table: &str, ids: &[String]) -> rusqlite::Result<Vec<String>> {
    // `table` is one of the engine's own names, never the caller's.
    let mut st = c.prepare_cached(&format!(
        "SELECT EXISTS(SELECT 1 FROM {table} WHERE id = ?2 AND workspace_id = ?1 AND deleted_at IS NULL)"
    ))?;
    let mut out = Vec::new();
    for id in ids {
        if !st.query_row(rusqlite::params![ws, id], |r| r.get::<_, bool>(0))? {
            out.push(id.clone());
        }
    }
    Ok(out)
}

/// Staff of `ws` in one of `statuses` (and, when given, one of `departments`).
pub fn staff_count(c: &Connection, ws: &str, statuses: &[String], departments: &[String]) -> rusqlite::Result<i64> {
    let statuses = serde_json::to_string(statuses).unwrap_or_else(|_| "[]".into());
    let departments = serde_json::to_string(departments).unwrap_or_else(|_| "[]".into());
    c.prepare_cached(
        "SELECT count(*) FROM staff_profiles s
         WHERE s.workspace_id = ?1 AND s.deleted_at IS NULL
           AND s.employment_status IN (SELECT value FROM json_each(?2))
           AND (json_array_length(?3) = 0 OR s.department_id IN (SELECT value FROM json_each(?3)))",
    )?
    .query_row(rusqlite::params![ws, statuses, departments], |r| r.get(0))
}

/// A live project's identifier in `ws`.
pub fn project_identifier(c: &Connection, ws: &str, id: &str) -> rusqlite::Result<Option<String>> {
    c.prepare_cached("SELECT identifier FROM projects WHERE id = ?1 AND workspace_id = ?2 AND deleted_at IS NULL")?
        .query_row([id, ws], |r| r.get("identifier"))
        .optional()
}

/// A live project of `ws` by its identifier.
pub fn project_by_identifier(c: &Connection, ws: &str, identifier: &str) -> rusqlite::Result<Option<String>> {
    c.prepare_cached("SELECT id FROM projects WHERE workspace_id = ?1 AND identifier = ?2 AND deleted_at IS NULL")?
        .query_row([ws, identifier], |r| r.get("id"))
        .optional()
}

/// The email of a member of `ws`.
pub fn member_email(c: &Connection, ws: &str, user: &str) -> rusqlite::Result<Option<String>> {
    c.prepare_cached(
        "SELECT u.email FROM users u JOIN workspace_members m ON m.user_id = u.id
         WHERE u.id = ?1 AND m.workspace_id = ?2 AND m.deleted_at IS NULL",
    )?
    .query_row([user, ws], |r| r.get("email"))
    .optional()
}

/// A member of `ws` by email.
pub fn member_by_email(c: &Connection, ws: &str, email: &str) -> rusqlite::Result<Option<String>> {
    c.prepare_cached(
        "SELECT u.id FROM users u JOIN workspace_members m ON m.user_id = u.id
         WHERE u.email = ?1 COLLATE NOCASE AND m.workspace_id = ?2 AND m.deleted_at IS NULL",
    )?
    .query_row([email, ws], |r| r.get("id"))
    .optional()
}

/// A record of a project's own (`table`: states, labels, cycles or modules, the caller's
/// constant): its name, its project's identifier and id.
pub fn in_project(
    c: &Connection,
    ws: &str,
    table: &str,
    id: &str,
) -> rusqlite::Result<Option<(String, String, String)>> {
    c.prepare_cached(&format!(
        "SELECT t.name AS name, p.identifier AS identifier, p.id AS project_id FROM {table} t
         JOIN projects p ON p.id = t.project_id
         WHERE t.id = ?1 AND t.workspace_id = ?2 AND t.deleted_at IS NULL AND p.deleted_at IS NULL"
    ))?
    .query_row([id, ws], |r| {
        Ok((r.get("name")?, r.get("identifier")?, r.get("project_id")?))
    })
    .optional()
}

/// A live record of `table` (states, labels, cycles or modules) in a project, by name.
pub fn in_project_by_name(c: &Connection, table: &str, project: &str, name: &str) -> rusqlite::Result<Option<String>> {
    c.prepare_cached(&format!(
        "SELECT id FROM {table} WHERE project_id = ?1 AND name = ?2 COLLATE NOCASE AND deleted_at IS NULL
         ORDER BY id LIMIT 1"
    ))?
    .query_row([project, name], |r| r.get("id"))
    .optional()
}

/// A live metric of `ws` by name.
pub fn metric_by_name(c: &Connection, ws: &str, name: &str) -> rusqlite::Result<Option<String>> {
    c.prepare_cached(
        "SELECT id FROM dashboard_metrics WHERE workspace_id = ?1 AND name = ?2 COLLATE NOCASE AND deleted_at IS NULL",
    )?
    .query_row([ws, name], |r| r.get("id"))
    .optional()
}
