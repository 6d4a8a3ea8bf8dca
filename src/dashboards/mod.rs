//! Dashboards (seeds 000, 002, 004): named boards of widgets on a 24-column grid, shared by
//! a workspace (arranged by its admins) or a person's own. Every workspace has a default
//! shared dashboard, made with it and free; more dashboards are premium (`dashboards`), and
//! the record rules (`records`) hold that for a device's offline edits as for the API. A
//! widget's data is the chart builder's (`analytics`) or the time summaries', read as the
//! viewer: it never counts a project the viewer cannot read, and says so when its filters
//! name one.

pub mod metrics;
pub mod records;
pub mod routes;
pub mod store;
pub mod transfer;
pub mod widgets;

use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

use crate::analytics::{Analytics, ChartParams, FilterParams, Scope};
use crate::docs::{DocRef, Set, Who};
use crate::error::AppError;
use crate::policy::WsRole;
use crate::time::now_rfc3339;
use crate::workspaces::{parse_name, WsCtx};
use crate::App;
use records::{dashboard_layouts, dashboard_prefs, dashboard_widgets, dashboards, Position};

/// The keys of the chart builder's filters a dashboard or widget config may hold (the
/// analytics routes' query parameters).
pub const FILTER_KEYS: &[&str] = &[
    "project",
    "state",
    "state_group",
    "priority",
    "assignee",
    "label",
    "cycle",
    "module",
    "created_by",
    "start_from",
    "start_to",
    "target_from",
    "target_to",
    "created_from",
    "created_to",
    "completed_from",
    "completed_to",
    "logged_from",
    "logged_to",
    "q",
    "view",
];

/// Filters from a config's object: every value is text, as in a query string.
pub fn filter_params(m: &Map<String, Value>) -> Result<FilterParams, AppError> {
    for (k, v) in m {
        if !FILTER_KEYS.contains(&k.as_str()) {
            return Err(AppError::field("config", format!("{k:.40} is not a filter")));
        }
        if !v.is_string() && !v.is_null() {
            return Err(AppError::field("config", format!("{k} must be text")));
        }
    }
    serde_json::from_value(Value::Object(m.clone())).map_err(|e| AppError::field("config", format!("filters: {e}")))
}

/// A chart's axes, measure, interval and limit from a widget's own config.
pub fn chart_params(m: &Map<String, Value>) -> Result<ChartParams, AppError> {
    let text = |k: &str| -> Result<Option<String>, AppError> {
        match m.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(AppError::field("config", format!("{k} must be text"))),
        }
    };
    let limit = match m.get("limit") {
        None | Some(Value::Null) => None,
        Some(v) => Some(
            v.as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .ok_or_else(|| AppError::field("config", "limit must be a whole number"))?,
        ),
    };
    Ok(ChartParams {
        x_axis: text("x_axis")?,
        group_by: text("group_by")?,
        y_axis: text("y_axis")?,
        interval: text("interval")?,
        limit,
        ..Default::default()
    })
}

/// A dashboard's config: `filters` that apply under every widget's own.
pub fn parse_dashboard_config(m: &Map<String, Value>) -> Result<Map<String, Value>, AppError> {
    for k in m.keys() {
        if k != "filters" {
            return Err(AppError::field(
                "config",
                format!("{k:.40} is not a dashboard setting; the settings are: filters"),
            ));
        }
    }
    let filters = match m.get("filters") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(f)) => f.clone(),
        Some(_) => return Err(AppError::field("config", "filters must be an object")),
    };
    crate::analytics::check_filters(&filter_params(&filters)?)?;
    Ok(filters)
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WidgetView {
    pub id: String,
    pub dashboard_id: String,
    pub widget_type: String,
    pub title: String,
    #[schema(value_type = Object)]
    pub config: Value,
    pub position: Position,
    pub sort_order: i64,
    pub refresh_seconds: i64,
    pub is_visible: bool,
    pub chart_type: Option<String>,
    pub updated_at: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DashboardView {
    pub id: String,
    pub name: String,
    pub description: String,
    /// The workspace's default dashboard (free; never deleted).
    pub is_default: bool,
    /// Shared with the workspace (arranged by admins), or the caller's own.
    pub is_shared: bool,
    /// Who owns a personal dashboard (the caller); none for a shared one.
    pub user_id: Option<String>,
    #[schema(value_type = Object)]
    pub config: Value,
    pub sort_order: i64,
    /// The caller marked it as a favourite.
    pub is_favorite: bool,
    /// The caller chose it as the dashboard they open first (over the workspace's default).
    pub is_my_default: bool,
    /// The caller may change it (their own, or shared and they are an admin).
    pub can_edit: bool,
    /// A premium dashboard of a workspace without premium: it opens, nothing changes.
    pub locked: bool,
    pub created_at: String,
    pub updated_at: String,
    pub created_by: Option<String>,
    /// Its widgets (only when one dashboard is asked for).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub widgets: Option<Vec<WidgetView>>,
}

/// What a dashboard or widget is written with; `None` leaves a field as it is.
#[derive(Debug, Default, Clone)]
pub struct DashboardInput {
    pub name: Option<String>,
    pub description: Option<String>,
    pub config: Option<Map<String, Value>>,
    pub sort_order: Option<i64>,
    pub shared: bool,
}

#[derive(Debug, Default, Clone)]
pub struct WidgetInput {
    pub widget_type: Option<String>,
    pub title: Option<String>,
    pub config: Option<Map<String, Value>>,
    pub position: Option<Position>,
    pub sort_order: Option<i64>,
    pub refresh_seconds: Option<i64>,
    pub is_visible: Option<bool>,
    pub chart_type: Option<Option<String>>,
}

/// A saved layout of a dashboard.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LayoutView {
    pub id: String,
    /// 1 for the dashboard's first saved layout, and so on (retired ones keep their numbers).
    pub version: usize,
    /// What made it: `saved`, or `restored version N`.
    pub note: String,
    /// Widget id to position, as saved.
    #[schema(value_type = Object)]
    pub positions: Map<String, Value>,
    pub created_at: String,
    pub created_by: Option<String>,
}

