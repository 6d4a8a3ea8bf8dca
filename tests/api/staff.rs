//! Staff records (seed 003): fields and their rules, private fields for admins only,
//! transfers with their history, deactivation, department deletes that move people, list
//! filters and stats against brute force, the bulk import (all or nothing) and the export.

use std::collections::HashMap;

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{team, Res, Team, User};

const S: &str = "/api/v1/workspaces/acme/staff";
const D: &str = "/api/v1/workspaces/acme/departments";

async fn dept(t: &Team, code: &str, n: u32, parent: Option<&str>) -> String {
    let r = t
        .app
        .post(
            D,
            &t.o.token,
            json!({"name": format!("Dept {code}"), "code": code, "short_name": code.to_uppercase(),
                   "dept_code": format!("{n:04}"), "parent_id": parent}),
        )
        .await;
    r.ok(201)["id"].as_str().unwrap().to_string()
}

fn staff_rows(t: &Team) -> Vec<Vec<Value>> {
    vec![
        t.app.dump("SELECT * FROM staff_profiles ORDER BY id"),
        t.app.dump("SELECT * FROM staff_private ORDER BY id"),
        t.app.dump("SELECT * FROM staff_transfers ORDER BY id"),
    ]
}

/// Sends a file as the import's body.
async fn upload(t: &Team, query: &str, content_type: &str, body: impl Into<reqwest::Body>) -> Res {
    let r = t
        .app
        .client
        .request(Method::POST, t.app.url(&format!("{S}/bulk-import{query}")))
        .bearer_auth(&t.o.token)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    let text = r.text().await.unwrap();
    Res {
        status,
        body: serde_json::from_str(&text).unwrap_or(Value::String(text)),
        headers,
    }
}

async fn member(t: &Team, email: &str) -> User {
    let u = t.app.register(email).await;
    t.app.add_member(&t.o, "acme", &u, "member").await;
    u
}

#[tokio::test]
async fn a_staff_record_has_the_seeds_fields_and_private_ones_are_for_admins() {
    let t = team().await;
    let eng = dept(&t, "eng", 1, None).await;
    let r = t
        .app
        .post(
            S,
            &t.a.token,
            json!({"user_id": t.m.id, "staff_id": " E0042 ", "department_id": eng, "position": "Engineer",
                   "job_grade": "L4", "phone": "+49 (30) 123-45", "date_of_joining": "2024-03-01",
                   "employment_status": "probation", "is_department_manager": false, "notes": "referred"}),
        )
        .await;
    let s = r.ok(201).clone();
    assert_eq!(
        s["id"],
        json!(format!("{}:{}", s["workspace_id"].as_str().unwrap(), t.m.id))
    );
    assert_eq!(
        (
            &s["staff_id"],
            &s["department_name"],
            &s["employment_status"],
            &s["phone"]
        ),
        (
            &json!("E0042"),
            &json!("Dept eng"),
            &json!("probation"),
            &json!("+49 (30) 123-45")
        )
    );
    assert_eq!(s["email"], json!("member@example.com"));
    // A member sees the directory without phone, job grade and notes; a guest sees nothing.
    let seen = t.app.get(&format!("{S}/{}", t.m.id), &t.m.token).await.ok(200).clone();
    for f in ["phone", "job_grade", "notes"] {
        assert!(seen.get(f).is_none(), "{f} reached a member: {seen}");
    }
    assert_eq!(seen["position"], "Engineer");
    let listed = t.app.get(S, &t.m.token).await.ok(200).clone();
    assert!(listed["items"][0].get("phone").is_none(), "{listed}");
    assert_eq!(t.app.get(S, &t.a.token).await.ok(200)["items"][0]["notes"], "referred");
    assert_eq!(t.app.get(S, &t.g.token).await.status, 403);
    assert_eq!(t.app.get(&format!("{S}/stats"), &t.g.token).await.status, 403);
    // Members do not write.
    t.app
        .patch(&format!("{S}/{}", t.m.id), &t.m.token, json!({"position": "CTO"}))
        .await
        .err(403, "forbidden");

    // Every bad field is named at once, and nothing is written.
    let before = staff_rows(&t);
    let r = t
        .app
        .post(
            S,
            &t.a.token,
            json!({"user_id": t.a.id, "staff_id": "TOO-LONG-ID", "phone": "call me", "job_grade": "x".repeat(51),
                   "date_of_joining": "2024-02-30", "employment_status": "retired", "position": "a\u{7}b"}),
        )
        .await;
    r.err(422, "validation_failed");
    let fields = r.body["error"]["fields"].as_object().unwrap();
    for f in [
        "staff_id",
        "phone",
        "job_grade",
        "date_of_joining",
        "employment_status",
        "position",
    ] {
        assert!(fields.contains_key(f), "{f} not named: {fields:?}");
    }
    for (body, code) in [
        (json!({"user_id": t.a.id, "staff_id": "e0042"}), "staff_id_taken"),
        (json!({"user_id": t.m.id, "staff_id": "E9"}), "staff_record_exists"),
        (
            json!({"user_id": t.a.id, "staff_id": "E9", "date_of_joining": "2024-05-01",
                "date_of_leaving": "2024-04-01"}),
            "validation_failed",
        ),
        (
            json!({"user_id": t.a.id, "staff_id": "E9", "department_id": "0190aaaa-0000-7000-8000-000000000000"}),
            "validation_failed",
        ),
        (json!({"staff_id": "E9"}), "validation_failed"),
    ] {
        let r = t.app.post(S, &t.a.token, body.clone()).await;
        assert_eq!(r.code(), code, "{body}: {}", r.body);
    }
    let outsider = t.app.register("outsider@example.com").await;
    t.app
        .post(S, &t.a.token, json!({"user_id": outsider.id, "staff_id": "E9"}))
        .await
        .err(422, "validation_failed");
    assert_eq!(staff_rows(&t), before);

    // PATCH changes what it names; the person never changes; PUT clears what it omits.
    let p = format!("{S}/{}", t.m.id);
    t.app
        .patch(&p, &t.a.token, json!({"user_id": t.a.id}))
        .await
        .err(422, "validation_failed");
    let r = t
        .app
        .patch(&p, &t.a.token, json!({"position": "Lead", "notes": "promoted"}))
        .await;
    assert_eq!(
        (&r.ok(200)["position"], &r.ok(200)["job_grade"]),
        (&json!("Lead"), &json!("L4"))
    );
    let r = t.app.put(&p, &t.a.token, json!({"staff_id": "E0042"})).await;
    let s = r.ok(200);
    assert_eq!(
        (
            &s["position"],
            &s["phone"],
            &s["department_id"],
            &s["employment_status"]
        ),
        (&json!(""), &json!(""), &Value::Null, &json!("active"))
    );
    // Deleted, then made again under the same key.
    assert_eq!(t.app.delete(&p, &t.a.token).await.status, 204);
    t.app.get(&p, &t.a.token).await.err(404, "not_found");
    let r = t
        .app
        .post(S, &t.a.token, json!({"user_id": t.m.id, "staff_id": "E0043"}))
        .await;
    assert_eq!(r.ok(201)["staff_id"], "E0043");
}

