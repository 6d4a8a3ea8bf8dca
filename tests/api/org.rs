//! Departments (seed 003): fields and their rules, unique codes, the five-level limit,
//! cycles, moves of subtrees, deletes, lists, the tree, and the same rules for a device.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{team, Team};

const D: &str = "/api/v1/workspaces/acme/departments";

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_string()
}

/// A department named `name` with codes made from `n`, below `parent`.
async fn dept(t: &Team, name: &str, n: u32, parent: Option<&str>) -> String {
    let r = t
        .app
        .post(
            D,
            &t.a.token,
            json!({"name": name, "code": format!("C{n}"), "short_name": format!("S{n}"),
                   "dept_code": format!("{n:04}"), "parent_id": parent}),
        )
        .await;
    id(r.ok(201))
}

async fn get(t: &Team, d: &str) -> Value {
    t.app.get(&format!("{D}/{d}"), &t.m.token).await.ok(200).clone()
}

fn departments(t: &Team) -> Vec<Value> {
    t.app.dump("SELECT * FROM departments ORDER BY id")
}

#[tokio::test]
async fn a_department_has_the_seeds_fields_and_each_is_checked() {
    let t = team().await;
    let r = t
        .app
        .post(
            D,
            &t.a.token,
            json!({"name": "  Engineering ", "code": "ENG-1", "short_name": "eng", "dept_code": "0420",
                   "manager_id": t.m.id}),
        )
        .await;
    let eng = r.ok(201).clone();
    assert_eq!(
        (&eng["name"], &eng["code"], &eng["short_name"], &eng["dept_code"]),
        (&json!("Engineering"), &json!("ENG-1"), &json!("ENG"), &json!("0420"))
    );
    assert_eq!(
        (&eng["level"], &eng["is_active"], &eng["parent_id"]),
        (&json!(1), &json!(true), &Value::Null)
    );
    assert!(eng["manager_name"].is_string(), "{eng}");
    // Every bad field is named at once, and nothing is written.
    let before = departments(&t);
    let r = t
        .app
        .post(
            D,
            &t.a.token,
            json!({"name": "", "code": "has space", "short_name": "ELEVENCHARS", "dept_code": "12a"}),
        )
        .await;
    r.err(422, "validation_failed");
    for f in ["name", "code", "short_name", "dept_code"] {
        assert!(r.body["error"]["fields"][f].is_string(), "{f}: {}", r.body);
    }
    t.app
        .post(D, &t.a.token, json!({"name": "X"}))
        .await
        .err(422, "validation_failed");
    // The level follows from the parent; it is never taken from input.
    t.app
        .post(
            D,
            &t.a.token,
            json!({"name": "X", "code": "X", "short_name": "X", "dept_code": "0001", "level": 3}),
        )
        .await
        .err(422, "validation_failed");
    // A manager is a member of this workspace; a linked project is one of its projects.
    let stranger = t.app.register("stranger@example.com").await;
    t.app
        .post(
            D,
            &t.a.token,
            json!({"name": "X", "code": "X", "short_name": "X", "dept_code": "0001", "manager_id": stranger.id}),
        )
        .await
        .err(422, "validation_failed");
    t.app.create_workspace(&stranger, "other").await;
    let theirs = t.app.create_project(&stranger, "other", "THEIR", false).await;
    let r = t
        .app
        .post(
            D,
            &t.a.token,
            json!({"name": "X", "code": "X", "short_name": "X", "dept_code": "0001", "linked_project_id": theirs}),
        )
        .await;
    r.err(422, "validation_failed");
    assert!(r.body["error"]["fields"]["linked_project_id"].is_string());
    assert_eq!(departments(&t), before);
    let ours = t.app.create_project(&t.o, "acme", "OURS", false).await;
    let r = t
        .app
        .patch(
            &format!("{D}/{}", id(&eng)),
            &t.a.token,
            json!({"linked_project_id": ours, "is_active": false}),
        )
        .await;
    assert_eq!(
        (&r.ok(200)["linked_project_id"], &r.body["is_active"]),
        (&json!(ours), &json!(false))
    );
    // PUT replaces: the ids it does not name become null.
    let r = t
        .app
        .put(
            &format!("{D}/{}", id(&eng)),
            &t.a.token,
            json!({"name": "Eng", "code": "ENG-1", "short_name": "ENG", "dept_code": "0420"}),
        )
        .await;
    let e = r.ok(200);
    assert_eq!(
        (&e["name"], &e["manager_id"], &e["linked_project_id"], &e["is_active"]),
        (&json!("Eng"), &Value::Null, &Value::Null, &json!(true))
    );
    t.app
        .put(&format!("{D}/{}", id(&eng)), &t.a.token, json!({"name": "Eng"}))
        .await
        .err(422, "validation_failed");
    // Members read; only admins shape; guests see nothing of the organisation.
    t.app
        .patch(&format!("{D}/{}", id(&eng)), &t.m.token, json!({"name": "Mine"}))
        .await
        .err(403, "forbidden");
    assert_eq!(get(&t, &id(&eng)).await["name"], "Eng");
    let r = t.app.get(D, &t.g.token).await;
    assert!(matches!(r.status, 403 | 404), "{}", r.status);
    // Another workspace's department id is not found here.
    let x = t
        .app
        .post(
            "/api/v1/workspaces/other/departments",
            &stranger.token,
            json!({"name": "Theirs", "code": "T", "short_name": "T", "dept_code": "0009"}),
        )
        .await;
    let x = id(x.ok(201));
    t.app.get(&format!("{D}/{x}"), &t.o.token).await.err(404, "not_found");
    t.app
        .patch(&format!("{D}/{x}"), &t.o.token, json!({"name": "Mine now"}))
        .await
        .err(404, "not_found");
    t.app
        .patch(&format!("{D}/{}", id(&eng)), &t.o.token, json!({"parent_id": x}))
        .await
        .err(422, "validation_failed");
}