/// What a person chooses about a dashboard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Choice {
    Favorite,
    Default,
}

pub use records::KEPT_LAYOUTS;

fn layout_view(l: store::LayoutRow) -> LayoutView {
    let positions = match serde_json::from_str(&l.positions) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    };
    LayoutView {
        id: l.id,
        version: l.version,
        note: l.note,
        positions,
        created_at: l.created_at,
        created_by: l.created_by,
    }
}

/// One widget's data as its viewer may see it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WidgetData {
    pub widget_id: String,
    pub widget_type: String,
    /// `ok`; `restricted` (its filters name a project the viewer cannot read: nothing of it
    /// is shown); `error` (its query no longer resolves, e.g. a deleted saved view).
    pub status: &'static str,
    pub message: Option<String>,
    /// The type's data; none when restricted or in error.
    #[schema(value_type = Option<Object>)]
    pub data: Value,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DashboardData {
    pub dashboard_id: String,
    pub widgets: Vec<WidgetData>,
}

fn widget_view(w: store::WidgetRow) -> WidgetView {
    WidgetView {
        config: serde_json::from_str(&w.config).unwrap_or_else(|_| Value::Object(Map::new())),
        id: w.id,
        dashboard_id: w.dashboard_id,
        widget_type: w.widget_type,
        title: w.title,
        position: w.position,
        sort_order: w.sort_order,
        refresh_seconds: w.refresh_seconds,
        is_visible: w.is_visible,
        chart_type: w.chart_type,
        updated_at: w.updated_at,
    }
}

/// The plan check a premium dashboard's change would meet, as a read (for `locked`).
fn premium_now(c: &rusqlite::Connection, ws: &str) -> Result<bool, AppError> {
    match crate::plans::require(c, ws, "dashboards") {
        Ok(()) => Ok(true),
        Err(AppError::Status {
            code: "plan_required", ..
        }) => Ok(false),
        Err(e) => Err(e),
    }
}

/// What a dashboard's view needs besides its row: the plan, the workspace's default and the
/// caller's choices.
struct Context {
    premium: bool,
    default: Option<String>,
    prefs: Vec<store::PrefRow>,
}

impl Context {
    fn read(c: &rusqlite::Connection, ws: &str, uid: &str) -> Result<Self, AppError> {
        Ok(Self {
            premium: premium_now(c, ws)?,
            default: store::default_id(c, ws)?,
            prefs: store::prefs(c, ws, uid)?,
        })
    }
}

fn view_of(w: &WsCtx, d: store::DashboardRow, cx: &Context) -> DashboardView {
    let (premium, default) = (cx.premium, cx.default.as_deref());
    let pref = cx.prefs.iter().find(|p| p.dashboard_id == d.id);
    let is_favorite = pref.is_some_and(|p| p.is_favorite);
    let is_my_default =
        pref.is_some_and(|p| p.is_default) && cx.prefs.first().map(|p| p.id.as_str()) == pref.map(|p| p.id.as_str());
    let is_default = d.is_default && default == Some(d.id.as_str());
    let can_edit = match &d.user_id {
        Some(u) => *u == w.actor.user_id,
        None => w.role >= WsRole::Admin,
    };
    DashboardView {
        config: serde_json::from_str(&d.config).unwrap_or_else(|_| Value::Object(Map::new())),
        is_shared: d.user_id.is_none(),
        locked: !is_default && !premium,
        can_edit: can_edit && (is_default || premium),
        id: d.id,
        name: d.name,
        description: d.description,
        is_default,
        is_favorite,
        is_my_default,
        user_id: d.user_id,
        sort_order: d.sort_order,
        created_at: d.created_at,
        updated_at: d.updated_at,
        created_by: d.created_by,
        widgets: None,
    }
}

/// The document a dashboard of `w` lives in.
fn doc_of(ws: &str, user_id: Option<&str>) -> DocRef {
    DocRef::dashboards(ws, user_id)
}

/// The default dashboard's widgets: the overview, work items by state group, time per person
/// this month, and the projects' progress.
fn default_widgets() -> Vec<(&'static str, &'static str, Value, Position)> {
    let p = |x, y, w, h| Position { x, y, w, h };
    vec![
        ("overview", "Overview", serde_json::json!({}), p(0, 0, 24, 4)),
        (
            "chart",
            "Work items by state",
            serde_json::json!({"x_axis": "STATE_GROUPS"}),
            p(0, 4, 12, 8),
        ),
        ("project_stats", "Projects", serde_json::json!({}), p(12, 4, 12, 8)),
        (
            "time_summary",
            "Time by member",
            serde_json::json!({"by": "member"}),
            p(0, 12, 12, 8),
        ),
    ]
}

/// Writes the workspace's default dashboard with its widgets (Keel's own record: made
/// once, where the workspace was made).
pub fn create_default(ctx: &mut crate::db::WriteCtx<'_>, ws: &str, by: Option<&str>) -> Result<(), AppError> {
    let now = now_rfc3339();
    let id = crate::new_id();
    ctx.edit(&Who::System, &doc_of(ws, None), |e| {
        let mut f: Vec<Set> = vec![
            dashboards::workspace_id.to(ws),
            dashboards::user_id.null(),
            dashboards::name.to("Overview"),
            dashboards::description.to("The workspace at a glance"),
            dashboards::is_default.to(true),
            dashboards::config.to("{}"),
            dashboards::sort_order.to(0),
        ];
        f.extend(dashboards::SPEC.base(&now, by));
        e.create(dashboards::SPEC, &id, &f)?;
        for (n, (kind, title, config, pos)) in default_widgets().into_iter().enumerate() {
            let mut f: Vec<Set> = vec![
                dashboard_widgets::workspace_id.to(ws),
                dashboard_widgets::user_id.null(),
                dashboard_widgets::dashboard_id.to(id.as_str()),
                dashboard_widgets::widget_type.to(kind),
                dashboard_widgets::title.to(title),
                dashboard_widgets::config.to(config.to_string()),
                dashboard_widgets::position.to(serde_json::to_string(&pos).unwrap_or_default()),
                dashboard_widgets::sort_order.to(n as i64),
                dashboard_widgets::refresh_seconds.to(300),
                dashboard_widgets::is_visible.to(true),
                dashboard_widgets::chart_type.null(),
            ];
            f.extend(dashboard_widgets::SPEC.base(&now, by));
            e.create(dashboard_widgets::SPEC, &crate::new_id(), &f)?;
        }
        Ok(())
    })
}

