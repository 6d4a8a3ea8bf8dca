//! The organisation of a workspace (seed 003): departments in a tree of at most five
//! levels. Departments live in the workspace document (admin-write, DESIGN §4); their
//! rules are record rules (`records.rs`), so they hold for the API and for a device alike.
//! A department's level is computed from the tree, never stored or taken from input.

mod csv;
mod import;
mod managers;
mod merges;
pub mod records;
pub(crate) mod routes;
mod staff;
pub(crate) mod store;

pub use import::{ImportReport, Invited, RowAction, RowPlan};
pub use managers::{department_names, reconcile as reconcile_managers};
pub use merges::resolve as resolve_merges;
pub use staff::{
    DepartmentCount, Staff, StaffFilter, StaffInput, StaffSort, StaffStats, StaffView, StatusCount, TransferView,
};

use std::collections::HashMap;
use std::sync::Arc;

use bytes::Bytes;

use serde::Serialize;
use utoipa::ToSchema;

use crate::docs::{DocRef, Set, Val, Who};
use crate::error::{AppError, Checks};
use crate::http::{Page, PageParams};
use crate::org::records::{departments, staff_pending, staff_profiles};
use crate::time::now_rfc3339;
use crate::workspaces::WsCtx;
use crate::App;
use store::DeptRow;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DepartmentView {
    pub id: String,
    pub workspace_id: String,
    pub name: String,
    /// Unique among the workspace's live departments (without case).
    pub code: String,
    /// Upper case, unique among the workspace's live departments.
    pub short_name: String,
    /// Four digits, unique among the workspace's live departments.
    pub dept_code: String,
    /// `null` for a root department.
    pub parent_id: Option<String>,
    /// 1 for a root, at most 5; follows from the tree.
    pub level: i64,
    pub manager_id: Option<String>,
    pub manager_name: Option<String>,
    pub linked_project_id: Option<String>,
    pub is_active: bool,
    /// Position among its siblings.
    pub sort_order: i64,
    /// Live departments directly below it.
    pub children_count: i64,
    /// People working in it now (active, on probation or suspended), sub-departments aside.
    pub staff_count: i64,
    pub created_at: String,
    pub updated_at: String,
}

/// A department with its sub-departments, in order.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DepartmentNode {
    #[serde(flatten)]
    pub department: DepartmentView,
    /// Departments in its subtree, itself excluded.
    pub descendants: i64,
    /// People working in it or any department below it now.
    pub subtree_staff_count: i64,
    #[schema(no_recursion)]
    pub children: Vec<DepartmentNode>,
}

/// A department's fields as a request gives them; `None` leaves a field as it is (a PATCH)
/// or at its default (a create). The three nullable ids take `Some(None)` to clear them.
#[derive(Debug, Clone, Default)]
pub struct DepartmentInput {
    pub name: Option<String>,
    pub code: Option<String>,
    pub short_name: Option<String>,
    pub dept_code: Option<String>,
    pub parent_id: Option<Option<String>>,
    pub manager_id: Option<Option<String>>,
    pub linked_project_id: Option<Option<String>>,
    pub is_active: Option<bool>,
    pub sort_order: Option<i64>,
}

impl DepartmentInput {
    /// Checks the fields given (all of them, naming each bad one); `whole` (a create or a
    /// PUT) needs name, code, short name and department code.
    pub fn check(mut self, whole: bool) -> Result<Self, AppError> {
        let mut c = Checks::new();
        if let Some(n) = &self.name {
            self.name = c.take("name", crate::workspaces::parse_name(n, 255));
        }
        if let Some(v) = &self.code {
            let v = v.trim().to_string();
            if !records::valid_code(&v) {
                c.add("code", "must be 1 to 20 letters, digits, - or _");
            }
            self.code = Some(v);
        }
        if let Some(v) = &self.short_name {
            let v = v.trim().to_uppercase();
            if !records::valid_short_name(&v) {
                c.add("short_name", "must be 1 to 10 letters or digits (kept in upper case)");
            }
            self.short_name = Some(v);
        }
        if let Some(v) = &self.dept_code {
            let v = v.trim().to_string();
            if !records::valid_dept_code(&v) {
                c.add("dept_code", "must be exactly 4 digits");
            }
            self.dept_code = Some(v);
        }
        if whole {
            for (f, v) in [
                ("name", self.name.is_some()),
                ("code", self.code.is_some()),
                ("short_name", self.short_name.is_some()),
                ("dept_code", self.dept_code.is_some()),
            ] {
                if !v {
                    c.add(f, "is required");
                }
            }
        }
        if self.sort_order.is_some_and(|s| !(0..=1_000_000_000).contains(&s)) {
            c.add("sort_order", "must be between 0 and 1000000000");
        }
        c.finish()?;
        Ok(self)
    }
}

