//! A dashboard as a document of its own (seed 002's export and import): its settings, its
//! widgets and the workspace metrics its metric widgets show, in a versioned JSON format,
//! with every id its filters name given a key that holds across workspaces (a project's
//! identifier, a state's or label's name in its project, a person's email). An import maps
//! those keys to the target workspace's ids and checks everything as a dashboard made by
//! hand is checked; any problem — an unknown widget type, project, field — is listed, with
//! where it is, and nothing is written. Both are premium (`dashboard_export`).

use std::collections::{BTreeMap, HashMap};

use rusqlite::Connection;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

use super::records::{dashboard_metrics, dashboard_widgets, dashboards, Position};
use super::{metrics, store, widgets, DashboardView, Dashboards};
use crate::docs::{DocRef, Set, Who};
use crate::error::{AppError, RowProblem};
use crate::policy::WsRole;
use crate::time::now_rfc3339;
use crate::workspaces::WsCtx;

/// The document's name and the version of its shape.
pub const FORMAT: &str = "keel-dashboard";
pub const VERSION: i64 = 1;

/// A record named by project and name (states, labels, cycles, modules).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InProject {
    /// The project's identifier (`WEB`).
    pub project: String,
    pub name: String,
}

/// What each id the document names stands for, by kind.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct References {
    /// Project id to its identifier.
    pub projects: BTreeMap<String, String>,
    pub states: BTreeMap<String, InProject>,
    pub labels: BTreeMap<String, InProject>,
    pub cycles: BTreeMap<String, InProject>,
    pub modules: BTreeMap<String, InProject>,
    /// Person id to their email.
    pub people: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DocDashboard {
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    #[schema(value_type = Object)]
    pub config: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DocWidget {
    pub widget_type: String,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    #[schema(value_type = Object)]
    pub config: Map<String, Value>,
    pub position: Position,
    #[serde(default)]
    pub sort_order: i64,
    #[serde(default = "five_minutes")]
    pub refresh_seconds: i64,
    #[serde(default = "yes")]
    pub is_visible: bool,
    #[serde(default)]
    pub chart_type: Option<String>,
}

fn five_minutes() -> i64 {
    300
}
fn yes() -> bool {
    true
}

/// A workspace metric a metric widget shows (system metrics are in every workspace).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DocMetric {
    /// Its id where it was exported: the widgets name it so.
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub category: String,
    #[schema(value_type = Object)]
    pub query: Map<String, Value>,
    #[serde(default)]
    pub unit: String,
    pub format: String,
    pub target_value: Option<f64>,
    pub warning_threshold: Option<f64>,
    pub critical_threshold: Option<f64>,
    pub direction: String,
    pub refresh_seconds: i64,
    #[serde(default)]
    pub color: String,
    #[serde(default)]
    pub icon: String,
}

/// A dashboard exported: `{"format": "keel-dashboard", "version": 1, …}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DashboardDoc {
    pub format: String,
    pub version: i64,
    #[serde(default)]
    pub exported_at: Option<String>,
    pub dashboard: DocDashboard,
    #[serde(default)]
    pub widgets: Vec<DocWidget>,
    #[serde(default)]
    pub metrics: Vec<DocMetric>,
    #[serde(default)]
    pub references: References,
}

/// The filter keys whose values are ids, and the kind of record each names.
const ID_FILTERS: &[(&str, Kind)] = &[
    ("project", Kind::Project),
    ("state", Kind::State),
    ("label", Kind::Label),
    ("cycle", Kind::Cycle),
    ("module", Kind::Module),
    ("assignee", Kind::Person),
    ("created_by", Kind::Person),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Project,
    State,
    Label,
    Cycle,
    Module,
    Person,
}

