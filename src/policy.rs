//! The one policy table: for every route, who may call it. The HTTP layer looks each
//! request's matched route up here before any handler runs (a route missing from the table
//! is refused), and the authorization matrix test walks the table against the router.
//!
//! The table decides the coarse rule (signed in? which role in the workspace or project?);
//! rules that depend on the target (nobody grants a role above their own, a workspace keeps
//! an owner) live in the domain code and are tested there.

use serde::{Deserialize, Serialize};

/// Workspace roles, ordered: a higher role may do all a lower one may.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum WsRole {
    Guest,
    Member,
    Admin,
    Owner,
}

impl WsRole {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Guest => "guest",
            Self::Member => "member",
            Self::Admin => "admin",
            Self::Owner => "owner",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "guest" => Some(Self::Guest),
            "member" => Some(Self::Member),
            "admin" => Some(Self::Admin),
            "owner" => Some(Self::Owner),
            _ => None,
        }
    }
}

/// Project roles, ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProjRole {
    Guest,
    Member,
    Admin,
}

impl ProjRole {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Guest => "guest",
            Self::Member => "member",
            Self::Admin => "admin",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "guest" => Some(Self::Guest),
            "member" => Some(Self::Member),
            "admin" => Some(Self::Admin),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone, signed in or not.
    Public,
    /// A paired device, by its device token (`keel_dev_`), checked by the route itself:
    /// the sync WebSocket. Session and API tokens are refused there.
    Device,
    /// Any signed-in user, by session or API token.
    Authenticated,
    /// Signed in by a session, not an API token: credential management stays with people,
    /// so a leaked API token cannot mint more tokens or change the password.
    SessionOnly,
    /// The instance admin (the first account, or one made admin by the CLI).
    InstanceAdmin,
    /// A member of the `{slug}` workspace with at least this role; others get 404.
    Workspace(WsRole),
    /// Someone who can see project `{project_id}` of workspace `{slug}` with at least this
    /// project role. Workspace owners and admins count as project admins; a workspace
    /// member who is not in a public project sees it as a guest; others get 404.
    Project(ProjRole),
}

use Access::*;

const P: &str = "/api/v1/workspaces/{slug}/projects/{project_id}";
const D: &str = "/api/v1/workspaces/{slug}/departments/{department_id}";
const S: &str = "/api/v1/workspaces/{slug}/staff/{user_id}";

