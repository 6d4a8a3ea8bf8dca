//! HTTP surface of states, labels, issues, comments and activity.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{
    parse_color, parse_filter, ActivityView, CommentView, IssueInput, IssueListQuery, IssuePage, IssueRaw, IssueView,
    Issues, LabelView, Priority, StateGroup, StateInput, StateView,
};
use crate::error::{AppError, Checks};
use crate::extract::{nullable, AppJson, AppPath, AppQuery};
use crate::http::{Page, PageQuery};
use crate::work::ProjCtx;
use crate::workspaces::parse_name;
use crate::App;

pub fn router() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(list_states, create_state))
        .routes(routes!(update_state, delete_state))
        .routes(routes!(list_labels, create_label))
        .routes(routes!(update_label, delete_label))
        .routes(routes!(list_issues, create_issue))
        .routes(routes!(get_issue, update_issue, delete_issue))
        .routes(routes!(issue_activity))
        .routes(routes!(list_comments, create_comment))
        .routes(routes!(update_comment, delete_comment))
}

type Pid = AppPath<(String, String, String)>;
type Pid2 = AppPath<(String, String, String, String)>;

// States ---------------------------------------------------------------------------------

/// States of a project, in board order.
#[utoipa::path(get, path = "/api/v1/workspaces/{slug}/projects/{project_id}/states", tag = "issues",
    params(("slug" = String, Path), ("project_id" = String, Path)), responses((status = 200, body = Vec<StateView>)))]
async fn list_states(State(app): State<App>, p: ProjCtx) -> Result<Json<Vec<StateView>>, AppError> {
    Ok(Json(Issues(&app).states(&p).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct StateBody {
    pub name: Option<String>,
    /// `#rrggbb`.
    pub color: Option<String>,
    pub group: Option<StateGroup>,
    pub sequence: Option<i64>,
    /// `true` makes this the project's default state (the previous one stops being it).
    pub is_default: Option<bool>,
}

/// Creates a state (project admins). `name` and `group` are required.
#[utoipa::path(post, path = "/api/v1/workspaces/{slug}/projects/{project_id}/states", tag = "issues",
    params(("slug" = String, Path), ("project_id" = String, Path)), request_body = StateBody,
    responses((status = 201, body = StateView)))]
async fn create_state(
    State(app): State<App>,
    p: ProjCtx,
    AppJson(b): AppJson<StateBody>,
) -> Result<(StatusCode, Json<StateView>), AppError> {
    let s = StateInput::parse(
        b.name.as_deref(),
        b.color.as_deref(),
        b.group,
        b.sequence,
        b.is_default,
        true,
    )?;
    Ok((StatusCode::CREATED, Json(Issues(&app).create_state(&p, s).await?)))
}

/// Updates a state (project admins). Changing its group into or out of `completed` sets or
/// clears `completed_at` of its issues.
#[utoipa::path(patch, path = "/api/v1/workspaces/{slug}/projects/{project_id}/states/{state_id}", tag = "issues",
    params(("slug" = String, Path), ("project_id" = String, Path), ("state_id" = String, Path)),
    request_body = StateBody, responses((status = 200, body = StateView)))]
async fn update_state(
    State(app): State<App>,
    p: ProjCtx,
    AppPath((_, _, sid)): Pid,
    AppJson(b): AppJson<StateBody>,
) -> Result<Json<StateView>, AppError> {
    let s = StateInput::parse(
        b.name.as_deref(),
        b.color.as_deref(),
        b.group,
        b.sequence,
        b.is_default,
        false,
    )?;
    Ok(Json(Issues(&app).update_state(&p, &sid, s).await?))
}

/// Deletes a state (project admins) that is not the default and holds no issue.
#[utoipa::path(delete, path = "/api/v1/workspaces/{slug}/projects/{project_id}/states/{state_id}", tag = "issues",
    params(("slug" = String, Path), ("project_id" = String, Path), ("state_id" = String, Path)),
    responses((status = 204)))]
async fn delete_state(State(app): State<App>, p: ProjCtx, AppPath((_, _, sid)): Pid) -> Result<StatusCode, AppError> {
    Issues(&app).delete_state(&p, &sid).await?;
    Ok(StatusCode::NO_CONTENT)
}