#[tokio::test]
async fn codes_are_unique_among_live_departments() {
    let t = team().await;
    let a = dept(&t, "Alpha", 1, None).await;
    for (body, code) in [
        (
            json!({"name": "B", "code": "c1", "short_name": "B", "dept_code": "0002"}),
            "department_code_taken",
        ),
        (
            json!({"name": "B", "code": "B", "short_name": "S1", "dept_code": "0002"}),
            "department_short_name_taken",
        ),
        (
            json!({"name": "B", "code": "B", "short_name": "B", "dept_code": "0001"}),
            "department_dept_code_taken",
        ),
    ] {
        t.app.post(D, &t.a.token, body).await.err(409, code);
    }
    let b = dept(&t, "Bravo", 2, None).await;
    t.app
        .patch(&format!("{D}/{b}"), &t.a.token, json!({"code": "C1"}))
        .await
        .err(409, "department_code_taken");
    // Saving a department with its own codes is no conflict.
    t.app
        .patch(
            &format!("{D}/{a}"),
            &t.a.token,
            json!({"code": "C1", "name": "Alpha 2"}),
        )
        .await
        .ok(200);
    // A deleted department's codes are free again.
    t.app.delete(&format!("{D}/{a}"), &t.a.token).await.ok(204);
    dept(&t, "Again", 1, None).await;
}

