//! Work items: states, labels, issues, comments, activity, filters and full-text search.

use serde_json::{json, Value};

use crate::helpers::{team, Team, TestApp, User};

/// A public project `WEB` of `acme` where the member is a member and the guest a guest.
async fn project(t: &Team) -> String {
    let pid = t.app.create_project(&t.o, "acme", "WEB", false).await;
    for (u, role) in [(&t.m, "member"), (&t.g, "guest")] {
        t.app
            .post(
                &format!("/api/v1/workspaces/acme/projects/{pid}/members"),
                &t.o.token,
                json!({"user_id": u.id, "role": role}),
            )
            .await
            .ok(201);
    }
    format!("/api/v1/workspaces/acme/projects/{pid}")
}

async fn issue(app: &TestApp, p: &str, who: &User, body: Value) -> Value {
    app.post(&format!("{p}/issues"), &who.token, body).await.ok(201).clone()
}

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_string()
}

fn state_id(states: &Value, name: &str) -> String {
    states
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == name)
        .map(id)
        .unwrap()
}

#[tokio::test]
async fn issues_get_numbers_default_states_and_completed_at() {
    let t = team().await;
    let p = project(&t).await;
    let states = t.app.get(&format!("{p}/states"), &t.g.token).await.ok(200).clone();
    let groups: Vec<&str> = states
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["group"].as_str().unwrap())
        .collect();
    assert_eq!(groups, ["backlog", "unstarted", "started", "completed", "cancelled"]);
    assert_eq!(states[0]["is_default"], true);

    let a = issue(&t.app, &p, &t.m, json!({"name": "  First  "})).await;
    assert_eq!((a["sequence_id"].as_i64(), a["key"].as_str()), (Some(1), Some("WEB-1")));
    assert_eq!(a["name"], "First");
    assert_eq!(a["state_id"], states[0]["id"]);
    assert_eq!(
        (a["priority"].as_str(), a["completed_at"].is_null()),
        (Some("none"), true)
    );
    let b = issue(
        &t.app,
        &p,
        &t.m,
        json!({"name": "Second", "state_id": state_id(&states, "Done")}),
    )
    .await;
    assert_eq!(b["key"], "WEB-2");
    assert!(b["completed_at"].is_string(), "created straight into a completed state");

    // Entering and leaving the completed group sets and clears completed_at.
    let done = state_id(&states, "Done");
    let todo = state_id(&states, "Todo");
    let r = t
        .app
        .patch(&format!("{p}/issues/{}", id(&a)), &t.m.token, json!({"state_id": done}))
        .await;
    assert!(r.ok(200)["completed_at"].is_string());
    assert_eq!(r.body["state_group"], "completed");
    let r = t
        .app
        .patch(&format!("{p}/issues/{}", id(&a)), &t.m.token, json!({"state_id": todo}))
        .await;
    assert!(r.ok(200)["completed_at"].is_null());
    // A state whose group changes to completed carries its issues with it.
    let r = t
        .app
        .patch(&format!("{p}/states/{todo}"), &t.o.token, json!({"group": "completed"}))
        .await;
    r.ok(200);
    let r = t.app.get(&format!("{p}/issues/{}", id(&a)), &t.m.token).await;
    assert!(r.ok(200)["completed_at"].is_string());

    // The activity names who changed what from what to what.
    let act = t
        .app
        .get(&format!("{p}/issues/{}/activity", id(&a)), &t.g.token)
        .await
        .ok(200)
        .clone();
    let items = act["items"].as_array().unwrap();
    assert_eq!(items[0]["verb"], "created");
    assert_eq!(items[0]["actor_id"].as_str(), Some(t.m.id.as_str()));
    assert_eq!(
        (
            items[1]["field"].as_str(),
            items[1]["old_value"].as_str(),
            items[1]["new_value"].as_str()
        ),
        (Some("state"), states[0]["id"].as_str(), Some(done.as_str()))
    );
    assert_eq!(act["total"], 3);

    // Only its creator or a project admin deletes an issue; numbers are never reused.
    let r = t.app.delete(&format!("{p}/issues/{}", id(&b)), &t.a.token).await;
    r.ok(204); // workspace admin = project admin
    t.app
        .get(&format!("{p}/issues/{}", id(&b)), &t.m.token)
        .await
        .err(404, "not_found");
    let other = t.app.register("other@example.com").await;
    t.app.add_member(&t.o, "acme", &other, "member").await;
    t.app
        .post(
            &format!("{p}/members"),
            &t.o.token,
            json!({"user_id": other.id, "role": "member"}),
        )
        .await
        .ok(201);
    t.app
        .delete(&format!("{p}/issues/{}", id(&a)), &other.token)
        .await
        .err(403, "not_issue_author");
    let c = issue(&t.app, &p, &t.m, json!({"name": "Third"})).await;
    assert_eq!(c["key"], "WEB-3");
}

