//! The yrs document layer of the one write path: documents per scope, their update log,
//! compaction into snapshots, and the projection of records into SQLite tables.
//!
//! A record lives under a root map named after its table, keyed by its UUID v7, as a
//! nested `Y.Map` of fields (DESIGN §4). The projection reads a record back from the
//! document after every change and upserts its row, so the rows are by construction a
//! function of the document: `rebuild_projection` runs the same code over every record.

pub(crate) mod store;

use std::collections::HashMap;
use std::sync::Arc;

use rusqlite::Connection;
use yrs::updates::decoder::Decode;
use yrs::{
    Any, ClientID, Doc, Map, MapPrelim, MapRef, Options, Out, ReadTxn, StateVector, Transact, TransactionMut, Update,
};

use crate::db::WriteCtx;
use crate::error::AppError;

/// Updates appended to a document's log before it is folded into a snapshot.
pub const COMPACT_AFTER: u64 = 500;
/// Documents kept in memory by the writer; the least recently used is evicted past this.
pub const MAX_LOADED: usize = 256;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocKind {
    /// Workspace record, members, invitations. Written by workspace admins.
    Workspace,
    /// One project: its record, its members (and later issues, states, labels...).
    /// Kept out of the workspace document so that a private project's name never reaches
    /// a device whose user may not see it.
    Project,
}

impl DocKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DocKind::Workspace => "workspace",
            DocKind::Project => "project",
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
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Col {
    Text,
    Int,
}

/// A projected table: which document kind holds its records and which fields become columns.
pub struct TableSpec {
    pub name: &'static str,
    pub kind: DocKind,
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
        cols: cols!["name": Text, "slug": Text, "display_id": Text, "plan": Text],
    },
    TableSpec {
        name: "workspace_members",
        kind: DocKind::Workspace,
        cols: cols!["workspace_id": Text, "user_id": Text, "role": Text],
    },
    TableSpec {
        name: "invitations",
        kind: DocKind::Workspace,
        cols: cols![
            "workspace_id": Text, "email": Text, "role": Text, "token_hash": Text,
            "expires_at": Text, "accepted_at": Text, "accepted_by": Text
        ],
    },
    TableSpec {
        name: "projects",
        kind: DocKind::Project,
        cols: cols![
            "workspace_id": Text, "name": Text, "identifier": Text, "description": Text,
            "is_private": Int, "is_time_tracking_enabled": Int, "archived_at": Text
        ],
    },
    TableSpec {
        name: "project_members",
        kind: DocKind::Project,
        cols: cols!["workspace_id": Text, "project_id": Text, "user_id": Text, "role": Text],
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
                },
            );
        }
        let l = self
            .loaded
            .get_mut(&d.id)
            .ok_or_else(|| AppError::internal("document vanished from cache"))?;
        l.last_used = now;
        Ok(l)
    }
}

/// Changes to records of one document, made inside one yrs transaction.
pub struct Edit<'t> {
    txn: TransactionMut<'t>,
    roots: HashMap<&'static str, MapRef>,
    touched: Vec<(&'static str, String)>,
}

impl Edit<'_> {
    fn root(&self, table: &'static str) -> Result<&MapRef, AppError> {
        self.roots
            .get(table)
            .ok_or_else(|| AppError::internal(format!("table {table} is not in this document")))
    }

    /// Creates a record. Only its creator ever creates the nested map under its UUID v7 key.
    pub fn create(&mut self, table: &'static str, id: &str, fields: &[(&str, Val)]) -> Result<(), AppError> {
        let root = self.root(table)?.clone();
        if root.get(&self.txn, id).is_some() {
            return Err(AppError::internal(format!("record {table}/{id} exists")));
        }
        let prelim: MapPrelim = fields.iter().map(|(k, v)| (k.to_string(), v.to_any())).collect();
        root.insert(&mut self.txn, id.to_string(), prelim);
        self.touched.push((table, id.to_string()));
        Ok(())
    }

    /// Sets fields of an existing record; other fields are left as they are, so concurrent
    /// edits of different fields merge.
    pub fn set(&mut self, table: &'static str, id: &str, fields: &[(&str, Val)]) -> Result<(), AppError> {
        let root = self.root(table)?.clone();
        let rec = match root.get(&self.txn, id) {
            Some(Out::YMap(m)) => m,
            _ => return Err(AppError::internal(format!("record {table}/{id} missing"))),
        };
        for (k, v) in fields {
            rec.insert(&mut self.txn, k.to_string(), v.to_any());
        }
        self.touched.push((table, id.to_string()));
        Ok(())
    }
}

/// Reads one record of a document as column values, in the order of the table's spec.
pub fn read_record<T: ReadTxn>(txn: &T, root: &MapRef, spec: &TableSpec, id: &str) -> Option<Vec<Val>> {
    let rec = match root.get(txn, id) {
        Some(Out::YMap(m)) => m,
        _ => return None,
    };
    Some(
        spec.cols
            .iter()
            .map(|(name, ty)| match rec.get(txn, name) {
                Some(Out::Any(a)) => any_to_val(&a, *ty),
                _ => Val::Null,
            })
            .collect(),
    )
}

