//! Dashboards: the free default one every workspace has, more of them on premium (402
//! otherwise, read-only once a licence ran out), who arranges what, the widgets' rules and
//! data (never of a project the viewer cannot read), and the same rules for a device's
//! offline edits.

use keel::plans::licence::TEST_KEY_SEED;
use keel::sync::wire::Frame;
use serde_json::{json, Value};
use yrs::{Any, Doc, Map, MapPrelim, Transact};

use crate::helpers::{team, Team};
use crate::plans::{day, display_id, payload, sign, test_licence};
use crate::sync::raw::*;

const D: &str = "/api/v1/workspaces/acme/dashboards";
const LICENCE: &str = "/api/v1/workspaces/acme/licence";

async fn premium(t: &Team) {
    let ws = display_id(t).await;
    t.app
        .put(LICENCE, &t.o.token, json!({"licence": test_licence(&ws)}))
        .await
        .ok(200);
}

fn ws_id(t: &Team) -> String {
    t.app.dump("SELECT id FROM workspaces WHERE slug = 'acme'")[0]["id"]
        .as_str()
        .unwrap()
        .to_string()
}

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn every_workspace_has_a_free_default_dashboard_whose_widgets_answer_their_data() {
    let t = team().await;
    let list = t.app.get(D, &t.m.token).await.ok(200).clone();
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 1, "{list:?}");
    let d = &list[0];
    assert_eq!(
        (d["is_default"].as_bool(), d["is_shared"].as_bool()),
        (Some(true), Some(true))
    );
    assert_eq!(
        (d["locked"].as_bool(), d["can_edit"].as_bool()),
        (Some(false), Some(false))
    );
    let did = id(d);
    let full = t.app.get(&format!("{D}/{did}"), &t.a.token).await.ok(200).clone();
    assert_eq!(full["can_edit"], true, "admins arrange the shared dashboards");
    let types: Vec<&str> = full["widgets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["widget_type"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["overview", "chart", "project_stats", "time_summary"]);
    // Some work so the figures are not all zero.
    let pid = t.app.create_project(&t.o, "acme", "WEB", false).await;
    for n in 0..3 {
        t.app
            .post(
                &format!("/api/v1/workspaces/acme/projects/{pid}/issues"),
                &t.o.token,
                json!({"name": format!("Issue {n}")}),
            )
            .await
            .ok(201);
    }
    let data = t.app.get(&format!("{D}/{did}/data"), &t.o.token).await.ok(200).clone();
    let widgets = data["widgets"].as_array().unwrap();
    assert_eq!(widgets.len(), 4);
    for w in widgets {
        assert_eq!(w["status"], "ok", "{w}");
    }
    // The chart widget answers what the chart builder answers for the same request.
    let chart = t
        .app
        .get(
            "/api/v1/workspaces/acme/analytics/charts?x_axis=STATE_GROUPS",
            &t.o.token,
        )
        .await
        .ok(200)
        .clone();
    assert_eq!(widgets[1]["data"], chart);
    assert_eq!(widgets[1]["data"]["total"], 3);
    assert_eq!(widgets[0]["data"]["total_work_items"]["count"], 3);
    // One widget alone answers the same.
    let wid = full["widgets"][1]["id"].as_str().unwrap();
    let one = t
        .app
        .get(&format!("{D}/{did}/widgets/{wid}/data"), &t.o.token)
        .await
        .ok(200)
        .clone();
    assert_eq!(one, widgets[1]);
    // The default is free to arrange, by admins only, and never deleted.
    t.app
        .patch(&format!("{D}/{did}"), &t.m.token, json!({"name": "Mine now"}))
        .await
        .err(403, "forbidden");
    t.app
        .patch(&format!("{D}/{did}"), &t.a.token, json!({"name": "Team"}))
        .await
        .ok(200);
    t.app
        .post(
            &format!("{D}/{did}/widgets"),
            &t.a.token,
            json!({"widget_type": "text", "config": {"text": "Release on Friday"}}),
        )
        .await
        .ok(201);
    t.app
        .delete(&format!("{D}/{did}"), &t.o.token)
        .await
        .err(422, "default_dashboard");
    assert_eq!(t.app.get(D, &t.g.token).await.status, 403, "guests have no dashboards");
}