/// Where a deleted department's children go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChildrenTo {
    Root,
    Department(String),
}

/// Which departments a list answers.
#[derive(Debug, Clone, Default)]
pub struct DepartmentFilter {
    /// Children of this department (`Some(None)`: the roots).
    pub parent: Option<Option<String>>,
    pub level: Option<i64>,
    pub is_active: Option<bool>,
    /// In the name or code, without case.
    pub search: Option<String>,
}

/// What `arrange` reads of a department: a whole row, or only its place.
trait Placed {
    fn id(&self) -> &str;
    fn parent_id(&self) -> Option<&str>;
    fn name(&self) -> &str;
    fn sort_order(&self) -> i64;
}

macro_rules! placed {
    ($t:ty) => {
        impl Placed for $t {
            fn id(&self) -> &str {
                &self.id
            }
            fn parent_id(&self) -> Option<&str> {
                self.parent_id.as_deref()
            }
            fn name(&self) -> &str {
                &self.name
            }
            fn sort_order(&self) -> i64 {
                self.sort_order
            }
        }
    };
}
placed!(DeptRow);
placed!(store::PlaceRow);

/// The departments of a workspace in tree order (parents before their children, siblings
/// by sort order, name, id), each with its level. A department whose parent is gone counts
/// as a root, and so does one member of any cycle (the one with the smallest id) a merge
/// may have left until it is resolved: nothing is ever hidden.
fn arrange<R: Placed>(rows: Vec<R>) -> Vec<(R, i64, i64)> {
    let index: HashMap<&str, usize> = rows.iter().enumerate().map(|(i, r)| (r.id(), i)).collect();
    let mut parent: Vec<Option<usize>> = rows
        .iter()
        .map(|r| r.parent_id().and_then(|p| index.get(p).copied()))
        .collect();
    drop(index);
    for start in 0..rows.len() {
        let mut seen = vec![start];
        let mut at = start;
        while let Some(p) = parent[at] {
            if let Some(pos) = seen.iter().position(|&s| s == p) {
                let cycle = &seen[pos..];
                let breaker = *cycle
                    .iter()
                    .min_by(|a, b| rows[**a].id().cmp(rows[**b].id()))
                    .unwrap_or(&p);
                parent[breaker] = None;
                break;
            }
            seen.push(p);
            at = p;
        }
    }
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); rows.len()];
    let mut roots = Vec::new();
    for (i, p) in parent.iter().enumerate() {
        match p {
            Some(p) => children[*p].push(i),
            None => roots.push(i),
        }
    }
    // Sibling order: sort order, name without case, id (each name lowered once).
    let lower: Vec<String> = rows.iter().map(|r| r.name().to_lowercase()).collect();
    let order = |v: &mut Vec<usize>| {
        v.sort_by(|a, b| {
            let (x, y) = (&rows[*a], &rows[*b]);
            x.sort_order()
                .cmp(&y.sort_order())
                .then_with(|| lower[*a].cmp(&lower[*b]))
                .then_with(|| x.id().cmp(y.id()))
        })
    };
    order(&mut roots);
    for c in &mut children {
        order(c);
    }
    let mut out: Vec<(usize, i64)> = Vec::with_capacity(rows.len());
    let mut stack: Vec<(usize, i64)> = roots.iter().rev().map(|&r| (r, 1)).collect();
    while let Some((i, level)) = stack.pop() {
        out.push((i, level));
        for &c in children[i].iter().rev() {
            stack.push((c, level + 1));
        }
    }
    let counts: Vec<i64> = children.iter().map(|c| c.len() as i64).collect();
    let mut rows: Vec<Option<R>> = rows.into_iter().map(Some).collect();
    out.into_iter()
        .filter_map(|(i, level)| rows[i].take().map(|r| (r, level, counts[i])))
        .collect()
}