#[tokio::test]
async fn transfers_keep_their_history_and_deactivation_keeps_the_person_and_time() {
    let t = team().await;
    let eng = dept(&t, "eng", 1, None).await;
    let ops = dept(&t, "ops", 2, None).await;
    let p = format!("{S}/{}", t.m.id);
    t.app
        .post(
            S,
            &t.o.token,
            json!({"user_id": t.m.id, "staff_id": "E1", "department_id": eng, "date_of_joining": "2024-01-10",
                   "is_department_manager": true}),
        )
        .await
        .ok(201);
    let r = t
        .app
        .post(
            &format!("{p}/transfer"),
            &t.o.token,
            json!({"department_id": ops, "effective_date": "2025-06-01", "reason": "Reorganisation"}),
        )
        .await;
    assert_eq!(r.ok(200)["department_id"], json!(ops));
    for (body, code) in [
        (json!({"department_id": ops}), "transfer_same_department"),
        (
            json!({"department_id": eng, "effective_date": "2023-12-31"}),
            "validation_failed",
        ),
        (
            json!({"department_id": eng, "effective_date": "June"}),
            "validation_failed",
        ),
        (json!({"effective_date": "2025-07-01"}), "validation_failed"),
    ] {
        let r = t.app.post(&format!("{p}/transfer"), &t.o.token, body.clone()).await;
        assert_eq!(r.code(), code, "{body}");
    }
    // A move takes effect now: one dated ahead is refused.
    let ahead = (chrono::Utc::now().date_naive() + chrono::Days::new(2))
        .format("%Y-%m-%d")
        .to_string();
    let r = t
        .app
        .post(
            &format!("{p}/transfer"),
            &t.o.token,
            json!({"department_id": eng, "effective_date": ahead}),
        )
        .await;
    r.err(422, "validation_failed");
    assert!(r.body["error"]["fields"].get("effective_date").is_some(), "{}", r.body);
    // History grows at its end: a move dated before the last one is refused, unwritten.
    let before = staff_rows(&t);
    let r = t
        .app
        .post(
            &format!("{p}/transfer"),
            &t.o.token,
            json!({"department_id": eng, "effective_date": "2025-05-31"}),
        )
        .await;
    r.err(422, "validation_failed");
    assert!(
        r.body["error"]["fields"]["effective_date"]
            .as_str()
            .unwrap()
            .contains("2025-06-01"),
        "{}",
        r.body
    );
    assert_eq!(staff_rows(&t), before);
    // A department changed by an edit is a transfer too.
    t.app
        .patch(&p, &t.o.token, json!({"department_id": null}))
        .await
        .ok(200);
    let h = t.app.get(&format!("{p}/transfers"), &t.o.token).await.ok(200).clone();
    let h = h.as_array().unwrap();
    assert_eq!(h.len(), 2, "{h:?}");
    assert_eq!(
        (
            &h[1]["from_department_name"],
            &h[1]["to_department_name"],
            &h[1]["reason"],
            &h[1]["effective_date"]
        ),
        (
            &json!("Dept eng"),
            &json!("Dept ops"),
            &json!("Reorganisation"),
            &json!("2025-06-01")
        )
    );
    assert_eq!(
        (&h[0]["from_department_id"], &h[0]["to_department_id"]),
        (&json!(ops), &Value::Null)
    );
    assert_eq!(t.app.get(&format!("{p}/transfers"), &t.m.token).await.status, 403);

    // Time logged before leaving stays after it.
    let pid = t.app.create_project(&t.o, "acme", "WEB", false).await;
    t.app
        .post(
            &format!("/api/v1/workspaces/acme/projects/{pid}/members"),
            &t.o.token,
            json!({"user_id": t.m.id, "role": "member"}),
        )
        .await
        .ok(201);
    let issue = t
        .app
        .post(
            &format!("/api/v1/workspaces/acme/projects/{pid}/issues"),
            &t.m.token,
            json!({"name": "Work"}),
        )
        .await
        .ok(201)["id"]
        .as_str()
        .unwrap()
        .to_string();
    t.app
        .post(
            &format!("/api/v1/workspaces/acme/projects/{pid}/issues/{issue}/worklogs"),
            &t.m.token,
            json!({"duration_minutes": 90, "logged_at": "2025-06-02"}),
        )
        .await
        .ok(201);
    let logs = t.app.dump("SELECT * FROM worklogs");
    let r = t
        .app
        .post(
            &format!("{p}/deactivate"),
            &t.o.token,
            json!({"date_of_leaving": "2026-01-31"}),
        )
        .await;
    let s = r.ok(200);
    assert_eq!(
        (
            &s["employment_status"],
            &s["date_of_leaving"],
            &s["is_department_manager"]
        ),
        (&json!("resigned"), &json!("2026-01-31"), &json!(false))
    );
    assert_eq!(t.app.dump("SELECT * FROM worklogs"), logs);
    assert_eq!(
        t.app
            .get(&format!("{p}/transfers"), &t.o.token)
            .await
            .ok(200)
            .as_array()
            .unwrap()
            .len(),
        2
    );
    t.app
        .post(&format!("{p}/deactivate"), &t.o.token, json!({}))
        .await
        .err(409, "staff_already_resigned");
    t.app
        .post(&format!("{p}/transfer"), &t.o.token, json!({"department_id": eng}))
        .await
        .err(422, "staff_inactive");
}

