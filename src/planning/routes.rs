//! HTTP surface of cycles, modules and saved views.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{parse_view_query, CycleView, ModuleStatus, ModuleView, PlanInput, Planning, SavedView};
use crate::error::{AppError, Checks};
use crate::extract::nullable;
use crate::extract::{AppJson, AppPath, AppQuery};
use crate::http::PageQuery;
use crate::issues::IssuePage;
use crate::work::ProjCtx;
use crate::workspaces::parse_name;
use crate::App;

pub fn router() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(list_cycles, create_cycle))
        .routes(routes!(get_cycle, update_cycle, delete_cycle))
        .routes(routes!(list_modules, create_module))
        .routes(routes!(get_module, update_module, delete_module))
        .routes(routes!(list_views, create_view))
        .routes(routes!(get_view, update_view, delete_view))
        .routes(routes!(view_issues))
}

type Pid = AppPath<(String, String, String)>;

// Cycles -----------------------------------------------------------------------------------

/// Cycles of a project with their issue counts, newest first, drafts last.
#[utoipa::path(get, path = "/api/v1/workspaces/{slug}/projects/{project_id}/cycles", tag = "planning",
    params(("slug" = String, Path), ("project_id" = String, Path)), responses((status = 200, body = Vec<CycleView>)))]
async fn list_cycles(State(app): State<App>, p: ProjCtx) -> Result<Json<Vec<CycleView>>, AppError> {
    Ok(Json(Planning(&app).cycles(&p).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct CycleBody {
    /// Required on create.
    pub name: Option<String>,
    pub description: Option<String>,
    /// Both dates or neither (a draft); cycles of a project do not overlap.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub start_date: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub end_date: Option<Option<String>>,
}

fn parse_cycle(b: &CycleBody, creating: bool) -> Result<PlanInput, AppError> {
    PlanInput::parse(
        b.name.as_deref(),
        b.description.as_deref(),
        b.start_date.as_ref().map(Option::as_deref),
        b.end_date.as_ref().map(Option::as_deref),
        "end_date",
        creating,
    )
}

/// Creates a cycle (project members).
#[utoipa::path(post, path = "/api/v1/workspaces/{slug}/projects/{project_id}/cycles", tag = "planning",
    params(("slug" = String, Path), ("project_id" = String, Path)), request_body = CycleBody,
    responses((status = 201, body = CycleView)))]
async fn create_cycle(
    State(app): State<App>,
    p: ProjCtx,
    AppJson(b): AppJson<CycleBody>,
) -> Result<(StatusCode, Json<CycleView>), AppError> {
    let input = parse_cycle(&b, true)?;
    Ok((
        StatusCode::CREATED,
        Json(Planning(&app).save_cycle(&p, None, input).await?),
    ))
}

/// One cycle (recorded among the caller's recent visits).
#[utoipa::path(get, path = "/api/v1/workspaces/{slug}/projects/{project_id}/cycles/{cycle_id}", tag = "planning",
    params(("slug" = String, Path), ("project_id" = String, Path), ("cycle_id" = String, Path)),
    responses((status = 200, body = CycleView)))]
async fn get_cycle(State(app): State<App>, p: ProjCtx, AppPath((_, _, id)): Pid) -> Result<Json<CycleView>, AppError> {
    let c = Planning(&app).cycle(&p, &id).await?;
    crate::me::visit(&app, &p.ws, "cycle", &c.id, Some(&p.project.id));
    Ok(Json(c))
}

/// Updates a cycle (its creator or a project admin).
#[utoipa::path(patch, path = "/api/v1/workspaces/{slug}/projects/{project_id}/cycles/{cycle_id}", tag = "planning",
    params(("slug" = String, Path), ("project_id" = String, Path), ("cycle_id" = String, Path)),
    request_body = CycleBody, responses((status = 200, body = CycleView)))]
async fn update_cycle(
    State(app): State<App>,
    p: ProjCtx,
    AppPath((_, _, id)): Pid,
    AppJson(b): AppJson<CycleBody>,
) -> Result<Json<CycleView>, AppError> {
    let input = parse_cycle(&b, false)?;
    Ok(Json(Planning(&app).save_cycle(&p, Some(&id), input).await?))
}

/// Deletes a cycle (its creator or a project admin); its issues leave it.
#[utoipa::path(delete, path = "/api/v1/workspaces/{slug}/projects/{project_id}/cycles/{cycle_id}", tag = "planning",
    params(("slug" = String, Path), ("project_id" = String, Path), ("cycle_id" = String, Path)),
    responses((status = 204)))]
