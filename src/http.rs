//! HTTP: the router merging the domain routers, the policy middleware that enforces the
//! one policy table, error rendering, pagination types and the tower-http layers.

use std::net::{IpAddr, SocketAddr};

use axum::body::Body;
use axum::extract::{MatchedPath, RawPathParams, Request, State};
use axum::http::{header, HeaderName, HeaderValue, Method, StatusCode, Uri};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use tower::{Layer, ServiceBuilder};
use tower_http::compression::CompressionLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{IntoParams, Modify, OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use utoipa_swagger_ui::SwaggerUi;

use crate::auth::Auth;
use crate::error::{AppError, ErrorBody};
use crate::policy::{self, Access};
use crate::App;

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let (status, _) = self.status_and_code();
        if let AppError::Internal(e) = &self {
            // The cause is logged here and never sent (the body says "internal error").
            tracing::error!(error = ?e, "internal error");
        }
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut res = (status, Json(self.body())).into_response();
        if let AppError::RateLimited { retry_after_secs } = self {
            if let Ok(v) = HeaderValue::from_str(&retry_after_secs.to_string()) {
                res.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        res
    }
}

/// `?page=&per_page=` of every list.
#[derive(Debug, Clone, Copy, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// 1-based page number (default 1).
    #[param(minimum = 1)]
    pub page: Option<u32>,
    /// Items per page, 1 to 500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    pub per_page: Option<u32>,
}

#[derive(Debug, Clone, Copy)]
pub struct PageParams {
    pub page: u32,
    pub per_page: u32,
}

pub const MAX_PER_PAGE: u32 = 500;

impl PageQuery {
    pub fn parse(self) -> Result<PageParams, AppError> {
        let page = self.page.unwrap_or(1);
        let per_page = self.per_page.unwrap_or(50);
        let mut c = crate::error::Checks::new();
        if page == 0 || page > 1_000_000 {
            c.add("page", "must be between 1 and 1000000");
        }
        if per_page == 0 || per_page > MAX_PER_PAGE {
            c.add("per_page", format!("must be between 1 and {MAX_PER_PAGE}"));
        }
        c.finish()?;
        Ok(PageParams { page, per_page })
    }
}

impl PageParams {
    pub fn limit_offset(self) -> (i64, i64) {
        (
            i64::from(self.per_page),
            i64::from(self.page - 1) * i64::from(self.per_page),
        )
    }
}

/// A page of a list: `items` plus the pagination fields.
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: i64,
    pub page: u32,
    pub per_page: u32,
    pub total_pages: u32,
}

impl<T> Page<T> {
    pub fn new(items: Vec<T>, total: i64, p: PageParams) -> Self {
        let total_pages = ((total.max(0) as u64).div_ceil(u64::from(p.per_page))) as u32;
        Self {
            items,
            total,
            page: p.page,
            per_page: p.per_page,
            total_pages,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct Health {
    pub status: &'static str,
    pub version: &'static str,
    pub storage: Storage,
}

/// What the data dir takes on disk, for an operator watching it.
#[derive(Serialize, ToSchema)]
pub struct Storage {
    /// The database file, in bytes.
    pub db_bytes: u64,
    /// Its write-ahead log, in bytes: kept near `wal_checkpoint_bytes` under load, empty
    /// after a clean stop.
    pub wal_bytes: u64,
    /// The size past which the writer checkpoints and truncates the log.
    pub wal_checkpoint_bytes: u64,
}

/// Liveness and database check.
#[utoipa::path(get, path = "/health", tag = "meta", security(()),
    responses((status = 200, body = Health), (status = 503, body = ErrorBody)))]
async fn health(State(app): State<App>) -> Result<Json<Health>, AppError> {
    app.readers.read(|c| Ok(crate::db::ping(c)?)).await?;
    let (db_bytes, wal_bytes) = crate::db::file_sizes(&app.config.db_path());
    Ok(Json(Health {
        status: "ok",
        version: env!("CARGO_PKG_VERSION"),
        storage: Storage {
            db_bytes,
            wal_bytes,
            wal_checkpoint_bytes: crate::db::WAL_CHECKPOINT_AT,
        },
    }))
}

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT or keel_pat_ token")
                    .build(),
            ),
        );
    }
}

/// Every operation may answer these errors in the one error shape; declaring them once here
/// keeps the document honest without repeating them on each handler.
struct CommonErrors;

