//! An issue's history, derived in one place from the typed changes of every local edit
//! (`docs::rules::FOLLOWERS`). Services change issues, their links and comments; this
//! module writes what the history says about it, in the same edit, so no path can change an
//! issue without its history and no service writes history by hand.
//!
//! - A person's change is recorded with them as its author, under a new key.
//! - This instance's merge resolution (two issues with one number, one renumbered) is
//!   recorded with no author under a key derived from it, so every peer that resolves the
//!   same merge writes the same record (`records::check_activity` holds people to that).
//! - A peer's update brings the history its own edit derived; it is checked, not derived
//!   again (`docs::rules::Follower`).

use std::collections::HashSet;

use crate::docs::rules::Derived;
use crate::docs::{Change, DocKind, DocRef, Val, Who};
use crate::issues::records::{issue_activity, issue_comments, issues};

/// The issue fields whose change the history records, and the name it records them by.
const TRACKED: &[(&str, &str)] = &[
    ("name", "name"),
    ("description_html", "description"),
    ("state_id", "state"),
    ("priority", "priority"),
    ("estimate_point", "estimate_point"),
    ("estimate_time", "estimate_time"),
    ("start_date", "start_date"),
    ("target_date", "target_date"),
    ("parent_id", "parent"),
    ("cycle_id", "cycle"),
    ("module_id", "module"),
];

/// One event of the history, before it becomes a record.
struct Event<'c> {
    change: &'c Change,
    issue_id: &'c str,
    verb: &'static str,
    field: Option<&'static str>,
    old: Option<String>,
    new: Option<String>,
}

/// The history records that follow from one edit's changes of a project document.
pub fn follow(who: &Who, d: &DocRef, changes: &[Change]) -> Vec<Derived> {
    if d.kind != DocKind::Project {
        return Vec::new();
    }
    let mut events: Vec<Event<'_>> = Vec::new();
    match who {
        Who::User(_) => {
            let created: HashSet<&str> = changes
                .iter()
                .filter(|c| c.spec == issues::SPEC && c.is_create())
                .map(|c| c.id.as_str())
                .collect();
            changes
                .iter()
                .filter(|c| c.spec == issues::SPEC)
                .for_each(|c| issue_events(c, &mut events));
            changes
                .iter()
                .filter(|c| c.spec == issue_comments::SPEC)
                .for_each(|c| comment_events(c, &mut events));
            for (table, name, col) in [
                ("issue_assignees", "assignees", "user_id"),
                ("issue_labels", "labels", "label_id"),
            ] {
                link_events(changes, table, name, col, &created, &mut events);
            }
        }
        Who::System => {
            for c in changes.iter().filter(|c| c.spec == issues::SPEC && !c.is_create()) {
                if let (Some(old), Some(new)) = (c.was_int(issues::sequence_id), c.int(issues::sequence_id)) {
                    if old != new {
                        events.push(Event {
                            change: c,
                            issue_id: &c.id,
                            verb: "renumbered",
                            field: Some("sequence_id"),
                            old: Some(old.to_string()),
                            new: Some(new.to_string()),
                        });
                    }
                }
            }
        }
        Who::Upstream => {}
    }
    events.into_iter().map(|e| record(who, d, e)).collect()
}

fn issue_events<'c>(c: &'c Change, out: &mut Vec<Event<'c>>) {
    let event = |verb, field, old, new| Event {
        change: c,
        issue_id: &c.id,
        verb,
        field,
        old,
        new,
    };
    if c.is_create() {
        out.push(event(
            "created",
            None,
            None,
            c.int(issues::sequence_id).map(|n| n.to_string()),
        ));
        return;
    }
    if c.is_delete() {
        out.push(event("deleted", None, None, None));
        return;
    }
    for (col, name) in TRACKED {
        if !c.changed_by_name(col) {
            continue;
        }
        // A description's history says that it changed, not what it was.
        let (old, new) = if *col == "description_html" {
            (None, None)
        } else {
            (shown(c.before.as_deref(), c, col), shown(Some(&c.after), c, col))
        };
        out.push(event("updated", Some(name), old, new));
    }
}

