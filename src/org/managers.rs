//! Managers join their departments' projects (seed 003). A department's managers — its
//! `manager_id` (unless their staff record says they have left) and the people of it
//! flagged `is_department_manager` — are members of the project linked to it and of the
//! projects linked to every department below it. Memberships record why they exist
//! (`manual`, `via_departments`), so the rule adds and removes only what departments
//! hold: a membership someone added by hand stays when its departments go.
//!
//! The wanted memberships are a function of the workspace's state, so `reconcile` may run
//! after any change and writes only the difference, in the caller's job. It runs on the
//! side that sees every device's changes: after the API's org, staff and project-link
//! changes (as their actor), and after a device's update of a workspace or project
//! document (as this instance); an instance that syncs the workspace from a server leaves
//! it to the server.
//! The history of each change is the project history's follower (`work::history`).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::store;
use crate::db::WriteCtx;
use crate::docs::{DocRef, Set, Who};
use crate::error::AppError;
use crate::policy::{ProjRole, WsRole};
use crate::time::now_rfc3339;
use crate::work::records::project_members;
use crate::work::{format_via, MembershipRecord};

/// (project, user) → the departments that bring the user into the project.
pub(crate) type Wanted = BTreeMap<(String, String), BTreeSet<String>>;

/// The memberships the manager rule wants, from the tree, the links and the managers.
pub(crate) fn wanted(c: &rusqlite::Connection, ws: &str) -> Result<Wanted, AppError> {
    let tree = super::arrange(store::live(c, ws)?);
    let former: BTreeSet<String> = store::former_staff(c, ws)?.into_iter().collect();
    // Each department's parent as the tree shows it (a cycle is broken, an orphan a root).
    let parent: HashMap<String, Option<String>> = tree
        .iter()
        .map(|(r, level, _)| (r.id.clone(), if *level == 1 { None } else { r.parent_id.clone() }))
        .collect();
    let mut projects: HashMap<String, BTreeSet<String>> = HashMap::new();
    let open: BTreeSet<String> = crate::work::open_project_links(c, ws)?
        .into_iter()
        .map(|(p, d)| {
            if let Some(d) = d {
                projects.entry(d).or_default().insert(p.clone());
            }
            p
        })
        .collect();
    for (r, _, _) in &tree {
        if let Some(p) = r.linked_project_id.as_ref().filter(|p| open.contains(*p)) {
            projects.entry(r.id.clone()).or_default().insert(p.clone());
        }
    }
    let mut managers: HashMap<String, BTreeSet<String>> = HashMap::new();
    for (r, _, _) in &tree {
        if let Some(m) = r.manager_id.as_ref().filter(|m| !former.contains(*m)) {
            managers.entry(r.id.clone()).or_default().insert(m.clone());
        }
    }
    for (d, u) in store::flagged_managers(c, ws)? {
        if parent.contains_key(&d) {
            managers.entry(d).or_default().insert(u);
        }
    }
    let mut out = Wanted::new();
    for (r, _, _) in &tree {
        let Some(ps) = projects.get(&r.id) else { continue };
        // This department and every one above it bring their managers into its projects.
        let mut at = Some(r.id.clone());
        let mut seen = BTreeSet::new();
        while let Some(d) = at {
            if !seen.insert(d.clone()) {
                break;
            }
            for m in managers.get(&d).into_iter().flatten() {
                for p in ps {
                    out.entry((p.clone(), m.clone())).or_default().insert(d.clone());
                }
            }
            at = parent.get(&d).cloned().flatten();
        }
    }
    // Only people who are members of the workspace join its projects.
    let mut members: HashMap<String, Option<WsRole>> = HashMap::new();
    let mut keep = Wanted::new();
    for (k, v) in out {
        let role = match members.get(&k.1) {
            Some(r) => *r,
            None => {
                let r = crate::workspaces::role_of(c, ws, &k.1)?;
                members.insert(k.1.clone(), r);
                r
            }
        };
        if role.is_some() {
            keep.insert(k, v);
        }
    }
    Ok(keep)
}

/// One membership record to write: its fields, and whether the record exists already.
struct Write {
    id: String,
    fields: Vec<Set>,
    exists: bool,
}

