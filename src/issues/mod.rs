//! Work items of a project: states, labels, issues (with assignees, labels, parent), their
//! comments and activity history, and full-text search. Everything here lives in the
//! project's document (DESIGN §4); issues and states are field-shaped records, comments,
//! activity and the assignee/label links are atomic ones.

pub(crate) mod activity;
mod query;
pub mod records;
pub(crate) mod routes;
pub(crate) mod store;

pub use query::{parse_filter, IssueListQuery};

use std::collections::BTreeSet;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::db::WriteCtx;
use crate::docs::record::{col, Field};
use crate::docs::{DocRef, Edit, Set, Val, Who};
use crate::error::{AppError, Checks};
use crate::http::{Page, PageParams};
use crate::issues::records::{issue_assignees, issue_comments, issue_labels, issues, labels, states};
use crate::policy::ProjRole;
use crate::time::now_rfc3339;
use crate::work::ProjCtx;
use crate::workspaces::parse_name;
use crate::App;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StateGroup {
    Backlog,
    Unstarted,
    Started,
    Completed,
    Cancelled,
}

impl StateGroup {
    pub const ALL: [StateGroup; 5] = [
        Self::Backlog,
        Self::Unstarted,
        Self::Started,
        Self::Completed,
        Self::Cancelled,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Backlog => "backlog",
            Self::Unstarted => "unstarted",
            Self::Started => "started",
            Self::Completed => "completed",
            Self::Cancelled => "cancelled",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|g| g.as_str() == s)
    }
}

/// Ordered most urgent first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    Urgent,
    High,
    Medium,
    Low,
    None,
}

