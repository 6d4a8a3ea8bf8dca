//! Analytics (seed 000): the chart builder over work items and time (`engine`, over the
//! facts kept per workspace in `facts`), the overview figures, work-item stats, and CSV of
//! any chart's table. Read-only: it has no records of its own, and reads only what the
//! caller may see (private projects they are not in never count; logged time as the time
//! summaries show it).

pub mod engine;
pub mod facts;
pub mod render;
pub(crate) mod routes;
mod store;

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;
use utoipa::ToSchema;

use crate::error::{AppError, Checks};
use crate::issues::{IssueFilter, IssueListQuery, Priority, StateGroup};
use crate::policy::{ProjRole, WsRole};
use crate::work::ProjCtx;
use crate::workspaces::WsCtx;
use crate::App;
use engine::{Answer, Key, Query, Range, Seen};
pub use engine::{Axis, Bucket, Measure};
use facts::Day;

/// Date buckets a chart may have (ten years of days).
pub const MAX_BUCKETS: usize = 3_660;

/// Where a request reads: a workspace (the projects the caller may see) or one project.
pub enum Scope<'a> {
    Workspace(&'a WsCtx),
    Project(&'a ProjCtx),
}

impl Scope<'_> {
    fn ws(&self) -> &WsCtx {
        match self {
            Scope::Workspace(w) => w,
            Scope::Project(p) => &p.ws,
        }
    }
}

/// The filters every analytics request takes (the issue list's, and more), unparsed.
#[derive(Debug, Default, Clone, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FilterParams {
    /// Project ids, comma-separated (workspace scope).
    pub project: Option<String>,
    /// State ids, comma-separated.
    pub state: Option<String>,
    /// `backlog,unstarted,started,completed,cancelled`, comma-separated.
    pub state_group: Option<String>,
    /// `urgent,high,medium,low,none`, comma-separated.
    pub priority: Option<String>,
    /// User ids, comma-separated; `none`: no assignee.
    pub assignee: Option<String>,
    /// Label ids, comma-separated (any of them).
    pub label: Option<String>,
    /// Cycle ids, comma-separated; `none`: in no cycle.
    pub cycle: Option<String>,
    /// Module ids, comma-separated; `none`: in no module.
    pub module: Option<String>,
    pub created_by: Option<String>,
    /// Dates `YYYY-MM-DD`, inclusive, on each date field.
    pub start_from: Option<String>,
    pub start_to: Option<String>,
    pub target_from: Option<String>,
    pub target_to: Option<String>,
    pub created_from: Option<String>,
    pub created_to: Option<String>,
    pub completed_from: Option<String>,
    pub completed_to: Option<String>,
    /// Work logs of these days only (logged-time measures and LOGGED_AT).
    pub logged_from: Option<String>,
    pub logged_to: Option<String>,
    /// Full text over titles, descriptions and comments.
    pub q: Option<String>,
    /// A saved view's id: its query applies too (and only its project counts).
    pub view: Option<String>,
}

/// The parsed filters, before the saved view and full text are resolved.
struct Filters {
    issue: IssueFilter,
    projects: Vec<String>,
    completed: (Option<String>, Option<String>),
    logged: (Option<String>, Option<String>),
    view: Option<String>,
}

fn csv_ids(c: &mut Checks, field: &str, raw: &Option<String>) -> Vec<String> {
    let mut out = Vec::new();
    for v in raw
        .as_deref()
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|v| !v.is_empty())
    {
        match uuid::Uuid::parse_str(v) {
            Ok(u) if !out.contains(&u.to_string()) => out.push(u.to_string()),
            Ok(_) => {}
            Err(_) => c.add(field, format!("{v:.40} is not an id")),
        }
    }
    if out.len() > 100 {
        c.add(field, "at most 100 ids");
    }
    out
}