/// Every route of the server: method, path as routed, access rule.
pub const POLICY: &[(&str, &str, Access)] = &[
    ("GET", "/health", Public),
    ("GET", "/api/openapi.json", Public),
    ("GET", "/api/docs", Public),
    ("GET", "/api/docs/", Public),
    ("GET", "/api/docs/{*rest}", Public),
    // Identity
    ("POST", "/api/v1/auth/register", Public),
    ("POST", "/api/v1/auth/login", Public),
    ("POST", "/api/v1/auth/refresh", Public),
    ("POST", "/api/v1/auth/one-time", Public),
    ("GET", "/api/v1/instance/status", Public),
    // Plans: what each allows is no secret (the plan page before signing up shows it).
    ("GET", "/api/v1/plans", Public),
    ("GET", "/api/v1/workspaces/{slug}/plan", Workspace(WsRole::Guest)),
    ("PUT", "/api/v1/workspaces/{slug}/licence", Workspace(WsRole::Owner)),
    ("DELETE", "/api/v1/workspaces/{slug}/licence", Workspace(WsRole::Owner)),
    // Analytics (seed 000: admins and members); what counts is what the caller may see
    // (the domain narrows projects and time). A project's analytics are its readers'.
    ("GET", "/api/v1/workspaces/{slug}/analytics", Workspace(WsRole::Member)),
    (
        "GET",
        "/api/v1/workspaces/{slug}/analytics/charts",
        Workspace(WsRole::Member),
    ),
    (
        "GET",
        "/api/v1/workspaces/{slug}/projects/{project_id}/analytics",
        Project(ProjRole::Guest),
    ),
    (
        "GET",
        "/api/v1/workspaces/{slug}/projects/{project_id}/analytics/charts",
        Project(ProjRole::Guest),
    ),
    // Dashboards (seeds 000 and 004: admins and members). The record rules narrow it: shared
    // dashboards are arranged by admins, a person's own by that person; beyond the default
    // one they are premium. The widget types are no secret.
    ("GET", "/api/v1/dashboard-widget-types", Public),
    ("GET", "/api/v1/workspaces/{slug}/dashboards", Workspace(WsRole::Member)),
    (
        "POST",
        "/api/v1/workspaces/{slug}/dashboards",
        Workspace(WsRole::Member),
    ),
    (
        "GET",
        "/api/v1/workspaces/{slug}/dashboards/{dashboard_id}",
        Workspace(WsRole::Member),
    ),
    (
        "PATCH",
        "/api/v1/workspaces/{slug}/dashboards/{dashboard_id}",
        Workspace(WsRole::Member),
    ),
    (
        "DELETE",
        "/api/v1/workspaces/{slug}/dashboards/{dashboard_id}",
        Workspace(WsRole::Member),
    ),
    (
        "GET",
        "/api/v1/workspaces/{slug}/dashboards/{dashboard_id}/data",
        Workspace(WsRole::Member),
    ),
    (
        "GET",
        "/api/v1/workspaces/{slug}/dashboards/{dashboard_id}/export",
        Workspace(WsRole::Member),
    ),
    (
        "POST",
        "/api/v1/workspaces/{slug}/dashboards/import",
        Workspace(WsRole::Member),
    ),
    (
        "POST",
        "/api/v1/workspaces/{slug}/dashboards/{dashboard_id}/widgets",
        Workspace(WsRole::Member),
    ),
    (
        "POST",
        "/api/v1/workspaces/{slug}/dashboards/{dashboard_id}/widgets/preview",
        Workspace(WsRole::Member),
    ),
    (
        "PATCH",
        "/api/v1/workspaces/{slug}/dashboards/{dashboard_id}/widgets/{widget_id}",
        Workspace(WsRole::Member),
    ),
    (
        "DELETE",
        "/api/v1/workspaces/{slug}/dashboards/{dashboard_id}/widgets/{widget_id}",
        Workspace(WsRole::Member),
    ),
    (
        "GET",
        "/api/v1/workspaces/{slug}/dashboards/{dashboard_id}/widgets/{widget_id}/data",
        Workspace(WsRole::Member),
    ),
    (
        "PUT",
        "/api/v1/workspaces/{slug}/dashboards/{dashboard_id}/layout",
        Workspace(WsRole::Member),
    ),
    (
        "GET",
        "/api/v1/workspaces/{slug}/dashboards/{dashboard_id}/layouts",
        Workspace(WsRole::Member),
    ),
    (
        "POST",
        "/api/v1/workspaces/{slug}/dashboards/{dashboard_id}/layouts/{layout_id}/restore",
        Workspace(WsRole::Member),
    ),
    (
        "PUT",
        "/api/v1/workspaces/{slug}/dashboards/{dashboard_id}/favorite",
        Workspace(WsRole::Member),
    ),
    (
        "PUT",
        "/api/v1/workspaces/{slug}/dashboards/{dashboard_id}/my-default",
        Workspace(WsRole::Member),
    ),
    (
        "DELETE",
        "/api/v1/workspaces/{slug}/dashboards/{dashboard_id}/favorite",
        Workspace(WsRole::Member),
    ),
    (
        "DELETE",
        "/api/v1/workspaces/{slug}/dashboards/{dashboard_id}/my-default",
        Workspace(WsRole::Member),
    ),
    // Metrics (seed 004): every member reads them (each value as they may see it); admins
    // manage them and compute one on demand.
    ("GET", "/api/v1/workspaces/{slug}/metrics", Workspace(WsRole::Member)),
    ("POST", "/api/v1/workspaces/{slug}/metrics", Workspace(WsRole::Admin)),
    (
        "GET",
        "/api/v1/workspaces/{slug}/metrics/{metric_id}",
        Workspace(WsRole::Member),
    ),
    (
        "PATCH",
        "/api/v1/workspaces/{slug}/metrics/{metric_id}",
        Workspace(WsRole::Admin),
    ),
    (
        "DELETE",
        "/api/v1/workspaces/{slug}/metrics/{metric_id}",
        Workspace(WsRole::Admin),
    ),
    (
        "POST",
        "/api/v1/workspaces/{slug}/metrics/{metric_id}/refresh",
        Workspace(WsRole::Admin),
    ),
    ("POST", "/api/v1/auth/logout", Authenticated),
    ("GET", "/api/v1/users/me", Authenticated),
    ("PATCH", "/api/v1/users/me", SessionOnly),
    ("POST", "/api/v1/users/me/password", SessionOnly),
    ("GET", "/api/v1/users/me/tokens", SessionOnly),
    ("POST", "/api/v1/users/me/tokens", SessionOnly),
    ("DELETE", "/api/v1/users/me/tokens/{token_id}", SessionOnly),
    ("GET", "/api/v1/instance/settings", InstanceAdmin),
    ("PATCH", "/api/v1/instance/settings", InstanceAdmin),
    // Workspaces and members
    ("GET", "/api/v1/workspaces", Authenticated),
    ("POST", "/api/v1/workspaces", Authenticated),
    ("GET", "/api/v1/workspaces/{slug}", Workspace(WsRole::Guest)),
    ("PATCH", "/api/v1/workspaces/{slug}", Workspace(WsRole::Admin)),
    ("DELETE", "/api/v1/workspaces/{slug}", Workspace(WsRole::Owner)),
    ("GET", "/api/v1/workspaces/{slug}/members", Workspace(WsRole::Guest)),
    ("POST", "/api/v1/workspaces/{slug}/members", Workspace(WsRole::Admin)),
    (
        "PATCH",
        "/api/v1/workspaces/{slug}/members/{user_id}",
        Workspace(WsRole::Admin),
    ),
    // Anyone may leave; removing somebody else needs admin (checked in the domain).
    (
        "DELETE",
        "/api/v1/workspaces/{slug}/members/{user_id}",
        Workspace(WsRole::Guest),
    ),
    ("GET", "/api/v1/workspaces/{slug}/invitations", Workspace(WsRole::Admin)),
    (
        "POST",
        "/api/v1/workspaces/{slug}/invitations",
        Workspace(WsRole::Admin),
    ),
    (
        "DELETE",
        "/api/v1/workspaces/{slug}/invitations/{invitation_id}",
        Workspace(WsRole::Admin),
    ),
    ("POST", "/api/v1/invitations/accept", Authenticated),
    // Departments: members see the organisation, admins shape it.
    (
        "GET",
        "/api/v1/workspaces/{slug}/departments",
        Workspace(WsRole::Member),
    ),
    (
        "POST",
        "/api/v1/workspaces/{slug}/departments",
        Workspace(WsRole::Admin),
    ),
    (
        "GET",
        "/api/v1/workspaces/{slug}/departments/tree",
        Workspace(WsRole::Member),
    ),
    ("GET", D, Workspace(WsRole::Member)),
    ("PUT", D, Workspace(WsRole::Admin)),
    ("PATCH", D, Workspace(WsRole::Admin)),
    ("DELETE", D, Workspace(WsRole::Admin)),
    // Staff: members see the directory (without phone, job grade and notes); admins keep it.
    ("GET", "/api/v1/workspaces/{slug}/staff", Workspace(WsRole::Member)),
    ("POST", "/api/v1/workspaces/{slug}/staff", Workspace(WsRole::Admin)),
    (
        "GET",
        "/api/v1/workspaces/{slug}/staff/stats",
        Workspace(WsRole::Member),
    ),
    (
        "GET",
        "/api/v1/workspaces/{slug}/staff/export",
        Workspace(WsRole::Admin),
    ),
    (
        "POST",
        "/api/v1/workspaces/{slug}/staff/bulk-import",
        Workspace(WsRole::Admin),
    ),
    ("GET", S, Workspace(WsRole::Member)),
    ("PUT", S, Workspace(WsRole::Admin)),
    ("PATCH", S, Workspace(WsRole::Admin)),
    ("DELETE", S, Workspace(WsRole::Admin)),
    (
        "POST",
        "/api/v1/workspaces/{slug}/staff/{user_id}/transfer",
        Workspace(WsRole::Admin),
    ),
    (
        "POST",
        "/api/v1/workspaces/{slug}/staff/{user_id}/deactivate",
        Workspace(WsRole::Admin),
    ),
    (
        "GET",
        "/api/v1/workspaces/{slug}/staff/{user_id}/transfers",
        Workspace(WsRole::Admin),
    ),
    // Projects
    ("GET", "/api/v1/workspaces/{slug}/projects", Workspace(WsRole::Guest)),
    ("POST", "/api/v1/workspaces/{slug}/projects", Workspace(WsRole::Member)),
    ("GET", P, Project(ProjRole::Guest)),
    ("PATCH", P, Project(ProjRole::Admin)),
    ("DELETE", P, Project(ProjRole::Admin)),
    (
        "POST",
        "/api/v1/workspaces/{slug}/projects/{project_id}/archive",
        Project(ProjRole::Admin),
    ),
    (
        "POST",
        "/api/v1/workspaces/{slug}/projects/{project_id}/unarchive",
        Project(ProjRole::Admin),
    ),
    (
        "GET",
        "/api/v1/workspaces/{slug}/projects/{project_id}/members",
        Project(ProjRole::Guest),
    ),
    (
        "GET",
        "/api/v1/workspaces/{slug}/projects/{project_id}/activity",
        Project(ProjRole::Member),
    ),
    (
        "POST",
        "/api/v1/workspaces/{slug}/projects/{project_id}/members",
        Project(ProjRole::Admin),
    ),
    (
        "PATCH",
        "/api/v1/workspaces/{slug}/projects/{project_id}/members/{user_id}",
        Project(ProjRole::Admin),
    ),
    // Anyone may leave a project; removing somebody else needs project admin.
    (
        "DELETE",
        "/api/v1/workspaces/{slug}/projects/{project_id}/members/{user_id}",
        Project(ProjRole::Guest),
    ),
    // Work items: states (admins shape the workflow), labels, issues, comments.
    (
        "GET",
        "/api/v1/workspaces/{slug}/projects/{project_id}/states",
        Project(ProjRole::Guest),
    ),
    (
        "POST",
        "/api/v1/workspaces/{slug}/projects/{project_id}/states",
        Project(ProjRole::Admin),
    ),
    (
        "PATCH",
        "/api/v1/workspaces/{slug}/projects/{project_id}/states/{state_id}",
        Project(ProjRole::Admin),
    ),
    (
        "DELETE",
        "/api/v1/workspaces/{slug}/projects/{project_id}/states/{state_id}",
        Project(ProjRole::Admin),
    ),
    (
        "GET",
        "/api/v1/workspaces/{slug}/projects/{project_id}/labels",
        Project(ProjRole::Guest),
    ),
    (
        "POST",
        "/api/v1/workspaces/{slug}/projects/{project_id}/labels",
        Project(ProjRole::Member),
    ),
    (
        "PATCH",
        "/api/v1/workspaces/{slug}/projects/{project_id}/labels/{label_id}",
        Project(ProjRole::Member),
    ),
    (
        "DELETE",
        "/api/v1/workspaces/{slug}/projects/{project_id}/labels/{label_id}",
        Project(ProjRole::Member),
    ),
    (
        "GET",
        "/api/v1/workspaces/{slug}/projects/{project_id}/issues",
        Project(ProjRole::Guest),
    ),
    (
        "POST",
        "/api/v1/workspaces/{slug}/projects/{project_id}/issues",
        Project(ProjRole::Member),
    ),
    (
        "GET",
        "/api/v1/workspaces/{slug}/projects/{project_id}/issues/{issue_id}",
        Project(ProjRole::Guest),
    ),
    (
        "PATCH",
        "/api/v1/workspaces/{slug}/projects/{project_id}/issues/{issue_id}",
        Project(ProjRole::Member),
    ),
    // Its creator or a project admin (checked in the domain).
    (
        "DELETE",
        "/api/v1/workspaces/{slug}/projects/{project_id}/issues/{issue_id}",
        Project(ProjRole::Member),
    ),
    (
        "GET",
        "/api/v1/workspaces/{slug}/projects/{project_id}/issues/{issue_id}/activity",
        Project(ProjRole::Guest),
    ),
    (
        "GET",
        "/api/v1/workspaces/{slug}/projects/{project_id}/issues/{issue_id}/comments",
        Project(ProjRole::Guest),
    ),
    // Guests may take part in the discussion, as in Plane.
    (
        "POST",
        "/api/v1/workspaces/{slug}/projects/{project_id}/issues/{issue_id}/comments",
        Project(ProjRole::Guest),
    ),
    // The author edits; the author or a project admin deletes (checked in the domain).
    (
        "PATCH",
        "/api/v1/workspaces/{slug}/projects/{project_id}/issues/{issue_id}/comments/{comment_id}",
        Project(ProjRole::Guest),
    ),
    (
        "DELETE",
        "/api/v1/workspaces/{slug}/projects/{project_id}/issues/{issue_id}/comments/{comment_id}",
        Project(ProjRole::Guest),
    ),
    // Time tracking: admins and members log time, guests cannot (seed 003).
    (
        "GET",
        "/api/v1/workspaces/{slug}/projects/{project_id}/issues/{issue_id}/worklogs",
        Project(ProjRole::Member),
    ),
    (
        "POST",
        "/api/v1/workspaces/{slug}/projects/{project_id}/issues/{issue_id}/worklogs",
        Project(ProjRole::Member),
    ),
    // The author, or a project admin (checked in the domain).
    (
        "PATCH",
        "/api/v1/workspaces/{slug}/projects/{project_id}/issues/{issue_id}/worklogs/{worklog_id}",
        Project(ProjRole::Member),
    ),
    (
        "DELETE",
        "/api/v1/workspaces/{slug}/projects/{project_id}/issues/{issue_id}/worklogs/{worklog_id}",
        Project(ProjRole::Member),
    ),
    (
        "GET",
        "/api/v1/workspaces/{slug}/projects/{project_id}/issues/{issue_id}/worklogs/summary",
        Project(ProjRole::Member),
    ),
    (
        "POST",
        "/api/v1/workspaces/{slug}/projects/{project_id}/issues/{issue_id}/timer",
        Project(ProjRole::Member),
    ),
    (
        "GET",
        "/api/v1/workspaces/{slug}/projects/{project_id}/worklogs",
        Project(ProjRole::Member),
    ),
    (
        "GET",
        "/api/v1/workspaces/{slug}/projects/{project_id}/worklogs/summary",
        Project(ProjRole::Member),
    ),
    (
        "GET",
        "/api/v1/workspaces/{slug}/projects/{project_id}/worklogs/export",
        Project(ProjRole::Member),
    ),
    // Admins see everybody's time; members their own (the domain narrows it).
    (
        "GET",
        "/api/v1/workspaces/{slug}/time-tracking/summary",
        Workspace(WsRole::Member),
    ),
    (
        "GET",
        "/api/v1/workspaces/{slug}/time-tracking/export",
        Workspace(WsRole::Member),
    ),
    // The caller's own timer; stopping it re-checks the project's rules.
    // Sync: pairing checks credentials itself (rate-limited like sign-in); devices are
    // managed by their person; peers are this instance's own, managed by its admin.
    ("POST", "/api/v1/sync/pair", Public),
    ("GET", "/api/v1/sync", Device),
    ("GET", "/api/v1/users/me/devices", SessionOnly),
    ("DELETE", "/api/v1/users/me/devices/{device_id}", SessionOnly),
    ("GET", "/api/v1/sync/peers", InstanceAdmin),
    ("POST", "/api/v1/sync/peers", InstanceAdmin),
    (
        "GET",
        "/api/v1/workspaces/{slug}/sync/conflicts",
        Workspace(WsRole::Admin),
    ),
    ("GET", "/api/v1/users/me/timer", Authenticated),
    ("DELETE", "/api/v1/users/me/timer", Authenticated),
    ("POST", "/api/v1/users/me/timer/stop", Authenticated),
    // Planning: cycles, modules, saved views (creator or project admin change them).
    (
        "GET",
        "/api/v1/workspaces/{slug}/projects/{project_id}/cycles",
        Project(ProjRole::Guest),
    ),
    (
        "POST",
        "/api/v1/workspaces/{slug}/projects/{project_id}/cycles",
        Project(ProjRole::Member),
    ),
    (
        "GET",
        "/api/v1/workspaces/{slug}/projects/{project_id}/cycles/{cycle_id}",
        Project(ProjRole::Guest),
    ),
    (
        "PATCH",
        "/api/v1/workspaces/{slug}/projects/{project_id}/cycles/{cycle_id}",
        Project(ProjRole::Member),
    ),
    (
        "DELETE",
        "/api/v1/workspaces/{slug}/projects/{project_id}/cycles/{cycle_id}",
        Project(ProjRole::Member),
    ),
    (
        "GET",
        "/api/v1/workspaces/{slug}/projects/{project_id}/modules",
        Project(ProjRole::Guest),
    ),
    (
        "POST",
        "/api/v1/workspaces/{slug}/projects/{project_id}/modules",
        Project(ProjRole::Member),
    ),
    (
        "GET",
        "/api/v1/workspaces/{slug}/projects/{project_id}/modules/{module_id}",
        Project(ProjRole::Guest),
    ),
    (
        "PATCH",
        "/api/v1/workspaces/{slug}/projects/{project_id}/modules/{module_id}",
        Project(ProjRole::Member),
    ),
    (
        "DELETE",
        "/api/v1/workspaces/{slug}/projects/{project_id}/modules/{module_id}",
        Project(ProjRole::Member),
    ),
    (
        "GET",
        "/api/v1/workspaces/{slug}/projects/{project_id}/views",
        Project(ProjRole::Guest),
    ),
    (
        "POST",
        "/api/v1/workspaces/{slug}/projects/{project_id}/views",
        Project(ProjRole::Member),
    ),
    (
        "GET",
        "/api/v1/workspaces/{slug}/projects/{project_id}/views/{view_id}",
        Project(ProjRole::Guest),
    ),
    (
        "PATCH",
        "/api/v1/workspaces/{slug}/projects/{project_id}/views/{view_id}",
        Project(ProjRole::Member),
    ),
    (
        "DELETE",
        "/api/v1/workspaces/{slug}/projects/{project_id}/views/{view_id}",
        Project(ProjRole::Member),
    ),
    (
        "GET",
        "/api/v1/workspaces/{slug}/projects/{project_id}/views/{view_id}/issues",
        Project(ProjRole::Guest),
    ),
    // A person's own records: everyone who can see the scope manages their own.
    ("GET", "/api/v1/workspaces/{slug}/favorites", Workspace(WsRole::Guest)),
    ("POST", "/api/v1/workspaces/{slug}/favorites", Workspace(WsRole::Guest)),
    (
        "DELETE",
        "/api/v1/workspaces/{slug}/favorites/{entity_type}/{entity_id}",
        Workspace(WsRole::Guest),
    ),
    (
        "GET",
        "/api/v1/workspaces/{slug}/user-properties",
        Workspace(WsRole::Guest),
    ),
    (
        "PATCH",
        "/api/v1/workspaces/{slug}/user-properties",
        Workspace(WsRole::Guest),
    ),
    (
        "GET",
        "/api/v1/workspaces/{slug}/projects/{project_id}/user-properties",
        Project(ProjRole::Guest),
    ),
    (
        "PATCH",
        "/api/v1/workspaces/{slug}/projects/{project_id}/user-properties",
        Project(ProjRole::Guest),
    ),
    (
        "GET",
        "/api/v1/workspaces/{slug}/projects/{project_id}/cycles/{cycle_id}/user-properties",
        Project(ProjRole::Guest),
    ),
    (
        "PATCH",
        "/api/v1/workspaces/{slug}/projects/{project_id}/cycles/{cycle_id}/user-properties",
        Project(ProjRole::Guest),
    ),
    (
        "GET",
        "/api/v1/workspaces/{slug}/projects/{project_id}/modules/{module_id}/user-properties",
        Project(ProjRole::Guest),
    ),
    (
        "PATCH",
        "/api/v1/workspaces/{slug}/projects/{project_id}/modules/{module_id}/user-properties",
        Project(ProjRole::Guest),
    ),
    (
        "GET",
        "/api/v1/workspaces/{slug}/home-preferences",
        Workspace(WsRole::Guest),
    ),
    (
        "PATCH",
        "/api/v1/workspaces/{slug}/home-preferences/{key}",
        Workspace(WsRole::Guest),
    ),
    ("GET", "/api/v1/workspaces/{slug}/quick-links", Workspace(WsRole::Guest)),
    (
        "POST",
        "/api/v1/workspaces/{slug}/quick-links",
        Workspace(WsRole::Guest),
    ),
    (
        "PATCH",
        "/api/v1/workspaces/{slug}/quick-links/{link_id}",
        Workspace(WsRole::Guest),
    ),
    (
        "DELETE",
        "/api/v1/workspaces/{slug}/quick-links/{link_id}",
        Workspace(WsRole::Guest),
    ),
    (
        "GET",
        "/api/v1/workspaces/{slug}/recent-visits",
        Workspace(WsRole::Guest),
    ),
    ("GET", "/api/v1/workspaces/{slug}/stickies", Workspace(WsRole::Guest)),
    ("POST", "/api/v1/workspaces/{slug}/stickies", Workspace(WsRole::Guest)),
    (
        "PATCH",
        "/api/v1/workspaces/{slug}/stickies/{sticky_id}",
        Workspace(WsRole::Guest),
    ),
    (
        "DELETE",
        "/api/v1/workspaces/{slug}/stickies/{sticky_id}",
        Workspace(WsRole::Guest),
    ),
];

pub fn lookup(method: &str, path: &str) -> Option<Access> {
    POLICY
        .iter()
        .find(|(m, p, _)| *m == method && *p == path)
        .map(|(_, _, a)| *a)
}
