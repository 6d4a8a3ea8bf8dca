//! A project's own history: who joined or left it, with which role and why (by hand, or
//! through managing a department, seed 003). Derived in one place from the membership
//! changes of every local edit (`docs::rules::FOLLOWERS`), a person's or this instance's
//! (the manager rule's), so no path changes a membership without its history. A peer's
//! update brings the history its own edit derived, checked by `records::PROJECT_ACTIVITY`.

use crate::docs::rules::Derived;
use crate::docs::{Change, DocKind, DocRef, Who};
use crate::work::records::{project_activity, project_members, projects};

/// Why a membership exists, as the history writes it: `hand` and the departments' ids,
/// comma-separated (`hand,0190…`); `None` for a membership that is not live.
fn reason(manual: Option<i64>, via: Option<&str>, live: bool) -> Option<String> {
    if !live {
        return None;
    }
    let mut parts: Vec<String> = Vec::new();
    if manual != Some(0) {
        parts.push("hand".into());
    }
    parts.extend(super::parse_via(via));
    Some(parts.join(","))
}

fn event(who: &Who, d: &DocRef, c: &Change, verb: &'static str, old: Option<String>, new: Option<String>) -> Derived {
    let at = c
        .text(project_members::updated_at)
        .map_or_else(crate::time::now_rfc3339, str::to_string);
    Derived {
        spec: project_activity::SPEC,
        id: crate::new_id(),
        put: false,
        fields: vec![
            project_activity::workspace_id.to(d.workspace_id.as_str()),
            project_activity::project_id.to(c.text(project_members::project_id).unwrap_or_default()),
            project_activity::user_id.to(c.text(project_members::user_id).unwrap_or_default()),
            project_activity::verb.to(verb),
            project_activity::old_value.to(old),
            project_activity::new_value.to(new),
            project_activity::created_at.to(at.as_str()),
            project_activity::updated_at.to(at),
            project_activity::created_by.to(who.user_id().map(str::to_string)),
            project_activity::deleted_at.null(),
        ],
    }
}

/// The history records that follow from one edit's membership changes.
pub fn follow(who: &Who, d: &DocRef, changes: &[Change]) -> Vec<Derived> {
    if d.kind != DocKind::Project || *who == Who::Upstream {
        return Vec::new();
    }
    // A project's creation (its creator its first admin) starts its history, not an event.
    if changes.iter().any(|c| c.spec == projects::SPEC && c.before.is_none()) {
        return Vec::new();
    }
    let mut out = Vec::new();
    for c in changes.iter().filter(|c| c.spec == project_members::SPEC) {
        let was_live = c.before.is_some() && c.was(project_members::deleted_at).is_none();
        let live = !c.is_deleted();
        let before = reason(
            c.was_int(project_members::manual),
            c.was(project_members::via_departments),
            was_live,
        );
        let after = reason(
            c.int(project_members::manual),
            c.text(project_members::via_departments),
            live,
        );
        match (was_live, live) {
            (false, true) => {
                let role = c.text(project_members::role).map(str::to_string);
                out.push(event(who, d, c, "joined", role, after));
            }
            (true, false) => out.push(event(who, d, c, "left", before, None)),
            (true, true) => {
                if c.changed(project_members::role) {
                    let (o, n) = (
                        c.was(project_members::role).map(str::to_string),
                        c.text(project_members::role).map(str::to_string),
                    );
                    out.push(event(who, d, c, "role_changed", o, n));
                }
                if before != after {
                    out.push(event(who, d, c, "reason_changed", before, after));
                }
            }
            (false, false) => {}
        }
    }
    out
}
