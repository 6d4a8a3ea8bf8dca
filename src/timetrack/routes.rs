//! HTTP surface of work logs, timers, time summaries and CSV export.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{
    ExportScope, Interval, IssueTimeSummary, ListCut, ProjectTimeSummary, Range, SummarySort, TimeTracking, TimerState,
    TimerView, WorklogInput, WorklogView, WorkspaceTimeSummary,
};
use crate::auth::Actor;
use crate::error::AppError;
use crate::extract::{AppJson, AppPath, AppQuery};
use crate::http::{Page, PageQuery};
use crate::work::ProjCtx;
use crate::workspaces::WsCtx;
use crate::App;

pub fn router() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(list_issue_worklogs, create_worklog))
        .routes(routes!(update_worklog, delete_worklog))
        .routes(routes!(issue_time_summary))
        .routes(routes!(start_timer))
        .routes(routes!(list_project_worklogs))
        .routes(routes!(project_time_summary))
        .routes(routes!(export_project_worklogs))
        .routes(routes!(workspace_time_summary))
        .routes(routes!(export_workspace_worklogs))
        .routes(routes!(current_timer, discard_timer))
        .routes(routes!(stop_timer))
}

type Pid = AppPath<(String, String, String)>;
type Pid2 = AppPath<(String, String, String, String)>;

/// Work logs of an issue, newest day first (project members).
#[utoipa::path(get, path = "/api/v1/workspaces/{slug}/projects/{project_id}/issues/{issue_id}/worklogs", tag = "time",
    params(("slug" = String, Path), ("project_id" = String, Path), ("issue_id" = String, Path), PageQuery),
    responses((status = 200, body = Page<WorklogView>)))]
async fn list_issue_worklogs(
    State(app): State<App>,
    p: ProjCtx,
    AppPath((_, _, iid)): Pid,
    AppQuery(q): AppQuery<PageQuery>,
) -> Result<Json<Page<WorklogView>>, AppError> {
    Ok(Json(TimeTracking(&app).list_for_issue(&p, &iid, q.parse()?).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct WorklogBody {
    /// 1 to 1440 minutes; required on create.
    pub duration_minutes: Option<i64>,
    pub description: Option<String>,
    /// The day worked, `YYYY-MM-DD`; default today.
    pub logged_at: Option<String>,
}

/// Logs time on an issue (project admins and members; not guests). Refused with
/// `time_tracking_disabled` when the project turned time tracking off.
#[utoipa::path(post, path = "/api/v1/workspaces/{slug}/projects/{project_id}/issues/{issue_id}/worklogs", tag = "time",
    params(("slug" = String, Path), ("project_id" = String, Path), ("issue_id" = String, Path)),
    request_body = WorklogBody, responses((status = 201, body = WorklogView)))]
async fn create_worklog(
    State(app): State<App>,
    p: ProjCtx,
    AppPath((_, _, iid)): Pid,
    AppJson(b): AppJson<WorklogBody>,
) -> Result<(StatusCode, Json<WorklogView>), AppError> {
    let w = WorklogInput::parse(
        b.duration_minutes,
        b.description.as_deref(),
        b.logged_at.as_deref(),
        true,
    )?;
    Ok((StatusCode::CREATED, Json(TimeTracking(&app).create(&p, &iid, w).await?)))
}

/// Changes a work log (its author, or a project admin).
#[utoipa::path(patch, path = "/api/v1/workspaces/{slug}/projects/{project_id}/issues/{issue_id}/worklogs/{worklog_id}", tag = "time",
    params(("slug" = String, Path), ("project_id" = String, Path), ("issue_id" = String, Path), ("worklog_id" = String, Path)),
    request_body = WorklogBody, responses((status = 200, body = WorklogView)))]
async fn update_worklog(
    State(app): State<App>,
    p: ProjCtx,
    AppPath((_, _, iid, wid)): Pid2,
    AppJson(b): AppJson<WorklogBody>,
) -> Result<Json<WorklogView>, AppError> {
    let w = WorklogInput::parse(
        b.duration_minutes,
        b.description.as_deref(),
        b.logged_at.as_deref(),
        false,
    )?;
    TimeTracking(&app)
        .change(&p, &iid, &wid, Some(w))
        .await?
        .map(Json)
        .ok_or(AppError::not_found("work log"))
}

/// Deletes a work log (its author, or a project admin).
#[utoipa::path(delete, path = "/api/v1/workspaces/{slug}/projects/{project_id}/issues/{issue_id}/worklogs/{worklog_id}", tag = "time",
    params(("slug" = String, Path), ("project_id" = String, Path), ("issue_id" = String, Path), ("worklog_id" = String, Path)),
    responses((status = 204)))]