impl FilterParams {
    fn parse(&self) -> Result<Filters, AppError> {
        let list = IssueListQuery {
            page: None,
            per_page: None,
            state: self.state.clone(),
            state_group: self.state_group.clone(),
            priority: self.priority.clone(),
            assignee: self.assignee.clone(),
            label: self.label.clone(),
            cycle: self.cycle.clone(),
            module: self.module.clone(),
            parent: None,
            created_by: self.created_by.clone(),
            start_from: self.start_from.clone(),
            start_to: self.start_to.clone(),
            target_from: self.target_from.clone(),
            target_to: self.target_to.clone(),
            created_from: self.created_from.clone(),
            created_to: self.created_to.clone(),
            q: self.q.clone(),
            order_by: None,
            group_by: None,
        };
        let issue = crate::issues::parse_filter(&list);
        let mut c = Checks::new();
        if let Err(AppError::Validation(v)) = &issue {
            for (k, m) in v {
                c.add(k, m.clone());
            }
        }
        let projects = csv_ids(&mut c, "project", &self.project);
        let mut date =
            |field: &str, v: &Option<String>| v.as_deref().and_then(|d| c.take(field, crate::issues::parse_date(d)));
        let completed = (
            date("completed_from", &self.completed_from),
            date("completed_to", &self.completed_to),
        );
        let logged = (
            date("logged_from", &self.logged_from),
            date("logged_to", &self.logged_to),
        );
        let view = csv_ids(&mut c, "view", &self.view);
        if view.len() > 1 {
            c.add("view", "one view at most");
        }
        let parsed = issue.as_ref().ok();
        let of = |f: fn(&IssueFilter) -> (&Option<String>, &Option<String>)| parsed.map_or((&None, &None), f);
        for (field, (a, b)) in [
            ("start_to", of(|f| (&f.start_from, &f.start_to))),
            ("target_to", of(|f| (&f.target_from, &f.target_to))),
            ("created_to", of(|f| (&f.created_from, &f.created_to))),
            ("completed_to", (&completed.0, &completed.1)),
            ("logged_to", (&logged.0, &logged.1)),
        ] {
            if let (Some(a), Some(b)) = (a, b) {
                if b < a {
                    c.add(field, "must not be before the start of the range");
                }
            }
        }
        c.finish()?;
        Ok(Filters {
            issue: issue?,
            projects,
            completed,
            logged,
            view: view.into_iter().next(),
        })
    }
}

/// The ways an image (or a dashboard's chart widget) draws a chart (`render::Kind`).
pub const CHART_KINDS: &[&str] = &["bar", "stacked", "grouped", "line", "area", "donut", "number"];

/// Checks a chart's parameters and filters as a request's are checked (a dashboard widget's
/// config is held to the same).
pub fn check_params(chart: &ChartParams, filters: &FilterParams) -> Result<(), AppError> {
    chart.parse()?;
    filters.parse()?;
    Ok(())
}

/// Checks filters as a request's are checked.
pub fn check_filters(filters: &FilterParams) -> Result<(), AppError> {
    filters.parse().map(|_| ())
}

/// The projects `uid` may see in `ws` (the ones charts count for them).
pub fn visible_projects(c: &rusqlite::Connection, ws: &str, uid: &str, role: WsRole) -> rusqlite::Result<Vec<String>> {
    store::visible_projects(c, ws, uid, role)
}

/// The live private projects of `ws`.
pub fn private_projects(c: &rusqlite::Connection, ws: &str) -> rusqlite::Result<Vec<String>> {
    store::private_projects(c, ws)
}

/// A metric's number (seed 004), computed off the request path in a reader job: the total
/// of `measure` under `filters` as the workspace's admins see it (every project, everybody's
/// time), or over its projects that are not private only (`public_only`: what every member
/// sees). The filters are a metric's own (never a saved view, which is somebody's).
pub fn workspace_total(
    app: &App,
    c: &rusqlite::Connection,
    ws: &str,
    measure: Measure,
    filters: &FilterParams,
    public_only: bool,
) -> Result<i64, AppError> {
    if filters.view.is_some() {
        return Err(AppError::field("view", "a metric names its filters, not a saved view"));
    }
    let f = filters.parse()?;
    let who = Caller {
        ws: ws.to_string(),
        user: String::new(),
        role: WsRole::Owner,
        project: None,
    };
    let (mut seen, mut q) = resolve(c, &who, f)?;
    if public_only {
        let private: std::collections::HashSet<String> = store::private_projects(c, ws)?.into_iter().collect();
        seen.projects.retain(|p| !private.contains(p));
        seen.all_time_in.retain(|p| !private.contains(p));
    }
    let facts = app.analytics.get(c, ws)?;
    q.measure = measure;
    q.x = Some(Axis::Projects);
    Ok(engine::run(&facts, &q, &seen, Axis::Projects)?.total)
}

/// A chart request, unparsed.
#[derive(Debug, Default, Clone, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ChartParams {
    /// `custom-work-items` (the chart builder, the default), `projects` (work items per
    /// project by state group) or `work-items` (created and completed over time).
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub chart_type: Option<String>,
    /// One of the axes (`Axis`); required for `custom-work-items`.
    pub x_axis: Option<String>,
    /// Another axis to split each bucket by; not the x axis.
    pub group_by: Option<String>,
    /// The measure (`Measure`); `work_item_count` by default.
    pub y_axis: Option<String>,
    /// Date buckets: `day`, `week`, `month` (default) or `year`.
    pub interval: Option<String>,
    /// At most this many x buckets (1–500); the rest are summed into `other`. Not for dates.
    pub limit: Option<u32>,
    /// At most this many groups (1–100, default 24); the rest are summed into `other`.
    pub group_limit: Option<u32>,
    /// `json` (default), `csv`, or an image drawn on the server, `svg` or `png` (premium:
    /// `chart_images`).
    pub format: Option<String>,
    /// How an image draws it: `bar`, `stacked`, `grouped`, `line`, `area`, `donut`,
    /// `number`; by default stacked bars when grouped, a line over dates, else bars.
    pub kind: Option<String>,
    /// An image's size in pixels: width 200–4000 (960), height 150–3000 (540).
    pub width: Option<u32>,
    pub height: Option<u32>,
    /// An image's colours: `light` (default) or `dark`.
    pub theme: Option<String>,
}

