//! A dashboard exported as a document and imported into another workspace (seed 002): the
//! ids its filters name mapped by project identifier, name and email, its workspace metrics
//! carried; the round trip equal; every problem of a bad document listed with nothing
//! written; premium both ways.

use serde_json::{json, Value};

use crate::helpers::{team, Team};
use crate::plans::premium;

/// A project `WEB` of `slug` with a label `bug`: (project id, label id, started state id).
async fn project(t: &Team, slug: &str) -> (String, String, String) {
    let pid = t.app.create_project(&t.o, slug, "WEB", false).await;
    let p = format!("/api/v1/workspaces/{slug}/projects/{pid}");
    let label = t
        .app
        .post(&format!("{p}/labels"), &t.o.token, json!({"name": "bug"}))
        .await
        .ok(201)["id"]
        .as_str()
        .unwrap()
        .to_string();
    let states = t.app.get(&format!("{p}/states"), &t.o.token).await.ok(200).clone();
    let started = states
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["group"] == "started")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    (pid, label, started)
}

/// A document with its ids written as what they stand for, and without what differs by
/// workspace (the export's time, metric ids): two exports of the same dashboard read alike.
fn described(doc: &Value) -> Value {
    let refs = &doc["references"];
    let key = |kind: &str, id: &str| -> String {
        match kind {
            "projects" | "people" => refs[kind][id].as_str().unwrap_or(id).to_string(),
            _ => format!(
                "{}/{}",
                refs[kind][id]["project"].as_str().unwrap_or("?"),
                refs[kind][id]["name"].as_str().unwrap_or(id)
            ),
        }
    };
    let kinds = [
        ("project", "projects"),
        ("state", "states"),
        ("label", "labels"),
        ("cycle", "cycles"),
        ("module", "modules"),
        ("assignee", "people"),
        ("created_by", "people"),
    ];
    let rewrite = |cfg: &Value| -> Value {
        let mut c = cfg.clone();
        for (k, kind) in kinds {
            if let Some(s) = cfg[k].as_str() {
                c[k] = json!(s.split(',').map(|id| key(kind, id)).collect::<Vec<_>>().join(","));
            }
        }
        c
    };
    let metric_name = |id: &str| -> String {
        doc["metrics"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["id"] == id)
            .map_or(id.to_string(), |m| m["name"].as_str().unwrap().to_string())
    };
    let widgets: Vec<Value> = doc["widgets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| {
            let mut w = w.clone();
            let mut cfg = rewrite(&w["config"]);
            if let Some(m) = cfg["metric"].as_str() {
                cfg["metric"] = json!(metric_name(m));
            }
            w["config"] = cfg;
            w
        })
        .collect();
    let metrics: Vec<Value> = doc["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            let mut m = m.clone();
            m["id"] = Value::Null;
            m["query"]["filters"] = rewrite(&m["query"]["filters"]);
            m
        })
        .collect();
    let mut d = doc["dashboard"].clone();
    d["config"]["filters"] = rewrite(&d["config"]["filters"]);
    json!({"dashboard": d, "widgets": widgets, "metrics": metrics})
}