#[tokio::test]
async fn every_bad_field_is_refused_and_nothing_is_written() {
    let t = team().await;
    let p = project(&t).await;
    let other = t.app.create_project(&t.o, "acme", "API", false).await;
    let foreign_state = t
        .app
        .get(&format!("/api/v1/workspaces/acme/projects/{other}/states"), &t.o.token)
        .await
        .ok(200)[0]["id"]
        .clone();
    let foreign_label = t
        .app
        .post(
            &format!("/api/v1/workspaces/acme/projects/{other}/labels"),
            &t.o.token,
            json!({"name": "x"}),
        )
        .await
        .ok(201)["id"]
        .clone();
    let parent = issue(&t.app, &p, &t.m, json!({"name": "Parent"})).await;
    let child = issue(&t.app, &p, &t.m, json!({"name": "Child", "parent_id": id(&parent)})).await;
    assert_eq!(child["parent_id"], parent["id"]);
    let before = t.app.dump("SELECT * FROM issues ORDER BY id");
    let docs_before = t.app.dump("SELECT COUNT(*) AS n FROM doc_updates");

    let cases = [
        (json!({}), "name"),
        (json!({"name": "  "}), "name"),
        (json!({"name": "x".repeat(256)}), "name"),
        (json!({"name": "ok", "state_id": "nope"}), "state_id"),
        (json!({"name": "ok", "state_id": foreign_state}), "state_id"),
        (json!({"name": "ok", "estimate_time": 0}), "estimate_time"),
        (json!({"name": "ok", "estimate_point": -1}), "estimate_point"),
        (json!({"name": "ok", "start_date": "2026-13-01"}), "start_date"),
        (
            json!({"name": "ok", "start_date": "2026-05-02", "target_date": "2026-05-01"}),
            "target_date",
        ),
        (json!({"name": "ok", "assignee_ids": [t.a.id]}), "assignee_ids"),
        (json!({"name": "ok", "assignee_ids": ["not-an-id"]}), "assignee_ids"),
        (json!({"name": "ok", "label_ids": [foreign_label]}), "label_ids"),
        (
            json!({"name": "ok", "parent_id": "00000000-0000-7000-8000-000000000000"}),
            "parent_id",
        ),
        (
            json!({"name": "ok", "description_html": "a".repeat(100_001)}),
            "description_html",
        ),
    ];
    for (body, field) in cases {
        let r = t.app.post(&format!("{p}/issues"), &t.m.token, body.clone()).await;
        r.err(422, "validation_failed");
        assert!(r.body["error"]["fields"][field].is_string(), "{body}: {}", r.body);
    }
    // Wrong types are refused by the body parser with the same shape.
    let r = t
        .app
        .post(
            &format!("{p}/issues"),
            &t.m.token,
            json!({"name": "ok", "priority": "asap"}),
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    // A parent cannot become its own descendant.
    let r = t
        .app
        .patch(
            &format!("{p}/issues/{}", id(&parent)),
            &t.m.token,
            json!({"parent_id": id(&child)}),
        )
        .await;
    r.err(422, "validation_failed");
    assert!(r.body["error"]["message"].is_string() && r.body["error"]["fields"]["parent_id"].is_string());
    let r = t
        .app
        .patch(
            &format!("{p}/issues/{}", id(&child)),
            &t.m.token,
            json!({"target_date": "2026-01-01", "start_date": "2026-02-01"}),
        )
        .await;
    r.err(422, "validation_failed");
    assert_eq!(t.app.dump("SELECT * FROM issues ORDER BY id"), before);
    assert_eq!(t.app.dump("SELECT COUNT(*) AS n FROM doc_updates"), docs_before);
    // `null` clears a field; an absent field stays.
    let r = t
        .app
        .patch(
            &format!("{p}/issues/{}", id(&child)),
            &t.m.token,
            json!({"parent_id": null}),
        )
        .await;
    assert!(r.ok(200)["parent_id"].is_null());
    assert_eq!(r.body["name"], "Child");
}

#[tokio::test]
async fn rich_text_is_sanitized_and_comments_follow_their_rules() {
    let t = team().await;
    let p = project(&t).await;
    let a = issue(
        &t.app,
        &p,
        &t.m,
        json!({"name": "XSS", "description_html": "<p onclick=\"steal()\">Hello<script>alert(1)</script></p><a href=\"javascript:alert(1)\">x</a><img src=\"x\" onerror=\"alert(1)\">"}),
    )
    .await;
    let html = a["description_html"].as_str().unwrap();
    for bad in ["script", "onclick", "onerror", "javascript:"] {
        assert!(!html.contains(bad), "{bad} survived in {html}");
    }
    assert!(html.contains("<p>Hello</p>"), "{html}");
    let stored = t
        .app
        .dump(&format!("SELECT description_html FROM issues WHERE id = '{}'", id(&a)));
    assert_eq!(stored[0]["description_html"].as_str(), Some(html));

    let c = format!("{p}/issues/{}/comments", id(&a));
    // Guests take part in the discussion.
    let r = t
        .app
        .post(
            &c,
            &t.g.token,
            json!({"comment_html": "<b>ok</b><svg onload=alert(1)></svg>"}),
        )
        .await;
    let gc = r.ok(201).clone();
    assert_eq!(gc["comment_html"], "<b>ok</b>");
    t.app
        .post(&c, &t.g.token, json!({"comment_html": "<script>x</script>"}))
        .await
        .err(422, "validation_failed");
    let mc = t
        .app
        .post(&c, &t.m.token, json!({"comment_html": "member says"}))
        .await
        .ok(201)
        .clone();
    // Only the author edits; the author or a project admin deletes.
    t.app
        .patch(
            &format!("{c}/{}", id(&gc)),
            &t.m.token,
            json!({"comment_html": "hijack"}),
        )
        .await
        .err(403, "not_comment_author");
    let r = t
        .app
        .patch(
            &format!("{c}/{}", id(&gc)),
            &t.g.token,
            json!({"comment_html": "edited <i>x</i>"}),
        )
        .await;
    assert!(r.ok(200)["edited_at"].is_string());
    t.app
        .delete(&format!("{c}/{}", id(&mc)), &t.g.token)
        .await
        .err(403, "not_comment_author");
    t.app.delete(&format!("{c}/{}", id(&mc)), &t.o.token).await.ok(204);
    let list = t.app.get(&c, &t.g.token).await.ok(200).clone();
    assert_eq!(list["total"], 1);
    assert_eq!(list["items"][0]["comment_html"], "edited <i>x</i>");
    // A deleted comment keeps no text.
    let gone = t.app.dump(&format!(
        "SELECT comment_html, deleted_at FROM issue_comments WHERE id = '{}'",
        id(&mc)
    ));
    assert_eq!(gone[0]["comment_html"], "");
    assert!(gone[0]["deleted_at"].is_string());
    // Guests cannot change issues.
    t.app
        .patch(&format!("{p}/issues/{}", id(&a)), &t.g.token, json!({"name": "x"}))
        .await
        .err(403, "forbidden");
}

#[tokio::test]
async fn lists_filter_search_order_group_and_paginate() {
    let t = team().await;
    let p = project(&t).await;
    let states = t.app.get(&format!("{p}/states"), &t.m.token).await.ok(200).clone();
    let started = state_id(&states, "In Progress");
    let bug = id(t
        .app
        .post(
            &format!("{p}/labels"),
            &t.m.token,
            json!({"name": "Bug", "color": "#FF0000"}),
        )
        .await
        .ok(201));
    let ui = id(t
        .app
        .post(&format!("{p}/labels"), &t.m.token, json!({"name": "UI"}))
        .await
        .ok(201));
    t.app
        .post(&format!("{p}/labels"), &t.m.token, json!({"name": "bug"}))
        .await
        .err(409, "label_exists");
    let login = issue(
        &t.app,
        &p,
        &t.m,
        json!({"name": "Login fails on Safari", "priority": "urgent", "assignee_ids": [t.m.id],
               "label_ids": [bug], "state_id": started, "target_date": "2026-12-01"}),
    )
    .await;
    let dark = issue(
        &t.app,
        &p,
        &t.m,
        json!({"name": "Dark mode", "description_html": "<p>Colours of the <em>sidebar</em></p>",
               "priority": "low", "label_ids": [ui], "target_date": "2026-11-15", "start_date": "2026-11-01"}),
    )
    .await;
    let export = issue(
        &t.app,
        &p,
        &t.o,
        json!({"name": "CSV export", "priority": "high", "assignee_ids": [t.m.id, t.o.id]}),
    )
    .await;
    t.app
        .post(
            &format!("{p}/issues/{}/comments", id(&export)),
            &t.m.token,
            json!({"comment_html": "Customers want spreadsheets"}),
        )
        .await
        .ok(201);
    for i in 0..7 {
        issue(&t.app, &p, &t.o, json!({"name": format!("Chore {i}")})).await;
    }
    let list = |q: &'static str| {
        let app = &t.app;
        let p = p.clone();
        let token = t.m.token.clone();
        async move { app.get(&format!("{p}/issues?{q}"), &token).await.ok(200).clone() }
    };
    let names = |v: &Value| -> Vec<String> {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["name"].as_str().unwrap().to_string())
            .collect()
    };
    let all = list("per_page=100").await;
    assert_eq!(all["total"], 10);
    assert_eq!(names(&all)[0], "Chore 6", "newest first by default");

    assert_eq!(names(&list("priority=urgent,high").await).len(), 2);
    assert_eq!(names(&list("state_group=started").await), ["Login fails on Safari"]);
    let by_state = format!("state={started}");
    assert_eq!(
        t.app.get(&format!("{p}/issues?{by_state}"), &t.m.token).await.ok(200)["total"],
        1
    );
    let by_label = t
        .app
        .get(&format!("{p}/issues?label={ui},{bug}&order_by=sequence_id"), &t.m.token)
        .await
        .ok(200)
        .clone();
    assert_eq!(names(&by_label), ["Login fails on Safari", "Dark mode"]);
    let mine = t
        .app
        .get(
            &format!("{p}/issues?assignee={}&order_by=sequence_id", t.m.id),
            &t.m.token,
        )
        .await
        .ok(200)
        .clone();
    assert_eq!(names(&mine), ["Login fails on Safari", "CSV export"]);
    assert_eq!(list("assignee=none").await["total"], 8);
    assert_eq!(
        names(&list("target_from=2026-11-01&target_to=2026-11-30").await),
        ["Dark mode"]
    );
    assert_eq!(names(&list("start_from=2026-10-01").await), ["Dark mode"]);
    let by_creator = t
        .app
        .get(&format!("{p}/issues?created_by={}", t.o.id), &t.m.token)
        .await
        .ok(200)
        .clone();
    assert_eq!(by_creator["total"], 8);

    // Full text: titles, descriptions and comments; prefixes; every word must match.
    assert_eq!(names(&list("q=safari").await), ["Login fails on Safari"]);
    assert_eq!(names(&list("q=sideb").await), ["Dark mode"]);
    assert_eq!(names(&list("q=spreadsheets").await), ["CSV export"]);
    assert_eq!(list("q=login%20dark").await["total"], 0);
    assert_eq!(
        list("q=%22OR%20NEAR(").await["total"],
        0,
        "FTS syntax is quoted, not run"
    );
    assert_eq!(list("q=%20-%20").await["total"], 10, "no words: no text filter");

    // Order and group.
    let by_priority = list("order_by=priority&per_page=3").await;
    assert_eq!(
        names(&by_priority),
        ["Login fails on Safari", "CSV export", "Dark mode"]
    );
    let grouped = list("group_by=priority&per_page=100").await;
    let groups: Vec<(String, i64)> = grouped["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| (g["key"].as_str().unwrap().to_string(), g["count"].as_i64().unwrap()))
        .collect();
    assert_eq!(
        groups,
        [
            ("high".into(), 1),
            ("low".into(), 1),
            ("none".into(), 7),
            ("urgent".into(), 1)
        ]
    );
    assert_eq!(names(&grouped)[0], "Login fails on Safari", "urgent group first");
    let by_assignee = list("group_by=assignee").await;
    let n: i64 = by_assignee["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["count"].as_i64().unwrap())
        .sum();
    assert_eq!(n, 11, "an issue with two assignees counts in both groups");
    assert!(list("per_page=3").await["groups"].is_null());

    // Pagination with totals.
    let page = list("per_page=4&page=3&order_by=sequence_id").await;
    assert_eq!(
        (page["total"].as_i64(), page["total_pages"].as_i64()),
        (Some(10), Some(3))
    );
    assert_eq!(names(&page), ["Chore 5", "Chore 6"]);

    // Bad filters are refused with the field named.
    for (q, field) in [
        ("priority=asap", "priority"),
        ("state=x", "state"),
        ("state_group=doing", "state_group"),
        ("target_from=tomorrow", "target_from"),
        ("order_by=random()", "order_by"),
    ] {
        let r = t.app.get(&format!("{p}/issues?{q}"), &t.m.token).await;
        r.err(422, "validation_failed");
        assert!(r.body["error"]["fields"][field].is_string(), "{q}: {}", r.body);
    }
    t.app
        .get(&format!("{p}/issues?group_by=color"), &t.m.token)
        .await
        .err(400, "bad_request");

    // Labels are renamed and recoloured by members; names stay unique in the project.
    let r = t
        .app
        .patch(
            &format!("{p}/labels/{bug}"),
            &t.m.token,
            json!({"name": "Defect", "color": "#00FF00"}),
        )
        .await;
    assert_eq!(
        (r.ok(200)["name"].as_str(), r.body["color"].as_str()),
        (Some("Defect"), Some("#00ff00"))
    );
    t.app
        .patch(&format!("{p}/labels/{bug}"), &t.m.token, json!({"name": "ui"}))
        .await
        .err(409, "label_exists");
    t.app
        .patch(&format!("{p}/labels/{bug}"), &t.m.token, json!({"color": "green"}))
        .await
        .err(422, "validation_failed");
    t.app
        .patch(&format!("{p}/labels/{bug}"), &t.g.token, json!({"name": "x"}))
        .await
        .err(403, "forbidden");
    // Deleting a label takes it off its issues.
    t.app.delete(&format!("{p}/labels/{ui}"), &t.m.token).await.ok(204);
    let r = t.app.get(&format!("{p}/issues/{}", id(&dark)), &t.m.token).await;
    assert_eq!(r.ok(200)["label_ids"], json!([]));
    assert_eq!(
        t.app
            .get(&format!("{p}/labels"), &t.g.token)
            .await
            .ok(200)
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let _ = login;
}

#[tokio::test]
async fn states_follow_their_rules_and_permissions_hold() {
    let t = team().await;
    let p = project(&t).await;
    let states = t.app.get(&format!("{p}/states"), &t.m.token).await.ok(200).clone();
    let backlog = state_id(&states, "Backlog");
    // Only project admins shape the workflow.
    t.app
        .post(
            &format!("{p}/states"),
            &t.m.token,
            json!({"name": "Review", "group": "started"}),
        )
        .await
        .err(403, "forbidden");
    t.app
        .post(&format!("{p}/states"), &t.o.token, json!({"name": "Review"}))
        .await
        .err(422, "validation_failed");
    t.app
        .post(
            &format!("{p}/states"),
            &t.o.token,
            json!({"name": "todo", "group": "started"}),
        )
        .await
        .err(409, "state_exists");
    t.app
        .post(
            &format!("{p}/states"),
            &t.o.token,
            json!({"name": "Review", "group": "started", "color": "blue"}),
        )
        .await
        .err(422, "validation_failed");
    let review = t
        .app
        .post(
            &format!("{p}/states"),
            &t.o.token,
            json!({"name": "Review", "group": "started", "color": "#00AAFF"}),
        )
        .await
        .ok(201)
        .clone();
    assert_eq!(
        (review["color"].as_str(), review["is_default"].as_bool()),
        (Some("#00aaff"), Some(false))
    );
    // Making it the default takes the flag from the old default.
    t.app
        .patch(
            &format!("{p}/states/{}", id(&review)),
            &t.o.token,
            json!({"is_default": true}),
        )
        .await
        .ok(200);
    let states = t.app.get(&format!("{p}/states"), &t.m.token).await.ok(200).clone();
    let defaults: Vec<&str> = states
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["is_default"] == true)
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(defaults, ["Review"]);
    let i = issue(&t.app, &p, &t.m, json!({"name": "Lands in review"})).await;
    assert_eq!(i["state_id"], review["id"]);
    t.app
        .delete(&format!("{p}/states/{}", id(&review)), &t.o.token)
        .await
        .err(422, "default_state");
    t.app
        .patch(
            &format!("{p}/states/{backlog}"),
            &t.o.token,
            json!({"is_default": true}),
        )
        .await
        .ok(200);
    t.app
        .delete(&format!("{p}/states/{}", id(&review)), &t.o.token)
        .await
        .err(422, "state_in_use");
    t.app
        .patch(
            &format!("{p}/issues/{}", id(&i)),
            &t.m.token,
            json!({"state_id": backlog}),
        )
        .await
        .ok(200);
    t.app
        .delete(&format!("{p}/states/{}", id(&review)), &t.o.token)
        .await
        .ok(204);
    t.app
        .patch(
            &format!("{p}/issues/{}", id(&i)),
            &t.m.token,
            json!({"state_id": id(&review)}),
        )
        .await
        .err(422, "validation_failed");

    // Guests read but do not write; other workspaces and private projects are invisible.
    t.app.get(&format!("{p}/issues"), &t.g.token).await.ok(200);
    t.app
        .post(&format!("{p}/issues"), &t.g.token, json!({"name": "x"}))
        .await
        .err(403, "forbidden");
    t.app
        .post(&format!("{p}/labels"), &t.g.token, json!({"name": "x"}))
        .await
        .err(403, "forbidden");
    let stranger = t.app.register("stranger@example.com").await;
    t.app
        .get(&format!("{p}/issues/{}", id(&i)), &stranger.token)
        .await
        .err(404, "not_found");
    let private = t.app.create_project(&t.o, "acme", "SECRET", true).await;
    let sp = format!("/api/v1/workspaces/acme/projects/{private}");
    let secret = issue(&t.app, &sp, &t.o, json!({"name": "Secret"})).await;
    t.app
        .get(&format!("{sp}/issues"), &t.m.token)
        .await
        .err(404, "not_found");
    // An issue id of another project under this project's path is not found.
    t.app
        .get(&format!("{p}/issues/{}", id(&secret)), &t.m.token)
        .await
        .err(404, "not_found");
    t.app
        .post(
            &format!("{p}/issues/{}/comments", id(&secret)),
            &t.m.token,
            json!({"comment_html": "peek"}),
        )
        .await
        .err(404, "not_found");
    t.app.create_workspace(&stranger, "other").await;
    let op = t.app.create_project(&stranger, "other", "OTH", false).await;
    t.app
        .get(
            &format!("/api/v1/workspaces/acme/projects/{op}/issues"),
            &stranger.token,
        )
        .await
        .err(404, "not_found");

    // An archived project refuses changes.
    t.app.post(&format!("{p}/archive"), &t.o.token, json!({})).await.ok(200);
    t.app
        .post(&format!("{p}/issues"), &t.m.token, json!({"name": "x"}))
        .await
        .err(422, "project_archived");
    t.app
        .post(
            &format!("{p}/issues/{}/comments", id(&i)),
            &t.m.token,
            json!({"comment_html": "x"}),
        )
        .await
        .err(422, "project_archived");
    t.app.get(&format!("{p}/issues"), &t.m.token).await.ok(200);
}

#[tokio::test]
async fn the_longest_rich_text_the_api_takes_is_stored_even_when_sanitising_lengthens_it() {
    let t = team().await;
    let p = project(&t).await;
    // 100,000 characters (the input bound) that escaping makes five times longer.
    let amps = "&".repeat(100_000);
    let r = t
        .app
        .post(
            &format!("{p}/issues"),
            &t.m.token,
            json!({"name": "Ampersands", "description_html": amps}),
        )
        .await;
    let id = r.ok(201)["id"].as_str().unwrap().to_string();
    t.app
        .post(
            &format!("{p}/issues/{id}/comments"),
            &t.m.token,
            json!({"comment_html": "&".repeat(100_000)}),
        )
        .await
        .ok(201);
    t.app
        .post(
            &format!("{p}/issues"),
            &t.m.token,
            json!({"name": "Too long", "description_html": "a".repeat(100_001)}),
        )
        .await
        .err(422, "validation_failed");
}