// Labels ---------------------------------------------------------------------------------

/// Labels of a project, by name.
#[utoipa::path(get, path = "/api/v1/workspaces/{slug}/projects/{project_id}/labels", tag = "issues",
    params(("slug" = String, Path), ("project_id" = String, Path)), responses((status = 200, body = Vec<LabelView>)))]
async fn list_labels(State(app): State<App>, p: ProjCtx) -> Result<Json<Vec<LabelView>>, AppError> {
    Ok(Json(Issues(&app).labels(&p).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct LabelBody {
    pub name: Option<String>,
    pub color: Option<String>,
}

fn parse_label(b: &LabelBody, creating: bool) -> Result<(Option<String>, Option<String>), AppError> {
    let mut c = Checks::new();
    if creating && b.name.is_none() {
        c.add("name", "is required");
    }
    let name = b.name.as_deref().and_then(|n| c.take("name", parse_name(n, 100)));
    let color = b.color.as_deref().and_then(|v| c.take("color", parse_color(v)));
    c.finish()?;
    Ok((name, color))
}

/// Creates a label (project members).
#[utoipa::path(post, path = "/api/v1/workspaces/{slug}/projects/{project_id}/labels", tag = "issues",
    params(("slug" = String, Path), ("project_id" = String, Path)), request_body = LabelBody,
    responses((status = 201, body = LabelView)))]
async fn create_label(
    State(app): State<App>,
    p: ProjCtx,
    AppJson(b): AppJson<LabelBody>,
) -> Result<(StatusCode, Json<LabelView>), AppError> {
    let (name, color) = parse_label(&b, true)?;
    Ok((
        StatusCode::CREATED,
        Json(Issues(&app).save_label(&p, None, name, color).await?),
    ))
}

/// Renames or recolours a label (project members).
#[utoipa::path(patch, path = "/api/v1/workspaces/{slug}/projects/{project_id}/labels/{label_id}", tag = "issues",
    params(("slug" = String, Path), ("project_id" = String, Path), ("label_id" = String, Path)),
    request_body = LabelBody, responses((status = 200, body = LabelView)))]
async fn update_label(
    State(app): State<App>,
    p: ProjCtx,
    AppPath((_, _, lid)): Pid,
    AppJson(b): AppJson<LabelBody>,
) -> Result<Json<LabelView>, AppError> {
    let (name, color) = parse_label(&b, false)?;
    Ok(Json(Issues(&app).save_label(&p, Some(&lid), name, color).await?))
}

/// Deletes a label and takes it off every issue (project members).
#[utoipa::path(delete, path = "/api/v1/workspaces/{slug}/projects/{project_id}/labels/{label_id}", tag = "issues",
    params(("slug" = String, Path), ("project_id" = String, Path), ("label_id" = String, Path)),
    responses((status = 204)))]
async fn delete_label(State(app): State<App>, p: ProjCtx, AppPath((_, _, lid)): Pid) -> Result<StatusCode, AppError> {
    Issues(&app).delete_label(&p, &lid).await?;
    Ok(StatusCode::NO_CONTENT)
}

// Issues ---------------------------------------------------------------------------------

/// Issues of a project: filtered, searched, ordered, grouped and paginated.
#[utoipa::path(get, path = "/api/v1/workspaces/{slug}/projects/{project_id}/issues", tag = "issues",
    params(("slug" = String, Path), ("project_id" = String, Path), IssueListQuery),
    responses((status = 200, body = IssuePage)))]
async fn list_issues(
    State(app): State<App>,
    p: ProjCtx,
    AppQuery(q): AppQuery<IssueListQuery>,
) -> Result<Json<IssuePage>, AppError> {
    let page = PageQuery {
        page: q.page,
        per_page: q.per_page,
    }
    .parse()?;
    let f = parse_filter(&q)?;
    Ok(Json(Issues(&app).list(&p, f, page).await?))
}

