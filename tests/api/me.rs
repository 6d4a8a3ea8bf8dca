//! A person's own records: user properties, home preferences, quick links, recent visits,
//! stickies.

use std::time::Duration;

use serde_json::{json, Value};

use crate::helpers::team;

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn user_properties_default_save_per_entity_and_stay_personal() {
    let t = team().await;
    let pid = t.app.create_project(&t.o, "acme", "WEB", false).await;
    let p = format!("/api/v1/workspaces/acme/projects/{pid}");
    t.app
        .post(
            &format!("{p}/members"),
            &t.o.token,
            json!({"user_id": t.g.id, "role": "guest"}),
        )
        .await
        .ok(201);
    let cycle = id(t
        .app
        .post(&format!("{p}/cycles"), &t.o.token, json!({"name": "S1"}))
        .await
        .ok(201));
    let module = id(t
        .app
        .post(&format!("{p}/modules"), &t.o.token, json!({"name": "M1"}))
        .await
        .ok(201));
    let ws = "/api/v1/workspaces/acme/user-properties";
    let d = t.app.get(ws, &t.g.token).await.ok(200).clone();
    assert_eq!(
        (d["entity_type"].as_str(), d["is_saved"].as_bool()),
        (Some("WORKSPACE"), Some(false))
    );
    assert_eq!(d["display_filters"]["layout"], "list");
    assert_eq!(d["extra"]["navigation_project_limit"], 10);
    let pd = t
        .app
        .get(&format!("{p}/user-properties"), &t.g.token)
        .await
        .ok(200)
        .clone();
    assert_eq!(pd["extra"]["sort_order"], 65535);

    // Each given field replaces the saved one; the others stay.
    let r = t
        .app
        .patch(
            &format!("{p}/user-properties"),
            &t.g.token,
            json!({"display_filters": {"layout": "board", "group_by": "state"}}),
        )
        .await;
    let saved = r.ok(200).clone();
    assert_eq!(
        (saved["is_saved"].as_bool(), saved["display_filters"]["layout"].as_str()),
        (Some(true), Some("board"))
    );
    assert_eq!(saved["display_properties"], pd["display_properties"]);
    let r = t
        .app
        .patch(
            &format!("{p}/user-properties"),
            &t.g.token,
            json!({"filters": {"priority": ["urgent"]}}),
        )
        .await;
    assert_eq!(r.ok(200)["display_filters"]["layout"], "board");
    assert_eq!(r.body["filters"]["priority"][0], "urgent");
    // Personal: the owner still gets the defaults for the same project.
    assert_eq!(
        t.app.get(&format!("{p}/user-properties"), &t.o.token).await.ok(200)["is_saved"],
        false
    );
    // Cycles and modules have their own.
    for path in [
        format!("{p}/cycles/{cycle}/user-properties"),
        format!("{p}/modules/{module}/user-properties"),
    ] {
        let r = t
            .app
            .patch(&path, &t.o.token, json!({"display_properties": {"key": false}}))
            .await;
        assert_eq!(r.ok(200)["display_properties"]["key"], false, "{path}");
        assert_eq!(t.app.get(&path, &t.o.token).await.ok(200)["is_saved"], true);
    }
    t.app
        .get(
            &format!("{p}/cycles/00000000-0000-7000-8000-000000000000/user-properties"),
            &t.o.token,
        )
        .await
        .err(404, "not_found");
    // Bad input: every field named, nothing saved.
    let r = t.app.patch(ws, &t.g.token, json!({"filters": [1], "extra": "x"})).await;
    r.err(422, "validation_failed");
    assert!(r.body["error"]["fields"]["filters"].is_string() && r.body["error"]["fields"]["extra"].is_string());
    let r = t
        .app
        .patch(ws, &t.g.token, json!({"rich_filters": {"x": "y".repeat(20_000)}}))
        .await;
    r.err(422, "validation_failed");
    assert_eq!(t.app.get(ws, &t.g.token).await.ok(200)["is_saved"], false);
}