#[tokio::test]
async fn a_department_with_staff_is_deleted_only_by_saying_where_they_go() {
    let t = team().await;
    let eng = dept(&t, "eng", 1, None).await;
    let ops = dept(&t, "ops", 2, None).await;
    for (u, sid) in [(&t.m, "E1"), (&t.a, "E2")] {
        t.app
            .post(
                S,
                &t.o.token,
                json!({"user_id": u.id, "staff_id": sid, "department_id": eng}),
            )
            .await
            .ok(201);
    }
    // Someone who has left does not hold a department up.
    t.app
        .post(&format!("{S}/{}/deactivate", t.a.id), &t.o.token, json!({}))
        .await
        .ok(200);
    let before = (t.app.dump("SELECT * FROM departments ORDER BY id"), staff_rows(&t));
    let r = t.app.delete(&format!("{D}/{eng}"), &t.o.token).await;
    r.err(422, "department_has_staff");
    assert!(r.message().contains("1 person"), "{}", r.message());
    t.app
        .delete(&format!("{D}/{eng}?staff_to={eng}"), &t.o.token)
        .await
        .err(422, "validation_failed");
    assert_eq!(
        (t.app.dump("SELECT * FROM departments ORDER BY id"), staff_rows(&t)),
        before
    );
    assert_eq!(
        t.app
            .delete(&format!("{D}/{eng}?staff_to={ops}"), &t.o.token)
            .await
            .status,
        204
    );
    let s = t.app.get(&format!("{S}/{}", t.m.id), &t.o.token).await.ok(200).clone();
    assert_eq!(s["department_id"], json!(ops));
    let h = t
        .app
        .get(&format!("{S}/{}/transfers", t.m.id), &t.o.token)
        .await
        .ok(200)
        .clone();
    assert!(h[0]["reason"].as_str().unwrap().contains("Dept eng"), "{h}");
    // The tree counts people where they work now.
    let tree = t.app.get(&format!("{D}/tree"), &t.m.token).await.ok(200).clone();
    assert_eq!(
        (tree[0]["id"].as_str(), &tree[0]["staff_count"]),
        (Some(ops.as_str()), &json!(1))
    );
}

