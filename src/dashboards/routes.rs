//! HTTP surface of dashboards (seed 000's routes): the dashboards, their widgets, each
//! widget's data and a dashboard's in one call, and the widget types.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::metrics::{MetricInput, MetricView, Metrics};
use super::records::Position;
use super::transfer::DashboardDoc;
use super::widgets::{WidgetType, WIDGET_TYPES};
use super::{
    Choice, DashboardData, DashboardInput, DashboardView, Dashboards, LayoutView, WidgetData, WidgetInput, WidgetView,
};
use crate::error::AppError;
use crate::extract::{nullable, AppJson, AppPath};
use crate::workspaces::WsCtx;
use crate::App;

pub fn router() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(widget_types))
        .routes(routes!(list_dashboards, create_dashboard))
        .routes(routes!(get_dashboard, update_dashboard, delete_dashboard))
        .routes(routes!(dashboard_data))
        .routes(routes!(create_widget))
        .routes(routes!(preview_widget))
        .routes(routes!(update_widget, delete_widget))
        .routes(routes!(widget_data))
        .routes(routes!(save_layout))
        .routes(routes!(list_layouts))
        .routes(routes!(restore_layout))
        .routes(routes!(favorite, unfavorite))
        .routes(routes!(make_my_default, unmake_my_default))
        .routes(routes!(list_metrics, create_metric))
        .routes(routes!(get_metric, update_metric, delete_metric))
        .routes(routes!(refresh_metric))
        .routes(routes!(export_dashboard))
        .routes(routes!(import_dashboard))
}

/// The widget types (seed 002's component library): each with its grid size and config
/// fields. The dashboard editor builds its forms from this list.
#[utoipa::path(get, path = "/api/v1/dashboard-widget-types", tag = "dashboards",
    responses((status = 200, body = Vec<WidgetType>)))]
async fn widget_types() -> Json<&'static [WidgetType]> {
    Json(WIDGET_TYPES)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DashboardBody {
    /// Required on create; unique among the dashboards of its kind (shared, or yours).
    pub name: Option<String>,
    pub description: Option<String>,
    /// `{"filters": {…}}`: the chart builder's filters under every widget's own.
    #[schema(value_type = Option<Object>)]
    pub config: Option<Map<String, Value>>,
    pub sort_order: Option<i64>,
    /// On create: shared with the workspace (admins) or your own (the default).
    pub is_shared: Option<bool>,
}

impl DashboardBody {
    fn input(self, creating: bool) -> Result<DashboardInput, AppError> {
        if !creating && self.is_shared.is_some() {
            return Err(AppError::field("is_shared", "is chosen when the dashboard is made"));
        }
        Ok(DashboardInput {
            name: self.name,
            description: self.description,
            config: self.config,
            sort_order: self.sort_order,
            shared: self.is_shared.unwrap_or(false),
        })
    }
}

type Did = AppPath<(String, String)>;
type Wid = AppPath<(String, String, String)>;

/// The shared dashboards and the caller's own, the default first.
#[utoipa::path(get, path = "/api/v1/workspaces/{slug}/dashboards", tag = "dashboards",
    params(("slug" = String, Path)), responses((status = 200, body = Vec<DashboardView>)))]
async fn list_dashboards(State(app): State<App>, w: WsCtx) -> Result<Json<Vec<DashboardView>>, AppError> {
    Ok(Json(Dashboards(&app).list(&w).await?))
}

/// Makes a dashboard: one's own (members), or shared (admins). Beyond the default one,
/// dashboards are premium (402 `plan_required`).
#[utoipa::path(post, path = "/api/v1/workspaces/{slug}/dashboards", tag = "dashboards",
    params(("slug" = String, Path)), request_body = DashboardBody,
    responses((status = 201, body = DashboardView)))]
async fn create_dashboard(
    State(app): State<App>,
    w: WsCtx,
    AppJson(b): AppJson<DashboardBody>,
) -> Result<(StatusCode, Json<DashboardView>), AppError> {
    let input = b.input(true)?;
    Ok((StatusCode::CREATED, Json(Dashboards(&app).create(&w, input).await?)))
}

/// One dashboard with its widgets.
#[utoipa::path(get, path = "/api/v1/workspaces/{slug}/dashboards/{dashboard_id}", tag = "dashboards",
    params(("slug" = String, Path), ("dashboard_id" = String, Path)),
    responses((status = 200, body = DashboardView)))]
async fn get_dashboard(
    State(app): State<App>,
    w: WsCtx,
    AppPath((_, id)): Did,
) -> Result<Json<DashboardView>, AppError> {
    Ok(Json(Dashboards(&app).get(&w, &id).await?))
}

