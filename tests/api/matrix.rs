//! The authorization matrix, driven by the one policy table: every route × every kind of
//! caller × {own workspace, other workspace, cross-workspace id, private project}.
//!
//! The expected answer is computed here from the roles each caller was given (not from
//! the server's code), then compared with what the server says. Requests that would be
//! allowed carry bodies the handler refuses (`{}`) or ids that do not exist, so they change
//! nothing; the few routes whose allowed call changes state run on fresh fixtures. After
//! the walk, the rows of the shared fixtures are compared with a dump taken before it.

use std::collections::{BTreeSet, HashMap};

use keel::policy::{Access, ProjRole, WsRole, POLICY};
use reqwest::Method;
use serde_json::json;

use crate::helpers::{TestApp, User};

#[test]
fn every_route_is_in_the_policy_table_and_every_entry_is_a_route() {
    let doc = keel::http::openapi();
    let mut routed = BTreeSet::new();
    for (path, item) in &doc.paths.paths {
        let ops = [
            ("GET", item.get.is_some()),
            ("POST", item.post.is_some()),
            ("PUT", item.put.is_some()),
            ("PATCH", item.patch.is_some()),
            ("DELETE", item.delete.is_some()),
        ];
        for (m, present) in ops {
            if present {
                routed.insert((m.to_string(), path.clone()));
            }
        }
    }
    // Served outside the OpenAPI document: the document itself and the docs UI.
    for p in ["/api/openapi.json", "/api/docs", "/api/docs/", "/api/docs/{*rest}"] {
        routed.insert(("GET".into(), p.into()));
    }
    let table: BTreeSet<(String, String)> = POLICY.iter().map(|(m, p, _)| (m.to_string(), p.to_string())).collect();
    let missing: Vec<_> = routed.difference(&table).collect();
    let stale: Vec<_> = table.difference(&routed).collect();
    assert!(missing.is_empty(), "routes missing from the policy table: {missing:?}");
    assert!(stale.is_empty(), "policy entries with no route: {stale:?}");
    assert_eq!(table.len(), POLICY.len(), "duplicate policy entries");
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Who {
    Owner,
    Admin,
    Member,
    Guest,
    NonMember,
    OtherAdmin,
    Anonymous,
    ApiToken,
    InstanceAdmin,
}

const WHO: [Who; 9] = [
    Who::Owner,
    Who::Admin,
    Who::Member,
    Who::Guest,
    Who::NonMember,
    Who::OtherAdmin,
    Who::Anonymous,
    Who::ApiToken,
    Who::InstanceAdmin,
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ctx {
    Own,
    Other,
    CrossId,
    Private,
}

const CTXS: [Ctx; 4] = [Ctx::Own, Ctx::Other, Ctx::CrossId, Ctx::Private];

struct World {
    users: HashMap<Who, User>,
    token: HashMap<Who, String>,
    own_project: String,
    private_project: String,
    other_project: String,
    other_owner: User,
}

fn ws_role(who: Who, slug: &str) -> Option<WsRole> {
    match (slug, who) {
        ("wsw", Who::Owner) => Some(WsRole::Owner),
        ("wsw", Who::Admin) => Some(WsRole::Admin),
        ("wsw", Who::Member | Who::ApiToken) => Some(WsRole::Member),
        ("wsw", Who::Guest) => Some(WsRole::Guest),
        ("wsx", Who::OtherAdmin) => Some(WsRole::Admin),
        _ => None,
    }
}

/// The caller's role in the project the context names (None: may not see it).
fn project_role(who: Who, ctx: Ctx) -> Option<ProjRole> {
    match ctx {
        // Public project of w: owner created it; member and guest were added to it.
        Ctx::Own => match who {
            Who::Owner | Who::Admin => Some(ProjRole::Admin),
            Who::Member | Who::ApiToken => Some(ProjRole::Member),
            Who::Guest => Some(ProjRole::Guest),
            _ => None,
        },
        // Private project of w with only its creator (the owner) as member.
        Ctx::Private => match who {
            Who::Owner | Who::Admin => Some(ProjRole::Admin),
            _ => None,
        },
        Ctx::Other => match who {
            Who::OtherAdmin => Some(ProjRole::Admin),
            _ => None,
        },
        // x's project id under w's slug: nobody sees it.
        Ctx::CrossId => None,
    }
}

#[derive(Debug, PartialEq)]
enum Expect {
    Allowed,
    Denied(u16),
}

fn expect(access: Access, who: Who, ctx: Ctx) -> Expect {
    let slug = if ctx == Ctx::Other { "wsx" } else { "wsw" };
    match access {
        Access::Public => Expect::Allowed,
        _ if who == Who::Anonymous => Expect::Denied(401),
        // Only a device token opens the sync socket: sessions and API tokens are refused.
        Access::Device => Expect::Denied(401),
        Access::Authenticated => Expect::Allowed,
        Access::SessionOnly if who == Who::ApiToken => Expect::Denied(403),
        Access::SessionOnly => Expect::Allowed,
        Access::InstanceAdmin if who == Who::InstanceAdmin => Expect::Allowed,
        Access::InstanceAdmin => Expect::Denied(403),
        Access::Workspace(min) => match ws_role(who, slug) {
            None => Expect::Denied(404),
            Some(r) if r < min => Expect::Denied(403),
            Some(_) => Expect::Allowed,
        },
        Access::Project(min) => match (ws_role(who, slug), project_role(who, ctx)) {
            (None, _) | (_, None) => Expect::Denied(404),
            (_, Some(r)) if r < min => Expect::Denied(403),
            _ => Expect::Allowed,
        },
    }
}

/// Routes whose allowed call changes shared state; they run on fresh fixtures.
fn destructive(method: &str, path: &str) -> bool {
    matches!(
        (method, path),
        ("POST", "/api/v1/auth/logout")
            | ("DELETE", "/api/v1/workspaces/{slug}")
            | ("DELETE", "/api/v1/workspaces/{slug}/projects/{project_id}")
            | ("POST", "/api/v1/workspaces/{slug}/projects/{project_id}/archive")
            | ("POST", "/api/v1/workspaces/{slug}/projects/{project_id}/unarchive")
    )
}

const NOBODY: &str = "00000000-0000-7000-8000-000000000000";

async fn world(app: &TestApp) -> World {
    let root = app.register("root@example.com").await; // first account: instance admin
    let o = app.register("owner@example.com").await;
    let a = app.register("admin@example.com").await;
    let m = app.register("member@example.com").await;
    let g = app.register("guest@example.com").await;
    let n = app.register("nonmember@example.com").await;
    let xa = app.register("other-admin@example.com").await;
    let xo = app.register("other-owner@example.com").await;
    app.create_workspace(&o, "wsw").await;
    app.add_member(&o, "wsw", &a, "admin").await;
    app.add_member(&o, "wsw", &m, "member").await;
    app.add_member(&o, "wsw", &g, "guest").await;
    app.create_workspace(&xo, "wsx").await;
    app.add_member(&xo, "wsx", &xa, "admin").await;
    let own_project = app.create_project(&o, "wsw", "OWN", false).await;
    for (u, role) in [(&m, "member"), (&g, "guest")] {
        app.post(
            &format!("/api/v1/workspaces/wsw/projects/{own_project}/members"),
            &o.token,
            json!({"user_id": u.id, "role": role}),
        )
        .await
        .ok(201);
    }
    let private_project = app.create_project(&o, "wsw", "PRIV", true).await;
    let other_project = app.create_project(&xo, "wsx", "XP", false).await;
    let api = app.api_token(&m).await;
    let mut users = HashMap::new();
    let mut token = HashMap::new();
    for (who, u) in [
        (Who::Owner, &o),
        (Who::Admin, &a),
        (Who::Member, &m),
        (Who::Guest, &g),
        (Who::NonMember, &n),
        (Who::OtherAdmin, &xa),
        (Who::InstanceAdmin, &root),
    ] {
        users.insert(who, u.clone());
        token.insert(who, u.token.clone());
    }
    token.insert(Who::ApiToken, api);
    users.insert(Who::ApiToken, m.clone());
    World {
        users,
        token,
        own_project,
        private_project,
        other_project,
        other_owner: xo,
    }
}

fn fill(path: &str, ctx: Ctx, w: &World, project_override: Option<&str>, slug_override: Option<&str>) -> String {
    let (slug, project) = match ctx {
        Ctx::Own => ("wsw", w.own_project.as_str()),
        Ctx::Other => ("wsx", w.other_project.as_str()),
        Ctx::CrossId => ("wsw", w.other_project.as_str()),
        Ctx::Private => ("wsw", w.private_project.as_str()),
    };
    path.replace("{slug}", slug_override.unwrap_or(slug))
        .replace("{project_id}", project_override.unwrap_or(project))
        .replace("{user_id}", NOBODY)
        .replace("{token_id}", NOBODY)
        .replace("{invitation_id}", NOBODY)
        .replace("{state_id}", NOBODY)
        .replace("{label_id}", NOBODY)
        .replace("{issue_id}", NOBODY)
        .replace("{comment_id}", NOBODY)
        .replace("{worklog_id}", NOBODY)
        .replace("{cycle_id}", NOBODY)
        .replace("{module_id}", NOBODY)
        .replace("{view_id}", NOBODY)
        .replace("{entity_type}", "project")
        .replace("{entity_id}", NOBODY)
        .replace("{key}", "nothing")
        .replace("{link_id}", NOBODY)
        .replace("{sticky_id}", NOBODY)
        .replace("{device_id}", NOBODY)
        .replace("{department_id}", NOBODY)
        .replace("{dashboard_id}", NOBODY)
        .replace("{widget_id}", NOBODY)
        .replace("{layout_id}", NOBODY)
        .replace("{metric_id}", NOBODY)
        .replace("{*rest}", "index.css")
}

/// A 404 that the policy layer gave (the scope is invisible), as opposed to a handler's
/// 404 for a target id that does not exist.
fn is_policy_404(r: &crate::helpers::Res) -> bool {
    r.status == 404 && matches!(r.message(), "workspace not found" | "project not found")
}

#[tokio::test]
async fn authorization_matrix() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    // The shared fixtures: everything of the two workspaces but the fresh projects (F…).
    let snapshot = |app: &TestApp| -> Vec<Vec<serde_json::Value>> {
        let in_ws = "workspace_id IN (SELECT id FROM workspaces WHERE slug IN ('wsw','wsx'))";
        let fresh = "(SELECT id FROM projects WHERE identifier LIKE 'F%')";
        vec![
            app.dump(&format!("SELECT * FROM workspace_members WHERE {in_ws} ORDER BY id")),
            app.dump(&format!("SELECT * FROM invitations WHERE {in_ws} ORDER BY id")),
            app.dump(&format!("SELECT * FROM departments WHERE {in_ws} ORDER BY id")),
            app.dump(&format!("SELECT * FROM staff_profiles WHERE {in_ws} ORDER BY id")),
            app.dump(&format!("SELECT * FROM staff_private WHERE {in_ws} ORDER BY id")),
            app.dump(&format!("SELECT * FROM staff_transfers WHERE {in_ws} ORDER BY id")),
            app.dump(&format!(
                "SELECT * FROM projects WHERE {in_ws} AND id NOT IN {fresh} ORDER BY id"
            )),
            app.dump(&format!(
                "SELECT * FROM project_members WHERE {in_ws} AND project_id NOT IN {fresh} ORDER BY id"
            )),
            app.dump("SELECT * FROM workspaces WHERE slug IN ('wsw','wsx') ORDER BY id"),
            app.dump("SELECT id, email, display_name, password_hash FROM users ORDER BY id"),
        ]
    };
    let before = snapshot(&app);
    let mut failures = Vec::new();
    let mut checked = 0;
    let mut fresh = 0;

    for (method, path, access) in POLICY {
        let scoped = path.contains("{slug}");
        let ctxs: &[Ctx] = if path.contains("{project_id}") {
            &CTXS
        } else if scoped {
            &[Ctx::Own, Ctx::Other]
        } else {
            &[Ctx::Own]
        };
        for &ctx in ctxs {
            for who in WHO {
                let exp = expect(*access, who, ctx);
                let mut token = if who == Who::Anonymous {
                    None
                } else {
                    w.token.get(&who).cloned()
                };
                let mut project_override = None;
                let mut slug_override = None;
                if exp == Expect::Allowed && destructive(method, path) {
                    // Fresh fixtures with the same roles, so the shared ones stay intact.
                    fresh += 1;
                    if *path == "/api/v1/auth/logout" && who != Who::ApiToken {
                        let u = &w.users[&who];
                        let r = app.login(&u.email, &u.password).await;
                        token = Some(r.ok(200)["access_token"].as_str().unwrap().to_string());
                    } else if *path == "/api/v1/workspaces/{slug}" {
                        let s = format!("fresh-{fresh}");
                        app.create_workspace(&w.users[&who], &s).await;
                        slug_override = Some(s);
                    } else if path.contains("{project_id}") {
                        let (creator, slug) = if ctx == Ctx::Other {
                            (&w.other_owner, "wsx")
                        } else {
                            (&w.users[&Who::Owner], "wsw")
                        };
                        let id = app
                            .create_project(creator, slug, &format!("F{fresh}"), ctx == Ctx::Private)
                            .await;
                        if ctx == Ctx::Own {
                            for (u, role) in [(Who::Member, "member"), (Who::Guest, "guest")] {
                                app.post(
                                    &format!("/api/v1/workspaces/wsw/projects/{id}/members"),
                                    &creator.token,
                                    json!({"user_id": w.users[&u].id, "role": role}),
                                )
                                .await
                                .ok(201);
                            }
                        }
                        project_override = Some(id);
                    }
                }
                let url = fill(path, ctx, &w, project_override.as_deref(), slug_override.as_deref());
                let m = Method::from_bytes(method.as_bytes()).unwrap();
                let body = matches!(*method, "POST" | "PATCH").then(|| json!({}));
                let r = app.call(m, &url, token.as_deref(), body).await;
                checked += 1;
                let ok = match exp {
                    Expect::Allowed => r.status != 401 && r.status != 403 && !is_policy_404(&r) && r.status < 500,
                    Expect::Denied(s) => r.status == s,
                };
                if !ok {
                    failures.push(format!(
                        "{method} {path} as {who:?} in {ctx:?}: expected {exp:?}, got {} {}",
                        r.status, r.body
                    ));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {checked} checks failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(checked > 500, "the matrix ran {checked} checks");
    assert_eq!(snapshot(&app), before, "the matrix changed shared data");
}

/// The table's content, pinned: widening who may call a route must show up here, in review,
/// and not only in `src/policy.rs` (the matrix checks enforcement *of* the table).
const PINNED: &[(&str, &str, &str)] = &[
    ("GET", "/health", "Public"),
    ("GET", "/api/openapi.json", "Public"),
    ("GET", "/api/docs", "Public"),
    ("GET", "/api/docs/", "Public"),
    ("GET", "/api/docs/{*rest}", "Public"),
    ("POST", "/api/v1/auth/register", "Public"),
    ("POST", "/api/v1/auth/login", "Public"),
    ("POST", "/api/v1/auth/refresh", "Public"),
    ("POST", "/api/v1/auth/one-time", "Public"),
    ("GET", "/api/v1/instance/status", "Public"),
    ("GET", "/api/v1/plans", "Public"),
    ("GET", "/api/v1/workspaces/{slug}/plan", "Workspace(Guest)"),
    ("PUT", "/api/v1/workspaces/{slug}/licence", "Workspace(Owner)"),
    ("DELETE", "/api/v1/workspaces/{slug}/licence", "Workspace(Owner)"),
    ("GET", "/api/v1/workspaces/{slug}/analytics", "Workspace(Member)"),
    ("GET", "/api/v1/workspaces/{slug}/analytics/charts", "Workspace(Member)"),
    (
        "GET",
        "/api/v1/workspaces/{slug}/projects/{project_id}/analytics",
        "Project(Guest)",
    ),
    (
        "GET",
        "/api/v1/workspaces/{slug}/projects/{project_id}/analytics/charts",
        "Project(Guest)",
    ),
    ("GET", "/api/v1/dashboard-widget-types", "Public"),
    ("GET", "/api/v1/workspaces/{slug}/dashboards", "Workspace(Member)"),
    ("POST", "/api/v1/workspaces/{slug}/dashboards", "Workspace(Member)"),
    (
        "GET",
        "/api/v1/workspaces/{slug}/dashboards/{dashboard_id}",
        "Workspace(Member)",
    ),
    (
        "PATCH",
        "/api/v1/workspaces/{slug}/dashboards/{dashboard_id}",
        "Workspace(Member)",
    ),
    (
        "DELETE",
        "/api/v1/workspaces/{slug}/dashboards/{dashboard_id}",
        "Workspace(Member)",
    ),
    (
        "GET",
        "/api/v1/workspaces/{slug}/dashboards/{dashboard_id}/data",
        "Workspace(Member)",
    ),
    (
        "GET",
        "/api/v1/workspaces/{slug}/dashboards/{dashboard_id}/export",
        "Workspace(Member)",
    ),
    (
        "POST",
        "/api/v1/workspaces/{slug}/dashboards/import",
        "Workspace(Member)",
    ),
    (
        "POST",
        "/api/v1/workspaces/{slug}/dashboards/{dashboard_id}/widgets",
        "Workspace(Member)",
    ),
    (
        "POST",
        "/api/v1/workspaces/{slug}/dashboards/{dashboard_id}/widgets/preview",
        "Workspace(Member)",
    ),
    (
        "PATCH",
        "/api/v1/workspaces/{slug}/dashboards/{dashboard_id}/widgets/{widget_id}",
        "Workspace(Member)",
    ),
    (
        "DELETE",
        "/api/v1/workspaces/{slug}/dashboards/{dashboard_id}/widgets/{widget_id}",
        "Workspace(Member)",
    ),
    (
        "GET",
        "/api/v1/workspaces/{slug}/dashboards/{dashboard_id}/widgets/{widget_id}/data",
        "Workspace(Member)",
    ),
    (
        "PUT",
        "/api/v1/workspaces/{slug}/dashboards/{dashboard_id}/layout",
        "Workspace(Member)",
    ),
    (
        "GET",
        "/api/v1/workspaces/{slug}/dashboards/{dashboard_id}/layouts",
        "Workspace(Member)",
    ),
    (
        "POST",
        "/api/v1/workspaces/{slug}/dashboards/{dashboard_id}/layouts/{layout_id}/restore",
        "Workspace(Member)",
    ),
    (
        "PUT",
        "/api/v1/workspaces/{slug}/dashboards/{dashboard_id}/favorite",
        "Workspace(Member)",
    ),
    (
        "PUT",
        "/api/v1/workspaces/{slug}/dashboards/{dashboard_id}/my-default",
        "Workspace(Member)",
    ),
    (
        "DELETE",
        "/api/v1/workspaces/{slug}/dashboards/{dashboard_id}/favorite",
        "Workspace(Member)",
    ),
    (
        "DELETE",
        "/api/v1/workspaces/{slug}/dashboards/{dashboard_id}/my-default",
        "Workspace(Member)",
    ),
    ("GET", "/api/v1/workspaces/{slug}/metrics", "Workspace(Member)"),
    ("POST", "/api/v1/workspaces/{slug}/metrics", "Workspace(Admin)"),
    (
        "GET",
        "/api/v1/workspaces/{slug}/metrics/{metric_id}",
        "Workspace(Member)",
    ),
    (
        "PATCH",
        "/api/v1/workspaces/{slug}/metrics/{metric_id}",
        "Workspace(Admin)",
    ),
    (
        "DELETE",
        "/api/v1/workspaces/{slug}/metrics/{metric_id}",
        "Workspace(Admin)",
    ),
    (
        "POST",
        "/api/v1/workspaces/{slug}/metrics/{metric_id}/refresh",
        "Workspace(Admin)",
    ),
    ("POST", "/api/v1/auth/logout", "Authenticated"),
    ("GET", "/api/v1/users/me", "Authenticated"),
    ("PATCH", "/api/v1/users/me", "SessionOnly"),
    ("POST", "/api/v1/users/me/password", "SessionOnly"),
    ("GET", "/api/v1/users/me/tokens", "SessionOnly"),
    ("POST", "/api/v1/users/me/tokens", "SessionOnly"),
    ("DELETE", "/api/v1/users/me/tokens/{token_id}", "SessionOnly"),
    ("GET", "/api/v1/instance/settings", "InstanceAdmin"),
    ("PATCH", "/api/v1/instance/settings", "InstanceAdmin"),
    ("GET", "/api/v1/workspaces", "Authenticated"),
    ("POST", "/api/v1/workspaces", "Authenticated"),
    ("GET", "/api/v1/workspaces/{slug}", "Workspace(Guest)"),
    ("PATCH", "/api/v1/workspaces/{slug}", "Workspace(Admin)"),
    ("DELETE", "/api/v1/workspaces/{slug}", "Workspace(Owner)"),
    ("GET", "/api/v1/workspaces/{slug}/members", "Workspace(Guest)"),
    ("POST", "/api/v1/workspaces/{slug}/members", "Workspace(Admin)"),
    (
        "PATCH",
        "/api/v1/workspaces/{slug}/members/{user_id}",
        "Workspace(Admin)",
    ),
    (
        "DELETE",
        "/api/v1/workspaces/{slug}/members/{user_id}",
        "Workspace(Guest)",
    ),
    ("GET", "/api/v1/workspaces/{slug}/invitations", "Workspace(Admin)"),
    ("POST", "/api/v1/workspaces/{slug}/invitations", "Workspace(Admin)"),
    (
        "DELETE",
        "/api/v1/workspaces/{slug}/invitations/{invitation_id}",
        "Workspace(Admin)",
    ),
    ("POST", "/api/v1/invitations/accept", "Authenticated"),
    ("GET", "/api/v1/workspaces/{slug}/departments", "Workspace(Member)"),
    ("POST", "/api/v1/workspaces/{slug}/departments", "Workspace(Admin)"),
    ("GET", "/api/v1/workspaces/{slug}/departments/tree", "Workspace(Member)"),
    (
        "GET",
        "/api/v1/workspaces/{slug}/departments/{department_id}",
        "Workspace(Member)",
    ),
    (
        "PUT",
        "/api/v1/workspaces/{slug}/departments/{department_id}",
        "Workspace(Admin)",
    ),
    (
        "PATCH",
        "/api/v1/workspaces/{slug}/departments/{department_id}",
        "Workspace(Admin)",
    ),
    (
        "DELETE",
        "/api/v1/workspaces/{slug}/departments/{department_id}",
        "Workspace(Admin)",
    ),
    ("GET", "/api/v1/workspaces/{slug}/staff", "Workspace(Member)"),
    ("POST", "/api/v1/workspaces/{slug}/staff", "Workspace(Admin)"),
    ("GET", "/api/v1/workspaces/{slug}/staff/stats", "Workspace(Member)"),
    ("GET", "/api/v1/workspaces/{slug}/staff/export", "Workspace(Admin)"),
    (
        "POST",
        "/api/v1/workspaces/{slug}/staff/bulk-import",
        "Workspace(Admin)",
    ),
    ("GET", "/api/v1/workspaces/{slug}/staff/{user_id}", "Workspace(Member)"),
    ("PUT", "/api/v1/workspaces/{slug}/staff/{user_id}", "Workspace(Admin)"),
    ("PATCH", "/api/v1/workspaces/{slug}/staff/{user_id}", "Workspace(Admin)"),
    (
        "DELETE",
        "/api/v1/workspaces/{slug}/staff/{user_id}",
        "Workspace(Admin)",
    ),
    (
        "POST",
        "/api/v1/workspaces/{slug}/staff/{user_id}/transfer",
        "Workspace(Admin)",
    ),
    (
        "POST",
        "/api/v1/workspaces/{slug}/staff/{user_id}/deactivate",
        "Workspace(Admin)",
    ),
    (
        "GET",
        "/api/v1/workspaces/{slug}/staff/{user_id}/transfers",
        "Workspace(Admin)",
    ),
    ("GET", "/api/v1/workspaces/{slug}/projects", "Workspace(Guest)"),
    ("POST", "/api/v1/workspaces/{slug}/projects", "Workspace(Member)"),
    (
        "GET",
        "/api/v1/workspaces/{slug}/projects/{project_id}",
        "Project(Guest)",
    ),
    (
        "PATCH",
        "/api/v1/workspaces/{slug}/projects/{project_id}",
        "Project(Admin)",
    ),
    (
        "DELETE",
        "/api/v1/workspaces/{slug}/projects/{project_id}",
        "Project(Admin)",
    ),
    (
        "POST",
        "/api/v1/workspaces/{slug}/projects/{project_id}/archive",
        "Project(Admin)",
    ),
    (
        "POST",
        "/api/v1/workspaces/{slug}/projects/{project_id}/unarchive",
        "Project(Admin)",
    ),
    (
        "GET",
        "/api/v1/workspaces/{slug}/projects/{project_id}/members",
        "Project(Guest)",
    ),
    (
        "GET",
        "/api/v1/workspaces/{slug}/projects/{project_id}/activity",
        "Project(Member)",
    ),
    (
        "POST",
        "/api/v1/workspaces/{slug}/projects/{project_id}/members",
        "Project(Admin)",
    ),
    (
        "PATCH",
        "/api/v1/workspaces/{slug}/projects/{project_id}/members/{user_id}",
        "Project(Admin)",
    ),
    (
        "DELETE",
        "/api/v1/workspaces/{slug}/projects/{project_id}/members/{user_id}",
        "Project(Guest)",
    ),
    (
        "GET",
        "/api/v1/workspaces/{slug}/projects/{project_id}/states",
        "Project(Guest)",
    ),
    (
        "POST",
        "/api/v1/workspaces/{slug}/projects/{project_id}/states",
        "Project(Admin)",
    ),
    (
        "PATCH",
        "/api/v1/workspaces/{slug}/projects/{project_id}/states/{state_id}",
        "Project(Admin)",
    ),
    (
        "DELETE",
        "/api/v1/workspaces/{slug}/projects/{project_id}/states/{state_id}",
        "Project(Admin)",
    ),
    (
        "GET",
        "/api/v1/workspaces/{slug}/projects/{project_id}/labels",
        "Project(Guest)",
    ),
    (
        "POST",
        "/api/v1/workspaces/{slug}/projects/{project_id}/labels",
        "Project(Member)",
    ),
    (
        "PATCH",
        "/api/v1/workspaces/{slug}/projects/{project_id}/labels/{label_id}",
        "Project(Member)",
    ),
    (
        "DELETE",
        "/api/v1/workspaces/{slug}/projects/{project_id}/labels/{label_id}",
        "Project(Member)",
    ),
    (
        "GET",
        "/api/v1/workspaces/{slug}/projects/{project_id}/issues",
        "Project(Guest)",
    ),
    (
        "POST",
        "/api/v1/workspaces/{slug}/projects/{project_id}/issues",
        "Project(Member)",
    ),
    (
        "GET",
        "/api/v1/workspaces/{slug}/projects/{project_id}/issues/{issue_id}",
        "Project(Guest)",
    ),
    (
        "PATCH",
        "/api/v1/workspaces/{slug}/projects/{project_id}/issues/{issue_id}",
        "Project(Member)",
    ),
    (
        "DELETE",
        "/api/v1/workspaces/{slug}/projects/{project_id}/issues/{issue_id}",
        "Project(Member)",
    ),
    (
        "GET",
        "/api/v1/workspaces/{slug}/projects/{project_id}/issues/{issue_id}/activity",
        "Project(Guest)",
    ),
    (
        "GET",
        "/api/v1/workspaces/{slug}/projects/{project_id}/issues/{issue_id}/comments",
        "Project(Guest)",
    ),
    (
        "POST",
        "/api/v1/workspaces/{slug}/projects/{project_id}/issues/{issue_id}/comments",
        "Project(Guest)",
    ),
    (
        "PATCH",
        "/api/v1/workspaces/{slug}/projects/{project_id}/issues/{issue_id}/comments/{comment_id}",
        "Project(Guest)",
    ),
    (
        "DELETE",
        "/api/v1/workspaces/{slug}/projects/{project_id}/issues/{issue_id}/comments/{comment_id}",
        "Project(Guest)",
    ),
    (
        "GET",
        "/api/v1/workspaces/{slug}/projects/{project_id}/issues/{issue_id}/worklogs",
        "Project(Member)",
    ),
    (
        "POST",
        "/api/v1/workspaces/{slug}/projects/{project_id}/issues/{issue_id}/worklogs",
        "Project(Member)",
    ),
    (
        "PATCH",
        "/api/v1/workspaces/{slug}/projects/{project_id}/issues/{issue_id}/worklogs/{worklog_id}",
        "Project(Member)",
    ),
    (
        "DELETE",
        "/api/v1/workspaces/{slug}/projects/{project_id}/issues/{issue_id}/worklogs/{worklog_id}",
        "Project(Member)",
    ),
    (
        "GET",
        "/api/v1/workspaces/{slug}/projects/{project_id}/issues/{issue_id}/worklogs/summary",
        "Project(Member)",
    ),
    (
        "POST",
        "/api/v1/workspaces/{slug}/projects/{project_id}/issues/{issue_id}/timer",
        "Project(Member)",
    ),
    (
        "GET",
        "/api/v1/workspaces/{slug}/projects/{project_id}/worklogs",
        "Project(Member)",
    ),
    (
        "GET",
        "/api/v1/workspaces/{slug}/projects/{project_id}/worklogs/summary",
        "Project(Member)",
    ),
    (
        "GET",
        "/api/v1/workspaces/{slug}/projects/{project_id}/worklogs/export",
        "Project(Member)",
    ),
    (
        "GET",
        "/api/v1/workspaces/{slug}/time-tracking/summary",
        "Workspace(Member)",
    ),
    (
        "GET",
        "/api/v1/workspaces/{slug}/time-tracking/export",
        "Workspace(Member)",
    ),
    ("POST", "/api/v1/sync/pair", "Public"),
    ("GET", "/api/v1/sync", "Device"),
    ("GET", "/api/v1/users/me/devices", "SessionOnly"),
    ("DELETE", "/api/v1/users/me/devices/{device_id}", "SessionOnly"),
    ("GET", "/api/v1/sync/peers", "InstanceAdmin"),
    ("POST", "/api/v1/sync/peers", "InstanceAdmin"),
    ("GET", "/api/v1/workspaces/{slug}/sync/conflicts", "Workspace(Admin)"),
    ("GET", "/api/v1/users/me/timer", "Authenticated"),
    ("DELETE", "/api/v1/users/me/timer", "Authenticated"),
    ("POST", "/api/v1/users/me/timer/stop", "Authenticated"),
    (
        "GET",
        "/api/v1/workspaces/{slug}/projects/{project_id}/cycles",
        "Project(Guest)",
    ),
    (
        "POST",
        "/api/v1/workspaces/{slug}/projects/{project_id}/cycles",
        "Project(Member)",
    ),
    (
        "GET",
        "/api/v1/workspaces/{slug}/projects/{project_id}/cycles/{cycle_id}",
        "Project(Guest)",
    ),
    (
        "PATCH",
        "/api/v1/workspaces/{slug}/projects/{project_id}/cycles/{cycle_id}",
        "Project(Member)",
    ),
    (
        "DELETE",
        "/api/v1/workspaces/{slug}/projects/{project_id}/cycles/{cycle_id}",
        "Project(Member)",
    ),
    (
        "GET",
        "/api/v1/workspaces/{slug}/projects/{project_id}/modules",
        "Project(Guest)",
    ),
    (
        "POST",
        "/api/v1/workspaces/{slug}/projects/{project_id}/modules",
        "Project(Member)",
    ),
    (
        "GET",
        "/api/v1/workspaces/{slug}/projects/{project_id}/modules/{module_id}",
        "Project(Guest)",
    ),
    (
        "PATCH",
        "/api/v1/workspaces/{slug}/projects/{project_id}/modules/{module_id}",
        "Project(Member)",
    ),
    (
        "DELETE",
        "/api/v1/workspaces/{slug}/projects/{project_id}/modules/{module_id}",
        "Project(Member)",
    ),
    (
        "GET",
        "/api/v1/workspaces/{slug}/projects/{project_id}/views",
        "Project(Guest)",
    ),
    (
        "POST",
        "/api/v1/workspaces/{slug}/projects/{project_id}/views",
        "Project(Member)",
    ),
    (
        "GET",
        "/api/v1/workspaces/{slug}/projects/{project_id}/views/{view_id}",
        "Project(Guest)",
    ),
    (
        "PATCH",
        "/api/v1/workspaces/{slug}/projects/{project_id}/views/{view_id}",
        "Project(Member)",
    ),
    (
        "DELETE",
        "/api/v1/workspaces/{slug}/projects/{project_id}/views/{view_id}",
        "Project(Member)",
    ),
    (
        "GET",
        "/api/v1/workspaces/{slug}/projects/{project_id}/views/{view_id}/issues",
        "Project(Guest)",
    ),
    ("GET", "/api/v1/workspaces/{slug}/favorites", "Workspace(Guest)"),
    ("POST", "/api/v1/workspaces/{slug}/favorites", "Workspace(Guest)"),
    (
        "DELETE",
        "/api/v1/workspaces/{slug}/favorites/{entity_type}/{entity_id}",
        "Workspace(Guest)",
    ),
    ("GET", "/api/v1/workspaces/{slug}/user-properties", "Workspace(Guest)"),
    ("PATCH", "/api/v1/workspaces/{slug}/user-properties", "Workspace(Guest)"),
    (
        "GET",
        "/api/v1/workspaces/{slug}/projects/{project_id}/user-properties",
        "Project(Guest)",
    ),
    (
        "PATCH",
        "/api/v1/workspaces/{slug}/projects/{project_id}/user-properties",
        "Project(Guest)",
    ),
    (
        "GET",
        "/api/v1/workspaces/{slug}/projects/{project_id}/cycles/{cycle_id}/user-properties",
        "Project(Guest)",
    ),
    (
        "PATCH",
        "/api/v1/workspaces/{slug}/projects/{project_id}/cycles/{cycle_id}/user-properties",
        "Project(Guest)",
    ),
    (
        "GET",
        "/api/v1/workspaces/{slug}/projects/{project_id}/modules/{module_id}/user-properties",
        "Project(Guest)",
    ),
    (
        "PATCH",
        "/api/v1/workspaces/{slug}/projects/{project_id}/modules/{module_id}/user-properties",
        "Project(Guest)",
    ),
    ("GET", "/api/v1/workspaces/{slug}/home-preferences", "Workspace(Guest)"),
    (
        "PATCH",
        "/api/v1/workspaces/{slug}/home-preferences/{key}",
        "Workspace(Guest)",
    ),
    ("GET", "/api/v1/workspaces/{slug}/quick-links", "Workspace(Guest)"),
    ("POST", "/api/v1/workspaces/{slug}/quick-links", "Workspace(Guest)"),
    (
        "PATCH",
        "/api/v1/workspaces/{slug}/quick-links/{link_id}",
        "Workspace(Guest)",
    ),
    (
        "DELETE",
        "/api/v1/workspaces/{slug}/quick-links/{link_id}",
        "Workspace(Guest)",
    ),
    ("GET", "/api/v1/workspaces/{slug}/recent-visits", "Workspace(Guest)"),
    ("GET", "/api/v1/workspaces/{slug}/stickies", "Workspace(Guest)"),
    ("POST", "/api/v1/workspaces/{slug}/stickies", "Workspace(Guest)"),
    (
        "PATCH",
        "/api/v1/workspaces/{slug}/stickies/{sticky_id}",
        "Workspace(Guest)",
    ),
    (
        "DELETE",
        "/api/v1/workspaces/{slug}/stickies/{sticky_id}",
        "Workspace(Guest)",
    ),
];

#[test]
fn the_policy_table_is_pinned() {
    let actual: Vec<(String, String, String)> = POLICY
        .iter()
        .map(|(m, p, a)| {
            let a = format!("{a:?}").replace("WsRole::", "").replace("ProjRole::", "");
            (m.to_string(), p.to_string(), a)
        })
        .collect();
    let pinned: Vec<(String, String, String)> = PINNED
        .iter()
        .map(|(m, p, a)| (m.to_string(), p.to_string(), a.to_string()))
        .collect();
    assert_eq!(actual, pinned);
}
