//! Which documents there are (`DocKind`, `DocRef` with its one parse), which tables they
//! hold (`TableSpec`, `TABLES`: kind, shape, columns) and the values of fields (`Val`).

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
}

impl DocKind {
    pub const ALL: [DocKind; 5] = [
        DocKind::Workspace,
        DocKind::Project,
        DocKind::Worklogs,
        DocKind::User,
        DocKind::Staff,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            DocKind::Workspace => "workspace",
            DocKind::Project => "project",
            DocKind::Worklogs => "worklogs",
            DocKind::User => "user",
            DocKind::Staff => "staff",
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
            _ => return None,
        };
        // Formatting gives the id back exactly: one spelling per document.
        (d.id == id).then_some(d)
    }
}

pub(super) fn is_quarter(q: &str) -> bool {
    q.len() == 6 && q[..4].bytes().all(|b| b.is_ascii_digit()) && matches!(&q[4..], "Q1" | "Q2" | "Q3" | "Q4")
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
#[derive(Debug)]
pub struct TableSpec {
    pub name: &'static str,
    pub kind: DocKind,
    pub shape: Shape,
    pub cols: &'static [(&'static str, Col)],
}

pub(super) const BASE: [(&str, Col); 4] = [
    ("created_at", Col::Text),
    ("updated_at", Col::Text),
    ("created_by", Col::Text),
    ("deleted_at", Col::Text),
];

macro_rules! cols {
    ($($name:literal : $ty:ident),* $(,)?) => {
        &[$(($name, Col::$ty),)* BASE[0], BASE[1], BASE[2], BASE[3]]
    };
}

