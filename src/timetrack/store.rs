//! SQL of work logs, timers and time summaries (reads of the projection and its rollups).

use rusqlite::types::Value;
use rusqlite::{params, params_from_iter, Connection, OptionalExtension, Row};

use super::{CsvRow, Interval, MemberMinutes, PeriodMinutes, ProjectMinutes, Range, TimerView, WorklogView};

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
    COALESCE(p.identifier || '-' || i.sequence_id, '') AS issue_key, COALESCE(i.name, '') AS issue_name, w.logged_by,
    COALESCE(u.display_name, '') AS logged_by_name, w.duration_minutes, w.description, w.logged_at, w.created_at,
    w.updated_at
    FROM worklogs w LEFT JOIN issues i ON i.id = w.issue_id LEFT JOIN projects p ON p.id = w.project_id
    LEFT JOIN users u ON u.id = w.logged_by";

fn log_view(r: &Row<'_>) -> rusqlite::Result<WorklogView> {
    Ok(WorklogView {
        id: r.get("id")?,
        workspace_id: r.get("workspace_id")?,
        project_id: r.get("project_id")?,
        issue_id: r.get("issue_id")?,
        issue_key: r.get("issue_key")?,
        issue_name: r.get("issue_name")?,
        logged_by: r.get("logged_by")?,
        logged_by_name: r.get("logged_by_name")?,
        duration_minutes: r.get("duration_minutes")?,
        description: r.get("description")?,
        logged_at: r.get("logged_at")?,
        created_at: r.get("created_at")?,
        updated_at: r.get("updated_at")?,
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
        user_id: r.get("logged_by")?,
        display_name: r.get("display_name")?,
        minutes: r.get("minutes")?,
        entries: r.get("entries")?,
    })
}

fn period_row(r: &Row<'_>) -> rusqlite::Result<PeriodMinutes> {
    Ok(PeriodMinutes {
        period: r.get("period")?,
        minutes: r.get("minutes")?,
        entries: r.get("entries")?,
    })
}

