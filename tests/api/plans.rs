//! Plans and licences: the one list of features, a workspace's plan, and licence files
//! installed and removed through the API (every bad file refused with its own code,
//! changing nothing), with expiry, grace and the seats it allows.

use ed25519_dalek::{Signer, SigningKey};
use keel::plans::licence::{armour, sign_for_tests, TEST_KEY_ID, TEST_KEY_SEED};
use serde_json::{json, Value};

use crate::helpers::{team, Team};

const PLAN: &str = "/api/v1/workspaces/acme/plan";
const LICENCE: &str = "/api/v1/workspaces/acme/licence";

pub(crate) fn payload(ws: &str, issued: &str, expires: &str) -> Value {
    json!({
        "format": 1, "key": TEST_KEY_ID, "licence_id": "LIC-2026-0001", "customer": "Acme GmbH",
        "workspace": ws, "plan": "premium", "seats": 25, "issued": issued, "expires": expires
    })
}

pub(crate) fn sign(seed: &[u8; 32], v: &Value) -> String {
    sign_for_tests(seed, v)
}

pub(crate) async fn display_id(t: &Team) -> String {
    t.app.get("/api/v1/workspaces/acme", &t.o.token).await.ok(200)["display_id"]
        .as_str()
        .unwrap()
        .to_string()
}

/// A valid licence for the workspace with display id `ws`, a year long from yesterday.
pub(crate) fn test_licence(ws: &str) -> String {
    sign(&TEST_KEY_SEED, &payload(ws, &day(-1), &day(364)))
}

pub(crate) fn day(offset: i64) -> String {
    (chrono::Utc::now().date_naive() + chrono::Duration::days(offset)).to_string()
}

fn feature<'a>(plan: &'a Value, key: &str) -> &'a Value {
    plan["features"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["key"] == key)
        .unwrap()
}

