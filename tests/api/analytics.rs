//! Analytics: the chart builder against a brute-force count over the rows of the SQLite
//! file, for every axis × group × measure the API accepts on a random workspace; who sees
//! what (private projects, other people's time); the overview, stats, CSV and refusals.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{Datelike, NaiveDate};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};

use crate::helpers::{team, Team};

const AXES: [&str; 17] = [
    "STATES",
    "STATE_GROUPS",
    "LABELS",
    "ASSIGNEES",
    "ESTIMATE_POINTS",
    "CYCLES",
    "MODULES",
    "PRIORITY",
    "START_DATE",
    "TARGET_DATE",
    "CREATED_AT",
    "COMPLETED_AT",
    "CREATED_BY",
    "PROJECTS",
    "DEPARTMENTS",
    "WORK_LOGGED_BY",
    "LOGGED_AT",
];
const MEASURES: [&str; 8] = [
    "work_item_count",
    "estimate_points",
    "estimate_time",
    "logged_minutes",
    "pending_count",
    "in_progress_count",
    "completed_count",
    "overrun_minutes",
];
const W: &str = "/api/v1/workspaces/acme";

fn s(v: &Value) -> Option<String> {
    v.as_str().map(str::to_string)
}

/// The rows a chart counts, read from the SQLite file.
struct Rows {
    issues: Vec<Value>,
    labels: HashMap<String, Vec<String>>,
    assignees: HashMap<String, Vec<String>>,
    logs: Vec<Value>,
    departments: HashMap<String, String>,
}

fn rows(t: &Team) -> Rows {
    let issues = t.app.dump(
        "SELECT i.id, i.project_id, i.state_id, s.state_group, i.priority, i.estimate_point,
                i.estimate_time, i.start_date, i.target_date, substr(i.created_at, 1, 10) AS created,
                substr(i.completed_at, 1, 10) AS completed, i.created_by, i.cycle_id, i.module_id
         FROM issues i LEFT JOIN states s ON s.id = i.state_id WHERE i.deleted_at IS NULL ORDER BY i.id",
    );
    let links = |sql: &str| {
        let mut m: HashMap<String, Vec<String>> = HashMap::new();
        for r in t.app.dump(sql) {
            m.entry(s(&r["a"]).unwrap()).or_default().push(s(&r["b"]).unwrap());
        }
        m
    };
    let labels = links("SELECT issue_id AS a, label_id AS b FROM issue_labels WHERE deleted_at IS NULL");
    let assignees = links("SELECT issue_id AS a, user_id AS b FROM issue_assignees WHERE deleted_at IS NULL");
    let logs = t.app.dump(
        "SELECT issue_id, logged_by, logged_at, duration_minutes FROM worklogs WHERE deleted_at IS NULL ORDER BY id",
    );
    let departments = t
        .app
        .dump(
            "SELECT user_id, department_id FROM staff_profiles WHERE deleted_at IS NULL AND department_id IS NOT NULL",
        )
        .into_iter()
        .map(|r| (s(&r["user_id"]).unwrap(), s(&r["department_id"]).unwrap()))
        .collect();
    Rows {
        issues,
        labels,
        assignees,
        logs,
        departments,
    }
}

fn date(v: &str) -> NaiveDate {
    NaiveDate::parse_from_str(v, "%Y-%m-%d").unwrap()
}

/// A bucket's key as the API names it.
fn bucket(day: &str, interval: &str) -> String {
    let d = date(day);
    match interval {
        "day" => day.to_string(),
        "week" => (d - chrono::Days::new(d.weekday().num_days_from_monday() as u64))
            .format("%Y-%m-%d")
            .to_string(),
        "month" => day[..7].to_string(),
        _ => day[..4].to_string(),
    }
}

