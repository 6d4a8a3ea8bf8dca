//! The rules of dashboards and their widgets (`docs::rules`), checked for every change from
//! the API or a device alike. Shared dashboards live in the workspace's shared dashboards
//! document and are arranged by admins; a person's own live in a document of theirs. The
//! workspace's default dashboard is made with the workspace and is free; any other, and
//! any change to one or its widgets, needs the `dashboards` feature (402 `plan_required`),
//! so a device offline cannot make what the API would refuse. Deleting never needs a plan:
//! a workspace whose licence ran out can still tidy up.

use super::widgets;
use crate::docs::rules::{Change, RuleCtx, Rules};
use crate::error::AppError;
use crate::policy::WsRole;

crate::docs::table! {
    /// A dashboard (seed 000): shared (`user_id` null) or one person's own.
    pub mod dashboards in Dashboards as Fields {
        workspace_id: Text,
        user_id: Text,
        name: Text,
        description: Text,
        is_default: Int,
        config: Text,
        sort_order: Int,
    }
    /// A widget on a dashboard's 24-column grid (seeds 000 and 004). Its position is one
    /// field, so two devices moving it offline end in one of their two positions.
    pub mod dashboard_widgets in Dashboards as Fields {
        workspace_id: Text,
        user_id: Text,
        dashboard_id: Text,
        widget_type: Text,
        title: Text,
        config: Text,
        position: Text,
        sort_order: Int,
        refresh_seconds: Int,
        is_visible: Int,
        chart_type: Text,
    }
    /// A person's choices about one dashboard they see (seed 000's favourites, and "each
    /// person can choose their own default"), in their own document under
    /// `{user}:{dashboard}`. Of two defaults two devices chose offline, the later one holds.
    pub mod dashboard_prefs in User as Fields {
        workspace_id: Text,
        user_id: Text,
        dashboard_id: Text,
        is_favorite: Int,
        is_default: Int,
    }
    /// A workspace's own metric (seed 004): a named, structured query reduced to one number
    /// (`metrics::parse_query`), with its thresholds. In the shared dashboards document,
    /// written by admins. Thresholds are decimal numbers kept as text (the documents hold
    /// text and integers), each its own field so two admins changing two of them both count.
    pub mod dashboard_metrics in Dashboards as Fields {
        workspace_id: Text,
        name: Text,
        description: Text,
        category: Text,
        query: Text,
        unit: Text,
        format: Text,
        target_value: Text,
        warning_threshold: Text,
        critical_threshold: Text,
        direction: Text,
        refresh_seconds: Int,
        is_enabled: Int,
        color: Text,
        icon: Text,
        sort_order: Int,
    }
    /// A saved layout of a dashboard (seed 002): the whole grid as it was saved, widget id
    /// to position. Never changed once written; the oldest are retired past the kept history.
    pub mod dashboard_layouts in Dashboards as Fields {
        workspace_id: Text,
        user_id: Text,
        dashboard_id: Text,
        positions: Text,
        note: Text,
    }
}

/// Columns of the grid (Grafana's convention).
pub const GRID_COLUMNS: i64 = 24;
/// The lowest refresh rate a widget may ask for (seed 004's `refreshRate.min(60)`).
pub const MIN_REFRESH_SECONDS: i64 = 60;
pub const MAX_REFRESH_SECONDS: i64 = 86_400;

pub const DASHBOARDS: Rules = Rules {
    table: dashboards::SPEC.name,
    immutable: &[
        dashboards::created_at.name,
        dashboards::user_id.name,
        dashboards::is_default.name,
    ],
    refs: &[],
    max_len: &[
        (dashboards::name.name, 255),
        (dashboards::description.name, 10_000),
        (dashboards::config.name, 20_000),
    ],
    check: check_dashboard,
};

pub const DASHBOARD_WIDGETS: Rules = Rules {
    table: dashboard_widgets::SPEC.name,
    immutable: &[
        dashboard_widgets::created_at.name,
        dashboard_widgets::user_id.name,
        dashboard_widgets::dashboard_id.name,
        dashboard_widgets::widget_type.name,
    ],
    refs: &[],
    max_len: &[
        (dashboard_widgets::title.name, 255),
        (dashboard_widgets::config.name, 20_000),
        (dashboard_widgets::position.name, 200),
        (dashboard_widgets::chart_type.name, 20),
    ],
    check: check_widget,
};

