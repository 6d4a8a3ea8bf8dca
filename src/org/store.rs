//! SQL of departments.

use rusqlite::{Connection, OptionalExtension};

/// One live department as stored (its level is computed from the tree, `super::tree`).
#[derive(Debug, Clone)]
pub(crate) struct DeptRow {
    pub id: String,
    pub workspace_id: String,
    pub name: String,
    pub code: String,
    pub short_name: String,
    pub dept_code: String,
    pub parent_id: Option<String>,
    pub manager_id: Option<String>,
    pub manager_name: Option<String>,
    pub linked_project_id: Option<String>,
    pub is_active: bool,
    pub sort_order: i64,
    pub created_at: String,
    pub updated_at: String,
}

const COLS: &str = "d.id, d.workspace_id, d.name, d.code, d.short_name, d.dept_code, d.parent_id, d.manager_id,
     u.display_name, d.linked_project_id, d.is_active, d.sort_order, d.created_at, d.updated_at";

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<DeptRow> {
    Ok(DeptRow {
        id: r.get("id")?,
        workspace_id: r.get("workspace_id")?,
        name: r.get("name")?,
        code: r.get("code")?,
        short_name: r.get("short_name")?,
        dept_code: r.get("dept_code")?,
        parent_id: r.get("parent_id")?,
        manager_id: r.get("manager_id")?,
        manager_name: r.get("display_name")?,
        linked_project_id: r.get("linked_project_id")?,
        is_active: r.get::<_, i64>("is_active")? != 0,
        sort_order: r.get("sort_order")?,
        created_at: r.get("created_at")?,
        updated_at: r.get("updated_at")?,
    })
}

/// What the tree's shape needs of a department: where it hangs and how it sorts.
#[derive(Debug, Clone)]
pub(crate) struct PlaceRow {
    pub id: String,
    pub parent_id: Option<String>,
    pub name: String,
    pub sort_order: i64,
}

/// Every live department of a workspace, as much as its place in the tree needs.
pub(crate) fn places(c: &Connection, ws: &str) -> rusqlite::Result<Vec<PlaceRow>> {
    let mut stmt = c.prepare_cached(
        "SELECT id, parent_id, name, sort_order FROM departments WHERE workspace_id = ?1 AND deleted_at IS NULL",
    )?;
    let rows = stmt
        .query_map([ws], |r| {
            Ok(PlaceRow {
                id: r.get("id")?,
                parent_id: r.get("parent_id")?,
                name: r.get("name")?,
                sort_order: r.get("sort_order")?,
            })
        })?
        .collect();
    rows
}

/// Every live department of a workspace.
pub(crate) fn live(c: &Connection, ws: &str) -> rusqlite::Result<Vec<DeptRow>> {
    let mut stmt = c.prepare_cached(&format!(
        "SELECT {COLS} FROM departments d LEFT JOIN users u ON u.id = d.manager_id
         WHERE d.workspace_id = ?1 AND d.deleted_at IS NULL"
    ))?;
    let rows = stmt.query_map([ws], row)?.collect();
    rows
}

pub(crate) fn department(c: &Connection, ws: &str, id: &str) -> rusqlite::Result<Option<DeptRow>> {
    c.prepare_cached(&format!(
        "SELECT {COLS} FROM departments d LEFT JOIN users u ON u.id = d.manager_id
         WHERE d.workspace_id = ?1 AND d.id = ?2 AND d.deleted_at IS NULL"
    ))?
    .query_row([ws, id], row)
    .optional()
}

pub(crate) fn is_live(c: &Connection, ws: &str, id: &str) -> rusqlite::Result<bool> {
    c.prepare_cached("SELECT 1 FROM departments WHERE workspace_id = ?1 AND id = ?2 AND deleted_at IS NULL")?
        .exists([ws, id])
}

/// Whether another live department of the workspace has `value` in `field` (`code`,
/// `short_name` or `dept_code`; codes compare without case).
pub(crate) fn taken(c: &Connection, ws: &str, field: &str, value: &str, except: &str) -> rusqlite::Result<bool> {
    let col = match field {
        "code" => "code",
        "short_name" => "short_name",
        _ => "dept_code",
    };
    c.prepare_cached(&format!(
        "SELECT 1 FROM departments WHERE workspace_id = ?1 AND deleted_at IS NULL AND id <> ?3
         AND {col} = ?2 COLLATE NOCASE"
    ))?
    .exists([ws, value, except])
}