/// One group (series) of a chart: its key in the rows and its name.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
pub struct SeriesView {
    pub key: String,
    pub name: String,
}

#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
pub struct MeasureView {
    pub key: Measure,
    pub name: &'static str,
    /// `work items`, `points` or `minutes`.
    pub unit: &'static str,
}

/// A chart (seed 000's shape): `data` rows `{key, name, count, <group key>: n…}` (each
/// bucket's measure in `count`, named so whatever the measure), `schema` naming each group
/// key; nulls are the key `none`, a long tail past a limit `other`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ChartView {
    pub x_axis: Option<Axis>,
    pub group_by: Option<Axis>,
    pub y_axis: Measure,
    pub measure: MeasureView,
    /// Date buckets, when an axis is a date.
    pub interval: Option<Bucket>,
    #[schema(value_type = Vec<HashMap<String, serde_json::Value>>)]
    pub data: Vec<serde_json::Map<String, serde_json::Value>>,
    pub schema: BTreeMap<String, String>,
    /// The groups in the order of the chart's legend.
    pub series: Vec<SeriesView>,
    /// The measure over everything counted, each work item (or log) once.
    pub total: i64,
    /// The x axis's title.
    pub x_name: String,
}

/// A figure of the overview: over everything the caller sees (`count`) and within the
/// request's filters and range (`filter_count`), as seed 000 has it.
#[derive(Debug, Clone, Copy, Serialize, ToSchema, Default, PartialEq)]
pub struct Figure {
    pub count: i64,
    pub filter_count: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema, Default, PartialEq)]
pub struct OverviewView {
    pub from: String,
    pub to: String,
    pub total_work_items: Figure,
    /// Not completed or cancelled.
    pub open_work_items: Figure,
    pub completed_work_items: Figure,
    /// Open with a target date before today.
    pub overdue_work_items: Figure,
    /// Created between `from` and `to` (`count`: whatever the other filters).
    pub created_work_items: Figure,
    /// Completed between `from` and `to`.
    pub completed_in_range: Figure,
    /// Minutes logged (`filter_count`: between `from` and `to`), as the caller sees time.
    pub logged_minutes: Figure,
    /// Estimated minutes of the work items.
    pub estimate_minutes: Figure,
    /// Minutes logged on the work items that have an estimate (to set beside it).
    pub estimated_logged_minutes: Figure,
    pub projects: i64,
    pub members: i64,
}

