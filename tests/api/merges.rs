//! Merges that break the organisation's rules, between real `keel` processes: two admins'
//! devices edit offline — one code created twice, two moves that make a cycle, two moves
//! that together nest six levels, two people flagged as one department's manager — and the
//! server repairs the merge by its deterministic rules. All three end identical, the rules
//! hold again, and every repair is listed as a resolved conflict.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::cli::{register, start_on, Server};
use crate::helpers::dump_db;
use crate::sync::{canonical, eventually, login, pair};

const D: &str = "/api/v1/workspaces/acme/departments";
const S: &str = "/api/v1/workspaces/acme/staff";

async fn dept(s: &Server, tok: &str, code: &str, n: u32, parent: Option<&str>) -> String {
    let (st, b) = s
        .post(
            D,
            Some(tok),
            json!({"name": format!("Dept {code}"), "code": code, "short_name": code, "dept_code": format!("{n:04}"),
                   "parent_id": parent}),
        )
        .await;
    assert_eq!(st, 201, "{b}");
    b["id"].as_str().unwrap().to_string()
}

/// (id → parent) of the live departments in a data dir.
fn parents(dir: &std::path::Path) -> HashMap<String, Option<String>> {
    dump_db(
        &dir.join("keel.db"),
        "SELECT id, parent_id FROM departments WHERE deleted_at IS NULL",
    )
    .into_iter()
    .map(|r| {
        (
            r["id"].as_str().unwrap().to_string(),
            r["parent_id"].as_str().map(str::to_string),
        )
    })
    .collect()
}

