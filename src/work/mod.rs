//! Projects and their members (and, later, issues, cycles, modules). Each project has its
//! own yrs document holding its record and members, projected into `projects` and
//! `project_members`.

pub mod history;
pub mod records;
pub(crate) mod routes;
pub(crate) mod store;

use serde::Serialize;
use utoipa::ToSchema;

use crate::docs::{DocRef, Set, Val, Who};
use crate::error::{AppError, Checks};
use crate::http::{Page, PageParams};
use crate::issues::records::sync_conflicts;
use crate::policy::{ProjRole, WsRole};
use crate::time::now_rfc3339;
use crate::work::records::{project_members, projects};
use crate::workspaces::{parse_name, WsCtx};
use crate::App;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProjectView {
    pub id: String,
    pub workspace_id: String,
    pub name: String,
    /// 2–12 upper-case letters or digits, unique in the workspace; prefixes issue ids.
    pub identifier: String,
    pub description: String,
    /// Private projects are visible only to their members and workspace admins.
    pub is_private: bool,
    pub is_time_tracking_enabled: bool,
    pub archived_at: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub created_by: Option<String>,
    /// The department whose team project this is (its managers join it).
    pub linked_department_id: Option<String>,
    /// Whether the caller is a member of this project.
    pub is_member: bool,
    /// The caller's role as a project member, if they are one.
    pub member_role: Option<ProjRole>,
    /// Whether the caller marked the project as a favorite.
    pub is_favorite: bool,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProjectMemberView {
    pub id: String,
    pub user_id: String,
    pub role: ProjRole,
    pub display_name: String,
    /// Hidden from guests.
    pub email: Option<String>,
    pub created_at: String,
    /// A person added them (every membership made before the manager rule counts so).
    pub added_by_hand: bool,
    /// The departments whose management brings them in (the manager rule, seed 003).
    pub through_departments: Vec<DepartmentRef>,
}

/// A department a membership goes through, with its name while it exists.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DepartmentRef {
    pub id: String,
    pub name: Option<String>,
}

/// Why a membership exists: added by hand, through managing departments, or both.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MembershipReason {
    pub by_hand: bool,
    pub departments: Vec<DepartmentRef>,
}

/// One event of a project's history: somebody joined or left it, or their role or the
/// reason they are in it changed.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProjectEventView {
    pub id: String,
    /// Whom it is about.
    pub user_id: String,
    pub user_name: String,
    /// `joined`, `left`, `role_changed` or `reason_changed`.
    pub verb: String,
    /// The role they joined with, or have now (`role_changed`).
    pub role: Option<String>,
    /// The role they had (`role_changed`).
    pub old_role: Option<String>,
    /// Why they were in it (`left`, `reason_changed`).
    pub before: Option<MembershipReason>,
    /// Why they are in it (`joined`, `reason_changed`).
    pub after: Option<MembershipReason>,
    pub created_at: String,
    /// Who made the change; `null` for the manager rule run by the server.
    pub created_by: Option<String>,
    pub created_by_name: Option<String>,
}

/// A membership record as the manager rule sees it.
#[derive(Debug, Clone)]
pub struct MembershipRecord {
    pub id: String,
    pub project_id: String,
    pub user_id: String,
    pub role: String,
    pub manual: bool,
    pub via: Vec<String>,
    pub live: bool,
}

/// `via_departments` as stored: department ids, comma-separated, sorted.
pub fn parse_via(v: Option<&str>) -> Vec<String> {
    v.map(|s| s.split(',').filter(|x| !x.is_empty()).map(str::to_string).collect())
        .unwrap_or_default()
}

pub fn format_via(ids: &[String]) -> Option<String> {
    (!ids.is_empty()).then(|| ids.join(","))
}

/// One event of a project's history, as stored.
#[derive(Debug, Clone)]
pub struct ProjectEventRow {
    pub id: String,
    pub user_id: String,
    pub user_name: String,
    pub verb: String,
    pub old_value: Option<String>,
    pub new_value: Option<String>,
    pub created_at: String,
    pub created_by: Option<String>,
    pub created_by_name: Option<String>,
}

/// The live, unarchived projects of a workspace and the department each links to.
pub fn open_project_links(c: &rusqlite::Connection, ws: &str) -> rusqlite::Result<Vec<(String, Option<String>)>> {
    store::open_project_links(c, ws)
}

