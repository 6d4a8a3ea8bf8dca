//! Time tracking: work logs, their permissions, timers, summaries, rollups and CSV export.

use serde_json::{json, Value};

use crate::helpers::{team, Team};

/// Project `WEB` (member: member, guest: guest) with one issue; answers (project path, issue path).
async fn setup(t: &Team) -> (String, String) {
    let pid = t.app.create_project(&t.o, "acme", "WEB", false).await;
    let p = format!("/api/v1/workspaces/acme/projects/{pid}");
    for (u, role) in [(&t.m, "member"), (&t.g, "guest")] {
        t.app
            .post(
                &format!("{p}/members"),
                &t.o.token,
                json!({"user_id": u.id, "role": role}),
            )
            .await
            .ok(201);
    }
    let i = t
        .app
        .post(
            &format!("{p}/issues"),
            &t.m.token,
            json!({"name": "Build it", "estimate_time": 120}),
        )
        .await
        .ok(201)["id"]
        .as_str()
        .unwrap()
        .to_string();
    let ip = format!("{p}/issues/{i}");
    (p, ip)
}

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn members_log_time_guests_cannot_and_authors_own_their_logs() {
    let t = team().await;
    let (p, ip) = setup(&t).await;
    let w = format!("{ip}/worklogs");
    let log = t
        .app
        .post(
            &w,
            &t.m.token,
            json!({"duration_minutes": 90, "description": "spike", "logged_at": "2026-11-02"}),
        )
        .await
        .ok(201)
        .clone();
    assert_eq!(
        (log["duration_minutes"].as_i64(), log["issue_key"].as_str()),
        (Some(90), Some("WEB-1"))
    );
    assert_eq!(log["logged_by"].as_str(), Some(t.m.id.as_str()));
    // logged_at defaults to today.
    let today = chrono::Utc::now().date_naive().format("%Y-%m-%d").to_string();
    let r = t.app.post(&w, &t.o.token, json!({"duration_minutes": 15})).await;
    assert_eq!(r.ok(201)["logged_at"].as_str(), Some(today.as_str()));
    // Guests cannot log time nor read the logs.
    t.app
        .post(&w, &t.g.token, json!({"duration_minutes": 5}))
        .await
        .err(403, "forbidden");
    t.app.get(&w, &t.g.token).await.err(403, "forbidden");

    // Validation: every problem named, nothing written.
    let before = t.app.dump("SELECT * FROM worklogs ORDER BY id");
    for (body, field) in [
        (json!({}), "duration_minutes"),
        (json!({"duration_minutes": 0}), "duration_minutes"),
        (json!({"duration_minutes": 1441}), "duration_minutes"),
        (json!({"duration_minutes": 10, "logged_at": "2999-01-01"}), "logged_at"),
        (json!({"duration_minutes": 10, "logged_at": "02/11/2026"}), "logged_at"),
        (
            json!({"duration_minutes": 10, "description": "x".repeat(2001)}),
            "description",
        ),
    ] {
        let r = t.app.post(&w, &t.m.token, body.clone()).await;
        r.err(422, "validation_failed");
        assert!(r.body["error"]["fields"][field].is_string(), "{body}: {}", r.body);
    }
    assert_eq!(
        t.app
            .post(&w, &t.m.token, json!({"duration_minutes": "ninety"}))
            .await
            .status,
        422
    );
    t.app
        .post(
            &format!("{p}/issues/00000000-0000-7000-8000-000000000000/worklogs"),
            &t.m.token,
            json!({"duration_minutes": 5}),
        )
        .await
        .err(404, "not_found");
    assert_eq!(t.app.dump("SELECT * FROM worklogs ORDER BY id"), before);

    // Authors edit their own; other members cannot; project (and workspace) admins can.
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
    let lw = format!("{w}/{}", id(&log));
    t.app
        .patch(&lw, &other.token, json!({"duration_minutes": 1}))
        .await
        .err(403, "not_worklog_author");
    t.app.delete(&lw, &other.token).await.err(403, "not_worklog_author");
    let r = t
        .app
        .patch(
            &lw,
            &t.m.token,
            json!({"duration_minutes": 100, "description": "spike, done"}),
        )
        .await;
    assert_eq!(r.ok(200)["duration_minutes"], 100);
    let r = t.app.patch(&lw, &t.a.token, json!({"logged_at": "2026-11-03"})).await;
    assert_eq!(
        (r.ok(200)["logged_at"].as_str(), r.body["logged_by"].as_str()),
        (Some("2026-11-03"), Some(t.m.id.as_str()))
    );
    t.app
        .patch(&lw, &t.m.token, json!({"duration_minutes": 0}))
        .await
        .err(422, "validation_failed");
    let list = t.app.get(&w, &t.m.token).await.ok(200).clone();
    assert_eq!(list["total"], 2);
    // The log lives in its author's document for the quarter it was created in.
    let doc = t.app.dump(&format!(
        "SELECT doc_id FROM doc_updates WHERE doc_id LIKE 'worklogs:%:{}:%' LIMIT 1",
        t.m.id
    ));
    assert_eq!(doc.len(), 1);
    t.app.delete(&lw, &t.m.token).await.ok(204);
    t.app
        .patch(&lw, &t.m.token, json!({"duration_minutes": 5}))
        .await
        .err(404, "not_found");
    assert_eq!(t.app.get(&w, &t.m.token).await.ok(200)["total"], 1);

    // Turning time tracking off refuses writes with its own code and writes nothing.
    t.app
        .patch(&p, &t.o.token, json!({"is_time_tracking_enabled": false}))
        .await
        .ok(200);
    let before = t.app.dump("SELECT * FROM worklogs ORDER BY id");
    t.app
        .post(&w, &t.m.token, json!({"duration_minutes": 5}))
        .await
        .err(422, "time_tracking_disabled");
    t.app
        .post(&format!("{ip}/timer"), &t.m.token, json!({}))
        .await
        .err(422, "time_tracking_disabled");
    assert_eq!(t.app.dump("SELECT * FROM worklogs ORDER BY id"), before);
    t.app.get(&w, &t.m.token).await.ok(200);
}

