//! HTTP surface of a person's own records in a workspace.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{
    FavoriteType, FavoriteView, HomePreferenceView, Me, Note, NoteInput, PropEntity, QuickLinkView, RecentVisitView,
    StickyView, UserPropertiesPatch, UserPropertiesView,
};
use crate::error::AppError;
use crate::extract::nullable;
use crate::extract::{AppJson, AppPath, AppQuery};
use crate::work::ProjCtx;
use crate::workspaces::WsCtx;
use crate::App;

pub fn router() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(list_favorites, add_favorite))
        .routes(routes!(remove_favorite))
        .routes(routes!(workspace_properties, save_workspace_properties))
        .routes(routes!(project_properties, save_project_properties))
        .routes(routes!(cycle_properties, save_cycle_properties))
        .routes(routes!(module_properties, save_module_properties))
        .routes(routes!(home_preferences))
        .routes(routes!(set_home_preference))
        .routes(routes!(list_quick_links, create_quick_link))
        .routes(routes!(update_quick_link, delete_quick_link))
        .routes(routes!(recent_visits))
        .routes(routes!(list_stickies, create_sticky))
        .routes(routes!(update_sticky, delete_sticky))
}

// Favorites ---------------------------------------------------------------------------------

/// The caller's favorites in the workspace, with their current names.
#[utoipa::path(get, path = "/api/v1/workspaces/{slug}/favorites", tag = "me",
    params(("slug" = String, Path)), responses((status = 200, body = Vec<FavoriteView>)))]
async fn list_favorites(State(app): State<App>, w: WsCtx) -> Result<Json<Vec<FavoriteView>>, AppError> {
    Ok(Json(Me(&app).favorites(&w).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct FavoriteBody {
    pub entity_type: FavoriteType,
    pub entity_id: String,
}

/// Marks a project, cycle, module or view the caller can see as a favorite.
#[utoipa::path(post, path = "/api/v1/workspaces/{slug}/favorites", tag = "me",
    params(("slug" = String, Path)), request_body = FavoriteBody, responses((status = 204)))]
async fn add_favorite(
    State(app): State<App>,
    w: WsCtx,
    AppJson(b): AppJson<FavoriteBody>,
) -> Result<StatusCode, AppError> {
    Me(&app).set_favorite(&w, b.entity_type, &b.entity_id, true).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Takes something off the caller's favorites.
#[utoipa::path(delete, path = "/api/v1/workspaces/{slug}/favorites/{entity_type}/{entity_id}", tag = "me",
    params(("slug" = String, Path), ("entity_type" = String, Path), ("entity_id" = String, Path)),
    responses((status = 204)))]
async fn remove_favorite(
    State(app): State<App>,
    w: WsCtx,
    AppPath((_, t, id)): AppPath<(String, String, String)>,
) -> Result<StatusCode, AppError> {
    let t = FavoriteType::parse(&t).ok_or(AppError::not_found("favorite"))?;
    Me(&app).set_favorite(&w, t, &id, false).await?;
    Ok(StatusCode::NO_CONTENT)
}

// User properties ---------------------------------------------------------------------------

/// The caller's display settings for the workspace (defaults until saved).
#[utoipa::path(get, path = "/api/v1/workspaces/{slug}/user-properties", tag = "me",
    params(("slug" = String, Path)), responses((status = 200, body = UserPropertiesView)))]
async fn workspace_properties(State(app): State<App>, w: WsCtx) -> Result<Json<UserPropertiesView>, AppError> {
    Ok(Json(Me(&app).properties(&w, PropEntity::Workspace, &w.ws.id).await?))
}

/// Saves the caller's display settings for the workspace; each given field replaces the saved one.
#[utoipa::path(patch, path = "/api/v1/workspaces/{slug}/user-properties", tag = "me",
    params(("slug" = String, Path)), request_body = UserPropertiesPatch, responses((status = 200, body = UserPropertiesView)))]
async fn save_workspace_properties(
    State(app): State<App>,
    w: WsCtx,
    AppJson(b): AppJson<UserPropertiesPatch>,
) -> Result<Json<UserPropertiesView>, AppError> {
    let id = w.ws.id.clone();
    Ok(Json(
        Me(&app)
            .save_properties(&w, PropEntity::Workspace, &id, None, b)
            .await?,
    ))
}

/// The caller's display settings for the project.
#[utoipa::path(get, path = "/api/v1/workspaces/{slug}/projects/{project_id}/user-properties", tag = "me",
    params(("slug" = String, Path), ("project_id" = String, Path)), responses((status = 200, body = UserPropertiesView)))]