pub(crate) fn live_children(c: &Connection, ws: &str, id: &str) -> rusqlite::Result<Vec<String>> {
    let mut stmt = c.prepare_cached(
        "SELECT id FROM departments WHERE workspace_id = ?1 AND parent_id = ?2 AND deleted_at IS NULL
         ORDER BY sort_order, id",
    )?;
    let rows = stmt.query_map([ws, id], |r| r.get(0))?.collect();
    rows
}

/// The departments above `id`, nearest first, and whether the walk came back to a
/// department it had seen (a cycle).
pub(crate) struct Ancestors {
    pub ids: Vec<String>,
    pub cycle: bool,
}

pub(crate) fn ancestors(c: &Connection, ws: &str, id: &str) -> rusqlite::Result<Ancestors> {
    let mut stmt = c.prepare_cached(
        "SELECT parent_id FROM departments WHERE workspace_id = ?1 AND id = ?2 AND deleted_at IS NULL",
    )?;
    let mut ids: Vec<String> = Vec::new();
    let mut at = id.to_string();
    loop {
        let parent: Option<String> = stmt.query_row([ws, at.as_str()], |r| r.get(0)).optional()?.flatten();
        let Some(p) = parent else {
            return Ok(Ancestors { ids, cycle: false });
        };
        if p == id || ids.contains(&p) {
            return Ok(Ancestors { ids, cycle: true });
        }
        ids.push(p.clone());
        at = p;
    }
}

/// Levels of the subtree under `id`, itself included (1 for a department without children).
/// Counted a little past the deepest allowed level, which is all a check needs.
pub(crate) fn height(c: &Connection, ws: &str, id: &str) -> rusqlite::Result<i64> {
    c.prepare_cached(
        "WITH RECURSIVE sub(id, depth) AS (
           SELECT ?2, 1
           UNION ALL
           SELECT d.id, s.depth + 1 FROM departments d JOIN sub s ON d.parent_id = s.id
           WHERE d.workspace_id = ?1 AND d.deleted_at IS NULL AND s.depth < 8
         ) SELECT MAX(depth) FROM sub",
    )?
    .query_row([ws, id], |r| r.get(0))
}

/// The next sort position among the live children of `parent` (roots for `None`).
pub(crate) fn next_sort_order(c: &Connection, ws: &str, parent: Option<&str>) -> rusqlite::Result<i64> {
    c.prepare_cached(
        "SELECT COALESCE(MAX(sort_order), 0) + 1 FROM departments
         WHERE workspace_id = ?1 AND deleted_at IS NULL AND parent_id IS ?2",
    )?
    .query_row(rusqlite::params![ws, parent], |r| r.get(0))
}

/// Whether another live staff record of the workspace has this staff id (without case).
pub(crate) fn staff_id_taken(c: &Connection, ws: &str, staff_id: &str, except: &str) -> rusqlite::Result<bool> {
    c.prepare_cached(
        "SELECT 1 FROM staff_profiles WHERE workspace_id = ?1 AND deleted_at IS NULL AND id <> ?3
         AND staff_id = ?2 COLLATE NOCASE",
    )?
    .exists([ws, staff_id, except])
}

/// People working in department `id` now (live records of a current status).
pub(crate) fn current_staff_in(c: &Connection, ws: &str, id: &str) -> rusqlite::Result<i64> {
    c.prepare_cached(
        "SELECT COUNT(*) FROM staff_profiles WHERE workspace_id = ?1 AND department_id = ?2
         AND deleted_at IS NULL AND employment_status IN ('active', 'probation', 'suspended')",
    )?
    .query_row([ws, id], |r| r.get(0))
}

/// One staff record as stored, with its person, its department's name and (for admins'
/// answers; the service drops them for others) the private fields.
#[derive(Debug, Clone)]
pub(crate) struct StaffRow {
    pub id: String,
    pub workspace_id: String,
    pub user_id: String,
    pub display_name: String,
    pub email: String,
    pub staff_id: String,
    pub department_id: Option<String>,
    pub department_name: Option<String>,
    pub department_code: Option<String>,
    pub position: String,
    pub date_of_joining: Option<String>,
    pub date_of_leaving: Option<String>,
    pub employment_status: String,
    pub is_department_manager: bool,
    pub phone: String,
    pub job_grade: String,
    pub notes: String,
    pub created_at: String,
    pub updated_at: String,
}