#[tokio::test]
async fn timers_start_stop_and_discard() {
    let t = team().await;
    let (p, ip) = setup(&t).await;
    let none = t.app.get("/api/v1/users/me/timer", &t.m.token).await.ok(200).clone();
    assert!(none["timer"].is_null());
    t.app
        .post("/api/v1/users/me/timer/stop", &t.m.token, json!({}))
        .await
        .err(404, "not_found");
    t.app
        .delete("/api/v1/users/me/timer", &t.m.token)
        .await
        .err(404, "not_found");
    t.app
        .post(&format!("{ip}/timer"), &t.g.token, json!({}))
        .await
        .err(403, "forbidden");

    let timer = t
        .app
        .post(&format!("{ip}/timer"), &t.m.token, json!({"description": "pairing"}))
        .await
        .ok(201)
        .clone();
    assert_eq!(timer["issue_key"], "WEB-1");
    let other = t
        .app
        .post(&format!("{p}/issues"), &t.m.token, json!({"name": "Other"}))
        .await
        .ok(201)["id"]
        .as_str()
        .unwrap()
        .to_string();
    // One timer per person.
    let r = t
        .app
        .post(&format!("{p}/issues/{other}/timer"), &t.m.token, json!({}))
        .await;
    r.err(409, "timer_running");
    assert!(r.message().contains("WEB-1"));
    // Somebody else's timer is theirs.
    t.app
        .post(&format!("{p}/issues/{other}/timer"), &t.o.token, json!({}))
        .await
        .ok(201);
    let cur = t.app.get("/api/v1/users/me/timer", &t.m.token).await.ok(200).clone();
    assert_eq!(cur["timer"]["id"], timer["id"]);

    // Stopping logs the elapsed time (at least a minute) on the day it started.
    let log = t
        .app
        .post("/api/v1/users/me/timer/stop", &t.m.token, json!({}))
        .await
        .ok(201)
        .clone();
    assert_eq!(log["duration_minutes"], 1);
    assert_eq!(log["description"], "pairing");
    assert_eq!(
        log["logged_at"].as_str(),
        timer["started_at"].as_str().map(|s| &s[..10])
    );
    assert!(t.app.get("/api/v1/users/me/timer", &t.m.token).await.ok(200)["timer"].is_null());
    // A stop may say how long, and validates it.
    t.app.post(&format!("{ip}/timer"), &t.m.token, json!({})).await.ok(201);
    t.app
        .post(
            "/api/v1/users/me/timer/stop",
            &t.m.token,
            json!({"duration_minutes": 5000}),
        )
        .await
        .err(422, "validation_failed");
    let log = t
        .app
        .post(
            "/api/v1/users/me/timer/stop",
            &t.m.token,
            json!({"duration_minutes": 25, "description": "review"}),
        )
        .await
        .ok(201)
        .clone();
    assert_eq!(
        (log["duration_minutes"].as_i64(), log["description"].as_str()),
        (Some(25), Some("review"))
    );
    // Discarding logs nothing.
    t.app.post(&format!("{ip}/timer"), &t.m.token, json!({})).await.ok(201);
    t.app.delete("/api/v1/users/me/timer", &t.m.token).await.ok(204);
    assert_eq!(
        t.app.get(&format!("{ip}/worklogs"), &t.m.token).await.ok(200)["total"],
        2
    );

    // Losing access meanwhile: the stop is refused, the timer can still be discarded.
    t.app.post(&format!("{ip}/timer"), &t.m.token, json!({})).await.ok(201);
    t.app
        .patch(&format!("{p}/members/{}", t.m.id), &t.o.token, json!({"role": "guest"}))
        .await
        .ok(200);
    t.app
        .post("/api/v1/users/me/timer/stop", &t.m.token, json!({}))
        .await
        .err(403, "guests_cannot_log_time");
    t.app.delete("/api/v1/users/me/timer", &t.m.token).await.ok(204);
    // Timers live in the person's own document.
    let docs = t
        .app
        .dump(&format!("SELECT id FROM documents WHERE id LIKE 'user:%:{}'", t.m.id));
    assert_eq!(docs.len(), 1);
}

