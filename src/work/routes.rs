//! HTTP surface of projects and project members.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{NewProject, ProjCtx, ProjectMemberView, ProjectPatch, ProjectView, Projects};
use crate::error::AppError;
use crate::extract::{AppJson, AppPath, AppQuery};
use crate::http::{Page, PageQuery};
use crate::policy::ProjRole;
use crate::workspaces::WsCtx;
use crate::App;

pub fn router() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(list_projects, create_project))
        .routes(routes!(get_project, update_project, delete_project))
        .routes(routes!(archive_project))
        .routes(routes!(unarchive_project))
        .routes(routes!(list_project_members, add_project_member))
        .routes(routes!(change_project_member, remove_project_member))
        .routes(routes!(project_activity))
}

/// The project's history: who joined or left it, role changes, and why each member is in
/// it (by hand, or through managing a department), newest first (project members).
#[utoipa::path(get, path = "/api/v1/workspaces/{slug}/projects/{project_id}/activity", tag = "projects",
    params(("slug" = String, Path), ("project_id" = String, Path), PageQuery),
    responses((status = 200, body = Page<super::ProjectEventView>)))]
async fn project_activity(
    State(app): State<App>,
    p: ProjCtx,
    AppQuery(q): AppQuery<PageQuery>,
) -> Result<Json<Page<super::ProjectEventView>>, AppError> {
    Ok(Json(Projects(&app).activity(&p, q.parse()?).await?))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ProjectListQuery {
    pub page: Option<u32>,
    pub per_page: Option<u32>,
    /// true: archived only; false: active only; absent: both.
    pub archived: Option<bool>,
}

/// Projects of the workspace the caller can see.
#[utoipa::path(get, path = "/api/v1/workspaces/{slug}/projects", tag = "projects",
    params(("slug" = String, Path), ProjectListQuery), responses((status = 200, body = Page<ProjectView>)))]
async fn list_projects(
    State(app): State<App>,
    w: WsCtx,
    AppQuery(q): AppQuery<ProjectListQuery>,
) -> Result<Json<Page<ProjectView>>, AppError> {
    let p = PageQuery {
        page: q.page,
        per_page: q.per_page,
    }
    .parse()?;
    Ok(Json(Projects(&app).list(&w, q.archived, p).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct NewProjectBody {
    pub name: String,
    /// 2–12 upper-case letters or digits, unique in the workspace.
    pub identifier: String,
    pub description: Option<String>,
    pub is_private: Option<bool>,
    pub is_time_tracking_enabled: Option<bool>,
}

/// Creates a project (workspace members and above); the caller becomes its admin.
#[utoipa::path(post, path = "/api/v1/workspaces/{slug}/projects", tag = "projects",
    params(("slug" = String, Path)), request_body = NewProjectBody,
    responses((status = 201, body = ProjectView)))]
async fn create_project(
    State(app): State<App>,
    w: WsCtx,
    AppJson(b): AppJson<NewProjectBody>,
) -> Result<(StatusCode, Json<ProjectView>), AppError> {
    let n = NewProject::parse(
        &b.name,
        &b.identifier,
        b.description.as_deref(),
        b.is_private,
        b.is_time_tracking_enabled,
    )?;
    Ok((StatusCode::CREATED, Json(Projects(&app).create(&w, n).await?)))
}

/// One project (recorded among the caller's recent visits).
#[utoipa::path(get, path = "/api/v1/workspaces/{slug}/projects/{project_id}", tag = "projects",
    params(("slug" = String, Path), ("project_id" = String, Path)), responses((status = 200, body = ProjectView)))]
async fn get_project(State(app): State<App>, p: ProjCtx) -> Json<ProjectView> {
    crate::me::visit(&app, &p.ws, "project", &p.project.id, Some(&p.project.id));
    Json(p.project)
}

#[derive(Deserialize, ToSchema)]
pub struct UpdateProjectBody {
    pub name: Option<String>,
    pub identifier: Option<String>,
    pub description: Option<String>,
    pub is_private: Option<bool>,
    pub is_time_tracking_enabled: Option<bool>,
    /// The department whose team project this is; `null` clears it.
    #[serde(default, deserialize_with = "crate::extract::nullable")]
    #[schema(value_type = Option<String>)]
    pub linked_department_id: Option<Option<String>>,
}

/// Updates a project (project admins).
#[utoipa::path(patch, path = "/api/v1/workspaces/{slug}/projects/{project_id}", tag = "projects",
    params(("slug" = String, Path), ("project_id" = String, Path)), request_body = UpdateProjectBody,
    responses((status = 200, body = ProjectView)))]
