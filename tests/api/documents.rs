//! The one write path: every write lands in a yrs document's log, the projection can be
//! rebuilt from the documents, and logs compact.

use keel::issues::records::issues;
use keel::org::records::departments;
use keel::work::records::projects;
use serde_json::json;

use crate::helpers::TestApp;

/// Every projected table.
fn tables() -> Vec<&'static str> {
    keel::docs::TABLES.iter().map(|t| t.name).collect()
}

/// Every projected table, then the tables derived from them by triggers (rollups, and what
/// full-text search finds), which a rebuild must restore too.
fn dump_all(app: &TestApp) -> Vec<Vec<serde_json::Value>> {
    let mut out: Vec<Vec<serde_json::Value>> = tables()
        .iter()
        .map(|t| app.dump(&format!("SELECT * FROM {t} ORDER BY id")))
        .collect();
    out.push(app.dump("SELECT * FROM worklog_project_day ORDER BY workspace_id, day, project_id"));
    out.push(app.dump("SELECT * FROM worklog_user_day ORDER BY workspace_id, day, user_id"));
    out.push(app.dump(
        "SELECT i.id FROM issues_fts f JOIN issues i ON i.rowid = f.rowid WHERE issues_fts MATCH 'needle' ORDER BY i.id",
    ));
    out.push(app.dump(
        "SELECT c.id FROM comments_fts f JOIN issue_comments c ON c.rowid = f.rowid WHERE comments_fts MATCH 'haystack' ORDER BY c.id",
    ));
    out.push(app.dump(
        "SELECT s.id, f.name FROM staff_search f JOIN staff_profiles s ON s.rowid = f.rowid WHERE staff_search MATCH '\"ngine\"' ORDER BY s.id",
    ));
    out
}

/// Rows that `rebuild_projection` itself writes (the derived tables are not counted).
fn projected_rows(dump: &[Vec<serde_json::Value>]) -> usize {
    dump.iter().take(tables().len()).map(Vec::len).sum()
}