/// Work-item stats of one project (workspace scope) or one assignee (project scope).
#[derive(Debug, Clone, Serialize, ToSchema, Default, PartialEq)]
pub struct StatsRow {
    pub key: String,
    pub name: String,
    pub total: i64,
    pub backlog: i64,
    pub unstarted: i64,
    pub started: i64,
    pub completed: i64,
    pub cancelled: i64,
    pub overdue: i64,
    pub estimate_minutes: i64,
    pub logged_minutes: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WorkItemStatsView {
    /// `PROJECTS` (workspace) or `ASSIGNEES` (project).
    pub by: Axis,
    pub rows: Vec<StatsRow>,
}

/// `tab=overview` or `tab=work-items`.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(untagged)]
pub enum AnalyticsView {
    Overview(OverviewView),
    WorkItems(WorkItemStatsView),
}

fn parse_axis(c: &mut Checks, field: &str, raw: Option<&str>) -> Option<Axis> {
    let raw = raw?;
    match Axis::parse(raw.trim()) {
        Some(a) => Some(a),
        None => {
            c.add(field, format!("{raw:.40} is not an axis; one of {}", Axis::allowed()));
            None
        }
    }
}

/// A chart request, checked.
struct ChartRequest {
    kind: ChartKind,
    x: Option<Axis>,
    group: Option<Axis>,
    measure: Measure,
    bucket: Bucket,
    limit: Option<usize>,
    group_limit: Option<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum ChartKind {
    Custom,
    Projects,
    WorkItems,
}

impl ChartParams {
    fn parse(&self) -> Result<ChartRequest, AppError> {
        let mut c = Checks::new();
        let kind = match self.chart_type.as_deref().unwrap_or("custom-work-items") {
            "custom-work-items" => ChartKind::Custom,
            "projects" => ChartKind::Projects,
            "work-items" => ChartKind::WorkItems,
            other => {
                c.add(
                    "type",
                    format!("{other:.40} is not a chart type; one of custom-work-items, projects, work-items"),
                );
                ChartKind::Custom
            }
        };
        let x = parse_axis(&mut c, "x_axis", self.x_axis.as_deref());
        let group = parse_axis(&mut c, "group_by", self.group_by.as_deref());
        let measure = match self.y_axis.as_deref() {
            None => Measure::default(),
            Some(m) => Measure::parse(m.trim()).unwrap_or_else(|| {
                c.add(
                    "y_axis",
                    format!("{m:.40} is not a measure; one of {}", Measure::allowed()),
                );
                Measure::default()
            }),
        };
        let bucket = match self.interval.as_deref() {
            None => Bucket::default(),
            Some("day") => Bucket::Day,
            Some("week") => Bucket::Week,
            Some("month") => Bucket::Month,
            Some("year") => Bucket::Year,
            Some(o) => {
                c.add(
                    "interval",
                    format!("{o:.40} is not an interval; one of day, week, month, year"),
                );
                Bucket::default()
            }
        };
        if kind == ChartKind::Custom {
            match x {
                None if self.x_axis.is_none() => c.add("x_axis", format!("is required; one of {}", Axis::allowed())),
                Some(x) if group == Some(x) => c.add(
                    "group_by",
                    format!(
                        "must differ from x_axis; one of {}",
                        Axis::ALL
                            .iter()
                            .filter(|a| **a != x)
                            .map(|a| a.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ),
                _ => {}
            }
            let time_axis = x.is_some_and(Axis::is_time) || group.is_some_and(Axis::is_time);
            if time_axis && measure != Measure::LoggedMinutes {
                c.add(
                    "y_axis",
                    "WORK_LOGGED_BY and LOGGED_AT count work logs: the measure must be logged_minutes",
                );
            }
            if self.limit.is_some() && x.is_some_and(Axis::is_date) {
                c.add("limit", "a date axis keeps every bucket; limit is for other axes");
            }
        } else if self.x_axis.is_some() || self.group_by.is_some() {
            c.add("x_axis", "only the custom-work-items chart takes axes");
        }
        if kind == ChartKind::WorkItems && self.y_axis.is_some() {
            c.add("y_axis", "the work-items chart counts work items created and completed");
        }
        match self.format.as_deref() {
            None | Some("json" | "csv" | "svg" | "png") => {}
            Some(o) => c.add("format", format!("{o:.40} is not a format; one of json, csv, svg, png")),
        }
        if let Some(k) = &self.kind {
            if render::Kind::parse(k).is_none() {
                c.add(
                    "kind",
                    format!("{k:.40} is not a chart kind; one of bar, stacked, grouped, line, area, donut, number"),
                );
            }
        }
        if self.width.is_some_and(|w| !(200..=4000).contains(&w)) {
            c.add("width", "must be between 200 and 4000 pixels");
        }
        if self.height.is_some_and(|h| !(150..=3000).contains(&h)) {
            c.add("height", "must be between 150 and 3000 pixels");
        }
        if let Some(t) = &self.theme {
            if t != "light" && t != "dark" {
                c.add("theme", format!("{t:.40} is not a theme; one of light, dark"));
            }
        }
        let limit = match self.limit {
            Some(l) if !(1..=500).contains(&l) => {
                c.add("limit", "must be between 1 and 500");
                None
            }
            l => l.map(|l| l as usize),
        };
        let group_limit = match self.group_limit {
            Some(l) if !(1..=100).contains(&l) => {
                c.add("group_limit", "must be between 1 and 100");
                None
            }
            l => Some(l.unwrap_or(24) as usize),
        };
        c.finish()?;
        Ok(ChartRequest {
            kind,
            x,
            group,
            measure,
            bucket,
            limit,
            group_limit,
        })
    }
}

fn priority_name(p: Priority) -> &'static str {
    match p {
        Priority::Urgent => "Urgent",
        Priority::High => "High",
        Priority::Medium => "Medium",
        Priority::Low => "Low",
        Priority::None => "No priority",
    }
}

fn group_name(g: StateGroup) -> &'static str {
    match g {
        StateGroup::Backlog => "Backlog",
        StateGroup::Unstarted => "Unstarted",
        StateGroup::Started => "Started",
        StateGroup::Completed => "Completed",
        StateGroup::Cancelled => "Cancelled",
    }
}

pub fn axis_name(a: Axis) -> &'static str {
    match a {
        Axis::States => "State",
        Axis::StateGroups => "State group",
        Axis::Labels => "Label",
        Axis::Assignees => "Assignee",
        Axis::EstimatePoints => "Estimate points",
        Axis::Cycles => "Cycle",
        Axis::Modules => "Module",
        Axis::Priority => "Priority",
        Axis::StartDate => "Start date",
        Axis::TargetDate => "Target date",
        Axis::CreatedAt => "Created",
        Axis::CompletedAt => "Completed",
        Axis::CreatedBy => "Created by",
        Axis::Projects => "Project",
        Axis::Departments => "Department",
        Axis::WorkLoggedBy => "Logged by",
        Axis::LoggedAt => "Logged on",
    }
}

/// Keys and names of an answer's buckets.
struct Names<'a> {
    facts: &'a facts::Facts,
    bucket: Bucket,
    names: HashMap<String, String>,
}