#[tokio::test]
async fn offline_edits_that_break_the_trees_rules_together_are_repaired_the_same_everywhere() {
    let (ds, da, db) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    let mut server = start_on(ds.path(), "127.0.0.1:0");
    let url = server.base.clone();
    let bind = url.trim_start_matches("http://").to_string();
    let owner = register(&server, "olivia@example.com").await;
    let mark = register(&server, "mark@example.com").await;
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
            json!({"email": "mark@example.com", "role": "admin"}),
        )
        .await;
    assert_eq!(st, 201);
    let (_, me_o) = server.get("/api/v1/users/me", &owner).await;
    let (_, me_m) = server.get("/api/v1/users/me", &mark).await;
    let (uo, um) = (
        me_o["id"].as_str().unwrap().to_string(),
        me_m["id"].as_str().unwrap().to_string(),
    );
    let x = dept(&server, &owner, "X", 1, None).await;
    let y = dept(&server, &owner, "Y", 2, None).await;
    let p1 = dept(&server, &owner, "P1", 3, None).await;
    let p2 = dept(&server, &owner, "P2", 4, Some(&p1)).await;
    let q1 = dept(&server, &owner, "Q1", 5, None).await;
    let _q2 = dept(&server, &owner, "Q2", 6, Some(&q1)).await;
    let r1 = dept(&server, &owner, "R1", 7, None).await;
    let r2 = dept(&server, &owner, "R2", 8, Some(&r1)).await;
    let z = dept(&server, &owner, "Z", 9, None).await;
    for (u, sid) in [(&uo, "E1"), (&um, "E2")] {
        let (st, b) = server
            .post(
                S,
                Some(&owner),
                json!({"user_id": u, "staff_id": sid, "department_id": z}),
            )
            .await;
        assert_eq!(st, 201, "{b}");
    }

    pair(da.path(), &url, "olivia@example.com", "Olivia's laptop");
    pair(db.path(), &url, "mark@example.com", "Mark's laptop");
    let a = start_on(da.path(), "127.0.0.1:0");
    let b = start_on(db.path(), "127.0.0.1:0");
    let (ta, tb) = (
        login(&a, "olivia@example.com").await,
        login(&b, "mark@example.com").await,
    );
    for (dev, tok) in [(&a, &ta), (&b, &tb)] {
        eventually(
            "the device receives the tree and the staff",
            Duration::from_secs(20),
            || async {
                let (st, l) = dev.get(&format!("{D}?per_page=1"), tok).await;
                let (st2, s) = dev.get(&format!("{S}?per_page=1"), tok).await;
                st == 200 && l["total"] == 9 && st2 == 200 && s["total"] == 2
            },
        )
        .await;
    }

    // The server goes away; each device makes changes that are valid on their own.
    assert!(server.sigterm().success());
    let ok = |r: (u16, Value)| assert_eq!(r.0, 200, "{}", r.1);
    let (st, ops_a) = a
        .post(
            D,
            Some(&ta),
            json!({"name": "Ops A", "code": "OPS", "short_name": "OPSA", "dept_code": "0500"}),
        )
        .await;
    assert_eq!(st, 201, "{ops_a}");
    let (st, ops_b) = b
        .post(
            D,
            Some(&tb),
            json!({"name": "Ops B", "code": "ops", "short_name": "OPSB", "dept_code": "0501"}),
        )
        .await;
    assert_eq!(st, 201, "{ops_b}");
    ok(a.patch(&format!("{D}/{x}"), &ta, json!({"parent_id": y})).await);
    ok(b.patch(&format!("{D}/{y}"), &tb, json!({"parent_id": x})).await);
    ok(a.patch(&format!("{D}/{q1}"), &ta, json!({"parent_id": p2})).await);
    ok(b.patch(&format!("{D}/{p1}"), &tb, json!({"parent_id": r2})).await);
    ok(
        a.patch(&format!("{S}/{uo}"), &ta, json!({"is_department_manager": true}))
            .await,
    );
    ok(
        b.patch(&format!("{S}/{um}"), &tb, json!({"is_department_manager": true}))
            .await,
    );

    // The server returns: it repairs the merge, and all three converge on the repair.
    let server = start_on(ds.path(), &bind);
    let dirs = [ds.path(), da.path(), db.path()];
    let done = || {
        let s = canonical(dirs[0]);
        let repaired = dump_db(&dirs[0].join("keel.db"), "SELECT kind FROM org_conflicts").len() >= 4;
        repaired && canonical(dirs[1]) == s && canonical(dirs[2]) == s
    };
    let t = Instant::now();
    while !done() && t.elapsed() < Duration::from_secs(40) {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(
        done(),
        "the three did not converge on a repaired tree within 40 s: {:?}",
        dump_db(
            &dirs[0].join("keel.db"),
            "SELECT kind, record_id, new_value FROM org_conflicts"
        )
    );

    // The rules hold again: codes unique, no cycle, at most five levels, one manager.
    let codes: Vec<String> = dump_db(
        &ds.path().join("keel.db"),
        "SELECT lower(code) AS c FROM departments WHERE deleted_at IS NULL",
    )
    .iter()
    .map(|r| r["c"].as_str().unwrap().to_string())
    .collect();
    assert_eq!(codes.iter().collect::<HashSet<_>>().len(), codes.len(), "{codes:?}");
    let tree = parents(ds.path());
    for id in tree.keys() {
        let (mut at, mut level) = (id.clone(), 1);
        while let Some(Some(p)) = tree.get(&at) {
            at = p.clone();
            level += 1;
            assert!(level <= 5, "{id} nests below level five (or in a cycle)");
        }
    }
    let smallest = if x < y { &x } else { &y };
    assert_eq!(tree[smallest], None, "the cycle broke at its smallest id");
    let managers = dump_db(
        &ds.path().join("keel.db"),
        "SELECT user_id FROM staff_profiles WHERE is_department_manager = 1 AND deleted_at IS NULL",
    );
    assert_eq!(managers.len(), 1, "{managers:?}");
    // The first created department keeps the code; the other takes a derived one.
    let first = if ops_a["id"].as_str() < ops_b["id"].as_str() {
        &ops_a
    } else {
        &ops_b
    };
    let (_, kept) = server
        .get(
            &format!("{D}/{}", first["id"].as_str().unwrap()),
            &login(&server, "olivia@example.com").await,
        )
        .await;
    assert_eq!(kept["code"].as_str().unwrap().to_lowercase(), "ops");
    // Every repair is listed for admins, on every instance.
    for (inst, email) in [
        (&server, "olivia@example.com"),
        (&a, "olivia@example.com"),
        (&b, "mark@example.com"),
    ] {
        let tok = login(inst, email).await;
        let (st, list) = inst.get("/api/v1/workspaces/acme/sync/conflicts", &tok).await;
        assert_eq!(st, 200);
        let kinds: HashSet<&str> = list
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["kind"].as_str().unwrap())
            .collect();
        for k in [
            "department_code_taken",
            "department_cycle",
            "department_too_deep",
            "department_manager_taken",
        ] {
            assert!(kinds.contains(k), "{k} not listed: {kinds:?}");
        }
    }
}
