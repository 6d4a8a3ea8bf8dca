//! SQL of the document layer: the update log, snapshots, and the generic projection upsert.

use rusqlite::{params, params_from_iter, Connection, OptionalExtension};

use super::{DocRef, TableSpec, Val};
use crate::time::now_rfc3339;

pub(crate) struct Parts {
    pub snapshot: Option<Vec<u8>>,
    pub updates: Vec<Vec<u8>>,
}

pub(crate) fn create_document(conn: &Connection, d: &DocRef) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO documents (id, kind, workspace_id, created_at) VALUES (?1, ?2, ?3, ?4)",
        params![d.id, d.kind.as_str(), d.workspace_id, now_rfc3339()],
    )?;
    Ok(())
}

pub(crate) fn load_parts(conn: &Connection, id: &str) -> rusqlite::Result<Option<Parts>> {
    let snapshot: Option<Option<Vec<u8>>> = conn
        .query_row("SELECT snapshot FROM documents WHERE id = ?1", [id], |r| r.get(0))
        .optional()?;
    let Some(snapshot) = snapshot else {
        return Ok(None);
    };
    let mut stmt = conn.prepare_cached("SELECT data FROM doc_updates WHERE doc_id = ?1 ORDER BY seq")?;
    let updates = stmt
        .query_map([id], |r| r.get::<_, Vec<u8>>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(Some(Parts { snapshot, updates }))
}

pub(crate) fn append_update(conn: &Connection, doc_id: &str, data: &[u8]) -> rusqlite::Result<i64> {
    let mut stmt = conn.prepare_cached("INSERT INTO doc_updates (doc_id, data, created_at) VALUES (?1, ?2, ?3)")?;
    stmt.execute(params![doc_id, data, now_rfc3339()])?;
    Ok(conn.last_insert_rowid())
}

/// Records a document's state vector and the sequence number of its latest update, so a
/// sync manifest is read without loading the document.
/// `local` marks an update made here (not received from a peer).
pub(crate) fn set_doc_state(conn: &Connection, doc_id: &str, sv: &[u8], seq: i64, local: bool) -> rusqlite::Result<()> {
    if local {
        conn.prepare_cached("UPDATE documents SET state_vector = ?2, last_seq = ?3, local_seq = ?3 WHERE id = ?1")?
            .execute(params![doc_id, sv, seq])?;
    } else {
        conn.prepare_cached("UPDATE documents SET state_vector = ?2, last_seq = ?3 WHERE id = ?1")?
            .execute(params![doc_id, sv, seq])?;
    }
    Ok(())
}

/// A document's recorded state vector (absent before its first write since the sync
/// migration) and latest update sequence; `None` if there is no such document.
pub(crate) fn doc_state(conn: &Connection, id: &str) -> rusqlite::Result<Option<(Option<Vec<u8>>, i64)>> {
    conn.query_row(
        "SELECT state_vector, local_seq FROM documents WHERE id = ?1",
        [id],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .optional()
}

/// Replaces the log of a document by a snapshot of its whole state.
pub(crate) fn compact(conn: &Connection, doc_id: &str, snapshot: &[u8]) -> rusqlite::Result<()> {
    let max_seq: i64 = conn.query_row(
        "SELECT COALESCE(MAX(seq), 0) FROM doc_updates WHERE doc_id = ?1",
        [doc_id],
        |r| r.get(0),
    )?;
    conn.execute(
        "UPDATE documents SET snapshot = ?2, snapshot_seq = MAX(snapshot_seq, ?3) WHERE id = ?1",
        params![doc_id, snapshot, max_seq],
    )?;
    conn.execute(
        "DELETE FROM doc_updates WHERE doc_id = ?1 AND seq <= ?2",
        params![doc_id, max_seq],
    )?;
    Ok(())
}

pub(crate) fn document_ids(conn: &Connection) -> rusqlite::Result<Vec<(String, String)>> {
    let mut stmt = conn.prepare("SELECT id, kind FROM documents ORDER BY id")?;
    let rows = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// Number of updates in a document's log after its snapshot.
pub fn log_len(conn: &Connection, doc_id: &str) -> rusqlite::Result<i64> {
    conn.query_row("SELECT COUNT(*) FROM doc_updates WHERE doc_id = ?1", [doc_id], |r| {
        r.get(0)
    })
}

/// Removes one projected row (a document reset takes it again from the peer's state).
pub(crate) fn delete_row(conn: &Connection, spec: &TableSpec, id: &str) -> rusqlite::Result<()> {
    // Table names come from the static TABLES list, never from input.
    conn.execute(&format!("DELETE FROM {} WHERE id = ?1", spec.name), [id])?;
    Ok(())
}

/// Empties a document: no snapshot, no log. Its row stays so its id is known.
pub(crate) fn clear_document(conn: &Connection, id: &str) -> rusqlite::Result<()> {
    conn.execute("DELETE FROM doc_updates WHERE doc_id = ?1", [id])?;
    conn.execute(
        "UPDATE documents SET snapshot = NULL, state_vector = NULL WHERE id = ?1",
        [id],
    )?;
    Ok(())
}

pub(crate) fn clear_table(conn: &Connection, spec: &TableSpec) -> rusqlite::Result<()> {
    // Table names come from the static TABLES list, never from input.
    conn.execute(&format!("DELETE FROM {}", spec.name), [])?;
    Ok(())
}

/// Upserts one projected row; `vals` follow `spec.cols`.
pub(crate) fn upsert_row(conn: &Connection, spec: &TableSpec, id: &str, vals: &[Val]) -> rusqlite::Result<()> {
    let names: Vec<&str> = spec.cols.iter().map(|c| c.0).collect();
    let placeholders: Vec<String> = (2..=names.len() + 1).map(|i| format!("?{i}")).collect();
    let updates: Vec<String> = names.iter().map(|n| format!("{n} = excluded.{n}")).collect();
    let sql = format!(
        "INSERT INTO {t} (id, {cols}) VALUES (?1, {ph}) ON CONFLICT(id) DO UPDATE SET {up}",
        t = spec.name,
        cols = names.join(", "),
        ph = placeholders.join(", "),
        up = updates.join(", "),
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let values = std::iter::once(rusqlite::types::Value::Text(id.to_string())).chain(vals.iter().map(|v| match v {
        Val::Text(s) => rusqlite::types::Value::Text(s.clone()),
        Val::Int(i) => rusqlite::types::Value::Integer(*i),
        Val::Null => rusqlite::types::Value::Null,
    }));
    stmt.execute(params_from_iter(values))?;
    Ok(())
}
