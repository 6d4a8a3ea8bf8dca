//! HTTP surface of analytics: the overview and work-item stats (`tab`), and charts (`type`),
//! for a workspace and for one project, as seed 000 routes them.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{chart_csv, Analytics, AnalyticsView, ChartParams, ChartView, FilterParams, Scope};
use crate::error::AppError;
use crate::extract::AppQuery;
use crate::work::ProjCtx;
use crate::workspaces::WsCtx;
use crate::App;

pub fn router() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(workspace_analytics))
        .routes(routes!(workspace_chart))
        .routes(routes!(project_analytics))
        .routes(routes!(project_chart))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TabQuery {
    /// `overview` (default) or `work-items`.
    pub tab: Option<String>,
    /// The range of the overview's "in range" figures, `YYYY-MM-DD`; the 30 days up to today
    /// by default.
    pub from: Option<String>,
    pub to: Option<String>,
}

/// The workspace's analytics: `tab=overview` (figures as `{count, filter_count}`) or
/// `tab=work-items` (stats per project), over the projects the caller may see.
#[utoipa::path(get, path = "/api/v1/workspaces/{slug}/analytics", tag = "analytics",
    params(("slug" = String, Path), TabQuery, FilterParams),
    responses((status = 200, body = AnalyticsView)))]
async fn workspace_analytics(
    State(app): State<App>,
    w: WsCtx,
    AppQuery(t): AppQuery<TabQuery>,
    AppQuery(f): AppQuery<FilterParams>,
) -> Result<Json<AnalyticsView>, AppError> {
    let tab = t.tab.as_deref().unwrap_or("overview");
    Ok(Json(
        Analytics(&app)
            .tab(Scope::Workspace(&w), tab, t.from.as_deref(), t.to.as_deref(), f)
            .await?,
    ))
}

/// A chart of the workspace's work items or time: `type=custom-work-items` with `x_axis`,
/// `group_by` and `y_axis` (the chart builder), `projects`, or `work-items`; `format=csv`
/// answers its table.
#[utoipa::path(get, path = "/api/v1/workspaces/{slug}/analytics/charts", tag = "analytics",
    params(("slug" = String, Path), ChartParams, FilterParams),
    responses((status = 200, description = "The chart; with `format=csv`, its table; with `format=svg|png`, its image",
        content((ChartView = "application/json"), (String = "text/csv"), (String = "image/svg+xml"), (Vec<u8> = "image/png"))),
        (status = 402, description = "An image on the free plan (`plan_required`)", body = crate::error::ErrorBody)))]
async fn workspace_chart(
    State(app): State<App>,
    w: WsCtx,
    AppQuery(c): AppQuery<ChartParams>,
    AppQuery(f): AppQuery<FilterParams>,
) -> Result<Response, AppError> {
    let name = format!("chart-{}", w.ws.slug);
    if matches!(c.format.as_deref(), Some("svg" | "png")) {
        return Ok(image(Analytics(&app).image(Scope::Workspace(&w), c, f).await?));
    }
    answer(
        Analytics(&app).chart(Scope::Workspace(&w), c.clone(), f).await?,
        &c,
        &name,
    )
}

/// The project's analytics (`tab=overview` or `tab=work-items`: stats per assignee).
#[utoipa::path(get, path = "/api/v1/workspaces/{slug}/projects/{project_id}/analytics", tag = "analytics",
    params(("slug" = String, Path), ("project_id" = String, Path), TabQuery, FilterParams),
    responses((status = 200, body = AnalyticsView)))]
async fn project_analytics(
    State(app): State<App>,
    p: ProjCtx,
    AppQuery(t): AppQuery<TabQuery>,
    AppQuery(f): AppQuery<FilterParams>,
) -> Result<Json<AnalyticsView>, AppError> {
    let tab = t.tab.as_deref().unwrap_or("overview");
    Ok(Json(
        Analytics(&app)
            .tab(Scope::Project(&p), tab, t.from.as_deref(), t.to.as_deref(), f)
            .await?,
    ))
}

/// A chart of the project's work items or time (as the workspace's).
#[utoipa::path(get, path = "/api/v1/workspaces/{slug}/projects/{project_id}/analytics/charts", tag = "analytics",
    params(("slug" = String, Path), ("project_id" = String, Path), ChartParams, FilterParams),
    responses((status = 200, description = "The chart; with `format=csv`, its table; with `format=svg|png`, its image",
        content((ChartView = "application/json"), (String = "text/csv"), (String = "image/svg+xml"), (Vec<u8> = "image/png"))),
        (status = 402, description = "An image on the free plan (`plan_required`)", body = crate::error::ErrorBody)))]
async fn project_chart(
    State(app): State<App>,
    p: ProjCtx,
    AppQuery(c): AppQuery<ChartParams>,
    AppQuery(f): AppQuery<FilterParams>,
) -> Result<Response, AppError> {
    let name = format!("chart-{}-{}", p.ws.ws.slug, p.project.identifier);
    if matches!(c.format.as_deref(), Some("svg" | "png")) {
        return Ok(image(Analytics(&app).image(Scope::Project(&p), c, f).await?));
    }
    answer(
        Analytics(&app).chart(Scope::Project(&p), c.clone(), f).await?,
        &c,
        &name,
    )
}

fn image((bytes, content_type): (Vec<u8>, &'static str)) -> Response {
    ([(header::CONTENT_TYPE, content_type)], bytes).into_response()
}

fn answer(v: ChartView, c: &ChartParams, name: &str) -> Result<Response, AppError> {
    match c.format.as_deref().unwrap_or("json") {
        "json" => Ok(Json(v).into_response()),
        "csv" => Ok((
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{name}.csv\""),
                ),
            ],
            chart_csv(&v)?,
        )
            .into_response()),
        other => Err(AppError::field("format", format!("{other:.40} is not a format"))),
    }
}
