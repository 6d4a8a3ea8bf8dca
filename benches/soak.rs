//! Soak: the real `keel serve` under a steady mix of API writes and reads for a bounded
//! time on loopback, sampling the write-ahead log, the database and the server's RSS every
//! few seconds. Before it, `keel seed` runs with its log sampled too (a bulk path).
//!
//! Run: `cargo build --release && cargo bench --profile loadgen --bench soak -- --keel target/release/keel --minutes 30`
//! Prints a Markdown section for BENCHMARKS.md and writes the plot to `--svg` (default
//! `docs/soak.svg`). The load stops by itself after `--minutes`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{get_json, login, machine, pct, rss_kib, seed_report, spawn, stop, Flags, WalPeak};
use serde_json::json;

const MB: f64 = 1_048_576.0;

struct Args {
    keel: PathBuf,
    minutes: f64,
    /// Operations started per second, half writes and half reads.
    rate: u64,
    sample_secs: u64,
    svg: PathBuf,
}

fn args() -> Args {
    let f = Flags::parse();
    Args {
        keel: f.path("keel", "target/release/keel"),
        minutes: f.num("minutes", 30.0),
        rate: f.num("rate", 100),
        sample_secs: f.num("sample-secs", 5),
        svg: f.path("svg", "docs/soak.svg"),
    }
}

fn wal_and_db(dir: &Path) -> (u64, u64) {
    let (db, wal) = keel::db::file_sizes(&dir.join("keel.db"));
    (wal, db)
}

#[derive(Clone, Copy)]
struct Sample {
    secs: f64,
    wal: u64,
    db: u64,
    rss_kib: u64,
    writes: u64,
    reads: u64,
}

/// What the load works on: the seeded workspace's projects and some of their issues.
struct World {
    base: String,
    /// Renewed by signing in again every few minutes: an access token lives 15.
    token: std::sync::RwLock<String>,
    ws: String,
    projects: Vec<(String, Vec<String>)>,
}

fn pick<T>(v: &[T], i: u64) -> &T {
    &v[(i as usize).wrapping_mul(2_654_435_761) % v.len()]
}

/// The `i`th operation: even ones write (create an issue, change one, comment, log time),
/// odd ones read (a page of issues, a project's and the workspace's time summary, an
/// issue's history).
fn request(c: &reqwest::Client, w: &World, i: u64) -> (bool, reqwest::RequestBuilder) {
    let (pid, issues) = pick(&w.projects, i / 7);
    let iid = pick(issues, i / 3);
    let p = format!("{}/api/v1/workspaces/{}/projects/{pid}", w.base, w.ws);
    let today = chrono::Utc::now().date_naive().to_string();
    let r = match (i.is_multiple_of(2), (i / 2) % 4) {
        (true, 0) => c.post(format!("{p}/issues")).json(&json!({
            "name": format!("Soak issue {i}"),
            "description_html": format!("<p>Written by the soak at operation {i}. {}</p>", "Some words for the index. ".repeat(8)),
            "priority": (["low", "medium", "high"][(i % 3) as usize]),
        })),
        (true, 1) => c
            .patch(format!("{p}/issues/{iid}"))
            .json(&json!({"name": format!("Renamed at {i}"), "priority": (["urgent", "none"][(i % 2) as usize])})),
        (true, 2) => c
            .post(format!("{p}/issues/{iid}/comments"))
            .json(&json!({"comment_html": format!("<p>Comment {i}</p>")})),
        (true, _) => c.post(format!("{p}/issues/{iid}/worklogs")).json(&json!({
            "duration_minutes": 5 + i % 240, "logged_at": today, "description": format!("soak {i}")
        })),
        (false, 0) => c.get(format!("{p}/issues?per_page=50&order_by=-updated_at")),
        (false, 1) => c.get(format!("{p}/worklogs/summary?per_page=50")),
        (false, 2) => c.get(format!("{}/api/v1/workspaces/{}/time-tracking/summary", w.base, w.ws)),
        (false, _) => c.get(format!("{p}/issues/{iid}/activity")),
    };
    let token = w.token.read().unwrap().clone();
    (i.is_multiple_of(2), r.bearer_auth(token))
}