/// Gives each workspace made here that lacks one its default dashboard (workspaces made
/// before dashboards existed). A workspace that came from a peer gets its default from there.
pub fn ensure_defaults_blocking(app: &App) -> Result<(), AppError> {
    app.writer.write_blocking(|ctx| {
        for (ws, by) in store::without_default(ctx.conn)? {
            create_default(ctx, &ws, by.as_deref())?;
        }
        Ok(())
    })
}

pub struct Dashboards<'a>(pub &'a App);

impl Dashboards<'_> {
    /// The shared dashboards and the caller's own, the default first.
    pub async fn list(&self, w: &WsCtx) -> Result<Vec<DashboardView>, AppError> {
        let (ws, uid, w) = (w.ws.id.clone(), w.actor.user_id.clone(), w.clone());
        self.0
            .readers
            .read(move |c| {
                let cx = Context::read(c, &ws, &uid)?;
                let mut views: Vec<DashboardView> = store::list(c, &ws, &uid)?
                    .into_iter()
                    .map(|d| view_of(&w, d, &cx))
                    .collect();
                // The caller's default first, then the workspace's, their favourites, the rest.
                views.sort_by_key(|v| (!v.is_my_default, !v.is_default, !v.is_favorite));
                Ok(views)
            })
            .await
    }

    /// One dashboard with its widgets (hidden ones too: the editor shows them greyed).
    pub async fn get(&self, w: &WsCtx, id: &str) -> Result<DashboardView, AppError> {
        let (ws, uid, w, id) = (w.ws.id.clone(), w.actor.user_id.clone(), w.clone(), id.to_string());
        self.0
            .readers
            .read(move |c| {
                let d = store::get(c, &ws, &uid, &id)?.ok_or(AppError::not_found("dashboard"))?;
                let mut v = view_of(&w, d, &Context::read(c, &ws, &uid)?);
                v.widgets = Some(store::widgets(c, &id)?.into_iter().map(widget_view).collect());
                Ok(v)
            })
            .await
    }

    pub async fn create(&self, w: &WsCtx, input: DashboardInput) -> Result<DashboardView, AppError> {
        let who = Who::user(&w.actor.user_id);
        let name = parse_name(input.name.as_deref().unwrap_or(""), 255).map_err(|e| AppError::field("name", e))?;
        let config = input.config.clone().unwrap_or_default();
        parse_dashboard_config(&config)?;
        let (ws, uid) = (w.ws.id.clone(), w.actor.user_id.clone());
        let owner = (!input.shared).then(|| uid.clone());
        let id = crate::new_id();
        let id2 = id.clone();
        self.0
            .writer
            .write(move |ctx| {
                let now = now_rfc3339();
                ctx.edit(&who, &doc_of(&ws, owner.as_deref()), |e| {
                    let mut f: Vec<Set> = vec![
                        dashboards::workspace_id.to(ws.as_str()),
                        match &owner {
                            Some(o) => dashboards::user_id.to(o.as_str()),
                            None => dashboards::user_id.null(),
                        },
                        dashboards::name.to(name.as_str()),
                        dashboards::description.to(input.description.as_deref().unwrap_or("")),
                        dashboards::is_default.to(false),
                        dashboards::config.to(Value::Object(config).to_string()),
                        dashboards::sort_order.to(input.sort_order.unwrap_or(0)),
                    ];
                    f.extend(dashboards::SPEC.base(&now, Some(&uid)));
                    e.create(dashboards::SPEC, &id2, &f)
                })
            })
            .await?;
        self.get(w, &id).await
    }

    /// The dashboard `id` as the caller sees it, for a change.
    async fn row(&self, w: &WsCtx, id: &str) -> Result<store::DashboardRow, AppError> {
        let (ws, uid, id) = (w.ws.id.clone(), w.actor.user_id.clone(), id.to_string());
        self.0
            .readers
            .read(move |c| store::get(c, &ws, &uid, &id)?.ok_or(AppError::not_found("dashboard")))
            .await
    }

    pub async fn update(&self, w: &WsCtx, id: &str, input: DashboardInput) -> Result<DashboardView, AppError> {
        let who = Who::user(&w.actor.user_id);
        let d = self.row(w, id).await?;
        let mut f: Vec<Set> = Vec::new();
        if let Some(n) = &input.name {
            f.push(dashboards::name.to(parse_name(n, 255).map_err(|e| AppError::field("name", e))?));
        }
        if let Some(v) = &input.description {
            f.push(dashboards::description.to(v.as_str()));
        }
        if let Some(c) = &input.config {
            parse_dashboard_config(c)?;
            f.push(dashboards::config.to(Value::Object(c.clone()).to_string()));
        }
        if let Some(v) = input.sort_order {
            f.push(dashboards::sort_order.to(v));
        }
        let (ws, id2) = (w.ws.id.clone(), id.to_string());
        self.0
            .writer
            .write(move |ctx| {
                f.push(dashboards::updated_at.to(now_rfc3339()));
                ctx.edit(&who, &doc_of(&ws, d.user_id.as_deref()), |e| {
                    e.set(dashboards::SPEC, &id2, &f)
                })
            })
            .await?;
        self.get(w, id).await
    }

    /// Deletes a dashboard and its widgets (soft: `deleted_at`), never the default.
    pub async fn delete(&self, w: &WsCtx, id: &str) -> Result<(), AppError> {
        let who = Who::user(&w.actor.user_id);
        let d = self.row(w, id).await?;
        let (ws, id) = (w.ws.id.clone(), id.to_string());
        self.0
            .writer
            .write(move |ctx| {
                let now = now_rfc3339();
                let widgets = store::widgets(ctx.conn, &id)?;
                ctx.edit(&who, &doc_of(&ws, d.user_id.as_deref()), |e| {
                    for wd in &widgets {
                        e.set(
                            dashboard_widgets::SPEC,
                            &wd.id,
                            &[
                                dashboard_widgets::deleted_at.to(now.as_str()),
                                dashboard_widgets::updated_at.to(now.as_str()),
                            ],
                        )?;
                    }
                    e.set(
                        dashboards::SPEC,
                        &id,
                        &[
                            dashboards::deleted_at.to(now.as_str()),
                            dashboards::updated_at.to(now.as_str()),
                        ],
                    )
                })
            })
            .await
    }

    pub async fn add_widget(&self, w: &WsCtx, dashboard: &str, input: WidgetInput) -> Result<WidgetView, AppError> {
        let who = Who::user(&w.actor.user_id);
        let d = self.row(w, dashboard).await?;
        let kind = input.widget_type.clone().unwrap_or_default();
        let t = widgets::widget_type(&kind)
            .ok_or_else(|| AppError::field("widget_type", format!("must be one of: {}", widgets::keys())))?;
        let config = input.config.clone().unwrap_or_default();
        let (ws, uid, dash) = (w.ws.id.clone(), w.actor.user_id.clone(), dashboard.to_string());
        let id = crate::new_id();
        let id2 = id.clone();
        let title = input.title.clone().unwrap_or_else(|| t.name.to_string());
        self.0
            .writer
            .write(move |ctx| {
                let now = now_rfc3339();
                let existing = store::widgets(ctx.conn, &dash)?;
                // A new widget takes the first free place of its size unless told where.
                let taken: Vec<Position> = existing.iter().filter(|x| x.is_visible).map(|x| x.position).collect();
                let pos = input
                    .position
                    .unwrap_or_else(|| first_fit(&taken, t.default_w, t.default_h));
                let order = input.sort_order.unwrap_or_else(|| {
                    existing
                        .iter()
                        .map(|x| x.sort_order.saturating_add(1))
                        .max()
                        .unwrap_or(0)
                });
                ctx.edit(&who, &doc_of(&ws, d.user_id.as_deref()), |e| {
                    let mut f: Vec<Set> = vec![
                        dashboard_widgets::workspace_id.to(ws.as_str()),
                        match &d.user_id {
                            Some(o) => dashboard_widgets::user_id.to(o.as_str()),
                            None => dashboard_widgets::user_id.null(),
                        },
                        dashboard_widgets::dashboard_id.to(dash.as_str()),
                        dashboard_widgets::widget_type.to(kind.as_str()),
                        dashboard_widgets::title.to(title.as_str()),
                        dashboard_widgets::config.to(Value::Object(config).to_string()),
                        dashboard_widgets::position.to(serde_json::to_string(&pos).unwrap_or_default()),
                        dashboard_widgets::sort_order.to(order),
                        dashboard_widgets::refresh_seconds.to(input.refresh_seconds.unwrap_or(300)),
                        dashboard_widgets::is_visible.to(input.is_visible.unwrap_or(true)),
                        match input.chart_type.clone().flatten() {
                            Some(k) => dashboard_widgets::chart_type.to(k),
                            None => dashboard_widgets::chart_type.null(),
                        },
                    ];
                    f.extend(dashboard_widgets::SPEC.base(&now, Some(&uid)));
                    e.create(dashboard_widgets::SPEC, &id2, &f)
                })
            })
            .await?;
        self.widget(w, dashboard, &id).await
    }

    async fn widget(&self, w: &WsCtx, dashboard: &str, id: &str) -> Result<WidgetView, AppError> {
        let v = self.get(w, dashboard).await?;
        v.widgets
            .unwrap_or_default()
            .into_iter()
            .find(|x| x.id == id)
            .ok_or(AppError::not_found("widget"))
    }

    pub async fn update_widget(
        &self,
        w: &WsCtx,
        dashboard: &str,
        id: &str,
        input: WidgetInput,
    ) -> Result<WidgetView, AppError> {
        let who = Who::user(&w.actor.user_id);
        let d = self.row(w, dashboard).await?;
        self.widget(w, dashboard, id).await?;
        if input.widget_type.is_some() {
            return Err(AppError::refused(
                "immutable_field",
                "dashboard_widgets.widget_type cannot change once set",
            ));
        }
        let mut f: Vec<Set> = Vec::new();
        if let Some(v) = &input.title {
            f.push(dashboard_widgets::title.to(v.as_str()));
        }
        if let Some(v) = &input.config {
            f.push(dashboard_widgets::config.to(Value::Object(v.clone()).to_string()));
        }
        if let Some(p) = &input.position {
            f.push(dashboard_widgets::position.to(serde_json::to_string(p).unwrap_or_default()));
        }
        if let Some(v) = input.sort_order {
            f.push(dashboard_widgets::sort_order.to(v));
        }
        if let Some(v) = input.refresh_seconds {
            f.push(dashboard_widgets::refresh_seconds.to(v));
        }
        if let Some(v) = input.is_visible {
            f.push(dashboard_widgets::is_visible.to(v));
        }
        if let Some(v) = &input.chart_type {
            f.push(match v {
                Some(k) => dashboard_widgets::chart_type.to(k.as_str()),
                None => dashboard_widgets::chart_type.null(),
            });
        }
        let (ws, id2) = (w.ws.id.clone(), id.to_string());
        self.0
            .writer
            .write(move |ctx| {
                f.push(dashboard_widgets::updated_at.to(now_rfc3339()));
                ctx.edit(&who, &doc_of(&ws, d.user_id.as_deref()), |e| {
                    e.set(dashboard_widgets::SPEC, &id2, &f)
                })
            })
            .await?;
        self.widget(w, dashboard, id).await
    }

    pub async fn delete_widget(&self, w: &WsCtx, dashboard: &str, id: &str) -> Result<(), AppError> {
        let who = Who::user(&w.actor.user_id);
        let d = self.row(w, dashboard).await?;
        self.widget(w, dashboard, id).await?;
        let (ws, id) = (w.ws.id.clone(), id.to_string());
        self.0
            .writer
            .write(move |ctx| {
                let now = now_rfc3339();
                ctx.edit(&who, &doc_of(&ws, d.user_id.as_deref()), |e| {
                    e.set(
                        dashboard_widgets::SPEC,
                        &id,
                        &[
                            dashboard_widgets::deleted_at.to(now.as_str()),
                            dashboard_widgets::updated_at.to(now.as_str()),
                        ],
                    )
                })
            })
            .await
    }

    /// Marks or unmarks a dashboard the caller sees as a favourite (`favorite`), or as the
    /// one they open first (`default`; unmarking goes back to the workspace's). Choosing a
    /// default unmarks the one chosen before, in the same change.
    pub async fn choose(
        &self,
        w: &WsCtx,
        dashboard: &str,
        choice: Choice,
        on: bool,
    ) -> Result<DashboardView, AppError> {
        self.row(w, dashboard).await?;
        let who = Who::user(&w.actor.user_id);
        let (ws, uid, dash) = (w.ws.id.clone(), w.actor.user_id.clone(), dashboard.to_string());
        self.0
            .writer
            .write(move |ctx| {
                let now = now_rfc3339();
                let prefs = store::prefs(ctx.conn, &ws, &uid)?;
                let key = format!("{uid}:{dash}");
                // A record a device deleted is set again, not made anew.
                let exists = store::pref_exists(ctx.conn, &key)?;
                let live = prefs.iter().any(|p| p.id == key);
                let other = match choice {
                    Choice::Favorite => dashboard_prefs::is_default,
                    Choice::Default => dashboard_prefs::is_favorite,
                };
                let field = match choice {
                    Choice::Favorite => dashboard_prefs::is_favorite,
                    Choice::Default => dashboard_prefs::is_default,
                };
                ctx.edit(&who, &DocRef::user(&ws, &uid), |e| {
                    // One default at a time: choosing one unmarks the others, and unmarking
                    // clears any other that two devices left (back to the workspace's).
                    if choice == Choice::Default {
                        for p in prefs.iter().filter(|p| p.is_default && p.id != key) {
                            e.set(
                                dashboard_prefs::SPEC,
                                &p.id,
                                &[
                                    dashboard_prefs::is_default.to(false),
                                    dashboard_prefs::updated_at.to(now.as_str()),
                                ],
                            )?;
                        }
                    }
                    match exists {
                        true if live => e.set(
                            dashboard_prefs::SPEC,
                            &key,
                            &[field.to(on), dashboard_prefs::updated_at.to(now.as_str())],
                        ),
                        true => e.set(
                            dashboard_prefs::SPEC,
                            &key,
                            &[
                                field.to(on),
                                other.to(false),
                                dashboard_prefs::updated_at.to(now.as_str()),
                                dashboard_prefs::deleted_at.null(),
                            ],
                        ),
                        false if !on => Ok(()),
                        false => {
                            let mut f: Vec<Set> = vec![
                                dashboard_prefs::workspace_id.to(ws.as_str()),
                                dashboard_prefs::user_id.to(uid.as_str()),
                                dashboard_prefs::dashboard_id.to(dash.as_str()),
                                dashboard_prefs::is_favorite.to(choice == Choice::Favorite),
                                dashboard_prefs::is_default.to(choice == Choice::Default),
                            ];
                            f.extend(dashboard_prefs::SPEC.base(&now, Some(&uid)));
                            e.create(dashboard_prefs::SPEC, &key, &f)
                        }
                    }
                })
            })
            .await?;
        self.get(w, dashboard).await
    }

    /// The dashboard's kept layouts, newest first.
    pub async fn layouts(&self, w: &WsCtx, dashboard: &str) -> Result<Vec<LayoutView>, AppError> {
        self.row(w, dashboard).await?;
        let id = dashboard.to_string();
        let rows = self.0.readers.read(move |c| Ok(store::layouts(c, &id)?)).await?;
        Ok(rows.into_iter().rev().filter(|l| !l.retired).map(layout_view).collect())
    }

    /// Moves and resizes the dashboard's widgets in one change and keeps the whole grid as
    /// a new layout version. Every id must be a live widget of this dashboard; widgets not
    /// named stay where they are.
    pub async fn save_layout(
        &self,
        w: &WsCtx,
        dashboard: &str,
        positions: Vec<(String, Position)>,
    ) -> Result<DashboardView, AppError> {
        let mut seen = std::collections::HashSet::new();
        if let Some((dup, _)) = positions.iter().find(|(id, _)| !seen.insert(id.clone())) {
            return Err(AppError::field("widgets", format!("names widget {dup:.64} twice")));
        }
        self.arrange(w, dashboard, positions, "saved".into()).await
    }

    /// Puts the widgets back where a kept layout had them (those since deleted are left
    /// out, those added since stay), itself kept as a new version.
    pub async fn restore_layout(&self, w: &WsCtx, dashboard: &str, layout: &str) -> Result<DashboardView, AppError> {
        let l = self
            .layouts(w, dashboard)
            .await?
            .into_iter()
            .find(|l| l.id == layout)
            .ok_or(AppError::not_found("layout"))?;
        let live: std::collections::HashSet<String> = self
            .get(w, dashboard)
            .await?
            .widgets
            .unwrap_or_default()
            .into_iter()
            .map(|x| x.id)
            .collect();
        let positions = records::parse_positions(&Value::Object(l.positions).to_string())?
            .into_iter()
            .filter(|(id, _)| live.contains(id))
            .collect();
        self.arrange(w, dashboard, positions, format!("restored version {}", l.version))
            .await
    }

    async fn arrange(
        &self,
        w: &WsCtx,
        dashboard: &str,
        positions: Vec<(String, Position)>,
        note: String,
    ) -> Result<DashboardView, AppError> {
        let who = Who::user(&w.actor.user_id);
        let d = self.row(w, dashboard).await?;
        let (ws, uid, dash) = (w.ws.id.clone(), w.actor.user_id.clone(), dashboard.to_string());
        for (_, p) in &positions {
            records::parse_position(&serde_json::to_string(p).unwrap_or_default())?;
        }
        self.0
            .writer
            .write(move |ctx| {
                let now = now_rfc3339();
                let widgets = store::widgets(ctx.conn, &dash)?;
                let unknown: Vec<&str> = positions
                    .iter()
                    .filter(|(id, _)| !widgets.iter().any(|x| x.id == *id))
                    .map(|(id, _)| id.as_str())
                    .collect();
                if !unknown.is_empty() {
                    return Err(AppError::field(
                        "widgets",
                        format!("no widgets of this dashboard: {:.300}", unknown.join(", ")),
                    ));
                }
                // The whole grid after the change, for the kept version.
                let mut grid = Map::new();
                for x in &widgets {
                    let p = positions
                        .iter()
                        .find(|(id, _)| *id == x.id)
                        .map_or(x.position, |(_, p)| *p);
                    grid.insert(x.id.clone(), json(&p));
                }
                let kept = store::layouts(ctx.conn, &dash)?;
                let live: Vec<&store::LayoutRow> = kept.iter().filter(|l| !l.retired).collect();
                let retire = live.len().saturating_sub(KEPT_LAYOUTS - 1);
                ctx.edit(&who, &doc_of(&ws, d.user_id.as_deref()), |e| {
                    for (id, p) in &positions {
                        if widgets.iter().any(|x| x.id == *id && x.position != *p) {
                            e.set(
                                dashboard_widgets::SPEC,
                                id,
                                &[
                                    dashboard_widgets::position.to(serde_json::to_string(p).unwrap_or_default()),
                                    dashboard_widgets::updated_at.to(now.as_str()),
                                ],
                            )?;
                        }
                    }
                    for l in &live[..retire] {
                        e.set(
                            dashboard_layouts::SPEC,
                            &l.id,
                            &[
                                dashboard_layouts::deleted_at.to(now.as_str()),
                                dashboard_layouts::updated_at.to(now.as_str()),
                            ],
                        )?;
                    }
                    let mut f: Vec<Set> = vec![
                        dashboard_layouts::workspace_id.to(ws.as_str()),
                        match &d.user_id {
                            Some(o) => dashboard_layouts::user_id.to(o.as_str()),
                            None => dashboard_layouts::user_id.null(),
                        },
                        dashboard_layouts::dashboard_id.to(dash.as_str()),
                        dashboard_layouts::positions.to(Value::Object(grid).to_string()),
                        dashboard_layouts::note.to(note.as_str()),
                    ];
                    f.extend(dashboard_layouts::SPEC.base(&now, Some(&uid)));
                    e.create(dashboard_layouts::SPEC, &crate::new_id(), &f)
                })
            })
            .await?;
        self.get(w, dashboard).await
    }

    /// The data of every visible widget of a dashboard.
    pub async fn data(&self, w: &WsCtx, dashboard: &str) -> Result<DashboardData, AppError> {
        let d = self.get(w, dashboard).await?;
        let filters = dashboard_filters(&d);
        let visible = self.visible_projects(w).await?;
        let mut out = Vec::new();
        for wd in d.widgets.unwrap_or_default().into_iter().filter(|x| x.is_visible) {
            out.push(self.widget_data(w, &filters, &visible, wd).await);
        }
        Ok(DashboardData {
            dashboard_id: d.id,
            widgets: out,
        })
    }

    /// The data a widget written as `input` would show, written nowhere: the editor's live
    /// preview. Held to the same checks as a widget made (its type, its config), and read as
    /// the caller under the dashboard's filters.
    pub async fn preview(&self, w: &WsCtx, dashboard: &str, input: WidgetInput) -> Result<WidgetData, AppError> {
        let d = self.get(w, dashboard).await?;
        let kind = input.widget_type.clone().unwrap_or_default();
        let t = widgets::widget_type(&kind)
            .ok_or_else(|| AppError::field("widget_type", format!("must be one of: {}", widgets::keys())))?;
        let config = input.config.clone().unwrap_or_default();
        widgets::check_config(t, &config)?;
        if let Some(Some(k)) = &input.chart_type {
            if !crate::analytics::CHART_KINDS.contains(&k.as_str()) {
                return Err(AppError::field(
                    "chart_type",
                    format!("must be one of: {}", crate::analytics::CHART_KINDS.join(", ")),
                ));
            }
        }
        let wd = WidgetView {
            id: String::new(),
            dashboard_id: d.id.clone(),
            widget_type: kind,
            title: input.title.clone().unwrap_or_else(|| t.name.to_string()),
            config: Value::Object(config),
            position: input.position.unwrap_or(Position {
                x: 0,
                y: 0,
                w: t.default_w,
                h: t.default_h,
            }),
            sort_order: 0,
            refresh_seconds: input.refresh_seconds.unwrap_or(300),
            is_visible: true,
            chart_type: input.chart_type.clone().flatten(),
            updated_at: String::new(),
        };
        let filters = dashboard_filters(&d);
        let visible = self.visible_projects(w).await?;
        Ok(self.widget_data(w, &filters, &visible, wd).await)
    }

    /// One widget's data.
    pub async fn one(&self, w: &WsCtx, dashboard: &str, id: &str) -> Result<WidgetData, AppError> {
        let d = self.get(w, dashboard).await?;
        let filters = dashboard_filters(&d);
        let wd = d
            .widgets
            .unwrap_or_default()
            .into_iter()
            .find(|x| x.id == id)
            .ok_or(AppError::not_found("widget"))?;
        let visible = self.visible_projects(w).await?;
        Ok(self.widget_data(w, &filters, &visible, wd).await)
    }

    async fn visible_projects(&self, w: &WsCtx) -> Result<std::collections::HashSet<String>, AppError> {
        let (ws, uid, role) = (w.ws.id.clone(), w.actor.user_id.clone(), w.role);
        self.0
            .readers
            .read(move |c| {
                Ok(crate::analytics::visible_projects(c, &ws, &uid, role)?
                    .into_iter()
                    .collect())
            })
            .await
    }

    async fn widget_data(
        &self,
        w: &WsCtx,
        base: &Map<String, Value>,
        visible: &std::collections::HashSet<String>,
        wd: WidgetView,
    ) -> WidgetData {
        let answer = |status, message: Option<String>, data| WidgetData {
            widget_id: wd.id.clone(),
            widget_type: wd.widget_type.clone(),
            status,
            message,
            data,
        };
        let r = self.compute(w, base, visible, &wd).await;
        match r {
            Ok(Computed::Data(v)) => answer("ok", None, v),
            Ok(Computed::Restricted(n)) => answer(
                "restricted",
                Some(format!(
                    "this widget counts {n} project{} you cannot see",
                    if n == 1 { "" } else { "s" }
                )),
                Value::Null,
            ),
            Err(e) => answer("error", Some(e.to_string()), Value::Null),
        }
    }

    async fn compute(
        &self,
        w: &WsCtx,
        base: &Map<String, Value>,
        visible: &std::collections::HashSet<String>,
        wd: &WidgetView,
    ) -> Result<Computed, AppError> {
        let t = widgets::widget_type(&wd.widget_type)
            .ok_or_else(|| AppError::field("widget_type", "is no widget type of this Keel"))?;
        let config = wd.config.as_object().cloned().unwrap_or_default();
        let (own, mine) = widgets::split(t, &config)?;
        // The widget's filters over the dashboard's, key by key.
        let mut layered = if t.filters { base.clone() } else { Map::new() };
        layered.extend(mine);
        if let Some(Value::String(ps)) = layered.get("project") {
            let hidden = ps
                .split(',')
                .map(str::trim)
                .filter(|p| !p.is_empty() && !visible.contains(*p))
                .count();
            if hidden > 0 {
                return Ok(Computed::Restricted(hidden));
            }
        }
        let filters = filter_params(&layered)?;
        let a = Analytics(self.0);
        let s = |k: &str| own.get(k).and_then(Value::as_str).map(str::to_string);
        Ok(Computed::Data(match t.key {
            "chart" => json(&a.chart(Scope::Workspace(w), chart_params(&own)?, filters).await?),
            "number" => {
                let mut p = chart_params(&own)?;
                p.x_axis = Some("PROJECTS".into());
                let v = a.chart(Scope::Workspace(w), p, filters).await?;
                serde_json::json!({"value": v.total, "measure": v.measure})
            }
            "overview" => json(
                &a.tab(
                    Scope::Workspace(w),
                    "overview",
                    s("from").as_deref(),
                    s("to").as_deref(),
                    filters,
                )
                .await?,
            ),
            "project_stats" => json(&a.tab(Scope::Workspace(w), "work-items", None, None, filters).await?),
            "time_summary" => {
                let r = crate::timetrack::Range::parse(s("from").as_deref(), s("to").as_deref(), None)?;
                let cut = crate::timetrack::ListCut {
                    sort: Default::default(),
                    page: crate::http::PageParams { page: 1, per_page: 10 },
                    member_page: crate::http::PageParams { page: 1, per_page: 10 },
                };
                let v = crate::timetrack::TimeTracking(self.0)
                    .workspace_summary(w, r, None, None, cut)
                    .await?;
                let by = s("by").unwrap_or_else(|| "member".into());
                // One shape of row whoever the time is by: a key, a name and the minutes.
                let row = |key: Option<&str>, name: &str, minutes: i64| serde_json::json!({"key": key, "name": name, "minutes": minutes});
                let rows: Vec<Value> = match by.as_str() {
                    "project" => v
                        .by_project
                        .items
                        .iter()
                        .map(|p| row(Some(&p.project_id), &p.name, p.minutes))
                        .collect(),
                    "department" => v
                        .by_department
                        .iter()
                        .map(|d| row(d.department_id.as_deref(), &d.name, d.minutes))
                        .collect(),
                    _ => v
                        .by_member
                        .items
                        .iter()
                        .map(|m| row(Some(&m.user_id), &m.display_name, m.minutes))
                        .collect(),
                };
                let full = json(&v);
                serde_json::json!({
                    "by": by,
                    "from": full["from"],
                    "to": full["to"],
                    "total_minutes": full["total_minutes"],
                    "rows": rows,
                })
            }
            "metric" => {
                let id = s("metric").unwrap_or_default();
                json(&metrics::Metrics(self.0).get(w, &id).await?)
            }
            "text" => serde_json::json!({"text": own.get("text").cloned().unwrap_or(Value::Null)}),
            other => return Err(AppError::internal(format!("no data for widget type {other}"))),
        }))
    }
}