async fn delete_worklog(
    State(app): State<App>,
    p: ProjCtx,
    AppPath((_, _, iid, wid)): Pid2,
) -> Result<StatusCode, AppError> {
    TimeTracking(&app).change(&p, &iid, &wid, None).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Logged time against the issue's estimate: remaining, overrun, and who logged it.
#[utoipa::path(get, path = "/api/v1/workspaces/{slug}/projects/{project_id}/issues/{issue_id}/worklogs/summary", tag = "time",
    params(("slug" = String, Path), ("project_id" = String, Path), ("issue_id" = String, Path)),
    responses((status = 200, body = IssueTimeSummary)))]
async fn issue_time_summary(
    State(app): State<App>,
    p: ProjCtx,
    AppPath((_, _, iid)): Pid,
) -> Result<Json<IssueTimeSummary>, AppError> {
    Ok(Json(TimeTracking(&app).issue_summary(&p, &iid).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct StartTimerBody {
    pub description: Option<String>,
}

/// Starts the caller's timer on an issue (project admins and members). One timer runs per
/// person: `timer_running` while another does.
#[utoipa::path(post, path = "/api/v1/workspaces/{slug}/projects/{project_id}/issues/{issue_id}/timer", tag = "time",
    params(("slug" = String, Path), ("project_id" = String, Path), ("issue_id" = String, Path)),
    request_body = StartTimerBody, responses((status = 201, body = TimerView)))]
async fn start_timer(
    State(app): State<App>,
    p: ProjCtx,
    AppPath((_, _, iid)): Pid,
    AppJson(b): AppJson<StartTimerBody>,
) -> Result<(StatusCode, Json<TimerView>), AppError> {
    let d = match b.description.as_deref() {
        Some(d) => Some(super::parse_note(d).map_err(|e| AppError::field("description", e))?),
        None => None,
    };
    Ok((
        StatusCode::CREATED,
        Json(TimeTracking(&app).start_timer(&p, &iid, d).await?),
    ))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RangeQuery {
    /// First day, `YYYY-MM-DD` (default: 29 days before `to`).
    pub from: Option<String>,
    /// Last day, inclusive (default: today).
    pub to: Option<String>,
    /// `day` (default) or `week` (periods start on Monday).
    #[param(inline)]
    pub interval: Option<Interval>,
    /// Only this person's logs.
    pub user_id: Option<String>,
    /// Only this project's logs (workspace summary and export).
    pub project_id: Option<String>,
    /// The page of a list of logs; of a summary's issues (project) or projects (workspace).
    pub page: Option<u32>,
    pub per_page: Option<u32>,
    /// The page of a summary's people.
    pub member_page: Option<u32>,
    /// Order of a summary's lists: `-minutes` (default), `minutes`, `-entries`, `entries`,
    /// `name`, `-name`.
    #[param(inline)]
    pub sort: Option<SummarySort>,
}

impl RangeQuery {
    fn range(&self) -> Result<Range, AppError> {
        Range::parse(self.from.as_deref(), self.to.as_deref(), self.interval)
    }
    fn page(&self) -> Result<crate::http::PageParams, AppError> {
        PageQuery {
            page: self.page,
            per_page: self.per_page,
        }
        .parse()
    }
    /// How a summary cuts its lists (`ListCut`).
    fn cut(&self) -> Result<ListCut, AppError> {
        Ok(ListCut {
            sort: self.sort.unwrap_or_default(),
            page: self.page()?,
            member_page: PageQuery {
                page: self.member_page,
                per_page: self.per_page,
            }
            .parse()
            .map_err(|e| match e {
                AppError::Validation(mut f) => {
                    if let Some(v) = f.remove("page") {
                        f.insert("member_page".into(), v);
                    }
                    AppError::Validation(f)
                }
                other => other,
            })?,
        })
    }
}

/// Work logs of a project over a date range (project admins and members).
#[utoipa::path(get, path = "/api/v1/workspaces/{slug}/projects/{project_id}/worklogs", tag = "time",
    params(("slug" = String, Path), ("project_id" = String, Path), RangeQuery),
    responses((status = 200, body = Page<WorklogView>)))]
async fn list_project_worklogs(
    State(app): State<App>,
    p: ProjCtx,
    AppQuery(q): AppQuery<RangeQuery>,
) -> Result<Json<Page<WorklogView>>, AppError> {
    let page = q.page()?;
    let r = q.range()?;
    Ok(Json(TimeTracking(&app).list_for_project(&p, r, q.user_id, page).await?))
}

/// A project's time over a date range: by member, by issue, and by day or week.
#[utoipa::path(get, path = "/api/v1/workspaces/{slug}/projects/{project_id}/worklogs/summary", tag = "time",
    params(("slug" = String, Path), ("project_id" = String, Path), RangeQuery),
    responses((status = 200, body = ProjectTimeSummary)))]
