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
        c.text_by_name("start_date"),
        c.text_by_name("end_date").or_else(|| c.text_by_name("target_date")),
    ) {
        if s > e {
            return Err(AppError::field("end_date", "must not be before the start date"));
        }
    }
    if !cx.is_person() {
        return Ok(());
    }
    if c.was_by_name("deleted_at").is_some() {
        return Err(AppError::refused(
            "record_deleted",
            format!("a deleted {what} does not change"),
        ));
    }
    cx.require_project(ProjRole::Member, &format!("changing {what}s"))?;
    if c.is_create() {
        if !cx.is_me(c.text_by_name("created_by")) {
            return Err(AppError::refused(
                "update_rejected",
                format!("a {what} is created by the one who makes it"),
            ));
        }
        return Ok(());
    }
    if cx.proj_role < Some(ProjRole::Admin) && !cx.is_me(c.was_by_name("created_by")) {
        return Err(AppError::denied(
            "not_creator",
            format!("only the {what}'s creator or a project admin can change or delete it"),
        ));
    }
    Ok(())
}

pub const CYCLES: Rules = Rules {
    table: cycles::SPEC.name,
    immutable: &[cycles::created_at.name, cycles::created_by.name],
    refs: &[],
    max_len: &[
        (cycles::name.name, 255),
        (cycles::description.name, 10_000),
        (cycles::start_date.name, 10),
        (cycles::end_date.name, 10),
    ],
    check: |cx, c| check_planned(cx, c, "cycle"),
};

pub const MODULES: Rules = Rules {
    table: modules::SPEC.name,
    immutable: &[modules::created_at.name, modules::created_by.name],
    refs: &[Ref {
        field: modules::lead_id.name,
        to: Target::Member,
    }],
    max_len: &[
        (modules::name.name, 255),
        (modules::description.name, 10_000),
        (modules::status.name, 20),
        (modules::start_date.name, 10),
        (modules::target_date.name, 10),
    ],
    check: |cx, c| check_planned(cx, c, "module"),
};

pub const ISSUE_VIEWS: Rules = Rules {
    table: issue_views::SPEC.name,
    immutable: &[issue_views::created_at.name, issue_views::created_by.name],
    refs: &[],
    max_len: &[
        (issue_views::name.name, 255),
        (issue_views::description.name, 10_000),
        (issue_views::query.name, 10_000),
    ],
    check: |cx, c| {
        check_planned(cx, c, "view")?;
        // A private view is its author's alone: nobody else edits it or makes it private.
        let author = c.was(issue_views::created_by).or(c.text(issue_views::created_by));
        let private = c.int(issue_views::is_private) == Some(1) || c.was_int(issue_views::is_private) == Some(1);
        if cx.is_person() && !c.is_create() && private && !cx.is_me(author) {
            return Err(AppError::forbidden("only the view's author can change a private view"));
        }
        Ok(())
    },
};
