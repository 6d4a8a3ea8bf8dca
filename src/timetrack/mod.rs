//! Time tracking (seed 003): work logs on issues, timers that become work logs, summaries
//! per issue, project and workspace, and CSV export.
//!
//! A work log lives in the document of its (project, person, quarter of creation) (DESIGN
//! §4), as an atomic record; a timer lives in its person's own document of the workspace.
//! Workspace summaries read rollup tables (`worklog_project_day`, `worklog_user_day`) that
//! triggers on the projection keep current, so they never scan every log.

pub mod records;
pub(crate) mod routes;
pub(crate) mod store;

use std::collections::HashMap;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::docs::{DocRef, Set, Val, Who};
use crate::error::{AppError, Checks};
use crate::http::{Page, PageParams};
use crate::policy::{ProjRole, WsRole};
use crate::time::now_rfc3339;
use crate::timetrack::records::{timers, worklogs};
use crate::work::ProjCtx;
use crate::workspaces::WsCtx;
use crate::App;

/// Longest single work log: a day.
pub const MAX_MINUTES: i64 = 1440;
/// Longest date range of a summary or export.
pub const MAX_RANGE_DAYS: i64 = 3660;
/// Most rows one CSV export answers; narrow the range for more.
pub const MAX_EXPORT_ROWS: i64 = 200_000;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WorklogView {
    pub id: String,
    pub workspace_id: String,
    pub project_id: String,
    pub issue_id: String,
    /// `IDENT-123` of the issue.
    pub issue_key: String,
    pub issue_name: String,
    pub logged_by: String,
    pub logged_by_name: String,
    /// 1 to 1440.
    pub duration_minutes: i64,
    pub description: String,
    /// The day the work was done, `YYYY-MM-DD`.
    pub logged_at: String,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TimerView {
    pub id: String,
    pub workspace_id: String,
    pub project_id: String,
    pub issue_id: String,
    pub issue_key: String,
    pub issue_name: String,
    pub description: String,
    pub started_at: String,
    /// Seconds since `started_at`, when this answer was made.
    pub elapsed_seconds: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TimerState {
    /// The running timer, or null.
    pub timer: Option<TimerView>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MemberMinutes {
    pub user_id: String,
    pub display_name: String,
    pub minutes: i64,
    pub entries: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct IssueMinutes {
    pub issue_id: String,
    pub key: String,
    pub name: String,
    pub estimate_time: Option<i64>,
    pub minutes: i64,
    pub entries: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProjectMinutes {
    pub project_id: String,
    pub identifier: String,
    pub name: String,
    pub minutes: i64,
    pub entries: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PeriodMinutes {
    /// The day, or the Monday of the week, `YYYY-MM-DD`.
    pub period: String,
    pub minutes: i64,
    pub entries: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Interval {
    #[default]
    Day,
    Week,
}

/// The order of a summary's lists (`sort`): most time first unless asked otherwise; ties
/// go by id, so pages never overlap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
pub enum SummarySort {
    #[default]
    #[serde(rename = "-minutes")]
    MinutesDesc,
    #[serde(rename = "minutes")]
    Minutes,
    #[serde(rename = "-entries")]
    EntriesDesc,
    #[serde(rename = "entries")]
    Entries,
    /// By name: a person's display name, an issue's or a project's name.
    #[serde(rename = "name")]
    Name,
    #[serde(rename = "-name")]
    NameDesc,
}

impl SummarySort {
    fn by_name(self) -> bool {
        matches!(self, SummarySort::Name | SummarySort::NameDesc)
    }
}

/// One row of a summary's list, as its sort sees it: minutes, entries, name, id.
trait Ranked {
    fn rank(&self) -> (i64, i64, &str, &str);
}

impl Ranked for MemberMinutes {
    fn rank(&self) -> (i64, i64, &str, &str) {
        (self.minutes, self.entries, &self.display_name, &self.user_id)
    }
}

impl Ranked for IssueMinutes {
    fn rank(&self) -> (i64, i64, &str, &str) {
        (self.minutes, self.entries, &self.name, &self.issue_id)
    }
}

impl Ranked for ProjectMinutes {
    fn rank(&self) -> (i64, i64, &str, &str) {
        (self.minutes, self.entries, &self.name, &self.project_id)
    }
}

fn sort_rows<T: Ranked>(v: &mut [T], sort: SummarySort) {
    v.sort_by(|a, b| {
        let ((am, ae, an, ai), (bm, be, bn, bi)) = (a.rank(), b.rank());
        let o = match sort {
            SummarySort::MinutesDesc => bm.cmp(&am),
            SummarySort::Minutes => am.cmp(&bm),
            SummarySort::EntriesDesc => be.cmp(&ae),
            SummarySort::Entries => ae.cmp(&be),
            SummarySort::Name => an.to_lowercase().cmp(&bn.to_lowercase()),
            SummarySort::NameDesc => bn.to_lowercase().cmp(&an.to_lowercase()),
        };
        o.then_with(|| ai.cmp(bi))
    });
}

/// The page `p` of a whole list, sorted.
fn page_of<T: Ranked>(mut v: Vec<T>, sort: SummarySort, p: PageParams) -> Page<T> {
    sort_rows(&mut v, sort);
    let total = v.len() as i64;
    let (limit, offset) = p.limit_offset();
    let items: Vec<T> = v.into_iter().skip(offset as usize).take(limit as usize).collect();
    Page::new(items, total, p)
}

/// How a summary's long lists are cut: one sort and one page size for all of them, and a
/// page number per list — `page` for the issues (project) or projects (workspace),
/// `member_page` for the people; each list says its own total and number of pages.
#[derive(Debug, Clone, Copy)]
pub struct ListCut {
    pub sort: SummarySort,
    pub page: PageParams,
    pub member_page: PageParams,
}

/// Logged time against the estimate of one issue.
#[derive(Debug, Serialize, ToSchema)]
pub struct IssueTimeSummary {
    pub issue_id: String,
    pub estimate_time: Option<i64>,
    pub logged_minutes: i64,
    /// Estimate minus logged, never below 0; null without an estimate.
    pub remaining_minutes: Option<i64>,
    /// Logged beyond the estimate, 0 when within; null without an estimate.
    pub overrun_minutes: Option<i64>,
    pub by_member: Vec<MemberMinutes>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProjectTimeSummary {
    pub project_id: String,
    pub from: String,
    pub to: String,
    pub interval: Interval,
    /// Of every log in the range, whatever page the lists show.
    pub total_minutes: i64,
    pub entries: i64,
    /// A page (`member_page`) of the people who logged time, sorted by `sort`.
    pub by_member: Page<MemberMinutes>,
    /// A page (`page`) of the issues time was logged on, sorted by `sort`.
    pub by_issue: Page<IssueMinutes>,
    pub series: Vec<PeriodMinutes>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WorkspaceTimeSummary {
    pub from: String,
    pub to: String,
    pub interval: Interval,
    /// Set when the summary covers one person (always so for non-admins: their own time).
    pub user_id: Option<String>,
    pub project_id: Option<String>,
    /// Of every log in the range, whatever page the lists show.
    pub total_minutes: i64,
    pub entries: i64,
    /// A page (`page`) of the projects, sorted by `sort`.
    pub by_project: Page<ProjectMinutes>,
    /// A page (`member_page`) of the people, sorted by `sort`.
    pub by_member: Page<MemberMinutes>,
    pub series: Vec<PeriodMinutes>,
    /// Time by department, each person's minutes counted in the department they were in on
    /// the day they worked (transfers included), in tree order, departments without time
    /// left out; the last entry (`department_id` null) is time of people in no department
    /// (or in one deleted since).
    pub by_department: Vec<DepartmentMinutes>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DepartmentMinutes {
    pub department_id: Option<String>,
    pub name: String,
    pub level: i64,
    pub parent_id: Option<String>,
    /// Logged while in this department itself.
    pub minutes: i64,
    /// Logged in this department and every department below it.
    pub subtree_minutes: i64,
}

fn day_before(day: &str) -> String {
    NaiveDate::parse_from_str(day, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.pred_opt())
        .map_or_else(|| day.to_string(), |d| d.format("%Y-%m-%d").to_string())
}

/// Time by department over a range, from each person's total (`members`) and, for people
/// moved within the range, their minutes before and after each move.
fn by_department(
    c: &rusqlite::Connection,
    ws: &str,
    r: &Range,
    project: Option<&str>,
    members: &[MemberMinutes],
    kept: &crate::org::TreeCache,
) -> Result<Vec<DepartmentMinutes>, AppError> {
    let who = crate::org::assignments(c, ws)?;
    let tree = crate::org::tree_order(c, ws, kept)?;
    let index: HashMap<&str, usize> = tree.iter().enumerate().map(|(i, d)| (d.id.as_str(), i)).collect();
    let mut own = vec![0i64; tree.len()];
    let mut none = 0i64;
    let mut add = |dept: Option<&str>, minutes: i64| match dept.and_then(|d| index.get(d)) {
        Some(&i) => own[i] += minutes,
        None => none += minutes,
    };
    for m in members {
        let Some(a) = who.get(&m.user_id) else {
            add(None, m.minutes);
            continue;
        };
        let moves: Vec<&(String, Option<String>)> = a
            .changes
            .iter()
            .filter(|(d, _)| d.as_str() > r.from.as_str() && d.as_str() <= r.to.as_str())
            .collect();
        if moves.is_empty() {
            add(a.on(&r.from), m.minutes);
            continue;
        }
        let (mut start, mut dept) = (r.from.clone(), a.on(&r.from).map(str::to_string));
        for (day, to) in moves {
            let n = store::minutes_of(c, ws, &m.user_id, project, &start, &day_before(day))?;
            add(dept.as_deref(), n);
            start = day.clone();
            dept = to.clone();
        }
        add(
            dept.as_deref(),
            store::minutes_of(c, ws, &m.user_id, project, &start, &r.to)?,
        );
    }
    let mut sub = own.clone();
    for i in (0..tree.len()).rev() {
        if let Some(&p) = tree[i].parent_id.as_deref().and_then(|p| index.get(p)) {
            sub[p] += sub[i];
        }
    }
    let mut out: Vec<DepartmentMinutes> = tree
        .iter()
        .enumerate()
        .filter(|(i, _)| sub[*i] > 0)
        .map(|(i, d)| DepartmentMinutes {
            department_id: Some(d.id.clone()),
            name: d.name.clone(),
            level: d.level,
            parent_id: d.parent_id.clone(),
            minutes: own[i],
            subtree_minutes: sub[i],
        })
        .collect();
    if none > 0 {
        out.push(DepartmentMinutes {
            department_id: None,
            name: "No department".into(),
            level: 1,
            parent_id: None,
            minutes: none,
            subtree_minutes: none,
        });
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------
// Parsing

pub fn today() -> NaiveDate {
    chrono::Utc::now().date_naive()
}

/// A `YYYY-MM-DD` day in the years 2000 to 2100: outside them no work was logged, and
/// date arithmetic on the range stays far from chrono's limits.
fn parse_day(raw: &str) -> Result<NaiveDate, String> {
    let d =
        NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d").map_err(|_| "must be a date like 2026-11-22".to_string())?;
    if (2000..=2100).contains(&d.year()) {
        Ok(d)
    } else {
        Err("must be in the years 2000 to 2100".into())
    }
}

pub fn parse_minutes(v: i64) -> Result<i64, String> {
    if (1..=MAX_MINUTES).contains(&v) {
        Ok(v)
    } else {
        Err(format!("must be between 1 and {MAX_MINUTES} minutes"))
    }
}

pub fn parse_logged_at(raw: &str) -> Result<String, String> {
    let d = parse_day(raw)?;
    // A day ahead is allowed: the server's day may still be yesterday in the user's zone.
    if d > today() + chrono::Days::new(1) {
        return Err("must not be in the future".into());
    }
    Ok(d.format("%Y-%m-%d").to_string())
}

pub fn parse_note(raw: &str) -> Result<String, String> {
    if raw.chars().count() > 2000 {
        Err("must be at most 2000 characters".into())
    } else {
        Ok(raw.trim().to_string())
    }
}

/// A validated work-log create or update.
#[derive(Debug, Default, Clone)]
pub struct WorklogInput {
    pub duration_minutes: Option<i64>,
    pub description: Option<String>,
    pub logged_at: Option<String>,
}

impl WorklogInput {
    pub fn parse(
        duration: Option<i64>,
        description: Option<&str>,
        logged_at: Option<&str>,
        creating: bool,
    ) -> Result<Self, AppError> {
        let mut c = Checks::new();
        if creating && duration.is_none() {
            c.add("duration_minutes", "is required");
        }
        let w = Self {
            duration_minutes: duration.and_then(|d| c.take("duration_minutes", parse_minutes(d))),
            description: description.and_then(|d| c.take("description", parse_note(d))),
            logged_at: logged_at.and_then(|d| c.take("logged_at", parse_logged_at(d))),
        };
        c.finish()?;
        Ok(w)
    }
}

/// Whose work logs an export covers.
pub enum ExportScope<'a> {
    /// One project, reached through its membership check.
    Project(&'a ProjCtx),
    /// The workspace, optionally narrowed to one project by id.
    Workspace(&'a WsCtx, Option<String>),
}

/// A validated date range (inclusive) with its interval.
#[derive(Debug, Clone)]
pub struct Range {
    pub from: String,
    pub to: String,
    pub interval: Interval,
}

impl Range {
    /// Defaults: the 30 days up to today.
    pub fn parse(from: Option<&str>, to: Option<&str>, interval: Option<Interval>) -> Result<Self, AppError> {
        let mut c = Checks::new();
        let to_d = match to {
            Some(t) => c.take("to", parse_day(t)),
            None => Some(today()),
        };
        let from_d = match from {
            Some(f) => c.take("from", parse_day(f)),
            None => to_d.map(|t| t - chrono::Days::new(29)),
        };
        if let (Some(f), Some(t)) = (from_d, to_d) {
            if f > t {
                c.add("to", "must not be before from");
            } else if (t - f).num_days() > MAX_RANGE_DAYS {
                c.add("from", format!("the range must be at most {MAX_RANGE_DAYS} days"));
            }
        }
        c.finish()?;
        match (from_d, to_d) {
            (Some(f), Some(t)) => Ok(Self {
                from: f.format("%Y-%m-%d").to_string(),
                to: t.format("%Y-%m-%d").to_string(),
                interval: interval.unwrap_or_default(),
            }),
            _ => Err(AppError::internal("range checks passed without values")),
        }
    }
}

/// The quarter a work log's document is named by: the quarter it was created in.
pub(crate) fn quarter_of(created_at: &str) -> String {
    let year = created_at.get(0..4).unwrap_or("0000");
    let month: u32 = created_at.get(5..7).and_then(|m| m.parse().ok()).unwrap_or(1);
    format!("{year}Q{}", (month.max(1) - 1) / 3 + 1)
}

fn worklog_doc(ws: &str, pid: &str, user: &str, created_at: &str) -> DocRef {
    DocRef::worklogs(ws, pid, user, &quarter_of(created_at))
}

/// The Monday of the week a `YYYY-MM-DD` day falls in.
pub fn week_of(day: &str) -> String {
    match NaiveDate::parse_from_str(day, "%Y-%m-%d") {
        Ok(d) => (d - chrono::Days::new(u64::from(d.weekday().num_days_from_monday())))
            .format("%Y-%m-%d")
            .to_string(),
        Err(_) => day.to_string(),
    }
}

type Totals = std::collections::HashMap<String, (i64, i64)>;

fn add(m: &mut Totals, k: &str, minutes: i64) {
    // Look up before inserting: most rows add to a key already there, with no allocation.
    if let Some(e) = m.get_mut(k) {
        e.0 += minutes;
        e.1 += 1;
    } else {
        m.insert(k.to_string(), (minutes, 1));
    }
}

/// By member, by issue (the 1,000 with most time) and by period, from one pass over logs.
#[allow(clippy::type_complexity)]
fn summarize(
    c: &rusqlite::Connection,
    pid: &str,
    r: &Range,
    user: Option<&str>,
    cut: ListCut,
) -> Result<(Vec<MemberMinutes>, Page<IssueMinutes>, Vec<PeriodMinutes>), AppError> {
    let (mut members, mut issues, mut periods) = (Totals::new(), Totals::new(), Totals::new());
    store::each_project_log(c, pid, r, user, |user, issue, day, minutes| {
        add(&mut members, user, minutes);
        add(&mut issues, issue, minutes);
        match r.interval {
            Interval::Day => add(&mut periods, day, minutes),
            Interval::Week => add(&mut periods, &week_of(day), minutes),
        }
    })?;
    let by_member: Vec<MemberMinutes> = members
        .into_iter()
        .map(|(user_id, (minutes, entries))| {
            Ok(MemberMinutes {
                display_name: store::user_name(c, &user_id).unwrap_or_default(),
                user_id,
                minutes,
                entries,
            })
        })
        .collect::<Result<_, AppError>>()?;
    // Every issue counts; only the page shown is looked up (all of them when sorted by
    // name, which needs them).
    let mut rows: Vec<IssueMinutes> = issues
        .into_iter()
        .map(|(issue_id, (minutes, entries))| IssueMinutes {
            issue_id,
            key: String::new(),
            name: String::new(),
            estimate_time: None,
            minutes,
            entries,
        })
        .collect();
    let fill = |c: &rusqlite::Connection, m: &mut IssueMinutes| -> Result<(), AppError> {
        let (key, name, estimate_time) = store::issue_meta(c, &m.issue_id)?.unwrap_or_default();
        (m.key, m.name, m.estimate_time) = (key, name, estimate_time);
        Ok(())
    };
    if cut.sort.by_name() {
        for m in &mut rows {
            fill(c, m)?;
        }
    }
    let mut by_issue = page_of(rows, cut.sort, cut.page);
    if !cut.sort.by_name() {
        for m in &mut by_issue.items {
            fill(c, m)?;
        }
    }
    let mut series: Vec<PeriodMinutes> = periods
        .into_iter()
        .map(|(period, (minutes, entries))| PeriodMinutes {
            period,
            minutes,
            entries,
        })
        .collect();
    series.sort_by(|a, b| a.period.cmp(&b.period));
    Ok((by_member, by_issue, series))
}

// ---------------------------------------------------------------------------------------
// CSV

/// A cell that a spreadsheet would read as a formula gets a leading apostrophe, so it is
/// shown as text (OWASP "CSV injection"): cells starting with `=`, `+`, `-`, `@`, tab or
/// carriage return. Quoting of commas, quotes and newlines is the csv writer's job.
pub fn csv_safe(cell: &str) -> String {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}"),
        _ => cell.to_string(),
    }
}

pub const CSV_HEADER: [&str; 9] = [
    "date",
    "project",
    "issue",
    "issue_title",
    "member",
    "email",
    "minutes",
    "hours",
    "description",
];

/// One export row: date, project identifier, issue key, title, member, email, minutes, description.
pub struct CsvRow {
    pub date: String,
    pub project: String,
    pub issue: String,
    pub title: String,
    pub member: String,
    pub email: String,
    pub minutes: i64,
    pub description: String,
}

pub fn write_csv(rows: &[CsvRow]) -> Result<Vec<u8>, AppError> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let internal = |e: csv::Error| AppError::Internal(anyhow::Error::new(e).context("csv"));
    w.write_record(CSV_HEADER).map_err(internal)?;
    for r in rows {
        let hours = format!("{:.2}", r.minutes as f64 / 60.0);
        w.write_record([
            csv_safe(&r.date),
            csv_safe(&r.project),
            csv_safe(&r.issue),
            csv_safe(&r.title),
            csv_safe(&r.member),
            csv_safe(&r.email),
            r.minutes.to_string(),
            hours,
            csv_safe(&r.description),
        ])
        .map_err(internal)?;
    }
    w.into_inner()
        .map_err(|e| AppError::Internal(anyhow::anyhow!("csv: {e}")))
}

// ---------------------------------------------------------------------------------------
// The domain

pub struct TimeTracking<'a>(pub &'a App);

fn refuse_writes(p: &crate::work::ProjectView) -> Result<(), AppError> {
    crate::work::refuse_if_archived(p)?;
    if !p.is_time_tracking_enabled {
        return Err(AppError::refused(
            "time_tracking_disabled",
            "time tracking is turned off for this project",
        ));
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn worklog_fields<'a>(
    ws: &'a str,
    pid: &'a str,
    iid: &'a str,
    user: &'a str,
    minutes: i64,
    description: &'a str,
    logged_at: &'a str,
    now: &'a str,
) -> Vec<Set> {
    vec![
        worklogs::workspace_id.to(ws),
        worklogs::project_id.to(pid),
        worklogs::issue_id.to(iid),
        worklogs::logged_by.to(user),
        worklogs::duration_minutes.to(minutes),
        worklogs::description.to(description),
        worklogs::logged_at.to(logged_at),
        worklogs::created_at.to(now),
        worklogs::updated_at.to(now),
        worklogs::created_by.to(user),
        worklogs::deleted_at.null(),
    ]
}

impl TimeTracking<'_> {
    pub async fn list_for_issue(
        &self,
        pc: &ProjCtx,
        issue_id: &str,
        p: PageParams,
    ) -> Result<Page<WorklogView>, AppError> {
        let pid = pc.project.id.clone();
        let iid = issue_id.to_string();
        let (limit, offset) = p.limit_offset();
        let (items, total) = self
            .0
            .readers
            .read(move |c| {
                store::issue_exists(c, &pid, &iid)?
                    .then_some(())
                    .ok_or(AppError::not_found("issue"))?;
                Ok(store::list(c, &store::LogFilter::issue(&iid), limit, offset)?)
            })
            .await?;
        Ok(Page::new(items, total, p))
    }

    pub async fn list_for_project(
        &self,
        pc: &ProjCtx,
        r: Range,
        user: Option<String>,
        p: PageParams,
    ) -> Result<Page<WorklogView>, AppError> {
        let pid = pc.project.id.clone();
        let (limit, offset) = p.limit_offset();
        let (items, total) = self
            .0
            .readers
            .read(move |c| {
                let f = store::LogFilter {
                    project_id: Some(pid),
                    from: Some(r.from),
                    to: Some(r.to),
                    user_id: user,
                    ..Default::default()
                };
                Ok(store::list(c, &f, limit, offset)?)
            })
            .await?;
        Ok(Page::new(items, total, p))
    }

    pub async fn create(&self, pc: &ProjCtx, issue_id: &str, w: WorklogInput) -> Result<WorklogView, AppError> {
        let who = Who::user(&pc.ws.actor.user_id);
        refuse_writes(&pc.project)?;
        let (ws, pid, uid) = (pc.ws.ws.id.clone(), pc.project.id.clone(), pc.ws.actor.user_id.clone());
        let iid = issue_id.to_string();
        self.0
            .writer
            .write(move |ctx| {
                if !store::issue_exists(ctx.conn, &pid, &iid)? {
                    return Err(AppError::not_found("issue"));
                }
                let id = crate::new_id();
                let now = now_rfc3339();
                let day = w
                    .logged_at
                    .clone()
                    .unwrap_or_else(|| today().format("%Y-%m-%d").to_string());
                let desc = w.description.clone().unwrap_or_default();
                let minutes = w.duration_minutes.unwrap_or(1);
                ctx.edit(&who, &worklog_doc(&ws, &pid, &uid, &now), |e| {
                    e.create(
                        worklogs::SPEC,
                        &id,
                        &worklog_fields(&ws, &pid, &iid, &uid, minutes, &desc, &day, &now),
                    )
                })?;
                store::worklog(ctx.conn, &pid, &id)?.ok_or_else(|| AppError::internal("work log not projected"))
            })
            .await
    }

    /// Edits (`Some`) or deletes (`None`) a work log: its author, or a project admin.
    pub async fn change(
        &self,
        pc: &ProjCtx,
        issue_id: &str,
        worklog_id: &str,
        w: Option<WorklogInput>,
    ) -> Result<Option<WorklogView>, AppError> {
        let who = Who::user(&pc.ws.actor.user_id);
        refuse_writes(&pc.project)?;
        let (ws, pid, uid) = (pc.ws.ws.id.clone(), pc.project.id.clone(), pc.ws.actor.user_id.clone());
        let is_admin = pc.role >= ProjRole::Admin;
        let (iid, wid) = (issue_id.to_string(), worklog_id.to_string());
        self.0
            .writer
            .write(move |ctx| {
                let cur = store::worklog(ctx.conn, &pid, &wid)?
                    .filter(|l| l.issue_id == iid)
                    .ok_or(AppError::not_found("work log"))?;
                if cur.logged_by != uid && !is_admin {
                    return Err(AppError::denied(
                        "not_worklog_author",
                        "only the person who logged the time or a project admin can change it",
                    ));
                }
                let now = now_rfc3339();
                let doc = worklog_doc(&ws, &pid, &cur.logged_by, &cur.created_at);
                let mut f: Vec<Set> = vec![worklogs::updated_at.to(now.as_str())];
                match &w {
                    Some(w) => {
                        if let Some(v) = w.duration_minutes {
                            f.push(worklogs::duration_minutes.to(v));
                        }
                        if let Some(v) = &w.description {
                            f.push(worklogs::description.to(v.as_str()));
                        }
                        if let Some(v) = &w.logged_at {
                            f.push(worklogs::logged_at.to(v.as_str()));
                        }
                    }
                    None => {
                        f.push(worklogs::deleted_at.to(now.as_str()));
                        f.push(worklogs::description.to(""));
                    }
                }
                ctx.edit(&who, &doc, |e| e.set(worklogs::SPEC, &wid, &f))?;
                Ok(store::worklog(ctx.conn, &pid, &wid)?)
            })
            .await
    }

    pub async fn issue_summary(&self, pc: &ProjCtx, issue_id: &str) -> Result<IssueTimeSummary, AppError> {
        let pid = pc.project.id.clone();
        let iid = issue_id.to_string();
        self.0
            .readers
            .read(move |c| {
                let est = store::issue_estimate(c, &pid, &iid)?.ok_or(AppError::not_found("issue"))?;
                let by_member = store::issue_by_member(c, &iid)?;
                let logged: i64 = by_member.iter().map(|m| m.minutes).sum();
                Ok(IssueTimeSummary {
                    issue_id: iid,
                    estimate_time: est,
                    logged_minutes: logged,
                    remaining_minutes: est.map(|e| (e - logged).max(0)),
                    overrun_minutes: est.map(|e| (logged - e).max(0)),
                    by_member,
                })
            })
            .await
    }

    pub async fn project_summary(
        &self,
        pc: &ProjCtx,
        r: Range,
        user: Option<String>,
        cut: ListCut,
    ) -> Result<ProjectTimeSummary, AppError> {
        let pid = pc.project.id.clone();
        self.0
            .readers
            .read(move |c| {
                let (by_member, by_issue, series) = summarize(c, &pid, &r, user.as_deref(), cut)?;
                Ok(ProjectTimeSummary {
                    project_id: pid,
                    total_minutes: by_member.iter().map(|m| m.minutes).sum(),
                    entries: by_member.iter().map(|m| m.entries).sum(),
                    from: r.from,
                    to: r.to,
                    interval: r.interval,
                    by_member: page_of(by_member, cut.sort, cut.member_page),
                    by_issue,
                    series,
                })
            })
            .await
    }

    /// Admins see the whole workspace (optionally one person or project); everybody else
    /// sees their own time.
    pub async fn workspace_summary(
        &self,
        w: &WsCtx,
        r: Range,
        user: Option<String>,
        project: Option<String>,
        cut: ListCut,
    ) -> Result<WorkspaceTimeSummary, AppError> {
        let ws = w.ws.id.clone();
        let user = if w.role >= WsRole::Admin {
            user
        } else {
            Some(w.actor.user_id.clone())
        };
        let app = self.0.clone();
        self.0
            .readers
            .read(move |c| {
                let s = store::workspace_summary(c, &ws, &r, user.as_deref(), project.as_deref())?;
                let by_department = by_department(c, &ws, &r, project.as_deref(), &s.1, &app.org_trees)?;
                Ok(WorkspaceTimeSummary {
                    by_department,
                    total_minutes: s.0.iter().map(|p| p.minutes).sum(),
                    entries: s.0.iter().map(|p| p.entries).sum(),
                    from: r.from,
                    to: r.to,
                    interval: r.interval,
                    user_id: user,
                    project_id: project,
                    by_project: page_of(s.0, cut.sort, cut.page),
                    by_member: page_of(s.1, cut.sort, cut.member_page),
                    series: s.2,
                })
            })
            .await
    }

    /// CSV of the work logs of a project (its members see everybody's), or of the workspace
    /// (admins see everybody's; anybody else only their own, even when they name a project:
    /// the workspace route does not check project membership).
    pub async fn export(&self, scope: ExportScope<'_>, r: Range, user: Option<String>) -> Result<Vec<u8>, AppError> {
        let (ws, project, user) = match scope {
            ExportScope::Project(pc) => (pc.ws.ws.id.clone(), Some(pc.project.id.clone()), user),
            ExportScope::Workspace(w, project) => {
                let user = if w.role >= WsRole::Admin {
                    user
                } else {
                    Some(w.actor.user_id.clone())
                };
                (w.ws.id.clone(), project, user)
            }
        };
        let rows = self
            .0
            .readers
            .read(move |c| {
                let f = store::LogFilter {
                    workspace_id: Some(ws),
                    project_id: project,
                    from: Some(r.from),
                    to: Some(r.to),
                    user_id: user,
                    ..Default::default()
                };
                if store::count(c, &f)? > MAX_EXPORT_ROWS {
                    return Err(AppError::refused(
                        "export_too_large",
                        format!("more than {MAX_EXPORT_ROWS} work logs; narrow the date range"),
                    ));
                }
                Ok(store::csv_rows(c, &f)?)
            })
            .await?;
        write_csv(&rows)
    }

    // Timers -------------------------------------------------------------------------------

    pub async fn current_timer(&self, user_id: &str) -> Result<TimerState, AppError> {
        let uid = user_id.to_string();
        self.0
            .readers
            .read(move |c| {
                let mut timer = store::running_timer(c, &uid)?;
                // After losing access to the project the person may still discard the
                // timer, but no longer reads the issue's title.
                if let Some(t) = &mut timer {
                    if crate::work::project_for_user(c, &t.workspace_id, &t.project_id, &uid)?.is_none() {
                        t.issue_name = String::new();
                    }
                }
                Ok(TimerState { timer })
            })
            .await
    }

    pub async fn start_timer(
        &self,
        pc: &ProjCtx,
        issue_id: &str,
        description: Option<String>,
    ) -> Result<TimerView, AppError> {
        let who = Who::user(&pc.ws.actor.user_id);
        refuse_writes(&pc.project)?;
        let (ws, pid, uid) = (pc.ws.ws.id.clone(), pc.project.id.clone(), pc.ws.actor.user_id.clone());
        let iid = issue_id.to_string();
        self.0
            .writer
            .write(move |ctx| {
                if !store::issue_exists(ctx.conn, &pid, &iid)? {
                    return Err(AppError::not_found("issue"));
                }
                if let Some(t) = store::running_timer(ctx.conn, &uid)? {
                    return Err(AppError::conflict(
                        "timer_running",
                        format!(
                            "a timer is already running on {}; stop or discard it first",
                            t.issue_key
                        ),
                    ));
                }
                let id = crate::new_id();
                let now = now_rfc3339();
                ctx.edit(&who, &DocRef::user(&ws, &uid), |e| {
                    e.create(
                        timers::SPEC,
                        &id,
                        &[
                            timers::workspace_id.to(ws.as_str()),
                            timers::project_id.to(pid.as_str()),
                            timers::issue_id.to(iid.as_str()),
                            timers::user_id.to(uid.as_str()),
                            timers::description.to(description.unwrap_or_default()),
                            timers::started_at.to(now.as_str()),
                            timers::created_at.to(now.as_str()),
                            timers::updated_at.to(now.as_str()),
                            timers::created_by.to(uid.as_str()),
                            timers::deleted_at.null(),
                        ],
                    )
                })?;
                store::running_timer(ctx.conn, &uid)?.ok_or_else(|| AppError::internal("timer not projected"))
            })
            .await
    }

    /// Stops the running timer into a work log (`Some`) or discards it (`None`). The
    /// project's rules are checked again: the person may have lost access meanwhile.
    pub async fn finish_timer(
        &self,
        user_id: &str,
        stop: Option<WorklogInput>,
    ) -> Result<Option<WorklogView>, AppError> {
        let who = Who::user(user_id);
        let uid = user_id.to_string();
        self.0
            .writer
            .write(move |ctx| {
                let t = store::running_timer(ctx.conn, &uid)?.ok_or(AppError::not_found("timer"))?;
                let now = now_rfc3339();
                let close = [
                    timers::deleted_at.to(Val::from(now.as_str())),
                    timers::updated_at.to(now.as_str()),
                ];
                let Some(w) = stop else {
                    ctx.edit(&who, &DocRef::user(&t.workspace_id, &uid), |e| {
                        e.set(timers::SPEC, &t.id, &close)
                    })?;
                    return Ok(None);
                };
                let project = crate::work::project_for_user(ctx.conn, &t.workspace_id, &t.project_id, &uid)?
                    .ok_or(AppError::not_found("project"))?;
                if project.1 < ProjRole::Member {
                    return Err(AppError::denied("guests_cannot_log_time", "guests cannot log time"));
                }
                refuse_writes(&project.0)?;
                if !store::issue_exists(ctx.conn, &t.project_id, &t.issue_id)? {
                    return Err(AppError::refused(
                        "issue_gone",
                        "the timer's issue was deleted; discard the timer",
                    ));
                }
                let minutes = match w.duration_minutes {
                    Some(m) => m,
                    None => {
                        let m = (t.elapsed_seconds + 30) / 60;
                        if m > MAX_MINUTES {
                            return Err(AppError::refused(
                                "timer_too_long",
                                "the timer ran over 24 hours; say how many minutes to log",
                            ));
                        }
                        m.max(1)
                    }
                };
                let day = w
                    .logged_at
                    .clone()
                    .unwrap_or_else(|| t.started_at.get(0..10).unwrap_or_default().to_string());
                let desc = w.description.clone().unwrap_or_else(|| t.description.clone());
                let id = crate::new_id();
                let (ws, pid, iid) = (t.workspace_id.clone(), t.project_id.clone(), t.issue_id.clone());
                ctx.edit(&who, &worklog_doc(&ws, &pid, &uid, &now), |e| {
                    e.create(
                        worklogs::SPEC,
                        &id,
                        &worklog_fields(&ws, &pid, &iid, &uid, minutes, &desc, &day, &now),
                    )
                })?;
                ctx.edit(&who, &DocRef::user(&ws, &uid), |e| e.set(timers::SPEC, &t.id, &close))?;
                Ok(store::worklog(ctx.conn, &pid, &id)?)
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_cells_are_neutralised() {
        for bad in ["=1+1", "+1", "-2", "@SUM(A1)", "\tx", "\rx", "=HYPERLINK(\"http://e\")"] {
            assert!(csv_safe(bad).starts_with('\''), "{bad:?}");
        }
        for ok in ["Fix login", "", "1", "a=b", "ABC-12"] {
            assert_eq!(csv_safe(ok), ok);
        }
    }

    #[test]
    fn csv_quotes_and_escapes() {
        let rows = [CsvRow {
            date: "2026-11-02".into(),
            project: "WEB".into(),
            issue: "WEB-1".into(),
            title: "Say \"hi\", then =cmd|' /C calc'!A0".into(),
            member: "=Mallory".into(),
            email: "m@example.com".into(),
            minutes: 90,
            description: "line one\nline two".into(),
        }];
        let out = String::from_utf8(write_csv(&rows).unwrap()).unwrap();
        let mut lines = out.lines();
        assert_eq!(
            lines.next(),
            Some("date,project,issue,issue_title,member,email,minutes,hours,description")
        );
        assert_eq!(
            out.lines().nth(1),
            Some("2026-11-02,WEB,WEB-1,\"Say \"\"hi\"\", then =cmd|' /C calc'!A0\",'=Mallory,m@example.com,90,1.50,\"line one")
        );
        // Read back, every cell is what was meant, and none starts a formula.
        let mut r = csv::Reader::from_reader(out.as_bytes());
        let rec = r.records().next().unwrap().unwrap();
        assert_eq!(&rec[4], "'=Mallory");
        assert_eq!(&rec[8], "line one\nline two");
    }

    #[test]
    fn quarters_and_ranges() {
        assert_eq!(quarter_of("2026-01-05T00:00:00.000Z"), "2026Q1");
        assert_eq!(quarter_of("2026-12-31T23:59:59.000Z"), "2026Q4");
        assert_eq!(quarter_of("2026-07-01T00:00:00.000Z"), "2026Q3");
        let r = Range::parse(Some("2026-01-01"), Some("2026-01-31"), None).unwrap();
        assert_eq!(
            (r.from.as_str(), r.to.as_str(), r.interval),
            ("2026-01-01", "2026-01-31", Interval::Day)
        );
        assert!(Range::parse(Some("2026-02-01"), Some("2026-01-31"), None).is_err());
        assert!(Range::parse(Some("2000-01-01"), Some("2026-01-31"), None).is_err());
        assert!(Range::parse(Some("yesterday"), None, None).is_err());
    }

    #[test]
    fn weeks_start_on_monday() {
        assert_eq!(week_of("2026-11-22"), "2026-11-16"); // a Sunday
        assert_eq!(week_of("2026-11-16"), "2026-11-16");
        assert_eq!(week_of("2027-01-01"), "2026-12-28");
    }

    #[test]
    fn minutes_and_days() {
        assert!(parse_minutes(0).is_err() && parse_minutes(1441).is_err() && parse_minutes(-5).is_err());
        assert_eq!(parse_minutes(1440), Ok(1440));
        let tomorrow = (today() + chrono::Days::new(1)).format("%Y-%m-%d").to_string();
        assert!(parse_logged_at(&tomorrow).is_ok());
        let later = (today() + chrono::Days::new(3)).format("%Y-%m-%d").to_string();
        assert!(parse_logged_at(&later).is_err());
        assert!(parse_logged_at("1999-12-31").is_err());
    }
}
