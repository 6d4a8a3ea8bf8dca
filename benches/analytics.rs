//! Analytics at scale (issue 15): every x_axis × group_by pair of the chart builder at
//! workspace scope over 100k issues and 1M work logs, a few measures on the heaviest pair,
//! the overview, and the first chart after a change (the kept facts loaded again) —
//! against the real `keel` binary on a `keel seed`ed data dir.
//!
//! Run: `cargo build --release && cargo bench --profile loadgen --bench analytics -- --keel target/release/keel`
//! Prints a Markdown section for BENCHMARKS.md. Every loop is bounded in count.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use common::{login, machine, pct, seed_scale, spawn, stop, Flags};

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

/// Requests after the facts load and before the measured pairs, spread over four pairs.
const WARM_UP: usize = 100;

struct Args {
    keel: PathBuf,
    issues: u32,
    worklogs: u32,
    reads: usize,
}

fn args() -> Args {
    let f = Flags::parse();
    Args {
        keel: f.path("keel", "target/release/keel"),
        issues: f.num("issues", 100_000),
        worklogs: f.num("worklogs", 1_000_000),
        reads: f.num("reads", 100),
    }
}

async fn timed(c: &reqwest::Client, url: &str, token: &str) -> (Duration, u16, usize) {
    let t = Instant::now();
    let r = c.get(url).bearer_auth(token).send().await.unwrap();
    let status = r.status().as_u16();
    let body = r.bytes().await.unwrap();
    (t.elapsed(), status, body.len())
}