fn view(r: DeptRow, level: i64, children_count: i64, staff_count: i64) -> DepartmentView {
    DepartmentView {
        id: r.id,
        workspace_id: r.workspace_id,
        name: r.name,
        code: r.code,
        short_name: r.short_name,
        dept_code: r.dept_code,
        parent_id: r.parent_id,
        level,
        manager_id: r.manager_id,
        manager_name: r.manager_name,
        linked_project_id: r.linked_project_id,
        is_active: r.is_active,
        sort_order: r.sort_order,
        children_count,
        staff_count,
        created_at: r.created_at,
        updated_at: r.updated_at,
    }
}

/// The departments in tree order as views, with their staff counts.
fn views(c: &rusqlite::Connection, ws: &str) -> Result<Vec<DepartmentView>, AppError> {
    let staff = staff::current_counts(c, ws)?;
    Ok(arrange(store::live(c, ws)?)
        .into_iter()
        .map(|(r, level, n)| {
            let s = staff.get(&r.id).copied().unwrap_or(0);
            view(r, level, n, s)
        })
        .collect())
}

/// Department `id` and every live department below it, as the tree shows them.
fn subtree_ids(c: &rusqlite::Connection, ws: &str, id: &str, kept: &TreeCache) -> Result<Vec<String>, AppError> {
    let all = tree_order(c, ws, kept)?;
    let mut out: Vec<String> = Vec::new();
    let mut inside = false;
    let mut top = 0;
    // Tree order: a subtree is the run after its root of departments deeper than it.
    for d in all.iter() {
        if inside && d.level <= top {
            break;
        }
        if d.id == id {
            inside = true;
            top = d.level;
        }
        if inside {
            out.push(d.id.clone());
        }
    }
    if out.is_empty() {
        out.push(id.to_string());
    }
    Ok(out)
}

/// Nests views given in tree order (each one's parent comes before it).
fn nest(views: Vec<DepartmentView>) -> Vec<DepartmentNode> {
    // Built from the deepest level up: each node takes its children whole.
    let mut slots: Vec<Option<DepartmentNode>> = views
        .into_iter()
        .map(|department| {
            Some(DepartmentNode {
                subtree_staff_count: department.staff_count,
                department,
                descendants: 0,
                children: Vec::new(),
            })
        })
        .collect();
    let index: HashMap<String, usize> = slots
        .iter()
        .enumerate()
        .filter_map(|(i, n)| n.as_ref().map(|n| (n.department.id.clone(), i)))
        .collect();
    for i in (0..slots.len()).rev() {
        let Some(node) = &slots[i] else { continue };
        if node.department.level == 1 {
            continue;
        }
        let parent = node.department.parent_id.as_ref().and_then(|p| index.get(p)).copied();
        // Its parent comes before it and is still in its slot (parents move after children).
        if let Some(p) = parent.filter(|p| *p < i && slots[*p].is_some()) {
            if let Some(node) = slots[i].take() {
                if let Some(parent) = slots[p].as_mut() {
                    parent.descendants += 1 + node.descendants;
                    parent.subtree_staff_count += node.subtree_staff_count;
                    parent.children.insert(0, node);
                }
            }
        }
    }
    slots.into_iter().flatten().collect()
}

/// Where a person worked over time: their department up to the first change, then each
/// change (from its effective day on). The last change ends at the department their record
/// names now, which is authoritative for today.
#[derive(Debug, Clone, Default)]
pub struct Assignment {
    pub initial: Option<String>,
    /// (effective day, department from that day on), in date order.
    pub changes: Vec<(String, Option<String>)>,
}