#[utoipa::path(patch, path = "/api/v1/workspaces/{slug}/dashboards/{dashboard_id}", tag = "dashboards",
    params(("slug" = String, Path), ("dashboard_id" = String, Path)), request_body = DashboardBody,
    responses((status = 200, body = DashboardView)))]
async fn update_dashboard(
    State(app): State<App>,
    w: WsCtx,
    AppPath((_, id)): Did,
    AppJson(b): AppJson<DashboardBody>,
) -> Result<Json<DashboardView>, AppError> {
    let input = b.input(false)?;
    Ok(Json(Dashboards(&app).update(&w, &id, input).await?))
}

/// Deletes a dashboard and its widgets; never the workspace's default.
#[utoipa::path(delete, path = "/api/v1/workspaces/{slug}/dashboards/{dashboard_id}", tag = "dashboards",
    params(("slug" = String, Path), ("dashboard_id" = String, Path)), responses((status = 204)))]
async fn delete_dashboard(State(app): State<App>, w: WsCtx, AppPath((_, id)): Did) -> Result<StatusCode, AppError> {
    Dashboards(&app).delete(&w, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The data of every visible widget, in one call.
#[utoipa::path(get, path = "/api/v1/workspaces/{slug}/dashboards/{dashboard_id}/data", tag = "dashboards",
    params(("slug" = String, Path), ("dashboard_id" = String, Path)),
    responses((status = 200, body = DashboardData)))]
async fn dashboard_data(
    State(app): State<App>,
    w: WsCtx,
    AppPath((_, id)): Did,
) -> Result<Json<DashboardData>, AppError> {
    Ok(Json(Dashboards(&app).data(&w, &id).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WidgetBody {
    /// Required on create, fixed after (`GET /api/v1/dashboard-widget-types`).
    pub widget_type: Option<String>,
    pub title: Option<String>,
    /// The type's fields and, for types that take them, the chart builder's filters.
    #[schema(value_type = Option<Object>)]
    pub config: Option<Map<String, Value>>,
    /// `{x, y, w, h}` on the 24-column grid; below the others by default.
    pub position: Option<Position>,
    pub sort_order: Option<i64>,
    /// 60 to 86,400 seconds (300 by default).
    pub refresh_seconds: Option<i64>,
    pub is_visible: Option<bool>,
    /// How a chart draws: bar, stacked, grouped, line, area, donut, number.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub chart_type: Option<Option<String>>,
}

impl From<WidgetBody> for WidgetInput {
    fn from(b: WidgetBody) -> Self {
        WidgetInput {
            widget_type: b.widget_type,
            title: b.title,
            config: b.config,
            position: b.position,
            sort_order: b.sort_order,
            refresh_seconds: b.refresh_seconds,
            is_visible: b.is_visible,
            chart_type: b.chart_type,
        }
    }
}

#[utoipa::path(post, path = "/api/v1/workspaces/{slug}/dashboards/{dashboard_id}/widgets", tag = "dashboards",
    params(("slug" = String, Path), ("dashboard_id" = String, Path)), request_body = WidgetBody,
    responses((status = 201, body = WidgetView)))]
async fn create_widget(
    State(app): State<App>,
    w: WsCtx,
    AppPath((_, id)): Did,
    AppJson(b): AppJson<WidgetBody>,
) -> Result<(StatusCode, Json<WidgetView>), AppError> {
    Ok((
        StatusCode::CREATED,
        Json(Dashboards(&app).add_widget(&w, &id, b.into()).await?),
    ))
}

/// The data a widget would show, written nowhere (the widget editor's live preview).
#[utoipa::path(post, path = "/api/v1/workspaces/{slug}/dashboards/{dashboard_id}/widgets/preview", tag = "dashboards",
    params(("slug" = String, Path), ("dashboard_id" = String, Path)), request_body = WidgetBody,
    responses((status = 200, body = WidgetData)))]
async fn preview_widget(
    State(app): State<App>,
    w: WsCtx,
    AppPath((_, id)): Did,
    AppJson(b): AppJson<WidgetBody>,
) -> Result<Json<WidgetData>, AppError> {
    Ok(Json(Dashboards(&app).preview(&w, &id, b.into()).await?))
}

#[utoipa::path(patch, path = "/api/v1/workspaces/{slug}/dashboards/{dashboard_id}/widgets/{widget_id}", tag = "dashboards",
    params(("slug" = String, Path), ("dashboard_id" = String, Path), ("widget_id" = String, Path)),
    request_body = WidgetBody, responses((status = 200, body = WidgetView)))]