fn comment_events<'c>(c: &'c Change, out: &mut Vec<Event<'c>>) {
    let Some(issue_id) = c.text(issue_comments::issue_id) else {
        return;
    };
    let (verb, old, new) = if c.is_create() {
        ("commented", None, Some(c.id.clone()))
    } else if c.is_delete() {
        ("comment_deleted", Some(c.id.clone()), None)
    } else {
        return;
    };
    out.push(Event {
        change: c,
        issue_id,
        verb,
        field: None,
        old,
        new,
    });
}

/// One event per issue for the links of `table` an edit added or removed (not for an issue
/// the same edit creates: its creation is the event).
fn link_events<'c>(
    changes: &'c [Change],
    table: &str,
    name: &'static str,
    col: &str,
    created: &HashSet<&str>,
    out: &mut Vec<Event<'c>>,
) {
    let mut per_issue: Vec<(&'c str, &'c Change, Vec<&'c str>, Vec<&'c str>)> = Vec::new();
    for c in changes.iter().filter(|c| c.spec.name == table) {
        let (Some(issue), Some(target)) = (c.text_by_name("issue_id"), c.text_by_name(col)) else {
            continue;
        };
        if created.contains(issue) {
            continue;
        }
        let added = c.is_create() && !c.is_deleted();
        if !added && !c.is_delete() {
            continue;
        }
        let i = match per_issue.iter().position(|p| p.0 == issue) {
            Some(i) => i,
            None => {
                per_issue.push((issue, c, Vec::new(), Vec::new()));
                per_issue.len() - 1
            }
        };
        if added {
            per_issue[i].3.push(target);
        } else {
            per_issue[i].2.push(target);
        }
    }
    for (issue_id, change, removed, added) in per_issue {
        let join = |v: Vec<&str>| (!v.is_empty()).then(|| v.join(","));
        out.push(Event {
            change,
            issue_id,
            verb: "updated",
            field: Some(name),
            old: join(removed),
            new: join(added),
        });
    }
}

/// A field's value as the history shows it (`None` for null).
fn shown(vals: Option<&[Val]>, c: &Change, col: &str) -> Option<String> {
    let i = c.spec.cols.iter().position(|(n, _)| *n == col)?;
    match vals?.get(i)? {
        Val::Null => None,
        Val::Text(t) => Some(t.clone()),
        Val::Int(n) => Some(n.to_string()),
    }
}

fn record(who: &Who, d: &DocRef, e: Event<'_>) -> Derived {
    // The event happens when the record it follows was changed; a renumbering changes only
    // the number, so it is dated when this instance resolved the merge.
    let at = match e.verb {
        "renumbered" => crate::time::now_rfc3339(),
        _ => e
            .change
            .text_by_name("updated_at")
            .map_or_else(crate::time::now_rfc3339, str::to_string),
    };
    let project_id = e.change.text_by_name("project_id").unwrap_or_default().to_string();
    let by = who.user_id().map(str::to_string);
    let (id, put) = match e.verb {
        "renumbered" => (
            format!(
                "renumber:{}:{}:{}",
                e.issue_id,
                e.old.as_deref().unwrap_or_default(),
                e.new.as_deref().unwrap_or_default()
            ),
            true,
        ),
        _ => (crate::new_id(), false),
    };
    Derived {
        spec: issue_activity::SPEC,
        id,
        put,
        fields: vec![
            issue_activity::workspace_id.to(d.workspace_id.as_str()),
            issue_activity::project_id.to(project_id),
            issue_activity::issue_id.to(e.issue_id),
            issue_activity::verb.to(e.verb),
            issue_activity::field.to(e.field),
            issue_activity::old_value.to(e.old),
            issue_activity::new_value.to(e.new),
            issue_activity::created_at.to(at.as_str()),
            issue_activity::updated_at.to(at),
            issue_activity::created_by.to(by),
            issue_activity::deleted_at.null(),
        ],
    }
}
