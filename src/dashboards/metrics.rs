//! Metrics (seed 004): named, structured queries reduced to one number — a measure of the
//! chart builder under filters, optionally as a share of another measure, in a period that
//! moves with the calendar, or a count of staff — never SQL. Each has a category, a format,
//! a target, warning and critical thresholds and the side that is bad. Keel's own system
//! metrics (`SYSTEM`) and each workspace's (`dashboard_metrics` records, written by admins).
//!
//! Values are computed off the request path: `spawn_refresher` wakes every few seconds and
//! computes the metrics that are due (their refresh rate passed, or their query changed) in
//! reader jobs, one workspace at a time, and keeps them in memory (`MetricCache`). A write
//! never waits on a metric. A metric whose query no longer resolves (it names a deleted
//! project) keeps that status, with what is missing, instead of failing its dashboard.
//!
//! What a viewer sees follows what they may read. A metric is computed twice when it counts
//! a private project: as the admins see the workspace, and over its public projects only.
//! An admin, or a member of every private project it counts, gets the first; another member
//! the second (`scope: public_projects`), or `restricted` when its filters name a private
//! project they are not in. Logged-time measures count everybody's time, which only admins
//! see (as the time summaries), so they are restricted for the others.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::Mutex;

use chrono::{Datelike, Days, Months, NaiveDate};
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

use super::records::{dashboard_metrics, MAX_REFRESH_SECONDS, MIN_REFRESH_SECONDS};
use super::store::{self, MetricRow};
use crate::analytics::Measure;
use crate::docs::{DocRef, Set, Who};
use crate::error::AppError;
use crate::policy::WsRole;
use crate::time::now_rfc3339;
use crate::workspaces::WsCtx;
use crate::App;

pub const CATEGORIES: &[&str] = &["operational", "productivity", "time", "quality", "people"];
/// `duration` shows minutes as hours and minutes; `percentage` a share out of 100.
pub const FORMATS: &[&str] = &["number", "percentage", "duration"];
/// Which side of a threshold is bad: `above` (a value at or over it) or `below`.
pub const DIRECTIONS: &[&str] = &["above", "below"];
/// The largest threshold or target (and its negative the smallest).
const MAX_NUMBER: f64 = 1e12;

/// A span of days that moves with the calendar, up to today.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    Today,
    ThisWeek,
    ThisMonth,
    ThisQuarter,
    ThisYear,
    Last7Days,
    Last30Days,
    Last90Days,
}

