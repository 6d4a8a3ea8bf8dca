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