fn svg(samples: &[Sample], path: &Path) {
    let (width, height, left, bottom) = (760.0, 300.0, 56.0, 36.0);
    let t_max = samples.last().map_or(1.0, |s| s.secs).max(1.0);
    let y_max = samples
        .iter()
        .map(|s| (s.wal.max(s.db) as f64 / MB).max(s.rss_kib as f64 / 1024.0))
        .fold(64.0, f64::max)
        * 1.1;
    let x = |t: f64| left + (width - left - 10.0) * t / t_max;
    let y = |mb: f64| height - bottom - (height - bottom - 10.0) * mb / y_max;
    let line = |f: &dyn Fn(&Sample) -> f64, color: &str| {
        let pts: Vec<String> = samples
            .iter()
            .map(|s| format!("{:.1},{:.1}", x(s.secs), y(f(s))))
            .collect();
        format!(
            "<polyline fill=\"none\" stroke=\"{color}\" stroke-width=\"2\" points=\"{}\"/>",
            pts.join(" ")
        )
    };
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
    );
    for k in 0..=4 {
        let mb = y_max * f64::from(k) / 4.0;
        out += &format!(
            "<line x1=\"{left}\" x2=\"{}\" y1=\"{:.1}\" y2=\"{:.1}\" stroke=\"#ddd\"/><text x=\"4\" y=\"{:.1}\">{mb:.0} MB</text>\n",
            width - 10.0,
            y(mb),
            y(mb),
            y(mb) + 4.0
        );
    }
    for k in 0..=6 {
        let t = t_max * f64::from(k) / 6.0;
        out += &format!(
            "<text x=\"{:.1}\" y=\"{}\" text-anchor=\"middle\">{:.0} min</text>\n",
            x(t),
            height - 14.0,
            t / 60.0
        );
    }
    let bound = 64.0; // the goal; the writer checkpoints past 16 MiB
    out += &format!(
        "<line x1=\"{left}\" x2=\"{}\" y1=\"{:.1}\" y2=\"{:.1}\" stroke=\"#c00\" stroke-dasharray=\"6 4\"/>\n",
        width - 10.0,
        y(bound),
        y(bound)
    );
    out += &line(&|s| s.wal as f64 / MB, "#d62728");
    out += &line(&|s| s.db as f64 / MB, "#1f77b4");
    out += &line(&|s| s.rss_kib as f64 / 1024.0, "#2ca02c");
    out += &format!(
        "<text x=\"{}\" y=\"24\" fill=\"#1f77b4\">database</text><text x=\"{}\" y=\"40\" fill=\"#2ca02c\">server RSS</text><text x=\"{}\" y=\"56\" fill=\"#d62728\">WAL (dashed: 64 MB goal)</text>\n</svg>\n",
        left + 12.0,
        left + 12.0,
        left + 12.0
    );
    if let Some(d) = path.parent() {
        std::fs::create_dir_all(d).unwrap();
    }
    std::fs::write(path, out).unwrap();
}

