//! SQL of analytics besides the facts: who sees which project, names of buckets, saved
//! views and full-text matches.

use std::collections::{HashMap, HashSet};

use rusqlite::{params, params_from_iter, Connection, OptionalExtension};

use super::facts::{day_of, Day, Facts, IssueFact, LogFact};
use crate::issues::{Priority, StateGroup};
use crate::policy::{ProjRole, WsRole};

/// The live projects of the workspace `uid` may see with workspace role `role` (the rule of
/// the project list: admins all, members public ones and their own, guests their own).
pub(super) fn visible_projects(c: &Connection, ws: &str, uid: &str, role: WsRole) -> rusqlite::Result<Vec<String>> {
    let mut stmt = c.prepare_cached(
        "SELECT p.id, p.is_private, m.role FROM projects p
         LEFT JOIN project_members m ON m.project_id = p.id AND m.user_id = ?2 AND m.deleted_at IS NULL
         WHERE p.workspace_id = ?1 AND p.deleted_at IS NULL",
    )?;
    let rows = stmt.query_map(params![ws, uid], |r| {
        Ok((
            r.get::<_, String>("id")?,
            r.get::<_, i64>("is_private")? != 0,
            r.get::<_, Option<String>>("role")?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (id, private, member) = row?;
        let member = member.as_deref().and_then(ProjRole::parse);
        if crate::work::effective_role_of(role, private, member).is_some() {
            out.push(id);
        }
    }
    Ok(out)
}

pub(super) fn private_projects(c: &Connection, ws: &str) -> rusqlite::Result<Vec<String>> {
    let mut st = c.prepare_cached(
        "SELECT id FROM projects WHERE workspace_id = ?1 AND deleted_at IS NULL AND is_private = 1 ORDER BY id",
    )?;
    let rows = st.query_map(params![ws], |r| r.get(0))?;
    rows.collect()
}

/// Names of ids in one of the naming tables, within the workspace (users: its members').
pub(super) fn names(
    c: &Connection,
    ws: &str,
    table: &str,
    ids: &[String],
) -> rusqlite::Result<HashMap<String, String>> {
    let (sql, name) = match table {
        "users" => (
            "SELECT u.id, u.display_name AS name FROM users u
             JOIN workspace_members m ON m.user_id = u.id AND m.workspace_id = ?1
             WHERE u.id IN (SELECT value FROM json_each(?2))",
            "name",
        ),
        "states" | "labels" | "cycles" | "modules" | "projects" | "departments" => (
            match table {
                "states" => "SELECT id, name FROM states WHERE workspace_id = ?1 AND id IN (SELECT value FROM json_each(?2))",
                "labels" => "SELECT id, name FROM labels WHERE workspace_id = ?1 AND id IN (SELECT value FROM json_each(?2))",
                "cycles" => "SELECT id, name FROM cycles WHERE workspace_id = ?1 AND id IN (SELECT value FROM json_each(?2))",
                "modules" => "SELECT id, name FROM modules WHERE workspace_id = ?1 AND id IN (SELECT value FROM json_each(?2))",
                "projects" => "SELECT id, name FROM projects WHERE workspace_id = ?1 AND id IN (SELECT value FROM json_each(?2))",
                _ => "SELECT id, name FROM departments WHERE workspace_id = ?1 AND id IN (SELECT value FROM json_each(?2))",
            },
            "name",
        ),
        _ => return Ok(HashMap::new()),
    };
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let list = serde_json::to_string(ids).unwrap_or_else(|_| "[]".into());
    let mut stmt = c.prepare_cached(sql)?;
    let rows = stmt.query_map(params![ws, list], |r| {
        Ok((r.get::<_, String>("id")?, r.get::<_, String>(name)?))
    })?;
    rows.collect()
}

/// A saved view of the workspace `uid` may see (public, or their own): its project and query.
pub(super) fn view(
    c: &Connection,
    ws: &str,
    id: &str,
    uid: &str,
) -> rusqlite::Result<Option<(String, serde_json::Value)>> {
    c.prepare_cached(
        "SELECT project_id, query FROM issue_views
         WHERE id = ?1 AND workspace_id = ?2 AND deleted_at IS NULL AND (is_private = 0 OR created_by = ?3)",
    )?
    .query_row(params![id, ws, uid], |r| {
        let q: String = r.get("query")?;
        Ok((
            r.get::<_, String>("project_id")?,
            serde_json::from_str(&q).unwrap_or_else(|_| serde_json::json!({})),
        ))
    })
    .optional()
}

/// Ids of the workspace's live issues whose text or comments match an FTS5 query.
pub(super) fn fts_matches(c: &Connection, ws: &str, q: &str) -> rusqlite::Result<HashSet<String>> {
    let mut stmt = c.prepare_cached(
        "SELECT i.id FROM issues i
         WHERE i.rowid IN (SELECT rowid FROM issues_fts WHERE issues_fts MATCH ?2)
           AND i.workspace_id = ?1 AND i.deleted_at IS NULL
         UNION
         SELECT c.issue_id FROM comments_fts f JOIN issue_comments c ON c.rowid = f.rowid
         WHERE comments_fts MATCH ?2 AND c.workspace_id = ?1 AND c.deleted_at IS NULL",
    )?;
    let rows = stmt.query_map(params_from_iter([ws, q]), |r| r.get::<_, String>(0))?;
    rows.collect()
}

pub(super) fn project_member_count(c: &Connection, pid: &str) -> rusqlite::Result<i64> {
    c.query_row(
        "SELECT COUNT(*) FROM project_members WHERE project_id = ?1 AND deleted_at IS NULL",
        [pid],
        |r| r.get(0),
    )
}

pub(super) fn member_count(c: &Connection, ws: &str) -> rusqlite::Result<i64> {
    c.query_row(
        "SELECT COUNT(*) FROM workspace_members WHERE workspace_id = ?1 AND deleted_at IS NULL",
        [ws],
        |r| r.get(0),
    )
}

fn text<'a>(r: &'a rusqlite::Row<'_>, col: &str) -> rusqlite::Result<&'a str> {
    r.get_ref(col)?
        .as_str()
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e)))
}

