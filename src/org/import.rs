//! Bulk import of staff records (seed 003): all or nothing. Every row is checked first —
//! its cells with the record's rules (`StaffInput::check`), its person among the
//! workspace's members by email, its department by code, its staff id against the file and
//! the workspace — and any problem of any row writes nothing and answers every problem.
//! A clean file is written in one writer job (one transaction): two edits, the profiles in
//! the workspace document and the private fields and transfers in the staff document, so
//! the record rules still run on every record.

use std::collections::HashMap;

use rusqlite::Connection;
use serde::Serialize;
use utoipa::ToSchema;

use super::csv::{cell_value, Row};
use super::records::staff_key;
use super::staff::{
    changed_fields, private_fields, profile_fields, transfer_fields, Move, StaffInput, TRANSFER_BY_IMPORT,
};
use super::store::{self, StaffRow};
use crate::db::WriteCtx;
use crate::docs::{DocRef, Who};
use crate::error::{AppError, RowProblem};
use crate::org::records::{staff_pending, staff_private, staff_profiles, staff_transfers};
use crate::time::now_rfc3339;

/// What happens to one row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RowAction {
    Create,
    Update,
    Unchanged,
    /// Not a member yet: invited, with the record prepared for when they accept.
    Invite,
}

/// One row as the import reads it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RowPlan {
    pub row: usize,
    pub staff_id: String,
    pub email: String,
    pub display_name: Option<String>,
    pub department: Option<String>,
    pub action: RowAction,
}

/// The answer of an import or a dry run.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ImportReport {
    /// Only checked: nothing was written.
    pub dry_run: bool,
    /// Rows in the file.
    pub rows: usize,
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    /// Every problem of every row (a dry run only; an import with problems is refused).
    pub errors: Vec<RowProblem>,
    /// The first rows as they would be written (at most `PREVIEW_ROWS`).
    pub preview: Vec<RowPlan>,
    /// People invited (`invite`): each invitation's secret, shown once, to send them.
    pub invited: Vec<Invited>,
}

/// One person an import invited.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Invited {
    pub row: usize,
    pub email: String,
    /// The invitation's secret (`POST /invitations/accept`), shown only in this answer.
    pub token: String,
}

/// Rows a report shows.
pub const PREVIEW_ROWS: usize = 500;

/// One row ready to write.
struct Planned {
    plan: RowPlan,
    user: String,
    input: StaffInput,
    /// The live record it updates, if any.
    before: Option<StaffRow>,
    /// A deleted record under the same key (made again).
    deleted: bool,
}

fn problem(row: usize, column: &str, code: &str, message: impl Into<String>) -> RowProblem {
    RowProblem {
        row,
        column: column.to_string(),
        code: code.to_string(),
        message: message.into(),
    }
}

fn parse_bool(s: &str) -> Option<bool> {
    match s.trim().to_lowercase().as_str() {
        "" | "false" | "no" | "0" | "n" => Some(false),
        "true" | "yes" | "1" | "y" => Some(true),
        _ => None,
    }
}

/// The workspace as the rows are checked against it.
struct World {
    members: HashMap<String, String>,
    /// Live records by user.
    staff: HashMap<String, StaffRow>,
    /// Live staff ids (lower case) → user.
    staff_ids: HashMap<String, String>,
    /// Live departments: code (lower case) → (id, name).
    departments: HashMap<String, (String, String)>,
    /// Users with a deleted record.
    deleted: std::collections::HashSet<String>,
}

fn world(c: &Connection, ws: &str) -> Result<World, AppError> {
    let everyone = store::StaffWhere::default();
    let (rows, _) = store::staff_page(c, ws, &everyone, "s.id", i64::MAX, 0)?;
    let staff: HashMap<String, StaffRow> = rows.into_iter().map(|r| (r.user_id.clone(), r)).collect();
    Ok(World {
        members: store::members_by_email(c, ws)?.into_iter().collect(),
        staff_ids: store::staff_ids(c, ws)?
            .into_iter()
            .map(|(s, u)| (s.to_lowercase(), u))
            .collect(),
        departments: store::live(c, ws)?
            .into_iter()
            .map(|d| (d.code.to_lowercase(), (d.id, d.name)))
            .collect(),
        deleted: store::deleted_staff(c, ws)?.into_iter().collect(),
        staff,
    })
}