#[tokio::test]
async fn summaries_by_issue_project_and_workspace_agree_with_the_logs() {
    let t = team().await;
    let (p, ip) = setup(&t).await;
    let second = t
        .app
        .post(&format!("{p}/issues"), &t.o.token, json!({"name": "Docs"}))
        .await
        .ok(201)["id"]
        .as_str()
        .unwrap()
        .to_string();
    let ip2 = format!("{p}/issues/{second}");
    let api = t.app.create_project(&t.o, "acme", "API", true).await;
    let pa = format!("/api/v1/workspaces/acme/projects/{api}");
    let api_issue = t
        .app
        .post(&format!("{pa}/issues"), &t.o.token, json!({"name": "Rate limits"}))
        .await
        .ok(201)["id"]
        .as_str()
        .unwrap()
        .to_string();
    // Monday 2026-11-02 .. Sunday 2026-11-08, then Monday 2026-11-09.
    let logs = [
        (&t.m, &ip, 60, "2026-11-02"),
        (&t.m, &ip, 45, "2026-11-03"),
        (&t.o, &ip, 30, "2026-11-03"),
        (&t.o, &ip2, 20, "2026-11-09"),
        (&t.m, &ip2, 10, "2026-10-30"),
    ];
    for (u, path, min, day) in logs {
        t.app
            .post(
                &format!("{path}/worklogs"),
                &u.token,
                json!({"duration_minutes": min, "logged_at": day}),
            )
            .await
            .ok(201);
    }
    t.app
        .post(
            &format!("{pa}/issues/{api_issue}/worklogs"),
            &t.o.token,
            json!({"duration_minutes": 100, "logged_at": "2026-11-04"}),
        )
        .await
        .ok(201);
    // A deleted log and an edited one must leave the rollups exact.
    let gone = t
        .app
        .post(
            &format!("{ip}/worklogs"),
            &t.m.token,
            json!({"duration_minutes": 999, "logged_at": "2026-11-05"}),
        )
        .await
        .ok(201)
        .clone();
    t.app
        .delete(&format!("{ip}/worklogs/{}", id(&gone)), &t.m.token)
        .await
        .ok(204);
    let moved = t
        .app
        .post(
            &format!("{ip2}/worklogs"),
            &t.m.token,
            json!({"duration_minutes": 5, "logged_at": "2026-11-01"}),
        )
        .await
        .ok(201)
        .clone();
    t.app
        .patch(
            &format!("{ip2}/worklogs/{}", id(&moved)),
            &t.m.token,
            json!({"duration_minutes": 15, "logged_at": "2026-11-06"}),
        )
        .await
        .ok(200);

    // Per issue: estimate 120, logged 135 → overrun 15.
    let s = t
        .app
        .get(&format!("{ip}/worklogs/summary"), &t.m.token)
        .await
        .ok(200)
        .clone();
    assert_eq!(
        (
            s["estimate_time"].as_i64(),
            s["logged_minutes"].as_i64(),
            s["remaining_minutes"].as_i64(),
            s["overrun_minutes"].as_i64()
        ),
        (Some(120), Some(135), Some(0), Some(15))
    );
    assert_eq!(s["by_member"][0]["user_id"].as_str(), Some(t.m.id.as_str()));
    assert_eq!(s["by_member"][0]["minutes"], 105);
    let s2 = t
        .app
        .get(&format!("{ip2}/worklogs/summary"), &t.m.token)
        .await
        .ok(200)
        .clone();
    assert!(s2["remaining_minutes"].is_null() && s2["overrun_minutes"].is_null());
    let issue = t.app.get(&ip, &t.g.token).await.ok(200).clone();
    assert_eq!(issue["logged_minutes"], 135);
    t.app
        .get(&format!("{ip}/worklogs/summary"), &t.g.token)
        .await
        .err(403, "forbidden");

    // Per project over a range, by member, issue and day or week.
    let r = "from=2026-11-01&to=2026-11-30";
    let s = t
        .app
        .get(&format!("{p}/worklogs/summary?{r}"), &t.m.token)
        .await
        .ok(200)
        .clone();
    assert_eq!(
        (s["total_minutes"].as_i64(), s["entries"].as_i64()),
        (Some(170), Some(5))
    );
    let members: Vec<(String, i64)> = s["by_member"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["user_id"].as_str().unwrap().into(), m["minutes"].as_i64().unwrap()))
        .collect();
    assert_eq!(members, [(t.m.id.clone(), 120), (t.o.id.clone(), 50)]);
    let issues: Vec<(String, i64)> = s["by_issue"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["key"].as_str().unwrap().into(), m["minutes"].as_i64().unwrap()))
        .collect();
    assert_eq!(issues, [("WEB-1".into(), 135), ("WEB-2".into(), 35)]);
    let days: Vec<(String, i64)> = s["series"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["period"].as_str().unwrap().into(), m["minutes"].as_i64().unwrap()))
        .collect();
    assert_eq!(
        days,
        [
            ("2026-11-02".into(), 60),
            ("2026-11-03".into(), 75),
            ("2026-11-06".into(), 15),
            ("2026-11-09".into(), 20)
        ]
    );
    let s = t
        .app
        .get(&format!("{p}/worklogs/summary?{r}&interval=week"), &t.m.token)
        .await
        .ok(200)
        .clone();
    let weeks: Vec<(String, i64)> = s["series"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["period"].as_str().unwrap().into(), m["minutes"].as_i64().unwrap()))
        .collect();
    assert_eq!(weeks, [("2026-11-02".into(), 150), ("2026-11-09".into(), 20)]);
    let s = t
        .app
        .get(&format!("{p}/worklogs/summary?{r}&user_id={}", t.o.id), &t.m.token)
        .await
        .ok(200)
        .clone();
    assert_eq!(s["total_minutes"], 50);
    t.app
        .get(
            &format!("{p}/worklogs/summary?from=2026-12-01&to=2026-11-01"),
            &t.m.token,
        )
        .await
        .err(422, "validation_failed");
    t.app
        .get(&format!("{p}/worklogs/summary?interval=month"), &t.m.token)
        .await
        .err(400, "bad_request");
    let listed = t
        .app
        .get(&format!("{p}/worklogs?{r}&per_page=2"), &t.m.token)
        .await
        .ok(200)
        .clone();
    assert_eq!(
        (listed["total"].as_i64(), listed["items"][0]["logged_at"].as_str()),
        (Some(5), Some("2026-11-09"))
    );

    // Workspace: admins see everybody (private projects too), from the rollups...
    let ws = "/api/v1/workspaces/acme/time-tracking/summary";
    let s = t.app.get(&format!("{ws}?{r}"), &t.a.token).await.ok(200).clone();
    assert_eq!(s["total_minutes"], 270);
    let projects: Vec<(String, i64)> = s["by_project"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["identifier"].as_str().unwrap().into(), m["minutes"].as_i64().unwrap()))
        .collect();
    assert_eq!(projects, [("WEB".into(), 170), ("API".into(), 100)]);
    let members: Vec<(String, i64)> = s["by_member"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["user_id"].as_str().unwrap().into(), m["minutes"].as_i64().unwrap()))
        .collect();
    assert_eq!(members, [(t.o.id.clone(), 150), (t.m.id.clone(), 120)]);
    let s = t
        .app
        .get(&format!("{ws}?{r}&interval=week&project_id={api}"), &t.a.token)
        .await
        .ok(200)
        .clone();
    assert_eq!(
        s["series"],
        json!([{"period": "2026-11-02", "minutes": 100, "entries": 1}])
    );
    assert_eq!(s["by_member"]["items"][0]["user_id"].as_str(), Some(t.o.id.as_str()));
    let s = t
        .app
        .get(&format!("{ws}?{r}&user_id={}&project_id={}", t.o.id, api), &t.a.token)
        .await
        .ok(200)
        .clone();
    assert_eq!(s["total_minutes"], 100);
    // ...and members see their own time only, whatever they ask.
    let s = t
        .app
        .get(&format!("{ws}?{r}&user_id={}", t.o.id), &t.m.token)
        .await
        .ok(200)
        .clone();
    assert_eq!(
        (s["user_id"].as_str(), s["total_minutes"].as_i64()),
        (Some(t.m.id.as_str()), Some(120))
    );
    t.app.get(ws, &t.g.token).await.err(403, "forbidden");

    // The rollups equal a plain GROUP BY over the live logs.
    let rolled = t
        .app
        .dump("SELECT project_id, day, minutes, entries FROM worklog_project_day ORDER BY project_id, day");
    let raw = t.app.dump(
        "SELECT project_id, logged_at AS day, SUM(duration_minutes) AS minutes, COUNT(*) AS entries FROM worklogs
         WHERE deleted_at IS NULL GROUP BY project_id, logged_at ORDER BY project_id, day",
    );
    assert_eq!(rolled, raw);
    let rolled = t
        .app
        .dump("SELECT user_id, day, minutes, entries FROM worklog_user_day ORDER BY user_id, day");
    let raw = t.app.dump(
        "SELECT logged_by AS user_id, logged_at AS day, SUM(duration_minutes) AS minutes, COUNT(*) AS entries FROM worklogs
         WHERE deleted_at IS NULL GROUP BY logged_by, logged_at ORDER BY user_id, day",
    );
    assert_eq!(rolled, raw);
}

