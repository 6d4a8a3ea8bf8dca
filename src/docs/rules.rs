//! Rules that belong to record types, checked the same way for every write: an API call's
//! `WriteCtx::edit`, a device's update (`apply_remote`), a rebuild. Each projected table
//! has one `Rules` value, declared in its own domain's `records.rs` and listed in
//! `REGISTRY`; `check_changes` runs them inside the writer job, after the changed rows are
//! upserted (so references see the change as a whole) with the actor's roles and the
//! before-images taken before it (so nobody grants themselves a role in the same change).
//!
//! What every table gets without writing it (the rules of structure):
//! - **scope**: a record names its document's workspace (and project, and owner); a
//!   `workspaces` record is the document's workspace, a `projects` record its project;
//! - **one home per key**: a record whose key already lives in another document is refused
//!   (`record_elsewhere`), so nobody moves somebody else's row into their own project;
//! - **immutable fields**: the scope fields and the table's `immutable` list never change
//!   once set (a record re-created under its derived key after a delete is a new record);
//! - **bounds**: every text field has a bounded length;
//! - **references**: each listed id names a record of the same project or workspace (a
//!   deleted one is fine: an offline edit of something deleted meanwhile still merges).
//!
//! A change that leaves a record exactly as it was passes the tables' own rules (two peers
//! that make the same deterministic merge resolution write the same values), never the
//! rules of structure.

use rusqlite::Connection;

use super::record::{col, Field};
use super::{DocKind, DocRef, Set, TableSpec, Val};
use crate::error::AppError;
use crate::policy::{ProjRole, WsRole};

/// Who makes a change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Who {
    /// A person, through the API or through a paired device: every rule applies.
    User(String),
    /// The server this instance syncs from, whose updates it takes as they come (that server
    /// checked them against its own roles): only the rules of structure apply.
    Upstream,
    /// This instance itself (merge resolutions, seeding, rebuilds, first-run setup): only
    /// the rules of structure apply.
    System,
}

impl Who {
    pub fn user(id: &str) -> Self {
        Who::User(id.to_string())
    }
    pub fn user_id(&self) -> Option<&str> {
        match self {
            Who::User(u) => Some(u),
            _ => None,
        }
    }
}

/// One touched record: its row before the change (from the projection) and after it (from
/// the document), both in the order of its table's columns.
#[derive(Debug, Clone)]
pub struct Change {
    pub spec: &'static TableSpec,
    pub id: String,
    pub before: Option<Vec<Val>>,
    pub after: Vec<Val>,
}

impl Change {
    fn col(&self, field: &str) -> Option<usize> {
        self.spec.cols.iter().position(|(n, _)| *n == field)
    }
    /// The name of `f`, a field of this record's table (another table's is a bug in the
    /// rule that asks, caught by the tests).
    fn own<C>(&self, f: Field<C>) -> &'static str {
        debug_assert_eq!(
            f.table, self.spec.name,
            "{}.{} asked of a {} record",
            f.table, f.name, self.spec.name
        );
        f.name
    }
    /// A field after the change as text (`None` for null).
    pub fn text(&self, f: Field<col::Text>) -> Option<&str> {
        self.text_by_name(self.own(f))
    }
    /// A field after the change as a number.
    pub fn int(&self, f: Field<col::Int>) -> Option<i64> {
        self.int_by_name(self.own(f))
    }
    /// A field before the change as text.
    pub fn was(&self, f: Field<col::Text>) -> Option<&str> {
        self.was_by_name(self.own(f))
    }
    /// A field before the change as a number.
    pub fn was_int(&self, f: Field<col::Int>) -> Option<i64> {
        self.was_int_by_name(self.own(f))
    }
    /// Whether a field differs between before and after (always for a new record).
    pub fn changed<C>(&self, f: Field<C>) -> bool {
        self.changed_by_name(self.own(f))
    }
    /// A field after the change as text, by name, for rules shared by several tables (`None`
    /// for null or no such field).
    pub fn text_by_name(&self, field: &str) -> Option<&str> {
        match self.col(field).map(|i| &self.after[i]) {
            Some(Val::Text(t)) => Some(t),
            _ => None,
        }
    }
    fn int_by_name(&self, field: &str) -> Option<i64> {
        match self.col(field).map(|i| &self.after[i]) {
            Some(Val::Int(n)) => Some(*n),
            _ => None,
        }
    }
    pub fn was_by_name(&self, field: &str) -> Option<&str> {
        let i = self.col(field)?;
        match self.before.as_ref().map(|b| &b[i]) {
            Some(Val::Text(t)) => Some(t),
            _ => None,
        }
    }
    fn was_int_by_name(&self, field: &str) -> Option<i64> {
        let i = self.col(field)?;
        match self.before.as_ref().map(|b| &b[i]) {
            Some(Val::Int(n)) => Some(*n),
            _ => None,
        }
    }
    pub fn changed_by_name(&self, field: &str) -> bool {
        match (self.col(field), &self.before) {
            (Some(i), Some(b)) => b[i] != self.after[i],
            (Some(_), None) => true,
            (None, _) => false,
        }
    }
    /// The record did not exist (or was deleted and is made again under its derived key).
    pub fn is_create(&self) -> bool {
        match &self.before {
            None => true,
            Some(_) => self.was_by_name("deleted_at").is_some() && self.text_by_name("deleted_at").is_none(),
        }
    }
    /// The change deletes a live record.
    pub fn is_delete(&self) -> bool {
        self.before.is_some() && self.was_by_name("deleted_at").is_none() && self.text_by_name("deleted_at").is_some()
    }
    pub fn is_deleted(&self) -> bool {
        self.text_by_name("deleted_at").is_some()
    }
    fn unchanged(&self) -> bool {
        self.before.as_deref() == Some(self.after.as_slice())
    }
}