async fn project_properties(State(app): State<App>, p: ProjCtx) -> Result<Json<UserPropertiesView>, AppError> {
    Ok(Json(
        Me(&app).properties(&p.ws, PropEntity::Project, &p.project.id).await?,
    ))
}

/// Saves the caller's display settings for the project.
#[utoipa::path(patch, path = "/api/v1/workspaces/{slug}/projects/{project_id}/user-properties", tag = "me",
    params(("slug" = String, Path), ("project_id" = String, Path)), request_body = UserPropertiesPatch,
    responses((status = 200, body = UserPropertiesView)))]
async fn save_project_properties(
    State(app): State<App>,
    p: ProjCtx,
    AppJson(b): AppJson<UserPropertiesPatch>,
) -> Result<Json<UserPropertiesView>, AppError> {
    let id = p.project.id.clone();
    Ok(Json(
        Me(&app)
            .save_properties(&p.ws, PropEntity::Project, &id, Some(&id), b)
            .await?,
    ))
}

async fn planned(app: &App, p: &ProjCtx, entity: PropEntity, id: &str) -> Result<(), AppError> {
    let found = match entity {
        PropEntity::Cycle => crate::planning::Planning(app).cycle(p, id).await.map(|_| ()),
        _ => crate::planning::Planning(app).module(p, id).await.map(|_| ()),
    };
    found
}

/// The caller's display settings for a cycle.
#[utoipa::path(get, path = "/api/v1/workspaces/{slug}/projects/{project_id}/cycles/{cycle_id}/user-properties", tag = "me",
    params(("slug" = String, Path), ("project_id" = String, Path), ("cycle_id" = String, Path)),
    responses((status = 200, body = UserPropertiesView)))]
async fn cycle_properties(
    State(app): State<App>,
    p: ProjCtx,
    AppPath((_, _, id)): AppPath<(String, String, String)>,
) -> Result<Json<UserPropertiesView>, AppError> {
    planned(&app, &p, PropEntity::Cycle, &id).await?;
    Ok(Json(Me(&app).properties(&p.ws, PropEntity::Cycle, &id).await?))
}

/// Saves the caller's display settings for a cycle.
#[utoipa::path(patch, path = "/api/v1/workspaces/{slug}/projects/{project_id}/cycles/{cycle_id}/user-properties", tag = "me",
    params(("slug" = String, Path), ("project_id" = String, Path), ("cycle_id" = String, Path)),
    request_body = UserPropertiesPatch, responses((status = 200, body = UserPropertiesView)))]
async fn save_cycle_properties(
    State(app): State<App>,
    p: ProjCtx,
    AppPath((_, _, id)): AppPath<(String, String, String)>,
    AppJson(b): AppJson<UserPropertiesPatch>,
) -> Result<Json<UserPropertiesView>, AppError> {
    planned(&app, &p, PropEntity::Cycle, &id).await?;
    let pid = p.project.id.clone();
    Ok(Json(
        Me(&app)
            .save_properties(&p.ws, PropEntity::Cycle, &id, Some(&pid), b)
            .await?,
    ))
}

/// The caller's display settings for a module.
#[utoipa::path(get, path = "/api/v1/workspaces/{slug}/projects/{project_id}/modules/{module_id}/user-properties", tag = "me",
    params(("slug" = String, Path), ("project_id" = String, Path), ("module_id" = String, Path)),
    responses((status = 200, body = UserPropertiesView)))]
async fn module_properties(
    State(app): State<App>,
    p: ProjCtx,
    AppPath((_, _, id)): AppPath<(String, String, String)>,
) -> Result<Json<UserPropertiesView>, AppError> {
    planned(&app, &p, PropEntity::Module, &id).await?;
    Ok(Json(Me(&app).properties(&p.ws, PropEntity::Module, &id).await?))
}

/// Saves the caller's display settings for a module.
#[utoipa::path(patch, path = "/api/v1/workspaces/{slug}/projects/{project_id}/modules/{module_id}/user-properties", tag = "me",
    params(("slug" = String, Path), ("project_id" = String, Path), ("module_id" = String, Path)),
    request_body = UserPropertiesPatch, responses((status = 200, body = UserPropertiesView)))]
async fn save_module_properties(
    State(app): State<App>,
    p: ProjCtx,
    AppPath((_, _, id)): AppPath<(String, String, String)>,
    AppJson(b): AppJson<UserPropertiesPatch>,
) -> Result<Json<UserPropertiesView>, AppError> {
    planned(&app, &p, PropEntity::Module, &id).await?;
    let pid = p.project.id.clone();
    Ok(Json(
        Me(&app)
            .save_properties(&p.ws, PropEntity::Module, &id, Some(&pid), b)
            .await?,
    ))
}

