//! Planning inside a project: cycles (time boxes), modules (bodies of work) and saved views
//! (named issue filters). All three live in the project's document as field-shaped
//! records; an issue is in at most one cycle and one module (fields of the issue).

pub mod records;
pub(crate) mod routes;
pub(crate) mod store;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::docs::{DocRef, Set, TableSpec, Who};
use crate::error::{AppError, Checks};
use crate::http::PageParams;
use crate::issues::{parse_date, IssueFilter, IssuePage, Issues};
use crate::planning::records::{cycles, issue_views, modules};
use crate::policy::ProjRole;
use crate::time::now_rfc3339;
use crate::work::ProjCtx;
use crate::workspaces::parse_name;
use crate::App;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CycleStatus {
    /// No dates yet.
    Draft,
    Upcoming,
    Current,
    Completed,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CycleView {
    pub id: String,
    pub project_id: String,
    pub name: String,
    pub description: String,
    pub start_date: Option<String>,
    pub end_date: Option<String>,
    /// From the dates and today.
    pub status: CycleStatus,
    pub total_issues: i64,
    pub completed_issues: i64,
    pub is_favorite: bool,
    pub created_by: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ModuleStatus {
    Backlog,
    Planned,
    InProgress,
    Paused,
    Completed,
    Cancelled,
}

impl ModuleStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Backlog => "backlog",
            Self::Planned => "planned",
            Self::InProgress => "in_progress",
            Self::Paused => "paused",
            Self::Completed => "completed",
            Self::Cancelled => "cancelled",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::Backlog,
            Self::Planned,
            Self::InProgress,
            Self::Paused,
            Self::Completed,
            Self::Cancelled,
        ]
        .into_iter()
        .find(|m| m.as_str() == s)
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ModuleView {
    pub id: String,
    pub project_id: String,
    pub name: String,
    pub description: String,
    pub status: ModuleStatus,
    pub lead_id: Option<String>,
    pub start_date: Option<String>,
    pub target_date: Option<String>,
    pub total_issues: i64,
    pub completed_issues: i64,
    pub is_favorite: bool,
    pub created_by: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SavedView {
    pub id: String,
    pub project_id: String,
    pub name: String,
    pub description: String,
    /// The issue list's query parameters this view applies (`state_group`, `priority`,
    /// `assignee`, `q`, `order_by`, `group_by`...), as strings.
    #[schema(value_type = std::collections::HashMap<String, String>)]
    pub query: serde_json::Value,
    /// Private views are seen by their creator only.
    pub is_private: bool,
    pub is_favorite: bool,
    pub created_by: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

// ---------------------------------------------------------------------------------------
// Parsing

fn parse_text(raw: &str, max: usize) -> Result<String, String> {
    if raw.chars().count() > max {
        Err(format!("must be at most {max} characters"))
    } else {
        Ok(raw.trim().to_string())
    }
}

/// Validated fields of a cycle or module create/update (`None`: leave as it is).
#[derive(Debug, Default, Clone)]
pub struct PlanInput {
    pub name: Option<String>,
    pub description: Option<String>,
    pub start_date: Option<Option<String>>,
    /// `end_date` of a cycle, `target_date` of a module.
    pub end_date: Option<Option<String>>,
    pub status: Option<ModuleStatus>,
    pub lead_id: Option<Option<String>>,
}

impl PlanInput {
    pub fn parse(
        name: Option<&str>,
        description: Option<&str>,
        start: Option<Option<&str>>,
        end: Option<Option<&str>>,
        end_field: &str,
        creating: bool,
    ) -> Result<Self, AppError> {
        let mut c = Checks::new();
        if creating && name.is_none() {
            c.add("name", "is required");
        }
        let date = |c: &mut Checks, field: &str, v: Option<Option<&str>>| match v {
            None => None,
            Some(None) => Some(None),
            Some(Some(d)) => c.take(field, parse_date(d)).map(Some),
        };
        let p = Self {
            name: name.and_then(|n| c.take("name", parse_name(n, 255))),
            description: description.and_then(|d| c.take("description", parse_text(d, 10_000))),
            start_date: date(&mut c, "start_date", start),
            end_date: date(&mut c, end_field, end),
            status: None,
            lead_id: None,
        };
        if let (Some(Some(s)), Some(Some(e))) = (&p.start_date, &p.end_date) {
            if s > e {
                c.add(end_field, "must not be before the start date");
            }
        }
        c.finish()?;
        Ok(p)
    }
}

/// The keys of a view's query: the issue list's filters, order and grouping.
pub const VIEW_KEYS: [&str; 19] = [
    "state",
    "state_group",
    "priority",
    "assignee",
    "label",
    "cycle",
    "module",
    "parent",
    "created_by",
    "start_from",
    "start_to",
    "target_from",
    "target_to",
    "created_from",
    "created_to",
    "q",
    "order_by",
    "group_by",
    "layout",
];

/// Checks a view's query: an object of known keys with string values that the issue list
/// accepts. Answers the filter it stands for.
pub fn parse_view_query(q: &serde_json::Value) -> Result<IssueFilter, AppError> {
    let obj = q
        .as_object()
        .ok_or_else(|| AppError::field("query", "must be an object of issue-list parameters"))?;
    for (k, v) in obj {
        if !VIEW_KEYS.contains(&k.as_str()) {
            return Err(AppError::field(
                "query",
                format!("{k:.40} is not an issue-list parameter"),
            ));
        }
        if !v.is_string() {
            return Err(AppError::field("query", format!("{k} must be a string")));
        }
    }
    if q.to_string().len() > 8_000 {
        return Err(AppError::field("query", "is too long"));
    }
    let mut list_q = obj.clone();
    list_q.remove("layout");
    let parsed: crate::issues::IssueListQuery = serde_json::from_value(serde_json::Value::Object(list_q))
        .map_err(|e| AppError::field("query", format!("{e}")))?;
    crate::issues::parse_filter(&parsed).map_err(|e| match e {
        AppError::Validation(f) => AppError::field(
            "query",
            f.iter()
                .map(|(k, v)| format!("{k}: {v}"))
                .collect::<Vec<_>>()
                .join("; "),
        ),
        other => other,
    })
}

/// Whether `id` is a live cycle of the project (for the issue write path).
pub fn cycle_exists(c: &rusqlite::Connection, pid: &str, id: &str) -> rusqlite::Result<bool> {
    store::exists(c, "cycles", pid, id)
}

/// Whether `id` is a live module of the project.
pub fn module_exists(c: &rusqlite::Connection, pid: &str, id: &str) -> rusqlite::Result<bool> {
    store::exists(c, "modules", pid, id)
}

/// The project a cycle, module or view of the workspace belongs to (for favorites and
/// recents), if it is live; `private_owner` is the creator of a private view.
pub fn owner_project(
    c: &rusqlite::Connection,
    ws_id: &str,
    entity_type: &str,
    id: &str,
) -> rusqlite::Result<Option<(String, Option<String>)>> {
    store::owner_project(c, ws_id, entity_type, id)
}

// ---------------------------------------------------------------------------------------
// The domain

pub struct Planning<'a>(pub &'a App);

fn ids(pc: &ProjCtx) -> (String, String, String) {
    (pc.ws.ws.id.clone(), pc.project.id.clone(), pc.ws.actor.user_id.clone())
}

fn may_change(pc: &ProjCtx, created_by: Option<&str>, what: &'static str) -> Result<(), AppError> {
    if pc.role >= ProjRole::Admin || created_by == Some(pc.ws.actor.user_id.as_str()) {
        Ok(())
    } else {
        Err(AppError::denied(
            "not_creator",
            format!("only the {what}'s creator or a project admin can change or delete it"),
        ))
    }
}

impl Planning<'_> {
    // Cycles -------------------------------------------------------------------------------

    pub async fn cycles(&self, pc: &ProjCtx) -> Result<Vec<CycleView>, AppError> {
        let (_, pid, uid) = ids(pc);
        self.0
            .readers
            .read(move |c| Ok(store::cycles(c, &pid, &uid, None)?))
            .await
    }

    pub async fn cycle(&self, pc: &ProjCtx, id: &str) -> Result<CycleView, AppError> {
        let (_, pid, uid) = ids(pc);
        let id = id.to_string();
        self.0
            .readers
            .read(move |c| {
                store::cycles(c, &pid, &uid, Some(&id))?
                    .pop()
                    .ok_or(AppError::not_found("cycle"))
            })
            .await
    }

    pub async fn save_cycle(&self, pc: &ProjCtx, id: Option<&str>, p: PlanInput) -> Result<CycleView, AppError> {
        let who = Who::user(&pc.ws.actor.user_id);
        crate::work::refuse_if_archived(&pc.project)?;
        let (ws, pid, uid) = ids(pc);
        let existing = id.map(str::to_string);
        let pc2 = pc.clone();
        let cid = self
            .0
            .writer
            .write(move |ctx| {
                let cur = match &existing {
                    Some(id) => {
                        let cur = store::cycles(ctx.conn, &pid, &uid, Some(id))?
                            .pop()
                            .ok_or(AppError::not_found("cycle"))?;
                        may_change(&pc2, cur.created_by.as_deref(), "cycle")?;
                        Some(cur)
                    }
                    None => None,
                };
                let start = p
                    .start_date
                    .clone()
                    .unwrap_or(cur.as_ref().and_then(|c| c.start_date.clone()));
                let end = p
                    .end_date
                    .clone()
                    .unwrap_or(cur.as_ref().and_then(|c| c.end_date.clone()));
                match (&start, &end) {
                    (Some(s), Some(e)) => {
                        if s > e {
                            return Err(AppError::field("end_date", "must not be before the start date"));
                        }
                        if let Some(other) = store::overlapping_cycle(ctx.conn, &pid, s, e, existing.as_deref())? {
                            return Err(AppError::conflict(
                                "cycle_overlaps",
                                format!("the dates overlap the cycle \"{other}\""),
                            ));
                        }
                    }
                    (None, None) => {}
                    _ => return Err(AppError::field("end_date", "a cycle has both dates or neither")),
                }
                let now = now_rfc3339();
                let id = existing.clone().unwrap_or_else(crate::new_id);
                let mut f: Vec<Set> = vec![cycles::updated_at.to(now.as_str())];
                if let Some(v) = &p.name {
                    f.push(cycles::name.to(v.as_str()));
                }
                if let Some(v) = &p.description {
                    f.push(cycles::description.to(v.as_str()));
                }
                if p.start_date.is_some() || cur.is_none() {
                    f.push(cycles::start_date.to(start.clone()));
                }
                if p.end_date.is_some() || cur.is_none() {
                    f.push(cycles::end_date.to(end.clone()));
                }
                ctx.edit(&who, &DocRef::project(&ws, &pid), |e| {
                    if cur.is_some() {
                        e.set(cycles::SPEC, &id, &f)
                    } else {
                        f.extend([
                            cycles::workspace_id.to(ws.as_str()),
                            cycles::project_id.to(pid.as_str()),
                            cycles::created_at.to(now.as_str()),
                            cycles::created_by.to(uid.as_str()),
                            cycles::deleted_at.null(),
                        ]);
                        if p.description.is_none() {
                            f.push(cycles::description.to(""));
                        }
                        e.create(cycles::SPEC, &id, &f)
                    }
                })?;
                Ok(id)
            })
            .await?;
        self.cycle(pc, &cid).await
    }

    // Modules ------------------------------------------------------------------------------

    pub async fn modules(&self, pc: &ProjCtx) -> Result<Vec<ModuleView>, AppError> {
        let (_, pid, uid) = ids(pc);
        self.0
            .readers
            .read(move |c| Ok(store::modules(c, &pid, &uid, None)?))
            .await
    }

    pub async fn module(&self, pc: &ProjCtx, id: &str) -> Result<ModuleView, AppError> {
        let (_, pid, uid) = ids(pc);
        let id = id.to_string();
        self.0
            .readers
            .read(move |c| {
                store::modules(c, &pid, &uid, Some(&id))?
                    .pop()
                    .ok_or(AppError::not_found("module"))
            })
            .await
    }

    pub async fn save_module(&self, pc: &ProjCtx, id: Option<&str>, p: PlanInput) -> Result<ModuleView, AppError> {
        let who = Who::user(&pc.ws.actor.user_id);
        crate::work::refuse_if_archived(&pc.project)?;
        let (ws, pid, uid) = ids(pc);
        let existing = id.map(str::to_string);
        let pc2 = pc.clone();
        let mid = self
            .0
            .writer
            .write(move |ctx| {
                let cur = match &existing {
                    Some(id) => {
                        let cur = store::modules(ctx.conn, &pid, &uid, Some(id))?
                            .pop()
                            .ok_or(AppError::not_found("module"))?;
                        may_change(&pc2, cur.created_by.as_deref(), "module")?;
                        Some(cur)
                    }
                    None => None,
                };
                if let Some(n) = &p.name {
                    if store::module_name_taken(ctx.conn, &pid, n, existing.as_deref())? {
                        return Err(AppError::conflict(
                            "module_exists",
                            "this project has a module with this name",
                        ));
                    }
                }
                if let Some(Some(lead)) = &p.lead_id {
                    if !crate::issues::is_project_member(ctx.conn, &pid, lead)? {
                        return Err(AppError::field("lead_id", "is not a member of this project"));
                    }
                }
                let start = p
                    .start_date
                    .clone()
                    .unwrap_or(cur.as_ref().and_then(|c| c.start_date.clone()));
                let end = p
                    .end_date
                    .clone()
                    .unwrap_or(cur.as_ref().and_then(|c| c.target_date.clone()));
                if let (Some(s), Some(e)) = (&start, &end) {
                    if s > e {
                        return Err(AppError::field("target_date", "must not be before the start date"));
                    }
                }
                let now = now_rfc3339();
                let id = existing.clone().unwrap_or_else(crate::new_id);
                let mut f: Vec<Set> = vec![modules::updated_at.to(now.as_str())];
                if let Some(v) = &p.name {
                    f.push(modules::name.to(v.as_str()));
                }
                if let Some(v) = &p.description {
                    f.push(modules::description.to(v.as_str()));
                }
                if let Some(v) = p.status {
                    f.push(modules::status.to(v.as_str()));
                }
                if let Some(v) = &p.lead_id {
                    f.push(modules::lead_id.to(v.clone()));
                }
                if p.start_date.is_some() {
                    f.push(modules::start_date.to(start.clone()));
                }
                if p.end_date.is_some() {
                    f.push(modules::target_date.to(end.clone()));
                }
                ctx.edit(&who, &DocRef::project(&ws, &pid), |e| {
                    if cur.is_some() {
                        e.set(modules::SPEC, &id, &f)
                    } else {
                        f.extend([
                            modules::workspace_id.to(ws.as_str()),
                            modules::project_id.to(pid.as_str()),
                            modules::created_at.to(now.as_str()),
                            modules::created_by.to(uid.as_str()),
                            modules::deleted_at.null(),
                        ]);
                        for d in [
                            modules::description.to(""),
                            modules::status.to("planned"),
                            modules::lead_id.null(),
                            modules::start_date.null(),
                            modules::target_date.null(),
                        ] {
                            if !f.iter().any(|s| s.name() == d.name()) {
                                f.push(d);
                            }
                        }
                        e.create(modules::SPEC, &id, &f)
                    }
                })?;
                Ok(id)
            })
            .await?;
        self.module(pc, &mid).await
    }

    /// Deletes a cycle or module (its creator or a project admin); its issues leave it.
    pub async fn delete(&self, pc: &ProjCtx, spec: &'static TableSpec, id: &str) -> Result<(), AppError> {
        let who = Who::user(&pc.ws.actor.user_id);
        crate::work::refuse_if_archived(&pc.project)?;
        let (ws, pid, _) = ids(pc);
        let id = id.to_string();
        let pc2 = pc.clone();
        self.0
            .writer
            .write(move |ctx| {
                let now = now_rfc3339();
                let (what, column, gone) = if spec == cycles::SPEC {
                    (
                        "cycle",
                        crate::issues::records::issues::cycle_id,
                        [cycles::deleted_at.to(now.as_str()), cycles::updated_at.to(now.as_str())],
                    )
                } else {
                    (
                        "module",
                        crate::issues::records::issues::module_id,
                        [
                            modules::deleted_at.to(now.as_str()),
                            modules::updated_at.to(now.as_str()),
                        ],
                    )
                };
                let created_by = store::created_by(ctx.conn, spec.name, &pid, &id)?.ok_or(AppError::not_found(what))?;
                may_change(&pc2, created_by.as_deref(), what)?;
                let issues = crate::issues::issues_in(ctx.conn, column.name, &id)?;
                ctx.edit(&who, &DocRef::project(&ws, &pid), |e| {
                    e.set(spec, &id, &gone)?;
                    crate::issues::clear_field(e, &issues, column, &now)
                })
            })
            .await
    }

    // Saved views ----------------------------------------------------------------------------

    pub async fn views(&self, pc: &ProjCtx) -> Result<Vec<SavedView>, AppError> {
        let (_, pid, uid) = ids(pc);
        self.0
            .readers
            .read(move |c| Ok(store::views(c, &pid, &uid, None)?))
            .await
    }

    pub async fn view(&self, pc: &ProjCtx, id: &str) -> Result<SavedView, AppError> {
        let (_, pid, uid) = ids(pc);
        let id = id.to_string();
        self.0
            .readers
            .read(move |c| {
                store::views(c, &pid, &uid, Some(&id))?
                    .pop()
                    .ok_or(AppError::not_found("view"))
            })
            .await
    }

    pub async fn save_view(
        &self,
        pc: &ProjCtx,
        id: Option<&str>,
        name: Option<String>,
        description: Option<String>,
        query: Option<serde_json::Value>,
        is_private: Option<bool>,
    ) -> Result<SavedView, AppError> {
        let who = Who::user(&pc.ws.actor.user_id);
        crate::work::refuse_if_archived(&pc.project)?;
        let (ws, pid, uid) = ids(pc);
        let existing = id.map(str::to_string);
        let pc2 = pc.clone();
        let vid = self
            .0
            .writer
            .write(move |ctx| {
                let cur = match &existing {
                    Some(id) => {
                        let cur = store::views(ctx.conn, &pid, &uid, Some(id))?
                            .pop()
                            .ok_or(AppError::not_found("view"))?;
                        may_change(&pc2, cur.created_by.as_deref(), "view")?;
                        // A private view is its author's alone: an admin who could make
                        // somebody's view private would lose it themselves at once.
                        if is_private == Some(true)
                            && !cur.is_private
                            && cur.created_by.as_deref() != Some(uid.as_str())
                        {
                            return Err(AppError::forbidden("only the view's author can make it private"));
                        }
                        Some(cur)
                    }
                    None => None,
                };
                let now = now_rfc3339();
                let id = existing.clone().unwrap_or_else(crate::new_id);
                let mut f: Vec<Set> = vec![issue_views::updated_at.to(now.as_str())];
                if let Some(v) = &name {
                    f.push(issue_views::name.to(v.as_str()));
                }
                if let Some(v) = &description {
                    f.push(issue_views::description.to(v.as_str()));
                }
                if let Some(v) = &query {
                    f.push(issue_views::query.to(v.to_string()));
                }
                if let Some(v) = is_private {
                    f.push(issue_views::is_private.to(v));
                }
                ctx.edit(&who, &DocRef::project(&ws, &pid), |e| {
                    if cur.is_some() {
                        e.set(issue_views::SPEC, &id, &f)
                    } else {
                        f.extend([
                            issue_views::workspace_id.to(ws.as_str()),
                            issue_views::project_id.to(pid.as_str()),
                            issue_views::created_at.to(now.as_str()),
                            issue_views::created_by.to(uid.as_str()),
                            issue_views::deleted_at.null(),
                        ]);
                        for d in [
                            issue_views::description.to(""),
                            issue_views::query.to("{}"),
                            issue_views::is_private.to(false),
                        ] {
                            if !f.iter().any(|s| s.name() == d.name()) {
                                f.push(d);
                            }
                        }
                        e.create(issue_views::SPEC, &id, &f)
                    }
                })?;
                Ok(id)
            })
            .await?;
        self.view(pc, &vid).await
    }

    pub async fn delete_view(&self, pc: &ProjCtx, id: &str) -> Result<(), AppError> {
        let who = Who::user(&pc.ws.actor.user_id);
        let v = self.view(pc, id).await?;
        may_change(pc, v.created_by.as_deref(), "view")?;
        crate::work::refuse_if_archived(&pc.project)?;
        let (ws, pid, _) = ids(pc);
        let id = id.to_string();
        self.0
            .writer
            .write(move |ctx| {
                let now = now_rfc3339();
                ctx.edit(&who, &DocRef::project(&ws, &pid), |e| {
                    e.set(
                        issue_views::SPEC,
                        &id,
                        &[
                            issue_views::deleted_at.to(now.as_str()),
                            issue_views::updated_at.to(now.as_str()),
                        ],
                    )
                })
            })
            .await
    }

    /// The issues a view selects, a page at a time.
    pub async fn view_issues(&self, pc: &ProjCtx, id: &str, p: PageParams) -> Result<IssuePage, AppError> {
        let v = self.view(pc, id).await?;
        let filter = parse_view_query(&v.query)?;
        Issues(self.0).list(pc, filter, p).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn view_queries_are_issue_list_parameters() {
        let f =
            parse_view_query(&json!({"priority": "urgent,high", "q": "login", "group_by": "state", "layout": "board"}))
                .unwrap();
        assert_eq!(f.priorities.len(), 2);
        assert!(f.fts.is_some());
        for bad in [
            json!([1]),
            json!({"priority": "asap"}),
            json!({"drop": "table"}),
            json!({"priority": 1}),
            json!({"group_by": "colour"}),
        ] {
            let e = parse_view_query(&bad).unwrap_err();
            assert!(
                matches!(e, AppError::Validation(ref m) if m.contains_key("query")),
                "{bad}: {e:?}"
            );
        }
    }
}