#[tokio::test]
async fn home_preferences_quick_links_and_stickies() {
    let t = team().await;
    let h = "/api/v1/workspaces/acme/home-preferences";
    let d = t.app.get(h, &t.m.token).await.ok(200).clone();
    let keys: Vec<&str> = d
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["quick_links", "recents", "my_stickies"]);
    assert!(d.as_array().unwrap().iter().all(|p| p["is_enabled"] == true));
    let r = t
        .app
        .patch(
            &format!("{h}/recents"),
            &t.m.token,
            json!({"is_enabled": false, "sort_order": 1, "config": {"limit": 5}}),
        )
        .await;
    assert_eq!(
        (r.ok(200)["is_enabled"].as_bool(), r.body["config"]["limit"].as_i64()),
        (Some(false), Some(5))
    );
    let d = t.app.get(h, &t.m.token).await.ok(200).clone();
    assert_eq!(d[0]["key"], "recents", "ordered by sort_order");
    t.app
        .patch(&format!("{h}/widgets"), &t.m.token, json!({"is_enabled": false}))
        .await
        .err(404, "not_found");
    t.app
        .patch(&format!("{h}/recents"), &t.m.token, json!({"config": [1]}))
        .await
        .err(422, "validation_failed");
    assert_eq!(
        t.app.get(h, &t.o.token).await.ok(200)[0]["key"],
        "quick_links",
        "personal"
    );

    let q = "/api/v1/workspaces/acme/quick-links";
    t.app
        .post(q, &t.m.token, json!({"title": "x"}))
        .await
        .err(422, "validation_failed");
    for bad in ["javascript:alert(1)", "data:text/html,<script>", "https://a b"] {
        t.app
            .post(q, &t.m.token, json!({"url": bad}))
            .await
            .err(422, "validation_failed");
    }
    let a = t
        .app
        .post(q, &t.m.token, json!({"url": "https://docs.keel.dev/start"}))
        .await
        .ok(201)
        .clone();
    assert_eq!(
        a["title"], "https://docs.keel.dev/start",
        "untitled links are called by their address"
    );
    let b = t
        .app
        .post(
            q,
            &t.m.token,
            json!({"url": "https://status.keel.dev", "title": "Status"}),
        )
        .await
        .ok(201)
        .clone();
    assert!(b["sort_order"].as_i64() > a["sort_order"].as_i64());
    let r = t
        .app
        .patch(
            &format!("{q}/{}", id(&a)),
            &t.m.token,
            json!({"title": "Docs", "sort_order": 99_999}),
        )
        .await;
    assert_eq!(r.ok(200)["title"], "Docs");
    let list = t.app.get(q, &t.m.token).await.ok(200).clone();
    assert_eq!(list[0]["title"], "Status");
    t.app
        .patch(&format!("{q}/{}", id(&a)), &t.o.token, json!({"title": "mine"}))
        .await
        .err(404, "not_found");
    t.app
        .delete(&format!("{q}/{}", id(&a)), &t.o.token)
        .await
        .err(404, "not_found");
    t.app.delete(&format!("{q}/{}", id(&a)), &t.m.token).await.ok(204);
    assert_eq!(t.app.get(q, &t.m.token).await.ok(200).as_array().unwrap().len(), 1);

    let s = "/api/v1/workspaces/acme/stickies";
    let st = t
        .app
        .post(s, &t.g.token, json!({"name": "Todo", "description_html": "<p>call <b>Ann</b><script>x()</script></p>", "color": "#FFEE00"}))
        .await
        .ok(201)
        .clone();
    assert_eq!(st["description_html"], "<p>call <b>Ann</b></p>");
    assert_eq!(st["color"], "#ffee00");
    t.app
        .post(s, &t.g.token, json!({"color": "yellow"}))
        .await
        .err(422, "validation_failed");
    let r = t
        .app
        .patch(
            &format!("{s}/{}", id(&st)),
            &t.g.token,
            json!({"color": null, "name": "Done"}),
        )
        .await;
    assert!(r.ok(200)["color"].is_null());
    assert_eq!(r.body["description_html"], "<p>call <b>Ann</b></p>");
    t.app
        .patch(&format!("{s}/{}", id(&st)), &t.m.token, json!({"name": "x"}))
        .await
        .err(404, "not_found");
    t.app.delete(&format!("{s}/{}", id(&st)), &t.g.token).await.ok(204);
    assert!(t.app.get(s, &t.g.token).await.ok(200).as_array().unwrap().is_empty());
    // Outsiders have no home here.
    let stranger = t.app.register("stranger@example.com").await;
    t.app.get(s, &stranger.token).await.err(404, "not_found");
}

