//! Which documents there are (`DocKind`, `DocRef` with its one parse), which tables they
//! hold (`TableSpec`; `TABLES` lists the specs each domain declares with `table!`) and the
//! values of fields (`Val`).

use super::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocKind {
    /// Workspace record, members, invitations. Written by workspace admins.
    Workspace,
    /// One project: its record, members, states, labels, issues, comments and activity.
    /// Kept out of the workspace document so that a private project's name never reaches
    /// a device whose user may not see it.
    Project,
    /// The work logs one person logged in one project, in one calendar quarter (by the
    /// quarter the log was created in, so a log never moves between documents). Written
    /// by their owner; project admins may correct them.
    Worklogs,
    /// One person's own records in one workspace: running timers (later favorites,
    /// display properties, home preferences). Written only by that person.
    User,
    /// A workspace's staff records that only its admins may see: the private fields of
    /// staff profiles (phone, job grade, notes) and the history of transfers. Read and
    /// written by workspace admins only, so none of it reaches a member's device.
    Staff,
    /// A workspace's dashboards and their widgets: the shared ones (read by members,
    /// written by admins) in one document, each person's own in one document of theirs
    /// (read and written by that person only).
    Dashboards,
}

impl DocKind {
    pub const ALL: [DocKind; 6] = [
        DocKind::Workspace,
        DocKind::Project,
        DocKind::Worklogs,
        DocKind::User,
        DocKind::Staff,
        DocKind::Dashboards,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            DocKind::Workspace => "workspace",
            DocKind::Project => "project",
            DocKind::Worklogs => "worklogs",
            DocKind::User => "user",
            DocKind::Staff => "staff",
            DocKind::Dashboards => "dashboards",
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
    /// `quarter` is like `2026Q4`: the quarter the log was created in.
    pub fn worklogs(workspace_id: &str, project_id: &str, user_id: &str, quarter: &str) -> Self {
        Self {
            id: format!("worklogs:{project_id}:{user_id}:{quarter}"),
            kind: DocKind::Worklogs,
            workspace_id: workspace_id.to_string(),
        }
    }
    pub fn user(workspace_id: &str, user_id: &str) -> Self {
        Self {
            id: format!("user:{workspace_id}:{user_id}"),
            kind: DocKind::User,
            workspace_id: workspace_id.to_string(),
        }
    }

    pub fn staff(workspace_id: &str) -> Self {
        Self {
            id: format!("staff:{workspace_id}"),
            kind: DocKind::Staff,
            workspace_id: workspace_id.to_string(),
        }
    }

    /// The shared dashboards of a workspace (`owner` None) or one person's own.
    pub fn dashboards(workspace_id: &str, owner: Option<&str>) -> Self {
        Self {
            id: format!("dashboards:{workspace_id}:{}", owner.unwrap_or(SHARED)),
            kind: DocKind::Dashboards,
            workspace_id: workspace_id.to_string(),
        }
    }

    /// The one parse of a document id (of workspace `ws`), the inverse of the constructors
    /// above; `None` for ids Keel never makes (a hostile peer's, or another workspace's).
    pub fn parse(id: &str, ws: &str) -> Option<Self> {
        let uuid = |s: &str| s.len() == 36 && uuid::Uuid::parse_str(s).is_ok();
        if !uuid(ws) {
            return None;
        }
        let parts: Vec<&str> = id.split(':').collect();
        let d = match parts.as_slice() {
            ["ws", w] if *w == ws => Self::workspace(ws),
            ["project", p] if uuid(p) => Self::project(ws, p),
            ["worklogs", p, u, q] if uuid(p) && uuid(u) && is_quarter(q) => Self::worklogs(ws, p, u, q),
            ["user", w, u] if *w == ws && uuid(u) => Self::user(ws, u),
            ["staff", w] if *w == ws => Self::staff(ws),
            ["dashboards", w, o] if *w == ws && *o == SHARED => Self::dashboards(ws, None),
            ["dashboards", w, u] if *w == ws && uuid(u) => Self::dashboards(ws, Some(u)),
            _ => return None,
        };
        // Formatting gives the id back exactly: one spelling per document.
        (d.id == id).then_some(d)
    }
}

/// The owner part of the shared dashboards' document id.
pub const SHARED: &str = "shared";

pub(super) fn is_quarter(q: &str) -> bool {
    q.len() == 6
        && q.is_ascii()
        && q[..4].bytes().all(|b| b.is_ascii_digit())
        && matches!(&q[4..], "Q1" | "Q2" | "Q3" | "Q4")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Col {
    Text,
    Int,
}

/// How a record is held in its document (DESIGN §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// A nested `Y.Map` of fields: concurrent edits of different fields merge. For records
    /// several people edit field by field (projects, issues, states...).
    Fields,
    /// One atomic value (`Any::Map`) replaced whole on edit: 8× faster to apply and 2.5×
    /// smaller in memory. For records written once and rarely edited (work logs, comments,
    /// activity, timers) and for link records with a deterministic key (issue assignees).
    Atomic,
}

/// A projected table: which document kind holds its records and which fields become columns.
#[derive(Debug, PartialEq, Eq)]
pub struct TableSpec {
    pub name: &'static str,
    pub kind: DocKind,
    pub shape: Shape,
    pub cols: &'static [(&'static str, Col)],
}

