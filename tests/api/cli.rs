//! The real `keel` binary: start, graceful stop, backup, restore, user commands, and the
//! crash test (SIGKILL under concurrent writes).

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rand::Rng;
use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_keel");

pub(crate) struct Server {
    pub child: Child,
    pub base: String,
    client: reqwest::Client,
}

fn start(dir: &Path) -> Server {
    start_on(dir, "127.0.0.1:0")
}

/// The real binary serving `dir` on `bind`; answers once it listens.
pub(crate) fn start_on(dir: &Path, bind: &str) -> Server {
    let mut child = Command::new(BIN)
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
    let stdout = child.stdout.take().expect("stdout");
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).expect("read");
    let base = line
        .trim()
        .strip_prefix("Keel listening on ")
        .unwrap_or_else(|| panic!("unexpected first line: {line:?}"))
        .to_string();
    Server {
        child,
        base,
        client: reqwest::Client::new(),
    }
}

/// A test that fails midway still ends its server: no stray process outlives the test.
impl Drop for Server {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

impl Server {
    pub(crate) async fn post(&self, path: &str, token: Option<&str>, body: Value) -> (u16, Value) {
        let mut rb = self.client.post(format!("{}{path}", self.base)).json(&body);
        if let Some(t) = token {
            rb = rb.bearer_auth(t);
        }
        let r = rb.send().await.expect("send");
        let s = r.status().as_u16();
        (s, r.json().await.unwrap_or(Value::Null))
    }
    pub(crate) async fn patch(&self, path: &str, token: &str, body: Value) -> (u16, Value) {
        self.send(self.client.patch(format!("{}{path}", self.base)), token, body)
            .await
    }
    pub(crate) async fn put(&self, path: &str, token: &str, body: Value) -> (u16, Value) {
        self.send(self.client.put(format!("{}{path}", self.base)), token, body)
            .await
    }
    async fn send(&self, rb: reqwest::RequestBuilder, token: &str, body: Value) -> (u16, Value) {
        let r = rb.bearer_auth(token).json(&body).send().await.expect("send");
        let s = r.status().as_u16();
        (s, r.json().await.unwrap_or(Value::Null))
    }
    pub(crate) async fn get(&self, path: &str, token: &str) -> (u16, Value) {
        let r = self
            .client
            .get(format!("{}{path}", self.base))
            .bearer_auth(token)
            .send()
            .await
            .expect("send");
        let s = r.status().as_u16();
        (s, r.json().await.unwrap_or(Value::Null))
    }
    pub(crate) async fn delete(&self, path: &str, token: &str) -> u16 {
        let r = self
            .client
            .delete(format!("{}{path}", self.base))
            .bearer_auth(token)
            .send()
            .await
            .expect("send");
        r.status().as_u16()
    }
    pub(crate) fn sigterm(&mut self) -> std::process::ExitStatus {
        let st = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill");
        assert!(st.success());
        self.child.wait().expect("wait")
    }
}

pub(crate) fn keel(dir: &Path, args: &[&str], password: Option<&str>) -> std::process::Output {
    let mut c = Command::new(BIN);
    c.arg("--data-dir").arg(dir).args(args).env("RUST_LOG", "warn");
    if let Some(p) = password {
        c.env("KEEL_PASSWORD", p);
    }
    c.output().expect("run keel")
}

pub(crate) async fn register(s: &Server, email: &str) -> String {
    let (st, b) = s
        .post(
            "/api/v1/auth/register",
            None,
            json!({"email": email, "password": "password-123", "display_name": "X"}),
        )
        .await;
    assert_eq!(st, 201, "{b}");
    b["access_token"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn serve_stops_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = start(dir.path());
    let r = s.client.get(format!("{}/health", s.base)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let st = s.sigterm();
    assert!(st.success(), "exit status {st:?}");
    // The data dir is free again: a second server can take it.
    let mut s2 = start(dir.path());
    assert!(s2.sigterm().success());
}

/// Under continuous writes from 8 clients and reads alongside, the write-ahead log stays
/// near the writer's bound (`db::WAL_CHECKPOINT_AT`), `/health` reports it, and a clean
/// stop leaves it empty. Without the bound the passive checkpointer never reached the end
/// of a log that was always being written, and the file only grew.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_wal_stays_bounded_under_load_and_is_empty_after_a_clean_stop() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("keel.db");
    let mut s = start(dir.path());
    let token = register(&s, "wal@example.com").await;
    let (st, _) = s
        .post(
            "/api/v1/workspaces",
            Some(&token),
            json!({"name": "Wal", "slug": "wal"}),
        )
        .await;
    assert_eq!(st, 201);
    let (st, p) = s
        .post(
            "/api/v1/workspaces/wal/projects",
            Some(&token),
            json!({"name": "Wal", "identifier": "WAL"}),
        )
        .await;
    assert_eq!(st, 201);
    let issues = format!("/api/v1/workspaces/wal/projects/{}/issues", p["id"].as_str().unwrap());
    // The bound plus what one held-up checkpoint lets through; unbounded, this load left 90 MB.
    let bound = keel::db::WAL_CHECKPOINT_AT + (32 << 20);
    let written = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let peak = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let mut tasks = Vec::new();
    for client in 0..8 {
        let (base, token, issues, written, peak, db) = (
            s.base.clone(),
            token.clone(),
            issues.clone(),
            written.clone(),
            peak.clone(),
            db.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let http = reqwest::Client::new();
            let body = "<p>".to_string() + &"A long description that the search index takes in. ".repeat(40) + "</p>";
            for i in 0..150 {
                let r = http
                    .post(format!("{base}{issues}"))
                    .bearer_auth(&token)
                    .json(&json!({"name": format!("Issue {client}-{i}"), "description_html": body}))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status().as_u16(), 201);
                // Reads alongside, as a team's browsers make them.
                let r = http
                    .get(format!("{base}{issues}?per_page=50"))
                    .bearer_auth(&token)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status().as_u16(), 200);
                written.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let (_, wal) = keel::db::file_sizes(&db);
                peak.fetch_max(wal, std::sync::atomic::Ordering::Relaxed);
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let peak = peak.load(std::sync::atomic::Ordering::Relaxed);
    let (db_bytes, _) = keel::db::file_sizes(&db);
    // The load wrote far more log than the bound: the bound did the work, not a small load.
    let issues_written: i64 = {
        let c = rusqlite::Connection::open(&db).unwrap();
        c.query_row("SELECT COUNT(*) FROM issues", [], |r| r.get(0)).unwrap()
    };
    assert_eq!(issues_written, 1200);
    assert!(
        peak <= bound,
        "the WAL reached {peak} bytes (bound {bound}; database {db_bytes})"
    );
    let (st, h) = s.get("/health", &token).await;
    assert_eq!(st, 200);
    assert_eq!(h["storage"]["db_bytes"].as_u64(), Some(keel::db::file_sizes(&db).0));
    assert!(h["storage"]["wal_bytes"].as_u64().unwrap() <= bound, "{h}");
    assert_eq!(
        h["storage"]["wal_checkpoint_bytes"].as_u64(),
        Some(keel::db::WAL_CHECKPOINT_AT)
    );
    assert!(s.sigterm().success());
    let wal = keel::db::file_sizes(&db).1;
    assert_eq!(wal, 0, "a clean stop left {wal} bytes of log");
    keel::db::integrity_check(&db).unwrap();
    eprintln!(
        "peak WAL {peak} bytes over {} writes; database {db_bytes} bytes",
        written.load(std::sync::atomic::Ordering::Relaxed)
    );
}

#[tokio::test]
async fn secrets_are_private_and_never_a_fixed_default() {
    let d1 = tempfile::tempdir().unwrap();
    let d2 = tempfile::tempdir().unwrap();
    for d in [&d1, &d2] {
        let out = keel(d.path(), &["migrate"], None);
        assert!(out.status.success());
        let mut s = start(d.path());
        s.sigterm();
    }
    let k1 = std::fs::read(d1.path().join("secret.key")).unwrap();
    let k2 = std::fs::read(d2.path().join("secret.key")).unwrap();
    assert_ne!(k1, k2);
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(d1.path().join("secret.key"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
}

#[tokio::test]
async fn backup_while_running_and_restore_only_when_stopped() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = tempfile::tempdir().unwrap();
    let backup = out_dir.path().join("keel-backup.db");
    let mut s = start(dir.path());
    let t = register(&s, "ann@example.com").await;
    assert_eq!(
        s.post("/api/v1/workspaces", Some(&t), json!({"name": "A", "slug": "before"}))
            .await
            .0,
        201
    );

    let out = keel(dir.path(), &["backup", backup.to_str().unwrap()], None);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // Refuses to overwrite.
    let again = keel(dir.path(), &["backup", backup.to_str().unwrap()], None);
    assert!(!again.status.success());

    assert_eq!(
        s.post("/api/v1/workspaces", Some(&t), json!({"name": "B", "slug": "after"}))
            .await
            .0,
        201
    );
    let refused = keel(dir.path(), &["restore", backup.to_str().unwrap()], None);
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("another Keel process"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    assert!(s.sigterm().success());

    // Not a database: refused, nothing changed.
    let junk = out_dir.path().join("junk.db");
    std::fs::write(&junk, b"this is not sqlite").unwrap();
    assert!(!keel(dir.path(), &["restore", junk.to_str().unwrap()], None)
        .status
        .success());

    let out = keel(dir.path(), &["restore", backup.to_str().unwrap()], None);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let s = start(dir.path());
    let (st, b) = s.get("/api/v1/workspaces", &t).await;
    assert_eq!(st, 200, "{b}");
    let slugs: Vec<&str> = b["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["slug"].as_str().unwrap())
        .collect();
    assert_eq!(slugs, ["before"]);
    let mut s = s;
    s.sigterm();
}

#[tokio::test]
async fn user_create_and_reset_password_from_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let out = keel(
        dir.path(),
        &["user", "create", "--email", "Ops@Example.com", "--name", "Ops"],
        Some("first-password"),
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("instance admin"));
    let dup = keel(
        dir.path(),
        &["user", "create", "--email", "ops@example.com", "--name", "Ops"],
        Some("first-password"),
    );
    assert!(!dup.status.success());
    let weak = keel(
        dir.path(),
        &["user", "create", "--email", "b@example.com", "--name", "B"],
        Some("short"),
    );
    assert!(!weak.status.success());

    let mut s = start(dir.path());
    let (st, b) = s
        .post(
            "/api/v1/auth/login",
            None,
            json!({"email": "ops@example.com", "password": "first-password"}),
        )
        .await;
    assert_eq!(st, 200, "{b}");
    let old = b["access_token"].as_str().unwrap().to_string();

    let out = keel(
        dir.path(),
        &["user", "reset-password", "--email", "ops@example.com"],
        Some("second-password"),
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(
        s.get("/api/v1/users/me", &old).await.0,
        401,
        "sessions are revoked by a reset"
    );
    assert_eq!(
        s.post(
            "/api/v1/auth/login",
            None,
            json!({"email": "ops@example.com", "password": "first-password"})
        )
        .await
        .0,
        401
    );
    assert_eq!(
        s.post(
            "/api/v1/auth/login",
            None,
            json!({"email": "ops@example.com", "password": "second-password"})
        )
        .await
        .0,
        200
    );
    let missing = keel(
        dir.path(),
        &["user", "reset-password", "--email", "nobody@example.com"],
        Some("second-password"),
    );
    assert!(!missing.status.success());
    s.sigterm();
}

/// Kills the real server with SIGKILL at random moments under concurrent writes, 20 times.
/// After every restart the database passes `integrity_check` and every acknowledged write
/// is there exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crash_test_sigkill_under_concurrent_writes() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("keel.db");
    let acked: Arc<Mutex<Vec<String>>> = Arc::default();
    let counter = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let mut token = String::new();
    let mut total_acked_per_cycle = Vec::new();
    for cycle in 0..20 {
        let mut s = start(dir.path());
        if cycle == 0 {
            token = register(&s, "crash@example.com").await;
            let (st, _) = s
                .post(
                    "/api/v1/workspaces",
                    Some(&token),
                    json!({"name": "Crash", "slug": "crash"}),
                )
                .await;
            assert_eq!(st, 201);
        }
        let base = Arc::new(s.base.clone());
        let mut tasks = Vec::new();
        for _ in 0..8 {
            let (acked, counter, base, token) = (acked.clone(), counter.clone(), base.clone(), token.clone());
            tasks.push(tokio::spawn(async move {
                let client = reqwest::Client::builder()
                    .timeout(Duration::from_secs(5))
                    .build()
                    .unwrap();
                loop {
                    let n = counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    let ident = format!("K{n:X}");
                    let r = client
                        .post(format!("{base}/api/v1/workspaces/crash/projects"))
                        .bearer_auth(&token)
                        .json(&json!({"name": ident, "identifier": ident}))
                        .send()
                        .await;
                    match r {
                        Ok(r) if r.status().as_u16() == 201 => acked.lock().unwrap().push(ident),
                        Ok(r) => panic!("unexpected status {}", r.status()),
                        Err(_) => return, // the server died mid-request
                    }
                }
            }));
        }
        let wait_ms = rand::thread_rng().gen_range(30..400);
        tokio::time::sleep(Duration::from_millis(wait_ms)).await;
        s.child.kill().expect("SIGKILL");
        s.child.wait().expect("wait");
        for t in tasks {
            t.await.expect("writer task");
        }

        keel::db::integrity_check(&db).unwrap_or_else(|e| panic!("cycle {cycle}: {e}"));
        let c = rusqlite::Connection::open(&db).unwrap();
        let mut stmt = c
            .prepare("SELECT p.identifier, COUNT(*), SUM(d.id IS NOT NULL) FROM projects p LEFT JOIN documents d ON d.id = 'project:' || p.id GROUP BY p.identifier")
            .unwrap();
        let rows: std::collections::HashMap<String, (i64, i64)> = stmt
            .query_map([], |r| Ok((r.get::<_, String>(0)?, (r.get(1)?, r.get(2)?))))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let acked = acked.lock().unwrap();
        total_acked_per_cycle.push(acked.len());
        for ident in acked.iter() {
            assert_eq!(
                rows.get(ident),
                Some(&(1, 1)),
                "cycle {cycle}: acknowledged project {ident} must be present exactly once with its document"
            );
        }
    }
    let acked = acked.lock().unwrap().len();
    assert!(
        acked > 100,
        "the writers got {acked} writes acknowledged over 20 cycles: {total_acked_per_cycle:?}"
    );
}

/// A running timer is data, not process state: it survives the server being killed and
/// restarted, and stopping it afterwards logs the time on its issue.
#[tokio::test]
async fn a_running_timer_survives_a_crash_and_restart() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = start(dir.path());
    let token = register(&s, "timer@example.com").await;
    let (st, _) = s
        .post(
            "/api/v1/workspaces",
            Some(&token),
            json!({"name": "Timers", "slug": "timers"}),
        )
        .await;
    assert_eq!(st, 201);
    let (st, p) = s
        .post(
            "/api/v1/workspaces/timers/projects",
            Some(&token),
            json!({"name": "Timer", "identifier": "TIM"}),
        )
        .await;
    assert_eq!(st, 201, "{p}");
    let base = format!("/api/v1/workspaces/timers/projects/{}", p["id"].as_str().unwrap());
    let (st, issue) = s
        .post(&format!("{base}/issues"), Some(&token), json!({"name": "Long task"}))
        .await;
    assert_eq!(st, 201, "{issue}");
    let ip = format!("{base}/issues/{}", issue["id"].as_str().unwrap());
    let (st, timer) = s
        .post(
            &format!("{ip}/timer"),
            Some(&token),
            json!({"description": "before the crash"}),
        )
        .await;
    assert_eq!(st, 201, "{timer}");

    s.child.kill().unwrap(); // SIGKILL: no graceful shutdown
    s.child.wait().unwrap();
    let mut s = start(dir.path());
    let (st, cur) = s.get("/api/v1/users/me/timer", &token).await;
    assert_eq!(st, 200);
    assert_eq!(cur["timer"]["id"], timer["id"]);
    assert_eq!(cur["timer"]["started_at"], timer["started_at"]);
    assert_eq!(cur["timer"]["description"], "before the crash");
    let (st, log) = s.post("/api/v1/users/me/timer/stop", Some(&token), json!({})).await;
    assert_eq!(st, 201, "{log}");
    assert_eq!(log["issue_key"], "TIM-1");
    assert_eq!(log["description"], "before the crash");
    let (_, logs) = s.get(&format!("{ip}/worklogs"), &token).await;
    assert_eq!(logs["total"], 1);
    let (_, cur) = s.get("/api/v1/users/me/timer", &token).await;
    assert!(cur["timer"].is_null());
    assert!(s.sigterm().success());
}