#[tokio::test]
async fn csv_export_is_safe_to_open_in_a_spreadsheet() {
    let t = team().await;
    let (p, ip) = setup(&t).await;
    t.app
        .patch(&ip, &t.m.token, json!({"name": "=HYPERLINK(\"http://evil\",\"x\")"}))
        .await
        .ok(200);
    t.app
        .patch(
            "/api/v1/users/me",
            &t.m.token,
            json!({"display_name": "@Mallory, \"the\" tester"}),
        )
        .await
        .ok(200);
    for (u, d, desc) in [
        (&t.m, "2026-11-02", "+cmd|' /C calc'!A0"),
        (&t.m, "2026-11-03", "line one\nline two"),
        (&t.o, "2026-11-03", "-2+3"),
    ] {
        t.app
            .post(
                &format!("{ip}/worklogs"),
                &u.token,
                json!({"duration_minutes": 30, "logged_at": d, "description": desc}),
            )
            .await
            .ok(201);
    }
    let r = t
        .app
        .get(
            &format!("{p}/worklogs/export?from=2026-11-01&to=2026-11-30"),
            &t.m.token,
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.headers["content-type"], "text/csv; charset=utf-8");
    assert!(r.headers["content-disposition"]
        .to_str()
        .unwrap()
        .contains("worklogs-WEB-2026-11-01-2026-11-30.csv"));
    let text = r.body.as_str().unwrap().to_string();
    let mut rd = csv::Reader::from_reader(text.as_bytes());
    assert_eq!(
        rd.headers().unwrap().iter().collect::<Vec<_>>(),
        [
            "date",
            "project",
            "issue",
            "issue_title",
            "member",
            "email",
            "minutes",
            "hours",
            "description"
        ]
    );
    let rows: Vec<csv::StringRecord> = rd.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 3);
    for row in &rows {
        for cell in row.iter() {
            assert!(
                !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "formula cell {cell:?} in {text}"
            );
        }
    }
    assert_eq!(&rows[0][3], "'=HYPERLINK(\"http://evil\",\"x\")");
    assert_eq!(&rows[0][4], "'@Mallory, \"the\" tester");
    assert_eq!(&rows[0][8], "'+cmd|' /C calc'!A0");
    assert_eq!(
        (&rows[1][6], &rows[1][7], &rows[1][8]),
        ("30", "0.50", "line one\nline two")
    );
    assert_eq!(&rows[2][8], "'-2+3");

    // The workspace export: members get their own rows, admins everybody's.
    let ws = "/api/v1/workspaces/acme/time-tracking/export?from=2026-11-01&to=2026-11-30";
    let mine = t.app.get(ws, &t.m.token).await;
    assert_eq!(
        mine.body.as_str().unwrap().lines().count(),
        1 + 3,
        "header + member's rows (one spans two lines)"
    );
    let all = t.app.get(ws, &t.a.token).await;
    let n = csv::Reader::from_reader(all.body.as_str().unwrap().as_bytes())
        .records()
        .count();
    assert_eq!(n, 3);
    t.app.get(ws, &t.g.token).await.err(403, "forbidden");
    t.app
        .get(
            "/api/v1/workspaces/acme/time-tracking/export?from=2000-01-01&to=2026-01-01",
            &t.a.token,
        )
        .await
        .err(422, "validation_failed");
}

