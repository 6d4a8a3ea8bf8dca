//! Sync between real `keel` processes on loopback: pairing, offline edits on two devices
//! while the server is away, convergence to identical documents and rows when it returns.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::cli::{keel, register, start_on, Server};
use crate::helpers::dump_db;

const PASSWORD: &str = "password-123";

/// The rows that must be identical on every instance that reads the project: the
/// projection of the workspace, project and work-log documents (canonical: all columns,
/// ordered by id).
const TABLES: &[&str] = &[
    "workspaces",
    "workspace_members",
    "projects",
    "project_members",
    "states",
    "labels",
    "issues",
    "issue_assignees",
    "issue_comments",
    "issue_activity",
    "worklogs",
];

fn canonical(dir: &Path) -> Vec<(String, Vec<Value>)> {
    TABLES
        .iter()
        .map(|t| {
            (
                t.to_string(),
                dump_db(&dir.join("keel.db"), &format!("SELECT * FROM {t} ORDER BY id")),
            )
        })
        .collect()
}

async fn login(s: &Server, email: &str) -> String {
    let (st, b) = s
        .post(
            "/api/v1/auth/login",
            None,
            json!({"email": email, "password": PASSWORD}),
        )
        .await;
    assert_eq!(st, 200, "{b}");
    b["access_token"].as_str().unwrap().to_string()
}