const STAFF_FROM: &str = "FROM staff_profiles s LEFT JOIN users u ON u.id = s.user_id
     LEFT JOIN departments d ON d.id = s.department_id AND d.deleted_at IS NULL
     LEFT JOIN staff_private p ON p.id = s.id AND p.deleted_at IS NULL";

const STAFF_COLS: &str = "s.id, s.workspace_id, s.user_id, COALESCE(u.display_name, '') AS display_name,
     COALESCE(u.email, '') AS email, s.staff_id, s.department_id,
     d.name AS department_name, d.code AS department_code, s.position, s.date_of_joining, s.date_of_leaving, s.employment_status,
     s.is_department_manager, COALESCE(p.phone, '') AS phone, COALESCE(p.job_grade, '') AS job_grade,
     COALESCE(p.notes, '') AS notes, s.created_at, s.updated_at";

fn staff_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<StaffRow> {
    Ok(StaffRow {
        id: r.get("id")?,
        workspace_id: r.get("workspace_id")?,
        user_id: r.get("user_id")?,
        display_name: r.get("display_name")?,
        email: r.get("email")?,
        staff_id: r.get("staff_id")?,
        department_id: r.get("department_id")?,
        department_name: r.get("department_name")?,
        department_code: r.get("department_code")?,
        position: r.get("position")?,
        date_of_joining: r.get("date_of_joining")?,
        date_of_leaving: r.get("date_of_leaving")?,
        employment_status: r.get("employment_status")?,
        is_department_manager: r.get::<_, i64>("is_department_manager")? != 0,
        phone: r.get("phone")?,
        job_grade: r.get("job_grade")?,
        notes: r.get("notes")?,
        created_at: r.get("created_at")?,
        updated_at: r.get("updated_at")?,
    })
}

/// The live staff record of `user` in workspace `ws`.
pub(crate) fn staff_of(c: &Connection, ws: &str, user: &str) -> rusqlite::Result<Option<StaffRow>> {
    c.prepare_cached(&format!(
        "SELECT {STAFF_COLS} {STAFF_FROM} WHERE s.id = ?1 AND s.deleted_at IS NULL"
    ))?
    .query_row([super::records::staff_key(ws, user)], staff_row)
    .optional()
}

/// Whether a staff record of `user` exists, live or deleted (a deleted one is made again
/// under the same key).
pub(crate) fn staff_exists(c: &Connection, ws: &str, user: &str) -> rusqlite::Result<Option<bool>> {
    c.prepare_cached("SELECT deleted_at IS NULL FROM staff_profiles WHERE id = ?1")?
        .query_row([super::records::staff_key(ws, user)], |r| r.get(0))
        .optional()
}

/// Whether the private record of `id` exists (live or not).
pub(crate) fn private_exists(c: &Connection, id: &str) -> rusqlite::Result<bool> {
    c.prepare_cached("SELECT 1 FROM staff_private WHERE id = ?1")?
        .exists([id])
}

/// What a staff list selects: departments (ids; `""` for none, or one deleted since),
/// statuses, and text to find in name, email, staff id or position (any case). Only the
/// filters given become SQL, so each list's statement can use its index.
#[derive(Default)]
pub(crate) struct StaffWhere {
    pub departments: Option<Vec<String>>,
    pub statuses: Option<Vec<String>>,
    pub search: Option<String>,
}

/// A search's full-text matches (V016), found once per list: their row ids, and whether
/// they lead the list's statements.
pub(crate) struct Matches {
    json: String,
    lead: bool,
}