#[tokio::test]
async fn naming_a_project_on_the_workspace_routes_shows_a_member_only_their_own_time() {
    let t = team().await;
    // A private project the member is not in, with the owner's time in it.
    let sec = t.app.create_project(&t.o, "acme", "SEC", true).await;
    let sp = format!("/api/v1/workspaces/acme/projects/{sec}");
    let i = id(t
        .app
        .post(&format!("{sp}/issues"), &t.o.token, json!({"name": "Secret"}))
        .await
        .ok(201));
    t.app
        .post(
            &format!("{sp}/issues/{i}/worklogs"),
            &t.o.token,
            json!({"duration_minutes": 45, "logged_at": "2026-11-03", "description": "classified"}),
        )
        .await
        .ok(201);
    let range = "from=2026-11-01&to=2026-11-30";
    let export = format!("/api/v1/workspaces/acme/time-tracking/export?{range}&project_id={sec}");
    let body = t.app.get(&export, &t.m.token).await.ok(200).clone();
    let text = body.as_str().unwrap();
    assert!(!text.contains("classified") && !text.contains("Secret"), "{text}");
    assert_eq!(csv::Reader::from_reader(text.as_bytes()).records().count(), 0);
    let summary = format!("/api/v1/workspaces/acme/time-tracking/summary?{range}&project_id={sec}");
    let s = t.app.get(&summary, &t.m.token).await.ok(200).clone();
    assert_eq!(s["total_minutes"], 0, "{s}");
    // Asking for somebody else by name changes nothing for a member.
    let s = t
        .app
        .get(&format!("{summary}&user_id={}", t.o.id), &t.m.token)
        .await
        .ok(200)
        .clone();
    assert_eq!(s["total_minutes"], 0, "{s}");
    // The project's own routes stay invisible to a non-member; admins see the time.
    t.app
        .get(&format!("{sp}/worklogs/export?{range}"), &t.m.token)
        .await
        .err(404, "not_found");
    let all = t.app.get(&export, &t.a.token).await.ok(200).clone();
    assert!(all.as_str().unwrap().contains("classified"));
    assert_eq!(t.app.get(&summary, &t.a.token).await.ok(200)["total_minutes"], 45);
}