impl Modify for CommonErrors {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
        let resp = |d: &str| {
            ResponseBuilder::new()
                .description(d)
                .content(
                    "application/json",
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name("ErrorBody")))
                        .build(),
                )
                .build()
        };
        let common = [
            ("400", "Malformed request"),
            ("401", "Not signed in, or the token is invalid"),
            ("403", "Not allowed"),
            ("404", "Not found"),
            ("405", "Method not allowed"),
            ("409", "Conflict"),
            ("413", "Body too large"),
            ("415", "Body is not JSON"),
            ("422", "Validation failed or a rule refused the change"),
            ("429", "Too many attempts"),
            ("500", "Internal error"),
        ];
        for item in openapi.paths.paths.values_mut() {
            let ops = [
                &mut item.get,
                &mut item.post,
                &mut item.put,
                &mut item.patch,
                &mut item.delete,
            ];
            for op in ops.into_iter().flatten() {
                for (code, desc) in common {
                    op.responses
                        .responses
                        .entry(code.to_string())
                        .or_insert_with(|| resp(desc).into());
                }
            }
        }
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Keel API", description = "Self-hosted, offline-first work management."),
    modifiers(&Security, &CommonErrors),
    security(("bearer" = [])),
    components(schemas(ErrorBody)),
    tags(
        (name = "meta"), (name = "auth"), (name = "users"), (name = "instance"),
        (name = "workspaces"), (name = "members"), (name = "invitations"), (name = "projects")
    )
)]
struct ApiDoc;

/// The routes with their OpenAPI document.
pub fn api() -> (Router<App>, utoipa::openapi::OpenApi) {
    let (router, mut openapi) = OpenApiRouter::<App>::with_openapi(ApiDoc::openapi())
        .routes(routes!(health))
        .merge(crate::auth::routes::router())
        .merge(crate::workspaces::routes::router())
        .merge(crate::org::routes::router())
        .merge(crate::work::routes::router())
        .merge(crate::issues::routes::router())
        .merge(crate::timetrack::routes::router())
        .merge(crate::planning::routes::router())
        .merge(crate::me::routes::router())
        .merge(crate::sync::routes::router())
        .merge(crate::plans::routes::router())
        .merge(crate::analytics::routes::router())
        .merge(crate::dashboards::routes::router())
        .split_for_parts();
    // Modifiers run on the base document; run them again now that all paths are in.
    Security.modify(&mut openapi);
    CommonErrors.modify(&mut openapi);
    (router, openapi)
}

/// The OpenAPI document as served at `/api/openapi.json`.
pub fn openapi() -> utoipa::openapi::OpenApi {
    api().1
}

/// The full application router, with the policy layer and every tower-http layer.
pub fn router(app: App) -> Router {
    let (api, openapi) = api();
    let routed = api
        .merge(SwaggerUi::new("/api/docs").url("/api/openapi.json", openapi))
        .route_layer(middleware::from_fn_with_state(app.clone(), enforce_policy))
        .fallback(crate::ui::fallback)
        .with_state(app.clone());

    let c = &app.config;
    let cors = CorsLayer::new()
        .allow_origin(AllowOrigin::list(
            c.cors_origins.iter().filter_map(|o| HeaderValue::from_str(o).ok()),
        ))
        .allow_methods([Method::GET, Method::POST, Method::PATCH, Method::PUT, Method::DELETE])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
        .max_age(std::time::Duration::from_secs(600));
    let x_request_id = HeaderName::from_static("x-request-id");
    let hdr =
        |name: HeaderName, v: &'static str| SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(v));

    routed.layer(
        ServiceBuilder::new()
            .layer(SetRequestIdLayer::new(x_request_id.clone(), MakeRequestUuid))
            .layer(TraceLayer::new_for_http().make_span_with(|req: &Request| {
                // The request id ties a 5xx's logged cause to the answer the client got.
                let id = req
                    .headers()
                    .get("x-request-id")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("");
                tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id = %id)
            }))
            .layer(PropagateRequestIdLayer::new(x_request_id))
            .layer(hdr(
                header::CONTENT_SECURITY_POLICY,
                "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; \
                 font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; \
                 frame-ancestors 'none'; form-action 'self'",
            ))
            .layer(hdr(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
            .layer(hdr(header::REFERRER_POLICY, "no-referrer"))
            .layer(hdr(header::X_FRAME_OPTIONS, "DENY"))
            .layer(hdr(
                HeaderName::from_static("cross-origin-opener-policy"),
                "same-origin",
            ))
            .layer(middleware::map_response(error_shape))
            .layer(middleware::from_fn_with_state(app.clone(), check_host))
            .layer(cors)
            .layer(CompressionLayer::new())
            .layer(TimeoutLayer::with_status_code(
                StatusCode::REQUEST_TIMEOUT,
                c.request_timeout,
            ))
            .layer(axum::extract::DefaultBodyLimit::max(c.body_limit)),
    )
}

/// Gives answers that did not come from an `AppError` (405 from the router, 408 from the
/// timeout, 413 from a body limit) the one error shape.
async fn error_shape(res: Response) -> Response {
    let status = res.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return res;
    }
    let is_json = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if is_json {
        return res;
    }
    let (code, message) = match status.as_u16() {
        404 => ("not_found", "not found"),
        405 => ("method_not_allowed", "this method is not allowed here"),
        408 => ("request_timeout", "the request took too long"),
        413 => ("payload_too_large", "the request body is too large"),
        415 => ("unsupported_media_type", "unsupported media type"),
        s if s >= 500 => ("internal", "internal error"),
        _ => ("bad_request", "bad request"),
    };
    let (mut parts, _) = res.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    parts
        .headers
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    let body = serde_json::to_vec(&ErrorBody::new(code, message)).unwrap_or_default();
    Response::from_parts(parts, Body::from(body))
}

