//! Workspaces, members, roles and invitations.

use keel::workspaces::records::invitations;
use serde_json::json;

use crate::helpers::{team, Team, TestApp, PASSWORD};

#[tokio::test]
async fn create_list_get_update_delete() {
    let app = TestApp::spawn().await;
    let o = app.register("owner@example.com").await;
    let ws = app.create_workspace(&o, "acme").await;
    let did = ws["display_id"].as_str().unwrap();
    assert!(did.len() == 12 && did.starts_with("WK-"), "{did}");
    assert!(did[3..].bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()));
    assert_eq!(ws["role"], "owner");
    assert_eq!(ws["plan"], "free");

    app.create_workspace(&o, "beta").await;
    let list = app.get("/api/v1/workspaces?per_page=1", &o.token).await;
    let b = list.ok(200);
    assert_eq!(
        (
            b["total"].as_i64(),
            b["total_pages"].as_i64(),
            b["items"].as_array().unwrap().len()
        ),
        (Some(2), Some(2), 1)
    );
    app.get("/api/v1/workspaces?per_page=500", &o.token).await.ok(200);

    let r = app
        .patch("/api/v1/workspaces/acme/", &o.token, json!({"name": "Acme Inc"}))
        .await;
    assert_eq!(r.ok(200)["name"], "Acme Inc");
    app.patch("/api/v1/workspaces/acme", &o.token, json!({"name": " "}))
        .await
        .err(422, "validation_failed");
    app.delete("/api/v1/workspaces/acme", &o.token).await.ok(204);
    app.get("/api/v1/workspaces/acme", &o.token).await.err(404, "not_found");
    // The slug stays reserved after a delete.
    app.post("/api/v1/workspaces", &o.token, json!({"name": "Again", "slug": "acme"}))
        .await
        .err(409, "slug_taken");
    assert_eq!(app.get("/api/v1/workspaces", &o.token).await.ok(200)["total"], 1);
}

#[tokio::test]
async fn slugs_are_validated() {
    let app = TestApp::spawn().await;
    let o = app.register("owner@example.com").await;
    for bad in [
        "A",
        "Upper",
        "has space",
        "-lead",
        "trail-",
        "api",
        "x".repeat(49).as_str(),
        "ünï",
    ] {
        let r = app
            .post("/api/v1/workspaces", &o.token, json!({"name": "N", "slug": bad}))
            .await;
        r.err(422, "validation_failed");
        assert!(r.body["error"]["fields"]["slug"].is_string(), "{bad}: {}", r.body);
    }
    app.create_workspace(&o, "ok-slug-1").await;
    app.post(
        "/api/v1/workspaces",
        &o.token,
        json!({"name": "N", "slug": "ok-slug-1"}),
    )
    .await
    .err(409, "slug_taken");
}