async fn delete_cycle(State(app): State<App>, p: ProjCtx, AppPath((_, _, id)): Pid) -> Result<StatusCode, AppError> {
    Planning(&app).delete(&p, super::records::cycles::SPEC, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

// Modules ----------------------------------------------------------------------------------

/// Modules of a project with their issue counts.
#[utoipa::path(get, path = "/api/v1/workspaces/{slug}/projects/{project_id}/modules", tag = "planning",
    params(("slug" = String, Path), ("project_id" = String, Path)), responses((status = 200, body = Vec<ModuleView>)))]
async fn list_modules(State(app): State<App>, p: ProjCtx) -> Result<Json<Vec<ModuleView>>, AppError> {
    Ok(Json(Planning(&app).modules(&p).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct ModuleBody {
    /// Required on create; unique in the project.
    pub name: Option<String>,
    pub description: Option<String>,
    pub status: Option<ModuleStatus>,
    /// A project member who leads the module; `null` clears.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub lead_id: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub start_date: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub target_date: Option<Option<String>>,
}

fn parse_module(b: &ModuleBody, creating: bool) -> Result<PlanInput, AppError> {
    let mut input = PlanInput::parse(
        b.name.as_deref(),
        b.description.as_deref(),
        b.start_date.as_ref().map(Option::as_deref),
        b.target_date.as_ref().map(Option::as_deref),
        "target_date",
        creating,
    )?;
    input.status = b.status;
    input.lead_id = match &b.lead_id {
        Some(Some(l)) => Some(Some(
            uuid::Uuid::parse_str(l)
                .map_err(|_| AppError::field("lead_id", "is not an id"))?
                .to_string(),
        )),
        other => other.clone(),
    };
    Ok(input)
}

/// Creates a module (project members).
#[utoipa::path(post, path = "/api/v1/workspaces/{slug}/projects/{project_id}/modules", tag = "planning",
    params(("slug" = String, Path), ("project_id" = String, Path)), request_body = ModuleBody,
    responses((status = 201, body = ModuleView)))]
async fn create_module(
    State(app): State<App>,
    p: ProjCtx,
    AppJson(b): AppJson<ModuleBody>,
) -> Result<(StatusCode, Json<ModuleView>), AppError> {
    let input = parse_module(&b, true)?;
    Ok((
        StatusCode::CREATED,
        Json(Planning(&app).save_module(&p, None, input).await?),
    ))
}

/// One module (recorded among the caller's recent visits).
#[utoipa::path(get, path = "/api/v1/workspaces/{slug}/projects/{project_id}/modules/{module_id}", tag = "planning",
    params(("slug" = String, Path), ("project_id" = String, Path), ("module_id" = String, Path)),
    responses((status = 200, body = ModuleView)))]
async fn get_module(
    State(app): State<App>,
    p: ProjCtx,
    AppPath((_, _, id)): Pid,
) -> Result<Json<ModuleView>, AppError> {
    let m = Planning(&app).module(&p, &id).await?;
    crate::me::visit(&app, &p.ws, "module", &m.id, Some(&p.project.id));
    Ok(Json(m))
}

/// Updates a module (its creator or a project admin).
#[utoipa::path(patch, path = "/api/v1/workspaces/{slug}/projects/{project_id}/modules/{module_id}", tag = "planning",
    params(("slug" = String, Path), ("project_id" = String, Path), ("module_id" = String, Path)),
    request_body = ModuleBody, responses((status = 200, body = ModuleView)))]
async fn update_module(
    State(app): State<App>,
    p: ProjCtx,
    AppPath((_, _, id)): Pid,
    AppJson(b): AppJson<ModuleBody>,
) -> Result<Json<ModuleView>, AppError> {
    let input = parse_module(&b, false)?;
    Ok(Json(Planning(&app).save_module(&p, Some(&id), input).await?))
}

/// Deletes a module (its creator or a project admin); its issues leave it.
#[utoipa::path(delete, path = "/api/v1/workspaces/{slug}/projects/{project_id}/modules/{module_id}", tag = "planning",
    params(("slug" = String, Path), ("project_id" = String, Path), ("module_id" = String, Path)),
    responses((status = 204)))]
async fn delete_module(State(app): State<App>, p: ProjCtx, AppPath((_, _, id)): Pid) -> Result<StatusCode, AppError> {
    Planning(&app).delete(&p, super::records::modules::SPEC, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

// Saved views ------------------------------------------------------------------------------

/// Saved views of a project: public ones and the caller's private ones.
#[utoipa::path(get, path = "/api/v1/workspaces/{slug}/projects/{project_id}/views", tag = "planning",
    params(("slug" = String, Path), ("project_id" = String, Path)), responses((status = 200, body = Vec<SavedView>)))]
