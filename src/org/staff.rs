//! Staff records (seed 003): one profile per member per workspace, with transfers between
//! departments, deactivation, statistics and CSV export. The profile lives in the workspace
//! document; phone, job grade and notes (`staff_private`) and the history of transfers
//! (`staff_transfers`) live in the workspace's staff document, which only admins read, so
//! those fields never reach a member's device. Every rule is a record rule
//! (`records::STAFF_PROFILES`, `STAFF_PRIVATE`, `STAFF_TRANSFERS`).

use std::collections::HashMap;

use serde::Serialize;
use utoipa::ToSchema;

use super::records::{self, is_active_status, is_current, staff_key, STATUSES};
use super::store::{self, StaffRow, StaffWhere};
use crate::db::WriteCtx;
use crate::docs::{DocRef, Edit, Set, TableSpec, Who};
use crate::error::{AppError, Checks};
use crate::http::{Page, PageParams};
use crate::org::records::{staff_private, staff_profiles, staff_transfers};
use crate::policy::WsRole;
use crate::time::now_rfc3339;
use crate::workspaces::WsCtx;
use crate::App;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StaffView {
    /// `{workspace_id}:{user_id}`: one record per member per workspace.
    pub id: String,
    pub workspace_id: String,
    pub user_id: String,
    pub display_name: String,
    pub email: String,
    /// Up to 8 letters, digits, `-` or `_`; unique in the workspace (without case).
    pub staff_id: String,
    pub department_id: Option<String>,
    pub department_name: Option<String>,
    pub department_code: Option<String>,
    pub position: String,
    pub date_of_joining: Option<String>,
    pub date_of_leaving: Option<String>,
    /// active, probation, resigned, suspended or transferred.
    pub employment_status: String,
    pub is_department_manager: bool,
    /// Workspace admins only: absent for everyone else.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// Workspace admins only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub job_grade: Option<String>,
    /// Workspace admins only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

fn staff_view(r: StaffRow, admin: bool) -> StaffView {
    let private = |s: String| admin.then_some(s);
    StaffView {
        id: r.id,
        workspace_id: r.workspace_id,
        user_id: r.user_id,
        display_name: r.display_name,
        email: r.email,
        staff_id: r.staff_id,
        department_id: r.department_id,
        department_name: r.department_name,
        department_code: r.department_code,
        position: r.position,
        date_of_joining: r.date_of_joining,
        date_of_leaving: r.date_of_leaving,
        employment_status: r.employment_status,
        is_department_manager: r.is_department_manager,
        phone: private(r.phone),
        job_grade: private(r.job_grade),
        notes: private(r.notes),
        created_at: r.created_at,
        updated_at: r.updated_at,
    }
}

/// A staff record's fields as a request (or an import row) gives them; `None` leaves a
/// field as it is (a PATCH) or at its default (a create). Nullable fields take `Some(None)`.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct StaffInput {
    pub staff_id: Option<String>,
    pub department_id: Option<Option<String>>,
    pub position: Option<String>,
    pub job_grade: Option<String>,
    pub phone: Option<String>,
    pub date_of_joining: Option<Option<String>>,
    pub date_of_leaving: Option<Option<String>>,
    pub employment_status: Option<String>,
    pub is_department_manager: Option<bool>,
    pub notes: Option<String>,
}

fn trimmed(v: &mut Option<String>) {
    if let Some(s) = v {
        *s = s.trim().to_string();
    }
}