fn same(given: &Option<String>, cur: &str) -> bool {
    given.as_deref().is_none_or(|g| g == cur)
}

fn same_opt(given: &Option<Option<String>>, cur: &Option<String>) -> bool {
    given.as_ref().is_none_or(|g| g == cur)
}

/// Whether applying `i` to `r` leaves the profile (the part members' devices see) as it is.
fn profile_unchanged(r: &StaffRow, i: &StaffInput) -> bool {
    same(&i.staff_id, &r.staff_id)
        && same_opt(&i.department_id, &r.department_id)
        && same(&i.position, &r.position)
        && same_opt(&i.date_of_joining, &r.date_of_joining)
        && same_opt(&i.date_of_leaving, &r.date_of_leaving)
        && same(&i.employment_status, &r.employment_status)
        && i.is_department_manager.is_none_or(|m| m == r.is_department_manager)
}

/// Whether applying `i` to `r` leaves the private fields as they are.
fn private_unchanged(r: &StaffRow, i: &StaffInput) -> bool {
    same(&i.job_grade, &r.job_grade) && same(&i.phone, &r.phone) && same(&i.notes, &r.notes)
}

/// Whether applying `i` to `r` would change nothing.
fn unchanged(r: &StaffRow, i: &StaffInput) -> bool {
    profile_unchanged(r, i) && private_unchanged(r, i)
}

/// Checks every row against the workspace; answers the rows to write and every problem.
fn plan(c: &Connection, ws: &str, rows: &[Row], invite: bool) -> Result<(Vec<Planned>, Vec<RowProblem>), AppError> {
    let w = world(c, ws)?;
    let mut out = Vec::with_capacity(rows.len());
    let mut problems = Vec::new();
    let mut emails_seen: HashMap<String, usize> = HashMap::new();
    let mut ids_seen: HashMap<String, usize> = HashMap::new();
    for r in rows {
        let at = r.row;
        let before = problems.len();
        let cell = |k: &str| r.cells.get(k).map(|v| cell_value(v).to_string());
        let email = cell("email").unwrap_or_default().trim().to_lowercase();
        let staff_id = cell("staff_id").unwrap_or_default().trim().to_string();
        if email.is_empty() {
            problems.push(problem(at, "email", "required", "an email is required"));
        }
        let mut user = w.members.get(&email).cloned();
        let mut invited = false;
        if user.is_none() && !email.is_empty() {
            if !invite {
                problems.push(problem(
                    at,
                    "email",
                    "unknown_email",
                    format!("{email:.80} is not a member of this workspace: add them first, or import with invite"),
                ));
            } else if crate::auth::parse_email(&email).is_err() {
                problems.push(problem(at, "email", "invalid_value", "must be an email address"));
            } else if crate::workspaces::is_invited(c, ws, &email)? {
                problems.push(problem(
                    at,
                    "email",
                    "already_invited",
                    format!("{email:.80} has a pending invitation already"),
                ));
            } else {
                invited = true;
                user = Some(String::new());
            }
        }
        if let Some(first) = emails_seen.insert(email.clone(), at).filter(|_| !email.is_empty()) {
            problems.push(problem(
                at,
                "email",
                "duplicate_row",
                format!("row {first} has this email too"),
            ));
        }
        let key = staff_id.to_lowercase();
        if let Some(first) = ids_seen.insert(key.clone(), at).filter(|_| !key.is_empty()) {
            problems.push(problem(
                at,
                "staff_id",
                "duplicate_row",
                format!("row {first} has this staff id too"),
            ));
        }
        if let (Some(owner), Some(u)) = (w.staff_ids.get(&key), &user) {
            if owner != u {
                problems.push(problem(
                    at,
                    "staff_id",
                    "staff_id_taken",
                    format!("staff id {staff_id:.8} belongs to another person of this workspace"),
                ));
            }
        }
        let existing = user.as_ref().and_then(|u| w.staff.get(u));
        let create = existing.is_none();
        let mut input = StaffInput {
            staff_id: Some(staff_id.clone()),
            position: cell("position"),
            job_grade: cell("job_grade"),
            phone: cell("phone"),
            notes: cell("notes"),
            date_of_joining: cell("date_of_joining").map(|d| Some(d).filter(|d| !d.trim().is_empty())),
            date_of_leaving: cell("date_of_leaving").map(|d| Some(d).filter(|d| !d.trim().is_empty())),
            employment_status: cell("employment_status").filter(|s| !s.trim().is_empty()),
            ..StaffInput::default()
        };
        let mut department_name = None;
        if let Some(code) = cell("department") {
            let code = code.trim().to_lowercase();
            if code.is_empty() {
                input.department_id = Some(None);
            } else if let Some((id, name)) = w.departments.get(&code) {
                input.department_id = Some(Some(id.clone()));
                department_name = Some(name.clone());
            } else {
                problems.push(problem(
                    at,
                    "department",
                    "unknown_department",
                    format!("no live department has the code {code:.20}"),
                ));
            }
        }
        if let Some(m) = cell("is_department_manager") {
            match parse_bool(&m) {
                Some(b) => input.is_department_manager = Some(b),
                None => problems.push(problem(
                    at,
                    "is_department_manager",
                    "invalid_value",
                    "must be true or false (yes/no, 1/0)",
                )),
            }
        }
        // Dates checked against the record as it would be, not only the file's cells.
        if let Some(e) = existing {
            let joining = input
                .date_of_joining
                .clone()
                .unwrap_or_else(|| e.date_of_joining.clone());
            let leaving = input
                .date_of_leaving
                .clone()
                .unwrap_or_else(|| e.date_of_leaving.clone());
            if input.date_of_joining.is_none() {
                input.date_of_joining = Some(joining);
            }
            if input.date_of_leaving.is_none() {
                input.date_of_leaving = Some(leaving);
            }
        }
        let input = match input.check(true) {
            Ok(i) => i,
            Err(AppError::Validation(fields)) => {
                for (f, msg) in fields {
                    let code = if msg == "is required" {
                        "required"
                    } else {
                        "invalid_value"
                    };
                    problems.push(problem(at, &f, code, msg));
                }
                continue;
            }
            Err(e) => return Err(e),
        };
        if problems.len() > before {
            continue;
        }
        let Some(user) = user else { continue };
        let action = match existing {
            _ if invited => RowAction::Invite,
            None => RowAction::Create,
            Some(e) if unchanged(e, &input) => RowAction::Unchanged,
            Some(_) => RowAction::Update,
        };
        out.push(Planned {
            plan: RowPlan {
                row: at,
                staff_id,
                email,
                display_name: existing.map(|e| e.display_name.clone()),
                department: department_name,
                action,
            },
            deleted: create && w.deleted.contains(&user),
            before: existing.cloned(),
            user,
            input,
        });
    }
    Ok((out, problems))
}

