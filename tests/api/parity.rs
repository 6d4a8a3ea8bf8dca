//! Parity of the two write paths, generated from the rule registry: for every record type,
//! every actor kind of the authorization matrix and every mutation the rules know (create,
//! each field changed, the author forged, moved to another workspace, a foreign key
//! hijacked, delete), the change made through the write path the API uses
//! (`WriteCtx::edit`) and the same change sent as a crafted yrs update by that actor's
//! device (`sync::device_access`, then `WriteCtx::apply_remote`) end the same way: both
//! accepted with identical rows, or both refused with the same code and nothing stored.
//! A device may be narrower than the API (its document-level access), never wider.

use std::collections::HashMap;

use keel::docs::{Col, DocKind, DocRef, Val, Who, TABLES};
use keel::{App, Config};
use rusqlite::types::ValueRef;
use serde_json::json;
use yrs::updates::decoder::Decode;
use yrs::{Any, Doc, Map, MapPrelim, Out, ReadTxn, StateVector, Transact, Update};

use crate::documents::busy_workspace;
use crate::helpers::TestApp;

const NOW: &str = "2026-11-30T12:00:00.000Z";

fn open_ro(app: &App) -> rusqlite::Connection {
    rusqlite::Connection::open_with_flags(app.config.db_path(), rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap()
}

/// A record's row, in the order of its table's columns; `None` when there is none.
fn row(app: &App, table: &str, id: &str) -> Option<Vec<Val>> {
    let spec = keel::docs::table_spec(table).unwrap();
    let names: Vec<&str> = spec.cols.iter().map(|c| c.0).collect();
    let c = open_ro(app);
    let sql = format!("SELECT {} FROM {table} WHERE id = ?1", names.join(", "));
    let mut stmt = c.prepare(&sql).unwrap();
    let mut rows = stmt.query([id]).unwrap();
    let r = rows.next().unwrap()?;
    Some(
        (0..names.len())
            .map(|i| match r.get_ref(i).unwrap() {
                ValueRef::Null => Val::Null,
                ValueRef::Integer(n) => Val::Int(n),
                ValueRef::Text(t) => Val::Text(String::from_utf8_lossy(t).into_owned()),
                other => panic!("unexpected {other:?}"),
            })
            .collect(),
    )
}

fn first_id(app: &App, table: &str, ws: &str) -> Option<String> {
    let c = open_ro(app);
    let col = if table == "workspaces" { "id" } else { "workspace_id" };
    c.query_row(
        &format!("SELECT id FROM {table} WHERE {col} = ?1 AND deleted_at IS NULL ORDER BY id LIMIT 1"),
        [ws],
        |r| r.get(0),
    )
    .ok()
}

fn text(spec: &keel::docs::TableSpec, vals: &[Val], f: &str) -> Option<String> {
    let i = spec.cols.iter().position(|c| c.0 == f)?;
    match &vals[i] {
        Val::Text(t) => Some(t.clone()),
        _ => None,
    }
}

/// The document a record of `table` lives in, from its row.
fn doc_of(table: &str, id: &str, ws: &str, vals: &[Val]) -> DocRef {
    let spec = keel::docs::table_spec(table).unwrap();
    let t = |f: &str| text(spec, vals, f).unwrap_or_default();
    match spec.kind {
        DocKind::Workspace => DocRef::workspace(ws),
        DocKind::Project if table == "projects" => DocRef::project(ws, id),
        DocKind::Project => DocRef::project(ws, &t("project_id")),
        DocKind::Worklogs => DocRef::worklogs(ws, &t("project_id"), &t("logged_by"), &quarter(&t("created_at"))),
        DocKind::User => DocRef::user(ws, &t("user_id")),
        DocKind::Staff => DocRef::staff(ws),
        DocKind::Dashboards => {
            let owner = text(spec, vals, "user_id");
            DocRef::dashboards(ws, owner.as_deref())
        }
    }
}

fn quarter(t: &str) -> String {
    let m: u32 = t[5..7].parse().unwrap();
    format!("{}Q{}", &t[..4], (m - 1) / 3 + 1)
}

fn to_any(v: &Val) -> Any {
    match v {
        Val::Text(s) => Any::from(s.as_str()),
        Val::Int(n) => Any::from(*n),
        Val::Null => Any::Null,
    }
}

/// One change to one record, made the same way on both paths.
#[derive(Debug, Clone)]
struct Mutation {
    what: String,
    doc: DocRef,
    table: &'static str,
    id: String,
    /// Fields to set (a new record: all of them).
    fields: Vec<(&'static str, Val)>,
    create: bool,
}

/// The code of a refusal, or `None` for an accepted change.
type Outcome = Option<String>;

fn code(e: &keel::error::AppError) -> String {
    e.status_and_code().1.to_string()
}

async fn through_edit(app: &App, who: &Who, m: &Mutation) -> Outcome {
    let (who, m) = (who.clone(), m.clone());
    let r = app
        .writer
        .write(move |ctx| {
            // Generic over tables: fields by name, each checked against the spec.
            let spec = keel::docs::table_spec(m.table).unwrap_or_else(|| panic!("{}", m.table));
            let fields: Vec<keel::docs::Set> = m
                .fields
                .iter()
                .map(|(n, v)| spec.set(n, v.clone()).unwrap_or_else(|| panic!("{}.{n}", m.table)))
                .collect();
            ctx.edit(&who, &m.doc, |e| {
                if m.create {
                    e.create(spec, &m.id, &fields)
                } else {
                    e.set(spec, &m.id, &fields)
                }
            })
        })
        .await;
    r.err().map(|e| code(&e))
}

/// The crafted update a device would send: our copy of the document, changed, as a diff.
fn crafted(app: &App, m: &Mutation) -> Vec<u8> {
    let c = open_ro(app);
    let doc = Doc::new();
    let root = doc.get_or_insert_map(m.table);
    if let Some(state) = keel::docs::document_state(&c, &m.doc.id).unwrap() {
        doc.transact_mut()
            .apply_update(Update::decode_v1(&state).unwrap())
            .unwrap();
    }
    let before = doc.transact().state_vector();
    let spec = keel::docs::table_spec(m.table).unwrap();
    let mut txn = doc.transact_mut();
    match (spec.shape, m.create) {
        (keel::docs::Shape::Fields, true) => {
            let prelim: MapPrelim = m.fields.iter().map(|(k, v)| (k.to_string(), to_any(v))).collect();
            root.insert(&mut txn, m.id.clone(), prelim);
        }
        (keel::docs::Shape::Fields, false) => {
            let Some(Out::YMap(rec)) = root.get(&txn, &m.id) else {
                panic!("no record {} {}", m.table, m.id)
            };
            for (k, v) in &m.fields {
                rec.insert(&mut txn, k.to_string(), to_any(v));
            }
        }
        (keel::docs::Shape::Atomic, create) => {
            let mut cur: HashMap<String, Any> = match root.get(&txn, &m.id) {
                Some(Out::Any(Any::Map(cur))) if !create => cur.as_ref().clone(),
                _ => HashMap::new(),
            };
            for (k, v) in &m.fields {
                cur.insert(k.to_string(), to_any(v));
            }
            root.insert(&mut txn, m.id.clone(), Any::from(cur));
        }
    }
    drop(txn);
    let txn = doc.transact();
    txn.encode_diff_v1(&StateVector::decode_v1(&yrs::updates::encoder::Encode::encode_v1(&before)).unwrap())
}

async fn through_device(app: &App, who: &Who, m: &Mutation) -> (Outcome, bool) {
    let Who::User(user) = who.clone() else { unreachable!() };
    let d = m.doc.clone();
    let access = app
        .readers
        .read(move |c| Ok(keel::sync::device_access(c, &user, &d)?))
        .await
        .unwrap();
    if !access.write {
        return (Some("update_rejected".into()), true);
    }
    let update = crafted(app, m);
    let (who, d) = (who.clone(), m.doc.clone());
    let r = app
        .writer
        .write(move |ctx| ctx.apply_remote(&who, &d, &update).map(|_| ()))
        .await;
    (r.err().map(|e| code(&e)), false)
}

/// A value different from `v` for column `name`, and one naming something of the rival
/// workspace where the column holds an id.
fn other_value(name: &str, ty: Col, v: &Val, foreign: &str) -> Val {
    match (ty, v) {
        (Col::Int, Val::Int(n)) if *n == 0 || *n == 1 => Val::Int(1 - n),
        (Col::Int, Val::Int(n)) => Val::Int(n + 1),
        (Col::Int, _) => Val::Int(1),
        (Col::Text, _) if name.ends_with("_id") || name.ends_with("_by") => Val::Text(foreign.to_string()),
        (Col::Text, _) if name == "role" => Val::Text("owner".into()),
        (Col::Text, Val::Text(t)) => Val::Text(format!("{t}x")),
        (Col::Text, _) => Val::Text("2026-11-30".into()),
    }
}

/// Every mutation of every record type, for one actor.
fn mutations(app: &App, ws: &str, rival_ws: &str, rival: &HashMap<&str, String>, actor: &str) -> Vec<Mutation> {
    let mut out = Vec::new();
    for spec in TABLES {
        let Some(id) = first_id(app, spec.name, ws) else {
            continue;
        };
        let vals = row(app, spec.name, &id).unwrap();
        let doc = doc_of(spec.name, &id, ws, &vals);
        let foreign = rival.get(spec.name).cloned().unwrap_or_else(|| rival_ws.to_string());
        let base = ["created_at", "updated_at", "deleted_at"];
        for (i, (name, ty)) in spec.cols.iter().enumerate() {
            if base.contains(name) {
                continue;
            }
            let new = if *name == "workspace_id" {
                Val::Text(rival_ws.to_string())
            } else if *name == "created_by" {
                Val::Text(actor.to_string())
            } else {
                other_value(name, *ty, &vals[i], rival.get("any_id").map_or(&foreign, |f| f))
            };
            out.push(Mutation {
                what: format!("{}.{name} changed", spec.name),
                doc: doc.clone(),
                table: spec.name,
                id: id.clone(),
                fields: vec![(*name, new), ("updated_at", NOW.into())],
                create: false,
            });
        }
        // A new record like this one, by the actor (in their own document where records
        // belong to a person).
        let mut fields: Vec<(&'static str, Val)> = spec.cols.iter().map(|c| c.0).zip(vals.iter().cloned()).collect();
        for (k, v) in fields.iter_mut() {
            match *k {
                "created_by" | "user_id" | "logged_by" => *v = Val::Text(actor.to_string()),
                "created_at" | "updated_at" => *v = Val::Text(NOW.into()),
                _ => {}
            }
        }
        let new_id = if matches!(spec.name, "workspaces" | "projects") {
            id.clone()
        } else {
            keel::new_id()
        };
        let owner_doc = match spec.kind {
            DocKind::Worklogs => DocRef::worklogs(ws, &text(spec, &vals, "project_id").unwrap(), actor, &quarter(NOW)),
            DocKind::User => DocRef::user(ws, actor),
            _ => doc.clone(),
        };
        if !matches!(spec.name, "workspaces" | "projects") {
            out.push(Mutation {
                what: format!("{} created", spec.name),
                doc: owner_doc.clone(),
                table: spec.name,
                id: new_id,
                fields: fields.clone(),
                create: true,
            });
        }
        // Somebody else's key, of the rival workspace, created here.
        if let Some(theirs) = rival.get(spec.name) {
            out.push(Mutation {
                what: format!("{} key of another workspace taken", spec.name),
                doc: owner_doc,
                table: spec.name,
                id: theirs.clone(),
                fields,
                create: true,
            });
        }
        out.push(Mutation {
            what: format!("{} deleted", spec.name),
            doc,
            table: spec.name,
            id,
            fields: vec![("deleted_at", NOW.into()), ("updated_at", NOW.into())],
            create: false,
        });
    }
    out
}

#[tokio::test]
async fn api_writes_and_device_updates_meet_the_same_rules() {
    let t = TestApp::spawn().await;
    busy_workspace(&t).await;
    let o = t.login("owner@example.com", crate::helpers::PASSWORD).await.ok(200)["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let member = t.register("member2@example.com").await;
    let guest = t.register("guest2@example.com").await;
    let outsider = t.register("outsider@example.com").await;
    let rival = t.register("rival@example.com").await;
    let owner_id = t.dump("SELECT id FROM users WHERE email = 'owner@example.com'")[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let admin_id = t.dump("SELECT id FROM users WHERE email = 'member@example.com'")[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    for (u, role) in [(&member, "member"), (&guest, "guest")] {
        t.post(
            "/api/v1/workspaces/acme/members",
            &o,
            json!({"email": u.email, "role": role}),
        )
        .await
        .ok(201);
    }
    let ws = t.dump("SELECT id FROM workspaces WHERE slug = 'acme'")[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let work = t.dump("SELECT id FROM projects WHERE identifier = 'WORK'")[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    for (u, role) in [(&member, "member"), (&guest, "guest")] {
        t.post(
            &format!("/api/v1/workspaces/acme/projects/{work}/members"),
            &o,
            json!({"user_id": u.id, "role": role}),
        )
        .await
        .ok(201);
    }
    // The rival workspace, whose ids the attacks name.
    t.create_workspace(&rival, "rival").await;
    let rp = t.create_project(&rival, "rival", "RIV", false).await;
    t.post(
        &format!("/api/v1/workspaces/rival/projects/{rp}/issues"),
        &rival.token,
        json!({"name": "Their secret", "description_html": "<p>secret</p>"}),
    )
    .await
    .ok(201);
    let rival_ws = t.dump("SELECT id FROM workspaces WHERE slug = 'rival'")[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let mut theirs: HashMap<&str, String> = HashMap::new();
    for spec in TABLES {
        if let Some(id) = first_id(&t.app, spec.name, &rival_ws) {
            theirs.insert(spec.name, id);
        }
    }
    let any_issue = theirs.get("issues").cloned().unwrap();
    theirs.insert("any_id", any_issue);

    // Two identical worlds: this one, and a copy of its database.
    let copy = tempfile::tempdir().unwrap();
    keel::db::backup_into(&t.app.config.db_path(), &copy.path().join("keel.db")).unwrap();
    let mut config = Config::new(copy.path().to_path_buf());
    config.readers = 2;
    let twin = App::open(config, true).unwrap();

    // From the least to the most privileged, so the owner's accepted deletes come last.
    let actors = [
        ("admin of another workspace", rival.id.clone()),
        ("non-member", outsider.id.clone()),
        ("guest", guest.id.clone()),
        ("member", member.id.clone()),
        ("admin", admin_id),
        ("owner", owner_id),
    ];
    let mut tally: HashMap<(&str, bool), usize> = HashMap::new();
    let mut tables_seen = std::collections::BTreeSet::new();
    let mut narrower = Vec::new();
    let mut outsiders_changed: Vec<String> = Vec::new();
    for (kind, user) in &actors {
        let who = Who::User(user.clone());
        for m in mutations(&t.app, &ws, &rival_ws, &theirs, user) {
            let before_a = row(&t.app, m.table, &m.id);
            let before_b = row(&twin, m.table, &m.id);
            assert_eq!(before_a, before_b, "the worlds differ before {}", m.what);
            let a = through_edit(&t.app, &who, &m).await;
            let (b, doc_level) = through_device(&twin, &who, &m).await;
            let (after_a, after_b) = (row(&t.app, m.table, &m.id), row(&twin, m.table, &m.id));
            tables_seen.insert(m.table);
            match (&a, &b) {
                (None, None) => assert_eq!(after_a, after_b, "{kind}: {}: rows differ", m.what),
                (Some(x), Some(y)) => {
                    assert!(
                        x == y || doc_level,
                        "{kind}: {}: the API path says {x}, the device {y}",
                        m.what
                    );
                    assert_eq!(after_a, before_a, "{kind}: {}: refused but stored (API)", m.what);
                    assert_eq!(after_b, before_b, "{kind}: {}: refused but stored (device)", m.what);
                }
                (None, Some(y)) if doc_level => {
                    // The device is narrower: its document access refuses what the rules allow.
                    narrower.push(format!("{kind}: {} ({y})", m.what));
                    // Keep the worlds equal: the device's twin takes the same accepted change.
                    let r = through_edit(&twin, &who, &m).await;
                    assert_eq!(r, None, "{kind}: {}", m.what);
                }
                _ => panic!("{kind}: {}: the API path says {a:?}, the device {b:?}", m.what),
            }
            *tally.entry((kind, a.is_none())).or_default() += 1;
            if a.is_none() && kind.contains("non-member") || a.is_none() && kind.contains("another") {
                outsiders_changed.push(format!("{kind}: {}", m.what));
            }
        }
    }
    // The test covers every record type that the busy workspace holds, and both outcomes.
    assert!(tables_seen.len() >= 20, "{tables_seen:?}");
    let accepted: usize = tally.iter().filter(|(k, _)| k.1).map(|(_, n)| n).sum();
    let refused: usize = tally.iter().filter(|(k, _)| !k.1).map(|(_, n)| n).sum();
    assert!(accepted > 50 && refused > 200, "accepted {accepted}, refused {refused}");
    // Outsiders change nothing, through either path.
    assert!(outsiders_changed.is_empty(), "{outsiders_changed:?}");
    // After all of it, both worlds keep the rules' invariants.
    for app in [&t.app, &twin] {
        let c = open_ro(app);
        assert_eq!(keel::docs::rules::check_invariants(&c).unwrap(), Ok(()));
    }
    eprintln!(
        "parity: {} tables, {accepted} accepted, {refused} refused, device narrower in {}: {narrower:?}",
        tables_seen.len(),
        narrower.len()
    );
}