// Home --------------------------------------------------------------------------------------

/// The caller's home widgets (quick links, recents, stickies): on or off, and in which order.
#[utoipa::path(get, path = "/api/v1/workspaces/{slug}/home-preferences", tag = "me",
    params(("slug" = String, Path)), responses((status = 200, body = Vec<HomePreferenceView>)))]
async fn home_preferences(State(app): State<App>, w: WsCtx) -> Result<Json<Vec<HomePreferenceView>>, AppError> {
    Ok(Json(Me(&app).home_preferences(&w).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct HomePreferenceBody {
    pub is_enabled: Option<bool>,
    pub sort_order: Option<i64>,
    #[schema(value_type = Option<Object>)]
    pub config: Option<serde_json::Value>,
}

/// Changes one home widget (`quick_links`, `recents`, `my_stickies`).
#[utoipa::path(patch, path = "/api/v1/workspaces/{slug}/home-preferences/{key}", tag = "me",
    params(("slug" = String, Path), ("key" = String, Path)), request_body = HomePreferenceBody,
    responses((status = 200, body = HomePreferenceView)))]
async fn set_home_preference(
    State(app): State<App>,
    w: WsCtx,
    AppPath((_, key)): AppPath<(String, String)>,
    AppJson(b): AppJson<HomePreferenceBody>,
) -> Result<Json<HomePreferenceView>, AppError> {
    Ok(Json(
        Me(&app)
            .set_home_preference(&w, &key, b.is_enabled, b.sort_order, b.config)
            .await?,
    ))
}

/// The caller's quick links.
#[utoipa::path(get, path = "/api/v1/workspaces/{slug}/quick-links", tag = "me",
    params(("slug" = String, Path)), responses((status = 200, body = Vec<QuickLinkView>)))]
async fn list_quick_links(State(app): State<App>, w: WsCtx) -> Result<Json<Vec<QuickLinkView>>, AppError> {
    Ok(Json(Me(&app).quick_links(&w).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct QuickLinkBody {
    /// An http(s) address; required on create.
    pub url: Option<String>,
    /// Defaults to the address.
    pub title: Option<String>,
    pub sort_order: Option<i64>,
}

async fn one_link(app: &App, w: &WsCtx, id: &str) -> Result<QuickLinkView, AppError> {
    Me(app)
        .quick_links(w)
        .await?
        .into_iter()
        .find(|l| l.id == id)
        .ok_or_else(|| AppError::internal("quick link not projected"))
}

/// Adds a quick link.
#[utoipa::path(post, path = "/api/v1/workspaces/{slug}/quick-links", tag = "me",
    params(("slug" = String, Path)), request_body = QuickLinkBody, responses((status = 201, body = QuickLinkView)))]
async fn create_quick_link(
    State(app): State<App>,
    w: WsCtx,
    AppJson(b): AppJson<QuickLinkBody>,
) -> Result<(StatusCode, Json<QuickLinkView>), AppError> {
    let n = NoteInput::quick_link(b.title.as_deref(), b.url.as_deref(), b.sort_order, true)?;
    let id = Me(&app).save_note(&w, Note::QuickLink, None, n, false).await?;
    Ok((StatusCode::CREATED, Json(one_link(&app, &w, &id).await?)))
}

/// Changes a quick link.
#[utoipa::path(patch, path = "/api/v1/workspaces/{slug}/quick-links/{link_id}", tag = "me",
    params(("slug" = String, Path), ("link_id" = String, Path)), request_body = QuickLinkBody,
    responses((status = 200, body = QuickLinkView)))]
async fn update_quick_link(
    State(app): State<App>,
    w: WsCtx,
    AppPath((_, id)): AppPath<(String, String)>,
    AppJson(b): AppJson<QuickLinkBody>,
) -> Result<Json<QuickLinkView>, AppError> {
    let n = NoteInput::quick_link(b.title.as_deref(), b.url.as_deref(), b.sort_order, false)?;
    Me(&app).save_note(&w, Note::QuickLink, Some(&id), n, false).await?;
    Ok(Json(one_link(&app, &w, &id).await?))
}

/// Removes a quick link.
#[utoipa::path(delete, path = "/api/v1/workspaces/{slug}/quick-links/{link_id}", tag = "me",
    params(("slug" = String, Path), ("link_id" = String, Path)), responses((status = 204)))]