impl StaffInput {
    /// Checks the fields given, naming every bad one; a create needs a staff id. The same
    /// rules as the record's (`records::STAFF_PROFILES`), said before anything is written.
    pub fn check(mut self, create: bool) -> Result<Self, AppError> {
        let mut c = Checks::new();
        trimmed(&mut self.staff_id);
        trimmed(&mut self.position);
        trimmed(&mut self.job_grade);
        trimmed(&mut self.phone);
        if let Some(s) = &mut self.employment_status {
            *s = s.trim().to_lowercase();
        }
        for v in [
            &mut self.date_of_joining,
            &mut self.date_of_leaving,
            &mut self.department_id,
        ] {
            if let Some(Some(s)) = v {
                *s = s.trim().to_string();
                if s.is_empty() {
                    *v = Some(None);
                }
            }
        }
        if let Some(s) = &self.staff_id {
            if !records::valid_staff_id(s) {
                c.add("staff_id", "must be 1 to 8 letters, digits, - or _");
            }
        } else if create {
            c.add("staff_id", "is required");
        }
        if self
            .position
            .as_deref()
            .is_some_and(|p| p.chars().count() > 255 || p.chars().any(char::is_control))
        {
            c.add("position", "must be at most 255 characters, without control characters");
        }
        if self
            .job_grade
            .as_deref()
            .is_some_and(|p| p.chars().count() > 50 || p.chars().any(char::is_control))
        {
            c.add("job_grade", "must be at most 50 characters, without control characters");
        }
        if self.phone.as_deref().is_some_and(|p| !records::valid_phone(p)) {
            c.add(
                "phone",
                "must be up to 20 digits, spaces or + - ( ) . with a digit in it",
            );
        }
        if self.notes.as_deref().is_some_and(|n| n.chars().count() > 5000) {
            c.add("notes", "must be at most 5000 characters");
        }
        if self
            .employment_status
            .as_deref()
            .is_some_and(|s| !STATUSES.contains(&s))
        {
            c.add(
                "employment_status",
                "must be one of active, probation, resigned, suspended, transferred",
            );
        }
        for (f, v) in [
            ("date_of_joining", &self.date_of_joining),
            ("date_of_leaving", &self.date_of_leaving),
        ] {
            if v.as_ref()
                .and_then(|d| d.as_deref())
                .is_some_and(|d| !records::valid_day(d))
            {
                c.add(f, "must be a date like 2026-11-22");
            }
        }
        if self.is_department_manager == Some(true)
            && self
                .employment_status
                .as_deref()
                .is_some_and(|s| !records::is_current(s))
        {
            c.add(
                "is_department_manager",
                "only a person who works here now manages a department",
            );
        }
        if let (Some(Some(from)), Some(Some(to))) = (&self.date_of_joining, &self.date_of_leaving) {
            if to < from && records::valid_day(from) && records::valid_day(to) {
                c.add("date_of_leaving", "must not be before the date of joining");
            }
        }
        c.finish()?;
        Ok(self)
    }
}

/// Which staff records a list (or an export) answers, and in which order.
#[derive(Debug, Clone, Default)]
pub struct StaffFilter {
    /// In this department (`Some(None)`: in none, or in one deleted since).
    pub department: Option<Option<String>>,
    /// With the department's whole subtree.
    pub subtree: bool,
    pub statuses: Vec<String>,
    pub search: Option<String>,
    pub sort: StaffSort,
}

/// The orders a staff list takes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum StaffSort {
    #[default]
    StaffId,
    StaffIdDesc,
    Name,
    NameDesc,
    Joined,
    JoinedDesc,
    Department,
    Status,
}

impl StaffSort {
    pub const ALL: [(&'static str, StaffSort); 8] = [
        ("staff_id", StaffSort::StaffId),
        ("-staff_id", StaffSort::StaffIdDesc),
        ("name", StaffSort::Name),
        ("-name", StaffSort::NameDesc),
        ("date_of_joining", StaffSort::Joined),
        ("-date_of_joining", StaffSort::JoinedDesc),
        ("department", StaffSort::Department),
        ("employment_status", StaffSort::Status),
    ];
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.iter().find(|(n, _)| *n == s).map(|(_, v)| *v)
    }
    fn order_by(self) -> &'static str {
        match self {
            StaffSort::StaffId => "s.staff_id COLLATE NOCASE",
            StaffSort::StaffIdDesc => "s.staff_id COLLATE NOCASE DESC",
            StaffSort::Name => "u.display_name COLLATE NOCASE",
            StaffSort::NameDesc => "u.display_name COLLATE NOCASE DESC",
            StaffSort::Joined => "s.date_of_joining IS NULL, s.date_of_joining",
            StaffSort::JoinedDesc => "s.date_of_joining IS NULL, s.date_of_joining DESC",
            StaffSort::Department => "d.name IS NULL, d.name COLLATE NOCASE, u.display_name COLLATE NOCASE",
            StaffSort::Status => "s.employment_status, u.display_name COLLATE NOCASE",
        }
    }
}