impl Period {
    const ALL: [(Period, &'static str); 8] = [
        (Period::Today, "today"),
        (Period::ThisWeek, "this_week"),
        (Period::ThisMonth, "this_month"),
        (Period::ThisQuarter, "this_quarter"),
        (Period::ThisYear, "this_year"),
        (Period::Last7Days, "last_7_days"),
        (Period::Last30Days, "last_30_days"),
        (Period::Last90Days, "last_90_days"),
    ];

    fn parse(s: &str) -> Option<Self> {
        Self::ALL.iter().find(|(_, k)| *k == s).map(|(p, _)| *p)
    }

    fn keys() -> String {
        Self::ALL.map(|(_, k)| k).join(", ")
    }

    /// The days of the period on `today` (weeks start on Monday, as ISO's).
    pub fn range(self, today: NaiveDate) -> (NaiveDate, NaiveDate) {
        let back = |n: u64| today.checked_sub_days(Days::new(n)).unwrap_or(today);
        let from = match self {
            Period::Today => today,
            Period::ThisWeek => back(u64::from(today.weekday().num_days_from_monday())),
            Period::ThisMonth => today.with_day(1).unwrap_or(today),
            Period::ThisQuarter => {
                let m = (today.month0() / 3) * 3 + 1;
                NaiveDate::from_ymd_opt(today.year(), m, 1).unwrap_or(today)
            }
            Period::ThisYear => NaiveDate::from_ymd_opt(today.year(), 1, 1).unwrap_or(today),
            Period::Last7Days => back(6),
            Period::Last30Days => back(29),
            Period::Last90Days => back(89),
        };
        (from, today)
    }

    /// The same span one period earlier: last week up to the same weekday, last month up to
    /// the same day (or its last), the seven days before the last seven.
    pub fn previous(self, (from, to): (NaiveDate, NaiveDate)) -> (NaiveDate, NaiveDate) {
        let days = |n: u64| {
            (
                from.checked_sub_days(Days::new(n)).unwrap_or(from),
                to.checked_sub_days(Days::new(n)).unwrap_or(to),
            )
        };
        let months = |n: u32| {
            (
                from.checked_sub_months(Months::new(n)).unwrap_or(from),
                to.checked_sub_months(Months::new(n)).unwrap_or(to),
            )
        };
        match self {
            Period::Today => days(1),
            Period::ThisWeek | Period::Last7Days => days(7),
            Period::Last30Days => days(30),
            Period::Last90Days => days(90),
            Period::ThisMonth => months(1),
            Period::ThisQuarter => months(3),
            Period::ThisYear => months(12),
        }
    }
}

/// The date field a period applies to: its filter keys' stem (`created` for
/// `created_from`/`created_to`).
const PERIOD_FIELDS: &[&str] = &["created", "completed", "logged", "target", "start"];

/// A metric's query, parsed.
#[derive(Debug, Clone, PartialEq)]
pub enum Query {
    /// A measure of the chart builder over the work items its filters keep (as a share of
    /// `per`, out of 100, when given), in `period` on a date field when given.
    WorkItems {
        measure: Measure,
        per: Option<Measure>,
        filters: Map<String, Value>,
        period: Option<(Period, &'static str)>,
    },
    /// People's staff records in some employment statuses (and departments).
    Staff {
        statuses: Vec<String>,
        departments: Vec<String>,
    },
}

impl Query {
    pub fn counts_time(&self) -> bool {
        let time = |m: Measure| matches!(m, Measure::LoggedMinutes | Measure::OverrunMinutes);
        match self {
            Query::WorkItems { measure, per, .. } => time(*measure) || per.is_some_and(time),
            Query::Staff { .. } => false,
        }
    }
}

fn ids(field: &str, v: Option<&Value>) -> Result<Vec<String>, AppError> {
    let Some(v) = v else { return Ok(Vec::new()) };
    let Some(s) = v.as_str() else {
        return Err(AppError::field(
            "query",
            format!("{field} must be text (ids, comma-separated)"),
        ));
    };
    let mut out = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let id = uuid::Uuid::parse_str(part)
            .map_err(|_| AppError::field("query", format!("{field}: {part:.40} is not an id")))?
            .to_string();
        if !out.contains(&id) {
            out.push(id);
        }
    }
    if out.len() > 100 {
        return Err(AppError::field("query", format!("{field}: at most 100 ids")));
    }
    Ok(out)
}

/// Reads a metric's query (JSON text): refuses keys it does not know, measures, filters and
/// periods the engine would not take, with what is allowed.
pub fn parse_query(s: &str) -> Result<Query, AppError> {
    let Ok(Value::Object(m)) = serde_json::from_str::<Value>(s) else {
        return Err(AppError::field("query", "must be a JSON object"));
    };
    let text = |k: &str| -> Result<Option<&str>, AppError> {
        match m.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.as_str())),
            Some(_) => Err(AppError::field("query", format!("{k} must be text"))),
        }
    };
    match text("source")?.unwrap_or("work_items") {
        "work_items" => {
            for k in m.keys() {
                if !["source", "measure", "per", "filters", "period", "period_field"].contains(&k.as_str()) {
                    return Err(AppError::field(
                        "query",
                        format!("{k:.40} is not part of a work-items metric; it takes source, measure, per, filters, period and period_field"),
                    ));
                }
            }
            let measure = |k: &str| -> Result<Option<Measure>, AppError> {
                text(k)?
                    .map(|v| {
                        Measure::parse(v).ok_or_else(|| {
                            AppError::field("query", format!("{k} must be one of: {}", Measure::allowed()))
                        })
                    })
                    .transpose()
            };
            let Some(main) = measure("measure")? else {
                return Err(AppError::field(
                    "query",
                    format!("measure is required: one of {}", Measure::allowed()),
                ));
            };
            let per = measure("per")?;
            let filters = match m.get("filters") {
                None | Some(Value::Null) => Map::new(),
                Some(Value::Object(f)) => f.clone(),
                Some(_) => return Err(AppError::field("query", "filters must be an object")),
            };
            if filters.contains_key("view") {
                return Err(AppError::field("query", "a metric names its filters, not a saved view"));
            }
            let period = match (text("period")?, text("period_field")?) {
                (None, None) => None,
                (Some(p), Some(f)) => {
                    let p = Period::parse(p).ok_or_else(|| {
                        AppError::field("query", format!("period must be one of: {}", Period::keys()))
                    })?;
                    let f = PERIOD_FIELDS.iter().copied().find(|x| *x == f).ok_or_else(|| {
                        AppError::field(
                            "query",
                            format!("period_field must be one of: {}", PERIOD_FIELDS.join(", ")),
                        )
                    })?;
                    let time = |m: Option<Measure>| {
                        m.is_some_and(|m| matches!(m, Measure::LoggedMinutes | Measure::OverrunMinutes))
                    };
                    if f == "logged" && !time(Some(main)) && !time(per) {
                        return Err(AppError::field(
                            "query",
                            "period_field logged counts work logs: it goes with logged_minutes or overrun_minutes",
                        ));
                    }
                    if filters.contains_key(&format!("{f}_from")) || filters.contains_key(&format!("{f}_to")) {
                        return Err(AppError::field(
                            "query",
                            format!("the period sets {f}_from and {f}_to: leave them out of the filters"),
                        ));
                    }
                    Some((p, f))
                }
                _ => return Err(AppError::field("query", "period and period_field go together")),
            };
            crate::analytics::check_filters(&super::filter_params(&filters)?)?;
            Ok(Query::WorkItems {
                measure: main,
                per,
                filters,
                period,
            })
        }
        "staff" => {
            for k in m.keys() {
                if !["source", "status", "department"].contains(&k.as_str()) {
                    return Err(AppError::field(
                        "query",
                        format!("{k:.40} is not part of a staff metric; it takes source, status and department"),
                    ));
                }
            }
            let statuses: Vec<String> = match text("status")? {
                None => vec!["active".into(), "probation".into()],
                Some(s) => s
                    .split(',')
                    .map(str::trim)
                    .filter(|x| !x.is_empty())
                    .map(str::to_string)
                    .collect(),
            };
            if statuses.is_empty()
                || statuses
                    .iter()
                    .any(|s| !crate::org::records::STATUSES.contains(&s.as_str()))
            {
                return Err(AppError::field(
                    "query",
                    format!("status must be some of: {}", crate::org::records::STATUSES.join(", ")),
                ));
            }
            Ok(Query::Staff {
                statuses,
                departments: ids("department", m.get("department"))?,
            })
        }
        other => Err(AppError::field(
            "query",
            format!("source {other:.40} is not one of: work_items, staff"),
        )),
    }
}

/// A metric's target and thresholds, read from their text fields.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Thresholds {
    pub target: Option<f64>,
    pub warning: Option<f64>,
    pub critical: Option<f64>,
    /// A value at or above (`true`) — or at or below — a threshold is bad.
    pub above: bool,
}

impl Thresholds {
    pub fn read(
        target: Option<&str>,
        warning: Option<&str>,
        critical: Option<&str>,
        direction: Option<&str>,
    ) -> Result<Self, AppError> {
        let num = |field: &str, v: Option<&str>| -> Result<Option<f64>, AppError> {
            match v {
                None => Ok(None),
                Some(s) => match s.parse::<f64>() {
                    Ok(n) if n.is_finite() && n.abs() <= MAX_NUMBER => Ok(Some(n)),
                    _ => Err(AppError::field(
                        field,
                        format!("must be a number from -{MAX_NUMBER:e} to {MAX_NUMBER:e}"),
                    )),
                },
            }
        };
        let t = Thresholds {
            target: num("target_value", target)?,
            warning: num("warning_threshold", warning)?,
            critical: num("critical_threshold", critical)?,
            above: direction != Some("below"),
        };
        if let (Some(w), Some(c)) = (t.warning, t.critical) {
            if (t.above && c < w) || (!t.above && c > w) {
                return Err(AppError::field(
                    "critical_threshold",
                    if t.above {
                        "must be at or above the warning threshold (higher is worse)"
                    } else {
                        "must be at or below the warning threshold (lower is worse)"
                    },
                ));
            }
        }
        Ok(t)
    }

