//! Metrics (seed 004): Keel's system metrics and a workspace's own, computed off the request
//! path and on demand; their status at each threshold on either side; thresholds premium;
//! what a viewer may see of them (private projects, everybody's time); a query that no
//! longer resolves; a metric widget; the same rules for a device offline.

use keel::sync::wire::Frame;
use serde_json::{json, Value};
use yrs::{Any, Doc, Map, MapPrelim, Out, ReadTxn, StateVector, Transact};

use crate::dashboards::{acked, field_create};
use crate::helpers::{team, Team, User};
use crate::plans::premium;
use crate::sync::raw::*;

const M: &str = "/api/v1/workspaces/acme/metrics";
const W: &str = "/api/v1/workspaces/acme";

async fn issue(t: &Team, pid: &str, body: Value) -> String {
    t.app
        .post(&format!("{W}/projects/{pid}/issues"), &t.o.token, body)
        .await
        .ok(201)["id"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn refresh(t: &Team, who: &User, id: &str) -> Value {
    t.app
        .post(&format!("{M}/{id}/refresh"), &who.token, json!({}))
        .await
        .ok(200)
        .clone()
}

#[tokio::test]
async fn system_metrics_count_what_the_chart_builder_counts_and_members_read_them() {
    let t = team().await;
    let pid = t.app.create_project(&t.o, "acme", "WEB", false).await;
    for (n, priority) in ["urgent", "urgent", "low", "none"].iter().enumerate() {
        issue(&t, &pid, json!({"name": format!("Issue {n}"), "priority": priority})).await;
    }
    let list = t.app.get(M, &t.m.token).await.ok(200).clone();
    let ids: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 8, "{ids:?}");
    assert!(ids.iter().all(|i| i.starts_with("system-")));
    for m in list.as_array().unwrap() {
        assert_eq!(
            (m["is_system"].as_bool(), m["can_edit"].as_bool()),
            (Some(true), Some(false))
        );
    }
    // Computed on demand, the figure is the chart builder's for the same filters.
    let open = refresh(&t, &t.a, "system-open-urgent").await;
    let chart = t
        .app
        .get(
            &format!("{W}/analytics/charts?x_axis=PRIORITY&priority=urgent&state_group=backlog,unstarted,started"),
            &t.o.token,
        )
        .await
        .ok(200)
        .clone();
    assert_eq!(open["value"].as_f64(), chart["total"].as_f64());
    assert_eq!(open["value"], 2.0);
    assert_eq!(
        (open["status"].as_str(), open["scope"].as_str()),
        (Some("normal"), Some("all_projects"))
    );
    assert!(open["computed_at"].is_string());
    // Without a period, the change is the one since the last computation.
    issue(&t, &pid, json!({"name": "Fire", "priority": "urgent"})).await;
    let again = refresh(&t, &t.a, "system-open-urgent").await;
    assert_eq!(
        (again["value"].as_f64(), again["previous_value"].as_f64()),
        (Some(3.0), Some(2.0))
    );
    assert_eq!(
        (again["change"].as_f64(), again["compared_to"].as_str()),
        (Some(1.0), Some("previous_refresh"))
    );
    // A period compares with the same span one period before: nothing was made last week.
    let week = refresh(&t, &t.o, "system-created-this-week").await;
    assert_eq!(
        (week["value"].as_f64(), week["previous_value"].as_f64()),
        (Some(5.0), Some(0.0))
    );
    assert_eq!(week["compared_to"], "previous_period");
    // A share: one of five completed.
    let states = t
        .app
        .get(&format!("{W}/projects/{pid}/states"), &t.o.token)
        .await
        .ok(200)
        .clone();
    let done = states
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["group"] == "completed" || s["state_group"] == "completed")
        .unwrap()["id"]
        .clone();
    let first = t.app.dump("SELECT id FROM issues ORDER BY sequence_id LIMIT 1")[0]["id"].clone();
    t.app
        .patch(
            &format!("{W}/projects/{pid}/issues/{}", first.as_str().unwrap()),
            &t.o.token,
            json!({"state_id": done}),
        )
        .await
        .ok(200);
    let rate = refresh(&t, &t.o, "system-completion-rate").await;
    assert_eq!(
        (rate["value"].as_f64(), rate["format"].as_str()),
        (Some(20.0), Some("percentage"))
    );
    // Members read every value they may see; only admins compute one now, and system
    // metrics are Keel's own.
    let cached = t
        .app
        .get(&format!("{M}/system-open-urgent"), &t.m.token)
        .await
        .ok(200)
        .clone();
    assert_eq!(
        cached["value"].as_f64(),
        Some(3.0),
        "the last computed value until the next refresh"
    );
    refresh(&t, &t.a, "system-open-urgent").await;
    let seen = t
        .app
        .get(&format!("{M}/system-open-urgent"), &t.m.token)
        .await
        .ok(200)
        .clone();
    assert_eq!(seen["value"].as_f64(), Some(2.0), "a completed one is not open");
    t.app
        .post(&format!("{M}/system-open-urgent/refresh"), &t.m.token, json!({}))
        .await
        .err(403, "forbidden");
    t.app
        .patch(&format!("{M}/system-open-urgent"), &t.o.token, json!({"name": "Mine"}))
        .await
        .err(409, "system_metric");
    t.app
        .delete(&format!("{M}/system-open-urgent"), &t.o.token)
        .await
        .err(409, "system_metric");
    t.app
        .get(&format!("{M}/no-such-metric"), &t.o.token)
        .await
        .err(404, "not_found");
}

