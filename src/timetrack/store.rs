//! SQL of work logs, timers and time summaries (reads of the projection and its rollups).

use rusqlite::types::Value;
use rusqlite::{params, params_from_iter, Connection, OptionalExtension, Row};

use super::{
    CsvRow, Interval, IssueMinutes, MemberMinutes, PeriodMinutes, ProjectMinutes, Range, TimerView, WorklogView,
};

/// Which work logs (live ones only).
#[derive(Debug, Default, Clone)]
pub(crate) struct LogFilter {
    pub workspace_id: Option<String>,
    pub project_id: Option<String>,
    pub issue_id: Option<String>,
    pub user_id: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
}

impl LogFilter {
    pub fn issue(iid: &str) -> Self {
        Self {
            issue_id: Some(iid.to_string()),
            ..Default::default()
        }
    }

    fn sql(&self) -> (String, Vec<Value>) {
        let mut cond = vec!["w.deleted_at IS NULL".to_string()];
        let mut ps: Vec<Value> = Vec::new();
        for (col, op, v) in [
            ("w.workspace_id", "=", &self.workspace_id),
            ("w.project_id", "=", &self.project_id),
            ("w.issue_id", "=", &self.issue_id),
            ("w.logged_by", "=", &self.user_id),
            ("w.logged_at", ">=", &self.from),
            ("w.logged_at", "<=", &self.to),
        ] {
            if let Some(v) = v {
                ps.push(Value::Text(v.clone()));
                cond.push(format!("{col} {op} ?{}", ps.len()));
            }
        }
        (cond.join(" AND "), ps)
    }
}

const LOG_SELECT: &str = "SELECT w.id, w.workspace_id, w.project_id, w.issue_id,
    COALESCE(p.identifier || '-' || i.sequence_id, ''), COALESCE(i.name, ''), w.logged_by,
    COALESCE(u.display_name, ''), w.duration_minutes, w.description, w.logged_at, w.created_at, w.updated_at
    FROM worklogs w LEFT JOIN issues i ON i.id = w.issue_id LEFT JOIN projects p ON p.id = w.project_id
    LEFT JOIN users u ON u.id = w.logged_by";

fn log_view(r: &Row<'_>) -> rusqlite::Result<WorklogView> {
    Ok(WorklogView {
        id: r.get(0)?,
        workspace_id: r.get(1)?,
        project_id: r.get(2)?,
        issue_id: r.get(3)?,
        issue_key: r.get(4)?,
        issue_name: r.get(5)?,
        logged_by: r.get(6)?,
        logged_by_name: r.get(7)?,
        duration_minutes: r.get(8)?,
        description: r.get(9)?,
        logged_at: r.get(10)?,
        created_at: r.get(11)?,
        updated_at: r.get(12)?,
    })
}

pub(crate) fn list(
    c: &Connection,
    f: &LogFilter,
    limit: i64,
    offset: i64,
) -> rusqlite::Result<(Vec<WorklogView>, i64)> {
    let (cond, mut ps) = f.sql();
    let total: i64 = c
        .prepare_cached(&format!("SELECT COUNT(*) FROM worklogs w WHERE {cond}"))?
        .query_row(params_from_iter(ps.iter()), |r| r.get(0))?;
    ps.push(Value::Integer(limit));
    ps.push(Value::Integer(offset));
    let n = ps.len();
    let items = query_vec(
        c,
        &format!(
            "{LOG_SELECT} WHERE {cond} ORDER BY w.logged_at DESC, w.created_at DESC, w.id DESC LIMIT ?{} OFFSET ?{n}",
            n - 1
        ),
        &ps,
        log_view,
    )?;
    Ok((items, total))
}

pub(crate) fn count(c: &Connection, f: &LogFilter) -> rusqlite::Result<i64> {
    let (cond, ps) = f.sql();
    c.prepare_cached(&format!("SELECT COUNT(*) FROM worklogs w WHERE {cond}"))?
        .query_row(params_from_iter(ps.iter()), |r| r.get(0))
}

/// A live work log of the project.
pub(crate) fn worklog(c: &Connection, pid: &str, wid: &str) -> rusqlite::Result<Option<WorklogView>> {
    c.prepare_cached(&format!(
        "{LOG_SELECT} WHERE w.project_id = ?1 AND w.id = ?2 AND w.deleted_at IS NULL"
    ))?
    .query_row([pid, wid], log_view)
    .optional()
}

