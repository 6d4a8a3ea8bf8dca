//! The rules of cycles, modules and saved views (`docs::rules`): project members create
//! them; their creator or a project admin changes or deletes them.

use crate::docs::rules::{Change, Ref, RuleCtx, Rules, Target};
use crate::error::AppError;
use crate::policy::ProjRole;

crate::docs::table! {
    /// A project's cycle (sprint).
    pub mod cycles in Project as Fields {
        workspace_id: Text,
        project_id: Text,
        name: Text,
        description: Text,
        start_date: Text,
        end_date: Text,
    }
    /// A project's module.
    pub mod modules in Project as Fields {
        workspace_id: Text,
        project_id: Text,
        name: Text,
        description: Text,
        status: Text,
        lead_id: Text,
        start_date: Text,
        target_date: Text,
    }
    /// A saved filter of a project's issues.
    pub mod issue_views in Project as Fields {
        workspace_id: Text,
        project_id: Text,
        name: Text,
        description: Text,
        query: Text,
        is_private: Int,
    }
}

fn check_planned(cx: &RuleCtx<'_>, c: &Change, what: &str) -> Result<(), AppError> {
    if let (Some(s), Some(e)) = (
        c.text("start_date"),
        c.text("end_date").or_else(|| c.text("target_date")),
    ) {
        if s > e {
            return Err(AppError::field("end_date", "must not be before the start date"));
        }
    }
    if !cx.is_person() {
        return Ok(());
    }
    if c.was("deleted_at").is_some() {
        return Err(AppError::refused(
            "record_deleted",
            format!("a deleted {what} does not change"),
        ));
    }
    cx.require_project(ProjRole::Member, &format!("changing {what}s"))?;
    if c.is_create() {
        if !cx.is_me(c.text("created_by")) {
            return Err(AppError::refused(
                "update_rejected",
                format!("a {what} is created by the one who makes it"),
            ));
        }
        return Ok(());
    }
    if cx.proj_role < Some(ProjRole::Admin) && !cx.is_me(c.was("created_by")) {
        return Err(AppError::denied(
            "not_creator",
            format!("only the {what}'s creator or a project admin can change or delete it"),
        ));
    }
    Ok(())
}

pub const CYCLES: Rules = Rules {
    table: cycles::SPEC.name,
    immutable: &["created_at", "created_by"],
    refs: &[],
    max_len: &[
        ("name", 255),
        ("description", 10_000),
        ("start_date", 10),
        ("end_date", 10),
    ],
    check: |cx, c| check_planned(cx, c, "cycle"),
};

pub const MODULES: Rules = Rules {
    table: modules::SPEC.name,
    immutable: &["created_at", "created_by"],
    refs: &[Ref {
        field: "lead_id",
        to: Target::Member,
    }],
    max_len: &[
        ("name", 255),
        ("description", 10_000),
        ("status", 20),
        ("start_date", 10),
        ("target_date", 10),
    ],
    check: |cx, c| check_planned(cx, c, "module"),
};

pub const ISSUE_VIEWS: Rules = Rules {
    table: issue_views::SPEC.name,
    immutable: &["created_at", "created_by"],
    refs: &[],
    max_len: &[("name", 255), ("description", 10_000), ("query", 10_000)],
    check: |cx, c| {
        check_planned(cx, c, "view")?;
        // A private view is its author's alone: nobody else edits it or makes it private.
        let author = c.was("created_by").or(c.text("created_by"));
        let private = c.int("is_private") == Some(1) || c.was_int("is_private") == Some(1);
        if cx.is_person() && !c.is_create() && private && !cx.is_me(author) {
            return Err(AppError::forbidden("only the view's author can change a private view"));
        }
        Ok(())
    },
};