/// Waits (bounded) until `f` holds, polling every 100 ms.
async fn eventually<F, Fut>(what: &str, limit: Duration, mut f: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let t = Instant::now();
    while t.elapsed() < limit {
        if f().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{what}: not within {limit:?}");
}

fn pair(dir: &Path, url: &str, email: &str, name: &str) {
    let out = keel(
        dir,
        &["sync", "connect", url, "--email", email, "--name", name],
        Some(PASSWORD),
    );
    assert!(
        out.status.success(),
        "pairing failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn two_devices_edit_offline_and_converge_with_the_server() {
    let (ds, da, db) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    let mut server = start_on(ds.path(), "127.0.0.1:0");
    let url = server.base.clone();
    let bind = url.trim_start_matches("http://").to_string();
    let owner = register(&server, "olivia@example.com").await;
    let member = register(&server, "mark@example.com").await;
    let (st, _) = server
        .post(
            "/api/v1/workspaces",
            Some(&owner),
            json!({"name": "Acme", "slug": "acme"}),
        )
        .await;
    assert_eq!(st, 201);
    let (st, _) = server
        .post(
            "/api/v1/workspaces/acme/members",
            Some(&owner),
            json!({"email": "mark@example.com", "role": "member"}),
        )
        .await;
    assert_eq!(st, 201);
    let (st, p) = server
        .post(
            "/api/v1/workspaces/acme/projects",
            Some(&owner),
            json!({"name": "Web", "identifier": "WEB"}),
        )
        .await;
    assert_eq!(st, 201, "{p}");
    let pid = p["id"].as_str().unwrap().to_string();
    let pp = format!("/api/v1/workspaces/acme/projects/{pid}");
    let (_, me) = server.get("/api/v1/users/me", &member).await;
    let (st, _) = server
        .post(
            &format!("{pp}/members"),
            Some(&owner),
            json!({"user_id": me["id"], "role": "member"}),
        )
        .await;
    assert_eq!(st, 201);
    let (st, first) = server
        .post(&format!("{pp}/issues"), Some(&owner), json!({"name": "Shared issue"}))
        .await;
    assert_eq!(st, 201, "{first}");
    let first_id = first["id"].as_str().unwrap().to_string();

    // Both devices pair, start and receive the workspace.
    pair(da.path(), &url, "olivia@example.com", "Olivia's laptop");
    pair(db.path(), &url, "mark@example.com", "Mark's laptop");
    let mut a = start_on(da.path(), "127.0.0.1:0");
    let mut b = start_on(db.path(), "127.0.0.1:0");
    let (ta, tb) = (
        login(&a, "olivia@example.com").await,
        login(&b, "mark@example.com").await,
    );
    for (dev, tok) in [(&a, &ta), (&b, &tb)] {
        eventually(
            "the device receives the project and its issue",
            Duration::from_secs(20),
            || async {
                let (st, list) = dev.get(&format!("{pp}/issues"), tok).await;
                st == 200 && list["total"] == 1
            },
        )
        .await;
    }
    let (_, devices) = server.get("/api/v1/users/me/devices", &owner).await;
    assert_eq!(devices.as_array().unwrap().len(), 1, "{devices}");
    assert_eq!(devices[0]["name"], "Olivia's laptop");

    // The server goes away; both devices work offline, on the same project.
    assert!(server.sigterm().success());
    let (st, ia) = a
        .post(
            &format!("{pp}/issues"),
            Some(&ta),
            json!({"name": "From Olivia's laptop"}),
        )
        .await;
    assert_eq!(st, 201, "{ia}");
    let (st, ib) = b
        .post(
            &format!("{pp}/issues"),
            Some(&tb),
            json!({"name": "From Mark's laptop"}),
        )
        .await;
    assert_eq!(st, 201, "{ib}");
    assert_eq!(ia["key"], "WEB-2");
    assert_eq!(ib["key"], "WEB-2", "both devices took the next number offline");
    let today = chrono::Utc::now().date_naive().to_string();
    for (dev, tok, minutes) in [(&a, &ta, 30), (&b, &tb, 45), (&b, &tb, 15)] {
        let (st, w) = dev
            .post(
                &format!("{pp}/issues/{first_id}/worklogs"),
                Some(tok),
                json!({"duration_minutes": minutes, "logged_at": today, "description": "offline"}),
            )
            .await;
        assert_eq!(st, 201, "{w}");
    }
    let (st, _) = a
        .post(
            &format!("{pp}/issues/{first_id}/comments"),
            Some(&ta),
            json!({"comment_html": "<p>written on a plane</p>"}),
        )
        .await;
    assert_eq!(st, 201);
    let (_, peers) = a.get("/api/v1/sync/peers", &ta).await;
    assert_eq!(peers[0]["connected"], false, "{peers}");
    assert!(peers[0]["pending"].as_i64().unwrap() >= 2, "{peers}");

    // The server returns on its address: everything converges.
    let mut server = start_on(ds.path(), &bind);
    let dirs = [ds.path(), da.path(), db.path()];
    let converged = || {
        let s = canonical(dirs[0]);
        let issues = s.iter().find(|(t, _)| t == "issues").map(|(_, r)| r.len()).unwrap_or(0);
        issues == 3 && canonical(dirs[1]) == s && canonical(dirs[2]) == s
    };
    let t = Instant::now();
    while !converged() && t.elapsed() < Duration::from_secs(30) {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    if !converged() {
        let all: Vec<_> = dirs.iter().map(|d| canonical(d)).collect();
        for (i, (table, rows)) in all[0].iter().enumerate() {
            let (ra, rb) = (&all[1][i].1, &all[2][i].1);
            if rows != ra || rows != rb {
                eprintln!(
                    "{table}: server {} rows, a {} rows, b {} rows",
                    rows.len(),
                    ra.len(),
                    rb.len()
                );
                for (n, r) in [("a", ra), ("b", rb)] {
                    for (x, y) in rows.iter().zip(r.iter()) {
                        if x != y {
                            eprintln!("  server: {x}\n  {n}: {y}");
                        }
                    }
                }
            }
        }
        panic!("the three did not converge within 30 s");
    }
    let owner = login(&server, "olivia@example.com").await;
    let (_, list) = server.get(&format!("{pp}/issues?order_by=sequence_id"), &owner).await;
    let keys: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["WEB-1", "WEB-2", "WEB-3"], "the number taken twice was resolved");
    let (_, s) = server
        .get(&format!("{pp}/issues/{first_id}/worklogs/summary"), &owner)
        .await;
    assert_eq!(s["logged_minutes"], 90, "no work log lost or duplicated: {s}");
    let (_, conflicts) = server.get("/api/v1/workspaces/acme/sync/conflicts", &owner).await;
    assert_eq!(conflicts.as_array().unwrap().len(), 1, "{conflicts}");
    let mut p = Value::Null;
    for _ in 0..100 {
        p = a.get("/api/v1/sync/peers", &ta).await.1;
        if p[0]["connected"] == true && p[0]["pending"] == 0 && p[0]["last_sync_at"].is_string() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        p[0]["connected"] == true && p[0]["pending"] == 0 && p[0]["last_sync_at"].is_string(),
        "the device reports a completed sync with nothing waiting: {p}"
    );
    for s in [&mut server, &mut a, &mut b] {
        assert!(s.sigterm().success());
    }
}