pub(crate) async fn busy_workspace(app: &TestApp) {
    let o = app.register("owner@example.com").await;
    let m = app.register("member@example.com").await;
    app.create_workspace(&o, "acme").await;
    app.add_member(&o, "acme", &m, "member").await;
    app.patch(
        &format!("/api/v1/workspaces/acme/members/{}", m.id),
        &o.token,
        json!({"role": "admin"}),
    )
    .await
    .ok(200);
    app.post(
        "/api/v1/workspaces/acme/invitations",
        &o.token,
        json!({"email": "c@example.com", "role": "guest"}),
    )
    .await
    .ok(201);
    // A licence for the workspace (signed with the test key).
    let display = app.get("/api/v1/workspaces/acme", &o.token).await.ok(200)["display_id"]
        .as_str()
        .unwrap()
        .to_string();
    app.put(
        "/api/v1/workspaces/acme/licence",
        &o.token,
        json!({"licence": crate::plans::test_licence(&display)}),
    )
    .await
    .ok(200);
    // Two departments, one below the other, the child managed by the member.
    let eng = app
        .post(
            "/api/v1/workspaces/acme/departments",
            &o.token,
            json!({"name": "Engineering", "code": "ENG", "short_name": "ENG", "dept_code": "1000"}),
        )
        .await
        .ok(201)["id"]
        .as_str()
        .unwrap()
        .to_string();
    let plat = app
        .post(
            "/api/v1/workspaces/acme/departments",
            &o.token,
            json!({"name": "Platform", "code": "PLAT", "short_name": "PLT", "dept_code": "1100",
                   "parent_id": eng, "manager_id": m.id}),
        )
        .await
        .ok(201)["id"]
        .as_str()
        .unwrap()
        .to_string();
    // Staff records of both, with private fields, and a transfer in the history.
    for (u, sid, dept) in [(&o.id, "E1", &eng), (&m.id, "E2", &eng)] {
        app.post(
            "/api/v1/workspaces/acme/staff",
            &o.token,
            json!({"user_id": u, "staff_id": sid, "department_id": dept, "position": "Engineer",
                   "phone": "+1 555 0100", "job_grade": "L3", "notes": "hired 2024"}),
        )
        .await
        .ok(201);
    }
    app.post(
        &format!("/api/v1/workspaces/acme/staff/{}/transfer", m.id),
        &o.token,
        json!({"department_id": plat, "reason": "platform team"}),
    )
    .await
    .ok(200);
    for i in 0..5 {
        let id = app.create_project(&o, "acme", &format!("P{i}"), i % 2 == 0).await;
        app.patch(
            &format!("/api/v1/workspaces/acme/projects/{id}"),
            &o.token,
            json!({"description": format!("d{i}")}),
        )
        .await
        .ok(200);
        app.post(
            &format!("/api/v1/workspaces/acme/projects/{id}/members"),
            &o.token,
            json!({"user_id": m.id, "role": "member"}),
        )
        .await
        .ok(201);
    }
    // Someone invited by an import, whose staff record waits for them.
    app.post(
        "/api/v1/workspaces/acme/staff/bulk-import?invite=true",
        &o.token,
        json!([{"staff_id": "E9", "email": "newhire@example.com", "position": "Designer"}]),
    )
    .await
    .ok(200);
    // P1 is Platform's project: its manager is in it by hand and through the department,
    // and the project's history says so.
    let p1 = app.dump("SELECT id FROM projects WHERE identifier = 'P1'")[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.patch(
        &format!("/api/v1/workspaces/acme/projects/{p1}"),
        &o.token,
        json!({"linked_department_id": plat}),
    )
    .await
    .ok(200);
    assert_eq!(
        app.dump("SELECT via_departments FROM project_members WHERE manual IS NULL AND via_departments IS NOT NULL")
            .len(),
        1
    );
    // A merge that gave two projects one identifier (as two offline devices can), resolved
    // by the merge rule: a renamed project and its resolved conflict.
    let twin = app.create_project(&o, "acme", "TWIN", false).await;
    let ws_id = app.get("/api/v1/workspaces/acme", &o.token).await.ok(200)["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.app
        .writer
        .write(move |ctx| {
            ctx.edit(
                &keel::docs::Who::System,
                &keel::docs::DocRef::project(&ws_id, &twin),
                |e| e.set(projects::SPEC, &twin, &[projects::identifier.to("P0")]),
            )?;
            keel::work::resolve_duplicate_identifiers(ctx, &ws_id)
        })
        .await
        .unwrap();
    // And a merge that gave two departments one code (as two offline devices can),
    // repaired: a derived code and its resolved conflict in the staff document.
    let dup = app
        .post(
            "/api/v1/workspaces/acme/departments",
            &o.token,
            json!({"name": "Sales", "code": "SALES", "short_name": "SAL", "dept_code": "2000"}),
        )
        .await
        .ok(201)["id"]
        .as_str()
        .unwrap()
        .to_string();
    let ws2 = app.get("/api/v1/workspaces/acme", &o.token).await.ok(200)["id"]
        .as_str()
        .unwrap()
        .to_string();
    let repaired = app
        .app
        .writer
        .write(move |ctx| {
            ctx.edit(&keel::docs::Who::System, &keel::docs::DocRef::workspace(&ws2), |e| {
                e.set(departments::SPEC, &dup, &[departments::code.to("ENG")])
            })?;
            keel::org::resolve_merges(ctx, &ws2)
        })
        .await
        .unwrap();
    assert_eq!(repaired, 1);
    let id = app.create_project(&o, "acme", "GONE", false).await;
    app.delete(&format!("/api/v1/workspaces/acme/projects/{id}"), &o.token)
        .await
        .ok(204);

    // Work items and time: every kind of record, edited and deleted ones too.
    let pid = app.create_project(&o, "acme", "WORK", false).await;
    let p = format!("/api/v1/workspaces/acme/projects/{pid}");
    let label = app
        .post(&format!("{p}/labels"), &o.token, json!({"name": "bug"}))
        .await
        .ok(201)["id"]
        .clone();
    let mut issues = Vec::new();
    for i in 0..3 {
        let r = app
            .post(
                &format!("{p}/issues"),
                &o.token,
                json!({"name": format!("needle {i}"), "description_html": "<p>find the <b>needle</b></p>",
                       "assignee_ids": [o.id], "label_ids": [label], "estimate_time": 60}),
            )
            .await;
        issues.push(r.ok(201)["id"].as_str().unwrap().to_string());
    }
    app.patch(
        &format!("{p}/issues/{}", issues[0]),
        &o.token,
        json!({"priority": "high", "assignee_ids": []}),
    )
    .await
    .ok(200);
    app.delete(&format!("{p}/issues/{}", issues[2]), &o.token).await.ok(204);
    app.post(
        &format!("{p}/issues/{}/comments", issues[1]),
        &o.token,
        json!({"comment_html": "a haystack"}),
    )
    .await
    .ok(201);
    let mut logs = Vec::new();
    for (i, day) in ["2026-01-05", "2026-01-05", "2026-01-06"].iter().enumerate() {
        let r = app
            .post(
                &format!("{p}/issues/{}/worklogs", issues[i % 2]),
                &o.token,
                json!({"duration_minutes": 30 + i, "logged_at": day}),
            )
            .await;
        logs.push(r.ok(201)["id"].as_str().unwrap().to_string());
    }
    app.patch(
        &format!("{p}/issues/{}/worklogs/{}", issues[0], logs[0]),
        &o.token,
        json!({"duration_minutes": 45}),
    )
    .await
    .ok(200);
    app.delete(&format!("{p}/issues/{}/worklogs/{}", issues[1], logs[1]), &o.token)
        .await
        .ok(204);
    app.post(&format!("{p}/issues/{}/timer", issues[0]), &o.token, json!({}))
        .await
        .ok(201);

    // Planning and the owner's own records.
    let cycle = app
        .post(&format!("{p}/cycles"), &o.token, json!({"name": "S1"}))
        .await
        .ok(201)["id"]
        .clone();
    let module = app
        .post(&format!("{p}/modules"), &o.token, json!({"name": "M1"}))
        .await
        .ok(201)["id"]
        .clone();
    app.post(
        &format!("{p}/views"),
        &o.token,
        json!({"name": "V1", "query": {"priority": "high"}}),
    )
    .await
    .ok(201);
    app.patch(
        &format!("{p}/issues/{}", issues[1]),
        &o.token,
        json!({"cycle_id": cycle, "module_id": module}),
    )
    .await
    .ok(200);
    app.post(
        "/api/v1/workspaces/acme/favorites",
        &o.token,
        json!({"entity_type": "cycle", "entity_id": cycle}),
    )
    .await
    .ok(204);
    app.patch(
        &format!("{p}/user-properties"),
        &o.token,
        json!({"display_filters": {"layout": "board"}}),
    )
    .await
    .ok(200);
    app.patch(
        "/api/v1/workspaces/acme/home-preferences/recents",
        &o.token,
        json!({"is_enabled": false}),
    )
    .await
    .ok(200);
    app.post(
        "/api/v1/workspaces/acme/quick-links",
        &o.token,
        json!({"url": "https://keel.dev"}),
    )
    .await
    .ok(201);
    app.post("/api/v1/workspaces/acme/stickies", &o.token, json!({"name": "note"}))
        .await
        .ok(201);
    // A saved layout of the default dashboard, and a favourite of it.
    let dash = app.get("/api/v1/workspaces/acme/dashboards", &o.token).await.ok(200)[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let d = format!("/api/v1/workspaces/acme/dashboards/{dash}");
    app.put(&format!("{d}/layout"), &o.token, json!({"widgets": []}))
        .await
        .ok(200);
    app.put(&format!("{d}/favorite"), &o.token, json!({})).await.ok(200);
    // A metric of the workspace's own.
    app.post(
        "/api/v1/workspaces/acme/metrics",
        &o.token,
        json!({"name": "Open", "query": {"measure": "work_item_count", "filters": {"state_group": "started"}}}),
    )
    .await
    .ok(201);
    app.get(&format!("{p}/issues/{}", issues[1]), &o.token).await.ok(200);
    for _ in 0..100 {
        if !app.dump("SELECT id FROM recent_visits").is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn every_write_appends_an_update_to_its_document() {
    let app = TestApp::spawn().await;
    let o = app.register("owner@example.com").await;
    let ws = app.create_workspace(&o, "acme").await;
    let doc = format!("ws:{}", ws["id"].as_str().unwrap());
    let n0 = app
        .dump(&format!("SELECT seq FROM doc_updates WHERE doc_id = '{doc}'"))
        .len();
    app.patch("/api/v1/workspaces/acme", &o.token, json!({"name": "Renamed"}))
        .await
        .ok(200);
    let n1 = app
        .dump(&format!("SELECT seq FROM doc_updates WHERE doc_id = '{doc}'"))
        .len();
    assert_eq!((n0, n1), (1, 2));
    // A refused write appends nothing.
    app.patch("/api/v1/workspaces/acme", &o.token, json!({"name": ""}))
        .await
        .err(422, "validation_failed");
    let pid = app.create_project(&o, "acme", "WEB", false).await;
    app.post(
        "/api/v1/workspaces/acme/projects",
        &o.token,
        json!({"name": "Dup", "identifier": "WEB"}),
    )
    .await
    .err(409, "identifier_taken");
    assert_eq!(
        app.dump(&format!("SELECT seq FROM doc_updates WHERE doc_id = '{doc}'"))
            .len(),
        2
    );
    assert_eq!(
        app.dump(&format!("SELECT seq FROM doc_updates WHERE doc_id = 'project:{pid}'"))
            .len(),
        1
    );
    // The workspace's, its default dashboard's (made with it) and the project's.
    assert_eq!(app.dump("SELECT id FROM documents").len(), 3);
}

#[tokio::test]
async fn rebuilt_projection_equals_the_original_row_for_row() {
    let app = TestApp::spawn().await;
    busy_workspace(&app).await;
    let before = dump_all(&app);
    assert!(before.iter().all(|t| !t.is_empty()), "every table has rows to compare");
    let n = keel::docs::rebuild_projection_blocking(&app.app).unwrap();
    assert_eq!(n as usize, projected_rows(&before));
    assert_eq!(dump_all(&app), before);

    // Rebuilding really rewrites: corrupt a row, rebuild, it is back.
    let c = rusqlite::Connection::open(app.dir.path().join("keel.db")).unwrap();
    c.execute("UPDATE projects SET name = 'corrupted'", []).unwrap();
    c.execute("DELETE FROM workspace_members", []).unwrap();
    c.execute("UPDATE worklog_user_day SET minutes = 0", []).unwrap();
    c.execute("DELETE FROM issues WHERE name = 'needle 1'", []).unwrap();
    c.execute("DELETE FROM staff_search", []).unwrap();
    drop(c);
    assert_ne!(dump_all(&app), before);
    keel::docs::rebuild_projection_blocking(&app.app).unwrap();
    assert_eq!(dump_all(&app), before);
}

#[tokio::test]
async fn compaction_folds_the_log_into_a_snapshot_without_changing_state() {
    let app = TestApp::spawn().await;
    busy_workspace(&app).await;
    let before = dump_all(&app);
    let db = app.dir.path().join("keel.db");
    let ids: Vec<String> = app
        .dump("SELECT id FROM documents ORDER BY id")
        .into_iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect();
    let c = rusqlite::Connection::open(&db).unwrap();
    let states: Vec<Vec<u8>> = ids
        .iter()
        .map(|id| keel::docs::document_state(&c, id).unwrap().unwrap())
        .collect();
    let logged: i64 = c
        .query_row("SELECT COUNT(*) FROM doc_updates", [], |r| r.get(0))
        .unwrap();
    assert!(logged > ids.len() as i64);
    drop(c);

    let n = keel::docs::compact_all_blocking(&app.app).unwrap();
    assert_eq!(n, ids.len());
    let c = rusqlite::Connection::open(&db).unwrap();
    let logged: i64 = c
        .query_row("SELECT COUNT(*) FROM doc_updates", [], |r| r.get(0))
        .unwrap();
    assert_eq!(logged, 0);
    for (id, s) in ids.iter().zip(&states) {
        let after = keel::docs::document_state(&c, id).unwrap().unwrap();
        assert_eq!(
            canonical(&after),
            canonical(s),
            "document {id} holds the same records after compaction"
        );
    }
    drop(c);
    // Writes after compaction land on top of the snapshot, and a rebuild still matches.
    let o = app.login("owner@example.com", crate::helpers::PASSWORD).await.ok(200)["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    app.patch("/api/v1/workspaces/acme", &o, json!({"name": "After"}))
        .await
        .ok(200);
    let after_write = dump_all(&app);
    assert_ne!(after_write, before);
    keel::docs::rebuild_projection_blocking(&app.app).unwrap();
    assert_eq!(dump_all(&app), after_write);
}

/// A document's records as JSON (the encoding of equal states may differ in order).
fn canonical(update: &[u8]) -> String {
    use yrs::updates::decoder::Decode;
    use yrs::{Transact, Update};
    let doc = yrs::Doc::new();
    // Root refs first: taking one while a transaction is open deadlocks.
    let names = tables();
    let maps: Vec<_> = names.iter().map(|t| doc.get_or_insert_map(*t)).collect();
    doc.transact_mut()
        .apply_update(Update::decode_v1(update).unwrap())
        .unwrap();
    let txn = doc.transact();
    let mut out = serde_json::Map::new();
    for (t, m) in names.iter().zip(&maps) {
        let any = yrs::types::ToJson::to_json(m, &txn);
        out.insert(t.to_string(), serde_json::to_value(&any).unwrap());
    }
    serde_json::Value::Object(out).to_string()
}

#[test]
fn each_load_gets_a_fresh_client_id() {
    let a = keel::docs::fresh_doc();
    let b = keel::docs::fresh_doc();
    assert_ne!(a.client_id(), b.client_id());
    let state = {
        use yrs::{Map, Transact};
        let m = a.get_or_insert_map("workspaces");
        let mut t = a.transact_mut();
        m.insert(&mut t, "k", "v");
        drop(t);
        yrs::ReadTxn::encode_state_as_update_v1(&a.transact(), &yrs::StateVector::default())
    };
    let l1 = keel::docs::doc_from_parts(Some(&state), &[]).unwrap();
    let l2 = keel::docs::doc_from_parts(Some(&state), &[]).unwrap();
    assert_ne!(l1.client_id(), l2.client_id());
    assert_ne!(l1.client_id(), a.client_id());
}

#[tokio::test]
async fn every_commit_publishes_typed_changes_with_before_and_after() {
    let (t, _ws, pid, issue) = crate::sync::raw::world().await;
    let mut rx = t.app.app.sync.subscribe();
    let p = format!("/api/v1/workspaces/acme/projects/{pid}");
    t.app
        .patch(&format!("{p}/issues/{issue}"), &t.m.token, json!({"name": "Renamed"}))
        .await
        .ok(200);
    let published = tokio::time::timeout(std::time::Duration::from_secs(5), rx.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(published.who, keel::docs::Who::User(t.m.id.clone()));
    let c = published
        .changes
        .iter()
        .find(|c| c.spec.name == "issues" && c.id == issue)
        .expect("the issue's change");
    let name = c.spec.cols.iter().position(|(n, _)| *n == "name").unwrap();
    assert_eq!(c.before.as_ref().unwrap()[name], keel::docs::Val::Text("Shared".into()));
    assert_eq!(c.after[name], keel::docs::Val::Text("Renamed".into()));
    // The history record written with it is a change of its own, new (no before-image).
    assert!(published
        .changes
        .iter()
        .any(|c| c.spec.name == "issue_activity" && c.before.is_none()));
}

#[tokio::test]
async fn an_edit_naming_a_field_its_table_lacks_is_refused_and_writes_nothing() {
    // By name, for code generic over tables: a misspelt field makes nothing to write.
    assert!(issues::SPEC.set("nmae", "typo".into()).is_none());
    assert!(issues::SPEC.set("name", "typo".into()).is_some());
    let (t, ws, pid, issue) = crate::sync::raw::world().await;
    let before = t.app.dump("SELECT * FROM doc_updates ORDER BY seq");
    let (w, p, i) = (ws.clone(), pid.clone(), issue.clone());
    let r = t
        .app
        .app
        .writer
        .write(move |ctx| {
            ctx.edit(&keel::docs::Who::System, &keel::docs::DocRef::project(&w, &p), |e| {
                // Typed: one table's field handed to another's edit.
                e.set(issues::SPEC, &i, &[projects::identifier.to("TYPO")])
            })
        })
        .await;
    assert!(r.is_err(), "another table's field was written");
    assert_eq!(t.app.dump("SELECT * FROM doc_updates ORDER BY seq"), before);
}

/// The history follows the changes of any edit, not the service that made them: an edit of
/// an issue through the write path alone gets its history in the same update, by its
/// author; a peer's update is checked, and nothing is derived from it a second time.
#[tokio::test]
async fn an_issues_history_follows_every_edit_in_one_place() {
    let (t, ws, pid, issue) = crate::sync::raw::world().await;
    let history = |t: &crate::helpers::TestApp, issue: &str| {
        t.dump(&format!(
            "SELECT verb, field, old_value, new_value, created_by FROM issue_activity
             WHERE issue_id = '{issue}' ORDER BY created_at, id"
        ))
    };
    let before = history(&t.app, &issue).len();
    let updates = t.app.dump("SELECT seq FROM doc_updates").len();
    let (w, p, i, m) = (ws.clone(), pid.clone(), issue.clone(), t.m.id.clone());
    t.app
        .app
        .writer
        .write(move |ctx| {
            ctx.edit(&keel::docs::Who::User(m), &keel::docs::DocRef::project(&w, &p), |e| {
                e.set(
                    issues::SPEC,
                    &i,
                    &[issues::priority.to("urgent"), issues::name.to("Raw")],
                )
            })
        })
        .await
        .unwrap();
    let h = history(&t.app, &issue);
    assert_eq!(h.len(), before + 2, "{h:?}");
    assert_eq!(
        (&h[before]["field"], &h[before]["old_value"], &h[before]["new_value"]),
        (&json!("name"), &json!("Shared"), &json!("Raw"))
    );
    assert_eq!(
        (
            &h[before + 1]["field"],
            &h[before + 1]["old_value"],
            &h[before + 1]["new_value"]
        ),
        (&json!("priority"), &json!("none"), &json!("urgent"))
    );
    assert_eq!(h[before + 1]["created_by"], json!(t.m.id));
    // One edit, one update in the log: the history travels with the change it records.
    assert_eq!(t.app.dump("SELECT seq FROM doc_updates").len(), updates + 1);

    // A change arriving from a peer keeps the history that peer wrote: here none, so none.
    let d = keel::docs::DocRef::project(&ws, &pid);
    let state = {
        let c = rusqlite::Connection::open(t.app.app.config.db_path()).unwrap();
        keel::docs::document_state(&c, &d.id).unwrap().unwrap()
    };
    let doc = yrs::Doc::new();
    {
        use yrs::updates::decoder::Decode;
        use yrs::Transact;
        doc.transact_mut()
            .apply_update(yrs::Update::decode_v1(&state).unwrap())
            .unwrap();
    }
    let update = {
        use yrs::{Map, ReadTxn, Transact};
        let sv = doc.transact().state_vector();
        let issues = doc.get_or_insert_map("issues");
        let mut txn = doc.transact_mut();
        let Some(yrs::Out::YMap(rec)) = issues.get(&txn, &issue) else {
            panic!("no issue")
        };
        rec.insert(&mut txn, "name", "From a peer");
        drop(txn);
        doc.transact().encode_diff_v1(&sv)
    };
    let m = t.m.id.clone();
    t.app
        .app
        .writer
        .write(move |ctx| ctx.apply_remote(&keel::docs::Who::User(m), &d, &update).map(|_| ()))
        .await
        .unwrap();
    assert_eq!(
        t.app.dump(&format!("SELECT name FROM issues WHERE id = '{issue}'"))[0]["name"],
        "From a peer"
    );
    assert_eq!(history(&t.app, &issue).len(), before + 2);
}