/// What a reference points to.
#[derive(Debug, Clone, Copy)]
pub enum Target {
    /// A record of this table in the same project.
    InProject(&'static str),
    /// A record of this table in the same workspace.
    InWorkspace(&'static str),
    /// A person who is (or was) a member of the workspace.
    Member,
}

/// One foreign id of a record and what it must name.
#[derive(Debug, Clone, Copy)]
pub struct Ref {
    pub field: &'static str,
    pub to: Target,
}

/// The rules of one table.
pub struct Rules {
    pub table: &'static str,
    /// Fields that never change once the record exists, besides the scope fields and
    /// `created_by`.
    pub immutable: &'static [&'static str],
    /// Foreign ids and what they must name.
    pub refs: &'static [Ref],
    /// Longest value of a text field, in characters, for the fields listed; others get
    /// `MAX_TEXT`.
    pub max_len: &'static [(&'static str, usize)],
    /// The table's own rules, with the actor's roles from before the change.
    pub check: fn(&RuleCtx<'_>, &Change) -> Result<(), AppError>,
}

/// Longest text field without a bound of its own (rich text is bounded by `richtext`).
pub const MAX_TEXT: usize = 100_000;

/// Every table's rules. A test checks that each projected table has exactly one entry.
pub const REGISTRY: &[&Rules] = &[
    &crate::workspaces::records::WORKSPACES,
    &crate::workspaces::records::WORKSPACE_MEMBERS,
    &crate::workspaces::records::INVITATIONS,
    &crate::plans::records::LICENCES,
    &crate::org::records::DEPARTMENTS,
    &crate::org::records::STAFF_PROFILES,
    &crate::org::records::STAFF_PRIVATE,
    &crate::org::records::STAFF_TRANSFERS,
    &crate::org::records::ORG_CONFLICTS,
    &crate::org::records::STAFF_PENDING,
    &crate::work::records::PROJECTS,
    &crate::work::records::PROJECT_MEMBERS,
    &crate::work::records::PROJECT_ACTIVITY,
    &crate::issues::records::STATES,
    &crate::issues::records::LABELS,
    &crate::issues::records::ISSUES,
    &crate::issues::records::ISSUE_ASSIGNEES,
    &crate::issues::records::ISSUE_LABELS,
    &crate::issues::records::ISSUE_COMMENTS,
    &crate::issues::records::ISSUE_ACTIVITY,
    &crate::issues::records::SYNC_CONFLICTS,
    &crate::timetrack::records::WORKLOGS,
    &crate::timetrack::records::TIMERS,
    &crate::planning::records::CYCLES,
    &crate::planning::records::MODULES,
    &crate::planning::records::ISSUE_VIEWS,
    &crate::me::records::FAVORITES,
    &crate::me::records::USER_PROPERTIES,
    &crate::me::records::HOME_PREFERENCES,
    &crate::me::records::QUICK_LINKS,
    &crate::me::records::RECENT_VISITS,
    &crate::me::records::STICKIES,
    &crate::dashboards::records::DASHBOARDS,
    &crate::dashboards::records::DASHBOARD_WIDGETS,
    &crate::dashboards::records::DASHBOARD_LAYOUTS,
    &crate::dashboards::records::DASHBOARD_PREFS,
    &crate::dashboards::records::DASHBOARD_METRICS,
];