impl Matches {
    /// The records holding `q` (three characters or more) in any of the four fields, as
    /// one phrase (quotes doubled), without case. The index spans every workspace of the
    /// instance, so the matches lead only when they are fewer than the workspace's own
    /// records; else the workspace's index leads and each record is tested against them.
    fn find(c: &Connection, ws: &str, q: &str) -> rusqlite::Result<Self> {
        let ids: Vec<i64> = c
            .prepare_cached("SELECT rowid FROM staff_search WHERE staff_search MATCH ?1")?
            .query_map([format!("\"{}\"", q.replace('"', "\"\""))], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        let live: i64 = c
            .prepare_cached("SELECT COUNT(*) FROM staff_profiles WHERE workspace_id = ?1 AND deleted_at IS NULL")?
            .query_row([ws], |r| r.get(0))?;
        Ok(Self {
            lead: ids.len() as i64 <= live,
            json: serde_json::to_string(&ids).unwrap_or_else(|_| "[]".into()),
        })
    }
}

impl StaffWhere {
    /// Whether the search goes to the full-text index (trigrams need three characters).
    fn full_text(&self) -> Option<&str> {
        self.search.as_deref().filter(|q| q.chars().count() >= 3)
    }

    fn sql(&self, ws: &str, matches: Option<&Matches>) -> (String, Vec<rusqlite::types::Value>) {
        use rusqlite::types::Value;
        // Matches that lead: the unary `+` keeps SQLite from walking every record of the
        // workspace by index to test each against them (5 ms at 10,000 records, against
        // 2 ms for looking up 2,500 matches by row id).
        let lead = if matches.is_some_and(|m| m.lead) { "+" } else { "" };
        let mut cond = format!("WHERE {lead}s.workspace_id = ?1 AND s.deleted_at IS NULL");
        let mut ps = vec![Value::Text(ws.to_string())];
        let json = |v: &[String]| Value::Text(serde_json::to_string(v).unwrap_or_else(|_| "[]".into()));
        if let Some(ds) = &self.departments {
            let ids: Vec<String> = ds.iter().filter(|d| !d.is_empty()).cloned().collect();
            let mut any: Vec<String> = Vec::new();
            if !ids.is_empty() {
                ps.push(json(&ids));
                any.push(format!(
                    "s.department_id IN (SELECT value FROM json_each(?{}))",
                    ps.len()
                ));
            }
            if ds.iter().any(String::is_empty) {
                any.push("s.department_id IS NULL OR d.id IS NULL".into());
            }
            if any.is_empty() {
                any.push("0".into());
            }
            cond.push_str(&format!(" AND ({})", any.join(" OR ")));
        }
        if let Some(st) = &self.statuses {
            ps.push(json(st));
            cond.push_str(&format!(
                " AND s.employment_status IN (SELECT value FROM json_each(?{}))",
                ps.len()
            ));
        }
        if let Some(q) = &self.search {
            if let Some(m) = matches {
                ps.push(Value::Text(m.json.clone()));
                cond.push_str(&format!(" AND s.rowid IN (SELECT value FROM json_each(?{}))", ps.len()));
            } else {
                // Trigrams cannot find one or two characters: LIKE compares every record
                // (ignoring ASCII case), the pattern's own wildcards escaped.
                let escaped: String = q
                    .chars()
                    .flat_map(|ch| match ch {
                        '%' | '_' | '\\' => vec!['\\', ch],
                        _ => vec![ch],
                    })
                    .collect();
                ps.push(Value::Text(format!("%{escaped}%")));
                let n = ps.len();
                cond.push_str(&format!(
                    " AND (s.staff_id LIKE ?{n} ESCAPE '\\' OR s.position LIKE ?{n} ESCAPE '\\'
                      OR u.display_name LIKE ?{n} ESCAPE '\\' OR u.email LIKE ?{n} ESCAPE '\\')"
                ));
            }
        }
        (cond, ps)
    }
}