#[derive(Deserialize, ToSchema, Default)]
pub struct IssueBody {
    /// The title; required on create.
    pub name: Option<String>,
    /// Rich text; sanitized before it is stored (no script survives).
    pub description_html: Option<String>,
    pub state_id: Option<String>,
    pub priority: Option<Priority>,
    /// The whole list of assignees (project members); replaces the current one.
    pub assignee_ids: Option<Vec<String>>,
    /// The whole list of labels; replaces the current one.
    pub label_ids: Option<Vec<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<i64>)]
    pub estimate_point: Option<Option<i64>>,
    /// Estimated minutes, 1 to 1000000; `null` clears.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<i64>)]
    pub estimate_time: Option<Option<i64>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub start_date: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub target_date: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub parent_id: Option<Option<String>>,
    /// The cycle to put the issue in (it leaves its current one); `null` takes it out.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub cycle_id: Option<Option<String>>,
    /// The module to put the issue in; `null` takes it out.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub module_id: Option<Option<String>>,
    pub sort_order: Option<i64>,
}

fn parse_issue(b: &IssueBody, creating: bool) -> Result<IssueInput, AppError> {
    IssueInput::parse(
        IssueRaw {
            name: b.name.as_deref(),
            description_html: b.description_html.as_deref(),
            state_id: b.state_id.as_deref(),
            priority: b.priority,
            assignee_ids: b.assignee_ids.as_deref(),
            label_ids: b.label_ids.as_deref(),
            estimate_point: b.estimate_point,
            estimate_time: b.estimate_time,
            start_date: b.start_date.as_ref().map(Option::as_deref),
            target_date: b.target_date.as_ref().map(Option::as_deref),
            parent_id: b.parent_id.as_ref().map(Option::as_deref),
            cycle_id: b.cycle_id.as_ref().map(Option::as_deref),
            module_id: b.module_id.as_ref().map(Option::as_deref),
            sort_order: b.sort_order,
        },
        creating,
    )
}

/// Creates an issue (project members); it gets the project's next number.
#[utoipa::path(post, path = "/api/v1/workspaces/{slug}/projects/{project_id}/issues", tag = "issues",
    params(("slug" = String, Path), ("project_id" = String, Path)), request_body = IssueBody,
    responses((status = 201, body = IssueView)))]
async fn create_issue(
    State(app): State<App>,
    p: ProjCtx,
    AppJson(b): AppJson<IssueBody>,
) -> Result<(StatusCode, Json<IssueView>), AppError> {
    let input = parse_issue(&b, true)?;
    Ok((StatusCode::CREATED, Json(Issues(&app).create(&p, input).await?)))
}

/// One issue (recorded among the caller's recent visits).
#[utoipa::path(get, path = "/api/v1/workspaces/{slug}/projects/{project_id}/issues/{issue_id}", tag = "issues",
    params(("slug" = String, Path), ("project_id" = String, Path), ("issue_id" = String, Path)),
    responses((status = 200, body = IssueView)))]
async fn get_issue(State(app): State<App>, p: ProjCtx, AppPath((_, _, iid)): Pid) -> Result<Json<IssueView>, AppError> {
    let i = Issues(&app).get(&p, &iid).await?;
    crate::me::visit(&app, &p.ws, "issue", &i.id, Some(&p.project.id));
    Ok(Json(i))
}

/// Updates an issue (project members); every changed field is recorded in its activity.
#[utoipa::path(patch, path = "/api/v1/workspaces/{slug}/projects/{project_id}/issues/{issue_id}", tag = "issues",
    params(("slug" = String, Path), ("project_id" = String, Path), ("issue_id" = String, Path)),
    request_body = IssueBody, responses((status = 200, body = IssueView)))]
async fn update_issue(
    State(app): State<App>,
    p: ProjCtx,
    AppPath((_, _, iid)): Pid,
    AppJson(b): AppJson<IssueBody>,
) -> Result<Json<IssueView>, AppError> {
    let input = parse_issue(&b, false)?;
    Ok(Json(Issues(&app).update(&p, &iid, input).await?))
}

/// Deletes an issue (its creator or a project admin).
#[utoipa::path(delete, path = "/api/v1/workspaces/{slug}/projects/{project_id}/issues/{issue_id}", tag = "issues",
    params(("slug" = String, Path), ("project_id" = String, Path), ("issue_id" = String, Path)),
    responses((status = 204)))]
