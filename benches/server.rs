//! Server benchmark: cold start, idle memory, API write and read latency under concurrent
//! load, against the real `keel` binary on loopback and a `keel seed`ed data dir.
//!
//! Run: `cargo build --release && cargo bench --profile loadgen --bench server -- --keel target/release/keel`
//! Prints a Markdown section for BENCHMARKS.md. Every load loop is bounded in count.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{load, machine, pct, rss_kib, seed_report, spawn, stop, Flags};
use serde_json::{json, Value};

struct Args {
    keel: PathBuf,
    writes: usize,
    reads: usize,
    concurrency: usize,
}

fn args() -> Args {
    let f = Flags::parse();
    Args {
        keel: f.path("keel", "target/release/keel"),
        writes: f.num("writes", 20_000),
        reads: f.num("reads", 20_000),
        concurrency: f.num("concurrency", 64),
    }
}

/// Time from spawning the process to the first `/health` 200 (polling every 1 ms).
fn cold_start(keel: &Path) -> f64 {
    let dir = tempfile::tempdir().unwrap();
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let t0 = Instant::now();
    let child = Command::new(keel)
        .arg("--data-dir")
        .arg(dir.path())
        .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let ms = loop {
        if health_ok(port) {
            break t0.elapsed().as_secs_f64() * 1000.0;
        }
        assert!(t0.elapsed() < Duration::from_secs(20), "server did not come up");
        std::thread::sleep(Duration::from_millis(1));
    };
    stop(child);
    ms
}

/// One blocking `GET /health` over a plain TCP socket: true on a 200. Polling from std
/// keeps the measurement free of an HTTP client's own start-up.
fn health_ok(port: u16) -> bool {
    use std::io::{Read, Write};
    let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let req = format!("GET /health HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n");
    if s.write_all(req.as_bytes()).is_err() {
        return false;
    }
    let mut buf = String::new();
    let _ = s.read_to_string(&mut buf);
    buf.starts_with("HTTP/1.1 200")
}

#[tokio::main]
async fn main() {
    let a = args();
    assert!(
        a.keel.exists(),
        "build the server first: cargo build --release ({} missing)",
        a.keel.display()
    );
    let mut starts: Vec<f64> = (0..7).map(|_| cold_start(&a.keel)).collect();
    starts.sort_by(f64::total_cmp);

    // Seed: 10 workspaces × 200 members × 50 projects.
    let dir = tempfile::tempdir().unwrap();
    let t = Instant::now();
    let out = Command::new(&a.keel)
        .arg("--data-dir")
        .arg(dir.path())
        .args(["seed", "--workspaces", "10", "--members", "200", "--projects", "50"])
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let seed_secs = t.elapsed().as_secs_f64();
    let (owner, slug) = seed_report(&String::from_utf8_lossy(&out.stdout));

    let (child, base) = spawn(&a.keel, dir.path());
    let pid = child.id();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let idle_rss = rss_kib(pid);

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
    let projects: Value = client
        .get(format!("{base}/api/v1/workspaces/{slug}/projects?per_page=500"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ids: Arc<Vec<String>> = Arc::new(
        projects["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["id"].as_str().unwrap().to_string())
            .collect(),
    );
    assert!(!ids.is_empty());

    // Writes: PATCH a project's description; each is a yrs update + log append + projection.
    let (c2, b2, t2, i2) = (client.clone(), base.clone(), token.clone(), ids.clone());
    let s2 = slug.clone();
    let (wl, wsecs, werr) = load(
        a.writes,
        a.concurrency,
        Arc::new(move |i| {
            let id = &i2[i % i2.len()];
            c2.patch(format!("{b2}/api/v1/workspaces/{s2}/projects/{id}"))
                .bearer_auth(&t2)
                .json(&json!({"description": format!("bench write {i}")}))
        }),
    )
    .await;
    let busy_rss = rss_kib(pid);

    // Reads: one project, and the first page of the project list.
    let (c3, b3, t3, i3, s3) = (client.clone(), base.clone(), token.clone(), ids.clone(), slug.clone());
    let (rl, rsecs, rerr) = load(
        a.reads,
        a.concurrency,
        Arc::new(move |i| {
            if i % 2 == 0 {
                c3.get(format!("{b3}/api/v1/workspaces/{s3}/projects/{}", i3[i % i3.len()]))
                    .bearer_auth(&t3)
            } else {
                c3.get(format!("{b3}/api/v1/workspaces/{s3}/projects?per_page=50"))
                    .bearer_auth(&t3)
            }
        }),
    )
    .await;
    stop(child);

    let (commit, cpu, cores) = machine();
    let bin_size = std::fs::metadata(&a.keel).map(|m| m.len()).unwrap_or(0);
    println!("## Server benchmark\n");
    println!("- commit `{commit}`, machine: {cores} cores, {cpu}");
    println!("- command: `cargo build --release && cargo bench --profile loadgen --bench server -- --keel target/release/keel --writes {} --reads {} --concurrency {}`", a.writes, a.reads, a.concurrency);
    println!("- data: `keel seed --workspaces 10 --members 200 --projects 50` ({seed_secs:.1} s); SQLite `synchronous=FULL`, WAL\n");
    println!("| measure | result | goal |");
    println!("| --- | --- | --- |");
    println!("| cold start to first `/health` 200 (median of 7, fresh data dir) | {:.0} ms (min {:.0}, max {:.0}) | < 300 ms |", starts[3], starts[0], starts[6]);
    println!(
        "| idle RSS, seeded data dir | {:.1} MB | < 60 MB |",
        idle_rss as f64 / 1024.0
    );
    println!(
        "| RSS after the write and read loads | {:.1} MB | |",
        busy_rss as f64 / 1024.0
    );
    println!("| API writes ({} PATCH project, {} clients) | {:.0} writes/s, p50 {:.2} ms, p99 {:.2} ms, errors {} | ≥ 2,000/s, p99 < 20 ms |", a.writes, a.concurrency, wl.len() as f64 / wsecs, pct(&wl, 0.5), pct(&wl, 0.99), werr);
    println!("| API reads ({} GET project / project list, {} clients) | {:.0} reads/s, p50 {:.2} ms, p99 {:.2} ms, errors {} | |", a.reads, a.concurrency, rl.len() as f64 / rsecs, pct(&rl, 0.5), pct(&rl, 0.99), rerr);
    println!("| release binary size | {:.1} MB | |", bin_size as f64 / 1_048_576.0);
}