#[tokio::test]
async fn date_ranges_outside_2000_to_2100_are_refused_not_a_crash() {
    let t = team().await;
    let (p, _) = setup(&t).await;
    for q in [
        "to=-262144-01-15",
        "from=+262142-12-31",
        "from=1999-12-31&to=2000-01-05",
        "to=2101-01-01",
    ] {
        for path in [
            format!("{p}/worklogs/summary?{q}"),
            format!("/api/v1/workspaces/acme/time-tracking/summary?{q}"),
            format!("/api/v1/workspaces/acme/time-tracking/export?{q}"),
        ] {
            t.app.get(&path, &t.o.token).await.err(422, "validation_failed");
        }
    }
}

#[tokio::test]
async fn a_timer_outlives_access_to_its_project_without_showing_the_issue() {
    let t = team().await;
    let (p, ip) = setup(&t).await;
    t.app.post(&format!("{ip}/timer"), &t.m.token, json!({})).await.ok(201);
    let before = t.app.get("/api/v1/users/me/timer", &t.m.token).await.ok(200).clone();
    assert_eq!(before["timer"]["issue_name"], "Build it");
    t.app.patch(&p, &t.o.token, json!({"is_private": true})).await.ok(200);
    t.app
        .delete(&format!("{p}/members/{}", t.m.id), &t.o.token)
        .await
        .ok(204);
    let after = t.app.get("/api/v1/users/me/timer", &t.m.token).await.ok(200).clone();
    assert_eq!(after["timer"]["issue_name"], "", "{after}");
    // Stopping would log time where they no longer may; discarding is always theirs.
    t.app
        .post("/api/v1/users/me/timer/stop", &t.m.token, json!({}))
        .await
        .err(404, "not_found");
    t.app.delete("/api/v1/users/me/timer", &t.m.token).await.ok(204);
    assert!(t.app.get("/api/v1/users/me/timer", &t.m.token).await.ok(200)["timer"].is_null());
}

