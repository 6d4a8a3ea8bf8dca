//! The chart builder: one pass over a workspace's kept facts (`facts`) for any x axis,
//! group and measure of the allowlist, under the caller's visibility and the filters.
//! Pure: no database, no names (the service adds those), so it is tested on its own and
//! against a brute-force count over the rows (tests/api/analytics.rs).

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::facts::{date_of, week_start, Day, Facts, IssueFact, LogFact};
use crate::issues::{IssueFilter, Priority, StateGroup};

/// What a chart's x axis or its grouping counts by (seed 000's 13, and Keel's projects,
/// departments of assignees, and for time the person who logged it and the day).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Axis {
    States,
    StateGroups,
    Labels,
    Assignees,
    EstimatePoints,
    Cycles,
    Modules,
    Priority,
    StartDate,
    TargetDate,
    CreatedAt,
    CompletedAt,
    CreatedBy,
    Projects,
    Departments,
    WorkLoggedBy,
    LoggedAt,
}

impl Axis {
    pub const ALL: [Axis; 17] = [
        Self::States,
        Self::StateGroups,
        Self::Labels,
        Self::Assignees,
        Self::EstimatePoints,
        Self::Cycles,
        Self::Modules,
        Self::Priority,
        Self::StartDate,
        Self::TargetDate,
        Self::CreatedAt,
        Self::CompletedAt,
        Self::CreatedBy,
        Self::Projects,
        Self::Departments,
        Self::WorkLoggedBy,
        Self::LoggedAt,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::States => "STATES",
            Self::StateGroups => "STATE_GROUPS",
            Self::Labels => "LABELS",
            Self::Assignees => "ASSIGNEES",
            Self::EstimatePoints => "ESTIMATE_POINTS",
            Self::Cycles => "CYCLES",
            Self::Modules => "MODULES",
            Self::Priority => "PRIORITY",
            Self::StartDate => "START_DATE",
            Self::TargetDate => "TARGET_DATE",
            Self::CreatedAt => "CREATED_AT",
            Self::CompletedAt => "COMPLETED_AT",
            Self::CreatedBy => "CREATED_BY",
            Self::Projects => "PROJECTS",
            Self::Departments => "DEPARTMENTS",
            Self::WorkLoggedBy => "WORK_LOGGED_BY",
            Self::LoggedAt => "LOGGED_AT",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == s)
    }

    pub fn is_date(self) -> bool {
        matches!(
            self,
            Self::StartDate | Self::TargetDate | Self::CreatedAt | Self::CompletedAt | Self::LoggedAt
        )
    }

    /// Axes of a work log rather than of an issue: only the logged-time measure has them.
    pub fn is_time(self) -> bool {
        matches!(self, Self::WorkLoggedBy | Self::LoggedAt)
    }

    pub fn allowed() -> String {
        Self::ALL.map(Self::as_str).join(", ")
    }
}

/// What a chart measures (its y axis).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, Default)]
#[serde(rename_all = "snake_case")]
pub enum Measure {
    /// Work items, each counted once per bucket (the seed's `Count(distinct)`).
    #[default]
    WorkItemCount,
    EstimatePoints,
    /// Estimated minutes.
    EstimateTime,
    /// Minutes logged (under the caller's view of time).
    LoggedMinutes,
    /// Work items in a backlog or unstarted state.
    PendingCount,
    /// Work items in a started state.
    InProgressCount,
    CompletedCount,
    /// Logged minus estimated minutes, over the work items that have an estimate.
    OverrunMinutes,
}

impl Measure {
    pub const ALL: [Measure; 8] = [
        Self::WorkItemCount,
        Self::EstimatePoints,
        Self::EstimateTime,
        Self::LoggedMinutes,
        Self::PendingCount,
        Self::InProgressCount,
        Self::CompletedCount,
        Self::OverrunMinutes,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::WorkItemCount => "work_item_count",
            Self::EstimatePoints => "estimate_points",
            Self::EstimateTime => "estimate_time",
            Self::LoggedMinutes => "logged_minutes",
            Self::PendingCount => "pending_count",
            Self::InProgressCount => "in_progress_count",
            Self::CompletedCount => "completed_count",
            Self::OverrunMinutes => "overrun_minutes",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.as_str() == s)
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::WorkItemCount => "Work items",
            Self::EstimatePoints => "Estimate points",
            Self::EstimateTime => "Estimated time",
            Self::LoggedMinutes => "Logged time",
            Self::PendingCount => "Pending work items",
            Self::InProgressCount => "Work items in progress",
            Self::CompletedCount => "Completed work items",
            Self::OverrunMinutes => "Overrun",
        }
    }

    pub fn unit(self) -> &'static str {
        match self {
            Self::EstimatePoints => "points",
            Self::EstimateTime | Self::LoggedMinutes | Self::OverrunMinutes => "minutes",
            _ => "work items",
        }
    }

    pub fn allowed() -> String {
        Self::ALL.map(Self::as_str).join(", ")
    }
}

/// How a date axis buckets its days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, Default)]
#[serde(rename_all = "snake_case")]
pub enum Bucket {
    Day,
    Week,
    #[default]
    Month,
    Year,
}

impl Bucket {
    /// The first day of `d`'s bucket.
    pub fn start(self, d: Day) -> Day {
        use chrono::Datelike;
        let date = date_of(d);
        match self {
            Self::Day => d,
            Self::Week => week_start(d),
            Self::Month => d - (date.day0() as i32),
            Self::Year => d - (date.ordinal0() as i32),
        }
    }

    /// The first day of the bucket after the one starting at `start`.
    pub fn next(self, start: Day) -> Day {
        use chrono::{Datelike, Months};
        match self {
            Self::Day => start + 1,
            Self::Week => start + 7,
            Self::Month | Self::Year => {
                let months = if self == Self::Month { 1 } else { 12 };
                date_of(start)
                    .checked_add_months(Months::new(months))
                    .map_or(start + 366, |d| d.num_days_from_ce())
            }
        }
    }