impl Names<'_> {
    fn key(&self, k: Key) -> String {
        match k {
            Key::Id(i) => self.facts.id(i).to_string(),
            Key::Group(g) => g.as_str().to_string(),
            Key::Priority(p) => p.as_str().to_string(),
            Key::Points(n) => n.to_string(),
            Key::Day(d) => self.bucket.label(d),
            Key::None => "none".into(),
            Key::Other => "other".into(),
        }
    }

    fn name(&self, k: Key) -> String {
        match k {
            Key::Id(i) => self
                .names
                .get(self.facts.id(i))
                .cloned()
                .unwrap_or_else(|| "(deleted)".into()),
            Key::Group(g) => group_name(g).into(),
            Key::Priority(p) => priority_name(p).into(),
            Key::Points(n) => format!("{n} points"),
            Key::Day(d) if self.bucket == Bucket::Week => format!("Week of {}", self.bucket.label(d)),
            Key::Day(d) => self.bucket.label(d),
            Key::None => "None".into(),
            Key::Other => "Other".into(),
        }
    }
}

/// Which table names an id axis's keys.
fn name_table(a: Axis) -> Option<&'static str> {
    match a {
        Axis::States => Some("states"),
        Axis::Labels => Some("labels"),
        Axis::Cycles => Some("cycles"),
        Axis::Modules => Some("modules"),
        Axis::Projects => Some("projects"),
        Axis::Departments => Some("departments"),
        Axis::Assignees | Axis::CreatedBy | Axis::WorkLoggedBy => Some("users"),
        _ => None,
    }
}

fn ids_of(answer: &Answer, in_series: bool) -> Vec<u32> {
    let keys: Vec<Key> = if in_series {
        answer.series.clone()
    } else {
        answer.rows.iter().map(|r| r.key).collect()
    };
    keys.into_iter()
        .filter_map(|k| match k {
            Key::Id(i) => Some(i),
            _ => None,
        })
        .collect()
}

/// The chart view of an answer, with names, ordered as seed 000 has it: ungrouped by key
/// (by name for ids), grouped by the measure, descending; dates always in order.
fn chart_view(
    c: &rusqlite::Connection,
    ws: &str,
    f: &facts::Facts,
    r: &ChartRequest,
    x: Axis,
    answer: Answer,
) -> Result<ChartView, AppError> {
    let mut names = HashMap::new();
    for (axis, in_series) in [(Some(x), false), (r.group, true)] {
        if let Some(t) = axis.and_then(name_table) {
            let ids: Vec<String> = ids_of(&answer, in_series)
                .into_iter()
                .map(|i| f.id(i).to_string())
                .collect();
            names.extend(store::names(c, ws, t, &ids)?);
        }
    }
    let n = Names {
        facts: f,
        bucket: r.bucket,
        names,
    };
    let mut rows = answer.rows;
    let by_name = |a: &engine::Row, b: &engine::Row| n.name(a.key).to_lowercase().cmp(&n.name(b.key).to_lowercase());
    let tail = |k: Key| match k {
        Key::None => 1,
        Key::Other => 2,
        _ => 0,
    };
    if !x.is_date() {
        if r.group.is_some() {
            rows.sort_by(|a, b| {
                tail(a.key)
                    .cmp(&tail(b.key))
                    .then(b.value.cmp(&a.value))
                    .then(by_name(a, b))
            });
        } else if matches!(rows.first().map(|r| r.key), Some(Key::Id(_))) {
            rows.sort_by(|a, b| tail(a.key).cmp(&tail(b.key)).then(by_name(a, b)));
        }
    }
    let series: Vec<SeriesView> = answer
        .series
        .iter()
        .map(|k| SeriesView {
            key: n.key(*k),
            name: n.name(*k),
        })
        .collect();
    let data = rows
        .iter()
        .map(|row| {
            let mut m = serde_json::Map::new();
            m.insert("key".into(), n.key(row.key).into());
            m.insert("name".into(), n.name(row.key).into());
            m.insert("count".into(), row.value.into());
            for (g, v) in &row.groups {
                m.insert(n.key(*g), (*v).into());
            }
            m
        })
        .collect();
    Ok(ChartView {
        x_axis: Some(x),
        group_by: r.group,
        y_axis: r.measure,
        measure: MeasureView {
            key: r.measure,
            name: r.measure.name(),
            unit: r.measure.unit(),
        },
        interval: (x.is_date() || r.group.is_some_and(Axis::is_date)).then_some(r.bucket),
        data,
        schema: series.iter().map(|s| (s.key.clone(), s.name.clone())).collect(),
        series,
        total: answer.total,
        x_name: axis_name(x).into(),
    })
}

