//! The rules of a project's work items: states, labels, issues and their links, comments,
//! activity, and the merge records of renumbered issues (`docs::rules`).

use super::store;
use crate::docs::rules::{Change, Ref, RuleCtx, Rules, Target};
use crate::error::AppError;
use crate::policy::ProjRole;

crate::docs::table! {
    /// A workflow state of a project's issues.
    pub mod states in Project as Fields {
        workspace_id: Text,
        project_id: Text,
        name: Text,
        color: Text,
        state_group: Text,
        sequence: Int,
        is_default: Int,
    }
    /// A label of a project's issues.
    pub mod labels in Project as Fields {
        workspace_id: Text,
        project_id: Text,
        name: Text,
        color: Text,
    }
    /// An issue (work item) of a project.
    pub mod issues in Project as Fields {
        workspace_id: Text,
        project_id: Text,
        sequence_id: Int,
        name: Text,
        description_html: Text,
        description_text: Text,
        state_id: Text,
        priority: Text,
        estimate_point: Int,
        estimate_time: Int,
        start_date: Text,
        target_date: Text,
        parent_id: Text,
        sort_order: Int,
        completed_at: Text,
        cycle_id: Text,
        module_id: Text,
    }
    /// A person assigned to an issue (key `{issue}:{user}`).
    pub mod issue_assignees in Project as Atomic {
        workspace_id: Text,
        project_id: Text,
        issue_id: Text,
        user_id: Text,
    }
    /// A label on an issue (key `{issue}:{label}`).
    pub mod issue_labels in Project as Atomic {
        workspace_id: Text,
        project_id: Text,
        issue_id: Text,
        label_id: Text,
    }
    /// A comment on an issue.
    pub mod issue_comments in Project as Atomic {
        workspace_id: Text,
        project_id: Text,
        issue_id: Text,
        comment_html: Text,
        comment_text: Text,
        edited_at: Text,
    }
    /// An entry of an issue's history, derived from its changes (`issues::activity`).
    pub mod issue_activity in Project as Atomic {
        workspace_id: Text,
        project_id: Text,
        issue_id: Text,
        verb: Text,
        field: Text,
        old_value: Text,
        new_value: Text,
    }
    /// A merge of offline issue edits that Keel resolved (a renumbered issue).
    pub mod sync_conflicts in Project as Atomic {
        workspace_id: Text,
        project_id: Text,
        kind: Text,
        record_id: Text,
        old_value: Text,
        new_value: Text,
    }
}

const fn in_project(field: &'static str, table: &'static str) -> Ref {
    Ref {
        field,
        to: Target::InProject(table),
    }
}

/// Deleted records stay deleted: their key is never reused for another record.
fn no_change_after_delete(c: &Change) -> Result<(), AppError> {
    if c.was_by_name("deleted_at").is_some() {
        return Err(AppError::refused(
            "record_deleted",
            format!("{} {} was deleted and does not change", c.spec.name, c.id),
        ));
    }
    Ok(())
}

pub const STATES: Rules = Rules {
    table: states::SPEC.name,
    immutable: &[states::created_at.name, states::created_by.name],
    refs: &[],
    max_len: &[
        (states::name.name, 255),
        (states::color.name, 7),
        (states::state_group.name, 20),
    ],
    check: check_state,
};

fn check_state(cx: &RuleCtx<'_>, c: &Change) -> Result<(), AppError> {
    if c.text(states::state_group).and_then(super::StateGroup::parse).is_none() {
        return Err(AppError::field(
            "group",
            "must be backlog, unstarted, started, completed or cancelled",
        ));
    }
    if !cx.is_person() {
        return Ok(());
    }
    no_change_after_delete(c)?;
    let pid = cx.scope.project.as_deref().unwrap_or_default();
    // A member's first issue in a project without states brings the default set.
    let all_new = store::states(cx.conn, pid)?
        .iter()
        .all(|s| cx.touched(states::SPEC, &s.id).is_some_and(|t| t.before.is_none()));
    if c.before.is_none() && all_new {
        return cx.require_project(ProjRole::Member, "creating states");
    }
    if c.is_delete() {
        if c.was_int(states::is_default) == Some(1) {
            return Err(AppError::refused(
                "default_state",
                "the default state cannot be deleted",
            ));
        }
        if !store::issue_ids_in_state(cx.conn, &c.id)?.is_empty() {
            return Err(AppError::refused(
                "state_in_use",
                "move the state's issues to another state first",
            ));
        }
    }
    cx.require_project(ProjRole::Admin, "changing states")
}

