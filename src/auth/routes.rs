//! HTTP surface of identity: register, login, refresh, logout, me, password, API tokens,
//! instance settings.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::store::{self, ApiTokenView};
use super::{
    parse_display_name, random_token, sha256_hex, Actor, Auth, NewAccount, Registration, TokenPair, UserView,
    API_TOKEN_PREFIX,
};
use crate::error::AppError;
use crate::extract::{AppJson, AppPath, AppQuery, ClientIp};
use crate::http::{Page, PageQuery};
use crate::time::{now, rfc3339};
use crate::App;

pub fn router() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(register))
        .routes(routes!(login))
        .routes(routes!(refresh))
        .routes(routes!(one_time))
        .routes(routes!(instance_status))
        .routes(routes!(logout))
        .routes(routes!(me, update_me))
        .routes(routes!(change_password))
        .routes(routes!(list_tokens, create_token))
        .routes(routes!(revoke_token))
        .routes(routes!(get_settings, update_settings))
}

#[derive(Deserialize, ToSchema)]
pub struct RegisterBody {
    pub email: String,
    /// 8 to 128 characters.
    pub password: String,
    pub display_name: String,
}

/// Creates an account and signs it in. The first account becomes the instance admin.
#[utoipa::path(post, path = "/api/v1/auth/register", tag = "auth", security(()), request_body = RegisterBody,
    responses((status = 201, body = TokenPair)))]
async fn register(
    State(app): State<App>,
    ClientIp(ip): ClientIp,
    AppJson(b): AppJson<RegisterBody>,
) -> Result<(StatusCode, Json<TokenPair>), AppError> {
    app.limits.hit("register", &ip, None)?;
    let acc = NewAccount::parse(&b.email, &b.password, &b.display_name)?;
    Ok((StatusCode::CREATED, Json(Auth(&app).register(acc).await?)))
}

#[derive(Deserialize, ToSchema)]
pub struct LoginBody {
    pub email: String,
    pub password: String,
}

/// Signs in with email and password.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", security(()), request_body = LoginBody,
    responses((status = 200, body = TokenPair)))]
async fn login(
    State(app): State<App>,
    ClientIp(ip): ClientIp,
    AppJson(b): AppJson<LoginBody>,
) -> Result<Json<TokenPair>, AppError> {
    let account = b.email.trim().to_lowercase();
    app.limits.hit("login", &ip, Some(&account))?;
    if b.password.len() > 1024 {
        return Err(AppError::InvalidCredentials);
    }
    Ok(Json(Auth(&app).login(&b.email, b.password).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct RefreshBody {
    pub refresh_token: String,
}

/// Trades a refresh token for a new pair. Each refresh token works once; reusing one
/// revokes its session.
#[utoipa::path(post, path = "/api/v1/auth/refresh", tag = "auth", security(()), request_body = RefreshBody,
    responses((status = 200, body = TokenPair)))]
async fn refresh(
    State(app): State<App>,
    ClientIp(ip): ClientIp,
    AppJson(b): AppJson<RefreshBody>,
) -> Result<Json<TokenPair>, AppError> {
    // Per account: the token itself stands for the session it belongs to.
    app.limits.hit("refresh", &ip, Some(&sha256_hex(&b.refresh_token)))?;
    Ok(Json(Auth(&app).refresh(&b.refresh_token).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct OneTimeBody {
    /// A `keel_ott_` token minted by the desktop shell; it works once, within a minute.
    pub token: String,
}

/// Trades a one-time sign-in token (minted in-process by the desktop shell) for a session.
#[utoipa::path(post, path = "/api/v1/auth/one-time", tag = "auth", security(()), request_body = OneTimeBody,
    responses((status = 200, body = TokenPair)))]
async fn one_time(
    State(app): State<App>,
    ClientIp(ip): ClientIp,
    AppJson(b): AppJson<OneTimeBody>,
) -> Result<Json<TokenPair>, AppError> {
    app.limits.hit("one_time", &ip, None)?;
    Ok(Json(Auth(&app).sign_in_one_time(&b.token).await?))
}

#[derive(Serialize, ToSchema)]
pub struct InstanceStatus {
    /// False until the first account exists: the UI then shows first-run setup.
    pub initialized: bool,
    pub registration: Registration,
    /// Keel's version.
    pub version: &'static str,
}

/// What a signed-out client needs to know: is there an account yet, may people register.
#[utoipa::path(get, path = "/api/v1/instance/status", tag = "instance", security(()),
    responses((status = 200, body = InstanceStatus)))]
