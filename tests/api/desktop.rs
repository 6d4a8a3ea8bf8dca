//! What the clients need besides the domain routes: instance status for first-run setup,
//! the desktop's local owner and its one-time sign-in, and the embedded web UI.

use std::time::Duration;

use reqwest::Method;
use serde_json::json;

use crate::helpers::{TestApp, PASSWORD};

#[tokio::test]
async fn instance_status_tells_a_signed_out_client_whether_setup_is_needed() {
    let app = TestApp::spawn().await;
    let s = app.call(Method::GET, "/api/v1/instance/status", None, None).await;
    assert_eq!(s.ok(200)["initialized"], false);
    assert_eq!(s.body["registration"], "open");
    assert_eq!(s.body["version"], env!("CARGO_PKG_VERSION"));
    let admin = app.register("ann@example.com").await;
    app.patch(
        "/api/v1/instance/settings",
        &admin.token,
        json!({"registration": "closed"}),
    )
    .await
    .ok(200);
    let s = app.call(Method::GET, "/api/v1/instance/status", None, None).await;
    assert_eq!(s.ok(200)["initialized"], true);
    assert_eq!(s.body["registration"], "closed");
}

#[tokio::test]
async fn a_one_time_token_signs_in_once_and_only_within_its_time() {
    let app = TestApp::spawn().await;
    let (owner, _) = keel::auth::ensure_local_owner_blocking(&app.app, "Dana").unwrap();
    let token = app.app.one_time.mint(&owner.id, Duration::from_secs(60));
    let body = json!({ "token": token });
    let r = app
        .call(Method::POST, "/api/v1/auth/one-time", None, Some(body.clone()))
        .await;
    let access = r.ok(200)["access_token"].as_str().unwrap().to_string();
    assert_eq!(r.body["user"]["id"], owner.id.as_str());
    assert!(r.body["refresh_token"].as_str().unwrap().starts_with("keel_rt_"));
    app.get("/api/v1/users/me", &access).await.ok(200);
    // Spent.
    app.call(Method::POST, "/api/v1/auth/one-time", None, Some(body))
        .await
        .err(401, "invalid_token");
    // Expired.
    let t = app.app.one_time.mint(&owner.id, Duration::from_millis(1));
    tokio::time::sleep(Duration::from_millis(20)).await;
    app.call(Method::POST, "/api/v1/auth/one-time", None, Some(json!({ "token": t })))
        .await
        .err(401, "invalid_token");
    // Forged or foreign tokens.
    for bad in ["keel_ott_forged", "keel_rt_abc", "", &"keel_ott_x".repeat(50)] {
        app.call(
            Method::POST,
            "/api/v1/auth/one-time",
            None,
            Some(json!({ "token": bad })),
        )
        .await
        .err(401, "invalid_token");
    }
    app.call(Method::POST, "/api/v1/auth/one-time", None, Some(json!({})))
        .await
        .err(422, "validation_failed");
    // One session was created, by the one good trade.
    assert_eq!(app.dump("SELECT id FROM sessions").len(), 1);
}

#[tokio::test]
async fn the_local_owner_is_found_again_and_sets_a_first_password_without_the_current_one() {
    let app = TestApp::spawn().await;
    let (owner, created) = keel::auth::ensure_local_owner_blocking(&app.app, "Dana").unwrap();
    assert!(created && !owner.has_password && owner.is_instance_admin);
    assert_eq!(owner.email, "owner@keel.localhost");
    let (again, created) = keel::auth::ensure_local_owner_blocking(&app.app, "Someone else").unwrap();
    assert!(!created);
    assert_eq!(again.id, owner.id);
    // A desktop that is shared on the LAN registers invited people only.
    let s = app.call(Method::GET, "/api/v1/instance/status", None, None).await;
    assert_eq!(s.ok(200)["registration"], "invite_only");
    app.register_raw("eve@example.com", PASSWORD, "Eve")
        .await
        .err(403, "invitation_required");
    assert_eq!(app.dump("SELECT id FROM users").len(), 1);

    let t = app.app.one_time.mint(&owner.id, Duration::from_secs(60));
    let r = app
        .call(Method::POST, "/api/v1/auth/one-time", None, Some(json!({ "token": t })))
        .await;
    let access = r.ok(200)["access_token"].as_str().unwrap().to_string();
    assert_eq!(
        app.get("/api/v1/users/me", &access).await.ok(200)["has_password"],
        false
    );
    // Nobody knows the random password: signing in with anything fails.
    app.login("owner@keel.localhost", "")
        .await
        .err(401, "invalid_credentials");
    let set = json!({ "current_password": "", "new_password": PASSWORD });
    app.post("/api/v1/users/me/password", &access, set).await.ok(200);
    assert_eq!(app.get("/api/v1/users/me", &access).await.ok(200)["has_password"], true);
    app.login("owner@keel.localhost", PASSWORD).await.ok(200);
    // From now on the current password is asked for.
    let again = json!({ "current_password": "", "new_password": "another password" });
    app.post("/api/v1/users/me/password", &access, again)
        .await
        .err(422, "wrong_password");
}

#[test]
fn the_ui_types_come_from_the_served_openapi_document() {
    let served = keel::http::openapi().to_pretty_json().unwrap();
    let committed = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/ui/openapi.json")).unwrap();
    assert!(
        served.trim() == committed.trim(),
        "ui/openapi.json differs from the served document: run `cargo run -q -- openapi > ui/openapi.json && (cd ui && npm run gen:api)`"
    );
}

#[tokio::test]
async fn the_embedded_ui_is_served_with_an_spa_fallback_types_and_cache_headers() {
    let app = TestApp::spawn().await;
    let get = |path: &str| app.client.get(app.url(path)).send();
    let index = get("/").await.unwrap();
    assert_eq!(index.status(), 200);
    let h = index.headers().clone();
    assert!(h["content-type"].to_str().unwrap().starts_with("text/html"));
    assert_eq!(h["cache-control"], "no-cache");
    assert!(h["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("script-src 'self'"));
    let html = index.text().await.unwrap();
    assert!(html.contains("<div id=\"root\">"), "{html}");

    // Client-side routes get the same page.
    for route in ["/w/acme/members", "/account", "/setup"] {
        let r = get(route).await.unwrap();
        assert_eq!(r.status(), 200, "{route}");
        assert_eq!(r.text().await.unwrap(), html);
    }

    // Hashed assets: the right type, cached for a year, revalidated by ETag.
    let script = html
        .split("src=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("index.html names its script");
    assert!(script.starts_with("/assets/") && script.ends_with(".js"), "{script}");
    let js = get(script).await.unwrap();
    assert_eq!(js.status(), 200);
    assert_eq!(js.headers()["content-type"], "text/javascript");
    assert_eq!(js.headers()["cache-control"], "public, max-age=31536000, immutable");
    let etag = js.headers()["etag"].clone();
    let again = app
        .client
        .get(app.url(script))
        .header("if-none-match", etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
    let icon = get("/favicon.svg").await.unwrap();
    assert_eq!(icon.headers()["content-type"], "image/svg+xml");

    // Missing files and API paths are 404 in the API's error shape, never the page.
    for path in ["/assets/missing-abc123.js", "/nope.png", "/api/v1/nothing", "/api"] {
        let r = app.call(Method::GET, path, None, None).await;
        r.err(404, "not_found");
    }
    let r = app.call(Method::POST, "/w/acme", None, Some(json!({}))).await;
    r.err(404, "not_found");
}