async fn list_views(State(app): State<App>, p: ProjCtx) -> Result<Json<Vec<SavedView>>, AppError> {
    Ok(Json(Planning(&app).views(&p).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct ViewBody {
    /// Required on create.
    pub name: Option<String>,
    pub description: Option<String>,
    /// Issue-list parameters as strings, e.g. `{"state_group": "started", "priority": "urgent,high"}`.
    #[schema(value_type = Option<std::collections::HashMap<String, String>>)]
    pub query: Option<serde_json::Value>,
    pub is_private: Option<bool>,
}

fn parse_view(b: &ViewBody, creating: bool) -> Result<(Option<String>, Option<String>), AppError> {
    let mut c = Checks::new();
    if creating && b.name.is_none() {
        c.add("name", "is required");
    }
    let name = b.name.as_deref().and_then(|n| c.take("name", parse_name(n, 255)));
    let description = b.description.as_deref().and_then(|d| {
        c.take(
            "description",
            if d.chars().count() > 2000 {
                Err("must be at most 2000 characters".to_string())
            } else {
                Ok(d.trim().to_string())
            },
        )
    });
    c.finish()?;
    if let Some(q) = &b.query {
        parse_view_query(q)?;
    }
    Ok((name, description))
}

/// Saves a view (project members).
#[utoipa::path(post, path = "/api/v1/workspaces/{slug}/projects/{project_id}/views", tag = "planning",
    params(("slug" = String, Path), ("project_id" = String, Path)), request_body = ViewBody,
    responses((status = 201, body = SavedView)))]
async fn create_view(
    State(app): State<App>,
    p: ProjCtx,
    AppJson(b): AppJson<ViewBody>,
) -> Result<(StatusCode, Json<SavedView>), AppError> {
    let (name, description) = parse_view(&b, true)?;
    let v = Planning(&app)
        .save_view(&p, None, name, description, b.query, b.is_private)
        .await?;
    Ok((StatusCode::CREATED, Json(v)))
}

/// One view (recorded among the caller's recent visits).
#[utoipa::path(get, path = "/api/v1/workspaces/{slug}/projects/{project_id}/views/{view_id}", tag = "planning",
    params(("slug" = String, Path), ("project_id" = String, Path), ("view_id" = String, Path)),
    responses((status = 200, body = SavedView)))]
async fn get_view(State(app): State<App>, p: ProjCtx, AppPath((_, _, id)): Pid) -> Result<Json<SavedView>, AppError> {
    let v = Planning(&app).view(&p, &id).await?;
    crate::me::visit(&app, &p.ws, "view", &v.id, Some(&p.project.id));
    Ok(Json(v))
}

/// Updates a view (its creator or a project admin).
#[utoipa::path(patch, path = "/api/v1/workspaces/{slug}/projects/{project_id}/views/{view_id}", tag = "planning",
    params(("slug" = String, Path), ("project_id" = String, Path), ("view_id" = String, Path)),
    request_body = ViewBody, responses((status = 200, body = SavedView)))]
async fn update_view(
    State(app): State<App>,
    p: ProjCtx,
    AppPath((_, _, id)): Pid,
    AppJson(b): AppJson<ViewBody>,
) -> Result<Json<SavedView>, AppError> {
    let (name, description) = parse_view(&b, false)?;
    Ok(Json(
        Planning(&app)
            .save_view(&p, Some(&id), name, description, b.query, b.is_private)
            .await?,
    ))
}

/// Deletes a view (its creator or a project admin).
#[utoipa::path(delete, path = "/api/v1/workspaces/{slug}/projects/{project_id}/views/{view_id}", tag = "planning",
    params(("slug" = String, Path), ("project_id" = String, Path), ("view_id" = String, Path)),
    responses((status = 204)))]
async fn delete_view(State(app): State<App>, p: ProjCtx, AppPath((_, _, id)): Pid) -> Result<StatusCode, AppError> {
    Planning(&app).delete_view(&p, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The issues a view selects, with its order and grouping.
#[utoipa::path(get, path = "/api/v1/workspaces/{slug}/projects/{project_id}/views/{view_id}/issues", tag = "planning",
    params(("slug" = String, Path), ("project_id" = String, Path), ("view_id" = String, Path), PageQuery),
    responses((status = 200, body = IssuePage)))]
async fn view_issues(
    State(app): State<App>,
    p: ProjCtx,
    AppPath((_, _, id)): Pid,
    AppQuery(q): AppQuery<PageQuery>,
) -> Result<Json<IssuePage>, AppError> {
    Ok(Json(Planning(&app).view_issues(&p, &id, q.parse()?).await?))
}