async fn instance_status(State(app): State<App>) -> Result<Json<InstanceStatus>, AppError> {
    let (users, registration) = app
        .readers
        .read(|c| Ok((store::user_count(c)?, store::registration(c)?)))
        .await?;
    Ok(Json(InstanceStatus {
        initialized: users > 0,
        registration,
        version: env!("CARGO_PKG_VERSION"),
    }))
}

/// Ends the current session (its refresh tokens stop working).
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", responses((status = 204)))]
async fn logout(State(app): State<App>, actor: Actor) -> Result<StatusCode, AppError> {
    Auth(&app).logout(&actor).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The signed-in account.
#[utoipa::path(get, path = "/api/v1/users/me", tag = "users", responses((status = 200, body = UserView)))]
async fn me(State(app): State<App>, actor: Actor) -> Result<Json<UserView>, AppError> {
    let uid = actor.user_id.clone();
    let u = app
        .readers
        .read(move |c| Ok(store::user_by_id(c, &uid)?))
        .await?
        .ok_or(AppError::InvalidToken)?;
    Ok(Json(u))
}

#[derive(Deserialize, ToSchema)]
pub struct UpdateMeBody {
    pub display_name: Option<String>,
}

/// Updates the signed-in account's profile.
#[utoipa::path(patch, path = "/api/v1/users/me", tag = "users", request_body = UpdateMeBody,
    responses((status = 200, body = UserView)))]
async fn update_me(
    State(app): State<App>,
    actor: Actor,
    AppJson(b): AppJson<UpdateMeBody>,
) -> Result<Json<UserView>, AppError> {
    let name = match b.display_name {
        Some(n) => Some(parse_display_name(&n).map_err(|e| AppError::field("display_name", e))?),
        None => None,
    };
    let uid = actor.user_id.clone();
    let u = app
        .writer
        .write(move |ctx| {
            if let Some(n) = name {
                store::set_display_name(ctx.conn, &uid, &n)?;
            }
            store::user_by_id(ctx.conn, &uid)?.ok_or(AppError::InvalidToken)
        })
        .await?;
    Ok(Json(u))
}

#[derive(Deserialize, ToSchema)]
pub struct PasswordBody {
    pub current_password: String,
    pub new_password: String,
}

/// Changes the password; every other session, every API token and every paired device of
/// the account is signed out, and the answer says how many.
#[utoipa::path(post, path = "/api/v1/users/me/password", tag = "users", request_body = PasswordBody,
    responses((status = 200, body = crate::auth::Revoked)))]
async fn change_password(
    State(app): State<App>,
    ClientIp(ip): ClientIp,
    actor: Actor,
    AppJson(b): AppJson<PasswordBody>,
) -> Result<Json<crate::auth::Revoked>, AppError> {
    app.limits.hit("password", &ip, Some(&actor.user_id))?;
    if b.current_password.len() > 1024 {
        return Err(AppError::refused("wrong_password", "the current password is wrong"));
    }
    let revoked = Auth(&app)
        .change_password(&actor, b.current_password, b.new_password)
        .await?;
    Ok(Json(revoked))
}

/// Personal API tokens of the signed-in account (without their secrets).
#[utoipa::path(get, path = "/api/v1/users/me/tokens", tag = "users", params(PageQuery),
    responses((status = 200, body = Page<ApiTokenView>)))]