/// Every membership record of a workspace's projects.
pub fn membership_records(c: &rusqlite::Connection, ws: &str) -> rusqlite::Result<Vec<MembershipRecord>> {
    store::membership_records(c, ws)
}

/// A request's project, as resolved by the policy layer.
#[derive(Debug, Clone)]
pub struct ProjCtx {
    pub ws: WsCtx,
    pub project: ProjectView,
    /// The caller's effective role: workspace admins count as project admins.
    pub role: ProjRole,
}

/// The caller's effective role in a project, None if they may not see it.
pub fn effective_role(ws_role: WsRole, p: &ProjectView) -> Option<ProjRole> {
    effective(ws_role, p.is_private, p.member_role)
}

/// The effective role from the parts of a project (for reads over many projects).
pub fn effective_role_of(ws_role: WsRole, is_private: bool, member_role: Option<ProjRole>) -> Option<ProjRole> {
    effective(ws_role, is_private, member_role)
}

fn effective(ws_role: WsRole, is_private: bool, member_role: Option<ProjRole>) -> Option<ProjRole> {
    if ws_role >= WsRole::Admin {
        return Some(ProjRole::Admin);
    }
    match member_role {
        // A workspace guest is never more than a project guest.
        Some(r) if ws_role == WsRole::Guest => Some(r.min(ProjRole::Guest)),
        Some(r) => Some(r),
        None if !is_private && ws_role >= WsRole::Member => Some(ProjRole::Guest),
        None => None,
    }
}

/// Resolves a project of the request's workspace for the policy layer.
pub fn resolve(
    c: &rusqlite::Connection,
    w: &WsCtx,
    project_id: &str,
) -> rusqlite::Result<Option<(ProjectView, ProjRole)>> {
    Ok(store::project_for(c, &w.ws.id, project_id, &w.actor.user_id)?
        .and_then(|p| effective_role(w.role, &p).map(|r| (p, r))))
}

/// A live project and `user_id`'s effective role in it, checked from scratch (for work
/// that outlives a request, like a timer stopped later).
/// A project's state (archived, tracks time) and `user`'s effective role in it, from one
/// query, for the record rules of its documents; `None` when the workspace has no such
/// project (the role is `None` for a deleted one, as `project_for_user` has it).
pub fn project_facts(
    c: &rusqlite::Connection,
    ws_id: &str,
    project_id: &str,
    user: Option<(&str, Option<WsRole>)>,
) -> rusqlite::Result<Option<(crate::docs::rules::ProjectFacts, Option<ProjRole>)>> {
    let uid = user.map_or("", |(u, _)| u);
    Ok(store::project_flags(c, ws_id, project_id, uid)?.map(|f| {
        let role = match user {
            Some((_, Some(ws_role))) if f.live => effective(ws_role, f.is_private, f.member_role),
            _ => None,
        };
        (
            crate::docs::rules::ProjectFacts {
                archived: f.archived,
                time_tracking: f.time_tracking,
            },
            role,
        )
    }))
}

pub fn project_for_user(
    c: &rusqlite::Connection,
    ws_id: &str,
    project_id: &str,
    user_id: &str,
) -> rusqlite::Result<Option<(ProjectView, ProjRole)>> {
    let Some(ws_role) = crate::workspaces::role_of(c, ws_id, user_id)? else {
        return Ok(None);
    };
    Ok(store::project_for(c, ws_id, project_id, user_id)?.and_then(|p| effective_role(ws_role, &p).map(|r| (p, r))))
}

/// The key of a person's membership record in a project: derived from both, so two devices
/// that add the same person offline write one record (yrs keeps one), never two.
pub fn member_key(project_id: &str, user_id: &str) -> String {
    format!("{project_id}:{user_id}")
}