#[tokio::test]
async fn a_dashboard_exported_and_imported_elsewhere_is_the_same_dashboard() {
    let t = team().await;
    premium(&t, "acme").await;
    let (pid, bug, started) = project(&t, "acme").await;
    let d = "/api/v1/workspaces/acme/dashboards";
    let dash = t
        .app
        .post(
            d,
            &t.a.token,
            json!({"name": "Ops", "is_shared": true, "description": "The team's", "config": {"filters": {"project": pid}}}),
        )
        .await
        .ok(201)
        .clone();
    let did = dash["id"].as_str().unwrap();
    let metric = t
        .app
        .post(
            "/api/v1/workspaces/acme/metrics",
            &t.a.token,
            json!({"name": "In progress", "query": {"measure": "work_item_count", "filters": {"state": started}}, "warning_threshold": 5}),
        )
        .await
        .ok(201)
        .clone();
    for w in [
        json!({"widget_type": "chart", "title": "Bugs by assignee", "config": {"x_axis": "ASSIGNEES", "label": bug, "assignee": format!("{},none", t.m.id)}, "chart_type": "bar"}),
        json!({"widget_type": "metric", "title": "WIP", "config": {"metric": metric["id"]}}),
        json!({"widget_type": "metric", "title": "Open", "config": {"metric": "system-open-work-items"}}),
        json!({"widget_type": "text", "title": "Note", "config": {"text": "Ship it"}, "position": {"x": 0, "y": 20, "w": 6, "h": 3}}),
    ] {
        t.app.post(&format!("{d}/{did}/widgets"), &t.a.token, w).await.ok(201);
    }
    let doc = t
        .app
        .get(&format!("{d}/{did}/export"), &t.m.token)
        .await
        .ok(200)
        .clone();
    assert_eq!(
        (doc["format"].as_str(), doc["version"].as_i64()),
        (Some("keel-dashboard"), Some(1))
    );
    assert_eq!(doc["references"]["projects"][&pid], "WEB");
    assert_eq!(
        doc["references"]["labels"][&bug],
        json!({"project": "WEB", "name": "bug"})
    );
    assert_eq!(doc["references"]["people"][&t.m.id], "member@example.com");
    assert_eq!(
        doc["metrics"].as_array().unwrap().len(),
        1,
        "only the workspace's own metric"
    );
    // Another workspace with the same project, label and member.
    t.app.create_workspace(&t.o, "beta").await;
    t.app.add_member(&t.o, "beta", &t.m, "member").await;
    let (pid2, bug2, started2) = project(&t, "beta").await;
    let beta = "/api/v1/workspaces/beta/dashboards";
    // Free there: refused before anything is read.
    t.app
        .post(&format!("{beta}/import"), &t.o.token, json!({"document": doc}))
        .await
        .err(402, "plan_required");
    premium(&t, "beta").await;
    let made = t
        .app
        .post(
            &format!("{beta}/import"),
            &t.o.token,
            json!({"document": doc, "is_shared": true}),
        )
        .await
        .ok(201)
        .clone();
    assert_eq!(
        (made["name"].as_str(), made["is_shared"].as_bool()),
        (Some("Ops"), Some(true))
    );
    let widgets = made["widgets"].as_array().unwrap();
    assert_eq!(widgets.len(), 4);
    let chart = widgets.iter().find(|w| w["widget_type"] == "chart").unwrap();
    assert_eq!(chart["config"]["label"], bug2.as_str());
    assert_eq!(chart["config"]["assignee"], format!("{},none", t.m.id));
    assert_eq!(made["config"]["filters"]["project"], pid2.as_str());
    let m2 = t.app.dump("SELECT id, query, warning_threshold FROM dashboard_metrics WHERE name = 'In progress' AND workspace_id <> (SELECT id FROM workspaces WHERE slug = 'acme')");
    assert_eq!(m2.len(), 1);
    assert!(m2[0]["query"].as_str().unwrap().contains(&started2), "{m2:?}");
    assert_eq!(m2[0]["warning_threshold"], "5");
    let wip = widgets.iter().find(|w| w["title"] == "WIP").unwrap();
    assert_eq!(wip["config"]["metric"], m2[0]["id"]);
    // Its data answers there: every widget ok.
    let mid = made["id"].as_str().unwrap();
    let data = t
        .app
        .get(&format!("{beta}/{mid}/data"), &t.o.token)
        .await
        .ok(200)
        .clone();
    assert!(
        data["widgets"].as_array().unwrap().iter().all(|w| w["status"] == "ok"),
        "{data}"
    );
    // Exported again from there, it reads as the first.
    let again = t
        .app
        .get(&format!("{beta}/{mid}/export"), &t.o.token)
        .await
        .ok(200)
        .clone();
    assert_eq!(described(&again), described(&doc));
    // Imported a second time, the metric of the same name is used, not made twice.
    t.app
        .post(
            &format!("{beta}/import"),
            &t.o.token,
            json!({"document": doc, "name": "Ops 2"}),
        )
        .await
        .ok(201);
    assert_eq!(
        t.app
            .dump("SELECT id FROM dashboard_metrics WHERE name = 'In progress'")
            .len(),
        2
    );
    let _ = pid;
}