async fn list_tokens(
    State(app): State<App>,
    actor: Actor,
    AppQuery(q): AppQuery<PageQuery>,
) -> Result<Json<Page<ApiTokenView>>, AppError> {
    let p = q.parse()?;
    let (limit, offset) = p.limit_offset();
    let uid = actor.user_id.clone();
    let (items, total) = app
        .readers
        .read(move |c| Ok(store::list_api_tokens(c, &uid, limit, offset)?))
        .await?;
    Ok(Json(Page::new(items, total, p)))
}

#[derive(Deserialize, ToSchema)]
pub struct NewTokenBody {
    pub name: String,
    /// Days until the token expires, 1 to 365 (default 90).
    #[schema(minimum = 1, maximum = 365)]
    pub expires_in_days: Option<u32>,
}

#[derive(Serialize, ToSchema)]
pub struct CreatedToken {
    #[serde(flatten)]
    pub token_info: ApiTokenView,
    /// The secret, shown only in this answer.
    pub token: String,
}

/// Creates a personal API token. Its secret is shown once.
#[utoipa::path(post, path = "/api/v1/users/me/tokens", tag = "users", request_body = NewTokenBody,
    responses((status = 201, body = CreatedToken)))]
async fn create_token(
    State(app): State<App>,
    ClientIp(ip): ClientIp,
    actor: Actor,
    AppJson(b): AppJson<NewTokenBody>,
) -> Result<(StatusCode, Json<CreatedToken>), AppError> {
    app.limits.hit("token", &ip, Some(&actor.user_id))?;
    let mut c = crate::error::Checks::new();
    let name = c.take("name", crate::workspaces::parse_name(&b.name, 80));
    let days = b.expires_in_days.unwrap_or(90);
    if !(1..=365).contains(&days) {
        c.add("expires_in_days", "must be between 1 and 365");
    }
    c.finish()?;
    let name = name.ok_or_else(|| AppError::internal("checked name missing"))?;
    let token = random_token(API_TOKEN_PREFIX);
    let hash = sha256_hex(&token);
    let expires = rfc3339(now() + chrono::Duration::days(i64::from(days)));
    let uid = actor.user_id.clone();
    let view = app
        .writer
        .write(move |ctx| Ok(store::insert_api_token(ctx.conn, &uid, &name, &hash, Some(&expires))?))
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedToken {
            token_info: view,
            token,
        }),
    ))
}

/// Revokes one of the signed-in account's API tokens.
#[utoipa::path(delete, path = "/api/v1/users/me/tokens/{token_id}", tag = "users",
    params(("token_id" = String, Path)), responses((status = 204)))]
async fn revoke_token(
    State(app): State<App>,
    actor: Actor,
    AppPath(token_id): AppPath<String>,
) -> Result<StatusCode, AppError> {
    let uid = actor.user_id.clone();
    let done = app
        .writer
        .write(move |ctx| Ok(store::revoke_api_token(ctx.conn, &uid, &token_id)?))
        .await?;
    if done {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(AppError::not_found("token"))
    }
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct InstanceSettings {
    pub registration: Registration,
}

/// Instance settings (instance admin).
#[utoipa::path(get, path = "/api/v1/instance/settings", tag = "instance",
    responses((status = 200, body = InstanceSettings)))]
async fn get_settings(State(app): State<App>) -> Result<Json<InstanceSettings>, AppError> {
    let registration = app.readers.read(|c| Ok(store::registration(c)?)).await?;
    Ok(Json(InstanceSettings { registration }))
}

#[derive(Deserialize, ToSchema)]
pub struct SettingsPatch {
    pub registration: Option<Registration>,
}

/// Changes instance settings (instance admin).
#[utoipa::path(patch, path = "/api/v1/instance/settings", tag = "instance", request_body = SettingsPatch,
    responses((status = 200, body = InstanceSettings)))]
async fn update_settings(
    State(app): State<App>,
    AppJson(b): AppJson<SettingsPatch>,
) -> Result<Json<InstanceSettings>, AppError> {
    let registration = app
        .writer
        .write(move |ctx| {
            if let Some(r) = b.registration {
                store::set_registration(ctx.conn, r)?;
            }
            Ok(store::registration(ctx.conn)?)
        })
        .await?;
    Ok(Json(InstanceSettings { registration }))
}
