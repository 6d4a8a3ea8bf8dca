//! The projection: touched records read back from the document into their rows, checked
//! against their tables' rules (`rules`), and the rebuild of every table from the documents.

use super::*;

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
pub(super) fn project<'r, T: ReadTxn>(
    conn: &Connection,
    txn: &T,
    at: (&DocRef, &Who),
    touched: &Touched,
    root: impl Fn(&str) -> Result<&'r MapRef, AppError>,
    refused: impl Fn(&str, &str, rusqlite::Error) -> AppError,
) -> Result<Vec<Change>, AppError> {
    let roles = rules::roles_before(conn, at.0, at.1)?;
    project_as(conn, txn, at, roles, touched, root, refused)
}

/// `project` with the actor's roles taken already (before any row of the change was
/// written): the local write path projects a change and then the records that follow it.
pub(super) fn project_as<'r, T: ReadTxn>(
    conn: &Connection,
    txn: &T,
    at: (&DocRef, &Who),
    roles: rules::Roles,
    touched: &Touched,
    root: impl Fn(&str) -> Result<&'r MapRef, AppError>,
    refused: impl Fn(&str, &str, rusqlite::Error) -> AppError,
) -> Result<Vec<Change>, AppError> {
    let (d, who) = at;
    let scope = rules::Scope::of(d);
    let mut changes: Vec<Change> = Vec::with_capacity(touched.len());
    for group in touched.chunk_by(|a, b| a.0 == b.0) {
        let table = group[0].0;
        let spec = table_spec(table).ok_or_else(|| AppError::internal("unknown table"))?;
        let root = root(table)?;
        let first = changes.len();
        let ids: Vec<&str> = group.iter().map(|(_, id)| id.as_str()).collect();
        let mut befores = store::read_rows(conn, spec, &ids)?;
        for (_, id) in group {
            let Some(mut after) = read_record(txn, root, spec, id) else {
                continue;
            };
            rules::derive_fields(spec, &mut after);
            let before = befores.remove(id.as_str());
            let change = Change {
                spec,
                id: id.clone(),
                before,
                after,
            };
            rules::check_structure_in(d, &scope, who, &change)?;
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
pub(super) fn incomplete<T: ReadTxn>(e: &rusqlite::Error, txn: &T) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::ConstraintViolation)
        && txn.has_missing_updates()
}

/// Whether a record reads back as plain values: a `Y.Map` of plain values for field-shaped
/// tables, an `Any::Map` for atomic ones (a hostile update could nest other types).
/// `None` when there is no such record.
pub(super) fn record_is_plain<T: ReadTxn>(txn: &T, root: &MapRef, spec: &TableSpec, id: &str) -> Option<bool> {
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
            .copied()
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