    /// The bucket's key: `2026-11-30` (day, and a week by its Monday), `2026-11`, `2026`.
    pub fn label(self, start: Day) -> String {
        let d = date_of(start);
        match self {
            Self::Day | Self::Week => d.format("%Y-%m-%d").to_string(),
            Self::Month => d.format("%Y-%m").to_string(),
            Self::Year => d.format("%Y").to_string(),
        }
    }
}

/// The bucket of every day the facts hold, looked up rather than worked out with the
/// calendar for each of a million logs.
pub struct Buckets {
    bucket: Bucket,
    day0: Day,
    starts: Vec<Day>,
}

impl Buckets {
    pub fn new(bucket: Bucket, facts: &Facts) -> Self {
        let (lo, hi) = facts.days;
        let span = if hi >= lo { (hi - lo + 1) as usize } else { 0 };
        Self {
            bucket,
            day0: lo,
            starts: (0..span).map(|n| bucket.start(lo + n as i32)).collect(),
        }
    }

    fn start(&self, d: Day) -> Day {
        d.checked_sub(self.day0)
            .and_then(|n| self.starts.get(n as usize).copied())
            .unwrap_or_else(|| self.bucket.start(d))
    }
}

/// One bucket of an axis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Key {
    Id(u32),
    Group(StateGroup),
    Priority(Priority),
    Points(i64),
    Day(Day),
    /// No value (the seed's "none").
    None,
    /// The long tail past a limit.
    Other,
}

/// A date range on one of the date fields, inclusive.
#[derive(Debug, Clone, Copy, Default)]
pub struct Range {
    pub from: Option<Day>,
    pub to: Option<Day>,
}

impl Range {
    fn holds(&self, d: Option<Day>) -> bool {
        if self.from.is_none() && self.to.is_none() {
            return true;
        }
        d.is_some_and(|d| self.from.is_none_or(|f| d >= f) && self.to.is_none_or(|t| d <= t))
    }
}

/// Everything a chart is asked for, parsed and resolved to the workspace's facts.
#[derive(Debug, Clone, Default)]
pub struct Query {
    pub x: Option<Axis>,
    pub group: Option<Axis>,
    pub measure: Measure,
    pub bucket: Bucket,
    /// At most this many x buckets; the rest are summed into "other" (not for dates).
    pub limit: Option<usize>,
    /// At most this many groups (series); the rest are summed into "other".
    pub group_limit: Option<usize>,
    pub filters: Vec<IssueFilter>,
    /// Issue ids a full-text filter matched, one set per filter that has one.
    pub fts: Vec<HashSet<String>>,
    /// Only these projects (ids), on top of what the caller may see.
    pub projects: Vec<String>,
    pub completed: Range,
    /// Work logs counted only on these days (the logged-time measures, LOGGED_AT).
    pub logged: Range,
}

/// What the caller may see.
#[derive(Debug, Clone, Default)]
pub struct Seen {
    /// Projects (ids) whose work items count.
    pub projects: HashSet<String>,
    /// Projects whose work logs count whoever logged them; in the others only the caller's.
    pub all_time_in: HashSet<String>,
    pub user: String,
}

/// One row of a chart: its x bucket, the measure there, and the measure per group.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub key: Key,
    pub value: i64,
    pub groups: Vec<(Key, i64)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub rows: Vec<Row>,
    /// The groups (series) in the order the rows list them.
    pub series: Vec<Key>,
    /// The measure over everything counted (each work item once).
    pub total: i64,
}

/// The issue-level and log-level predicates, resolved to interned ids once.
struct Compiled<'a> {
    facts: &'a Facts,
    query: &'a Query,
    buckets: Buckets,
    projects: Vec<bool>,
    all_time: Vec<bool>,
    user: Option<u32>,
    fts: Vec<HashSet<u32>>,
    filters: Vec<CompiledFilter>,
}

struct CompiledFilter {
    states: Option<HashSet<Option<u32>>>,
    groups: Option<Vec<StateGroup>>,
    priorities: Option<Vec<Priority>>,
    assignees: Option<(HashSet<u32>, bool)>,
    labels: Option<HashSet<u32>>,
    cycles: Option<(HashSet<u32>, bool)>,
    modules: Option<(HashSet<u32>, bool)>,
    parent: Option<Option<u32>>,
    created_by: Option<Option<u32>>,
    start: Range,
    target: Range,
    created: Range,
}

fn ids(f: &Facts, v: &[String]) -> HashSet<u32> {
    v.iter().filter_map(|s| f.find(s)).collect()
}

fn day_opt(s: &Option<String>) -> Option<Day> {
    s.as_deref().and_then(super::facts::day_of)
}

impl CompiledFilter {
    fn new(f: &Facts, q: &IssueFilter) -> Self {
        let either = |v: &[String], none: bool| (!v.is_empty() || none).then(|| (ids(f, v), none));
        Self {
            states: (!q.state_ids.is_empty())
                .then(|| q.state_ids.iter().map(|s| f.find(s)).filter(Option::is_some).collect()),
            groups: (!q.state_groups.is_empty()).then(|| q.state_groups.clone()),
            priorities: (!q.priorities.is_empty()).then(|| q.priorities.clone()),
            assignees: either(&q.assignee_ids, q.unassigned),
            labels: (!q.label_ids.is_empty()).then(|| ids(f, &q.label_ids)),
            cycles: either(&q.cycle_ids, q.no_cycle),
            modules: either(&q.module_ids, q.no_module),
            parent: q.parent_id.as_ref().map(|p| f.find(p)),
            created_by: q.created_by.as_ref().map(|p| f.find(p)),
            start: Range {
                from: day_opt(&q.start_from),
                to: day_opt(&q.start_to),
            },
            target: Range {
                from: day_opt(&q.target_from),
                to: day_opt(&q.target_to),
            },
            created: Range {
                from: day_opt(&q.created_from),
                to: day_opt(&q.created_to),
            },
        }
    }