pub const DASHBOARD_LAYOUTS: Rules = Rules {
    table: dashboard_layouts::SPEC.name,
    immutable: &[
        dashboard_layouts::created_at.name,
        dashboard_layouts::user_id.name,
        dashboard_layouts::dashboard_id.name,
        dashboard_layouts::positions.name,
        dashboard_layouts::note.name,
    ],
    refs: &[],
    max_len: &[
        (dashboard_layouts::positions.name, 100_000),
        (dashboard_layouts::note.name, 255),
    ],
    check: check_layout,
};

pub const DASHBOARD_PREFS: Rules = Rules {
    table: dashboard_prefs::SPEC.name,
    immutable: &[
        dashboard_prefs::created_at.name,
        dashboard_prefs::user_id.name,
        dashboard_prefs::dashboard_id.name,
    ],
    refs: &[],
    max_len: &[],
    check: check_prefs,
};

pub const DASHBOARD_METRICS: Rules = Rules {
    table: dashboard_metrics::SPEC.name,
    immutable: &[dashboard_metrics::created_at.name],
    refs: &[],
    max_len: &[
        (dashboard_metrics::name.name, 100),
        (dashboard_metrics::description.name, 2_000),
        (dashboard_metrics::category.name, 20),
        (dashboard_metrics::query.name, 20_000),
        (dashboard_metrics::unit.name, 20),
        (dashboard_metrics::format.name, 20),
        (dashboard_metrics::target_value.name, 40),
        (dashboard_metrics::warning_threshold.name, 40),
        (dashboard_metrics::critical_threshold.name, 40),
        (dashboard_metrics::direction.name, 10),
        (dashboard_metrics::color.name, 20),
        (dashboard_metrics::icon.name, 40),
    ],
    check: check_metric,
};

/// A metric: admins manage them (seed 004), in the shared document only; its query is one
/// the metric engine reads; thresholds are numbers on the bad side's order; setting them
/// needs the `metric_thresholds` plan (removing them does not).
fn check_metric(cx: &RuleCtx<'_>, c: &Change) -> Result<(), AppError> {
    use super::metrics;
    use dashboard_metrics as m;
    if cx.scope.owner.is_some() {
        return Err(AppError::refused(
            "wrong_scope",
            "metrics belong to the workspace: they live in its shared dashboards",
        ));
    }
    // A record's id is a UUID, never one of Keel's system metrics' (`system-…`), whose
    // place it would take.
    if uuid::Uuid::parse_str(&c.id).ok().map(|u| u.to_string()).as_deref() != Some(c.id.as_str()) {
        return Err(AppError::refused("wrong_key", "a metric's id is a UUID, in lower case"));
    }
    let name = c.text(m::name).unwrap_or("");
    if name.trim().is_empty() || name != name.trim() || name.chars().any(char::is_control) {
        return Err(AppError::field(
            "name",
            "must not be empty, start or end with spaces, or hold control characters",
        ));
    }
    let one_of = |f: crate::docs::Field<crate::docs::record::col::Text>, values: &[&str]| match c.text(f) {
        Some(v) if values.contains(&v) => Ok(()),
        _ => Err(AppError::field(
            f.name,
            format!("must be one of: {}", values.join(", ")),
        )),
    };
    one_of(m::category, metrics::CATEGORIES)?;
    one_of(m::format, metrics::FORMATS)?;
    one_of(m::direction, metrics::DIRECTIONS)?;
    for f in [m::unit, m::color, m::icon, m::description] {
        if c.text(f).unwrap_or("").chars().any(|ch| ch.is_control() && ch != '\n') {
            return Err(AppError::field(f.name, "must not contain control characters"));
        }
    }
    if !c.is_deleted() {
        metrics::parse_query(c.text(m::query).unwrap_or(""))?;
    }
    let t = metrics::Thresholds::read(
        c.text(m::target_value),
        c.text(m::warning_threshold),
        c.text(m::critical_threshold),
        c.text(m::direction),
    )?;
    let refresh = c.int(m::refresh_seconds).unwrap_or(0);
    if !(MIN_REFRESH_SECONDS..=MAX_REFRESH_SECONDS).contains(&refresh) {
        return Err(AppError::field(
            "refresh_seconds",
            format!("must be {MIN_REFRESH_SECONDS} to {MAX_REFRESH_SECONDS}"),
        ));
    }
    if !matches!(c.int(m::is_enabled), Some(0 | 1)) {
        return Err(AppError::field("is_enabled", "must be true or false"));
    }
    cx.require_ws(WsRole::Admin, "managing metrics")?;
    if !cx.is_person() || c.is_deleted() {
        return Ok(());
    }
    let thresholds_changed = [m::warning_threshold, m::critical_threshold, m::direction]
        .into_iter()
        .any(|f| c.changed(f));
    // Made (or made live again) with levels, or its levels changed: the plan decides.
    if t.any() && (thresholds_changed || c.is_create()) {
        crate::plans::require(cx.conn, &cx.doc.workspace_id, "metric_thresholds")?;
    }
    if (c.is_create() || c.changed(m::name))
        && super::store::metric_name_taken(cx.conn, &cx.doc.workspace_id, name, &c.id)?
    {
        return Err(AppError::conflict(
            "name_taken",
            "a metric of this name is there already",
        ));
    }
    Ok(())
}

