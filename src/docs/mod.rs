//! The yrs document layer of the one write path: documents per scope, their update log,
//! compaction into snapshots, and the projection of records into SQLite tables.
//!
//! A record lives under a root map named after its table, keyed by its UUID v7, as a
//! nested `Y.Map` of fields (DESIGN §4). The projection reads a record back from the
//! document after every change and upserts its row, so the rows are by construction a
//! function of the document: `rebuild_projection` runs the same code over every record.

pub mod rules;
pub(crate) mod store;

use std::collections::HashMap;
use std::sync::Arc;

use anyhow::Context;
use rusqlite::Connection;
use yrs::updates::decoder::Decode;
use yrs::updates::encoder::Encode;
use yrs::DeepObservable;
use yrs::{
    Any, ClientID, Doc, Map, MapPrelim, MapRef, Options, Out, ReadTxn, StateVector, Transact, TransactionMut, Update,
};

use crate::db::WriteCtx;
use crate::error::AppError;
pub use rules::{Change, Who};

/// Updates appended to a document's log before it is folded into a snapshot.
pub const COMPACT_AFTER: u64 = 500;
/// Documents kept in memory by the writer; the least recently used is evicted past this
/// (and any idle for `db::IDLE_DOCUMENT`). Most documents are small (a person's work logs of
/// a quarter); BENCHMARKS.md measures the memory of 1,000 loaded.
pub const MAX_LOADED: usize = 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocKind {
    /// Workspace record, members, invitations. Written by workspace admins.
    Workspace,
    /// One project: its record, members, states, labels, issues, comments and activity.
    /// Kept out of the workspace document so that a private project's name never reaches
    /// a device whose user may not see it.
    Project,
    /// The work logs one person logged in one project, in one calendar quarter (by the
    /// quarter the log was created in, so a log never moves between documents). Written
    /// by their owner; project admins may correct them.
    Worklogs,
    /// One person's own records in one workspace: running timers (later favorites,
    /// display properties, home preferences). Written only by that person.
    User,
}

impl DocKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DocKind::Workspace => "workspace",
            DocKind::Project => "project",
            DocKind::Worklogs => "worklogs",
            DocKind::User => "user",
        }
    }
}

/// Names one document: its id, its kind and the workspace it belongs to.
#[derive(Debug, Clone)]
pub struct DocRef {
    pub id: String,
    pub kind: DocKind,
    pub workspace_id: String,
}

impl DocRef {
    pub fn workspace(workspace_id: &str) -> Self {
        Self {
            id: format!("ws:{workspace_id}"),
            kind: DocKind::Workspace,
            workspace_id: workspace_id.to_string(),
        }
    }
    pub fn project(workspace_id: &str, project_id: &str) -> Self {
        Self {
            id: format!("project:{project_id}"),
            kind: DocKind::Project,
            workspace_id: workspace_id.to_string(),
        }
    }
    /// `quarter` is like `2026Q4`: the quarter the log was created in.
    pub fn worklogs(workspace_id: &str, project_id: &str, user_id: &str, quarter: &str) -> Self {
        Self {
            id: format!("worklogs:{project_id}:{user_id}:{quarter}"),
            kind: DocKind::Worklogs,
            workspace_id: workspace_id.to_string(),
        }
    }
    pub fn user(workspace_id: &str, user_id: &str) -> Self {
        Self {
            id: format!("user:{workspace_id}:{user_id}"),
            kind: DocKind::User,
            workspace_id: workspace_id.to_string(),
        }
    }

    /// The one parse of a document id (of workspace `ws`), the inverse of the constructors
    /// above; `None` for ids Keel never makes (a hostile peer's, or another workspace's).
    pub fn parse(id: &str, ws: &str) -> Option<Self> {
        let uuid = |s: &str| s.len() == 36 && uuid::Uuid::parse_str(s).is_ok();
        if !uuid(ws) {
            return None;
        }
        let parts: Vec<&str> = id.split(':').collect();
        let d = match parts.as_slice() {
            ["ws", w] if *w == ws => Self::workspace(ws),
            ["project", p] if uuid(p) => Self::project(ws, p),
            ["worklogs", p, u, q] if uuid(p) && uuid(u) && is_quarter(q) => Self::worklogs(ws, p, u, q),
            ["user", w, u] if *w == ws && uuid(u) => Self::user(ws, u),
            _ => return None,
        };
        // Formatting gives the id back exactly: one spelling per document.
        (d.id == id).then_some(d)
    }
}

fn is_quarter(q: &str) -> bool {
    q.len() == 6 && q[..4].bytes().all(|b| b.is_ascii_digit()) && matches!(&q[4..], "Q1" | "Q2" | "Q3" | "Q4")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Col {
    Text,
    Int,
}

/// How a record is held in its document (DESIGN §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// A nested `Y.Map` of fields: concurrent edits of different fields merge. For records
    /// several people edit field by field (projects, issues, states...).
    Fields,
    /// One atomic value (`Any::Map`) replaced whole on edit: 8× faster to apply and 2.5×
    /// smaller in memory. For records written once and rarely edited (work logs, comments,
    /// activity, timers) and for link records with a deterministic key (issue assignees).
    Atomic,
}

/// A projected table: which document kind holds its records and which fields become columns.
#[derive(Debug)]
pub struct TableSpec {
    pub name: &'static str,
    pub kind: DocKind,
    pub shape: Shape,
    pub cols: &'static [(&'static str, Col)],
}

const BASE: [(&str, Col); 4] = [
    ("created_at", Col::Text),
    ("updated_at", Col::Text),
    ("created_by", Col::Text),
    ("deleted_at", Col::Text),
];

macro_rules! cols {
    ($($name:literal : $ty:ident),* $(,)?) => {
        &[$(($name, Col::$ty),)* BASE[0], BASE[1], BASE[2], BASE[3]]
    };
}