#[tokio::test]
async fn the_tree_has_five_levels_at_most_and_no_cycles() {
    let t = team().await;
    let mut chain = Vec::new();
    for n in 1..=5 {
        let parent = chain.last().cloned();
        chain.push(dept(&t, &format!("L{n}"), n, parent.as_deref()).await);
    }
    for (i, d) in chain.iter().enumerate() {
        assert_eq!(get(&t, d).await["level"], json!(i + 1));
    }
    let before = departments(&t);
    let r = t
        .app
        .post(
            D,
            &t.a.token,
            json!({"name": "L6", "code": "C6", "short_name": "S6", "dept_code": "0006", "parent_id": chain[4]}),
        )
        .await;
    r.err(422, "department_too_deep");
    assert_eq!(departments(&t), before);
    // A cycle: the root below its own grandchild, or a department below itself.
    t.app
        .patch(&format!("{D}/{}", chain[0]), &t.a.token, json!({"parent_id": chain[2]}))
        .await
        .err(422, "department_cycle");
    t.app
        .patch(&format!("{D}/{}", chain[1]), &t.a.token, json!({"parent_id": chain[1]}))
        .await
        .err(422, "department_cycle");
    assert_eq!(departments(&t), before);
    // A subtree of two levels cannot go below level 4; it can below level 3, and every
    // department in it follows.
    let side = dept(&t, "Side", 10, None).await;
    let leaf = dept(&t, "Leaf", 11, Some(&side)).await;
    t.app
        .patch(&format!("{D}/{side}"), &t.a.token, json!({"parent_id": chain[3]}))
        .await
        .err(422, "department_too_deep");
    let r = t
        .app
        .patch(&format!("{D}/{side}"), &t.a.token, json!({"parent_id": chain[2]}))
        .await;
    assert_eq!(r.ok(200)["level"], 4);
    assert_eq!(get(&t, &leaf).await["level"], 5);
    // And back to the top: the whole subtree rises.
    t.app
        .patch(&format!("{D}/{side}"), &t.a.token, json!({"parent_id": null}))
        .await
        .ok(200);
    assert_eq!(
        (
            get(&t, &side).await["level"].clone(),
            get(&t, &leaf).await["level"].clone()
        ),
        (json!(1), json!(2))
    );
}

#[tokio::test]
async fn a_department_with_children_is_deleted_only_when_they_have_somewhere_to_go() {
    let t = team().await;
    let root = dept(&t, "Root", 1, None).await;
    let mid = dept(&t, "Mid", 2, Some(&root)).await;
    let a = dept(&t, "A", 3, Some(&mid)).await;
    let b = dept(&t, "B", 4, Some(&mid)).await;
    let below_a = dept(&t, "Below A", 5, Some(&a)).await;
    let other = dept(&t, "Other", 6, None).await;
    let before = departments(&t);
    t.app
        .delete(&format!("{D}/{mid}"), &t.a.token)
        .await
        .err(422, "department_has_children");
    // Not below itself, nor below one of its own descendants.
    t.app
        .call(
            Method::DELETE,
            &format!("{D}/{mid}?children_to={mid}"),
            Some(&t.a.token),
            None,
        )
        .await
        .err(422, "validation_failed");
    t.app
        .call(
            Method::DELETE,
            &format!("{D}/{mid}?children_to={below_a}"),
            Some(&t.a.token),
            None,
        )
        .await
        .err(422, "department_cycle");
    assert_eq!(departments(&t), before);
    t.app
        .call(
            Method::DELETE,
            &format!("{D}/{mid}?children_to={other}"),
            Some(&t.a.token),
            None,
        )
        .await
        .ok(204);
    assert_eq!(get(&t, &a).await["parent_id"], json!(other));
    assert_eq!(get(&t, &b).await["parent_id"], json!(other));
    assert_eq!(get(&t, &below_a).await["level"], 3);
    t.app.get(&format!("{D}/{mid}"), &t.m.token).await.err(404, "not_found");
    t.app
        .call(
            Method::DELETE,
            &format!("{D}/{other}?children_to=root"),
            Some(&t.a.token),
            None,
        )
        .await
        .ok(204);
    assert_eq!(get(&t, &a).await["level"], 1);
    // A deleted department takes no changes and no children.
    t.app
        .patch(&format!("{D}/{mid}"), &t.a.token, json!({"name": "Back"}))
        .await
        .err(404, "not_found");
    t.app
        .patch(&format!("{D}/{a}"), &t.a.token, json!({"parent_id": mid}))
        .await
        .err(422, "validation_failed");
}