#[tokio::test]
async fn more_dashboards_are_premium_and_turn_read_only_after_the_grace_days() {
    let t = team().await;
    // Free: a second dashboard is refused with the feature named, and nothing is written.
    let r = t.app.post(D, &t.m.token, json!({"name": "My week"})).await;
    r.err(402, "plan_required");
    assert!(r.message().contains("dashboards"), "{}", r.message());
    assert_eq!(t.app.dump("SELECT id FROM dashboards").len(), 1);
    premium(&t).await;
    let mine = t
        .app
        .post(D, &t.m.token, json!({"name": "My week"}))
        .await
        .ok(201)
        .clone();
    assert_eq!(
        (mine["is_shared"].as_bool(), mine["user_id"].as_str()),
        (Some(false), Some(t.m.id.as_str()))
    );
    // A member's own are theirs alone; shared ones are the admins'.
    t.app
        .post(D, &t.m.token, json!({"name": "For all", "is_shared": true}))
        .await
        .err(403, "forbidden");
    let shared = t
        .app
        .post(
            D,
            &t.a.token,
            json!({"name": "Sprint", "is_shared": true, "config": {"filters": {"priority": "urgent,high"}}}),
        )
        .await
        .ok(201)
        .clone();
    t.app
        .post(D, &t.a.token, json!({"name": "sprint", "is_shared": true}))
        .await
        .err(409, "name_taken");
    let names = |v: &Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|d| d["name"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        names(t.app.get(D, &t.m.token).await.ok(200)),
        ["Overview", "My week", "Sprint"]
    );
    assert_eq!(names(t.app.get(D, &t.a.token).await.ok(200)), ["Overview", "Sprint"]);
    let mid = id(&mine);
    t.app.get(&format!("{D}/{mid}"), &t.a.token).await.err(404, "not_found");
    let w = t
        .app
        .post(
            &format!("{D}/{mid}/widgets"),
            &t.m.token,
            json!({"widget_type": "number", "title": "Logged", "config": {"y_axis": "logged_minutes"}}),
        )
        .await
        .ok(201)
        .clone();
    // Past the grace days: everything still opens, nothing premium changes; deleting does.
    let ws = display_id(&t).await;
    let gone = sign(&TEST_KEY_SEED, &payload(&ws, &day(-380), &day(-15)));
    t.app.put(LICENCE, &t.o.token, json!({"licence": gone})).await.ok(200);
    let opened = t.app.get(&format!("{D}/{mid}"), &t.m.token).await.ok(200).clone();
    assert_eq!(
        (opened["locked"].as_bool(), opened["can_edit"].as_bool()),
        (Some(true), Some(false))
    );
    assert_eq!(opened["widgets"].as_array().unwrap().len(), 1);
    t.app.get(&format!("{D}/{mid}/data"), &t.m.token).await.ok(200);
    let before = t.app.dump("SELECT * FROM dashboards ORDER BY id");
    let widgets_before = t.app.dump("SELECT * FROM dashboard_widgets ORDER BY id");
    t.app
        .patch(&format!("{D}/{mid}"), &t.m.token, json!({"name": "Renamed"}))
        .await
        .err(402, "plan_required");
    let wid = id(&w);
    t.app
        .patch(
            &format!("{D}/{mid}/widgets/{wid}"),
            &t.m.token,
            json!({"position": {"x": 6, "y": 0, "w": 6, "h": 4}}),
        )
        .await
        .err(402, "plan_required");
    t.app
        .post(
            &format!("{D}/{mid}/widgets"),
            &t.m.token,
            json!({"widget_type": "text", "config": {"text": "x"}}),
        )
        .await
        .err(402, "plan_required");
    t.app
        .post(D, &t.m.token, json!({"name": "Another"}))
        .await
        .err(402, "plan_required");
    assert_eq!(t.app.dump("SELECT * FROM dashboards ORDER BY id"), before);
    assert_eq!(
        t.app.dump("SELECT * FROM dashboard_widgets ORDER BY id"),
        widgets_before
    );
    t.app.delete(&format!("{D}/{}", id(&shared)), &t.a.token).await.ok(204);
    assert_eq!(names(t.app.get(D, &t.m.token).await.ok(200)), ["Overview", "My week"]);
}