fn any_to_val(a: &Any, ty: Col) -> Val {
    match (a, ty) {
        (Any::Null | Any::Undefined, _) => Val::Null,
        (Any::String(s), Col::Text) => Val::Text(s.to_string()),
        (Any::Bool(b), _) => Val::Int(i64::from(*b)),
        (Any::Number(n), Col::Int) => Val::Int(n.as_f64().map_or(0, |f| f as i64)),
        (Any::Number(n), Col::Text) => Val::Text(n.as_f64().map_or(String::new(), |f| f.to_string())),
        (Any::String(s), Col::Int) => Val::Int(s.parse().unwrap_or(0)),
        (other, _) => Val::Text(other.to_string()),
    }
}

impl WriteCtx<'_> {
    /// Applies `f` to the document `d` in one yrs transaction, appends the encoded update to
    /// the document's log and projects every record `f` touched, all inside the caller's
    /// SQLite transaction (DESIGN §2 steps 2–4). Step 5, publishing, happens after commit.
    pub fn edit<R>(&mut self, d: &DocRef, f: impl FnOnce(&mut Edit<'_>) -> Result<R, AppError>) -> Result<R, AppError> {
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
        store::append_update(conn, &d.id, &update)?;
        loaded.log_len += 1;
        let rtxn = loaded.doc.transact();
        for (table, id) in &touched {
            let spec = table_spec(table).ok_or_else(|| AppError::internal("unknown table"))?;
            let root = roots.get(table).ok_or_else(|| AppError::internal("no root"))?;
            if let Some(vals) = read_record(&rtxn, root, spec, id) {
                store::upsert_row(conn, spec, id, &vals)?;
            }
        }
        if loaded.log_len >= COMPACT_AFTER {
            let snapshot = rtxn.encode_state_as_update_v1(&StateVector::default());
            store::compact(conn, &d.id, &snapshot)?;
            loaded.log_len = 0;
        }
        drop(rtxn);
        self.published.push((d.id.clone(), update));
        Ok(out)
    }
}

/// Rewrites every projection table from the documents (`keel rebuild-projection`).
/// Returns the number of records projected.
pub fn rebuild_projection(conn: &Connection) -> anyhow::Result<u64> {
    for t in TABLES {
        store::clear_table(conn, t)?;
    }
    let mut n = 0u64;
    for id in store::document_ids(conn)? {
        let Some(parts) = store::load_parts(conn, &id.0)? else {
            continue;
        };
        let doc = doc_from_parts(parts.snapshot.as_deref(), &parts.updates)?;
        let specs: Vec<(&TableSpec, MapRef)> = TABLES
            .iter()
            .filter(|t| t.kind.as_str() == id.1)
            .map(|t| (t, doc.get_or_insert_map(t.name)))
            .collect();
        let txn = doc.transact();
        for (spec, root) in &specs {
            let keys: Vec<String> = root.keys(&txn).map(str::to_string).collect();
            for key in keys {
                if let Some(vals) = read_record(&txn, root, spec, &key) {
                    store::upsert_row(conn, spec, &key, &vals)?;
                    n += 1;
                }
            }
        }
    }
    Ok(n)
}

/// Compacts the log of one document into a snapshot now (used by maintenance and tests).
pub fn compact_document(conn: &Connection, id: &str) -> anyhow::Result<()> {
    let Some(parts) = store::load_parts(conn, id)? else {
        anyhow::bail!("no document {id}")
    };
    let doc = doc_from_parts(parts.snapshot.as_deref(), &parts.updates)?;
    let snapshot = doc.transact().encode_state_as_update_v1(&StateVector::default());
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

/// `keel rebuild-projection`, run on the writer so no write interleaves.
pub fn rebuild_projection_blocking(app: &crate::App) -> anyhow::Result<u64> {
    app.writer
        .write_blocking(|ctx| rebuild_projection(ctx.conn).map_err(AppError::Internal))
        .map_err(|e| anyhow::anyhow!("rebuild failed: {e}"))
}

/// `keel compact`: folds every document's log into its snapshot.
pub fn compact_all_blocking(app: &crate::App) -> anyhow::Result<usize> {
    app.writer
        .write_blocking(|ctx| {
            let ids = store::document_ids(ctx.conn)?;
            for (id, _) in &ids {
                compact_document(ctx.conn, id).map_err(AppError::Internal)?;
                ctx.docs.evict(id);
            }
            Ok(ids.len())
        })
        .map_err(|e| anyhow::anyhow!("compaction failed: {e}"))
}

/// Number of updates in a document's log after its snapshot.
pub fn log_len(conn: &Connection, doc_id: &str) -> rusqlite::Result<i64> {
    store::log_len(conn, doc_id)
}