async fn project_time_summary(
    State(app): State<App>,
    p: ProjCtx,
    AppQuery(q): AppQuery<RangeQuery>,
) -> Result<Json<ProjectTimeSummary>, AppError> {
    let (r, cut) = (q.range()?, q.cut()?);
    Ok(Json(TimeTracking(&app).project_summary(&p, r, q.user_id, cut).await?))
}

fn csv_answer(name: String, body: Vec<u8>) -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")),
        ],
        body,
    )
}

/// The project's work logs over a date range as CSV, safe to open in a spreadsheet.
#[utoipa::path(get, path = "/api/v1/workspaces/{slug}/projects/{project_id}/worklogs/export", tag = "time",
    params(("slug" = String, Path), ("project_id" = String, Path), RangeQuery),
    responses((status = 200, content_type = "text/csv", body = String)))]
async fn export_project_worklogs(
    State(app): State<App>,
    p: ProjCtx,
    AppQuery(q): AppQuery<RangeQuery>,
) -> Result<impl IntoResponse, AppError> {
    let r = q.range()?;
    let name = format!("worklogs-{}-{}-{}.csv", p.project.identifier, r.from, r.to);
    let body = TimeTracking(&app)
        .export(ExportScope::Project(&p), r, q.user_id)
        .await?;
    Ok(csv_answer(name, body))
}

/// The workspace's time over a date range: by project, by member, and by day or week.
/// Workspace admins see everybody's; members see their own.
#[utoipa::path(get, path = "/api/v1/workspaces/{slug}/time-tracking/summary", tag = "time",
    params(("slug" = String, Path), RangeQuery), responses((status = 200, body = WorkspaceTimeSummary)))]
async fn workspace_time_summary(
    State(app): State<App>,
    w: WsCtx,
    AppQuery(q): AppQuery<RangeQuery>,
) -> Result<Json<WorkspaceTimeSummary>, AppError> {
    let (r, cut) = (q.range()?, q.cut()?);
    Ok(Json(
        TimeTracking(&app)
            .workspace_summary(&w, r, q.user_id, q.project_id, cut)
            .await?,
    ))
}

/// The workspace's work logs as CSV (admins: everybody's; members: their own).
#[utoipa::path(get, path = "/api/v1/workspaces/{slug}/time-tracking/export", tag = "time",
    params(("slug" = String, Path), RangeQuery), responses((status = 200, content_type = "text/csv", body = String)))]
async fn export_workspace_worklogs(
    State(app): State<App>,
    w: WsCtx,
    AppQuery(q): AppQuery<RangeQuery>,
) -> Result<impl IntoResponse, AppError> {
    let r = q.range()?;
    let name = format!("worklogs-{}-{}-{}.csv", w.ws.slug, r.from, r.to);
    let body = TimeTracking(&app)
        .export(ExportScope::Workspace(&w, q.project_id), r, q.user_id)
        .await?;
    Ok(csv_answer(name, body))
}

/// The caller's running timer, if any.
#[utoipa::path(get, path = "/api/v1/users/me/timer", tag = "time", responses((status = 200, body = TimerState)))]
async fn current_timer(State(app): State<App>, a: Actor) -> Result<Json<TimerState>, AppError> {
    Ok(Json(TimeTracking(&app).current_timer(&a.user_id).await?))
}

/// Discards the caller's running timer without logging time.
#[utoipa::path(delete, path = "/api/v1/users/me/timer", tag = "time", responses((status = 204)))]
async fn discard_timer(State(app): State<App>, a: Actor) -> Result<StatusCode, AppError> {
    TimeTracking(&app).finish_timer(&a.user_id, None).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Stops the caller's timer into a work log: the elapsed minutes (or `duration_minutes`),
/// on the day it started (or `logged_at`).
#[utoipa::path(post, path = "/api/v1/users/me/timer/stop", tag = "time", request_body = WorklogBody,
    responses((status = 201, body = WorklogView)))]
async fn stop_timer(
    State(app): State<App>,
    a: Actor,
    AppJson(b): AppJson<WorklogBody>,
) -> Result<(StatusCode, Json<WorklogView>), AppError> {
    let w = WorklogInput::parse(
        b.duration_minutes,
        b.description.as_deref(),
        b.logged_at.as_deref(),
        false,
    )?;
    let log = TimeTracking(&app)
        .finish_timer(&a.user_id, Some(w))
        .await?
        .ok_or_else(|| AppError::internal("stopped timer made no work log"))?;
    Ok((StatusCode::CREATED, Json(log)))
}