pub const LABELS: Rules = Rules {
    table: labels::SPEC.name,
    immutable: &[labels::created_at.name, labels::created_by.name],
    refs: &[],
    max_len: &[(labels::name.name, 255), (labels::color.name, 7)],
    check: |cx, c| {
        if cx.is_person() {
            no_change_after_delete(c)?;
        }
        cx.require_project(ProjRole::Member, "changing labels")
    },
};

pub const ISSUES: Rules = Rules {
    table: issues::SPEC.name,
    immutable: &[issues::created_at.name, issues::created_by.name],
    refs: &[
        in_project("state_id", "states"),
        in_project("parent_id", "issues"),
        in_project("cycle_id", "cycles"),
        in_project("module_id", "modules"),
    ],
    max_len: &[
        (issues::name.name, 255),
        (issues::priority.name, 10),
        (issues::start_date.name, 10),
        (issues::target_date.name, 10),
        (issues::description_html.name, crate::richtext::MAX_STORED_HTML),
        (issues::description_text.name, crate::richtext::MAX_STORED_HTML),
    ],
    check: check_issue,
};

fn check_issue(cx: &RuleCtx<'_>, c: &Change) -> Result<(), AppError> {
    if c.text(issues::priority).and_then(super::Priority::parse).is_none() {
        return Err(AppError::field("priority", "must be urgent, high, medium, low or none"));
    }
    if c.int(issues::sequence_id).is_none_or(|n| n < 1) {
        return Err(AppError::field("sequence_id", "must be a positive number"));
    }
    if let (Some(s), Some(t)) = (c.text(issues::start_date), c.text(issues::target_date)) {
        if s > t {
            return Err(AppError::field("target_date", "must not be before the start date"));
        }
    }
    if c.text(issues::parent_id) == Some(c.id.as_str()) {
        return Err(AppError::field("parent_id", "an issue cannot be its own parent"));
    }
    if !cx.is_person() {
        return Ok(());
    }
    no_change_after_delete(c)?;
    if c.is_create() && c.text(issues::created_by) != cx.user() {
        return Err(AppError::refused(
            "update_rejected",
            "an issue is created by the one who makes it",
        ));
    }
    cx.require_project(ProjRole::Member, "changing issues")?;
    if c.is_delete() && cx.proj_role < Some(ProjRole::Admin) && !cx.is_me(c.was(issues::created_by)) {
        return Err(AppError::denied(
            "not_issue_author",
            "only the issue's creator or a project admin can delete it",
        ));
    }
    Ok(())
}

/// An issue's assignee or label: a member of the project may add or remove one.
fn check_link(cx: &RuleCtx<'_>, c: &Change, what: &str, key_field: &str) -> Result<(), AppError> {
    let key = format!(
        "{}:{}",
        c.text_by_name("issue_id").unwrap_or_default(),
        c.text_by_name(key_field).unwrap_or_default()
    );
    if c.id != key {
        return Err(AppError::refused(
            "update_rejected",
            format!("an issue's {what} is keyed by issue and {key_field}"),
        ));
    }
    cx.require_project(ProjRole::Member, &format!("changing {what}s"))
}

pub const ISSUE_ASSIGNEES: Rules = Rules {
    table: issue_assignees::SPEC.name,
    immutable: &[issue_assignees::issue_id.name, issue_assignees::user_id.name],
    refs: &[
        in_project("issue_id", "issues"),
        Ref {
            field: issue_assignees::user_id.name,
            to: Target::Member,
        },
    ],
    max_len: &[],
    check: |cx, c| check_link(cx, c, "assignee", "user_id"),
};

pub const ISSUE_LABELS: Rules = Rules {
    table: issue_labels::SPEC.name,
    immutable: &[issue_labels::issue_id.name, issue_labels::label_id.name],
    refs: &[in_project("issue_id", "issues"), in_project("label_id", "labels")],
    max_len: &[],
    check: |cx, c| check_link(cx, c, "label", "label_id"),
};

pub const ISSUE_COMMENTS: Rules = Rules {
    table: issue_comments::SPEC.name,
    immutable: &[
        issue_comments::issue_id.name,
        issue_comments::created_at.name,
        issue_comments::created_by.name,
    ],
    refs: &[in_project("issue_id", "issues")],
    max_len: &[
        (issue_comments::comment_text.name, crate::richtext::MAX_STORED_HTML),
        (issue_comments::comment_html.name, crate::richtext::MAX_STORED_HTML),
    ],
    check: check_comment,
};