/// One transfer between departments, newest first in a person's history.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TransferView {
    pub id: String,
    pub user_id: String,
    pub from_department_id: Option<String>,
    pub from_department_name: Option<String>,
    pub to_department_id: Option<String>,
    pub to_department_name: Option<String>,
    pub effective_date: String,
    pub reason: String,
    pub created_at: String,
    pub created_by: Option<String>,
    pub created_by_name: Option<String>,
}

/// Staff counts of one department: its own people and those of its whole subtree.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DepartmentCount {
    pub department_id: String,
    pub name: String,
    pub level: i64,
    pub parent_id: Option<String>,
    /// Live records in this department, of any status.
    pub own: i64,
    pub own_active: i64,
    /// Live records in this department and every department below it.
    pub subtree: i64,
    pub subtree_active: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StatusCount {
    pub status: String,
    pub count: i64,
}

/// Counts of the workspace's staff: per status, per department (own and subtree), and the
/// active/inactive ratio (active and probation count as active).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StaffStats {
    pub total: i64,
    pub active: i64,
    pub inactive: i64,
    /// `active / total` (0 without staff).
    pub active_ratio: f64,
    /// Every status, in the order of the seed, zeros included.
    pub by_status: Vec<StatusCount>,
    /// Every live department in tree order.
    pub by_department: Vec<DepartmentCount>,
    /// People in no (live) department.
    pub unassigned: i64,
}

/// The departments' staff counts (current statuses), own and subtree, by id: for the tree.
pub(super) fn current_counts(c: &rusqlite::Connection, ws: &str) -> Result<HashMap<String, i64>, AppError> {
    let mut own: HashMap<String, i64> = HashMap::new();
    for (d, status, n) in store::staff_counts(c, ws)? {
        if let (Some(d), true) = (d, is_current(&status)) {
            *own.entry(d).or_default() += n;
        }
    }
    Ok(own)
}

/// The reason of a transfer that an import made.
pub const TRANSFER_BY_IMPORT: &str = "Imported from a file";

/// A move of a person between departments: recorded as a transfer in the staff document.
pub(super) struct Move<'a> {
    pub user: &'a str,
    pub from: Option<String>,
    pub to: Option<String>,
    pub date: String,
    pub reason: String,
}

pub(super) fn transfer_fields<'a>(ws: &'a str, m: &'a Move<'_>, by: &'a str, now: &'a str) -> Vec<Set> {
    vec![
        staff_transfers::workspace_id.to(ws),
        staff_transfers::user_id.to(m.user),
        staff_transfers::from_department_id.to(m.from.clone()),
        staff_transfers::to_department_id.to(m.to.clone()),
        staff_transfers::effective_date.to(m.date.as_str()),
        staff_transfers::reason.to(m.reason.as_str()),
        staff_transfers::created_at.to(now),
        staff_transfers::updated_at.to(now),
        staff_transfers::created_by.to(by),
        staff_transfers::deleted_at.null(),
    ]
}

/// Writes the transfers of `moves` into the staff document, in the caller's job.
pub(super) fn record_moves(ctx: &mut WriteCtx<'_>, who: &Who, ws: &str, moves: &[Move<'_>]) -> Result<(), AppError> {
    if moves.is_empty() {
        return Ok(());
    }
    let now = now_rfc3339();
    let by = who.user_id().unwrap_or_default().to_string();
    ctx.edit(who, &DocRef::staff(ws), |e| {
        for m in moves {
            e.create(
                staff_transfers::SPEC,
                &crate::new_id(),
                &transfer_fields(ws, m, &by, &now),
            )?;
        }
        Ok(())
    })
}

pub(super) fn today() -> String {
    crate::timetrack::today().format("%Y-%m-%d").to_string()
}

