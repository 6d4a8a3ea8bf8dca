//! The rules of departments (`docs::rules`): checked for every change, from the API or a
//! device. A department's shape holds whoever wrote it; the rules of the tree (codes unique
//! among live departments, no cycle, at most five levels, no delete that orphans children)
//! hold for people. A merge of offline edits can still break them; it is resolved the same
//! way on every peer, not refused.

use super::store;
use crate::docs::rules::{Change, Ref, RuleCtx, Rules, Target};
use crate::error::AppError;
use crate::policy::WsRole;

/// The deepest a department sits: a root is level 1.
pub const MAX_LEVEL: i64 = 5;

pub const DEPARTMENTS: Rules = Rules {
    table: "departments",
    immutable: &["created_at"],
    refs: &[
        Ref {
            field: "parent_id",
            to: Target::InWorkspace("departments"),
        },
        Ref {
            field: "manager_id",
            to: Target::Member,
        },
        Ref {
            field: "linked_project_id",
            to: Target::InWorkspace("projects"),
        },
    ],
    max_len: &[("name", 255), ("code", 20), ("short_name", 10), ("dept_code", 4)],
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
    if c.text("name").is_none_or(|n| n.trim().is_empty()) {
        return Err(AppError::field("name", "must not be empty"));
    }
    if c.text("name").is_some_and(|n| n.chars().any(char::is_control)) {
        return Err(AppError::field("name", "must not contain control characters"));
    }
    if !c.text("code").is_some_and(valid_code) {
        return Err(AppError::field("code", "must be 1 to 20 letters, digits, - or _"));
    }
    if !c.text("short_name").is_some_and(valid_short_name) {
        return Err(AppError::field(
            "short_name",
            "must be 1 to 10 upper-case letters or digits",
        ));
    }
    if !c.text("dept_code").is_some_and(valid_dept_code) {
        return Err(AppError::field("dept_code", "must be exactly 4 digits"));
    }
    if !matches!(c.int("is_active"), Some(0 | 1)) {
        return Err(AppError::field("is_active", "must be true or false"));
    }
    if c.text("parent_id") == Some(c.id.as_str()) {
        return Err(AppError::refused(
            "department_cycle",
            "a department cannot be its own parent",
        ));
    }
    if !cx.is_person() {
        return Ok(());
    }
    cx.require_ws(WsRole::Admin, "changing departments")?;
    if c.was("deleted_at").is_some() {
        return Err(AppError::refused(
            "record_deleted",
            "a deleted department does not change",
        ));
    }
    let ws = cx.doc.workspace_id.as_str();
    if c.is_deleted() {
        // Its children go first (the request says where), in the same change.
        if !store::live_children(cx.conn, ws, &c.id)?.is_empty() {
            return Err(AppError::refused(
                "department_has_children",
                "move this department's children elsewhere first (children_to)",
            ));
        }
        let staff = store::current_staff_in(cx.conn, ws, &c.id)?;
        if staff > 0 {
            return Err(AppError::refused(
                "department_has_staff",
                format!("{staff} person(s) work in this department: transfer them first (staff_to)"),
            ));
        }
        return Ok(());
    }
    for (field, code) in [
        ("code", "department_code_taken"),
        ("short_name", "department_short_name_taken"),
        ("dept_code", "department_dept_code_taken"),
    ] {
        let value = c.text(field).unwrap_or_default();
        if (c.changed(field) || c.is_create()) && store::taken(cx.conn, ws, field, value, &c.id)? {
            return Err(AppError::conflict(
                code,
                format!("another department of this workspace has {field} {value}"),
            ));
        }
    }
    if c.changed("parent_id") || c.is_create() {
        if let Some(parent) = c.text("parent_id") {
            if !store::is_live(cx.conn, ws, parent)? {
                return Err(AppError::field(
                    "parent_id",
                    "names no live department of this workspace",
                ));
            }
        }
        // The rows of the whole change are written: the tree as it would be.
        let above = store::ancestors(cx.conn, ws, &c.id)?;
        if above.cycle {
            return Err(AppError::refused(
                "department_cycle",
                "a department cannot move below itself or one of its own sub-departments",
            ));
        }
        let level = above.ids.len() as i64 + 1;
        let depth = level + store::height(cx.conn, ws, &c.id)? - 1;
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
    let user = c.text("user_id").unwrap_or_default();
    if c.id != staff_key(&cx.doc.workspace_id, user) {
        return Err(AppError::refused(
            "wrong_scope",
            format!("{}/{:.60} must be keyed by its workspace and person", c.spec.name, c.id),
        ));
    }
    Ok(())
}

pub const STAFF_PROFILES: Rules = Rules {
    table: "staff_profiles",
    immutable: &["created_at", "user_id"],
    refs: &[
        Ref {
            field: "user_id",
            to: Target::Member,
        },
        Ref {
            field: "department_id",
            to: Target::InWorkspace("departments"),
        },
    ],
    max_len: &[("staff_id", 8), ("position", 255), ("employment_status", 20)],
    check: check_staff_profile,
};

fn check_staff_profile(cx: &RuleCtx<'_>, c: &Change) -> Result<(), AppError> {
    check_staff_key(cx, c)?;
    if !c.text("staff_id").is_some_and(valid_staff_id) {
        return Err(AppError::field("staff_id", "must be 1 to 8 letters, digits, - or _"));
    }
    if !c.text("employment_status").is_some_and(|s| STATUSES.contains(&s)) {
        return Err(AppError::field(
            "employment_status",
            "must be one of active, probation, resigned, suspended, transferred",
        ));
    }
    for f in ["date_of_joining", "date_of_leaving"] {
        if c.text(f).is_some_and(|d| !valid_day(d)) {
            return Err(AppError::field(f, "must be a date like 2026-11-22"));
        }
    }
    if let (Some(from), Some(to)) = (c.text("date_of_joining"), c.text("date_of_leaving")) {
        if to < from {
            return Err(AppError::field(
                "date_of_leaving",
                "must not be before the date of joining",
            ));
        }
    }
    if !matches!(c.int("is_department_manager"), Some(0 | 1)) {
        return Err(AppError::field("is_department_manager", "must be true or false"));
    }
    if c.int("is_department_manager") == Some(1) && !c.text("employment_status").is_some_and(is_current) {
        return Err(AppError::field(
            "is_department_manager",
            "only a person who works here now manages a department",
        ));
    }
    if c.text("position").is_some_and(|p| p.chars().any(char::is_control)) {
        return Err(AppError::field("position", "must not contain control characters"));
    }
    if !cx.is_person() {
        return Ok(());
    }
    cx.require_ws(WsRole::Admin, "changing staff records")?;
    if c.was("deleted_at").is_some() && !c.is_create() {
        return Err(AppError::refused(
            "record_deleted",
            "a deleted staff record does not change",
        ));
    }
    if c.is_deleted() {
        return Ok(());
    }
    let ws = cx.doc.workspace_id.as_str();
    let user = c.text("user_id").unwrap_or_default();
    if c.is_create() && crate::workspaces::role_of(cx.conn, ws, user)?.is_none() {
        return Err(AppError::field("user_id", "is not a member of this workspace"));
    }
    let staff_id = c.text("staff_id").unwrap_or_default();
    if (c.changed("staff_id") || c.is_create()) && store::staff_id_taken(cx.conn, ws, staff_id, &c.id)? {
        return Err(AppError::conflict(
            "staff_id_taken",
            format!("another staff record of this workspace has staff id {staff_id}"),
        ));
    }
    if let Some(d) = c.text("department_id") {
        if (c.changed("department_id") || c.is_create()) && !store::is_live(cx.conn, ws, d)? {
            return Err(AppError::field(
                "department_id",
                "names no live department of this workspace",
            ));
        }
    }
    Ok(())
}

pub const STAFF_PRIVATE: Rules = Rules {
    table: "staff_private",
    immutable: &["created_at", "user_id"],
    refs: &[Ref {
        field: "user_id",
        to: Target::Member,
    }],
    max_len: &[("phone", 20), ("job_grade", 50), ("notes", 5000)],
    check: check_staff_private,
};

fn check_staff_private(cx: &RuleCtx<'_>, c: &Change) -> Result<(), AppError> {
    check_staff_key(cx, c)?;
    if !c.text("phone").is_some_and(valid_phone) {
        return Err(AppError::field(
            "phone",
            "must be up to 20 digits, spaces or + - ( ) . with a digit in it",
        ));
    }
    if c.text("job_grade").is_none_or(|g| g.chars().any(char::is_control)) {
        return Err(AppError::field("job_grade", "must be text without control characters"));
    }
    if c.text("notes").is_none() {
        return Err(AppError::field("notes", "must be text"));
    }
    if !cx.is_person() {
        return Ok(());
    }
    cx.require_ws(WsRole::Admin, "changing staff records")
}

pub const STAFF_TRANSFERS: Rules = Rules {
    table: "staff_transfers",
    // A transfer is history: written once, never edited.
    immutable: &[
        "created_at",
        "user_id",
        "from_department_id",
        "to_department_id",
        "effective_date",
        "reason",
    ],
    refs: &[
        Ref {
            field: "user_id",
            to: Target::Member,
        },
        Ref {
            field: "from_department_id",
            to: Target::InWorkspace("departments"),
        },
        Ref {
            field: "to_department_id",
            to: Target::InWorkspace("departments"),
        },
    ],
    max_len: &[("reason", 500), ("effective_date", 10)],
    check: check_staff_transfer,
};

fn check_staff_transfer(cx: &RuleCtx<'_>, c: &Change) -> Result<(), AppError> {
    if !c.text("effective_date").is_some_and(valid_day) {
        return Err(AppError::field("effective_date", "must be a date like 2026-11-22"));
    }
    if c.text("from_department_id") == c.text("to_department_id") {
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
    // Its author is whoever records it, and it records where the person works now.
    if !cx.is_me(c.text("created_by")) {
        return Err(AppError::refused(
            "wrong_author",
            "a transfer is recorded under its author's own name",
        ));
    }
    let ws = cx.doc.workspace_id.as_str();
    let user = c.text("user_id").unwrap_or_default();
    let Some(p) = store::profile_facts(cx.conn, ws, user)? else {
        return Err(AppError::field("user_id", "has no staff record in this workspace"));
    };
    if !is_current(&p.status) {
        return Err(AppError::refused(
            "staff_inactive",
            format!("a person who is {} is not transferred", p.status),
        ));
    }
    if p.department_id.as_deref() != c.text("to_department_id") {
        return Err(AppError::refused(
            "transfer_mismatch",
            "a transfer records the department the person's record names now",
        ));
    }
    if p.date_of_joining
        .as_deref()
        .is_some_and(|j| c.text("effective_date").is_some_and(|d| d < j))
    {
        return Err(AppError::field(
            "effective_date",
            "must not be before the date of joining",
        ));
    }
    Ok(())
}
