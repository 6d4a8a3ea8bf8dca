//! HTTP surface of states, labels, issues, comments and activity.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Deserializer};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{
    fts_query, parse_color, parse_date, ActivityView, CommentView, GroupBy, IssueFilter, IssueInput, IssuePage,
    IssueRaw, IssueView, Issues, LabelView, Order, Priority, StateGroup, StateInput, StateView,
};
use crate::error::{AppError, Checks};
use crate::extract::{AppJson, AppPath, AppQuery};
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

/// Reads a present JSON value, `null` included, as `Some(..)`; an absent field stays `None`
/// through `#[serde(default)]`. So a PATCH can clear a field by sending `null`.
pub fn nullable<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
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

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct IssueListQuery {
    pub page: Option<u32>,
    pub per_page: Option<u32>,
    /// State ids, comma-separated.
    pub state: Option<String>,
    /// State groups, comma-separated (`backlog,unstarted,started,completed,cancelled`).
    pub state_group: Option<String>,
    /// Priorities, comma-separated (`urgent,high,medium,low,none`).
    pub priority: Option<String>,
    /// User ids, comma-separated; `none` matches issues with no assignee.
    pub assignee: Option<String>,
    /// Label ids, comma-separated (an issue with any of them matches).
    pub label: Option<String>,
    /// Cycle ids, comma-separated; `none` matches issues in no cycle.
    pub cycle: Option<String>,
    /// Module ids, comma-separated; `none` matches issues in no module.
    pub module: Option<String>,
    pub parent: Option<String>,
    pub created_by: Option<String>,
    /// Dates `YYYY-MM-DD`, inclusive.
    pub start_from: Option<String>,
    pub start_to: Option<String>,
    pub target_from: Option<String>,
    pub target_to: Option<String>,
    pub created_from: Option<String>,
    pub created_to: Option<String>,
    /// Full text over titles, descriptions and comments: every word must match (as a word
    /// or the start of one).
    pub q: Option<String>,
    /// `-created_at` (default), `created_at`, `-updated_at`, `updated_at`, `sequence_id`,
    /// `-sequence_id`, `priority` (urgent first), `-priority`, `target_date`,
    /// `-target_date`, `sort_order` (manual).
    pub order_by: Option<String>,
    /// Counts per group (`state`, `state_group`, `priority`, `assignee`, `label`, `cycle`,
    /// `module`).
    #[param(inline)]
    pub group_by: Option<GroupBy>,
}

fn csv_list(raw: &Option<String>) -> Vec<String> {
    raw.as_deref()
        .map(|s| {
            s.split(',')
                .map(str::trim)
                .filter(|x| !x.is_empty())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

pub(crate) fn parse_filter(q: &IssueListQuery) -> Result<IssueFilter, AppError> {
    let mut c = Checks::new();
    let mut ids = |field: &str, raw: &Option<String>, allow_none: bool| -> (Vec<String>, bool) {
        let mut out = Vec::new();
        let mut none = false;
        for v in csv_list(raw) {
            if allow_none && v == "none" {
                none = true;
            } else if let Ok(u) = uuid::Uuid::parse_str(&v) {
                let u = u.to_string();
                if !out.contains(&u) {
                    out.push(u);
                }
            } else {
                c.add(field, format!("{v:.40} is not an id"));
            }
        }
        if out.len() > 100 {
            c.add(field, "at most 100 ids");
        }
        (out, none)
    };
    let (state_ids, _) = ids("state", &q.state, false);
    let (assignee_ids, unassigned) = ids("assignee", &q.assignee, true);
    let (label_ids, _) = ids("label", &q.label, false);
    let (cycle_ids, no_cycle) = ids("cycle", &q.cycle, true);
    let (module_ids, no_module) = ids("module", &q.module, true);
    let (parent, _) = ids("parent", &q.parent, false);
    let (created_by, _) = ids("created_by", &q.created_by, false);
    let mut state_groups = Vec::new();
    for g in csv_list(&q.state_group) {
        match StateGroup::parse(&g) {
            // Repeats are dropped: the list holds each group once.
            Some(v) if state_groups.contains(&v) => {}
            Some(v) => state_groups.push(v),
            None => c.add("state_group", format!("{g:.40} is not a state group")),
        }
    }
    let mut priorities = Vec::new();
    for g in csv_list(&q.priority) {
        match Priority::parse(&g) {
            Some(v) if priorities.contains(&v) => {}
            Some(v) => priorities.push(v),
            None => c.add("priority", format!("{g:.40} is not a priority")),
        }
    }
    let mut date = |field: &str, raw: &Option<String>| raw.as_deref().and_then(|d| c.take(field, parse_date(d)));
    let f = IssueFilter {
        start_from: date("start_from", &q.start_from),
        start_to: date("start_to", &q.start_to),
        target_from: date("target_from", &q.target_from),
        target_to: date("target_to", &q.target_to),
        created_from: date("created_from", &q.created_from),
        created_to: date("created_to", &q.created_to),
        state_ids,
        state_groups,
        priorities,
        assignee_ids,
        unassigned,
        label_ids,
        cycle_ids,
        no_cycle,
        module_ids,
        no_module,
        parent_id: parent.into_iter().next(),
        created_by: created_by.into_iter().next(),
        fts: match q.q.as_deref() {
            Some(s) if s.chars().count() > 200 => {
                c.add("q", "must be at most 200 characters");
                None
            }
            Some(s) => fts_query(s),
            None => None,
        },
        order: match q.order_by.as_deref() {
            None => Order::default(),
            Some(o) => Order::parse(o).unwrap_or_else(|| {
                c.add("order_by", "is not a known order");
                Order::default()
            }),
        },
        group_by: q.group_by,
    };
    c.finish()?;
    Ok(f)
}

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