fn day(s: &Option<String>) -> Option<Day> {
    s.as_deref().and_then(facts::day_of)
}

/// What the caller may see, and the query resolved (saved view, full text) in `c`.
fn resolve(c: &rusqlite::Connection, who: &Caller, f: Filters) -> Result<(Seen, Query), AppError> {
    let uid = who.user.clone();
    let mut seen = Seen {
        user: uid.clone(),
        ..Default::default()
    };
    match &who.project {
        None => {
            // Admins see everybody's time; anybody else their own (as the time summaries).
            for pid in store::visible_projects(c, &who.ws, &uid, who.role)? {
                if who.role >= WsRole::Admin {
                    seen.all_time_in.insert(pid.clone());
                }
                seen.projects.insert(pid);
            }
        }
        Some((pid, role)) => {
            seen.projects.insert(pid.clone());
            if *role >= ProjRole::Member {
                seen.all_time_in.insert(pid.clone());
            }
        }
    }
    let mut q = Query {
        projects: f.projects,
        completed: Range {
            from: day(&f.completed.0),
            to: day(&f.completed.1),
        },
        logged: Range {
            from: day(&f.logged.0),
            to: day(&f.logged.1),
        },
        ..Default::default()
    };
    let mut filters = vec![f.issue];
    if let Some(vid) = &f.view {
        let Some((pid, query)) = store::view(c, &who.ws, vid, &uid)? else {
            return Err(AppError::not_found("view"));
        };
        if !seen.projects.contains(&pid) {
            return Err(AppError::not_found("view"));
        }
        let vf = crate::planning::parse_view_query(&query)?;
        filters.push(vf);
        // A view is a filter of its project's work items.
        seen.projects.retain(|p| *p == pid);
    }
    for flt in &filters {
        if let Some(m) = &flt.fts {
            q.fts.push(store::fts_matches(c, &who.ws, m)?);
        }
    }
    q.filters = filters;
    Ok((seen, q))
}

fn today() -> Day {
    use chrono::Datelike;
    crate::timetrack::today().num_days_from_ce()
}

pub struct Analytics<'a>(pub &'a App);

impl ChartParams {
    /// The image this request asks for, if any (`format=svg|png`).
    pub fn image(&self, view: &ChartView) -> Option<render::Spec> {
        let format = match self.format.as_deref() {
            Some("svg") => render::Format::Svg,
            Some("png") => render::Format::Png,
            _ => return None,
        };
        let kind = self.kind.as_deref().and_then(render::Kind::parse).unwrap_or(
            if view.x_axis.is_some_and(Axis::is_date) || view.x_axis.is_none() {
                render::Kind::Line
            } else if view.series.is_empty() {
                render::Kind::Bar
            } else {
                render::Kind::Stacked
            },
        );
        Some(render::Spec {
            kind,
            format,
            width: self.width.unwrap_or(960),
            height: self.height.unwrap_or(540),
            theme: if self.theme.as_deref() == Some("dark") {
                render::Theme::Dark
            } else {
                render::Theme::Light
            },
        })
    }
}

