//! The organisation at scale (issue 14): the department tree of 2,000 departments, the
//! staff list with filters over 10,000 staff records, their stats, a bulk import of 10,000
//! rows (refused whole for one bad row, checked by a dry run, then written), and the
//! workspace time summary by department over a million work logs — against the real
//! `keel` binary on `keel seed`ed data dirs.
//!
//! Run: `cargo build --release && cargo bench --profile loadgen --bench org -- --keel target/release/keel`
//! Prints a Markdown section for BENCHMARKS.md. Every loop is bounded in count.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{get_json, load, login, machine, pct, seed_report, spawn, stop, Flags};
use serde_json::Value;

struct Args {
    keel: PathBuf,
    departments: u32,
    staff: u32,
    import: u32,
    worklogs: u32,
    reads: usize,
}

fn args() -> Args {
    let f = Flags::parse();
    Args {
        keel: f.path("keel", "target/release/keel"),
        departments: f.num("departments", 2_000),
        staff: f.num("staff", 10_000),
        import: f.num("import", 10_000),
        worklogs: f.num("worklogs", 1_000_000),
        reads: f.num("reads", 500),
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

/// Seeds a data dir; answers the owner's email, the workspace slug and the seconds it took.
fn seed(keel: &Path, dir: &Path, args: &[String]) -> (String, String, f64) {
    let t = Instant::now();
    let out = Command::new(keel)
        .arg("--data-dir")
        .arg(dir)
        .arg("seed")
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let (owner, slug) = seed_report(&String::from_utf8_lossy(&out.stdout));
    (owner, slug, t.elapsed().as_secs_f64())
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| (*s).to_string()).collect()
}

/// POSTs a CSV file to the import; status, body and seconds.
async fn import(c: &reqwest::Client, ws: &str, token: &str, query: &str, csv: &str) -> (u16, Value, f64) {
    let t = Instant::now();
    let r = c
        .post(format!("{ws}/staff/bulk-import{query}"))
        .bearer_auth(token)
        .header("content-type", "text/csv")
        .body(csv.to_string())
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let body: Value = r.json().await.unwrap();
    (status, body, t.elapsed().as_secs_f64())
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

    // 1. The org at scale: members enough for the staff and for the import's new rows.
    let dir = tempfile::tempdir().unwrap();
    let members = a.staff + a.import + 1;
    let seed_a = strings(&[
        "--workspaces",
        "1",
        "--members",
        &members.to_string(),
        "--projects",
        "10",
        "--departments",
        &a.departments.to_string(),
        "--staff",
        &a.staff.to_string(),
    ]);
    let (owner, slug, seed_a_secs) = seed(&a.keel, dir.path(), &seed_a);
    let (child, base) = spawn(&a.keel, dir.path());
    let token = login(&client, &base, &owner).await;
    let ws = format!("{base}/api/v1/workspaces/{slug}");
    let tree = get_json(&client, &format!("{ws}/departments/tree"), &token).await;
    let roots: Vec<String> = tree
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["id"].as_str().unwrap().to_string())
        .collect();
    let deepest = if a.departments > 248 { 4 } else { 2 };
    let list = get_json(
        &client,
        &format!("{ws}/departments?level={deepest}&per_page=50"),
        &token,
    )
    .await;
    let deep: Vec<String> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["id"].as_str().unwrap().to_string())
        .collect();
    let n_depts = get_json(&client, &format!("{ws}/departments?per_page=1"), &token).await["total"]
        .as_i64()
        .unwrap();
    let n_staff = get_json(&client, &format!("{ws}/staff?per_page=1"), &token).await["total"]
        .as_i64()
        .unwrap();

    let (c, w, tk) = (client.clone(), ws.clone(), token.clone());
    let (tree_lat, tree_secs, tree_err) = load(
        a.reads,
        1,
        Arc::new(move |_| c.get(format!("{w}/departments/tree")).bearer_auth(&tk)),
    )
    .await;
    // The tree made again: each read follows a change of one department (the kept tree's
    // version moved), as right after somebody edits the organisation.
    let mut fresh_lat = Vec::new();
    let mut fresh_err = 0;
    for i in 0..(a.reads / 10).max(20) {
        let d = &deep[i % deep.len().max(1)];
        let r = client
            .patch(format!("{ws}/departments/{d}"))
            .bearer_auth(&token)
            .json(&serde_json::json!({"sort_order": 1000 + i}))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{}", r.status());
        let t = Instant::now();
        match client
            .get(format!("{ws}/departments/tree"))
            .bearer_auth(&token)
            .send()
            .await
        {
            Ok(r) if r.status().is_success() => {
                let _ = r.bytes().await;
                fresh_lat.push(t.elapsed());
            }
            _ => fresh_err += 1,
        }
    }
    fresh_lat.sort();
    let fresh_secs: f64 = fresh_lat.iter().map(Duration::as_secs_f64).sum();
    let (c, w, tk) = (client.clone(), ws.clone(), token.clone());
    let (roots2, deep2) = (Arc::new(roots.clone()), Arc::new(deep.clone()));
    let (staff_lat, staff_secs, staff_err) = load(
        a.reads,
        1,
        Arc::new(move |i| {
            let q = match i % 5 {
                0 => format!(
                    "department={}&subtree=true&employment_status=active,probation&sort=name",
                    roots2[i % roots2.len()]
                ),
                1 => "search=engineer&sort=-date_of_joining".to_string(),
                2 => format!("department={}", deep2[i % deep2.len().max(1)]),
                3 => "employment_status=resigned&sort=department&page=3".to_string(),
                _ => format!("page={}", 1 + i % 100),
            };
            c.get(format!("{w}/staff?{q}&per_page=50")).bearer_auth(&tk)
        }),
    )
    .await;
    let (c, w, tk) = (client.clone(), ws.clone(), token.clone());
    let (stats_lat, stats_secs, stats_err) = load(
        a.reads / 5,
        1,
        Arc::new(move |_| c.get(format!("{w}/staff/stats")).bearer_auth(&tk)),
    )
    .await;

    // The import: rows for the members that have no staff record yet, into the tree's codes.
    let tag = owner.trim_start_matches("seed0-").to_string();
    let mut good = String::from("staff_id,email,department,position,phone,date_of_joining,employment_status\n");
    for k in 0..a.import {
        let i = a.staff + 1 + k;
        good.push_str(&format!(
            "N{k:06},seed{i}-{tag},D{},Engineer,+1 555 {:04},2024-0{}-15,active\n",
            k % a.departments.max(1),
            k % 10_000,
            1 + k % 9
        ));
    }
    let bad = good.replacen(",D0,", ",NOPE,", 1);
    let (bad_status, bad_body, bad_secs) = import(&client, &ws, &token, "", &bad).await;
    assert_eq!(bad_status, 422, "{bad_body}");
    let after_bad = get_json(&client, &format!("{ws}/staff?per_page=1"), &token).await["total"]
        .as_i64()
        .unwrap();
    assert_eq!(after_bad, n_staff, "a refused import wrote rows");
    let (dry_status, dry_body, dry_secs) = import(&client, &ws, &token, "?dry_run=true", &good).await;
    assert_eq!(dry_status, 200, "{dry_body}");
    assert_eq!(dry_body["created"].as_u64(), Some(u64::from(a.import)), "{dry_body}");
    let (ok_status, ok_body, ok_secs) = import(&client, &ws, &token, "", &good).await;
    assert_eq!(ok_status, 200, "{ok_body}");
    let after = get_json(&client, &format!("{ws}/staff?per_page=1"), &token).await["total"]
        .as_i64()
        .unwrap();
    assert_eq!(after, n_staff + i64::from(a.import));
    stop(child);
    drop(dir);

    // 2. Time by department over a million work logs, with transfers.
    let dir = tempfile::tempdir().unwrap();
    let seed_b = strings(&[
        "--workspaces",
        "1",
        "--members",
        "200",
        "--projects",
        "50",
        "--issues",
        "100000",
        "--worklogs",
        &a.worklogs.to_string(),
        "--departments",
        "200",
        "--staff",
        "200",
    ]);
    let (owner, slug, seed_b_secs) = seed(&a.keel, dir.path(), &seed_b);
    let (child, base) = spawn(&a.keel, dir.path());
    let token = login(&client, &base, &owner).await;
    let ws = format!("{base}/api/v1/workspaces/{slug}");
    let today = chrono::Utc::now().date_naive();
    let from = (today - chrono::Days::new(731)).format("%Y-%m-%d").to_string();
    let to = today.format("%Y-%m-%d").to_string();
    let s = get_json(
        &client,
        &format!("{ws}/time-tracking/summary?from={from}&to={to}"),
        &token,
    )
    .await;
    let entries = s["entries"].as_i64().unwrap();
    let shown = s["by_department"].as_array().unwrap().len();
    let split: i64 = s["by_department"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["minutes"].as_i64().unwrap())
        .sum();
    assert_eq!(
        split,
        s["total_minutes"].as_i64().unwrap(),
        "every minute in one department"
    );
    let (c, w, tk) = (client.clone(), ws.clone(), token.clone());
    let (f, t2) = (from.clone(), to.clone());
    let (sum_lat, sum_secs, sum_err) = load(
        (a.reads / 5).max(20),
        1,
        Arc::new(move |i| {
            // Two years, and one quarter ending at a different day each time.
            let q = if i % 2 == 0 {
                format!("from={f}&to={t2}")
            } else {
                let end = today - chrono::Days::new(i as u64 % 300);
                let start = end - chrono::Days::new(90);
                format!("from={}&to={}", start.format("%Y-%m-%d"), end.format("%Y-%m-%d"))
            };
            c.get(format!("{w}/time-tracking/summary?{q}")).bearer_auth(&tk)
        }),
    )
    .await;
    stop(child);

    let (commit, cpu, cores) = machine();
    println!("## Organisation at scale\n");
    println!("- commit `{commit}`, machine: {cores} cores, {cpu}");
    println!(
        "- command: `cargo build --release && cargo bench --profile loadgen --bench org -- --keel target/release/keel --departments {} --staff {} --import {} --worklogs {} --reads {}`",
        a.departments, a.staff, a.import, a.worklogs, a.reads
    );
    println!(
        "- data 1: `keel seed {}`: {n_depts} departments in five levels, {n_staff} staff records (every seventh with a transfer), {members} members; seeded in {seed_a_secs:.0} s",
        seed_a.join(" ")
    );
    println!(
        "- data 2: `keel seed {}`: {entries} work logs over two years, 200 staff records in 200 departments (every seventh moved); seeded in {seed_b_secs:.0} s",
        seed_b.join(" ")
    );
    println!("- reads one at a time over HTTP on loopback, as the workspace owner (who sees private fields)\n");
    println!("| measure | result | goal |");
    println!("| --- | --- | --- |");
    println!(
        "{}",
        row(
            &format!("department tree ({n_depts} departments, nested, staff counts per node)"),
            &tree_lat,
            tree_secs,
            tree_err,
            "p99 < 20 ms"
        )
    );
    println!(
        "{}",
        row(
            &format!("department tree made again after a change ({n_depts} departments; each read after one edit)"),
            &fresh_lat,
            fresh_secs,
            fresh_err,
            ""
        )
    );
    println!(
        "{}",
        row(
            &format!("staff list with filters ({n_staff} staff; subtree + status + sort, search, one department, status + page, pages)"),
            &staff_lat,
            staff_secs,
            staff_err,
            "p99 < 20 ms"
        )
    );
    println!(
        "{}",
        row(
            "staff stats (per status, per department own and subtree)",
            &stats_lat,
            stats_secs,
            stats_err,
            ""
        )
    );
    println!(
        "| import of {} rows with one bad row: refused whole (422, {} problem(s)), nothing written | {:.2} s | all or nothing |",
        a.import,
        bad_body["error"]["rows"].as_array().map_or(0, Vec::len),
        bad_secs
    );
    println!(
        "| dry run of {} rows (every row checked, preview) | {dry_secs:.2} s | |",
        a.import
    );
    println!(
        "| import of {} rows (one transaction: profiles, private fields) | {ok_secs:.2} s | < 2 s |",
        a.import
    );
    println!(
        "{}",
        row(
            &format!("workspace time summary with by_department ({shown} departments with time; two years, and 90-day ranges)"),
            &sum_lat,
            sum_secs,
            sum_err,
            "p99 < 50 ms"
        )
    );
}