/// (user id, staff id, department, status)
type Person = (String, String, Option<String>, &'static str);

/// The list's filters, order and pages, the tree's counts and the stats, each against a
/// brute-force count of the same records.
#[tokio::test]
async fn lists_tree_counts_and_stats_match_brute_force() {
    let t = team().await;
    let root = dept(&t, "root", 1, None).await;
    let mid = dept(&t, "mid", 2, Some(&root)).await;
    let leaf = dept(&t, "leaf", 3, Some(&mid)).await;
    let other = dept(&t, "other", 4, None).await;
    let depts = [
        Some(root.clone()),
        Some(mid.clone()),
        Some(leaf.clone()),
        Some(other.clone()),
        None,
    ];
    let statuses = ["active", "probation", "resigned", "suspended", "transferred"];
    let mut people: Vec<Person> = Vec::new();
    for i in 0..23u32 {
        let u = member(&t, &format!("p{i:02}@example.com")).await;
        let d = depts[(i as usize * 7) % depts.len()].clone();
        let st = statuses[(i as usize * 3) % statuses.len()];
        let sid = format!("S{:03}", 100 - i);
        t.app
            .post(
                S,
                &t.o.token,
                json!({"user_id": u.id, "staff_id": sid, "department_id": d, "employment_status": st,
                       "position": if i % 4 == 0 { "Designer" } else { "Engineer" },
                       "date_of_joining": format!("2024-{:02}-01", i % 12 + 1)}),
            )
            .await
            .ok(201);
        people.push((u.id, sid, d, st));
    }
    let all_ids = |q: &str| {
        let t = &t;
        let q = q.to_string();
        async move {
            let mut ids = Vec::new();
            let mut page = 1;
            loop {
                let r = t.app.get(&format!("{S}?per_page=5&page={page}{q}"), &t.o.token).await;
                let b = r.ok(200).clone();
                ids.extend(
                    b["items"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|s| s["staff_id"].as_str().unwrap().to_string()),
                );
                if page >= b["total_pages"].as_u64().unwrap() {
                    assert_eq!(b["total"].as_u64().unwrap() as usize, ids.len(), "{q}");
                    return ids;
                }
                page += 1;
            }
        }
    };
    let brute = |f: &dyn Fn(&Person) -> bool| {
        let mut v: Vec<String> = people.iter().filter(|p| f(p)).map(|p| p.1.clone()).collect();
        v.sort();
        v
    };
    assert_eq!(all_ids("").await, brute(&|_| true));
    let sub = [root.clone(), mid.clone(), leaf.clone()];
    assert_eq!(
        all_ids(&format!("&department={mid}&subtree=true")).await,
        brute(&|p| p.2.as_deref() == Some(mid.as_str()) || p.2.as_deref() == Some(leaf.as_str()))
    );
    assert_eq!(
        all_ids(&format!("&department={root}&subtree=true")).await,
        brute(&|p| p.2.as_ref().is_some_and(|d| sub.contains(d)))
    );
    assert_eq!(
        all_ids(&format!("&department={mid}")).await,
        brute(&|p| p.2.as_deref() == Some(mid.as_str()))
    );
    assert_eq!(all_ids("&department=none").await, brute(&|p| p.2.is_none()));
    assert_eq!(
        all_ids("&employment_status=active,probation").await,
        brute(&|p| matches!(p.3, "active" | "probation"))
    );
    let designers: Vec<String> = brute(&|p| {
        let i = people.iter().position(|q| q.0 == p.0).unwrap();
        i % 4 == 0
    });
    assert_eq!(all_ids("&search=DESIGN").await, designers);
    let mut desc = brute(&|_| true);
    desc.reverse();
    assert_eq!(all_ids("&sort=-staff_id").await, desc);
    let joined = all_ids("&sort=date_of_joining").await;
    assert_eq!(joined.len(), people.len());
    for (q, field) in [
        ("?sort=age", "sort"),
        ("?employment_status=gone", "employment_status"),
        ("?subtree=true", "subtree"),
    ] {
        let r = t.app.get(&format!("{S}{q}"), &t.o.token).await;
        r.err(422, "validation_failed");
        assert!(r.body["error"]["fields"].get(field).is_some(), "{q}");
    }

    // Stats and tree counts, from the same records counted by hand.
    let stats = t.app.get(&format!("{S}/stats"), &t.m.token).await.ok(200).clone();
    let active = people.iter().filter(|p| matches!(p.3, "active" | "probation")).count() as i64;
    assert_eq!(
        (stats["total"].as_i64(), stats["active"].as_i64()),
        (Some(23), Some(active))
    );
    assert_eq!(stats["inactive"].as_i64(), Some(23 - active));
    assert!((stats["active_ratio"].as_f64().unwrap() - active as f64 / 23.0).abs() < 1e-9);
    for s in stats["by_status"].as_array().unwrap() {
        let n = people.iter().filter(|p| p.3 == s["status"]).count() as i64;
        assert_eq!(s["count"].as_i64(), Some(n), "{s}");
    }
    assert_eq!(
        stats["unassigned"].as_i64(),
        Some(people.iter().filter(|p| p.2.is_none()).count() as i64)
    );
    let under = |d: &str| -> Vec<String> {
        match d {
            x if x == root => sub.to_vec(),
            x if x == mid => vec![mid.clone(), leaf.clone()],
            x => vec![x.to_string()],
        }
    };
    let current = |s: &str| matches!(s, "active" | "probation" | "suspended");
    let mut tree_counts: HashMap<String, (i64, i64)> = HashMap::new();
    fn walk(n: &Value, out: &mut HashMap<String, (i64, i64)>) {
        out.insert(
            n["id"].as_str().unwrap().to_string(),
            (
                n["staff_count"].as_i64().unwrap(),
                n["subtree_staff_count"].as_i64().unwrap(),
            ),
        );
        for c in n["children"].as_array().unwrap() {
            walk(c, out);
        }
    }
    for n in t
        .app
        .get(&format!("{D}/tree"), &t.m.token)
        .await
        .ok(200)
        .as_array()
        .unwrap()
    {
        walk(n, &mut tree_counts);
    }
    for d in stats["by_department"].as_array().unwrap() {
        let id = d["department_id"].as_str().unwrap();
        let own = people.iter().filter(|p| p.2.as_deref() == Some(id)).count() as i64;
        let subtree = people
            .iter()
            .filter(|p| p.2.as_ref().is_some_and(|x| under(id).contains(x)))
            .count() as i64;
        let own_active = people
            .iter()
            .filter(|p| p.2.as_deref() == Some(id) && matches!(p.3, "active" | "probation"))
            .count() as i64;
        assert_eq!(
            (d["own"].as_i64(), d["subtree"].as_i64(), d["own_active"].as_i64()),
            (Some(own), Some(subtree), Some(own_active)),
            "{d}"
        );
        let cur_own = people
            .iter()
            .filter(|p| p.2.as_deref() == Some(id) && current(p.3))
            .count() as i64;
        let cur_sub = people
            .iter()
            .filter(|p| p.2.as_ref().is_some_and(|x| under(id).contains(x)) && current(p.3))
            .count() as i64;
        assert_eq!(tree_counts[id], (cur_own, cur_sub), "tree counts of {id}");
    }
}

#[tokio::test]
async fn an_import_is_all_or_nothing_and_lists_every_rows_problems() {
    let t = team().await;
    let eng = dept(&t, "eng", 1, None).await;
    let ops = dept(&t, "ops", 2, None).await;
    let p1 = member(&t, "p1@example.com").await;
    let p2 = member(&t, "p2@example.com").await;
    t.app
        .post(
            S,
            &t.o.token,
            json!({"user_id": p1.id, "staff_id": "E1", "department_id": eng, "position": "Old"}),
        )
        .await
        .ok(201);
    let before = staff_rows(&t);

    // A spreadsheet's export: BOM, `;`, a quoted newline, CRLF; and three bad rows.
    let bad = "\u{feff}Staff ID;Email;Department;Position;Notes;Employment Status;Date of joining\r\n\
               E1;P1@example.com;OPS;New;\"two\r\nlines\";active;2024-01-01\r\n\
               E2;nobody@example.com;eng;;;;\r\n\
               E3;p2@example.com;nope;;;retired;2024-13-01\r\n\
               E1;member@example.com;;;;;\r\n";
    let r = upload(&t, "", "text/csv", bad).await;
    r.err(422, "import_invalid");
    let rows = r.body["error"]["rows"].as_array().unwrap().clone();
    let got: Vec<(u64, &str, &str)> = rows
        .iter()
        .map(|e| {
            (
                e["row"].as_u64().unwrap(),
                e["column"].as_str().unwrap(),
                e["code"].as_str().unwrap(),
            )
        })
        .collect();
    for want in [
        // Numbered as a spreadsheet shows them: row 2's quoted newline starts no row.
        (3, "email", "unknown_email"),
        (4, "department", "unknown_department"),
        (4, "employment_status", "invalid_value"),
        (4, "date_of_joining", "invalid_value"),
        (5, "staff_id", "duplicate_row"),
        (5, "staff_id", "staff_id_taken"),
    ] {
        assert!(got.contains(&want), "{want:?} missing from {got:?}");
    }
    assert!(!got.iter().any(|g| g.0 == 2), "row 2 is clean: {got:?}");
    assert!(r.message().contains("3 of 4 rows"), "{}", r.message());
    assert_eq!(staff_rows(&t), before, "a bad file wrote something");

    // A dry run of a good file says what would happen and writes nothing.
    let good = "\u{feff}Staff ID;Email;Department;Position;Notes;Employment Status;Date of joining\r\n\
                E1;P1@example.com;OPS;New;\"two\r\nlines; really\";active;2024-01-01\r\n\
                E2;p2@example.com;eng;Dev;;probation;\r\n";
    let r = upload(&t, "?dry_run=true", "text/csv", good).await;
    let rep = r.ok(200).clone();
    assert_eq!(
        (&rep["dry_run"], &rep["created"], &rep["updated"], &rep["errors"]),
        (&json!(true), &json!(1), &json!(1), &json!([]))
    );
    assert_eq!(rep["preview"][0]["action"], "update");
    assert_eq!(staff_rows(&t), before, "a dry run wrote something");
    let r = upload(&t, "?dry_run=true", "text/csv", bad).await;
    assert_eq!(r.ok(200)["errors"].as_array().unwrap().len(), rows.len());

    // The import itself: one row updates E1 (and records its transfer), one creates E2.
    let r = upload(&t, "", "text/csv", good).await;
    assert_eq!((&r.ok(200)["created"], &r.ok(200)["updated"]), (&json!(1), &json!(1)));
    let e1 = t.app.get(&format!("{S}/{}", p1.id), &t.o.token).await.ok(200).clone();
    assert_eq!(
        (&e1["department_id"], &e1["position"], &e1["notes"]),
        (&json!(ops), &json!("New"), &json!("two\r\nlines; really"))
    );
    let h = t
        .app
        .get(&format!("{S}/{}/transfers", p1.id), &t.o.token)
        .await
        .ok(200)
        .clone();
    assert_eq!(h.as_array().unwrap().len(), 1);
    assert_eq!(
        t.app.get(&format!("{S}/{}", p2.id), &t.o.token).await.ok(200)["staff_id"],
        "E2"
    );
    // Importing it again changes nothing.
    let again = staff_rows(&t);
    let r = upload(&t, "", "text/csv", good).await;
    assert_eq!(r.ok(200)["unchanged"], json!(2));
    assert_eq!(staff_rows(&t), again);

    // JSON, with the same rules.
    let r = upload(
        &t,
        "",
        "application/json",
        json!([{"staff_id": "E3", "email": "admin@example.com", "is_department_manager": true,
                "department": "eng"}])
        .to_string(),
    )
    .await;
    assert_eq!(r.ok(200)["created"], json!(1));
    let r = upload(
        &t,
        "",
        "application/json",
        json!([{"staff_id": "E4", "email": "admin@example.com",
        "is_department_manager": "maybe"}])
        .to_string(),
    )
    .await;
    r.err(422, "import_invalid");

    // Files that are no staff file at all.
    let after = staff_rows(&t);
    for (ct, body, status, code) in [
        ("text/csv", b"PK\x03\x04\x14\x00".to_vec(), 415, "import_unreadable"),
        ("text/csv", b"\xff\xfe\x00s\x00t".to_vec(), 415, "import_unreadable"),
        (
            "text/csv",
            b"staff_id,email,salary\nE9,a@x.io,1\n".to_vec(),
            422,
            "validation_failed",
        ),
        ("text/csv", b"name\nA\n".to_vec(), 422, "validation_failed"),
        ("application/json", b"{\"rows\": 3}".to_vec(), 415, "import_unreadable"),
        ("application/json", b"[1, 2]".to_vec(), 415, "import_unreadable"),
    ] {
        let r = upload(&t, "", ct, body).await;
        assert_eq!((r.status, r.code()), (status, code), "{:?}", r.body);
    }
    let mut many = String::from("staff_id,email\n");
    for i in 0..20_001 {
        many.push_str(&format!("X{i},p{i}@example.com\n"));
    }
    let r = upload(&t, "", "text/csv", many).await;
    assert_eq!((r.status, r.code()), (413, "import_too_large"));
    let r = upload(&t, "", "text/csv", vec![b'a'; 9 * 1024 * 1024]).await;
    assert_eq!(r.status, 413);
    assert_eq!(staff_rows(&t), after);
}

#[tokio::test]
async fn the_export_is_safe_in_a_spreadsheet_and_imports_back_unchanged() {
    let t = team().await;
    let eng = dept(&t, "eng", 1, None).await;
    t.app
        .post(
            S,
            &t.o.token,
            json!({"user_id": t.m.id, "staff_id": "E1", "department_id": eng, "position": "=cmd|' /C calc'!A0",
                   "phone": "+1 555 0100", "notes": "@SUM(1+1)\nsecond line"}),
        )
        .await
        .ok(201);
    t.app
        .post(
            S,
            &t.o.token,
            json!({"user_id": t.a.id, "staff_id": "E2", "employment_status": "resigned"}),
        )
        .await
        .ok(201);
    let r = t
        .app
        .client
        .get(t.app.url(&format!("{S}/export?employment_status=active")))
        .bearer_auth(&t.o.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
    let text = r.text().await.unwrap();
    let mut rd = csv::Reader::from_reader(text.as_bytes());
    let recs: Vec<csv::StringRecord> = rd.records().map(Result::unwrap).collect();
    assert_eq!(recs.len(), 1, "the list's filter applies: {text}");
    for cell in recs[0].iter() {
        assert!(!cell.starts_with(['=', '+', '-', '@']), "{cell} could start a formula");
    }
    assert_eq!(&recs[0][3], "eng");
    assert_eq!(&recs[0][11], "'@SUM(1+1)\nsecond line");
    assert_eq!(t.app.get(&format!("{S}/export"), &t.m.token).await.status, 403);
    // What was exported imports back as it was.
    let before = staff_rows(&t);
    let r = upload(&t, "", "text/csv", text).await;
    assert_eq!((&r.ok(200)["unchanged"], &r.ok(200)["updated"]), (&json!(1), &json!(0)));
    assert_eq!(staff_rows(&t), before);
}

/// A device is held to the same rules: a member's device gets no staff document, and an
/// admin's device that gives a taken staff id or a profile under another key is refused.
#[tokio::test]
async fn a_device_keeps_the_rules_of_staff_records() {
    let t = team().await;
    for (u, sid) in [(&t.m, "E1"), (&t.a, "E2")] {
        t.app
            .post(S, &t.o.token, json!({"user_id": u.id, "staff_id": sid, "phone": "1"}))
            .await
            .ok(201);
    }
    let ws = t.app.get("/api/v1/workspaces/acme", &t.o.token).await.ok(200)["id"]
        .as_str()
        .unwrap()
        .to_string();
    let c = rusqlite::Connection::open(t.app.app.config.db_path()).unwrap();
    let staff_doc = keel::docs::DocRef::staff(&ws);
    for (u, read) in [(&t.m.id, false), (&t.g.id, false), (&t.a.id, true)] {
        let access = keel::sync::device_access(&c, u, &staff_doc).unwrap();
        assert_eq!((access.read, access.write), (read, read), "{u}");
    }
    let crafted = |d: &keel::docs::DocRef, table: &str, rec: &str, field: &str, value: &str| {
        use yrs::updates::decoder::Decode;
        use yrs::{Map, ReadTxn, Transact};
        let state = keel::docs::document_state(&c, &d.id).unwrap().unwrap();
        let doc = yrs::Doc::new();
        doc.transact_mut()
            .apply_update(yrs::Update::decode_v1(&state).unwrap())
            .unwrap();
        let sv = doc.transact().state_vector();
        let root = doc.get_or_insert_map(table);
        let mut txn = doc.transact_mut();
        let Some(yrs::Out::YMap(r)) = root.get(&txn, rec) else {
            panic!("no record {rec}")
        };
        r.insert(&mut txn, field.to_string(), value.to_string());
        drop(txn);
        let u = doc.transact().encode_diff_v1(&sv);
        u
    };
    let wsd = keel::docs::DocRef::workspace(&ws);
    let m_key = format!("{ws}:{}", t.m.id);
    let before = staff_rows(&t);
    for (who, d, table, field, value, code) in [
        (&t.a, &wsd, "staff_profiles", "staff_id", "e2!", "validation_failed"),
        (
            &t.a,
            &wsd,
            "staff_profiles",
            "employment_status",
            "fired",
            "validation_failed",
        ),
        (
            &t.a,
            &wsd,
            "staff_profiles",
            "user_id",
            t.a.id.as_str(),
            "immutable_field",
        ),
        (&t.m, &wsd, "staff_profiles", "position", "CEO", "forbidden"),
        (
            &t.a,
            &staff_doc,
            "staff_private",
            "phone",
            "call me",
            "validation_failed",
        ),
        (&t.m, &staff_doc, "staff_private", "notes", "mine now", "forbidden"),
    ] {
        let update = crafted(d, table, &m_key, field, value);
        let (user, dd) = (who.id.clone(), d.clone());
        let r = t
            .app
            .app
            .writer
            .write(move |ctx| ctx.apply_remote(&keel::docs::Who::User(user), &dd, &update).map(|_| ()))
            .await;
        let e = r.expect_err(field);
        assert_eq!(e.status_and_code().1, code, "{table}.{field}");
        assert_eq!(staff_rows(&t), before, "{field}: stored");
    }
    // The same rule lets an admin's good change through.
    let update = crafted(&wsd, "staff_profiles", &m_key, "position", "Lead");
    let user = t.a.id.clone();
    let w2 = wsd.clone();
    t.app
        .app
        .writer
        .write(move |ctx| ctx.apply_remote(&keel::docs::Who::User(user), &w2, &update).map(|_| ()))
        .await
        .unwrap();
    assert_eq!(
        t.app.get(&format!("{S}/{}", t.m.id), &t.m.token).await.ok(200)["position"],
        "Lead"
    );
    // A staff id another device could have freed meanwhile is taken, then repaired where it
    // arrives (as sync does): the first record keeps it, the other takes a derived one.
    let update = crafted(&wsd, "staff_profiles", &m_key, "staff_id", "e2");
    let (user, ws2) = (t.a.id.clone(), ws.clone());
    let n = t
        .app
        .app
        .writer
        .write(move |ctx| {
            ctx.apply_remote(&keel::docs::Who::User(user), &wsd, &update)?;
            keel::org::resolve_merges(ctx, &ws2)
        })
        .await
        .unwrap();
    assert_eq!(n, 1);
    let ids = t.app.dump("SELECT id, staff_id FROM staff_profiles ORDER BY id");
    let held: Vec<String> = ids
        .iter()
        .map(|r| r["staff_id"].as_str().unwrap().to_lowercase())
        .collect();
    // The admin's record (the smaller key) keeps E2.
    assert_eq!(held[0], "e2", "{ids:?}");
    assert_ne!(held[0], held[1], "no staff id held twice: {ids:?}");
    assert!(held[1].starts_with("e2") && held[1].len() == 7, "{ids:?}");
}

/// Time by department counts each minute where its person worked on that day: a transfer
/// in the middle of the range splits their time, a department's subtree adds up, people
/// without a department are shown apart — checked against the raw logs.
#[tokio::test]
async fn time_by_department_follows_transfers_and_adds_up_subtrees() {
    let t = team().await;
    let eng = dept(&t, "eng", 1, None).await;
    let plat = dept(&t, "plat", 2, Some(&eng)).await;
    let ops = dept(&t, "ops", 3, None).await;
    for (u, sid, d) in [(&t.m, "M1", &plat), (&t.o, "O1", &eng)] {
        t.app
            .post(
                S,
                &t.o.token,
                json!({"user_id": u.id, "staff_id": sid, "department_id": d, "date_of_joining": "2025-01-01"}),
            )
            .await
            .ok(201);
    }
    let pid = t.app.create_project(&t.o, "acme", "WEB", false).await;
    let base = format!("/api/v1/workspaces/acme/projects/{pid}");
    for u in [&t.m, &t.a] {
        t.app
            .post(
                &format!("{base}/members"),
                &t.o.token,
                json!({"user_id": u.id, "role": "member"}),
            )
            .await
            .ok(201);
    }
    let issue = t
        .app
        .post(&format!("{base}/issues"), &t.o.token, json!({"name": "Work"}))
        .await
        .ok(201)["id"]
        .as_str()
        .unwrap()
        .to_string();
    let log = |u: &User, day: &str, minutes: i64| {
        let (token, day, path) = (
            u.token.clone(),
            day.to_string(),
            format!("{base}/issues/{issue}/worklogs"),
        );
        let app = &t.app;
        async move {
            app.post(&path, &token, json!({"duration_minutes": minutes, "logged_at": day}))
                .await
                .ok(201);
        }
    };
    log(&t.m, "2026-01-10", 30).await;
    log(&t.m, "2026-02-15", 60).await;
    log(&t.m, "2026-03-20", 90).await;
    log(&t.a, "2026-01-05", 45).await;
    log(&t.o, "2026-03-01", 15).await;
    t.app
        .post(
            &format!("{S}/{}/transfer", t.m.id),
            &t.o.token,
            json!({"department_id": ops, "effective_date": "2026-02-01"}),
        )
        .await
        .ok(200);
    let by_dept = |q: &str| {
        let q = q.to_string();
        let t = &t;
        async move {
            let r = t
                .app
                .get(
                    &format!("/api/v1/workspaces/acme/time-tracking/summary?{q}"),
                    &t.o.token,
                )
                .await;
            let b = r.ok(200).clone();
            let total = b["total_minutes"].as_i64().unwrap();
            let rows: Vec<(Option<String>, i64, i64)> = b["by_department"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| {
                    (
                        d["department_id"].as_str().map(str::to_string),
                        d["minutes"].as_i64().unwrap(),
                        d["subtree_minutes"].as_i64().unwrap(),
                    )
                })
                .collect();
            // Every minute is in exactly one department (or none).
            assert_eq!(rows.iter().map(|r| r.1).sum::<i64>(), total, "{q}");
            rows
        }
    };
    let q1 = "from=2026-01-01&to=2026-03-31";
    assert_eq!(
        by_dept(q1).await,
        vec![
            (Some(eng.clone()), 15, 45),
            (Some(plat.clone()), 30, 30),
            (Some(ops.clone()), 150, 150),
            (None, 45, 45),
        ]
    );
    // A range that starts after the move: all of the mover's time is Ops'.
    assert_eq!(
        by_dept("from=2026-02-10&to=2026-03-31").await,
        vec![(Some(eng.clone()), 15, 15), (Some(ops.clone()), 150, 150)]
    );
    // The move's own day belongs to the department moved to; the day before, to the old one.
    log(&t.m, "2026-01-31", 5).await;
    log(&t.m, "2026-02-01", 7).await;
    assert_eq!(
        by_dept("from=2026-01-31&to=2026-02-01").await,
        vec![
            (Some(eng.clone()), 0, 5),
            (Some(plat.clone()), 5, 5),
            (Some(ops.clone()), 7, 7)
        ]
    );
    // With a project filter, from that project's logs.
    assert_eq!(
        by_dept(&format!("{q1}&project_id={pid}")).await,
        vec![
            (Some(eng.clone()), 15, 50),
            (Some(plat.clone()), 35, 35),
            (Some(ops.clone()), 157, 157),
            (None, 45, 45),
        ]
    );
    // A member sees their own time by department.
    let mine = t
        .app
        .get(
            &format!("/api/v1/workspaces/acme/time-tracking/summary?{q1}"),
            &t.m.token,
        )
        .await
        .ok(200)["by_department"]
        .clone();
    let ops_row = mine
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["department_id"] == json!(ops))
        .unwrap();
    assert_eq!(ops_row["minutes"], 157);
}

/// An import may invite the people who are not members yet: their records wait with the
/// invitations and become theirs when they accept; a staff id taken meanwhile is repaired.
#[tokio::test]
async fn an_import_invites_unknown_people_and_their_records_wait_for_them() {
    let t = team().await;
    let eng = dept(&t, "eng", 1, None).await;
    let file = "staff_id,email,department,position,phone\nN1,newcomer@example.com,eng,Engineer,+1 555 0101\n\
                N2,member@example.com,eng,Lead,\n";
    // Without asking to invite, the unknown email is a row problem.
    upload(&t, "", "text/csv", file).await.err(422, "import_invalid");
    let r = upload(&t, "?invite=true&dry_run=true", "text/csv", file).await;
    assert_eq!(r.ok(200)["preview"][0]["action"], "invite");
    assert_eq!(r.ok(200)["invited"], json!([]), "a dry run invites nobody");
    let r = upload(&t, "?invite=true", "text/csv", file).await;
    let rep = r.ok(200).clone();
    assert_eq!(
        (&rep["created"], &rep["invited"][0]["email"]),
        (&json!(1), &json!("newcomer@example.com"))
    );
    let token = rep["invited"][0]["token"].as_str().unwrap().to_string();
    assert_eq!(
        t.app.dump("SELECT * FROM staff_profiles").len(),
        1,
        "the invitee has no record yet"
    );
    // Inviting again while the invitation is pending is a row problem.
    let r = upload(&t, "?invite=true", "text/csv", file).await;
    r.err(422, "import_invalid");
    assert!(
        r.body["error"]["rows"].to_string().contains("already_invited"),
        "{}",
        r.body
    );
    // Meanwhile someone else takes N1.
    t.app
        .post(S, &t.o.token, json!({"user_id": t.a.id, "staff_id": "N1"}))
        .await
        .ok(201);
    let newcomer = t.app.register("newcomer@example.com").await;
    t.app
        .post("/api/v1/invitations/accept", &newcomer.token, json!({"token": token}))
        .await
        .ok(200);
    let s = t
        .app
        .get(&format!("{S}/{}", newcomer.id), &t.o.token)
        .await
        .ok(200)
        .clone();
    assert_eq!(
        (&s["department_id"], &s["position"], &s["phone"]),
        (&json!(eng), &json!("Engineer"), &json!("+1 555 0101"))
    );
    let ids: Vec<String> = t
        .app
        .dump("SELECT lower(staff_id) AS s FROM staff_profiles WHERE deleted_at IS NULL")
        .iter()
        .map(|r| r["s"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        ids.iter().collect::<std::collections::HashSet<_>>().len(),
        ids.len(),
        "{ids:?}"
    );
    let conflicts = t
        .app
        .get("/api/v1/workspaces/acme/sync/conflicts", &t.o.token)
        .await
        .ok(200)
        .clone();
    assert!(conflicts.to_string().contains("staff_id_taken"), "{conflicts}");
}

/// A waiting record that does not make one (a device may write any well-formed fields)
/// never keeps its invitee from joining.
#[tokio::test]
async fn a_broken_waiting_record_does_not_stop_the_invitee_joining() {
    let t = team().await;
    let r = upload(&t, "?invite=true", "text/csv", "staff_id,email\nN1,late@example.com\n").await;
    let token = r.ok(200)["invited"][0]["token"].as_str().unwrap().to_string();
    let inv = t.app.dump("SELECT id FROM staff_pending")[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let ws = t.app.get("/api/v1/workspaces/acme", &t.o.token).await.ok(200)["id"]
        .as_str()
        .unwrap()
        .to_string();
    t.app
        .app
        .writer
        .write(move |ctx| {
            ctx.edit(&keel::docs::Who::System, &keel::docs::DocRef::staff(&ws), |e| {
                e.set(
                    keel::org::records::staff_pending::SPEC,
                    &inv,
                    &[keel::org::records::staff_pending::data.to(r#"{"staff_id": "not valid!"}"#)],
                )
            })
        })
        .await
        .unwrap();
    let late = t.app.register("late@example.com").await;
    t.app
        .post("/api/v1/invitations/accept", &late.token, json!({"token": token}))
        .await
        .ok(200);
    t.app
        .get(&format!("{S}/{}", late.id), &t.o.token)
        .await
        .err(404, "not_found");
}

/// The search finds three characters or more through the trigram index (V016), in any of
/// the four fields, without case (also outside ASCII), and follows renames, deletes, a
/// rebuild and a backup; one or two characters fall back to comparing every record.
/// The staff ids a search of workspace `slug` finds, by staff id; its total must agree.
async fn found(app: &crate::helpers::TestApp, slug: &str, token: &str, q: &str) -> Vec<String> {
    let url = format!("/api/v1/workspaces/{slug}/staff?search={}&sort=staff_id", urlencode(q));
    let b = app.get(&url, token).await.ok(200).clone();
    let ids: Vec<String> = b["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["staff_id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(b["total"].as_u64().unwrap() as usize, ids.len(), "{slug} {q}");
    ids
}

/// The full-text index spans every workspace of the instance: a search finds only the
/// workspace's own records, whether its matches lead the query (fewer than the workspace's
/// records) or the workspace's index does (another workspace holds more of them).
#[tokio::test]
async fn staff_search_finds_only_the_workspaces_own_records_however_many_others_match() {
    let t = team().await;
    let other = t.app.register("owner@other.test").await;
    t.app.create_workspace(&other, "other").await;
    for i in 0..6 {
        let u = t
            .app
            .register_named(&format!("eng{i}@other.test"), &format!("Engineer {i}"))
            .await;
        t.app.add_member(&other, "other", &u, "member").await;
        t.app
            .post(
                "/api/v1/workspaces/other/staff",
                &other.token,
                json!({"user_id": u.id, "staff_id": format!("OT-{i}"), "position": "Engineer"}),
            )
            .await
            .ok(201);
    }
    for (email, name, sid, position) in [
        ("ada@example.com", "Ada Byron", "AC-1", "Engineer"),
        ("bo@example.com", "Bo Ek", "AC-2", "Designer"),
    ] {
        let u = t.app.register_named(email, name).await;
        t.app.add_member(&t.o, "acme", &u, "member").await;
        t.app
            .post(
                S,
                &t.o.token,
                json!({"user_id": u.id, "staff_id": sid, "position": position}),
            )
            .await
            .ok(201);
    }
    let find = |slug: &'static str, token: String, q: &'static str| {
        let app = &t.app;
        async move { found(app, slug, &token, q).await }
    };
    // Seven records match "engineer", six of them elsewhere: more than acme's own two, so
    // acme's index leads; "byron" matches one, which leads.
    assert_eq!(find("acme", t.o.token.clone(), "engineer").await, ["AC-1"]);
    assert_eq!(find("acme", t.o.token.clone(), "byron").await, ["AC-1"]);
    assert!(find("acme", t.o.token.clone(), "OT-").await.is_empty());
    let theirs = find("other", other.token.clone(), "engineer").await;
    assert_eq!(theirs, ["OT-0", "OT-1", "OT-2", "OT-3", "OT-4", "OT-5"]);
    assert!(find("other", other.token.clone(), "byron").await.is_empty());
}

#[tokio::test]
async fn staff_search_finds_any_field_without_case_and_follows_every_change() {
    let t = team().await;
    let mut people: Vec<User> = Vec::new();
    for (email, name, sid, position) in [
        ("angstrom@example.com", "Åsa Ångström", "SE-001", "Physicist"),
        ("zoe@example.com", "Zoë Brontë", "UK-002", "Staff Engineer"),
        ("quote@example.com", "Dan \"the man\" O'Neil", "US-003", "Designer"),
        ("li@example.com", "Li Wei", "CN-004", "Data engineer"),
    ] {
        let u = t.app.register_named(email, name).await;
        t.app.add_member(&t.o, "acme", &u, "member").await;
        t.app
            .post(
                S,
                &t.o.token,
                json!({"user_id": u.id, "staff_id": sid, "position": position}),
            )
            .await
            .ok(201);
        people.push(u);
    }
    let find = |q: &str| {
        let (t, q) = (&t, q.to_string());
        async move { found(&t.app, "acme", &t.o.token, &q).await }
    };
    // Each field, any case, outside ASCII too (the index folds Unicode case).
    assert_eq!(find("ÅNGSTRÖM").await, ["SE-001"]);
    assert_eq!(find("brontË").await, ["UK-002"]);
    assert_eq!(find("ENGINEER").await, ["CN-004", "UK-002"]);
    assert_eq!(find("uk-0").await, ["UK-002"]);
    assert_eq!(find("quote@exa").await, ["US-003"]);
    // Quotes in the text are text, not query syntax; a phrase does not run across fields.
    assert_eq!(find("\"the man\"").await, ["US-003"]);
    assert_eq!(find("o'neil").await, ["US-003"]);
    assert!(find("engineer zoë").await.is_empty());
    assert!(find("Physicist SE").await.is_empty());
    // Two characters: every record is compared (ASCII case).
    assert_eq!(find("WE").await, ["CN-004"]);
    assert_eq!(find("%").await, Vec::<String>::new());
    // Control characters are refused, not searched for (a NUL would end the query early).
    for q in ["abc%00", "ab%00c", "%07bell"] {
        let r = t.app.get(&format!("{S}?search={q}"), &t.o.token).await;
        r.err(422, "validation_failed");
        assert!(r.body["error"]["fields"].get("search").is_some(), "{q}");
    }

    // A new name is found, the old one no longer; a deleted record is not found.
    t.app
        .patch(
            "/api/v1/users/me",
            &people[3].token,
            json!({"display_name": "Wei Zhang"}),
        )
        .await
        .ok(200);
    assert_eq!(find("zhang").await, ["CN-004"]);
    assert!(find("li wei").await.is_empty());
    t.app.delete(&format!("{S}/{}", people[0].id), &t.o.token).await.ok(204);
    assert!(find("ångström").await.is_empty());
    // Made again under the same key, it is found again.
    t.app
        .post(S, &t.o.token, json!({"user_id": people[0].id, "staff_id": "SE-009"}))
        .await
        .ok(201);
    assert_eq!(find("ångström").await, ["SE-009"]);

    // A rebuild of the projection and an online backup keep what the index finds.
    let indexed = |c: &rusqlite::Connection| -> Vec<(String, String)> {
        let mut st = c
            .prepare(
                "SELECT s.id, f.name FROM staff_search f JOIN staff_profiles s ON s.rowid = f.rowid
                 WHERE staff_search MATCH '\"example\"' ORDER BY s.id",
            )
            .unwrap();
        st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap()
    };
    let db = t.app.dir.path().join("keel.db");
    let before = indexed(&rusqlite::Connection::open(&db).unwrap());
    assert_eq!(before.len(), 4);
    keel::docs::rebuild_projection_blocking(&t.app.app).unwrap();
    assert_eq!(indexed(&rusqlite::Connection::open(&db).unwrap()), before);
    let copy = tempfile::tempdir().unwrap();
    keel::db::backup_into(&db, &copy.path().join("keel.db")).unwrap();
    assert_eq!(
        indexed(&rusqlite::Connection::open(copy.path().join("keel.db")).unwrap()),
        before
    );
    assert_eq!(find("zhang").await, ["CN-004"]);
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