/// Every projected table. `rebuild_projection` rewrites exactly these.
pub const TABLES: &[TableSpec] = &[
    TableSpec {
        name: "workspaces",
        kind: DocKind::Workspace,
        shape: Shape::Fields,
        cols: cols!["name": Text, "slug": Text, "display_id": Text, "plan": Text],
    },
    TableSpec {
        name: "workspace_members",
        kind: DocKind::Workspace,
        shape: Shape::Fields,
        cols: cols!["workspace_id": Text, "user_id": Text, "role": Text],
    },
    TableSpec {
        name: "invitations",
        kind: DocKind::Workspace,
        shape: Shape::Fields,
        cols: cols![
            "workspace_id": Text, "email": Text, "role": Text, "token_hash": Text,
            "expires_at": Text, "accepted_at": Text, "accepted_by": Text
        ],
    },
    TableSpec {
        name: "projects",
        kind: DocKind::Project,
        shape: Shape::Fields,
        cols: cols![
            "workspace_id": Text, "name": Text, "identifier": Text, "description": Text,
            "is_private": Int, "is_time_tracking_enabled": Int, "archived_at": Text
        ],
    },
    TableSpec {
        name: "project_members",
        kind: DocKind::Project,
        shape: Shape::Fields,
        cols: cols!["workspace_id": Text, "project_id": Text, "user_id": Text, "role": Text],
    },
    TableSpec {
        name: "states",
        kind: DocKind::Project,
        shape: Shape::Fields,
        cols: cols![
            "workspace_id": Text, "project_id": Text, "name": Text, "color": Text,
            "state_group": Text, "sequence": Int, "is_default": Int
        ],
    },
    TableSpec {
        name: "labels",
        kind: DocKind::Project,
        shape: Shape::Fields,
        cols: cols!["workspace_id": Text, "project_id": Text, "name": Text, "color": Text],
    },
    TableSpec {
        name: "issues",
        kind: DocKind::Project,
        shape: Shape::Fields,
        cols: cols![
            "workspace_id": Text, "project_id": Text, "sequence_id": Int, "name": Text,
            "description_html": Text, "description_text": Text, "state_id": Text,
            "priority": Text, "estimate_point": Int, "estimate_time": Int, "start_date": Text,
            "target_date": Text, "parent_id": Text, "sort_order": Int, "completed_at": Text,
            "cycle_id": Text, "module_id": Text
        ],
    },
    TableSpec {
        name: "issue_assignees",
        kind: DocKind::Project,
        shape: Shape::Atomic,
        cols: cols!["workspace_id": Text, "project_id": Text, "issue_id": Text, "user_id": Text],
    },
    TableSpec {
        name: "issue_labels",
        kind: DocKind::Project,
        shape: Shape::Atomic,
        cols: cols!["workspace_id": Text, "project_id": Text, "issue_id": Text, "label_id": Text],
    },
    TableSpec {
        name: "issue_comments",
        kind: DocKind::Project,
        shape: Shape::Atomic,
        cols: cols![
            "workspace_id": Text, "project_id": Text, "issue_id": Text, "comment_html": Text,
            "comment_text": Text, "edited_at": Text
        ],
    },
    TableSpec {
        name: "issue_activity",
        kind: DocKind::Project,
        shape: Shape::Atomic,
        cols: cols![
            "workspace_id": Text, "project_id": Text, "issue_id": Text, "verb": Text,
            "field": Text, "old_value": Text, "new_value": Text
        ],
    },
    TableSpec {
        name: "sync_conflicts",
        kind: DocKind::Project,
        shape: Shape::Atomic,
        cols: cols![
            "workspace_id": Text, "project_id": Text, "kind": Text, "record_id": Text,
            "old_value": Text, "new_value": Text
        ],
    },
    TableSpec {
        name: "worklogs",
        kind: DocKind::Worklogs,
        shape: Shape::Atomic,
        cols: cols![
            "workspace_id": Text, "project_id": Text, "issue_id": Text, "logged_by": Text,
            "duration_minutes": Int, "description": Text, "logged_at": Text
        ],
    },
    TableSpec {
        name: "cycles",
        kind: DocKind::Project,
        shape: Shape::Fields,
        cols: cols![
            "workspace_id": Text, "project_id": Text, "name": Text, "description": Text,
            "start_date": Text, "end_date": Text
        ],
    },
    TableSpec {
        name: "modules",
        kind: DocKind::Project,
        shape: Shape::Fields,
        cols: cols![
            "workspace_id": Text, "project_id": Text, "name": Text, "description": Text,
            "status": Text, "lead_id": Text, "start_date": Text, "target_date": Text
        ],
    },
    TableSpec {
        name: "issue_views",
        kind: DocKind::Project,
        shape: Shape::Fields,
        cols: cols![
            "workspace_id": Text, "project_id": Text, "name": Text, "description": Text,
            "query": Text, "is_private": Int
        ],
    },
    TableSpec {
        name: "favorites",
        kind: DocKind::User,
        shape: Shape::Atomic,
        cols: cols![
            "workspace_id": Text, "user_id": Text, "entity_type": Text, "entity_id": Text,
            "project_id": Text
        ],
    },
    TableSpec {
        name: "user_properties",
        kind: DocKind::User,
        shape: Shape::Atomic,
        cols: cols![
            "workspace_id": Text, "user_id": Text, "entity_type": Text, "entity_id": Text,
            "project_id": Text, "filters": Text, "display_filters": Text,
            "display_properties": Text, "rich_filters": Text, "extra": Text
        ],
    },
    TableSpec {
        name: "home_preferences",
        kind: DocKind::User,
        shape: Shape::Atomic,
        cols: cols![
            "workspace_id": Text, "user_id": Text, "key": Text, "is_enabled": Int,
            "sort_order": Int, "config": Text
        ],
    },
    TableSpec {
        name: "quick_links",
        kind: DocKind::User,
        shape: Shape::Atomic,
        cols: cols!["workspace_id": Text, "user_id": Text, "title": Text, "url": Text, "sort_order": Int],
    },
    TableSpec {
        name: "recent_visits",
        kind: DocKind::User,
        shape: Shape::Atomic,
        cols: cols![
            "workspace_id": Text, "user_id": Text, "entity_type": Text, "entity_id": Text,
            "project_id": Text, "visited_at": Text
        ],
    },
    TableSpec {
        name: "stickies",
        kind: DocKind::User,
        shape: Shape::Atomic,
        cols: cols![
            "workspace_id": Text, "user_id": Text, "name": Text, "description_html": Text,
            "color": Text, "sort_order": Int
        ],
    },
    TableSpec {
        name: "timers",
        kind: DocKind::User,
        shape: Shape::Atomic,
        cols: cols![
            "workspace_id": Text, "project_id": Text, "issue_id": Text, "user_id": Text,
            "description": Text, "started_at": Text
        ],
    },
];

