//! The attacks a paired device could try, each against the real server over the real sync
//! socket with a crafted update: each is refused, nothing the victim sees changes, and
//! nothing is relayed.

use std::time::Duration;

use keel::sync::wire::Frame;
use serde_json::json;
use yrs::updates::decoder::Decode;
use yrs::{Any, Doc, Map, Out, ReadTxn, Transact, Update};

use crate::helpers::TestApp;
use crate::sync::raw::*;

/// The document `doc_id` as the device holds it after the handshake.
fn local_doc(pushed: &[Frame], doc_id: &str) -> Doc {
    let doc = Doc::new();
    for f in pushed {
        if let Frame::Update { doc_id: d, update, .. } = f {
            if d == doc_id {
                doc.transact_mut()
                    .apply_update(Update::decode_v1(update).unwrap())
                    .unwrap();
            }
        }
    }
    doc
}

/// A crafted edit of fields of a field-shaped record the device holds.
fn field_edit(doc: &Doc, table: &str, id: &str, fields: &[(&str, Any)]) -> Vec<u8> {
    let root = doc.get_or_insert_map(table);
    let sv = doc.transact().state_vector();
    let mut txn = doc.transact_mut();
    let Some(Out::YMap(rec)) = root.get(&txn, id) else {
        panic!("no record {table}/{id} on the device")
    };
    for (k, v) in fields {
        rec.insert(&mut txn, k.to_string(), v.clone());
    }
    drop(txn);
    let update = doc.transact().encode_diff_v1(&sv);
    update
}

/// A crafted replacement of an atomic record the device holds.
fn atomic_edit(doc: &Doc, table: &str, id: &str, fields: &[(&str, Any)]) -> Vec<u8> {
    let root = doc.get_or_insert_map(table);
    let sv = doc.transact().state_vector();
    let mut txn = doc.transact_mut();
    let Some(Out::Any(Any::Map(cur))) = root.get(&txn, id) else {
        panic!("no record {table}/{id} on the device")
    };
    let mut m = cur.as_ref().clone();
    for (k, v) in fields {
        m.insert(k.to_string(), v.clone());
    }
    root.insert(&mut txn, id.to_string(), Any::from(m));
    drop(txn);
    let update = doc.transact().encode_diff_v1(&sv);
    update
}

async fn push(ws: &mut Ws, doc_id: &str, workspace_id: &str, seq: u64, update: Vec<u8>) {
    send(
        ws,
        &Frame::Update {
            doc_id: doc_id.to_string(),
            workspace_id: workspace_id.to_string(),
            seq,
            update,
        },
    )
    .await;
}