#[tokio::test]
async fn lists_filter_search_and_page_and_the_tree_nests_in_order() {
    let t = team().await;
    let eng = dept(&t, "Engineering", 1, None).await;
    let ops = dept(&t, "Operations", 2, None).await;
    let web = dept(&t, "Web", 3, Some(&eng)).await;
    let api = dept(&t, "API", 4, Some(&eng)).await;
    let edge = dept(&t, "Edge", 5, Some(&api)).await;
    t.app
        .patch(&format!("{D}/{ops}"), &t.a.token, json!({"is_active": false}))
        .await
        .ok(200);
    // Reorder: API before Web among Engineering's children.
    t.app
        .patch(&format!("{D}/{api}"), &t.a.token, json!({"sort_order": 0}))
        .await
        .ok(200);
    let names = |v: &Value| -> Vec<String> {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["name"].as_str().unwrap().to_string())
            .collect()
    };
    let all = t.app.get(D, &t.m.token).await.ok(200).clone();
    assert_eq!(names(&all), ["Engineering", "API", "Edge", "Web", "Operations"]);
    assert_eq!(all["total"], 5);
    let q = |s: &str| format!("{D}?{s}");
    for (query, want) in [
        ("parent=root", vec!["Engineering", "Operations"]),
        (&format!("parent={eng}") as &str, vec!["API", "Web"]),
        ("level=3", vec!["Edge"]),
        ("is_active=false", vec!["Operations"]),
        ("search=E", vec!["Engineering", "Edge", "Web", "Operations"]),
        ("search=c4", vec!["API"]),
        ("per_page=2&page=2", vec!["Edge", "Web"]),
    ] {
        let r = t.app.get(&q(query), &t.m.token).await.ok(200).clone();
        assert_eq!(names(&r), want, "{query}");
    }
    t.app.get(&q("level=6"), &t.m.token).await.err(422, "validation_failed");
    t.app
        .get(&q("per_page=0"), &t.m.token)
        .await
        .err(422, "validation_failed");
    let tree = t.app.get(&format!("{D}/tree"), &t.m.token).await.ok(200).clone();
    let roots = tree.as_array().unwrap();
    assert_eq!(roots.len(), 2);
    assert_eq!((&roots[0]["id"], &roots[0]["descendants"]), (&json!(eng), &json!(3)));
    let kids = roots[0]["children"].as_array().unwrap();
    assert_eq!((&kids[0]["id"], &kids[1]["id"]), (&json!(api), &json!(web)));
    assert_eq!(kids[0]["children"][0]["id"], json!(edge));
    assert_eq!(kids[0]["children"][0]["level"], 3);
    assert_eq!(roots[1]["children"], json!([]));
}