async fn update_widget(
    State(app): State<App>,
    w: WsCtx,
    AppPath((_, id, wid)): Wid,
    AppJson(b): AppJson<WidgetBody>,
) -> Result<Json<WidgetView>, AppError> {
    Ok(Json(Dashboards(&app).update_widget(&w, &id, &wid, b.into()).await?))
}

#[utoipa::path(delete, path = "/api/v1/workspaces/{slug}/dashboards/{dashboard_id}/widgets/{widget_id}", tag = "dashboards",
    params(("slug" = String, Path), ("dashboard_id" = String, Path), ("widget_id" = String, Path)),
    responses((status = 204)))]
async fn delete_widget(State(app): State<App>, w: WsCtx, AppPath((_, id, wid)): Wid) -> Result<StatusCode, AppError> {
    Dashboards(&app).delete_widget(&w, &id, &wid).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// One widget's data, as the caller may see it.
#[utoipa::path(get, path = "/api/v1/workspaces/{slug}/dashboards/{dashboard_id}/widgets/{widget_id}/data", tag = "dashboards",
    params(("slug" = String, Path), ("dashboard_id" = String, Path), ("widget_id" = String, Path)),
    responses((status = 200, body = WidgetData)))]
async fn widget_data(
    State(app): State<App>,
    w: WsCtx,
    AppPath((_, id, wid)): Wid,
) -> Result<Json<WidgetData>, AppError> {
    Ok(Json(Dashboards(&app).one(&w, &id, &wid).await?))
}

/// A widget's place in a layout being saved.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlacedWidget {
    pub id: String,
    pub position: Position,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LayoutBody {
    /// The widgets moved or resized; the others stay where they are.
    pub widgets: Vec<PlacedWidget>,
}

/// Moves and resizes widgets in one change and keeps the grid as a new layout version (the
/// dashboard keeps its last 50).
#[utoipa::path(put, path = "/api/v1/workspaces/{slug}/dashboards/{dashboard_id}/layout", tag = "dashboards",
    params(("slug" = String, Path), ("dashboard_id" = String, Path)), request_body = LayoutBody,
    responses((status = 200, body = DashboardView)))]
async fn save_layout(
    State(app): State<App>,
    w: WsCtx,
    AppPath((_, id)): Did,
    AppJson(b): AppJson<LayoutBody>,
) -> Result<Json<DashboardView>, AppError> {
    if b.widgets.len() > super::records::MAX_WIDGETS {
        return Err(AppError::field(
            "widgets",
            format!("holds at most {} widgets", super::records::MAX_WIDGETS),
        ));
    }
    let positions = b.widgets.into_iter().map(|p| (p.id, p.position)).collect();
    Ok(Json(Dashboards(&app).save_layout(&w, &id, positions).await?))
}

/// The dashboard's kept layouts, newest first.
#[utoipa::path(get, path = "/api/v1/workspaces/{slug}/dashboards/{dashboard_id}/layouts", tag = "dashboards",
    params(("slug" = String, Path), ("dashboard_id" = String, Path)),
    responses((status = 200, body = Vec<LayoutView>)))]
async fn list_layouts(
    State(app): State<App>,
    w: WsCtx,
    AppPath((_, id)): Did,
) -> Result<Json<Vec<LayoutView>>, AppError> {
    Ok(Json(Dashboards(&app).layouts(&w, &id).await?))
}

/// Puts the widgets back where a kept layout had them; the restore is kept as a new version.
#[utoipa::path(post, path = "/api/v1/workspaces/{slug}/dashboards/{dashboard_id}/layouts/{layout_id}/restore", tag = "dashboards",
    params(("slug" = String, Path), ("dashboard_id" = String, Path), ("layout_id" = String, Path)),
    responses((status = 200, body = DashboardView)))]
async fn restore_layout(
    State(app): State<App>,
    w: WsCtx,
    AppPath((_, id, lid)): Wid,
) -> Result<Json<DashboardView>, AppError> {
    Ok(Json(Dashboards(&app).restore_layout(&w, &id, &lid).await?))
}

/// Marks the dashboard as one of the caller's favourites (listed after the defaults).
#[utoipa::path(put, path = "/api/v1/workspaces/{slug}/dashboards/{dashboard_id}/favorite", tag = "dashboards",
    params(("slug" = String, Path), ("dashboard_id" = String, Path)),
    responses((status = 200, body = DashboardView)))]
async fn favorite(State(app): State<App>, w: WsCtx, AppPath((_, id)): Did) -> Result<Json<DashboardView>, AppError> {
    Ok(Json(Dashboards(&app).choose(&w, &id, Choice::Favorite, true).await?))
}