    fn holds(&self, facts: &Facts, i: &IssueFact) -> bool {
        if let Some(s) = &self.states {
            if i.state.is_none() || !s.contains(&i.state) {
                return false;
            }
        }
        if let Some(g) = &self.groups {
            if !i.group.is_some_and(|x| g.contains(&x)) {
                return false;
            }
        }
        if let Some(p) = &self.priorities {
            if !p.contains(&i.priority) {
                return false;
            }
        }
        if let Some((set, none)) = &self.assignees {
            let a = facts.assignees(i);
            if !(a.iter().any(|u| set.contains(u)) || (*none && a.is_empty())) {
                return false;
            }
        }
        if let Some(set) = &self.labels {
            if !facts.labels(i).iter().any(|l| set.contains(l)) {
                return false;
            }
        }
        for (sel, v) in [(&self.cycles, i.cycle), (&self.modules, i.module)] {
            if let Some((set, none)) = sel {
                let ok = match v {
                    Some(x) => set.contains(&x),
                    None => *none,
                };
                if !ok {
                    return false;
                }
            }
        }
        if let Some(p) = self.parent {
            if p.is_none() || i.parent != p {
                return false;
            }
        }
        if let Some(p) = self.created_by {
            if p.is_none() || i.created_by != p {
                return false;
            }
        }
        self.start.holds(i.start) && self.target.holds(i.target) && self.created.holds(Some(i.created))
    }
}

impl<'a> Compiled<'a> {
    fn new(facts: &'a Facts, query: &'a Query, seen: &Seen) -> Self {
        let n = facts.ids.len();
        let mut projects = vec![false; n];
        let mut all_time = vec![false; n];
        let only: Option<HashSet<u32>> = (!query.projects.is_empty()).then(|| ids(facts, &query.projects));
        for p in &seen.projects {
            if let Some(i) = facts.find(p) {
                if only.as_ref().is_none_or(|o| o.contains(&i)) {
                    projects[i as usize] = true;
                }
            }
        }
        for p in &seen.all_time_in {
            if let Some(i) = facts.find(p) {
                all_time[i as usize] = true;
            }
        }
        Self {
            facts,
            query,
            buckets: Buckets::new(query.bucket, facts),
            projects,
            all_time,
            user: facts.find(&seen.user),
            fts: query
                .fts
                .iter()
                .map(|s| s.iter().filter_map(|id| facts.find(id)).collect())
                .collect(),
            filters: query.filters.iter().map(|f| CompiledFilter::new(facts, f)).collect(),
        }
    }

    fn issue(&self, i: &IssueFact) -> bool {
        self.projects.get(i.project as usize).copied().unwrap_or(false)
            && self.query.completed.holds(i.completed)
            && self.fts.iter().all(|s| s.contains(&i.id))
            && self.filters.iter().all(|f| f.holds(self.facts, i))
    }

    fn log(&self, i: &IssueFact, l: &LogFact) -> bool {
        (self.all_time.get(i.project as usize).copied().unwrap_or(false) || Some(l.user) == self.user)
            && self.query.logged.holds(Some(l.day))
    }

    /// The visible logged minutes of issue number `n` (after the log filters).
    fn logged(&self, n: usize, i: &IssueFact) -> i64 {
        self.facts
            .logs_of(n)
            .iter()
            .filter(|l| self.log(i, l))
            .map(|l| i64::from(l.minutes))
            .sum()
    }
}

fn push_unique(out: &mut Vec<Key>, k: Key) {
    if !out.contains(&k) {
        out.push(k);
    }
}

/// The keys of `axis` for an issue (and a work log, for the time axes), without repeats.
fn keys(facts: &Facts, axis: Axis, bucket: &Buckets, i: &IssueFact, l: Option<&LogFact>, out: &mut Vec<Key>) {
    out.clear();
    let id = |v: Option<u32>| v.map_or(Key::None, Key::Id);
    let day = |v: Option<Day>| v.map_or(Key::None, |d| Key::Day(bucket.start(d)));
    match axis {
        Axis::States => out.push(id(i.state)),
        Axis::StateGroups => out.push(i.group.map_or(Key::None, Key::Group)),
        Axis::Labels => out.extend(facts.labels(i).iter().map(|l| Key::Id(*l))),
        Axis::Assignees => out.extend(facts.assignees(i).iter().map(|u| Key::Id(*u))),
        Axis::Departments => {
            for u in facts.assignees(i) {
                push_unique(out, id(facts.departments.get(u).copied()));
            }
        }
        Axis::EstimatePoints => out.push(i.estimate_point.map_or(Key::None, Key::Points)),
        Axis::Cycles => out.push(id(i.cycle)),
        Axis::Modules => out.push(id(i.module)),
        Axis::Priority => out.push(Key::Priority(i.priority)),
        Axis::StartDate => out.push(day(i.start)),
        Axis::TargetDate => out.push(day(i.target)),
        Axis::CreatedAt => out.push(day(Some(i.created))),
        Axis::CompletedAt => out.push(day(i.completed)),
        Axis::CreatedBy => out.push(id(i.created_by)),
        Axis::Projects => out.push(Key::Id(i.project)),
        Axis::WorkLoggedBy => out.push(l.map_or(Key::None, |l| Key::Id(l.user))),
        Axis::LoggedAt => out.push(l.map_or(Key::None, |l| Key::Day(bucket.start(l.day)))),
    }
    if out.is_empty() {
        out.push(Key::None);
    }
}