#[tokio::test]
async fn a_bad_document_is_refused_whole_with_every_problem_and_where_it_is() {
    let t = team().await;
    premium(&t, "acme").await;
    let d = "/api/v1/workspaces/acme/dashboards";
    let before = t.app.dump("SELECT id FROM dashboards").len();
    let ghost = "01a20000-0000-7000-8000-00000000aaaa";
    let doc = json!({
        "format": "keel-dashboard", "version": 1,
        "dashboard": {"name": "Broken", "config": {"filters": {"project": ghost}}},
        "widgets": [
            {"widget_type": "gauge", "position": {"x": 0, "y": 0, "w": 6, "h": 4}},
            {"widget_type": "chart", "config": {"x_axis": "NOPE"}, "position": {"x": 0, "y": 0, "w": 6, "h": 4}},
            {"widget_type": "chart", "config": {"x_axis": "PRIORITY"}, "position": {"x": 20, "y": 0, "w": 12, "h": 4}},
            {"widget_type": "metric", "config": {"metric": "nowhere"}, "position": {"x": 0, "y": 0, "w": 6, "h": 4}},
        ],
        "references": {"projects": {ghost: "GONE"}},
    });
    let r = t
        .app
        .post(&format!("{d}/import"), &t.o.token, json!({"document": doc}))
        .await;
    r.err(422, "import_invalid");
    let rows = r.body["error"]["rows"].as_array().unwrap().clone();
    let at: Vec<(&str, &str)> = rows
        .iter()
        .map(|p| (p["column"].as_str().unwrap(), p["code"].as_str().unwrap()))
        .collect();
    for want in [
        ("dashboard.config.filters.project", "unknown_project"),
        ("widgets[0].widget_type", "unknown_widget_type"),
        ("widgets[1].config", "invalid_value"),
        ("widgets[2].position", "invalid_value"),
        ("widgets[3].config.metric", "unknown_metric"),
    ] {
        assert!(at.contains(&want), "{want:?} not in {at:?}");
    }
    assert!(rows[0]["message"].as_str().unwrap().contains("GONE"), "{rows:?}");
    assert_eq!(t.app.dump("SELECT id FROM dashboards").len(), before, "nothing written");
    // Not a document of this kind at all.
    for bad in [
        json!({"format": "other", "version": 1, "dashboard": {"name": "x"}}),
        json!({"format": "keel-dashboard", "version": 2, "dashboard": {"name": "x"}}),
        json!({"format": "keel-dashboard", "version": 1, "dashboard": {"name": "x"}, "extra": true}),
        json!("just text"),
    ] {
        t.app
            .post(&format!("{d}/import"), &t.o.token, json!({"document": bad}))
            .await
            .err(422, "import_unreadable");
    }
    // A member imports their own, never a shared one.
    let doc = json!({"format": "keel-dashboard", "version": 1, "dashboard": {"name": "Mine"}});
    t.app
        .post(
            &format!("{d}/import"),
            &t.m.token,
            json!({"document": doc, "is_shared": true}),
        )
        .await
        .err(403, "forbidden");
    let mine = t
        .app
        .post(&format!("{d}/import"), &t.m.token, json!({"document": doc}))
        .await
        .ok(201)
        .clone();
    assert_eq!(mine["user_id"], t.m.id.as_str());
}

#[tokio::test]
async fn export_is_premium_and_names_nothing_its_caller_cannot_see() {
    let t = team().await;
    let d = "/api/v1/workspaces/acme/dashboards";
    let did = t.app.get(d, &t.o.token).await.ok(200)[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    t.app
        .get(&format!("{d}/{did}/export"), &t.o.token)
        .await
        .err(402, "plan_required");
    premium(&t, "acme").await;
    let secret = t.app.create_project(&t.o, "acme", "SEC", true).await;
    t.app
        .post(
            &format!("{d}/{did}/widgets"),
            &t.o.token,
            json!({"widget_type": "chart", "config": {"x_axis": "PRIORITY", "project": secret}}),
        )
        .await
        .ok(201);
    let member = t
        .app
        .get(&format!("{d}/{did}/export"), &t.m.token)
        .await
        .ok(200)
        .clone();
    assert!(member["references"]["projects"].get(&secret).is_none(), "{member}");
    assert!(!member.to_string().contains("SEC"));
    let owner = t
        .app
        .get(&format!("{d}/{did}/export"), &t.o.token)
        .await
        .ok(200)
        .clone();
    assert_eq!(owner["references"]["projects"][&secret], "SEC");
    // Nor does an import tell a member whether a private project of a name is there: it is
    // as unknown to them as one that is not.
    let probe = |ident: &str| {
        json!({"format": "keel-dashboard", "version": 1,
               "dashboard": {"name": format!("Probe {ident}"), "config": {"filters": {"project": "01a20000-0000-7000-8000-00000000bbbb"}}},
               "references": {"projects": {"01a20000-0000-7000-8000-00000000bbbb": ident}}})
    };
    for ident in ["SEC", "NOPE"] {
        let r = t
            .app
            .post(&format!("{d}/import"), &t.m.token, json!({"document": probe(ident)}))
            .await;
        r.err(422, "import_invalid");
        assert_eq!(
            r.body["error"]["rows"][0]["code"], "unknown_project",
            "{ident}: {}",
            r.body
        );
    }
    // The owner, who sees it, gets it mapped.
    t.app
        .post(&format!("{d}/import"), &t.o.token, json!({"document": probe("SEC")}))
        .await
        .ok(201);
}