impl Kind {
    fn table(self) -> &'static str {
        match self {
            Kind::Project => "projects",
            Kind::State => "states",
            Kind::Label => "labels",
            Kind::Cycle => "cycles",
            Kind::Module => "modules",
            Kind::Person => "users",
        }
    }
    fn what(self) -> &'static str {
        match self {
            Kind::Project => "project",
            Kind::State => "state",
            Kind::Label => "label",
            Kind::Cycle => "cycle",
            Kind::Module => "module",
            Kind::Person => "person",
        }
    }
}

/// The ids a filter object names, by kind (`none` stands for "no assignee" and the like).
fn named(filters: &Map<String, Value>) -> Vec<(Kind, &'static str, String)> {
    let mut out = Vec::new();
    for (key, kind) in ID_FILTERS {
        if let Some(Value::String(s)) = filters.get(*key) {
            for id in s.split(',').map(str::trim).filter(|p| !p.is_empty() && *p != "none") {
                out.push((*kind, *key, id.to_string()));
            }
        }
    }
    out
}

/// The filter objects of a widget's config or a metric's query (its `filters`).
fn metric_filters(q: &Map<String, Value>) -> Map<String, Value> {
    q.get("filters").and_then(Value::as_object).cloned().unwrap_or_default()
}

/// Looks up what `id` stands for, if it is a record of `ws` that `visible` projects hold.
fn reference(
    c: &Connection,
    ws: &str,
    kind: Kind,
    id: &str,
    visible: &std::collections::HashSet<String>,
    refs: &mut References,
) -> Result<(), AppError> {
    match kind {
        Kind::Project => {
            if !visible.contains(id) {
                return Ok(());
            }
            let ident = store::project_identifier(c, ws, id)?;
            if let Some(i) = ident {
                refs.projects.insert(id.to_string(), i);
            }
        }
        Kind::Person => {
            let email = store::member_email(c, ws, id)?;
            if let Some(e) = email {
                refs.people.insert(id.to_string(), e);
            }
        }
        _ => {
            let row = store::in_project(c, ws, kind.table(), id)?;
            if let Some((name, project, pid)) = row {
                if visible.contains(&pid) {
                    let v = InProject { project, name };
                    let map = match kind {
                        Kind::State => &mut refs.states,
                        Kind::Label => &mut refs.labels,
                        Kind::Cycle => &mut refs.cycles,
                        _ => &mut refs.modules,
                    };
                    map.insert(id.to_string(), v);
                }
            }
        }
    }
    Ok(())
}

/// The target's id for what a source id stood for, if the target has it.
fn resolve(
    c: &Connection,
    ws: &str,
    kind: Kind,
    id: &str,
    refs: &References,
    visible: &std::collections::HashSet<String>,
) -> Result<Option<String>, AppError> {
    // A project the importer cannot see is no project to them (nor is anything in it): an
    // import must not tell whether a private project of a name exists.
    let project_id = |ident: &str| -> rusqlite::Result<Option<String>> {
        Ok(store::project_by_identifier(c, ws, ident)?.filter(|p| visible.contains(p)))
    };
    Ok(match kind {
        Kind::Project => match refs.projects.get(id) {
            Some(ident) => project_id(ident)?,
            None => None,
        },
        Kind::Person => match refs.people.get(id) {
            Some(email) => store::member_by_email(c, ws, email)?,
            None => None,
        },
        _ => {
            let map = match kind {
                Kind::State => &refs.states,
                Kind::Label => &refs.labels,
                Kind::Cycle => &refs.cycles,
                _ => &refs.modules,
            };
            match map.get(id) {
                Some(r) => match project_id(&r.project)? {
                    Some(pid) => store::in_project_by_name(c, kind.table(), &pid, &r.name)?,
                    None => None,
                },
                None => None,
            }
        }
    })
}