/// The measure of one issue (the issue measures; logged minutes are summed per log).
fn issue_value(c: &Compiled<'_>, n: usize, i: &IssueFact) -> Option<i64> {
    let one = |b: bool| Some(i64::from(b));
    match c.query.measure {
        Measure::WorkItemCount => Some(1),
        Measure::EstimatePoints => Some(i.estimate_point.unwrap_or(0)),
        Measure::EstimateTime => Some(i.estimate_time.unwrap_or(0)),
        Measure::PendingCount => one(matches!(i.group, Some(StateGroup::Backlog | StateGroup::Unstarted))),
        Measure::InProgressCount => one(i.group == Some(StateGroup::Started)),
        Measure::CompletedCount => one(i.group == Some(StateGroup::Completed)),
        Measure::OverrunMinutes => i.estimate_time.map(|e| c.logged(n, i) - e),
        Measure::LoggedMinutes => None,
    }
}

/// Sums into x buckets and (x, group) cells; `remap_x` and `remap_g` fold tail keys into
/// `Key::Other` (repeats after folding count once).
struct Sums {
    x: Map<Key, i64>,
    cells: Map<(Key, Key), i64>,
    /// Each group's own total (every item once), for ranking the series.
    groups: Map<Key, i64>,
    total: i64,
}

/// The buckets' maps: hashed by rustc-hash (the keys are small integers; SipHash's
/// resistance to crafted keys buys nothing here and cost a third of a chart's time).
type Map<K, V> = rustc_hash::FxHashMap<K, V>;

fn sum(
    c: &Compiled<'_>,
    x: Axis,
    group: Option<Axis>,
    remap_x: &(dyn Fn(Key) -> Key + Sync),
    remap_g: &(dyn Fn(Key) -> Key + Sync),
) -> Sums {
    let n = c.facts.issues.len();
    // Two cores: a large workspace is counted in two halves at once, then merged (the
    // buckets are few; merging them is nothing beside the pass).
    let accs: Vec<Acc> = if n >= PARALLEL_FROM {
        let mid = n / 2;
        std::thread::scope(|scope| {
            let other = std::thread::Builder::new()
                .name("keel-chart".into())
                .spawn_scoped(scope, || sum_range(c, x, group, remap_x, remap_g, 0..mid));
            let b = sum_range(c, x, group, remap_x, remap_g, mid..n);
            // No thread to be had (limits under load): this one counts the first half too.
            let a = match other {
                Ok(h) => h.join().ok(),
                Err(_) => None,
            };
            vec![a.unwrap_or_else(|| sum_range(c, x, group, remap_x, remap_g, 0..mid)), b]
        })
    } else {
        vec![sum_range(c, x, group, remap_x, remap_g, 0..n)]
    };
    merge(accs)
}

/// The sums of passes over parts of the issues, by key.
fn merge(accs: Vec<Acc>) -> Sums {
    let mut s = Sums {
        x: Map::default(),
        cells: Map::default(),
        groups: Map::default(),
        total: 0,
    };
    for a in accs {
        for (sg, v) in a.g.iter().enumerate() {
            if *v != 0 || a.seen_g[sg] {
                *s.groups.entry(a.slots.keys[sg]).or_default() += v;
            }
        }
        for (sg, row) in a.rows.iter().enumerate() {
            for (sx, v) in row.iter().enumerate() {
                if *v != 0 {
                    *s.cells.entry((a.slots.keys[sx], a.slots.keys[sg])).or_default() += v;
                }
            }
        }
        s.total += a.total;
        for (slot, v) in a.x.iter().enumerate() {
            if *v != 0 || a.seen_x.get(slot).copied().unwrap_or(false) {
                *s.x.entry(a.slots.keys[slot]).or_default() += v;
            }
        }
        // A cell that sums to nothing reads as absent (a row shows 0 for it either way).
        for (k, v) in a.cells.iter().filter(|(_, v)| **v != 0) {
            let (sx, sg) = ((k >> 32) as usize, (k & 0xffff_ffff) as usize);
            *s.cells.entry((a.slots.keys[sx], a.slots.keys[sg])).or_default() += v;
        }
    }
    s.cells.retain(|_, v| *v != 0);
    s
}

/// The entries of an issue's run of log sums searched for a repeat of a key pair.
const RUN_SEARCHED: usize = 16;

/// The key of a work log on a time axis (no other axis is asked for).
fn log_key(axis: Axis, bucket: &Buckets, l: &LogFact) -> Key {
    match axis {
        Axis::LoggedAt => Key::Day(bucket.start(l.day)),
        _ => Key::Id(l.user),
    }
}

/// Issues at which a chart is counted on two threads.
const PARALLEL_FROM: usize = 20_000;