impl Assignment {
    /// The department on `day` (`YYYY-MM-DD`).
    pub fn on(&self, day: &str) -> Option<&str> {
        self.changes
            .iter()
            .rev()
            .find(|(d, _)| d.as_str() <= day)
            .map_or(self.initial.as_deref(), |(_, to)| to.as_deref())
    }
}

/// Every staff member's assignments over time, by user (people without a staff record are
/// in no department).
pub fn assignments(c: &rusqlite::Connection, ws: &str) -> Result<HashMap<String, Assignment>, AppError> {
    let (current, moves) = store::assignments(c, ws)?;
    let mut out: HashMap<String, Assignment> = HashMap::new();
    for (user, day, from, to) in moves {
        let a = out.entry(user).or_default();
        if a.changes.is_empty() {
            a.initial = from;
        }
        a.changes.push((day, to));
    }
    for (user, dept) in current {
        let a = out.entry(user).or_default();
        match a.changes.last_mut() {
            Some(last) => last.1 = dept,
            None => a.initial = dept,
        }
    }
    Ok(out)
}

/// A live department's place in the tree.
#[derive(Debug, Clone)]
pub struct TreePlace {
    pub id: String,
    pub name: String,
    pub level: i64,
    /// Its parent as the tree shows it (`None` for a root).
    pub parent_id: Option<String>,
}

/// The version of the workspace's organisation (`org_versions`, V017).
pub fn org_version(c: &rusqlite::Connection, ws: &str) -> rusqlite::Result<i64> {
    store::org_version(c, ws)
}

/// The live departments in tree order, kept like the tree (`TreeCache`).
pub fn tree_order(c: &rusqlite::Connection, ws: &str, kept: &TreeCache) -> Result<Arc<Vec<TreePlace>>, AppError> {
    let version = store::org_version(c, ws)?;
    if let Some(places) = kept.places.get(ws, version) {
        return Ok(places);
    }
    let places: Arc<Vec<TreePlace>> = Arc::new(
        arrange(store::places(c, ws)?)
            .into_iter()
            .map(|(r, level, _)| TreePlace {
                parent_id: if level == 1 { None } else { r.parent_id },
                id: r.id,
                name: r.name,
                level,
            })
            .collect(),
    );
    kept.places.put(ws, version, places.clone());
    Ok(places)
}

/// Makes the staff record an import prepared for invitation `inv` the person's, now that
/// `user` accepted it (in the accepting job, as this instance: the invitee is no admin). A
/// staff id or department that changed meanwhile is repaired like a merge (`merges`).
pub fn apply_pending_staff(ctx: &mut crate::db::WriteCtx<'_>, ws: &str, inv: &str, user: &str) -> Result<(), AppError> {
    let Some(data) = store::pending_staff(ctx.conn, ws, inv)? else {
        return Ok(());
    };
    let now = now_rfc3339();
    // The waiting fields (a phone, notes) go with it.
    ctx.edit(&Who::System, &DocRef::staff(ws), |e| {
        e.set(
            staff_pending::SPEC,
            inv,
            &[
                staff_pending::data.to("{}"),
                staff_pending::deleted_at.to(now.as_str()),
                staff_pending::updated_at.to(now.as_str()),
            ],
        )
    })?;
    if store::staff_of(ctx.conn, ws, user)?.is_some() {
        return Ok(());
    }
    // Fields a device wrote that do not make a record (its rule checks only their shape)
    // never stop the person from joining: the record is then not made.
    let Some(mut input) = serde_json::from_str::<StaffInput>(&data)
        .ok()
        .and_then(|i| i.check(true).ok())
    else {
        return Ok(());
    };
    // What the workspace gave away meanwhile stays with its holder: the newcomer takes a
    // derived staff id (recorded as a resolved conflict) and no manager flag already held.
    let key = records::staff_key(ws, user);
    if let Some(sid) = input.staff_id.clone() {
        if store::staff_id_taken(ctx.conn, ws, &sid, &key)? {
            let free = merges::free_staff_id(ctx.conn, ws, &sid, &key)?;
            let repair = merges::Repair {
                spec: staff_profiles::SPEC,
                id: key.clone(),
                field: "staff_id",
                old: Some(sid),
                new: Some(free.clone()),
                kind: "staff_id_taken",
            };
            merges::record(ctx, ws, &[repair], &now)?;
            input.staff_id = Some(free);
        }
    }
    if let (Some(true), Some(Some(d))) = (input.is_department_manager, &input.department_id) {
        if store::flagged_manager_other_than(ctx.conn, ws, d, user)? {
            input.is_department_manager = Some(false);
        }
    }
    staff::save_records(ctx, &Who::System, ws, user, &input, true)?;
    merges::resolve(ctx, ws)?;
    managers::reconcile(ctx, &Who::System, ws, None).map(|_| ())
}

