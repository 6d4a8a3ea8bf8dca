//! HTTP surface of departments.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{
    ChildrenTo, DepartmentFilter, DepartmentInput, DepartmentNode, DepartmentView, ImportReport, Org, Staff,
    StaffFilter, StaffInput, StaffSort, StaffStats, StaffView, TransferView,
};
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
        .routes(routes!(list_staff, create_staff))
        .routes(routes!(staff_stats))
        .routes(routes!(export_staff))
        .merge(
            OpenApiRouter::new()
                .routes(routes!(import_staff))
                // A file of 20,000 rows is several megabytes; every other body stays at 1 MiB.
                .layer(axum::extract::DefaultBodyLimit::max(IMPORT_BODY_LIMIT)),
        )
        .routes(routes!(get_staff, replace_staff, update_staff, delete_staff))
        .routes(routes!(transfer_staff))
        .routes(routes!(deactivate_staff))
        .routes(routes!(staff_transfers))
}

/// The largest staff file an import takes.
pub const IMPORT_BODY_LIMIT: usize = 8 * 1024 * 1024;

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
async fn department_tree(State(app): State<App>, w: WsCtx) -> Result<Response, AppError> {
    let json = Org(&app).tree_json(&w).await?;
    Ok(([(header::CONTENT_TYPE, "application/json")], json).into_response())
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
    /// Where the people working in it go: a department id, or `none`. Required when it has
    /// staff; each move is recorded as a transfer.
    pub staff_to: Option<String>,
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
    let staff_to = q.staff_to.map(|t| match t.as_str() {
        "none" => ChildrenTo::Root,
        _ => ChildrenTo::Department(t),
    });
    Org(&app).delete(&w, &id, to, staff_to).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---------------------------------------------------------------------------------------
// Staff

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StaffQuery {
    /// In this department; `none` for people in no department.
    pub department: Option<String>,
    /// With `department`: its whole subtree too.
    pub subtree: Option<bool>,
    /// One status, or several separated by commas.
    pub employment_status: Option<String>,
    /// In the name, email, staff id or position, without case.
    pub search: Option<String>,
    /// `staff_id` (default), `-staff_id`, `name`, `-name`, `date_of_joining`,
    /// `-date_of_joining`, `department`, `employment_status`.
    pub sort: Option<String>,
    pub page: Option<u32>,
    pub per_page: Option<u32>,
}

impl StaffQuery {
    fn filter(&self) -> Result<StaffFilter, AppError> {
        let mut c = Checks::new();
        let statuses: Vec<String> = self
            .employment_status
            .as_deref()
            .map(|s| {
                s.split(',')
                    .map(|x| x.trim().to_lowercase())
                    .filter(|x| !x.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        if statuses.iter().any(|s| !super::records::STATUSES.contains(&s.as_str())) {
            c.add(
                "employment_status",
                "must be active, probation, resigned, suspended or transferred (or several, with commas)",
            );
        }
        let sort = match self.sort.as_deref() {
            None => StaffSort::default(),
            Some(s) => StaffSort::parse(s).unwrap_or_else(|| {
                let names: Vec<&str> = StaffSort::ALL.iter().map(|(n, _)| *n).collect();
                c.add("sort", format!("must be one of {}", names.join(", ")));
                StaffSort::default()
            }),
        };
        if self.search.as_deref().is_some_and(|s| s.chars().count() > 255) {
            c.add("search", "must be at most 255 characters");
        } else if self.search.as_deref().is_some_and(|s| s.chars().any(char::is_control)) {
            // A NUL would end the full-text query early (an SQLite error, not a search).
            c.add("search", "must not contain control characters");
        }
        if self.subtree == Some(true) && self.department.as_deref().is_none_or(|d| d == "none") {
            c.add("subtree", "needs a department");
        }
        c.finish()?;
        Ok(StaffFilter {
            department: self.department.clone().map(|d| (d != "none").then_some(d)),
            subtree: self.subtree.unwrap_or(false),
            statuses,
            search: self
                .search
                .as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string),
            sort,
        })
    }
}

/// The workspace's staff records, filtered, sorted and paged (workspace members; phone, job
/// grade and notes for admins only).
#[utoipa::path(get, path = "/api/v1/workspaces/{slug}/staff", tag = "org",
    params(("slug" = String, Path), StaffQuery), responses((status = 200, body = Page<StaffView>)))]
async fn list_staff(
    State(app): State<App>,
    w: WsCtx,
    AppQuery(q): AppQuery<StaffQuery>,
) -> Result<Json<Page<StaffView>>, AppError> {
    let page = PageQuery {
        page: q.page,
        per_page: q.per_page,
    }
    .parse()?;
    Ok(Json(Staff(&app).list(&w, q.filter()?, page).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct StaffBody {
    /// The member this record is of (create only; it never changes).
    pub user_id: Option<String>,
    /// Up to 8 letters, digits, `-` or `_`; unique in the workspace.
    pub staff_id: Option<String>,
    /// A live department of the workspace, or `null`. A change is recorded as a transfer.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub department_id: Option<Option<String>>,
    pub position: Option<String>,
    /// Workspace admins only see it.
    pub job_grade: Option<String>,
    /// Workspace admins only see it.
    pub phone: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub date_of_joining: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub date_of_leaving: Option<Option<String>>,
    /// active (default), probation, resigned, suspended or transferred.
    pub employment_status: Option<String>,
    pub is_department_manager: Option<bool>,
    /// Workspace admins only see it.
    pub notes: Option<String>,
}

fn staff_input(b: StaffBody, create: bool) -> Result<(Option<String>, StaffInput), AppError> {
    if create && b.user_id.as_deref().is_none_or(|u| u.trim().is_empty()) {
        return Err(AppError::field("user_id", "is required"));
    }
    if !create && b.user_id.is_some() {
        return Err(AppError::field(
            "user_id",
            "never changes: a staff record is one person's",
        ));
    }
    let i = StaffInput {
        staff_id: b.staff_id,
        department_id: b.department_id,
        position: b.position,
        job_grade: b.job_grade,
        phone: b.phone,
        date_of_joining: b.date_of_joining,
        date_of_leaving: b.date_of_leaving,
        employment_status: b.employment_status,
        is_department_manager: b.is_department_manager,
        notes: b.notes,
    }
    .check(create)?;
    Ok((b.user_id.map(|u| u.trim().to_string()), i))
}

/// Creates the staff record of a workspace member (workspace admins).
#[utoipa::path(post, path = "/api/v1/workspaces/{slug}/staff", tag = "org",
    params(("slug" = String, Path)), request_body = StaffBody,
    responses((status = 201, body = StaffView)))]
async fn create_staff(
    State(app): State<App>,
    w: WsCtx,
    AppJson(b): AppJson<StaffBody>,
) -> Result<(StatusCode, Json<StaffView>), AppError> {
    let (user, i) = staff_input(b, true)?;
    let user = user.unwrap_or_default();
    Ok((StatusCode::CREATED, Json(Staff(&app).save(&w, &user, i, true).await?)))
}

/// One person's staff record (workspace members; private fields for admins).
#[utoipa::path(get, path = "/api/v1/workspaces/{slug}/staff/{user_id}", tag = "org",
    params(("slug" = String, Path), ("user_id" = String, Path)),
    responses((status = 200, body = StaffView)))]