#[utoipa::path(delete, path = "/api/v1/workspaces/{slug}/dashboards/{dashboard_id}/favorite", tag = "dashboards",
    params(("slug" = String, Path), ("dashboard_id" = String, Path)),
    responses((status = 200, body = DashboardView)))]
async fn unfavorite(State(app): State<App>, w: WsCtx, AppPath((_, id)): Did) -> Result<Json<DashboardView>, AppError> {
    Ok(Json(Dashboards(&app).choose(&w, &id, Choice::Favorite, false).await?))
}

/// Makes the dashboard the one the caller opens first, over the workspace's default.
#[utoipa::path(put, path = "/api/v1/workspaces/{slug}/dashboards/{dashboard_id}/my-default", tag = "dashboards",
    params(("slug" = String, Path), ("dashboard_id" = String, Path)),
    responses((status = 200, body = DashboardView)))]
async fn make_my_default(
    State(app): State<App>,
    w: WsCtx,
    AppPath((_, id)): Did,
) -> Result<Json<DashboardView>, AppError> {
    Ok(Json(Dashboards(&app).choose(&w, &id, Choice::Default, true).await?))
}

/// Back to the workspace's default for the caller.
#[utoipa::path(delete, path = "/api/v1/workspaces/{slug}/dashboards/{dashboard_id}/my-default", tag = "dashboards",
    params(("slug" = String, Path), ("dashboard_id" = String, Path)),
    responses((status = 200, body = DashboardView)))]
async fn unmake_my_default(
    State(app): State<App>,
    w: WsCtx,
    AppPath((_, id)): Did,
) -> Result<Json<DashboardView>, AppError> {
    Ok(Json(Dashboards(&app).choose(&w, &id, Choice::Default, false).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MetricBody {
    /// Required on create; unique among the workspace's metrics (at most 100 characters).
    pub name: Option<String>,
    pub description: Option<String>,
    /// `operational`, `productivity`, `time`, `quality` or `people`.
    pub category: Option<String>,
    /// Required on create. `{"measure": …, "per": …, "filters": {…}, "period": …,
    /// "period_field": …}` for work items (the chart builder's measures and filters; `per`
    /// makes it a share out of 100; `period`: today, this_week, this_month, this_quarter,
    /// this_year, last_7_days, last_30_days, last_90_days on `period_field`: created,
    /// completed, logged, target or start), or `{"source": "staff", "status": …,
    /// "department": …}`.
    #[schema(value_type = Option<Object>)]
    pub query: Option<Map<String, Value>>,
    /// Shown after the number (`pts`, `items`); empty by default.
    pub unit: Option<String>,
    /// `number` (the default), `percentage` or `duration` (minutes).
    pub format: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<f64>)]
    pub target_value: Option<Option<f64>>,
    /// Warning and critical levels are premium (`metric_thresholds`, 402 `plan_required`).
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<f64>)]
    pub warning_threshold: Option<Option<f64>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<f64>)]
    pub critical_threshold: Option<Option<f64>>,
    /// `above` (higher is worse, the default) or `below`.
    pub direction: Option<String>,
    /// 60 to 86,400 seconds (300 by default).
    pub refresh_seconds: Option<i64>,
    pub is_enabled: Option<bool>,
    pub color: Option<String>,
    pub icon: Option<String>,
    pub sort_order: Option<i64>,
}

impl From<MetricBody> for MetricInput {
    fn from(b: MetricBody) -> Self {
        MetricInput {
            name: b.name,
            description: b.description,
            category: b.category,
            query: b.query,
            unit: b.unit,
            format: b.format,
            target_value: b.target_value,
            warning_threshold: b.warning_threshold,
            critical_threshold: b.critical_threshold,
            direction: b.direction,
            refresh_seconds: b.refresh_seconds,
            is_enabled: b.is_enabled,
            color: b.color,
            icon: b.icon,
            sort_order: b.sort_order,
        }
    }
}

type Mid = AppPath<(String, String)>;

/// The workspace's metrics (Keel's system metrics first) with their last values and status,
/// as the caller may see them.
#[utoipa::path(get, path = "/api/v1/workspaces/{slug}/metrics", tag = "dashboards",
    params(("slug" = String, Path)), responses((status = 200, body = Vec<MetricView>)))]
async fn list_metrics(State(app): State<App>, w: WsCtx) -> Result<Json<Vec<MetricView>>, AppError> {
    Ok(Json(Metrics(&app).list(&w).await?))
}