pub(crate) fn issue_by_member(c: &Connection, iid: &str) -> rusqlite::Result<Vec<MemberMinutes>> {
    let mut stmt = c.prepare_cached(
        "SELECT w.logged_by, COALESCE(u.display_name, '') AS display_name, SUM(w.duration_minutes) AS minutes,
                COUNT(*) AS entries
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

/// One project's live logs over a range, streamed as (person, issue, day, minutes) into
/// `each`, read through the covering index `worklogs_project_day` in one pass. Nothing is
/// collected here: memory follows the number of people, issues and periods, not of logs.
pub(crate) fn each_project_log(
    c: &Connection,
    pid: &str,
    r: &Range,
    user: Option<&str>,
    mut each: impl FnMut(&str, &str, &str, i64),
) -> rusqlite::Result<()> {
    let (cond, ps) = LogFilter {
        project_id: Some(pid.to_string()),
        from: Some(r.from.clone()),
        to: Some(r.to.clone()),
        user_id: user.map(str::to_string),
        ..Default::default()
    }
    .sql();
    let mut stmt = c.prepare_cached(&format!(
        "SELECT w.logged_by, w.issue_id, w.logged_at, w.duration_minutes FROM worklogs w WHERE {cond}"
    ))?;
    // Columns looked up by name once, not on each of the range's rows.
    let (by, issue, at, minutes) = (
        stmt.column_index("logged_by")?,
        stmt.column_index("issue_id")?,
        stmt.column_index("logged_at")?,
        stmt.column_index("duration_minutes")?,
    );
    let mut rows = stmt.query(params_from_iter(ps.iter()))?;
    while let Some(row) = rows.next()? {
        each(
            row.get_ref(by)?.as_str()?,
            row.get_ref(issue)?.as_str()?,
            row.get_ref(at)?.as_str()?,
            row.get(minutes)?,
        );
    }
    Ok(())
}

/// An issue's key, title and estimate (any issue, deleted ones too: their time was spent).
pub(crate) fn issue_meta(c: &Connection, iid: &str) -> rusqlite::Result<Option<(String, String, Option<i64>)>> {
    c.prepare_cached(
        "SELECT p.identifier || '-' || i.sequence_id AS issue_key, i.name, i.estimate_time
         FROM issues i JOIN projects p ON p.id = i.project_id WHERE i.id = ?1",
    )?
    .query_row([iid], |r| {
        Ok((r.get("issue_key")?, r.get("name")?, r.get("estimate_time")?))
    })
    .optional()
}

/// A date range cut for the rollups: the months wholly inside it (`month > .0 AND month <
/// .1`) and the days at its two edges (each `day BETWEEN a AND b`; an edge may be empty).
struct Spans {
    months: (String, String),
    days: [(String, String); 2],
}

fn spans(r: &Range) -> Spans {
    let (fm, tm) = (&r.from[..7], &r.to[..7]);
    if fm == tm {
        Spans {
            months: (fm.to_string(), fm.to_string()),
            days: [(r.from.clone(), r.to.clone()), ("9".into(), "0".into())],
        }
    } else {
        Spans {
            months: (fm.to_string(), tm.to_string()),
            // "-31" bounds every month's days as text.
            days: [(r.from.clone(), format!("{fm}-31")), (format!("{tm}-01"), r.to.clone())],
        }
    }
}

/// Totals by `key` (project_id or user_id) from the month rollup plus the edge days,
/// optionally for one value of `filter_col`.
fn rollup_totals(
    c: &Connection,
    ws: &str,
    r: &Range,
    dim: &str,
    filter: Option<(&str, &str)>,
) -> rusqlite::Result<Vec<(String, i64, i64)>> {
    // `dim` and the filter column come from this file, never from input.
    let (month_t, day_t) = if dim == "project_id" {
        ("worklog_project_month", "worklog_project_day")
    } else {
        ("worklog_user_month", "worklog_user_day")
    };
    let s = spans(r);
    let mut ps = vec![
        Value::Text(ws.to_string()),
        Value::Text(s.months.0),
        Value::Text(s.months.1),
        Value::Text(s.days[0].0.clone()),
        Value::Text(s.days[0].1.clone()),
        Value::Text(s.days[1].0.clone()),
        Value::Text(s.days[1].1.clone()),
    ];
    let extra = match filter {
        Some((col, v)) => {
            ps.push(Value::Text(v.to_string()));
            let col = if col == "project_id" { "project_id" } else { "user_id" };
            format!(" AND {col} = ?8")
        }
        None => String::new(),
    };
    query_vec(
        c,
        &format!(
            "SELECT {dim}, SUM(minutes) AS minutes, SUM(entries) AS entries FROM (
               SELECT {dim}, minutes, entries FROM {month_t} WHERE workspace_id = ?1 AND month > ?2 AND month < ?3{extra}
               UNION ALL
               SELECT {dim}, minutes, entries FROM {day_t} WHERE workspace_id = ?1 AND day >= ?4 AND day <= ?5{extra}
               UNION ALL
               SELECT {dim}, minutes, entries FROM {day_t} WHERE workspace_id = ?1 AND day >= ?6 AND day <= ?7{extra}
             ) GROUP BY {dim}"
        ),
        &ps,
        |row| Ok((row.get(dim)?, row.get("minutes")?, row.get("entries")?)),
    )
}

/// By project, by member and over time, for a workspace. Totals come from month rollups
/// plus the days at the range's edges, series from day rollups; a filter the rollups do
/// not keep (one person's projects) reads that person's logs through a covering index.
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

    let by_project: Vec<(String, i64, i64)> = match (user, project) {
        (Some(_), _) => query_vec(
            c,
            &format!(
                "SELECT w.project_id, SUM(w.duration_minutes) AS minutes, COUNT(*) AS entries
                 FROM worklogs w WHERE {cond} GROUP BY 1"
            ),
            &ps,
            |row| Ok((row.get("project_id")?, row.get("minutes")?, row.get("entries")?)),
        )?,
        (None, p) => rollup_totals(c, ws, r, "project_id", p.map(|p| ("project_id", p)))?,
    };
    let by_member: Vec<(String, i64, i64)> = match (user, project) {
        (_, Some(_)) => query_vec(
            c,
            &format!(
                "SELECT w.logged_by, SUM(w.duration_minutes) AS minutes, COUNT(*) AS entries
                 FROM worklogs w WHERE {cond} GROUP BY 1"
            ),
            &ps,
            |row| Ok((row.get("logged_by")?, row.get("minutes")?, row.get("entries")?)),
        )?,
        (u, None) => rollup_totals(c, ws, r, "user_id", u.map(|u| ("user_id", u)))?,
    };
    let series = {
        let (table, extra): (&str, Option<(&str, &str)>) = match (user, project) {
            (Some(_), Some(_)) => ("", None),
            (Some(u), None) => ("worklog_user_day", Some(("user_id", u))),
            (None, Some(p)) => ("worklog_project_day", Some(("project_id", p))),
            (None, None) => ("worklog_day", None),
        };
        if table.is_empty() {
            let p = period("w.logged_at", r.interval);
            query_vec(
                c,
                &format!(
                    "SELECT {p} AS period, SUM(w.duration_minutes) AS minutes, COUNT(*) AS entries
                     FROM worklogs w WHERE {cond} GROUP BY 1 ORDER BY 1"
                ),
                &ps,
                period_row,
            )?
        } else {
            let p = period("d.day", r.interval);
            let mut rp = vec![
                Value::Text(ws.to_string()),
                Value::Text(r.from.clone()),
                Value::Text(r.to.clone()),
            ];
            let mut filter = String::new();
            if let Some((col, v)) = extra {
                rp.push(Value::Text(v.to_string()));
                filter = format!(" AND d.{col} = ?4");
            }
            query_vec(
                c,
                &format!(
                    "SELECT {p} AS period, SUM(d.minutes) AS minutes, SUM(d.entries) AS entries FROM {table} d
                     WHERE d.workspace_id = ?1 AND d.day >= ?2 AND d.day <= ?3{filter} GROUP BY 1 ORDER BY 1"
                ),
                &rp,
                period_row,
            )?
        }
    };

    // Names; the service sorts and pages.
    let by_project: Vec<ProjectMinutes> = by_project
        .into_iter()
        .map(|(id, minutes, entries)| {
            let (identifier, name) = project_names(c, &id).unwrap_or_default();
            ProjectMinutes {
                project_id: id,
                identifier,
                name,
                minutes,
                entries,
            }
        })
        .collect();
    let by_member: Vec<MemberMinutes> = by_member
        .into_iter()
        .map(|(id, minutes, entries)| MemberMinutes {
            display_name: user_name(c, &id).unwrap_or_default(),
            user_id: id,
            minutes,
            entries,
        })
        .collect();
    Ok((by_project, by_member, series))
}

