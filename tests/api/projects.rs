//! Projects, visibility and project members.

use serde_json::json;

use crate::helpers::{team, Res, Team};

fn idents(r: &Res) -> Vec<String> {
    r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["identifier"].as_str().unwrap().to_string())
        .collect()
}

const BASE: &str = "/api/v1/workspaces/acme/projects";

#[tokio::test]
async fn projects_are_created_validated_and_visible_by_privacy() {
    let Team { app, o, a, m, g } = team().await;
    let r = app
        .post(BASE, &m.token, json!({"name": "", "identifier": "lower"}))
        .await;
    r.err(422, "validation_failed");
    assert!(r.body["error"]["fields"]["name"].is_string() && r.body["error"]["fields"]["identifier"].is_string());
    for bad in ["A", "ABCDEFGHIJKLM", "AB-C", "ab"] {
        app.post(BASE, &m.token, json!({"name": "X", "identifier": bad}))
            .await
            .err(422, "validation_failed");
    }
    app.post(BASE, &g.token, json!({"name": "X", "identifier": "GG"}))
        .await
        .err(403, "forbidden");

    let r = app
        .post(
            BASE,
            &m.token,
            json!({"name": "Web", "identifier": "WEB", "description": "site"}),
        )
        .await;
    let web = r.ok(201).clone();
    assert_eq!(web["is_time_tracking_enabled"], true);
    assert_eq!(web["member_role"], "admin");
    assert_eq!(web["is_private"], false);
    app.post(BASE, &o.token, json!({"name": "Web 2", "identifier": "WEB"}))
        .await
        .err(409, "identifier_taken");
    let sec = app.create_project(&o, "acme", "SEC", true).await;

    assert_eq!(idents(&app.get(BASE, &o.token).await), ["SEC", "WEB"]);
    assert_eq!(
        idents(&app.get(BASE, &a.token).await),
        ["SEC", "WEB"],
        "workspace admins see private projects"
    );
    assert_eq!(idents(&app.get(BASE, &m.token).await), ["WEB"]);
    assert!(
        idents(&app.get(BASE, &g.token).await).is_empty(),
        "guests see only their projects"
    );
    app.get(&format!("{BASE}/{sec}"), &m.token).await.err(404, "not_found");
    app.get(&format!("{BASE}/{sec}"), &a.token).await.ok(200);
    app.get(&format!("{BASE}/not-a-uuid"), &o.token)
        .await
        .err(404, "not_found");
}

#[tokio::test]
async fn project_admins_update_archive_and_delete() {
    let Team { app, o, m, .. } = team().await;
    let id = app.create_project(&o, "acme", "WEB", false).await;
    let p = format!("{BASE}/{id}");
    app.patch(&p, &m.token, json!({"name": "Nope"}))
        .await
        .err(403, "forbidden");
    let r = app
        .patch(
            &p,
            &o.token,
            json!({"name": "Website", "is_time_tracking_enabled": false, "description": "new"}),
        )
        .await;
    let b = r.ok(200);
    assert_eq!(
        (b["name"].as_str(), b["is_time_tracking_enabled"].as_bool()),
        (Some("Website"), Some(false))
    );
    app.patch(&p, &o.token, json!({"identifier": "x"}))
        .await
        .err(422, "validation_failed");
    app.create_project(&o, "acme", "API", false).await;
    app.patch(&p, &o.token, json!({"identifier": "API"}))
        .await
        .err(409, "identifier_taken");

    let r = app.post(&format!("{p}/archive"), &o.token, json!({})).await;
    assert!(r.ok(200)["archived_at"].is_string());
    app.patch(&p, &o.token, json!({"name": "Archived edit"}))
        .await
        .err(422, "project_archived");
    assert_eq!(
        idents(&app.get(&format!("{BASE}?archived=true"), &o.token).await),
        ["WEB"]
    );
    assert_eq!(
        idents(&app.get(&format!("{BASE}?archived=false"), &o.token).await),
        ["API"]
    );
    let r = app.post(&format!("{p}/unarchive"), &o.token, json!({})).await;
    assert!(r.ok(200)["archived_at"].is_null());

    app.delete(&p, &m.token).await.err(403, "forbidden");
    app.delete(&p, &o.token).await.ok(204);
    app.get(&p, &o.token).await.err(404, "not_found");
    // The identifier is free again once the project is gone.
    app.create_project(&o, "acme", "WEB", false).await;
}