fn id_of(app: &TestApp, sql: &str) -> String {
    app.dump(sql)[0]["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn a_device_cannot_take_another_workspaces_records_by_their_keys() {
    let (t, ws_id, _pid, issue) = world().await;
    // The victim's comment and time, which the attacker would read if the rows moved.
    let p = format!("/api/v1/workspaces/acme/projects/{_pid}");
    t.app
        .post(
            &format!("{p}/issues/{issue}/comments"),
            &t.o.token,
            json!({"comment_html": "secret"}),
        )
        .await
        .ok(201);
    let comment = id_of(&t.app, "SELECT id FROM issue_comments");
    // An account of its own, with a workspace and project of its own, pairs a device.
    let x = t.app.register("rival@example.com").await;
    t.app.create_workspace(&x, "rival").await;
    let xp = t.app.create_project(&x, "rival", "RIV", false).await;
    let xws = id_of(&t.app, "SELECT id FROM workspaces WHERE slug = 'rival'");
    let d = pair_device(&t.app, "rival@example.com", "rival device").await;
    let mut xs = open(&t.app, d["token"].as_str(), None).await.unwrap();
    handshake(&mut xs, &x.id).await;
    let before = t.app.dump("SELECT * FROM issues ORDER BY id");
    let comments = t.app.dump("SELECT * FROM issue_comments ORDER BY id");
    // The victim's issue key, created in the attacker's own project document.
    let now = Any::from("2026-11-30T10:00:00.000Z");
    let fields = vec![
        ("workspace_id", Any::from(xws.as_str())),
        ("project_id", Any::from(xp.as_str())),
        ("sequence_id", Any::from(1)),
        ("name", Any::from("mine now")),
        ("priority", Any::from("none")),
        ("sort_order", Any::from(0)),
        ("created_at", now.clone()),
        ("updated_at", now.clone()),
        ("created_by", Any::from(x.id.as_str())),
        ("deleted_at", Any::Null),
    ];
    let doc = Doc::new();
    let u = {
        let root = doc.get_or_insert_map("issues");
        let mut txn = doc.transact_mut();
        let prelim: yrs::MapPrelim = fields.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
        root.insert(&mut txn, issue.clone(), prelim);
        txn.encode_update_v1()
    };
    push(&mut xs, &format!("project:{xp}"), &xws, 1, u).await;
    let e = rejected(&mut xs).await;
    assert!(e.message.contains("already lives in another document"), "{}", e.message);
    // The victim's comment key, as an atomic record.
    let u = atomic_update(
        "issue_comments",
        &comment,
        &[
            ("workspace_id", Any::from(xws.as_str())),
            ("project_id", Any::from(xp.as_str())),
            ("issue_id", Any::from(issue.as_str())),
            ("comment_html", Any::from("x")),
            ("created_at", now.clone()),
            ("updated_at", now.clone()),
            ("created_by", Any::from(x.id.as_str())),
            ("deleted_at", Any::Null),
        ],
    );
    push(&mut xs, &format!("project:{xp}"), &xws, 2, u).await;
    let e = rejected(&mut xs).await;
    assert!(e.message.contains("already lives in another document"), "{}", e.message);
    // Nothing the victim sees changed, and the attacker's project shows nothing of theirs.
    assert_eq!(t.app.dump("SELECT * FROM issues ORDER BY id"), before);
    assert_eq!(t.app.dump("SELECT * FROM issue_comments ORDER BY id"), comments);
    let theirs = t
        .app
        .get(&format!("/api/v1/workspaces/rival/projects/{xp}/issues"), &x.token)
        .await
        .ok(200)["total"]
        .clone();
    assert_eq!(theirs, 0);
    // And a rebuild finds every key in one document.
    assert!(keel::docs::rebuild_projection_blocking(&t.app.app).is_ok());
    let _ = ws_id;
}

#[tokio::test]
async fn a_device_cannot_rename_or_delete_another_workspace() {
    let (t, ws_id, _, _) = world().await;
    let x = t.app.register("rival@example.com").await;
    t.app.create_workspace(&x, "rival").await;
    let xws = id_of(&t.app, "SELECT id FROM workspaces WHERE slug = 'rival'");
    let d = pair_device(&t.app, "rival@example.com", "rival device").await;
    let mut xs = open(&t.app, d["token"].as_str(), None).await.unwrap();
    handshake(&mut xs, &x.id).await;
    let before = t.app.dump("SELECT * FROM workspaces ORDER BY id");
    // The acme workspace record, written into the attacker's own workspace document.
    let doc = Doc::new();
    let u = {
        let root = doc.get_or_insert_map("workspaces");
        let mut txn = doc.transact_mut();
        let prelim: yrs::MapPrelim = [
            ("name".to_string(), Any::from("pwned")),
            ("deleted_at".to_string(), Any::from("2026-11-30T10:00:00.000Z")),
        ]
        .into_iter()
        .collect();
        root.insert(&mut txn, ws_id.clone(), prelim);
        txn.encode_update_v1()
    };
    push(&mut xs, &format!("ws:{xws}"), &xws, 1, u).await;
    let e = rejected(&mut xs).await;
    assert!(e.message.contains("not this document's own record"), "{}", e.message);
    assert_eq!(t.app.dump("SELECT * FROM workspaces ORDER BY id"), before);
    t.app.get("/api/v1/workspaces/acme", &t.o.token).await.ok(200);
}

#[tokio::test]
async fn an_admins_device_cannot_make_itself_owner_nor_remove_the_last_owner() {
    let (t, ws_id, _, _) = world().await;
    let d = pair_device(&t.app, "admin@example.com", "admin device").await;
    let mut s = open(&t.app, d["token"].as_str(), None).await.unwrap();
    let (_, pushed) = handshake(&mut s, &t.a.id).await;
    let doc_id = format!("ws:{ws_id}");
    let doc = local_doc(&pushed, &doc_id);
    let before = t.app.dump("SELECT * FROM workspace_members ORDER BY id");
    let u = field_edit(
        &doc,
        "workspace_members",
        &format!("{ws_id}:{}", t.a.id),
        &[("role", Any::from("owner"))],
    );
    push(&mut s, &doc_id, &ws_id, 1, u).await;
    let e = rejected(&mut s).await;
    assert!(e.message.contains("only owners"), "{}", e.message);
    let doc = local_doc(&pushed, &doc_id);
    let u = field_edit(
        &doc,
        "workspace_members",
        &format!("{ws_id}:{}", t.o.id),
        &[("deleted_at", Any::from("2026-11-30T10:00:00.000Z"))],
    );
    push(&mut s, &doc_id, &ws_id, 2, u).await;
    let e = rejected(&mut s).await;
    assert!(e.message.contains("owner"), "{}", e.message);
    // Nor delete the workspace (an owner's act).
    let doc = local_doc(&pushed, &doc_id);
    let u = field_edit(
        &doc,
        "workspaces",
        &ws_id,
        &[("deleted_at", Any::from("2026-11-30T10:00:00.000Z"))],
    );
    push(&mut s, &doc_id, &ws_id, 3, u).await;
    rejected(&mut s).await;
    assert_eq!(t.app.dump("SELECT * FROM workspace_members ORDER BY id"), before);
    t.app.get("/api/v1/workspaces/acme", &t.o.token).await.ok(200);
}

#[tokio::test]
async fn a_members_device_keeps_the_rules_of_issues_comments_history_and_archived_projects() {
    let (t, ws_id, pid, issue) = world().await;
    let p = format!("/api/v1/workspaces/acme/projects/{pid}");
    t.app
        .post(
            &format!("{p}/issues/{issue}/comments"),
            &t.o.token,
            json!({"comment_html": "owner says"}),
        )
        .await
        .ok(201);
    let comment = id_of(&t.app, "SELECT id FROM issue_comments");
    let x = t.app.register("rival@example.com").await;
    t.app.create_workspace(&x, "rival").await;
    let xp = t.app.create_project(&x, "rival", "RIV", false).await;
    let foreign_state = id_of(&t.app, &format!("SELECT id FROM states WHERE project_id = '{xp}'"));
    let d = pair_device(&t.app, "member@example.com", "member device").await;
    let mut s = open(&t.app, d["token"].as_str(), None).await.unwrap();
    let (_, pushed) = handshake(&mut s, &t.m.id).await;
    let doc_id = format!("project:{pid}");
    let issues = t.app.dump("SELECT * FROM issues ORDER BY id");
    let comments = t.app.dump("SELECT * FROM issue_comments ORDER BY id");
    let activity = t.app.dump("SELECT * FROM issue_activity ORDER BY id");
    let now = Any::from("2026-11-30T10:00:00.000Z");
    // Delete the owner's issue: only its author or a project admin may.
    let u = field_edit(
        &local_doc(&pushed, &doc_id),
        "issues",
        &issue,
        &[("deleted_at", now.clone())],
    );
    push(&mut s, &doc_id, &ws_id, 1, u).await;
    let e = rejected(&mut s).await;
    assert!(e.message.contains("creator or a project admin"), "{}", e.message);
    // Point the issue at another workspace's state.
    let u = field_edit(
        &local_doc(&pushed, &doc_id),
        "issues",
        &issue,
        &[("state_id", Any::from(foreign_state.as_str()))],
    );
    push(&mut s, &doc_id, &ws_id, 2, u).await;
    rejected(&mut s).await;
    // Take over the owner's comment by rewriting its author.
    let u = atomic_edit(
        &local_doc(&pushed, &doc_id),
        "issue_comments",
        &comment,
        &[
            ("created_by", Any::from(t.m.id.as_str())),
            ("comment_html", Any::from("mine")),
        ],
    );
    push(&mut s, &doc_id, &ws_id, 3, u).await;
    let e = rejected(&mut s).await;
    assert!(e.message.contains("created_by cannot change"), "{}", e.message);
    // Forge history in the owner's name.
    let u = atomic_update(
        "issue_activity",
        "01a20000-0000-7000-8000-0000000000dd",
        &[
            ("workspace_id", Any::from(ws_id.as_str())),
            ("project_id", Any::from(pid.as_str())),
            ("issue_id", Any::from(issue.as_str())),
            ("verb", Any::from("updated")),
            ("field", Any::from("name")),
            ("created_at", now.clone()),
            ("updated_at", now.clone()),
            ("created_by", Any::from(t.o.id.as_str())),
            ("deleted_at", Any::Null),
        ],
    );
    push(&mut s, &doc_id, &ws_id, 4, u).await;
    let e = rejected(&mut s).await;
    assert!(e.message.contains("recorded by the one who acts"), "{}", e.message);
    assert_eq!(t.app.dump("SELECT * FROM issues ORDER BY id"), issues);
    assert_eq!(t.app.dump("SELECT * FROM issue_comments ORDER BY id"), comments);
    assert_eq!(t.app.dump("SELECT * FROM issue_activity ORDER BY id"), activity);

    // Rich text from the device is sanitised like the API's.
    let u = field_edit(
        &local_doc(&pushed, &doc_id),
        "issues",
        &issue,
        &[(
            "description_html",
            Any::from("<p onclick=\"steal()\">hi<script>alert(1)</script></p>"),
        )],
    );
    push(&mut s, &doc_id, &ws_id, 5, u).await;
    assert_eq!(next(&mut s).await, Some(Frame::Ack(5)));
    let row = t.app.dump(&format!(
        "SELECT description_html, description_text FROM issues WHERE id = '{issue}'"
    ));
    assert_eq!(row[0]["description_html"], "<p>hi</p>");
    assert_eq!(row[0]["description_text"], "hi");

    // An archived project takes no writes from the device.
    t.app.post(&format!("{p}/archive"), &t.o.token, json!({})).await.ok(200);
    tokio::time::sleep(Duration::from_millis(200)).await;
    while let Ok(Some(_)) = tokio::time::timeout(Duration::from_millis(300), next(&mut s)).await {}
    let state = t.app.dump(&format!("SELECT * FROM issues WHERE id = '{issue}'"));
    let doc = Doc::new();
    let c = rusqlite::Connection::open(t.app.app.config.db_path()).unwrap();
    let st = keel::docs::document_state(&c, &doc_id).unwrap().unwrap();
    doc.transact_mut()
        .apply_update(Update::decode_v1(&st).unwrap())
        .unwrap();
    let u = field_edit(&doc, "issues", &issue, &[("name", Any::from("renamed while archived"))]);
    push(&mut s, &doc_id, &ws_id, 6, u).await;
    let e = rejected(&mut s).await;
    assert!(e.message.contains("archived"), "{}", e.message);
    assert_eq!(t.app.dump(&format!("SELECT * FROM issues WHERE id = '{issue}'")), state);
}

/// A server this instance syncs from, played by the test over the session's own channels.
struct FakeServer {
    to_device: tokio::sync::mpsc::Sender<Vec<u8>>,
    from_device: tokio::sync::mpsc::Receiver<Vec<u8>>,
}

impl FakeServer {
    async fn send(&self, f: Frame) {
        self.to_device.send(f.encode()).await.unwrap();
    }
    /// Frames the device sends within a short quiet period.
    async fn drain(&mut self) -> Vec<Frame> {
        let mut out = Vec::new();
        while let Ok(Some(b)) = tokio::time::timeout(Duration::from_millis(400), self.from_device.recv()).await {
            out.push(Frame::decode(&b).unwrap());
        }
        out
    }
}

#[tokio::test]
async fn a_server_is_trusted_only_with_the_workspaces_it_shares() {
    // A desktop with a workspace of its own, and one peer it syncs from.
    let t = TestApp::spawn().await;
    let u = t.register("ann@example.com").await;
    t.create_workspace(&u, "home").await;
    let home = id_of(&t, "SELECT id FROM workspaces WHERE slug = 'home'");
    let peer = "01a20000-0000-7000-8000-00000000fe01";
    {
        let c = rusqlite::Connection::open(t.app.config.db_path()).unwrap();
        c.busy_timeout(Duration::from_secs(5)).unwrap();
        c.execute(
            "INSERT INTO sync_peers (id, url, device_id, user_id, created_at) VALUES (?1, 'http://127.0.0.1:9', 'd', ?2, 'now')",
            [peer, u.id.as_str()],
        )
        .unwrap();
    }
    let (to_device, inbound) = tokio::sync::mpsc::channel(64);
    let (outbound, from_device) = tokio::sync::mpsc::channel(64);
    let (_cut_tx, cut) = tokio::sync::watch::channel(false);
    let app = t.app.clone();
    let me = u.id.clone();
    let session = tokio::spawn(async move {
        keel::sync::session::run(
            app,
            keel::sync::Remote::Upstream {
                peer_id: peer.to_string(),
            },
            &me,
            None,
            keel::sync::session::Link { inbound, outbound },
            cut,
        )
        .await
    });
    let mut s = FakeServer { to_device, from_device };
    s.send(Frame::Hello(keel::sync::wire::Hello::ours(
        &u.id,
        None,
        "fake-server",
        0,
        None,
    )))
    .await;
    s.send(Frame::Manifest(keel::sync::wire::Manifest { docs: vec![] }))
        .await;
    let frames = s.drain().await;
    // The desktop's own workspace is not offered to the server.
    for f in &frames {
        match f {
            Frame::Manifest(m) => assert!(m.docs.iter().all(|d| d.workspace_id != home), "{m:?}"),
            Frame::Update { workspace_id, .. } => assert_ne!(workspace_id, &home),
            _ => {}
        }
    }
    assert!(frames.iter().any(|f| matches!(f, Frame::Manifest(_))), "{frames:?}");
    let before = t.dump("SELECT * FROM workspaces ORDER BY id");
    // The server renames the desktop's own workspace: not taken.
    let doc = Doc::new();
    let u1 = {
        let root = doc.get_or_insert_map("workspaces");
        let mut txn = doc.transact_mut();
        let prelim: yrs::MapPrelim = [("name".to_string(), Any::from("pwned"))].into_iter().collect();
        root.insert(&mut txn, home.clone(), prelim);
        txn.encode_update_v1()
    };
    s.send(Frame::Update {
        doc_id: format!("ws:{home}"),
        workspace_id: home.clone(),
        seq: 1,
        update: u1,
    })
    .await;
    let frames = s.drain().await;
    assert!(
        frames
            .iter()
            .any(|f| matches!(f, Frame::Error(e) if e.code == "not_shared")),
        "{frames:?}"
    );
    // Nor may it make the desktop drop it.
    s.send(Frame::Error(keel::sync::wire::ErrorMsg {
        code: "update_rejected".into(),
        message: "reset".into(),
        doc_id: Some(format!("ws:{home}")),
        reset: true,
    }))
    .await;
    s.drain().await;
    assert_eq!(t.dump("SELECT * FROM workspaces ORDER BY id"), before);
    t.get("/api/v1/workspaces/home", &u.token).await.ok(200);
    // A workspace the server brings is taken, and shared with it from then on.
    let theirs = "01a20000-0000-7000-8000-00000000fe02";
    let doc = Doc::new();
    let u2 = {
        let root = doc.get_or_insert_map("workspaces");
        let mut txn = doc.transact_mut();
        let now = Any::from("2026-11-30T10:00:00.000Z");
        let prelim: yrs::MapPrelim = [
            ("name", Any::from("Team")),
            ("slug", Any::from("team")),
            ("display_id", Any::from("WK-TEAM")),
            ("plan", Any::from("free")),
            ("created_at", now.clone()),
            ("updated_at", now),
            ("created_by", Any::from(u.id.as_str())),
            ("deleted_at", Any::Null),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        root.insert(&mut txn, theirs.to_string(), prelim);
        txn.encode_update_v1()
    };
    s.send(Frame::Update {
        doc_id: format!("ws:{theirs}"),
        workspace_id: theirs.to_string(),
        seq: 2,
        update: u2,
    })
    .await;
    let frames = s.drain().await;
    assert!(frames.iter().any(|f| matches!(f, Frame::Ack(2))), "{frames:?}");
    assert_eq!(
        t.dump(&format!("SELECT name FROM workspaces WHERE id = '{theirs}'"))[0]["name"],
        "Team"
    );
    assert_eq!(
        t.dump("SELECT workspace_id FROM peer_workspaces"),
        vec![json!({"workspace_id": theirs})]
    );
    drop(s);
    let _ = tokio::time::timeout(Duration::from_secs(5), session).await;
}

#[tokio::test]
async fn a_device_holds_a_bounded_number_of_connections_and_manifests() {
    let (t, _, _, _) = world().await;
    let d = pair_device(&t.app, "member@example.com", "member device").await;
    let token = d["token"].as_str().unwrap();
    let mut open_ones = Vec::new();
    for _ in 0..keel::sync::MAX_DEVICE_CONNECTIONS {
        let mut s = open(&t.app, Some(token), None).await.unwrap();
        handshake(&mut s, &t.m.id).await;
        open_ones.push(s);
    }
    assert_eq!(
        open(&t.app, Some(token), None).await.err(),
        Some(429),
        "one connection too many"
    );
    // Closing one makes room again.
    drop(open_ones.pop());
    let mut again = None;
    for _ in 0..50 {
        if let Ok(s) = open(&t.app, Some(token), None).await {
            again = Some(s);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut s = again.expect("a connection once one closed");
    handshake(&mut s, &t.m.id).await;
    // A stream of manifests ends the connection with its reason.
    let mut ended = None;
    for _ in 0..=keel::sync::session::MAX_MANIFESTS {
        send(&mut s, &Frame::Manifest(keel::sync::wire::Manifest { docs: vec![] })).await;
    }
    while let Some(f) = next(&mut s).await {
        if let Frame::Error(e) = f {
            ended = Some(e.code);
            break;
        }
    }
    assert_eq!(ended.as_deref(), Some("too_many_manifests"));
    assert!(next(&mut s).await.is_none(), "the connection is closed");
}

#[tokio::test]
async fn a_record_copied_unchanged_into_another_document_is_refused() {
    // Found by the structured fuzzer: a record that reads exactly like its row passed as
    // "unchanged" though it sat in another document.
    let (t, ws_id, pid, issue) = world().await;
    let ops = t.app.create_project(&t.o, "acme", "OPS", false).await;
    t.app
        .post(
            &format!("/api/v1/workspaces/acme/projects/{ops}/members"),
            &t.o.token,
            json!({"user_id": t.m.id, "role": "member"}),
        )
        .await
        .ok(201);
    let d = pair_device(&t.app, "member@example.com", "member device").await;
    let mut s = open(&t.app, d["token"].as_str(), None).await.unwrap();
    let (_, pushed) = handshake(&mut s, &t.m.id).await;
    // The issue of WEB, every field as it is, into OPS's document.
    let web = local_doc(&pushed, &format!("project:{pid}"));
    let fields: Vec<(String, Any)> = {
        let root = web.get_or_insert_map("issues");
        let txn = web.transact();
        let Some(Out::YMap(rec)) = root.get(&txn, &issue) else {
            panic!("no issue")
        };
        rec.iter(&txn)
            .filter_map(|(k, v)| match v {
                Out::Any(a) => Some((k.to_string(), a)),
                _ => None,
            })
            .collect()
    };
    let doc = local_doc(&pushed, &format!("project:{ops}"));
    let sv = doc.transact().state_vector();
    {
        let root = doc.get_or_insert_map("issues");
        let mut txn = doc.transact_mut();
        let prelim: yrs::MapPrelim = fields.into_iter().collect();
        root.insert(&mut txn, issue.clone(), prelim);
    }
    let u = doc.transact().encode_diff_v1(&sv);
    push(&mut s, &format!("project:{ops}"), &ws_id, 1, u).await;
    rejected(&mut s).await;
    assert!(
        keel::docs::rebuild_projection_blocking(&t.app.app).is_ok(),
        "a key in two documents"
    );
}
