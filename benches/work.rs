//! Work items and time tracking at scale: filtered issue lists, full-text search, time
//! summaries over a million work logs, and work-log creation over HTTP, against the real
//! `keel` binary on a `keel seed`ed data dir (100k issues, 1M work logs, 200 members,
//! 50 projects by default).
//!
//! Run: `cargo build --release && cargo bench --profile loadgen --bench work -- --keel target/release/keel`
//! Prints a Markdown section for BENCHMARKS.md. Every loop is bounded in count.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{get_json, load, machine, pct, rss_kib, seed_report, spawn, stop, Flags};
use serde_json::{json, Value};

struct Args {
    keel: PathBuf,
    issues: u32,
    worklogs: u32,
    reads: usize,
    writes: usize,
    concurrency: usize,
}

fn args() -> Args {
    let f = Flags::parse();
    Args {
        keel: f.path("keel", "target/release/keel"),
        issues: f.num("issues", 100_000),
        worklogs: f.num("worklogs", 1_000_000),
        reads: f.num("reads", 2_000),
        writes: f.num("writes", 10_000),
        concurrency: f.num("concurrency", 16),
    }
}

fn row(name: &str, lat: &[Duration], secs: f64, errors: usize, goal: &str) -> String {
    format!(
        "| {name} | p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms ({} requests, {:.0}/s, errors {errors}) | {goal} |",
        pct(lat, 0.5),
        pct(lat, 0.99),
        pct(lat, 1.0),
        lat.len(),
        lat.len() as f64 / secs
    )
}