fn project_names(c: &Connection, id: &str) -> rusqlite::Result<(String, String)> {
    c.prepare_cached("SELECT identifier, name FROM projects WHERE id = ?1")?
        .query_row([id], |r| Ok((r.get("identifier")?, r.get("name")?)))
}

pub(crate) fn user_name(c: &Connection, id: &str) -> rusqlite::Result<String> {
    c.prepare_cached("SELECT display_name FROM users WHERE id = ?1")?
        .query_row([id], |r| r.get(0))
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
        "SELECT w.logged_at, COALESCE(p.identifier, '') AS project,
                COALESCE(p.identifier || '-' || i.sequence_id, '') AS issue, COALESCE(i.name, '') AS title,
                COALESCE(u.display_name, '') AS member, COALESCE(u.email, '') AS email, w.duration_minutes,
                w.description
         FROM worklogs w LEFT JOIN issues i ON i.id = w.issue_id LEFT JOIN projects p ON p.id = w.project_id
         LEFT JOIN users u ON u.id = w.logged_by
         WHERE {cond} ORDER BY w.logged_at, w.created_at, w.id"
    ))?;
    let rows = stmt
        .query_map(params_from_iter(ps.iter()), |r| {
            Ok(CsvRow {
                date: r.get("logged_at")?,
                project: r.get("project")?,
                issue: r.get("issue")?,
                title: r.get("title")?,
                member: r.get("member")?,
                email: r.get("email")?,
                minutes: r.get("duration_minutes")?,
                description: r.get("description")?,
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
                    COALESCE(p.identifier || '-' || i.sequence_id, '') AS issue_key, COALESCE(i.name, '') AS issue_name,
                    t.description, t.started_at
             FROM timers t LEFT JOIN issues i ON i.id = t.issue_id LEFT JOIN projects p ON p.id = t.project_id
             WHERE t.user_id = ?1 AND t.deleted_at IS NULL ORDER BY t.started_at DESC, t.id DESC LIMIT 1",
        )?
        .query_row(params![uid], |r| {
            Ok(TimerView {
                id: r.get("id")?,
                workspace_id: r.get("workspace_id")?,
                project_id: r.get("project_id")?,
                issue_id: r.get("issue_id")?,
                issue_key: r.get("issue_key")?,
                issue_name: r.get("issue_name")?,
                description: r.get("description")?,
                started_at: r.get("started_at")?,
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

/// Minutes one person logged in the workspace (or in one project) from `from` to `to`,
/// both included: from the rollups (whole months, then the days at the edges), or from the
/// project's logs.
pub(crate) fn minutes_of(
    c: &Connection,
    ws: &str,
    user: &str,
    project: Option<&str>,
    from: &str,
    to: &str,
) -> rusqlite::Result<i64> {
    if from > to {
        return Ok(0);
    }
    if let Some(p) = project {
        return c
            .prepare_cached(
                "SELECT COALESCE(SUM(duration_minutes), 0) FROM worklogs WHERE workspace_id = ?1 AND project_id = ?2
                 AND logged_by = ?3 AND logged_at >= ?4 AND logged_at <= ?5 AND deleted_at IS NULL",
            )?
            .query_row(params![ws, p, user, from, to], |r| r.get(0));
    }
    let s = spans(&Range {
        from: from.to_string(),
        to: to.to_string(),
        interval: Interval::Day,
    });
    c.prepare_cached(
        "SELECT COALESCE((SELECT SUM(minutes) FROM worklog_user_month
                           WHERE workspace_id = ?1 AND user_id = ?2 AND month > ?3 AND month < ?4), 0)
              + COALESCE((SELECT SUM(minutes) FROM worklog_user_day
                           WHERE workspace_id = ?1 AND user_id = ?2 AND day >= ?5 AND day <= ?6), 0)
              + COALESCE((SELECT SUM(minutes) FROM worklog_user_day
                           WHERE workspace_id = ?1 AND user_id = ?2 AND day >= ?7 AND day <= ?8), 0)",
    )?
    .query_row(
        params![
            ws,
            user,
            s.months.0,
            s.months.1,
            s.days[0].0,
            s.days[0].1,
            s.days[1].0,
            s.days[1].1
        ],
        |r| r.get(0),
    )
}