/// One filter of the property test: its query string and its meaning over the rows.
#[derive(Clone)]
enum Filter {
    Nothing,
    Groups(&'static str),
    Priorities(&'static str),
    Assignee(String),
    Unassigned,
    Label(String),
    Cycle(String),
    NoCycle,
    Project(String),
    Target(&'static str, &'static str),
    Start(&'static str, &'static str),
    Logged(&'static str, &'static str),
}

impl Filter {
    fn query(&self) -> String {
        match self {
            Filter::Nothing => String::new(),
            Filter::Groups(g) => format!("&state_group={g}"),
            Filter::Priorities(p) => format!("&priority={p}"),
            Filter::Assignee(u) => format!("&assignee={u}"),
            Filter::Unassigned => "&assignee=none".into(),
            Filter::Label(l) => format!("&label={l}"),
            Filter::Cycle(c) => format!("&cycle={c}"),
            Filter::NoCycle => "&cycle=none".into(),
            Filter::Project(p) => format!("&project={p}"),
            Filter::Target(a, b) => format!("&target_from={a}&target_to={b}"),
            Filter::Start(a, b) => format!("&start_from={a}&start_to={b}"),
            Filter::Logged(a, b) => format!("&logged_from={a}&logged_to={b}"),
        }
    }

    fn issue(&self, r: &Rows, i: &Value) -> bool {
        let id = s(&i["id"]).unwrap();
        let within = |v: &Value, a: &str, b: &str| v.as_str().is_some_and(|d| d >= a && d <= b);
        match self {
            Filter::Nothing | Filter::Logged(..) => true,
            Filter::Groups(g) => i["state_group"].as_str().is_some_and(|x| g.split(',').any(|y| y == x)),
            Filter::Priorities(p) => p.split(',').any(|y| i["priority"] == y),
            Filter::Assignee(u) => r.assignees.get(&id).is_some_and(|v| v.contains(u)),
            Filter::Unassigned => r.assignees.get(&id).is_none_or(|v| v.is_empty()),
            Filter::Label(l) => r.labels.get(&id).is_some_and(|v| v.contains(l)),
            Filter::Cycle(c) => i["cycle_id"] == c.as_str(),
            Filter::NoCycle => i["cycle_id"].is_null(),
            Filter::Project(p) => i["project_id"] == p.as_str(),
            Filter::Target(a, b) => within(&i["target_date"], a, b),
            Filter::Start(a, b) => within(&i["start_date"], a, b),
        }
    }

    fn log(&self, l: &Value) -> bool {
        match self {
            Filter::Logged(a, b) => l["logged_at"].as_str().is_some_and(|d| d >= *a && d <= *b),
            _ => true,
        }
    }
}

/// The keys of an axis for an issue (and a log), as strings; `none` when it has none.
fn keys(r: &Rows, axis: &str, interval: &str, i: &Value, log: Option<&Value>) -> Vec<String> {
    let id = s(&i["id"]).unwrap();
    let opt = |v: &Value| vec![v.as_str().map_or("none".to_string(), str::to_string)];
    let day = |v: &Value| vec![v.as_str().map_or("none".to_string(), |d| bucket(d, interval))];
    let mut out: Vec<String> = match axis {
        "STATES" => opt(&i["state_id"]),
        "STATE_GROUPS" => opt(&i["state_group"]),
        "LABELS" => r.labels.get(&id).cloned().unwrap_or_default(),
        "ASSIGNEES" => r.assignees.get(&id).cloned().unwrap_or_default(),
        "DEPARTMENTS" => r
            .assignees
            .get(&id)
            .cloned()
            .unwrap_or_default()
            .iter()
            .map(|u| r.departments.get(u).cloned().unwrap_or_else(|| "none".into()))
            .collect(),
        "ESTIMATE_POINTS" => vec![i["estimate_point"]
            .as_i64()
            .map_or("none".to_string(), |n| n.to_string())],
        "CYCLES" => opt(&i["cycle_id"]),
        "MODULES" => opt(&i["module_id"]),
        "PRIORITY" => opt(&i["priority"]),
        "START_DATE" => day(&i["start_date"]),
        "TARGET_DATE" => day(&i["target_date"]),
        "CREATED_AT" => day(&i["created"]),
        "COMPLETED_AT" => day(&i["completed"]),
        "CREATED_BY" => opt(&i["created_by"]),
        "PROJECTS" => opt(&i["project_id"]),
        "WORK_LOGGED_BY" => opt(&log.unwrap()["logged_by"]),
        "LOGGED_AT" => day(&log.unwrap()["logged_at"]),
        other => panic!("axis {other}"),
    };
    out.sort();
    out.dedup();
    if out.is_empty() {
        out.push("none".into());
    }
    out
}

/// The chart computed by hand: x key → (value, group key → value), and the total.
type Expected = (BTreeMap<String, (i64, BTreeMap<String, i64>)>, i64);

#[allow(clippy::too_many_arguments)]
fn expected(
    r: &Rows,
    x: &str,
    group: Option<&str>,
    measure: &str,
    interval: &str,
    filter: &Filter,
    projects: &HashSet<String>,
    time_of: &dyn Fn(&Value) -> bool,
) -> Expected {
    let mut out: BTreeMap<String, (i64, BTreeMap<String, i64>)> = BTreeMap::new();
    let mut total = 0;
    let mut add = |i: &Value, log: Option<&Value>, v: i64, out: &mut BTreeMap<String, (i64, BTreeMap<String, i64>)>| {
        let xs = keys(r, x, interval, i, log);
        let gs = group.map(|g| keys(r, g, interval, i, log)).unwrap_or_default();
        for xk in &xs {
            let e = out.entry(xk.clone()).or_default();
            e.0 += v;
            for gk in &gs {
                *e.1.entry(gk.clone()).or_default() += v;
            }
        }
        total += v;
    };
    for i in &r.issues {
        if !projects.contains(i["project_id"].as_str().unwrap()) || !filter.issue(r, i) {
            continue;
        }
        let logs: Vec<&Value> = r
            .logs
            .iter()
            .filter(|l| l["issue_id"] == i["id"] && time_of(l) && filter.log(l))
            .collect();
        let logged: i64 = logs.iter().map(|l| l["duration_minutes"].as_i64().unwrap()).sum();
        let group_is = |g: &str| i["state_group"] == g;
        let v = match measure {
            "logged_minutes" => {
                for l in &logs {
                    add(i, Some(l), l["duration_minutes"].as_i64().unwrap(), &mut out);
                }
                continue;
            }
            "work_item_count" => 1,
            "estimate_points" => i["estimate_point"].as_i64().unwrap_or(0),
            "estimate_time" => i["estimate_time"].as_i64().unwrap_or(0),
            "pending_count" => i64::from(group_is("backlog") || group_is("unstarted")),
            "in_progress_count" => i64::from(group_is("started")),
            "completed_count" => i64::from(group_is("completed")),
            "overrun_minutes" => match i["estimate_time"].as_i64() {
                Some(e) => logged - e,
                None => continue,
            },
            m => panic!("measure {m}"),
        };
        add(i, None, v, &mut out);
    }
    (out, total)
}

/// The API's chart in the same shape.
fn answered(v: &Value) -> Expected {
    let mut out = BTreeMap::new();
    let series: Vec<String> = v["series"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["key"].as_str().unwrap().to_string())
        .collect();
    for row in v["data"].as_array().unwrap() {
        let mut g = BTreeMap::new();
        for k in &series {
            let n = row[k].as_i64().unwrap();
            if n != 0 {
                g.insert(k.clone(), n);
            }
        }
        let value = row["count"].as_i64().unwrap();
        if value != 0 || !g.is_empty() {
            out.insert(row["key"].as_str().unwrap().to_string(), (value, g));
        }
    }
    (out, v["total"].as_i64().unwrap())
}

fn strip_zeros(mut e: Expected) -> Expected {
    for (_, (_, g)) in e.0.iter_mut() {
        g.retain(|_, v| *v != 0);
    }
    e.0.retain(|_, (v, g)| *v != 0 || !g.is_empty());
    e
}

struct World {
    projects: Vec<String>,
    private: String,
    users: Vec<String>,
    labels: Vec<String>,
    cycles: Vec<String>,
}

/// A random workspace: three projects (one private, without the member), labels, cycles,
/// modules, departments with staff, issues with random fields, and work logs by several
/// people.
async fn random_workspace(t: &Team, seed: u64) -> World {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut projects = Vec::new();
    for (ident, private) in [("WEB", false), ("API", false), ("SEC", true)] {
        projects.push(t.app.create_project(&t.o, "acme", ident, private).await);
    }
    let private = projects[2].clone();
    let users = vec![t.o.id.clone(), t.a.id.clone(), t.m.id.clone()];
    for pid in &projects[..2] {
        for u in [&t.a, &t.m] {
            t.app
                .post(
                    &format!("{W}/projects/{pid}/members"),
                    &t.o.token,
                    json!({"user_id": u.id, "role": "member"}),
                )
                .await
                .ok(201);
        }
    }
    t.app
        .post(
            &format!("{W}/projects/{private}/members"),
            &t.o.token,
            json!({"user_id": t.a.id, "role": "member"}),
        )
        .await
        .ok(201);
    // Departments: the owner and admin in two, the member in none.
    let mut depts = Vec::new();
    for (n, name) in ["Sales", "Ops"].iter().enumerate() {
        let d = t
            .app
            .post(
                &format!("{W}/departments"),
                &t.o.token,
                json!({"name": name, "code": format!("D{n}"), "short_name": name, "dept_code": format!("000{n}")}),
            )
            .await
            .ok(201)["id"]
            .as_str()
            .unwrap()
            .to_string();
        depts.push(d);
    }
    for (n, (u, d)) in [(&t.o, &depts[0]), (&t.a, &depts[1])].into_iter().enumerate() {
        t.app
            .post(
                &format!("{W}/staff"),
                &t.o.token,
                json!({"user_id": u.id, "staff_id": format!("E-{n}"), "department_id": d}),
            )
            .await
            .ok(201);
    }
    let mut labels = Vec::new();
    let mut cycles = Vec::new();
    for (pn, pid) in projects.iter().enumerate() {
        let p = format!("{W}/projects/{pid}");
        let states: Vec<String> = t
            .app
            .get(&format!("{p}/states"), &t.o.token)
            .await
            .ok(200)
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["id"].as_str().unwrap().to_string())
            .collect();
        let mut plabels = Vec::new();
        for n in 0..3 {
            let l = t
                .app
                .post(
                    &format!("{p}/labels"),
                    &t.o.token,
                    json!({"name": format!("L{pn}{n}"), "color": "#336699"}),
                )
                .await
                .ok(201)["id"]
                .as_str()
                .unwrap()
                .to_string();
            plabels.push(l);
        }
        labels.extend(plabels.clone());
        let cycle = t
            .app
            .post(
                &format!("{p}/cycles"),
                &t.o.token,
                json!({"name": format!("C{pn}"), "start_date": "2026-10-01", "end_date": "2026-10-31"}),
            )
            .await
            .ok(201)["id"]
            .as_str()
            .unwrap()
            .to_string();
        cycles.push(cycle.clone());
        let module = t
            .app
            .post(&format!("{p}/modules"), &t.o.token, json!({"name": format!("M{pn}")}))
            .await
            .ok(201)["id"]
            .as_str()
            .unwrap()
            .to_string();
        let members: Vec<&crate::helpers::User> = if pn == 2 {
            vec![&t.o, &t.a]
        } else {
            vec![&t.o, &t.a, &t.m]
        };
        for n in 0..14 {
            let pick = |rng: &mut StdRng, p: f64| rng.gen_bool(p);
            let mut body = json!({"name": format!("Issue {pn}-{n}")});
            body["state_id"] = json!(states[rng.gen_range(0..states.len())]);
            body["priority"] = json!(["urgent", "high", "medium", "low", "none"][rng.gen_range(0..5)]);
            let k = rng.gen_range(0..=2);
            let mut ls = plabels.clone();
            ls.truncate(k);
            if pick(&mut rng, 0.5) {
                ls.reverse();
            }
            body["label_ids"] = json!(ls);
            let a: Vec<&String> = members.iter().filter(|_| rng.gen_bool(0.4)).map(|u| &u.id).collect();
            body["assignee_ids"] = json!(a);
            if pick(&mut rng, 0.7) {
                body["estimate_point"] = json!(rng.gen_range(1..=5));
            }
            if pick(&mut rng, 0.7) {
                body["estimate_time"] = json!(rng.gen_range(30..=600));
            }
            if pick(&mut rng, 0.6) {
                body["start_date"] = json!(format!(
                    "2026-{:02}-{:02}",
                    rng.gen_range(8..=10),
                    rng.gen_range(1..=28)
                ));
            }
            if pick(&mut rng, 0.6) {
                body["target_date"] = json!(format!(
                    "2026-{:02}-{:02}",
                    rng.gen_range(11..=12),
                    rng.gen_range(1..=28)
                ));
            }
            if pick(&mut rng, 0.5) {
                body["cycle_id"] = json!(cycle);
            }
            if pick(&mut rng, 0.3) {
                body["module_id"] = json!(module);
            }
            let author = members[rng.gen_range(0..members.len())];
            let author = [&t.o, &t.a, &t.m].into_iter().find(|u| u.id == author.id).unwrap();
            let issue = t.app.post(&format!("{p}/issues"), &author.token, body).await.ok(201)["id"]
                .as_str()
                .unwrap()
                .to_string();
            for _ in 0..rng.gen_range(0..4) {
                let who = [&t.o, &t.a, &t.m][rng.gen_range(0..if pn == 2 { 2 } else { 3 })];
                let day = format!("2026-{:02}-{:02}", rng.gen_range(9..=11), rng.gen_range(1..=28));
                t.app
                    .post(
                        &format!("{p}/issues/{issue}/worklogs"),
                        &who.token,
                        json!({"duration_minutes": rng.gen_range(10..=240), "logged_at": day}),
                    )
                    .await
                    .ok(201);
            }
        }
    }
    World {
        projects,
        private,
        users,
        labels,
        cycles,
    }
}

#[tokio::test]
async fn every_axis_group_and_measure_equals_a_count_over_the_rows() {
    let t = team().await;
    let w = random_workspace(&t, 15).await;
    let r = rows(&t);
    let mut rng = StdRng::seed_from_u64(99);
    let filters = vec![
        Filter::Nothing,
        Filter::Groups("started,completed"),
        Filter::Priorities("urgent,high"),
        Filter::Assignee(w.users[1].clone()),
        Filter::Unassigned,
        Filter::Label(w.labels[0].clone()),
        Filter::Cycle(w.cycles[1].clone()),
        Filter::NoCycle,
        Filter::Project(w.projects[1].clone()),
        Filter::Target("2026-11-05", "2026-12-10"),
        Filter::Start("2026-09-01", "2026-09-30"),
        Filter::Logged("2026-10-01", "2026-10-31"),
    ];
    let all: HashSet<String> = w.projects.iter().cloned().collect();
    let public: HashSet<String> = w.projects.iter().filter(|p| **p != w.private).cloned().collect();
    let mut checked = 0;
    for x in AXES {
        for group in std::iter::once(None).chain(AXES.iter().map(|g| Some(*g))) {
            if group == Some(x) {
                continue;
            }
            for measure in MEASURES {
                let time_axis = [x]
                    .into_iter()
                    .chain(group)
                    .any(|a| a == "WORK_LOGGED_BY" || a == "LOGGED_AT");
                if time_axis && measure != "logged_minutes" {
                    continue;
                }
                let filter = &filters[rng.gen_range(0..filters.len())];
                let interval = ["day", "week", "month", "year"][rng.gen_range(0..4)];
                // The owner sees everything and everybody's time; the member sees the public
                // projects and only their own time.
                let (who, projects, mine): (&crate::helpers::User, &HashSet<String>, Option<&str>) =
                    if rng.gen_bool(0.5) {
                        (&t.o, &all, None)
                    } else {
                        (&t.m, &public, Some(t.m.id.as_str()))
                    };
                let url = format!(
                    "{W}/analytics/charts?x_axis={x}&y_axis={measure}&interval={interval}&group_limit=100{}{}",
                    group.map(|g| format!("&group_by={g}")).unwrap_or_default(),
                    filter.query()
                );
                let got = t.app.get(&url, &who.token).await;
                let got = answered(got.ok(200));
                let time_of = |l: &Value| mine.is_none_or(|m| l["logged_by"] == m);
                let want = strip_zeros(expected(&r, x, group, measure, interval, filter, projects, &time_of));
                assert_eq!(
                    got,
                    want,
                    "{url} as {}",
                    if mine.is_some() { "member" } else { "owner" }
                );
                checked += 1;
            }
        }
    }
    // 17 × 17 pairs (and ungrouped) × 8 measures, less the time axes with other measures.
    assert!(checked > 1_500, "{checked} combinations");
}

#[tokio::test]
async fn private_projects_and_other_peoples_time_never_count() {
    let t = team().await;
    let w = random_workspace(&t, 3).await;
    let count = |v: &Value| v["total"].as_i64().unwrap();
    let chart = |who: &str, q: &str| format!("{W}/analytics/charts?x_axis=PROJECTS&{q}&_={who}");
    let owner = t
        .app
        .get(&chart("o", "y_axis=work_item_count"), &t.o.token)
        .await
        .ok(200)
        .clone();
    let member = t
        .app
        .get(&chart("m", "y_axis=work_item_count"), &t.m.token)
        .await
        .ok(200)
        .clone();
    assert_eq!(count(&owner), 42);
    assert_eq!(
        count(&member),
        28,
        "the private project's 14 issues are not the member's"
    );
    assert!(member["data"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["key"] != w.private.as_str()));
    // Naming the private project changes nothing for someone outside it.
    let named = t
        .app
        .get(
            &format!("{W}/analytics/charts?x_axis=PROJECTS&project={}", w.private),
            &t.m.token,
        )
        .await;
    assert_eq!(count(named.ok(200)), 0);
    // Time: the admin sees everybody's; the member only their own, at workspace scope.
    let logged = t
        .app
        .dump("SELECT logged_by, SUM(duration_minutes) AS m FROM worklogs GROUP BY logged_by");
    let of = |u: &str| {
        logged
            .iter()
            .find(|r| r["logged_by"] == u)
            .map_or(0, |r| r["m"].as_i64().unwrap())
    };
    let all: i64 = logged.iter().map(|r| r["m"].as_i64().unwrap()).sum();
    let minutes = |tok: &str| {
        let url = format!("{W}/analytics/charts?x_axis=WORK_LOGGED_BY&y_axis=logged_minutes");
        let tok = tok.to_string();
        let app = &t.app;
        async move { count(app.get(&url, &tok).await.ok(200)) }
    };
    assert_eq!(minutes(&t.a.token).await, all);
    assert_eq!(minutes(&t.m.token).await, of(&t.m.id));
    // In a project they are a member of, members see everybody's time, as its summaries.
    let web = &w.projects[0];
    let url = format!("{W}/projects/{web}/analytics/charts?x_axis=WORK_LOGGED_BY&y_axis=logged_minutes");
    let in_web = t.app.dump(&format!(
        "SELECT COALESCE(SUM(duration_minutes), 0) AS m FROM worklogs WHERE project_id = '{web}'"
    ));
    assert_eq!(
        count(t.app.get(&url, &t.m.token).await.ok(200)),
        in_web[0]["m"].as_i64().unwrap()
    );
    // The private project's analytics are not there for them at all; workspace guests have
    // no workspace analytics (seed 000: admins and members).
    t.app
        .get(
            &format!("{W}/projects/{}/analytics/charts?x_axis=STATES", w.private),
            &t.m.token,
        )
        .await
        .err(404, "not_found");
    t.app
        .get(&format!("{W}/analytics/charts?x_axis=STATES"), &t.g.token)
        .await
        .err(403, "forbidden");
}

#[tokio::test]
async fn a_chart_is_named_ordered_limited_and_filled_as_the_seed_has_it() {
    let t = team().await;
    let w = random_workspace(&t, 7).await;
    // Ungrouped: by key (names for ids), "none" last.
    let v = t
        .app
        .get(&format!("{W}/analytics/charts?x_axis=PRIORITY"), &t.o.token)
        .await
        .ok(200)
        .clone();
    let keys: Vec<&str> = v["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["key"].as_str().unwrap())
        .collect();
    let mut sorted = keys.clone();
    sorted.sort_by_key(|k| ["urgent", "high", "medium", "low", "none"].iter().position(|p| p == k));
    assert_eq!(keys, sorted);
    assert_eq!(
        v["measure"],
        json!({"key": "work_item_count", "name": "Work items", "unit": "work items"})
    );
    // Labels are named; an issue without one is under "none".
    let v = t
        .app
        .get(&format!("{W}/analytics/charts?x_axis=LABELS"), &t.o.token)
        .await
        .ok(200)
        .clone();
    let data = v["data"].as_array().unwrap();
    assert_eq!(data.last().unwrap()["key"], "none");
    assert_eq!(data.last().unwrap()["name"], "None");
    assert!(data.iter().any(|r| r["name"] == "L00"));
    // Grouped: by the measure, descending, and the schema names every group.
    let v = t
        .app
        .get(
            &format!("{W}/analytics/charts?x_axis=ASSIGNEES&group_by=PRIORITY"),
            &t.o.token,
        )
        .await
        .ok(200)
        .clone();
    let counts: Vec<i64> = v["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["key"] != "none")
        .map(|r| r["count"].as_i64().unwrap())
        .collect();
    assert!(counts.windows(2).all(|p| p[0] >= p[1]), "{counts:?}");
    for s in v["series"].as_array().unwrap() {
        assert_eq!(v["schema"][s["key"].as_str().unwrap()], s["name"]);
    }
    // A limit keeps the largest buckets and sums the rest into "other", each issue once.
    let full = t
        .app
        .get(&format!("{W}/analytics/charts?x_axis=LABELS"), &t.o.token)
        .await
        .ok(200)
        .clone();
    let cut = t
        .app
        .get(&format!("{W}/analytics/charts?x_axis=LABELS&limit=2"), &t.o.token)
        .await
        .ok(200)
        .clone();
    let cut_rows = cut["data"].as_array().unwrap();
    assert_eq!(cut_rows.len(), 3);
    assert_eq!(cut_rows[2]["key"], "other");
    assert_eq!(cut["total"], full["total"]);
    // Date buckets between the range asked for are all there, empty ones with zero.
    let v = t
        .app
        .get(
            &format!(
                "{W}/analytics/charts?x_axis=TARGET_DATE&interval=week&target_from=2026-11-02&target_to=2026-12-27"
            ),
            &t.o.token,
        )
        .await
        .ok(200)
        .clone();
    let weeks: Vec<&str> = v["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["key"].as_str().unwrap())
        .collect();
    assert_eq!(weeks.len(), 8, "{weeks:?}");
    assert_eq!(weeks[0], "2026-11-02");
    assert_eq!(weeks[7], "2026-12-21");
    assert_eq!(v["interval"], "week");
    // Departments of assignees: the member has no staff record, so "none".
    let v = t
        .app
        .get(&format!("{W}/analytics/charts?x_axis=DEPARTMENTS"), &t.o.token)
        .await
        .ok(200)
        .clone();
    let names: HashSet<&str> = v["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains("Sales") && names.contains("Ops") && names.contains("None"),
        "{names:?}"
    );
    let _ = w;
}

#[tokio::test]
async fn charts_refuse_what_they_cannot_answer_with_the_allowed_values() {
    let t = team().await;
    let bad = |q: &str| format!("{W}/analytics/charts?{q}");
    for (q, field, says) in [
        ("x_axis=COLOUR", "x_axis", "STATES, STATE_GROUPS"),
        ("x_axis=STATES&group_by=STATES", "group_by", "must differ from x_axis"),
        ("x_axis=STATES&group_by=NOPE", "group_by", "WORK_LOGGED_BY"),
        ("x_axis=STATES&y_axis=velocity", "y_axis", "overrun_minutes"),
        ("x_axis=WORK_LOGGED_BY", "y_axis", "logged_minutes"),
        ("x_axis=STATES&interval=decade", "interval", "day, week, month, year"),
        ("x_axis=CREATED_AT&limit=3", "limit", "date axis"),
        ("x_axis=STATES&limit=0", "limit", "between 1 and 500"),
        ("x_axis=STATES&format=xls", "format", "json, csv"),
        ("", "x_axis", "is required"),
        ("type=pie", "type", "custom-work-items"),
        ("x_axis=STATES&state_group=done", "state_group", "not a state group"),
        ("x_axis=STATES&created_from=2026-13-01", "created_from", "date"),
        (
            "x_axis=STATES&logged_from=2026-11-02&logged_to=2026-11-01",
            "logged_to",
            "before",
        ),
        ("x_axis=STATES&project=x", "project", "not an id"),
    ] {
        let r = t.app.get(&bad(q), &t.o.token).await;
        r.err(422, "validation_failed");
        let m = r.body["error"]["fields"][field]
            .as_str()
            .unwrap_or_default()
            .to_string();
        assert!(m.contains(says), "{q}: {field} says {:?} ({})", m, r.body);
    }
    // Another workspace's view is not found; so is one that does not exist.
    let other = t.app.register("other@example.com").await;
    t.app.create_workspace(&other, "other").await;
    let pid = t.app.create_project(&other, "other", "OTH", false).await;
    let view = t
        .app
        .post(
            &format!("/api/v1/workspaces/other/projects/{pid}/views"),
            &other.token,
            json!({"name": "Mine", "query": {"priority": "urgent"}}),
        )
        .await
        .ok(201)["id"]
        .as_str()
        .unwrap()
        .to_string();
    t.app
        .get(&bad(&format!("x_axis=STATES&view={view}")), &t.o.token)
        .await
        .err(404, "not_found");
}

#[tokio::test]
async fn overview_stats_saved_views_csv_and_the_project_twin() {
    let t = team().await;
    let w = random_workspace(&t, 11).await;
    let r = rows(&t);
    let o = t
        .app
        .get(
            &format!("{W}/analytics?tab=overview&from=2026-01-01&to=2026-12-31&priority=urgent"),
            &t.o.token,
        )
        .await
        .ok(200)
        .clone();
    let total = r.issues.len() as i64;
    let urgent = r.issues.iter().filter(|i| i["priority"] == "urgent").count() as i64;
    assert_eq!(o["total_work_items"], json!({"count": total, "filter_count": urgent}));
    let open = r
        .issues
        .iter()
        .filter(|i| !matches!(i["state_group"].as_str(), Some("completed" | "cancelled")))
        .count() as i64;
    assert_eq!(o["open_work_items"]["count"], open);
    let logged: i64 = r.logs.iter().map(|l| l["duration_minutes"].as_i64().unwrap()).sum();
    assert_eq!(o["logged_minutes"]["count"], logged);
    assert_eq!(o["projects"], 3);
    assert_eq!(o["members"], 4);
    // Work-item stats per project, in numbers that add up.
    let s = t
        .app
        .get(&format!("{W}/analytics?tab=work-items"), &t.o.token)
        .await
        .ok(200)
        .clone();
    assert_eq!(s["by"], "PROJECTS");
    let rows_ = s["rows"].as_array().unwrap();
    assert_eq!(rows_.len(), 3);
    for row in rows_ {
        let parts: i64 = ["backlog", "unstarted", "started", "completed", "cancelled"]
            .iter()
            .map(|k| row[k].as_i64().unwrap())
            .sum();
        assert_eq!(parts, row["total"].as_i64().unwrap());
        assert_eq!(row["total"], 14);
    }
    // The project twin: stats per assignee, and its charts only count that project.
    let web = &w.projects[0];
    let ps = t
        .app
        .get(&format!("{W}/projects/{web}/analytics?tab=work-items"), &t.m.token)
        .await
        .ok(200)
        .clone();
    assert_eq!(ps["by"], "ASSIGNEES");
    let pc = t
        .app
        .get(
            &format!("{W}/projects/{web}/analytics/charts?x_axis=STATES"),
            &t.g.token,
        )
        .await;
    // The guest is in no project: not found.
    pc.err(404, "not_found");
    let pc = t
        .app
        .get(
            &format!("{W}/projects/{web}/analytics/charts?x_axis=STATES"),
            &t.m.token,
        )
        .await
        .ok(200)
        .clone();
    assert_eq!(pc["total"], 14);
    // A saved view's query applies, and only its project counts.
    let view = t
        .app
        .post(
            &format!("{W}/projects/{web}/views"),
            &t.m.token,
            json!({"name": "Urgent", "query": {"priority": "urgent"}}),
        )
        .await
        .ok(201)["id"]
        .as_str()
        .unwrap()
        .to_string();
    let v = t
        .app
        .get(&format!("{W}/analytics/charts?x_axis=PRIORITY&view={view}"), &t.o.token)
        .await
        .ok(200)
        .clone();
    let want = r
        .issues
        .iter()
        .filter(|i| i["project_id"] == web.as_str() && i["priority"] == "urgent")
        .count() as i64;
    assert_eq!(v["total"], want);
    // CSV of the table: a header, one line per bucket, formulas made text.
    let formula = t
        .app
        .post(
            &format!("{W}/projects/{web}/labels"),
            &t.o.token,
            json!({"name": "=HYPERLINK(\"x\")", "color": "#000000"}),
        )
        .await
        .ok(201)["id"]
        .as_str()
        .unwrap()
        .to_string();
    t.app
        .post(
            &format!("{W}/projects/{web}/issues"),
            &t.o.token,
            json!({"name": "Formula", "label_ids": [formula]}),
        )
        .await
        .ok(201);
    let res = t
        .app
        .client
        .get(t.app.url(&format!(
            "{W}/analytics/charts?x_axis=LABELS&group_by=PRIORITY&format=csv"
        )))
        .bearer_auth(&t.o.token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
    let text = res.text().await.unwrap();
    let mut lines = text.lines();
    assert!(lines.next().unwrap().starts_with("Label,key,Work items,"));
    let json_rows = t
        .app
        .get(
            &format!("{W}/analytics/charts?x_axis=LABELS&group_by=PRIORITY"),
            &t.o.token,
        )
        .await
        .ok(200)["data"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(lines.count(), json_rows);
    assert!(
        text.contains("\"'=HYPERLINK(\"\"x\"\")\""),
        "the formula is text: {text}"
    );
    // Created and completed over time, and work items per project by state group.
    let wi = t
        .app
        .get(
            &format!("{W}/analytics/charts?type=work-items&interval=day"),
            &t.o.token,
        )
        .await
        .ok(200)
        .clone();
    assert_eq!(wi["series"].as_array().unwrap().len(), 2);
    let created: i64 = wi["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["created"].as_i64().unwrap())
        .sum();
    assert_eq!(created, total + 1, "with the issue the CSV check made");
    let pj = t
        .app
        .get(&format!("{W}/analytics/charts?type=projects"), &t.o.token)
        .await
        .ok(200)
        .clone();
    assert_eq!(pj["x_axis"], "PROJECTS");
    assert_eq!(pj["group_by"], "STATE_GROUPS");
}

#[tokio::test]
async fn a_change_through_the_api_shows_in_the_next_chart() {
    let t = team().await;
    let w = random_workspace(&t, 5).await;
    let url = format!("{W}/analytics/charts?x_axis=PROJECTS");
    let before = t.app.get(&url, &t.o.token).await.ok(200)["total"].as_i64().unwrap();
    let p = format!("{W}/projects/{}", w.projects[0]);
    let id = t
        .app
        .post(&format!("{p}/issues"), &t.o.token, json!({"name": "One more"}))
        .await
        .ok(201)["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        t.app.get(&url, &t.o.token).await.ok(200)["total"].as_i64().unwrap(),
        before + 1
    );
    t.app.delete(&format!("{p}/issues/{id}"), &t.o.token).await.ok(204);
    assert_eq!(
        t.app.get(&url, &t.o.token).await.ok(200)["total"].as_i64().unwrap(),
        before
    );
    // A state moved to another group moves its issues (the facts follow the state).
    let states = t.app.get(&format!("{p}/states"), &t.o.token).await.ok(200).clone();
    let started = states
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["group"] == "started")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let g = |v: &Value, k: &str| {
        v["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["key"] == k)
            .map_or(0, |r| r["count"].as_i64().unwrap())
    };
    let gurl = format!("{W}/analytics/charts?x_axis=STATE_GROUPS&project={}", w.projects[0]);
    let v1 = t.app.get(&gurl, &t.o.token).await.ok(200).clone();
    t.app
        .patch(
            &format!("{p}/states/{started}"),
            &t.o.token,
            json!({"group": "backlog"}),
        )
        .await
        .ok(200);
    let v2 = t.app.get(&gurl, &t.o.token).await.ok(200).clone();
    let moved = g(&v1, "started") - g(&v2, "started");
    assert!(moved > 0, "{v1}");
    assert_eq!(g(&v2, "backlog") - g(&v1, "backlog"), moved);
}

#[tokio::test]
async fn chart_images_are_premium_then_drawn_as_png_and_svg_by_the_server() {
    let t = team().await;
    random_workspace(&t, 21).await;
    let url = |q: &str| {
        t.app
            .url(&format!("{W}/analytics/charts?x_axis=LABELS&group_by=PRIORITY&{q}"))
    };
    let get = |q: String| {
        let req = t.app.client.get(q).bearer_auth(&t.o.token);
        async move { req.send().await.unwrap() }
    };
    // Free: refused with the feature named, before anything is counted; JSON stays free.
    let r = get(url("format=png")).await;
    assert_eq!(r.status(), 402);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "plan_required");
    assert!(
        body["error"]["message"].as_str().unwrap().contains("chart_images"),
        "{body}"
    );
    assert_eq!(get(url("format=json")).await.status(), 200);
    // Bad image parameters are refused as any other.
    for (q, field) in [
        ("format=png&width=10", "width"),
        ("format=svg&kind=radar", "kind"),
        ("format=png&theme=neon", "theme"),
    ] {
        let r = get(url(q)).await;
        assert_eq!(r.status(), 422, "{q}");
        let body: Value = r.json().await.unwrap();
        assert!(body["error"]["fields"][field].is_string(), "{q}: {body}");
    }
    // Premium: the owner installs a licence; PNG and SVG come back.
    let ws = t.app.get("/api/v1/workspaces/acme", &t.o.token).await.ok(200)["display_id"]
        .as_str()
        .unwrap()
        .to_string();
    t.app
        .put(
            "/api/v1/workspaces/acme/licence",
            &t.o.token,
            json!({"licence": crate::plans::test_licence(&ws)}),
        )
        .await
        .ok(200);
    let r = get(url("format=png&width=800&height=400&theme=dark")).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "image/png");
    let png = r.bytes().await.unwrap();
    assert_eq!(&png[1..4], b"PNG");
    // The IHDR chunk: width and height as asked.
    assert_eq!(u32::from_be_bytes(png[16..20].try_into().unwrap()), 800);
    assert_eq!(u32::from_be_bytes(png[20..24].try_into().unwrap()), 400);
    for kind in ["bar", "stacked", "grouped", "line", "area", "donut", "number"] {
        let r = get(url(&format!("format=svg&kind={kind}"))).await;
        assert_eq!(r.status(), 200, "{kind}");
        assert_eq!(r.headers()["content-type"], "image/svg+xml");
        let svg = r.text().await.unwrap();
        let doc = roxmltree::Document::parse(&svg).unwrap_or_else(|e| panic!("{kind}: {e}"));
        assert_eq!(doc.root_element().tag_name().name(), "svg");
        assert!(svg.contains("Work items by label"), "{kind}: the title");
    }
    // The project twin draws too; a member of the workspace (not an owner) may ask.
    let pid = t.app.dump("SELECT id FROM projects ORDER BY identifier LIMIT 1")[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = t
        .app
        .client
        .get(
            t.app
                .url(&format!("{W}/projects/{pid}/analytics/charts?x_axis=STATES&format=svg")),
        )
        .bearer_auth(&t.m.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn a_tail_folded_into_other_keeps_every_figure() {
    let t = team().await;
    random_workspace(&t, 9).await;
    let get = |q: String| {
        let url = format!("{W}/analytics/charts?{q}");
        let app = &t.app;
        let tok = t.o.token.clone();
        async move { app.get(&url, &tok).await.ok(200).clone() }
    };
    let rows = |v: &Value| -> BTreeMap<String, i64> {
        v["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| (r["key"].as_str().unwrap().to_string(), r["count"].as_i64().unwrap()))
            .collect()
    };
    // One key per work item (states, priority, projects...): the kept buckets as before, and
    // "other" the rest of the total.
    for x in [
        "STATES",
        "PRIORITY",
        "PROJECTS",
        "CYCLES",
        "CREATED_BY",
        "ESTIMATE_POINTS",
    ] {
        for m in ["work_item_count", "estimate_time", "logged_minutes"] {
            let full = get(format!("x_axis={x}&y_axis={m}")).await;
            let cut = get(format!("x_axis={x}&y_axis={m}&limit=2")).await;
            let (f, c) = (rows(&full), rows(&cut));
            if f.len() <= 2 {
                assert_eq!(f, c, "{x} {m}");
                continue;
            }
            assert_eq!(c.len(), 3, "{x} {m}: {c:?}");
            for (k, v) in c.iter().filter(|(k, _)| *k != "other") {
                assert_eq!(f[k], *v, "{x} {m} {k}");
            }
            let kept: i64 = c.iter().filter(|(k, _)| *k != "other").map(|(_, v)| v).sum();
            assert_eq!(c["other"], full["total"].as_i64().unwrap() - kept, "{x} {m}");
        }
    }
    // Series past group_limit on a one-key axis: every row's series still sum to its count.
    for x in ["LABELS", "ASSIGNEES", "STATES"] {
        let v = get(format!("x_axis={x}&group_by=PRIORITY&group_limit=2")).await;
        assert!(v["series"].as_array().unwrap().len() <= 3);
        for r in v["data"].as_array().unwrap() {
            let parts: i64 = v["series"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| r[s["key"].as_str().unwrap()].as_i64().unwrap())
                .sum();
            assert_eq!(parts, r["count"].as_i64().unwrap(), "{x}: {r}");
        }
    }
}

#[tokio::test]
async fn the_facts_are_loaded_again_only_when_what_charts_count_changed() {
    let t = team().await;
    let w = random_workspace(&t, 4).await;
    let version = || {
        t.app.dump("SELECT version FROM analytics_versions")[0]["version"]
            .as_i64()
            .unwrap()
    };
    let p = format!("{W}/projects/{}", w.projects[0]);
    let id = t
        .app
        .post(&format!("{p}/issues"), &t.o.token, json!({"name": "Watch me"}))
        .await
        .ok(201)["id"]
        .as_str()
        .unwrap()
        .to_string();
    let v0 = version();
    // A new title, a description, a manual order: nothing a chart counts by.
    t.app
        .patch(
            &format!("{p}/issues/{id}"),
            &t.o.token,
            json!({"name": "Renamed", "description_html": "<p>more</p>"}),
        )
        .await
        .ok(200);
    assert_eq!(version(), v0, "a rename keeps the facts");
    // A priority does.
    t.app
        .patch(&format!("{p}/issues/{id}"), &t.o.token, json!({"priority": "urgent"}))
        .await
        .ok(200);
    assert!(version() > v0, "a new priority moves the version");
    let url = format!("{W}/analytics/charts?x_axis=PRIORITY&project={}", w.projects[0]);
    let v = t.app.get(&url, &t.o.token).await.ok(200).clone();
    let urgent = t.app.dump(&format!(
        "SELECT COUNT(*) AS n FROM issues WHERE project_id = '{}' AND priority = 'urgent' AND deleted_at IS NULL",
        w.projects[0]
    ))[0]["n"]
        .as_i64()
        .unwrap();
    let got = v["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["key"] == "urgent")
        .unwrap()["count"]
        .as_i64()
        .unwrap();
    assert_eq!(got, urgent);
    // A day interval over a century is refused rather than cut short.
    let r = t
        .app
        .get(
            &format!(
                "{W}/analytics/charts?x_axis=CREATED_AT&interval=day&created_from=1950-01-01&created_to=2026-01-01"
            ),
            &t.o.token,
        )
        .await;
    r.err(422, "validation_failed");
    // The work-items chart counts work items; another measure is refused.
    t.app
        .get(
            &format!("{W}/analytics/charts?type=work-items&y_axis=logged_minutes"),
            &t.o.token,
        )
        .await
        .err(422, "validation_failed");
}

#[tokio::test]
async fn series_rank_by_their_own_totals_and_a_saved_views_range_tightens_the_requests() {
    let t = team().await;
    let pid = t.app.create_project(&t.o, "acme", "RNK", false).await;
    let p = format!("{W}/projects/{pid}");
    let label = |name: &'static str| {
        let (app, token, p) = (&t.app, t.o.token.clone(), p.clone());
        async move {
            app.post(
                &format!("{p}/labels"),
                &token,
                json!({"name": name, "color": "#336699"}),
            )
            .await
            .ok(201)["id"]
                .as_str()
                .unwrap()
                .to_string()
        }
    };
    let (a, b, c) = (label("A").await, label("B").await, label("C").await);
    // Priority "urgent": one work item under three labels (3 in the cells, 1 of its own).
    // Priority "low": two work items under one label each (2 in the cells, 2 of its own).
    for (priority, labels, start) in [
        ("urgent", vec![&a, &b, &c], "2026-02-10"),
        ("low", vec![&a], "2026-03-05"),
        ("low", vec![&b], "2026-05-20"),
    ] {
        t.app
            .post(
                &format!("{p}/issues"),
                &t.o.token,
                json!({"name": "ranked", "priority": priority, "label_ids": labels, "start_date": start}),
            )
            .await
            .ok(201);
    }
    let v = t
        .app
        .get(
            &format!("{W}/analytics/charts?x_axis=LABELS&group_by=PRIORITY&projects={pid}"),
            &t.o.token,
        )
        .await
        .ok(200)
        .clone();
    let series: Vec<&str> = v["series"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["key"].as_str().unwrap())
        .collect();
    // By the sum of its cells "urgent" (3) would lead; by its own total (1) it follows "low" (2).
    assert_eq!(series, ["low", "urgent"], "{v}");
    assert_eq!(v["total"], 3);
    // A saved view's start range (February to April) and the request's (March to June):
    // the buckets run over the tightest, March and April, the empty one with zero.
    let view = t
        .app
        .post(
            &format!("{p}/views"),
            &t.o.token,
            json!({"name": "Spring", "query": {"start_from": "2026-02-01", "start_to": "2026-04-30"}}),
        )
        .await
        .ok(201)["id"]
        .as_str()
        .unwrap()
        .to_string();
    let v = t
        .app
        .get(
            &format!(
                "{W}/analytics/charts?x_axis=START_DATE&interval=month&view={view}&start_from=2026-03-01&start_to=2026-06-30"
            ),
            &t.o.token,
        )
        .await
        .ok(200)
        .clone();
    let months: Vec<(&str, i64)> = v["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["key"].as_str().unwrap(), r["count"].as_i64().unwrap()))
        .collect();
    assert_eq!(months, [("2026-03", 1), ("2026-04", 0)], "{v}");
}