/// `filters` with every id it names replaced by the target's, and a problem for each id the
/// target has no record for (or that the document says nothing of).
fn remap(
    c: &Connection,
    ws: &str,
    visible: &std::collections::HashSet<String>,
    filters: &Map<String, Value>,
    refs: &References,
    at: &str,
    problems: &mut Vec<RowProblem>,
) -> Result<Map<String, Value>, AppError> {
    let mut out = filters.clone();
    for (key, kind) in ID_FILTERS {
        let Some(Value::String(s)) = filters.get(*key) else {
            continue;
        };
        let mut ids = Vec::new();
        for id in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            if id == "none" {
                ids.push(id.to_string());
                continue;
            }
            match resolve(c, ws, *kind, id, refs, visible)? {
                Some(t) => ids.push(t),
                None => problems.push(RowProblem {
                    row: 0,
                    column: format!("{at}.{key}"),
                    code: format!("unknown_{}", kind.what()),
                    message: format!(
                        "{}: no such {} in this workspace",
                        describe(*kind, id, refs),
                        kind.what()
                    ),
                }),
            }
        }
        out.insert((*key).to_string(), Value::String(ids.join(",")));
    }
    if out.contains_key("view") {
        problems.push(RowProblem {
            row: 0,
            column: format!("{at}.view"),
            code: "not_carried".into(),
            message: "a saved view is somebody's and does not travel: name the filters instead".into(),
        });
    }
    Ok(out)
}

fn describe(kind: Kind, id: &str, refs: &References) -> String {
    let in_project = |m: &BTreeMap<String, InProject>| m.get(id).map(|r| format!("{} in {}", r.name, r.project));
    match kind {
        Kind::Project => refs.projects.get(id).cloned(),
        Kind::Person => refs.people.get(id).cloned(),
        Kind::State => in_project(&refs.states),
        Kind::Label => in_project(&refs.labels),
        Kind::Cycle => in_project(&refs.cycles),
        Kind::Module => in_project(&refs.modules),
    }
    .unwrap_or_else(|| format!("{id:.40} (not described in the document)"))
}

fn problem(column: String, code: &str, e: &AppError) -> RowProblem {
    RowProblem {
        row: 0,
        column,
        code: code.into(),
        message: metrics::describe(e),
    }
}