#[tokio::test]
async fn a_metric_turns_warning_then_critical_on_its_bad_side_and_thresholds_are_premium() {
    let t = team().await;
    let pid = t.app.create_project(&t.o, "acme", "WEB", false).await;
    let query = json!({"measure": "work_item_count", "filters": {"priority": "urgent", "state_group": "backlog,unstarted,started"}});
    let body = json!({
        "name": "Urgent backlog", "category": "operational", "query": query,
        "warning_threshold": 2, "critical_threshold": 3, "target_value": 0,
    });
    // On a free workspace, thresholds are refused before anything is written; a metric
    // without them is free.
    let r = t.app.post(M, &t.a.token, body.clone()).await;
    r.err(402, "plan_required");
    assert!(
        r.message().contains("metric_thresholds") || r.message().contains("Metrics with thresholds"),
        "{}",
        r.message()
    );
    assert!(t.app.dump("SELECT id FROM dashboard_metrics").is_empty());
    let plain = t
        .app
        .post(
            M,
            &t.a.token,
            json!({"name": "Everything", "query": {"measure": "work_item_count"}}),
        )
        .await
        .ok(201)
        .clone();
    assert_eq!(
        (plain["status"].as_str(), plain["value"].as_f64()),
        (Some("normal"), Some(0.0))
    );
    assert_eq!(
        (plain["can_edit"].as_bool(), plain["refresh_seconds"].as_i64()),
        (Some(true), Some(300))
    );
    // Members read metrics, admins manage them.
    t.app
        .post(
            M,
            &t.m.token,
            json!({"name": "Mine", "query": {"measure": "work_item_count"}}),
        )
        .await
        .err(403, "forbidden");
    premium(&t, "acme").await;
    let m = t.app.post(M, &t.a.token, body).await.ok(201).clone();
    let mid = m["id"].as_str().unwrap().to_string();
    assert_eq!(
        (m["warning_threshold"].as_f64(), m["critical_threshold"].as_f64()),
        (Some(2.0), Some(3.0))
    );
    let mut statuses = vec![m["status"].as_str().unwrap().to_string()];
    for n in 0..3 {
        issue(&t, &pid, json!({"name": format!("Fire {n}"), "priority": "urgent"})).await;
        statuses.push(refresh(&t, &t.a, &mid).await["status"].as_str().unwrap().to_string());
    }
    assert_eq!(statuses, ["normal", "normal", "warning", "critical"]);
    // Lower is worse: a share of completed work under its levels.
    let below = t
        .app
        .post(
            M,
            &t.a.token,
            json!({"name": "Done share", "format": "percentage", "direction": "below",
                   "query": {"measure": "completed_count", "per": "work_item_count"},
                   "warning_threshold": 50, "critical_threshold": 10}),
        )
        .await
        .ok(201)
        .clone();
    assert_eq!(
        (below["value"].as_f64(), below["status"].as_str()),
        (Some(0.0), Some("critical"))
    );
    // Nothing to divide by: no data, not a fault.
    let empty = t
        .app
        .post(
            M,
            &t.a.token,
            json!({"name": "Low share", "query": {"measure": "completed_count", "per": "work_item_count", "filters": {"priority": "low"}}}),
        )
        .await
        .ok(201)
        .clone();
    assert_eq!(
        (empty["value"].clone(), empty["status"].as_str()),
        (Value::Null, Some("no_data"))
    );
    // Changing a level recomputes the status at once.
    let moved = t
        .app
        .patch(&format!("{M}/{mid}"), &t.a.token, json!({"critical_threshold": 10}))
        .await
        .ok(200)
        .clone();
    assert_eq!(moved["status"], "warning");
    // Field rules: the levels' order on the bad side, a query the engine takes, a unique
    // name, the refresh rate.
    for (bad, field) in [
        (json!({"warning_threshold": 20}), "critical_threshold"),
        (json!({"query": {"measure": "revenue"}}), "query"),
        (
            json!({"query": {"measure": "work_item_count", "sql": "DROP TABLE issues"}}),
            "query",
        ),
        (json!({"query": {"source": "staff", "status": "retired"}}), "query"),
        (json!({"category": "finance"}), "category"),
        (json!({"format": "currency"}), "format"),
        (json!({"direction": "sideways"}), "direction"),
        (json!({"refresh_seconds": 5}), "refresh_seconds"),
        (json!({"name": "  "}), "name"),
    ] {
        let r = t.app.patch(&format!("{M}/{mid}"), &t.a.token, bad.clone()).await;
        assert_eq!(r.status, 422, "{bad}: {}", r.body);
        assert!(r.body["error"]["fields"][field].is_string(), "{bad}: {}", r.body);
    }
    t.app
        .patch(&format!("{M}/{mid}"), &t.a.token, json!({"name": "everything"}))
        .await
        .err(409, "name_taken");
    // Disabled: kept, not computed.
    let off = t
        .app
        .patch(&format!("{M}/{mid}"), &t.a.token, json!({"is_enabled": false}))
        .await
        .ok(200)
        .clone();
    assert_eq!(off["status"], "disabled");
    // Deleted: gone from the list.
    t.app.delete(&format!("{M}/{mid}"), &t.a.token).await.ok(204);
    let list = t.app.get(M, &t.a.token).await.ok(200).clone();
    assert!(!list.as_array().unwrap().iter().any(|m| m["id"] == mid.as_str()));
}