fn sum_range(
    c: &Compiled<'_>,
    x: Axis,
    group: Option<Axis>,
    remap_x: &(dyn Fn(Key) -> Key + Sync),
    remap_g: &(dyn Fn(Key) -> Key + Sync),
    range: std::ops::Range<usize>,
) -> Acc {
    let q = c.query;
    let f = c.facts;
    let mut s = Acc::new(f);
    let (mut xs, mut gs, mut tmp) = (Vec::new(), Vec::new(), Vec::new());
    let (mut isx, mut isg, mut run) = (Vec::<u32>::new(), Vec::<u32>::new(), Vec::<(u32, u32, i64)>::new());
    let by_log = q.measure == Measure::LoggedMinutes;
    // Work-log keys only when an axis is a log's (who, when); else each issue adds its
    // visible minutes once: a tenth of the map updates over 1M logs.
    let x_log = x.is_time();
    let g_log = group.is_some_and(Axis::is_time);
    for n in range {
        let i = &f.issues[n];
        if !c.issue(i) {
            continue;
        }
        if by_log && (x_log || g_log) {
            // The issue's own keys are slotted once; each visible log adds its own key.
            isx.clear();
            isg.clear();
            if !x_log {
                keys_into(f, x, &c.buckets, i, None, remap_x, &mut tmp, &mut xs);
                isx.extend(xs.iter().map(|k| s.slot(*k)));
            }
            if let Some(g) = group.filter(|_| !g_log) {
                keys_into(f, g, &c.buckets, i, None, remap_g, &mut tmp, &mut gs);
                isg.extend(gs.iter().map(|k| s.slot(*k)));
            }
            // The issue's logs under the same (x, group) log keys are added up first: a
            // person logging many days on one item adds to the cells once.
            run.clear();
            for l in f.logs_of(n) {
                if !c.log(i, l) {
                    continue;
                }
                let a = if x_log {
                    s.slot(remap_x(log_key(x, &c.buckets, l)))
                } else {
                    u32::MAX
                };
                let b = match group {
                    Some(g) if g_log => s.slot(remap_g(log_key(g, &c.buckets, l))),
                    _ => u32::MAX,
                };
                let m = i64::from(l.minutes);
                // Only a short run is searched; past it a repeat is a second entry, which
                // adds the same.
                match run.iter_mut().take(RUN_SEARCHED).find(|e| e.0 == a && e.1 == b) {
                    Some(e) => e.2 += m,
                    None => run.push((a, b, m)),
                }
            }
            for &(a, b, m) in &run {
                let sxs: &[u32] = if x_log { &[a] } else { &isx };
                let sgs: Option<&[u32]> = group.map(|_| {
                    if g_log {
                        std::slice::from_ref(&b)
                    } else {
                        isg.as_slice()
                    }
                });
                s.add_slots(sxs, sgs, m);
            }
            continue;
        }
        let v = if by_log {
            let v = c.logged(n, i);
            if v == 0 {
                // No visible log (every log has at least a minute): nothing to add.
                continue;
            }
            v
        } else {
            match issue_value(c, n, i) {
                Some(v) => v,
                None => continue,
            }
        };
        keys_into(f, x, &c.buckets, i, None, remap_x, &mut tmp, &mut xs);
        if let Some(g) = group {
            keys_into(f, g, &c.buckets, i, None, remap_g, &mut tmp, &mut gs);
        }
        s.add(&xs, group.map(|_| gs.as_slice()), v);
    }
    s
}

/// Dense numbers for the keys one pass meets: ids and days by table, the rest by map.
struct Slots {
    ids: Vec<u32>,
    days: Vec<u32>,
    day0: Day,
    misc: Map<Key, u32>,
    keys: Vec<Key>,
}

impl Slots {
    fn new(f: &Facts) -> Self {
        let (lo, hi) = f.days;
        let span = if hi >= lo { (hi - lo + 1) as usize } else { 0 };
        Self {
            ids: vec![u32::MAX; f.ids.len()],
            days: vec![u32::MAX; span],
            day0: lo,
            misc: Map::default(),
            keys: Vec::new(),
        }
    }

    fn slot(&mut self, k: Key) -> u32 {
        let next = self.keys.len() as u32;
        let cell = match k {
            Key::Id(i) => self.ids.get_mut(i as usize),
            Key::Day(d) => d.checked_sub(self.day0).and_then(|n| self.days.get_mut(n as usize)),
            _ => None,
        };
        match cell {
            Some(c) if *c != u32::MAX => *c,
            Some(c) => {
                *c = next;
                self.keys.push(k);
                next
            }
            None => *self.misc.entry(k).or_insert_with(|| {
                self.keys.push(k);
                next
            }),
        }
    }
}

/// The sums of one pass, by slot.
struct Acc {
    slots: Slots,
    x: Vec<i64>,
    /// Whether an x slot was added to (a bucket whose values sum to zero still shows).
    seen_x: Vec<bool>,
    /// Cells by group slot, then x slot: a table while it stays within `DENSE_CELLS`
    /// (a million logs are then added without hashing), else by (x slot << 32 | group slot).
    rows: Vec<Vec<i64>>,
    dense_cells: usize,
    budget: usize,
    cells: Map<u64, i64>,
    /// Each group's own total, every item once (not once per x key it is under).
    g: Vec<i64>,
    seen_g: Vec<bool>,
    total: i64,
    sx: Vec<u32>,
    sg: Vec<u32>,
}

/// Cells one pass keeps in tables at most (32 MB); past that, in a map.
const DENSE_CELLS: usize = 4_000_000;

impl Acc {
    fn new(f: &Facts) -> Self {
        Self {
            slots: Slots::new(f),
            x: Vec::new(),
            seen_x: Vec::new(),
            rows: Vec::new(),
            dense_cells: 0,
            budget: DENSE_CELLS,
            cells: Map::default(),
            g: Vec::new(),
            seen_g: Vec::new(),
            total: 0,
            sx: Vec::new(),
            sg: Vec::new(),
        }
    }

    /// The slot of `k`; its x and group sums are in range from then on.
    fn slot(&mut self, k: Key) -> u32 {
        let s = self.slots.slot(k);
        if s as usize >= self.x.len() {
            let n = self.slots.keys.len();
            self.x.resize(n, 0);
            self.seen_x.resize(n, false);
            self.g.resize(n, 0);
            self.seen_g.resize(n, false);
        }
        s
    }

    fn add(&mut self, xs: &[Key], gs: Option<&[Key]>, v: i64) {
        let mut sx = std::mem::take(&mut self.sx);
        let mut sg = std::mem::take(&mut self.sg);
        sx.clear();
        sg.clear();
        sx.extend(xs.iter().map(|k| self.slot(*k)));
        if let Some(gs) = gs {
            sg.extend(gs.iter().map(|k| self.slot(*k)));
        }
        self.add_slots(&sx, gs.map(|_| sg.as_slice()), v);
        self.sx = sx;
        self.sg = sg;
    }

    /// Adds `v` under x slots and group slots made by `slot`.
    fn add_slots(&mut self, sxs: &[u32], sgs: Option<&[u32]>, v: i64) {
        for &sx in sxs {
            self.x[sx as usize] += v;
            self.seen_x[sx as usize] = true;
        }
        if let Some(sgs) = sgs {
            for &sg in sgs {
                self.g[sg as usize] += v;
                self.seen_g[sg as usize] = true;
                for &sx in sxs {
                    self.cell(sx, sg, v);
                }
            }
        }
        self.total += v;
    }