impl Analytics<'_> {
    /// A chart drawn on the server (`format=svg|png`): a premium feature (`chart_images`),
    /// refused with 402 `plan_required` before anything is counted.
    pub async fn image(
        &self,
        scope: Scope<'_>,
        chart: ChartParams,
        filters: FilterParams,
    ) -> Result<(Vec<u8>, &'static str), AppError> {
        chart.parse()?;
        let ws = scope.ws().ws.id.clone();
        self.0
            .readers
            .read(move |c| crate::plans::require(c, &ws, "chart_images"))
            .await?;
        let view = self.chart(scope, chart.clone(), filters).await?;
        let Some(spec) = chart.image(&view) else {
            return Err(AppError::field("format", "is not an image format"));
        };
        // Drawing runs beside the readers; two at a time (a 4000×3000 PNG is a 36 MB buffer).
        static DRAWING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(2);
        let _permit = DRAWING
            .acquire()
            .await
            .map_err(|_| AppError::internal("drawing closed"))?;
        let bytes = tokio::task::spawn_blocking(move || render::render(&view, spec))
            .await
            .map_err(|e| AppError::internal(format!("chart drawing: {e}")))??;
        Ok((
            bytes,
            if spec.format == render::Format::Svg {
                "image/svg+xml"
            } else {
                "image/png"
            },
        ))
    }

    /// A chart of `scope` (JSON view; `csv` turns it into a table).
    pub async fn chart(
        &self,
        scope: Scope<'_>,
        chart: ChartParams,
        filters: FilterParams,
    ) -> Result<ChartView, AppError> {
        let r = chart.parse()?;
        let f = filters.parse()?;
        let ws = scope.ws().ws.id.clone();
        let app = self.0.clone();
        let who = Caller::of(&scope);
        self.0
            .readers
            .read(move |c| {
                let (seen, mut q) = resolve(c, &who, f)?;
                let facts = app.analytics.get(c, &ws)?;
                q.measure = r.measure;
                q.bucket = r.bucket;
                q.limit = r.limit;
                q.group_limit = r.group_limit;
                match r.kind {
                    ChartKind::Custom => {
                        let x = r.x.ok_or_else(|| AppError::field("x_axis", "is required"))?;
                        q.x = Some(x);
                        q.group = r.group;
                        let answer = engine::run(&facts, &q, &seen, x)?;
                        chart_view(c, &ws, &facts, &r, x, answer)
                    }
                    ChartKind::Projects => {
                        let r = ChartRequest {
                            group: Some(Axis::StateGroups),
                            ..r
                        };
                        q.group = r.group;
                        let answer = engine::run(&facts, &q, &seen, Axis::Projects)?;
                        chart_view(c, &ws, &facts, &r, Axis::Projects, answer)
                    }
                    ChartKind::WorkItems => work_items_chart(&facts, &r, q, &seen),
                }
            })
            .await
    }

    /// `tab=overview` or `tab=work-items` of `scope`, over `from`..`to` (the 30 days up to
    /// today by default).
    pub async fn tab(
        &self,
        scope: Scope<'_>,
        tab: &str,
        from: Option<&str>,
        to: Option<&str>,
        filters: FilterParams,
    ) -> Result<AnalyticsView, AppError> {
        let overview = match tab {
            "overview" => true,
            "work-items" => false,
            other => {
                return Err(AppError::field(
                    "tab",
                    format!("{other:.40} is not a tab; one of overview, work-items"),
                ))
            }
        };
        let range = crate::timetrack::Range::parse(from, to, None)?;
        let f = filters.parse()?;
        let ws = scope.ws().ws.id.clone();
        let project_scope = matches!(scope, Scope::Project(_));
        let app = self.0.clone();
        let who = Caller::of(&scope);
        self.0
            .readers
            .read(move |c| {
                let (seen, q) = resolve(c, &who, f)?;
                let facts = app.analytics.get(c, &ws)?;
                let span = Range {
                    from: facts::day_of(&range.from),
                    to: facts::day_of(&range.to),
                };
                if overview {
                    let all = Query::default();
                    let a = engine::figures(&facts, &all, &seen, today(), span);
                    let b = engine::figures(&facts, &q, &seen, today(), span);
                    let fig = |x: fn(&engine::Figures) -> i64| Figure {
                        count: x(&a),
                        filter_count: x(&b),
                    };
                    Ok(AnalyticsView::Overview(OverviewView {
                        from: range.from.clone(),
                        to: range.to.clone(),
                        total_work_items: fig(|f| f.total),
                        open_work_items: fig(|f| f.open),
                        completed_work_items: fig(|f| f.completed),
                        overdue_work_items: fig(|f| f.overdue),
                        created_work_items: fig(|f| f.created_in_range),
                        completed_in_range: fig(|f| f.completed_in_range),
                        logged_minutes: Figure {
                            count: a.logged,
                            filter_count: b.logged_in_range,
                        },
                        estimate_minutes: fig(|f| f.estimate),
                        estimated_logged_minutes: fig(|f| f.estimated_logged),
                        projects: seen.projects.len() as i64,
                        members: match &who.project {
                            None => store::member_count(c, &ws)?,
                            Some((pid, _)) => store::project_member_count(c, pid)?,
                        },
                    }))
                } else {
                    let by = if project_scope { Axis::Assignees } else { Axis::Projects };
                    let stats = engine::stats(&facts, &q, &seen, by, today());
                    let ids: Vec<String> = stats
                        .iter()
                        .filter_map(|(k, _)| match k {
                            Key::Id(i) => Some(facts.id(*i).to_string()),
                            _ => None,
                        })
                        .collect();
                    let names = store::names(c, &ws, if project_scope { "users" } else { "projects" }, &ids)?;
                    let n = Names {
                        facts: &facts,
                        bucket: Bucket::Day,
                        names,
                    };
                    let mut rows: Vec<StatsRow> = stats
                        .into_iter()
                        .map(|(k, s)| StatsRow {
                            key: n.key(k),
                            name: n.name(k),
                            ..s
                        })
                        .collect();
                    rows.sort_by(|a, b| {
                        (a.key == "none")
                            .cmp(&(b.key == "none"))
                            .then(b.total.cmp(&a.total))
                            .then(a.name.to_lowercase().cmp(&b.name.to_lowercase()))
                    });
                    Ok(AnalyticsView::WorkItems(WorkItemStatsView { by, rows }))
                }
            })
            .await
    }
}