fn opt_text<'a>(r: &'a rusqlite::Row<'_>, col: &str) -> rusqlite::Result<Option<&'a str>> {
    r.get_ref(col)?
        .as_str_or_null()
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e)))
}

/// Each issue's run of links, sorted and without repeats: `pairs` are (issue index, id).
fn runs_of(f: &mut Facts, mut pairs: Vec<(u32, u32)>, first: usize, labels: bool) {
    // A link whose issue is of another project than the link says belongs nowhere here.
    pairs.retain(|(n, _)| *n as usize >= first);
    pairs.sort_unstable();
    pairs.dedup();
    let mut at = 0;
    for n in first..f.issues.len() {
        let start = f.links.len() as u32;
        while at < pairs.len() && pairs[at].0 as usize == n {
            f.links.push(pairs[at].1);
            at += 1;
        }
        let range = (start, f.links.len() as u32);
        if labels {
            f.issues[n].labels = range;
        } else {
            f.issues[n].assignees = range;
        }
    }
}

/// Loads a workspace's facts (`facts::Facts`); `c` is in a read transaction, so the
/// versions and the rows agree. Project by project, each table through an index that
/// covers what is read; ids are borrowed from SQLite's row and copied once, when first seen.
pub(super) fn load_facts(c: &Connection, ws: &str) -> rusqlite::Result<Facts> {
    let mut f = Facts {
        analytics_version: analytics_version(c, ws)?,
        org_version: crate::org::org_version(c, ws)?,
        ..Default::default()
    };
    let projects: Vec<String> = c
        .prepare_cached("SELECT id FROM projects WHERE workspace_id = ?1 AND deleted_at IS NULL ORDER BY id")?
        .query_map([ws], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let mut groups: HashMap<u32, StateGroup> = HashMap::new();
    {
        let mut stmt = c.prepare_cached("SELECT id, state_group FROM states WHERE workspace_id = ?1")?;
        let mut rows = stmt.query([ws])?;
        while let Some(r) = rows.next()? {
            if let Some(g) = StateGroup::parse(text(r, "state_group")?) {
                let id = f.intern(text(r, "id")?);
                groups.insert(id, g);
            }
        }
    }
    // Interned issue id → its index in `issues`.
    let mut by_issue: rustc_hash::FxHashMap<u32, u32> = rustc_hash::FxHashMap::default();
    let mut issue_stmt = c.prepare_cached(
        "SELECT id, state_id, priority, estimate_point, estimate_time, start_date, target_date,
                created_at, completed_at, created_by, cycle_id, module_id, parent_id
         FROM issues WHERE project_id = ?1 AND deleted_at IS NULL ORDER BY id",
    )?;
    let mut labels_stmt =
        c.prepare_cached("SELECT issue_id, label_id FROM issue_labels WHERE project_id = ?1 AND deleted_at IS NULL")?;
    let mut assignees_stmt =
        c.prepare_cached("SELECT issue_id, user_id FROM issue_assignees WHERE project_id = ?1 AND deleted_at IS NULL")?;
    let mut logs_stmt = c.prepare_cached(
        "SELECT issue_id, logged_by, logged_at, duration_minutes FROM worklogs
         WHERE project_id = ?1 AND deleted_at IS NULL",
    )?;
    let mut logs: Vec<LogFact> = Vec::new();
    for pid in &projects {
        let project = f.intern(pid);
        let first = f.issues.len();
        let mut rows = issue_stmt.query([pid])?;
        while let Some(r) = rows.next()? {
            let day = |v: Option<&str>| v.and_then(day_of);
            let id = f.intern(text(r, "id")?);
            let state = opt_text(r, "state_id")?.map(|s| f.intern(s));
            let fact = IssueFact {
                id,
                project,
                group: state.and_then(|s| groups.get(&s).copied()),
                state,
                priority: Priority::parse(text(r, "priority")?).unwrap_or(Priority::None),
                estimate_point: r.get("estimate_point")?,
                estimate_time: r.get("estimate_time")?,
                start: day(opt_text(r, "start_date")?),
                target: day(opt_text(r, "target_date")?),
                created: day(opt_text(r, "created_at")?).unwrap_or_default(),
                completed: day(opt_text(r, "completed_at")?),
                created_by: opt_text(r, "created_by")?.map(|s| f.intern(s)),
                cycle: opt_text(r, "cycle_id")?.map(|s| f.intern(s)),
                module: opt_text(r, "module_id")?.map(|s| f.intern(s)),
                parent: opt_text(r, "parent_id")?.map(|s| f.intern(s)),
                labels: (0, 0),
                assignees: (0, 0),
            };
            by_issue.insert(id, f.issues.len() as u32);
            f.issues.push(fact);
        }
        for (stmt, col, labels) in [
            (&mut labels_stmt, "label_id", true),
            (&mut assignees_stmt, "user_id", false),
        ] {
            let mut pairs = Vec::new();
            let mut rows = stmt.query([pid])?;
            while let Some(r) = rows.next()? {
                if let Some(n) = f.find(text(r, "issue_id")?).and_then(|i| by_issue.get(&i).copied()) {
                    let v = f.intern(text(r, col)?);
                    pairs.push((n, v));
                }
            }
            runs_of(&mut f, pairs, first, labels);
        }
        let mut rows = logs_stmt.query([pid])?;
        while let Some(r) = rows.next()? {
            // A log of a deleted issue counts nowhere, as in the time summaries' issue rows.
            let Some(n) = f.find(text(r, "issue_id")?).and_then(|i| by_issue.get(&i).copied()) else {
                continue;
            };
            let Some(day) = day_of(text(r, "logged_at")?) else {
                continue;
            };
            let user = f.intern(text(r, "logged_by")?);
            logs.push(LogFact {
                issue: n,
                user,
                day,
                minutes: r.get::<_, i64>("duration_minutes")?.clamp(0, i64::from(i32::MAX)) as i32,
            });
        }
    }
    // Logs by issue (a counting sort): each issue's run is `log_runs[n]..log_runs[n + 1]`.
    let mut runs = vec![0u32; f.issues.len() + 1];
    for l in &logs {
        runs[l.issue as usize + 1] += 1;
    }
    for n in 1..runs.len() {
        runs[n] += runs[n - 1];
    }
    let mut next = runs.clone();
    let mut sorted = vec![
        LogFact {
            issue: 0,
            user: 0,
            day: 0,
            minutes: 0
        };
        logs.len()
    ];
    for l in logs {
        let at = &mut next[l.issue as usize];
        sorted[*at as usize] = l;
        *at += 1;
    }
    f.logs = sorted;
    f.log_runs = runs;
    let mut days = (Day::MAX, Day::MIN);
    let mut see = |d: Option<Day>| {
        if let Some(d) = d {
            days = (days.0.min(d), days.1.max(d));
        }
    };
    for i in &f.issues {
        for d in [i.start, i.target, Some(i.created), i.completed] {
            see(d);
        }
    }
    for l in &f.logs {
        see(Some(l.day));
    }
    // A table of at most the ten years up to a year from today; dates beyond (a target date
    // of 9999 is allowed) are bucketed by the calendar.
    let today = {
        use chrono::Datelike;
        crate::timetrack::today().num_days_from_ce()
    };
    f.days = if days.0 > days.1 {
        (0, -1)
    } else {
        (days.0.max(today - 3_660), days.1.min(today + 366))
    };
    let mut staff = c.prepare_cached(
        "SELECT user_id, department_id FROM staff_profiles
         WHERE workspace_id = ?1 AND deleted_at IS NULL AND department_id IS NOT NULL",
    )?;
    let mut rows = staff.query([ws])?;
    while let Some(r) = rows.next()? {
        let (u, d) = (f.intern(text(r, "user_id")?), f.intern(text(r, "department_id")?));
        f.departments.insert(u, d);
    }
    Ok(f)
}

pub(super) fn analytics_version(c: &Connection, ws: &str) -> rusqlite::Result<i64> {
    Ok(
        c.prepare_cached("SELECT version FROM analytics_versions WHERE workspace_id = ?1")?
            .query_row([ws], |r| r.get(0))
            .optional()?
            .unwrap_or(0),
    )
}