    /// Whether a warning or critical level is set (what the plan gates).
    pub fn any(&self) -> bool {
        self.warning.is_some() || self.critical.is_some()
    }

    /// `normal`, `warning` or `critical` for `v`.
    pub fn status(&self, v: f64) -> &'static str {
        let bad = |t: Option<f64>| t.is_some_and(|t| if self.above { v >= t } else { v <= t });
        if bad(self.critical) {
            "critical"
        } else if bad(self.warning) {
            "warning"
        } else {
            "normal"
        }
    }
}

/// A metric's definition: a system one or a workspace's record.
#[derive(Debug, Clone)]
pub struct Def {
    pub id: String,
    pub name: String,
    pub description: String,
    pub category: String,
    /// The query as written (JSON text).
    pub query: String,
    pub unit: String,
    pub format: String,
    pub thresholds: Thresholds,
    pub refresh_seconds: i64,
    pub is_enabled: bool,
    pub color: String,
    pub icon: String,
    pub sort_order: i64,
    pub system: bool,
    pub created_at: Option<String>,
    pub updated_at: Option<String>,
}

impl Def {
    /// What the computed value depends on: a change of it computes the metric afresh (its
    /// query, and for a period the day, so "today" moves at midnight).
    fn key(&self) -> u64 {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        self.query.hash(&mut h);
        if self.query.contains("\"period\"") {
            crate::timetrack::today().hash(&mut h);
        }
        h.finish()
    }

    fn of_row(r: MetricRow) -> Self {
        let thresholds = Thresholds::read(
            r.target_value.as_deref(),
            r.warning_threshold.as_deref(),
            r.critical_threshold.as_deref(),
            Some(&r.direction),
        )
        // The rules let no other row in; one written by plain SQL has no thresholds.
        .unwrap_or(Thresholds {
            target: None,
            warning: None,
            critical: None,
            above: true,
        });
        Def {
            id: r.id,
            name: r.name,
            description: r.description,
            category: r.category,
            query: r.query,
            unit: r.unit,
            format: r.format,
            thresholds,
            refresh_seconds: r.refresh_seconds,
            is_enabled: r.is_enabled,
            color: r.color,
            icon: r.icon,
            sort_order: r.sort_order,
            system: false,
            created_at: Some(r.created_at),
            updated_at: Some(r.updated_at),
        }
    }
}

/// Keel's own metrics, in every workspace, read-only (an admin makes their own from one to
/// set thresholds). Ids start with `system-`, which no record id does.
pub const SYSTEM: &[(&str, &str, &str, &str, &str, &str)] = &[
    (
        "system-open-work-items",
        "Open work items",
        "operational",
        "number",
        "Work items not completed nor cancelled",
        r#"{"measure":"work_item_count","filters":{"state_group":"backlog,unstarted,started"}}"#,
    ),
    (
        "system-open-urgent",
        "Open urgent work items",
        "operational",
        "number",
        "Urgent work items not completed nor cancelled",
        r#"{"measure":"work_item_count","filters":{"state_group":"backlog,unstarted,started","priority":"urgent"}}"#,
    ),
    (
        "system-completed-this-week",
        "Completed this week",
        "productivity",
        "number",
        "Work items completed since Monday, against the same days last week",
        r#"{"measure":"work_item_count","period":"this_week","period_field":"completed"}"#,
    ),
    (
        "system-created-this-week",
        "Created this week",
        "productivity",
        "number",
        "Work items made since Monday, against the same days last week",
        r#"{"measure":"work_item_count","period":"this_week","period_field":"created"}"#,
    ),
    (
        "system-completion-rate",
        "Completion rate",
        "productivity",
        "percentage",
        "Completed work items out of all",
        r#"{"measure":"completed_count","per":"work_item_count"}"#,
    ),
    (
        "system-logged-this-week",
        "Time logged this week",
        "time",
        "duration",
        "Time logged since Monday, against the same days last week",
        r#"{"measure":"logged_minutes","period":"this_week","period_field":"logged"}"#,
    ),
    (
        "system-estimate-used",
        "Estimate used",
        "quality",
        "percentage",
        "Time logged out of the time estimated",
        r#"{"measure":"logged_minutes","per":"estimate_time"}"#,
    ),
    (
        "system-staff-on-probation",
        "Staff on probation",
        "people",
        "number",
        "People whose staff record is on probation",
        r#"{"source":"staff","status":"probation"}"#,
    ),
];

fn system_defs() -> Vec<Def> {
    SYSTEM
        .iter()
        .enumerate()
        .map(|(i, (id, name, category, format, description, query))| Def {
            id: (*id).into(),
            name: (*name).into(),
            description: (*description).into(),
            category: (*category).into(),
            query: (*query).into(),
            unit: String::new(),
            format: (*format).into(),
            thresholds: Thresholds {
                target: None,
                warning: None,
                critical: None,
                above: true,
            },
            refresh_seconds: 300,
            is_enabled: true,
            color: "blue".into(),
            icon: String::new(),
            sort_order: i as i64 - 1_000,
            system: true,
            created_at: None,
            updated_at: None,
        })
        .collect()
}

/// Every metric of `ws`: the system ones, then the workspace's own in their order.
pub fn defs(c: &rusqlite::Connection, ws: &str) -> Result<Vec<Def>, AppError> {
    let mut out = system_defs();
    out.extend(store::metrics(c, ws)?.into_iter().map(Def::of_row));
    Ok(out)
}

fn def(c: &rusqlite::Connection, ws: &str, id: &str) -> Result<Def, AppError> {
    if let Some(d) = system_defs().into_iter().find(|d| d.id == id) {
        return Ok(d);
    }
    store::metric_row(c, ws, id)?
        .map(Def::of_row)
        .ok_or(AppError::not_found("metric"))
}