#[tokio::test]
async fn opening_things_records_recent_visits() {
    let t = team().await;
    let pid = t.app.create_project(&t.o, "acme", "WEB", false).await;
    let p = format!("/api/v1/workspaces/acme/projects/{pid}");
    let issue = id(t
        .app
        .post(&format!("{p}/issues"), &t.o.token, json!({"name": "Fix it"}))
        .await
        .ok(201));
    let cycle = id(t
        .app
        .post(&format!("{p}/cycles"), &t.o.token, json!({"name": "S1"}))
        .await
        .ok(201));
    let r = "/api/v1/workspaces/acme/recent-visits";
    assert!(t.app.get(r, &t.o.token).await.ok(200).as_array().unwrap().is_empty());
    t.app.get(&p, &t.o.token).await.ok(200);
    t.app.get(&format!("{p}/issues/{issue}"), &t.o.token).await.ok(200);
    t.app.get(&format!("{p}/cycles/{cycle}"), &t.o.token).await.ok(200);
    // Visits are recorded off the request path: wait for them (bounded).
    let mut seen = Value::Null;
    for _ in 0..100 {
        seen = t.app.get(r, &t.o.token).await.ok(200).clone();
        if seen.as_array().unwrap().len() == 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let got: Vec<(String, String)> = seen
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["entity_type"].as_str().unwrap().into(),
                v["name"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(got.len(), 3, "{seen}");
    assert!(got.contains(&("issue".into(), "WEB-1 Fix it".into())), "{got:?}");
    assert!(got.contains(&("project".into(), "Project WEB".into())));
    assert!(got.contains(&("cycle".into(), "S1".into())));
    let only = t
        .app
        .get(&format!("{r}?entity_type=issue"), &t.o.token)
        .await
        .ok(200)
        .clone();
    assert_eq!(only.as_array().unwrap().len(), 1);
    t.app
        .get(&format!("{r}?entity_type=planet"), &t.o.token)
        .await
        .err(422, "validation_failed");
    // Personal, and deleted things drop out.
    assert!(t.app.get(r, &t.m.token).await.ok(200).as_array().unwrap().is_empty());
    t.app.delete(&format!("{p}/issues/{issue}"), &t.o.token).await.ok(204);
    assert_eq!(t.app.get(r, &t.o.token).await.ok(200).as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn a_person_keeps_their_last_hundred_recent_visits_not_every_one() {
    let t = team().await;
    let pid = t.app.create_project(&t.o, "acme", "WEB", false).await;
    let p = format!("/api/v1/workspaces/acme/projects/{pid}");
    let mut last = String::new();
    for n in 0..105 {
        last = id(t
            .app
            .post(
                &format!("{p}/issues"),
                &t.o.token,
                json!({"name": format!("Issue {n}")}),
            )
            .await
            .ok(201));
        t.app.get(&format!("{p}/issues/{last}"), &t.o.token).await.ok(200);
    }
    let count = |t: &crate::helpers::Team| {
        t.app.dump(&format!(
            "SELECT COUNT(*) AS n, SUM(entity_id = '{last}') AS has_last FROM recent_visits WHERE user_id = '{}'",
            t.o.id
        ))[0]
            .clone()
    };
    let mut c = count(&t);
    for _ in 0..200 {
        if c["has_last"] == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        c = count(&t);
    }
    assert_eq!(c["has_last"], 1, "{c}");
    assert_eq!(c["n"], 100, "one record per slot: {c}");
    let list = t
        .app
        .get("/api/v1/workspaces/acme/recent-visits", &t.o.token)
        .await
        .ok(200)
        .clone();
    assert_eq!(list.as_array().unwrap().len(), 20);
    assert_eq!(list[0]["entity_id"], last.as_str(), "newest first");
}