/// Sets a record's fields, making it whole when it does not exist (a field-shaped record
/// under a derived key: made again after a delete by setting every field).
fn upsert(e: &mut Edit<'_>, spec: &'static TableSpec, id: &str, exists: bool, f: &[Set]) -> Result<(), AppError> {
    if exists {
        e.set(spec, id, f)
    } else {
        e.create(spec, id, f)
    }
}

/// The fields of a new profile from `i` (checked), for `user`.
pub(super) fn profile_fields(ws: &str, user: &str, i: &StaffInput, by: &str, now: &str) -> Vec<Set> {
    vec![
        staff_profiles::workspace_id.to(ws),
        staff_profiles::user_id.to(user),
        staff_profiles::staff_id.to(i.staff_id.clone()),
        staff_profiles::department_id.to(i.department_id.clone().flatten()),
        staff_profiles::position.to(i.position.clone().unwrap_or_default()),
        staff_profiles::date_of_joining.to(i.date_of_joining.clone().flatten()),
        staff_profiles::date_of_leaving.to(i.date_of_leaving.clone().flatten()),
        staff_profiles::employment_status.to(i.employment_status.clone().unwrap_or_else(|| "active".into())),
        staff_profiles::is_department_manager.to(i.is_department_manager.unwrap_or(false)),
        staff_profiles::created_at.to(now),
        staff_profiles::updated_at.to(now),
        staff_profiles::created_by.to(by),
        staff_profiles::deleted_at.null(),
    ]
}

pub(super) fn private_fields(ws: &str, user: &str, i: &StaffInput, by: &str, now: &str) -> Vec<Set> {
    vec![
        staff_private::workspace_id.to(ws),
        staff_private::user_id.to(user),
        staff_private::phone.to(i.phone.clone().unwrap_or_default()),
        staff_private::job_grade.to(i.job_grade.clone().unwrap_or_default()),
        staff_private::notes.to(i.notes.clone().unwrap_or_default()),
        staff_private::created_at.to(now),
        staff_private::updated_at.to(now),
        staff_private::created_by.to(by),
        staff_private::deleted_at.null(),
    ]
}

/// A record's fields as an edit writes them.
pub(super) type Fields = Vec<Set>;

/// The changed fields of an existing profile and private record from `i`.
pub(super) fn changed_fields(i: &StaffInput, now: &str) -> (Fields, Fields) {
    let mut p: Vec<Set> = Vec::new();
    if let Some(v) = &i.staff_id {
        p.push(staff_profiles::staff_id.to(v.as_str()));
    }
    if let Some(v) = &i.department_id {
        p.push(staff_profiles::department_id.to(v.clone()));
    }
    if let Some(v) = &i.position {
        p.push(staff_profiles::position.to(v.as_str()));
    }
    if let Some(v) = &i.date_of_joining {
        p.push(staff_profiles::date_of_joining.to(v.clone()));
    }
    if let Some(v) = &i.date_of_leaving {
        p.push(staff_profiles::date_of_leaving.to(v.clone()));
    }
    if let Some(v) = &i.employment_status {
        p.push(staff_profiles::employment_status.to(v.as_str()));
    }
    if let Some(v) = i.is_department_manager {
        p.push(staff_profiles::is_department_manager.to(v));
    }
    let mut q: Vec<Set> = Vec::new();
    for (f, v) in [
        (staff_private::phone, &i.phone),
        (staff_private::job_grade, &i.job_grade),
        (staff_private::notes, &i.notes),
    ] {
        if let Some(v) = v {
            q.push(f.to(v.as_str()));
        }
    }
    if !p.is_empty() {
        p.push(staff_profiles::updated_at.to(now));
    }
    if !q.is_empty() {
        q.push(staff_private::updated_at.to(now));
    }
    (p, q)
}

