//! HTTP surface of plans: what each plan allows.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{Plans, PlansView, WorkspacePlanView};
use crate::error::AppError;
use crate::extract::AppJson;
use crate::workspaces::WsCtx;
use crate::App;

pub fn router() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(list_plans))
        .routes(routes!(workspace_plan))
        .routes(routes!(install_licence, remove_licence))
}

/// The workspace's plan: its licence (if any) and where it stands, seats used and allowed,
/// and each feature on or off with the reason.
#[utoipa::path(get, path = "/api/v1/workspaces/{slug}/plan", tag = "plans",
    params(("slug" = String, Path)), responses((status = 200, body = WorkspacePlanView)))]
async fn workspace_plan(State(app): State<App>, w: WsCtx) -> Result<Json<WorkspacePlanView>, AppError> {
    Ok(Json(Plans(&app).plan(&w).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LicenceBody {
    /// The licence file's whole text, armour lines included.
    pub licence: String,
}

/// Installs a licence file for this workspace (owners): verified offline against the keys
/// built into Keel; a licence for another workspace, altered, cut short or signed by an
/// unknown key is refused with its own code and changes nothing.
#[utoipa::path(put, path = "/api/v1/workspaces/{slug}/licence", tag = "plans",
    params(("slug" = String, Path)), request_body = LicenceBody,
    responses((status = 200, body = WorkspacePlanView)))]
async fn install_licence(
    State(app): State<App>,
    w: WsCtx,
    AppJson(b): AppJson<LicenceBody>,
) -> Result<Json<WorkspacePlanView>, AppError> {
    Ok(Json(Plans(&app).install(&w, b.licence).await?))
}

/// Removes the workspace's licence (owners): it returns to the free plan; no data changes.
#[utoipa::path(delete, path = "/api/v1/workspaces/{slug}/licence", tag = "plans",
    params(("slug" = String, Path)), responses((status = 204)))]
async fn remove_licence(State(app): State<App>, w: WsCtx) -> Result<StatusCode, AppError> {
    Plans(&app).remove(&w).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The plans and every feature with the plan it needs (the one list the UI, the API's
/// refusals and the docs read).
#[utoipa::path(get, path = "/api/v1/plans", tag = "plans", responses((status = 200, body = PlansView)))]
async fn list_plans() -> Json<PlansView> {
    Json(super::plans())
}