pub(crate) fn issue_exists(c: &Connection, pid: &str, iid: &str) -> rusqlite::Result<bool> {
    c.query_row(
        "SELECT EXISTS(SELECT 1 FROM issues WHERE project_id = ?1 AND id = ?2 AND deleted_at IS NULL)",
        [pid, iid],
        |r| r.get(0),
    )
}

/// The estimate of a live issue: `None` when there is no such issue.
pub(crate) fn issue_estimate(c: &Connection, pid: &str, iid: &str) -> rusqlite::Result<Option<Option<i64>>> {
    c.query_row(
        "SELECT estimate_time FROM issues WHERE project_id = ?1 AND id = ?2 AND deleted_at IS NULL",
        [pid, iid],
        |r| r.get(0),
    )
    .optional()
}

fn member_row(r: &Row<'_>) -> rusqlite::Result<MemberMinutes> {
    Ok(MemberMinutes {
        user_id: r.get(0)?,
        display_name: r.get(1)?,
        minutes: r.get(2)?,
        entries: r.get(3)?,
    })
}

fn period_row(r: &Row<'_>) -> rusqlite::Result<PeriodMinutes> {
    Ok(PeriodMinutes {
        period: r.get(0)?,
        minutes: r.get(1)?,
        entries: r.get(2)?,
    })
}

fn project_row(r: &Row<'_>) -> rusqlite::Result<ProjectMinutes> {
    Ok(ProjectMinutes {
        project_id: r.get(0)?,
        identifier: r.get(1)?,
        name: r.get(2)?,
        minutes: r.get(3)?,
        entries: r.get(4)?,
    })
}

pub(crate) fn issue_by_member(c: &Connection, iid: &str) -> rusqlite::Result<Vec<MemberMinutes>> {
    let mut stmt = c.prepare_cached(
        "SELECT w.logged_by, COALESCE(u.display_name, ''), SUM(w.duration_minutes), COUNT(*)
         FROM worklogs w LEFT JOIN users u ON u.id = w.logged_by
         WHERE w.issue_id = ?1 AND w.deleted_at IS NULL GROUP BY w.logged_by ORDER BY 3 DESC, 1",
    )?;
    let rows = stmt.query_map([iid], member_row)?.collect();
    rows
}

/// The period a day falls in: the day itself, or the Monday of its week.
fn period(col: &str, i: Interval) -> String {
    match i {
        Interval::Day => col.to_string(),
        Interval::Week => format!("date({col}, '-' || ((CAST(strftime('%w', {col}) AS INTEGER) + 6) % 7) || ' days')"),
    }
}

fn project_filter(pid: &str, r: &Range, user: Option<&str>) -> (String, Vec<Value>) {
    LogFilter {
        project_id: Some(pid.to_string()),
        from: Some(r.from.clone()),
        to: Some(r.to.clone()),
        user_id: user.map(str::to_string),
        ..Default::default()
    }
    .sql()
}

pub(crate) fn project_by_member(
    c: &Connection,
    pid: &str,
    r: &Range,
    user: Option<&str>,
) -> rusqlite::Result<Vec<MemberMinutes>> {
    let (cond, ps) = project_filter(pid, r, user);
    let mut stmt = c.prepare_cached(&format!(
        "SELECT w.logged_by, COALESCE(u.display_name, ''), SUM(w.duration_minutes), COUNT(*)
         FROM worklogs w LEFT JOIN users u ON u.id = w.logged_by
         WHERE {cond} GROUP BY w.logged_by ORDER BY 3 DESC, 1"
    ))?;
    let rows = stmt.query_map(params_from_iter(ps.iter()), member_row)?.collect();
    rows
}

pub(crate) fn project_by_issue(
    c: &Connection,
    pid: &str,
    r: &Range,
    user: Option<&str>,
) -> rusqlite::Result<Vec<IssueMinutes>> {
    let (cond, ps) = project_filter(pid, r, user);
    let mut stmt = c.prepare_cached(&format!(
        "SELECT t.issue_id, COALESCE(p.identifier || '-' || i.sequence_id, ''), COALESCE(i.name, ''), i.estimate_time,
                t.minutes, t.entries
         FROM (SELECT w.issue_id, SUM(w.duration_minutes) AS minutes, COUNT(*) AS entries
               FROM worklogs w WHERE {cond} GROUP BY w.issue_id) t
         LEFT JOIN issues i ON i.id = t.issue_id LEFT JOIN projects p ON p.id = i.project_id
         ORDER BY t.minutes DESC, t.issue_id LIMIT 1000"
    ))?;
    let rows = stmt
        .query_map(params_from_iter(ps.iter()), |r| {
            Ok(IssueMinutes {
                issue_id: r.get(0)?,
                key: r.get(1)?,
                name: r.get(2)?,
                estimate_time: r.get(3)?,
                minutes: r.get(4)?,
                entries: r.get(5)?,
            })
        })?
        .collect();
    rows
}

