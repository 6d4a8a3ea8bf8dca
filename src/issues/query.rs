//! The issue list's query: its parameters (also a saved view's query) and their parsing
//! into an `IssueFilter`. Shared by the list route and saved views (`planning`).

use serde::Deserialize;
use utoipa::IntoParams;

use super::{fts_query, parse_date, GroupBy, IssueFilter, Order, Priority, StateGroup};
use crate::error::{AppError, Checks};

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct IssueListQuery {
    pub page: Option<u32>,
    pub per_page: Option<u32>,
    /// State ids, comma-separated.
    pub state: Option<String>,
    /// State groups, comma-separated (`backlog,unstarted,started,completed,cancelled`).
    pub state_group: Option<String>,
    /// Priorities, comma-separated (`urgent,high,medium,low,none`).
    pub priority: Option<String>,
    /// User ids, comma-separated; `none` matches issues with no assignee.
    pub assignee: Option<String>,
    /// Label ids, comma-separated (an issue with any of them matches).
    pub label: Option<String>,
    /// Cycle ids, comma-separated; `none` matches issues in no cycle.
    pub cycle: Option<String>,
    /// Module ids, comma-separated; `none` matches issues in no module.
    pub module: Option<String>,
    pub parent: Option<String>,
    pub created_by: Option<String>,
    /// Dates `YYYY-MM-DD`, inclusive.
    pub start_from: Option<String>,
    pub start_to: Option<String>,
    pub target_from: Option<String>,
    pub target_to: Option<String>,
    pub created_from: Option<String>,
    pub created_to: Option<String>,
    /// Full text over titles, descriptions and comments: every word must match (as a word
    /// or the start of one).
    pub q: Option<String>,
    /// `-created_at` (default), `created_at`, `-updated_at`, `updated_at`, `sequence_id`,
    /// `-sequence_id`, `priority` (urgent first), `-priority`, `target_date`,
    /// `-target_date`, `sort_order` (manual).
    pub order_by: Option<String>,
    /// Counts per group (`state`, `state_group`, `priority`, `assignee`, `label`, `cycle`,
    /// `module`).
    #[param(inline)]
    pub group_by: Option<GroupBy>,
}

fn csv_list(raw: &Option<String>) -> Vec<String> {
    raw.as_deref()
        .map(|s| {
            s.split(',')
                .map(str::trim)
                .filter(|x| !x.is_empty())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

pub fn parse_filter(q: &IssueListQuery) -> Result<IssueFilter, AppError> {
    let mut c = Checks::new();
    let mut ids = |field: &str, raw: &Option<String>, allow_none: bool| -> (Vec<String>, bool) {
        let mut out = Vec::new();
        let mut none = false;
        for v in csv_list(raw) {
            if allow_none && v == "none" {
                none = true;
            } else if let Ok(u) = uuid::Uuid::parse_str(&v) {
                let u = u.to_string();
                if !out.contains(&u) {
                    out.push(u);
                }
            } else {
                c.add(field, format!("{v:.40} is not an id"));
            }
        }
        if out.len() > 100 {
            c.add(field, "at most 100 ids");
        }
        (out, none)
    };
    let (state_ids, _) = ids("state", &q.state, false);
    let (assignee_ids, unassigned) = ids("assignee", &q.assignee, true);
    let (label_ids, _) = ids("label", &q.label, false);
    let (cycle_ids, no_cycle) = ids("cycle", &q.cycle, true);
    let (module_ids, no_module) = ids("module", &q.module, true);
    let (parent, _) = ids("parent", &q.parent, false);
    let (created_by, _) = ids("created_by", &q.created_by, false);
    let mut state_groups = Vec::new();
    for g in csv_list(&q.state_group) {
        match StateGroup::parse(&g) {
            // Repeats are dropped: the list holds each group once.
            Some(v) if state_groups.contains(&v) => {}
            Some(v) => state_groups.push(v),
            None => c.add("state_group", format!("{g:.40} is not a state group")),
        }
    }
    let mut priorities = Vec::new();
    for g in csv_list(&q.priority) {
        match Priority::parse(&g) {
            Some(v) if priorities.contains(&v) => {}
            Some(v) => priorities.push(v),
            None => c.add("priority", format!("{g:.40} is not a priority")),
        }
    }
    let mut date = |field: &str, raw: &Option<String>| raw.as_deref().and_then(|d| c.take(field, parse_date(d)));
    let f = IssueFilter {
        start_from: date("start_from", &q.start_from),
        start_to: date("start_to", &q.start_to),
        target_from: date("target_from", &q.target_from),
        target_to: date("target_to", &q.target_to),
        created_from: date("created_from", &q.created_from),
        created_to: date("created_to", &q.created_to),
        state_ids,
        state_groups,
        priorities,
        assignee_ids,
        unassigned,
        label_ids,
        cycle_ids,
        no_cycle,
        module_ids,
        no_module,
        parent_id: parent.into_iter().next(),
        created_by: created_by.into_iter().next(),
        fts: match q.q.as_deref() {
            Some(s) if s.chars().count() > 200 => {
                c.add("q", "must be at most 200 characters");
                None
            }
            Some(s) => fts_query(s),
            None => None,
        },
        order: match q.order_by.as_deref() {
            None => Order::default(),
            Some(o) => Order::parse(o).unwrap_or_else(|| {
                c.add("order_by", "is not a known order");
                Order::default()
            }),
        },
        group_by: q.group_by,
    };
    c.finish()?;
    Ok(f)
}