/// A record written because of other records' changes (an issue's history): by the edit
/// that made them, in the same document and transaction, checked by its own table's rules.
#[derive(Debug, Clone)]
pub struct Derived {
    pub spec: &'static TableSpec,
    pub id: String,
    pub fields: Vec<Set>,
    /// Written whole under a key derived from what it records (`Edit::put`), so peers that
    /// derive the same record write one; otherwise created under a new key.
    pub put: bool,
}

/// What follows from a local edit's changes (`WriteCtx::edit`). Followers see the typed
/// changes of every edit, a person's or this instance's; a peer's update brings the records
/// its own edit derived, checked like any other, so nothing is derived twice.
pub type Follower = fn(&Who, &DocRef, &[Change]) -> Vec<Derived>;

/// Every follower.
pub const FOLLOWERS: &[Follower] = &[crate::issues::activity::follow, crate::work::history::follow];

pub fn rules_of(table: &str) -> Option<&'static Rules> {
    REGISTRY.iter().copied().find(|r| r.table == table)
}

/// The project of a project or work-log document, the owner of a work-log or personal
/// document, and a work-log document's quarter, from the document's id.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scope {
    pub project: Option<String>,
    pub owner: Option<String>,
    pub quarter: Option<String>,
}

impl Scope {
    pub fn of(d: &DocRef) -> Self {
        let parts: Vec<&str> = d.id.split(':').collect();
        let s = |x: &str| Some(x.to_string());
        match (d.kind, parts.as_slice()) {
            (DocKind::Project, [_, p]) => Scope {
                project: s(p),
                ..Default::default()
            },
            (DocKind::Worklogs, [_, p, u, q]) => Scope {
                project: s(p),
                owner: s(u),
                quarter: s(q),
            },
            (DocKind::User, [_, _, u]) => Scope {
                owner: s(u),
                ..Default::default()
            },
            (DocKind::Dashboards, [_, _, u]) if *u != super::schema::SHARED => Scope {
                owner: s(u),
                ..Default::default()
            },
            _ => Scope::default(),
        }
    }
}

/// The project a change's document belongs to, as it stood before the change.
#[derive(Debug, Clone)]
pub struct ProjectFacts {
    pub archived: bool,
    pub time_tracking: bool,
}

/// What a table's rules see: the document, the actor and their roles before the change,
/// and every record the change touched.
pub struct RuleCtx<'c> {
    pub conn: &'c Connection,
    pub doc: &'c DocRef,
    pub scope: Scope,
    pub who: &'c Who,
    /// The actor's workspace role before the change (`None`: not a member, or not a person).
    pub ws_role: Option<WsRole>,
    /// The actor's effective role in the document's project before the change.
    pub proj_role: Option<ProjRole>,
    /// The document's project before the change (`None`: being created, or no project).
    pub project: Option<ProjectFacts>,
    pub changes: &'c [Change],
}