async fn delete_quick_link(
    State(app): State<App>,
    w: WsCtx,
    AppPath((_, id)): AppPath<(String, String)>,
) -> Result<StatusCode, AppError> {
    Me(&app)
        .save_note(&w, Note::QuickLink, Some(&id), NoteInput::default(), true)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RecentQuery {
    /// Only this kind: `project`, `issue`, `cycle`, `module`, `view`.
    pub entity_type: Option<String>,
}

/// What the caller opened lately (projects, issues, cycles, modules, views), newest first.
#[utoipa::path(get, path = "/api/v1/workspaces/{slug}/recent-visits", tag = "me",
    params(("slug" = String, Path), RecentQuery), responses((status = 200, body = Vec<RecentVisitView>)))]
async fn recent_visits(
    State(app): State<App>,
    w: WsCtx,
    AppQuery(q): AppQuery<RecentQuery>,
) -> Result<Json<Vec<RecentVisitView>>, AppError> {
    if let Some(t) = &q.entity_type {
        if !["project", "issue", "cycle", "module", "view"].contains(&t.as_str()) {
            return Err(AppError::field("entity_type", "is not a kind of thing one visits"));
        }
    }
    Ok(Json(Me(&app).recents(&w, q.entity_type).await?))
}

/// The caller's stickies (personal notes on the home page).
#[utoipa::path(get, path = "/api/v1/workspaces/{slug}/stickies", tag = "me",
    params(("slug" = String, Path)), responses((status = 200, body = Vec<StickyView>)))]
async fn list_stickies(State(app): State<App>, w: WsCtx) -> Result<Json<Vec<StickyView>>, AppError> {
    Ok(Json(Me(&app).stickies(&w).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct StickyBody {
    pub name: Option<String>,
    /// Rich text; sanitized.
    pub description_html: Option<String>,
    /// `#rrggbb`; `null` clears.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub color: Option<Option<String>>,
    pub sort_order: Option<i64>,
}

async fn one_sticky(app: &App, w: &WsCtx, id: &str) -> Result<StickyView, AppError> {
    Me(app)
        .stickies(w)
        .await?
        .into_iter()
        .find(|l| l.id == id)
        .ok_or_else(|| AppError::internal("sticky not projected"))
}

fn parse_sticky(b: &StickyBody) -> Result<NoteInput, AppError> {
    NoteInput::sticky(
        b.name.as_deref(),
        b.description_html.as_deref(),
        b.color.as_ref().map(Option::as_deref),
        b.sort_order,
    )
}

/// Adds a sticky.
#[utoipa::path(post, path = "/api/v1/workspaces/{slug}/stickies", tag = "me",
    params(("slug" = String, Path)), request_body = StickyBody, responses((status = 201, body = StickyView)))]
async fn create_sticky(
    State(app): State<App>,
    w: WsCtx,
    AppJson(b): AppJson<StickyBody>,
) -> Result<(StatusCode, Json<StickyView>), AppError> {
    let id = Me(&app)
        .save_note(&w, Note::Sticky, None, parse_sticky(&b)?, false)
        .await?;
    Ok((StatusCode::CREATED, Json(one_sticky(&app, &w, &id).await?)))
}

/// Changes a sticky.
#[utoipa::path(patch, path = "/api/v1/workspaces/{slug}/stickies/{sticky_id}", tag = "me",
    params(("slug" = String, Path), ("sticky_id" = String, Path)), request_body = StickyBody,
    responses((status = 200, body = StickyView)))]
async fn update_sticky(
    State(app): State<App>,
    w: WsCtx,
    AppPath((_, id)): AppPath<(String, String)>,
    AppJson(b): AppJson<StickyBody>,
) -> Result<Json<StickyView>, AppError> {
    Me(&app)
        .save_note(&w, Note::Sticky, Some(&id), parse_sticky(&b)?, false)
        .await?;
    Ok(Json(one_sticky(&app, &w, &id).await?))
}

/// Removes a sticky.
#[utoipa::path(delete, path = "/api/v1/workspaces/{slug}/stickies/{sticky_id}", tag = "me",
    params(("slug" = String, Path), ("sticky_id" = String, Path)), responses((status = 204)))]
async fn delete_sticky(
    State(app): State<App>,
    w: WsCtx,
    AppPath((_, id)): AppPath<(String, String)>,
) -> Result<StatusCode, AppError> {
    Me(&app)
        .save_note(&w, Note::Sticky, Some(&id), NoteInput::default(), true)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