enum Computed {
    Data(Value),
    /// The number of projects named that the viewer cannot read.
    Restricted(usize),
}

/// The first place, row by row and left to right, where a `w` × `h` widget overlaps none of
/// `taken` (below them all at the latest).
pub fn first_fit(taken: &[Position], w: i64, h: i64) -> Position {
    let w = w.clamp(1, records::GRID_COLUMNS);
    let bottom = taken.iter().map(|p| p.y + p.h).max().unwrap_or(0);
    let free = |x: i64, y: i64| {
        taken
            .iter()
            .all(|p| x + w <= p.x || p.x + p.w <= x || y + h <= p.y || p.y + p.h <= y)
    };
    // The first free place sits at the top or under a widget, and at the left or beside one
    // (moved up or left it would still be free otherwise): only those places are tried, so
    // a grid reaching row 10,000 costs no more than one of a few rows.
    let mut ys: Vec<i64> = std::iter::once(0).chain(taken.iter().map(|p| p.y + p.h)).collect();
    let mut xs: Vec<i64> = std::iter::once(0)
        .chain(taken.iter().map(|p| p.x + p.w))
        .filter(|x| x + w <= records::GRID_COLUMNS)
        .collect();
    ys.sort_unstable();
    ys.dedup();
    xs.sort_unstable();
    xs.dedup();
    for &y in ys.iter().filter(|y| **y < bottom) {
        for &x in &xs {
            if free(x, y) {
                return Position { x, y, w, h };
            }
        }
    }
    Position { x: 0, y: bottom, w, h }
}