async fn delete_issue(State(app): State<App>, p: ProjCtx, AppPath((_, _, iid)): Pid) -> Result<StatusCode, AppError> {
    Issues(&app).delete(&p, &iid).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The issue's history: who changed which field from what to what, oldest first.
#[utoipa::path(get, path = "/api/v1/workspaces/{slug}/projects/{project_id}/issues/{issue_id}/activity", tag = "issues",
    params(("slug" = String, Path), ("project_id" = String, Path), ("issue_id" = String, Path), PageQuery),
    responses((status = 200, body = Page<ActivityView>)))]
async fn issue_activity(
    State(app): State<App>,
    p: ProjCtx,
    AppPath((_, _, iid)): Pid,
    AppQuery(q): AppQuery<PageQuery>,
) -> Result<Json<Page<ActivityView>>, AppError> {
    Ok(Json(Issues(&app).activity(&p, &iid, q.parse()?).await?))
}

// Comments -------------------------------------------------------------------------------

/// Comments on an issue, oldest first.
#[utoipa::path(get, path = "/api/v1/workspaces/{slug}/projects/{project_id}/issues/{issue_id}/comments", tag = "issues",
    params(("slug" = String, Path), ("project_id" = String, Path), ("issue_id" = String, Path), PageQuery),
    responses((status = 200, body = Page<CommentView>)))]
async fn list_comments(
    State(app): State<App>,
    p: ProjCtx,
    AppPath((_, _, iid)): Pid,
    AppQuery(q): AppQuery<PageQuery>,
) -> Result<Json<Page<CommentView>>, AppError> {
    Ok(Json(Issues(&app).comments(&p, &iid, q.parse()?).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct CommentBody {
    /// Rich text; sanitized before it is stored.
    pub comment_html: String,
}

fn parse_comment(b: &CommentBody) -> Result<crate::richtext::Rich, AppError> {
    let r = crate::richtext::parse(&b.comment_html).map_err(|e| AppError::field("comment_html", e))?;
    if r.text.is_empty() && !r.html.contains("<img") {
        return Err(AppError::field("comment_html", "must not be empty"));
    }
    Ok(r)
}

/// Comments on an issue (anyone who can see the project).
#[utoipa::path(post, path = "/api/v1/workspaces/{slug}/projects/{project_id}/issues/{issue_id}/comments", tag = "issues",
    params(("slug" = String, Path), ("project_id" = String, Path), ("issue_id" = String, Path)),
    request_body = CommentBody, responses((status = 201, body = CommentView)))]
async fn create_comment(
    State(app): State<App>,
    p: ProjCtx,
    AppPath((_, _, iid)): Pid,
    AppJson(b): AppJson<CommentBody>,
) -> Result<(StatusCode, Json<CommentView>), AppError> {
    let r = parse_comment(&b)?;
    Ok((StatusCode::CREATED, Json(Issues(&app).add_comment(&p, &iid, r).await?)))
}

/// Edits a comment (its author only).
#[utoipa::path(patch, path = "/api/v1/workspaces/{slug}/projects/{project_id}/issues/{issue_id}/comments/{comment_id}", tag = "issues",
    params(("slug" = String, Path), ("project_id" = String, Path), ("issue_id" = String, Path), ("comment_id" = String, Path)),
    request_body = CommentBody, responses((status = 200, body = CommentView)))]
async fn update_comment(
    State(app): State<App>,
    p: ProjCtx,
    AppPath((_, _, iid, cid)): Pid2,
    AppJson(b): AppJson<CommentBody>,
) -> Result<Json<CommentView>, AppError> {
    let r = parse_comment(&b)?;
    Issues(&app)
        .change_comment(&p, &iid, &cid, Some(r))
        .await?
        .map(Json)
        .ok_or(AppError::not_found("comment"))
}

/// Deletes a comment (its author or a project admin).
#[utoipa::path(delete, path = "/api/v1/workspaces/{slug}/projects/{project_id}/issues/{issue_id}/comments/{comment_id}", tag = "issues",
    params(("slug" = String, Path), ("project_id" = String, Path), ("issue_id" = String, Path), ("comment_id" = String, Path)),
    responses((status = 204)))]
async fn delete_comment(
    State(app): State<App>,
    p: ProjCtx,
    AppPath((_, _, iid, cid)): Pid2,
) -> Result<StatusCode, AppError> {
    Issues(&app).change_comment(&p, &iid, &cid, None).await?;
    Ok(StatusCode::NO_CONTENT)
}