/// The summaries' long lists page and sort; the totals stay whole. Checked against the logs
/// written: every page together is the whole list, in the asked order, with no overlap.
#[tokio::test]
async fn summaries_page_and_sort_their_lists_and_keep_whole_totals() {
    let t = team().await;
    let (p, _) = setup(&t).await;
    let day = "2026-11-10";
    // Seven issues with distinct names and times (two tie at 40 minutes).
    let minutes = [40, 90, 15, 40, 300, 5, 120];
    let names = ["delta", "Bravo", "golf", "alpha", "echo", "Charlie", "foxtrot"];
    let mut want: Vec<(String, String, i64)> = Vec::new();
    for (name, m) in names.iter().zip(minutes) {
        let id = t
            .app
            .post(&format!("{p}/issues"), &t.m.token, json!({"name": name}))
            .await
            .ok(201)["id"]
            .as_str()
            .unwrap()
            .to_string();
        // Two logs each, by two people, so entries differ from issues.
        for (u, part) in [(&t.m, m - m / 3), (&t.o, m / 3)] {
            if part > 0 {
                t.app
                    .post(
                        &format!("{p}/issues/{id}/worklogs"),
                        &u.token,
                        json!({"duration_minutes": part, "logged_at": day}),
                    )
                    .await
                    .ok(201);
            }
        }
        want.push((id, name.to_string(), m));
    }
    let total: i64 = minutes.iter().sum();
    let r = "from=2026-11-01&to=2026-11-30";
    let get = |q: String| {
        let (t, p) = (&t, &p);
        async move {
            t.app
                .get(&format!("{p}/worklogs/summary?{r}&{q}"), &t.m.token)
                .await
                .ok(200)
                .clone()
        }
    };
    for (sort, mut expect) in [
        ("-minutes", {
            let mut w = want.clone();
            w.sort_by(|a, b| b.2.cmp(&a.2).then_with(|| a.0.cmp(&b.0)));
            w
        }),
        ("minutes", {
            let mut w = want.clone();
            w.sort_by(|a, b| a.2.cmp(&b.2).then_with(|| a.0.cmp(&b.0)));
            w
        }),
        ("name", {
            let mut w = want.clone();
            w.sort_by_key(|a| a.1.to_lowercase());
            w
        }),
        ("-name", {
            let mut w = want.clone();
            w.sort_by_key(|a| std::cmp::Reverse(a.1.to_lowercase()));
            w
        }),
    ] {
        let mut seen: Vec<(String, String, i64)> = Vec::new();
        for page in 1..=3 {
            let s = get(format!("sort={sort}&per_page=3&page={page}")).await;
            assert_eq!(
                s["total_minutes"], total,
                "{sort} page {page}: the total is of every log"
            );
            let list = &s["by_issue"];
            assert_eq!(
                (
                    list["total"].as_i64(),
                    list["page"].as_i64(),
                    list["per_page"].as_i64(),
                    list["total_pages"].as_i64()
                ),
                (Some(7), Some(page), Some(3), Some(3)),
                "{sort} page {page}"
            );
            let items = list["items"].as_array().unwrap();
            assert_eq!(items.len(), if page < 3 { 3 } else { 1 });
            for i in items {
                // A row on a page is looked up whole.
                assert!(i["key"].as_str().unwrap().starts_with("WEB-"), "{i}");
                seen.push((
                    i["issue_id"].as_str().unwrap().into(),
                    i["name"].as_str().unwrap().into(),
                    i["minutes"].as_i64().unwrap(),
                ));
            }
        }
        expect.truncate(7);
        assert_eq!(seen, expect, "sort {sort}");
    }
    // Members page on their own: two people, one per page, most time first, while the
    // issues stay on their first page.
    let s = get("per_page=1&member_page=2".into()).await;
    assert_eq!(s["by_member"]["total"], 2);
    assert_eq!(s["by_member"]["page"], 2);
    assert_eq!(s["by_member"]["items"][0]["user_id"].as_str(), Some(t.o.id.as_str()));
    assert_eq!(s["by_issue"]["page"], 1);
    assert_eq!(s["by_issue"]["items"][0]["minutes"], 300);
    assert_eq!(s["entries"], 14);
    // A page past the end is empty, not an error; bad values are refused with their codes.
    let s = get("per_page=50&page=9".into()).await;
    assert_eq!(s["by_issue"]["items"], json!([]));
    assert_eq!(s["by_issue"]["total"], 7);
    for (q, status, code) in [
        ("sort=fastest", 400, "bad_request"),
        ("per_page=0", 422, "validation_failed"),
        ("per_page=501", 422, "validation_failed"),
        ("page=0", 422, "validation_failed"),
        ("member_page=0", 422, "validation_failed"),
    ] {
        t.app
            .get(&format!("{p}/worklogs/summary?{r}&{q}"), &t.m.token)
            .await
            .err(status, code);
    }

    // The workspace summary pages its projects and people alike.
    let other = t.app.create_project(&t.o, "acme", "OPS", false).await;
    let oi = t
        .app
        .post(
            &format!("/api/v1/workspaces/acme/projects/{other}/issues"),
            &t.o.token,
            json!({"name": "Ops"}),
        )
        .await
        .ok(201)["id"]
        .as_str()
        .unwrap()
        .to_string();
    t.app
        .post(
            &format!("/api/v1/workspaces/acme/projects/{other}/issues/{oi}/worklogs"),
            &t.o.token,
            json!({"duration_minutes": 1000, "logged_at": day}),
        )
        .await
        .ok(201);
    let ws = "/api/v1/workspaces/acme/time-tracking/summary";
    let s = t
        .app
        .get(&format!("{ws}?{r}&per_page=1&page=2&sort=-minutes"), &t.o.token)
        .await
        .ok(200)
        .clone();
    assert_eq!(s["total_minutes"], total + 1000);
    assert_eq!(
        (
            s["by_project"]["total"].as_i64(),
            s["by_project"]["total_pages"].as_i64()
        ),
        (Some(2), Some(2))
    );
    assert_eq!(s["by_project"]["items"][0]["identifier"], "WEB");
    let s = t
        .app
        .get(&format!("{ws}?{r}&per_page=1&sort=name"), &t.o.token)
        .await
        .ok(200)
        .clone();
    assert_eq!(s["by_project"]["items"][0]["identifier"], "OPS");
}

