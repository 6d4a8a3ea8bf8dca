//! The rules of work logs and timers (`docs::rules`).

use crate::docs::rules::{Change, Ref, RuleCtx, Rules, Target};
use crate::error::AppError;
use crate::policy::ProjRole;

crate::docs::table! {
    /// Time a person logged on an issue.
    pub mod worklogs in Worklogs as Atomic {
        workspace_id: Text,
        project_id: Text,
        issue_id: Text,
        logged_by: Text,
        duration_minutes: Int,
        description: Text,
        logged_at: Text,
    }
    /// A person's running timer on an issue.
    pub mod timers in User as Atomic {
        workspace_id: Text,
        project_id: Text,
        issue_id: Text,
        user_id: Text,
        description: Text,
        started_at: Text,
    }
}

pub const WORKLOGS: Rules = Rules {
    table: worklogs::SPEC.name,
    immutable: &[worklogs::issue_id.name, worklogs::created_at.name],
    refs: &[Ref {
        field: worklogs::issue_id.name,
        to: Target::InProject("issues"),
    }],
    max_len: &[(worklogs::description.name, 10_000), (worklogs::logged_at.name, 10)],
    check: check_worklog,
};

fn check_worklog(cx: &RuleCtx<'_>, c: &Change) -> Result<(), AppError> {
    if !c.is_deleted() {
        let minutes = c.int(worklogs::duration_minutes).unwrap_or(0);
        if !(1..=super::MAX_MINUTES).contains(&minutes) {
            return Err(AppError::field(
                "duration_minutes",
                format!("must be between 1 and {}", super::MAX_MINUTES),
            ));
        }
        if c.text(worklogs::logged_at)
            .is_none_or(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").is_err())
        {
            return Err(AppError::field("logged_at", "must be a date like 2026-11-30"));
        }
    }
    if !cx.is_person() {
        return Ok(());
    }
    if c.was(worklogs::deleted_at).is_some() {
        return Err(AppError::refused(
            "record_deleted",
            "a deleted work log does not change",
        ));
    }
    if cx.proj_role == Some(ProjRole::Guest) {
        return Err(AppError::denied("guests_cannot_log_time", "guests cannot log time"));
    }
    cx.require_project(ProjRole::Member, "logging time")?;
    if cx.project.as_ref().is_some_and(|p| !p.time_tracking) {
        return Err(AppError::refused(
            "time_tracking_disabled",
            "time tracking is turned off for this project",
        ));
    }
    // Time is logged by the person it belongs to; its author or a project admin corrects it.
    let owner = c.text(worklogs::logged_by);
    if c.is_create() && !cx.is_me(owner) {
        return Err(AppError::denied(
            "not_worklog_author",
            "time is logged by the person it belongs to",
        ));
    }
    if !c.is_create() && !cx.is_me(owner) && cx.proj_role < Some(ProjRole::Admin) {
        return Err(AppError::denied(
            "not_worklog_author",
            "only the person who logged the time or a project admin can change it",
        ));
    }
    Ok(())
}

pub const TIMERS: Rules = Rules {
    table: timers::SPEC.name,
    immutable: &[
        timers::project_id.name,
        timers::issue_id.name,
        timers::started_at.name,
        timers::created_at.name,
    ],
    refs: &[
        Ref {
            field: timers::project_id.name,
            to: Target::InWorkspace("projects"),
        },
        Ref {
            field: timers::issue_id.name,
            to: Target::InWorkspace("issues"),
        },
    ],
    max_len: &[(timers::description.name, 10_000)],
    check: check_timer,
};

/// A person's timer is theirs alone (its document's scope makes `user_id` its owner), and is
/// started only on an issue of a project where they log time; stopping it is always theirs.
fn check_timer(cx: &RuleCtx<'_>, c: &Change) -> Result<(), AppError> {
    if !cx.is_person() {
        return Ok(());
    }
    if !cx.is_me(c.text(timers::user_id)) {
        return Err(AppError::forbidden("a timer belongs to its owner"));
    }
    cx.require_ws(crate::policy::WsRole::Guest, "running a timer")?;
    if c.is_create() {
        let (ws, me) = (&cx.doc.workspace_id, cx.user().unwrap_or_default());
        let role = crate::work::project_for_user(cx.conn, ws, c.text(timers::project_id).unwrap_or_default(), me)?
            .map(|(_, r)| r);
        if role == Some(ProjRole::Guest) {
            return Err(AppError::denied("guests_cannot_log_time", "guests cannot log time"));
        }
        if role.is_none() {
            return Err(AppError::forbidden("a timer runs on a project you log time in"));
        }
    }
    Ok(())
}