impl RuleCtx<'_> {
    /// Whether the rules of people apply (not for the upstream server or this instance).
    pub fn is_person(&self) -> bool {
        matches!(self.who, Who::User(_))
    }
    /// The acting person, if a person acts.
    pub fn user(&self) -> Option<&str> {
        self.who.user_id()
    }
    /// Whether the acting person is `user`.
    pub fn is_me(&self, user: Option<&str>) -> bool {
        user.is_some() && self.user() == user
    }
    /// Requires a workspace role of at least `min` (nothing for non-persons).
    pub fn require_ws(&self, min: WsRole, what: &str) -> Result<(), AppError> {
        if !self.is_person() || self.ws_role.is_some_and(|r| r >= min) {
            return Ok(());
        }
        Err(AppError::forbidden(format!(
            "{what} needs a workspace {}",
            min.as_str()
        )))
    }
    /// Requires a project role of at least `min` (nothing for non-persons).
    pub fn require_project(&self, min: ProjRole, what: &str) -> Result<(), AppError> {
        if !self.is_person() || self.proj_role.is_some_and(|r| r >= min) {
            return Ok(());
        }
        Err(AppError::forbidden(format!("{what} needs a project {}", min.as_str())))
    }
    /// Whether record `id` of `table` belongs to this document's workspace.
    pub fn in_workspace(&self, table: &str, id: &str) -> Result<bool, AppError> {
        let col = if table == "workspaces" { "id" } else { "workspace_id" };
        Ok(super::store::scope_of(self.conn, table, col, id)?.as_deref() == Some(self.doc.workspace_id.as_str()))
    }
    /// Another record touched by the same change.
    pub fn touched(&self, spec: &'static TableSpec, id: &str) -> Option<&Change> {
        self.changes.iter().find(|c| c.spec.name == spec.name && c.id == id)
    }
    /// Every record of `spec`'s table the change touched.
    pub fn touched_in<'a>(&'a self, spec: &'static TableSpec) -> impl Iterator<Item = &'a Change> + 'a {
        self.changes.iter().filter(move |c| c.spec.name == spec.name)
    }
}

/// The actor's workspace role, effective project role and the project's state.
pub type Roles = (Option<WsRole>, Option<ProjRole>, Option<ProjectFacts>);

/// The actor's roles and the project's state before a change of document `d`. Called
/// before the change's rows are written.
pub fn roles_before(conn: &Connection, d: &DocRef, who: &Who) -> rusqlite::Result<Roles> {
    let scope = Scope::of(d);
    let ws_role = match who.user_id() {
        Some(user) => crate::workspaces::role_of(conn, &d.workspace_id, user)?,
        None => None,
    };
    let user = who.user_id().map(|u| (u, ws_role));
    let (project, proj_role) = match &scope.project {
        Some(p) => match crate::work::project_facts(conn, &d.workspace_id, p, user)? {
            Some((facts, role)) => (Some(facts), role),
            None => (None, None),
        },
        None => (None, None),
    };
    Ok((ws_role, proj_role, project))
}

/// The fields that place a record in its document, with the values they must have.
fn scope_fields<'a>(d: &'a DocRef, scope: &'a Scope, table: &str) -> Vec<(&'static str, &'a str)> {
    let mut f: Vec<(&'static str, &str)> = vec![("workspace_id", d.workspace_id.as_str())];
    if let Some(p) = &scope.project {
        f.push(("project_id", p));
    }
    if let Some(u) = &scope.owner {
        f.push((if table == "worklogs" { "logged_by" } else { "user_id" }, u));
    }
    f
}

fn scope_error(c: &Change, what: &str) -> AppError {
    AppError::refused("wrong_scope", format!("{}/{:.60} {what}", c.spec.name, c.id))
}

/// Checks one record against the rules of structure: scope, one home per key, immutable
/// fields, bounds. Runs before the record's row is written (a key taken from another
/// document must not reach that document's row), for every actor.
pub fn check_structure(d: &DocRef, who: &Who, c: &Change) -> Result<(), AppError> {
    check_structure_in(d, &Scope::of(d), who, c)
}

