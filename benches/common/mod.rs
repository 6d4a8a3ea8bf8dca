//! Helpers shared by the benchmark harnesses: run the real binary, load it, report.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub fn spawn(keel: &Path, dir: &Path) -> (Child, String) {
    spawn_on(keel, dir, "127.0.0.1:0")
}

/// `keel serve` on `bind`; answers the process and its base URL.
pub fn spawn_on(keel: &Path, dir: &Path, bind: &str) -> (Child, String) {
    let mut child = Command::new(keel)
        .arg("--data-dir")
        .arg(dir)
        .args([
            "serve",
            "--bind",
            bind,
            "--auth-rate-per-ip",
            "1000000",
            "--auth-rate-per-account",
            "1000000",
        ])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn keel");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let base = line
        .trim()
        .strip_prefix("Keel listening on ")
        .expect("listening line")
        .to_string();
    (child, base)
}

pub fn stop(mut c: Child) {
    let _ = Command::new("kill").args(["-TERM", &c.id().to_string()]).status();
    let _ = c.wait();
}

pub fn rss_kib(pid: u32) -> u64 {
    status_kib(pid, "VmRSS:")
}

/// A KiB field of /proc/PID/status (`VmRSS:`, `VmHWM:`), 0 if unreadable.
pub fn status_kib(pid: u32, key: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

pub fn pct(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

pub async fn load(
    n: usize,
    conc: usize,
    make: Arc<dyn Fn(usize) -> reqwest::RequestBuilder + Send + Sync>,
) -> (Vec<Duration>, f64, usize) {
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let t0 = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..conc {
        let (next, make) = (next.clone(), make.clone());
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut errors = 0;
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= n {
                    break;
                }
                let t = Instant::now();
                match make(i).send().await {
                    Ok(r) if r.status().is_success() => {
                        let _ = r.bytes().await;
                        lat.push(t.elapsed());
                    }
                    _ => errors += 1,
                }
            }
            (lat, errors)
        }));
    }
    let mut all = Vec::with_capacity(n);
    let mut errors = 0;
    for t in tasks {
        let (l, e) = t.await.unwrap();
        all.extend(l);
        errors += e;
    }
    let secs = t0.elapsed().as_secs_f64();
    all.sort();
    (all, secs, errors)
}

/// `git rev-parse --short HEAD`, the CPU model and the core count, for the report header.
pub fn machine() -> (String, String, usize) {
    let commit = Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .unwrap_or_default()
        .lines()
        .find_map(|l| {
            l.strip_prefix("model name")
                .map(|v| v.trim_start_matches([' ', '\t', ':']).to_string())
        })
        .unwrap_or_default();
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    (commit, cpu, cores)
}

/// The owner's email and the first workspace's slug from `keel seed`'s report line.
pub fn seed_report(out: &str) -> (String, String) {
    let owner = out
        .split("sign in as ")
        .nth(1)
        .unwrap()
        .split(' ')
        .next()
        .unwrap()
        .to_string();
    let slug = out
        .split("(workspace ")
        .nth(1)
        .unwrap()
        .trim()
        .trim_end_matches(')')
        .to_string();
    (owner, slug)
}

/// A harness's command line: `--name value` pairs after `cargo bench ... --` (cargo's own
/// `--bench` is skipped). Unknown names are ignored; a value that does not parse stops the
/// run with a message.
pub struct Flags(std::collections::HashMap<String, String>);

impl Flags {
    pub fn parse() -> Self {
        let mut m = std::collections::HashMap::new();
        let mut it = std::env::args().skip(1);
        while let Some(k) = it.next() {
            if k == "--bench" {
                continue;
            }
            if let Some(name) = k.strip_prefix("--") {
                let v = it.next().unwrap_or_else(|| panic!("--{name} needs a value"));
                m.insert(name.to_string(), v);
            }
        }
        Self(m)
    }

    pub fn path(&self, name: &str, default: &str) -> std::path::PathBuf {
        self.0.get(name).map_or(default, String::as_str).into()
    }

    pub fn num<T: std::str::FromStr>(&self, name: &str, default: T) -> T {
        match self.0.get(name) {
            Some(v) => v.parse().unwrap_or_else(|_| panic!("--{name} {v}: not a number")),
            None => default,
        }
    }
}

/// GET `url` as `token`, a 2xx answer's JSON body.
pub async fn get_json(client: &reqwest::Client, url: &str, token: &str) -> serde_json::Value {
    let r = client.get(url).bearer_auth(token).send().await.unwrap();
    assert!(r.status().is_success(), "{url}: {}", r.status());
    r.json().await.unwrap()
}

/// The password `keel seed` gives every account it makes.
pub const SEED_PASSWORD: &str = "keel-seed-password";

/// Signs in as a seeded account; its access token.
pub async fn login(c: &reqwest::Client, base: &str, email: &str) -> String {
    let r: serde_json::Value = c
        .post(format!("{base}/api/v1/auth/login"))
        .json(&serde_json::json!({"email": email, "password": SEED_PASSWORD}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    r["access_token"].as_str().expect("token").to_string()
}

/// The highest size of a data dir's write-ahead log, sampled every 20 ms on a thread of its
/// own until `stop` (a checkpoint's sawtooth passes between coarser samples).
pub struct WalPeak {
    peak: Arc<std::sync::atomic::AtomicU64>,
    on: Arc<std::sync::atomic::AtomicBool>,
    thread: std::thread::JoinHandle<()>,
}

impl WalPeak {
    pub fn start(dir: &Path) -> Self {
        let peak = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let on = Arc::new(std::sync::atomic::AtomicBool::new(true));
        let (p, o, db) = (peak.clone(), on.clone(), dir.join("keel.db"));
        let thread = std::thread::spawn(move || {
            while o.load(std::sync::atomic::Ordering::Relaxed) {
                p.fetch_max(keel::db::file_sizes(&db).1, std::sync::atomic::Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(20));
            }
        });
        Self { peak, on, thread }
    }

    /// Stops sampling; the peak in bytes.
    pub fn stop(self) -> u64 {
        self.on.store(false, std::sync::atomic::Ordering::Relaxed);
        self.thread.join().unwrap();
        self.peak.load(std::sync::atomic::Ordering::Relaxed)
    }
}

/// Seeds `dir` as the analytics and dashboards runs do: 1 workspace, 200 members, 50
/// projects, `issues` issues, `worklogs` work logs, 40 departments and 200 staff; the owner's
/// email, the workspace's slug and the seconds it took.
pub fn seed_scale(keel: &Path, dir: &Path, issues: u32, worklogs: u32) -> (String, String, f64) {
    let t = Instant::now();
    let out = Command::new(keel)
        .arg("--data-dir")
        .arg(dir)
        .arg("seed")
        .args(["--workspaces", "1", "--members", "200", "--projects", "50"])
        .args(["--issues", &issues.to_string(), "--worklogs", &worklogs.to_string()])
        .args(["--departments", "40", "--staff", "200"])
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let (owner, slug) = seed_report(&String::from_utf8_lossy(&out.stdout));
    (owner, slug, t.elapsed().as_secs_f64())
}