    fn cell(&mut self, sx: u32, sg: u32, v: i64) {
        let (x, g) = (sx as usize, sg as usize);
        if self.dense_cells <= self.budget {
            if g >= self.rows.len() {
                self.rows.resize_with(g + 1, Vec::new);
            }
            let row = &mut self.rows[g];
            if x >= row.len() {
                self.dense_cells += x + 1 - row.len();
                row.resize(x + 1, 0);
            }
            row[x] += v;
            if self.dense_cells > self.budget {
                // Too wide for tables: the cells so far move to the map.
                for (g, row) in std::mem::take(&mut self.rows).into_iter().enumerate() {
                    for (x, v) in row.into_iter().enumerate() {
                        if v != 0 {
                            *self.cells.entry(((x as u64) << 32) | g as u64).or_default() += v;
                        }
                    }
                }
            }
            return;
        }
        *self.cells.entry((u64::from(sx) << 32) | u64::from(sg)).or_default() += v;
    }
}

/// The keys of `axis` folded by `remap`, without repeats, into `out`.
#[allow(clippy::too_many_arguments)]
fn keys_into(
    f: &Facts,
    axis: Axis,
    bucket: &Buckets,
    i: &IssueFact,
    l: Option<&LogFact>,
    remap: &(dyn Fn(Key) -> Key + Sync),
    tmp: &mut Vec<Key>,
    out: &mut Vec<Key>,
) {
    keys(f, axis, bucket, i, l, tmp);
    out.clear();
    for k in tmp.iter() {
        push_unique(out, remap(*k));
    }
}

/// Axes on which one work item can have several keys (its labels, assignees, their
/// departments): a tail of them cannot be summed from the buckets, since an item in two
/// tail buckets counts once in "other".
fn multi(a: Axis) -> bool {
    matches!(a, Axis::Labels | Axis::Assignees | Axis::Departments)
}

/// The keys to keep of `values`: the `limit` largest (ties by key), or all.
fn kept(values: &Map<Key, i64>, limit: Option<usize>) -> Option<HashSet<Key>> {
    let limit = limit?;
    if values.len() <= limit {
        return None;
    }
    let mut v: Vec<(&Key, &i64)> = values.iter().filter(|(k, _)| **k != Key::Other).collect();
    v.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    Some(v.into_iter().take(limit).map(|(k, _)| *k).collect())
}

/// Each key's own total on `axis` (an axis of the work item, not of its logs), every item
/// once under each of its keys: what a full pass sums as the x buckets or group totals.
fn totals(c: &Compiled<'_>, axis: Axis) -> Map<Key, i64> {
    let f = c.facts;
    let by_log = c.query.measure == Measure::LoggedMinutes;
    let mut out: Map<Key, i64> = Map::default();
    let mut ks = Vec::new();
    for (n, i) in f.issues.iter().enumerate() {
        if !c.issue(i) {
            continue;
        }
        let v = if by_log {
            match c.logged(n, i) {
                0 => continue,
                v => v,
            }
        } else {
            match issue_value(c, n, i) {
                Some(v) => v,
                None => continue,
            }
        };
        keys(f, axis, &c.buckets, i, None, &mut ks);
        for k in &ks {
            *out.entry(*k).or_default() += v;
        }
    }
    out
}

/// Runs a chart over the facts. `x` is required by the caller (validated there).
pub fn run(facts: &Facts, q: &Query, seen: &Seen, x: Axis) -> Result<Answer, crate::error::AppError> {
    let c = Compiled::new(facts, q, seen);
    // Tails: the x buckets past `limit` (never dates) and groups past `group_limit`. On an
    // axis where an item has several keys, "other" cannot be summed from the buckets; the
    // keys to keep are then found first by a pass over the items alone (their totals by
    // key, no cells), so the one full pass folds as it goes.
    let pre_x = (multi(x) && !x.is_date() && q.limit.is_some()).then(|| totals(&c, x));
    let pre_g = q
        .group
        .filter(|g| multi(*g) && q.group_limit.is_some())
        .map(|g| totals(&c, g));
    let keep_x0 = pre_x.as_ref().and_then(|t| kept(t, q.limit));
    let keep_g0 = pre_g.as_ref().and_then(|t| kept(t, q.group_limit));
    let fold = |keep: &Option<HashSet<Key>>, k: Key| match keep {
        Some(set) if !set.contains(&k) => Key::Other,
        _ => k,
    };
    let (fx0, fg0) = (|k: Key| fold(&keep_x0, k), |k: Key| fold(&keep_g0, k));
    let mut s = sum(&c, x, q.group, &fx0, &fg0);
    let keep_x = if x.is_date() || keep_x0.is_some() {
        None
    } else {
        kept(&s.x, q.limit)
    };
    let keep_g = if keep_g0.is_some() {
        None
    } else {
        kept(&s.groups, q.group_limit)
    };
    if keep_x.is_some() || keep_g.is_some() {
        let fx = |k: Key| match &keep_x {
            Some(set) if !set.contains(&k) => Key::Other,
            _ => k,
        };
        let fg = |k: Key| match &keep_g {
            Some(set) if !set.contains(&k) => Key::Other,
            _ => k,
        };
        let again = (keep_x.is_some() && multi(x)) || (keep_g.is_some() && q.group.is_some_and(multi));
        if again {
            s = sum(&c, x, q.group, &fx, &fg);
        } else {
            // One key per item on each folded axis: "other" is the sum of the tail buckets.
            let mut folded = Sums {
                x: Map::default(),
                cells: Map::default(),
                groups: Map::default(),
                total: s.total,
            };
            for (k, v) in &s.x {
                *folded.x.entry(fx(*k)).or_default() += v;
            }
            for (k, v) in &s.groups {
                *folded.groups.entry(fg(*k)).or_default() += v;
            }
            for ((a, b), v) in &s.cells {
                *folded.cells.entry((fx(*a), fg(*b))).or_default() += v;
            }
            s = folded;
        }
    }
    // Empty buckets of a date axis, so a line does not skip: between the range asked for on
    // that field, or else the first and last bucket with a value.
    if x.is_date() {
        let range = date_range(q, x);
        let present: Vec<Day> =
            s.x.keys()
                .filter_map(|k| match k {
                    Key::Day(d) => Some(*d),
                    _ => None,
                })
                .collect();
        let from = range.from.map(|d| q.bucket.start(d)).or(present.iter().min().copied());
        let to = range.to.or(present.iter().max().copied());
        if let (Some(mut d), Some(to)) = (from, to) {
            let mut days = Vec::new();
            while d <= to {
                if days.len() == super::MAX_BUCKETS {
                    return Err(crate::error::AppError::field(
                        "interval",
                        format!(
                            "the range has more than {} {:?} buckets; take a longer interval or a shorter range",
                            super::MAX_BUCKETS,
                            q.bucket
                        )
                        .to_lowercase(),
                    ));
                }
                days.push(d);
                d = q.bucket.next(d);
            }
            for d in days {
                s.x.entry(Key::Day(d)).or_insert(0);
            }
        }
    }
    let mut series: Vec<Key> = Vec::new();
    if q.group.is_some() {
        // Ranked by each group's own total, every item once.
        let mut totals: Vec<(Key, i64)> = s.groups.iter().map(|(k, v)| (*k, *v)).collect();
        totals.sort_by(|a, b| {
            let date = matches!(a.0, Key::Day(_)) || matches!(b.0, Key::Day(_));
            tail_last(a.0, b.0).then(if date {
                a.0.cmp(&b.0)
            } else {
                b.1.cmp(&a.1).then(a.0.cmp(&b.0))
            })
        });
        series = totals.into_iter().map(|(k, _)| k).collect();
    }
    let mut rows: Vec<Row> =
        s.x.iter()
            .map(|(k, v)| Row {
                key: *k,
                value: *v,
                groups: series
                    .iter()
                    .map(|g| (*g, s.cells.get(&(*k, *g)).copied().unwrap_or(0)))
                    .collect(),
            })
            .collect();
    rows.sort_by(|a, b| {
        let by_value = q.group.is_some() && !x.is_date();
        tail_last(a.key, b.key).then(if by_value {
            b.value.cmp(&a.value).then(a.key.cmp(&b.key))
        } else {
            a.key.cmp(&b.key)
        })
    });
    // The total counts each work item (or log) once however many buckets it is in: the
    // measure over everything, not the sum of the rows.
    Ok(Answer {
        rows,
        series,
        total: s.total,
    })
}