/// A metric's numbers as computed, for both audiences.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Values {
    /// As the admins see the workspace.
    pub all: Option<f64>,
    /// Over the projects that are not private (what every member sees).
    pub public: Option<f64>,
    pub previous_all: Option<f64>,
    pub previous_public: Option<f64>,
    /// `previous_period` (the same span one period earlier) or `previous_refresh`.
    pub compared_to: &'static str,
    /// The private projects it counts (every private one when its filters name none).
    pub private: Vec<String>,
    /// Whether its filters name one of them.
    pub names_private: bool,
    /// The projects its filters name (none: every project); `None` for a count of staff,
    /// which counts no project.
    pub named: Option<Vec<String>>,
    pub counts_time: bool,
}

/// One metric as last computed.
#[derive(Debug, Clone)]
pub struct Cached {
    key: u64,
    at: std::time::Instant,
    pub computed_at: String,
    /// The values, or why the query does not resolve.
    pub outcome: Result<Values, String>,
}

/// The metrics computed here, per workspace and metric id, and when each workspace's metrics
/// were last read.
#[derive(Default)]
pub struct MetricCache(
    Mutex<HashMap<String, HashMap<String, Cached>>>,
    Mutex<HashMap<String, std::time::Instant>>,
);

/// A workspace whose metrics nobody read for this long is not refreshed (its facts would be
/// loaded for nobody, pushing out those of workspaces in use); reading computes it again.
const IDLE: std::time::Duration = std::time::Duration::from_secs(30 * 60);

impl MetricCache {
    /// Notes that somebody reads `ws`'s metrics; whether anything of it was computed before.
    fn touch(&self, ws: &str) -> bool {
        let mut r = self.1.lock().unwrap_or_else(|e| e.into_inner());
        r.insert(ws.to_string(), std::time::Instant::now());
        let m = self.0.lock().unwrap_or_else(|e| e.into_inner());
        m.get(ws).is_some_and(|w| !w.is_empty())
    }

    /// The workspaces of `live` whose metrics were read lately; the others' values and reads
    /// are forgotten.
    fn in_use(&self, live: &[String]) -> Vec<String> {
        let mut r = self.1.lock().unwrap_or_else(|e| e.into_inner());
        r.retain(|ws, at| live.contains(ws) && at.elapsed() < IDLE);
        let mut m = self.0.lock().unwrap_or_else(|e| e.into_inner());
        m.retain(|ws, _| r.contains_key(ws));
        let mut out: Vec<String> = r.keys().cloned().collect();
        out.sort();
        out
    }

    fn get(&self, ws: &str, id: &str) -> Option<Cached> {
        let m = self.0.lock().unwrap_or_else(|e| e.into_inner());
        m.get(ws).and_then(|w| w.get(id)).cloned()
    }

    fn put(&self, ws: &str, id: &str, c: Cached) {
        let mut m = self.0.lock().unwrap_or_else(|e| e.into_inner());
        m.entry(ws.to_string()).or_default().insert(id.to_string(), c);
    }

    /// Whether `d` needs computing: never computed, its query changed, or its refresh rate
    /// passed.
    fn due(&self, ws: &str, d: &Def) -> bool {
        match self.get(ws, &d.id) {
            None => true,
            Some(c) => {
                c.key != d.key() || c.at.elapsed().as_secs() >= d.refresh_seconds.max(MIN_REFRESH_SECONDS) as u64
            }
        }
    }

    /// Forgets metrics that are gone (deleted, or their workspace).
    fn retain(&self, ws: &str, live: &[Def]) {
        let mut m = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(w) = m.get_mut(ws) {
            w.retain(|id, _| live.iter().any(|d| d.id == *id));
        }
    }
}

/// The ids a filter value names, written as ids are stored (lowercase, hyphenated); `none`
/// and what is no id are left out (the query's checks refused those already).
fn canonical_ids(raw: &str) -> Vec<String> {
    raw.split(',')
        .map(str::trim)
        .filter_map(|p| uuid::Uuid::parse_str(p).ok())
        .map(|u| u.to_string())
        .collect()
}

/// The ids a work-items query's filters name that are no longer live, as a sentence.
fn unresolved(c: &rusqlite::Connection, ws: &str, q: &Query) -> Result<Option<String>, AppError> {
    let kinds: &[(&str, &str, &str)] = match q {
        Query::WorkItems { .. } => &[
            ("project", "projects", "project"),
            ("state", "states", "state"),
            ("label", "labels", "label"),
            ("cycle", "cycles", "cycle"),
            ("module", "modules", "module"),
        ],
        Query::Staff { .. } => &[("department", "departments", "department")],
    };
    let mut gone = Vec::new();
    for (key, table, what) in kinds {
        let named = match q {
            Query::WorkItems { filters, .. } => {
                // `none` stands for "in no cycle" and the like, not an id.
                canonical_ids(filters.get(*key).and_then(Value::as_str).unwrap_or(""))
            }
            Query::Staff { departments, .. } => departments.clone(),
        };
        let missing = store::missing(c, ws, table, &named)?;
        if !missing.is_empty() {
            gone.push(format!(
                "{} {what}{} it names {} gone",
                missing.len(),
                if missing.len() == 1 { "" } else { "s" },
                if missing.len() == 1 { "is" } else { "are" }
            ));
        }
    }
    Ok((!gone.is_empty()).then(|| gone.join("; ")))
}

