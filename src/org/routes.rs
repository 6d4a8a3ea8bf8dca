//! HTTP surface of departments.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{ChildrenTo, DepartmentFilter, DepartmentInput, DepartmentNode, DepartmentView, Org};
use crate::error::{AppError, Checks};
use crate::extract::{nullable, AppJson, AppPath, AppQuery};
use crate::http::{Page, PageQuery};
use crate::workspaces::WsCtx;
use crate::App;

pub fn router() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(list_departments, create_department))
        .routes(routes!(department_tree))
        .routes(routes!(
            get_department,
            replace_department,
            update_department,
            delete_department
        ))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DepartmentQuery {
    /// Children of this department; `root` for the top level.
    pub parent: Option<String>,
    /// Only this level (1 to 5).
    pub level: Option<i64>,
    pub is_active: Option<bool>,
    /// In the name, code or short name, without case.
    pub search: Option<String>,
    pub page: Option<u32>,
    pub per_page: Option<u32>,
}

/// Departments of the workspace in tree order (parents first, siblings by their order),
/// each with its level (workspace members).
#[utoipa::path(get, path = "/api/v1/workspaces/{slug}/departments", tag = "org",
    params(("slug" = String, Path), DepartmentQuery), responses((status = 200, body = Page<DepartmentView>)))]
async fn list_departments(
    State(app): State<App>,
    w: WsCtx,
    AppQuery(q): AppQuery<DepartmentQuery>,
) -> Result<Json<Page<DepartmentView>>, AppError> {
    let page = PageQuery {
        page: q.page,
        per_page: q.per_page,
    }
    .parse()?;
    let mut c = Checks::new();
    if q.level.is_some_and(|l| !(1..=super::records::MAX_LEVEL).contains(&l)) {
        c.add("level", "must be between 1 and 5");
    }
    if q.search.as_deref().is_some_and(|s| s.chars().count() > 255) {
        c.add("search", "must be at most 255 characters");
    }
    c.finish()?;
    let f = DepartmentFilter {
        parent: q.parent.map(|p| (p != "root").then_some(p)),
        level: q.level,
        is_active: q.is_active,
        search: q.search.filter(|s| !s.trim().is_empty()).map(|s| s.trim().to_string()),
    };
    Ok(Json(Org(&app).list(&w, f, page).await?))
}

/// The whole tree, nested, with each department's number of descendants (workspace members).
#[utoipa::path(get, path = "/api/v1/workspaces/{slug}/departments/tree", tag = "org",
    params(("slug" = String, Path)), responses((status = 200, body = Vec<DepartmentNode>)))]
async fn department_tree(State(app): State<App>, w: WsCtx) -> Result<Json<Vec<DepartmentNode>>, AppError> {
    Ok(Json(Org(&app).tree(&w).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct DepartmentBody {
    /// Up to 255 characters.
    pub name: Option<String>,
    /// Up to 20 letters, digits, `-` or `_`; unique in the workspace.
    pub code: Option<String>,
    /// Up to 10 letters or digits, kept in upper case; unique in the workspace.
    pub short_name: Option<String>,
    /// Exactly 4 digits; unique in the workspace.
    pub dept_code: Option<String>,
    /// The parent department; `null` for a root. A move may not make a cycle or nest any
    /// department of the moved subtree below level 5.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub parent_id: Option<Option<String>>,
    /// A workspace member.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub manager_id: Option<Option<String>>,
    /// A project of the workspace.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub linked_project_id: Option<Option<String>>,
    pub is_active: Option<bool>,
    /// Position among its siblings (default: after them).
    pub sort_order: Option<i64>,
    /// Never taken: a department's level follows from its parent.
    #[schema(value_type = Option<i64>)]
    pub level: Option<serde_json::Value>,
}

fn input(b: DepartmentBody, whole: bool) -> Result<DepartmentInput, AppError> {
    if b.level.is_some() {
        return Err(AppError::field(
            "level",
            "follows from the parent; set parent_id instead",
        ));
    }
    DepartmentInput {
        name: b.name,
        code: b.code,
        short_name: b.short_name,
        dept_code: b.dept_code,
        parent_id: b.parent_id,
        manager_id: b.manager_id,
        linked_project_id: b.linked_project_id,
        is_active: b.is_active,
        sort_order: b.sort_order,
    }
    .check(whole)
}

/// Creates a department (workspace admins).
#[utoipa::path(post, path = "/api/v1/workspaces/{slug}/departments", tag = "org",
    params(("slug" = String, Path)), request_body = DepartmentBody,
    responses((status = 201, body = DepartmentView)))]
async fn create_department(
    State(app): State<App>,
    w: WsCtx,
    AppJson(b): AppJson<DepartmentBody>,
) -> Result<(StatusCode, Json<DepartmentView>), AppError> {
    let i = input(b, true)?;
    Ok((StatusCode::CREATED, Json(Org(&app).save(&w, None, i).await?)))
}

/// One department.
#[utoipa::path(get, path = "/api/v1/workspaces/{slug}/departments/{department_id}", tag = "org",
    params(("slug" = String, Path), ("department_id" = String, Path)),
    responses((status = 200, body = DepartmentView)))]