/// The OpenAPI document describes the summaries' pages: the query's `page`, `per_page` and
/// `sort`, and each long list as a page of its rows.
#[test]
fn the_openapi_document_describes_the_summaries_pages() {
    let doc: Value = serde_json::from_str(&keel::http::openapi().to_json().unwrap()).unwrap();
    for (path, lists) in [
        (
            "/api/v1/workspaces/{slug}/projects/{project_id}/worklogs/summary",
            ("ProjectTimeSummary", ["by_member", "by_issue"]),
        ),
        (
            "/api/v1/workspaces/{slug}/time-tracking/summary",
            ("WorkspaceTimeSummary", ["by_project", "by_member"]),
        ),
    ] {
        let params: Vec<&str> = doc["paths"][path]["get"]["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap())
            .collect();
        for want in ["page", "per_page", "member_page", "sort"] {
            assert!(params.contains(&want), "{path}: {params:?}");
        }
        let schema = &doc["components"]["schemas"][lists.0]["properties"];
        for list in lists.1 {
            let r = schema[list]["$ref"].as_str().unwrap_or_default();
            assert!(
                r.starts_with("#/components/schemas/Page_"),
                "{}.{list}: {}",
                lists.0,
                schema[list]
            );
            let page = &doc["components"]["schemas"][r.trim_start_matches("#/components/schemas/")];
            for f in ["items", "total", "page", "per_page", "total_pages"] {
                assert!(page["properties"][f].is_object(), "{r} lacks {f}");
            }
        }
    }
}