/// Refuses Host names other than IP literals, `localhost` and configured public hosts:
/// a DNS-rebinding page in a browser on this machine can only reach Keel under a name it
/// controls, never under an IP literal.
async fn check_host(State(app): State<App>, req: Request, next: Next) -> Response {
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| req.uri().host())
        .unwrap_or("");
    if host_allowed(host, &app.config.public_hosts) {
        next.run(req).await
    } else {
        AppError::refused_status(421, "host_not_allowed", "this server does not answer to that host name")
            .into_response()
    }
}

pub fn host_allowed(host: &str, public: &[String]) -> bool {
    let name = if let Some(rest) = host.strip_prefix('[') {
        // [v6]:port
        rest.split(']').next().unwrap_or("")
    } else {
        host.rsplit_once(':').map_or(
            host,
            |(h, p)| {
                if p.chars().all(|c| c.is_ascii_digit()) {
                    h
                } else {
                    host
                }
            },
        )
    };
    if name.parse::<IpAddr>().is_ok() || name.eq_ignore_ascii_case("localhost") {
        return true;
    }
    public.iter().any(|p| p.eq_ignore_ascii_case(name))
}

fn bearer(req: &Request) -> Option<&str> {
    let v = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then_some(token.trim())
}

/// Looks the matched route up in the policy table and resolves who is calling, in which
/// workspace and project, before any handler runs. A route missing from the table is
/// refused.
async fn enforce_policy(State(app): State<App>, req: Request, next: Next) -> Response {
    use axum::extract::FromRequestParts;
    let (mut parts, body) = req.into_parts();
    let matched = parts.extensions.get::<MatchedPath>().cloned();
    let params = RawPathParams::from_request_parts(&mut parts, &()).await.ok();
    let mut req = Request::from_parts(parts, body);
    let path = matched.as_ref().map(|m| m.as_str().to_string()).unwrap_or_default();
    let method = req.method().as_str().to_string();
    // HEAD is answered like GET.
    let lookup_method = if method == "HEAD" { "GET" } else { method.as_str() };
    let Some(access) = policy::lookup(lookup_method, &path) else {
        if policy::POLICY.iter().any(|(_, p, _)| *p == path) {
            // The router answers 405 for a known path with another method.
            return next.run(req).await;
        }
        tracing::error!(%method, %path, "route missing from the policy table");
        return AppError::denied("route_not_in_policy", "this route is not in the policy table").into_response();
    };
    // A device route authenticates its device token itself.
    if access == Access::Public || access == Access::Device {
        return next.run(req).await;
    }
    let param = |name: &str| -> Option<String> {
        params
            .as_ref()
            .and_then(|p| p.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_string()))
    };
    let resolved = resolve(
        &app,
        access,
        bearer(&req).map(str::to_string),
        param("slug"),
        param("project_id"),
    )
    .await;
    match resolved {
        Ok(r) => {
            req.extensions_mut().insert(r.actor);
            if let Some(w) = r.ws {
                req.extensions_mut().insert(w);
            }
            if let Some(p) = r.project {
                req.extensions_mut().insert(p);
            }
            next.run(req).await
        }
        Err(e) => e.into_response(),
    }
}

struct Resolved {
    actor: crate::auth::Actor,
    ws: Option<crate::workspaces::WsCtx>,
    project: Option<crate::work::ProjCtx>,
}

