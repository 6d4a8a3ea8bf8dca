//! The rules of a project's own records: the project and its members (`docs::rules`).

use super::store;
use crate::docs::rules::{Change, Ref, RuleCtx, Rules, Target};
use crate::error::AppError;
use crate::policy::{ProjRole, WsRole};

crate::docs::table! {
    /// A project of a workspace.
    pub mod projects in Project as Fields {
        workspace_id: Text,
        name: Text,
        identifier: Text,
        description: Text,
        is_private: Int,
        is_time_tracking_enabled: Int,
        archived_at: Text,
        linked_department_id: Text,
    }
    /// A person's membership of a project: their role, given by hand or by department.
    pub mod project_members in Project as Fields {
        workspace_id: Text,
        project_id: Text,
        user_id: Text,
        role: Text,
        manual: Int,
        via_departments: Text,
    }
    /// An entry of a project's history (members joining, roles changing).
    pub mod project_activity in Project as Atomic {
        workspace_id: Text,
        project_id: Text,
        user_id: Text,
        verb: Text,
        old_value: Text,
        new_value: Text,
    }
}

pub const PROJECTS: Rules = Rules {
    table: projects::SPEC.name,
    immutable: &[projects::created_at.name, projects::created_by.name],
    refs: &[Ref {
        field: projects::linked_department_id.name,
        to: Target::InWorkspace("departments"),
    }],
    max_len: &[
        (projects::name.name, 255),
        (projects::identifier.name, 12),
        (projects::description.name, 10_000),
    ],
    check: check_project,
};

fn check_project(cx: &RuleCtx<'_>, c: &Change) -> Result<(), AppError> {
    let ident = c.text(projects::identifier).unwrap_or_default();
    if !(2..=12).contains(&ident.len()) || !ident.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()) {
        return Err(AppError::field(
            "identifier",
            "must be 2 to 12 upper-case letters or digits",
        ));
    }
    if !cx.is_person() {
        return Ok(());
    }
    // A team project belongs to a department that is still there (the reference rule
    // accepts deleted records, for edits made offline before a delete).
    if let Some(d) = c.text(projects::linked_department_id) {
        if c.changed(projects::linked_department_id)
            && !crate::org::is_live_department(cx.conn, &cx.doc.workspace_id, d)?
        {
            return Err(AppError::field(
                "linked_department_id",
                "names no live department of this workspace",
            ));
        }
    }
    if c.is_create() && c.before.is_none() {
        // Any workspace member (not a guest) creates projects, and is their first admin.
        cx.require_ws(WsRole::Member, "creating a project")?;
        let me = cx.user().unwrap_or_default();
        let admin = cx
            .touched(project_members::SPEC, &super::member_key(&c.id, me))
            .is_some_and(|m| m.text(project_members::role) == Some("admin") && !m.is_deleted());
        if !admin || c.text(projects::created_by) != Some(me) {
            return Err(AppError::refused(
                "update_rejected",
                "a new project must carry its creator as admin",
            ));
        }
        return Ok(());
    }
    if c.was(projects::deleted_at).is_some() {
        return Err(AppError::refused("record_deleted", "a deleted project does not change"));
    }
    cx.require_project(ProjRole::Admin, "changing the project")
}

/// What may still change in an archived project: the project record's archive state and
/// deletion, and people leaving it. Everything else waits for it to be unarchived.
pub fn allowed_when_archived(c: &Change) -> bool {
    match c.spec.name {
        "projects" => crate::docs::rules::changed_fields(c)
            .iter()
            .all(|f| matches!(*f, "archived_at" | "updated_at" | "deleted_at")),
        "project_members" => c.is_delete(),
        _ => false,
    }
}

pub const PROJECT_MEMBERS: Rules = Rules {
    table: project_members::SPEC.name,
    immutable: &[project_members::user_id.name, project_members::created_at.name],
    // `user_id` must be a live member of the workspace: checked by `check_member`, with
    // the API's code (`not_workspace_member`).
    refs: &[],
    max_len: &[(project_members::role.name, 10)],
    check: check_member,
};