/// Whether `id` is a live department of workspace `ws` (for other domains' checks).
pub fn is_live_department(c: &rusqlite::Connection, ws: &str, id: &str) -> rusqlite::Result<bool> {
    store::is_live(c, ws, id)
}

/// What was last made of each workspace's tree — its JSON, and its order for the staff
/// list's subtrees and time by department — with the organisation version each was made
/// at (V017): a version that moved makes it again. A reader on an older snapshot than the
/// kept copy's makes its own and leaves the newer one in place.
#[derive(Default)]
pub struct TreeCache {
    json: Kept<Bytes>,
    places: Kept<Arc<Vec<TreePlace>>>,
}

/// Workspaces kept at most; another one takes an existing one's place (each tree is at
/// most a few MB).
const TREE_CACHE_WORKSPACES: usize = 64;

/// One value per workspace, with the version it was made at.
struct Kept<T>(std::sync::Mutex<HashMap<String, (i64, T)>>);

impl<T> Default for Kept<T> {
    fn default() -> Self {
        Self(std::sync::Mutex::new(HashMap::new()))
    }
}

impl<T: Clone> Kept<T> {
    fn get(&self, ws: &str, version: i64) -> Option<T> {
        let m = self.0.lock().ok()?;
        m.get(ws).filter(|(v, _)| *v == version).map(|(_, t)| t.clone())
    }

    fn put(&self, ws: &str, version: i64, value: T) {
        let Ok(mut m) = self.0.lock() else { return };
        if m.get(ws).is_some_and(|(v, _)| *v > version) {
            return;
        }
        if m.len() >= TREE_CACHE_WORKSPACES && !m.contains_key(ws) {
            // Room for this one: another workspace's copy goes (it is made again if read).
            if let Some(other) = m.keys().next().cloned() {
                m.remove(&other);
            }
        }
        m.insert(ws.to_string(), (version, value));
    }
}

pub struct Org<'a>(pub &'a App);