/// The merge rule for a project identifier held by several live projects of a workspace,
/// which happens when two devices create projects offline with one identifier:
/// - among the projects sharing an identifier, the one with the smallest id keeps it (ids
///   are UUID v7, so that is the one created first);
/// - every other one takes `derived_identifier(identifier, id)`: at most the first 8
///   characters of the identifier and 4 characters computed from its own id;
/// - repeated until no identifier is shared (a derived one could, rarely, collide too).
///
/// A project's new identifier depends only on its own id and identifier, so a peer that sees
/// only some of the projects (private ones are not sent to everyone) never writes a value
/// that differs from what a peer seeing all of them writes. Answers (id, old, new).
pub fn resolve_identifiers(projects: &[(String, String)]) -> Vec<(String, String, String)> {
    let mut current: std::collections::BTreeMap<&str, String> = projects
        .iter()
        .map(|(id, ident)| (id.as_str(), ident.clone()))
        .collect();
    for _ in 0..8 {
        let mut by_ident: std::collections::BTreeMap<String, Vec<&str>> = std::collections::BTreeMap::new();
        for (id, ident) in &current {
            by_ident.entry(ident.clone()).or_default().push(id);
        }
        let losers: Vec<(&str, String)> = by_ident
            .iter()
            .filter(|(_, ids)| ids.len() > 1)
            // BTreeMap order: the ids of a group are sorted, the first keeps the identifier.
            .flat_map(|(ident, ids)| ids[1..].iter().map(move |id| (*id, derived_identifier(ident, id))))
            .collect();
        if losers.is_empty() {
            break;
        }
        for (id, new) in losers {
            current.insert(id, new);
        }
    }
    projects
        .iter()
        .filter_map(|(id, old)| {
            let new = current.get(id.as_str())?;
            (new != old).then(|| (id.clone(), old.clone(), new.clone()))
        })
        .collect()
}

/// `identifier` cut to 8 characters, then 4 upper-case letters or digits from a hash of
/// `id` (FNV-1a: fixed, so every build of Keel derives the same).
pub fn derived_identifier(identifier: &str, id: &str) -> String {
    const DIGITS: &[u8; 36] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let mut h: u32 = 0x811c_9dc5;
    for b in id.bytes() {
        h = (h ^ u32::from(b)).wrapping_mul(0x0100_0193);
    }
    let mut out: String = identifier.chars().take(8).collect();
    let mut n = h % (36 * 36 * 36 * 36);
    let mut suffix = [b'0'; 4];
    for d in suffix.iter_mut().rev() {
        *d = DIGITS[(n % 36) as usize];
        n /= 36;
    }
    out.extend(suffix.iter().map(|b| char::from(*b)));
    out
}

/// Applies [`resolve_identifiers`] to a workspace inside the write path, recording each
/// change as a resolved conflict in the project's document; answers how many projects
/// changed. Run where updates from devices arrive.
pub fn resolve_duplicate_identifiers(ctx: &mut crate::db::WriteCtx<'_>, ws_id: &str) -> Result<usize, AppError> {
    let who = Who::System;
    if !store::has_duplicate_identifiers(ctx.conn, ws_id)? {
        return Ok(0);
    }
    let changes = resolve_identifiers(&store::identifiers(ctx.conn, ws_id)?);
    let now = now_rfc3339();
    for (pid, old, new) in &changes {
        ctx.edit(&who, &DocRef::project(ws_id, pid), |e| {
            e.set(projects::SPEC, pid, &[projects::identifier.to(new.as_str())])?;
            // A key derived from the change: peers that resolve the same merge write one.
            e.put(
                sync_conflicts::SPEC,
                &format!("identifier:{pid}:{old}:{new}"),
                &[
                    sync_conflicts::workspace_id.to(ws_id),
                    sync_conflicts::project_id.to(pid.as_str()),
                    sync_conflicts::kind.to("project_identifier"),
                    sync_conflicts::record_id.to(pid.as_str()),
                    sync_conflicts::old_value.to(old.as_str()),
                    sync_conflicts::new_value.to(new.as_str()),
                    sync_conflicts::created_at.to(now.as_str()),
                    sync_conflicts::updated_at.to(now.as_str()),
                    sync_conflicts::created_by.null(),
                    sync_conflicts::deleted_at.null(),
                ],
            )
        })?;
    }
    Ok(changes.len())
}

pub fn parse_identifier(raw: &str) -> Result<String, String> {
    let s = raw.trim();
    if s.len() < 2 || s.len() > 12 {
        Err("must be 2 to 12 characters".into())
    } else if !s.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()) {
        Err("may contain only upper-case letters and digits".into())
    } else {
        Ok(s.to_string())
    }
}

