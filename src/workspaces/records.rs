//! The rules of the workspace document's records: the workspace itself, its members and
//! its invitations (`docs::rules`). Checked for every change, from the API or a device.

use super::{check_grant, store};
use crate::docs::rules::{Change, Ref, RuleCtx, Rules, Target};
use crate::error::AppError;
use crate::policy::WsRole;

crate::docs::table! {
    /// A workspace: its name, slug, display id and plan.
    pub mod workspaces in Workspace as Fields {
        name: Text,
        slug: Text,
        display_id: Text,
        plan: Text,
    }
    /// A person's membership of a workspace, with their role.
    pub mod workspace_members in Workspace as Fields {
        workspace_id: Text,
        user_id: Text,
        role: Text,
    }
    /// An invitation to join a workspace, by email, until accepted or expired.
    pub mod invitations in Workspace as Fields {
        workspace_id: Text,
        email: Text,
        role: Text,
        token_hash: Text,
        expires_at: Text,
        accepted_at: Text,
        accepted_by: Text,
    }
}

pub const WORKSPACES: Rules = Rules {
    table: workspaces::SPEC.name,
    immutable: &[
        workspaces::slug.name,
        workspaces::display_id.name,
        workspaces::created_at.name,
        workspaces::created_by.name,
    ],
    refs: &[],
    max_len: &[
        (workspaces::name.name, 80),
        (workspaces::slug.name, 48),
        (workspaces::display_id.name, 32),
        (workspaces::plan.name, 20),
    ],
    check: check_workspace,
};

fn check_workspace(cx: &RuleCtx<'_>, c: &Change) -> Result<(), AppError> {
    if c.is_create() {
        // Its creator is its first owner, in the same change.
        let key = super::member_key(&c.id, cx.user().unwrap_or_default());
        let owner = cx
            .touched(workspace_members::SPEC, &key)
            .is_some_and(|m| m.text(workspace_members::role) == Some("owner") && !m.is_deleted());
        if cx.is_person() && (!owner || c.text(workspaces::created_by) != cx.user()) {
            return Err(AppError::refused(
                "update_rejected",
                "a new workspace must carry its creator as owner",
            ));
        }
        return Ok(());
    }
    if c.changed(workspaces::plan) && cx.is_person() {
        return Err(AppError::denied("plan_locked", "the plan changes only with a licence"));
    }
    if c.is_deleted() {
        if c.is_delete() && cx.is_person() && cx.ws_role != Some(WsRole::Owner) {
            return Err(AppError::forbidden("only owners delete a workspace"));
        }
        if !c.is_delete() {
            return Err(AppError::refused(
                "record_deleted",
                "a deleted workspace does not change",
            ));
        }
        return Ok(());
    }
    cx.require_ws(WsRole::Admin, "changing the workspace")
}

pub const WORKSPACE_MEMBERS: Rules = Rules {
    table: workspace_members::SPEC.name,
    immutable: &[workspace_members::user_id.name, workspace_members::created_at.name],
    refs: &[],
    max_len: &[(workspace_members::role.name, 10)],
    check: check_member,
};

fn role(s: Option<&str>) -> Result<WsRole, AppError> {
    s.and_then(WsRole::parse)
        .ok_or_else(|| AppError::field("role", "must be guest, member, admin or owner"))
}

fn check_member(cx: &RuleCtx<'_>, c: &Change) -> Result<(), AppError> {
    let user = c.text(workspace_members::user_id);
    if c.id != super::member_key(&cx.doc.workspace_id, user.unwrap_or_default()) && c.is_create() && c.before.is_none()
    {
        // Keys are derived from the person, so two admins adding one person write one record.
        return Err(AppError::refused(
            "update_rejected",
            "a membership's key names its workspace and person",
        ));
    }
    let new_role = role(c.text(workspace_members::role))?;
    let old_role = c
        .was(workspace_members::role)
        .and_then(WsRole::parse)
        .filter(|_| !c.is_create());
    if cx.is_person() {
        may_change_member(cx, c, user, new_role, old_role)?;
        // A premium licence allows so many members: one more past them is refused (402);
        // nobody already in is removed, and the free plan has no limit.
        if c.is_create() && !c.is_deleted() {
            let today = crate::plans::licence_today(cx.conn)?;
            let plan = crate::plans::plan_of(cx.conn, &cx.doc.workspace_id, today)?;
            if let Some(seats) = plan.seats_allowed {
                if plan.seats_used > i64::from(seats) {
                    return Err(AppError::refused_status(
                        402,
                        "seat_limit",
                        format!(
                            "the workspace's licence allows {seats} members and all are taken: \
                             install a licence with more seats, or remove a member first"
                        ),
                    ));
                }
            }
        }
    }
    // No workspace is left without an owner (counted after the change), whoever changes it.
    let owner_lost = old_role == Some(WsRole::Owner) && (c.is_deleted() || new_role != WsRole::Owner);
    if owner_lost && store::owner_count(cx.conn, &cx.doc.workspace_id)? < 1 {
        return Err(AppError::refused(
            "last_owner",
            "a workspace must keep at least one owner",
        ));
    }
    Ok(())
}