impl Priority {
    pub const ALL: [Priority; 5] = [Self::Urgent, Self::High, Self::Medium, Self::Low, Self::None];
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Urgent => "urgent",
            Self::High => "high",
            Self::Medium => "medium",
            Self::Low => "low",
            Self::None => "none",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == s)
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StateView {
    pub id: String,
    pub project_id: String,
    pub name: String,
    /// `#rrggbb`.
    pub color: String,
    pub group: StateGroup,
    /// Position in lists and boards, ascending.
    pub sequence: i64,
    /// New issues without a state get the default state.
    pub is_default: bool,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LabelView {
    pub id: String,
    pub project_id: String,
    pub name: String,
    pub color: String,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct IssueView {
    pub id: String,
    pub workspace_id: String,
    pub project_id: String,
    /// The issue's number in its project.
    pub sequence_id: i64,
    /// The human id, `IDENT-123`.
    pub key: String,
    pub name: String,
    /// Sanitized HTML.
    pub description_html: String,
    pub state_id: Option<String>,
    pub state_group: Option<StateGroup>,
    pub priority: Priority,
    pub assignee_ids: Vec<String>,
    pub label_ids: Vec<String>,
    pub estimate_point: Option<i64>,
    /// Estimated time in minutes.
    pub estimate_time: Option<i64>,
    pub start_date: Option<String>,
    pub target_date: Option<String>,
    pub parent_id: Option<String>,
    /// The cycle the issue is in (at most one).
    pub cycle_id: Option<String>,
    /// The module the issue is in (at most one).
    pub module_id: Option<String>,
    pub sort_order: i64,
    /// Set when the issue enters a state of the completed group, cleared when it leaves.
    pub completed_at: Option<String>,
    /// Minutes logged on the issue, all members together.
    pub logged_minutes: i64,
    pub created_at: String,
    pub updated_at: String,
    pub created_by: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CommentView {
    pub id: String,
    pub issue_id: String,
    /// Sanitized HTML.
    pub comment_html: String,
    pub actor_id: Option<String>,
    pub actor_name: String,
    pub created_at: String,
    pub updated_at: String,
    pub edited_at: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ActivityView {
    pub id: String,
    pub issue_id: String,
    /// `created`, `updated`, `deleted`, `renumbered`, `commented`, `comment_deleted`.
    pub verb: String,
    /// The changed field, for `updated` (`assignees` and `labels` list the ids added and
    /// removed as new and old values).
    pub field: Option<String>,
    pub old_value: Option<String>,
    pub new_value: Option<String>,
    pub actor_id: Option<String>,
    pub actor_name: String,
    pub created_at: String,
}

// ---------------------------------------------------------------------------------------
// Parsing

pub fn parse_color(raw: &str) -> Result<String, String> {
    let s = raw.trim();
    if s.len() == 7 && s.starts_with('#') && s[1..].bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(s.to_ascii_lowercase())
    } else {
        Err("must be a colour like #3a7bd5".into())
    }
}

/// The largest order a list position may take: 2^53 - 1, the largest integer a browser
/// holds exactly. Appending adds a step to the largest order, which therefore never
/// overflows.
pub const MAX_ORDER: i64 = (1 << 53) - 1;

/// A position in a manually ordered list (issue sort order, state sequence, home items).
pub fn parse_order(v: i64) -> Result<i64, String> {
    if (-MAX_ORDER..=MAX_ORDER).contains(&v) {
        Ok(v)
    } else {
        Err(format!("must be between -{MAX_ORDER} and {MAX_ORDER}"))
    }
}

pub fn parse_date(raw: &str) -> Result<String, String> {
    NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d")
        .map(|d| d.format("%Y-%m-%d").to_string())
        .map_err(|_| "must be a date like 2026-11-22".to_string())
}

fn parse_ids(raw: &[String], max: usize) -> Result<Vec<String>, String> {
    if raw.len() > max {
        return Err(format!("at most {max} ids"));
    }
    let mut seen = BTreeSet::new();
    for id in raw {
        if uuid::Uuid::parse_str(id).is_err() {
            return Err(format!("{id:.40} is not an id"));
        }
        seen.insert(id.to_ascii_lowercase());
    }
    Ok(seen.into_iter().collect())
}

fn parse_id(raw: &str) -> Result<String, String> {
    uuid::Uuid::parse_str(raw)
        .map(|u| u.to_string())
        .map_err(|_| "is not an id".to_string())
}

/// `Some(None)` is "clear the field", `None` is "leave it".
pub type Patch<T> = Option<Option<T>>;

/// The fields of an issue a create or update sets, validated.
#[derive(Default, Clone)]
pub struct IssueInput {
    pub name: Option<String>,
    pub description: Option<crate::richtext::Rich>,
    pub state_id: Option<String>,
    pub priority: Option<Priority>,
    pub assignee_ids: Option<Vec<String>>,
    pub label_ids: Option<Vec<String>>,
    pub estimate_point: Patch<i64>,
    pub estimate_time: Patch<i64>,
    pub start_date: Patch<String>,
    pub target_date: Patch<String>,
    pub parent_id: Patch<String>,
    pub cycle_id: Patch<String>,
    pub module_id: Patch<String>,
    pub sort_order: Option<i64>,
}

/// The raw fields of a create or update body.
#[derive(Default)]
pub struct IssueRaw<'a> {
    pub name: Option<&'a str>,
    pub description_html: Option<&'a str>,
    pub state_id: Option<&'a str>,
    pub priority: Option<Priority>,
    pub assignee_ids: Option<&'a [String]>,
    pub label_ids: Option<&'a [String]>,
    pub estimate_point: Patch<i64>,
    pub estimate_time: Patch<i64>,
    pub start_date: Patch<&'a str>,
    pub target_date: Patch<&'a str>,
    pub parent_id: Patch<&'a str>,
    pub cycle_id: Patch<&'a str>,
    pub module_id: Patch<&'a str>,
    pub sort_order: Option<i64>,
}

fn patch_map<T, U>(p: Patch<T>, c: &mut Checks, field: &str, f: impl FnOnce(T) -> Result<U, String>) -> Patch<U> {
    match p {
        None => None,
        Some(None) => Some(None),
        Some(Some(v)) => c.take(field, f(v)).map(Some),
    }
}

impl IssueInput {
    /// Validates the fields; `creating` requires a name.
    pub fn parse(r: IssueRaw<'_>, creating: bool) -> Result<Self, AppError> {
        let mut c = Checks::new();
        if creating && r.name.is_none() {
            c.add("name", "is required");
        }
        let input = IssueInput {
            name: r.name.and_then(|n| c.take("name", parse_name(n, 255))),
            description: r
                .description_html
                .and_then(|d| c.take("description_html", crate::richtext::parse(d))),
            state_id: r.state_id.and_then(|s| c.take("state_id", parse_id(s))),
            priority: r.priority,
            assignee_ids: r.assignee_ids.and_then(|a| c.take("assignee_ids", parse_ids(a, 50))),
            label_ids: r.label_ids.and_then(|a| c.take("label_ids", parse_ids(a, 50))),
            estimate_point: patch_map(r.estimate_point, &mut c, "estimate_point", |v| {
                if (0..=1000).contains(&v) {
                    Ok(v)
                } else {
                    Err("must be between 0 and 1000".into())
                }
            }),
            estimate_time: patch_map(r.estimate_time, &mut c, "estimate_time", |v| {
                if (1..=1_000_000).contains(&v) {
                    Ok(v)
                } else {
                    Err("must be between 1 and 1000000 minutes".into())
                }
            }),
            start_date: patch_map(r.start_date, &mut c, "start_date", parse_date),
            target_date: patch_map(r.target_date, &mut c, "target_date", parse_date),
            parent_id: patch_map(r.parent_id, &mut c, "parent_id", parse_id),
            cycle_id: patch_map(r.cycle_id, &mut c, "cycle_id", parse_id),
            module_id: patch_map(r.module_id, &mut c, "module_id", parse_id),
            sort_order: r.sort_order.and_then(|v| c.take("sort_order", parse_order(v))),
        };
        if let (Some(Some(s)), Some(Some(t))) = (&input.start_date, &input.target_date) {
            if s > t {
                c.add("target_date", "must not be before the start date");
            }
        }
        c.finish()?;
        Ok(input)
    }
}

pub struct StateInput {
    pub name: Option<String>,
    pub color: Option<String>,
    pub group: Option<StateGroup>,
    pub sequence: Option<i64>,
    pub is_default: Option<bool>,
}

impl StateInput {
    pub fn parse(
        name: Option<&str>,
        color: Option<&str>,
        group: Option<StateGroup>,
        sequence: Option<i64>,
        is_default: Option<bool>,
        creating: bool,
    ) -> Result<Self, AppError> {
        let mut c = Checks::new();
        if creating && name.is_none() {
            c.add("name", "is required");
        }
        if creating && group.is_none() {
            c.add("group", "is required");
        }
        let s = Self {
            name: name.and_then(|n| c.take("name", parse_name(n, 100))),
            color: color.and_then(|v| c.take("color", parse_color(v))),
            group,
            sequence: sequence.and_then(|v| c.take("sequence", parse_order(v))),
            is_default,
        };
        if is_default == Some(false) {
            c.add("is_default", "make another state the default instead");
        }
        c.finish()?;
        Ok(s)
    }
}

// ---------------------------------------------------------------------------------------
// Issue numbers after a merge

/// The merge rule for issue numbers (DESIGN §4): two offline devices can give two issues
/// the same number in one project. Given every issue of the project (deleted ones too) as
/// `(record id, number)`, answers the issues that must change, as `(id, old, new)`:
///
/// - in each group of issues sharing a number, the issue with the smallest record id keeps
///   it (ids are UUID v7, so that is the one created first; ties cannot happen);
/// - the others, taken in order of (number, id), get the numbers after the project's
///   highest one, in that order.
///
/// It depends only on the set of issues, not on the order they arrived in, so every device
/// that has seen the same issues computes the same answer and writes the same values.
pub fn resolve_numbers(issues: &[(String, i64)]) -> Vec<(String, i64, i64)> {
    let mut sorted: Vec<&(String, i64)> = issues.iter().collect();
    sorted.sort_by(|a, b| a.1.cmp(&b.1).then_with(|| a.0.cmp(&b.0)));
    let mut next = issues.iter().map(|i| i.1).max().unwrap_or(0);
    let mut out = Vec::new();
    let mut prev: Option<i64> = None;
    for (id, n) in sorted {
        if prev == Some(*n) {
            next += 1;
            out.push((id.clone(), *n, next));
        }
        prev = Some(*n);
    }
    out
}

/// Applies [`resolve_numbers`] to a project inside the write path; returns how many issues
/// were renumbered. Run after every change that can bring issues from elsewhere.
pub fn renumber_duplicates(ctx: &mut WriteCtx<'_>, ws_id: &str, pid: &str) -> Result<usize, AppError> {
    let who = Who::System;
    if !store::has_duplicate_numbers(ctx.conn, pid)? {
        return Ok(0);
    }
    let all = store::numbers(ctx.conn, pid)?;
    let changes = resolve_numbers(&all);
    ctx.edit(&who, &DocRef::project(ws_id, pid), |e| {
        for (id, _, new) in &changes {
            // The history records it (`activity`), under a key derived from the change.
            e.set(issues::SPEC, id, &[issues::sequence_id.to(*new)])?;
        }
        Ok(())
    })?;
    Ok(changes.len())
}

// ---------------------------------------------------------------------------------------
// Record fields

/// The default states every project starts with (Plane's set).
pub const DEFAULT_STATES: [(&str, &str, StateGroup); 5] = [
    ("Backlog", "#a3a3a3", StateGroup::Backlog),
    ("Todo", "#3a3a3a", StateGroup::Unstarted),
    ("In Progress", "#f59e0b", StateGroup::Started),
    ("Done", "#16a34a", StateGroup::Completed),
    ("Cancelled", "#dc2626", StateGroup::Cancelled),
];

/// Creates the default states in a project's document (with the project, or before the
/// first issue of a project that has none).
pub fn create_default_states(e: &mut Edit<'_>, ws: &str, pid: &str, by: &str, now: &str) -> Result<(), AppError> {
    for (i, (name, color, group)) in DEFAULT_STATES.iter().enumerate() {
        let mut f: Vec<Set> = vec![
            states::workspace_id.to(ws),
            states::project_id.to(pid),
            states::name.to(*name),
            states::color.to(*color),
            states::state_group.to(group.as_str()),
            states::sequence.to((i as i64 + 1) * 1000),
            states::is_default.to(i == 0),
        ];
        f.extend(states::SPEC.base(now, Some(by)));
        e.create(states::SPEC, &crate::new_id(), &f)?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Lists

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum GroupBy {
    State,
    StateGroup,
    Priority,
    Assignee,
    Label,
    Cycle,
    Module,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct GroupCount {
    /// The group's key: a state id, state group, priority, user id or label id; null for
    /// issues with no value (no assignee, no label).
    pub key: Option<String>,
    pub count: i64,
}

/// A page of issues, with per-group totals when the list is grouped.
#[derive(Debug, Serialize, ToSchema)]
pub struct IssuePage {
    pub items: Vec<IssueView>,
    pub total: i64,
    pub page: u32,
    pub per_page: u32,
    pub total_pages: u32,
    /// With `group_by`: each group's count over the whole filtered list. Single-valued
    /// groupings (state, state_group, priority) also order `items` by group first.
    pub groups: Option<Vec<GroupCount>>,
}

/// Validated filters of an issue list.
#[derive(Debug, Default, Clone)]
pub struct IssueFilter {
    pub state_ids: Vec<String>,
    pub state_groups: Vec<StateGroup>,
    pub priorities: Vec<Priority>,
    pub assignee_ids: Vec<String>,
    /// Issues with no assignee.
    pub unassigned: bool,
    pub label_ids: Vec<String>,
    pub cycle_ids: Vec<String>,
    /// Issues in no cycle.
    pub no_cycle: bool,
    pub module_ids: Vec<String>,
    /// Issues in no module.
    pub no_module: bool,
    pub parent_id: Option<String>,
    pub created_by: Option<String>,
    pub start_from: Option<String>,
    pub start_to: Option<String>,
    pub target_from: Option<String>,
    pub target_to: Option<String>,
    pub created_from: Option<String>,
    pub created_to: Option<String>,
    /// An FTS5 query built from the words of `q`.
    pub fts: Option<String>,
    pub order: Order,
    pub group_by: Option<GroupBy>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Order {
    #[default]
    CreatedDesc,
    CreatedAsc,
    UpdatedDesc,
    UpdatedAsc,
    NumberAsc,
    NumberDesc,
    PriorityDesc,
    PriorityAsc,
    TargetAsc,
    TargetDesc,
    Manual,
}

impl Order {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "-created_at" => Self::CreatedDesc,
            "created_at" => Self::CreatedAsc,
            "-updated_at" => Self::UpdatedDesc,
            "updated_at" => Self::UpdatedAsc,
            "sequence_id" => Self::NumberAsc,
            "-sequence_id" => Self::NumberDesc,
            "priority" => Self::PriorityDesc,
            "-priority" => Self::PriorityAsc,
            "target_date" => Self::TargetAsc,
            "-target_date" => Self::TargetDesc,
            "sort_order" => Self::Manual,
            _ => return None,
        })
    }
}

/// The FTS5 query for free text: each word must appear (as a word or a word's prefix).
/// Words are quoted, so no FTS5 syntax from the user reaches SQLite.
pub fn fts_query(q: &str) -> Option<String> {
    let words: Vec<String> = q
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(16)
        .map(|w| format!("\"{}\"*", w.to_lowercase()))
        .collect();
    (!words.is_empty()).then(|| words.join(" "))
}

// ---------------------------------------------------------------------------------------
// The domain

pub struct Issues<'a>(pub &'a App);

fn refuse_if_archived(pc: &ProjCtx) -> Result<(), AppError> {
    crate::work::refuse_if_archived(&pc.project)
}

fn ids(pc: &ProjCtx) -> (String, String, String) {
    (pc.ws.ws.id.clone(), pc.project.id.clone(), pc.ws.actor.user_id.clone())
}

impl Issues<'_> {
    // States ---------------------------------------------------------------------------

    pub async fn states(&self, pc: &ProjCtx) -> Result<Vec<StateView>, AppError> {
        let pid = pc.project.id.clone();
        self.0.readers.read(move |c| Ok(store::states(c, &pid)?)).await
    }

    pub async fn create_state(&self, pc: &ProjCtx, s: StateInput) -> Result<StateView, AppError> {
        let who = Who::user(&pc.ws.actor.user_id);
        refuse_if_archived(pc)?;
        let (ws, pid, uid) = ids(pc);
        self.0
            .writer
            .write(move |ctx| {
                let name = s.name.unwrap_or_default();
                if store::state_name_taken(ctx.conn, &pid, &name, None)? {
                    return Err(AppError::conflict(
                        "state_exists",
                        "this project has a state with this name",
                    ));
                }
                let group = s.group.unwrap_or(StateGroup::Backlog);
                let sequence = match s.sequence {
                    Some(v) => v,
                    None => store::max_state_sequence(ctx.conn, &pid)?.saturating_add(1000),
                };
                let id = crate::new_id();
                let now = now_rfc3339();
                let current_default = store::default_state(ctx.conn, &pid)?;
                let make_default = s.is_default == Some(true) || current_default.is_none();
                ctx.edit(&who, &DocRef::project(&ws, &pid), |e| {
                    let mut f: Vec<Set> = vec![
                        states::workspace_id.to(ws.as_str()),
                        states::project_id.to(pid.as_str()),
                        states::name.to(name.as_str()),
                        states::color.to(s.color.clone().unwrap_or_else(|| "#a3a3a3".into())),
                        states::state_group.to(group.as_str()),
                        states::sequence.to(sequence),
                        states::is_default.to(make_default),
                    ];
                    f.extend(states::SPEC.base(&now, Some(&uid)));
                    e.create(states::SPEC, &id, &f)?;
                    if make_default {
                        if let Some(old) = &current_default {
                            e.set(
                                states::SPEC,
                                old,
                                &[states::is_default.to(false), states::updated_at.to(now.as_str())],
                            )?;
                        }
                    }
                    Ok(())
                })?;
                store::state(ctx.conn, &pid, &id)?.ok_or_else(|| AppError::internal("state not projected"))
            })
            .await
    }

    pub async fn update_state(&self, pc: &ProjCtx, state_id: &str, s: StateInput) -> Result<StateView, AppError> {
        let who = Who::user(&pc.ws.actor.user_id);
        refuse_if_archived(pc)?;
        let (ws, pid, _) = ids(pc);
        let sid = state_id.to_string();
        self.0
            .writer
            .write(move |ctx| {
                let cur = store::state(ctx.conn, &pid, &sid)?.ok_or(AppError::not_found("state"))?;
                if let Some(n) = &s.name {
                    if store::state_name_taken(ctx.conn, &pid, n, Some(&sid))? {
                        return Err(AppError::conflict(
                            "state_exists",
                            "this project has a state with this name",
                        ));
                    }
                }
                let now = now_rfc3339();
                let mut f: Vec<Set> = Vec::new();
                if let Some(v) = &s.name {
                    f.push(states::name.to(v.as_str()));
                }
                if let Some(v) = &s.color {
                    f.push(states::color.to(v.as_str()));
                }
                if let Some(v) = s.group {
                    f.push(states::state_group.to(v.as_str()));
                }
                if let Some(v) = s.sequence {
                    f.push(states::sequence.to(v));
                }
                let make_default = s.is_default == Some(true) && !cur.is_default;
                if make_default {
                    f.push(states::is_default.to(true));
                }
                if f.is_empty() {
                    return Ok(cur);
                }
                f.push(states::updated_at.to(now.as_str()));
                let old_default = if make_default {
                    store::default_state(ctx.conn, &pid)?
                } else {
                    None
                };
                // Issues in this state enter or leave the completed group with it.
                let completion = match s.group {
                    Some(g) if (g == StateGroup::Completed) != (cur.group == StateGroup::Completed) => {
                        Some((g == StateGroup::Completed, store::issue_ids_in_state(ctx.conn, &sid)?))
                    }
                    _ => None,
                };
                ctx.edit(&who, &DocRef::project(&ws, &pid), |e| {
                    e.set(states::SPEC, &sid, &f)?;
                    if let Some(old) = &old_default {
                        e.set(
                            states::SPEC,
                            old,
                            &[states::is_default.to(false), states::updated_at.to(now.as_str())],
                        )?;
                    }
                    if let Some((completed, issues)) = &completion {
                        let at: Val = if *completed { now.as_str().into() } else { Val::Null };
                        for iid in issues {
                            e.set(issues::SPEC, iid, &[issues::completed_at.to(at.clone())])?;
                        }
                    }
                    Ok(())
                })?;
                store::state(ctx.conn, &pid, &sid)?.ok_or_else(|| AppError::internal("state not projected"))
            })
            .await
    }

    pub async fn delete_state(&self, pc: &ProjCtx, state_id: &str) -> Result<(), AppError> {
        let who = Who::user(&pc.ws.actor.user_id);
        refuse_if_archived(pc)?;
        let (ws, pid, _) = ids(pc);
        let sid = state_id.to_string();
        self.0
            .writer
            .write(move |ctx| {
                let cur = store::state(ctx.conn, &pid, &sid)?.ok_or(AppError::not_found("state"))?;
                if cur.is_default {
                    return Err(AppError::refused(
                        "default_state",
                        "make another state the default before deleting this one",
                    ));
                }
                if !store::issue_ids_in_state(ctx.conn, &sid)?.is_empty() {
                    return Err(AppError::refused(
                        "state_in_use",
                        "move the issues in this state to another state first",
                    ));
                }
                let now = now_rfc3339();
                ctx.edit(&who, &DocRef::project(&ws, &pid), |e| {
                    e.set(
                        states::SPEC,
                        &sid,
                        &[states::deleted_at.to(now.as_str()), states::updated_at.to(now.as_str())],
                    )
                })
            })
            .await
    }

    // Labels ---------------------------------------------------------------------------

    pub async fn labels(&self, pc: &ProjCtx) -> Result<Vec<LabelView>, AppError> {
        let pid = pc.project.id.clone();
        self.0.readers.read(move |c| Ok(store::labels(c, &pid)?)).await
    }

    pub async fn save_label(
        &self,
        pc: &ProjCtx,
        label_id: Option<&str>,
        name: Option<String>,
        color: Option<String>,
    ) -> Result<LabelView, AppError> {
        let who = Who::user(&pc.ws.actor.user_id);
        refuse_if_archived(pc)?;
        let (ws, pid, uid) = ids(pc);
        let lid = label_id.map(str::to_string);
        self.0
            .writer
            .write(move |ctx| {
                if let Some(l) = &lid {
                    store::label(ctx.conn, &pid, l)?.ok_or(AppError::not_found("label"))?;
                }
                if let Some(n) = &name {
                    if store::label_name_taken(ctx.conn, &pid, n, lid.as_deref())? {
                        return Err(AppError::conflict(
                            "label_exists",
                            "this project has a label with this name",
                        ));
                    }
                }
                let now = now_rfc3339();
                let id = lid.clone().unwrap_or_else(crate::new_id);
                ctx.edit(&who, &DocRef::project(&ws, &pid), |e| match &lid {
                    None => {
                        let mut f: Vec<Set> = vec![
                            labels::workspace_id.to(ws.as_str()),
                            labels::project_id.to(pid.as_str()),
                            labels::name.to(name.clone().unwrap_or_default()),
                            labels::color.to(color.clone().unwrap_or_else(|| "#6b7280".into())),
                        ];
                        f.extend(labels::SPEC.base(&now, Some(&uid)));
                        e.create(labels::SPEC, &id, &f)
                    }
                    Some(l) => {
                        let mut f: Vec<Set> = vec![labels::updated_at.to(now.as_str())];
                        if let Some(n) = &name {
                            f.push(labels::name.to(n.as_str()));
                        }
                        if let Some(c) = &color {
                            f.push(labels::color.to(c.as_str()));
                        }
                        e.set(labels::SPEC, l, &f)
                    }
                })?;
                store::label(ctx.conn, &pid, &id)?.ok_or_else(|| AppError::internal("label not projected"))
            })
            .await
    }

    pub async fn delete_label(&self, pc: &ProjCtx, label_id: &str) -> Result<(), AppError> {
        let who = Who::user(&pc.ws.actor.user_id);
        refuse_if_archived(pc)?;
        let (ws, pid, _) = ids(pc);
        let lid = label_id.to_string();
        self.0
            .writer
            .write(move |ctx| {
                store::label(ctx.conn, &pid, &lid)?.ok_or(AppError::not_found("label"))?;
                let links = store::label_links(ctx.conn, &lid)?;
                let now = now_rfc3339();
                ctx.edit(&who, &DocRef::project(&ws, &pid), |e| {
                    e.set(
                        labels::SPEC,
                        &lid,
                        &[labels::deleted_at.to(now.as_str()), labels::updated_at.to(now.as_str())],
                    )?;
                    for link in &links {
                        e.set(
                            issue_labels::SPEC,
                            link,
                            &[
                                issue_labels::deleted_at.to(now.as_str()),
                                issue_labels::updated_at.to(now.as_str()),
                            ],
                        )?;
                    }
                    Ok(())
                })
            })
            .await
    }

    // Issues ---------------------------------------------------------------------------

    pub async fn list(&self, pc: &ProjCtx, f: IssueFilter, p: PageParams) -> Result<IssuePage, AppError> {
        let pid = pc.project.id.clone();
        let (limit, offset) = p.limit_offset();
        let (items, total, groups) = self
            .0
            .readers
            .read(move |c| Ok(store::list_issues(c, &pid, &f, limit, offset)?))
            .await?;
        let page = Page::new(items, total, p);
        Ok(IssuePage {
            items: page.items,
            total: page.total,
            page: page.page,
            per_page: page.per_page,
            total_pages: page.total_pages,
            groups,
        })
    }

    pub async fn get(&self, pc: &ProjCtx, issue_id: &str) -> Result<IssueView, AppError> {
        let pid = pc.project.id.clone();
        let iid = issue_id.to_string();
        self.0
            .readers
            .read(move |c| store::issue(c, &pid, &iid)?.ok_or(AppError::not_found("issue")))
            .await
    }

    pub async fn create(&self, pc: &ProjCtx, input: IssueInput) -> Result<IssueView, AppError> {
        let who = Who::user(&pc.ws.actor.user_id);
        refuse_if_archived(pc)?;
        let (ws, pid, uid) = ids(pc);
        self.0
            .writer
            .write(move |ctx| {
                if store::states(ctx.conn, &pid)?.is_empty() {
                    let now = now_rfc3339();
                    ctx.edit(&who, &DocRef::project(&ws, &pid), |e| {
                        create_default_states(e, &ws, &pid, &uid, &now)
                    })?;
                }
                let state = match &input.state_id {
                    Some(s) => store::state(ctx.conn, &pid, s)?,
                    None => store::default_state(ctx.conn, &pid)?
                        .and_then(|s| store::state(ctx.conn, &pid, &s).ok().flatten()),
                };
                let state = state.ok_or_else(|| AppError::field("state_id", "is not a state of this project"))?;
                check_refs(ctx, &pid, None, &input)?;
                let id = crate::new_id();
                let now = now_rfc3339();
                let number = store::next_number(ctx.conn, &pid)?;
                let sort_order = match input.sort_order {
                    Some(v) => v,
                    None => store::max_sort_order(ctx.conn, &pid)?.saturating_add(65_536),
                };
                let completed: Val = if state.group == StateGroup::Completed {
                    now.as_str().into()
                } else {
                    Val::Null
                };
                let (html, text) = input
                    .description
                    .as_ref()
                    .map_or((String::new(), String::new()), |d| (d.html.clone(), d.text.clone()));
                ctx.edit(&who, &DocRef::project(&ws, &pid), |e| {
                    let mut f: Vec<Set> = vec![
                        issues::workspace_id.to(ws.as_str()),
                        issues::project_id.to(pid.as_str()),
                        issues::sequence_id.to(number),
                        issues::name.to(input.name.clone().unwrap_or_default()),
                        issues::description_html.to(html),
                        issues::description_text.to(text),
                        issues::state_id.to(state.id.as_str()),
                        issues::priority.to(input.priority.unwrap_or(Priority::None).as_str()),
                        issues::estimate_point.to(input.estimate_point.flatten()),
                        issues::estimate_time.to(input.estimate_time.flatten()),
                        issues::start_date.to(input.start_date.clone().flatten()),
                        issues::target_date.to(input.target_date.clone().flatten()),
                        issues::parent_id.to(input.parent_id.clone().flatten()),
                        issues::cycle_id.to(input.cycle_id.clone().flatten()),
                        issues::module_id.to(input.module_id.clone().flatten()),
                        issues::sort_order.to(sort_order),
                        issues::completed_at.to(completed),
                    ];
                    f.extend(issues::SPEC.base(&now, Some(&uid)));
                    e.create(issues::SPEC, &id, &f)?;
                    for a in input.assignee_ids.iter().flatten() {
                        put_link(e, Link::Assignee, &ws, &pid, &id, a, &uid, &now, true)?;
                    }
                    for l in input.label_ids.iter().flatten() {
                        put_link(e, Link::Label, &ws, &pid, &id, l, &uid, &now, true)?;
                    }
                    Ok(())
                })?;
                // On one device the next number is free; after a merge it may not be.
                if store::number_count(ctx.conn, &pid, number)? > 1 {
                    renumber_duplicates(ctx, &ws, &pid)?;
                }
                store::issue(ctx.conn, &pid, &id)?.ok_or_else(|| AppError::internal("issue not projected"))
            })
            .await
    }

    pub async fn update(&self, pc: &ProjCtx, issue_id: &str, input: IssueInput) -> Result<IssueView, AppError> {
        let who = Who::user(&pc.ws.actor.user_id);
        refuse_if_archived(pc)?;
        let (ws, pid, uid) = ids(pc);
        let iid = issue_id.to_string();
        self.0
            .writer
            .write(move |ctx| {
                let cur = store::issue(ctx.conn, &pid, &iid)?.ok_or(AppError::not_found("issue"))?;
                let state = match &input.state_id {
                    Some(s) if Some(s) != cur.state_id.as_ref() => Some(
                        store::state(ctx.conn, &pid, s)?
                            .ok_or_else(|| AppError::field("state_id", "is not a state of this project"))?,
                    ),
                    _ => None,
                };
                check_refs(ctx, &pid, Some(&iid), &input)?;
                // Dates are checked against the values they end up next to.
                let start = input.start_date.clone().unwrap_or(cur.start_date.clone());
                let target = input.target_date.clone().unwrap_or(cur.target_date.clone());
                if let (Some(s), Some(t)) = (&start, &target) {
                    if s > t {
                        return Err(AppError::field("target_date", "must not be before the start date"));
                    }
                }
                let now = now_rfc3339();
                let mut f: Vec<Set> = Vec::new();
                if let Some(n) = &input.name {
                    if *n != cur.name {
                        f.push(issues::name.to(n.as_str()));
                    }
                }
                if let Some(d) = &input.description {
                    if d.html != cur.description_html {
                        f.push(issues::description_html.to(d.html.as_str()));
                        f.push(issues::description_text.to(d.text.as_str()));
                    }
                }
                if let Some(s) = &state {
                    f.push(issues::state_id.to(s.id.as_str()));
                    let was = cur.state_group == Some(StateGroup::Completed);
                    let is = s.group == StateGroup::Completed;
                    if is && !was {
                        f.push(issues::completed_at.to(now.as_str()));
                    } else if was && !is {
                        f.push(issues::completed_at.null());
                    }
                }
                if let Some(p) = input.priority {
                    if p != cur.priority {
                        f.push(issues::priority.to(p.as_str()));
                    }
                }
                if let Some(v) = input.estimate_point {
                    if v != cur.estimate_point {
                        f.push(issues::estimate_point.to(v));
                    }
                }
                if let Some(v) = input.estimate_time {
                    if v != cur.estimate_time {
                        f.push(issues::estimate_time.to(v));
                    }
                }
                for (name, new, old) in [
                    (issues::start_date, &input.start_date, &cur.start_date),
                    (issues::target_date, &input.target_date, &cur.target_date),
                    (issues::parent_id, &input.parent_id, &cur.parent_id),
                    (issues::cycle_id, &input.cycle_id, &cur.cycle_id),
                    (issues::module_id, &input.module_id, &cur.module_id),
                ] {
                    if let Some(v) = new {
                        if v != old {
                            f.push(name.to(v.clone()));
                        }
                    }
                }
                if let Some(v) = input.sort_order {
                    if v != cur.sort_order {
                        f.push(issues::sort_order.to(v));
                    }
                }
                let diff = |want: &Option<Vec<String>>, have: &[String]| -> (Vec<String>, Vec<String>) {
                    let Some(want) = want else { return (vec![], vec![]) };
                    let add = want.iter().filter(|w| !have.contains(w)).cloned().collect();
                    let remove = have.iter().filter(|h| !want.contains(h)).cloned().collect();
                    (add, remove)
                };
                let (add_a, rm_a) = diff(&input.assignee_ids, &cur.assignee_ids);
                let (add_l, rm_l) = diff(&input.label_ids, &cur.label_ids);
                let links_change = [&add_a, &rm_a, &add_l, &rm_l].iter().any(|v| !v.is_empty());
                if f.is_empty() && !links_change {
                    return Ok(cur);
                }
                f.push(issues::updated_at.to(now.as_str()));
                ctx.edit(&who, &DocRef::project(&ws, &pid), |e| {
                    e.set(issues::SPEC, &iid, &f)?;
                    for a in &add_a {
                        put_link(e, Link::Assignee, &ws, &pid, &iid, a, &uid, &now, true)?;
                    }
                    for a in &rm_a {
                        put_link(e, Link::Assignee, &ws, &pid, &iid, a, &uid, &now, false)?;
                    }
                    for l in &add_l {
                        put_link(e, Link::Label, &ws, &pid, &iid, l, &uid, &now, true)?;
                    }
                    for l in &rm_l {
                        put_link(e, Link::Label, &ws, &pid, &iid, l, &uid, &now, false)?;
                    }
                    Ok(())
                })?;
                store::issue(ctx.conn, &pid, &iid)?.ok_or_else(|| AppError::internal("issue not projected"))
            })
            .await
    }

    /// Soft-deletes an issue (its creator or a project admin); its sub-issues lose their
    /// parent, its description is cleared.
    pub async fn delete(&self, pc: &ProjCtx, issue_id: &str) -> Result<(), AppError> {
        let who = Who::user(&pc.ws.actor.user_id);
        refuse_if_archived(pc)?;
        let (ws, pid, uid) = ids(pc);
        let is_admin = pc.role >= ProjRole::Admin;
        let iid = issue_id.to_string();
        self.0
            .writer
            .write(move |ctx| {
                let cur = store::issue(ctx.conn, &pid, &iid)?.ok_or(AppError::not_found("issue"))?;
                if !is_admin && cur.created_by.as_deref() != Some(uid.as_str()) {
                    return Err(AppError::denied(
                        "not_issue_author",
                        "only the issue's creator or a project admin can delete it",
                    ));
                }
                let children = store::children(ctx.conn, &iid)?;
                let now = now_rfc3339();
                ctx.edit(&who, &DocRef::project(&ws, &pid), |e| {
                    e.set(
                        issues::SPEC,
                        &iid,
                        &[
                            issues::deleted_at.to(now.as_str()),
                            issues::updated_at.to(now.as_str()),
                            issues::description_html.to(""),
                            issues::description_text.to(""),
                        ],
                    )?;
                    for c in &children {
                        e.set(
                            issues::SPEC,
                            c,
                            &[issues::parent_id.null(), issues::updated_at.to(now.as_str())],
                        )?;
                    }
                    Ok(())
                })
            })
            .await
    }

    pub async fn activity(&self, pc: &ProjCtx, issue_id: &str, p: PageParams) -> Result<Page<ActivityView>, AppError> {
        let pid = pc.project.id.clone();
        let iid = issue_id.to_string();
        let (limit, offset) = p.limit_offset();
        let (items, total) = self
            .0
            .readers
            .read(move |c| {
                store::issue(c, &pid, &iid)?.ok_or(AppError::not_found("issue"))?;
                Ok(store::activity(c, &iid, limit, offset)?)
            })
            .await?;
        Ok(Page::new(items, total, p))
    }

    // Comments -------------------------------------------------------------------------

    pub async fn comments(&self, pc: &ProjCtx, issue_id: &str, p: PageParams) -> Result<Page<CommentView>, AppError> {
        let pid = pc.project.id.clone();
        let iid = issue_id.to_string();
        let (limit, offset) = p.limit_offset();
        let (items, total) = self
            .0
            .readers
            .read(move |c| {
                store::issue(c, &pid, &iid)?.ok_or(AppError::not_found("issue"))?;
                Ok(store::comments(c, &iid, limit, offset)?)
            })
            .await?;
        Ok(Page::new(items, total, p))
    }

    pub async fn add_comment(
        &self,
        pc: &ProjCtx,
        issue_id: &str,
        body: crate::richtext::Rich,
    ) -> Result<CommentView, AppError> {
        let who = Who::user(&pc.ws.actor.user_id);
        refuse_if_archived(pc)?;
        let (ws, pid, uid) = ids(pc);
        let iid = issue_id.to_string();
        self.0
            .writer
            .write(move |ctx| {
                store::issue(ctx.conn, &pid, &iid)?.ok_or(AppError::not_found("issue"))?;
                let id = crate::new_id();
                let now = now_rfc3339();
                ctx.edit(&who, &DocRef::project(&ws, &pid), |e| {
                    let mut f: Vec<Set> = vec![
                        issue_comments::workspace_id.to(ws.as_str()),
                        issue_comments::project_id.to(pid.as_str()),
                        issue_comments::issue_id.to(iid.as_str()),
                        issue_comments::comment_html.to(body.html.as_str()),
                        issue_comments::comment_text.to(body.text.as_str()),
                        issue_comments::edited_at.null(),
                    ];
                    f.extend(issue_comments::SPEC.base(&now, Some(&uid)));
                    e.create(issue_comments::SPEC, &id, &f)
                })?;
                store::comment(ctx.conn, &iid, &id)?.ok_or_else(|| AppError::internal("comment not projected"))
            })
            .await
    }

    /// Edits (the author only) or deletes (the author or a project admin) a comment.
    pub async fn change_comment(
        &self,
        pc: &ProjCtx,
        issue_id: &str,
        comment_id: &str,
        body: Option<crate::richtext::Rich>,
    ) -> Result<Option<CommentView>, AppError> {
        let who = Who::user(&pc.ws.actor.user_id);
        refuse_if_archived(pc)?;
        let (ws, pid, uid) = ids(pc);
        let is_admin = pc.role >= ProjRole::Admin;
        let (iid, cid) = (issue_id.to_string(), comment_id.to_string());
        self.0
            .writer
            .write(move |ctx| {
                store::issue(ctx.conn, &pid, &iid)?.ok_or(AppError::not_found("issue"))?;
                let cur = store::comment(ctx.conn, &iid, &cid)?.ok_or(AppError::not_found("comment"))?;
                let is_author = cur.actor_id.as_deref() == Some(uid.as_str());
                let now = now_rfc3339();
                match &body {
                    Some(b) => {
                        if !is_author {
                            return Err(AppError::denied(
                                "not_comment_author",
                                "only the author can edit a comment",
                            ));
                        }
                        ctx.edit(&who, &DocRef::project(&ws, &pid), |e| {
                            e.set(
                                issue_comments::SPEC,
                                &cid,
                                &[
                                    issue_comments::comment_html.to(b.html.as_str()),
                                    issue_comments::comment_text.to(b.text.as_str()),
                                    issue_comments::edited_at.to(now.as_str()),
                                    issue_comments::updated_at.to(now.as_str()),
                                ],
                            )
                        })?;
                        Ok(store::comment(ctx.conn, &iid, &cid)?)
                    }
                    None => {
                        if !is_author && !is_admin {
                            return Err(AppError::denied(
                                "not_comment_author",
                                "only the author or a project admin can delete a comment",
                            ));
                        }
                        ctx.edit(&who, &DocRef::project(&ws, &pid), |e| {
                            e.set(
                                issue_comments::SPEC,
                                &cid,
                                &[
                                    issue_comments::comment_html.to(""),
                                    issue_comments::comment_text.to(""),
                                    issue_comments::deleted_at.to(now.as_str()),
                                    issue_comments::updated_at.to(now.as_str()),
                                ],
                            )
                        })?;
                        Ok(None)
                    }
                }
            })
            .await
    }
}

/// Live issues in a cycle (`column` = `cycle_id`) or module (`module_id`).
pub fn issues_in(c: &rusqlite::Connection, column: &str, id: &str) -> rusqlite::Result<Vec<String>> {
    store::issues_in(c, column, id)
}

/// Takes every issue out of a cycle or module being deleted (inside its project's edit).
pub fn clear_field(e: &mut Edit<'_>, ids: &[String], column: Field<col::Text>, now: &str) -> Result<(), AppError> {
    for iid in ids {
        e.set(issues::SPEC, iid, &[column.null(), issues::updated_at.to(now)])?;
    }
    Ok(())
}

/// The two kinds of link record of an issue, each under the key `{issue}:{target}`.
#[derive(Debug, Clone, Copy)]
enum Link {
    Assignee,
    Label,
}

/// Adds (`live`) or removes a link record (assignee, label) under its derived key.
#[allow(clippy::too_many_arguments)]
fn put_link(
    e: &mut Edit<'_>,
    link: Link,
    ws: &str,
    pid: &str,
    iid: &str,
    target: &str,
    by: &str,
    now: &str,
    live: bool,
) -> Result<(), AppError> {
    let deleted = if live { Val::Null } else { now.into() };
    // The two tables have the same fields but for the one naming the target.
    macro_rules! link {
        ($t:ident, $target:ident) => {
            (
                $t::SPEC,
                [
                    $t::workspace_id.to(ws),
                    $t::project_id.to(pid),
                    $t::issue_id.to(iid),
                    $t::$target.to(target),
                    $t::created_at.to(now),
                    $t::updated_at.to(now),
                    $t::created_by.to(by),
                    $t::deleted_at.to(deleted),
                ],
            )
        };
    }
    let (spec, f) = match link {
        Link::Assignee => link!(issue_assignees, user_id),
        Link::Label => link!(issue_labels, label_id),
    };
    e.put(spec, &format!("{iid}:{target}"), &f)
}

/// Checks that assignees are project members, labels are the project's, and the parent is
/// an issue of the project that is not the issue itself or one of its descendants.
fn check_refs(ctx: &mut WriteCtx<'_>, pid: &str, iid: Option<&str>, input: &IssueInput) -> Result<(), AppError> {
    let mut c = Checks::new();
    for a in input.assignee_ids.iter().flatten() {
        if !store::is_project_member(ctx.conn, pid, a)? {
            c.add("assignee_ids", format!("{a} is not a member of this project"));
        }
    }
    for l in input.label_ids.iter().flatten() {
        if store::label(ctx.conn, pid, l)?.is_none() {
            c.add("label_ids", format!("{l} is not a label of this project"));
        }
    }
    if let Some(Some(cycle)) = &input.cycle_id {
        if !crate::planning::cycle_exists(ctx.conn, pid, cycle)? {
            c.add("cycle_id", "is not a cycle of this project");
        }
    }
    if let Some(Some(module)) = &input.module_id {
        if !crate::planning::module_exists(ctx.conn, pid, module)? {
            c.add("module_id", "is not a module of this project");
        }
    }
    if let Some(Some(parent)) = &input.parent_id {
        if store::issue(ctx.conn, pid, parent)?.is_none() {
            c.add("parent_id", "is not an issue of this project");
        } else if let Some(me) = iid {
            // Walk up from the new parent: meeting this issue would make a cycle.
            let mut at = Some(parent.clone());
            let mut steps = 0;
            while let Some(p) = at {
                if p == me {
                    c.add("parent_id", "would make the issue its own ancestor");
                    break;
                }
                steps += 1;
                if steps > 1000 {
                    break;
                }
                at = store::parent_of(ctx.conn, &p)?;
            }
        }
    }
    c.finish()
}

/// Whether `uid` is a live member of project `pid` (a module's lead must be).
pub fn is_project_member(c: &rusqlite::Connection, pid: &str, uid: &str) -> rusqlite::Result<bool> {
    store::is_project_member(c, pid, uid)
}

/// Projects, issues and people of a workspace to log seeded time on (`keel seed`).
#[allow(clippy::type_complexity)]
pub fn seed_targets(
    c: &rusqlite::Connection,
    slug: &str,
) -> rusqlite::Result<(String, Vec<(String, Vec<String>, Vec<(String, String)>)>)> {
    store::seed_targets(c, slug)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[(&str, i64)]) -> Vec<(String, i64)> {
        v.iter().map(|(a, b)| (a.to_string(), *b)).collect()
    }

    #[test]
    fn numbers_without_duplicates_stay() {
        assert!(resolve_numbers(&s(&[("a", 1), ("b", 2), ("c", 3)])).is_empty());
        assert!(resolve_numbers(&[]).is_empty());
    }

    #[test]
    fn the_first_created_keeps_its_number_and_the_others_follow_the_highest() {
        // Device A made 0190-a (#4) and device B made 0190-b (#4) and 0190-c (#5) offline.
        let merged = s(&[
            ("01", 1),
            ("02", 2),
            ("03", 3),
            ("0190-b", 4),
            ("0190-a", 4),
            ("0190-c", 5),
        ]);
        assert_eq!(resolve_numbers(&merged), vec![("0190-b".to_string(), 4, 6)]);
    }

    #[test]
    fn several_groups_are_renumbered_in_number_then_id_order() {
        let merged = s(&[("z", 2), ("y", 3), ("x", 2), ("w", 3), ("v", 2), ("u", 9)]);
        assert_eq!(
            resolve_numbers(&merged),
            vec![
                ("x".to_string(), 2, 10),
                ("z".to_string(), 2, 11),
                ("y".to_string(), 3, 12),
            ]
        );
    }

    #[test]
    fn the_answer_does_not_depend_on_arrival_order() {
        let a = s(&[("k1", 7), ("k3", 7), ("k2", 7), ("k4", 8), ("k5", 8)]);
        let mut b = a.clone();
        b.reverse();
        let mut c = a.clone();
        c.rotate_left(2);
        let ra = resolve_numbers(&a);
        assert_eq!(ra, resolve_numbers(&b));
        assert_eq!(ra, resolve_numbers(&c));
        // And applying it leaves no duplicates.
        let mut after: Vec<(String, i64)> = a.clone();
        for (id, _, new) in &ra {
            after.iter_mut().filter(|(i, _)| i == id).for_each(|x| x.1 = *new);
        }
        let nums: BTreeSet<i64> = after.iter().map(|x| x.1).collect();
        assert_eq!(nums.len(), after.len());
        assert!(resolve_numbers(&after).is_empty());
    }

    #[test]
    fn fts_queries_quote_every_word() {
        assert_eq!(fts_query("Login bug"), Some("\"login\"* \"bug\"*".into()));
        assert_eq!(
            fts_query("\"a\" OR NEAR(b)"),
            Some("\"a\"* \"or\"* \"near\"* \"b\"*".into())
        );
        assert_eq!(fts_query("  -*- "), None);
    }

    #[test]
    fn colours_and_dates() {
        assert_eq!(parse_color("#ABCDEF"), Ok("#abcdef".into()));
        assert!(parse_color("red").is_err() && parse_color("#abc").is_err());
        assert_eq!(parse_date("2026-02-28"), Ok("2026-02-28".into()));
        assert!(parse_date("2026-02-30").is_err() && parse_date("28/02/2026").is_err());
    }
}
