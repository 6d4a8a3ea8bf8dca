//! Dashboards at scale (issue 17) over 100k issues and 1M work logs (`keel seed`), against
//! the real `keel` binary: a 12-widget dashboard's data in one call, and API writes while 50
//! metrics refresh in the background against the same writes with the metrics switched off.
//!
//! Run: `cargo build --release && cargo bench --profile loadgen --bench dashboards -- --keel target/release/keel`
//! Prints a Markdown section for BENCHMARKS.md. Every loop is bounded in count.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use common::{get_json, login, machine, pct, seed_scale, spawn, stop, Flags};
use serde_json::{json, Value};

struct Args {
    keel: PathBuf,
    issues: u32,
    worklogs: u32,
    reads: usize,
    /// Writes in each phase of the metrics run, one every `pace_ms`.
    writes: usize,
    pace_ms: u64,
}

fn args() -> Args {
    let f = Flags::parse();
    Args {
        keel: f.path("keel", "target/release/keel"),
        issues: f.num("issues", 100_000),
        worklogs: f.num("worklogs", 1_000_000),
        reads: f.num("reads", 100),
        writes: f.num("writes", 2_600),
        pace_ms: f.num("pace-ms", 50),
    }
}

async fn send(r: reqwest::RequestBuilder) -> (Duration, u16, Value) {
    let t = Instant::now();
    let res = r.send().await.unwrap();
    let status = res.status().as_u16();
    let body = res.json::<Value>().await.unwrap_or(Value::Null);
    (t.elapsed(), status, body)
}

/// The 50 metrics of the run: the chart builder's measures under varied filters, shares and
/// periods, and staff counts.
fn metric_bodies() -> Vec<Value> {
    let measures = [
        "work_item_count",
        "completed_count",
        "estimate_points",
        "logged_minutes",
        "pending_count",
    ];
    let filters = [
        json!({}),
        json!({"priority": "urgent"}),
        json!({"state_group": "backlog,unstarted,started"}),
        json!({"priority": "high,urgent", "state_group": "started"}),
        json!({"assignee": "none"}),
    ];
    let periods = [
        None,
        Some(("this_week", "created")),
        Some(("last_30_days", "completed")),
    ];
    let mut out = Vec::new();
    for (i, m) in measures.iter().enumerate() {
        for (j, f) in filters.iter().enumerate() {
            let mut q = json!({"measure": m, "filters": f});
            if let Some((p, field)) = periods[(i + j) % periods.len()] {
                let field = if *m == "logged_minutes" { "logged" } else { field };
                q["period"] = json!(p);
                q["period_field"] = json!(field);
            }
            out.push(q);
        }
    }
    // Shares and staff, up to 50.
    let mut k = 0;
    while out.len() < 48 {
        let f = &filters[k % filters.len()];
        out.push(json!({"measure": "completed_count", "per": "work_item_count", "filters": f}));
        out.push(json!({"measure": "logged_minutes", "per": "estimate_time", "filters": f}));
        k += 1;
    }
    out.push(json!({"source": "staff", "status": "probation"}));
    out.push(json!({"source": "staff", "status": "active,probation"}));
    out.truncate(50);
    out.into_iter()
        .enumerate()
        .map(|(n, q)| json!({"name": format!("Metric {n:02}"), "query": q, "refresh_seconds": 60, "is_enabled": false}))
        .collect()
}

const PRIORITIES: [&str; 4] = ["urgent", "high", "medium", "low"];

/// `n` writes, one every `pace`: an issue's title and priority changed, the priority to
/// another than the issue's last (it moves the analytics facts' version, so each metric
/// refresh after it reads the facts again, the heaviest case); their latencies, sorted.
async fn writes(
    c: &reqwest::Client,
    ws: &str,
    token: &str,
    issues: &[(String, String)],
    n: usize,
    pace: Duration,
    tag: &str,
) -> Vec<Duration> {
    let mut lat = Vec::with_capacity(n);
    let mut tick = tokio::time::interval(pace);
    for i in 0..n {
        tick.tick().await;
        let (pid, iid) = &issues[i % issues.len()];
        let (d, s, b) = send(
            c.patch(format!("{ws}/projects/{pid}/issues/{iid}"))
                .bearer_auth(token)
                .json(&json!({"name": format!("{tag} edit {i}"), "priority": PRIORITIES[(i / issues.len() + i % issues.len() + 2 * usize::from(tag == "on")) % 4]})),
        )
        .await;
        assert_eq!(s, 200, "{b}");
        lat.push(d);
    }
    lat.sort();
    lat
}

