//! A workspace's facts for analytics, kept in memory: its live issues (with their labels,
//! assignees and state groups), its live work logs, and its people's departments, with ids
//! interned to small numbers. Loaded from SQLite in one read snapshot and kept with the
//! versions it was read at (`analytics_versions`, V020, and `org_versions`); a request whose
//! snapshot shows other versions loads them again. The chart builder (`engine`) reads only
//! these.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{Datelike, NaiveDate};
use rusqlite::{Connection, OptionalExtension};

use crate::issues::{Priority, StateGroup};

/// A day as a number (days since 1 January of year 1), for buckets and ranges.
pub type Day = i32;

pub fn day_of(s: &str) -> Option<Day> {
    let d = s.get(..10)?;
    NaiveDate::parse_from_str(d, "%Y-%m-%d")
        .ok()
        .map(|d| d.num_days_from_ce())
}

pub fn date_of(d: Day) -> NaiveDate {
    NaiveDate::from_num_days_from_ce_opt(d).unwrap_or_default()
}

/// One live issue. Ids are indexes into `Facts::ids`.
#[derive(Debug, Clone)]
pub struct IssueFact {
    pub id: u32,
    pub project: u32,
    pub state: Option<u32>,
    pub group: Option<StateGroup>,
    pub priority: Priority,
    pub estimate_point: Option<i64>,
    pub estimate_time: Option<i64>,
    pub start: Option<Day>,
    pub target: Option<Day>,
    pub created: Day,
    pub completed: Option<Day>,
    pub created_by: Option<u32>,
    pub cycle: Option<u32>,
    pub module: Option<u32>,
    pub parent: Option<u32>,
    /// Ranges into `Facts::links`.
    pub labels: (u32, u32),
    pub assignees: (u32, u32),
}

/// One live work log.
#[derive(Debug, Clone, Copy)]
pub struct LogFact {
    /// Index into `Facts::issues`.
    pub issue: u32,
    pub user: u32,
    pub day: Day,
    pub minutes: i64,
}

#[derive(Debug, Default)]
pub struct Facts {
    pub analytics_version: i64,
    pub org_version: i64,
    /// Interned ids: index → id.
    pub ids: Vec<String>,
    pub index: HashMap<String, u32>,
    pub issues: Vec<IssueFact>,
    /// Label and assignee ids of the issues, each issue's run sorted and without repeats.
    pub links: Vec<u32>,
    /// Sorted by issue.
    pub logs: Vec<LogFact>,
    /// Each issue's run of `logs`: `log_runs[i]..log_runs[i + 1]`.
    pub log_runs: Vec<u32>,
    /// A person's department (staff record), by interned user id.
    pub departments: HashMap<u32, u32>,
}

impl Facts {
    pub fn id(&self, i: u32) -> &str {
        self.ids.get(i as usize).map_or("", String::as_str)
    }

    pub fn find(&self, id: &str) -> Option<u32> {
        self.index.get(id).copied()
    }

    fn intern(&mut self, id: &str) -> u32 {
        if let Some(i) = self.index.get(id) {
            return *i;
        }
        let i = self.ids.len() as u32;
        self.ids.push(id.to_string());
        self.index.insert(id.to_string(), i);
        i
    }

    pub fn labels(&self, f: &IssueFact) -> &[u32] {
        &self.links[f.labels.0 as usize..f.labels.1 as usize]
    }

    pub fn assignees(&self, f: &IssueFact) -> &[u32] {
        &self.links[f.assignees.0 as usize..f.assignees.1 as usize]
    }

    /// The work logs of issue number `i` (its index in `issues`).
    pub fn logs_of(&self, i: usize) -> &[LogFact] {
        let (a, b) = (self.log_runs[i] as usize, self.log_runs[i + 1] as usize);
        &self.logs[a..b]
    }