async fn resolve(
    app: &App,
    access: Access,
    bearer: Option<String>,
    slug: Option<String>,
    project_id: Option<String>,
) -> Result<Resolved, AppError> {
    let token = bearer.ok_or(AppError::Unauthenticated)?;
    let actor = Auth(app).authenticate(&token).await?;
    match access {
        Access::Public | Access::Device | Access::Authenticated => Ok(Resolved {
            actor,
            ws: None,
            project: None,
        }),
        Access::SessionOnly => {
            if actor.session_id().is_none() {
                return Err(AppError::denied(
                    "session_required",
                    "API tokens cannot manage credentials",
                ));
            }
            Ok(Resolved {
                actor,
                ws: None,
                project: None,
            })
        }
        Access::InstanceAdmin => {
            if !actor.is_instance_admin {
                return Err(AppError::forbidden("only the instance admin can do this"));
            }
            Ok(Resolved {
                actor,
                ws: None,
                project: None,
            })
        }
        Access::Workspace(_) | Access::Project(_) => {
            let slug = slug.ok_or_else(|| AppError::internal("workspace route without {slug}"))?;
            let uid = actor.user_id.clone();
            let found = app
                .readers
                .read(move |c| Ok(crate::workspaces::resolve(c, &slug, &uid)?))
                .await?;
            let (ws, role) = found.ok_or(AppError::not_found("workspace"))?;
            let wctx = crate::workspaces::WsCtx {
                actor: actor.clone(),
                ws,
                role,
            };
            if let Access::Workspace(min) = access {
                if role < min {
                    return Err(AppError::forbidden(format!(
                        "this needs the {} role or higher",
                        min.as_str()
                    )));
                }
                return Ok(Resolved {
                    actor,
                    ws: Some(wctx),
                    project: None,
                });
            }
            let Access::Project(pmin) = access else {
                return Err(AppError::internal("unreachable access"));
            };
            let pid = project_id.ok_or_else(|| AppError::internal("project route without {project_id}"))?;
            if uuid::Uuid::parse_str(&pid).is_err() {
                return Err(AppError::not_found("project"));
            }
            let w2 = wctx.clone();
            let found = app
                .readers
                .read(move |c| Ok(crate::work::resolve(c, &w2, &pid)?))
                .await?;
            let (project, prole) = found.ok_or(AppError::not_found("project"))?;
            if prole < pmin {
                return Err(AppError::forbidden(format!(
                    "this needs the project {} role or higher",
                    pmin.as_str()
                )));
            }
            Ok(Resolved {
                actor,
                ws: Some(wctx.clone()),
                project: Some(crate::work::ProjCtx {
                    ws: wctx,
                    project,
                    role: prole,
                }),
            })
        }
    }
}

/// Trailing slash optional: `/x/` is routed as `/x` (the docs UI keeps its own paths).
fn trim_trailing_slash(mut req: Request) -> Request {
    let path = req.uri().path();
    if path.len() > 1 && path.ends_with('/') && !path.starts_with("/api/docs") {
        let trimmed = path.trim_end_matches('/');
        let trimmed = if trimmed.is_empty() { "/" } else { trimmed };
        let pq = match req.uri().query() {
            Some(q) => format!("{trimmed}?{q}"),
            None => trimmed.to_string(),
        };
        let mut parts = req.uri().clone().into_parts();
        if let Ok(pq) = pq.parse() {
            parts.path_and_query = Some(pq);
            if let Ok(uri) = Uri::from_parts(parts) {
                *req.uri_mut() = uri;
            }
        }
    }
    req
}

/// Serves until `shutdown`; in-flight requests finish first.
pub async fn serve(
    app: App,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let limits_app = app.clone();
    let sweeper = tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
        loop {
            tick.tick().await;
            limits_app.limits.forget_idle();
        }
    });
    let app_for_sync = app.clone();
    // Metrics are computed off the request path, on their refresh rates.
    let refresher = crate::dashboards::metrics::spawn_refresher(app.clone());
    let router = router(app);
    let svc = tower::util::MapRequestLayer::new(trim_trailing_slash).layer(router);
    let svc = axum::ServiceExt::<Request>::into_make_service_with_connect_info::<SocketAddr>(svc);
    // Sync: connect to the paired peers; on shutdown, end every sync connection first so
    // the graceful stop does not wait on WebSockets that never close by themselves.
    if let Err(e) = crate::sync::client::start_all(&app_for_sync).await {
        tracing::warn!(error = %e, "sync: could not start the peers");
    }
    let hub = app_for_sync.sync.clone();
    let shutdown = async move {
        shutdown.await;
        hub.shutdown();
    };
    let r = axum::serve(listener, svc).with_graceful_shutdown(shutdown).await;
    sweeper.abort();
    refresher.abort();
    r.map_err(Into::into)
}

#[cfg(test)]
mod tests {
    use super::host_allowed;

    #[test]
    fn hosts_are_ip_literals_localhost_or_configured_names() {
        let public = vec!["keel.lan".to_string()];
        for ok in [
            "127.0.0.1:7420",
            "127.0.0.1",
            "[::1]:7420",
            "192.168.1.20:7420",
            "localhost:7420",
            "LOCALHOST",
            "keel.lan",
            "KEEL.lan:80",
        ] {
            assert!(host_allowed(ok, &public), "{ok}");
        }
        for bad in [
            "evil.test",
            "evil.test:7420",
            "127.0.0.1.evil.test",
            "localhost.evil.test",
            "",
            "keel.lan.evil",
        ] {
            assert!(!host_allowed(bad, &public), "{bad}");
        }
    }
}