/// Computes `d` as of `today` in a reader job.
fn compute(app: &App, c: &rusqlite::Connection, ws: &str, d: &Def, today: NaiveDate) -> Result<Values, String> {
    let q = parse_query(&d.query).map_err(|e| describe(&e))?;
    if let Some(gone) = unresolved(c, ws, &q).map_err(|e| {
        tracing::warn!(error = %e, "metrics: reading what a query names failed");
        "it could not be computed (see the server's log)".to_string()
    })? {
        return Err(gone);
    }
    let mut v = Values {
        counts_time: q.counts_time(),
        compared_to: "previous_refresh",
        ..Default::default()
    };
    match &q {
        Query::Staff { statuses, departments } => {
            let n = store::staff_count(c, ws, statuses, departments).map_err(unreadable)? as f64;
            v.all = Some(n);
            v.public = Some(n);
        }
        Query::WorkItems {
            measure,
            per,
            filters,
            period,
        } => {
            let private = crate::analytics::private_projects(c, ws).map_err(unreadable)?;
            let named = canonical_ids(filters.get("project").and_then(Value::as_str).unwrap_or(""));
            v.private = if named.is_empty() {
                private
            } else {
                private.into_iter().filter(|p| named.contains(p)).collect()
            };
            v.names_private = !named.is_empty() && !v.private.is_empty();
            v.named = Some(named);
            let run = |range: Option<(NaiveDate, NaiveDate)>, public_only: bool| -> Result<Option<f64>, String> {
                let mut f = filters.clone();
                if let (Some((from, to)), Some((_, field))) = (range, period) {
                    f.insert(format!("{field}_from"), from.to_string().into());
                    f.insert(format!("{field}_to"), to.to_string().into());
                }
                let params = super::filter_params(&f).map_err(|e| describe(&e))?;
                let total = |m: Measure| {
                    crate::analytics::workspace_total(app, c, ws, m, &params, public_only).map_err(|e| describe(&e))
                };
                let n = total(*measure)? as f64;
                Ok(match per {
                    None => Some(n),
                    Some(p) => {
                        let of = total(*p)? as f64;
                        (of != 0.0).then(|| (n * 100.0 / of * 10.0).round() / 10.0)
                    }
                })
            };
            let now = period.map(|(p, _)| p.range(today));
            v.all = run(now, false)?;
            v.public = if v.private.is_empty() { v.all } else { run(now, true)? };
            if let (Some((p, _)), Some(now)) = (period, now) {
                let before = Some(p.previous(now));
                v.compared_to = "previous_period";
                v.previous_all = run(before, false)?;
                v.previous_public = if v.private.is_empty() {
                    v.previous_all
                } else {
                    run(before, true)?
                };
            }
        }
    }
    Ok(v)
}

/// A database error while computing: logged, and said without its text.
fn unreadable(e: rusqlite::Error) -> String {
    tracing::warn!(error = %e, "metrics: a query failed");
    "it could not be computed (see the server's log)".to_string()
}

/// An error as a metric's status message: a field's problem with its field.
pub(super) fn describe(e: &AppError) -> String {
    match e {
        AppError::Validation(fields) => fields
            .iter()
            .map(|(k, v)| format!("{k}: {v}"))
            .collect::<Vec<_>>()
            .join("; "),
        other => other.to_string(),
    }
}

/// Computes the metrics of `ws` that are due (all of `only` when given) and keeps them.
/// Runs in one reader job, so the workspace's facts are read once for all of them.
pub fn refresh_blocking(app: &App, c: &rusqlite::Connection, ws: &str, only: Option<&str>) -> Result<usize, AppError> {
    let all = defs(c, ws)?;
    app.metrics.retain(ws, &all);
    let today = crate::timetrack::today();
    let mut n = 0;
    for d in all.iter().filter(|d| d.is_enabled || only.is_some()) {
        let wanted = match only {
            Some(id) => d.id == id,
            None => app.metrics.due(ws, d),
        };
        if !wanted {
            continue;
        }
        let last = app.metrics.get(ws, &d.id).filter(|c| c.key == d.key());
        let mut outcome = compute(app, c, ws, d, today);
        // Without a period, the change is the one since the last computation.
        if let (Ok(v), Some(Ok(before))) = (&mut outcome, last.as_ref().map(|c| &c.outcome)) {
            if v.compared_to == "previous_refresh" {
                v.previous_all = before.all;
                v.previous_public = before.public;
            }
        }
        app.metrics.put(
            ws,
            &d.id,
            Cached {
                key: d.key(),
                at: std::time::Instant::now(),
                computed_at: now_rfc3339(),
                outcome,
            },
        );
        n += 1;
    }
    Ok(n)
}

/// How often the refresher looks for due metrics.
const TICK: std::time::Duration = std::time::Duration::from_secs(10);

/// Computes due metrics in the background, off the request path, until the task is dropped.
pub fn spawn_refresher(app: App) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let a = app.clone();
            let list = a.readers.read(|c| Ok(store::workspaces(c)?)).await;
            let Ok(list) = list else { continue };
            for ws in app.metrics.in_use(&list) {
                let a2 = app.clone();
                let r = app.readers.read(move |c| refresh_blocking(&a2, c, &ws, None)).await;
                if let Err(e) = r {
                    tracing::warn!(error = %e, "metrics: a refresh failed");
                }
            }
        }
    })
}

/// A metric as its viewer sees it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MetricView {
    pub id: String,
    pub name: String,
    pub description: String,
    /// `operational`, `productivity`, `time`, `quality` or `people`.
    pub category: String,
    /// Keel's own (read-only), or the workspace's.
    pub is_system: bool,
    /// What it counts (`parse_query`'s shape).
    #[schema(value_type = Object)]
    pub query: Value,
    pub unit: String,
    /// `number`, `percentage` or `duration` (minutes).
    pub format: String,
    pub target_value: Option<f64>,
    pub warning_threshold: Option<f64>,
    pub critical_threshold: Option<f64>,
    /// `above`: higher is worse; `below`: lower is worse.
    pub direction: &'static str,
    pub refresh_seconds: i64,
    pub is_enabled: bool,
    pub color: String,
    pub icon: String,
    pub sort_order: i64,
    /// The caller may change it (an admin, and not a system metric).
    pub can_edit: bool,
    /// The number, as the caller may see it; none when there is nothing to divide by, or
    /// when it is not computed, does not resolve or is restricted.
    pub value: Option<f64>,
    pub previous_value: Option<f64>,
    /// `value - previous_value`.
    pub change: Option<f64>,
    /// What `previous_value` is: `previous_period` or `previous_refresh`.
    pub compared_to: Option<&'static str>,
    /// `normal`, `warning`, `critical` (by its thresholds); `no_data` (nothing to divide
    /// by); `pending` (not computed yet); `unresolved` (its query names what is gone);
    /// `restricted` (it counts what the caller may not read); `disabled`.
    pub status: &'static str,
    pub message: Option<String>,
    /// What the value counts: `all_projects`, or `public_projects` (the caller is not in
    /// some private project it counts).
    pub scope: Option<&'static str>,
    pub computed_at: Option<String>,
    /// It has thresholds the workspace's plan does not allow: no status is drawn from them.
    pub thresholds_locked: bool,
    pub created_at: Option<String>,
    pub updated_at: Option<String>,
}