#[tokio::main]
async fn main() {
    let a = args();
    assert!(
        a.keel.exists(),
        "build the server first: cargo build --release ({} missing)",
        a.keel.display()
    );
    let client = reqwest::Client::new();
    let dir = tempfile::tempdir().unwrap();
    let (owner, slug, seed_secs) = seed_scale(&a.keel, dir.path(), a.issues, a.worklogs);
    let (child, base) = spawn(&a.keel, dir.path());
    let token = login(&client, &base, &owner).await;
    let ws = format!("{base}/api/v1/workspaces/{slug}");

    // The default dashboard (free) with 8 widgets more than its 4: 12.
    let dash = get_json(&client, &format!("{ws}/dashboards"), &token).await;
    let did = dash[0]["id"].as_str().unwrap().to_string();
    let extra = [
        json!({"widget_type": "chart", "title": "Labels by assignee", "config": {"x_axis": "LABELS", "group_by": "ASSIGNEES"}}),
        json!({"widget_type": "chart", "title": "Made per month", "config": {"x_axis": "CREATED_AT", "group_by": "PRIORITY", "interval": "month"}}),
        json!({"widget_type": "chart", "title": "By state", "config": {"x_axis": "STATES"}}),
        json!({"widget_type": "chart", "title": "By department", "config": {"x_axis": "DEPARTMENTS", "y_axis": "logged_minutes"}}),
        json!({"widget_type": "number", "title": "Logged", "config": {"y_axis": "logged_minutes"}}),
        json!({"widget_type": "time_summary", "title": "Time by department", "config": {"by": "department"}}),
        json!({"widget_type": "metric", "title": "Open", "config": {"metric": "system-open-work-items"}}),
        json!({"widget_type": "text", "title": "Note", "config": {"text": "Ship it"}}),
    ];
    for (n, w) in extra.iter().enumerate() {
        let mut w = w.clone();
        w["position"] = json!({"x": (n % 2) * 12, "y": 20 + (n / 2) * 8, "w": 12, "h": 8});
        let (_, s, b) = send(
            client
                .post(format!("{ws}/dashboards/{did}/widgets"))
                .bearer_auth(&token)
                .json(&w),
        )
        .await;
        assert_eq!(s, 201, "{b}");
    }
    let data_url = format!("{ws}/dashboards/{did}/data");
    // The first call loads the facts; a warm-up of 20 after it, not counted.
    let (first, s, _) = send(client.get(&data_url).bearer_auth(&token)).await;
    assert_eq!(s, 200);
    for _ in 0..20 {
        send(client.get(&data_url).bearer_auth(&token)).await;
    }
    let mut lat = Vec::with_capacity(a.reads);
    let mut bytes = 0;
    for _ in 0..a.reads {
        let t = Instant::now();
        let r = client.get(&data_url).bearer_auth(&token).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 200);
        let body = r.bytes().await.unwrap();
        lat.push(t.elapsed());
        bytes = body.len();
        let v: Value = serde_json::from_slice(&body).unwrap();
        let widgets = v["widgets"].as_array().unwrap();
        assert_eq!(widgets.len(), 12);
        assert!(widgets.iter().all(|w| w["status"] == "ok"), "{v}");
    }
    lat.sort();

    // Metrics against writes. 50 metrics made switched off; the issues the writes edit.
    let mut ids = Vec::new();
    for b in metric_bodies() {
        let (_, s, v) = send(client.post(format!("{ws}/metrics")).bearer_auth(&token).json(&b)).await;
        assert_eq!(s, 201, "{v}");
        ids.push(v["id"].as_str().unwrap().to_string());
    }
    let projects = get_json(&client, &format!("{ws}/projects?per_page=20"), &token).await;
    let mut issues = Vec::new();
    for p in projects["items"].as_array().unwrap() {
        let pid = p["id"].as_str().unwrap();
        let list = get_json(&client, &format!("{ws}/projects/{pid}/issues?per_page=10"), &token).await;
        for i in list["items"].as_array().unwrap() {
            issues.push((pid.to_string(), i["id"].as_str().unwrap().to_string()));
        }
    }
    assert!(issues.len() >= 100, "{} issues", issues.len());
    let pace = Duration::from_millis(a.pace_ms);
    let off = writes(&client, &ws, &token, &issues, a.writes, pace, "off").await;
    // Switched on: the refresher computes the 50 within its next tick, then every minute.
    for id in &ids {
        let (_, s, v) = send(
            client
                .patch(format!("{ws}/metrics/{id}"))
                .bearer_auth(&token)
                .json(&json!({"is_enabled": true})),
        )
        .await;
        assert_eq!(s, 200, "{v}");
    }
    // Switching one on computes it on the spot; what the refresher computes after is seen
    // by its computed_at moving.
    let stamps = |v: &Value| -> Vec<(String, String)> {
        v.as_array()
            .unwrap()
            .iter()
            .filter(|m| ids.iter().any(|i| m["id"] == i.as_str()))
            .map(|m| {
                (
                    m["id"].as_str().unwrap().to_string(),
                    m["computed_at"].as_str().unwrap_or("").to_string(),
                )
            })
            .collect()
    };
    let enabled_at = stamps(&get_json(&client, &format!("{ws}/metrics"), &token).await);
    let on = writes(&client, &ws, &token, &issues, a.writes, pace, "on").await;
    let list = get_json(&client, &format!("{ws}/metrics"), &token).await;
    let ours: Vec<&Value> = list
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| ids.iter().any(|i| m["id"] == i.as_str()))
        .collect();
    let computed = stamps(&list)
        .iter()
        .filter(|(id, at)| enabled_at.iter().any(|(i, before)| i == id && before < at))
        .count();
    let unresolved = ours.iter().filter(|m| m["status"] == "unresolved").count();
    assert_eq!(unresolved, 0, "{list}");
    // One metric computed on demand right after a title edit (the facts stay) and with no write.
    let mut fresh = Vec::new();
    let mut warm = Vec::new();
    for n in 0..10 {
        let (pid, iid) = &issues[n];
        let (_, s, _) = send(
            client
                .patch(format!("{ws}/projects/{pid}/issues/{iid}"))
                .bearer_auth(&token)
                .json(&json!({"name": format!("again {n}")})),
        )
        .await;
        assert_eq!(s, 200);
        let (d, s, _) = send(
            client
                .post(format!("{ws}/metrics/{}/refresh", ids[n]))
                .bearer_auth(&token),
        )
        .await;
        assert_eq!(s, 200);
        fresh.push(d);
        let (d, s, _) = send(
            client
                .post(format!("{ws}/metrics/{}/refresh", ids[n]))
                .bearer_auth(&token),
        )
        .await;
        assert_eq!(s, 200);
        warm.push(d);
    }
    fresh.sort();
    warm.sort();
    let rss = common::rss_kib(child.id());
    stop(child);

    let (commit, cpu, cores) = machine();
    let phase_secs = a.writes as f64 * a.pace_ms as f64 / 1000.0;
    println!("## Dashboards at scale (issue 17)\n");
    println!("Commit `{commit}`, {cpu}, {cores} cores. Command: `cargo build --release && cargo bench --profile loadgen --bench dashboards -- --keel target/release/keel` (defaults: --issues {} --worklogs {} --reads {} --writes {} --pace-ms {}).\n", a.issues, a.worklogs, a.reads, a.writes, a.pace_ms);
    println!(
        "Seeded as the analytics run ({} issues, {} work logs, 50 projects, 200 members) in {seed_secs:.0} s. Server RSS after the run: {} MiB.\n",
        a.issues,
        a.worklogs,
        rss / 1024
    );
    println!(
        "**A 12-widget dashboard's data in one call** (the default's overview, work items by state, projects and time by member, with charts of labels × assignees, created per month × priority, states and logged time by department, a number, time by department, a metric and a note), as the owner, {} sequential calls after a warm-up of 20: **p50 {:.1} ms, p99 {:.1} ms** ({bytes} bytes; the first call, which loads the facts: {:.0} ms).\n",
        a.reads,
        pct(&lat, 0.5),
        pct(&lat, 0.99),
        first.as_secs_f64() * 1000.0
    );
    let (p_off, p_on) = (pct(&off, 0.99), pct(&on, 0.99));
    println!(
        "**API writes while 50 metrics refresh** (each every 60 s, the refresher waking every 10 s): {} edits of an issue's title and priority (which makes each refresh read the facts again), one every {} ms ({phase_secs:.0} s), first with the 50 metrics switched off, then on (the 8 system metrics and the dashboard's metric widget are live in both phases: they refresh every 5 min). p99 **{p_off:.1} ms off, {p_on:.1} ms on ({:+.1}%)**; {computed} of the 50 computed again by the refresher during the second phase (each was computed once when switched on). The phases run one after the other, not interleaved.\n",
        a.writes,
        a.pace_ms,
        (p_on - p_off) / p_off * 100.0
    );
    println!("| measure | p50 ms | p99 ms | max ms |\n|---|---|---|---|");
    println!(
        "| dashboard data, 12 widgets | {:.1} | {:.1} | {:.1} |",
        pct(&lat, 0.5),
        pct(&lat, 0.99),
        pct(&lat, 1.0)
    );
    println!(
        "| issue edit, metrics off | {:.1} | {:.1} | {:.1} |",
        pct(&off, 0.5),
        p_off,
        pct(&off, 1.0)
    );
    println!(
        "| issue edit, 50 metrics on | {:.1} | {:.1} | {:.1} |",
        pct(&on, 0.5),
        p_on,
        pct(&on, 1.0)
    );
    println!(
        "| one metric computed on demand right after an edit of an issue's title (which leaves the facts as they are), 10 times | {:.0} | — | {:.0} |",
        pct(&fresh, 0.5),
        pct(&fresh, 1.0)
    );
    println!(
        "| the same again, nothing changed in between | {:.1} | — | {:.1} |",
        pct(&warm, 0.5),
        pct(&warm, 1.0)
    );
}