#[tokio::test]
async fn members_are_added_by_email_with_role_rules() {
    let Team { app, o, a, m, g } = team().await;
    let n = app.register("new@example.com").await;
    let n2 = app.register("new2@example.com").await;
    let path = "/api/v1/workspaces/acme/members";
    app.post(path, &o.token, json!({"email": "nobody@example.com", "role": "member"}))
        .await
        .err(422, "user_not_found");
    app.post(path, &o.token, json!({"email": m.email, "role": "member"}))
        .await
        .err(409, "already_member");
    app.post(path, &o.token, json!({"email": n.email, "role": "boss"}))
        .await
        .err(422, "validation_failed");
    app.post(path, &a.token, json!({"email": n.email, "role": "owner"}))
        .await
        .err(403, "owner_required");
    app.post(path, &m.token, json!({"email": n.email, "role": "member"}))
        .await
        .err(403, "forbidden");
    app.post(path, &g.token, json!({"email": n.email, "role": "guest"}))
        .await
        .err(403, "forbidden");
    let r = app
        .post(path, &a.token, json!({"email": n.email, "role": "admin"}))
        .await;
    assert_eq!(r.ok(201)["role"], "admin");
    app.post(path, &o.token, json!({"email": n2.email, "role": "owner"}))
        .await
        .ok(201);

    let list = app.get(path, &m.token).await;
    assert_eq!(list.ok(200)["total"], 6);
    assert!(list.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|i| i["email"].is_string()));
    // Guests do not see emails.
    let list = app.get(path, &g.token).await;
    assert!(list.ok(200)["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|i| i["email"].is_null()));
}

#[tokio::test]
async fn role_changes_keep_an_owner_and_never_exceed_the_callers_role() {
    let Team { app, o, a, m, .. } = team().await;
    let p = |u: &str| format!("/api/v1/workspaces/acme/members/{u}");
    app.patch(&p(&m.id), &a.token, json!({"role": "owner"}))
        .await
        .err(403, "owner_required");
    app.patch(&p(&o.id), &a.token, json!({"role": "member"}))
        .await
        .err(403, "owner_required");
    app.patch(&p(&a.id), &m.token, json!({"role": "member"}))
        .await
        .err(403, "forbidden");
    let r = app.patch(&p(&m.id), &a.token, json!({"role": "admin"})).await;
    assert_eq!(r.ok(200)["role"], "admin");
    app.patch(&p(&o.id), &o.token, json!({"role": "admin"}))
        .await
        .err(422, "last_owner");
    app.delete(&p(&o.id), &o.token).await.err(422, "last_owner");
    app.patch(
        &p("00000000-0000-7000-8000-000000000000"),
        &o.token,
        json!({"role": "admin"}),
    )
    .await
    .err(404, "not_found");
    // With a second owner the first may step down.
    app.patch(&p(&a.id), &o.token, json!({"role": "owner"})).await.ok(200);
    app.patch(&p(&o.id), &o.token, json!({"role": "member"})).await.ok(200);
    assert_eq!(
        app.get("/api/v1/workspaces/acme", &o.token).await.ok(200)["role"],
        "member"
    );
}

#[tokio::test]
async fn members_leave_and_admins_remove() {
    let Team { app, o, a, m, g } = team().await;
    let p = |u: &str| format!("/api/v1/workspaces/acme/members/{u}");
    app.delete(&p(&g.id), &m.token).await.err(403, "forbidden");
    app.delete(&p(&o.id), &a.token).await.err(403, "owner_required");
    app.delete(&p(&m.id), &m.token).await.ok(204);
    app.get("/api/v1/workspaces/acme", &m.token).await.err(404, "not_found");
    app.delete(&p(&g.id), &a.token).await.ok(204);
    app.get("/api/v1/workspaces/acme", &g.token).await.err(404, "not_found");
    app.delete(&p(&g.id), &a.token).await.err(404, "not_found");
    assert_eq!(
        app.get("/api/v1/workspaces/acme/members", &o.token).await.ok(200)["total"],
        2
    );
}

#[tokio::test]
async fn invitations_are_accepted_by_the_invited_email_only() {
    let Team { app, o, a, m, .. } = team().await;
    let path = "/api/v1/workspaces/acme/invitations";
    let inv = app
        .post(path, &a.token, json!({"email": "Carol@Example.com", "role": "member"}))
        .await;
    let inv = inv.ok(201).clone();
    let token = inv["token"].as_str().unwrap().to_string();
    assert_eq!(inv["email"], "carol@example.com");
    app.post(path, &a.token, json!({"email": "carol@example.com", "role": "member"}))
        .await
        .err(409, "already_invited");
    app.post(path, &a.token, json!({"email": m.email, "role": "member"}))
        .await
        .err(409, "already_member");
    app.post(path, &a.token, json!({"email": "x@example.com", "role": "owner"}))
        .await
        .err(403, "owner_required");
    app.post(path, &m.token, json!({"email": "x@example.com", "role": "guest"}))
        .await
        .err(403, "forbidden");
    let list = app.get(path, &o.token).await;
    assert_eq!(list.ok(200)["total"], 1);
    assert!(list.body["items"][0].get("token").is_none());

    let accept = "/api/v1/invitations/accept";
    app.post(accept, &m.token, json!({"token": token}))
        .await
        .err(403, "invitation_email_mismatch");
    let c = app.register("carol@example.com").await;
    app.post(accept, &c.token, json!({"token": "keel_inv_wrong"}))
        .await
        .err(404, "not_found");
    let r = app.post(accept, &c.token, json!({"token": token})).await;
    assert_eq!(r.ok(200)["role"], "member");
    app.post(accept, &c.token, json!({"token": token}))
        .await
        .err(409, "invitation_used");
    assert_eq!(
        app.get("/api/v1/workspaces/acme", &c.token).await.ok(200)["role"],
        "member"
    );

    // A withdrawn invitation no longer works.
    let inv2 = app
        .post(path, &o.token, json!({"email": "dan@example.com", "role": "guest"}))
        .await
        .ok(201)
        .clone();
    let id = inv2["id"].as_str().unwrap();
    app.delete(&format!("{path}/{id}"), &o.token).await.ok(204);
    let d = app.register("dan@example.com").await;
    app.post(accept, &d.token, json!({"token": inv2["token"]}))
        .await
        .err(404, "not_found");
    let _ = PASSWORD;
}

#[tokio::test]
async fn an_expired_invitation_is_refused() {
    let Team { app, o, .. } = team().await;
    let inv = app
        .post(
            "/api/v1/workspaces/acme/invitations",
            &o.token,
            json!({"email": "late@example.com", "role": "member"}),
        )
        .await
        .ok(201)
        .clone();
    // Age the invitation in its document through the write path, as time would.
    let id = inv["id"].as_str().unwrap().to_string();
    let ws_id = app.get("/api/v1/workspaces/acme", &o.token).await.ok(200)["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.app
        .writer
        .write(move |ctx| {
            ctx.edit(&keel::docs::Who::System, &keel::docs::DocRef::workspace(&ws_id), |e| {
                e.set(
                    invitations::SPEC,
                    &id,
                    &[invitations::expires_at.to("2020-01-01T00:00:00.000Z")],
                )
            })
        })
        .await
        .unwrap();
    let late = app.register("late@example.com").await;
    app.post(
        "/api/v1/invitations/accept",
        &late.token,
        json!({"token": inv["token"]}),
    )
    .await
    .err(422, "invitation_expired");
    app.get("/api/v1/workspaces/acme", &late.token)
        .await
        .err(404, "not_found");
    // Expired invitations no longer block a new one.
    app.post(
        "/api/v1/workspaces/acme/invitations",
        &o.token,
        json!({"email": "late@example.com", "role": "member"}),
    )
    .await
    .ok(201);
}
