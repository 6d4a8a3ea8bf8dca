//! Managers join their departments' projects (seed 003): a department's manager, or a
//! person flagged as its manager, is a member of the projects linked to it and to every
//! department below it, and leaves them when they stop managing it, move or leave —
//! except where someone added them by hand. Every change shows in the member list and in
//! the project's history.

use serde_json::{json, Value};

use crate::helpers::{team, Team};

const D: &str = "/api/v1/workspaces/acme/departments";
const S: &str = "/api/v1/workspaces/acme/staff";

fn pm(pid: &str) -> String {
    format!("/api/v1/workspaces/acme/projects/{pid}/members")
}

/// The project's members: user id → (added by hand, department names they come through).
async fn members(t: &Team, pid: &str) -> Vec<(String, bool, Vec<String>)> {
    let r = t.app.get(&pm(pid), &t.o.token).await;
    let mut v: Vec<(String, bool, Vec<String>)> = r.ok(200)["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["user_id"].as_str().unwrap().to_string(),
                m["added_by_hand"].as_bool().unwrap(),
                m["through_departments"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|d| d["name"].as_str().unwrap_or("?").to_string())
                    .collect(),
            )
        })
        .collect();
    v.sort();
    v
}

fn has(list: &[(String, bool, Vec<String>)], user: &str) -> Option<(bool, Vec<String>)> {
    list.iter().find(|m| m.0 == user).map(|m| (m.1, m.2.clone()))
}

async fn history(t: &Team, pid: &str) -> Vec<Value> {
    let r = t
        .app
        .get(&format!("/api/v1/workspaces/acme/projects/{pid}/activity"), &t.o.token)
        .await;
    r.ok(200)["items"].as_array().unwrap().clone()
}

