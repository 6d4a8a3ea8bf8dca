//! Cycles, modules, saved views and favorites.

use serde_json::{json, Value};

use crate::helpers::{team, Team};

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

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_string()
}

async fn new_issue(t: &Team, p: &str, body: Value) -> String {
    id(t.app.post(&format!("{p}/issues"), &t.m.token, body).await.ok(201))
}

#[tokio::test]
async fn cycles_hold_issues_one_at_a_time_and_never_overlap() {
    let t = team().await;
    let p = project(&t).await;
    let c = format!("{p}/cycles");
    t.app
        .post(&c, &t.m.token, json!({}))
        .await
        .err(422, "validation_failed");
    t.app
        .post(&c, &t.m.token, json!({"name": "S1", "start_date": "2026-11-01"}))
        .await
        .err(422, "validation_failed");
    t.app
        .post(
            &c,
            &t.m.token,
            json!({"name": "S1", "start_date": "2026-11-14", "end_date": "2026-11-01"}),
        )
        .await
        .err(422, "validation_failed");
    t.app
        .post(&c, &t.g.token, json!({"name": "S1"}))
        .await
        .err(403, "forbidden");
    let s1 = t
        .app
        .post(
            &c,
            &t.m.token,
            json!({"name": "Sprint 1", "start_date": "2020-01-01", "end_date": "2020-01-14"}),
        )
        .await
        .ok(201)
        .clone();
    assert_eq!(s1["status"], "completed");
    let s2 = t
        .app
        .post(
            &c,
            &t.m.token,
            json!({"name": "Sprint 2", "start_date": "2020-01-15", "end_date": "2099-01-28"}),
        )
        .await
        .ok(201)
        .clone();
    assert_eq!(s2["status"], "current");
    let r = t
        .app
        .post(
            &c,
            &t.m.token,
            json!({"name": "Clash", "start_date": "2020-01-10", "end_date": "2020-01-20"}),
        )
        .await;
    r.err(409, "cycle_overlaps");
    assert!(r.message().contains("Sprint 1"));
    let draft = t
        .app
        .post(&c, &t.m.token, json!({"name": "Later"}))
        .await
        .ok(201)
        .clone();
    assert_eq!(draft["status"], "draft");
    // Moving a cycle's dates onto another is refused too.
    t.app
        .patch(
            &format!("{c}/{}", id(&draft)),
            &t.m.token,
            json!({"start_date": "2020-01-02", "end_date": "2020-01-03"}),
        )
        .await
        .err(409, "cycle_overlaps");

    let states = t.app.get(&format!("{p}/states"), &t.m.token).await.ok(200).clone();
    let done = states
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["group"] == "completed")
        .map(id)
        .unwrap();
    let a = new_issue(&t, &p, json!({"name": "A", "cycle_id": id(&s1)})).await;
    let b = new_issue(&t, &p, json!({"name": "B", "cycle_id": id(&s1), "state_id": done})).await;
    new_issue(&t, &p, json!({"name": "C"})).await;
    let got = t.app.get(&format!("{c}/{}", id(&s1)), &t.g.token).await.ok(200).clone();
    assert_eq!(
        (got["total_issues"].as_i64(), got["completed_issues"].as_i64()),
        (Some(2), Some(1))
    );
    // An issue is in one cycle: putting it in another takes it out of the first.
    let r = t
        .app
        .patch(&format!("{p}/issues/{a}"), &t.m.token, json!({"cycle_id": id(&s2)}))
        .await;
    assert_eq!(r.ok(200)["cycle_id"], s2["id"]);
    let got = t.app.get(&format!("{c}/{}", id(&s1)), &t.g.token).await.ok(200).clone();
    assert_eq!(got["total_issues"], 1);
    let act = t
        .app
        .get(&format!("{p}/issues/{a}/activity"), &t.m.token)
        .await
        .ok(200)
        .clone();
    let last = act["items"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        (last["field"].as_str(), last["new_value"].as_str()),
        (Some("cycle"), s2["id"].as_str())
    );
    // Filters and grouping by cycle.
    let list = t
        .app
        .get(&format!("{p}/issues?cycle={}", id(&s1)), &t.m.token)
        .await
        .ok(200)
        .clone();
    assert_eq!(list["items"][0]["id"].as_str(), Some(b.as_str()));
    assert_eq!(
        t.app.get(&format!("{p}/issues?cycle=none"), &t.m.token).await.ok(200)["total"],
        1
    );
    let g = t
        .app
        .get(&format!("{p}/issues?group_by=cycle"), &t.m.token)
        .await
        .ok(200)
        .clone();
    assert_eq!(g["groups"].as_array().unwrap().len(), 3);
    // A cycle of another project is refused.
    let other = t.app.create_project(&t.o, "acme", "API", false).await;
    let foreign = t
        .app
        .post(
            &format!("/api/v1/workspaces/acme/projects/{other}/cycles"),
            &t.o.token,
            json!({"name": "X"}),
        )
        .await
        .ok(201)
        .clone();
    let r = t
        .app
        .patch(
            &format!("{p}/issues/{a}"),
            &t.m.token,
            json!({"cycle_id": id(&foreign)}),
        )
        .await;
    r.err(422, "validation_failed");
    assert!(r.body["error"]["fields"]["cycle_id"].is_string());

    // Only the creator or a project admin changes or deletes; its issues leave it.
    let other_member = t.app.register("other@example.com").await;
    t.app.add_member(&t.o, "acme", &other_member, "member").await;
    t.app
        .post(
            &format!("{p}/members"),
            &t.o.token,
            json!({"user_id": other_member.id, "role": "member"}),
        )
        .await
        .ok(201);
    t.app
        .patch(
            &format!("{c}/{}", id(&s1)),
            &other_member.token,
            json!({"name": "Mine"}),
        )
        .await
        .err(403, "not_creator");
    t.app
        .delete(&format!("{c}/{}", id(&s1)), &other_member.token)
        .await
        .err(403, "not_creator");
    t.app.delete(&format!("{c}/{}", id(&s1)), &t.o.token).await.ok(204);
    let r = t.app.get(&format!("{p}/issues/{b}"), &t.m.token).await;
    assert!(r.ok(200)["cycle_id"].is_null());
    // The issue's history says so, by whom, though the cycles service wrote no history.
    let act = t
        .app
        .get(&format!("{p}/issues/{b}/activity"), &t.m.token)
        .await
        .ok(200)
        .clone();
    let last = act["items"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        (
            last["field"].as_str(),
            last["old_value"].as_str(),
            last["new_value"].as_str(),
            last["actor_id"].as_str()
        ),
        (Some("cycle"), s1["id"].as_str(), None, Some(t.o.id.as_str()))
    );
    t.app
        .get(&format!("{c}/{}", id(&s1)), &t.m.token)
        .await
        .err(404, "not_found");
    assert_eq!(t.app.get(&c, &t.g.token).await.ok(200).as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn modules_group_work_with_a_lead_and_a_status() {
    let t = team().await;
    let p = project(&t).await;
    let m = format!("{p}/modules");
    t.app
        .post(&m, &t.m.token, json!({"name": "Billing", "lead_id": t.a.id}))
        .await
        .err(422, "validation_failed");
    t.app
        .post(&m, &t.m.token, json!({"name": "Billing", "status": "someday"}))
        .await
        .err(422, "validation_failed");
    let billing = t
        .app
        .post(&m, &t.m.token, json!({"name": "Billing", "lead_id": t.m.id, "status": "in_progress", "start_date": "2026-01-01", "target_date": "2026-03-01"}))
        .await
        .ok(201)
        .clone();
    assert_eq!(
        (billing["status"].as_str(), billing["lead_id"].as_str()),
        (Some("in_progress"), Some(t.m.id.as_str()))
    );
    t.app
        .post(&m, &t.m.token, json!({"name": "billing"}))
        .await
        .err(409, "module_exists");
    let search = t
        .app
        .post(&m, &t.m.token, json!({"name": "Search"}))
        .await
        .ok(201)
        .clone();
    assert_eq!(search["status"], "planned");
    let got = t
        .app
        .get(&format!("{m}/{}", id(&billing)), &t.g.token)
        .await
        .ok(200)
        .clone();
    assert_eq!(
        (got["name"].as_str(), got["start_date"].as_str()),
        (Some("Billing"), Some("2026-01-01"))
    );
    let a = new_issue(&t, &p, json!({"name": "Invoices", "module_id": id(&billing)})).await;
    let r = t
        .app
        .patch(
            &format!("{p}/issues/{a}"),
            &t.m.token,
            json!({"module_id": id(&search)}),
        )
        .await;
    assert_eq!(r.ok(200)["module_id"], search["id"]);
    let list = t.app.get(&m, &t.g.token).await.ok(200).clone();
    let counts: Vec<(String, i64)> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            (
                x["name"].as_str().unwrap().to_string(),
                x["total_issues"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(counts, [("Billing".into(), 0), ("Search".into(), 1)]);
    assert_eq!(
        t.app
            .get(&format!("{p}/issues?module={}", id(&search)), &t.m.token)
            .await
            .ok(200)["total"],
        1
    );
    let r = t
        .app
        .patch(
            &format!("{m}/{}", id(&billing)),
            &t.m.token,
            json!({"status": "completed", "lead_id": null}),
        )
        .await;
    assert!(r.ok(200)["lead_id"].is_null());
    t.app
        .patch(
            &format!("{m}/{}", id(&billing)),
            &t.m.token,
            json!({"target_date": "2025-12-01"}),
        )
        .await
        .err(422, "validation_failed");
    t.app.delete(&format!("{m}/{}", id(&search)), &t.m.token).await.ok(204);
    assert!(t.app.get(&format!("{p}/issues/{a}"), &t.m.token).await.ok(200)["module_id"].is_null());
}

#[tokio::test]
async fn saved_views_apply_their_filters_and_private_ones_stay_private() {
    let t = team().await;
    let p = project(&t).await;
    let v = format!("{p}/views");
    new_issue(&t, &p, json!({"name": "Urgent login bug", "priority": "urgent"})).await;
    new_issue(&t, &p, json!({"name": "Low polish", "priority": "low"})).await;
    for (bad, why) in [
        (json!({"name": "x", "query": {"priority": "asap"}}), "bad value"),
        (json!({"name": "x", "query": {"sql": "drop"}}), "unknown key"),
        (json!({"name": "x", "query": ["priority"]}), "not an object"),
        (json!({"name": "x", "query": {"priority": 1}}), "not a string"),
    ] {
        let r = t.app.post(&v, &t.m.token, bad).await;
        r.err(422, "validation_failed");
        assert!(r.body["error"]["fields"]["query"].is_string(), "{why}: {}", r.body);
    }
    let urgent = t
        .app
        .post(
            &v,
            &t.m.token,
            json!({"name": "Urgent", "query": {"priority": "urgent,high", "order_by": "priority", "layout": "board"}}),
        )
        .await
        .ok(201)
        .clone();
    assert_eq!(urgent["query"]["layout"], "board");
    let issues = t
        .app
        .get(&format!("{v}/{}/issues", id(&urgent)), &t.g.token)
        .await
        .ok(200)
        .clone();
    assert_eq!(issues["total"], 1);
    assert_eq!(issues["items"][0]["name"], "Urgent login bug");
    let mine = t
        .app
        .post(
            &v,
            &t.m.token,
            json!({"name": "Mine", "is_private": true, "query": {"q": "polish"}}),
        )
        .await
        .ok(201)
        .clone();
    assert_eq!(
        t.app
            .get(&format!("{v}/{}/issues", id(&mine)), &t.m.token)
            .await
            .ok(200)["total"],
        1
    );
    // Private: not listed for others, not found for them, even for admins.
    let listed = t.app.get(&v, &t.o.token).await.ok(200).clone();
    assert_eq!(listed.as_array().unwrap().len(), 1);
    t.app
        .get(&format!("{v}/{}", id(&mine)), &t.o.token)
        .await
        .err(404, "not_found");
    t.app
        .get(&format!("{v}/{}/issues", id(&mine)), &t.a.token)
        .await
        .err(404, "not_found");
    // Public: others read, only the creator or an admin change.
    t.app
        .patch(&format!("{v}/{}", id(&urgent)), &t.o.token, json!({"name": "Hot"}))
        .await
        .ok(200);
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
        .delete(&format!("{v}/{}", id(&urgent)), &other.token)
        .await
        .err(403, "not_creator");
    t.app
        .patch(
            &format!("{v}/{}", id(&urgent)),
            &t.m.token,
            json!({"query": {"priority": "low"}}),
        )
        .await
        .ok(200);
    let issues = t
        .app
        .get(&format!("{v}/{}/issues", id(&urgent)), &t.g.token)
        .await
        .ok(200)
        .clone();
    assert_eq!(issues["items"][0]["name"], "Low polish");
    t.app.delete(&format!("{v}/{}", id(&urgent)), &t.m.token).await.ok(204);
    t.app
        .get(&format!("{v}/{}", id(&urgent)), &t.m.token)
        .await
        .err(404, "not_found");
}

#[tokio::test]
async fn favorites_show_on_lists_and_follow_visibility() {
    let t = team().await;
    let p = project(&t).await;
    let pid = p.rsplit('/').next().unwrap().to_string();
    let cycle = id(t
        .app
        .post(&format!("{p}/cycles"), &t.m.token, json!({"name": "S1"}))
        .await
        .ok(201));
    let module = id(t
        .app
        .post(&format!("{p}/modules"), &t.m.token, json!({"name": "M1"}))
        .await
        .ok(201));
    let view = id(t
        .app
        .post(&format!("{p}/views"), &t.m.token, json!({"name": "V1"}))
        .await
        .ok(201));
    let fav = "/api/v1/workspaces/acme/favorites";
    for (kind, eid) in [
        ("project", &pid),
        ("cycle", &cycle),
        ("module", &module),
        ("view", &view),
    ] {
        t.app
            .post(fav, &t.m.token, json!({"entity_type": kind, "entity_id": eid}))
            .await
            .ok(204);
    }
    // Marking twice is harmless.
    t.app
        .post(fav, &t.m.token, json!({"entity_type": "cycle", "entity_id": cycle}))
        .await
        .ok(204);
    let list = t.app.get(fav, &t.m.token).await.ok(200).clone();
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Project WEB", "S1", "M1", "V1"]);
    let projects = t
        .app
        .get("/api/v1/workspaces/acme/projects", &t.m.token)
        .await
        .ok(200)
        .clone();
    assert_eq!(projects["items"][0]["is_favorite"], true);
    assert_eq!(t.app.get(&p, &t.m.token).await.ok(200)["is_favorite"], true);
    assert_eq!(
        t.app.get(&format!("{p}/cycles"), &t.m.token).await.ok(200)[0]["is_favorite"],
        true
    );
    assert_eq!(
        t.app.get(&format!("{p}/modules"), &t.m.token).await.ok(200)[0]["is_favorite"],
        true
    );
    assert_eq!(
        t.app.get(&format!("{p}/views"), &t.m.token).await.ok(200)[0]["is_favorite"],
        true
    );
    // Favorites are one person's: others see false.
    assert_eq!(
        t.app.get(&format!("{p}/cycles"), &t.o.token).await.ok(200)[0]["is_favorite"],
        false
    );
    assert_eq!(t.app.get(fav, &t.o.token).await.ok(200).as_array().unwrap().len(), 0);
    // What one cannot see cannot be a favorite.
    let secret = t.app.create_project(&t.o, "acme", "SECRET", true).await;
    t.app
        .post(fav, &t.m.token, json!({"entity_type": "project", "entity_id": secret}))
        .await
        .err(404, "not_found");
    let private_view = id(t
        .app
        .post(
            &format!("{p}/views"),
            &t.o.token,
            json!({"name": "Owner's", "is_private": true}),
        )
        .await
        .ok(201));
    t.app
        .post(
            fav,
            &t.m.token,
            json!({"entity_type": "view", "entity_id": private_view}),
        )
        .await
        .err(404, "not_found");
    t.app
        .post(fav, &t.m.token, json!({"entity_type": "issue", "entity_id": cycle}))
        .await
        .err(422, "validation_failed");
    // Removing, and deleted things dropping out.
    t.app
        .delete(&format!("{fav}/module/{module}"), &t.m.token)
        .await
        .ok(204);
    t.app
        .delete(&format!("{fav}/module/{module}"), &t.m.token)
        .await
        .err(404, "not_found");
    t.app.delete(&format!("{p}/cycles/{cycle}"), &t.m.token).await.ok(204);
    let list = t.app.get(fav, &t.m.token).await.ok(200).clone();
    let kinds: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["entity_type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["project", "view"]);
}

#[tokio::test]
async fn favorites_and_recents_drop_what_the_person_can_no_longer_see() {
    let t = team().await;
    let p = project(&t).await;
    let pid = p.rsplit('/').next().unwrap().to_string();
    let issue = new_issue(&t, &p, json!({"name": "Hidden later"})).await;
    let fav = "/api/v1/workspaces/acme/favorites";
    t.app
        .post(fav, &t.m.token, json!({"entity_type": "project", "entity_id": pid}))
        .await
        .ok(204);
    // The member's own view, favorited by them, then made private... by its author only.
    let view = id(t
        .app
        .post(&format!("{p}/views"), &t.o.token, json!({"name": "Owner's board"}))
        .await
        .ok(201));
    t.app
        .post(fav, &t.m.token, json!({"entity_type": "view", "entity_id": view}))
        .await
        .ok(204);
    assert_eq!(t.app.get(fav, &t.m.token).await.ok(200).as_array().unwrap().len(), 2);
    // An admin cannot make somebody else's view private (they would lose it themselves).
    let mine = id(t
        .app
        .post(&format!("{p}/views"), &t.m.token, json!({"name": "Member's"}))
        .await
        .ok(201));
    t.app
        .patch(&format!("{p}/views/{mine}"), &t.o.token, json!({"is_private": true}))
        .await
        .err(403, "forbidden");
    // The author makes theirs private: it leaves the member's favorites.
    t.app
        .patch(&format!("{p}/views/{view}"), &t.o.token, json!({"is_private": true}))
        .await
        .ok(200);
    let names: Vec<String> = t
        .app
        .get(fav, &t.m.token)
        .await
        .ok(200)
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names, ["Project WEB"]);
    // The member opens the issue; then the project turns private and they leave it.
    let r = "/api/v1/workspaces/acme/recent-visits";
    t.app.get(&format!("{p}/issues/{issue}"), &t.m.token).await.ok(200);
    let mut n = 0;
    for _ in 0..100 {
        n = t.app.get(r, &t.m.token).await.ok(200).as_array().unwrap().len();
        if n == 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(n, 1);
    t.app.patch(&p, &t.o.token, json!({"is_private": true})).await.ok(200);
    t.app
        .delete(&format!("{p}/members/{}", t.m.id), &t.o.token)
        .await
        .ok(204);
    assert!(t.app.get(fav, &t.m.token).await.ok(200).as_array().unwrap().is_empty());
    let recents = t.app.get(r, &t.m.token).await.ok(200).clone();
    assert!(recents.as_array().unwrap().is_empty(), "{recents}");
    assert!(!recents.to_string().contains("Hidden later"));
}

#[tokio::test]
async fn unfavoriting_in_another_workspace_is_not_found_and_changes_nothing() {
    let t = team().await;
    let p = project(&t).await;
    let pid = p.rsplit('/').next().unwrap().to_string();
    t.app
        .post(
            "/api/v1/workspaces/acme/favorites",
            &t.o.token,
            json!({"entity_type": "project", "entity_id": pid}),
        )
        .await
        .ok(204);
    t.app.create_workspace(&t.o, "other").await;
    t.app
        .delete(&format!("/api/v1/workspaces/other/favorites/project/{pid}"), &t.o.token)
        .await
        .err(404, "not_found");
    let list = t
        .app
        .get("/api/v1/workspaces/acme/favorites", &t.o.token)
        .await
        .ok(200)
        .clone();
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
}

#[tokio::test]
async fn list_filters_repeat_and_orders_overflow_without_a_server_error() {
    let t = team().await;
    let p = project(&t).await;
    new_issue(&t, &p, json!({"name": "One"})).await;
    // Repeated values are kept once, so a long list costs no more than a short one.
    let many = vec!["urgent"; 5_000].join(",");
    let r = t.app.get(&format!("{p}/issues?priority={many},none"), &t.m.token).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["total"], 1);
    let groups = vec!["started"; 2_000].join(",");
    t.app
        .get(&format!("{p}/issues?state_group={groups}"), &t.m.token)
        .await
        .ok(200);
    // Orders beyond 2^53 are refused; appending after the largest allowed one works.
    for body in [
        json!({"name": "Far", "sort_order": i64::MAX}),
        json!({"name": "Far", "sort_order": i64::MIN}),
    ] {
        t.app
            .post(&format!("{p}/issues"), &t.m.token, body)
            .await
            .err(422, "validation_failed");
    }
    t.app
        .post(
            &format!("{p}/issues"),
            &t.m.token,
            json!({"name": "Edge", "sort_order": (1i64 << 53) - 1}),
        )
        .await
        .ok(201);
    let next = t
        .app
        .post(&format!("{p}/issues"), &t.m.token, json!({"name": "After"}))
        .await
        .ok(201)
        .clone();
    assert!(next["sort_order"].as_i64().unwrap() > (1i64 << 53) - 1, "{next}");
    t.app
        .post(
            &format!("{p}/states"),
            &t.o.token,
            json!({"name": "X", "group": "started", "sequence": i64::MAX}),
        )
        .await
        .err(422, "validation_failed");
    let h = "/api/v1/workspaces/acme/home-preferences/recents";
    t.app
        .patch(h, &t.m.token, json!({"sort_order": i64::MAX}))
        .await
        .err(422, "validation_failed");
    t.app
        .post(
            "/api/v1/workspaces/acme/stickies",
            &t.m.token,
            json!({"description_html": "x", "sort_order": i64::MIN}),
        )
        .await
        .err(422, "validation_failed");
}