/// A device is held to the same rules: an admin's device that makes a cycle or a sixth
/// level, takes a code already used, or a member's device that renames a department, is
/// refused and nothing is stored.
#[tokio::test]
async fn a_device_keeps_the_rules_of_departments() {
    let t = team().await;
    let top = dept(&t, "Top", 1, None).await;
    let child = dept(&t, "Child", 2, Some(&top)).await;
    let other = dept(&t, "Other", 3, None).await;
    let ws = t.app.get("/api/v1/workspaces/acme", &t.o.token).await.ok(200)["id"]
        .as_str()
        .unwrap()
        .to_string();
    let d = keel::docs::DocRef::workspace(&ws);
    let crafted = |table: &str, rec: &str, field: &str, value: &str| {
        use yrs::updates::decoder::Decode;
        use yrs::{Map, ReadTxn, Transact};
        let c = rusqlite::Connection::open(t.app.app.config.db_path()).unwrap();
        let state = keel::docs::document_state(&c, &d.id).unwrap().unwrap();
        let doc = yrs::Doc::new();
        doc.transact_mut()
            .apply_update(yrs::Update::decode_v1(&state).unwrap())
            .unwrap();
        let sv = doc.transact().state_vector();
        let root = doc.get_or_insert_map(table);
        let mut txn = doc.transact_mut();
        let Some(yrs::Out::YMap(r)) = root.get(&txn, rec) else {
            panic!("no record")
        };
        r.insert(&mut txn, field.to_string(), value.to_string());
        drop(txn);
        let update = doc.transact().encode_diff_v1(&sv);
        update
    };
    let before = departments(&t);
    for (who, rec, field, value, code) in [
        (&t.a, &top, "parent_id", top.as_str(), "department_cycle"),
        (&t.a, &other, "dept_code", "12", "validation_failed"),
        (&t.a, &other, "name", "Line\u{7}break", "validation_failed"),
        (&t.m, &top, "name", "Renamed by a member", "forbidden"),
    ] {
        let update = crafted("departments", rec, field, value);
        let (user, dd) = (who.id.clone(), d.clone());
        let r = t
            .app
            .app
            .writer
            .write(move |ctx| ctx.apply_remote(&keel::docs::Who::User(user), &dd, &update).map(|_| ()))
            .await;
        let e = r.expect_err(field);
        assert_eq!(e.status_and_code().1, code, "{field}");
        assert_eq!(departments(&t), before, "{field}: stored");
    }
    // The same rule that the API enforces lets a good change through.
    let update = crafted("departments", &other, "parent_id", &top);
    let user = t.a.id.clone();
    let d2 = d.clone();
    t.app
        .app
        .writer
        .write(move |ctx| ctx.apply_remote(&keel::docs::Who::User(user), &d2, &update).map(|_| ()))
        .await
        .unwrap();
    assert_eq!(get(&t, &other).await["level"], 2);

    // What another device's edit could have made valid is taken, then repaired where it
    // arrives, as sync does (`org::resolve_merges`): a cycle is broken at its smallest id,
    // a code held twice stays with the first department and the other takes a derived one.
    for (rec, field, value) in [(&top, "parent_id", child.as_str()), (&other, "code", "c1")] {
        let update = crafted("departments", rec, field, value);
        let (user, dd) = (t.a.id.clone(), d.clone());
        let ws2 = ws.clone();
        let n = t
            .app
            .app
            .writer
            .write(move |ctx| {
                ctx.apply_remote(&keel::docs::Who::User(user), &dd, &update)?;
                keel::org::resolve_merges(ctx, &ws2)
            })
            .await
            .unwrap();
        assert_eq!(n, 1, "{field}: one repair");
    }
    let (top_v, child_v, other_v) = (get(&t, &top).await, get(&t, &child).await, get(&t, &other).await);
    let smallest = if top < child { &top_v } else { &child_v };
    assert_eq!(smallest["level"], 1, "the cycle breaks at its smallest id");
    assert_eq!(top_v["code"], "C1");
    let derived = other_v["code"].as_str().unwrap();
    assert!(derived.starts_with("c1-") && derived.len() == 7, "{derived}");
    let conflicts = t
        .app
        .get("/api/v1/workspaces/acme/sync/conflicts", &t.o.token)
        .await
        .ok(200)
        .clone();
    let kinds: Vec<&str> = conflicts
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["kind"].as_str().unwrap())
        .collect();
    assert!(
        kinds.contains(&"department_cycle") && kinds.contains(&"department_code_taken"),
        "{kinds:?}"
    );
}

/// A project is its department's team project through `linked_department_id`: a live
/// department of the same workspace, set and cleared by the project's admins.
#[tokio::test]
async fn a_project_links_to_a_department_of_its_workspace() {
    let t = team().await;
    let eng = dept(&t, "Engineering", 1, None).await;
    let pid = t.app.create_project(&t.o, "acme", "WEB", false).await;
    let p = format!("/api/v1/workspaces/acme/projects/{pid}");
    let r = t.app.patch(&p, &t.o.token, json!({"linked_department_id": eng})).await;
    assert_eq!(r.ok(200)["linked_department_id"], json!(eng));
    assert_eq!(
        t.app.get(&p, &t.o.token).await.ok(200)["linked_department_id"],
        json!(eng)
    );
    // Another workspace's department, or a deleted one, is refused.
    let stranger = t.app.register("stranger@example.com").await;
    t.app.create_workspace(&stranger, "other").await;
    let theirs = t
        .app
        .post(
            "/api/v1/workspaces/other/departments",
            &stranger.token,
            json!({"name": "Theirs", "code": "T", "short_name": "T", "dept_code": "0009"}),
        )
        .await;
    let theirs = id(theirs.ok(201));
    t.app
        .patch(&p, &t.o.token, json!({"linked_department_id": theirs}))
        .await
        .err(422, "validation_failed");
    let gone = dept(&t, "Gone", 2, None).await;
    t.app.delete(&format!("{D}/{gone}"), &t.a.token).await.ok(204);
    t.app
        .patch(&p, &t.o.token, json!({"linked_department_id": gone}))
        .await
        .err(422, "validation_failed");
    assert_eq!(
        t.app.get(&p, &t.o.token).await.ok(200)["linked_department_id"],
        json!(eng)
    );
    let r = t.app.patch(&p, &t.o.token, json!({"linked_department_id": null})).await;
    assert_eq!(r.ok(200)["linked_department_id"], Value::Null);
}