fn check_member(cx: &RuleCtx<'_>, c: &Change) -> Result<(), AppError> {
    let role = c
        .text(project_members::role)
        .and_then(ProjRole::parse)
        .ok_or_else(|| AppError::field("role", "must be guest, member or admin"))?;
    if !matches!(c.int(project_members::manual), None | Some(0 | 1)) {
        return Err(AppError::field("manual", "must be true or false"));
    }
    let via = super::parse_via(c.text(project_members::via_departments));
    let id_like = |s: &String| (1..=64).contains(&s.len()) && !s.contains(char::is_whitespace);
    if via.len() > 2000 || !via.iter().all(id_like) || !via.windows(2).all(|w| w[0] < w[1]) {
        return Err(AppError::field(
            "via_departments",
            "must be department ids, comma-separated, in order",
        ));
    }
    // A membership made from now on has the key derived from its project and person, so
    // nobody holds the key the manager rule will write (`work::member_key`).
    let pid_now = cx.scope.project.as_deref().unwrap_or_default();
    if cx.is_person()
        && c.before.is_none()
        && c.id != super::member_key(pid_now, c.text(project_members::user_id).unwrap_or_default())
    {
        return Err(AppError::refused(
            "wrong_scope",
            "a project membership is keyed by its project and person",
        ));
    }
    if c.int(project_members::manual) == Some(0) && via.is_empty() && !c.is_deleted() {
        return Err(AppError::field(
            "via_departments",
            "a membership nobody added by hand needs a department that brings it",
        ));
    }
    // Only the manager rule ends a membership that departments hold: it clears them first.
    if cx.is_person() && c.is_delete() && !via.is_empty() {
        return Err(AppError::conflict(
            "member_through_department",
            "this person is a member because they manage a department linked to this project; change the department's manager instead",
        ));
    }
    let pid = cx.scope.project.as_deref().unwrap_or_default();
    // A membership that stays removed is nobody's change.
    let settled = c.is_deleted() && !c.is_delete();
    if cx.is_person() && !settled {
        may_change_member(cx, c, role, pid)?;
    }
    // A project keeps an admin (counted after the change), whoever changes it.
    let was_admin = !c.is_create() && c.was(project_members::role) == Some("admin");
    if was_admin && (c.is_deleted() || role != ProjRole::Admin) && store::admin_count(cx.conn, pid)? < 1 {
        return Err(AppError::refused(
            "last_admin",
            "a project must keep at least one admin",
        ));
    }
    Ok(())
}

/// Whether the acting person may make this change of a project membership.
fn may_change_member(cx: &RuleCtx<'_>, c: &Change, role: ProjRole, pid: &str) -> Result<(), AppError> {
    let user = c.text(project_members::user_id).unwrap_or_default();
    if !c.is_deleted() {
        let ws_role = crate::workspaces::role_of(cx.conn, &cx.doc.workspace_id, user)?.ok_or_else(|| {
            AppError::refused(
                "not_workspace_member",
                "only members of the workspace can join its projects",
            )
        })?;
        if ws_role == WsRole::Guest && role > ProjRole::Guest {
            return Err(AppError::refused(
                "role_above_workspace_role",
                "a workspace guest can only be a project guest",
            ));
        }
    }
    // The creator's own admin membership is checked with the new project; anyone may leave.
    let new_project = cx.touched(projects::SPEC, pid).is_some_and(|p| p.before.is_none());
    if (new_project || c.is_delete()) && cx.is_me(Some(user)) {
        return Ok(());
    }
    cx.require_project(ProjRole::Admin, "changing project members")
}

pub const PROJECT_ACTIVITY: Rules = Rules {
    table: project_activity::SPEC.name,
    immutable: &[
        project_activity::user_id.name,
        project_activity::verb.name,
        project_activity::old_value.name,
        project_activity::new_value.name,
        project_activity::created_at.name,
    ],
    refs: &[],
    max_len: &[
        (project_activity::verb.name, 20),
        (project_activity::old_value.name, 2000),
        (project_activity::new_value.name, 2000),
    ],
    check: check_project_activity,
};

/// A project's history is written once, by whoever changed the membership it records.
fn check_project_activity(cx: &RuleCtx<'_>, c: &Change) -> Result<(), AppError> {
    if !matches!(
        c.text(project_activity::verb),
        Some("joined" | "left" | "role_changed" | "reason_changed")
    ) {
        return Err(AppError::field(
            "verb",
            "must be joined, left, role_changed or reason_changed",
        ));
    }
    if !cx.is_person() {
        return Ok(());
    }
    if c.before.is_some() {
        return Err(AppError::refused(
            "update_rejected",
            "a project's history is never rewritten",
        ));
    }
    if !cx.is_me(c.text(project_activity::created_by)) {
        return Err(AppError::refused(
            "update_rejected",
            "history is recorded by the one who acts",
        ));
    }
    // Those who change memberships record it; anyone records their own leaving.
    if c.text(project_activity::verb) == Some("left") && cx.is_me(c.text(project_activity::user_id)) {
        return Ok(());
    }
    cx.require_project(ProjRole::Admin, "recording a project's history")
}