/// `check_structure` with the document's scope parsed once for a change's records.
pub fn check_structure_in(d: &DocRef, scope: &Scope, who: &Who, c: &Change) -> Result<(), AppError> {
    // No shortcut for a record that reads exactly like its row: a copy of another
    // document's record (as a person who can read it may make) must still be refused here
    // (the structured fuzzer found that one).
    let rules = rules_of(c.spec.name).ok_or_else(|| AppError::internal(format!("no rules for {}", c.spec.name)))?;
    let spec = c.spec;
    let has = |f: &str| spec.cols.iter().any(|(n, _)| *n == f);
    // The record's own key is the scope of a workspace or project record.
    let own_key = match spec.name {
        "workspaces" => Some(d.workspace_id.as_str()),
        "projects" => scope.project.as_deref(),
        _ => None,
    };
    if let Some(k) = own_key {
        if c.id != k {
            return Err(scope_error(c, "is not this document's own record"));
        }
    } else if matches!(spec.name, "workspaces" | "projects") {
        return Err(scope_error(c, "belongs in a document of its own"));
    }
    let fields = scope_fields(d, scope, spec.name);
    for (f, want) in &fields {
        if has(f) && c.text_by_name(f) != Some(*want) {
            return Err(scope_error(
                c,
                match *f {
                    "workspace_id" => "names another workspace",
                    "project_id" => "names another project",
                    _ => "belongs to somebody else",
                },
            ));
        }
    }
    if let (Some(q), "worklogs") = (&scope.quarter, spec.name) {
        if c.text_by_name("created_at").map(quarter_of).as_deref() != Some(q.as_str()) {
            return Err(scope_error(c, "was not created in this document's quarter"));
        }
    }
    if c.before.is_some() {
        // The row that exists under this key must be this document's: else the key lives
        // in another document (another project, workspace, person or quarter).
        let elsewhere = fields.iter().any(|(f, want)| has(f) && c.was_by_name(f) != Some(*want))
            || (spec.name == "worklogs"
                && scope.quarter.is_some()
                && c.was_by_name("created_at").map(quarter_of) != scope.quarter);
        if elsewhere {
            return Err(AppError::conflict(
                "record_elsewhere",
                format!("{}/{:.60} already lives in another document", spec.name, c.id),
            ));
        }
        // This instance's own writes (merge resolutions, maintenance) are trusted here.
        if !c.is_create() && *who != Who::System {
            // Whoever made a record made it: its author never changes.
            for f in rules.immutable.iter().chain(&["created_by"]) {
                if c.changed_by_name(f) {
                    return Err(AppError::refused(
                        "immutable_field",
                        format!("{}.{f} cannot change once set", spec.name),
                    ));
                }
            }
        }
    }
    for ((name, _), v) in spec.cols.iter().zip(&c.after) {
        if let Val::Text(t) = v {
            let max = rules
                .max_len
                .iter()
                .find(|(n, _)| n == name)
                .map_or(MAX_TEXT, |(_, m)| *m);
            if t.chars().count() > max {
                return Err(AppError::field(name, format!("must be at most {max} characters")));
            }
        }
    }
    Ok(())
}

/// Checks the references of one record: each names a record of the same scope. Only for
/// people's changes: the server's updates and a rebuild arrive document by document in no
/// order that puts a referenced record first.
fn check_refs(cx: &RuleCtx<'_>, rules: &Rules, c: &Change) -> Result<(), AppError> {
    if !cx.is_person() {
        return Ok(());
    }
    for r in rules.refs {
        let Some(id) = c.text_by_name(r.field) else { continue };
        if !c.changed_by_name(r.field) && !c.is_create() {
            continue;
        }
        let ok = match r.to {
            Target::InProject(table) => {
                let want = cx.scope.project.as_deref();
                if table == "projects" {
                    want == Some(id)
                } else {
                    super::store::scope_of(cx.conn, table, "project_id", id)?.as_deref() == want && want.is_some()
                }
            }
            Target::InWorkspace(table) => cx.in_workspace(table, id)?,
            Target::Member => crate::workspaces::is_or_was_member(cx.conn, &cx.doc.workspace_id, id)?,
        };
        if !ok {
            return Err(AppError::field(r.field, "names no such record here"));
        }
    }
    Ok(())
}

/// Runs the rest of the rules over the records a change touched, once their rows are
/// written (`check_structure` ran on each before). `changes` are complete: records left
/// incomplete by missing updates are not in it.
pub fn check_changes(
    conn: &Connection,
    d: &DocRef,
    who: &Who,
    roles: Roles,
    changes: &[Change],
) -> Result<(), AppError> {
    let scope = Scope::of(d);
    // A person creating a project is its admin for the rest of the change: the project's
    // own rule makes sure the same change records them so.
    let creating_project = scope.project.as_deref().is_some_and(|p| {
        changes
            .iter()
            .any(|c| c.spec.name == "projects" && c.id == p && c.before.is_none())
    });
    let proj_role = if creating_project && who.user_id().is_some() && roles.0 >= Some(WsRole::Member) {
        Some(ProjRole::Admin)
    } else {
        roles.1
    };
    let cx = RuleCtx {
        conn,
        doc: d,
        scope,
        who,
        ws_role: roles.0,
        proj_role,
        project: roles.2,
        changes,
    };
    for c in changes {
        if c.unchanged() {
            continue;
        }
        let rules = rules_of(c.spec.name).ok_or_else(|| AppError::internal(format!("no rules for {}", c.spec.name)))?;
        check_refs(&cx, rules, c)?;
        // An archived project is read-only for people, whatever the record.
        if cx.is_person()
            && cx.project.as_ref().is_some_and(|p| p.archived)
            && !crate::work::records::allowed_when_archived(c)
        {
            return Err(AppError::refused(
                "project_archived",
                "the project is archived; unarchive it to change it",
            ));
        }
        (rules.check)(&cx, c)?;
    }
    Ok(())
}