async fn get_staff(
    State(app): State<App>,
    w: WsCtx,
    AppPath((_, user)): AppPath<(String, String)>,
) -> Result<Json<StaffView>, AppError> {
    Ok(Json(Staff(&app).get(&w, &user).await?))
}

/// Replaces a staff record's fields: the staff id is required, fields not given are
/// cleared (workspace admins).
#[utoipa::path(put, path = "/api/v1/workspaces/{slug}/staff/{user_id}", tag = "org",
    params(("slug" = String, Path), ("user_id" = String, Path)), request_body = StaffBody,
    responses((status = 200, body = StaffView)))]
async fn replace_staff(
    State(app): State<App>,
    w: WsCtx,
    AppPath((_, user)): AppPath<(String, String)>,
    AppJson(b): AppJson<StaffBody>,
) -> Result<Json<StaffView>, AppError> {
    if b.staff_id.is_none() {
        return Err(AppError::field("staff_id", "is required"));
    }
    let (_, mut i) = staff_input(b, false)?;
    for v in [&mut i.department_id, &mut i.date_of_joining, &mut i.date_of_leaving] {
        v.get_or_insert(None);
    }
    for v in [&mut i.position, &mut i.job_grade, &mut i.phone, &mut i.notes] {
        v.get_or_insert_with(String::new);
    }
    i.employment_status.get_or_insert_with(|| "active".into());
    i.is_department_manager.get_or_insert(false);
    Ok(Json(Staff(&app).save(&w, &user, i, false).await?))
}