/// A person marks only dashboards they see: the shared ones and their own.
fn check_prefs(cx: &RuleCtx<'_>, c: &Change) -> Result<(), AppError> {
    for f in [dashboard_prefs::is_favorite, dashboard_prefs::is_default] {
        if !matches!(c.int(f), Some(0 | 1)) {
            return Err(AppError::field(f.name, "must be true or false"));
        }
    }
    let user = c.text(dashboard_prefs::user_id);
    if cx.is_person() && !cx.is_me(user) {
        return Err(AppError::forbidden("a person's dashboard choices are theirs alone"));
    }
    cx.require_ws(WsRole::Member, "choosing dashboards")?;
    let dashboard = c.text(dashboard_prefs::dashboard_id).unwrap_or("");
    // One record per dashboard, under the key the API writes: two devices marking one
    // dashboard write one record, and nothing else can stand for it.
    if c.id != format!("{}:{dashboard}", user.unwrap_or("")) {
        return Err(AppError::refused(
            "wrong_key",
            "a dashboard choice is kept under {user}:{dashboard}",
        ));
    }
    if !cx.is_person() || c.is_deleted() || !c.is_create() {
        return Ok(());
    }
    let ws = &cx.doc.workspace_id;
    let seen = super::store::dashboard_in(cx.conn, ws, None, dashboard)?.is_some()
        || super::store::dashboard_in(cx.conn, ws, user, dashboard)?.is_some();
    if !seen {
        return Err(AppError::field("dashboard_id", "names no dashboard of yours here"));
    }
    Ok(())
}

/// Live widgets a person may put on a dashboard. Two devices adding offline can go past it,
/// so a saved layout may place more (`MAX_LAYOUT_WIDGETS`).
pub const MAX_WIDGETS: usize = 200;
pub const MAX_LAYOUT_WIDGETS: usize = 1_000;
/// Layouts a dashboard keeps; saving one more retires the oldest.
pub const KEPT_LAYOUTS: usize = 50;

/// A saved layout's positions: widget ids (as record ids are: 1 to 64 characters of
/// letters, digits, `-` and `_`) to positions on the grid.
pub fn parse_positions(s: &str) -> Result<Vec<(String, Position)>, AppError> {
    let shape = || AppError::field("positions", "must be an object of widget ids to {x, y, w, h}");
    let Ok(serde_json::Value::Object(m)) = serde_json::from_str::<serde_json::Value>(s) else {
        return Err(shape());
    };
    if m.len() > MAX_LAYOUT_WIDGETS {
        return Err(AppError::field(
            "positions",
            format!("holds at most {MAX_LAYOUT_WIDGETS} widgets"),
        ));
    }
    let mut out = Vec::with_capacity(m.len());
    for (id, v) in m {
        let id_ok =
            (1..=64).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !id_ok || !v.is_object() {
            return Err(shape());
        }
        out.push((id, parse_position(&v.to_string())?));
    }
    Ok(out)
}