/// "none" and "other" come after every value.
fn tail_last(a: Key, b: Key) -> std::cmp::Ordering {
    let rank = |k: Key| match k {
        Key::None => 1,
        Key::Other => 2,
        _ => 0,
    };
    rank(a).cmp(&rank(b))
}

/// The range a query asks for on the date field of `axis`.
fn date_range(q: &Query, axis: Axis) -> Range {
    let pick = |f: fn(&IssueFilter) -> (&Option<String>, &Option<String>)| {
        q.filters.iter().map(f).fold(Range::default(), |r, (a, b)| Range {
            // The tightest of the request's and a saved view's.
            from: r.from.max(day_opt(a)),
            to: match (r.to, day_opt(b)) {
                (Some(x), Some(y)) => Some(x.min(y)),
                (x, y) => x.or(y),
            },
        })
    };
    match axis {
        Axis::StartDate => pick(|f| (&f.start_from, &f.start_to)),
        Axis::TargetDate => pick(|f| (&f.target_from, &f.target_to)),
        Axis::CreatedAt => pick(|f| (&f.created_from, &f.created_to)),
        Axis::CompletedAt => q.completed,
        Axis::LoggedAt => q.logged,
        _ => Range::default(),
    }
}

/// The overview's figures over what `q` lets through.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Figures {
    pub total: i64,
    pub open: i64,
    pub completed: i64,
    pub overdue: i64,
    pub created_in_range: i64,
    pub completed_in_range: i64,
    /// All the visible time logged on the work items.
    pub logged: i64,
    /// The visible time logged in the range.
    pub logged_in_range: i64,
    pub estimate: i64,
    pub estimated_logged: i64,
}

fn is_open(i: &IssueFact) -> bool {
    !matches!(i.group, Some(StateGroup::Completed | StateGroup::Cancelled))
}

pub fn figures(facts: &Facts, q: &Query, seen: &Seen, today: Day, range: Range) -> Figures {
    let c = Compiled::new(facts, q, seen);
    let mut f = Figures::default();
    for (n, i) in facts.issues.iter().enumerate() {
        if !c.issue(i) {
            continue;
        }
        f.total += 1;
        f.open += i64::from(is_open(i));
        f.completed += i64::from(i.group == Some(StateGroup::Completed));
        f.overdue += i64::from(is_open(i) && i.target.is_some_and(|t| t < today));
        f.created_in_range += i64::from(range.holds(Some(i.created)));
        f.completed_in_range += i64::from(i.completed.is_some() && range.holds(i.completed));
        let logged = c.logged(n, i);
        f.logged += logged;
        f.logged_in_range += facts
            .logs_of(n)
            .iter()
            .filter(|l| c.log(i, l) && range.holds(Some(l.day)))
            .map(|l| i64::from(l.minutes))
            .sum::<i64>();
        if let Some(e) = i.estimate_time {
            f.estimate += e;
            f.estimated_logged += logged;
        }
    }
    f
}

