//! The local write path: `WriteCtx::edit` changes records of one document in one yrs
//! transaction (`Edit`), logs the update and projects the touched records.

use super::*;

/// Changes to records of one document, made inside one yrs transaction.
pub struct Edit<'t> {
    txn: TransactionMut<'t>,
    roots: HashMap<&'static str, MapRef>,
    touched: Vec<(&'static str, String)>,
}

pub(super) fn atomic_value(fields: &[Set]) -> Any {
    let m: HashMap<String, Any> = fields
        .iter()
        .map(|f| (f.name().to_string(), f.val().to_any()))
        .collect();
    Any::from(m)
}

impl Edit<'_> {
    /// Projects and checks the records touched since the last call (`project`), and
    /// forgets them.
    fn project_touched(
        &mut self,
        conn: &Connection,
        at: (&DocRef, &Who),
        roles: rules::Roles,
    ) -> Result<Vec<Change>, AppError> {
        let mut touched = std::mem::take(&mut self.touched);
        touched.sort_unstable();
        touched.dedup();
        let roots = &self.roots;
        project_as(
            conn,
            &self.txn,
            at,
            roles,
            &touched,
            |table| roots.get(table).ok_or_else(|| AppError::internal("no root")),
            misfit,
        )
    }

    /// The table's root in this document; refuses a table of another kind of document and
    /// a field of another table (fields are typed per table, `record::Field`, but one table's
    /// field could still be handed to another's edit).
    fn root(&self, spec: &'static TableSpec, fields: &[Set]) -> Result<MapRef, AppError> {
        let table = spec.name;
        if let Some(f) = fields
            .iter()
            .find(|f| f.table() != table || !spec.cols.iter().any(|(n, _)| *n == f.name()))
        {
            return Err(AppError::internal(format!(
                "table {table} has no field {} (it is {}'s)",
                f.name(),
                f.table()
            )));
        }
        self.roots
            .get(table)
            .cloned()
            .ok_or_else(|| AppError::internal(format!("table {table} is not in this document")))
    }

    /// Creates a record. Only its creator ever creates a record under its UUID v7 key.
    pub fn create(&mut self, spec: &'static TableSpec, id: &str, fields: &[Set]) -> Result<(), AppError> {
        let root = self.root(spec, fields)?;
        if root.get(&self.txn, id).is_some() {
            return Err(AppError::internal(format!("record {}/{id} exists", spec.name)));
        }
        match spec.shape {
            Shape::Fields => {
                let prelim: MapPrelim = fields
                    .iter()
                    .map(|f| (f.name().to_string(), f.val().to_any()))
                    .collect();
                root.insert(&mut self.txn, id.to_string(), prelim);
            }
            Shape::Atomic => {
                root.insert(&mut self.txn, id.to_string(), atomic_value(fields));
            }
        }
        self.touched.push((spec.name, id.to_string()));
        Ok(())
    }

    /// Writes an atomic record whole, whether or not it exists: for link records whose key
    /// is derived from what they link (`{issue}:{user}`), so two devices adding the same
    /// link write the same key and yrs keeps one value.
    pub fn put(&mut self, spec: &'static TableSpec, id: &str, fields: &[Set]) -> Result<(), AppError> {
        let root = self.root(spec, fields)?;
        if spec.shape != Shape::Atomic {
            return Err(AppError::internal(format!("put on field-shaped table {}", spec.name)));
        }
        root.insert(&mut self.txn, id.to_string(), atomic_value(fields));
        self.touched.push((spec.name, id.to_string()));
        Ok(())
    }

    /// Sets fields of an existing record. A field-shaped record changes only those fields,
    /// so concurrent edits of different fields merge; an atomic record is replaced whole
    /// by its current value with these fields changed.
    pub fn set(&mut self, spec: &'static TableSpec, id: &str, fields: &[Set]) -> Result<(), AppError> {
        let root = self.root(spec, fields)?;
        match (root.get(&self.txn, id), spec.shape) {
            (Some(Out::YMap(rec)), Shape::Fields) => {
                for f in fields {
                    rec.insert(&mut self.txn, f.name().to_string(), f.val().to_any());
                }
            }
            (Some(Out::Any(Any::Map(cur))), Shape::Atomic) => {
                let mut m: HashMap<String, Any> = cur.as_ref().clone();
                for f in fields {
                    m.insert(f.name().to_string(), f.val().to_any());
                }
                root.insert(&mut self.txn, id.to_string(), Any::from(m));
            }
            _ => return Err(AppError::internal(format!("record {}/{id} missing", spec.name))),
        }
        self.touched.push((spec.name, id.to_string()));
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

pub(super) fn any_to_val(a: &Any, ty: Col) -> Val {
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
            .copied()
            .filter(|t| t.kind == d.kind)
            .map(|t| (t.name, loaded.doc.get_or_insert_map(t.name)))
            .collect();
        let mut edit = Edit {
            txn: loaded.doc.transact_mut(),
            roots,
            touched: Vec::new(),
        };
        let out = f(&mut edit)?;
        if edit.touched.is_empty() {
            return Ok(out);
        }
        // The changes are projected and checked while the transaction is open, so the
        // records that follow from them (`rules::FOLLOWERS`: an issue's history) go into the
        // same yrs update and the same SQLite transaction, checked with the same roles.
        let roles = rules::roles_before(conn, d, who)?;
        let mut changes = edit.project_touched(conn, (d, who), roles.clone())?;
        let derived: Vec<rules::Derived> = rules::FOLLOWERS.iter().flat_map(|f| f(who, d, &changes)).collect();
        if !derived.is_empty() {
            for r in &derived {
                if r.put {
                    edit.put(r.spec, &r.id, &r.fields)?;
                } else {
                    edit.create(r.spec, &r.id, &r.fields)?;
                }
            }
            changes.extend(edit.project_touched(conn, (d, who), roles)?);
        }
        let update = edit.txn.encode_update_v1();
        let state_vector = edit.txn.state_vector().encode_v1();
        drop(edit);
        let seq = store::append_update(conn, &d.id, &update)?;
        loaded.log_len += 1;
        store::set_doc_state(conn, &d.id, &state_vector, seq, true)?;
        let rtxn = loaded.doc.transact();
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