/// One page of staff records in `order` (an `ORDER BY` the service picked from its list),
/// and how many match. The page's rows are picked first, joining only the tables the
/// filters and the order need; only the page's records are then read whole (reading every
/// match with its person, department and private fields before sorting cost 20 ms at
/// 10,000 staff).
pub(crate) fn staff_page(
    c: &Connection,
    ws: &str,
    w: &StaffWhere,
    order: &str,
    limit: i64,
    offset: i64,
) -> rusqlite::Result<(Vec<StaffRow>, i64)> {
    let matches = match w.full_text() {
        Some(q) => Some(Matches::find(c, ws, q)?),
        None => None,
    };
    let (cond, mut ps) = w.sql(ws, matches.as_ref());
    // SQLite keeps a LEFT JOIN nobody reads (8 ms of a 3 ms count at 3,000 matches), so
    // the count joins what the filters read, and the page what they and the order read.
    let from = |needs: &str| {
        let mut from = String::from("FROM staff_profiles s");
        if needs.contains("u.") {
            from.push_str(" LEFT JOIN users u ON u.id = s.user_id");
        }
        if needs.contains("d.") {
            from.push_str(" LEFT JOIN departments d ON d.id = s.department_id AND d.deleted_at IS NULL");
        }
        from
    };
    let total = c
        .prepare_cached(&format!("SELECT COUNT(*) {} {cond}", from(&cond)))?
        .query_row(rusqlite::params_from_iter(ps.iter()), |r| r.get(0))?;
    let from = from(&format!("{cond} {order}"));
    let n = ps.len();
    ps.push(rusqlite::types::Value::Integer(limit));
    ps.push(rusqlite::types::Value::Integer(offset));
    // Row ids, not record keys: every index holds the row id, so a list by department
    // reads its page from the department index alone (V016).
    let picked: Vec<i64> = c
        .prepare_cached(&format!(
            "SELECT s.rowid {from} {cond} ORDER BY {order}, s.user_id LIMIT ?{} OFFSET ?{}",
            n + 1,
            n + 2
        ))?
        .query_map(rusqlite::params_from_iter(ps.iter()), |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let json = serde_json::to_string(&picked).unwrap_or_else(|_| "[]".into());
    let mut rows: Vec<(i64, StaffRow)> = c
        .prepare_cached(&format!(
            "SELECT s.rowid AS staff_rowid, {STAFF_COLS} {STAFF_FROM}
             WHERE s.rowid IN (SELECT value FROM json_each(?1))"
        ))?
        .query_map([json], |r| Ok((r.get("staff_rowid")?, staff_row(r)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let at: std::collections::HashMap<i64, usize> = picked.iter().enumerate().map(|(i, id)| (*id, i)).collect();
    rows.sort_by_key(|(id, _)| at.get(id).copied().unwrap_or(usize::MAX));
    let rows: Vec<StaffRow> = rows.into_iter().map(|(_, r)| r).collect();
    Ok((rows, total))
}

/// Live staff records per (department, status); `None` for people in no department.
pub(crate) fn staff_counts(c: &Connection, ws: &str) -> rusqlite::Result<Vec<(Option<String>, String, i64)>> {
    let mut stmt = c.prepare_cached(
        "SELECT department_id, employment_status, COUNT(*) AS staff_count FROM staff_profiles
         WHERE workspace_id = ?1 AND deleted_at IS NULL GROUP BY department_id, employment_status",
    )?;
    let rows = stmt
        .query_map([ws], |r| {
            Ok((
                r.get("department_id")?,
                r.get("employment_status")?,
                r.get("staff_count")?,
            ))
        })?
        .collect();
    rows
}

/// The people with a live staff record of a current status in department `id`.
pub(crate) fn current_staff_of(c: &Connection, ws: &str, id: &str) -> rusqlite::Result<Vec<String>> {
    let mut stmt = c.prepare_cached(
        "SELECT user_id FROM staff_profiles WHERE workspace_id = ?1 AND department_id = ?2
         AND deleted_at IS NULL AND employment_status IN ('active', 'probation', 'suspended') ORDER BY user_id",
    )?;
    let rows = stmt.query_map([ws, id], |r| r.get(0))?.collect();
    rows
}

/// One transfer, with the names of the departments (if they still exist) and its author.
#[derive(Debug, Clone)]
pub(crate) struct TransferRow {
    pub id: String,
    pub user_id: String,
    pub from_department_id: Option<String>,
    pub from_department_name: Option<String>,
    pub to_department_id: Option<String>,
    pub to_department_name: Option<String>,
    pub effective_date: String,
    pub reason: String,
    pub created_at: String,
    pub created_by: Option<String>,
    pub created_by_name: Option<String>,
}

pub(crate) fn transfers_of(c: &Connection, ws: &str, user: &str) -> rusqlite::Result<Vec<TransferRow>> {
    let mut stmt = c.prepare_cached(
        "SELECT t.id, t.user_id, t.from_department_id, f.name AS from_name, t.to_department_id,
                d.name AS to_name, t.effective_date, t.reason, t.created_at, t.created_by,
                u.display_name AS author
         FROM staff_transfers t
         LEFT JOIN departments f ON f.id = t.from_department_id
         LEFT JOIN departments d ON d.id = t.to_department_id
         LEFT JOIN users u ON u.id = t.created_by
         WHERE t.workspace_id = ?1 AND t.user_id = ?2 AND t.deleted_at IS NULL
         ORDER BY t.effective_date DESC, t.created_at DESC, t.id DESC",
    )?;
    let rows = stmt
        .query_map([ws, user], |r| {
            Ok(TransferRow {
                id: r.get("id")?,
                user_id: r.get("user_id")?,
                from_department_id: r.get("from_department_id")?,
                from_department_name: r.get("from_name")?,
                to_department_id: r.get("to_department_id")?,
                to_department_name: r.get("to_name")?,
                effective_date: r.get("effective_date")?,
                reason: r.get("reason")?,
                created_at: r.get("created_at")?,
                created_by: r.get("created_by")?,
                created_by_name: r.get("author")?,
            })
        })?
        .collect();
    rows
}

/// Members of a workspace by email (lower case), for imports: (email, user id).
pub(crate) fn members_by_email(c: &Connection, ws: &str) -> rusqlite::Result<Vec<(String, String)>> {
    let mut stmt = c.prepare_cached(
        "SELECT lower(u.email) AS email, u.id FROM workspace_members m JOIN users u ON u.id = m.user_id
         WHERE m.workspace_id = ?1 AND m.deleted_at IS NULL",
    )?;
    let rows = stmt.query_map([ws], |r| Ok((r.get("email")?, r.get("id")?)))?.collect();
    rows
}

/// Every live staff record's (staff id, user id), for imports.
pub(crate) fn staff_ids(c: &Connection, ws: &str) -> rusqlite::Result<Vec<(String, String)>> {
    let mut stmt = c.prepare_cached(
        "SELECT staff_id, user_id FROM staff_profiles WHERE workspace_id = ?1 AND deleted_at IS NULL",
    )?;
    let rows = stmt
        .query_map([ws], |r| Ok((r.get("staff_id")?, r.get("user_id")?)))?
        .collect();
    rows
}

/// People whose staff record in the workspace is deleted.
pub(crate) fn deleted_staff(c: &Connection, ws: &str) -> rusqlite::Result<Vec<String>> {
    let mut stmt =
        c.prepare_cached("SELECT user_id FROM staff_profiles WHERE workspace_id = ?1 AND deleted_at IS NOT NULL")?;
    let rows = stmt.query_map([ws], |r| r.get(0))?.collect();
    rows
}

/// What the rules of a staff record need of a person's live record.
pub(crate) struct ProfileFacts {
    pub staff_id: String,
    pub department_id: Option<String>,
    pub status: String,
    pub manager: bool,
}

pub(crate) fn profile_facts(c: &Connection, ws: &str, user: &str) -> rusqlite::Result<Option<ProfileFacts>> {
    c.prepare_cached(
        "SELECT department_id, employment_status, staff_id, is_department_manager FROM staff_profiles
         WHERE id = ?1 AND deleted_at IS NULL",
    )?
    .query_row([super::records::staff_key(ws, user)], |r| {
        Ok(ProfileFacts {
            department_id: r.get("department_id")?,
            status: r.get("employment_status")?,
            staff_id: r.get("staff_id")?,
            manager: r.get::<_, i64>("is_department_manager")? != 0,
        })
    })
    .optional()
}

/// People flagged as their department's manager, with a current status: (department, user).
pub(crate) fn flagged_managers(c: &Connection, ws: &str) -> rusqlite::Result<Vec<(String, String)>> {
    let mut stmt = c.prepare_cached(
        "SELECT department_id, user_id FROM staff_profiles
         WHERE workspace_id = ?1 AND deleted_at IS NULL AND is_department_manager = 1
         AND department_id IS NOT NULL AND employment_status IN ('active', 'probation', 'suspended')",
    )?;
    let rows = stmt
        .query_map([ws], |r| Ok((r.get("department_id")?, r.get("user_id")?)))?
        .collect();
    rows
}

/// People whose live staff record says they no longer work here.
pub(crate) fn former_staff(c: &Connection, ws: &str) -> rusqlite::Result<Vec<String>> {
    let mut stmt = c.prepare_cached(
        "SELECT user_id FROM staff_profiles WHERE workspace_id = ?1 AND deleted_at IS NULL
         AND employment_status NOT IN ('active', 'probation', 'suspended')",
    )?;
    let rows = stmt.query_map([ws], |r| r.get(0))?.collect();
    rows
}

/// Names of a workspace's departments (deleted ones too), by id.
pub(crate) fn department_names(c: &Connection, ws: &str) -> rusqlite::Result<Vec<(String, String)>> {
    let mut stmt = c.prepare_cached("SELECT id, name FROM departments WHERE workspace_id = ?1")?;
    let rows = stmt.query_map([ws], |r| Ok((r.get("id")?, r.get("name")?)))?.collect();
    rows
}

/// Every live staff record's current department, and every transfer in date order:
/// (user, current department) and (user, effective date, from, to).
pub(crate) type Transfers = Vec<(String, String, Option<String>, Option<String>)>;

/// (user, department the record names now).
pub(crate) type Current = Vec<(String, Option<String>)>;

pub(crate) fn assignments(c: &Connection, ws: &str) -> rusqlite::Result<(Current, Transfers)> {
    let mut stmt = c.prepare_cached(
        "SELECT user_id, department_id FROM staff_profiles WHERE workspace_id = ?1 AND deleted_at IS NULL",
    )?;
    let current = stmt
        .query_map([ws], |r| Ok((r.get("user_id")?, r.get("department_id")?)))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let mut stmt = c.prepare_cached(
        "SELECT user_id, effective_date, from_department_id, to_department_id FROM staff_transfers
         WHERE workspace_id = ?1 AND deleted_at IS NULL ORDER BY user_id, effective_date, created_at, id",
    )?;
    let moves = stmt
        .query_map([ws], |r| {
            Ok((
                r.get("user_id")?,
                r.get("effective_date")?,
                r.get("from_department_id")?,
                r.get("to_department_id")?,
            ))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok((current, moves))
}

/// Whether someone other than `user` working in department `d` now is flagged its manager.
pub(crate) fn flagged_manager_other_than(c: &Connection, ws: &str, d: &str, user: &str) -> rusqlite::Result<bool> {
    c.prepare_cached(
        "SELECT 1 FROM staff_profiles WHERE workspace_id = ?1 AND department_id = ?2 AND user_id <> ?3
         AND deleted_at IS NULL AND is_department_manager = 1
         AND employment_status IN ('active', 'probation', 'suspended')",
    )?
    .exists([ws, d, user])
}

/// Every live staff record as the merge repairs see it.
pub(crate) fn staff_facts(c: &Connection, ws: &str) -> rusqlite::Result<Vec<super::merges::Person>> {
    let mut stmt = c.prepare_cached(
        "SELECT id, staff_id, department_id, employment_status IN ('active', 'probation', 'suspended') AS is_current,
                is_department_manager
         FROM staff_profiles WHERE workspace_id = ?1 AND deleted_at IS NULL",
    )?;
    let rows = stmt
        .query_map([ws], |r| {
            Ok(super::merges::Person {
                key: r.get("id")?,
                staff_id: r.get("staff_id")?,
                department_id: r.get("department_id")?,
                current: r.get("is_current")?,
                manager: r.get::<_, i64>("is_department_manager")? != 0,
            })
        })?
        .collect();
    rows
}

/// The fields of the staff record waiting for invitation `inv`, if any.
pub(crate) fn pending_staff(c: &Connection, ws: &str, inv: &str) -> rusqlite::Result<Option<String>> {
    c.prepare_cached("SELECT data FROM staff_pending WHERE workspace_id = ?1 AND id = ?2 AND deleted_at IS NULL")?
        .query_row([ws, inv], |r| r.get(0))
        .optional()
}

/// Whether a resolved conflict is recorded under `key` already.
pub(crate) fn conflict_recorded(c: &Connection, key: &str) -> rusqlite::Result<bool> {
    c.prepare_cached("SELECT 1 FROM org_conflicts WHERE id = ?1")?
        .exists([key])
}

/// The version of a workspace's organisation (V017): it moves with every change of what
/// the department tree shows. 0 before its first department or staff record.
pub(crate) fn org_version(c: &Connection, ws: &str) -> rusqlite::Result<i64> {
    Ok(
        c.prepare_cached("SELECT version FROM org_versions WHERE workspace_id = ?1")?
            .query_row([ws], |r| r.get(0))
            .optional()?
            .unwrap_or(0),
    )
}