/// Creates (`create`) or changes the staff record of `user` in one writer job: the profile
/// in the workspace document, the private fields in the staff document, and a transfer
/// when the department changes. Answers the department it left, if it moved.
pub(super) fn save_in(
    ctx: &mut WriteCtx<'_>,
    who: &Who,
    ws: &str,
    user: &str,
    i: &StaffInput,
    create: bool,
) -> Result<(), AppError> {
    save_records(ctx, who, ws, user, i, create)?;
    records::check_staff(ctx.conn, ws, user, create)?;
    super::managers::reconcile(ctx, who, ws, None).map(|_| ())
}

pub(super) fn save_records(
    ctx: &mut WriteCtx<'_>,
    who: &Who,
    ws: &str,
    user: &str,
    i: &StaffInput,
    create: bool,
) -> Result<(), AppError> {
    let now = now_rfc3339();
    let by = who.user_id().unwrap_or_default().to_string();
    let key = staff_key(ws, user);
    let exists = store::staff_exists(ctx.conn, ws, user)?;
    let before = store::staff_of(ctx.conn, ws, user)?;
    match (create, exists) {
        (true, Some(true)) => {
            return Err(AppError::conflict(
                "staff_record_exists",
                "this person already has a staff record in this workspace",
            ))
        }
        (false, None | Some(false)) => return Err(AppError::not_found("staff record")),
        _ => {}
    }
    if create {
        let p = profile_fields(ws, user, i, &by, &now);
        ctx.edit(who, &DocRef::workspace(ws), |e| {
            upsert(e, staff_profiles::SPEC, &key, exists.is_some(), &p)
        })?;
        let had_private = store::private_exists(ctx.conn, &key)?;
        let q = private_fields(ws, user, i, &by, &now);
        ctx.edit(who, &DocRef::staff(ws), |e| {
            upsert(e, staff_private::SPEC, &key, had_private, &q)
        })?;
        return Ok(());
    }
    let (p, q) = changed_fields(i, &now);
    if !p.is_empty() {
        ctx.edit(who, &DocRef::workspace(ws), |e| e.set(staff_profiles::SPEC, &key, &p))?;
    }
    if !q.is_empty() {
        let had_private = store::private_exists(ctx.conn, &key)?;
        if had_private {
            ctx.edit(who, &DocRef::staff(ws), |e| e.set(staff_private::SPEC, &key, &q))?;
        } else {
            let q = private_fields(ws, user, i, &by, &now);
            ctx.edit(who, &DocRef::staff(ws), |e| e.create(staff_private::SPEC, &key, &q))?;
        }
    }
    // A change of department through an edit is a transfer too, effective today.
    if let (Some(b), Some(to)) = (&before, &i.department_id) {
        if b.department_id != *to {
            let m = Move {
                user,
                from: b.department_id.clone(),
                to: to.clone(),
                date: today(),
                reason: String::new(),
            };
            record_moves(ctx, who, ws, &[m])?;
        }
    }
    Ok(())
}

/// The list's `WHERE` from a filter: a department's subtree is resolved here, from the tree.
fn staff_where(
    c: &rusqlite::Connection,
    ws: &str,
    f: &StaffFilter,
    kept: &super::TreeCache,
) -> Result<StaffWhere, AppError> {
    let departments = match &f.department {
        None => None,
        Some(None) => Some(vec![String::new()]),
        Some(Some(d)) if f.subtree => Some(super::subtree_ids(c, ws, d, kept)?),
        Some(Some(d)) => Some(vec![d.clone()]),
    };
    Ok(StaffWhere {
        departments,
        statuses: (!f.statuses.is_empty()).then(|| f.statuses.clone()),
        // As typed: the trigram index and LIKE both ignore case themselves (lowering
        // first would change some letters, such as İ, into two).
        search: f.search.clone(),
    })
}

pub struct Staff<'a>(pub &'a App);

