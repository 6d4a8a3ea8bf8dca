//! Identity: register, login, refresh rotation, logout, password, API tokens, limits.

use reqwest::Method;
use serde_json::json;

use crate::helpers::{TestApp, PASSWORD};

#[tokio::test]
async fn first_account_is_instance_admin_and_later_ones_are_not() {
    let app = TestApp::spawn().await;
    let a = app.register("ann@example.com").await;
    let b = app.register("bob@example.com").await;
    let me_a = app.get("/api/v1/users/me", &a.token).await;
    assert_eq!(me_a.ok(200)["is_instance_admin"], true);
    assert_eq!(me_a.body["email"], "ann@example.com");
    let me_b = app.get("/api/v1/users/me", &b.token).await;
    assert_eq!(me_b.ok(200)["is_instance_admin"], false);
}

#[tokio::test]
async fn register_validates_every_field_and_refuses_duplicates() {
    let app = TestApp::spawn().await;
    let r = app.register_raw("not-an-email", "short", "  ").await;
    r.err(422, "validation_failed");
    let f = &r.body["error"]["fields"];
    assert!(
        f["email"].is_string() && f["password"].is_string() && f["display_name"].is_string(),
        "{f}"
    );
    let r = app
        .call(
            Method::POST,
            "/api/v1/auth/register",
            None,
            Some(json!({"email": "a@b.co"})),
        )
        .await;
    r.err(422, "validation_failed");
    assert_eq!(r.body["error"]["fields"]["password"], "is required");

    app.register("Dup@Example.com").await;
    app.register_raw("dup@example.com", PASSWORD, "Again")
        .await
        .err(409, "email_taken");
    assert_eq!(app.dump("SELECT id FROM users").len(), 1);
}

#[tokio::test]
async fn login_accepts_the_password_and_refuses_anything_else() {
    let app = TestApp::spawn().await;
    app.register("ann@example.com").await;
    let ok = app.login("ANN@example.com", PASSWORD).await;
    assert!(ok.ok(200)["access_token"].is_string());
    app.login("ann@example.com", "wrong password")
        .await
        .err(401, "invalid_credentials");
    app.login("nobody@example.com", PASSWORD)
        .await
        .err(401, "invalid_credentials");
    app.login("garbage", PASSWORD).await.err(401, "invalid_credentials");
}

#[tokio::test]
async fn refresh_rotates_and_reuse_revokes_the_whole_family() {
    let app = TestApp::spawn().await;
    let u = app.register("ann@example.com").await;
    let r1 = app
        .call(
            Method::POST,
            "/api/v1/auth/refresh",
            None,
            Some(json!({"refresh_token": u.refresh})),
        )
        .await;
    let b1 = r1.ok(200).clone();
    let new_refresh = b1["refresh_token"].as_str().unwrap().to_string();
    let new_access = b1["access_token"].as_str().unwrap().to_string();
    assert_ne!(new_refresh, u.refresh);
    app.get("/api/v1/users/me", &new_access).await.ok(200);

    // The first token again: leaked. The session dies, including the rotated tokens.
    let reuse = app
        .call(
            Method::POST,
            "/api/v1/auth/refresh",
            None,
            Some(json!({"refresh_token": u.refresh})),
        )
        .await;
    reuse.err(401, "refresh_token_reused");
    app.call(
        Method::POST,
        "/api/v1/auth/refresh",
        None,
        Some(json!({"refresh_token": new_refresh})),
    )
    .await
    .err(401, "invalid_token");
    app.get("/api/v1/users/me", &new_access).await.err(401, "invalid_token");
    app.call(
        Method::POST,
        "/api/v1/auth/refresh",
        None,
        Some(json!({"refresh_token": "keel_rt_nope"})),
    )
    .await
    .err(401, "invalid_token");
}