/// The quarter (`2026Q4`) of an RFC 3339 time; empty for text that is not one.
pub fn quarter_of(t: &str) -> String {
    let (Some(y), Some(m)) = (t.get(0..4), t.get(5..7).and_then(|m| m.parse::<u32>().ok())) else {
        return String::new();
    };
    if !(1..=12).contains(&m) || !y.bytes().all(|b| b.is_ascii_digit()) {
        return String::new();
    }
    format!("{y}Q{}", (m - 1) / 3 + 1)
}

/// Fields whose value the projection derives instead of taking it from the document: rich
/// text is sanitised and its plain text derived from it, whatever a peer wrote.
pub fn derive_fields(spec: &TableSpec, vals: &mut [Val]) {
    let pairs: &[(&str, Option<&str>)] = match spec.name {
        "issues" => &[("description_html", Some("description_text"))],
        "issue_comments" => &[("comment_html", Some("comment_text"))],
        "stickies" => &[("description_html", None)],
        _ => return,
    };
    let idx = |f: &str| spec.cols.iter().position(|(n, _)| *n == f);
    for (html, text) in pairs {
        let Some(h) = idx(html) else { continue };
        let Val::Text(raw) = &vals[h] else { continue };
        let (clean, plain) = crate::richtext::sanitize(raw);
        vals[h] = Val::Text(clean);
        if let Some(t) = text.and_then(idx) {
            vals[t] = Val::Text(plain);
        }
    }
}

/// The fields a change sets that differ, for messages and change events.
pub fn changed_fields(c: &Change) -> Vec<&'static str> {
    c.spec
        .cols
        .iter()
        .map(|(n, _)| *n)
        .filter(|n| c.changed_by_name(n))
        .collect()
}