#[tokio::test]
async fn managers_join_their_departments_projects_and_leave_them_except_by_hand() {
    let t = team().await;
    let web = t.app.create_project(&t.o, "acme", "WEB", false).await;
    let api = t.app.create_project(&t.o, "acme", "API", true).await;
    let other = t.app.create_project(&t.o, "acme", "OTH", false).await;
    let mk = |name: &str, code: &str, n: u32, parent: Option<&str>, project: Option<&str>| {
        json!({"name": name, "code": code, "short_name": code, "dept_code": format!("{n:04}"),
               "parent_id": parent, "linked_project_id": project})
    };
    let eng = t
        .app
        .post(D, &t.o.token, mk("Engineering", "ENG", 1, None, Some(&web)))
        .await
        .ok(201)["id"]
        .as_str()
        .unwrap()
        .to_string();
    let plat = t
        .app
        .post(D, &t.o.token, mk("Platform", "PLAT", 2, Some(&eng), None))
        .await
        .ok(201)["id"]
        .as_str()
        .unwrap()
        .to_string();
    // A project names its department itself: the other way of linking.
    t.app
        .patch(
            &format!("/api/v1/workspaces/acme/projects/{api}"),
            &t.o.token,
            json!({"linked_department_id": plat}),
        )
        .await
        .ok(200);

    // Engineering's manager joins its project and the project of the department below it.
    t.app
        .patch(&format!("{D}/{eng}"), &t.o.token, json!({"manager_id": t.m.id}))
        .await
        .ok(200);
    let names = vec!["Engineering".to_string()];
    assert_eq!(has(&members(&t, &web).await, &t.m.id), Some((false, names.clone())));
    assert_eq!(has(&members(&t, &api).await, &t.m.id), Some((false, names.clone())));
    assert_eq!(has(&members(&t, &other).await, &t.m.id), None);
    // The manager now sees the private project.
    t.app
        .get(&format!("/api/v1/workspaces/acme/projects/{api}"), &t.m.token)
        .await
        .ok(200);
    let h = history(&t, &api).await;
    let joined = h.iter().find(|e| e["user_id"] == json!(t.m.id)).unwrap();
    assert_eq!((&joined["verb"], &joined["role"]), (&json!("joined"), &json!("member")));
    assert_eq!(joined["after"]["departments"][0]["name"], "Engineering");
    assert_eq!(joined["created_by"], json!(t.o.id));
    // A membership that only a department holds is not removed by hand.
    t.app
        .delete(&format!("{}/{}", pm(&web), t.m.id), &t.o.token)
        .await
        .err(409, "member_through_department");

    // Someone added by hand, and flagged as Platform's manager: both reasons.
    t.app
        .post(&pm(&api), &t.o.token, json!({"user_id": t.a.id, "role": "admin"}))
        .await
        .ok(201);
    t.app
        .post(
            S,
            &t.o.token,
            json!({"user_id": t.a.id, "staff_id": "A1", "department_id": plat,
                                     "is_department_manager": true}),
        )
        .await
        .ok(201);
    assert_eq!(
        has(&members(&t, &api).await, &t.a.id),
        Some((true, vec!["Platform".to_string()]))
    );
    assert_eq!(
        has(&members(&t, &web).await, &t.a.id),
        None,
        "a sub-department's manager stays below"
    );
    // Moved out of Platform: no longer its manager, but the hand-added membership stays.
    t.app
        .post(
            &format!("{S}/{}/transfer", t.a.id),
            &t.o.token,
            json!({"department_id": eng}),
        )
        .await
        .ok(200);
    assert_eq!(has(&members(&t, &api).await, &t.a.id), Some((true, vec![])));
    assert_eq!(has(&members(&t, &web).await, &t.a.id), None);

    // Added by hand where a department already brought them: it stays after the department.
    t.app
        .post(&pm(&web), &t.o.token, json!({"user_id": t.m.id, "role": "admin"}))
        .await
        .ok(201);
    assert_eq!(has(&members(&t, &web).await, &t.m.id), Some((true, names.clone())));
    // No longer Engineering's manager: gone from the project they were in only through it.
    t.app
        .patch(&format!("{D}/{eng}"), &t.o.token, json!({"manager_id": null}))
        .await
        .ok(200);
    assert_eq!(has(&members(&t, &api).await, &t.m.id), None);
    assert_eq!(has(&members(&t, &web).await, &t.m.id), Some((true, vec![])));
    let h = history(&t, &api).await;
    let left = h
        .iter()
        .find(|e| e["user_id"] == json!(t.m.id) && e["verb"] == "left")
        .unwrap();
    assert_eq!(left["before"]["departments"][0]["name"], "Engineering");

    // A manager who resigns leaves too.
    t.app
        .patch(&format!("{D}/{eng}"), &t.o.token, json!({"manager_id": t.m.id}))
        .await
        .ok(200);
    t.app
        .post(
            S,
            &t.o.token,
            json!({"user_id": t.m.id, "staff_id": "M1", "department_id": eng}),
        )
        .await
        .ok(201);
    assert!(has(&members(&t, &api).await, &t.m.id).is_some());
    t.app
        .post(&format!("{S}/{}/deactivate", t.m.id), &t.o.token, json!({}))
        .await
        .ok(200);
    assert_eq!(has(&members(&t, &api).await, &t.m.id), None);
    // Unlinking a project takes its department's managers out of it.
    t.app
        .patch(&format!("{D}/{eng}"), &t.o.token, json!({"manager_id": t.g.id}))
        .await
        .ok(200);
    assert_eq!(has(&members(&t, &api).await, &t.g.id), Some((false, names.clone())));
    let g_role = t.app.get(&pm(&api), &t.o.token).await.ok(200)["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["user_id"] == json!(t.g.id))
        .unwrap()["role"]
        .clone();
    assert_eq!(g_role, "guest", "a workspace guest joins as a project guest");
    t.app
        .patch(
            &format!("/api/v1/workspaces/acme/projects/{api}"),
            &t.o.token,
            json!({"linked_department_id": null}),
        )
        .await
        .ok(200);
    // Still in through Engineering's own project link? No: API was linked to Platform only.
    assert_eq!(has(&members(&t, &api).await, &t.g.id), None);
    assert_eq!(has(&members(&t, &web).await, &t.g.id), Some((false, names)));
}

/// A membership removed by hand can be made again (under its key), and a role given by a
/// person keeps the membership when its department no longer brings it.
#[tokio::test]
async fn removed_members_come_back_and_a_promoted_manager_stays() {
    let t = team().await;
    let web = t.app.create_project(&t.o, "acme", "WEB", false).await;
    t.app
        .post(&pm(&web), &t.o.token, json!({"user_id": t.m.id, "role": "member"}))
        .await
        .ok(201);
    assert_eq!(
        t.app
            .delete(&format!("{}/{}", pm(&web), t.m.id), &t.o.token)
            .await
            .status,
        204
    );
    t.app
        .post(&pm(&web), &t.o.token, json!({"user_id": t.m.id, "role": "member"}))
        .await
        .ok(201);
    assert_eq!(has(&members(&t, &web).await, &t.m.id), Some((true, vec![])));
    // Through a department, then made admin by a person: the role is theirs to keep.
    let eng = t
        .app
        .post(
            D,
            &t.o.token,
            json!({"name": "Engineering", "code": "ENG", "short_name": "ENG", "dept_code": "0001",
                   "linked_project_id": web, "manager_id": t.a.id}),
        )
        .await
        .ok(201)["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        has(&members(&t, &web).await, &t.a.id),
        Some((false, vec!["Engineering".to_string()]))
    );
    t.app
        .patch(
            &format!("{}/{}", pm(&web), t.a.id),
            &t.o.token,
            json!({"role": "admin"}),
        )
        .await
        .ok(200);
    t.app
        .patch(&format!("{D}/{eng}"), &t.o.token, json!({"manager_id": null}))
        .await
        .ok(200);
    assert_eq!(has(&members(&t, &web).await, &t.a.id), Some((true, vec![])));
}