#[tokio::test]
async fn widgets_are_held_to_the_grid_the_registry_and_the_chart_builder() {
    let t = team().await;
    premium(&t).await;
    let types = t.app.get("/api/v1/dashboard-widget-types", "").await.ok(200).clone();
    let keys: Vec<&str> = types
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["key"].as_str().unwrap())
        .collect();
    assert!(keys.contains(&"chart") && keys.contains(&"text"), "{keys:?}");
    let did = id(t.app.post(D, &t.m.token, json!({"name": "Mine"})).await.ok(201));
    let w = format!("{D}/{did}/widgets");
    let bad = |body: Value, field_says: &'static str| {
        let (app, token, w) = (&t.app, t.m.token.clone(), w.clone());
        async move {
            let r = app.post(&w, &token, body.clone()).await;
            assert_eq!(r.status, 422, "{body}: {}", r.body);
            assert!(r.body.to_string().contains(field_says), "{body}: {}", r.body);
        }
    };
    bad(json!({"widget_type": "clock"}), "chart, number").await;
    bad(json!({"widget_type": "chart", "config": {}}), "x_axis is required").await;
    bad(
        json!({"widget_type": "chart", "config": {"x_axis": "PLANETS"}}),
        "STATE_GROUPS",
    )
    .await;
    bad(
        json!({"widget_type": "chart", "config": {"x_axis": "LABELS", "group_by": "LABELS"}}),
        "must differ",
    )
    .await;
    bad(
        json!({"widget_type": "chart", "config": {"x_axis": "LABELS", "sql": "drop"}}),
        "not a setting",
    )
    .await;
    bad(
        json!({"widget_type": "text", "config": {"text": "x"}, "position": {"x": 20, "y": 0, "w": 6, "h": 2}}),
        "24 columns",
    )
    .await;
    bad(
        json!({"widget_type": "text", "config": {"text": "x"}, "refresh_seconds": 30}),
        "60 to 86400",
    )
    .await;
    bad(
        json!({"widget_type": "chart", "config": {"x_axis": "LABELS"}, "chart_type": "radar"}),
        "donut",
    )
    .await;
    assert_eq!(
        t.app
            .dump(
                "SELECT id FROM dashboard_widgets WHERE dashboard_id = '{did}'"
                    .replace("{did}", &did)
                    .as_str()
            )
            .len(),
        0
    );
    // A good one goes below the others at its type's size; moving it keeps it on the grid.
    let a = t
        .app
        .post(
            &w,
            &t.m.token,
            json!({"widget_type": "chart", "config": {"x_axis": "PRIORITY"}, "chart_type": "donut"}),
        )
        .await
        .ok(201)
        .clone();
    assert_eq!(a["position"], json!({"x": 0, "y": 0, "w": 12, "h": 8}));
    let b = t
        .app
        .post(
            &w,
            &t.m.token,
            json!({"widget_type": "text", "config": {"text": "note"}}),
        )
        .await
        .ok(201)
        .clone();
    assert_eq!(b["position"], json!({"x": 0, "y": 8, "w": 8, "h": 4}));
    let moved = t
        .app
        .patch(
            &format!("{w}/{}", id(&b)),
            &t.m.token,
            json!({"position": {"x": 12, "y": 0, "w": 12, "h": 8}, "is_visible": false}),
        )
        .await
        .ok(200)
        .clone();
    assert_eq!(moved["position"], json!({"x": 12, "y": 0, "w": 12, "h": 8}));
    // Hidden widgets are not in the dashboard's data.
    let data = t.app.get(&format!("{D}/{did}/data"), &t.m.token).await.ok(200).clone();
    assert_eq!(data["widgets"].as_array().unwrap().len(), 1);
    t.app
        .patch(&format!("{w}/{}", id(&b)), &t.m.token, json!({"widget_type": "chart"}))
        .await
        .err(422, "immutable_field");
    // Somebody else's dashboard is not there for anyone else, admins included.
    t.app
        .post(&w, &t.o.token, json!({"widget_type": "text", "config": {"text": "x"}}))
        .await
        .err(404, "not_found");
    t.app.delete(&format!("{w}/{}", id(&a)), &t.m.token).await.ok(204);
    let left = t.app.get(&format!("{D}/{did}"), &t.m.token).await.ok(200).clone();
    assert_eq!(left["widgets"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_widget_never_shows_a_project_its_viewer_cannot_read() {
    let t = team().await;
    let secret = t.app.create_project(&t.o, "acme", "SEC", true).await;
    t.app
        .post(
            &format!("/api/v1/workspaces/acme/projects/{secret}/issues"),
            &t.o.token,
            json!({"name": "hush"}),
        )
        .await
        .ok(201);
    let did = id(&t.app.get(D, &t.o.token).await.ok(200)[0]);
    t.app
        .post(
            &format!("{D}/{did}/widgets"),
            &t.o.token,
            json!({"widget_type": "chart", "config": {"x_axis": "PRIORITY", "project": secret}}),
        )
        .await
        .ok(201);
    let pick = |v: &Value| v["widgets"].as_array().unwrap().last().unwrap().clone();
    let owner = pick(t.app.get(&format!("{D}/{did}/data"), &t.o.token).await.ok(200));
    assert_eq!(
        (owner["status"].as_str(), owner["data"]["total"].as_i64()),
        (Some("ok"), Some(1))
    );
    let member = pick(t.app.get(&format!("{D}/{did}/data"), &t.m.token).await.ok(200));
    assert_eq!(member["status"], "restricted", "{member}");
    assert!(member["data"].is_null());
    assert!(member["message"].as_str().unwrap().contains("cannot see"));
    // The unfiltered widgets count only what the member sees: the overview has no issue.
    let all = t.app.get(&format!("{D}/{did}/data"), &t.m.token).await.ok(200).clone();
    assert_eq!(all["widgets"][0]["data"]["total_work_items"]["count"], 0);
}

/// An update creating one field-shaped record.
fn field_create(table: &str, id: &str, fields: &[(&str, Any)]) -> Vec<u8> {
    let doc = Doc::new();
    let root = doc.get_or_insert_map(table);
    let mut txn = doc.transact_mut();
    let prelim: MapPrelim = fields.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
    root.insert(&mut txn, id.to_string(), prelim);
    txn.encode_update_v1()
}

fn dashboard_fields(ws: &str, user: &str, name: &str) -> Vec<(&'static str, Any)> {
    let now = "2026-12-01T10:00:00.000Z";
    vec![
        ("workspace_id", Any::from(ws)),
        ("user_id", Any::from(user)),
        ("name", Any::from(name)),
        ("description", Any::from("")),
        ("is_default", Any::from(0i64)),
        ("config", Any::from("{}")),
        ("sort_order", Any::from(0i64)),
        ("created_at", Any::from(now)),
        ("updated_at", Any::from(now)),
        ("created_by", Any::from(user)),
        ("deleted_at", Any::Null),
    ]
}

#[tokio::test]
async fn a_device_is_held_to_the_same_plan_and_owners_offline() {
    let t = team().await;
    let ws = ws_id(&t);
    let d = pair_device(&t.app, "member@example.com", "member laptop").await;
    let mut s = open(&t.app, d["token"].as_str(), None).await.unwrap();
    let (manifest, _) = handshake(&mut s, &t.m.id).await;
    // The member's device holds the shared dashboards, not anybody's own.
    let docs: Vec<&str> = manifest.docs.iter().map(|d| d.id.as_str()).collect();
    assert!(docs.contains(&format!("dashboards:{ws}:shared").as_str()), "{docs:?}");
    let own = format!("dashboards:{ws}:{}", t.m.id);
    let push = |doc: &str, seq: u64, update: Vec<u8>| Frame::Update {
        doc_id: doc.to_string(),
        workspace_id: ws.clone(),
        seq,
        update,
    };
    // On a free workspace, a dashboard made offline is refused as the API refuses it.
    let dash = "01a20000-0000-7000-8000-0000000000d1";
    send(
        &mut s,
        &push(
            &own,
            1,
            field_create("dashboards", dash, &dashboard_fields(&ws, &t.m.id, "Offline")),
        ),
    )
    .await;
    let e = rejected(&mut s).await;
    assert!(e.message.contains("premium"), "{}", e.message);
    assert!(t
        .app
        .dump("SELECT id FROM dashboards WHERE name = 'Offline'")
        .is_empty());
    // Nor may the member's device write the shared dashboards (admins'), nor somebody else's.
    let shared = format!("dashboards:{ws}:shared");
    let other = "01a20000-0000-7000-8000-0000000000d2";
    let mut f = dashboard_fields(&ws, &t.m.id, "Shared");
    f[1] = ("user_id", Any::Null);
    send(&mut s, &push(&shared, 2, field_create("dashboards", other, &f))).await;
    let e = rejected(&mut s).await;
    assert!(e.message.contains("may not change"), "{}", e.message);
    assert!(t.app.dump("SELECT id FROM dashboards WHERE name = 'Shared'").is_empty());
    // With premium, the same record is taken and shows through the API.
    premium(&t).await;
    let dash2 = "01a20000-0000-7000-8000-0000000000d3";
    send(
        &mut s,
        &push(
            &own,
            3,
            field_create("dashboards", dash2, &dashboard_fields(&ws, &t.m.id, "Offline")),
        ),
    )
    .await;
    let mut acked = false;
    while let Ok(Some(f)) = tokio::time::timeout(std::time::Duration::from_millis(1000), next(&mut s)).await {
        if f == Frame::Ack(3) {
            acked = true;
            break;
        }
    }
    assert!(acked, "the premium dashboard was not taken");
    let list = t.app.get(D, &t.m.token).await.ok(200).clone();
    assert!(
        list.as_array().unwrap().iter().any(|d| d["name"] == "Offline"),
        "{list}"
    );
}

#[tokio::test]
async fn a_workspace_made_before_dashboards_gets_its_default_at_start_once() {
    let t = team().await;
    let ws = ws_id(&t);
    // As a workspace made before V021 stands: no dashboard rows.
    let app = t.app.app.clone();
    tokio::task::spawn_blocking(move || {
        app.writer
            .write_blocking(|ctx| {
                for sql in ["DELETE FROM dashboard_widgets", "DELETE FROM dashboards"] {
                    ctx.conn
                        .execute(sql, [])
                        .map_err(|e| keel::error::AppError::internal(e.to_string()))?;
                }
                Ok(())
            })
            .unwrap();
    })
    .await
    .unwrap();
    let start = |app: keel::App| async move {
        tokio::task::spawn_blocking(move || keel::dashboards::ensure_defaults_blocking(&app).unwrap())
            .await
            .unwrap()
    };
    start(t.app.app.clone()).await;
    let rows = t
        .app
        .dump("SELECT workspace_id, is_default FROM dashboards WHERE deleted_at IS NULL");
    assert_eq!(rows, vec![json!({"workspace_id": ws, "is_default": 1})]);
    assert_eq!(t.app.get(D, &t.m.token).await.ok(200)[0]["is_default"], true);
    assert_eq!(t.app.dump("SELECT id FROM dashboard_widgets").len(), 4);
    // Once there, a second start makes no other.
    start(t.app.app.clone()).await;
    assert_eq!(t.app.dump("SELECT id FROM dashboards").len(), 1);
}