/// Every projected table. `rebuild_projection` rewrites exactly these.
pub const TABLES: &[TableSpec] = &[
    TableSpec {
        name: "workspaces",
        kind: DocKind::Workspace,
        shape: Shape::Fields,
        cols: cols!["name": Text, "slug": Text, "display_id": Text, "plan": Text],
    },
    TableSpec {
        name: "workspace_members",
        kind: DocKind::Workspace,
        shape: Shape::Fields,
        cols: cols!["workspace_id": Text, "user_id": Text, "role": Text],
    },
    TableSpec {
        name: "invitations",
        kind: DocKind::Workspace,
        shape: Shape::Fields,
        cols: cols![
            "workspace_id": Text, "email": Text, "role": Text, "token_hash": Text,
            "expires_at": Text, "accepted_at": Text, "accepted_by": Text
        ],
    },
    TableSpec {
        name: "departments",
        kind: DocKind::Workspace,
        shape: Shape::Fields,
        cols: cols![
            "workspace_id": Text, "name": Text, "code": Text, "short_name": Text,
            "dept_code": Text, "parent_id": Text, "manager_id": Text,
            "linked_project_id": Text, "is_active": Int, "sort_order": Int
        ],
    },
    TableSpec {
        name: "staff_profiles",
        kind: DocKind::Workspace,
        shape: Shape::Fields,
        cols: cols![
            "workspace_id": Text, "user_id": Text, "staff_id": Text, "department_id": Text,
            "position": Text, "date_of_joining": Text, "date_of_leaving": Text,
            "employment_status": Text, "is_department_manager": Int
        ],
    },
    TableSpec {
        name: "staff_private",
        kind: DocKind::Staff,
        shape: Shape::Fields,
        cols: cols![
            "workspace_id": Text, "user_id": Text, "phone": Text, "job_grade": Text, "notes": Text
        ],
    },
    TableSpec {
        name: "staff_pending",
        kind: DocKind::Staff,
        shape: Shape::Atomic,
        cols: cols!["workspace_id": Text, "email": Text, "data": Text],
    },
    TableSpec {
        name: "org_conflicts",
        kind: DocKind::Staff,
        shape: Shape::Atomic,
        cols: cols![
            "workspace_id": Text, "kind": Text, "record_id": Text, "old_value": Text, "new_value": Text
        ],
    },
    TableSpec {
        name: "staff_transfers",
        kind: DocKind::Staff,
        shape: Shape::Atomic,
        cols: cols![
            "workspace_id": Text, "user_id": Text, "from_department_id": Text,
            "to_department_id": Text, "effective_date": Text, "reason": Text
        ],
    },
    TableSpec {
        name: "projects",
        kind: DocKind::Project,
        shape: Shape::Fields,
        cols: cols![
            "workspace_id": Text, "name": Text, "identifier": Text, "description": Text,
            "is_private": Int, "is_time_tracking_enabled": Int, "archived_at": Text,
            "linked_department_id": Text
        ],
    },
    TableSpec {
        name: "project_members",
        kind: DocKind::Project,
        shape: Shape::Fields,
        cols: cols![
            "workspace_id": Text, "project_id": Text, "user_id": Text, "role": Text,
            "manual": Int, "via_departments": Text
        ],
    },
    TableSpec {
        name: "project_activity",
        kind: DocKind::Project,
        shape: Shape::Atomic,
        cols: cols![
            "workspace_id": Text, "project_id": Text, "user_id": Text, "verb": Text,
            "old_value": Text, "new_value": Text
        ],
    },
    TableSpec {
        name: "states",
        kind: DocKind::Project,
        shape: Shape::Fields,
        cols: cols![
            "workspace_id": Text, "project_id": Text, "name": Text, "color": Text,
            "state_group": Text, "sequence": Int, "is_default": Int
        ],
    },
    TableSpec {
        name: "labels",
        kind: DocKind::Project,
        shape: Shape::Fields,
        cols: cols!["workspace_id": Text, "project_id": Text, "name": Text, "color": Text],
    },
    TableSpec {
        name: "issues",
        kind: DocKind::Project,
        shape: Shape::Fields,
        cols: cols![
            "workspace_id": Text, "project_id": Text, "sequence_id": Int, "name": Text,
            "description_html": Text, "description_text": Text, "state_id": Text,
            "priority": Text, "estimate_point": Int, "estimate_time": Int, "start_date": Text,
            "target_date": Text, "parent_id": Text, "sort_order": Int, "completed_at": Text,
            "cycle_id": Text, "module_id": Text
        ],
    },
    TableSpec {
        name: "issue_assignees",
        kind: DocKind::Project,
        shape: Shape::Atomic,
        cols: cols!["workspace_id": Text, "project_id": Text, "issue_id": Text, "user_id": Text],
    },
    TableSpec {
        name: "issue_labels",
        kind: DocKind::Project,
        shape: Shape::Atomic,
        cols: cols!["workspace_id": Text, "project_id": Text, "issue_id": Text, "label_id": Text],
    },
    TableSpec {
        name: "issue_comments",
        kind: DocKind::Project,
        shape: Shape::Atomic,
        cols: cols![
            "workspace_id": Text, "project_id": Text, "issue_id": Text, "comment_html": Text,
            "comment_text": Text, "edited_at": Text
        ],
    },
    TableSpec {
        name: "issue_activity",
        kind: DocKind::Project,
        shape: Shape::Atomic,
        cols: cols![
            "workspace_id": Text, "project_id": Text, "issue_id": Text, "verb": Text,
            "field": Text, "old_value": Text, "new_value": Text
        ],
    },
    TableSpec {
        name: "sync_conflicts",
        kind: DocKind::Project,
        shape: Shape::Atomic,
        cols: cols![
            "workspace_id": Text, "project_id": Text, "kind": Text, "record_id": Text,
            "old_value": Text, "new_value": Text
        ],
    },
    TableSpec {
        name: "worklogs",
        kind: DocKind::Worklogs,
        shape: Shape::Atomic,
        cols: cols![
            "workspace_id": Text, "project_id": Text, "issue_id": Text, "logged_by": Text,
            "duration_minutes": Int, "description": Text, "logged_at": Text
        ],
    },
    TableSpec {
        name: "cycles",
        kind: DocKind::Project,
        shape: Shape::Fields,
        cols: cols![
            "workspace_id": Text, "project_id": Text, "name": Text, "description": Text,
            "start_date": Text, "end_date": Text
        ],
    },
    TableSpec {
        name: "modules",
        kind: DocKind::Project,
        shape: Shape::Fields,
        cols: cols![
            "workspace_id": Text, "project_id": Text, "name": Text, "description": Text,
            "status": Text, "lead_id": Text, "start_date": Text, "target_date": Text
        ],
    },
    TableSpec {
        name: "issue_views",
        kind: DocKind::Project,
        shape: Shape::Fields,
        cols: cols![
            "workspace_id": Text, "project_id": Text, "name": Text, "description": Text,
            "query": Text, "is_private": Int
        ],
    },
    TableSpec {
        name: "favorites",
        kind: DocKind::User,
        shape: Shape::Atomic,
        cols: cols![
            "workspace_id": Text, "user_id": Text, "entity_type": Text, "entity_id": Text,
            "project_id": Text
        ],
    },
    TableSpec {
        name: "user_properties",
        kind: DocKind::User,
        shape: Shape::Atomic,
        cols: cols![
            "workspace_id": Text, "user_id": Text, "entity_type": Text, "entity_id": Text,
            "project_id": Text, "filters": Text, "display_filters": Text,
            "display_properties": Text, "rich_filters": Text, "extra": Text
        ],
    },
    TableSpec {
        name: "home_preferences",
        kind: DocKind::User,
        shape: Shape::Atomic,
        cols: cols![
            "workspace_id": Text, "user_id": Text, "key": Text, "is_enabled": Int,
            "sort_order": Int, "config": Text
        ],
    },
    TableSpec {
        name: "quick_links",
        kind: DocKind::User,
        shape: Shape::Atomic,
        cols: cols!["workspace_id": Text, "user_id": Text, "title": Text, "url": Text, "sort_order": Int],
    },
    TableSpec {
        name: "recent_visits",
        kind: DocKind::User,
        shape: Shape::Atomic,
        cols: cols![
            "workspace_id": Text, "user_id": Text, "entity_type": Text, "entity_id": Text,
            "project_id": Text, "visited_at": Text
        ],
    },
    TableSpec {
        name: "stickies",
        kind: DocKind::User,
        shape: Shape::Atomic,
        cols: cols![
            "workspace_id": Text, "user_id": Text, "name": Text, "description_html": Text,
            "color": Text, "sort_order": Int
        ],
    },
    TableSpec {
        name: "timers",
        kind: DocKind::User,
        shape: Shape::Atomic,
        cols: cols![
            "workspace_id": Text, "project_id": Text, "issue_id": Text, "user_id": Text,
            "description": Text, "started_at": Text
        ],
    },
];

pub fn table_spec(name: &str) -> Option<&'static TableSpec> {
    TABLES.iter().find(|t| t.name == name)
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