pub fn table_spec(name: &str) -> Option<&'static TableSpec> {
    TABLES.iter().find(|t| t.name == name)
}

/// A field value written into a record.
#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    Text(String),
    Int(i64),
    Null,
}

impl From<&str> for Val {
    fn from(s: &str) -> Self {
        Val::Text(s.to_string())
    }
}
impl From<String> for Val {
    fn from(s: String) -> Self {
        Val::Text(s)
    }
}
impl From<bool> for Val {
    fn from(b: bool) -> Self {
        Val::Int(i64::from(b))
    }
}
impl From<i64> for Val {
    fn from(i: i64) -> Self {
        Val::Int(i)
    }
}
impl<T: Into<Val>> From<Option<T>> for Val {
    fn from(o: Option<T>) -> Self {
        o.map_or(Val::Null, Into::into)
    }
}

impl Val {
    fn to_any(&self) -> Any {
        match self {
            Val::Text(s) => Any::String(Arc::from(s.as_str())),
            Val::Int(i) => Any::from(*i),
            Val::Null => Any::Null,
        }
    }
}

/// A loaded document in the writer's cache.
pub struct Loaded {
    pub doc: Doc,
    /// Updates in the log after the snapshot.
    pub log_len: u64,
    last_used: u64,
    used_at: std::time::Instant,
}

/// The writer's documents, loaded lazily from the snapshot and log, evicted when idle.
#[derive(Default)]
pub struct DocCache {
    loaded: HashMap<String, Loaded>,
    clock: u64,
}

/// A fresh document with a random client id: a client id is never persisted or reused, so
/// two clones or restores of one data dir can never write under the same id (DESIGN §4).
pub fn fresh_doc() -> Doc {
    Doc::with_options(Options::with_client_id(ClientID::random()))
}

/// Builds a document from a snapshot and the updates after it.
pub fn doc_from_parts(snapshot: Option<&[u8]>, updates: &[Vec<u8>]) -> anyhow::Result<Doc> {
    let doc = fresh_doc();
    {
        let mut txn = doc.transact_mut();
        if let Some(s) = snapshot {
            txn.apply_update(Update::decode_v1(s)?)?;
        }
        for u in updates {
            txn.apply_update(Update::decode_v1(u)?)?;
        }
    }
    Ok(doc)
}

impl DocCache {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn evict(&mut self, id: &str) {
        self.loaded.remove(id);
    }

    pub fn len(&self) -> usize {
        self.loaded.len()
    }

    /// Drops the documents not used for `idle`: they are reloaded from SQLite on next use.
    pub fn evict_idle(&mut self, idle: std::time::Duration) -> usize {
        let before = self.loaded.len();
        self.loaded.retain(|_, l| l.used_at.elapsed() < idle);
        before - self.loaded.len()
    }

    pub fn is_empty(&self) -> bool {
        self.loaded.is_empty()
    }

    /// Returns the loaded document, loading it (or creating its row) first.
    fn load(&mut self, conn: &Connection, d: &DocRef) -> Result<&mut Loaded, AppError> {
        self.clock += 1;
        let now = self.clock;
        if !self.loaded.contains_key(&d.id) {
            if self.loaded.len() >= MAX_LOADED {
                if let Some(oldest) = self
                    .loaded
                    .iter()
                    .min_by_key(|(_, l)| l.last_used)
                    .map(|(k, _)| k.clone())
                {
                    self.loaded.remove(&oldest);
                }
            }
            let parts = store::load_parts(conn, &d.id)?;
            let (doc, log_len) = match parts {
                Some(p) => {
                    let doc = doc_from_parts(p.snapshot.as_deref(), &p.updates)
                        .map_err(|e| AppError::Internal(e.context(format!("load document {}", d.id))))?;
                    (doc, p.updates.len() as u64)
                }
                None => {
                    store::create_document(conn, d)?;
                    (fresh_doc(), 0)
                }
            };
            self.loaded.insert(
                d.id.clone(),
                Loaded {
                    doc,
                    log_len,
                    last_used: now,
                    used_at: std::time::Instant::now(),
                },
            );
        }
        let l = self
            .loaded
            .get_mut(&d.id)
            .ok_or_else(|| AppError::internal("document vanished from cache"))?;
        l.last_used = now;
        l.used_at = std::time::Instant::now();
        Ok(l)
    }
}

/// Changes to records of one document, made inside one yrs transaction.
pub struct Edit<'t> {
    txn: TransactionMut<'t>,
    roots: HashMap<&'static str, MapRef>,
    touched: Vec<(&'static str, String)>,
}

fn atomic_value(fields: &[(&str, Val)]) -> Any {
    let m: HashMap<String, Any> = fields.iter().map(|(k, v)| (k.to_string(), v.to_any())).collect();
    Any::from(m)
}