#[tokio::test]
async fn the_plans_list_every_feature_with_the_plan_it_needs() {
    let t = team().await;
    // No sign-in needed: the offer is no secret.
    let r = t.app.get("/api/v1/plans", "").await;
    let b = r.ok(200);
    let plans: Vec<&str> = b["plans"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["plan"].as_str().unwrap())
        .collect();
    assert_eq!(plans, ["free", "premium"]);
    // The one list, as the code holds it: every feature with its plan.
    let served: Vec<(String, String)> = b["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["key"].as_str().unwrap().to_string(),
                f["plan"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let listed: Vec<(String, String)> = keel::plans::FEATURES
        .iter()
        .map(|f| (f.key.to_string(), f.plan.as_str().to_string()))
        .collect();
    assert_eq!(served, listed);
}

#[tokio::test]
async fn an_owner_installs_a_licence_every_member_sees_the_plan_and_removing_it_goes_back_to_free() {
    let t = team().await;
    let free = t.app.get(PLAN, &t.g.token).await.ok(200).clone();
    assert_eq!(
        (free["plan"].as_str(), free["state"].as_str()),
        (Some("free"), Some("none"))
    );
    assert_eq!(free["seats_used"], 4);
    assert!(free["seats_allowed"].is_null());
    assert_eq!(feature(&free, "time_tracking")["enabled"], true);

    let ws = display_id(&t).await;
    let text = sign(&TEST_KEY_SEED, &payload(&ws, &day(-30), &day(335)));
    // Only owners install: an admin is refused, and nothing is written.
    t.app
        .put(LICENCE, &t.a.token, json!({"licence": text}))
        .await
        .err(403, "forbidden");
    assert_eq!(t.app.get(PLAN, &t.o.token).await.ok(200)["plan"], "free");
    let b = t
        .app
        .put(LICENCE, &t.o.token, json!({"licence": text}))
        .await
        .ok(200)
        .clone();
    assert_eq!(
        (b["plan"].as_str(), b["state"].as_str()),
        (Some("premium"), Some("active"))
    );
    assert_eq!(b["seats_allowed"], 25);
    assert_eq!(b["licence"]["customer"], "Acme GmbH");
    assert_eq!(b["licence"]["installed_by"], t.o.id.as_str());
    // The workspace itself says so, alone and in the list.
    assert_eq!(
        t.app.get("/api/v1/workspaces/acme", &t.m.token).await.ok(200)["plan"],
        "premium"
    );
    let list = t.app.get("/api/v1/workspaces", &t.m.token).await.ok(200).clone();
    assert_eq!(list["items"][0]["plan"], "premium", "{list}");
    // Every member sees it; the licence record is in the workspace document (so it goes to
    // paired devices with the workspace).
    let seen = t.app.get(PLAN, &t.m.token).await.ok(200).clone();
    assert_eq!(seen["licence"]["licence_id"], "LIC-2026-0001");
    let rows = t
        .app
        .dump("SELECT id, workspace_id FROM licences WHERE deleted_at IS NULL");
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["id"], rows[0]["workspace_id"]);

    t.app.delete(LICENCE, &t.a.token).await.err(403, "forbidden");
    t.app.delete(LICENCE, &t.o.token).await.ok(204);
    assert_eq!(t.app.get(PLAN, &t.o.token).await.ok(200)["plan"], "free");
    assert_eq!(
        t.app.get("/api/v1/workspaces/acme", &t.o.token).await.ok(200)["plan"],
        "free"
    );
    t.app.delete(LICENCE, &t.o.token).await.err(404, "not_found");
}

#[tokio::test]
async fn every_bad_licence_file_is_refused_with_its_own_code_and_changes_nothing() {
    let t = team().await;
    let ws = display_id(&t).await;
    let good = sign(&TEST_KEY_SEED, &payload(&ws, &day(-1), &day(364)));
    let mut other_key = payload(&ws, &day(-1), &day(364));
    other_key["key"] = json!("someone-else");
    let mut newer = payload(&ws, &day(-1), &day(364));
    newer["format"] = json!(2);
    let forged = {
        let v = payload(&ws, &day(-1), &day(364));
        let bytes = serde_json::to_vec(&v).unwrap();
        let sig = SigningKey::from_bytes(&TEST_KEY_SEED).sign(&bytes).to_bytes();
        let mut more = v.clone();
        more["seats"] = json!(100_000);
        armour(&serde_json::to_vec(&more).unwrap(), &sig)
    };
    let cases: Vec<(&str, String)> = vec![
        (
            "licence_other_workspace",
            sign(&TEST_KEY_SEED, &payload("WK-SOMEONEEL", &day(-1), &day(364))),
        ),
        ("licence_bad_signature", forged),
        (
            "licence_bad_signature",
            sign(&[7; 32], &payload(&ws, &day(-1), &day(364))),
        ),
        ("licence_unknown_key", sign(&[7; 32], &other_key)),
        ("licence_unknown_format", sign(&TEST_KEY_SEED, &newer)),
        ("licence_dates", sign(&TEST_KEY_SEED, &payload(&ws, &day(10), &day(5)))),
        ("licence_malformed", good[..good.len() - 40].to_string()),
        ("licence_malformed", "hello".to_string()),
        ("licence_not_text", format!("{good}\u{0}")),
        ("licence_too_large", "x".repeat(20_000)),
    ];
    let before = t.app.dump("SELECT * FROM doc_updates ORDER BY seq");
    for (code, text) in cases {
        let r = t.app.put(LICENCE, &t.o.token, json!({"licence": text})).await;
        r.err(422, code);
        assert!(
            r.body["error"]["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{code}"
        );
    }
    assert_eq!(
        t.app.dump("SELECT * FROM doc_updates ORDER BY seq"),
        before,
        "a refusal wrote"
    );
    assert_eq!(t.app.get(PLAN, &t.o.token).await.ok(200)["plan"], "free");
    // Then the good one.
    t.app.put(LICENCE, &t.o.token, json!({"licence": good})).await.ok(200);
}

#[tokio::test]
async fn an_expired_licence_keeps_premium_for_the_grace_days_and_then_grants_nothing_new() {
    let t = team().await;
    let ws = display_id(&t).await;
    // Expired yesterday: in grace, still premium, with a warning.
    let grace = sign(&TEST_KEY_SEED, &payload(&ws, &day(-366), &day(-1)));
    let b = t
        .app
        .put(LICENCE, &t.o.token, json!({"licence": grace}))
        .await
        .ok(200)
        .clone();
    assert_eq!(
        (b["plan"].as_str(), b["state"].as_str()),
        (Some("premium"), Some("grace"))
    );
    assert!(b["message"].as_str().unwrap().contains("keeps working until"), "{b}");
    assert_eq!(b["licence"]["grace_until"], json!(day(13)));
    // Expired 15 days ago: past the 14 grace days, back to free; the licence stays listed.
    let gone = sign(&TEST_KEY_SEED, &payload(&ws, &day(-380), &day(-15)));
    let b = t
        .app
        .put(LICENCE, &t.o.token, json!({"licence": gone}))
        .await
        .ok(200)
        .clone();
    assert_eq!(
        (b["plan"].as_str(), b["state"].as_str()),
        (Some("free"), Some("expired"))
    );
    assert!(b["seats_allowed"].is_null());
    assert_eq!(b["licence"]["licence_id"], "LIC-2026-0001");
    assert!(b["message"].as_str().unwrap().contains("read-only"), "{b}");
    // A new licence replaces it.
    let renewed = sign(&TEST_KEY_SEED, &payload(&ws, &day(-1), &day(364)));
    let b = t
        .app
        .put(LICENCE, &t.o.token, json!({"licence": renewed}))
        .await
        .ok(200)
        .clone();
    assert_eq!(b["state"], "active");
}

#[tokio::test]
async fn a_member_past_the_licences_seats_is_refused_and_nobody_already_in_is_removed() {
    let t = team().await;
    let ws = display_id(&t).await;
    // Four members now (owner, admin, member, guest); a licence for three.
    let mut three = payload(&ws, &day(-1), &day(364));
    three["seats"] = json!(3);
    let b = t
        .app
        .put(LICENCE, &t.o.token, json!({"licence": sign(&TEST_KEY_SEED, &three)}))
        .await
        .ok(200)
        .clone();
    assert_eq!(
        (b["seats_used"].as_i64(), b["seats_allowed"].as_i64()),
        (Some(4), Some(3))
    );
    let members = t.app.get("/api/v1/workspaces/acme/members", &t.o.token).await.ok(200)["total"].clone();
    assert_eq!(members, 4, "nobody already in was removed");
    // Adding one more is refused, by hand and by invitation.
    let newcomer = t.app.register("new@example.com").await;
    let r = t
        .app
        .post(
            "/api/v1/workspaces/acme/members",
            &t.o.token,
            json!({"email": "new@example.com", "role": "member"}),
        )
        .await;
    r.err(402, "seat_limit");
    let inv = t
        .app
        .post(
            "/api/v1/workspaces/acme/invitations",
            &t.o.token,
            json!({"email": "new@example.com", "role": "member"}),
        )
        .await
        .ok(201)
        .clone();
    let token = inv["token"].as_str().unwrap();
    t.app
        .post("/api/v1/invitations/accept", &newcomer.token, json!({"token": token}))
        .await
        .err(402, "seat_limit");
    assert_eq!(t.app.get(PLAN, &t.o.token).await.ok(200)["seats_used"], 4);
    // A role change of someone already in is no new seat.
    t.app
        .patch(
            &format!("/api/v1/workspaces/acme/members/{}", t.g.id),
            &t.o.token,
            json!({"role": "member"}),
        )
        .await
        .ok(200);
    // With seats to spare, the newcomer joins.
    let mut five = three.clone();
    five["seats"] = json!(5);
    t.app
        .put(LICENCE, &t.o.token, json!({"licence": sign(&TEST_KEY_SEED, &five)}))
        .await
        .ok(200);
    t.app
        .post(
            "/api/v1/workspaces/acme/members",
            &t.o.token,
            json!({"email": "new@example.com", "role": "member"}),
        )
        .await
        .ok(201);
    assert_eq!(t.app.get(PLAN, &t.o.token).await.ok(200)["seats_used"], 5);
}

#[tokio::test]
async fn a_clock_turned_back_does_not_make_an_expired_licence_valid_again() {
    let t = team().await;
    let ws = display_id(&t).await;
    let text = sign(&TEST_KEY_SEED, &payload(&ws, &day(-30), &day(10)));
    assert_eq!(
        t.app.put(LICENCE, &t.o.token, json!({"licence": text})).await.ok(200)["state"],
        "active"
    );
    // Every write moves the latest time seen; it is never behind the last write.
    let seen = t.app.dump("SELECT seen FROM clock")[0]["seen"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        seen[..10] >= *day(0).as_str() || seen[..10] == *day(-1).as_str(),
        "{seen}"
    );
    // As if this instance had run 30 days from now and the clock were then turned back to
    // today: the licence is read against the later date.
    let later = format!("{}T12:00:00.000Z", day(30));
    let c = rusqlite::Connection::open(t.app.dir.path().join("keel.db")).unwrap();
    c.execute("UPDATE clock SET seen = ?1", [&later]).unwrap();
    drop(c);
    let b = t.app.get(PLAN, &t.o.token).await.ok(200).clone();
    assert_eq!(
        (b["plan"].as_str(), b["state"].as_str()),
        (Some("free"), Some("expired")),
        "{b}"
    );
    // A write today does not move the latest time back.
    t.app.put(LICENCE, &t.o.token, json!({"licence": text})).await.ok(200);
    assert_eq!(t.app.dump("SELECT seen FROM clock")[0]["seen"], later.as_str());
}

/// `keel license install|show|remove` on a data dir, as its operator: the file is read as
/// bytes and verified offline, each refusal named by its code, and nothing written for it.
#[tokio::test]
async fn the_cli_installs_shows_and_removes_a_licence() {
    use crate::cli::{keel, register, start_on};
    let dir = tempfile::tempdir().unwrap();
    let s = start_on(dir.path(), "127.0.0.1:0");
    let token = register(&s, "owner@example.com").await;
    let (st, ws) = s
        .post(
            "/api/v1/workspaces",
            Some(&token),
            json!({"name": "Acme", "slug": "acme"}),
        )
        .await;
    assert_eq!(st, 201, "{ws}");
    let display = ws["display_id"].as_str().unwrap().to_string();
    drop(s);
    let run = |args: &[&str]| {
        let o = keel(dir.path(), args, None);
        (
            o.status.success(),
            String::from_utf8_lossy(&o.stdout).to_string(),
            String::from_utf8_lossy(&o.stderr).to_string(),
        )
    };
    let file = dir.path().join("acme.licence");
    let refuse = |bytes: &[u8], code: &str| {
        std::fs::write(&file, bytes).unwrap();
        let (ok, _, err) = run(&["license", "install", file.to_str().unwrap(), "--workspace", "acme"]);
        assert!(!ok && err.contains(code), "{code}: {err}");
    };
    refuse(
        sign(&TEST_KEY_SEED, &payload("WK-SOMEONEEL", &day(-1), &day(364))).as_bytes(),
        "licence_other_workspace",
    );
    refuse(&[0xff, 0xfe, 0x00, 0x01], "licence_not_text");
    refuse(b"-----BEGIN KEEL LICENCE-----\nabc", "licence_malformed");
    let (_, out, _) = run(&["license", "show", "--workspace", "acme"]);
    assert!(out.contains("plan: free"), "{out}");

    std::fs::write(&file, test_licence(&display)).unwrap();
    let (ok, out, err) = run(&["license", "install", file.to_str().unwrap(), "--workspace", "acme"]);
    assert!(ok, "{err}");
    assert!(out.contains("plan: premium") && out.contains("25 seats"), "{out}");
    let (_, out, _) = run(&["license", "show", "--workspace", "acme"]);
    assert!(
        out.contains("licence LIC-2026-0001 for Acme GmbH") && out.contains("members: 1 of 25"),
        "{out}"
    );
    let (ok, _, err) = run(&["license", "show", "--workspace", "nope"]);
    assert!(!ok && err.contains("not_found"), "{err}");
    let (ok, out, _) = run(&["license", "remove", "--workspace", "acme"]);
    assert!(ok && out.contains("the free plan"), "{out}");
    let (ok, _, err) = run(&["license", "remove", "--workspace", "acme"]);
    assert!(!ok && err.contains("not_found"), "{err}");
}

#[tokio::test]
async fn a_second_owner_renews_the_licence_another_installed() {
    let t = team().await;
    let ws = display_id(&t).await;
    t.app
        .put(
            LICENCE,
            &t.o.token,
            json!({"licence": sign(&TEST_KEY_SEED, &payload(&ws, &day(-300), &day(5)))}),
        )
        .await
        .ok(200);
    t.app
        .patch(
            &format!("/api/v1/workspaces/acme/members/{}", t.a.id),
            &t.o.token,
            json!({"role": "owner"}),
        )
        .await
        .ok(200);
    let mut renewal = payload(&ws, &day(0), &day(365));
    renewal["licence_id"] = json!("LIC-2027-0001");
    let b = t
        .app
        .put(LICENCE, &t.a.token, json!({"licence": sign(&TEST_KEY_SEED, &renewal)}))
        .await
        .ok(200)
        .clone();
    assert_eq!(b["licence"]["licence_id"], "LIC-2027-0001");
    // Who first installed it stays its author.
    assert_eq!(b["licence"]["installed_by"], t.o.id.as_str());
    // A free-plan licence grants no premium.
    let mut free = payload(&ws, &day(0), &day(365));
    free["plan"] = json!("free");
    let b = t
        .app
        .put(LICENCE, &t.a.token, json!({"licence": sign(&TEST_KEY_SEED, &free)}))
        .await
        .ok(200)
        .clone();
    assert_eq!(b["plan"], "free");
    assert!(b["seats_allowed"].is_null());
}

/// A licence is a record of the workspace document: a paired laptop receives it with the
/// workspace and has the same plan as its server, offline too.
#[tokio::test]
async fn a_licence_travels_with_the_workspace_to_a_paired_device() {
    use crate::cli::{register, start_on};
    use crate::sync::{eventually, login, pair};
    let (ds, dd) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let server = start_on(ds.path(), "127.0.0.1:0");
    let owner = register(&server, "olivia@example.com").await;
    let (st, ws) = server
        .post(
            "/api/v1/workspaces",
            Some(&owner),
            json!({"name": "Acme", "slug": "acme"}),
        )
        .await;
    assert_eq!(st, 201, "{ws}");
    let display = ws["display_id"].as_str().unwrap().to_string();
    let (st, b) = server
        .put(LICENCE, &owner, json!({"licence": test_licence(&display)}))
        .await;
    assert_eq!((st, b["plan"].as_str()), (200, Some("premium")), "{b}");

    pair(dd.path(), &server.base, "olivia@example.com", "Olivia's laptop");
    let device = start_on(dd.path(), "127.0.0.1:0");
    let tok = login(&device, "olivia@example.com").await;
    eventually(
        "the laptop has the workspace's licence",
        std::time::Duration::from_secs(20),
        || async {
            let (st, p) = device.get(PLAN, &tok).await;
            st == 200 && p["plan"] == "premium"
        },
    )
    .await;
    // The server goes away: the laptop keeps the plan, read from its own copy.
    drop(server);
    let (st, p) = device.get(PLAN, &tok).await;
    assert_eq!(st, 200);
    assert_eq!(
        (p["plan"].as_str(), p["state"].as_str()),
        (Some("premium"), Some("active")),
        "{p}"
    );
    assert_eq!(p["licence"]["licence_id"], "LIC-2026-0001");
    assert_eq!(p["seats_allowed"], 25);
}

/// Workspace `slug` of the team made premium with the test licence.
pub(crate) async fn premium(t: &Team, slug: &str) {
    let ws = t
        .app
        .get(&format!("/api/v1/workspaces/{slug}"), &t.o.token)
        .await
        .ok(200)["display_id"]
        .as_str()
        .unwrap()
        .to_string();
    t.app
        .put(
            &format!("/api/v1/workspaces/{slug}/licence"),
            &t.o.token,
            json!({"licence": test_licence(&ws)}),
        )
        .await
        .ok(200);
}