#[tokio::test]
async fn project_members_follow_workspace_roles() {
    let Team { app, o, a, m, g } = team().await;
    let outsider = app.register("out@example.com").await;
    let id = app.create_project(&o, "acme", "WEB", true).await;
    let p = format!("{BASE}/{id}/members");
    app.post(&p, &o.token, json!({"user_id": outsider.id, "role": "member"}))
        .await
        .err(422, "not_workspace_member");
    app.post(&p, &o.token, json!({"user_id": g.id, "role": "member"}))
        .await
        .err(422, "role_above_workspace_role");
    app.post(&p, &o.token, json!({"user_id": g.id, "role": "guest"}))
        .await
        .ok(201);
    app.post(&p, &o.token, json!({"user_id": m.id, "role": "member"}))
        .await
        .ok(201);
    app.post(&p, &o.token, json!({"user_id": m.id, "role": "member"}))
        .await
        .err(409, "already_member");
    // Now visible to them.
    app.get(&format!("{BASE}/{id}"), &m.token).await.ok(200);
    let r = app.get(&format!("{BASE}/{id}"), &g.token).await;
    assert_eq!(r.ok(200)["member_role"], "guest");
    assert_eq!(app.get(&p, &m.token).await.ok(200)["total"], 3);
    assert!(app.get(&p, &g.token).await.ok(200)["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|i| i["email"].is_null()));

    // Members cannot manage membership; admins (incl. workspace admins) can.
    app.post(&p, &m.token, json!({"user_id": a.id, "role": "member"}))
        .await
        .err(403, "forbidden");
    app.patch(&format!("{p}/{m}", m = m.id), &a.token, json!({"role": "admin"}))
        .await
        .ok(200);
    app.patch(&format!("{p}/{g}", g = g.id), &o.token, json!({"role": "admin"}))
        .await
        .err(422, "role_above_workspace_role");
    app.delete(&format!("{p}/{g}", g = g.id), &g.token).await.ok(204);
    app.get(&format!("{BASE}/{id}"), &g.token).await.err(404, "not_found");
    // The last project admin cannot leave.
    app.patch(&format!("{p}/{m}", m = m.id), &o.token, json!({"role": "member"}))
        .await
        .ok(200);
    app.delete(&format!("{p}/{o}", o = o.id), &o.token)
        .await
        .err(422, "last_admin");
    app.delete(&format!("{p}/{o}", o = o.id), &m.token)
        .await
        .err(403, "forbidden");
}

#[tokio::test]
async fn ids_from_another_workspace_are_refused_and_change_nothing() {
    let Team { app, o, .. } = team().await;
    let x = app.register("x-owner@example.com").await;
    app.create_workspace(&x, "other").await;
    let theirs = app.create_project(&x, "other", "XP", false).await;
    let mine = app.create_project(&o, "acme", "MP", false).await;
    let before = app.dump("SELECT * FROM projects ORDER BY id");
    let members_before = app.dump("SELECT * FROM project_members ORDER BY id");

    // Their project id under my workspace's slug: not found, whatever the method.
    app.get(&format!("{BASE}/{theirs}"), &o.token)
        .await
        .err(404, "not_found");
    app.patch(&format!("{BASE}/{theirs}"), &o.token, json!({"name": "pwned"}))
        .await
        .err(404, "not_found");
    app.delete(&format!("{BASE}/{theirs}"), &o.token)
        .await
        .err(404, "not_found");
    // Their user id in a body of mine.
    app.post(
        &format!("{BASE}/{mine}/members"),
        &o.token,
        json!({"user_id": x.id, "role": "admin"}),
    )
    .await
    .err(422, "not_workspace_member");
    app.patch(
        &format!("/api/v1/workspaces/acme/members/{}", x.id),
        &o.token,
        json!({"role": "guest"}),
    )
    .await
    .err(404, "not_found");
    // Their workspace under my token.
    app.get(&format!("/api/v1/workspaces/other/projects/{theirs}"), &o.token)
        .await
        .err(404, "not_found");

    assert_eq!(app.dump("SELECT * FROM projects ORDER BY id"), before);
    assert_eq!(app.dump("SELECT * FROM project_members ORDER BY id"), members_before);
}