/// Brings the workspace's project memberships in line with the manager rule, as `who`,
/// in the caller's job; `only` limits it to one project. Answers how many it changed.
pub fn reconcile(ctx: &mut WriteCtx<'_>, who: &Who, ws: &str, only: Option<&str>) -> Result<usize, AppError> {
    // One side keeps the rule: the server, where every device's changes arrive. An instance
    // that syncs this workspace from a server leaves it to that server (two sides writing
    // the same membership would write it twice, each dated and signed its own way).
    if crate::sync::has_upstream(ctx.conn, ws)? {
        return Ok(0);
    }
    let want = wanted(ctx.conn, ws)?;
    let records = crate::work::membership_records(ctx.conn, ws)?;
    // One record per (project, user): the live one, else the last removed under the key.
    let mut have: HashMap<(String, String), MembershipRecord> = HashMap::new();
    for r in records {
        let k = (r.project_id.clone(), r.user_id.clone());
        let rank = |x: &MembershipRecord| (x.live, x.id == crate::work::member_key(&k.0, &k.1));
        if have.get(&k).is_none_or(|cur| rank(&r) > rank(cur)) {
            have.insert(k, r);
        }
    }
    let open: BTreeSet<String> = crate::work::open_project_links(ctx.conn, ws)?
        .into_iter()
        .map(|(p, _)| p)
        .collect();
    let now = now_rfc3339();
    let mut per_project: BTreeMap<String, Vec<Write>> = BTreeMap::new();
    let mut keys: BTreeSet<(String, String)> = want.keys().cloned().collect();
    keys.extend(
        have.iter()
            .filter(|(_, r)| r.live && !r.via.is_empty())
            .map(|(k, _)| k.clone()),
    );
    for k in keys {
        if only.is_some_and(|p| p != k.0) || !open.contains(&k.0) {
            continue;
        }
        let via: Vec<String> = want.get(&k).map(|s| s.iter().cloned().collect()).unwrap_or_default();
        let cur = have.get(&k);
        match cur {
            Some(r) if r.live => {
                if r.via == via {
                    continue;
                }
                let mut f: Vec<Set> = vec![project_members::via_departments.to(format_via(&via))];
                if via.is_empty() && !r.manual {
                    f.push(project_members::deleted_at.to(now.as_str()));
                }
                f.push(project_members::updated_at.to(now.as_str()));
                per_project.entry(k.0.clone()).or_default().push(Write {
                    id: r.id.clone(),
                    fields: f,
                    exists: true,
                });
            }
            _ if via.is_empty() => {}
            other => {
                let role = match crate::workspaces::role_of(ctx.conn, ws, &k.1)? {
                    Some(WsRole::Guest) => ProjRole::Guest,
                    Some(_) => ProjRole::Member,
                    None => continue,
                };
                let id = other.map_or_else(|| crate::work::member_key(&k.0, &k.1), |r| r.id.clone());
                let f: Vec<Set> = vec![
                    project_members::workspace_id.to(ws),
                    project_members::project_id.to(k.0.as_str()),
                    project_members::user_id.to(k.1.as_str()),
                    project_members::role.to(role.as_str()),
                    project_members::manual.to(0i64),
                    project_members::via_departments.to(format_via(&via)),
                    project_members::created_at.to(now.as_str()),
                    project_members::updated_at.to(now.as_str()),
                    project_members::created_by.to(who.user_id().map(str::to_string)),
                    project_members::deleted_at.null(),
                ];
                per_project.entry(k.0.clone()).or_default().push(Write {
                    id,
                    fields: f,
                    exists: other.is_some(),
                });
            }
        }
    }
    let mut n = 0;
    for (pid, writes) in per_project {
        n += writes.len();
        ctx.edit(who, &DocRef::project(ws, &pid), |e| {
            for w in &writes {
                if w.exists {
                    e.set(project_members::SPEC, &w.id, &w.fields)?;
                } else {
                    e.create(project_members::SPEC, &w.id, &w.fields)?;
                }
            }
            Ok(())
        })?;
    }
    Ok(n)
}

/// Department names by id (deleted ones too), for showing why memberships exist.
pub fn department_names(c: &rusqlite::Connection, ws: &str) -> rusqlite::Result<HashMap<String, String>> {
    Ok(store::department_names(c, ws)?.into_iter().collect())
}