fn check_layout(cx: &RuleCtx<'_>, c: &Change) -> Result<(), AppError> {
    if !c.is_deleted() {
        parse_positions(c.text(dashboard_layouts::positions).unwrap_or(""))?;
    }
    let note = c.text(dashboard_layouts::note).unwrap_or("");
    if note.chars().any(char::is_control) {
        return Err(AppError::field("note", "must not contain control characters"));
    }
    may_arrange(cx, c.text(dashboard_layouts::user_id))?;
    if !cx.is_person() || c.is_deleted() {
        return Ok(());
    }
    // A retired version stays retired: made live again, its fields would count as new.
    if c.before.is_some() {
        return Err(AppError::refused(
            "layout_kept",
            "a saved layout is never changed nor brought back; save a new one",
        ));
    }
    let dashboard = c.text(dashboard_layouts::dashboard_id).unwrap_or("");
    let Some(is_default) =
        super::store::dashboard_in(cx.conn, &cx.doc.workspace_id, cx.scope.owner.as_deref(), dashboard)?
    else {
        return Err(AppError::field("dashboard_id", "names no such dashboard here"));
    };
    // The API retires the oldest in the same change; a device must too.
    if super::store::live_layouts(cx.conn, dashboard)? > KEPT_LAYOUTS {
        return Err(AppError::refused(
            "too_many_layouts",
            format!("a dashboard keeps {KEPT_LAYOUTS} layouts: retire the oldest in the same change"),
        ));
    }
    premium(cx, c, is_default)
}

/// Who may write this document's dashboards: admins the shared ones, a member their own.
fn may_arrange(cx: &RuleCtx<'_>, user_id: Option<&str>) -> Result<(), AppError> {
    match &cx.scope.owner {
        None => {
            if user_id.is_some() {
                return Err(AppError::refused(
                    "wrong_scope",
                    "a shared dashboard belongs to nobody in particular",
                ));
            }
            cx.require_ws(WsRole::Admin, "arranging a shared dashboard")
        }
        Some(owner) => {
            cx.require_ws(WsRole::Member, "a dashboard of one's own")?;
            if cx.is_person() && !cx.is_me(Some(owner)) {
                return Err(AppError::forbidden("only its owner arranges a personal dashboard"));
            }
            Ok(())
        }
    }
}

/// A premium dashboard's change needs the plan (never its deletion).
fn premium(cx: &RuleCtx<'_>, c: &Change, is_default: bool) -> Result<(), AppError> {
    if !cx.is_person() || is_default || c.is_deleted() {
        return Ok(());
    }
    crate::plans::require(cx.conn, &cx.doc.workspace_id, "dashboards")
}

fn json_object(field: &str, v: Option<&str>) -> Result<serde_json::Map<String, serde_json::Value>, AppError> {
    match v.map(serde_json::from_str::<serde_json::Value>) {
        Some(Ok(serde_json::Value::Object(m))) => Ok(m),
        _ => Err(AppError::field(field, "must be a JSON object")),
    }
}

fn check_dashboard(cx: &RuleCtx<'_>, c: &Change) -> Result<(), AppError> {
    let name = c.text(dashboards::name).unwrap_or("");
    if name.trim().is_empty() {
        return Err(AppError::field("name", "must not be empty"));
    }
    if name.chars().any(char::is_control) {
        return Err(AppError::field("name", "must not contain control characters"));
    }
    // As the API trims a name, so a device's is held to it (else "Sales " would pass for new).
    if name != name.trim() {
        return Err(AppError::field("name", "must not start or end with spaces"));
    }
    let is_default = match c.int(dashboards::is_default) {
        Some(0) => false,
        Some(1) => true,
        _ => return Err(AppError::field("is_default", "must be true or false")),
    };
    if is_default && cx.scope.owner.is_some() {
        return Err(AppError::field(
            "is_default",
            "only the workspace's shared dashboard is its default",
        ));
    }
    let config = json_object("config", c.text(dashboards::config))?;
    if !c.is_deleted() {
        super::parse_dashboard_config(&config)?;
    }
    may_arrange(cx, c.text(dashboards::user_id))?;
    if !cx.is_person() {
        return Ok(());
    }
    if is_default && c.is_create() {
        return Err(AppError::refused(
            "default_dashboard",
            "the default dashboard is made with the workspace",
        ));
    }
    if is_default && c.is_delete() {
        return Err(AppError::refused(
            "default_dashboard",
            "the workspace's default dashboard cannot be deleted",
        ));
    }
    premium(cx, c, is_default)?;
    if !c.is_deleted() && (c.is_create() || c.changed(dashboards::name)) {
        let taken = super::store::name_taken(cx.conn, &cx.doc.workspace_id, cx.scope.owner.as_deref(), name, &c.id)?;
        if taken {
            return Err(AppError::conflict(
                "name_taken",
                "a dashboard of this name is there already",
            ));
        }
    }
    Ok(())
}