/// Who reads, with what they may see.
struct Viewer {
    role: WsRole,
    visible: std::collections::HashSet<String>,
    /// The workspace's private projects now (one may have turned private since a value).
    private: Vec<String>,
    thresholds_allowed: bool,
}

impl Viewer {
    fn read(c: &rusqlite::Connection, w: &WsCtx) -> Result<Self, AppError> {
        let visible = crate::analytics::visible_projects(c, &w.ws.id, &w.actor.user_id, w.role)?
            .into_iter()
            .collect();
        let thresholds_allowed = match crate::plans::require(c, &w.ws.id, "metric_thresholds") {
            Ok(()) => true,
            Err(AppError::Status {
                code: "plan_required", ..
            }) => false,
            Err(e) => return Err(e),
        };
        Ok(Self {
            role: w.role,
            visible,
            private: crate::analytics::private_projects(c, &w.ws.id)?,
            thresholds_allowed,
        })
    }
}

fn view(d: Def, cached: Option<Cached>, who: &Viewer) -> MetricView {
    let t = d.thresholds;
    let thresholds_locked = t.any() && !who.thresholds_allowed;
    let mut v = MetricView {
        query: serde_json::from_str(&d.query).unwrap_or(Value::Null),
        can_edit: !d.system && who.role >= WsRole::Admin,
        id: d.id,
        name: d.name,
        description: d.description,
        category: d.category,
        is_system: d.system,
        unit: d.unit,
        format: d.format,
        target_value: t.target,
        warning_threshold: t.warning,
        critical_threshold: t.critical,
        direction: if t.above { "above" } else { "below" },
        refresh_seconds: d.refresh_seconds,
        is_enabled: d.is_enabled,
        color: d.color,
        icon: d.icon,
        sort_order: d.sort_order,
        value: None,
        previous_value: None,
        change: None,
        compared_to: None,
        status: "pending",
        message: None,
        scope: None,
        computed_at: None,
        thresholds_locked,
        created_at: d.created_at,
        updated_at: d.updated_at,
    };
    if !d.is_enabled {
        v.status = "disabled";
        return v;
    }
    let Some(cached) = cached else {
        v.message = Some("not computed yet".into());
        return v;
    };
    v.computed_at = Some(cached.computed_at);
    let values = match cached.outcome {
        Ok(values) => values,
        Err(why) => {
            v.status = "unresolved";
            v.message = Some(why);
            return v;
        }
    };
    if values.counts_time && who.role < WsRole::Admin {
        v.status = "restricted";
        v.query = Value::Null;
        v.message = Some("it counts everybody's logged time, which only admins see".into());
        return v;
    }
    // A project the viewer cannot see that is private now but was not when the value was
    // computed: the value may count it; nothing is shown until it is computed again.
    // (A count of staff counts no project.)
    let turned = match &values.named {
        None => 0,
        Some(named) => who
            .private
            .iter()
            .filter(|p| {
                (named.is_empty() || named.contains(p)) && !who.visible.contains(*p) && !values.private.contains(p)
            })
            .count(),
    };
    if turned > 0 && !values.counts_time {
        v.status = "pending";
        v.message = Some("a project it counts turned private: it is computed again at its next refresh".into());
        v.computed_at = None;
        return v;
    }
    let hidden = values.private.iter().filter(|p| !who.visible.contains(*p)).count();
    let (value, previous) = if hidden == 0 {
        v.scope = Some("all_projects");
        (values.all, values.previous_all)
    } else if values.names_private {
        v.status = "restricted";
        // What it names is not for this viewer either.
        v.query = Value::Null;
        v.message = Some(format!(
            "it counts {hidden} project{} you cannot see",
            if hidden == 1 { "" } else { "s" }
        ));
        return v;
    } else {
        v.scope = Some("public_projects");
        (values.public, values.previous_public)
    };
    v.value = value;
    v.previous_value = previous;
    v.compared_to = previous.map(|_| values.compared_to);
    v.change = value.zip(previous).map(|(a, b)| a - b);
    v.status = match value {
        None => "no_data",
        Some(n) if who.thresholds_allowed => t.status(n),
        Some(_) => "normal",
    };
    v
}

/// What a metric is written with; `None` leaves a field as it is, `Some(None)` clears it.
#[derive(Debug, Default, Clone)]
pub struct MetricInput {
    pub name: Option<String>,
    pub description: Option<String>,
    pub category: Option<String>,
    pub query: Option<Map<String, Value>>,
    pub unit: Option<String>,
    pub format: Option<String>,
    pub target_value: Option<Option<f64>>,
    pub warning_threshold: Option<Option<f64>>,
    pub critical_threshold: Option<Option<f64>>,
    pub direction: Option<String>,
    pub refresh_seconds: Option<i64>,
    pub is_enabled: Option<bool>,
    pub color: Option<String>,
    pub icon: Option<String>,
    pub sort_order: Option<i64>,
}

fn number_text(n: Option<f64>) -> Option<String> {
    n.map(|n| n.to_string())
}