impl Staff<'_> {
    pub async fn list(&self, w: &WsCtx, f: StaffFilter, p: PageParams) -> Result<Page<StaffView>, AppError> {
        let ws = w.ws.id.clone();
        let admin = w.role >= WsRole::Admin;
        let (limit, offset) = p.limit_offset();
        let app = self.0.clone();
        let (rows, total) = self
            .0
            .readers
            .read(move |c| {
                let wh = staff_where(c, &ws, &f, &app.org_trees)?;
                Ok(store::staff_page(c, &ws, &wh, f.sort.order_by(), limit, offset)?)
            })
            .await?;
        Ok(Page::new(
            rows.into_iter().map(|r| staff_view(r, admin)).collect(),
            total,
            p,
        ))
    }

    pub async fn get(&self, w: &WsCtx, user: &str) -> Result<StaffView, AppError> {
        let (ws, user) = (w.ws.id.clone(), user.to_string());
        let admin = w.role >= WsRole::Admin;
        let row = self
            .0
            .readers
            .read(move |c| Ok(store::staff_of(c, &ws, &user)?))
            .await?;
        row.map(|r| staff_view(r, admin))
            .ok_or(AppError::not_found("staff record"))
    }

    /// Creates the staff record of `user` (a workspace member) or changes it.
    pub async fn save(&self, w: &WsCtx, user: &str, i: StaffInput, create: bool) -> Result<StaffView, AppError> {
        let who = Who::user(&w.actor.user_id);
        let (ws, u) = (w.ws.id.clone(), user.to_string());
        self.0
            .writer
            .write(move |ctx| save_in(ctx, &who, &ws, &u, &i, create))
            .await?;
        self.get(w, user).await
    }

    /// Moves a person to another department (or none) from `date`, recording why.
    pub async fn transfer(
        &self,
        w: &WsCtx,
        user: &str,
        to: Option<String>,
        date: Option<String>,
        reason: String,
    ) -> Result<StaffView, AppError> {
        let who = Who::user(&w.actor.user_id);
        let (ws, u) = (w.ws.id.clone(), user.to_string());
        self.0
            .writer
            .write(move |ctx| {
                let cur = store::staff_of(ctx.conn, &ws, &u)?.ok_or(AppError::not_found("staff record"))?;
                if cur.department_id == to {
                    return Err(AppError::refused(
                        "transfer_same_department",
                        "this person is already in that department",
                    ));
                }
                if !is_current(&cur.employment_status) {
                    return Err(AppError::refused(
                        "staff_inactive",
                        format!("a person who is {} is not transferred", cur.employment_status),
                    ));
                }
                let date = date.unwrap_or_else(today);
                // The move takes effect now (the record's department changes now), and a
                // later move by an edit, an import or a department's delete is dated today:
                // a transfer dated ahead would put that history out of order.
                if date > today() {
                    return Err(AppError::field("effective_date", "must not be in the future"));
                }
                if cur.date_of_joining.as_deref().is_some_and(|j| date.as_str() < j) {
                    return Err(AppError::field(
                        "effective_date",
                        "must not be before the date of joining",
                    ));
                }
                // History is added at its end: a move dated before the last one would make
                // the department a person was in before it, and their time there, wrong.
                if let Some(last) = store::transfers_of(ctx.conn, &ws, &u)?.first() {
                    if date < last.effective_date {
                        return Err(AppError::field(
                            "effective_date",
                            format!("must not be before the last transfer ({})", last.effective_date),
                        ));
                    }
                }
                let now = now_rfc3339();
                let key = staff_key(&ws, &u);
                ctx.edit(&who, &DocRef::workspace(&ws), |e| {
                    e.set(
                        staff_profiles::SPEC,
                        &key,
                        &[
                            staff_profiles::department_id.to(to.clone()),
                            // Moving does not make a manager of the department moved to.
                            staff_profiles::is_department_manager.to(false),
                            staff_profiles::updated_at.to(now.as_str()),
                        ],
                    )
                })?;
                let m = Move {
                    user: &u,
                    from: cur.department_id.clone(),
                    to: to.clone(),
                    date,
                    reason,
                };
                record_moves(ctx, &who, &ws, &[m])?;
                records::check_staff(ctx.conn, &ws, &u, false)?;
                super::managers::reconcile(ctx, &who, &ws, None).map(|_| ())
            })
            .await?;
        self.get(w, user).await
    }

    /// Marks a person as resigned from `date` (today by default): their record, their
    /// time and their history stay; they stop being a department manager.
    pub async fn deactivate(&self, w: &WsCtx, user: &str, date: Option<String>) -> Result<StaffView, AppError> {
        let who = Who::user(&w.actor.user_id);
        let (ws, u) = (w.ws.id.clone(), user.to_string());
        self.0
            .writer
            .write(move |ctx| {
                let cur = store::staff_of(ctx.conn, &ws, &u)?.ok_or(AppError::not_found("staff record"))?;
                if cur.employment_status == "resigned" {
                    return Err(AppError::conflict(
                        "staff_already_resigned",
                        "this person has already left",
                    ));
                }
                let date = date.unwrap_or_else(today);
                // The move takes effect now (the record's department changes now), and a
                // later move by an edit, an import or a department's delete is dated today:
                // a transfer dated ahead would put that history out of order.
                if date > today() {
                    return Err(AppError::field("effective_date", "must not be in the future"));
                }
                if cur.date_of_joining.as_deref().is_some_and(|j| date.as_str() < j) {
                    return Err(AppError::field(
                        "date_of_leaving",
                        "must not be before the date of joining",
                    ));
                }
                let now = now_rfc3339();
                ctx.edit(&who, &DocRef::workspace(&ws), |e| {
                    e.set(
                        staff_profiles::SPEC,
                        &staff_key(&ws, &u),
                        &[
                            staff_profiles::employment_status.to("resigned"),
                            staff_profiles::date_of_leaving.to(date.as_str()),
                            staff_profiles::is_department_manager.to(false),
                            staff_profiles::updated_at.to(now.as_str()),
                        ],
                    )
                })?;
                super::managers::reconcile(ctx, &who, &ws, None).map(|_| ())
            })
            .await?;
        self.get(w, user).await
    }

    /// Soft-deletes a person's staff record (their private fields with it).
    pub async fn delete(&self, w: &WsCtx, user: &str) -> Result<(), AppError> {
        let who = Who::user(&w.actor.user_id);
        let (ws, u) = (w.ws.id.clone(), user.to_string());
        self.0
            .writer
            .write(move |ctx| {
                store::staff_of(ctx.conn, &ws, &u)?.ok_or(AppError::not_found("staff record"))?;
                let now = now_rfc3339();
                let key = staff_key(&ws, &u);
                let gone = [
                    staff_profiles::deleted_at.to(now.as_str()),
                    staff_profiles::updated_at.to(now.as_str()),
                ];
                ctx.edit(&who, &DocRef::workspace(&ws), |e| {
                    e.set(staff_profiles::SPEC, &key, &gone)
                })?;
                if store::private_exists(ctx.conn, &key)? {
                    let gone = [
                        staff_private::deleted_at.to(now.as_str()),
                        staff_private::updated_at.to(now.as_str()),
                    ];
                    ctx.edit(&who, &DocRef::staff(&ws), |e| e.set(staff_private::SPEC, &key, &gone))?;
                }
                super::managers::reconcile(ctx, &who, &ws, None).map(|_| ())
            })
            .await
    }

    pub async fn transfers(&self, w: &WsCtx, user: &str) -> Result<Vec<TransferView>, AppError> {
        let (ws, u) = (w.ws.id.clone(), user.to_string());
        self.0
            .readers
            .read(move |c| {
                store::staff_of(c, &ws, &u)?.ok_or(AppError::not_found("staff record"))?;
                Ok(store::transfers_of(c, &ws, &u)?
                    .into_iter()
                    .map(|t| TransferView {
                        id: t.id,
                        user_id: t.user_id,
                        from_department_id: t.from_department_id,
                        from_department_name: t.from_department_name,
                        to_department_id: t.to_department_id,
                        to_department_name: t.to_department_name,
                        effective_date: t.effective_date,
                        reason: t.reason,
                        created_at: t.created_at,
                        created_by: t.created_by,
                        created_by_name: t.created_by_name,
                    })
                    .collect())
            })
            .await
    }

    pub async fn stats(&self, w: &WsCtx) -> Result<StaffStats, AppError> {
        let ws = w.ws.id.clone();
        self.0
            .readers
            .read(move |c| {
                let counts = store::staff_counts(c, &ws)?;
                let tree = super::views(c, &ws)?;
                Ok(stats_of(&counts, &tree))
            })
            .await
    }

    /// Imports a staff file (CSV or JSON, `csv::format_of`): all rows or none. A dry run
    /// only checks, on a reader, and answers what would happen with every row's problems.
    pub async fn import(
        &self,
        w: &WsCtx,
        body: &[u8],
        format: Option<&str>,
        content_type: Option<&str>,
        dry_run: bool,
        invite: bool,
    ) -> Result<super::ImportReport, AppError> {
        let text = super::csv::text_of(body)?;
        let rows = match super::csv::format_of(format, content_type, text)? {
            super::csv::Format::Csv => super::csv::parse_csv(text)?,
            super::csv::Format::Json => super::csv::parse_json(text)?,
        };
        let ws = w.ws.id.clone();
        if dry_run {
            return self
                .0
                .readers
                .read(move |c| super::import::dry_run(c, &ws, &rows, invite))
                .await;
        }
        let who = Who::user(&w.actor.user_id);
        self.0
            .writer
            .write(move |ctx| super::import::import(ctx, &who, &ws, &rows, invite))
            .await
    }

    /// The list's records as CSV (every page), safe to open in a spreadsheet.
    pub async fn export(&self, w: &WsCtx, f: StaffFilter) -> Result<Vec<u8>, AppError> {
        let ws = w.ws.id.clone();
        let app = self.0.clone();
        let rows = self
            .0
            .readers
            .read(move |c| {
                let wh = staff_where(c, &ws, &f, &app.org_trees)?;
                Ok(store::staff_page(c, &ws, &wh, f.sort.order_by(), i64::MAX, 0)?.0)
            })
            .await?;
        super::csv::write_staff(&rows)
    }
}