/// Every projected table, each declared by its own domain (`records.rs`, `table!`).
/// `rebuild_projection` rewrites exactly these.
pub const TABLES: &[&TableSpec] = &[
    crate::workspaces::records::workspaces::SPEC,
    crate::workspaces::records::workspace_members::SPEC,
    crate::workspaces::records::invitations::SPEC,
    crate::plans::records::licences::SPEC,
    crate::org::records::departments::SPEC,
    crate::org::records::staff_profiles::SPEC,
    crate::org::records::staff_private::SPEC,
    crate::org::records::staff_pending::SPEC,
    crate::org::records::org_conflicts::SPEC,
    crate::org::records::staff_transfers::SPEC,
    crate::work::records::projects::SPEC,
    crate::work::records::project_members::SPEC,
    crate::work::records::project_activity::SPEC,
    crate::issues::records::states::SPEC,
    crate::issues::records::labels::SPEC,
    crate::issues::records::issues::SPEC,
    crate::issues::records::issue_assignees::SPEC,
    crate::issues::records::issue_labels::SPEC,
    crate::issues::records::issue_comments::SPEC,
    crate::issues::records::issue_activity::SPEC,
    crate::issues::records::sync_conflicts::SPEC,
    crate::timetrack::records::worklogs::SPEC,
    crate::planning::records::cycles::SPEC,
    crate::planning::records::modules::SPEC,
    crate::planning::records::issue_views::SPEC,
    crate::me::records::favorites::SPEC,
    crate::me::records::user_properties::SPEC,
    crate::me::records::home_preferences::SPEC,
    crate::me::records::quick_links::SPEC,
    crate::me::records::recent_visits::SPEC,
    crate::me::records::stickies::SPEC,
    crate::timetrack::records::timers::SPEC,
    crate::dashboards::records::dashboards::SPEC,
    crate::dashboards::records::dashboard_widgets::SPEC,
    crate::dashboards::records::dashboard_layouts::SPEC,
    crate::dashboards::records::dashboard_prefs::SPEC,
    crate::dashboards::records::dashboard_metrics::SPEC,
];

pub fn table_spec(name: &str) -> Option<&'static TableSpec> {
    TABLES.iter().copied().find(|t| t.name == name)
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
impl From<&String> for Val {
    fn from(s: &String) -> Self {
        Val::Text(s.clone())
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
    pub(super) fn to_any(&self) -> Any {
        match self {
            Val::Text(s) => Any::String(Arc::from(s.as_str())),
            Val::Int(i) => Any::from(*i),
            Val::Null => Any::Null,
        }
    }
}
