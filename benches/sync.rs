//! Sync at scale, between real `keel` processes on loopback: bootstrap of a new device on a
//! workspace of 10k issues and 100k work logs, catch-up of 10k work logs logged offline,
//! and memory with 1,000 documents loaded.
//!
//! Run: `cargo build --release && cargo bench --profile loadgen --bench sync -- --keel target/release/keel`
//! Prints a Markdown section for BENCHMARKS.md. Every loop is bounded.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use common::{get_json, machine, seed_report, spawn_on as serve, status_kib, stop, Flags};
use serde_json::{json, Value};

use common::{login, WalPeak, SEED_PASSWORD as PASSWORD};

struct Args {
    keel: PathBuf,
    issues: u32,
    worklogs: u32,
    offline: usize,
}

fn args() -> Args {
    let f = Flags::parse();
    Args {
        keel: f.path("keel", "target/release/keel"),
        issues: f.num("issues", 10_000),
        worklogs: f.num("worklogs", 100_000),
        offline: f.num("offline", 10_000),
    }
}

async fn peer(c: &reqwest::Client, base: &str, token: &str) -> Value {
    let r: Value = c
        .get(format!("{base}/api/v1/sync/peers"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    r[0].clone()
}

/// Polls the device's peer status until `f` holds (at most `limit`).
async fn until(c: &reqwest::Client, base: &str, token: &str, limit: Duration, f: impl Fn(&Value) -> bool) -> Value {
    let t = Instant::now();
    loop {
        let p = peer(c, base, token).await;
        if f(&p) || t.elapsed() > limit {
            return p;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn count(dir: &Path, sql: &str) -> i64 {
    let c =
        rusqlite::Connection::open_with_flags(dir.join("keel.db"), rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
    c.query_row(sql, [], |r| r.get(0)).unwrap()
}

/// The yrs state of every document of the server, encoded whole: what a new device must get.
fn state_bytes(dir: &Path) -> (usize, u64) {
    let c =
        rusqlite::Connection::open_with_flags(dir.join("keel.db"), rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
    let ids: Vec<String> = {
        let mut s = c.prepare("SELECT id FROM documents").unwrap();
        s.query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect()
    };
    let mut total = 0u64;
    for id in &ids {
        total += keel::docs::document_state(&c, id)
            .unwrap()
            .map_or(0, |s| s.len() as u64);
    }
    (ids.len(), total)
}

#[tokio::main]
async fn main() {
    let a = args();
    assert!(a.keel.exists(), "build the server first: cargo build --release");
    let (server_dir, device_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let t = Instant::now();
    let out = Command::new(&a.keel)
        .arg("--data-dir")
        .arg(server_dir.path())
        .args(["seed", "--workspaces", "1", "--members", "200", "--projects", "50"])
        .args(["--issues", &a.issues.to_string(), "--worklogs", &a.worklogs.to_string()])
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let seed_secs = t.elapsed().as_secs_f64();
    let (owner, slug) = seed_report(&String::from_utf8_lossy(&out.stdout));
    let (docs, state) = state_bytes(server_dir.path());

    let (server, url) = serve(&a.keel, server_dir.path(), "127.0.0.1:0");
    let bind = url.trim_start_matches("http://").to_string();
    let c = reqwest::Client::new();

    // Bootstrap: pair, start the device, wait until it has taken everything.
    let out = Command::new(&a.keel)
        .arg("--data-dir")
        .arg(device_dir.path())
        .args(["sync", "connect", &url, "--email", &owner, "--name", "bench device"])
        .env("KEEL_PASSWORD", PASSWORD)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // The device's write-ahead log, sampled every 20 ms while it takes everything (a bulk
    // path: the bound must hold there too).
    let wal = WalPeak::start(device_dir.path());
    let t = Instant::now();
    let (device, dbase) = serve(&a.keel, device_dir.path(), "127.0.0.1:0");
    let dtok = login(&c, &dbase, &owner).await;
    let p = until(&c, &dbase, &dtok, Duration::from_secs(300), |p| {
        p["last_sync_ms"].is_u64()
    })
    .await;
    let boot_wall = t.elapsed().as_secs_f64();
    let wal_peak = wal.stop();
    let device_db = keel::db::file_sizes(&device_dir.path().join("keel.db")).0;
    let boot_ms = p["last_sync_ms"].as_u64().expect("the device synced");
    let boot_rx = p["bytes_received"].as_u64().unwrap();
    let device_peak = status_kib(device.id(), "VmHWM:");
    let device_rss = status_kib(device.id(), "VmRSS:");
    let (si, di) = (
        count(server_dir.path(), "SELECT COUNT(*) FROM issues"),
        count(device_dir.path(), "SELECT COUNT(*) FROM issues"),
    );
    let (sw, dw) = (
        count(server_dir.path(), "SELECT COUNT(*) FROM worklogs"),
        count(device_dir.path(), "SELECT COUNT(*) FROM worklogs"),
    );
    assert_eq!((si, sw), (di, dw), "the device holds every issue and work log");
    let server_rss_after_boot = status_kib(server.id(), "VmRSS:");

    // Catch-up: the server goes away, the device logs work offline, the server returns.
    stop(server);
    let ws = format!("{dbase}/api/v1/workspaces/{slug}");
    let projects = get_json(&c, &format!("{ws}/projects?per_page=500"), &dtok).await;
    let pid = projects["items"][0]["id"].as_str().unwrap().to_string();
    let issues = get_json(&c, &format!("{ws}/projects/{pid}/issues?per_page=1"), &dtok).await;
    let iid = issues["items"][0]["id"].as_str().unwrap().to_string();
    let path = format!("{ws}/projects/{pid}/issues/{iid}/worklogs");
    let today = chrono::Utc::now().date_naive().to_string();
    let sem = std::sync::Arc::new(tokio::sync::Semaphore::new(16));
    let mut tasks = Vec::with_capacity(a.offline);
    for i in 0..a.offline {
        let (c, path, tok, today, sem) = (c.clone(), path.clone(), dtok.clone(), today.clone(), sem.clone());
        tasks.push(tokio::spawn(async move {
            let _p = sem.acquire().await.unwrap();
            let r = c
                .post(&path)
                .bearer_auth(&tok)
                .json(&json!({"duration_minutes": 1 + i % 480, "logged_at": today, "description": format!("offline {i}")}))
                .send()
                .await
                .unwrap();
            assert!(r.status().is_success(), "{}", r.status());
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let waiting = peer(&c, &dbase, &dtok).await["pending"].as_i64().unwrap();
    let (server, _) = serve(&a.keel, server_dir.path(), &bind);
    let p = until(&c, &dbase, &dtok, Duration::from_secs(120), |p| {
        p["pending"] == 0 && p["connected"] == true && p["last_sync_ms"].is_u64() && p["bytes_sent"].as_u64() > Some(0)
    })
    .await;
    let catch_ms = p["last_sync_ms"].as_u64().unwrap();
    let catch_tx = p["bytes_sent"].as_u64().unwrap();
    let sw2 = count(server_dir.path(), "SELECT COUNT(*) FROM worklogs");
    assert_eq!(sw2, sw + a.offline as i64, "every offline log reached the server once");

    // Reconnect with nothing changed on either side: the cost of comparing manifests.
    stop(device);
    let (device, dbase) = serve(&a.keel, device_dir.path(), "127.0.0.1:0");
    let dtok = login(&c, &dbase, &owner).await;
    let p = until(&c, &dbase, &dtok, Duration::from_secs(60), |p| {
        p["last_sync_ms"].is_u64()
    })
    .await;
    let idle_ms = p["last_sync_ms"].as_u64().expect("the device synced");
    let (idle_rx, idle_tx) = (p["bytes_received"].as_u64().unwrap(), p["bytes_sent"].as_u64().unwrap());
    stop(device);

    // Memory with 1,000 documents loaded: the server's writer takes one update into each of
    // 1,000 documents (the work logs of 1,000 (project, person) pairs), all kept loaded.
    let before = status_kib(server.id(), "VmRSS:");
    let sdocs: Vec<(String, String)> = {
        let conn = rusqlite::Connection::open_with_flags(
            server_dir.path().join("keel.db"),
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        )
        .unwrap();
        let mut s = conn
            .prepare("SELECT id, workspace_id FROM documents ORDER BY id LIMIT 1000")
            .unwrap();
        s.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    stop(server);
    // Loading is measured in-process: open the data dir, load each document on the writer.
    let mut cfg = keel::Config::new(server_dir.path().to_path_buf());
    cfg.readers = 1;
    let app = keel::App::open(cfg, true).unwrap();
    let me = std::process::id();
    let rss0 = status_kib(me, "VmRSS:");
    let t = Instant::now();
    let empty = yrs::updates::encoder::Encode::encode_v1(&yrs::Update::new());
    for (id, ws) in &sdocs {
        let d = keel::sync::doc_ref(id, ws).unwrap();
        let e = empty.clone();
        app.writer
            .write(move |ctx| ctx.apply_remote(&keel::docs::Who::System, &d, &e).map(|_| ()))
            .await
            .unwrap();
    }
    let load_secs = t.elapsed().as_secs_f64();
    let rss1 = status_kib(me, "VmRSS:");

    let (commit, cpu, cores) = machine();
    println!("## Sync ({commit}, {cpu}, {cores} cores)");
    println!();
    println!(
        "- data: `keel seed --workspaces 1 --members 200 --projects 50 --issues {} --worklogs {}` ({seed_secs:.0} s): {docs} documents, {si} issues, {sw} work logs; yrs state of all documents {:.1} MB",
        a.issues, a.worklogs, state as f64 / 1_048_576.0
    );
    println!("- command: `cargo build --release && cargo bench --profile loadgen --bench sync -- --keel target/release/keel`");
    println!("- server, device and load generator on the same two cores, loopback");
    println!();
    println!("| measure | result | goal |");
    println!("| --- | --- | --- |");
    println!(
        "| bootstrap of a new device: connect to every document taken (wall time from process start: {boot_wall:.1} s) | {:.2} s | < 5 s |",
        boot_ms as f64 / 1000.0
    );
    println!(
        "| bytes on the wire for the bootstrap / yrs state size | {:.1} MB / {:.1} MB = {:.2}× | < 1.5× |",
        boot_rx as f64 / 1_048_576.0,
        state as f64 / 1_048_576.0,
        boot_rx as f64 / state as f64
    );
    println!(
        "| device peak WAL during the bootstrap (sampled every 20 ms; database after: {:.0} MB) | {:.1} MB | < 64 MB |",
        device_db as f64 / 1_048_576.0,
        wal_peak as f64 / 1_048_576.0
    );
    println!(
        "| device peak RSS during the bootstrap (RSS after) | {:.0} MB ({:.0} MB) | |",
        device_peak as f64 / 1024.0,
        device_rss as f64 / 1024.0
    );
    println!(
        "| server RSS after serving the bootstrap | {:.0} MB | |",
        server_rss_after_boot as f64 / 1024.0
    );
    println!(
        "| catch-up of {} work logs logged offline ({waiting} documents waiting): reconnect to all acknowledged | {:.2} s ({:.1} MB sent) | < 1 s |",
        a.offline,
        catch_ms as f64 / 1000.0,
        catch_tx as f64 / 1_048_576.0
    );
    println!(
        "| reconnect with nothing changed ({docs} documents; the manifests list only what changed since the last complete sync) | {:.0} ms ({:.1} KB received, {:.1} KB sent) | |",
        idle_ms as f64,
        idle_rx as f64 / 1024.0,
        idle_tx as f64 / 1024.0
    );
    println!(
        "| server RSS before the memory run | {:.0} MB | |",
        before as f64 / 1024.0
    );
    println!(
        "| memory of {} loaded documents (writer cache; RSS growth of the process) | {:.0} MB ({:.1} KB per document; loaded in {load_secs:.1} s) | |",
        sdocs.len(),
        rss1.saturating_sub(rss0) as f64 / 1024.0,
        rss1.saturating_sub(rss0) as f64 / sdocs.len() as f64
    );
}