impl Org<'_> {
    pub async fn list(&self, w: &WsCtx, f: DepartmentFilter, p: PageParams) -> Result<Page<DepartmentView>, AppError> {
        let ws = w.ws.id.clone();
        let all = self.0.readers.read(move |c| views(c, &ws)).await?;
        let search = f.search.as_deref().map(str::to_lowercase);
        let hits: Vec<DepartmentView> = all
            .into_iter()
            // By the tree as shown: a department whose parent is gone counts as a root.
            .filter(|d| match &f.parent {
                None => true,
                Some(None) => d.level == 1,
                Some(Some(p)) => d.level > 1 && d.parent_id.as_deref() == Some(p.as_str()),
            })
            .filter(|d| f.level.is_none_or(|l| d.level == l))
            .filter(|d| f.is_active.is_none_or(|a| d.is_active == a))
            .filter(|d| {
                search.as_deref().is_none_or(|s| {
                    d.name.to_lowercase().contains(s)
                        || d.code.to_lowercase().contains(s)
                        || d.short_name.to_lowercase().contains(s)
                })
            })
            .collect();
        let total = hits.len() as i64;
        let (limit, offset) = p.limit_offset();
        let items = hits.into_iter().skip(offset as usize).take(limit as usize).collect();
        Ok(Page::new(items, total, p))
    }

    /// The tree as JSON (`Vec<DepartmentNode>`), from the cache while the workspace's
    /// organisation keeps its version (`TreeCache`).
    pub async fn tree_json(&self, w: &WsCtx) -> Result<Bytes, AppError> {
        let ws = w.ws.id.clone();
        let app = self.0.clone();
        self.0
            .readers
            .read(move |c| {
                // Read in the same snapshot as the tree it stands for (`Readers::read`).
                let version = store::org_version(c, &ws)?;
                if let Some(json) = app.org_trees.json.get(&ws, version) {
                    return Ok(json);
                }
                let json = Bytes::from(
                    serde_json::to_vec(&nest(views(c, &ws)?)).map_err(|e| AppError::internal(e.to_string()))?,
                );
                app.org_trees.json.put(&ws, version, json.clone());
                Ok(json)
            })
            .await
    }

    pub async fn get(&self, w: &WsCtx, id: &str) -> Result<DepartmentView, AppError> {
        let (ws, id) = (w.ws.id.clone(), id.to_string());
        self.0
            .readers
            .read(move |c| {
                views(c, &ws)?
                    .into_iter()
                    .find(|d| d.id == id)
                    .ok_or(AppError::not_found("department"))
            })
            .await
    }

    /// Creates (`id` None) or changes a department; `input` was checked (`check`).
    pub async fn save(&self, w: &WsCtx, id: Option<&str>, input: DepartmentInput) -> Result<DepartmentView, AppError> {
        let who = Who::user(&w.actor.user_id);
        let (ws, actor) = (w.ws.id.clone(), w.actor.user_id.clone());
        let existing = id.map(str::to_string);
        let id = self
            .0
            .writer
            .write(move |ctx| {
                let now = now_rfc3339();
                let text = |v: &Option<String>| Val::from(v.clone());
                // The tree's rules, for what this change sets (`records::check_tree`).
                let mut fields: Vec<&str> = Vec::new();
                for (f, given) in [
                    ("code", input.code.is_some()),
                    ("short_name", input.short_name.is_some()),
                    ("dept_code", input.dept_code.is_some()),
                    ("parent_id", existing.is_none() || input.parent_id.is_some()),
                ] {
                    if given {
                        fields.push(f);
                    }
                }
                let id = match &existing {
                    None => {
                        let parent = input.parent_id.clone().flatten();
                        let sort = match input.sort_order {
                            Some(s) => s,
                            None => store::next_sort_order(ctx.conn, &ws, parent.as_deref())?,
                        };
                        let id = crate::new_id();
                        ctx.edit(&who, &DocRef::workspace(&ws), |e| {
                            e.create(
                                departments::SPEC,
                                &id,
                                &[
                                    departments::workspace_id.to(ws.as_str()),
                                    departments::name.to(text(&input.name)),
                                    departments::code.to(text(&input.code)),
                                    departments::short_name.to(text(&input.short_name)),
                                    departments::dept_code.to(text(&input.dept_code)),
                                    departments::parent_id.to(parent),
                                    departments::manager_id.to(input.manager_id.clone().flatten()),
                                    departments::linked_project_id.to(input.linked_project_id.clone().flatten()),
                                    departments::is_active.to(input.is_active.unwrap_or(true)),
                                    departments::sort_order.to(sort),
                                    departments::created_at.to(now.as_str()),
                                    departments::updated_at.to(now.as_str()),
                                    departments::created_by.to(actor.as_str()),
                                    departments::deleted_at.null(),
                                ],
                            )
                        })?;
                        id
                    }
                    Some(id) => {
                        let cur = store::department(ctx.conn, &ws, id)?.ok_or(AppError::not_found("department"))?;
                        let mut f: Vec<Set> = Vec::new();
                        for (field, v) in [
                            (departments::name, &input.name),
                            (departments::code, &input.code),
                            (departments::short_name, &input.short_name),
                            (departments::dept_code, &input.dept_code),
                        ] {
                            if let Some(v) = v {
                                f.push(field.to(v.as_str()));
                            }
                        }
                        for (field, v) in [
                            (departments::parent_id, &input.parent_id),
                            (departments::manager_id, &input.manager_id),
                            (departments::linked_project_id, &input.linked_project_id),
                        ] {
                            if let Some(v) = v {
                                f.push(field.to(v.clone()));
                            }
                        }
                        if let Some(a) = input.is_active {
                            f.push(departments::is_active.to(a));
                        }
                        // A move goes to the end of its new siblings unless a place is given.
                        let moved = input.parent_id.as_ref().is_some_and(|p| *p != cur.parent_id);
                        match input.sort_order {
                            Some(s) => f.push(departments::sort_order.to(s)),
                            None if moved => {
                                let p = input.parent_id.clone().flatten();
                                f.push(departments::sort_order.to(store::next_sort_order(
                                    ctx.conn,
                                    &ws,
                                    p.as_deref(),
                                )?));
                            }
                            None => {}
                        }
                        if !f.is_empty() {
                            f.push(departments::updated_at.to(now.as_str()));
                            ctx.edit(&who, &DocRef::workspace(&ws), |e| e.set(departments::SPEC, id, &f))?;
                        }
                        id.clone()
                    }
                };
                records::check_tree(ctx.conn, &ws, &id, &fields)?;
                managers::reconcile(ctx, &who, &ws, None)?;
                Ok(id)
            })
            .await?;
        self.get(w, &id).await
    }

    /// Soft-deletes a department. Its children move to `children_to` and its people to
    /// `staff_to` first (each move recorded as a transfer), in the same job; without them,
    /// a department with children or staff is refused (the record's rule).
    pub async fn delete(
        &self,
        w: &WsCtx,
        id: &str,
        children_to: Option<ChildrenTo>,
        staff_to: Option<ChildrenTo>,
    ) -> Result<(), AppError> {
        let who = Who::user(&w.actor.user_id);
        let (ws, id) = (w.ws.id.clone(), id.to_string());
        for (field, to) in [("children_to", &children_to), ("staff_to", &staff_to)] {
            if *to == Some(ChildrenTo::Department(id.clone())) {
                return Err(AppError::field(field, "must not be the department being deleted"));
            }
        }
        self.0
            .writer
            .write(move |ctx| {
                store::department(ctx.conn, &ws, &id)?.ok_or(AppError::not_found("department"))?;
                let children = store::live_children(ctx.conn, &ws, &id)?;
                let people = store::current_staff_of(ctx.conn, &ws, &id)?;
                let target = match (&children_to, children.is_empty()) {
                    (_, true) => None,
                    (None, false) => {
                        return Err(AppError::refused(
                            "department_has_children",
                            format!(
                                "{} department(s) sit below this one: say where they go (children_to: a department id or root)",
                                children.len()
                            ),
                        ))
                    }
                    (Some(ChildrenTo::Root), false) => Some(None),
                    (Some(ChildrenTo::Department(d)), false) => Some(Some(d.clone())),
                };
                let staff_target = match (&staff_to, people.is_empty()) {
                    (_, true) => None,
                    (None, false) => {
                        return Err(AppError::refused(
                            "department_has_staff",
                            format!(
                                "{} person(s) work in this department: say where they go (staff_to: a department id or none)",
                                people.len()
                            ),
                        ))
                    }
                    (Some(ChildrenTo::Root), false) => Some(None),
                    (Some(ChildrenTo::Department(d)), false) => Some(Some(d.clone())),
                };
                let now = now_rfc3339();
                let mut next = match &target {
                    Some(p) => store::next_sort_order(ctx.conn, &ws, p.as_deref())?,
                    None => 0,
                };
                let name = store::department(ctx.conn, &ws, &id)?.map(|d| d.name).unwrap_or_default();
                ctx.edit(&who, &DocRef::workspace(&ws), |e| {
                    if let Some(p) = &target {
                        for c in &children {
                            e.set(
                                departments::SPEC,
                                c,
                                &[
                                    departments::parent_id.to(p.clone()),
                                    departments::sort_order.to(next),
                                    departments::updated_at.to(now.as_str()),
                                ],
                            )?;
                            next += 1;
                        }
                    }
                    if let Some(to) = &staff_target {
                        for u in &people {
                            e.set(
                                staff_profiles::SPEC,
                                &records::staff_key(&ws, u),
                                &[staff_profiles::department_id.to(to.clone()), staff_profiles::updated_at.to(now.as_str())],
                            )?;
                        }
                    }
                    e.set(
                        departments::SPEC,
                        &id,
                        &[departments::deleted_at.to(now.as_str()), departments::updated_at.to(now.as_str())],
                    )
                })?;
                if let Some(to) = &staff_target {
                    let reason = format!("Department {name} was deleted");
                    let moves: Vec<staff::Move<'_>> = people
                        .iter()
                        .map(|u| staff::Move {
                            user: u,
                            from: Some(id.clone()),
                            to: to.clone(),
                            date: staff::today(),
                            reason: reason.chars().take(500).collect(),
                        })
                        .collect();
                    staff::record_moves(ctx, &who, &ws, &moves)?;
                }
                // Where the children and people went must hold the rules too.
                if target.is_some() {
                    for c in &children {
                        records::check_tree(ctx.conn, &ws, c, &["parent_id"])?;
                    }
                }
                records::check_tree(ctx.conn, &ws, &id, &[])?;
                for u in &people {
                    records::check_staff(ctx.conn, &ws, u, false)?;
                }
                managers::reconcile(ctx, &who, &ws, None)?;
                Ok(())
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: &str, parent: Option<&str>, sort: i64) -> DeptRow {
        DeptRow {
            id: id.into(),
            workspace_id: "w".into(),
            name: id.to_uppercase(),
            code: id.into(),
            short_name: id.to_uppercase(),
            dept_code: "0000".into(),
            parent_id: parent.map(str::to_string),
            manager_id: None,
            manager_name: None,
            linked_project_id: None,
            is_active: true,
            sort_order: sort,
            created_at: String::new(),
            updated_at: String::new(),
        }
    }

    /// What a merge can leave until it is resolved — a cycle, a parent deleted elsewhere —
    /// still shows every department once, in a tree.
    #[test]
    fn arrange_shows_every_department_once_through_cycles_and_orphans() {
        let rows = vec![
            row("c", Some("b"), 0),
            row("b", Some("c"), 0),
            row("d", Some("c"), 0),
            row("a", None, 1),
            row("e", Some("gone"), 0),
            row("f", Some("a"), 0),
        ];
        let got: Vec<(String, i64, i64)> = arrange(rows)
            .into_iter()
            .map(|(r, level, n)| (r.id, level, n))
            .collect();
        // Roots by sort order then name: b (the cycle's smallest id, sort 0), e (orphan), a.
        assert_eq!(
            got,
            [
                ("b".to_string(), 1, 1),
                ("c".to_string(), 2, 1),
                ("d".to_string(), 3, 0),
                ("e".to_string(), 1, 0),
                ("a".to_string(), 1, 1),
                ("f".to_string(), 2, 0),
            ]
        );
        let tree = nest(
            got.iter()
                .map(|(id, level, n)| {
                    let mut v = view(row(id, None, 0), *level, *n, 1);
                    v.parent_id = match id.as_str() {
                        "c" => Some("b".into()),
                        "d" => Some("c".into()),
                        "f" => Some("a".into()),
                        _ => None,
                    };
                    v
                })
                .collect(),
        );
        assert_eq!(tree.len(), 3);
        assert_eq!(
            (
                tree[0].descendants,
                tree[0].subtree_staff_count,
                tree[0].children[0].children[0].department.id.as_str()
            ),
            (2, 3, "d")
        );
    }
}