/// The invariants the rules keep, checked over a whole database (the structured fuzz target
/// checks them after every accepted update; tests may too): every row's scope equals its
/// document's, no key lives in two documents, every reference of a person's making
/// resolves inside its scope. Answers the first violation found.
pub fn check_invariants(conn: &Connection) -> anyhow::Result<Result<(), String>> {
    let mut home: std::collections::HashMap<(&'static str, String), String> = Default::default();
    for (doc_id, _, ws) in super::store::document_ids(conn)? {
        let Some(d) = DocRef::parse(&doc_id, &ws) else {
            return Ok(Err(format!("document {doc_id} has an id Keel does not make")));
        };
        let Some(parts) = super::store::load_parts(conn, &doc_id)? else {
            continue;
        };
        let doc = super::doc_from_parts(parts.snapshot.as_deref(), &parts.updates)?;
        let roots: Vec<(&'static TableSpec, yrs::MapRef)> = super::TABLES
            .iter()
            .copied()
            .filter(|t| t.kind == d.kind)
            .map(|t| (t, doc.get_or_insert_map(t.name)))
            .collect();
        let txn = yrs::Transact::transact(&doc);
        for (spec, root) in &roots {
            for key in yrs::Map::keys(root, &txn) {
                if let Some(other) = home.insert((spec.name, key.to_string()), doc_id.clone()) {
                    return Ok(Err(format!("{}/{key} lives in {other} and {doc_id}", spec.name)));
                }
                let Some(row) = super::store::read_row(conn, spec, key)? else {
                    continue;
                };
                let c = Change {
                    spec,
                    id: key.to_string(),
                    before: None,
                    after: row,
                };
                // The row as it is must fit its document, as a new record would.
                if let Err(e) = check_structure(&d, &Who::System, &c) {
                    return Ok(Err(format!("{}/{key} in {doc_id}: {e}", spec.name)));
                }
            }
        }
    }
    for r in REGISTRY {
        for rf in r.refs {
            if let Some(id) = super::store::dangling_ref(conn, r.table, rf)? {
                return Ok(Err(format!("{}/{id}.{} names nothing in its scope", r.table, rf.field)));
            }
        }
    }
    Ok(Ok(()))
}

#[cfg(test)]
mod tests {
    use super::super::Col;
    use super::*;

    #[test]
    fn every_projected_table_has_exactly_one_rule_set_and_its_fields_exist() {
        for t in super::super::TABLES {
            let n = REGISTRY.iter().filter(|r| r.table == t.name).count();
            assert_eq!(n, 1, "{} has {n} rule sets", t.name);
        }
        assert_eq!(
            REGISTRY.len(),
            super::super::TABLES.len(),
            "rules for a table that is not projected"
        );
        for r in REGISTRY {
            let spec = super::super::table_spec(r.table).unwrap_or_else(|| panic!("{}", r.table));
            let has = |f: &str| spec.cols.iter().any(|(n, _)| *n == f);
            for f in r
                .immutable
                .iter()
                .chain(r.max_len.iter().map(|(f, _)| f))
                .chain(r.refs.iter().map(|x| &x.field))
            {
                assert!(has(f), "{}.{f} is named by its rules but is no column", r.table);
            }
        }
    }

    #[test]
    fn every_table_spec_matches_its_sqlite_table() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let db = dir.path().join("keel.db");
        crate::db::migrate(&db).unwrap_or_else(|e| panic!("{e}"));
        let c = Connection::open(&db).unwrap_or_else(|e| panic!("{e}"));
        for t in super::super::TABLES {
            let mut stmt = c
                .prepare(&format!("PRAGMA table_info({})", t.name))
                .unwrap_or_else(|e| panic!("{e}"));
            let cols: Vec<(String, String)> = stmt
                .query_map([], |r| Ok((r.get::<_, String>(1)?, r.get::<_, String>(2)?)))
                .unwrap_or_else(|e| panic!("{e}"))
                .collect::<Result<_, _>>()
                .unwrap_or_else(|e| panic!("{e}"));
            assert!(!cols.is_empty(), "no table {}", t.name);
            let mut want: Vec<String> = t.cols.iter().map(|(n, _)| n.to_string()).collect();
            want.push("id".into());
            want.sort();
            let mut got: Vec<String> = cols.iter().map(|(n, _)| n.clone()).collect();
            got.sort();
            assert_eq!(got, want, "{}: the spec's columns are not the table's", t.name);
            for (name, ty) in t.cols {
                let sql_ty = &cols
                    .iter()
                    .find(|(n, _)| n == name)
                    .map(|(_, ty)| ty.clone())
                    .unwrap_or_default();
                let expect = match ty {
                    Col::Text => "TEXT",
                    Col::Int => "INTEGER",
                };
                assert_eq!(sql_ty, expect, "{}.{name}", t.name);
            }
        }
    }

    #[test]
    fn quarters_follow_months() {
        assert_eq!(quarter_of("2026-01-05T00:00:00Z"), "2026Q1");
        assert_eq!(quarter_of("2026-12-31T23:59:59Z"), "2026Q4");
        assert_eq!(quarter_of("2026-13-01"), "");
        assert_eq!(quarter_of("x"), "");
    }

    #[test]
    fn rich_text_from_any_path_is_sanitised_by_the_projection() {
        let spec = super::super::table_spec("issues").unwrap_or_else(|| panic!("issues"));
        let mut vals: Vec<Val> = spec.cols.iter().map(|_| Val::Null).collect();
        let h = spec
            .cols
            .iter()
            .position(|(n, _)| *n == "description_html")
            .unwrap_or(0);
        let t = spec
            .cols
            .iter()
            .position(|(n, _)| *n == "description_text")
            .unwrap_or(0);
        vals[h] = Val::Text("<p onclick=\"x()\">hi<script>alert(1)</script></p>".into());
        vals[t] = Val::Text("a lie".into());
        derive_fields(spec, &mut vals);
        assert_eq!(vals[h], Val::Text("<p>hi</p>".into()));
        assert_eq!(vals[t], Val::Text("hi".into()));
    }
}