impl Edit<'_> {
    fn root(&self, table: &'static str) -> Result<(&MapRef, Shape), AppError> {
        let shape = table_spec(table)
            .map(|t| t.shape)
            .ok_or_else(|| AppError::internal(format!("unknown table {table}")))?;
        let root = self
            .roots
            .get(table)
            .ok_or_else(|| AppError::internal(format!("table {table} is not in this document")))?;
        Ok((root, shape))
    }

    /// Creates a record. Only its creator ever creates a record under its UUID v7 key.
    pub fn create(&mut self, table: &'static str, id: &str, fields: &[(&str, Val)]) -> Result<(), AppError> {
        let (root, shape) = self.root(table)?;
        let root = root.clone();
        if root.get(&self.txn, id).is_some() {
            return Err(AppError::internal(format!("record {table}/{id} exists")));
        }
        match shape {
            Shape::Fields => {
                let prelim: MapPrelim = fields.iter().map(|(k, v)| (k.to_string(), v.to_any())).collect();
                root.insert(&mut self.txn, id.to_string(), prelim);
            }
            Shape::Atomic => {
                root.insert(&mut self.txn, id.to_string(), atomic_value(fields));
            }
        }
        self.touched.push((table, id.to_string()));
        Ok(())
    }

    /// Writes an atomic record whole, whether or not it exists: for link records whose key
    /// is derived from what they link (`{issue}:{user}`), so two devices adding the same
    /// link write the same key and yrs keeps one value.
    pub fn put(&mut self, table: &'static str, id: &str, fields: &[(&str, Val)]) -> Result<(), AppError> {
        let (root, shape) = self.root(table)?;
        if shape != Shape::Atomic {
            return Err(AppError::internal(format!("put on field-shaped table {table}")));
        }
        let root = root.clone();
        root.insert(&mut self.txn, id.to_string(), atomic_value(fields));
        self.touched.push((table, id.to_string()));
        Ok(())
    }

    /// Sets fields of an existing record. A field-shaped record changes only those fields,
    /// so concurrent edits of different fields merge; an atomic record is replaced whole
    /// by its current value with these fields changed.
    pub fn set(&mut self, table: &'static str, id: &str, fields: &[(&str, Val)]) -> Result<(), AppError> {
        let (root, shape) = self.root(table)?;
        let root = root.clone();
        match (root.get(&self.txn, id), shape) {
            (Some(Out::YMap(rec)), Shape::Fields) => {
                for (k, v) in fields {
                    rec.insert(&mut self.txn, k.to_string(), v.to_any());
                }
            }
            (Some(Out::Any(Any::Map(cur))), Shape::Atomic) => {
                let mut m: HashMap<String, Any> = cur.as_ref().clone();
                for (k, v) in fields {
                    m.insert(k.to_string(), v.to_any());
                }
                root.insert(&mut self.txn, id.to_string(), Any::from(m));
            }
            _ => return Err(AppError::internal(format!("record {table}/{id} missing"))),
        }
        self.touched.push((table, id.to_string()));
        Ok(())
    }
}

/// Reads one record of a document as column values, in the order of the table's spec.
pub fn read_record<T: ReadTxn>(txn: &T, root: &MapRef, spec: &TableSpec, id: &str) -> Option<Vec<Val>> {
    match root.get(txn, id) {
        Some(Out::YMap(rec)) => Some(
            spec.cols
                .iter()
                .map(|(name, ty)| match rec.get(txn, name) {
                    Some(Out::Any(a)) => any_to_val(&a, *ty),
                    _ => Val::Null,
                })
                .collect(),
        ),
        Some(Out::Any(Any::Map(rec))) => Some(
            spec.cols
                .iter()
                .map(|(name, ty)| rec.get(*name).map_or(Val::Null, |a| any_to_val(a, *ty)))
                .collect(),
        ),
        _ => None,
    }
}

fn any_to_val(a: &Any, ty: Col) -> Val {
    match (a, ty) {
        (Any::Null | Any::Undefined, _) => Val::Null,
        (Any::String(s), Col::Text) => Val::Text(s.to_string()),
        (Any::Bool(b), _) => Val::Int(i64::from(*b)),
        // Integers first: `as_f64` refuses those beyond 2^53 that a float cannot hold.
        (Any::Number(n), Col::Int) => Val::Int(n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)).unwrap_or(0)),
        (Any::Number(n), Col::Text) => Val::Text(n.as_f64().map_or(String::new(), |f| f.to_string())),
        (Any::String(s), Col::Int) => Val::Int(s.parse().unwrap_or(0)),
        (other, _) => Val::Text(other.to_string()),
    }
}

impl WriteCtx<'_> {
    /// Applies `f` to the document `d` in one yrs transaction, appends the encoded update to
    /// the document's log and projects every record `f` touched, all inside the caller's
    /// SQLite transaction (DESIGN §2 steps 2–4), checking every touched record against its
    /// table's rules as `who`'s change (`rules`). Step 5, publishing, happens after commit.
    pub fn edit<R>(
        &mut self,
        who: &Who,
        d: &DocRef,
        f: impl FnOnce(&mut Edit<'_>) -> Result<R, AppError>,
    ) -> Result<R, AppError> {
        let conn = self.conn;
        self.touched.insert(d.id.clone());
        let loaded = self.docs.load(conn, d)?;
        // Root refs are taken before the transaction opens (taking them inside deadlocks).
        let roots: HashMap<&'static str, MapRef> = TABLES
            .iter()
            .filter(|t| t.kind == d.kind)
            .map(|t| (t.name, loaded.doc.get_or_insert_map(t.name)))
            .collect();
        let mut edit = Edit {
            txn: loaded.doc.transact_mut(),
            roots,
            touched: Vec::new(),
        };
        let out = f(&mut edit)?;
        let update = edit.txn.encode_update_v1();
        let Edit { txn, roots, touched } = edit;
        drop(txn);
        if touched.is_empty() {
            return Ok(out);
        }
        let seq = store::append_update(conn, &d.id, &update)?;
        loaded.log_len += 1;
        let rtxn = loaded.doc.transact();
        store::set_doc_state(conn, &d.id, &rtxn.state_vector().encode_v1(), seq, true)?;
        let mut touched = touched;
        touched.sort_unstable();
        touched.dedup();
        let changes = project(
            conn,
            &rtxn,
            (d, who),
            &touched,
            |table| roots.get(table).ok_or_else(|| AppError::internal("no root")),
            misfit,
        )?;
        if loaded.log_len >= COMPACT_AFTER && !rtxn.has_missing_updates() {
            let snapshot = rtxn.encode_state_as_update_v1(&StateVector::default());
            store::compact(conn, &d.id, &snapshot)?;
            loaded.log_len = 0;
        }
        drop(rtxn);
        self.published.push(crate::db::Published {
            doc_id: d.id.clone(),
            kind: d.kind,
            workspace_id: d.workspace_id.clone(),
            update,
            origin: self.origin,
            seq,
            who: who.clone(),
            changes,
        });
        Ok(out)
    }
}