impl Dashboards<'_> {
    /// The dashboard as a document: its settings, widgets, the workspace metrics they show,
    /// and what each id they name stands for (only what the caller may see).
    pub async fn export(&self, w: &WsCtx, id: &str) -> Result<DashboardDoc, AppError> {
        let ws = w.ws.id.clone();
        self.0
            .readers
            .read({
                let ws = ws.clone();
                move |c| crate::plans::require(c, &ws, "dashboard_export")
            })
            .await?;
        let d = self.get(w, id).await?;
        let (uid, role) = (w.actor.user_id.clone(), w.role);
        self.0
            .readers
            .read(move |c| {
                let visible: std::collections::HashSet<String> =
                    crate::analytics::visible_projects(c, &ws, &uid, role)?
                        .into_iter()
                        .collect();
                let mut refs = References::default();
                let dash_config = d.config.as_object().cloned().unwrap_or_default();
                let mut filter_sets = vec![dash_config
                    .get("filters")
                    .and_then(Value::as_object)
                    .cloned()
                    .unwrap_or_default()];
                let mut doc_widgets = Vec::new();
                let mut metric_ids = Vec::new();
                for wd in d.widgets.unwrap_or_default() {
                    let config = wd.config.as_object().cloned().unwrap_or_default();
                    filter_sets.push(config.clone());
                    if wd.widget_type == "metric" {
                        if let Some(m) = config.get("metric").and_then(Value::as_str) {
                            metric_ids.push(m.to_string());
                        }
                    }
                    doc_widgets.push(DocWidget {
                        widget_type: wd.widget_type,
                        title: wd.title,
                        config,
                        position: wd.position,
                        sort_order: wd.sort_order,
                        refresh_seconds: wd.refresh_seconds,
                        is_visible: wd.is_visible,
                        chart_type: wd.chart_type,
                    });
                }
                let mut doc_metrics = Vec::new();
                for mid in metric_ids {
                    if metrics::SYSTEM.iter().any(|s| s.0 == mid) || doc_metrics.iter().any(|m: &DocMetric| m.id == mid)
                    {
                        continue;
                    }
                    let Some(r) = store::metric_row(c, &ws, &mid)? else {
                        continue;
                    };
                    let query = match serde_json::from_str(&r.query) {
                        Ok(Value::Object(q)) => q,
                        _ => Map::new(),
                    };
                    // What the metrics API would not show this exporter (everybody's time to a
                    // non-admin, a private project they are not in) the document leaves out.
                    let hidden = match metrics::parse_query(&r.query) {
                        Ok(q) if q.counts_time() && role < WsRole::Admin => true,
                        Ok(_) => named(&metric_filters(&query))
                            .iter()
                            .any(|(k, _, id)| *k == Kind::Project && !visible.contains(id.as_str())),
                        Err(_) => true,
                    };
                    if hidden {
                        continue;
                    }
                    filter_sets.push(metric_filters(&query));
                    let num = |s: &Option<String>| s.as_deref().and_then(|v| v.parse::<f64>().ok());
                    doc_metrics.push(DocMetric {
                        id: r.id.clone(),
                        target_value: num(&r.target_value),
                        warning_threshold: num(&r.warning_threshold),
                        critical_threshold: num(&r.critical_threshold),
                        name: r.name,
                        description: r.description,
                        category: r.category,
                        query,
                        unit: r.unit,
                        format: r.format,
                        direction: r.direction,
                        refresh_seconds: r.refresh_seconds,
                        color: r.color,
                        icon: r.icon,
                    });
                }
                for f in &filter_sets {
                    for (kind, _, id) in named(f) {
                        reference(c, &ws, kind, &id, &visible, &mut refs)?;
                    }
                }
                Ok(DashboardDoc {
                    format: FORMAT.into(),
                    version: VERSION,
                    exported_at: Some(now_rfc3339()),
                    dashboard: DocDashboard {
                        name: d.name,
                        description: d.description,
                        config: dash_config,
                    },
                    widgets: doc_widgets,
                    metrics: doc_metrics,
                    references: refs,
                })
            })
            .await
    }

    /// Makes a dashboard from a document: the caller's own, or shared (admins); its metrics
    /// made in this workspace unless one of the same name is here. Every problem is listed
    /// (422 `import_invalid`) and then nothing is written.
    pub async fn import(
        &self,
        w: &WsCtx,
        doc: DashboardDoc,
        name: Option<String>,
        shared: bool,
    ) -> Result<DashboardView, AppError> {
        if doc.format != FORMAT || doc.version != VERSION {
            return Err(AppError::refused(
                "import_unreadable",
                format!("this is not a {FORMAT} document of version {VERSION}"),
            ));
        }
        if doc.widgets.len() > super::records::MAX_WIDGETS || doc.metrics.len() > super::records::MAX_WIDGETS {
            return Err(AppError::refused(
                "import_too_large",
                format!(
                    "a dashboard document holds at most {} widgets and {} metrics",
                    super::records::MAX_WIDGETS,
                    super::records::MAX_WIDGETS
                ),
            ));
        }
        let ws = w.ws.id.clone();
        // The plan first: nothing is read for a workspace that may not import.
        self.0
            .readers
            .read({
                let ws = ws.clone();
                move |c| crate::plans::require(c, &ws, "dashboard_export")
            })
            .await?;
        let name = crate::workspaces::parse_name(name.as_deref().unwrap_or(&doc.dashboard.name), 255)
            .map_err(|e| AppError::field("name", e))?;
        let who = Who::user(&w.actor.user_id);
        let uid = w.actor.user_id.clone();
        let role = w.role;
        let owner = (!shared).then(|| uid.clone());
        let id = crate::new_id();
        let id2 = id.clone();
        self.0
            .writer
            .write(move |ctx| {
                let c = ctx.conn;
                let mut problems = Vec::new();
                let refs = &doc.references;
                let visible: std::collections::HashSet<String> =
                    crate::analytics::visible_projects(c, &ws, &uid, role)?
                        .into_iter()
                        .collect();
                if store::name_taken(c, &ws, owner.as_deref(), &name, "")? {
                    problems.push(RowProblem {
                        row: 0,
                        column: "dashboard.name".into(),
                        code: "name_taken".into(),
                        message: format!("a dashboard named {name:.60} is here already: import it under another name"),
                    });
                }
                // The dashboard's filters.
                let mut config = doc.dashboard.config.clone();
                if let Some(Value::Object(f)) = config.get("filters").cloned() {
                    let f = remap(c, &ws, &visible, &f, refs, "dashboard.config.filters", &mut problems)?;
                    config.insert("filters".into(), Value::Object(f));
                }
                if let Err(e) = super::parse_dashboard_config(&config) {
                    problems.push(problem("dashboard.config".into(), "invalid_value", &e));
                }
                // Metrics: one of the same name here stands for it; else it is made.
                let mut metric_map: HashMap<String, String> = HashMap::new();
                let mut new_metrics: Vec<(String, &DocMetric, Map<String, Value>)> = Vec::new();
                for (i, m) in doc.metrics.iter().enumerate() {
                    let at = format!("metrics[{i}]");
                    let here = store::metric_by_name(c, &ws, m.name.trim())?;
                    if let Some(h) = here {
                        metric_map.insert(m.id.clone(), h);
                        continue;
                    }
                    if role < WsRole::Admin {
                        problems.push(RowProblem {
                            row: 0,
                            column: at.clone(),
                            code: "admin_only".into(),
                            message: format!("{:.60} is no metric here, and only admins make metrics", m.name),
                        });
                        continue;
                    }
                    if new_metrics
                        .iter()
                        .any(|(_, o, _)| o.name.trim().eq_ignore_ascii_case(m.name.trim()))
                    {
                        problems.push(RowProblem {
                            row: 0,
                            column: format!("{at}.name"),
                            code: "duplicate_row".into(),
                            message: format!("{:.60} is in the document twice", m.name),
                        });
                        continue;
                    }
                    for (field, values, v) in [
                        ("category", metrics::CATEGORIES, &m.category),
                        ("format", metrics::FORMATS, &m.format),
                        ("direction", metrics::DIRECTIONS, &m.direction),
                    ] {
                        if !values.contains(&v.as_str()) {
                            problems.push(RowProblem {
                                row: 0,
                                column: format!("{at}.{field}"),
                                code: "invalid_value".into(),
                                message: format!("must be one of: {}", values.join(", ")),
                            });
                        }
                    }
                    let text = |n: Option<f64>| n.map(|v| v.to_string());
                    if let Err(e) = metrics::Thresholds::read(
                        text(m.target_value).as_deref(),
                        text(m.warning_threshold).as_deref(),
                        text(m.critical_threshold).as_deref(),
                        Some(&m.direction),
                    ) {
                        problems.push(problem(at.clone(), "invalid_value", &e));
                    }
                    if !(super::records::MIN_REFRESH_SECONDS..=super::records::MAX_REFRESH_SECONDS)
                        .contains(&m.refresh_seconds)
                    {
                        problems.push(RowProblem {
                            row: 0,
                            column: format!("{at}.refresh_seconds"),
                            code: "invalid_value".into(),
                            message: "must be 60 to 86,400".into(),
                        });
                    }
                    if m.query.get("source").and_then(Value::as_str) == Some("staff")
                        && m.query.contains_key("department")
                    {
                        problems.push(RowProblem {
                            row: 0,
                            column: format!("{at}.query.department"),
                            code: "not_carried".into(),
                            message: "departments do not travel between workspaces: take the department out".into(),
                        });
                    }
                    let mut q = m.query.clone();
                    let f = remap(
                        c,
                        &ws,
                        &visible,
                        &metric_filters(&q),
                        refs,
                        &format!("{at}.query.filters"),
                        &mut problems,
                    )?;
                    // Only filters that were an object are replaced (anything else stays, and fails the query's check).
                    if q.get("filters").is_some_and(Value::is_object) {
                        q.insert("filters".into(), Value::Object(f));
                    }
                    if let Err(e) = metrics::parse_query(&Value::Object(q.clone()).to_string()) {
                        problems.push(problem(format!("{at}.query"), "invalid_value", &e));
                    }
                    let nid = crate::new_id();
                    metric_map.insert(m.id.clone(), nid.clone());
                    new_metrics.push((nid, m, q));
                }
                // Widgets, held to the registry and the chart builder.
                let mut new_widgets = Vec::new();
                for (i, wd) in doc.widgets.iter().enumerate() {
                    let at = format!("widgets[{i}]");
                    let Some(t) = widgets::widget_type(&wd.widget_type) else {
                        problems.push(RowProblem {
                            row: 0,
                            column: format!("{at}.widget_type"),
                            code: "unknown_widget_type".into(),
                            message: format!(
                                "{:.40} is no widget type; they are: {}",
                                wd.widget_type,
                                widgets::keys()
                            ),
                        });
                        continue;
                    };
                    let mut cfg = remap(
                        c,
                        &ws,
                        &visible,
                        &wd.config,
                        refs,
                        &format!("{at}.config"),
                        &mut problems,
                    )?;
                    if t.key == "metric" {
                        let m = cfg.get("metric").and_then(Value::as_str).unwrap_or("").to_string();
                        if let Some(n) = metric_map.get(&m) {
                            cfg.insert("metric".into(), Value::String(n.clone()));
                        } else if !metrics::SYSTEM.iter().any(|s| s.0 == m) {
                            problems.push(RowProblem {
                                row: 0,
                                column: format!("{at}.config.metric"),
                                code: "unknown_metric".into(),
                                message: format!("{m:.40} is no system metric nor one of the document's"),
                            });
                        }
                    }
                    if let Err(e) = widgets::check_config(t, &cfg) {
                        problems.push(problem(format!("{at}.config"), "invalid_value", &e));
                    }
                    if !(super::records::MIN_REFRESH_SECONDS..=super::records::MAX_REFRESH_SECONDS)
                        .contains(&wd.refresh_seconds)
                    {
                        problems.push(RowProblem {
                            row: 0,
                            column: format!("{at}.refresh_seconds"),
                            code: "invalid_value".into(),
                            message: "must be 60 to 86,400".into(),
                        });
                    }
                    if wd
                        .chart_type
                        .as_deref()
                        .is_some_and(|k| !crate::analytics::CHART_KINDS.contains(&k))
                    {
                        problems.push(RowProblem {
                            row: 0,
                            column: format!("{at}.chart_type"),
                            code: "invalid_value".into(),
                            message: format!("must be one of: {}", crate::analytics::CHART_KINDS.join(", ")),
                        });
                    }
                    if let Err(e) =
                        super::records::parse_position(&serde_json::to_string(&wd.position).unwrap_or_default())
                    {
                        problems.push(problem(format!("{at}.position"), "invalid_value", &e));
                    }
                    new_widgets.push((wd, cfg));
                }
                if !problems.is_empty() {
                    // A document of a million bad ids gets the first hundred, and their count.
                    let n = problems.len();
                    problems.truncate(100);
                    return Err(AppError::Rows {
                        code: "import_invalid",
                        message: format!(
                            "{} problem{} in the document; nothing was imported",
                            n,
                            if n == 1 { "" } else { "s" }
                        ),
                        rows: problems,
                    });
                }
                let now = now_rfc3339();
                if !new_metrics.is_empty() {
                    ctx.edit(&who, &DocRef::dashboards(&ws, None), |e| {
                        for (nid, m, q) in &new_metrics {
                            let num = |n: Option<f64>| n.map(|v| v.to_string());
                            let mut f: Vec<Set> = vec![
                                dashboard_metrics::workspace_id.to(ws.as_str()),
                                dashboard_metrics::name.to(m.name.trim()),
                                dashboard_metrics::description.to(m.description.as_str()),
                                dashboard_metrics::category.to(m.category.as_str()),
                                dashboard_metrics::query.to(Value::Object(q.clone()).to_string()),
                                dashboard_metrics::unit.to(m.unit.as_str()),
                                dashboard_metrics::format.to(m.format.as_str()),
                                dashboard_metrics::target_value.to(num(m.target_value)),
                                dashboard_metrics::warning_threshold.to(num(m.warning_threshold)),
                                dashboard_metrics::critical_threshold.to(num(m.critical_threshold)),
                                dashboard_metrics::direction.to(m.direction.as_str()),
                                dashboard_metrics::refresh_seconds.to(m.refresh_seconds),
                                dashboard_metrics::is_enabled.to(true),
                                dashboard_metrics::color.to(if m.color.is_empty() { "blue" } else { m.color.as_str() }),
                                dashboard_metrics::icon.to(m.icon.as_str()),
                                dashboard_metrics::sort_order.to(0),
                            ];
                            f.extend(dashboard_metrics::SPEC.base(&now, Some(&uid)));
                            e.create(dashboard_metrics::SPEC, nid, &f)?;
                        }
                        Ok(())
                    })?;
                }
                ctx.edit(&who, &super::doc_of(&ws, owner.as_deref()), |e| {
                    let mut f: Vec<Set> = vec![
                        dashboards::workspace_id.to(ws.as_str()),
                        match &owner {
                            Some(o) => dashboards::user_id.to(o.as_str()),
                            None => dashboards::user_id.null(),
                        },
                        dashboards::name.to(name.as_str()),
                        dashboards::description.to(doc.dashboard.description.as_str()),
                        dashboards::is_default.to(false),
                        dashboards::config.to(Value::Object(config.clone()).to_string()),
                        dashboards::sort_order.to(0),
                    ];
                    f.extend(dashboards::SPEC.base(&now, Some(&uid)));
                    e.create(dashboards::SPEC, &id2, &f)?;
                    for (wd, cfg) in &new_widgets {
                        let mut f: Vec<Set> = vec![
                            dashboard_widgets::workspace_id.to(ws.as_str()),
                            match &owner {
                                Some(o) => dashboard_widgets::user_id.to(o.as_str()),
                                None => dashboard_widgets::user_id.null(),
                            },
                            dashboard_widgets::dashboard_id.to(id2.as_str()),
                            dashboard_widgets::widget_type.to(wd.widget_type.as_str()),
                            dashboard_widgets::title.to(wd.title.as_str()),
                            dashboard_widgets::config.to(Value::Object(cfg.clone()).to_string()),
                            dashboard_widgets::position.to(serde_json::to_string(&wd.position).unwrap_or_default()),
                            dashboard_widgets::sort_order.to(wd.sort_order),
                            dashboard_widgets::refresh_seconds.to(wd.refresh_seconds),
                            dashboard_widgets::is_visible.to(wd.is_visible),
                            match &wd.chart_type {
                                Some(k) => dashboard_widgets::chart_type.to(k.as_str()),
                                None => dashboard_widgets::chart_type.null(),
                            },
                        ];
                        f.extend(dashboard_widgets::SPEC.base(&now, Some(&uid)));
                        e.create(dashboard_widgets::SPEC, &crate::new_id(), &f)?;
                    }
                    Ok(())
                })
            })
            .await?;
        self.get(w, &id).await
    }
}