impl MetricInput {
    /// The fields this input sets, checked as the record rule will (so the API answers a
    /// field's problem before anything is written).
    fn fields(&self, creating: bool) -> Result<Vec<Set>, AppError> {
        use dashboard_metrics as m;
        let mut f: Vec<Set> = Vec::new();
        if let Some(n) = &self.name {
            let n = crate::workspaces::parse_name(n, 100).map_err(|e| AppError::field("name", e))?;
            f.push(m::name.to(n));
        } else if creating {
            return Err(AppError::field("name", "is required"));
        }
        if let Some(q) = &self.query {
            let text = Value::Object(q.clone()).to_string();
            parse_query(&text)?;
            f.push(m::query.to(text));
        } else if creating {
            return Err(AppError::field("query", "is required"));
        }
        let text =
            |field: crate::docs::Field<crate::docs::record::col::Text>, v: &Option<String>, default: &str| match v {
                Some(s) => Some(field.to(s.trim())),
                None if creating => Some(field.to(default)),
                None => None,
            };
        f.extend(text(m::description, &self.description, ""));
        f.extend(text(m::category, &self.category, "operational"));
        f.extend(text(m::unit, &self.unit, ""));
        f.extend(text(m::format, &self.format, "number"));
        f.extend(text(m::direction, &self.direction, "above"));
        f.extend(text(m::color, &self.color, "blue"));
        f.extend(text(m::icon, &self.icon, ""));
        for (field, v) in [
            (m::target_value, self.target_value),
            (m::warning_threshold, self.warning_threshold),
            (m::critical_threshold, self.critical_threshold),
        ] {
            match v {
                Some(n) => {
                    if n.is_some_and(|n| !n.is_finite() || n.abs() > MAX_NUMBER || n.to_string().len() > 40) {
                        return Err(AppError::field(
                            field.name,
                            format!(
                                "must be a number from -{MAX_NUMBER:e} to {MAX_NUMBER:e}, of at most 40 characters"
                            ),
                        ));
                    }
                    f.push(field.to(number_text(n)));
                }
                None if creating => f.push(field.null()),
                None => {}
            }
        }
        match self.refresh_seconds {
            Some(r) if !(MIN_REFRESH_SECONDS..=MAX_REFRESH_SECONDS).contains(&r) => {
                return Err(AppError::field(
                    "refresh_seconds",
                    format!("must be {MIN_REFRESH_SECONDS} to {MAX_REFRESH_SECONDS}"),
                ));
            }
            Some(r) => f.push(m::refresh_seconds.to(r)),
            None if creating => f.push(m::refresh_seconds.to(300)),
            None => {}
        }
        match self.is_enabled {
            Some(b) => f.push(m::is_enabled.to(b)),
            None if creating => f.push(m::is_enabled.to(true)),
            None => {}
        }
        match self.sort_order {
            Some(n) => f.push(m::sort_order.to(n)),
            None if creating => f.push(m::sort_order.to(0)),
            None => {}
        }
        Ok(f)
    }
}

pub struct Metrics<'a>(pub &'a App);

