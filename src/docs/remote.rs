//! The write path of a peer's update: bounded decoding, the structure check, integration under
//! `catch_unwind` with deep observers noting touched records, then the same log and
//! projection as a local edit; and a document's reset from a peer's state.

use super::*;

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
pub(super) fn misfit(table: &str, id: &str, e: rusqlite::Error) -> AppError {
    match e {
        rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::ConstraintViolation => {
            bad_update(format!("record {table}/{id:.60} does not fit its table: {e}"))
        }
        other => other.into(),
    }
}

/// Why a remote update was refused, for the device that sent it.
pub(super) fn bad_update(msg: impl Into<String>) -> AppError {
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
                .copied()
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
pub(super) fn root_of<'a>(roots: &'a [(&'static str, MapRef)], table: &str) -> Result<&'a MapRef, AppError> {
    roots
        .iter()
        .find(|(n, _)| *n == table)
        .map(|(_, r)| r)
        .ok_or_else(|| AppError::internal("no root"))
}

/// A remote update taken into a document: the roots of its kind, the records it touched
/// and the state vector after it.
pub(super) struct Integrated {
    pub(super) roots: Vec<(&'static str, MapRef)>,
    pub(super) touched: Touched,
    pub(super) after: StateVector,
}

/// Applies `decoded` to `doc` (a document of `kind`) with deep observers on the kind's
/// table roots noting the records it touches (never touching SQLite from an observer);
/// refuses roots of other tables and records that are not plain fields. `None` when the
/// update changed nothing. Shared by `apply_remote` and the fuzz target.
pub(super) fn integrate(doc: &Doc, kind: DocKind, decoded: Update) -> Result<Option<Integrated>, AppError> {
    // Root refs first, outside any transaction (taking them inside deadlocks).
    let roots: Vec<(&'static str, MapRef)> = TABLES
        .iter()
        .copied()
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

/// Decodes a peer's update with allocations bounded by its length (`crate::alloc::bounded`),
/// and refuses what yrs's encoder never writes and its integration cannot survive: a client
/// listed twice, or a block whose clock runs past `u32::MAX` (`check_structure`). yrs 0.28's
/// decoder appends a client's second listing to its first and adds block lengths with
/// wrapping arithmetic in a release build, and integration then follows the overlapping
/// blocks into freed memory (a segfault the fuzzer found twice: `crash-446f02db`, and
/// `crash-582c689f…`, whose wrap also defeated an earlier check that compared the update with
/// its re-encoding). No `catch_unwind` contains that, so such an update never reaches
/// integration.
/// The walk goes first, so a build with overflow checks (whose decoder would panic on the
/// wrap) refuses the same way.
pub(super) fn decode_update(update: &[u8]) -> Result<Update, AppError> {
    match crate::alloc::bounded(update.len(), || check_structure(update)) {
        Some(Ok(())) => decode_bounded(update),
        Some(Err(why)) => Err(bad_update(format!("the update {why}"))),
        None => Err(bad_update("the update does not decode")),
    }
}

/// Walks a v1 update as yrs's decoder reads it (the same reads, so the same bytes: block
/// headers, and each item's content through yrs's own `ItemContent::decode`), checking what
/// the decoder does not: every client listed once with its clocks inside `u32`, and the same
/// for the delete set.
fn check_structure(update: &[u8]) -> Result<(), String> {
    use yrs::block::{
        ItemContent, BLOCK_GC_REF_NUMBER, BLOCK_SKIP_REF_NUMBER, HAS_ORIGIN, HAS_PARENT_SUB, HAS_RIGHT_ORIGIN,
    };
    use yrs::encoding::read::Read as _;
    use yrs::updates::decoder::{Decoder, DecoderV1};
    type Read<T> = Result<T, yrs::encoding::read::Error>;
    fn walk(update: &[u8]) -> Read<Result<(), String>> {
        let mut d = DecoderV1::from(update);
        let clients: u32 = d.read_var()?;
        let mut seen = std::collections::HashSet::new();
        for _ in 0..clients {
            let blocks: u32 = d.read_var()?;
            let client = d.read_client()?;
            if !seen.insert(client) {
                return Ok(Err(format!("lists client {client} twice (its blocks would overlap)")));
            }
            let mut clock: u32 = d.read_var()?;
            for _ in 0..blocks {
                let len = match d.read_info()? {
                    BLOCK_SKIP_REF_NUMBER => d.read_var::<u32>()?,
                    BLOCK_GC_REF_NUMBER => d.read_len()?,
                    info => {
                        if info & HAS_ORIGIN != 0 {
                            d.read_left_id()?;
                        }
                        if info & HAS_RIGHT_ORIGIN != 0 {
                            d.read_right_id()?;
                        }
                        if info & (HAS_ORIGIN | HAS_RIGHT_ORIGIN) == 0 {
                            if d.read_parent_info()? {
                                d.read_string()?;
                            } else {
                                d.read_left_id()?;
                            }
                            if info & HAS_PARENT_SUB != 0 {
                                d.read_string()?;
                            }
                        }
                        ItemContent::decode(&mut d, info)?.len_utf16()
                    }
                };
                let Some(next) = clock.checked_add(len) else {
                    return Ok(Err(format!("has a block of client {client} past the last clock")));
                };
                clock = next;
            }
        }
        let clients: u32 = d.read_var()?;
        let mut seen = std::collections::HashSet::new();
        for _ in 0..clients {
            d.reset_ds_cur_val();
            let client: u64 = d.read_var()?;
            if !seen.insert(client) {
                return Ok(Err(format!("deletes for client {client} twice")));
            }
            let ranges: u32 = d.read_var()?;
            for _ in 0..ranges {
                let (clock, len) = (d.read_ds_clock()?, d.read_ds_len()?);
                if clock.checked_add(len).is_none() {
                    return Ok(Err(format!("deletes past the last clock of client {client}")));
                }
            }
        }
        Ok(Ok(()))
    }
    walk(update).unwrap_or_else(|e| Err(format!("does not decode: {e}")))
}

/// Decodes an update with its allocations bounded by its size; no structure check.
pub(super) fn decode_bounded(b: &[u8]) -> Result<Update, AppError> {
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
/// more, without the check: the check (a decode and a walk of the same bytes) is about two
/// thirds of the cost.
pub fn verify_update(update: Vec<u8>) -> Result<CheckedUpdate, AppError> {
    decode_update(&update)?;
    Ok(CheckedUpdate(update))
}