fn report(dry_run: bool, rows: usize, planned: &[Planned], errors: Vec<RowProblem>) -> ImportReport {
    let count = |a: RowAction| planned.iter().filter(|p| p.plan.action == a).count();
    ImportReport {
        dry_run,
        rows,
        created: count(RowAction::Create),
        updated: count(RowAction::Update),
        unchanged: count(RowAction::Unchanged),
        errors,
        preview: planned.iter().take(PREVIEW_ROWS).map(|p| p.plan.clone()).collect(),
        invited: Vec::new(),
    }
}

/// Checks the rows without writing anything.
pub(super) fn dry_run(c: &Connection, ws: &str, rows: &[Row], invite: bool) -> Result<ImportReport, AppError> {
    let (planned, errors) = plan(c, ws, rows, invite)?;
    Ok(report(true, rows.len(), &planned, errors))
}

/// Checks the rows and, when every row is clean, writes them all in this job.
pub(super) fn import(
    ctx: &mut WriteCtx<'_>,
    who: &Who,
    ws: &str,
    rows: &[Row],
    invite: bool,
) -> Result<ImportReport, AppError> {
    let (planned, errors) = plan(ctx.conn, ws, rows, invite)?;
    if !errors.is_empty() {
        let bad: std::collections::BTreeSet<usize> = errors.iter().map(|e| e.row).collect();
        return Err(AppError::Rows {
            code: "import_invalid",
            message: format!(
                "{} of {} rows have problems; nothing was imported",
                bad.len(),
                rows.len()
            ),
            rows: errors,
        });
    }
    let now = now_rfc3339();
    let by = who.user_id().unwrap_or_default().to_string();
    let todo: Vec<&Planned> = planned
        .iter()
        .filter(|p| !matches!(p.plan.action, RowAction::Unchanged | RowAction::Invite))
        .collect();
    let mut private_exists: HashMap<String, bool> = HashMap::new();
    for p in &todo {
        let key = staff_key(ws, &p.user);
        private_exists.insert(p.user.clone(), store::private_exists(ctx.conn, &key)?);
    }
    ctx.edit(who, &DocRef::workspace(ws), |e| {
        for p in &todo {
            let key = staff_key(ws, &p.user);
            match &p.before {
                None => {
                    let f = profile_fields(ws, &p.user, &p.input, &by, &now);
                    if p.deleted {
                        e.set(staff_profiles::SPEC, &key, &f)?;
                    } else {
                        e.create(staff_profiles::SPEC, &key, &f)?;
                    }
                }
                // Only what differs is written: a change of private fields alone leaves the
                // profile that members' devices see (and its `updated_at`) as it was.
                Some(b) if !profile_unchanged(b, &p.input) => {
                    let (f, _) = changed_fields(&p.input, &now);
                    e.set(staff_profiles::SPEC, &key, &f)?;
                }
                Some(_) => {}
            }
        }
        Ok(())
    })?;
    let today = super::staff::today();
    ctx.edit(who, &DocRef::staff(ws), |e| {
        for p in &todo {
            let key = staff_key(ws, &p.user);
            let had = private_exists.get(&p.user).copied().unwrap_or(false);
            let (_, q) = changed_fields(&p.input, &now);
            match (&p.before, had) {
                (Some(b), true) if !q.is_empty() && !private_unchanged(b, &p.input) => {
                    e.set(staff_private::SPEC, &key, &q)?
                }
                (Some(_), true) => {}
                (_, true) => e.set(
                    staff_private::SPEC,
                    &key,
                    &private_fields(ws, &p.user, &p.input, &by, &now),
                )?,
                (_, false) => e.create(
                    staff_private::SPEC,
                    &key,
                    &private_fields(ws, &p.user, &p.input, &by, &now),
                )?,
            }
            if let (Some(b), Some(to)) = (&p.before, &p.input.department_id) {
                if b.department_id != *to {
                    let m = Move {
                        user: &p.user,
                        from: b.department_id.clone(),
                        to: to.clone(),
                        date: today.clone(),
                        reason: TRANSFER_BY_IMPORT.to_string(),
                    };
                    e.create(
                        staff_transfers::SPEC,
                        &crate::new_id(),
                        &transfer_fields(ws, &m, &by, &now),
                    )?;
                }
            }
        }
        Ok(())
    })?;
    for p in &todo {
        super::records::check_staff(ctx.conn, ws, &p.user, p.before.is_none())?;
    }
    // People not yet members: invited, their record waiting with the invitation.
    let mut invited = Vec::new();
    for p in planned.iter().filter(|p| p.plan.action == RowAction::Invite) {
        let (inv, token) = crate::workspaces::invite_in(ctx, who, ws, &p.plan.email, crate::policy::WsRole::Member)?;
        let data = serde_json::to_string(&p.input).map_err(AppError::internal)?;
        ctx.edit(who, &DocRef::staff(ws), |e| {
            e.create(
                staff_pending::SPEC,
                &inv,
                &[
                    staff_pending::workspace_id.to(ws),
                    staff_pending::email.to(p.plan.email.as_str()),
                    staff_pending::data.to(data),
                    staff_pending::created_at.to(now.as_str()),
                    staff_pending::updated_at.to(now.as_str()),
                    staff_pending::created_by.to(by.as_str()),
                    staff_pending::deleted_at.to(crate::docs::Val::Null),
                ],
            )
        })?;
        invited.push(Invited {
            row: p.plan.row,
            email: p.plan.email.clone(),
            token,
        });
    }
    super::managers::reconcile(ctx, who, ws, None)?;
    let mut r = report(false, rows.len(), &planned, Vec::new());
    r.invited = invited;
    Ok(r)
}