#[tokio::test]
async fn thresholds_a_lapsed_plan_no_longer_allows_colour_nothing() {
    let t = team().await;
    premium(&t, "acme").await;
    let m = t
        .app
        .post(
            M,
            &t.a.token,
            json!({"name": "Any", "query": {"measure": "work_item_count"}, "warning_threshold": 0}),
        )
        .await
        .ok(201)
        .clone();
    assert_eq!(
        (m["status"].as_str(), m["thresholds_locked"].as_bool()),
        (Some("warning"), Some(false))
    );
    t.app.delete(&format!("{W}/licence"), &t.o.token).await.ok(204);
    let m = refresh(&t, &t.a, m["id"].as_str().unwrap()).await;
    assert_eq!(
        (m["status"].as_str(), m["thresholds_locked"].as_bool()),
        (Some("normal"), Some(true))
    );
}

#[tokio::test]
async fn metrics_show_each_viewer_only_what_they_may_read() {
    let t = team().await;
    let web = t.app.create_project(&t.o, "acme", "WEB", false).await;
    let sec = t.app.create_project(&t.o, "acme", "SEC", true).await;
    issue(&t, &web, json!({"name": "open"})).await;
    issue(&t, &sec, json!({"name": "hush"})).await;
    issue(&t, &sec, json!({"name": "hush 2"})).await;
    let open = "system-open-work-items";
    assert_eq!(refresh(&t, &t.o, open).await["value"], 3.0);
    // The member is in no private project: the value over the public ones, said so.
    let seen = t.app.get(&format!("{M}/{open}"), &t.m.token).await.ok(200).clone();
    assert_eq!(
        (seen["value"].as_f64(), seen["scope"].as_str()),
        (Some(1.0), Some("public_projects"))
    );
    // A metric that names the private project is restricted for them, whole for admins.
    let named = t
        .app
        .post(
            M,
            &t.o.token,
            json!({"name": "Secret", "query": {"measure": "work_item_count", "filters": {"project": sec}}}),
        )
        .await
        .ok(201)
        .clone();
    let nid = named["id"].as_str().unwrap();
    assert_eq!(named["value"], 2.0);
    let hidden = t.app.get(&format!("{M}/{nid}"), &t.m.token).await.ok(200).clone();
    assert_eq!(
        (hidden["status"].as_str(), hidden["value"].clone()),
        (Some("restricted"), Value::Null)
    );
    assert!(hidden["message"].as_str().unwrap().contains("cannot see"));
    assert!(hidden["previous_value"].is_null() && hidden["change"].is_null());
    // Everybody's logged time is for admins (as the time summaries).
    t.app
        .post(
            &format!(
                "{W}/projects/{web}/issues/{}/worklogs",
                t.app.dump("SELECT id FROM issues WHERE name = 'open'")[0]["id"]
                    .as_str()
                    .unwrap()
            ),
            &t.o.token,
            json!({"duration_minutes": 90}),
        )
        .await
        .ok(201);
    let logged = "system-logged-this-week";
    assert_eq!(refresh(&t, &t.a, logged).await["value"], 90.0);
    // A count of staff counts no project: a member outside the private one reads it whole.
    let staff = t
        .app
        .get(&format!("{M}/system-staff-on-probation"), &t.m.token)
        .await
        .ok(200)
        .clone();
    assert_eq!(
        (staff["status"].as_str(), staff["value"].as_f64()),
        (Some("normal"), Some(0.0)),
        "{staff}"
    );
    let m_logged = t.app.get(&format!("{M}/{logged}"), &t.m.token).await.ok(200).clone();
    assert_eq!(m_logged["status"], "restricted", "{m_logged}");
    // Made a member of the private project, the member sees the whole figure.
    t.app
        .post(
            &format!("{W}/projects/{sec}/members"),
            &t.o.token,
            json!({"user_id": t.m.id, "role": "member"}),
        )
        .await
        .ok(201);
    let whole = t.app.get(&format!("{M}/{open}"), &t.m.token).await.ok(200).clone();
    assert_eq!(
        (whole["value"].as_f64(), whole["scope"].as_str()),
        (Some(3.0), Some("all_projects"))
    );
    // A project turned private after a value was computed: nothing of that value is shown
    // to those who cannot see it until it is computed again, then the public one.
    t.app
        .delete(&format!("{W}/projects/{sec}/members/{}", t.m.id), &t.o.token)
        .await
        .ok(204);
    t.app
        .patch(&format!("{W}/projects/{web}"), &t.o.token, json!({"is_private": true}))
        .await
        .ok(200);
    let admin = t.app.get(&format!("{M}/{open}"), &t.a.token).await.ok(200).clone();
    assert_eq!(admin["value"].as_f64(), Some(3.0), "admins see every project");
    let stale = t.app.get(&format!("{M}/{open}"), &t.m.token).await.ok(200).clone();
    assert_eq!(
        (stale["status"].as_str(), stale["value"].clone()),
        (Some("pending"), Value::Null),
        "{stale}"
    );
    refresh(&t, &t.o, open).await;
    let now = t.app.get(&format!("{M}/{open}"), &t.m.token).await.ok(200).clone();
    assert_eq!(
        (now["value"].as_f64(), now["scope"].as_str()),
        (Some(0.0), Some("public_projects")),
        "{now}"
    );
}