fn parse_description(raw: &str) -> Result<String, String> {
    if raw.chars().count() > 10_000 {
        Err("must be at most 10000 characters".into())
    } else {
        Ok(raw.trim().to_string())
    }
}

pub struct NewProject {
    pub name: String,
    pub identifier: String,
    pub description: String,
    pub is_private: bool,
    pub is_time_tracking_enabled: bool,
}

impl NewProject {
    pub fn parse(
        name: &str,
        identifier: &str,
        description: Option<&str>,
        is_private: Option<bool>,
        tt: Option<bool>,
    ) -> Result<Self, AppError> {
        let mut c = Checks::new();
        let name = c.take("name", parse_name(name, 255));
        let identifier = c.take("identifier", parse_identifier(identifier));
        let description = c.take("description", parse_description(description.unwrap_or("")));
        c.finish()?;
        match (name, identifier, description) {
            (Some(name), Some(identifier), Some(description)) => Ok(Self {
                name,
                identifier,
                description,
                is_private: is_private.unwrap_or(false),
                is_time_tracking_enabled: tt.unwrap_or(true),
            }),
            _ => Err(AppError::internal("checks passed without values")),
        }
    }
}

#[derive(Default)]
pub struct ProjectPatch {
    pub name: Option<String>,
    pub identifier: Option<String>,
    pub description: Option<String>,
    pub is_private: Option<bool>,
    pub is_time_tracking_enabled: Option<bool>,
    /// `Some(None)` clears it.
    pub linked_department_id: Option<Option<String>>,
}

impl ProjectPatch {
    pub fn parse(
        name: Option<&str>,
        identifier: Option<&str>,
        description: Option<&str>,
        is_private: Option<bool>,
        tt: Option<bool>,
    ) -> Result<Self, AppError> {
        let mut c = Checks::new();
        let p = Self {
            name: name.and_then(|n| c.take("name", parse_name(n, 255))),
            identifier: identifier.and_then(|i| c.take("identifier", parse_identifier(i))),
            description: description.and_then(|d| c.take("description", parse_description(d))),
            is_private,
            is_time_tracking_enabled: tt,
            linked_department_id: None,
        };
        c.finish()?;
        Ok(p)
    }
}

fn member_fields<'a>(
    ws_id: &'a str,
    project_id: &'a str,
    user_id: &'a str,
    role: ProjRole,
    by: &'a str,
    now: &'a str,
) -> [Set; 8] {
    [
        project_members::workspace_id.to(ws_id),
        project_members::project_id.to(project_id),
        project_members::user_id.to(user_id),
        project_members::role.to(role.as_str()),
        project_members::created_at.to(now),
        project_members::updated_at.to(now),
        project_members::created_by.to(by),
        project_members::deleted_at.null(),
    ]
}

pub struct Projects<'a>(pub &'a App);

fn reload(c: &rusqlite::Connection, ws_id: &str, pid: &str, uid: &str) -> Result<ProjectView, AppError> {
    store::project_for(c, ws_id, pid, uid)?.ok_or(AppError::not_found("project"))
}

pub(crate) fn refuse_if_archived(p: &ProjectView) -> Result<(), AppError> {
    if p.archived_at.is_some() {
        return Err(AppError::refused(
            "project_archived",
            "the project is archived; unarchive it first",
        ));
    }
    Ok(())
}