    /// Loads a workspace's facts; `c` is in a read transaction, so the versions and the
    /// rows agree.
    pub fn load(c: &Connection, ws: &str) -> rusqlite::Result<Self> {
        let mut f = Facts {
            analytics_version: analytics_version(c, ws)?,
            org_version: crate::org::org_version(c, ws)?,
            ..Default::default()
        };
        let projects: Vec<String> = c
            .prepare_cached("SELECT id FROM projects WHERE workspace_id = ?1 AND deleted_at IS NULL ORDER BY id")?
            .query_map([ws], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        let groups: HashMap<String, StateGroup> = c
            .prepare_cached("SELECT id, state_group FROM states WHERE workspace_id = ?1")?
            .query_map([ws], |r| {
                Ok((r.get::<_, String>("id")?, r.get::<_, String>("state_group")?))
            })?
            .filter_map(|r| r.ok().and_then(|(id, g)| StateGroup::parse(&g).map(|g| (id, g))))
            .collect();
        let mut by_issue: HashMap<u32, usize> = HashMap::new();
        let mut issue_stmt = c.prepare_cached(
            "SELECT id, state_id, priority, estimate_point, estimate_time, start_date, target_date,
                    created_at, completed_at, created_by, cycle_id, module_id, parent_id
             FROM issues WHERE project_id = ?1 AND deleted_at IS NULL ORDER BY id",
        )?;
        let mut labels_stmt = c.prepare_cached(
            "SELECT issue_id, label_id FROM issue_labels WHERE project_id = ?1 AND deleted_at IS NULL",
        )?;
        let mut assignees_stmt = c.prepare_cached(
            "SELECT issue_id, user_id FROM issue_assignees WHERE project_id = ?1 AND deleted_at IS NULL",
        )?;
        for pid in &projects {
            let project = f.intern(pid);
            let first = f.issues.len();
            let mut rows = issue_stmt.query([pid])?;
            while let Some(r) = rows.next()? {
                let id: String = r.get("id")?;
                let state: Option<String> = r.get("state_id")?;
                let opt = |f: &mut Facts, v: Option<String>| v.map(|s| f.intern(&s));
                let day = |v: Option<String>| v.as_deref().and_then(day_of);
                let fact = IssueFact {
                    id: f.intern(&id),
                    project,
                    group: state.as_ref().and_then(|s| groups.get(s).copied()),
                    state: opt(&mut f, state),
                    priority: Priority::parse(&r.get::<_, String>("priority")?).unwrap_or(Priority::None),
                    estimate_point: r.get("estimate_point")?,
                    estimate_time: r.get("estimate_time")?,
                    start: day(r.get("start_date")?),
                    target: day(r.get("target_date")?),
                    created: day(r.get("created_at")?).unwrap_or_default(),
                    completed: day(r.get("completed_at")?),
                    created_by: opt(&mut f, r.get("created_by")?),
                    cycle: opt(&mut f, r.get("cycle_id")?),
                    module: opt(&mut f, r.get("module_id")?),
                    parent: opt(&mut f, r.get("parent_id")?),
                    labels: (0, 0),
                    assignees: (0, 0),
                };
                by_issue.insert(fact.id, f.issues.len());
                f.issues.push(fact);
            }
            // Links of this project's issues, gathered per issue.
            let mut labels: HashMap<usize, Vec<u32>> = HashMap::new();
            let mut rows = labels_stmt.query([pid])?;
            while let Some(r) = rows.next()? {
                let (issue, label): (String, String) = (r.get("issue_id")?, r.get("label_id")?);
                if let Some(i) = f.find(&issue).and_then(|i| by_issue.get(&i).copied()) {
                    let l = f.intern(&label);
                    labels.entry(i).or_default().push(l);
                }
            }
            let mut assignees: HashMap<usize, Vec<u32>> = HashMap::new();
            let mut rows = assignees_stmt.query([pid])?;
            while let Some(r) = rows.next()? {
                let (issue, user): (String, String) = (r.get("issue_id")?, r.get("user_id")?);
                if let Some(i) = f.find(&issue).and_then(|i| by_issue.get(&i).copied()) {
                    let u = f.intern(&user);
                    assignees.entry(i).or_default().push(u);
                }
            }
            for i in first..f.issues.len() {
                for (map, which) in [(&mut labels, 0), (&mut assignees, 1)] {
                    let mut v = map.remove(&i).unwrap_or_default();
                    v.sort_unstable();
                    v.dedup();
                    let start = f.links.len() as u32;
                    f.links.extend(v);
                    let range = (start, f.links.len() as u32);
                    if which == 0 {
                        f.issues[i].labels = range;
                    } else {
                        f.issues[i].assignees = range;
                    }
                }
            }
        }
        let mut logs_stmt = c.prepare_cached(
            "SELECT issue_id, logged_by, logged_at, duration_minutes FROM worklogs
             WHERE workspace_id = ?1 AND deleted_at IS NULL",
        )?;
        let mut rows = logs_stmt.query([ws])?;
        while let Some(r) = rows.next()? {
            let issue: String = r.get("issue_id")?;
            let Some(i) = f.find(&issue).and_then(|i| by_issue.get(&i).copied()) else {
                // A log of a deleted issue counts nowhere, as in the time summaries' issue rows.
                continue;
            };
            let user = f.intern(&r.get::<_, String>("logged_by")?);
            let Some(day) = day_of(&r.get::<_, String>("logged_at")?) else {
                continue;
            };
            f.logs.push(LogFact {
                issue: i as u32,
                user,
                day,
                minutes: r.get("duration_minutes")?,
            });
        }
        f.logs.sort_unstable_by_key(|l| l.issue);
        let mut runs = vec![0u32; f.issues.len() + 1];
        for l in &f.logs {
            runs[l.issue as usize + 1] += 1;
        }
        for i in 1..runs.len() {
            runs[i] += runs[i - 1];
        }
        f.log_runs = runs;
        let mut staff = c.prepare_cached(
            "SELECT user_id, department_id FROM staff_profiles
             WHERE workspace_id = ?1 AND deleted_at IS NULL AND department_id IS NOT NULL",
        )?;
        let pairs: Vec<(String, String)> = staff
            .query_map([ws], |r| Ok((r.get("user_id")?, r.get("department_id")?)))?
            .collect::<rusqlite::Result<_>>()?;
        for (u, d) in pairs {
            let (u, d) = (f.intern(&u), f.intern(&d));
            f.departments.insert(u, d);
        }
        Ok(f)
    }
}

pub fn analytics_version(c: &Connection, ws: &str) -> rusqlite::Result<i64> {
    Ok(
        c.prepare_cached("SELECT version FROM analytics_versions WHERE workspace_id = ?1")?
            .query_row([ws], |r| r.get(0))
            .optional()?
            .unwrap_or(0),
    )
}

/// Workspaces kept at most; another takes the place of the one used longest ago. A
/// workspace of 100k issues and 1M work logs keeps about 30 MB.
const KEPT_WORKSPACES: usize = 16;

/// The facts last loaded per workspace.
#[derive(Default)]
pub struct FactCache(Mutex<HashMap<String, (u64, Arc<Facts>)>>);

impl FactCache {
    /// The workspace's facts as of `c`'s snapshot: kept ones if their versions are current,
    /// else loaded (and kept).
    pub fn get(&self, c: &Connection, ws: &str) -> rusqlite::Result<Arc<Facts>> {
        let (av, ov) = (analytics_version(c, ws)?, crate::org::org_version(c, ws)?);
        let tick = || {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos() as u64)
        };
        if let Ok(mut m) = self.0.lock() {
            if let Some((used, f)) = m.get_mut(ws) {
                if f.analytics_version == av && f.org_version == ov {
                    *used = tick();
                    return Ok(f.clone());
                }
            }
        }
        let f = Arc::new(Facts::load(c, ws)?);
        if let Ok(mut m) = self.0.lock() {
            if m.len() >= KEPT_WORKSPACES && !m.contains_key(ws) {
                if let Some(oldest) = m.iter().min_by_key(|(_, (used, _))| *used).map(|(k, _)| k.clone()) {
                    m.remove(&oldest);
                }
            }
            m.insert(ws.to_string(), (tick(), f.clone()));
        }
        Ok(f)
    }
}

/// The Monday of `d`'s week.
pub fn week_start(d: Day) -> Day {
    d - date_of(d).weekday().num_days_from_monday() as i32
}