async fn get_department(
    State(app): State<App>,
    w: WsCtx,
    AppPath((_, id)): AppPath<(String, String)>,
) -> Result<Json<DepartmentView>, AppError> {
    Ok(Json(Org(&app).get(&w, &id).await?))
}

/// Replaces a department's fields: name, code, short name and department code are required,
/// the ids not given become `null` (workspace admins).
#[utoipa::path(put, path = "/api/v1/workspaces/{slug}/departments/{department_id}", tag = "org",
    params(("slug" = String, Path), ("department_id" = String, Path)), request_body = DepartmentBody,
    responses((status = 200, body = DepartmentView)))]
async fn replace_department(
    State(app): State<App>,
    w: WsCtx,
    AppPath((_, id)): AppPath<(String, String)>,
    AppJson(b): AppJson<DepartmentBody>,
) -> Result<Json<DepartmentView>, AppError> {
    let mut i = input(b, true)?;
    for v in [&mut i.parent_id, &mut i.manager_id, &mut i.linked_project_id] {
        v.get_or_insert(None);
    }
    i.is_active.get_or_insert(true);
    Ok(Json(Org(&app).save(&w, Some(&id), i).await?))
}

/// Changes the fields given (workspace admins).
#[utoipa::path(patch, path = "/api/v1/workspaces/{slug}/departments/{department_id}", tag = "org",
    params(("slug" = String, Path), ("department_id" = String, Path)), request_body = DepartmentBody,
    responses((status = 200, body = DepartmentView)))]
async fn update_department(
    State(app): State<App>,
    w: WsCtx,
    AppPath((_, id)): AppPath<(String, String)>,
    AppJson(b): AppJson<DepartmentBody>,
) -> Result<Json<DepartmentView>, AppError> {
    let i = input(b, false)?;
    Ok(Json(Org(&app).save(&w, Some(&id), i).await?))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeleteQuery {
    /// Where the department's children go: a department id, or `root`. Required when it
    /// has children.
    pub children_to: Option<String>,
}

/// Soft-deletes a department (workspace admins).
#[utoipa::path(delete, path = "/api/v1/workspaces/{slug}/departments/{department_id}", tag = "org",
    params(("slug" = String, Path), ("department_id" = String, Path), DeleteQuery),
    responses((status = 204)))]
async fn delete_department(
    State(app): State<App>,
    w: WsCtx,
    AppPath((_, id)): AppPath<(String, String)>,
    AppQuery(q): AppQuery<DeleteQuery>,
) -> Result<StatusCode, AppError> {
    let to = q.children_to.map(|t| match t.as_str() {
        "root" => ChildrenTo::Root,
        _ => ChildrenTo::Department(t),
    });
    Org(&app).delete(&w, &id, to).await?;
    Ok(StatusCode::NO_CONTENT)
}
