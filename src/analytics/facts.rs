//! A workspace's facts for analytics, kept in memory: its live issues (with their labels,
//! assignees and state groups), its live work logs, and its people's departments, with ids
//! interned to small numbers. Loaded from SQLite in one read snapshot and kept with the
//! versions it was read at (`analytics_versions`, V020, and `org_versions`); a request whose
//! snapshot shows other versions loads them again. The chart builder (`engine`) reads only
//! these.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{Datelike, NaiveDate};
use rusqlite::Connection;

use crate::issues::{Priority, StateGroup};

/// A day as a number (days since 1 January of year 1), for buckets and ranges.
pub type Day = i32;

/// The day of a `YYYY-MM-DD…` text (a date, or a timestamp's date). Read by hand: the
/// format parser took a fifth of loading a million logs.
pub fn day_of(s: &str) -> Option<Day> {
    let b = s.as_bytes();
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        b[r].iter()
            .try_fold(0u32, |n, c| c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0')))
    };
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    NaiveDate::from_ymd_opt(y as i32, m, d).map(|d| d.num_days_from_ce())
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
    /// At most a day (1,440): 16 bytes a log, 16 MB for a million.
    pub minutes: i32,
}

#[derive(Debug, Default)]
pub struct Facts {
    pub analytics_version: i64,
    pub org_version: i64,
    /// Interned ids: index → id.
    pub ids: Vec<String>,
    pub index: rustc_hash::FxHashMap<String, u32>,
    pub issues: Vec<IssueFact>,
    /// Label and assignee ids of the issues, each issue's run sorted and without repeats.
    pub links: Vec<u32>,
    /// Sorted by issue.
    pub logs: Vec<LogFact>,
    /// Each issue's run of `logs`: `log_runs[i]..log_runs[i + 1]`.
    pub log_runs: Vec<u32>,
    /// The first and last day any date of the facts falls on (a day table's span).
    pub days: (Day, Day),
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

    pub(super) fn intern(&mut self, id: &str) -> u32 {
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
        let (av, ov) = (super::store::analytics_version(c, ws)?, crate::org::org_version(c, ws)?);
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
        let f = Arc::new(super::store::load_facts(c, ws)?);
        if let Ok(mut m) = self.0.lock() {
            if m.len() >= KEPT_WORKSPACES && !m.contains_key(ws) {
                if let Some(oldest) = m.iter().min_by_key(|(_, (used, _))| *used).map(|(k, _)| k.clone()) {
                    m.remove(&oldest);
                }
            }
            // A reader on an older snapshot does not put back older facts.
            let newer = m.get(ws).is_none_or(|(_, kept)| {
                (kept.analytics_version, kept.org_version) <= (f.analytics_version, f.org_version)
            });
            if newer {
                m.insert(ws.to_string(), (tick(), f.clone()));
            }
        }
        Ok(f)
    }
}

/// The Monday of `d`'s week.
pub fn week_start(d: Day) -> Day {
    d - date_of(d).weekday().num_days_from_monday() as i32
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn days_are_read_from_dates_and_timestamps_and_nothing_else() {
        let d = |s: &str| day_of(s).map(|n| date_of(n).format("%Y-%m-%d").to_string());
        assert_eq!(d("2026-12-02").as_deref(), Some("2026-12-02"));
        assert_eq!(d("2026-12-02T09:00:00.000Z").as_deref(), Some("2026-12-02"));
        assert_eq!(d("2024-02-29").as_deref(), Some("2024-02-29"));
        for bad in [
            "2026-02-30",
            "2026-13-01",
            "2026/12/02",
            "26-12-02",
            "",
            "2026-1a-02",
            "２０２６-12-02",
        ] {
            assert_eq!(day_of(bad), None, "{bad}");
        }
        assert_eq!(week_start(day_of("2026-12-02").unwrap()), day_of("2026-11-30").unwrap());
    }
}