/// The live-department rule of a team project is a record rule: an admin's device that
/// links a project to a deleted department is refused like the API, and nothing is stored.
#[tokio::test]
async fn a_device_cannot_link_a_project_to_a_deleted_department() {
    let t = team().await;
    let gone = dept(&t, "Gone", 1, None).await;
    t.app.delete(&format!("{D}/{gone}"), &t.a.token).await.ok(204);
    let pid = t.app.create_project(&t.o, "acme", "WEB", false).await;
    let ws = t.app.get("/api/v1/workspaces/acme", &t.o.token).await.ok(200)["id"]
        .as_str()
        .unwrap()
        .to_string();
    let d = keel::docs::DocRef::project(&ws, &pid);
    let update = {
        use yrs::updates::decoder::Decode;
        use yrs::{Map, ReadTxn, Transact};
        let c = rusqlite::Connection::open(t.app.app.config.db_path()).unwrap();
        let state = keel::docs::document_state(&c, &d.id).unwrap().unwrap();
        let doc = yrs::Doc::new();
        doc.transact_mut()
            .apply_update(yrs::Update::decode_v1(&state).unwrap())
            .unwrap();
        let sv = doc.transact().state_vector();
        let root = doc.get_or_insert_map("projects");
        let mut txn = doc.transact_mut();
        let Some(yrs::Out::YMap(r)) = root.get(&txn, &pid) else {
            panic!("no project")
        };
        r.insert(&mut txn, "linked_department_id", gone.clone());
        drop(txn);
        let update = doc.transact().encode_diff_v1(&sv);
        update
    };
    let before = t.app.dump("SELECT * FROM projects ORDER BY id");
    let owner = t.o.id.clone();
    let r = t
        .app
        .app
        .writer
        .write(move |ctx| ctx.apply_remote(&keel::docs::Who::User(owner), &d, &update).map(|_| ()))
        .await;
    assert_eq!(
        r.expect_err("a deleted department").status_and_code().1,
        "validation_failed"
    );
    assert_eq!(t.app.dump("SELECT * FROM projects ORDER BY id"), before);
}

/// Every department of a tree, depth first, with what the tree says of it.
fn flatten(nodes: &Value, out: &mut Vec<Value>) {
    for n in nodes.as_array().unwrap() {
        let mut plain = n.clone();
        let children = plain.as_object_mut().unwrap().remove("children").unwrap();
        for derived in ["descendants", "subtree_staff_count"] {
            plain.as_object_mut().unwrap().remove(derived);
        }
        out.push(plain);
        flatten(&children, out);
    }
}