fn check_widget(cx: &RuleCtx<'_>, c: &Change) -> Result<(), AppError> {
    let kind = c.text(dashboard_widgets::widget_type).unwrap_or("");
    let Some(wt) = widgets::widget_type(kind) else {
        return Err(AppError::field(
            "widget_type",
            format!("must be one of: {}", widgets::keys()),
        ));
    };
    if !c.is_deleted() {
        let config = json_object("config", c.text(dashboard_widgets::config))?;
        widgets::check_config(wt, &config)?;
        parse_position(c.text(dashboard_widgets::position).unwrap_or(""))?;
    }
    let refresh = c.int(dashboard_widgets::refresh_seconds).unwrap_or(0);
    if !(MIN_REFRESH_SECONDS..=MAX_REFRESH_SECONDS).contains(&refresh) {
        return Err(AppError::field(
            "refresh_seconds",
            format!("must be {MIN_REFRESH_SECONDS} to {MAX_REFRESH_SECONDS}"),
        ));
    }
    if !matches!(c.int(dashboard_widgets::is_visible), Some(0 | 1)) {
        return Err(AppError::field("is_visible", "must be true or false"));
    }
    if let Some(k) = c.text(dashboard_widgets::chart_type) {
        if !k.is_empty() && !crate::analytics::CHART_KINDS.contains(&k) {
            return Err(AppError::field(
                "chart_type",
                format!("must be one of: {}", crate::analytics::CHART_KINDS.join(", ")),
            ));
        }
    }
    may_arrange(cx, c.text(dashboard_widgets::user_id))?;
    // A deleted widget needs no live dashboard (its dashboard may go in the same change).
    if !cx.is_person() || c.is_deleted() {
        return Ok(());
    }
    // Its dashboard: a live one of this very document (records from a peer may arrive in
    // any order, so only people's changes are held to it).
    let dashboard = c.text(dashboard_widgets::dashboard_id).unwrap_or("");
    let Some(is_default) =
        super::store::dashboard_in(cx.conn, &cx.doc.workspace_id, cx.scope.owner.as_deref(), dashboard)?
    else {
        return Err(AppError::field("dashboard_id", "names no such dashboard here"));
    };
    // The rules see the rows as the change leaves them: the count holds this widget.
    if c.is_create() && super::store::widget_count(cx.conn, dashboard)? > MAX_WIDGETS {
        return Err(AppError::refused(
            "too_many_widgets",
            format!("a dashboard holds at most {MAX_WIDGETS} widgets"),
        ));
    }
    premium(cx, c, is_default)
}

/// A widget's place on the grid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Position {
    pub x: i64,
    pub y: i64,
    pub w: i64,
    pub h: i64,
}

/// The furthest down a widget may sit, and its tallest.
pub const MAX_Y: i64 = 10_000;
pub const MAX_H: i64 = 100;

pub fn parse_position(s: &str) -> Result<Position, AppError> {
    let shape = || AppError::field("position", "must be {x, y, w, h} in whole grid cells");
    let p: Position = match serde_json::from_str::<serde_json::Value>(s) {
        Ok(v @ serde_json::Value::Object(_)) => serde_json::from_value(v).map_err(|_| shape())?,
        _ => return Err(shape()),
    };
    if p.w < 1 || p.w > GRID_COLUMNS || p.x < 0 || p.x > GRID_COLUMNS - p.w {
        return Err(AppError::field(
            "position",
            format!("x and w must fit the {GRID_COLUMNS} columns (x ≥ 0, w ≥ 1, x + w ≤ {GRID_COLUMNS})"),
        ));
    }
    if p.y < 0 || p.y > MAX_Y || p.h < 1 || p.h > MAX_H {
        return Err(AppError::field(
            "position",
            format!("y must be 0 to {MAX_Y} and h 1 to {MAX_H}"),
        ));
    }
    Ok(p)
}