/// `reads` sequential requests of `url`; sorted latencies and the errors.
async fn measure(c: &reqwest::Client, url: &str, token: &str, reads: usize) -> (Vec<Duration>, usize, usize) {
    let mut lat = Vec::with_capacity(reads);
    let mut errors = 0;
    let mut size = 0;
    for _ in 0..reads {
        let (d, s, n) = timed(c, url, token).await;
        if s != 200 {
            errors += 1;
        }
        size = n;
        lat.push(d);
    }
    lat.sort();
    (lat, errors, size)
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
    let chart = |x: &str, g: Option<&str>, m: &str| {
        format!(
            "{ws}/analytics/charts?x_axis={x}&y_axis={m}{}",
            g.map(|g| format!("&group_by={g}")).unwrap_or_default()
        )
    };

    // The first chart loads the facts; then every pair.
    let (first, s, _) = timed(&client, &chart("STATES", None, "work_item_count"), &token).await;
    assert_eq!(s, 200);
    // A warm-up, not counted: right after the load the process is still settling (the load's
    // freed buffers, each reader connection's first statements), and the first pair measured
    // took it all (a p99 of 65 ms beside a p50 of 5 ms on 65834f5).
    let warm_pairs = [
        ("STATES", None),
        ("LABELS", Some("ASSIGNEES")),
        ("CREATED_AT", Some("PRIORITY")),
        ("DEPARTMENTS", None),
    ];
    let mut warm_max = Duration::ZERO;
    for (x, g) in warm_pairs {
        let (lat, errors, _) = measure(
            &client,
            &chart(x, g, "work_item_count"),
            &token,
            WARM_UP / warm_pairs.len(),
        )
        .await;
        assert_eq!(errors, 0);
        warm_max = warm_max.max(lat.last().copied().unwrap_or_default());
    }
    let mut rows = Vec::new();
    let mut worst: (f64, String) = (0.0, String::new());
    let mut over = 0;
    for x in AXES {
        for g in std::iter::once(None).chain(AXES.iter().copied().map(Some)) {
            if g == Some(x) {
                continue;
            }
            let time = x == "WORK_LOGGED_BY" || x == "LOGGED_AT" || matches!(g, Some("WORK_LOGGED_BY" | "LOGGED_AT"));
            let m = if time { "logged_minutes" } else { "work_item_count" };
            let (lat, errors, size) = measure(&client, &chart(x, g, m), &token, a.reads).await;
            assert_eq!(errors, 0, "{x} × {g:?}");
            let p99 = pct(&lat, 0.99);
            if p99 > worst.0 {
                worst = (p99, format!("{x} × {}", g.unwrap_or("—")));
            }
            if p99 >= 50.0 {
                over += 1;
            }
            rows.push(format!(
                "| {x} | {} | {m} | {:.1} | {:.1} | {} |",
                g.unwrap_or("—"),
                pct(&lat, 0.5),
                p99,
                size
            ));
        }
    }
    // Every measure on the pair with the most buckets joined.
    let mut measures = Vec::new();
    for m in [
        "work_item_count",
        "estimate_points",
        "estimate_time",
        "logged_minutes",
        "pending_count",
        "in_progress_count",
        "completed_count",
        "overrun_minutes",
    ] {
        let (lat, errors, _) = measure(&client, &chart("LABELS", Some("ASSIGNEES"), m), &token, a.reads).await;
        assert_eq!(errors, 0);
        measures.push(format!(
            "| LABELS × ASSIGNEES, {m} | {:.1} | {:.1} |",
            pct(&lat, 0.5),
            pct(&lat, 0.99)
        ));
    }
    let (ov, errors, _) = measure(&client, &format!("{ws}/analytics?tab=overview"), &token, a.reads).await;
    assert_eq!(errors, 0);
    let (stats, errors, _) = measure(&client, &format!("{ws}/analytics?tab=work-items"), &token, a.reads).await;
    assert_eq!(errors, 0);
    // After a change: a new issue moves the version; the next chart loads the facts again.
    let projects: serde_json::Value = client
        .get(format!("{ws}/projects?per_page=1"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let pid = projects["items"][0]["id"].as_str().unwrap().to_string();
    let mut reload = Vec::new();
    for n in 0..5 {
        let r = client
            .post(format!("{ws}/projects/{pid}/issues"))
            .bearer_auth(&token)
            .json(&serde_json::json!({"name": format!("after {n}")}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 201);
        let (d, s, _) = timed(&client, &chart("LABELS", Some("ASSIGNEES"), "work_item_count"), &token).await;
        assert_eq!(s, 200);
        reload.push(d);
    }
    reload.sort();
    // A 12-series chart drawn to PNG (960×540) by the server's renderer, in this process:
    // the chart of assignees × labels with the 12 largest label series.
    let twelve: serde_json::Value = client
        .get(format!(
            "{ws}/analytics/charts?x_axis=ASSIGNEES&group_by=LABELS&limit=20&group_limit=12"
        ))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let view = chart_view(&twelve);
    assert!(view.series.len() >= 8, "{} series", view.series.len());
    let mut png = Vec::new();
    let mut png_bytes = 0;
    for _ in 0..50 {
        let t = Instant::now();
        let spec = keel::analytics::render::Spec {
            kind: keel::analytics::render::Kind::Stacked,
            format: keel::analytics::render::Format::Png,
            width: 960,
            height: 540,
            theme: keel::analytics::render::Theme::Light,
        };
        png_bytes = keel::analytics::render::render(&view, spec).unwrap().len();
        png.push(t.elapsed());
    }
    png.sort();
    let rss = common::rss_kib(child.id());
    stop(child);

    let (commit, cpu, cores) = machine();
    println!("## Analytics at scale (issue 15)\n");
    println!("Commit `{commit}`, {cpu}, {cores} cores. Command: `cargo build --release && cargo bench --profile loadgen --bench analytics -- --keel target/release/keel` (defaults: --issues {} --worklogs {} --reads {}).\n", a.issues, a.worklogs, a.reads);
    println!(
        "Seeded 1 workspace, 200 members, 50 projects, {} issues (0–3 of 8 labels each, points, dates, cycles, modules, created over two years), {} work logs, 40 departments, 200 staff in {seed_secs:.0} s. Server RSS after the run: {} MiB.\n",
        a.issues,
        a.worklogs,
        rss / 1024
    );
    println!(
        "Every x_axis × group_by pair at workspace scope, as the owner (everything visible), {} sequential requests each (the time axes with logged_minutes, the others with work_item_count): **worst p99 {:.1} ms ({}); {over} of {} pairs at or over 50 ms.**\n",
        a.reads,
        worst.0,
        worst.1,
        rows.len()
    );
    println!(
        "Before the pairs, a warm-up of {WARM_UP} requests over four pairs, not counted (its slowest request: {:.1} ms).\n",
        warm_max.as_secs_f64() * 1000.0
    );
    println!("| measure | p50 ms | p99 ms |\n|---|---|---|");
    println!(
        "| first chart (facts loaded) | {:.0} | — |",
        first.as_secs_f64() * 1000.0
    );
    println!(
        "| first chart after a new issue (5 times) | {:.0} | {:.0} (max) |",
        pct(&reload, 0.5),
        pct(&reload, 1.0)
    );
    println!("| overview | {:.1} | {:.1} |", pct(&ov, 0.5), pct(&ov, 0.99));
    println!(
        "| work-item stats per project | {:.1} | {:.1} |",
        pct(&stats, 0.5),
        pct(&stats, 0.99)
    );
    println!(
        "| PNG 960×540 of a {}-series stacked chart, drawn by `analytics::render` (50 times; {} bytes) | {:.1} | {:.1} |",
        view.series.len(),
        png_bytes,
        pct(&png, 0.5),
        pct(&png, 0.99)
    );
    for m in &measures {
        println!("{m}");
    }
    println!("\n| x_axis | group_by | measure | p50 ms | p99 ms | bytes |\n|---|---|---|---|---|---|");
    for r in rows {
        println!("{r}");
    }
}

/// The server's chart view from its JSON (what the renderer draws).
fn chart_view(v: &serde_json::Value) -> keel::analytics::ChartView {
    use keel::analytics::{ChartView, Measure, MeasureView, SeriesView};
    let series: Vec<SeriesView> = v["series"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| SeriesView {
            key: s["key"].as_str().unwrap().to_string(),
            name: s["name"].as_str().unwrap().to_string(),
        })
        .collect();
    ChartView {
        x_axis: Some(keel::analytics::Axis::Assignees),
        group_by: Some(keel::analytics::Axis::Labels),
        y_axis: Measure::WorkItemCount,
        measure: MeasureView {
            key: Measure::WorkItemCount,
            name: "Work items",
            unit: "work items",
        },
        interval: None,
        data: v["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r.as_object().unwrap().clone())
            .collect(),
        schema: series.iter().map(|s| (s.key.clone(), s.name.clone())).collect(),
        series,
        total: v["total"].as_i64().unwrap(),
        x_name: "Assignee".into(),
    }
}