/// The records a remote update touched, as (table, record id).
pub type Touched = Vec<(&'static str, String)>;

/// What a remote update did to a document.
#[derive(Debug, Default)]
pub struct Applied {
    /// Whether the document changed (an update already known changes nothing).
    pub changed: bool,
    /// The records it touched, sorted and without repeats.
    pub touched: Touched,
}

/// A record its table refuses (a constraint of the projection: a unique index, a check):
/// the same refusal on every path; any other failure of SQLite is internal.
fn misfit(table: &str, id: &str, e: rusqlite::Error) -> AppError {
    match e {
        rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::ConstraintViolation => {
            bad_update(format!("record {table}/{id:.60} does not fit its table: {e}"))
        }
        other => other.into(),
    }
}

/// Why a remote update was refused, for the device that sent it.
fn bad_update(msg: impl Into<String>) -> AppError {
    AppError::refused("update_rejected", msg)
}

impl WriteCtx<'_> {
    /// Applies an update that came from a peer to document `d` through the one write path:
    /// the records it touches are found by deep observers on the document's table roots,
    /// then the update is appended to the log and the records are projected and checked
    /// against their tables' rules as `who`'s change, exactly as a local edit is. If
    /// decoding, applying or a rule fails, the error makes the writer roll the job back and
    /// evict the document, so nothing of the update is kept.
    pub fn apply_remote(&mut self, who: &Who, d: &DocRef, update: &[u8]) -> Result<Applied, AppError> {
        let decoded = decode_update(update)?;
        self.apply_decoded(who, d, update, decoded)
    }

    /// `apply_remote` of an update `verify_update` passed (on another thread: a device checks
    /// the server's updates while the writer applies the ones before).
    pub fn apply_checked(&mut self, who: &Who, d: &DocRef, update: &CheckedUpdate) -> Result<Applied, AppError> {
        let decoded = decode_bounded(&update.0)?;
        self.apply_decoded(who, d, &update.0, decoded)
    }

    fn apply_decoded(&mut self, who: &Who, d: &DocRef, update: &[u8], decoded: Update) -> Result<Applied, AppError> {
        let conn = self.conn;
        self.touched.insert(d.id.clone());
        let loaded = self.docs.load(conn, d)?;
        let Some(Integrated { roots, touched, after }) = integrate(&loaded.doc, d.kind, decoded)? else {
            return Ok(Applied::default());
        };
        let rtxn = loaded.doc.transact();
        let seq = store::append_update(conn, &d.id, update)?;
        loaded.log_len += 1;
        store::set_doc_state(conn, &d.id, &after.encode_v1(), seq, false)?;
        let changes = project(conn, &rtxn, (d, who), &touched, |table| root_of(&roots, table), misfit)?;
        if loaded.log_len >= COMPACT_AFTER && !rtxn.has_missing_updates() {
            let snapshot = rtxn.encode_state_as_update_v1(&StateVector::default());
            store::compact(conn, &d.id, &snapshot)?;
            loaded.log_len = 0;
        }
        drop(rtxn);
        self.published.push(crate::db::Published {
            doc_id: d.id.clone(),
            kind: d.kind,
            workspace_id: d.workspace_id.clone(),
            update: update.to_vec(),
            origin: self.origin,
            seq,
            who: who.clone(),
            changes,
        });
        Ok(Applied { changed: true, touched })
    }

    /// Drops this instance's copy of a document and its projected rows, then takes
    /// `state` (the peer's whole document) in its place: how a device resets a document
    /// whose update the server refused.
    pub fn reset_document(&mut self, d: &DocRef, state: &[u8]) -> Result<Applied, AppError> {
        let conn = self.conn;
        self.touched.insert(d.id.clone());
        if let Some(parts) = store::load_parts(conn, &d.id)? {
            let old = doc_from_parts(parts.snapshot.as_deref(), &parts.updates).map_err(AppError::Internal)?;
            let roots: Vec<(&TableSpec, MapRef)> = TABLES
                .iter()
                .filter(|t| t.kind == d.kind)
                .map(|t| (t, old.get_or_insert_map(t.name)))
                .collect();
            let txn = old.transact();
            for (spec, root) in &roots {
                for key in root.keys(&txn) {
                    store::delete_row(conn, spec, key)?;
                }
            }
            drop(txn);
            store::clear_document(conn, &d.id)?;
        }
        self.docs.evict(&d.id);
        self.apply_remote(&Who::Upstream, d, state)
    }
}