#[tokio::main]
async fn main() {
    let a = args();
    assert!(
        a.keel.exists(),
        "build the server first: cargo build --release ({} missing)",
        a.keel.display()
    );
    let dir = tempfile::tempdir().unwrap();
    let seed_args = [
        "seed".to_string(),
        "--workspaces".into(),
        "1".into(),
        "--members".into(),
        "200".into(),
        "--projects".into(),
        "50".into(),
        "--issues".into(),
        a.issues.to_string(),
        "--worklogs".into(),
        a.worklogs.to_string(),
    ];
    let t = Instant::now();
    let out = Command::new(&a.keel)
        .arg("--data-dir")
        .arg(dir.path())
        .args(&seed_args)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let seed_secs = t.elapsed().as_secs_f64();
    let (owner, slug) = seed_report(&String::from_utf8_lossy(&out.stdout));
    let db_mb = std::fs::metadata(dir.path().join("keel.db"))
        .map(|m| m.len())
        .unwrap_or(0) as f64
        / 1_048_576.0;

    // The same aggregate as a plain GROUP BY over the logs (covering index), for comparison.
    let plain_ms = {
        let c = rusqlite::Connection::open_with_flags(
            dir.path().join("keel.db"),
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        )
        .unwrap();
        let mut runs: Vec<f64> = (0..5)
            .map(|_| {
                let t = Instant::now();
                let n: i64 = c
                    .query_row(
                        "SELECT COUNT(*) FROM (SELECT logged_by, logged_at, SUM(duration_minutes) FROM worklogs
                         WHERE deleted_at IS NULL GROUP BY logged_by, logged_at)",
                        [],
                        |r| r.get(0),
                    )
                    .unwrap();
                assert!(n > 0);
                t.elapsed().as_secs_f64() * 1000.0
            })
            .collect();
        runs.sort_by(f64::total_cmp);
        runs[2]
    };

    let (child, base) = spawn(&a.keel, dir.path());
    let pid = child.id();
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(a.concurrency)
        .build()
        .unwrap();
    let tok: Value = client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"email": owner, "password": "keel-seed-password"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = tok["access_token"].as_str().expect("token").to_string();
    let ws = format!("{base}/api/v1/workspaces/{slug}");
    let projects = get_json(&client, &format!("{ws}/projects?per_page=500"), &token).await;
    let pids: Vec<String> = projects["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap().to_string())
        .collect();
    // Per project: a state id, an assignee and an issue id to aim the queries at.
    let mut targets = Vec::new();
    for p in &pids {
        let states = get_json(&client, &format!("{ws}/projects/{p}/states"), &token).await;
        let page = get_json(&client, &format!("{ws}/projects/{p}/issues?per_page=1"), &token).await;
        let Some(issue) = page["items"].as_array().unwrap().first() else {
            continue;
        };
        targets.push((
            p.clone(),
            states[2]["id"].as_str().unwrap().to_string(),
            issue["assignee_ids"][0].as_str().unwrap().to_string(),
            issue["id"].as_str().unwrap().to_string(),
        ));
    }
    let total_issues: i64 = {
        let mut n = 0;
        for (p, ..) in &targets {
            n += get_json(&client, &format!("{ws}/projects/{p}/issues?per_page=1"), &token).await["total"]
                .as_i64()
                .unwrap();
        }
        n
    };
    let targets = Arc::new(targets);

    // Filtered lists, one at a time (latency, not queueing).
    let (c, w, tk, tg) = (client.clone(), ws.clone(), token.clone(), targets.clone());
    let (list, list_secs, list_err) = load(
        a.reads,
        1,
        Arc::new(move |i| {
            let (p, state, user, _) = &tg[i % tg.len()];
            let q = match i % 4 {
                0 => "state_group=started,unstarted&priority=urgent,high&order_by=-updated_at".to_string(),
                1 => format!("assignee={user}&order_by=priority"),
                2 => format!("state={state}&group_by=priority"),
                _ => "priority=low,none&order_by=sequence_id&page=3".to_string(),
            };
            c.get(format!("{w}/projects/{p}/issues?{q}&per_page=50"))
                .bearer_auth(&tk)
        }),
    )
    .await;

    // Full-text search over titles, descriptions and comments.
    let words = [
        "login",
        "safari export",
        "dash",
        "offline sync",
        "webhook",
        "csv import latency",
    ];
    let (c, w, tk, tg) = (client.clone(), ws.clone(), token.clone(), targets.clone());
    let (fts, fts_secs, fts_err) = load(
        a.reads,
        1,
        Arc::new(move |i| {
            let (p, ..) = &tg[i % tg.len()];
            let q = words[i % words.len()];
            c.get(format!("{w}/projects/{p}/issues?q={q}&per_page=50"))
                .bearer_auth(&tk)
        }),
    )
    .await;

    // Time summaries over every log (two years).
    let today = chrono::Utc::now().date_naive();
    let from = (today - chrono::Days::new(731)).format("%Y-%m-%d").to_string();
    let to = today.format("%Y-%m-%d").to_string();
    let summary = get_json(
        &client,
        &format!("{ws}/time-tracking/summary?from={from}&to={to}"),
        &token,
    )
    .await;
    let summed = summary["entries"].as_i64().unwrap();
    let n_sum = (a.reads / 10).max(20);
    let (c, w, tk, f, t2) = (client.clone(), ws.clone(), token.clone(), from.clone(), to.clone());
    let (wsum, wsum_secs, wsum_err) = load(
        n_sum,
        1,
        Arc::new(move |i| {
            let interval = if i % 2 == 0 { "day" } else { "week" };
            c.get(format!(
                "{w}/time-tracking/summary?from={f}&to={t2}&interval={interval}"
            ))
            .bearer_auth(&tk)
        }),
    )
    .await;
    let (c, w, tk, tg, f, t2) = (
        client.clone(),
        ws.clone(),
        token.clone(),
        targets.clone(),
        from.clone(),
        to.clone(),
    );
    let (psum, psum_secs, psum_err) = load(
        n_sum,
        1,
        Arc::new(move |i| {
            let (p, ..) = &tg[i % tg.len()];
            c.get(format!(
                "{w}/projects/{p}/worklogs/summary?from={f}&to={t2}&interval=week"
            ))
            .bearer_auth(&tk)
        }),
    )
    .await;

    // Work-log creation over HTTP, concurrent clients.
    let (c, w, tk, tg) = (client.clone(), ws.clone(), token.clone(), targets.clone());
    let (logs, log_secs, log_err) = load(
        a.writes,
        a.concurrency,
        Arc::new(move |i| {
            let (p, _, _, issue) = &tg[i % tg.len()];
            c.post(format!("{w}/projects/{p}/issues/{issue}/worklogs"))
                .bearer_auth(&tk)
                .json(&json!({"duration_minutes": 15 + (i % 200) as i64, "description": "bench"}))
        }),
    )
    .await;
    let rss = rss_kib(pid);
    stop(child);

    let (commit, cpu, cores) = machine();
    println!("## Work items and time tracking at scale\n");
    println!("- commit `{commit}`, machine: {cores} cores, {cpu}");
    println!(
        "- command: `cargo build --release && cargo bench --profile loadgen --bench work -- --keel target/release/keel --issues {} --worklogs {} --reads {} --writes {} --concurrency {}`",
        a.issues, a.worklogs, a.reads, a.writes, a.concurrency
    );
    println!(
        "- data: `keel {}`: {total_issues} issues, {summed} work logs in the summary range, 200 members, {} projects; seeded through the write path in {seed_secs:.0} s; database {db_mb:.0} MB",
        seed_args.join(" "),
        pids.len()
    );
    println!("- reads run one at a time (latency without queueing), over HTTP on loopback, as the workspace owner\n");
    println!("| measure | result | goal |");
    println!("| --- | --- | --- |");
    println!(
        "{}",
        row(
            "filtered issue list (4 filter/order/group shapes, 50 projects)",
            &list,
            list_secs,
            list_err,
            "p99 < 20 ms"
        )
    );
    println!(
        "{}",
        row(
            "full-text search (titles, descriptions, comments)",
            &fts,
            fts_secs,
            fts_err,
            "p99 < 30 ms"
        )
    );
    println!(
        "{}",
        row(
            "workspace time summary, all logs over two years (day and week)",
            &wsum,
            wsum_secs,
            wsum_err,
            "< 50 ms"
        )
    );
    println!("| the same aggregate as a plain GROUP BY over the logs (by member and day, SQLite directly) | {plain_ms:.0} ms | |");
    println!(
        "{}",
        row(
            "project time summary, two years by week",
            &psum,
            psum_secs,
            psum_err,
            ""
        )
    );
    println!(
        "{}",
        row(
            &format!("work-log creation over HTTP ({} clients)", a.concurrency),
            &logs,
            log_secs,
            log_err,
            ""
        )
    );
    println!("| server RSS after the run | {:.0} MB | |", rss as f64 / 1024.0);
}