/// Changes the fields given (workspace admins). A change of department is recorded as a
/// transfer effective today.
#[utoipa::path(patch, path = "/api/v1/workspaces/{slug}/staff/{user_id}", tag = "org",
    params(("slug" = String, Path), ("user_id" = String, Path)), request_body = StaffBody,
    responses((status = 200, body = StaffView)))]
async fn update_staff(
    State(app): State<App>,
    w: WsCtx,
    AppPath((_, user)): AppPath<(String, String)>,
    AppJson(b): AppJson<StaffBody>,
) -> Result<Json<StaffView>, AppError> {
    let (_, i) = staff_input(b, false)?;
    Ok(Json(Staff(&app).save(&w, &user, i, false).await?))
}

/// Soft-deletes a staff record (workspace admins). The person stays a member; their time
/// and history stay.
#[utoipa::path(delete, path = "/api/v1/workspaces/{slug}/staff/{user_id}", tag = "org",
    params(("slug" = String, Path), ("user_id" = String, Path)), responses((status = 204)))]
async fn delete_staff(
    State(app): State<App>,
    w: WsCtx,
    AppPath((_, user)): AppPath<(String, String)>,
) -> Result<StatusCode, AppError> {
    Staff(&app).delete(&w, &user).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
pub struct TransferBody {
    /// The department moved to; `null` for none.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub department_id: Option<Option<String>>,
    /// From when (default today), like 2026-11-22.
    pub effective_date: Option<String>,
    /// Why, up to 500 characters.
    pub reason: Option<String>,
}

fn parse_day(field: &str, d: Option<String>) -> Result<Option<String>, AppError> {
    match d.map(|d| d.trim().to_string()) {
        Some(d) if !super::records::valid_day(&d) => Err(AppError::field(field, "must be a date like 2026-11-22")),
        other => Ok(other),
    }
}

/// Moves a person to another department, keeping the history (workspace admins).
#[utoipa::path(post, path = "/api/v1/workspaces/{slug}/staff/{user_id}/transfer", tag = "org",
    params(("slug" = String, Path), ("user_id" = String, Path)), request_body = TransferBody,
    responses((status = 200, body = StaffView)))]