fn json<T: Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

fn dashboard_filters(d: &DashboardView) -> Map<String, Value> {
    d.config
        .get("filters")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::records::parse_position;
    use super::*;

    #[test]
    fn positions_fit_the_grid_or_are_refused() {
        assert!(parse_position(r#"{"x":0,"y":0,"w":24,"h":1}"#).is_ok());
        for bad in [
            r#"{"x":1,"y":0,"w":24,"h":1}"#,
            r#"{"x":-1,"y":0,"w":2,"h":1}"#,
            r#"{"x":0,"y":0,"w":0,"h":1}"#,
            r#"{"x":0,"y":-3,"w":2,"h":1}"#,
            r#"{"x":0,"y":0,"w":2,"h":101}"#,
            r#"{"x":0,"y":0,"w":2}"#,
            r#"{"x":0.5,"y":0,"w":2,"h":1}"#,
            "[0,0,2,1]",
            r#"{"x":0,"y":0,"w":2,"h":1,"z":9}"#,
            r#"{"x":1,"y":0,"w":9223372036854775807,"h":1}"#,
            r#"{"x":9223372036854775807,"y":0,"w":2,"h":1}"#,
            "",
        ] {
            assert!(parse_position(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_new_widget_takes_the_first_free_place_of_its_size() {
        let p = |x, y, w, h| Position { x, y, w, h };
        assert_eq!(first_fit(&[], 12, 8), p(0, 0, 12, 8));
        // Beside a half-width widget, then under two of them.
        assert_eq!(first_fit(&[p(0, 0, 12, 8)], 6, 4), p(12, 0, 6, 4));
        assert_eq!(first_fit(&[p(0, 0, 12, 8), p(12, 0, 12, 8)], 6, 4), p(0, 8, 6, 4));
        // In a gap tall enough, not in one too short.
        let taken = [p(0, 0, 24, 2), p(0, 2, 12, 3), p(0, 5, 24, 4)];
        assert_eq!(first_fit(&taken, 12, 3), p(12, 2, 12, 3));
        assert_eq!(first_fit(&taken, 12, 4), p(0, 9, 12, 4));
        // Nothing overlaps what it found.
        let all = [p(3, 1, 5, 5), p(10, 0, 14, 2), p(0, 7, 24, 1)];
        // The same place as trying every cell, row by row, on many grids.
        let mut seed = 7u64;
        let mut next = |n: i64| {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            ((seed >> 33) % n as u64) as i64
        };
        for _ in 0..300 {
            let taken: Vec<Position> = (0..next(12))
                .map(|_| {
                    let w = 1 + next(24);
                    p(next(25 - w), next(20), w, 1 + next(6))
                })
                .collect();
            let (w, h) = (1 + next(24), 1 + next(6));
            let bottom = taken.iter().map(|q| q.y + q.h).max().unwrap_or(0);
            let brute = (0..bottom)
                .flat_map(|y| (0..=24 - w).map(move |x| (x, y)))
                .find(|&(x, y)| {
                    taken
                        .iter()
                        .all(|q| x + w <= q.x || q.x + q.w <= x || y + h <= q.y || q.y + q.h <= y)
                })
                .map_or(p(0, bottom, w, h), |(x, y)| p(x, y, w, h));
            assert_eq!(first_fit(&taken, w, h), brute, "{taken:?} {w}×{h}");
        }
        let f = first_fit(&all, 8, 3);
        assert!(
            all.iter()
                .all(|q| f.x + f.w <= q.x || q.x + q.w <= f.x || f.y + f.h <= q.y || q.y + q.h <= f.y),
            "{f:?}"
        );
    }

    #[test]
    fn the_default_widgets_are_valid_and_do_not_overlap() {
        let ws = default_widgets();
        for (kind, _, config, pos) in &ws {
            let t = widgets::widget_type(kind).unwrap();
            widgets::check_config(t, config.as_object().unwrap()).unwrap();
            parse_position(&serde_json::to_string(pos).unwrap()).unwrap();
        }
        for (i, a) in ws.iter().enumerate() {
            for b in &ws[i + 1..] {
                let (p, q) = (a.3, b.3);
                let apart = p.x + p.w <= q.x || q.x + q.w <= p.x || p.y + p.h <= q.y || q.y + q.h <= p.y;
                assert!(apart, "{} and {} overlap", a.1, b.1);
            }
        }
    }

    #[test]
    fn a_dashboards_config_holds_filters_only() {
        let obj = |v: Value| v.as_object().unwrap().clone();
        parse_dashboard_config(&obj(serde_json::json!({"filters": {"priority": "urgent"}}))).unwrap();
        for bad in [
            serde_json::json!({"theme": "neon"}),
            serde_json::json!({"filters": "urgent"}),
            serde_json::json!({"filters": {"priority": 3}}),
            serde_json::json!({"filters": {"priority": "sometimes"}}),
            serde_json::json!({"filters": {"drop": "x"}}),
        ] {
            assert!(parse_dashboard_config(&obj(bad.clone())).is_err(), "{bad}");
        }
    }
}