/// Work-item stats per key of `by` (projects or assignees), unnamed.
pub fn stats(facts: &Facts, q: &Query, seen: &Seen, by: Axis, today: Day) -> Vec<(Key, super::StatsRow)> {
    let c = Compiled::new(facts, q, seen);
    let mut out: HashMap<Key, super::StatsRow> = HashMap::new();
    let mut ks = Vec::new();
    for (n, i) in facts.issues.iter().enumerate() {
        if !c.issue(i) {
            continue;
        }
        keys(facts, by, &c.buckets, i, None, &mut ks);
        let logged = c.logged(n, i);
        for k in &ks {
            let r = out.entry(*k).or_default();
            r.total += 1;
            match i.group {
                Some(StateGroup::Backlog) => r.backlog += 1,
                Some(StateGroup::Unstarted) => r.unstarted += 1,
                Some(StateGroup::Started) => r.started += 1,
                Some(StateGroup::Completed) => r.completed += 1,
                Some(StateGroup::Cancelled) => r.cancelled += 1,
                None => {}
            }
            r.overdue += i64::from(is_open(i) && i.target.is_some_and(|t| t < today));
            r.estimate_minutes += i.estimate_time.unwrap_or(0);
            r.logged_minutes += logged;
        }
    }
    out.into_iter().collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    use super::*;

    /// A workspace of `n` random issues with labels, assignees and logs.
    fn facts(n: usize) -> Facts {
        let mut rng = StdRng::seed_from_u64(5);
        let mut f = Facts::default();
        let project = f.intern("p");
        let labels: Vec<u32> = (0..20).map(|i| f.intern(&format!("l{i}"))).collect();
        let users: Vec<u32> = (0..30).map(|i| f.intern(&format!("u{i}"))).collect();
        let mut logs = Vec::new();
        for k in 0..n {
            let id = f.intern(&format!("i{k}"));
            let start = f.links.len() as u32;
            let mut ls: Vec<u32> = (0..rng.gen_range(0..3)).map(|_| labels[rng.gen_range(0..20)]).collect();
            ls.sort_unstable();
            ls.dedup();
            f.links.extend(&ls);
            let mid = f.links.len() as u32;
            f.links.push(users[rng.gen_range(0..30)]);
            let end = f.links.len() as u32;
            f.issues.push(IssueFact {
                id,
                project,
                state: None,
                group: Some(StateGroup::ALL[rng.gen_range(0..5)]),
                priority: Priority::ALL[rng.gen_range(0..5)],
                estimate_point: Some(rng.gen_range(1..8)),
                estimate_time: rng.gen_bool(0.5).then(|| rng.gen_range(30..600)),
                start: None,
                target: None,
                created: 739_000 + rng.gen_range(0..700),
                completed: None,
                created_by: Some(users[rng.gen_range(0..30)]),
                cycle: None,
                module: None,
                parent: None,
                labels: (start, mid),
                assignees: (mid, end),
            });
            for _ in 0..rng.gen_range(0..4) {
                logs.push(LogFact {
                    issue: k as u32,
                    user: users[rng.gen_range(0..30)],
                    day: 739_000 + rng.gen_range(0..700),
                    minutes: rng.gen_range(1..240),
                });
            }
        }
        let mut runs = vec![0u32; n + 1];
        for l in &logs {
            runs[l.issue as usize + 1] += 1;
        }
        for i in 1..runs.len() {
            runs[i] += runs[i - 1];
        }
        f.logs = logs;
        f.log_runs = runs;
        f.days = (739_000, 739_700);
        f
    }

    #[test]
    fn cells_too_many_for_tables_move_to_the_map_and_sum_the_same() {
        let f = facts(50);
        let mut rng = StdRng::seed_from_u64(3);
        let (mut wide, mut narrow) = (Acc::new(&f), Acc::new(&f));
        narrow.budget = 40;
        for _ in 0..2_000 {
            let xs: Vec<Key> = (0..rng.gen_range(1..3))
                .map(|_| Key::Id(rng.gen_range(0..60)))
                .collect();
            let gs: Vec<Key> = (0..rng.gen_range(1..3))
                .map(|_| Key::Day(739_000 + rng.gen_range(0..90)))
                .collect();
            let (mut xs, mut gs) = (xs, gs);
            xs.dedup();
            gs.dedup();
            let v = rng.gen_range(-5..60);
            wide.add(&xs, Some(&gs), v);
            narrow.add(&xs, Some(&gs), v);
        }
        assert!(
            narrow.rows.is_empty() && !narrow.cells.is_empty(),
            "the narrow one moved to the map"
        );
        assert!(!wide.rows.is_empty() && wide.cells.is_empty());
        let (a, b) = (merge(vec![wide]), merge(vec![narrow]));
        assert_eq!(a.cells, b.cells);
        assert_eq!(a.x, b.x);
        assert_eq!(a.groups, b.groups);
    }

    #[test]
    fn two_halves_on_two_threads_sum_to_one_pass() {
        let f = facts(PARALLEL_FROM + 5_001);
        let seen = Seen {
            projects: ["p".to_string()].into_iter().collect(),
            all_time_in: ["p".to_string()].into_iter().collect(),
            user: "u1".into(),
        };
        for (x, g, m) in [
            (Axis::Labels, Some(Axis::Assignees), Measure::WorkItemCount),
            (Axis::Priority, Some(Axis::Labels), Measure::OverrunMinutes),
            (Axis::LoggedAt, Some(Axis::Labels), Measure::LoggedMinutes),
            (Axis::CreatedAt, None, Measure::EstimatePoints),
            (Axis::WorkLoggedBy, Some(Axis::StateGroups), Measure::LoggedMinutes),
        ] {
            let q = Query {
                measure: m,
                bucket: Bucket::Week,
                ..Default::default()
            };
            let c = Compiled::new(&f, &q, &seen);
            let id = |k: Key| k;
            let both = sum(&c, x, g, &id, &id);
            let one = merge(vec![sum_range(&c, x, g, &id, &id, 0..f.issues.len())]);
            assert_eq!(both.total, one.total, "{x:?} {g:?} {m:?}");
            assert_eq!(both.x, one.x, "{x:?} {g:?} {m:?}");
            assert_eq!(both.cells, one.cells, "{x:?} {g:?} {m:?}");
            assert!(
                both.total != 0 && !both.x.is_empty(),
                "{x:?} {m:?}: something was counted"
            );
        }
    }
}