pub(crate) fn project_series(
    c: &Connection,
    pid: &str,
    r: &Range,
    user: Option<&str>,
) -> rusqlite::Result<Vec<PeriodMinutes>> {
    let (cond, ps) = project_filter(pid, r, user);
    let p = period("w.logged_at", r.interval);
    let mut stmt = c.prepare_cached(&format!(
        "SELECT {p}, SUM(w.duration_minutes), COUNT(*) FROM worklogs w WHERE {cond} GROUP BY 1 ORDER BY 1"
    ))?;
    let rows = stmt.query_map(params_from_iter(ps.iter()), period_row)?.collect();
    rows
}

/// By project, by member and over time, for a workspace. Each part reads a rollup table
/// unless a filter needs a dimension the rollup does not keep; then it reads the logs
/// through an index that covers the query (one person's or one project's logs).
pub(crate) fn workspace_summary(
    c: &Connection,
    ws: &str,
    r: &Range,
    user: Option<&str>,
    project: Option<&str>,
) -> rusqlite::Result<(Vec<ProjectMinutes>, Vec<MemberMinutes>, Vec<PeriodMinutes>)> {
    let base = LogFilter {
        workspace_id: Some(ws.to_string()),
        project_id: project.map(str::to_string),
        user_id: user.map(str::to_string),
        from: Some(r.from.clone()),
        to: Some(r.to.clone()),
        ..Default::default()
    };
    let (cond, ps) = base.sql();
    // Rollup conditions: workspace, range, and the one filter the rollup can take.
    let rollup = |extra_col: &str, extra: Option<&str>| -> (String, Vec<Value>) {
        let mut ps = vec![
            Value::Text(ws.to_string()),
            Value::Text(r.from.clone()),
            Value::Text(r.to.clone()),
        ];
        let mut cond = "d.workspace_id = ?1 AND d.day >= ?2 AND d.day <= ?3".to_string();
        if let Some(v) = extra {
            ps.push(Value::Text(v.to_string()));
            cond.push_str(&format!(" AND d.{extra_col} = ?4"));
        }
        (cond, ps)
    };

    let by_project = if user.is_some() {
        query_vec(
            c,
            &format!(
                "SELECT t.project_id, COALESCE(p.identifier, ''), COALESCE(p.name, ''), t.minutes, t.entries
             FROM (SELECT w.project_id, SUM(w.duration_minutes) AS minutes, COUNT(*) AS entries
                   FROM worklogs w WHERE {cond} GROUP BY w.project_id) t
             LEFT JOIN projects p ON p.id = t.project_id ORDER BY t.minutes DESC, t.project_id"
            ),
            &ps,
            project_row,
        )?
    } else {
        let (rc, rp) = rollup("project_id", project);
        query_vec(
            c,
            &format!(
                "SELECT t.project_id, COALESCE(p.identifier, ''), COALESCE(p.name, ''), t.minutes, t.entries
             FROM (SELECT d.project_id, SUM(d.minutes) AS minutes, SUM(d.entries) AS entries
                   FROM worklog_project_day d WHERE {rc} GROUP BY d.project_id) t
             LEFT JOIN projects p ON p.id = t.project_id ORDER BY t.minutes DESC, t.project_id"
            ),
            &rp,
            project_row,
        )?
    };

    let by_member = if project.is_some() {
        query_vec(
            c,
            &format!(
                "SELECT t.logged_by, COALESCE(u.display_name, ''), t.minutes, t.entries
             FROM (SELECT w.logged_by, SUM(w.duration_minutes) AS minutes, COUNT(*) AS entries
                   FROM worklogs w WHERE {cond} GROUP BY w.logged_by) t
             LEFT JOIN users u ON u.id = t.logged_by ORDER BY t.minutes DESC, t.logged_by"
            ),
            &ps,
            member_row,
        )?
    } else {
        let (rc, rp) = rollup("user_id", user);
        query_vec(
            c,
            &format!(
                "SELECT t.user_id, COALESCE(u.display_name, ''), t.minutes, t.entries
             FROM (SELECT d.user_id, SUM(d.minutes) AS minutes, SUM(d.entries) AS entries
                   FROM worklog_user_day d WHERE {rc} GROUP BY d.user_id) t
             LEFT JOIN users u ON u.id = t.user_id ORDER BY t.minutes DESC, t.user_id"
            ),
            &rp,
            member_row,
        )?
    };

    let series = match (user, project) {
        (Some(_), Some(_)) => {
            let p = period("w.logged_at", r.interval);
            query_vec(
                c,
                &format!(
                    "SELECT {p}, SUM(w.duration_minutes), COUNT(*) FROM worklogs w WHERE {cond} GROUP BY 1 ORDER BY 1"
                ),
                &ps,
                period_row,
            )?
        }
        (Some(u), None) => {
            let (rc, rp) = rollup("user_id", Some(u));
            let p = period("d.day", r.interval);
            query_vec(
                c,
                &format!(
                "SELECT {p}, SUM(d.minutes), SUM(d.entries) FROM worklog_user_day d WHERE {rc} GROUP BY 1 ORDER BY 1"
            ),
                &rp,
                period_row,
            )?
        }
        (None, pr) => {
            let (rc, rp) = rollup("project_id", pr);
            let p = period("d.day", r.interval);
            query_vec(
                c,
                &format!(
                "SELECT {p}, SUM(d.minutes), SUM(d.entries) FROM worklog_project_day d WHERE {rc} GROUP BY 1 ORDER BY 1"
            ),
                &rp,
                period_row,
            )?
        }
    };
    Ok((by_project, by_member, series))
}