async fn transfer_staff(
    State(app): State<App>,
    w: WsCtx,
    AppPath((_, user)): AppPath<(String, String)>,
    AppJson(b): AppJson<TransferBody>,
) -> Result<Json<StaffView>, AppError> {
    let Some(to) = b.department_id else {
        return Err(AppError::field("department_id", "is required (null for no department)"));
    };
    let date = parse_day("effective_date", b.effective_date)?;
    let reason = b.reason.unwrap_or_default().trim().to_string();
    if reason.chars().count() > 500 || reason.chars().any(|ch| ch.is_control() && ch != '\n') {
        return Err(AppError::field(
            "reason",
            "must be at most 500 characters, without control characters",
        ));
    }
    Ok(Json(Staff(&app).transfer(&w, &user, to, date, reason).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct DeactivateBody {
    /// The last day (default today), like 2026-11-22.
    pub date_of_leaving: Option<String>,
}

/// Marks a person as resigned (workspace admins): their record, time and history stay.
#[utoipa::path(post, path = "/api/v1/workspaces/{slug}/staff/{user_id}/deactivate", tag = "org",
    params(("slug" = String, Path), ("user_id" = String, Path)), request_body = DeactivateBody,
    responses((status = 200, body = StaffView)))]
async fn deactivate_staff(
    State(app): State<App>,
    w: WsCtx,
    AppPath((_, user)): AppPath<(String, String)>,
    AppJson(b): AppJson<DeactivateBody>,
) -> Result<Json<StaffView>, AppError> {
    let date = parse_day("date_of_leaving", b.date_of_leaving)?;
    Ok(Json(Staff(&app).deactivate(&w, &user, date).await?))
}

/// A person's transfers between departments, newest first (workspace admins).
#[utoipa::path(get, path = "/api/v1/workspaces/{slug}/staff/{user_id}/transfers", tag = "org",
    params(("slug" = String, Path), ("user_id" = String, Path)),
    responses((status = 200, body = Vec<TransferView>)))]
async fn staff_transfers(
    State(app): State<App>,
    w: WsCtx,
    AppPath((_, user)): AppPath<(String, String)>,
) -> Result<Json<Vec<TransferView>>, AppError> {
    Ok(Json(Staff(&app).transfers(&w, &user).await?))
}

/// Counts per department (own and subtree), per status, and the active/inactive ratio
/// (workspace members).
#[utoipa::path(get, path = "/api/v1/workspaces/{slug}/staff/stats", tag = "org",
    params(("slug" = String, Path)), responses((status = 200, body = StaffStats)))]
async fn staff_stats(State(app): State<App>, w: WsCtx) -> Result<Json<StaffStats>, AppError> {
    Ok(Json(Staff(&app).stats(&w).await?))
}

/// The staff list (with the list's filters and order, every page) as CSV, safe to open in
/// a spreadsheet (workspace admins: it has the private fields).
#[utoipa::path(get, path = "/api/v1/workspaces/{slug}/staff/export", tag = "org",
    params(("slug" = String, Path), StaffQuery),
    responses((status = 200, content_type = "text/csv", body = String)))]
async fn export_staff(
    State(app): State<App>,
    w: WsCtx,
    AppQuery(q): AppQuery<StaffQuery>,
) -> Result<impl IntoResponse, AppError> {
    let body = Staff(&app).export(&w, q.filter()?).await?;
    let name = format!("staff-{}.csv", w.ws.slug);
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")),
        ],
        body,
    ))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    /// Only check the file and answer what would happen; write nothing.
    pub dry_run: Option<bool>,
    /// `csv` or `json`; by default from the content type, else from the file's first character.
    pub format: Option<String>,
    /// Invite the emails that are not members yet (as members); their records wait for them
    /// and are made when they accept. Without it, such rows are problems (`unknown_email`).
    pub invite: Option<bool>,
}

/// Imports staff records from a CSV or JSON file sent as the body (workspace admins): all
/// rows or none. Rows find their person by email among the workspace's members and update
/// that person's record (or make it). A file with problems answers 422 `import_invalid`
/// with every row's problems and writes nothing; `dry_run` answers them with a preview.
#[utoipa::path(post, path = "/api/v1/workspaces/{slug}/staff/bulk-import", tag = "org",
    params(("slug" = String, Path), ImportQuery),
    request_body(content = String, content_type = "text/csv"),
    responses((status = 200, body = ImportReport)))]
async fn import_staff(
    State(app): State<App>,
    w: WsCtx,
    AppQuery(q): AppQuery<ImportQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<ImportReport>, AppError> {
    let ct = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
    let r = Staff(&app)
        .import(
            &w,
            &body,
            q.format.as_deref(),
            ct,
            q.dry_run.unwrap_or(false),
            q.invite.unwrap_or(false),
        )
        .await?;
    Ok(Json(r))
}
