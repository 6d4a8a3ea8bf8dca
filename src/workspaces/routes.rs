//! HTTP surface of workspaces, members and invitations.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{InvitationView, MemberView, WorkspaceView, Workspaces, WsCtx};
use crate::auth::Actor;
use crate::error::AppError;
use crate::extract::{AppJson, AppPath, AppQuery};
use crate::http::{Page, PageQuery};
use crate::policy::WsRole;
use crate::App;

pub fn router() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(list_workspaces, create_workspace))
        .routes(routes!(get_workspace, update_workspace, delete_workspace))
        .routes(routes!(list_members, add_member))
        .routes(routes!(change_member, remove_member))
        .routes(routes!(list_invitations, invite))
        .routes(routes!(revoke_invitation))
        .routes(routes!(accept_invitation))
}

#[derive(Deserialize, ToSchema)]
pub struct NewWorkspaceBody {
    pub name: String,
    /// 2–48 lower-case letters, digits and hyphens; part of every URL of the workspace.
    pub slug: String,
}

/// Workspaces the caller is a member of.
#[utoipa::path(get, path = "/api/v1/workspaces", tag = "workspaces", params(PageQuery),
    responses((status = 200, body = Page<WorkspaceView>)))]
async fn list_workspaces(
    State(app): State<App>,
    actor: Actor,
    AppQuery(q): AppQuery<PageQuery>,
) -> Result<Json<Page<WorkspaceView>>, AppError> {
    Ok(Json(Workspaces(&app).list_mine(&actor, q.parse()?).await?))
}

/// Creates a workspace; the caller becomes its owner.
#[utoipa::path(post, path = "/api/v1/workspaces", tag = "workspaces", request_body = NewWorkspaceBody,
    responses((status = 201, body = WorkspaceView)))]
async fn create_workspace(
    State(app): State<App>,
    actor: Actor,
    AppJson(b): AppJson<NewWorkspaceBody>,
) -> Result<(StatusCode, Json<WorkspaceView>), AppError> {
    let ws = Workspaces(&app).create(&actor, &b.name, &b.slug).await?;
    Ok((StatusCode::CREATED, Json(ws)))
}

/// One workspace.
#[utoipa::path(get, path = "/api/v1/workspaces/{slug}", tag = "workspaces",
    params(("slug" = String, Path)), responses((status = 200, body = WorkspaceView)))]
async fn get_workspace(State(app): State<App>, w: WsCtx) -> Result<Json<WorkspaceView>, AppError> {
    Ok(Json(Workspaces(&app).get(&w).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct UpdateWorkspaceBody {
    pub name: Option<String>,
}

/// Renames a workspace (admins).
#[utoipa::path(patch, path = "/api/v1/workspaces/{slug}", tag = "workspaces",
    params(("slug" = String, Path)), request_body = UpdateWorkspaceBody,
    responses((status = 200, body = WorkspaceView)))]
async fn update_workspace(
    State(app): State<App>,
    w: WsCtx,
    AppJson(b): AppJson<UpdateWorkspaceBody>,
) -> Result<Json<WorkspaceView>, AppError> {
    Ok(Json(Workspaces(&app).update(&w, b.name).await?))
}

/// Deletes a workspace (owners; soft delete, its URL stays reserved).
#[utoipa::path(delete, path = "/api/v1/workspaces/{slug}", tag = "workspaces",
    params(("slug" = String, Path)), responses((status = 204)))]
async fn delete_workspace(State(app): State<App>, w: WsCtx) -> Result<StatusCode, AppError> {
    Workspaces(&app).delete(&w).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Members of the workspace (emails hidden from guests).
#[utoipa::path(get, path = "/api/v1/workspaces/{slug}/members", tag = "members",
    params(("slug" = String, Path), PageQuery), responses((status = 200, body = Page<MemberView>)))]
