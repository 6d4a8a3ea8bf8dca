//! Dashboards: the free default one every workspace has, more of them on premium (402
//! otherwise, read-only once a licence ran out), who arranges what, the widgets' rules and
//! data (never of a project the viewer cannot read), and the same rules for a device's
//! offline edits.

use keel::plans::licence::TEST_KEY_SEED;
use keel::sync::wire::Frame;
use serde_json::{json, Value};
use yrs::{Any, Doc, Map, MapPrelim, Transact};

use crate::helpers::{team, Team};
use crate::plans::{day, display_id, payload, premium, sign};
use crate::sync::raw::*;

const D: &str = "/api/v1/workspaces/acme/dashboards";
const LICENCE: &str = "/api/v1/workspaces/acme/licence";

fn ws_id(t: &Team) -> String {
    t.app.dump("SELECT id FROM workspaces WHERE slug = 'acme'")[0]["id"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Whether the server acknowledges update `seq` within a second of frames.
pub(crate) async fn acked(s: &mut Ws, seq: u64) -> bool {
    while let Ok(Some(f)) = tokio::time::timeout(std::time::Duration::from_millis(1000), next(s)).await {
        if f == Frame::Ack(seq) {
            return true;
        }
    }
    false
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
    premium(&t, "acme").await;
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
    premium(&t, "acme").await;
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
    // Where it first fits: beside the chart.
    assert_eq!(b["position"], json!({"x": 12, "y": 0, "w": 8, "h": 4}));
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
pub(crate) fn field_create(table: &str, id: &str, fields: &[(&str, Any)]) -> Vec<u8> {
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
    premium(&t, "acme").await;
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
    let acked = acked(&mut s, 3).await;
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

#[tokio::test]
async fn a_saved_layout_keeps_its_versions_and_any_of_them_comes_back() {
    let t = team().await;
    let did = id(&t.app.get(D, &t.a.token).await.ok(200).clone()[0]);
    let full = t.app.get(&format!("{D}/{did}"), &t.a.token).await.ok(200).clone();
    let ws: Vec<String> = full["widgets"].as_array().unwrap().iter().map(id).collect();
    let pos = |d: &Value, wid: &str| {
        d["widgets"]
            .as_array()
            .unwrap()
            .iter()
            .find(|w| w["id"] == wid)
            .unwrap()["position"]
            .clone()
    };
    let before = pos(&full, &ws[1]);
    let layout = format!("{D}/{did}/layout");
    // Only an admin arranges the shared default; a member is refused and nothing moves.
    let moved = json!({"widgets": [{"id": ws[1], "position": {"x": 12, "y": 0, "w": 12, "h": 6}}]});
    t.app
        .put(&layout, &t.m.token, moved.clone())
        .await
        .err(403, "forbidden");
    assert_eq!(
        pos(
            &t.app.get(&format!("{D}/{did}"), &t.a.token).await.ok(200).clone(),
            &ws[1]
        ),
        before
    );
    // The first save: the widget moves, and the whole grid is kept as version 1.
    let d1 = t.app.put(&layout, &t.a.token, moved).await.ok(200).clone();
    assert_eq!(pos(&d1, &ws[1]), json!({"x": 12, "y": 0, "w": 12, "h": 6}));
    assert_eq!(pos(&d1, &ws[0]), pos(&full, &ws[0]), "widgets not named stay");
    // A second save resizes another.
    let resized = json!({"widgets": [{"id": ws[0], "position": {"x": 0, "y": 0, "w": 12, "h": 3}}]});
    t.app.put(&layout, &t.a.token, resized).await.ok(200);
    let versions = t
        .app
        .get(&format!("{D}/{did}/layouts"), &t.m.token)
        .await
        .ok(200)
        .clone();
    let versions = versions.as_array().unwrap();
    assert_eq!(versions.len(), 2);
    assert_eq!(
        (versions[0]["version"].as_u64(), versions[1]["version"].as_u64()),
        (Some(2), Some(1))
    );
    assert_eq!(versions[1]["positions"].as_object().unwrap().len(), 4, "the whole grid");
    assert_eq!(
        versions[1]["positions"][&ws[1]],
        json!({"x": 12, "y": 0, "w": 12, "h": 6})
    );
    assert_eq!(versions[0]["positions"][&ws[0]]["w"], 12);
    // Restoring version 1 puts widget 0 back to its width then; widget 1 keeps version 1's place.
    let v1 = id(&versions[1]);
    let back = t
        .app
        .post(&format!("{D}/{did}/layouts/{v1}/restore"), &t.a.token, json!({}))
        .await
        .ok(200)
        .clone();
    assert_eq!(pos(&back, &ws[0]), pos(&full, &ws[0]));
    assert_eq!(pos(&back, &ws[1]), json!({"x": 12, "y": 0, "w": 12, "h": 6}));
    let versions = t
        .app
        .get(&format!("{D}/{did}/layouts"), &t.a.token)
        .await
        .ok(200)
        .clone();
    assert_eq!(versions[0]["note"], "restored version 1");
    assert_eq!(versions[0]["version"], 3);
    // A widget deleted since is left out of a restore; the others come back.
    t.app
        .delete(&format!("{D}/{did}/widgets/{}", ws[3]), &t.a.token)
        .await
        .ok(204);
    let v2 = id(&versions[1]);
    let back = t
        .app
        .post(&format!("{D}/{did}/layouts/{v2}/restore"), &t.a.token, json!({}))
        .await
        .ok(200)
        .clone();
    assert_eq!(back["widgets"].as_array().unwrap().len(), 3);
    assert_eq!(pos(&back, &ws[0])["w"], 12);
    // Bad layouts are refused whole: a widget of no such id, one named twice, a position off
    // the grid, one without a position; nothing moves and no version is kept.
    let n = t.app.dump("SELECT count(*) AS n FROM dashboard_layouts")[0]["n"].clone();
    for bad in [
        json!({"widgets": [{"id": "nope", "position": {"x": 0, "y": 0, "w": 2, "h": 2}}]}),
        json!({"widgets": [
            {"id": ws[0], "position": {"x": 0, "y": 0, "w": 2, "h": 2}},
            {"id": ws[0], "position": {"x": 2, "y": 0, "w": 2, "h": 2}}]}),
        json!({"widgets": [{"id": ws[0], "position": {"x": 20, "y": 0, "w": 8, "h": 2}}]}),
        json!({"widgets": [{"id": ws[0]}]}),
    ] {
        t.app
            .put(&layout, &t.a.token, bad.clone())
            .await
            .err(422, "validation_failed");
    }
    assert_eq!(t.app.dump("SELECT count(*) AS n FROM dashboard_layouts")[0]["n"], n);
    assert_eq!(
        pos(
            &t.app.get(&format!("{D}/{did}"), &t.a.token).await.ok(200).clone(),
            &ws[0]
        )["w"],
        12
    );
    // A member may not restore the shared dashboard's layout either.
    t.app
        .post(&format!("{D}/{did}/layouts/{v1}/restore"), &t.m.token, json!({}))
        .await
        .err(403, "forbidden");
    // A layout of another dashboard is not found on this one.
    premium(&t, "acme").await;
    let other = id(t.app.post(D, &t.a.token, json!({"name": "Mine"})).await.ok(201));
    let w = id(t
        .app
        .post(
            &format!("{D}/{other}/widgets"),
            &t.a.token,
            json!({"widget_type": "text", "config": {"text": "x"}}),
        )
        .await
        .ok(201));
    let moved = json!({"widgets": [{"id": w, "position": {"x": 3, "y": 0, "w": 4, "h": 2}}]});
    t.app
        .put(&format!("{D}/{other}/layout"), &t.a.token, moved)
        .await
        .ok(200);
    let theirs = id(&t
        .app
        .get(&format!("{D}/{other}/layouts"), &t.a.token)
        .await
        .ok(200)
        .clone()[0]);
    t.app
        .post(&format!("{D}/{did}/layouts/{theirs}/restore"), &t.a.token, json!({}))
        .await
        .err(404, "not_found");
}

#[tokio::test]
async fn a_dashboard_keeps_its_last_fifty_layouts() {
    let t = team().await;
    let did = id(&t.app.get(D, &t.a.token).await.ok(200).clone()[0]);
    let full = t.app.get(&format!("{D}/{did}"), &t.a.token).await.ok(200).clone();
    let wid = id(&full["widgets"][0]);
    for n in 0..52 {
        let p = json!({"widgets": [{"id": wid, "position": {"x": 0, "y": 0, "w": 1 + n % 24, "h": 4}}]});
        t.app.put(&format!("{D}/{did}/layout"), &t.a.token, p).await.ok(200);
    }
    let versions = t
        .app
        .get(&format!("{D}/{did}/layouts"), &t.a.token)
        .await
        .ok(200)
        .clone();
    let versions = versions.as_array().unwrap();
    assert_eq!(versions.len(), 50);
    assert_eq!(
        (versions[0]["version"].as_u64(), versions[49]["version"].as_u64()),
        (Some(52), Some(3))
    );
    // An admin's device is held to the same history: a 51st live layout, made offline
    // without retiring the oldest, is refused and nothing is kept of it.
    let ws = ws_id(&t);
    let d = pair_device(&t.app, "admin@example.com", "admin laptop").await;
    let mut s = open(&t.app, d["token"].as_str(), None).await.unwrap();
    handshake(&mut s, &t.a.id).await;
    let now = "2026-12-01T10:00:00.000Z";
    let layout = "01a20000-0000-7000-8000-0000000000f1";
    let positions = json!({ wid.as_str(): {"x": 0, "y": 0, "w": 6, "h": 4} }).to_string();
    let fields = vec![
        ("workspace_id", Any::from(ws.as_str())),
        ("user_id", Any::Null),
        ("dashboard_id", Any::from(did.as_str())),
        ("positions", Any::from(positions.as_str())),
        ("note", Any::from("offline")),
        ("created_at", Any::from(now)),
        ("updated_at", Any::from(now)),
        ("created_by", Any::from(t.a.id.as_str())),
        ("deleted_at", Any::Null),
    ];
    let frame = Frame::Update {
        doc_id: format!("dashboards:{ws}:shared"),
        workspace_id: ws.clone(),
        seq: 1,
        update: field_create("dashboard_layouts", layout, &fields),
    };
    send(&mut s, &frame).await;
    let e = rejected(&mut s).await;
    assert!(e.message.contains("keeps 50"), "{}", e.message);
    assert!(t
        .app
        .dump(&format!("SELECT id FROM dashboard_layouts WHERE id = '{layout}'"))
        .is_empty());
    let live = t.app.dump(&format!(
        "SELECT count(*) AS n FROM dashboard_layouts WHERE dashboard_id = '{did}' AND deleted_at IS NULL"
    ));
    assert_eq!(live[0]["n"], 50);
}

/// The dashboards rows of a data dir, canonical.
fn dashboard_rows(dir: &std::path::Path) -> Vec<Vec<Value>> {
    ["dashboards", "dashboard_widgets", "dashboard_layouts"]
        .iter()
        .map(|t| crate::helpers::dump_db(&dir.join("keel.db"), &format!("SELECT * FROM {t} ORDER BY id")))
        .collect()
}

#[tokio::test]
async fn a_dashboard_arranged_on_two_devices_offline_merges_the_same_everywhere() {
    use crate::cli::{register, start_on};
    use crate::sync::{eventually, login, pair};
    use std::time::Duration;
    let (ds, da, db) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    let mut server = start_on(ds.path(), "127.0.0.1:0");
    let url = server.base.clone();
    let bind = url.trim_start_matches("http://").to_string();
    let owner = register(&server, "olivia@example.com").await;
    register(&server, "ada@example.com").await;
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
            json!({"email": "ada@example.com", "role": "admin"}),
        )
        .await;
    assert_eq!(st, 201);
    let (_, list) = server.get(D, &owner).await;
    let did = id(&list[0]);
    let (_, full) = server.get(&format!("{D}/{did}"), &owner).await;
    let chart = id(&full["widgets"][1]);

    // Two admins' devices pair and receive the default dashboard.
    pair(da.path(), &url, "olivia@example.com", "Olivia's laptop");
    pair(db.path(), &url, "ada@example.com", "Ada's laptop");
    let a = start_on(da.path(), "127.0.0.1:0");
    let b = start_on(db.path(), "127.0.0.1:0");
    let (ta, tb) = (
        login(&a, "olivia@example.com").await,
        login(&b, "ada@example.com").await,
    );
    for (dev, tok) in [(&a, &ta), (&b, &tb)] {
        eventually("the device receives the dashboard", Duration::from_secs(20), || async {
            let (st, d) = dev.get(&format!("{D}/{did}"), tok).await;
            st == 200 && d["widgets"].as_array().is_some_and(|w| w.len() == 4)
        })
        .await;
    }

    // The server goes away; each device adds a widget and moves the same chart elsewhere.
    assert!(server.sigterm().success());
    let mut moved = Vec::new();
    for (dev, tok, note, pos) in [
        (
            &a,
            &ta,
            "From Olivia's laptop",
            json!({"x": 12, "y": 20, "w": 12, "h": 8}),
        ),
        (&b, &tb, "From Ada's laptop", json!({"x": 0, "y": 30, "w": 24, "h": 6})),
    ] {
        let (st, w) = dev
            .post(
                &format!("{D}/{did}/widgets"),
                Some(tok),
                json!({"widget_type": "text", "title": note, "config": {"text": note}}),
            )
            .await;
        assert_eq!(st, 201, "{w}");
        let (st, d) = dev
            .put(
                &format!("{D}/{did}/layout"),
                tok,
                json!({"widgets": [{"id": chart, "position": pos}]}),
            )
            .await;
        assert_eq!(st, 200, "{d}");
        moved.push(pos);
    }

    // The server returns: the three converge to the same rows.
    let server = start_on(ds.path(), &bind);
    let dirs = [ds.path(), da.path(), db.path()];
    let t = std::time::Instant::now();
    let converged = || {
        let s = dashboard_rows(dirs[0]);
        s[1].len() == 6 && s[2].len() == 2 && dashboard_rows(dirs[1]) == s && dashboard_rows(dirs[2]) == s
    };
    while !converged() && t.elapsed() < Duration::from_secs(30) {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        converged(),
        "the three did not converge: {:?}",
        dirs.map(dashboard_rows)
    );
    // Both widgets are kept, both saved layouts are in the history, and the chart sits in one
    // of the two places it was moved to, the same on every instance.
    let owner = login(&server, "olivia@example.com").await;
    let (_, d) = server.get(&format!("{D}/{did}"), &owner).await;
    let titles: Vec<&str> = d["widgets"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|w| w["title"].as_str())
        .collect();
    assert!(
        titles.contains(&"From Olivia's laptop") && titles.contains(&"From Ada's laptop"),
        "{titles:?}"
    );
    let at = d["widgets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["id"] == chart.as_str())
        .unwrap()["position"]
        .clone();
    assert!(moved.contains(&at), "{at} is neither move");
    for (dev, tok) in [(&a, &ta), (&b, &tb)] {
        let (_, dd) = dev.get(&format!("{D}/{did}"), tok).await;
        let p = dd["widgets"]
            .as_array()
            .unwrap()
            .iter()
            .find(|w| w["id"] == chart.as_str())
            .unwrap()["position"]
            .clone();
        assert_eq!(p, at);
    }
    let (_, versions) = server.get(&format!("{D}/{did}/layouts"), &owner).await;
    assert_eq!(versions.as_array().unwrap().len(), 2, "{versions}");
}

#[tokio::test]
async fn each_person_keeps_favourites_and_a_default_of_their_own() {
    let t = team().await;
    premium(&t, "acme").await;
    let shared = t
        .app
        .post(D, &t.a.token, json!({"name": "Delivery", "is_shared": true}))
        .await
        .ok(201)
        .clone();
    let mine = t
        .app
        .post(D, &t.m.token, json!({"name": "My week"}))
        .await
        .ok(201)
        .clone();
    let (shared, mine) = (id(&shared), id(&mine));
    let names = |v: &Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|d| d["name"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        names(t.app.get(D, &t.m.token).await.ok(200)),
        ["Overview", "Delivery", "My week"]
    );
    // A favourite comes after the defaults, before the rest; it is the member's alone.
    let fav = t
        .app
        .put(&format!("{D}/{mine}/favorite"), &t.m.token, json!({}))
        .await
        .ok(200)
        .clone();
    assert_eq!(fav["is_favorite"], true);
    assert_eq!(
        names(t.app.get(D, &t.m.token).await.ok(200)),
        ["Overview", "My week", "Delivery"]
    );
    // Their own default comes first; choosing another unmarks it.
    let d = t
        .app
        .put(&format!("{D}/{shared}/my-default"), &t.m.token, json!({}))
        .await
        .ok(200)
        .clone();
    assert_eq!(
        (d["is_my_default"].as_bool(), d["is_default"].as_bool()),
        (Some(true), Some(false))
    );
    assert_eq!(
        names(t.app.get(D, &t.m.token).await.ok(200)),
        ["Delivery", "Overview", "My week"]
    );
    t.app
        .put(&format!("{D}/{mine}/my-default"), &t.m.token, json!({}))
        .await
        .ok(200);
    let list = t.app.get(D, &t.m.token).await.ok(200).clone();
    assert_eq!(names(&list), ["My week", "Overview", "Delivery"]);
    assert_eq!(list[0]["is_favorite"], true, "a default stays a favourite");
    let defaults = list
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["is_my_default"] == true)
        .count();
    assert_eq!(defaults, 1);
    // Nobody else is affected: the admin still opens the workspace's default.
    let theirs = t.app.get(D, &t.a.token).await.ok(200).clone();
    assert_eq!(names(&theirs), ["Overview", "Delivery"]);
    assert!(theirs
        .as_array()
        .unwrap()
        .iter()
        .all(|d| d["is_favorite"] == false && d["is_my_default"] == false));
    // Back to the workspace's default; unmarking a favourite twice changes nothing more.
    t.app
        .delete(&format!("{D}/{mine}/my-default"), &t.m.token)
        .await
        .ok(200);
    t.app.delete(&format!("{D}/{mine}/favorite"), &t.m.token).await.ok(200);
    t.app.delete(&format!("{D}/{mine}/favorite"), &t.m.token).await.ok(200);
    assert_eq!(
        names(t.app.get(D, &t.m.token).await.ok(200)),
        ["Overview", "Delivery", "My week"]
    );
    // Another person's dashboard is not there to choose; neither is a deleted one.
    t.app
        .put(&format!("{D}/{mine}/favorite"), &t.a.token, json!({}))
        .await
        .err(404, "not_found");
    t.app
        .put(&format!("{D}/{shared}/my-default"), &t.m.token, json!({}))
        .await
        .ok(200);
    t.app.delete(&format!("{D}/{shared}"), &t.a.token).await.ok(204);
    let list = t.app.get(D, &t.m.token).await.ok(200).clone();
    assert_eq!(names(&list), ["Overview", "My week"], "a deleted default falls back");
    // The choices are kept in the person's own document.
    let rows = t.app.dump("SELECT id, user_id FROM dashboard_prefs");
    assert!(rows.iter().all(|r| r["user_id"] == t.m.id.as_str()), "{rows:?}");
}

#[tokio::test]
async fn a_device_chooses_only_dashboards_its_person_sees() {
    let t = team().await;
    premium(&t, "acme").await;
    let ws = ws_id(&t);
    let theirs = id(t.app.post(D, &t.a.token, json!({"name": "Admin's own"})).await.ok(201));
    let default = id(&t.app.get(D, &t.m.token).await.ok(200).clone()[0]);
    let d = pair_device(&t.app, "member@example.com", "member laptop").await;
    let mut s = open(&t.app, d["token"].as_str(), None).await.unwrap();
    handshake(&mut s, &t.m.id).await;
    let doc = format!("user:{ws}:{}", t.m.id);
    let pref = |dash: &str| {
        let now = "2026-12-01T10:00:00.000Z";
        vec![
            ("workspace_id", Any::from(ws.as_str())),
            ("user_id", Any::from(t.m.id.as_str())),
            ("dashboard_id", Any::from(dash)),
            ("is_favorite", Any::from(1i64)),
            ("is_default", Any::from(0i64)),
            ("created_at", Any::from(now)),
            ("updated_at", Any::from(now)),
            ("created_by", Any::from(t.m.id.as_str())),
            ("deleted_at", Any::Null),
        ]
    };
    let push = |seq: u64, update: Vec<u8>| Frame::Update {
        doc_id: doc.clone(),
        workspace_id: ws.clone(),
        seq,
        update,
    };
    // Another person's own dashboard is refused as the API refuses it.
    let key = format!("{}:{theirs}", t.m.id);
    send(&mut s, &push(1, field_create("dashboard_prefs", &key, &pref(&theirs)))).await;
    let e = rejected(&mut s).await;
    assert!(e.message.contains("no dashboard of yours"), "{}", e.message);
    assert!(t.app.dump("SELECT id FROM dashboard_prefs").is_empty());
    // One record per dashboard, under its key: another key for the same dashboard is refused.
    let wrong = format!("{}:another", t.m.id);
    send(
        &mut s,
        &push(2, field_create("dashboard_prefs", &wrong, &pref(&default))),
    )
    .await;
    let e = rejected(&mut s).await;
    assert!(e.message.contains("kept under"), "{}", e.message);
    // The shared default is the member's to mark, and shows through the API.
    let key = format!("{}:{default}", t.m.id);
    send(&mut s, &push(3, field_create("dashboard_prefs", &key, &pref(&default)))).await;
    let acked = acked(&mut s, 3).await;
    assert!(acked, "the choice was not taken");
    let list = t.app.get(D, &t.m.token).await.ok(200).clone();
    assert_eq!(list[0]["is_favorite"], true, "{list}");
}

#[tokio::test]
async fn a_choice_a_device_deleted_is_made_again_through_the_api() {
    use yrs::updates::decoder::Decode;
    use yrs::{ReadTxn, Transact};
    let t = team().await;
    let ws = ws_id(&t);
    let did = id(&t.app.get(D, &t.m.token).await.ok(200).clone()[0]);
    t.app
        .put(&format!("{D}/{did}/favorite"), &t.m.token, json!({}))
        .await
        .ok(200);
    // The member's device deletes the choice (its record stays, with `deleted_at`).
    let d = keel::docs::DocRef::user(&ws, &t.m.id);
    let c = rusqlite::Connection::open(t.app.app.config.db_path()).unwrap();
    let state = keel::docs::document_state(&c, &d.id).unwrap().unwrap();
    let doc = yrs::Doc::new();
    doc.transact_mut()
        .apply_update(yrs::Update::decode_v1(&state).unwrap())
        .unwrap();
    let sv = doc.transact().state_vector();
    let root = doc.get_or_insert_map("dashboard_prefs");
    let update = {
        let mut txn = doc.transact_mut();
        let Some(yrs::Out::YMap(r)) = root.get(&txn, &format!("{}:{did}", t.m.id)) else {
            panic!("no choice record")
        };
        r.insert(&mut txn, "deleted_at", "2026-12-02T10:00:00.000Z");
        drop(txn);
        doc.transact().encode_diff_v1(&sv)
    };
    let (user, dd) = (t.m.id.clone(), d.clone());
    t.app
        .app
        .writer
        .write(move |ctx| ctx.apply_remote(&keel::docs::Who::User(user), &dd, &update).map(|_| ()))
        .await
        .unwrap();
    assert_eq!(
        t.app.get(&format!("{D}/{did}"), &t.m.token).await.ok(200)["is_favorite"],
        false
    );
    // Marking it again sets the same record live (no second record, no 500).
    let v = t
        .app
        .put(&format!("{D}/{did}/favorite"), &t.m.token, json!({}))
        .await
        .ok(200)
        .clone();
    assert_eq!(v["is_favorite"], true);
    assert_eq!(t.app.dump("SELECT id FROM dashboard_prefs").len(), 1);
}
