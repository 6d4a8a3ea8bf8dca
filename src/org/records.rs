//! The rules of departments (`docs::rules`): checked for every change, from the API or a
//! device. A department's shape holds whoever wrote it; the rules of the tree (codes unique
//! among live departments, no cycle, at most five levels, no delete that orphans children)
//! hold for people. A merge of offline edits can still break them; it is resolved the same
//! way on every peer, not refused.

use super::store;
use crate::docs::rules::{Change, Ref, RuleCtx, Rules, Target};
use crate::error::AppError;
use crate::policy::WsRole;

crate::docs::table! {
    /// A department of the workspace's organisation chart.
    pub mod departments in Workspace as Fields {
        workspace_id: Text,
        name: Text,
        code: Text,
        short_name: Text,
        dept_code: Text,
        parent_id: Text,
        manager_id: Text,
        linked_project_id: Text,
        is_active: Int,
        sort_order: Int,
    }
    /// A person's staff record: staff id, department, position, dates and status.
    pub mod staff_profiles in Workspace as Fields {
        workspace_id: Text,
        user_id: Text,
        staff_id: Text,
        department_id: Text,
        position: Text,
        date_of_joining: Text,
        date_of_leaving: Text,
        employment_status: Text,
        is_department_manager: Int,
    }
    /// The fields of a staff record that only admins see (a document of their own).
    pub mod staff_private in Staff as Fields {
        workspace_id: Text,
        user_id: Text,
        phone: Text,
        job_grade: Text,
        notes: Text,
    }
    /// A staff record waiting for its invited person to join.
    pub mod staff_pending in Staff as Atomic {
        workspace_id: Text,
        email: Text,
        data: Text,
    }
    /// A merge of offline organisation edits that Keel resolved, for admins to review.
    pub mod org_conflicts in Staff as Atomic {
        workspace_id: Text,
        kind: Text,
        record_id: Text,
        old_value: Text,
        new_value: Text,
    }
    /// A person's move between departments.
    pub mod staff_transfers in Staff as Atomic {
        workspace_id: Text,
        user_id: Text,
        from_department_id: Text,
        to_department_id: Text,
        effective_date: Text,
        reason: Text,
    }
}

/// The deepest a department sits: a root is level 1.
pub const MAX_LEVEL: i64 = 5;

pub const DEPARTMENTS: Rules = Rules {
    table: departments::SPEC.name,
    immutable: &[departments::created_at.name],
    refs: &[
        Ref {
            field: departments::parent_id.name,
            to: Target::InWorkspace("departments"),
        },
        Ref {
            field: departments::manager_id.name,
            to: Target::Member,
        },
        Ref {
            field: departments::linked_project_id.name,
            to: Target::InWorkspace("projects"),
        },
    ],
    max_len: &[
        (departments::name.name, 255),
        (departments::code.name, 20),
        (departments::short_name.name, 10),
        (departments::dept_code.name, 4),
    ],
    check: check_department,
};