#[tokio::main]
async fn main() {
    let a = args();
    assert!(a.keel.exists(), "build the server first: cargo build --release");
    let dir = tempfile::tempdir().unwrap();

    // A bulk path first: the seed, with its log sampled every 20 ms.
    let seed_wal = WalPeak::start(dir.path());
    let t = Instant::now();
    let seed_args = [
        "--workspaces",
        "1",
        "--members",
        "20",
        "--projects",
        "10",
        "--issues",
        "2000",
        "--worklogs",
        "200000",
    ];
    let out = Command::new(&a.keel)
        .arg("--data-dir")
        .arg(dir.path())
        .arg("seed")
        .args(seed_args)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let seed_secs = t.elapsed().as_secs_f64();
    let seed_peak = seed_wal.stop();
    let (owner, slug) = seed_report(&String::from_utf8_lossy(&out.stdout));
    let (seed_wal_after, seed_db) = wal_and_db(dir.path());

    let (server, base) = spawn(&a.keel, dir.path());
    // Ends the server if the soak stops early (a failed assertion), so no stray process is
    // left competing for the cores.
    struct Guard(u32);
    impl Drop for Guard {
        fn drop(&mut self) {
            let _ = Command::new("kill").args(["-TERM", &self.0.to_string()]).status();
        }
    }
    let _guard = Guard(server.id());
    // The log's peak, sampled every 20 ms all through the soak (the 5 s samples below draw
    // the curve; a checkpoint's sawtooth passes between them).
    let soak_wal = WalPeak::start(dir.path());
    let c = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let token = login(&c, &base, &owner).await;
    let ws_url = format!("{base}/api/v1/workspaces/{slug}");
    let list = get_json(&c, &format!("{ws_url}/projects?per_page=500"), &token).await;
    let mut projects = Vec::new();
    for p in list["items"].as_array().unwrap() {
        let pid = p["id"].as_str().unwrap().to_string();
        let issues = get_json(&c, &format!("{ws_url}/projects/{pid}/issues?per_page=100"), &token).await;
        let ids: Vec<String> = issues["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["id"].as_str().unwrap().to_string())
            .collect();
        if !ids.is_empty() {
            projects.push((pid, ids));
        }
    }
    assert!(!projects.is_empty());
    let world = Arc::new(World {
        base: base.clone(),
        token: std::sync::RwLock::new(token),
        ws: slug.clone(),
        projects,
    });
    let renew = {
        let (w, c, base, owner) = (world.clone(), c.clone(), base.clone(), owner.clone());
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_secs(300)).await;
                let t = login(&c, &base, &owner).await;
                *w.token.write().unwrap() = t;
            }
        })
    };

    // The soak: `rate` operations started per second, at most 64 in flight.
    let ops = Arc::new(AtomicU64::new(0));
    let (writes, reads, errors, late) = (
        Arc::new(AtomicU64::new(0)),
        Arc::new(AtomicU64::new(0)),
        Arc::new(AtomicU64::new(0)),
        Arc::new(AtomicU64::new(0)),
    );
    let lat: Arc<Mutex<(Vec<Duration>, Vec<Duration>)>> = Arc::default();
    let sem = Arc::new(tokio::sync::Semaphore::new(64));
    let total = Duration::from_secs_f64(a.minutes * 60.0);
    let t0 = Instant::now();
    let mut samples: Vec<Sample> = Vec::new();
    let mut tick = tokio::time::interval(Duration::from_micros(1_000_000 / a.rate.max(1)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut next_sample = Duration::ZERO;
    let mut tasks = tokio::task::JoinSet::new();
    while t0.elapsed() < total {
        tick.tick().await;
        if t0.elapsed() >= next_sample {
            let (wal, db) = wal_and_db(dir.path());
            samples.push(Sample {
                secs: t0.elapsed().as_secs_f64(),
                wal,
                db,
                rss_kib: rss_kib(server.id()),
                writes: writes.load(Ordering::Relaxed),
                reads: reads.load(Ordering::Relaxed),
            });
            next_sample += Duration::from_secs(a.sample_secs);
        }
        // A soak whose requests fail measures nothing: stop at once and say so.
        assert!(
            errors.load(Ordering::Relaxed) < 50,
            "the soak's requests fail (first errors above)"
        );
        let Ok(permit) = sem.clone().try_acquire_owned() else {
            late.fetch_add(1, Ordering::Relaxed);
            continue;
        };
        let i = ops.fetch_add(1, Ordering::Relaxed);
        let (c, w, writes, reads, errors, lat) = (
            c.clone(),
            world.clone(),
            writes.clone(),
            reads.clone(),
            errors.clone(),
            lat.clone(),
        );
        tasks.spawn(async move {
            let _permit = permit;
            let (is_write, rb) = request(&c, &w, i);
            let t = Instant::now();
            match rb.send().await {
                Ok(r) if r.status().is_success() => {
                    let _ = r.bytes().await;
                    let d = t.elapsed();
                    let mut l = lat.lock().unwrap();
                    if is_write {
                        writes.fetch_add(1, Ordering::Relaxed);
                        l.0.push(d);
                    } else {
                        reads.fetch_add(1, Ordering::Relaxed);
                        l.1.push(d);
                    }
                }
                Ok(r) => {
                    if errors.fetch_add(1, Ordering::Relaxed) < 5 {
                        eprintln!("op {i}: {}", r.status());
                    }
                }
                Err(e) => {
                    if errors.fetch_add(1, Ordering::Relaxed) < 5 {
                        eprintln!("op {i}: {e}");
                    }
                }
            }
        });
        while tasks.try_join_next().is_some() {}
    }
    while tasks.join_next().await.is_some() {}
    renew.abort();
    let soak_peak = soak_wal.stop();
    let (wal, db) = wal_and_db(dir.path());
    samples.push(Sample {
        secs: t0.elapsed().as_secs_f64(),
        wal,
        db,
        rss_kib: rss_kib(server.id()),
        writes: writes.load(Ordering::Relaxed),
        reads: reads.load(Ordering::Relaxed),
    });
    let token = world.token.read().unwrap().clone();
    let health = get_json(&c, &format!("{base}/health"), &token).await;
    let count = |sql: &str| -> i64 {
        let conn = rusqlite::Connection::open_with_flags(
            dir.path().join("keel.db"),
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        )
        .unwrap();
        conn.query_row(sql, [], |r| r.get(0)).unwrap()
    };
    let rows = (
        count("SELECT COUNT(*) FROM issues"),
        count("SELECT COUNT(*) FROM issue_comments"),
        count("SELECT COUNT(*) FROM worklogs"),
    );
    stop(server);
    let (wal_after_stop, db_after_stop) = wal_and_db(dir.path());
    svg(&samples, &a.svg);

    let (mut wl, mut rl) = std::mem::take(&mut *lat.lock().unwrap());
    wl.sort();
    rl.sort();
    let max_wal = samples.iter().map(|s| s.wal).max().unwrap_or(0);
    let max_rss = samples.iter().map(|s| s.rss_kib).max().unwrap_or(0);
    let secs = samples.last().unwrap().secs;
    let (commit, cpu, cores) = machine();
    println!(
        "## Soak: storage under {:.0} minutes of steady load ({commit}, {cpu}, {cores} cores)",
        a.minutes
    );
    println!();
    println!(
        "- command: `cargo build --release && cargo bench --profile loadgen --bench soak -- --keel target/release/keel --minutes {} --rate {}`",
        a.minutes, a.rate
    );
    println!(
        "- data: `keel seed {}` ({seed_secs:.0} s); then {} operations asked for per second ({:.0}/s started) for {:.0} s, half writes (create an issue with a description, rename one, comment, log time) and half reads (a page of issues, the project's and the workspace's time summary, an issue's history), at most 64 in flight, as the seeded workspace's owner",
        seed_args.join(" "),
        a.rate,
        ops.load(Ordering::Relaxed) as f64 / secs,
        secs
    );
    println!(
        "- server and load generator on the same two cores, loopback; sizes sampled every {} s",
        a.sample_secs
    );
    println!();
    println!("| measure | result | goal |");
    println!("| --- | --- | --- |");
    println!(
        "| peak WAL during the seed (a bulk path) / after it | {:.1} MB / {:.1} MB (database {:.0} MB) | < 64 MB |",
        seed_peak as f64 / MB,
        seed_wal_after as f64 / MB,
        seed_db as f64 / MB
    );
    println!(
        "| peak WAL over the soak (sampled every 20 ms; highest 5 s sample {:.1} MB) | **{:.1} MB** | < 64 MB |",
        max_wal as f64 / MB,
        soak_peak as f64 / MB
    );
    println!("| WAL after a clean stop (SIGTERM) | {} bytes | 0 |", wal_after_stop);
    println!(
        "| database: after the seed → after the soak | {:.0} MB → {:.0} MB (+{:.0} MB for {} issues, {} comments, {} work logs in all) | grows only with the data |",
        seed_db as f64 / MB,
        db_after_stop as f64 / MB,
        (db_after_stop as f64 - seed_db as f64) / MB,
        rows.0,
        rows.1,
        rows.2
    );
    println!("| server RSS, peak sample | {:.0} MB | |", max_rss as f64 / 1024.0);
    println!(
        "| writes: done, rate, p50 / p99 | {} ({:.0}/s), {:.1} / {:.1} ms | |",
        wl.len(),
        wl.len() as f64 / secs,
        pct(&wl, 0.5),
        pct(&wl, 0.99)
    );
    println!(
        "| reads: done, rate, p50 / p99 | {} ({:.0}/s), {:.1} / {:.1} ms | |",
        rl.len(),
        rl.len() as f64 / secs,
        pct(&rl, 0.5),
        pct(&rl, 0.99)
    );
    let asked = (a.rate as f64 * secs) as u64;
    println!(
        "| errors / operations not started (64 in flight, or the generator fell behind) | {} / {} | 0 / 0 |",
        errors.load(Ordering::Relaxed),
        asked
            .saturating_sub(ops.load(Ordering::Relaxed))
            .max(late.load(Ordering::Relaxed))
    );
    println!("| `/health` at the end | storage {} | |", health["storage"]);
    println!();
    println!("| minute | WAL MB | database MB | RSS MB | writes | reads |");
    println!("| --- | --- | --- | --- | --- | --- |");
    let mut next_min = 0.0;
    for s in &samples {
        if s.secs >= next_min || std::ptr::eq(s, samples.last().unwrap()) {
            println!(
                "| {:.0} | {:.1} | {:.0} | {:.0} | {} | {} |",
                s.secs / 60.0,
                s.wal as f64 / MB,
                s.db as f64 / MB,
                s.rss_kib as f64 / 1024.0,
                s.writes,
                s.reads
            );
            next_min += if a.minutes > 10.0 { 180.0 } else { 60.0 };
        }
    }
    println!();
    println!("Plot: `{}` (WAL, database and RSS over time).", a.svg.display());
}
