//! Workspaces, their members and invitations. The workspace record, its members and its
//! invitations live in the workspace's yrs document (admin-write) and are projected into
//! `workspaces`, `workspace_members` and `invitations`.

pub mod records;
pub(crate) mod routes;
pub(crate) mod store;

use rand::Rng;
use rusqlite::Connection;
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::{parse_email, random_token, sha256_hex, Actor};
use crate::docs::{DocRef, Who};
use crate::error::{AppError, Checks};
use crate::http::{Page, PageParams};
use crate::policy::WsRole;
use crate::time::{now, now_rfc3339, rfc3339};
use crate::workspaces::records::{invitations, workspace_members, workspaces};
use crate::App;

/// Days an invitation stays valid.
pub const INVITATION_DAYS: i64 = 7;

const RESERVED_SLUGS: &[&str] = &[
    "api",
    "admin",
    "app",
    "assets",
    "static",
    "health",
    "docs",
    "login",
    "logout",
    "register",
    "settings",
    "new",
    "sync",
    "workspaces",
    "invitations",
    "accept",
    "setup",
    "account",
];

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WorkspaceView {
    pub id: String,
    pub name: String,
    pub slug: String,
    /// `WK-` followed by 9 upper-case letters or digits.
    pub display_id: String,
    /// `free` or `premium`: worked out from the workspace's licence at each read
    /// (`plans::plan_of`), as `GET …/plan` answers it.
    pub plan: String,
    pub created_at: String,
    pub updated_at: String,
    pub created_by: Option<String>,
    /// The caller's role in this workspace.
    pub role: Option<WsRole>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MemberView {
    /// Id of the membership record.
    pub id: String,
    pub user_id: String,
    pub role: WsRole,
    pub display_name: String,
    /// Hidden from guests.
    pub email: Option<String>,
    pub created_at: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct InvitationView {
    pub id: String,
    pub email: String,
    pub role: WsRole,
    pub expires_at: String,
    pub accepted_at: Option<String>,
    pub created_at: String,
    pub created_by: Option<String>,
    /// The secret to accept with; present only in the answer that created it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

/// A request's workspace, as resolved by the policy layer.
#[derive(Debug, Clone)]
pub struct WsCtx {
    pub actor: Actor,
    pub ws: WorkspaceView,
    pub role: WsRole,
}

pub fn parse_slug(raw: &str) -> Result<String, String> {
    let s = raw.trim();
    let ok_chars = s
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if s.len() < 2 || s.len() > 48 {
        Err("must be 2 to 48 characters".into())
    } else if !ok_chars {
        Err("may contain only lower-case letters, digits and hyphens".into())
    } else if s.starts_with('-') || s.ends_with('-') {
        Err("must not start or end with a hyphen".into())
    } else if RESERVED_SLUGS.contains(&s) {
        Err("is reserved".into())
    } else {
        Ok(s.to_string())
    }
}

pub fn parse_name(raw: &str, max: usize) -> Result<String, String> {
    let s = raw.trim();
    let n = s.chars().count();
    if n == 0 {
        Err("must not be empty".into())
    } else if n > max {
        Err(format!("must be at most {max} characters"))
    } else if s.chars().any(char::is_control) {
        Err("must not contain control characters".into())
    } else {
        Ok(s.to_string())
    }
}

fn new_display_id() -> String {
    const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let mut rng = rand::thread_rng();
    let tail: String = (0..9).map(|_| CHARS[rng.gen_range(0..CHARS.len())] as char).collect();
    format!("WK-{tail}")
}

/// The id of the live workspace with slug `slug` (for the CLI, which acts for no person).
pub fn id_of_slug(c: &Connection, slug: &str) -> rusqlite::Result<Option<String>> {
    store::live_id_of_slug(c, slug)
}

/// How many members the workspace has now (the seats a licence counts).
pub fn member_count(c: &Connection, ws_id: &str) -> rusqlite::Result<i64> {
    store::member_count(c, ws_id)
}

/// `v` with its plan as its licence gives it now (the stored column is never written
/// after creation: the licence is the one source of the plan).
fn with_plan(c: &Connection, mut v: WorkspaceView) -> Result<WorkspaceView, AppError> {
    v.plan = crate::plans::plan_of(c, &v.id, crate::plans::licence_today(c)?)?
        .plan
        .as_str()
        .to_string();
    Ok(v)
}

/// The workspace's display id (`WK-…`), which its licence names.
pub fn display_id(c: &Connection, ws_id: &str) -> rusqlite::Result<Option<String>> {
    store::display_id_of(c, ws_id)
}

/// Whether `email` holds a pending invitation anywhere (for invite-only registration).
pub fn has_pending_invitation(c: &Connection, email: &str) -> rusqlite::Result<bool> {
    store::pending_invitation_any(c, email, &now_rfc3339())
}

/// Resolves `slug` for `user_id`: the workspace and the user's role, None if not a member.
pub fn resolve(c: &Connection, slug: &str, user_id: &str) -> rusqlite::Result<Option<(WorkspaceView, WsRole)>> {
    Ok(store::workspace_with_role(c, slug, user_id)?.and_then(|(ws, role)| role.map(|r| (ws, r))))
}

/// The live role of `user_id` in workspace `ws_id`.
pub fn role_of(c: &Connection, ws_id: &str, user_id: &str) -> rusqlite::Result<Option<WsRole>> {
    Ok(store::membership(c, ws_id, user_id)?.map(|(_, r)| r))
}

/// Whether `user_id` is or was a member of workspace `ws_id` (what a record's reference to
/// a person must name).
pub fn is_or_was_member(c: &Connection, ws_id: &str, user_id: &str) -> rusqlite::Result<bool> {
    store::is_or_was_member(c, ws_id, user_id)
}

/// Checks that `actor_role` may give `new_role` (nobody grants above their own role;
/// only owners make owners).
fn check_grant(actor_role: WsRole, new_role: WsRole) -> Result<(), AppError> {
    if new_role == WsRole::Owner && actor_role != WsRole::Owner {
        return Err(AppError::denied("owner_required", "only owners can make owners"));
    }
    if new_role > actor_role {
        return Err(AppError::denied(
            "role_too_high",
            "you cannot grant a role above your own",
        ));
    }
    Ok(())
}

pub struct Workspaces<'a>(pub &'a App);

impl Workspaces<'_> {
    pub async fn create(&self, actor: &Actor, name: &str, slug: &str) -> Result<WorkspaceView, AppError> {
        let who = Who::user(&actor.user_id);
        let mut c = Checks::new();
        let name = c.take("name", parse_name(name, 80));
        let slug = c.take("slug", parse_slug(slug));
        c.finish()?;
        let (Some(name), Some(slug)) = (name, slug) else {
            return Err(AppError::internal("checks passed without values"));
        };
        let uid = actor.user_id.clone();
        self.0
            .writer
            .write(move |ctx| {
                if store::slug_exists(ctx.conn, &slug)? {
                    return Err(AppError::conflict("slug_taken", "this workspace URL is taken"));
                }
                let mut display_id = new_display_id();
                for _ in 0..16 {
                    if !store::display_id_exists(ctx.conn, &display_id)? {
                        break;
                    }
                    display_id = new_display_id();
                }
                let id = crate::new_id();
                let now = now_rfc3339();
                let d = DocRef::workspace(&id);
                ctx.edit(&who, &d, |e| {
                    e.create(
                        workspaces::SPEC,
                        &id,
                        &[
                            workspaces::name.to(name.as_str()),
                            workspaces::slug.to(slug.as_str()),
                            workspaces::display_id.to(display_id.as_str()),
                            workspaces::plan.to("free"),
                            workspaces::created_at.to(now.as_str()),
                            workspaces::updated_at.to(now.as_str()),
                            workspaces::created_by.to(uid.as_str()),
                            workspaces::deleted_at.null(),
                        ],
                    )?;
                    add_member_record(e, &id, &uid, WsRole::Owner, &uid, &now)
                })?;
                crate::dashboards::create_default(ctx, &id, Some(&uid))?;
                let view = store::workspace_with_role(ctx.conn, &slug, &uid)?
                    .map(|(w, _)| w)
                    .ok_or_else(|| AppError::internal("created workspace not projected"))?;
                Ok(view)
            })
            .await
    }

    pub async fn list_mine(&self, actor: &Actor, p: PageParams) -> Result<Page<WorkspaceView>, AppError> {
        let uid = actor.user_id.clone();
        let (limit, offset) = p.limit_offset();
        let (items, total) = self
            .0
            .readers
            .read(move |c| {
                let (items, total) = store::list_for_user(c, &uid, limit, offset)?;
                let items = items.into_iter().map(|v| with_plan(c, v)).collect::<Result<_, _>>()?;
                Ok((items, total))
            })
            .await?;
        Ok(Page::new(items, total, p))
    }

    /// One workspace as the caller sees it (their role from the request's context).
    pub async fn get(&self, w: &WsCtx) -> Result<WorkspaceView, AppError> {
        let v = w.ws.clone();
        self.0.readers.read(move |c| with_plan(c, v)).await
    }

    pub async fn update(&self, w: &WsCtx, name: Option<String>) -> Result<WorkspaceView, AppError> {
        let who = Who::user(&w.actor.user_id);
        let name = match name {
            Some(n) => Some(parse_name(&n, 80).map_err(|e| AppError::field("name", e))?),
            None => None,
        };
        let (id, slug, uid) = (w.ws.id.clone(), w.ws.slug.clone(), w.actor.user_id.clone());
        self.0
            .writer
            .write(move |ctx| {
                if let Some(name) = name {
                    ctx.edit(&who, &DocRef::workspace(&id), |e| {
                        e.set(
                            workspaces::SPEC,
                            &id,
                            &[workspaces::name.to(name), workspaces::updated_at.to(now_rfc3339())],
                        )
                    })?;
                }
                let v = store::workspace_with_role(ctx.conn, &slug, &uid)?
                    .map(|(w, _)| w)
                    .ok_or(AppError::not_found("workspace"))?;
                with_plan(ctx.conn, v)
            })
            .await
    }

    pub async fn delete(&self, w: &WsCtx) -> Result<(), AppError> {
        let who = Who::user(&w.actor.user_id);
        let id = w.ws.id.clone();
        self.0
            .writer
            .write(move |ctx| {
                let now = now_rfc3339();
                ctx.edit(&who, &DocRef::workspace(&id), |e| {
                    e.set(
                        workspaces::SPEC,
                        &id,
                        &[
                            workspaces::deleted_at.to(now.as_str()),
                            workspaces::updated_at.to(now.as_str()),
                        ],
                    )
                })
            })
            .await
    }

    pub async fn members(&self, w: &WsCtx, p: PageParams) -> Result<Page<MemberView>, AppError> {
        let id = w.ws.id.clone();
        let show_email = w.role > WsRole::Guest;
        let (limit, offset) = p.limit_offset();
        let (items, total) = self
            .0
            .readers
            .read(move |c| Ok(store::list_members(c, &id, show_email, limit, offset)?))
            .await?;
        Ok(Page::new(items, total, p))
    }

    pub async fn add_member(&self, w: &WsCtx, email: &str, role: WsRole) -> Result<MemberView, AppError> {
        let who = Who::user(&w.actor.user_id);
        let email = parse_email(email).map_err(|e| AppError::field("email", e))?;
        check_grant(w.role, role)?;
        let (ws_id, actor_id) = (w.ws.id.clone(), w.actor.user_id.clone());
        self.0
            .writer
            .write(move |ctx| {
                let user_id = store::user_id_by_email(ctx.conn, &email)?.ok_or_else(|| {
                    AppError::refused(
                        "user_not_found",
                        "no account has this email; send an invitation instead",
                    )
                })?;
                if store::membership(ctx.conn, &ws_id, &user_id)?.is_some() {
                    return Err(AppError::conflict("already_member", "this person is already a member"));
                }
                let now = now_rfc3339();
                ctx.edit(&who, &DocRef::workspace(&ws_id), |e| {
                    add_member_record(e, &ws_id, &user_id, role, &actor_id, &now)
                })?;
                store::member(ctx.conn, &ws_id, &user_id)?.ok_or_else(|| AppError::internal("member not projected"))
            })
            .await
    }

    pub async fn change_role(&self, w: &WsCtx, user_id: &str, role: WsRole) -> Result<MemberView, AppError> {
        let who = Who::user(&w.actor.user_id);
        let (ws_id, user_id) = (w.ws.id.clone(), user_id.to_string());
        self.0
            .writer
            .write(move |ctx| {
                let (rec_id, _) =
                    store::membership(ctx.conn, &ws_id, &user_id)?.ok_or(AppError::not_found("member"))?;
                // Who may give which role, and the last owner, are the record's rules
                // (`records::WORKSPACE_MEMBERS`), the same for a device's update.
                ctx.edit(&who, &DocRef::workspace(&ws_id), |e| {
                    e.set(
                        workspace_members::SPEC,
                        &rec_id,
                        &[
                            workspace_members::role.to(role.as_str()),
                            workspace_members::updated_at.to(now_rfc3339()),
                        ],
                    )
                })?;
                store::member(ctx.conn, &ws_id, &user_id)?.ok_or(AppError::not_found("member"))
            })
            .await
    }

    /// Removes a member; anyone may remove themselves (leave), admins remove others, and
    /// a workspace keeps an owner (the record's rules, `records::WORKSPACE_MEMBERS`).
    pub async fn remove_member(&self, w: &WsCtx, user_id: &str) -> Result<(), AppError> {
        let who = Who::user(&w.actor.user_id);
        let (ws_id, user_id) = (w.ws.id.clone(), user_id.to_string());
        self.0
            .writer
            .write(move |ctx| {
                let (rec_id, _) =
                    store::membership(ctx.conn, &ws_id, &user_id)?.ok_or(AppError::not_found("member"))?;
                let now = now_rfc3339();
                ctx.edit(&who, &DocRef::workspace(&ws_id), |e| {
                    e.set(
                        workspace_members::SPEC,
                        &rec_id,
                        &[
                            workspace_members::deleted_at.to(now.as_str()),
                            workspace_members::updated_at.to(now.as_str()),
                        ],
                    )
                })
            })
            .await
    }

    pub async fn invitations(&self, w: &WsCtx, p: PageParams) -> Result<Page<InvitationView>, AppError> {
        let id = w.ws.id.clone();
        let (limit, offset) = p.limit_offset();
        let (items, total) = self
            .0
            .readers
            .read(move |c| Ok(store::list_invitations(c, &id, limit, offset)?))
            .await?;
        Ok(Page::new(items, total, p))
    }

    pub async fn invite(&self, w: &WsCtx, email: &str, role: WsRole) -> Result<InvitationView, AppError> {
        let who = Who::user(&w.actor.user_id);
        let email = parse_email(email).map_err(|e| AppError::field("email", e))?;
        check_grant(w.role, role)?;
        let ws_id = w.ws.id.clone();
        let (mut view, token) = self
            .0
            .writer
            .write(move |ctx| {
                let (id, token) = invite_in(ctx, &who, &ws_id, &email, role)?;
                let view = store::invitation_in(ctx.conn, &ws_id, &id)?
                    .ok_or_else(|| AppError::internal("invitation not projected"))?;
                Ok((view, token))
            })
            .await?;
        view.token = Some(token);
        Ok(view)
    }

    pub async fn revoke_invitation(&self, w: &WsCtx, id: &str) -> Result<(), AppError> {
        let who = Who::user(&w.actor.user_id);
        let (ws_id, id) = (w.ws.id.clone(), id.to_string());
        self.0
            .writer
            .write(move |ctx| {
                store::invitation_in(ctx.conn, &ws_id, &id)?.ok_or(AppError::not_found("invitation"))?;
                let now = now_rfc3339();
                ctx.edit(&who, &DocRef::workspace(&ws_id), |e| {
                    e.set(
                        invitations::SPEC,
                        &id,
                        &[
                            invitations::deleted_at.to(now.as_str()),
                            invitations::updated_at.to(now.as_str()),
                        ],
                    )
                })
            })
            .await
    }

    /// Accepts an invitation by its secret token; the signed-in account's email must be
    /// the invited one.
    pub async fn accept(&self, actor: &Actor, token: &str) -> Result<WorkspaceView, AppError> {
        let who = Who::user(&actor.user_id);
        if !token.starts_with("keel_inv_") || token.len() > 200 {
            return Err(AppError::not_found("invitation"));
        }
        let hash = sha256_hex(token);
        let actor = actor.clone();
        self.0
            .writer
            .write(move |ctx| {
                let (inv, ws_id, slug) =
                    store::invitation_by_token(ctx.conn, &hash)?.ok_or(AppError::not_found("invitation"))?;
                if inv.accepted_at.is_some() {
                    return Err(AppError::conflict(
                        "invitation_used",
                        "this invitation was already accepted",
                    ));
                }
                let now = now_rfc3339();
                if inv.expires_at <= now {
                    return Err(AppError::refused("invitation_expired", "this invitation has expired"));
                }
                if inv.email != actor.email {
                    return Err(AppError::denied(
                        "invitation_email_mismatch",
                        "this invitation was sent to another email address",
                    ));
                }
                let already = store::membership(ctx.conn, &ws_id, &actor.user_id)?.is_some();
                ctx.edit(&who, &DocRef::workspace(&ws_id), |e| {
                    if !already {
                        let by = inv.created_by.clone().unwrap_or_default();
                        add_member_record(e, &ws_id, &actor.user_id, inv.role, &by, &now)?;
                    }
                    e.set(
                        invitations::SPEC,
                        &inv.id,
                        &[
                            invitations::accepted_at.to(now.as_str()),
                            invitations::accepted_by.to(actor.user_id.as_str()),
                            invitations::updated_at.to(now.as_str()),
                        ],
                    )
                })?;
                // A staff record an import prepared for this invitation is theirs now.
                crate::org::apply_pending_staff(ctx, &ws_id, &inv.id, &actor.user_id)?;
                let v = store::workspace_with_role(ctx.conn, &slug, &actor.user_id)?
                    .map(|(w, _)| w)
                    .ok_or(AppError::not_found("workspace"))?;
                with_plan(ctx.conn, v)
            })
            .await
    }
}

/// Invites `email` (parsed) to workspace `ws_id` with `role`, as `who`, in the caller's
/// job: refused when they are a member or have a pending invitation. Answers the
/// invitation's id and its secret token (shown once).
pub fn invite_in(
    ctx: &mut crate::db::WriteCtx<'_>,
    who: &Who,
    ws_id: &str,
    email: &str,
    role: WsRole,
) -> Result<(String, String), AppError> {
    let token = random_token("keel_inv_");
    let hash = sha256_hex(&token);
    let now_t = now();
    let now = rfc3339(now_t);
    if let Some(uid) = store::user_id_by_email(ctx.conn, email)? {
        if store::membership(ctx.conn, ws_id, &uid)?.is_some() {
            return Err(AppError::conflict("already_member", "this person is already a member"));
        }
    }
    if store::pending_invitation_for(ctx.conn, ws_id, email, &now)? {
        return Err(AppError::conflict(
            "already_invited",
            "this email already has a pending invitation",
        ));
    }
    let id = crate::new_id();
    let expires = rfc3339(now_t + chrono::Duration::days(INVITATION_DAYS));
    let by = who.user_id().unwrap_or_default().to_string();
    ctx.edit(who, &DocRef::workspace(ws_id), |e| {
        e.create(
            invitations::SPEC,
            &id,
            &[
                invitations::workspace_id.to(ws_id),
                invitations::email.to(email),
                invitations::role.to(role.as_str()),
                invitations::token_hash.to(hash),
                invitations::expires_at.to(expires),
                invitations::accepted_at.null(),
                invitations::accepted_by.null(),
                invitations::created_at.to(now.as_str()),
                invitations::updated_at.to(now.as_str()),
                invitations::created_by.to(by.as_str()),
                invitations::deleted_at.null(),
            ],
        )
    })?;
    Ok((id, token))
}

/// Whether `email` has a pending invitation to `ws_id`.
pub fn is_invited(c: &rusqlite::Connection, ws_id: &str, email: &str) -> rusqlite::Result<bool> {
    store::pending_invitation_for(c, ws_id, email, &now_rfc3339())
}

/// The key of a person's membership record in a workspace: derived from both, so two
/// devices that add the same person offline write one record, never two.
pub fn member_key(ws_id: &str, user_id: &str) -> String {
    format!("{ws_id}:{user_id}")
}

fn add_member_record(
    e: &mut crate::docs::Edit<'_>,
    ws_id: &str,
    user_id: &str,
    role: WsRole,
    by: &str,
    now: &str,
) -> Result<(), AppError> {
    e.create(
        workspace_members::SPEC,
        &member_key(ws_id, user_id),
        &[
            workspace_members::workspace_id.to(ws_id),
            workspace_members::user_id.to(user_id),
            workspace_members::role.to(role.as_str()),
            workspace_members::created_at.to(now),
            workspace_members::updated_at.to(now),
            workspace_members::created_by.to(by),
            workspace_members::deleted_at.null(),
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        assert_eq!(parse_slug("acme-2"), Ok("acme-2".into()));
        for bad in ["a", "Acme", "acme_2", "-acme", "acme-", "api", "docs", "ac me"] {
            assert!(parse_slug(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn grants_never_exceed_the_grantor() {
        use WsRole::*;
        assert!(check_grant(Owner, Owner).is_ok());
        assert!(check_grant(Admin, Admin).is_ok());
        assert!(check_grant(Admin, Owner).is_err());
        assert!(check_grant(Member, Admin).is_err());
        assert!(check_grant(Guest, Member).is_err());
    }

    #[test]
    fn display_ids_have_the_seed_format() {
        for _ in 0..100 {
            let d = new_display_id();
            assert_eq!(d.len(), 12);
            assert!(d.starts_with("WK-"));
            assert!(d[3..].bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()));
        }
    }
}