/// The root map of `table` among a document kind's roots.
fn root_of<'a>(roots: &'a [(&'static str, MapRef)], table: &str) -> Result<&'a MapRef, AppError> {
    roots
        .iter()
        .find(|(n, _)| *n == table)
        .map(|(_, r)| r)
        .ok_or_else(|| AppError::internal("no root"))
}

/// A remote update taken into a document: the roots of its kind, the records it touched
/// and the state vector after it.
struct Integrated {
    roots: Vec<(&'static str, MapRef)>,
    touched: Touched,
    after: StateVector,
}

/// Applies `decoded` to `doc` (a document of `kind`) with deep observers on the kind's
/// table roots noting the records it touches (never touching SQLite from an observer);
/// refuses roots of other tables and records that are not plain fields. `None` when the
/// update changed nothing. Shared by `apply_remote` and the fuzz target.
fn integrate(doc: &Doc, kind: DocKind, decoded: Update) -> Result<Option<Integrated>, AppError> {
    // Root refs first, outside any transaction (taking them inside deadlocks).
    let roots: Vec<(&'static str, MapRef)> = TABLES
        .iter()
        .filter(|t| t.kind == kind)
        .map(|t| (t.name, doc.get_or_insert_map(t.name)))
        .collect();
    let hits: Arc<std::sync::Mutex<Touched>> = Arc::default();
    let origin = "keel-remote";
    for (name, root) in &roots {
        let (name, hits) = (*name, hits.clone());
        // Never touch SQLite in an observer: only note what changed.
        root.observe_deep(origin, move |txn, events| {
            let Ok(mut h) = hits.lock() else { return };
            for e in events.iter() {
                let path = e.path();
                match path.front() {
                    Some(yrs::types::PathSegment::Key(k)) => h.push((name, k.to_string())),
                    Some(yrs::types::PathSegment::Index(_)) => h.push((name, String::new())),
                    None => {
                        if let yrs::types::Event::Map(m) = e {
                            for k in m.keys(txn).keys() {
                                h.push((name, k.to_string()));
                            }
                        } else {
                            h.push((name, String::new()));
                        }
                    }
                }
            }
        });
    }
    let before = doc.transact().state_vector();
    // yrs can panic on a hostile update (an index out of bounds in its block lookup, found
    // by the fuzzer). The document is then in an unknown state, and the caller drops it: the
    // writer evicts it with the failed job, `check_update` owns a fresh one. The transaction
    // lives outside the guarded calls and is committed by hand: left to its `Drop` during
    // unwinding, a commit over the broken state panics again, and a panic in a destructor
    // while unwinding aborts the process. After `commit`, `Drop` does nothing.
    let mut txn = doc.transact_mut();
    let applied = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let r = txn.apply_update(decoded);
        let deleted = !txn.delete_set().is_empty();
        r.map(|()| deleted)
    }));
    let committed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| txn.commit()));
    drop(txn);
    let (Ok(applied), Ok(())) = (applied, committed) else {
        return Err(bad_update("the update does not apply to this document"));
    };
    for (_, root) in &roots {
        root.unobserve_deep(origin);
    }
    let deleted = applied.map_err(|e| bad_update(format!("the update does not apply: {e}")))?;
    let mut touched = hits.lock().map(|h| h.clone()).unwrap_or_default();
    touched.sort();
    touched.dedup();
    let rtxn = doc.transact();
    let after = rtxn.state_vector();
    // An update that changed nothing is dropped, unless the document now waits for
    // missing updates: yrs keeps such an update pending in memory only, so it goes to
    // the log too, or a reload before its dependencies arrive would lose it.
    if before == after && !deleted && touched.is_empty() && !rtxn.has_missing_updates() {
        return Ok(None);
    }
    // Only the tables of this kind of document may exist in it, and every touched
    // record must read back whole.
    let allowed: Vec<&str> = roots.iter().map(|(n, _)| *n).collect();
    if let Some((name, _)) = rtxn.root_refs().find(|(n, _)| !allowed.contains(n)) {
        return Err(bad_update(format!("a {} document has no table {name}", kind.as_str())));
    }
    for (table, id) in &touched {
        let spec = table_spec(table).ok_or_else(|| AppError::internal("unknown table"))?;
        let root = root_of(&roots, table)?;
        match record_is_plain(&rtxn, root, spec, id) {
            Some(true) => {}
            // Gone while updates are missing: a replacement waits for them.
            None if rtxn.has_missing_updates() => {}
            None => {
                return Err(bad_update(format!(
                    "record {table}/{id:.60} was removed; records are never removed"
                )))
            }
            Some(false) => {
                return Err(bad_update(format!(
                    "record {table}/{id:.60} is not a record of plain fields"
                )))
            }
        }
    }
    drop(rtxn);
    Ok(Some(Integrated { roots, touched, after }))
}

/// Takes an encoded update into a fresh document of `kind` the way a peer's update is
/// taken, without storage: the fuzz target's entry into update application. Answers how
/// many records it touched.
pub fn check_update(kind: DocKind, update: &[u8]) -> Result<usize, AppError> {
    let decoded = decode_update(update)?;
    let doc = fresh_doc();
    Ok(integrate(&doc, kind, decoded)?.map_or(0, |i| i.touched.len()))
}

/// Decodes a peer's update with allocations bounded by its length (`crate::alloc::bounded`).
/// Each client's blocks must also follow one another without overlap, as yrs's encoder writes
/// them (each client once, its blocks in clock order). A hand-made update can list a client
/// twice with overlapping clocks, which yrs 0.28 decodes into a block list that its
/// integration then follows into freed memory (a segfault the fuzzer found): no
/// `catch_unwind` contains that, so such an update never reaches integration. The check:
/// encoded again (yrs writes a client's first clock and derives the rest from the block
/// lengths) and decoded, the update must insert exactly the same ids.
fn decode_update(update: &[u8]) -> Result<Update, AppError> {
    let decoded = decode_bounded(update)?;
    let again = decode_bounded(&decoded.encode_v1())?;
    if again.insertions(true) != decoded.insertions(true) || again.state_vector() != decoded.state_vector() {
        return Err(bad_update("the update lists blocks of one client that overlap"));
    }
    Ok(decoded)
}

/// Decodes an update with its allocations bounded by its size; no overlap check.
fn decode_bounded(b: &[u8]) -> Result<Update, AppError> {
    match crate::alloc::bounded(b.len(), || Update::decode_v1(b)) {
        Some(Ok(u)) => Ok(u),
        Some(Err(e)) => Err(bad_update(format!("the update does not decode: {e}"))),
        None => Err(bad_update("the update does not decode")),
    }
}

/// The bytes of an update `verify_update` found whole and without overlapping blocks:
/// decoding them again gives the same update (decoding is deterministic).
pub struct CheckedUpdate(Vec<u8>);

/// Runs `decode_update`'s checks on a peer's update, without a document. A decoded
/// `yrs::Update` cannot move between threads, so the writer decodes the checked bytes once
/// more, without the check: the check (an encode and a second decode) is two thirds of the
/// cost.
pub fn verify_update(update: Vec<u8>) -> Result<CheckedUpdate, AppError> {
    decode_update(&update)?;
    Ok(CheckedUpdate(update))
}