/// The tree is kept in memory between changes of what it shows (V017's version); after
/// each kind of change, from any writer, it says what the list (never kept) says.
#[tokio::test]
async fn the_kept_tree_follows_every_change_of_what_it_shows() {
    let t = team().await;
    let same = |why: &'static str| {
        let t = &t;
        async move {
            let mut tree = Vec::new();
            flatten(t.app.get(&format!("{D}/tree"), &t.m.token).await.ok(200), &mut tree);
            let mut list: Vec<Value> = t.app.get(&format!("{D}?per_page=100"), &t.m.token).await.ok(200)["items"]
                .as_array()
                .unwrap()
                .clone();
            let key = |v: &Value| v["id"].as_str().unwrap().to_string();
            tree.sort_by_key(key);
            list.sort_by_key(key);
            assert_eq!(tree, list, "{why}");
            tree
        }
    };
    let version = || {
        t.app.dump("SELECT version FROM org_versions")[0]["version"]
            .as_i64()
            .unwrap()
    };
    let a = dept(&t, "Alpha", 1, None).await;
    let b = dept(&t, "Beta", 2, Some(&a)).await;
    let first = same("two departments").await;
    assert_eq!(first.len(), 2);

    // Work outside the organisation leaves its version (and the kept tree) alone.
    let v = version();
    let p = t.app.create_project(&t.o, "acme", "WEB", false).await;
    t.app
        .post(
            &format!("/api/v1/workspaces/acme/projects/{p}/issues"),
            &t.o.token,
            json!({"name": "x"}),
        )
        .await
        .ok(201);
    assert_eq!(version(), v);
    assert_eq!(same("an issue later").await, first);

    t.app
        .patch(&format!("{D}/{b}"), &t.a.token, json!({"name": "Beta Two"}))
        .await
        .ok(200);
    assert_eq!(
        same("a rename")
            .await
            .iter()
            .filter(|d| d["name"] == "Beta Two")
            .count(),
        1
    );
    t.app
        .post(
            "/api/v1/workspaces/acme/staff",
            &t.o.token,
            json!({"user_id": t.m.id, "staff_id": "E1", "department_id": b}),
        )
        .await
        .ok(201);
    let counted = same("a staff record").await;
    assert_eq!(
        counted.iter().find(|d| d["id"] == b.as_str()).unwrap()["staff_count"],
        1
    );
    // The kept order of the tree also answers the staff list's subtrees.
    let in_a = || async {
        let url = format!("/api/v1/workspaces/acme/staff?department={a}&subtree=true");
        t.app.get(&url, &t.o.token).await.ok(200)["total"].as_i64().unwrap()
    };
    assert_eq!(in_a().await, 1);
    t.app
        .patch(&format!("{D}/{b}"), &t.a.token, json!({"parent_id": null}))
        .await
        .ok(200);
    assert_eq!(in_a().await, 0);
    same("a move").await;
    t.app
        .patch(&format!("{D}/{b}"), &t.a.token, json!({"parent_id": a}))
        .await
        .ok(200);
    assert_eq!(in_a().await, 1);
    t.app
        .patch(&format!("{D}/{a}"), &t.a.token, json!({"manager_id": t.m.id}))
        .await
        .ok(200);
    same("a manager").await;
    t.app
        .patch(
            "/api/v1/users/me",
            &t.m.token,
            json!({"display_name": "Renamed Manager"}),
        )
        .await
        .ok(200);
    let renamed = same("the manager's new name").await;
    assert_eq!(
        renamed.iter().find(|d| d["id"] == a.as_str()).unwrap()["manager_name"],
        "Renamed Manager"
    );
    t.app
        .patch(
            &format!("/api/v1/workspaces/acme/staff/{}", t.m.id),
            &t.o.token,
            json!({"employment_status": "resigned"}),
        )
        .await
        .ok(200);
    let left = same("a leaver").await;
    assert_eq!(left.iter().find(|d| d["id"] == b.as_str()).unwrap()["staff_count"], 0);
    t.app.delete(&format!("{D}/{b}?staff_to={a}"), &t.a.token).await.ok(204);
    assert_eq!(same("a delete").await.len(), 1);
    // Any writer moves the version: here a plain SQL statement on the projection.
    let c = rusqlite::Connection::open(t.app.dir.path().join("keel.db")).unwrap();
    c.execute("UPDATE departments SET name = 'Written elsewhere' WHERE id = ?1", [&a])
        .unwrap();
    drop(c);
    assert_eq!(same("another writer").await[0]["name"], "Written elsewhere");
}
