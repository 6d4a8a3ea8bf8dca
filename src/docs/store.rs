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
        |r| Ok((r.get("state_vector")?, r.get("local_seq")?)),
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

/// (id, kind, workspace id) of every document.
pub(crate) fn document_ids(conn: &Connection) -> rusqlite::Result<Vec<(String, String, String)>> {
    let mut stmt = conn.prepare("SELECT id, kind, workspace_id FROM documents ORDER BY id")?;
    let rows = stmt
        .query_map([], |r| Ok((r.get("id")?, r.get("kind")?, r.get("workspace_id")?)))?
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

impl rusqlite::ToSql for Val {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        match self {
            Val::Text(s) => s.to_sql(),
            Val::Int(i) => i.to_sql(),
            Val::Null => Ok(rusqlite::types::ToSqlOutput::Owned(rusqlite::types::Value::Null)),
        }
    }
}

/// Which statement text `sql_text` makes.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum Text {
    Upsert,
    Select,
}

/// A statement text over `n` rows of `spec`, made once per (kind, table, n) on each thread:
/// the projection asks for them per table and chunk, and the statement cache keys on them.
fn sql_text(kind: Text, spec: &TableSpec, n: usize, make: impl FnOnce(&[&str]) -> String) -> std::rc::Rc<str> {
    type Texts = std::collections::HashMap<(Text, &'static str, usize), std::rc::Rc<str>>;
    thread_local! {
        static TEXTS: std::cell::RefCell<Texts> = Default::default();
    }
    TEXTS.with(|t| {
        t.borrow_mut()
            .entry((kind, spec.name, n))
            .or_insert_with(|| {
                let names: Vec<&str> = spec.cols.iter().map(|c| c.0).collect();
                make(&names).into()
            })
            .clone()
    })
}

/// The text of an upsert of `n` rows of `spec`.
fn upsert_sql(spec: &TableSpec, n: usize) -> std::rc::Rc<str> {
    sql_text(Text::Upsert, spec, n, |names| {
        let row = format!("(?{})", ", ?".repeat(names.len()));
        let updates: Vec<String> = names.iter().map(|n| format!("{n} = excluded.{n}")).collect();
        // Table and column names come from the static TABLES list, never from input.
        format!(
            "INSERT INTO {t} (id, {cols}) VALUES {rows} ON CONFLICT(id) DO UPDATE SET {up}",
            t = spec.name,
            cols = names.join(", "),
            rows = vec![row; n].join(", "),
            up = updates.join(", "),
        )
    })
}

/// Upserts one projected row; `vals` follow `spec.cols`.
pub(crate) fn upsert_row(conn: &Connection, spec: &TableSpec, id: &str, vals: &[Val]) -> rusqlite::Result<()> {
    upsert_rows(conn, spec, &[(id, vals)])
}

/// The most rows one upsert statement takes.
const UPSERT_CHUNK: usize = 128;

/// Upserts projected rows of one table (ids distinct) in statements of 128, 64, … 1 rows:
/// a handful of statement texts, each prepared once. Every statement runs the table's
/// triggers and keeps an undo journal of the pages it changes; one statement per row wrote
/// the same index pages into that journal once per row. A failing statement changes nothing,
/// but the statements before it stay: callers that retry row by row upsert those again,
/// which changes nothing either.
pub(crate) fn upsert_rows(conn: &Connection, spec: &TableSpec, rows: &[(&str, &[Val])]) -> rusqlite::Result<()> {
    let mut rest = rows;
    while !rest.is_empty() {
        let n = if rest.len() >= UPSERT_CHUNK {
            UPSERT_CHUNK
        } else {
            1 << rest.len().ilog2()
        };
        let (now, later) = rest.split_at(n);
        let mut stmt = conn.prepare_cached(&upsert_sql(spec, n))?;
        let mut params: Vec<&dyn rusqlite::ToSql> = Vec::with_capacity(n * (spec.cols.len() + 1));
        for (id, vals) in now {
            debug_assert_eq!(vals.len(), spec.cols.len());
            params.push(id);
            params.extend(vals.iter().map(|v| v as &dyn rusqlite::ToSql));
        }
        stmt.execute(params_from_iter(params))?;
        rest = later;
    }
    Ok(())
}

/// The values of a row at result columns `cols` (found by name, `column_indexes`).
fn row_vals(r: &rusqlite::Row<'_>, cols: &[usize]) -> rusqlite::Result<Vec<Val>> {
    cols.iter()
        .map(|&i| {
            Ok(match r.get_ref(i)? {
                rusqlite::types::ValueRef::Null => Val::Null,
                rusqlite::types::ValueRef::Integer(n) => Val::Int(n),
                rusqlite::types::ValueRef::Real(f) => Val::Int(f as i64),
                rusqlite::types::ValueRef::Text(t) | rusqlite::types::ValueRef::Blob(t) => {
                    Val::Text(String::from_utf8_lossy(t).into_owned())
                }
            })
        })
        .collect()
}

/// Where each of `spec.cols` is among a statement's result columns, looked up by name once
/// per statement rather than once per row and column.
fn column_indexes(stmt: &rusqlite::Statement<'_>, spec: &TableSpec) -> rusqlite::Result<Vec<usize>> {
    spec.cols.iter().map(|(name, _)| stmt.column_index(name)).collect()
}

/// The text of a read of `n` rows of `spec` by id.
fn select_sql(spec: &TableSpec, n: usize) -> std::rc::Rc<str> {
    sql_text(Text::Select, spec, n, |names| {
        let marks = vec!["?"; n].join(", ");
        // Table and column names come from the static TABLES list, never from input.
        format!(
            "SELECT id, {} FROM {} WHERE id IN ({marks})",
            names.join(", "),
            spec.name
        )
    })
}

/// The projected row of record `id` of `spec` as it stands in this transaction, in the
/// order of `spec.cols`; `None` when there is none.
pub(crate) fn read_row(conn: &Connection, spec: &TableSpec, id: &str) -> rusqlite::Result<Option<Vec<Val>>> {
    Ok(read_rows(conn, spec, &[id])?.remove(id))
}

/// The projected rows of records `ids` of `spec` as they stand in this transaction (the
/// before-images of a change: the projection is a function of the documents), by id; ids
/// without a row are absent. Read in statements of 128, 64, … 1 ids, as `upsert_rows`
/// writes them: one statement per record was a tenth of a device's first sync.
pub(crate) fn read_rows(
    conn: &Connection,
    spec: &TableSpec,
    ids: &[&str],
) -> rusqlite::Result<std::collections::HashMap<String, Vec<Val>>> {
    let mut out = std::collections::HashMap::new();
    let mut rest = ids;
    while !rest.is_empty() {
        let n = if rest.len() >= UPSERT_CHUNK {
            UPSERT_CHUNK
        } else {
            1 << rest.len().ilog2()
        };
        let (now, later) = rest.split_at(n);
        let mut stmt = conn.prepare_cached(&select_sql(spec, n))?;
        let cols = column_indexes(&stmt, spec)?;
        let mut rows = stmt.query(params_from_iter(now.iter()))?;
        while let Some(r) = rows.next()? {
            out.insert(r.get::<_, String>("id")?, row_vals(r, &cols)?);
        }
        rest = later;
    }
    Ok(out)
}

/// Up to `limit` rows of a table with their ids, as `read_row` reads them (the structured
/// fuzz harness takes keys and values from them).
pub(crate) fn sample_rows(
    conn: &Connection,
    spec: &TableSpec,
    limit: usize,
) -> rusqlite::Result<Vec<(String, Vec<Val>)>> {
    let ids: Vec<String> = conn
        .prepare(&format!("SELECT id FROM {} ORDER BY id LIMIT ?1", spec.name))?
        .query_map([limit as i64], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        if let Some(vals) = read_row(conn, spec, &id)? {
            out.push((id, vals));
        }
    }
    Ok(out)
}

/// Where record `id` of `table` lives: the value of its `scope_col` (its workspace or
/// project), or `None` when there is no such record. For the references rule.
pub(crate) fn scope_of(conn: &Connection, table: &str, scope_col: &str, id: &str) -> rusqlite::Result<Option<String>> {
    // Both names come from static rule tables, never from input.
    conn.prepare_cached(&format!("SELECT {scope_col} FROM {table} WHERE id = ?1"))?
        .query_row([id], |r| r.get::<_, Option<String>>(0))
        .optional()
        .map(Option::flatten)
}

/// A record of `table` whose reference `r` names nothing in its scope, if any.
pub(crate) fn dangling_ref(conn: &Connection, table: &str, r: &super::rules::Ref) -> rusqlite::Result<Option<String>> {
    use super::rules::Target;
    let f = r.field;
    // Names come from the static rule tables, never from input.
    let target = match r.to {
        Target::InProject("projects") => format!("x.id = t.{f} AND x.id = t.project_id"),
        Target::InProject(_) => format!("x.id = t.{f} AND x.project_id = t.project_id"),
        Target::InWorkspace("workspaces") => format!("x.id = t.{f} AND x.id = t.workspace_id"),
        Target::InWorkspace(_) => format!("x.id = t.{f} AND x.workspace_id = t.workspace_id"),
        Target::Member => format!("x.user_id = t.{f} AND x.workspace_id = t.workspace_id"),
    };
    let to = match r.to {
        Target::InProject(t) | Target::InWorkspace(t) => t,
        Target::Member => "workspace_members",
    };
    conn.prepare(&format!(
        "SELECT t.id FROM {table} t WHERE t.{f} IS NOT NULL AND NOT EXISTS (SELECT 1 FROM {to} x WHERE {target}) LIMIT 1"
    ))?
    .query_row([], |row| row.get(0))
    .optional()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::docs::{table_spec, Col};

    /// A work log row of `spec` numbered `k`, with `minutes`; `logged_at` NULL when `broken`.
    fn log(spec: &TableSpec, k: usize, minutes: i64, broken: bool) -> (String, Vec<Val>) {
        let vals = spec
            .cols
            .iter()
            .map(|(name, ty)| match (*name, ty) {
                ("workspace_id", _) => Val::Text("w1".into()),
                ("project_id", _) => Val::Text(format!("p{}", k % 3)),
                ("issue_id", _) => Val::Text(format!("i{}", k % 7)),
                ("logged_by", _) => Val::Text(format!("u{}", k % 5)),
                ("duration_minutes", _) => Val::Int(minutes),
                ("logged_at", _) if broken => Val::Null,
                ("logged_at", _) => Val::Text(format!("2026-{:02}-{:02}", 1 + k % 12, 1 + k % 28)),
                ("deleted_at" | "created_by", _) => Val::Null,
                (_, Col::Int) => Val::Int(0),
                (_, Col::Text) => Val::Text("2026-11-30T00:00:00Z".into()),
            })
            .collect();
        (format!("log-{k:04}"), vals)
    }

    fn upsert(conn: &Connection, spec: &TableSpec, rows: &[(String, Vec<Val>)]) -> rusqlite::Result<()> {
        let rows: Vec<(&str, &[Val])> = rows.iter().map(|(id, v)| (id.as_str(), v.as_slice())).collect();
        upsert_rows(conn, spec, &rows)
    }

    /// (rows, minutes) in the table and in two of its rollups, which its triggers keep.
    fn totals(conn: &Connection) -> [(i64, i64); 3] {
        let q = |sql: &str| conn.query_row(sql, [], |r| Ok((r.get(0)?, r.get(1)?))).unwrap();
        [
            q("SELECT COUNT(*), COALESCE(SUM(duration_minutes), 0) FROM worklogs"),
            q("SELECT COALESCE(SUM(entries), 0), COALESCE(SUM(minutes), 0) FROM worklog_day"),
            q("SELECT COALESCE(SUM(entries), 0), COALESCE(SUM(minutes), 0) FROM worklog_user_month"),
        ]
    }

    #[test]
    fn many_rows_upsert_in_chunks_with_their_triggers_and_a_failing_statement_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keel.db");
        crate::db::migrate(&path).unwrap();
        let conn = Connection::open(&path).unwrap();
        let spec = table_spec("worklogs").unwrap();

        // 300 rows: statements of 128, 128, 32, 8 and 4 rows.
        let rows: Vec<_> = (0..300).map(|k| log(spec, k, 1 + k as i64, false)).collect();
        upsert(&conn, spec, &rows).unwrap();
        let sum: i64 = (1..=300).sum();
        assert_eq!(totals(&conn), [(300, sum); 3]);

        // The same rows again with other minutes: updates, through the update triggers.
        let rows: Vec<_> = (0..300).map(|k| log(spec, k, 2 * (1 + k as i64), false)).collect();
        upsert(&conn, spec, &rows).unwrap();
        assert_eq!(totals(&conn), [(300, 2 * sum); 3]);

        // Six new rows, the last one refused: the first statement (4 rows) stays, the
        // second (2 rows) is undone whole, the good row in it too.
        let mut more: Vec<_> = (300..306).map(|k| log(spec, k, 10, false)).collect();
        more[5] = log(spec, 305, 10, true);
        let e = upsert(&conn, spec, &more).unwrap_err();
        assert!(
            matches!(&e, rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::ConstraintViolation),
            "{e}"
        );
        assert_eq!(totals(&conn), [(304, 2 * sum + 40); 3]);
        let missing: i64 = conn
            .query_row(
                "SELECT COUNT(*) FROM worklogs WHERE id IN ('log-0304', 'log-0305')",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(missing, 0);

        // Nothing to write is no statement at all.
        upsert(&conn, spec, &[]).unwrap();
        assert_eq!(totals(&conn), [(304, 2 * sum + 40); 3]);
    }
}