fn query_vec<T>(
    c: &Connection,
    sql: &str,
    ps: &[Value],
    f: impl FnMut(&Row<'_>) -> rusqlite::Result<T>,
) -> rusqlite::Result<Vec<T>> {
    let mut stmt = c.prepare_cached(sql)?;
    let rows = stmt.query_map(params_from_iter(ps.iter()), f)?.collect();
    rows
}

pub(crate) fn csv_rows(c: &Connection, f: &LogFilter) -> rusqlite::Result<Vec<CsvRow>> {
    let (cond, ps) = f.sql();
    let mut stmt = c.prepare(&format!(
        "SELECT w.logged_at, COALESCE(p.identifier, ''), COALESCE(p.identifier || '-' || i.sequence_id, ''),
                COALESCE(i.name, ''), COALESCE(u.display_name, ''), COALESCE(u.email, ''), w.duration_minutes,
                w.description
         FROM worklogs w LEFT JOIN issues i ON i.id = w.issue_id LEFT JOIN projects p ON p.id = w.project_id
         LEFT JOIN users u ON u.id = w.logged_by
         WHERE {cond} ORDER BY w.logged_at, w.created_at, w.id"
    ))?;
    let rows = stmt
        .query_map(params_from_iter(ps.iter()), |r| {
            Ok(CsvRow {
                date: r.get(0)?,
                project: r.get(1)?,
                issue: r.get(2)?,
                title: r.get(3)?,
                member: r.get(4)?,
                email: r.get(5)?,
                minutes: r.get(6)?,
                description: r.get(7)?,
            })
        })?
        .collect();
    rows
}

/// The user's running timer (the newest, should a merge have left two).
pub(crate) fn running_timer(c: &Connection, uid: &str) -> rusqlite::Result<Option<TimerView>> {
    let row = c
        .prepare_cached(
            "SELECT t.id, t.workspace_id, t.project_id, t.issue_id,
                    COALESCE(p.identifier || '-' || i.sequence_id, ''), COALESCE(i.name, ''), t.description, t.started_at
             FROM timers t LEFT JOIN issues i ON i.id = t.issue_id LEFT JOIN projects p ON p.id = t.project_id
             WHERE t.user_id = ?1 AND t.deleted_at IS NULL ORDER BY t.started_at DESC, t.id DESC LIMIT 1",
        )?
        .query_row(params![uid], |r| {
            Ok(TimerView {
                id: r.get(0)?,
                workspace_id: r.get(1)?,
                project_id: r.get(2)?,
                issue_id: r.get(3)?,
                issue_key: r.get(4)?,
                issue_name: r.get(5)?,
                description: r.get(6)?,
                started_at: r.get(7)?,
                elapsed_seconds: 0,
            })
        })
        .optional()?;
    Ok(row.map(|mut t| {
        t.elapsed_seconds = chrono::DateTime::parse_from_rfc3339(&t.started_at)
            .map(|s| {
                (chrono::Utc::now() - s.with_timezone(&chrono::Utc))
                    .num_seconds()
                    .max(0)
            })
            .unwrap_or(0);
        t
    }))
}