fn check_comment(cx: &RuleCtx<'_>, c: &Change) -> Result<(), AppError> {
    if !cx.is_person() {
        return Ok(());
    }
    no_change_after_delete(c)?;
    // Guests take part in the discussion too.
    cx.require_project(ProjRole::Guest, "commenting")?;
    let author = if c.is_create() {
        c.text(issue_comments::created_by)
    } else {
        c.was(issue_comments::created_by)
    };
    if c.is_create() && !cx.is_me(author) {
        return Err(AppError::denied(
            "not_comment_author",
            "a comment is written by its author",
        ));
    }
    let is_admin = cx.proj_role >= Some(ProjRole::Admin);
    let allowed = c.is_create() || cx.is_me(author) || (c.is_delete() && is_admin);
    if !allowed {
        return Err(AppError::denied(
            "not_comment_author",
            "only the author edits a comment; the author or a project admin deletes it",
        ));
    }
    Ok(())
}

pub const ISSUE_ACTIVITY: Rules = Rules {
    table: issue_activity::SPEC.name,
    immutable: &[
        issue_activity::issue_id.name,
        issue_activity::verb.name,
        issue_activity::field.name,
        issue_activity::old_value.name,
        issue_activity::new_value.name,
        issue_activity::created_by.name,
    ],
    refs: &[in_project("issue_id", "issues")],
    max_len: &[(issue_activity::verb.name, 32), (issue_activity::field.name, 64)],
    check: check_activity,
};

/// The history is written with the changes it records: by their author, once. A renumbering
/// (a merge resolution) is recorded under a key derived from it, with no author, so every
/// peer that resolves the same merge writes the same record.
fn check_activity(cx: &RuleCtx<'_>, c: &Change) -> Result<(), AppError> {
    if !cx.is_person() {
        return Ok(());
    }
    if c.text(issue_activity::verb) == Some("renumbered") {
        let key = format!(
            "renumber:{}:{}:{}",
            c.text(issue_activity::issue_id).unwrap_or_default(),
            c.text(issue_activity::old_value).unwrap_or_default(),
            c.text(issue_activity::new_value).unwrap_or_default()
        );
        if c.id != key || c.text(issue_activity::created_by).is_some() {
            return Err(AppError::refused(
                "update_rejected",
                "a renumbering is recorded under its own key",
            ));
        }
        return cx.require_project(ProjRole::Member, "renumbering issues");
    }
    if !c.is_create() || c.before.is_some() {
        return Err(AppError::refused(
            "update_rejected",
            "the history of an issue is never rewritten",
        ));
    }
    if !cx.is_me(c.text(issue_activity::created_by)) {
        return Err(AppError::refused(
            "update_rejected",
            "history is recorded by the one who acts",
        ));
    }
    let verb = c.text(issue_activity::verb).unwrap_or_default();
    let min = if matches!(verb, "commented" | "comment_deleted") {
        ProjRole::Guest
    } else {
        ProjRole::Member
    };
    cx.require_project(min, "recording history")
}

pub const SYNC_CONFLICTS: Rules = Rules {
    table: sync_conflicts::SPEC.name,
    immutable: &[
        sync_conflicts::kind.name,
        sync_conflicts::record_id.name,
        sync_conflicts::old_value.name,
        sync_conflicts::new_value.name,
    ],
    refs: &[],
    max_len: &[(sync_conflicts::kind.name, 32)],
    check: check_conflict,
};

/// A resolved merge conflict, written by the instance that resolved it under a key derived
/// from the resolution (so peers that resolve the same way write one record).
fn check_conflict(cx: &RuleCtx<'_>, c: &Change) -> Result<(), AppError> {
    if !cx.is_person() {
        return Ok(());
    }
    // Renumbered issues are recorded in their activity; this table holds identifiers.
    if c.text(sync_conflicts::kind) != Some("project_identifier") {
        return Err(AppError::refused("update_rejected", "no such kind of conflict"));
    }
    let key = format!(
        "identifier:{}:{}:{}",
        c.text(sync_conflicts::record_id).unwrap_or_default(),
        c.text(sync_conflicts::old_value).unwrap_or_default(),
        c.text(sync_conflicts::new_value).unwrap_or_default()
    );
    if c.id != key || c.text(sync_conflicts::created_by).is_some() {
        return Err(AppError::refused(
            "update_rejected",
            "a resolved conflict is recorded under its own key",
        ));
    }
    cx.require_project(ProjRole::Admin, "recording a resolved conflict")
}