#[tokio::test]
async fn a_metric_whose_project_is_gone_says_so_and_its_dashboard_still_answers() {
    let t = team().await;
    let pid = t.app.create_project(&t.o, "acme", "OLD", false).await;
    issue(&t, &pid, json!({"name": "one"})).await;
    let m = t
        .app
        .post(
            M,
            &t.o.token,
            json!({"name": "Old project", "query": {"measure": "work_item_count", "filters": {"project": pid}}}),
        )
        .await
        .ok(201)
        .clone();
    let mid = m["id"].as_str().unwrap().to_string();
    assert_eq!(m["value"], 1.0);
    // A metric widget on the default dashboard shows it.
    let d = "/api/v1/workspaces/acme/dashboards";
    let did = t.app.get(d, &t.o.token).await.ok(200)[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    t.app
        .post(
            &format!("{d}/{did}/widgets"),
            &t.o.token,
            json!({"widget_type": "metric", "title": "Old", "config": {"metric": mid}}),
        )
        .await
        .ok(201);
    t.app
        .post(
            &format!("{d}/{did}/widgets"),
            &t.o.token,
            json!({"widget_type": "metric", "config": {"metric": "not an id!"}}),
        )
        .await
        .err(422, "validation_failed");
    t.app.delete(&format!("{W}/projects/{pid}"), &t.o.token).await.ok(204);
    let gone = refresh(&t, &t.o, &mid).await;
    assert_eq!(gone["status"], "unresolved", "{gone}");
    assert!(
        gone["message"].as_str().unwrap().contains("1 project it names is gone"),
        "{gone}"
    );
    assert!(gone["value"].is_null());
    let data = t.app.get(&format!("{d}/{did}/data"), &t.o.token).await.ok(200).clone();
    let widgets = data["widgets"].as_array().unwrap();
    assert!(widgets.iter().all(|w| w["status"] == "ok"), "{data}");
    let card = widgets.iter().find(|w| w["widget_type"] == "metric").unwrap();
    assert_eq!(
        (card["data"]["id"].as_str(), card["data"]["status"].as_str()),
        (Some(mid.as_str()), Some("unresolved"))
    );
}

fn metric_fields(ws: &str, name: &str, query: &str, warning: Option<&str>) -> Vec<(&'static str, Any)> {
    let now = "2026-12-01T10:00:00.000Z";
    vec![
        ("workspace_id", Any::from(ws)),
        ("name", Any::from(name)),
        ("description", Any::from("")),
        ("category", Any::from("operational")),
        ("query", Any::from(query)),
        ("unit", Any::from("")),
        ("format", Any::from("number")),
        ("target_value", Any::Null),
        ("warning_threshold", warning.map_or(Any::Null, Any::from)),
        ("critical_threshold", Any::Null),
        ("direction", Any::from("above")),
        ("refresh_seconds", Any::from(300i64)),
        ("is_enabled", Any::from(1i64)),
        ("color", Any::from("blue")),
        ("icon", Any::from("")),
        ("sort_order", Any::from(0i64)),
        ("created_at", Any::from(now)),
        ("updated_at", Any::from(now)),
        ("created_by", Any::Null),
        ("deleted_at", Any::Null),
    ]
}

#[tokio::test]
async fn a_device_is_held_to_the_metric_rules_offline() {
    let t = team().await;
    let ws = t.app.dump("SELECT id FROM workspaces WHERE slug = 'acme'")[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let shared = format!("dashboards:{ws}:shared");
    let push = |seq: u64, update: Vec<u8>| Frame::Update {
        doc_id: shared.clone(),
        workspace_id: ws.clone(),
        seq,
        update,
    };
    let ok_query = r#"{"measure":"work_item_count"}"#;
    // A member's device may not write the workspace's metrics.
    let d = pair_device(&t.app, "member@example.com", "member laptop").await;
    let mut s = open(&t.app, d["token"].as_str(), None).await.unwrap();
    handshake(&mut s, &t.m.id).await;
    let id1 = "01a20000-0000-7000-8000-0000000000e1";
    send(
        &mut s,
        &push(
            1,
            field_create("dashboard_metrics", id1, &metric_fields(&ws, "Mine", ok_query, None)),
        ),
    )
    .await;
    let e = rejected(&mut s).await;
    assert!(
        e.message.contains("may not change") || e.message.contains("admin"),
        "{}",
        e.message
    );
    // An admin's device: a query the engine would refuse, or thresholds on a free
    // workspace, are refused as the API refuses them.
    let d = pair_device(&t.app, "admin@example.com", "admin laptop").await;
    let mut s = open(&t.app, d["token"].as_str(), None).await.unwrap();
    handshake(&mut s, &t.a.id).await;
    let id2 = "01a20000-0000-7000-8000-0000000000e2";
    let bad = r#"{"measure":"work_item_count","sql":"SELECT 1"}"#;
    send(
        &mut s,
        &push(
            1,
            field_create("dashboard_metrics", id2, &metric_fields(&ws, "Bad", bad, None)),
        ),
    )
    .await;
    let e = rejected(&mut s).await;
    assert!(e.message.contains("query"), "{}", e.message);
    let id3 = "01a20000-0000-7000-8000-0000000000e3";
    send(
        &mut s,
        &push(
            2,
            field_create(
                "dashboard_metrics",
                id3,
                &metric_fields(&ws, "Levels", ok_query, Some("5")),
            ),
        ),
    )
    .await;
    let e = rejected(&mut s).await;
    assert!(e.message.contains("premium"), "{}", e.message);
    assert!(t.app.dump("SELECT id FROM dashboard_metrics").is_empty());
    // Nor may a record take a system metric's place.
    let fake = metric_fields(&ws, "Fake", ok_query, None);
    send(
        &mut s,
        &push(3, field_create("dashboard_metrics", "system-open-work-items", &fake)),
    )
    .await;
    let e = rejected(&mut s).await;
    assert!(e.message.contains("UUID"), "{}", e.message);
    // Levels set on a deleted record, then the record made live again: the plan still holds.
    let id5 = "01a20000-0000-7000-8000-0000000000e5";
    let mut gone = metric_fields(&ws, "Sneaky", ok_query, Some("5"));
    for f in gone.iter_mut() {
        if f.0 == "deleted_at" {
            f.1 = Any::from("2026-12-01T11:00:00.000Z");
        }
    }
    // One device's edits, in order: made deleted with levels, then made live (the second
    // update follows the first, as a device's undo would).
    let doc = Doc::new();
    let root = doc.get_or_insert_map("dashboard_metrics");
    {
        let mut txn = doc.transact_mut();
        let prelim: MapPrelim = gone.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
        root.insert(&mut txn, id5.to_string(), prelim);
    }
    let first = doc.transact().encode_state_as_update_v1(&StateVector::default());
    send(&mut s, &push(4, first)).await;
    assert!(acked(&mut s, 4).await, "a deleted record needs no plan");
    let sv = doc.transact().state_vector();
    {
        let mut txn = doc.transact_mut();
        let Some(Out::YMap(rec)) = root.get(&txn, id5) else {
            panic!("the record is in the document")
        };
        rec.insert(&mut txn, "deleted_at", Any::Null);
    }
    let second = doc.transact().encode_state_as_update_v1(&sv);
    send(&mut s, &push(5, second)).await;
    let e = rejected(&mut s).await;
    assert!(e.message.contains("premium"), "{}", e.message);
    assert!(t
        .app
        .dump("SELECT id FROM dashboard_metrics WHERE deleted_at IS NULL")
        .is_empty());
    // A good one is taken, and computed like any other.
    let id4 = "01a20000-0000-7000-8000-0000000000e4";
    let good = metric_fields(&ws, "Offline", ok_query, None);
    send(&mut s, &push(6, field_create("dashboard_metrics", id4, &good))).await;
    assert!(acked(&mut s, 6).await, "the metric was not taken");
    let m = refresh(&t, &t.a, id4).await;
    assert_eq!((m["name"].as_str(), m["value"].as_f64()), (Some("Offline"), Some(0.0)));
}

#[tokio::test]
async fn the_widget_editor_previews_a_widget_as_its_viewer_and_writes_nothing() {
    let t = team().await;
    let pid = t.app.create_project(&t.o, "acme", "WEB", false).await;
    issue(&t, &pid, json!({"name": "one", "priority": "high"})).await;
    let d = "/api/v1/workspaces/acme/dashboards";
    let did = t.app.get(d, &t.o.token).await.ok(200)[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let before = t.app.dump("SELECT count(*) AS n FROM dashboard_widgets")[0]["n"].clone();
    let chart = t
        .app
        .post(
            &format!("{d}/{did}/widgets/preview"),
            &t.m.token,
            json!({"widget_type": "chart", "config": {"x_axis": "PRIORITY"}, "chart_type": "donut"}),
        )
        .await
        .ok(200)
        .clone();
    assert_eq!(
        (chart["status"].as_str(), chart["data"]["total"].as_i64()),
        (Some("ok"), Some(1))
    );
    let metric = t
        .app
        .post(
            &format!("{d}/{did}/widgets/preview"),
            &t.o.token,
            json!({"widget_type": "metric", "config": {"metric": "system-open-work-items"}}),
        )
        .await
        .ok(200)
        .clone();
    assert_eq!(metric["data"]["id"], "system-open-work-items", "{metric}");
    // The checks of a widget made: type, config, chart type.
    for (bad, field) in [
        (json!({"widget_type": "gauge"}), "widget_type"),
        (json!({"widget_type": "chart", "config": {"x_axis": "NOPE"}}), "x_axis"),
        (
            json!({"widget_type": "chart", "config": {"x_axis": "PRIORITY"}, "chart_type": "radar"}),
            "chart_type",
        ),
    ] {
        let r = t
            .app
            .post(&format!("{d}/{did}/widgets/preview"), &t.o.token, bad.clone())
            .await;
        assert_eq!(r.status, 422, "{bad}: {}", r.body);
        assert!(r.body.to_string().contains(field), "{bad}: {}", r.body);
    }
    // Read as the viewer: a chart of a private project is restricted for a member outside it.
    let secret = t.app.create_project(&t.o, "acme", "SEC", true).await;
    let body = json!({"widget_type": "chart", "config": {"x_axis": "PRIORITY", "project": secret}});
    let url = format!("{d}/{did}/widgets/preview");
    let member = t.app.post(&url, &t.m.token, body.clone()).await.ok(200).clone();
    assert_eq!(member["status"], "restricted", "{member}");
    let owner = t.app.post(&url, &t.o.token, body).await.ok(200).clone();
    assert_eq!(owner["status"], "ok", "{owner}");
    assert_eq!(
        t.app.dump("SELECT count(*) AS n FROM dashboard_widgets")[0]["n"],
        before
    );
    // Nobody previews on a dashboard they cannot see.
    t.app
        .post(
            &format!("{d}/00000000-0000-7000-8000-000000000000/widgets/preview"),
            &t.o.token,
            json!({"widget_type": "text", "config": {"text": "x"}}),
        )
        .await
        .err(404, "not_found");
}