/// Writes the records `touched` (sorted, without repeats) names into their tables, read
/// from the document as `txn` sees it, and checks them against their tables' rules
/// (`rules::check_changes`, with `who`'s roles and each row's before-image taken before any
/// row is written). Rich text is sanitised on the way (`rules::derive_fields`). The rows of
/// one table go in multi-row statements (`store::upsert_rows`): a new device's first sync
/// projects documents of a hundred work logs each, and one statement per row journaled the
/// same index pages once per row (7 GB of statement journal for 110k rows). If a statement
/// is refused, its table's rows go one at a time: while updates are missing, yrs may already
/// have applied a delete of a field whose new value waits for them, so a record can be
/// incomplete for a moment; its row keeps the last whole state until the rest arrives (which
/// touches the record again) and it is not checked until then. Any other refusal is
/// `refused(table, id, error)`. Answers the changes it checked.
fn project<'r, T: ReadTxn>(
    conn: &Connection,
    txn: &T,
    at: (&DocRef, &Who),
    touched: &Touched,
    root: impl Fn(&str) -> Result<&'r MapRef, AppError>,
    refused: impl Fn(&str, &str, rusqlite::Error) -> AppError,
) -> Result<Vec<Change>, AppError> {
    let (d, who) = at;
    let roles = rules::roles_before(conn, d, who)?;
    let mut changes: Vec<Change> = Vec::with_capacity(touched.len());
    for group in touched.chunk_by(|a, b| a.0 == b.0) {
        let table = group[0].0;
        let spec = table_spec(table).ok_or_else(|| AppError::internal("unknown table"))?;
        let root = root(table)?;
        let first = changes.len();
        for (_, id) in group {
            let Some(mut after) = read_record(txn, root, spec, id) else {
                continue;
            };
            rules::derive_fields(spec, &mut after);
            let before = store::read_row(conn, spec, id)?;
            let change = Change {
                spec,
                id: id.clone(),
                before,
                after,
            };
            rules::check_structure(d, who, &change)?;
            changes.push(change);
        }
        let rows: Vec<(&str, &[Val])> = changes[first..]
            .iter()
            .map(|c| (c.id.as_str(), c.after.as_slice()))
            .collect();
        if store::upsert_rows(conn, spec, &rows).is_ok() {
            continue;
        }
        let mut left_incomplete = Vec::new();
        for (id, vals) in rows {
            match store::upsert_row(conn, spec, id, vals) {
                Ok(()) => {}
                Err(e) if incomplete(&e, txn) => left_incomplete.push(id.to_string()),
                Err(e) => return Err(refused(table, id, e)),
            }
        }
        // Each table comes once in `touched`: only this group's changes have its name.
        changes.retain(|c| !(c.spec.name == table && left_incomplete.contains(&c.id)));
    }
    rules::check_changes(conn, d, who, roles, &changes)?;
    Ok(changes)
}

/// Whether a projection failure is a record left incomplete by missing updates: a
/// required field's old value deleted while its new one waits for the updates before it.
fn incomplete<T: ReadTxn>(e: &rusqlite::Error, txn: &T) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::ConstraintViolation)
        && txn.has_missing_updates()
}

/// Whether a record reads back as plain values: a `Y.Map` of plain values for field-shaped
/// tables, an `Any::Map` for atomic ones (a hostile update could nest other types).
/// `None` when there is no such record.
fn record_is_plain<T: ReadTxn>(txn: &T, root: &MapRef, spec: &TableSpec, id: &str) -> Option<bool> {
    if id.is_empty() {
        return Some(false);
    }
    Some(match (root.get(txn, id)?, spec.shape) {
        (Out::YMap(rec), Shape::Fields) => rec.iter(txn).all(|(_, v)| matches!(v, Out::Any(_))),
        (Out::Any(Any::Map(_)), Shape::Atomic) => true,
        _ => false,
    })
}

/// Rewrites every projection table from the documents (`keel rebuild-projection`).
/// Returns the number of records read from them (a record left incomplete by missing
/// updates keeps no row, as in `project`).
/// A key found in two documents is reported (with every other such key), and nothing is
/// rewritten: neither side wins.
pub fn rebuild_projection(conn: &Connection) -> anyhow::Result<u64> {
    for t in TABLES {
        store::clear_table(conn, t)?;
    }
    let mut n = 0u64;
    let mut duplicates: Vec<String> = Vec::new();
    for id in store::document_ids(conn)? {
        let Some(parts) = store::load_parts(conn, &id.0)? else {
            continue;
        };
        let Some(d) = DocRef::parse(&id.0, &id.2) else {
            anyhow::bail!("document {} has an id Keel does not make", id.0);
        };
        let doc = doc_from_parts(parts.snapshot.as_deref(), &parts.updates)?;
        let specs: Vec<(&TableSpec, MapRef)> = TABLES
            .iter()
            .filter(|t| t.kind.as_str() == id.1)
            .map(|t| (t, doc.get_or_insert_map(t.name)))
            .collect();
        let txn = doc.transact();
        let mut touched: Touched = Vec::new();
        for (spec, root) in &specs {
            touched.extend(root.keys(&txn).map(|k| (spec.name, k.to_string())));
        }
        touched.sort_unstable();
        let projected = project(
            conn,
            &txn,
            (&d, &Who::System),
            &touched,
            |table| {
                specs
                    .iter()
                    .find(|(s, _)| s.name == table)
                    .map(|(_, r)| r)
                    .ok_or_else(|| AppError::internal("no root"))
            },
            |table, id, e| AppError::internal(format!("record {table}/{id:.60} does not fit its table: {e}")),
        );
        match projected {
            Ok(changes) => n += changes.len() as u64,
            Err(
                e @ AppError::Conflict {
                    code: "record_elsewhere",
                    ..
                },
            ) => duplicates.push(format!("{e} (in {})", d.id)),
            Err(AppError::Internal(a)) => return Err(a),
            Err(other) => anyhow::bail!("{other} (in {})", d.id),
        }
    }
    if !duplicates.is_empty() {
        anyhow::bail!(
            "{} record key(s) live in two documents; nothing was rewritten: {}",
            duplicates.len(),
            duplicates.join("; ")
        );
    }
    Ok(n)
}