/// Work items created and completed per bucket (`type=work-items`).
fn work_items_chart(facts: &facts::Facts, r: &ChartRequest, q: Query, seen: &Seen) -> Result<ChartView, AppError> {
    let created = engine::run(facts, &q, seen, Axis::CreatedAt)?;
    let completed = engine::run(facts, &q, seen, Axis::CompletedAt)?;
    let mut by_key: BTreeMap<Key, (i64, i64)> = BTreeMap::new();
    for row in &created.rows {
        by_key.entry(row.key).or_default().0 = row.value;
    }
    for row in &completed.rows {
        by_key.entry(row.key).or_default().1 = row.value;
    }
    let n = Names {
        facts,
        bucket: r.bucket,
        names: HashMap::new(),
    };
    // Fill between the first and last bucket of either line.
    let days: Vec<Day> = by_key
        .keys()
        .filter_map(|k| match k {
            Key::Day(d) => Some(*d),
            _ => None,
        })
        .collect();
    if let (Some(a), Some(b)) = (days.iter().min(), days.iter().max()) {
        let mut d = *a;
        let mut left = MAX_BUCKETS;
        while d <= *b && left > 0 {
            by_key.entry(Key::Day(d)).or_default();
            d = r.bucket.next(d);
            left -= 1;
        }
    }
    let data = by_key
        .iter()
        .filter(|(k, _)| matches!(k, Key::Day(_)))
        .map(|(k, (a, b))| {
            let mut m = serde_json::Map::new();
            m.insert("key".into(), n.key(*k).into());
            m.insert("name".into(), n.name(*k).into());
            m.insert("count".into(), (a + b).into());
            m.insert("created".into(), (*a).into());
            m.insert("completed".into(), (*b).into());
            m
        })
        .collect();
    let series = vec![
        SeriesView {
            key: "created".into(),
            name: "Created".into(),
        },
        SeriesView {
            key: "completed".into(),
            name: "Completed".into(),
        },
    ];
    Ok(ChartView {
        x_axis: None,
        group_by: None,
        y_axis: Measure::WorkItemCount,
        measure: MeasureView {
            key: Measure::WorkItemCount,
            name: Measure::WorkItemCount.name(),
            unit: Measure::WorkItemCount.unit(),
        },
        interval: Some(r.bucket),
        data,
        schema: series.iter().map(|s| (s.key.clone(), s.name.clone())).collect(),
        series,
        total: created.total,
        x_name: "Date".into(),
    })
}

/// Who asks, in what scope: what a reader job needs of the request.
struct Caller {
    ws: String,
    user: String,
    role: WsRole,
    /// The project and the caller's role in it, at project scope.
    project: Option<(String, ProjRole)>,
}

impl Caller {
    fn of(s: &Scope<'_>) -> Self {
        let w = s.ws();
        Self {
            ws: w.ws.id.clone(),
            user: w.actor.user_id.clone(),
            role: w.role,
            project: match s {
                Scope::Workspace(_) => None,
                Scope::Project(p) => Some((p.project.id.clone(), p.role)),
            },
        }
    }
}

/// A chart's table as CSV: the x bucket, its measure, one column per group. Cells a
/// spreadsheet would read as formulas are made text (`timetrack::csv_safe`).
pub fn chart_csv(v: &ChartView) -> Result<Vec<u8>, AppError> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let internal = |e: csv::Error| AppError::Internal(anyhow::Error::new(e).context("csv"));
    let mut header = vec![v.x_name.clone(), "key".into(), v.measure.name.to_string()];
    header.extend(v.series.iter().map(|s| s.name.clone()));
    w.write_record(header.iter().map(|h| crate::timetrack::csv_safe(h)))
        .map_err(internal)?;
    for row in &v.data {
        let cell = |k: &str| match row.get(k) {
            Some(serde_json::Value::String(s)) => crate::timetrack::csv_safe(s),
            Some(other) => other.to_string(),
            None => "0".into(),
        };
        let mut rec = vec![cell("name"), cell("key"), cell("count")];
        rec.extend(v.series.iter().map(|s| cell(&s.key)));
        w.write_record(rec).map_err(internal)?;
    }
    w.into_inner()
        .map_err(|e| AppError::Internal(anyhow::anyhow!("csv: {e}")))
}