/// `code`: 1 to 20 letters, digits, `-` or `_`.
pub fn valid_code(s: &str) -> bool {
    (1..=20).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// `short_name`: 1 to 10 upper-case letters or digits ("IT", "HR", "R2D").
pub fn valid_short_name(s: &str) -> bool {
    (1..=10).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

/// `dept_code`: exactly four digits ("0420").
pub fn valid_dept_code(s: &str) -> bool {
    s.len() == 4 && s.bytes().all(|b| b.is_ascii_digit())
}

fn check_department(cx: &RuleCtx<'_>, c: &Change) -> Result<(), AppError> {
    // As the API parses a name (`workspaces::parse_name`), so a device's name is held to it.
    if c.text(departments::name).is_none_or(|n| n.trim().is_empty()) {
        return Err(AppError::field("name", "must not be empty"));
    }
    if c.text(departments::name)
        .is_some_and(|n| n.chars().any(char::is_control))
    {
        return Err(AppError::field("name", "must not contain control characters"));
    }
    if !c.text(departments::code).is_some_and(valid_code) {
        return Err(AppError::field("code", "must be 1 to 20 letters, digits, - or _"));
    }
    if !c.text(departments::short_name).is_some_and(valid_short_name) {
        return Err(AppError::field(
            "short_name",
            "must be 1 to 10 upper-case letters or digits",
        ));
    }
    if !c.text(departments::dept_code).is_some_and(valid_dept_code) {
        return Err(AppError::field("dept_code", "must be exactly 4 digits"));
    }
    if !matches!(c.int(departments::is_active), Some(0 | 1)) {
        return Err(AppError::field("is_active", "must be true or false"));
    }
    if c.text(departments::parent_id) == Some(c.id.as_str()) {
        return Err(AppError::refused(
            "department_cycle",
            "a department cannot be its own parent",
        ));
    }
    if !cx.is_person() {
        return Ok(());
    }
    cx.require_ws(WsRole::Admin, "changing departments")?;
    if c.was(departments::deleted_at).is_some() {
        return Err(AppError::refused(
            "record_deleted",
            "a deleted department does not change",
        ));
    }
    Ok(())
}

/// The rules of the tree that other departments decide — codes unique among live
/// departments, a live parent, no cycle, at most five levels, no delete that leaves
/// children or staff behind — checked by the services inside their job, on the state as it
/// would be (a refusal rolls the job back). They are not record rules: two devices' valid
/// offline edits can break them together, and a merge is repaired (`merges`), not refused.
pub(super) fn check_tree(c: &rusqlite::Connection, ws: &str, id: &str, fields: &[&str]) -> Result<(), AppError> {
    let Some(d) = store::department(c, ws, id)? else {
        // Deleted: nothing may be left below it.
        if !store::live_children(c, ws, id)?.is_empty() {
            return Err(AppError::refused(
                "department_has_children",
                "move this department's children elsewhere first (children_to)",
            ));
        }
        let staff = store::current_staff_in(c, ws, id)?;
        if staff > 0 {
            return Err(AppError::refused(
                "department_has_staff",
                format!("{staff} person(s) work in this department: transfer them first (staff_to)"),
            ));
        }
        return Ok(());
    };
    for (field, code, value) in [
        ("code", "department_code_taken", &d.code),
        ("short_name", "department_short_name_taken", &d.short_name),
        ("dept_code", "department_dept_code_taken", &d.dept_code),
    ] {
        if fields.contains(&field) && store::taken(c, ws, field, value, id)? {
            return Err(AppError::conflict(
                code,
                format!("another department of this workspace has {field} {value}"),
            ));
        }
    }
    if fields.contains(&"parent_id") {
        if let Some(parent) = &d.parent_id {
            if !store::is_live(c, ws, parent)? {
                return Err(AppError::field(
                    "parent_id",
                    "names no live department of this workspace",
                ));
            }
        }
        let above = store::ancestors(c, ws, id)?;
        if above.cycle {
            return Err(AppError::refused(
                "department_cycle",
                "a department cannot move below itself or one of its own sub-departments",
            ));
        }
        let level = above.ids.len() as i64 + 1;
        let depth = level + store::height(c, ws, id)? - 1;
        if depth > MAX_LEVEL {
            return Err(AppError::refused(
                "department_too_deep",
                format!("departments nest at most {MAX_LEVEL} levels; this would make {depth}"),
            ));
        }
    }
    Ok(())
}

/// Employment statuses (seed 003), in the order the UI lists them.
pub const STATUSES: [&str; 5] = ["active", "probation", "resigned", "suspended", "transferred"];

/// Statuses of people who work here now: they count in a department's staff, and a
/// department that has them is not deleted without saying where they go.
pub fn is_current(status: &str) -> bool {
    matches!(status, "active" | "probation" | "suspended")
}

/// Statuses that count as active in the active/inactive ratio.
pub fn is_active_status(status: &str) -> bool {
    matches!(status, "active" | "probation")
}

/// `staff_id`: 1 to 8 letters, digits, `-` or `_` ("E0042").
pub fn valid_staff_id(s: &str) -> bool {
    (1..=8).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// A phone number as people write one: up to 20 of digits, spaces and `+ - ( ) .`, with a
/// digit in it (or empty).
pub fn valid_phone(s: &str) -> bool {
    s.is_empty()
        || (s.chars().count() <= 20
            && s.chars().any(|c| c.is_ascii_digit())
            && s.chars().all(|c| c.is_ascii_digit() || " +-().".contains(c)))
}

pub fn valid_day(s: &str) -> bool {
    s.len() == 10 && chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok()
}

/// The one key of a person's staff records in a workspace.
pub fn staff_key(ws: &str, user: &str) -> String {
    format!("{ws}:{user}")
}

/// A staff record is keyed by its workspace and person, whoever wrote it: one profile per
/// member per workspace, and two admins who record one person offline write one record.
fn check_staff_key(cx: &RuleCtx<'_>, c: &Change) -> Result<(), AppError> {
    let user = c.text_by_name("user_id").unwrap_or_default();
    if c.id != staff_key(&cx.doc.workspace_id, user) {
        return Err(AppError::refused(
            "wrong_scope",
            format!("{}/{:.60} must be keyed by its workspace and person", c.spec.name, c.id),
        ));
    }
    Ok(())
}

pub const STAFF_PROFILES: Rules = Rules {
    table: staff_profiles::SPEC.name,
    immutable: &[staff_profiles::created_at.name, staff_profiles::user_id.name],
    refs: &[
        Ref {
            field: staff_profiles::user_id.name,
            to: Target::Member,
        },
        Ref {
            field: staff_profiles::department_id.name,
            to: Target::InWorkspace("departments"),
        },
    ],
    max_len: &[
        (staff_profiles::staff_id.name, 8),
        (staff_profiles::position.name, 255),
        (staff_profiles::employment_status.name, 20),
    ],
    check: check_staff_profile,
};

fn check_staff_profile(cx: &RuleCtx<'_>, c: &Change) -> Result<(), AppError> {
    check_staff_key(cx, c)?;
    if !c.text(staff_profiles::staff_id).is_some_and(valid_staff_id) {
        return Err(AppError::field("staff_id", "must be 1 to 8 letters, digits, - or _"));
    }
    if !c
        .text(staff_profiles::employment_status)
        .is_some_and(|s| STATUSES.contains(&s))
    {
        return Err(AppError::field(
            "employment_status",
            "must be one of active, probation, resigned, suspended, transferred",
        ));
    }
    for f in [staff_profiles::date_of_joining, staff_profiles::date_of_leaving] {
        if c.text(f).is_some_and(|d| !valid_day(d)) {
            return Err(AppError::field(f.name, "must be a date like 2026-11-22"));
        }
    }
    if let (Some(from), Some(to)) = (
        c.text(staff_profiles::date_of_joining),
        c.text(staff_profiles::date_of_leaving),
    ) {
        if to < from {
            return Err(AppError::field(
                "date_of_leaving",
                "must not be before the date of joining",
            ));
        }
    }
    if !matches!(c.int(staff_profiles::is_department_manager), Some(0 | 1)) {
        return Err(AppError::field("is_department_manager", "must be true or false"));
    }
    if c.int(staff_profiles::is_department_manager) == Some(1)
        && !c.text(staff_profiles::employment_status).is_some_and(is_current)
    {
        return Err(AppError::field(
            "is_department_manager",
            "only a person who works here now manages a department",
        ));
    }
    if c.text(staff_profiles::position)
        .is_some_and(|p| p.chars().any(char::is_control))
    {
        return Err(AppError::field("position", "must not contain control characters"));
    }
    if !cx.is_person() {
        return Ok(());
    }
    cx.require_ws(WsRole::Admin, "changing staff records")?;
    if c.was(staff_profiles::deleted_at).is_some() && !c.is_create() {
        return Err(AppError::refused(
            "record_deleted",
            "a deleted staff record does not change",
        ));
    }
    if c.is_deleted() {
        return Ok(());
    }
    Ok(())
}

/// The rules of a staff record that other records decide — its person a member now, its
/// staff id unique among live records, its department live, one flagged manager per
/// department — checked by the services inside their job on the state as it would be.
/// Not record rules, for the reason `check_tree` gives (`merges` repairs what a merge breaks).
pub(super) fn check_staff(c: &rusqlite::Connection, ws: &str, user: &str, create: bool) -> Result<(), AppError> {
    let key = staff_key(ws, user);
    if create && crate::workspaces::role_of(c, ws, user)?.is_none() {
        return Err(AppError::field("user_id", "is not a member of this workspace"));
    }
    let Some(p) = store::profile_facts(c, ws, user)? else {
        return Ok(());
    };
    if store::staff_id_taken(c, ws, &p.staff_id, &key)? {
        return Err(AppError::conflict(
            "staff_id_taken",
            format!("another staff record of this workspace has staff id {}", p.staff_id),
        ));
    }
    if let Some(d) = &p.department_id {
        if is_current(&p.status) && !store::is_live(c, ws, d)? {
            return Err(AppError::field(
                "department_id",
                "names no live department of this workspace",
            ));
        }
        if p.manager && is_current(&p.status) && store::flagged_manager_other_than(c, ws, d, user)? {
            return Err(AppError::conflict(
                "department_manager_taken",
                "another person is flagged as this department's manager; unflag them first",
            ));
        }
    }
    Ok(())
}

pub const STAFF_PRIVATE: Rules = Rules {
    table: staff_private::SPEC.name,
    immutable: &[staff_private::created_at.name, staff_private::user_id.name],
    refs: &[Ref {
        field: staff_private::user_id.name,
        to: Target::Member,
    }],
    max_len: &[
        (staff_private::phone.name, 20),
        (staff_private::job_grade.name, 50),
        (staff_private::notes.name, 5000),
    ],
    check: check_staff_private,
};

fn check_staff_private(cx: &RuleCtx<'_>, c: &Change) -> Result<(), AppError> {
    check_staff_key(cx, c)?;
    if !c.text(staff_private::phone).is_some_and(valid_phone) {
        return Err(AppError::field(
            "phone",
            "must be up to 20 digits, spaces or + - ( ) . with a digit in it",
        ));
    }
    if c.text(staff_private::job_grade)
        .is_none_or(|g| g.chars().any(char::is_control))
    {
        return Err(AppError::field("job_grade", "must be text without control characters"));
    }
    if c.text(staff_private::notes).is_none() {
        return Err(AppError::field("notes", "must be text"));
    }
    if !cx.is_person() {
        return Ok(());
    }
    cx.require_ws(WsRole::Admin, "changing staff records")
}

pub const STAFF_TRANSFERS: Rules = Rules {
    table: staff_transfers::SPEC.name,
    // A transfer is history: written once, never edited.
    immutable: &[
        staff_transfers::created_at.name,
        staff_transfers::user_id.name,
        staff_transfers::from_department_id.name,
        staff_transfers::to_department_id.name,
        staff_transfers::effective_date.name,
        staff_transfers::reason.name,
    ],
    refs: &[
        Ref {
            field: staff_transfers::user_id.name,
            to: Target::Member,
        },
        Ref {
            field: staff_transfers::from_department_id.name,
            to: Target::InWorkspace("departments"),
        },
        Ref {
            field: staff_transfers::to_department_id.name,
            to: Target::InWorkspace("departments"),
        },
    ],
    max_len: &[
        (staff_transfers::reason.name, 500),
        (staff_transfers::effective_date.name, 10),
    ],
    check: check_staff_transfer,
};

fn check_staff_transfer(cx: &RuleCtx<'_>, c: &Change) -> Result<(), AppError> {
    if !c.text(staff_transfers::effective_date).is_some_and(valid_day) {
        return Err(AppError::field("effective_date", "must be a date like 2026-11-22"));
    }
    if c.text(staff_transfers::from_department_id) == c.text(staff_transfers::to_department_id) {
        return Err(AppError::field(
            "to_department_id",
            "must differ from the department left",
        ));
    }
    if !cx.is_person() {
        return Ok(());
    }
    cx.require_ws(WsRole::Admin, "transferring staff")?;
    if c.before.is_some() {
        return Err(AppError::refused(
            "immutable_field",
            "a transfer is history and does not change",
        ));
    }
    // Its author is whoever records it.
    if !cx.is_me(c.text(staff_transfers::created_by)) {
        return Err(AppError::refused(
            "wrong_author",
            "a transfer is recorded under its author's own name",
        ));
    }
    Ok(())
}

pub const ORG_CONFLICTS: Rules = Rules {
    table: org_conflicts::SPEC.name,
    // Two instances that make the same repair write one record; when each dated it.
    immutable: &[
        org_conflicts::kind.name,
        org_conflicts::record_id.name,
        org_conflicts::old_value.name,
        org_conflicts::new_value.name,
    ],
    refs: &[],
    max_len: &[(org_conflicts::kind.name, 40)],
    check: check_org_conflict,
};

/// A resolved conflict is this instance's record of a repair (`merges`), under the key
/// derived from it; a person (an admin's instance relaying its own resolution) may write
/// only that.
fn check_org_conflict(cx: &RuleCtx<'_>, c: &Change) -> Result<(), AppError> {
    if !cx.is_person() {
        return Ok(());
    }
    cx.require_ws(WsRole::Admin, "recording resolved conflicts")?;
    let key = super::merges::key_of(
        c.text(org_conflicts::kind).unwrap_or_default(),
        c.text(org_conflicts::record_id).unwrap_or_default(),
        c.text(org_conflicts::old_value),
        c.text(org_conflicts::new_value),
    );
    if c.id != key || c.text(org_conflicts::created_by).is_some() {
        return Err(AppError::refused(
            "update_rejected",
            "a resolved conflict is recorded under its own key",
        ));
    }
    Ok(())
}

pub const STAFF_PENDING: Rules = Rules {
    table: staff_pending::SPEC.name,
    immutable: &[staff_pending::email.name, staff_pending::created_at.name],
    refs: &[],
    max_len: &[(staff_pending::email.name, 320), (staff_pending::data.name, 20_000)],
    check: check_staff_pending,
};

/// A staff record waiting for its invitee: keyed by a pending invitation of this
/// workspace, written by admins.
fn check_staff_pending(cx: &RuleCtx<'_>, c: &Change) -> Result<(), AppError> {
    if c.text(staff_pending::data)
        .is_none_or(|d| serde_json::from_str::<super::StaffInput>(d).is_err())
    {
        return Err(AppError::field("data", "must be a staff record's fields as JSON"));
    }
    if !cx.is_person() {
        return Ok(());
    }
    cx.require_ws(WsRole::Admin, "preparing staff records")?;
    if c.is_create() && !cx.in_workspace("invitations", &c.id)? {
        return Err(AppError::refused(
            "wrong_scope",
            "a pending staff record is keyed by an invitation of this workspace",
        ));
    }
    Ok(())
}