/// Compacts the log of one document into a snapshot now (used by maintenance and tests),
/// unless it waits for missing updates.
pub fn compact_document(conn: &Connection, id: &str) -> anyhow::Result<()> {
    let Some(parts) = store::load_parts(conn, id)? else {
        anyhow::bail!("no document {id}")
    };
    let doc = doc_from_parts(parts.snapshot.as_deref(), &parts.updates)?;
    let txn = doc.transact();
    // A document waiting for missing updates keeps its log: yrs' snapshot of pending
    // structs does not always load back whole (the property test found one that lost
    // integrated records), and the log replays exactly. It compacts once complete.
    if txn.has_missing_updates() {
        return Ok(());
    }
    let snapshot = txn.encode_state_as_update_v1(&StateVector::default());
    store::compact(conn, id, &snapshot)?;
    Ok(())
}

/// The full state of a document as one update (what a new peer would receive).
pub fn document_state(conn: &Connection, id: &str) -> anyhow::Result<Option<Vec<u8>>> {
    let Some(parts) = store::load_parts(conn, id)? else {
        return Ok(None);
    };
    let doc = doc_from_parts(parts.snapshot.as_deref(), &parts.updates)?;
    let state = doc.transact().encode_state_as_update_v1(&StateVector::default());
    Ok(Some(state))
}

/// A document's state vector, computed from its snapshot and log.
pub fn document_state_vector(conn: &Connection, id: &str) -> anyhow::Result<Vec<u8>> {
    let Some(parts) = store::load_parts(conn, id)? else {
        return Ok(StateVector::default().encode_v1());
    };
    let doc = doc_from_parts(parts.snapshot.as_deref(), &parts.updates)?;
    let sv = doc.transact().state_vector().encode_v1();
    Ok(sv)
}

/// Document `id`'s state vector as recorded with its latest write (computed when it was not
/// recorded yet; empty when there is no such document).
pub fn recorded_state_vector(conn: &Connection, id: &str) -> anyhow::Result<Vec<u8>> {
    match store::doc_state(conn, id)? {
        Some((Some(sv), _)) => Ok(sv),
        _ => document_state_vector(conn, id),
    }
}

/// What our copy of document `id` has beyond `theirs`, with the sequence of the latest
/// update made here; `None` when there is nothing (or no such document). The recorded state vector
/// answers "nothing" without loading the document.
pub fn document_diff(conn: &Connection, id: &str, theirs: &StateVector) -> anyhow::Result<Option<(Vec<u8>, i64)>> {
    let Some((sv, seq)) = store::doc_state(conn, id)? else {
        return Ok(None);
    };
    if let Some(sv) = sv {
        let ours = StateVector::decode_v1(&sv)?;
        if ours.iter().all(|(client, clock)| theirs.get(client) >= *clock) {
            return Ok(None);
        }
    }
    let Some(parts) = store::load_parts(conn, id)? else {
        return Ok(None);
    };
    let doc = doc_from_parts(parts.snapshot.as_deref(), &parts.updates)?;
    let txn = doc.transact();
    if txn
        .state_vector()
        .iter()
        .all(|(client, clock)| theirs.get(client) >= *clock)
    {
        return Ok(None);
    }
    Ok(Some((txn.encode_diff_v1(theirs), seq)))
}

/// `keel rebuild-projection`: one immediate transaction, so no write interleaves, on a
/// connection of its own rather than the writer's, whose statement journals live in memory:
/// a rebuild rewrites every projected table, and its undo copy is the size of those tables.
pub fn rebuild_projection_blocking(app: &crate::App) -> anyhow::Result<u64> {
    let mut conn = crate::db::open_rw(&app.config.db_path())?;
    // Room for every (table, rows) upsert text `project` prepares, as on the writer.
    conn.set_prepared_statement_cache_capacity(256);
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let n = rebuild_projection(&tx).context("rebuild failed")?;
    tx.commit().context("rebuild failed")?;
    Ok(n)
}

/// `keel compact`: folds every document's log into its snapshot, one writer job per
/// document (each job's undo journal holds only that document's pages).
pub fn compact_all_blocking(app: &crate::App) -> anyhow::Result<usize> {
    let failed = |e: AppError| match e {
        AppError::Internal(a) => a.context("compaction failed"),
        other => anyhow::anyhow!("compaction failed: {other}"),
    };
    let ids = app
        .writer
        .write_blocking(|ctx| Ok(store::document_ids(ctx.conn)?))
        .map_err(failed)?;
    for (id, _, _) in &ids {
        let id = id.clone();
        app.writer
            .write_blocking(move |ctx| {
                compact_document(ctx.conn, &id).map_err(AppError::Internal)?;
                ctx.docs.evict(&id);
                Ok(())
            })
            .map_err(failed)?;
    }
    Ok(ids.len())
}

/// Every document of this instance (the structured fuzz harness's targets).
pub fn all_documents(conn: &Connection) -> rusqlite::Result<Vec<DocRef>> {
    Ok(store::document_ids(conn)?
        .into_iter()
        .filter_map(|(id, _, ws)| DocRef::parse(&id, &ws))
        .collect())
}

/// Up to `limit` records of a table as projected rows, with their ids.
pub fn sample_rows(conn: &Connection, spec: &TableSpec, limit: usize) -> rusqlite::Result<Vec<(String, Vec<Val>)>> {
    store::sample_rows(conn, spec, limit)
}

/// Number of updates in a document's log after its snapshot.
pub fn log_len(conn: &Connection, doc_id: &str) -> rusqlite::Result<i64> {
    store::log_len(conn, doc_id)
}