/// Makes a metric (admins); it is computed at once, then on its refresh rate.
#[utoipa::path(post, path = "/api/v1/workspaces/{slug}/metrics", tag = "dashboards",
    params(("slug" = String, Path)), request_body = MetricBody,
    responses((status = 201, body = MetricView)))]
async fn create_metric(
    State(app): State<App>,
    w: WsCtx,
    AppJson(b): AppJson<MetricBody>,
) -> Result<(StatusCode, Json<MetricView>), AppError> {
    Ok((StatusCode::CREATED, Json(Metrics(&app).create(&w, b.into()).await?)))
}

#[utoipa::path(get, path = "/api/v1/workspaces/{slug}/metrics/{metric_id}", tag = "dashboards",
    params(("slug" = String, Path), ("metric_id" = String, Path)),
    responses((status = 200, body = MetricView)))]
async fn get_metric(State(app): State<App>, w: WsCtx, AppPath((_, id)): Mid) -> Result<Json<MetricView>, AppError> {
    Ok(Json(Metrics(&app).get(&w, &id).await?))
}

/// Changes a workspace's metric (admins); system metrics are read-only (409 `system_metric`).
#[utoipa::path(patch, path = "/api/v1/workspaces/{slug}/metrics/{metric_id}", tag = "dashboards",
    params(("slug" = String, Path), ("metric_id" = String, Path)), request_body = MetricBody,
    responses((status = 200, body = MetricView)))]
async fn update_metric(
    State(app): State<App>,
    w: WsCtx,
    AppPath((_, id)): Mid,
    AppJson(b): AppJson<MetricBody>,
) -> Result<Json<MetricView>, AppError> {
    Ok(Json(Metrics(&app).update(&w, &id, b.into()).await?))
}

#[utoipa::path(delete, path = "/api/v1/workspaces/{slug}/metrics/{metric_id}", tag = "dashboards",
    params(("slug" = String, Path), ("metric_id" = String, Path)), responses((status = 204)))]
async fn delete_metric(State(app): State<App>, w: WsCtx, AppPath((_, id)): Mid) -> Result<StatusCode, AppError> {
    Metrics(&app).delete(&w, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Computes a metric now instead of at its next refresh (admins).
#[utoipa::path(post, path = "/api/v1/workspaces/{slug}/metrics/{metric_id}/refresh", tag = "dashboards",
    params(("slug" = String, Path), ("metric_id" = String, Path)),
    responses((status = 200, body = MetricView)))]
async fn refresh_metric(State(app): State<App>, w: WsCtx, AppPath((_, id)): Mid) -> Result<Json<MetricView>, AppError> {
    Ok(Json(Metrics(&app).refresh(&w, &id).await?))
}

/// The dashboard as a versioned JSON document (premium `dashboard_export`): its settings,
/// widgets, the workspace metrics they show, and what each id they name stands for.
#[utoipa::path(get, path = "/api/v1/workspaces/{slug}/dashboards/{dashboard_id}/export", tag = "dashboards",
    params(("slug" = String, Path), ("dashboard_id" = String, Path)),
    responses((status = 200, body = DashboardDoc)))]
async fn export_dashboard(
    State(app): State<App>,
    w: WsCtx,
    AppPath((_, id)): Did,
) -> Result<Json<DashboardDoc>, AppError> {
    Ok(Json(Dashboards(&app).export(&w, &id).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ImportBody {
    /// A document as the export answers it.
    pub document: Value,
    /// The new dashboard's name (the document's by default).
    pub name: Option<String>,
    /// Shared with the workspace (admins) or your own (the default).
    pub is_shared: Option<bool>,
}

/// Makes a dashboard from an exported document, in any workspace (premium): ids mapped by
/// project identifier, name and email. Any problem is listed (422 `import_invalid`, each
/// with where it is) and nothing is written.
#[utoipa::path(post, path = "/api/v1/workspaces/{slug}/dashboards/import", tag = "dashboards",
    params(("slug" = String, Path)), request_body = ImportBody,
    responses((status = 201, body = DashboardView)))]
async fn import_dashboard(
    State(app): State<App>,
    w: WsCtx,
    AppJson(b): AppJson<ImportBody>,
) -> Result<(StatusCode, Json<DashboardView>), AppError> {
    let doc: DashboardDoc = serde_json::from_value(b.document).map_err(|e| {
        AppError::refused(
            "import_unreadable",
            format!("the document cannot be read as a dashboard: {e:.200}"),
        )
    })?;
    let view = Dashboards(&app)
        .import(&w, doc, b.name, b.is_shared.unwrap_or(false))
        .await?;
    Ok((StatusCode::CREATED, Json(view)))
}