impl Metrics<'_> {
    /// Every metric of the workspace as the caller sees it: the system ones first. The first
    /// read of a workspace nobody read lately computes its metrics before it answers.
    pub async fn list(&self, w: &WsCtx) -> Result<Vec<MetricView>, AppError> {
        let (app, w) = (self.0.clone(), w.clone());
        self.0
            .readers
            .read(move |c| {
                if !app.metrics.touch(&w.ws.id) {
                    refresh_blocking(&app, c, &w.ws.id, None)?;
                }
                let who = Viewer::read(c, &w)?;
                Ok(defs(c, &w.ws.id)?
                    .into_iter()
                    .map(|d| {
                        let cached = app.metrics.get(&w.ws.id, &d.id).filter(|c| c.key == d.key());
                        view(d, cached, &who)
                    })
                    .collect())
            })
            .await
    }

    pub async fn get(&self, w: &WsCtx, id: &str) -> Result<MetricView, AppError> {
        let (app, w, id) = (self.0.clone(), w.clone(), id.to_string());
        self.0
            .readers
            .read(move |c| {
                if !app.metrics.touch(&w.ws.id) {
                    refresh_blocking(&app, c, &w.ws.id, None)?;
                }
                let who = Viewer::read(c, &w)?;
                let d = def(c, &w.ws.id, &id)?;
                // A value of another query (changed since, by a device) is not this one's.
                let cached = app.metrics.get(&w.ws.id, &d.id).filter(|c| c.key == d.key());
                Ok(view(d, cached, &who))
            })
            .await
    }

    /// Computes one metric now (an admin's "refresh"), then answers it.
    pub async fn refresh(&self, w: &WsCtx, id: &str) -> Result<MetricView, AppError> {
        if w.role < WsRole::Admin {
            return Err(AppError::forbidden("refreshing a metric needs a workspace admin"));
        }
        let (app, ws, id2) = (self.0.clone(), w.ws.id.clone(), id.to_string());
        self.0
            .readers
            .read(move |c| {
                def(c, &ws, &id2)?;
                // The first read of a workspace in a while computes all that are due.
                if !app.metrics.touch(&ws) {
                    refresh_blocking(&app, c, &ws, None)?;
                }
                refresh_blocking(&app, c, &ws, Some(&id2))
            })
            .await?;
        self.get(w, id).await
    }

    pub async fn create(&self, w: &WsCtx, input: MetricInput) -> Result<MetricView, AppError> {
        let mut f = input.fields(true)?;
        let who = Who::user(&w.actor.user_id);
        let (ws, uid) = (w.ws.id.clone(), w.actor.user_id.clone());
        let id = crate::new_id();
        let id2 = id.clone();
        self.0
            .writer
            .write(move |ctx| {
                let now = now_rfc3339();
                f.push(dashboard_metrics::workspace_id.to(ws.as_str()));
                f.extend(dashboard_metrics::SPEC.base(&now, Some(&uid)));
                ctx.edit(&who, &DocRef::dashboards(&ws, None), |e| {
                    e.create(dashboard_metrics::SPEC, &id2, &f)
                })
            })
            .await?;
        self.refresh(w, &id).await
    }

    async fn own(&self, w: &WsCtx, id: &str) -> Result<(), AppError> {
        let (ws, id) = (w.ws.id.clone(), id.to_string());
        self.0
            .readers
            .read(move |c| {
                if SYSTEM.iter().any(|s| s.0 == id) {
                    return Err(AppError::conflict(
                        "system_metric",
                        "a system metric is Keel's own: make a metric of your own from its query",
                    ));
                }
                store::metric_row(c, &ws, &id)?.ok_or(AppError::not_found("metric"))?;
                Ok(())
            })
            .await
    }

    pub async fn update(&self, w: &WsCtx, id: &str, input: MetricInput) -> Result<MetricView, AppError> {
        self.own(w, id).await?;
        let mut f = input.fields(false)?;
        let who = Who::user(&w.actor.user_id);
        let (ws, id2) = (w.ws.id.clone(), id.to_string());
        self.0
            .writer
            .write(move |ctx| {
                f.push(dashboard_metrics::updated_at.to(now_rfc3339()));
                ctx.edit(&who, &DocRef::dashboards(&ws, None), |e| {
                    e.set(dashboard_metrics::SPEC, &id2, &f)
                })
            })
            .await?;
        self.refresh(w, id).await
    }

    pub async fn delete(&self, w: &WsCtx, id: &str) -> Result<(), AppError> {
        self.own(w, id).await?;
        let who = Who::user(&w.actor.user_id);
        let (ws, id2) = (w.ws.id.clone(), id.to_string());
        self.0
            .writer
            .write(move |ctx| {
                let now = now_rfc3339();
                ctx.edit(&who, &DocRef::dashboards(&ws, None), |e| {
                    e.set(
                        dashboard_metrics::SPEC,
                        &id2,
                        &[
                            dashboard_metrics::deleted_at.to(now.as_str()),
                            dashboard_metrics::updated_at.to(now.as_str()),
                        ],
                    )
                })
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap_or_default()
    }

    #[test]
    fn periods_run_up_to_today_and_compare_with_the_same_span_before() {
        // Thursday 3 December 2026.
        let today = d("2026-12-03");
        let cases = [
            (
                Period::Today,
                ("2026-12-03", "2026-12-03"),
                ("2026-12-02", "2026-12-02"),
            ),
            (
                Period::ThisWeek,
                ("2026-11-30", "2026-12-03"),
                ("2026-11-23", "2026-11-26"),
            ),
            (
                Period::ThisMonth,
                ("2026-12-01", "2026-12-03"),
                ("2026-11-01", "2026-11-03"),
            ),
            (
                Period::ThisQuarter,
                ("2026-10-01", "2026-12-03"),
                ("2026-07-01", "2026-09-03"),
            ),
            (
                Period::ThisYear,
                ("2026-01-01", "2026-12-03"),
                ("2025-01-01", "2025-12-03"),
            ),
            (
                Period::Last7Days,
                ("2026-11-27", "2026-12-03"),
                ("2026-11-20", "2026-11-26"),
            ),
            (
                Period::Last30Days,
                ("2026-11-04", "2026-12-03"),
                ("2026-10-05", "2026-11-03"),
            ),
            (
                Period::Last90Days,
                ("2026-09-05", "2026-12-03"),
                ("2026-06-07", "2026-09-04"),
            ),
        ];
        for (p, now, before) in cases {
            let r = p.range(today);
            assert_eq!(r, (d(now.0), d(now.1)), "{p:?}");
            assert_eq!(p.previous(r), (d(before.0), d(before.1)), "{p:?} before");
        }
        // The 31st of a month compares with the last day of a shorter one.
        let r = Period::ThisMonth.range(d("2026-03-31"));
        assert_eq!(Period::ThisMonth.previous(r), (d("2026-02-01"), d("2026-02-28")));
    }

    #[test]
    fn statuses_follow_the_thresholds_on_the_bad_side() {
        let above = Thresholds::read(None, Some("10"), Some("20"), Some("above")).unwrap();
        assert_eq!(
            [0.0, 9.9, 10.0, 19.0, 20.0, 99.0].map(|v| above.status(v)),
            ["normal", "normal", "warning", "warning", "critical", "critical"]
        );
        let below = Thresholds::read(Some("95"), Some("80"), Some("50.5"), Some("below")).unwrap();
        assert_eq!(
            [100.0, 80.1, 80.0, 51.0, 50.5, 0.0].map(|v| below.status(v)),
            ["normal", "normal", "warning", "warning", "critical", "critical"]
        );
        let none = Thresholds::read(None, None, None, Some("above")).unwrap();
        assert!(!none.any());
        assert_eq!(none.status(1e9), "normal");
        // Critical on the good side of warning, or not a number: refused.
        assert!(Thresholds::read(None, Some("20"), Some("10"), Some("above")).is_err());
        assert!(Thresholds::read(None, Some("10"), Some("20"), Some("below")).is_err());
        for bad in ["NaN", "inf", "1e13", "ten", ""] {
            assert!(Thresholds::read(None, Some(bad), None, None).is_err(), "{bad}");
        }
    }

    #[test]
    fn queries_are_structured_and_checked_as_the_chart_builder_checks() {
        let ok = [
            r#"{"measure":"work_item_count"}"#,
            r#"{"measure":"completed_count","per":"work_item_count","filters":{"priority":"urgent"}}"#,
            r#"{"measure":"logged_minutes","period":"this_week","period_field":"logged"}"#,
            r#"{"source":"staff","status":"probation,active"}"#,
        ];
        for q in ok {
            parse_query(q).unwrap_or_else(|e| panic!("{q}: {e:?}"));
        }
        for (q, says) in [
            ("[]", "JSON object"),
            ("{}", "measure is required"),
            (r#"{"measure":"revenue"}"#, "work_item_count"),
            (r#"{"measure":"work_item_count","sql":"SELECT 1"}"#, "not part of"),
            (
                r#"{"measure":"work_item_count","filters":{"priority":"sometimes"}}"#,
                "priority",
            ),
            (r#"{"measure":"work_item_count","filters":{"view":"x"}}"#, "saved view"),
            (r#"{"measure":"work_item_count","period":"this_week"}"#, "go together"),
            (
                r#"{"measure":"work_item_count","period":"fortnight","period_field":"created"}"#,
                "this_week",
            ),
            (
                r#"{"measure":"work_item_count","period":"today","period_field":"created","filters":{"created_from":"2026-01-01"}}"#,
                "leave them out",
            ),
            (r#"{"source":"staff","status":"retired"}"#, "probation"),
            (
                r#"{"measure":"work_item_count","period":"this_week","period_field":"logged"}"#,
                "goes with logged_minutes",
            ),
            (r#"{"source":"staff","department":"nope"}"#, "not an id"),
            (r#"{"source":"invoices"}"#, "work_items, staff"),
        ] {
            let e = parse_query(q).err().unwrap_or_else(|| panic!("{q} was taken"));
            assert!(describe(&e).contains(says), "{q}: {}", describe(&e));
        }
        for (_, _, category, format, _, q) in SYSTEM {
            parse_query(q).unwrap_or_else(|e| panic!("{q}: {e:?}"));
            assert!(CATEGORIES.contains(category) && FORMATS.contains(format));
        }
    }
}