async fn list_members(
    State(app): State<App>,
    w: WsCtx,
    AppQuery(q): AppQuery<PageQuery>,
) -> Result<Json<Page<MemberView>>, AppError> {
    Ok(Json(Workspaces(&app).members(&w, q.parse()?).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct AddMemberBody {
    pub email: String,
    pub role: WsRole,
}

/// Adds an existing account as a member (admins; never above the caller's role).
#[utoipa::path(post, path = "/api/v1/workspaces/{slug}/members", tag = "members",
    params(("slug" = String, Path)), request_body = AddMemberBody,
    responses((status = 201, body = MemberView)))]
async fn add_member(
    State(app): State<App>,
    w: WsCtx,
    AppJson(b): AppJson<AddMemberBody>,
) -> Result<(StatusCode, Json<MemberView>), AppError> {
    let m = Workspaces(&app).add_member(&w, &b.email, b.role).await?;
    Ok((StatusCode::CREATED, Json(m)))
}

#[derive(Deserialize, ToSchema)]
pub struct RoleBody {
    pub role: WsRole,
}

/// Changes a member's role (admins; only owners change owners; one owner always stays).
#[utoipa::path(patch, path = "/api/v1/workspaces/{slug}/members/{user_id}", tag = "members",
    params(("slug" = String, Path), ("user_id" = String, Path)), request_body = RoleBody,
    responses((status = 200, body = MemberView)))]
async fn change_member(
    State(app): State<App>,
    w: WsCtx,
    AppPath((_, user_id)): AppPath<(String, String)>,
    AppJson(b): AppJson<RoleBody>,
) -> Result<Json<MemberView>, AppError> {
    Ok(Json(Workspaces(&app).change_role(&w, &user_id, b.role).await?))
}

/// Removes a member, or leaves when `user_id` is the caller.
#[utoipa::path(delete, path = "/api/v1/workspaces/{slug}/members/{user_id}", tag = "members",
    params(("slug" = String, Path), ("user_id" = String, Path)), responses((status = 204)))]
async fn remove_member(
    State(app): State<App>,
    w: WsCtx,
    AppPath((_, user_id)): AppPath<(String, String)>,
) -> Result<StatusCode, AppError> {
    Workspaces(&app).remove_member(&w, &user_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Pending invitations (admins).
#[utoipa::path(get, path = "/api/v1/workspaces/{slug}/invitations", tag = "invitations",
    params(("slug" = String, Path), PageQuery), responses((status = 200, body = Page<InvitationView>)))]
async fn list_invitations(
    State(app): State<App>,
    w: WsCtx,
    AppQuery(q): AppQuery<PageQuery>,
) -> Result<Json<Page<InvitationView>>, AppError> {
    Ok(Json(Workspaces(&app).invitations(&w, q.parse()?).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct InviteBody {
    pub email: String,
    pub role: WsRole,
}

/// Invites an email; the answer carries the secret token to send to the invitee.
#[utoipa::path(post, path = "/api/v1/workspaces/{slug}/invitations", tag = "invitations",
    params(("slug" = String, Path)), request_body = InviteBody,
    responses((status = 201, body = InvitationView)))]
async fn invite(
    State(app): State<App>,
    w: WsCtx,
    AppJson(b): AppJson<InviteBody>,
) -> Result<(StatusCode, Json<InvitationView>), AppError> {
    let inv = Workspaces(&app).invite(&w, &b.email, b.role).await?;
    Ok((StatusCode::CREATED, Json(inv)))
}

/// Withdraws a pending invitation (admins).
#[utoipa::path(delete, path = "/api/v1/workspaces/{slug}/invitations/{invitation_id}", tag = "invitations",
    params(("slug" = String, Path), ("invitation_id" = String, Path)), responses((status = 204)))]
async fn revoke_invitation(
    State(app): State<App>,
    w: WsCtx,
    AppPath((_, id)): AppPath<(String, String)>,
) -> Result<StatusCode, AppError> {
    Workspaces(&app).revoke_invitation(&w, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
pub struct AcceptBody {
    pub token: String,
}

/// Accepts an invitation sent to the caller's email.
#[utoipa::path(post, path = "/api/v1/invitations/accept", tag = "invitations", request_body = AcceptBody,
    responses((status = 200, body = WorkspaceView)))]
async fn accept_invitation(
    State(app): State<App>,
    actor: Actor,
    AppJson(b): AppJson<AcceptBody>,
) -> Result<Json<WorkspaceView>, AppError> {
    Ok(Json(Workspaces(&app).accept(&actor, &b.token).await?))
}
