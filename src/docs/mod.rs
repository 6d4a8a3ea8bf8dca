//! The yrs document layer of the one write path: documents per scope, their update log,
//! compaction into snapshots, and the projection of records into SQLite tables.
//!
//! A record lives under a root map named after its table, keyed by its UUID v7, as a
//! nested `Y.Map` of fields (DESIGN §4). The projection reads a record back from the
//! document after every change and upserts its row, so the rows are by construction a
//! function of the document: `rebuild_projection` runs the same code over every record.
//!
//! - `schema`: documents, tables, values; `cache`: loaded documents; `edit`: the local write
//!   path; `remote`: a peer's update; `projection`: rows from records, and their rules
//!   (`rules`); this file: compaction, document state for sync, maintenance commands.

mod cache;
mod edit;
mod projection;
pub mod record;
mod remote;
pub mod rules;
mod schema;
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
pub use cache::*;
pub use edit::*;
pub use projection::*;
pub(crate) use record::table;
pub use record::{Field, Set};
pub use remote::*;
pub use rules::{Change, Who};
pub use schema::*;

/// Updates appended to a document's log before it is folded into a snapshot.
pub const COMPACT_AFTER: u64 = 500;
/// Documents kept in memory by the writer; the least recently used is evicted past this
/// (and any idle for `db::IDLE_DOCUMENT`). Most documents are small (a person's work logs of
/// a quarter); BENCHMARKS.md measures the memory of 1,000 loaded.
pub const MAX_LOADED: usize = 1024;

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