async fn update_project(
    State(app): State<App>,
    p: ProjCtx,
    AppJson(b): AppJson<UpdateProjectBody>,
) -> Result<Json<ProjectView>, AppError> {
    let patch = ProjectPatch::parse(
        b.name.as_deref(),
        b.identifier.as_deref(),
        b.description.as_deref(),
        b.is_private,
        b.is_time_tracking_enabled,
    )?;
    let patch = ProjectPatch {
        linked_department_id: b.linked_department_id,
        ..patch
    };
    Ok(Json(Projects(&app).update(&p, patch).await?))
}

/// Deletes a project (project admins; soft delete).
#[utoipa::path(delete, path = "/api/v1/workspaces/{slug}/projects/{project_id}", tag = "projects",
    params(("slug" = String, Path), ("project_id" = String, Path)), responses((status = 204)))]
async fn delete_project(State(app): State<App>, p: ProjCtx) -> Result<StatusCode, AppError> {
    Projects(&app).delete(&p).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Archives a project: it stays readable and refuses changes until unarchived.
#[utoipa::path(post, path = "/api/v1/workspaces/{slug}/projects/{project_id}/archive", tag = "projects",
    params(("slug" = String, Path), ("project_id" = String, Path)), responses((status = 200, body = ProjectView)))]
async fn archive_project(State(app): State<App>, p: ProjCtx) -> Result<Json<ProjectView>, AppError> {
    Ok(Json(Projects(&app).set_archived(&p, true).await?))
}

/// Unarchives a project.
#[utoipa::path(post, path = "/api/v1/workspaces/{slug}/projects/{project_id}/unarchive", tag = "projects",
    params(("slug" = String, Path), ("project_id" = String, Path)), responses((status = 200, body = ProjectView)))]
async fn unarchive_project(State(app): State<App>, p: ProjCtx) -> Result<Json<ProjectView>, AppError> {
    Ok(Json(Projects(&app).set_archived(&p, false).await?))
}

/// Members of a project.
#[utoipa::path(get, path = "/api/v1/workspaces/{slug}/projects/{project_id}/members", tag = "projects",
    params(("slug" = String, Path), ("project_id" = String, Path), PageQuery),
    responses((status = 200, body = Page<ProjectMemberView>)))]
async fn list_project_members(
    State(app): State<App>,
    p: ProjCtx,
    AppQuery(q): AppQuery<PageQuery>,
) -> Result<Json<Page<ProjectMemberView>>, AppError> {
    Ok(Json(Projects(&app).members(&p, q.parse()?).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct AddProjectMemberBody {
    pub user_id: String,
    pub role: ProjRole,
}

/// Adds a workspace member to the project (project admins).
#[utoipa::path(post, path = "/api/v1/workspaces/{slug}/projects/{project_id}/members", tag = "projects",
    params(("slug" = String, Path), ("project_id" = String, Path)), request_body = AddProjectMemberBody,
    responses((status = 201, body = ProjectMemberView)))]
async fn add_project_member(
    State(app): State<App>,
    p: ProjCtx,
    AppJson(b): AppJson<AddProjectMemberBody>,
) -> Result<(StatusCode, Json<ProjectMemberView>), AppError> {
    Ok((
        StatusCode::CREATED,
        Json(Projects(&app).add_member(&p, &b.user_id, b.role).await?),
    ))
}

#[derive(Deserialize, ToSchema)]
pub struct ProjectRoleBody {
    pub role: ProjRole,
}

/// Changes a project member's role (project admins; one admin always stays).
#[utoipa::path(patch, path = "/api/v1/workspaces/{slug}/projects/{project_id}/members/{user_id}", tag = "projects",
    params(("slug" = String, Path), ("project_id" = String, Path), ("user_id" = String, Path)),
    request_body = ProjectRoleBody, responses((status = 200, body = ProjectMemberView)))]
async fn change_project_member(
    State(app): State<App>,
    p: ProjCtx,
    AppPath((_, _, user_id)): AppPath<(String, String, String)>,
    AppJson(b): AppJson<ProjectRoleBody>,
) -> Result<Json<ProjectMemberView>, AppError> {
    Ok(Json(Projects(&app).change_member_role(&p, &user_id, b.role).await?))
}

/// Removes a project member, or leaves when `user_id` is the caller.
#[utoipa::path(delete, path = "/api/v1/workspaces/{slug}/projects/{project_id}/members/{user_id}", tag = "projects",
    params(("slug" = String, Path), ("project_id" = String, Path), ("user_id" = String, Path)),
    responses((status = 204)))]
async fn remove_project_member(
    State(app): State<App>,
    p: ProjCtx,
    AppPath((_, _, user_id)): AppPath<(String, String, String)>,
) -> Result<StatusCode, AppError> {
    Projects(&app).remove_member(&p, &user_id).await?;
    Ok(StatusCode::NO_CONTENT)
}