impl Projects<'_> {
    pub async fn create(&self, w: &WsCtx, n: NewProject) -> Result<ProjectView, AppError> {
        let who = Who::user(&w.actor.user_id);
        let (ws_id, uid) = (w.ws.id.clone(), w.actor.user_id.clone());
        self.0
            .writer
            .write(move |ctx| {
                if store::identifier_taken(ctx.conn, &ws_id, &n.identifier, None)? {
                    return Err(AppError::conflict(
                        "identifier_taken",
                        "another project uses this identifier",
                    ));
                }
                let id = crate::new_id();
                let now = now_rfc3339();
                ctx.edit(&who, &DocRef::project(&ws_id, &id), |e| {
                    e.create(
                        projects::SPEC,
                        &id,
                        &[
                            projects::workspace_id.to(ws_id.as_str()),
                            projects::name.to(n.name.as_str()),
                            projects::identifier.to(n.identifier.as_str()),
                            projects::description.to(n.description.as_str()),
                            projects::is_private.to(n.is_private),
                            projects::is_time_tracking_enabled.to(n.is_time_tracking_enabled),
                            projects::archived_at.null(),
                            projects::created_at.to(now.as_str()),
                            projects::updated_at.to(now.as_str()),
                            projects::created_by.to(uid.as_str()),
                            projects::deleted_at.null(),
                        ],
                    )?;
                    e.create(
                        project_members::SPEC,
                        &member_key(&id, &uid),
                        &member_fields(&ws_id, &id, &uid, ProjRole::Admin, &uid, &now),
                    )?;
                    crate::issues::create_default_states(e, &ws_id, &id, &uid, &now)
                })?;
                reload(ctx.conn, &ws_id, &id, &uid)
            })
            .await
    }

    pub async fn list(&self, w: &WsCtx, archived: Option<bool>, p: PageParams) -> Result<Page<ProjectView>, AppError> {
        let (ws_id, uid) = (w.ws.id.clone(), w.actor.user_id.clone());
        let see_all = w.role >= WsRole::Admin;
        let see_public = w.role >= WsRole::Member;
        let (limit, offset) = p.limit_offset();
        let (items, total) = self
            .0
            .readers
            .read(move |c| {
                Ok(store::list_visible(
                    c, &ws_id, &uid, see_all, see_public, archived, limit, offset,
                )?)
            })
            .await?;
        Ok(Page::new(items, total, p))
    }

    pub async fn update(&self, pc: &ProjCtx, patch: ProjectPatch) -> Result<ProjectView, AppError> {
        let who = Who::user(&pc.ws.actor.user_id);
        refuse_if_archived(&pc.project)?;
        let (ws_id, pid, uid) = (pc.ws.ws.id.clone(), pc.project.id.clone(), pc.ws.actor.user_id.clone());
        self.0
            .writer
            .write(move |ctx| {
                if let Some(ident) = &patch.identifier {
                    if store::identifier_taken(ctx.conn, &ws_id, ident, Some(&pid))? {
                        return Err(AppError::conflict(
                            "identifier_taken",
                            "another project uses this identifier",
                        ));
                    }
                }
                let mut fields: Vec<Set> = Vec::new();
                let relinked = patch.linked_department_id.is_some();
                if let Some(v) = patch.linked_department_id {
                    fields.push(projects::linked_department_id.to(v));
                }
                if let Some(v) = patch.name {
                    fields.push(projects::name.to(v));
                }
                if let Some(v) = patch.identifier {
                    fields.push(projects::identifier.to(v));
                }
                if let Some(v) = patch.description {
                    fields.push(projects::description.to(v));
                }
                if let Some(v) = patch.is_private {
                    fields.push(projects::is_private.to(v));
                }
                if let Some(v) = patch.is_time_tracking_enabled {
                    fields.push(projects::is_time_tracking_enabled.to(v));
                }
                if !fields.is_empty() {
                    fields.push(projects::updated_at.to(now_rfc3339()));
                    ctx.edit(&who, &DocRef::project(&ws_id, &pid), |e| {
                        e.set(projects::SPEC, &pid, &fields)
                    })?;
                }
                // Its department's managers join it (or leave it) with the link.
                if relinked {
                    crate::org::reconcile_managers(ctx, &who, &ws_id, Some(&pid))?;
                }
                reload(ctx.conn, &ws_id, &pid, &uid)
            })
            .await
    }

    /// Archives (`true`) or unarchives a project. An archived project is read-only.
    pub async fn set_archived(&self, pc: &ProjCtx, archived: bool) -> Result<ProjectView, AppError> {
        let who = Who::user(&pc.ws.actor.user_id);
        let (ws_id, pid, uid) = (pc.ws.ws.id.clone(), pc.project.id.clone(), pc.ws.actor.user_id.clone());
        self.0
            .writer
            .write(move |ctx| {
                let now = now_rfc3339();
                let at: Val = if archived { now.as_str().into() } else { Val::Null };
                ctx.edit(&who, &DocRef::project(&ws_id, &pid), |e| {
                    e.set(
                        projects::SPEC,
                        &pid,
                        &[projects::archived_at.to(at), projects::updated_at.to(now.as_str())],
                    )
                })?;
                if !archived {
                    crate::org::reconcile_managers(ctx, &who, &ws_id, Some(&pid))?;
                }
                reload(ctx.conn, &ws_id, &pid, &uid)
            })
            .await
    }

    pub async fn delete(&self, pc: &ProjCtx) -> Result<(), AppError> {
        let who = Who::user(&pc.ws.actor.user_id);
        let (ws_id, pid) = (pc.ws.ws.id.clone(), pc.project.id.clone());
        self.0
            .writer
            .write(move |ctx| {
                let now = now_rfc3339();
                ctx.edit(&who, &DocRef::project(&ws_id, &pid), |e| {
                    e.set(
                        projects::SPEC,
                        &pid,
                        &[
                            projects::deleted_at.to(now.as_str()),
                            projects::updated_at.to(now.as_str()),
                        ],
                    )
                })
            })
            .await
    }

    pub async fn members(&self, pc: &ProjCtx, p: PageParams) -> Result<Page<ProjectMemberView>, AppError> {
        let (ws, pid) = (pc.ws.ws.id.clone(), pc.project.id.clone());
        let show_email = pc.ws.role > WsRole::Guest;
        let (limit, offset) = p.limit_offset();
        let (items, total) = self
            .0
            .readers
            .read(move |c| {
                let (mut items, total) = store::list_members(c, &pid, show_email, limit, offset)?;
                let names = crate::org::department_names(c, &ws)?;
                for m in &mut items {
                    for d in &mut m.through_departments {
                        d.name = names.get(&d.id).cloned();
                    }
                }
                Ok((items, total))
            })
            .await?;
        Ok(Page::new(items, total, p))
    }

    /// The project's history, newest first.
    pub async fn activity(&self, pc: &ProjCtx, p: PageParams) -> Result<Page<ProjectEventView>, AppError> {
        let (ws, pid) = (pc.ws.ws.id.clone(), pc.project.id.clone());
        let (limit, offset) = p.limit_offset();
        let (items, total) = self
            .0
            .readers
            .read(move |c| {
                let (rows, total) = store::project_activity(c, &pid, limit, offset)?;
                let names = crate::org::department_names(c, &ws)?;
                let reason = |v: &Option<String>| {
                    v.as_ref().map(|v| {
                        let parts: Vec<&str> = v.split(',').filter(|x| !x.is_empty()).collect();
                        MembershipReason {
                            by_hand: parts.contains(&"hand"),
                            departments: parts
                                .iter()
                                .filter(|x| **x != "hand")
                                .map(|id| DepartmentRef {
                                    id: (*id).to_string(),
                                    name: names.get(*id).cloned(),
                                })
                                .collect(),
                        }
                    })
                };
                let items = rows
                    .into_iter()
                    .map(|r| {
                        let (role, before, after) = match r.verb.as_str() {
                            "joined" => (r.old_value.clone(), None, reason(&r.new_value)),
                            "left" => (None, reason(&r.old_value), None),
                            "reason_changed" => (None, reason(&r.old_value), reason(&r.new_value)),
                            _ => (r.new_value.clone(), None, None),
                        };
                        ProjectEventView {
                            id: r.id,
                            user_id: r.user_id,
                            user_name: r.user_name,
                            verb: r.verb.clone(),
                            role,
                            old_role: (r.verb == "role_changed").then_some(r.old_value).flatten(),
                            before,
                            after,
                            created_at: r.created_at,
                            created_by: r.created_by,
                            created_by_name: r.created_by_name,
                        }
                    })
                    .collect();
                Ok((items, total))
            })
            .await?;
        Ok(Page::new(items, total, p))
    }

    pub async fn add_member(&self, pc: &ProjCtx, user_id: &str, role: ProjRole) -> Result<ProjectMemberView, AppError> {
        let who = Who::user(&pc.ws.actor.user_id);
        refuse_if_archived(&pc.project)?;
        let (ws_id, pid, by, user_id) = (
            pc.ws.ws.id.clone(),
            pc.project.id.clone(),
            pc.ws.actor.user_id.clone(),
            user_id.to_string(),
        );
        self.0
            .writer
            .write(move |ctx| {
                // Who may join, with which role, is the record's rule
                // (`records::PROJECT_MEMBERS`), the same for a device's update.
                let now = now_rfc3339();
                if let Some((rec, _)) = store::membership(ctx.conn, &pid, &user_id)? {
                    // A member through a department only is now added by hand too, and stays
                    // when the department no longer brings them.
                    if store::membership_is_manual(ctx.conn, &rec)? {
                        return Err(AppError::conflict(
                            "already_member",
                            "this person is already a project member",
                        ));
                    }
                    ctx.edit(&who, &DocRef::project(&ws_id, &pid), |e| {
                        e.set(
                            project_members::SPEC,
                            &rec,
                            &[
                                project_members::manual.to(1i64),
                                project_members::role.to(role.as_str()),
                                project_members::updated_at.to(now.as_str()),
                            ],
                        )
                    })?;
                    return store::member(ctx.conn, &pid, &user_id)?
                        .ok_or_else(|| AppError::internal("member not projected"));
                }
                // A membership removed before is made again under its key.
                let key = member_key(&pid, &user_id);
                let revive = store::record_exists(ctx.conn, &key)?;
                ctx.edit(&who, &DocRef::project(&ws_id, &pid), |e| {
                    let f = member_fields(&ws_id, &pid, &user_id, role, &by, &now);
                    if revive {
                        e.set(project_members::SPEC, &key, &f)?;
                        e.set(
                            project_members::SPEC,
                            &key,
                            &[project_members::manual.null(), project_members::via_departments.null()],
                        )
                    } else {
                        e.create(project_members::SPEC, &key, &f)
                    }
                })?;
                store::member(ctx.conn, &pid, &user_id)?.ok_or_else(|| AppError::internal("member not projected"))
            })
            .await
    }

    pub async fn change_member_role(
        &self,
        pc: &ProjCtx,
        user_id: &str,
        role: ProjRole,
    ) -> Result<ProjectMemberView, AppError> {
        let who = Who::user(&pc.ws.actor.user_id);
        refuse_if_archived(&pc.project)?;
        let (ws_id, pid, user_id) = (pc.ws.ws.id.clone(), pc.project.id.clone(), user_id.to_string());
        self.0
            .writer
            .write(move |ctx| {
                let (rec, _) =
                    store::membership(ctx.conn, &pid, &user_id)?.ok_or(AppError::not_found("project member"))?;
                // A guest's ceiling and the last admin are the record's rules.
                // A role given by a person is theirs to keep: the membership is now by hand too.
                ctx.edit(&who, &DocRef::project(&ws_id, &pid), |e| {
                    e.set(
                        project_members::SPEC,
                        &rec,
                        &[
                            project_members::role.to(role.as_str()),
                            project_members::manual.to(1i64),
                            project_members::updated_at.to(now_rfc3339()),
                        ],
                    )
                })?;
                store::member(ctx.conn, &pid, &user_id)?.ok_or(AppError::not_found("project member"))
            })
            .await
    }

    /// Removes a member: anyone may leave, project admins remove others, and a project
    /// keeps an admin (the record's rules, `records::PROJECT_MEMBERS`).
    pub async fn remove_member(&self, pc: &ProjCtx, user_id: &str) -> Result<(), AppError> {
        let who = Who::user(&pc.ws.actor.user_id);
        let (ws_id, pid, user_id) = (pc.ws.ws.id.clone(), pc.project.id.clone(), user_id.to_string());
        self.0
            .writer
            .write(move |ctx| {
                let (rec, _) =
                    store::membership(ctx.conn, &pid, &user_id)?.ok_or(AppError::not_found("project member"))?;
                let now = now_rfc3339();
                ctx.edit(&who, &DocRef::project(&ws_id, &pid), |e| {
                    e.set(
                        project_members::SPEC,
                        &rec,
                        &[
                            project_members::deleted_at.to(now.as_str()),
                            project_members::updated_at.to(now.as_str()),
                        ],
                    )
                })
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn project(private: bool, member_role: Option<ProjRole>) -> ProjectView {
        ProjectView {
            id: String::new(),
            workspace_id: String::new(),
            name: String::new(),
            identifier: "AB".into(),
            description: String::new(),
            is_private: private,
            is_time_tracking_enabled: true,
            archived_at: None,
            created_at: String::new(),
            updated_at: String::new(),
            created_by: None,
            linked_department_id: None,
            is_member: member_role.is_some(),
            member_role,
            is_favorite: false,
        }
    }

    #[test]
    fn effective_project_roles() {
        use ProjRole as P;
        use WsRole as W;
        // Workspace admins administer every project, private or not.
        assert_eq!(effective_role(W::Admin, &project(true, None)), Some(P::Admin));
        assert_eq!(effective_role(W::Owner, &project(true, Some(P::Guest))), Some(P::Admin));
        // Members see public projects as guests, private ones only as members.
        assert_eq!(effective_role(W::Member, &project(false, None)), Some(P::Guest));
        assert_eq!(effective_role(W::Member, &project(true, None)), None);
        assert_eq!(
            effective_role(W::Member, &project(true, Some(P::Member))),
            Some(P::Member)
        );
        // Workspace guests see only their projects, and never above guest.
        assert_eq!(effective_role(W::Guest, &project(false, None)), None);
        assert_eq!(
            effective_role(W::Guest, &project(false, Some(P::Admin))),
            Some(P::Guest)
        );
    }

    #[test]
    fn identifiers() {
        assert_eq!(parse_identifier(" WEB1 "), Ok("WEB1".into()));
        for bad in ["W", "web", "WEB-1", "ABCDEFGHIJKLM", "ÄB"] {
            assert!(parse_identifier(bad).is_err(), "{bad}");
        }
    }

    fn projects(v: &[(&str, &str)]) -> Vec<(String, String)> {
        v.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
    }

    #[test]
    fn the_first_created_project_keeps_a_shared_identifier() {
        let merged = projects(&[("0190-b", "WEB"), ("0190-a", "WEB"), ("0190-c", "API")]);
        let changes = resolve_identifiers(&merged);
        let new = derived_identifier("WEB", "0190-b");
        assert_eq!(changes, vec![("0190-b".to_string(), "WEB".to_string(), new.clone())]);
        assert!(parse_identifier(&new).is_ok(), "{new} is a valid identifier");
        assert!(new.starts_with("WEB") && new.len() == 7);
        // Long identifiers stay within 12 characters.
        assert_eq!(derived_identifier("ABCDEFGHIJKL", "x").len(), 12);
        assert!(resolve_identifiers(&projects(&[("a", "WEB"), ("b", "API")])).is_empty());
    }

    #[test]
    fn identifier_resolution_is_the_same_in_any_order_and_from_a_partial_view() {
        let all = projects(&[("3", "WEB"), ("1", "WEB"), ("2", "WEB"), ("4", "OPS")]);
        let mut rev = all.clone();
        rev.reverse();
        let full = resolve_identifiers(&all);
        assert_eq!(full.len(), 2);
        let mut sorted = resolve_identifiers(&rev);
        sorted.sort();
        let mut f = full.clone();
        f.sort();
        assert_eq!(f, sorted);
        // A peer that does not see project 1 (private) renames only 3, to the same value.
        let partial = resolve_identifiers(&projects(&[("3", "WEB"), ("2", "WEB")]));
        assert_eq!(partial.len(), 1);
        assert!(full.contains(&partial[0]));
        // After the resolution nothing is shared any more.
        let after: Vec<(String, String)> = all
            .iter()
            .map(|(id, ident)| {
                let new = full.iter().find(|c| &c.0 == id).map_or(ident.clone(), |c| c.2.clone());
                (id.clone(), new)
            })
            .collect();
        assert!(resolve_identifiers(&after).is_empty());
    }

    #[test]
    fn a_derived_identifier_that_collides_is_resolved_again() {
        // Project "0" already holds the identifier that "b" would derive.
        let taken = derived_identifier("WEB", "b");
        let merged = projects(&[("a", "WEB"), ("b", "WEB"), ("0", &taken)]);
        let changes = resolve_identifiers(&merged);
        let idents: std::collections::HashSet<String> = merged
            .iter()
            .map(|(id, ident)| {
                changes
                    .iter()
                    .find(|c| &c.0 == id)
                    .map_or(ident.clone(), |c| c.2.clone())
            })
            .collect();
        assert_eq!(idents.len(), 3, "{changes:?}");
        assert!(idents.iter().all(|i| parse_identifier(i).is_ok()));
    }
}