/// Whether the acting person may make this change of a membership.
fn may_change_member(
    cx: &RuleCtx<'_>,
    c: &Change,
    user: Option<&str>,
    new_role: WsRole,
    old_role: Option<WsRole>,
) -> Result<(), AppError> {
    let actor = cx.ws_role;
    if c.is_create() {
        if c.is_deleted() {
            return Ok(());
        }
        let new_workspace = cx
            .touched(workspaces::SPEC, &cx.doc.workspace_id)
            .is_some_and(Change::is_create);
        if new_workspace && cx.is_me(user) {
            // The creator's own membership, checked with the workspace record.
            return Ok(());
        }
        if cx.is_me(user) && actor.is_none() {
            // Joining: only by accepting, in the same change, an invitation with this role.
            let accepted = cx.touched_in(invitations::SPEC).any(|i| {
                i.was(invitations::accepted_at).is_none()
                    && i.text(invitations::accepted_by) == user
                    && i.text(invitations::role) == c.text(workspace_members::role)
            });
            if !accepted {
                return Err(AppError::refused(
                    "invitation_required",
                    "joining a workspace needs its invitation",
                ));
            }
            return Ok(());
        }
        let actor = actor.ok_or_else(|| AppError::forbidden("only admins add members"))?;
        if actor < WsRole::Admin {
            return Err(AppError::forbidden("only admins add members"));
        }
        return check_grant(actor, new_role);
    }
    let actor = actor.ok_or_else(|| AppError::forbidden("not a member of this workspace"))?;
    let old = old_role.unwrap_or(WsRole::Guest);
    if c.is_delete() {
        if cx.is_me(user) {
            return Ok(());
        }
        if actor < WsRole::Admin {
            return Err(AppError::forbidden("only admins remove other members"));
        }
        if old == WsRole::Owner && actor != WsRole::Owner {
            return Err(AppError::denied("owner_required", "only owners remove owners"));
        }
        if old > actor {
            return Err(AppError::denied(
                "role_too_high",
                "you cannot remove a member above your role",
            ));
        }
        return Ok(());
    }
    if c.is_deleted() {
        return Err(AppError::refused(
            "record_deleted",
            "a removed membership does not change",
        ));
    }
    // Any other change of a membership is an admin's.
    if actor < WsRole::Admin {
        return Err(AppError::forbidden("only admins change memberships"));
    }
    if c.changed(workspace_members::role) {
        if old == WsRole::Owner && actor != WsRole::Owner {
            return Err(AppError::denied("owner_required", "only owners change owners"));
        }
        if old > actor {
            return Err(AppError::denied(
                "role_too_high",
                "you cannot change a member above your role",
            ));
        }
        check_grant(actor, new_role)?;
    }
    Ok(())
}

pub const INVITATIONS: Rules = Rules {
    table: invitations::SPEC.name,
    immutable: &[
        invitations::email.name,
        invitations::role.name,
        invitations::token_hash.name,
        invitations::expires_at.name,
        invitations::created_at.name,
        invitations::created_by.name,
    ],
    refs: &[Ref {
        field: invitations::accepted_by.name,
        to: Target::Member,
    }],
    max_len: &[
        (invitations::email.name, 254),
        (invitations::role.name, 10),
        (invitations::token_hash.name, 64),
    ],
    check: check_invitation,
};

fn check_invitation(cx: &RuleCtx<'_>, c: &Change) -> Result<(), AppError> {
    role(c.text(invitations::role))?;
    if !cx.is_person() {
        return Ok(());
    }
    let accepting =
        c.was(invitations::accepted_at).is_none() && c.text(invitations::accepted_at).is_some() && !c.is_create();
    if accepting && cx.ws_role.is_none() {
        // The invited person accepts it: their account's email is the invited one.
        let me = cx.user().unwrap_or_default();
        let email = store::user_email(cx.conn, me)?;
        if c.text(invitations::accepted_by) != Some(me) || email.as_deref() != c.text(invitations::email) {
            return Err(AppError::denied(
                "invitation_email_mismatch",
                "this invitation was sent to another email address",
            ));
        }
        if c.was(invitations::expires_at)
            .is_some_and(|e| e <= crate::time::now_rfc3339().as_str())
        {
            return Err(AppError::refused("invitation_expired", "this invitation has expired"));
        }
        return Ok(());
    }
    if c.was(invitations::accepted_at).is_some() && c.changed(invitations::accepted_at) {
        return Err(AppError::conflict(
            "invitation_used",
            "this invitation was already accepted",
        ));
    }
    let actor = cx.ws_role.ok_or_else(|| AppError::forbidden("only admins invite"))?;
    if actor < WsRole::Admin {
        return Err(AppError::forbidden("only admins invite"));
    }
    if c.is_create() {
        check_grant(actor, role(c.text(invitations::role))?)?;
    }
    Ok(())
}