#[tokio::test]
async fn logout_ends_the_session_only() {
    let app = TestApp::spawn().await;
    let u = app.register("ann@example.com").await;
    let other = app.login(&u.email, PASSWORD).await.ok(200)["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    app.call(Method::POST, "/api/v1/auth/logout", Some(&u.token), None)
        .await
        .ok(204);
    app.get("/api/v1/users/me", &u.token).await.err(401, "invalid_token");
    app.call(
        Method::POST,
        "/api/v1/auth/refresh",
        None,
        Some(json!({"refresh_token": u.refresh})),
    )
    .await
    .err(401, "invalid_token");
    app.get("/api/v1/users/me", &other).await.ok(200);
    app.call(Method::POST, "/api/v1/auth/logout", None, None)
        .await
        .err(401, "unauthenticated");
}

#[tokio::test]
async fn profile_update_and_password_change() {
    let app = TestApp::spawn().await;
    let u = app.register("ann@example.com").await;
    let other = app.login(&u.email, PASSWORD).await.ok(200)["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let r = app
        .patch("/api/v1/users/me", &u.token, json!({"display_name": "  Ann Lee "}))
        .await;
    assert_eq!(r.ok(200)["display_name"], "Ann Lee");
    app.patch("/api/v1/users/me", &u.token, json!({"display_name": ""}))
        .await
        .err(422, "validation_failed");

    app.post(
        "/api/v1/users/me/password",
        &u.token,
        json!({"current_password": "wrong one!", "new_password": "another secret"}),
    )
    .await
    .err(422, "wrong_password");
    app.post(
        "/api/v1/users/me/password",
        &u.token,
        json!({"current_password": PASSWORD, "new_password": "short"}),
    )
    .await
    .err(422, "validation_failed");
    // An API token and a paired device, made with the old password.
    let pat = app
        .post("/api/v1/users/me/tokens", &u.token, json!({"name": "ci"}))
        .await
        .ok(201)["token"]
        .as_str()
        .unwrap()
        .to_string();
    let device = crate::sync::raw::pair_device(&app, &u.email, "laptop").await;
    let device_token = device["token"].as_str().unwrap().to_string();
    assert!(crate::sync::raw::open(&app, Some(&device_token), None).await.is_ok());
    let r = app
        .post(
            "/api/v1/users/me/password",
            &u.token,
            json!({"current_password": PASSWORD, "new_password": "another secret"}),
        )
        .await;
    assert_eq!(r.ok(200), &json!({"sessions": 1, "api_tokens": 1, "devices": 1}));
    // This session stays; every other one, the API token and the device are signed out.
    app.get("/api/v1/users/me", &u.token).await.ok(200);
    app.get("/api/v1/users/me", &other).await.err(401, "invalid_token");
    app.get("/api/v1/users/me", &pat).await.err(401, "invalid_token");
    assert_eq!(
        crate::sync::raw::open(&app, Some(&device_token), None).await.err(),
        Some(401),
        "a device paired before the change connects no more"
    );
    app.login(&u.email, PASSWORD).await.err(401, "invalid_credentials");
    app.login(&u.email, "another secret").await.ok(200);
}

#[tokio::test]
async fn api_tokens_are_shown_once_work_as_the_user_and_can_be_revoked() {
    let app = TestApp::spawn().await;
    let u = app.register("ann@example.com").await;
    let created = app
        .post(
            "/api/v1/users/me/tokens",
            &u.token,
            json!({"name": "ci", "expires_in_days": 30}),
        )
        .await;
    let b = created.ok(201).clone();
    let secret = b["token"].as_str().unwrap().to_string();
    assert!(secret.starts_with("keel_pat_"));
    assert!(b["expires_at"].is_string());
    let list = app.get("/api/v1/users/me/tokens", &u.token).await;
    assert_eq!(list.ok(200)["total"], 1);
    assert!(
        list.body["items"][0].get("token").is_none(),
        "secret must not be listed"
    );
    // Stored hashed: the secret is nowhere in the database.
    let rows = app.dump("SELECT token_hash FROM api_tokens");
    assert_ne!(rows[0]["token_hash"], secret);

    app.get("/api/v1/users/me", &secret).await.ok(200);
    // Its use is recorded (off the request path, so allow it a moment).
    let mut used = serde_json::Value::Null;
    for _ in 0..50 {
        used = app.get("/api/v1/users/me/tokens", &u.token).await.ok(200)["items"][0]["last_used_at"].clone();
        if used.is_string() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(used.is_string(), "last_used_at is set after a use");
    // A token cannot mint tokens or touch the password.
    app.post("/api/v1/users/me/tokens", &secret, json!({"name": "x"}))
        .await
        .err(403, "session_required");

    for bad in [
        json!({"name": ""}),
        json!({"name": "x", "expires_in_days": 0}),
        json!({"name": "x", "expires_in_days": 400}),
    ] {
        app.post("/api/v1/users/me/tokens", &u.token, bad)
            .await
            .err(422, "validation_failed");
    }
    let id = b["id"].as_str().unwrap();
    app.delete(&format!("/api/v1/users/me/tokens/{id}"), &u.token)
        .await
        .ok(204);
    app.get("/api/v1/users/me", &secret).await.err(401, "invalid_token");
    app.delete(&format!("/api/v1/users/me/tokens/{id}"), &u.token)
        .await
        .err(404, "not_found");
}

#[tokio::test]
async fn login_is_rate_limited_per_account_and_per_ip() {
    let app = TestApp::spawn_with(|c| {
        c.auth_per_account_per_min = 3;
        c.auth_per_ip_per_min = 6;
    })
    .await;
    app.register("ann@example.com").await;
    for _ in 0..3 {
        app.login("ann@example.com", "wrong password")
            .await
            .err(401, "invalid_credentials");
    }
    let limited = app.login("ann@example.com", PASSWORD).await;
    limited.err(429, "rate_limited");
    let retry: u64 = limited.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!(retry >= 1);
    // Other accounts from the same IP still get through until the IP's quota is spent.
    let mut statuses = Vec::new();
    for i in 0..4 {
        statuses.push(app.login(&format!("x{i}@example.com"), PASSWORD).await.status);
    }
    assert_eq!(statuses, vec![401, 401, 429, 429], "per-IP quota of 6 (4 used above)");
}

#[tokio::test]
async fn registration_policy_is_set_by_the_instance_admin() {
    let app = TestApp::spawn().await;
    let admin = app.register("root@example.com").await;
    let user = app.register("user@example.com").await;
    app.patch(
        "/api/v1/instance/settings",
        &user.token,
        json!({"registration": "closed"}),
    )
    .await
    .err(403, "forbidden");
    let r = app.get("/api/v1/instance/settings", &admin.token).await;
    assert_eq!(r.ok(200)["registration"], "open");
    app.patch(
        "/api/v1/instance/settings",
        &admin.token,
        json!({"registration": "nonsense"}),
    )
    .await
    .err(422, "validation_failed");

    app.patch(
        "/api/v1/instance/settings",
        &admin.token,
        json!({"registration": "closed"}),
    )
    .await
    .ok(200);
    app.register_raw("new@example.com", PASSWORD, "New")
        .await
        .err(403, "registration_closed");

    app.patch(
        "/api/v1/instance/settings",
        &admin.token,
        json!({"registration": "invite_only"}),
    )
    .await
    .ok(200);
    app.register_raw("new@example.com", PASSWORD, "New")
        .await
        .err(403, "invitation_required");
    app.create_workspace(&admin, "acme").await;
    app.post(
        "/api/v1/workspaces/acme/invitations",
        &admin.token,
        json!({"email": "new@example.com", "role": "member"}),
    )
    .await
    .ok(201);
    app.register_raw("new@example.com", PASSWORD, "New").await.ok(201);
    app.register_raw("other@example.com", PASSWORD, "Other")
        .await
        .err(403, "invitation_required");
}

#[tokio::test]
async fn every_answer_carries_security_headers_and_the_error_shape() {
    let app = TestApp::spawn().await;
    for (method, path) in [
        (Method::GET, "/health"),
        (Method::GET, "/nope"),
        (Method::PUT, "/health"),
        (Method::GET, "/api/v1/users/me"),
    ] {
        let r = app.call(method.clone(), path, None, None).await;
        for h in [
            "content-security-policy",
            "x-content-type-options",
            "referrer-policy",
            "x-request-id",
        ] {
            assert!(r.headers.contains_key(h), "{method} {path} lacks {h}");
        }
        assert_eq!(r.headers["x-content-type-options"], "nosniff");
        if r.status >= 400 {
            assert!(r.body["error"]["code"].is_string(), "{method} {path}: {}", r.body);
        }
    }
    app.call(Method::GET, "/api/v1/nope", None, None)
        .await
        .err(404, "not_found");
    app.call(Method::GET, "/nope.txt", None, None)
        .await
        .err(404, "not_found");
    app.call(Method::PUT, "/health", None, None)
        .await
        .err(405, "method_not_allowed");
    // Trailing slash optional.
    app.call(Method::GET, "/health/", None, None).await.ok(200);
}

#[tokio::test]
async fn bad_bodies_get_clear_errors() {
    let app = TestApp::spawn().await;
    let u = app.register("ann@example.com").await;
    let url = app.url("/api/v1/workspaces");
    let r = app
        .client
        .post(&url)
        .bearer_auth(&u.token)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let r = app
        .client
        .post(&url)
        .bearer_auth(&u.token)
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 415);
    let big = "x".repeat(2 * 1024 * 1024);
    let r = app
        .client
        .post(&url)
        .bearer_auth(&u.token)
        .json(&json!({"name": big, "slug": "big"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    let b: serde_json::Value = r.json().await.unwrap();
    assert_eq!(b["error"]["code"], "payload_too_large");
    let r = app
        .post("/api/v1/workspaces", &u.token, json!({"name": 5, "slug": "x1"}))
        .await;
    r.err(422, "validation_failed");
    app.get("/api/v1/workspaces?per_page=501", &u.token)
        .await
        .err(422, "validation_failed");
    app.get("/api/v1/workspaces?page=abc", &u.token)
        .await
        .err(400, "bad_request");
}

#[tokio::test]
async fn cors_allows_only_listed_origins_and_unknown_hosts_are_refused() {
    let app = TestApp::spawn_with(|c| {
        c.cors_origins = vec!["http://allowed.test".into()];
        c.public_hosts = vec!["keel.lan".into()];
    })
    .await;
    let get = |origin: &'static str| app.client.get(app.url("/health")).header("origin", origin).send();
    let ok = get("http://allowed.test").await.unwrap();
    assert_eq!(ok.headers()["access-control-allow-origin"], "http://allowed.test");
    let other = get("http://evil.test").await.unwrap();
    assert!(other.headers().get("access-control-allow-origin").is_none());

    let evil = app
        .client
        .get(app.url("/health"))
        .header("host", "evil.test")
        .send()
        .await
        .unwrap();
    assert_eq!(evil.status(), 421);
    let b: serde_json::Value = evil.json().await.unwrap();
    assert_eq!(b["error"]["code"], "host_not_allowed");
    let named = app
        .client
        .get(app.url("/health"))
        .header("host", "keel.lan:7420")
        .send()
        .await
        .unwrap();
    assert_eq!(named.status(), 200);
    let local = app
        .client
        .get(app.url("/health"))
        .header("host", "localhost:1")
        .send()
        .await
        .unwrap();
    assert_eq!(local.status(), 200);
}

#[tokio::test]
async fn openapi_document_and_docs_ui_are_served() {
    let app = TestApp::spawn().await;
    let r = app.call(Method::GET, "/api/openapi.json", None, None).await;
    let doc = r.ok(200);
    assert!(doc["paths"]["/api/v1/workspaces/{slug}/projects/{project_id}"]["patch"].is_object());
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
    let ui = app.client.get(app.url("/api/docs/")).send().await.unwrap();
    assert_eq!(ui.status(), 200);
    assert!(ui.headers().contains_key("content-security-policy"));
    assert!(ui.text().await.unwrap().contains("swagger"));
}