/// Staff statistics from the per-(department, status) counts and the tree in tree order.
pub(super) fn stats_of(counts: &[(Option<String>, String, i64)], tree: &[super::DepartmentView]) -> StaffStats {
    let mut by_status: Vec<StatusCount> = STATUSES
        .iter()
        .map(|s| StatusCount {
            status: (*s).to_string(),
            count: 0,
        })
        .collect();
    let live: HashMap<&str, usize> = tree.iter().enumerate().map(|(i, d)| (d.id.as_str(), i)).collect();
    let mut own = vec![(0i64, 0i64); tree.len()];
    let (mut total, mut active, mut unassigned) = (0, 0, 0);
    for (d, status, n) in counts {
        total += n;
        let is_active = is_active_status(status);
        if is_active {
            active += n;
        }
        if let Some(s) = by_status.iter_mut().find(|s| s.status == *status) {
            s.count += n;
        }
        match d.as_deref().and_then(|d| live.get(d)) {
            Some(&i) => {
                own[i].0 += n;
                if is_active {
                    own[i].1 += n;
                }
            }
            None => unassigned += n,
        }
    }
    // Tree order puts each department before its subtree: add children into parents from
    // the end, by the parent each view shows (a root's is none).
    let mut sub = own.clone();
    for i in (0..tree.len()).rev() {
        if tree[i].level == 1 {
            continue;
        }
        if let Some(&p) = tree[i].parent_id.as_deref().and_then(|p| live.get(p)) {
            sub[p].0 += sub[i].0;
            sub[p].1 += sub[i].1;
        }
    }
    let by_department = tree
        .iter()
        .enumerate()
        .map(|(i, d)| DepartmentCount {
            department_id: d.id.clone(),
            name: d.name.clone(),
            level: d.level,
            parent_id: d.parent_id.clone(),
            own: own[i].0,
            own_active: own[i].1,
            subtree: sub[i].0,
            subtree_active: sub[i].1,
        })
        .collect();
    StaffStats {
        total,
        active,
        inactive: total - active,
        active_ratio: if total > 0 { active as f64 / total as f64 } else { 0.0 },
        by_status,
        by_department,
        unassigned,
    }
}
