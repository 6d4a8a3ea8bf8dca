//! Identity: accounts, password hashing, access JWTs, rotated refresh tokens, personal API
//! tokens, instance registration policy and the rate limits of credential endpoints.
//!
//! Accounts, sessions and tokens are local to this instance and are not in yrs documents;
//! they still go through the one writer.

pub(crate) mod routes;
pub(crate) mod store;

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use base64::Engine;
use governor::clock::{Clock, DefaultClock};
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};
use jsonwebtoken::{decode, encode, Algorithm as JwtAlg, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{AppError, Checks};
use crate::time::{now, rfc3339};
use crate::App;

pub const ISSUER: &str = "keel";
pub const AUDIENCE: &str = "keel-api";
pub const API_TOKEN_PREFIX: &str = "keel_pat_";
const REFRESH_PREFIX: &str = "keel_rt_";

/// Who is making a request, as established by the policy layer.
#[derive(Debug, Clone, Serialize)]
pub struct Actor {
    pub user_id: String,
    pub email: String,
    pub display_name: String,
    pub is_instance_admin: bool,
    #[serde(skip)]
    pub via: AuthVia,
}

#[derive(Debug, Clone)]
pub enum AuthVia {
    Session { session_id: String },
    ApiToken { token_id: String },
}

impl Actor {
    pub fn session_id(&self) -> Option<&str> {
        match &self.via {
            AuthVia::Session { session_id } => Some(session_id),
            AuthVia::ApiToken { .. } => None,
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: String,
    sid: String,
    iat: i64,
    exp: i64,
    iss: String,
    aud: String,
}

/// The signing key of this install (per-install secret, never a fixed default).
pub struct Keys {
    enc: EncodingKey,
    dec: DecodingKey,
    validation: Validation,
}

impl Keys {
    pub fn new(secret: &[u8]) -> Self {
        // One algorithm only: a token whose header names another (or none) is refused.
        let mut validation = Validation::new(JwtAlg::HS256);
        validation.set_audience(&[AUDIENCE]);
        validation.set_issuer(&[ISSUER]);
        validation.set_required_spec_claims(&["exp", "aud", "iss", "sub"]);
        validation.leeway = 5;
        Self {
            enc: EncodingKey::from_secret(secret),
            dec: DecodingKey::from_secret(secret),
            validation,
        }
    }
}

pub fn sha256_hex(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

/// A random secret token with a readable prefix (shown once, stored hashed).
pub fn random_token(prefix: &str) -> String {
    let mut b = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut b);
    format!("{prefix}{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b))
}

fn argon2() -> Result<Argon2<'static>, AppError> {
    // OWASP minimum for argon2id: 19 MiB, t=2, p=1.
    let params = Params::new(19 * 1024, 2, 1, None).map_err(|e| AppError::internal(format!("argon2 params: {e}")))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// Hashes on the blocking pool: argon2 is deliberately slow and must not hold the writer.
pub async fn hash_password(password: String) -> Result<String, AppError> {
    tokio::task::spawn_blocking(move || hash_password_blocking(&password))
        .await
        .map_err(|e| AppError::internal(format!("hash task: {e}")))?
}

pub fn hash_password_blocking(password: &str) -> Result<String, AppError> {
    let salt = SaltString::generate(&mut OsRng);
    argon2()?
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AppError::internal(format!("hash: {e}")))
}

/// Verifies a password; with no stored hash it still spends the same work so that timing
/// does not tell which emails have accounts.
pub async fn verify_password(password: String, hash: Option<String>) -> Result<bool, AppError> {
    tokio::task::spawn_blocking(move || {
        let a = argon2()?;
        match hash {
            Some(h) => {
                let parsed = PasswordHash::new(&h).map_err(|e| AppError::internal(format!("stored hash: {e}")))?;
                Ok(a.verify_password(password.as_bytes(), &parsed).is_ok())
            }
            None => {
                let _ = hash_password_blocking(&password)?;
                Ok(false)
            }
        }
    })
    .await
    .map_err(|e| AppError::internal(format!("verify task: {e}")))?
}

pub fn parse_email(raw: &str) -> Result<String, String> {
    let e = raw.trim().to_lowercase();
    let ok = e.len() <= 254
        && !e.chars().any(|c| c.is_whitespace() || c.is_control())
        && matches!(e.split_once('@'), Some((l, d)) if !l.is_empty() && d.contains('.') && !d.starts_with('.') && !d.ends_with('.') && !d.contains('@'));
    if ok {
        Ok(e)
    } else {
        Err("must be a valid email address".into())
    }
}

pub fn check_password(p: &str) -> Result<(), String> {
    let n = p.chars().count();
    if n < 8 {
        Err("must be at least 8 characters".into())
    } else if n > 128 {
        Err("must be at most 128 characters".into())
    } else {
        Ok(())
    }
}

pub fn parse_display_name(raw: &str) -> Result<String, String> {
    let s = raw.trim();
    let n = s.chars().count();
    if n == 0 {
        Err("must not be empty".into())
    } else if n > 80 {
        Err("must be at most 80 characters".into())
    } else if s.chars().any(char::is_control) {
        Err("must not contain control characters".into())
    } else {
        Ok(s.to_string())
    }
}

/// Registration policy of the instance, set by the instance admin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Registration {
    Open,
    InviteOnly,
    Closed,
}

impl Registration {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::InviteOnly => "invite_only",
            Self::Closed => "closed",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "open" => Some(Self::Open),
            "invite_only" => Some(Self::InviteOnly),
            "closed" => Some(Self::Closed),
            _ => None,
        }
    }
}

/// Access and refresh token pair answered by register, login and refresh.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TokenPair {
    pub access_token: String,
    pub refresh_token: String,
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: i64,
    pub user: UserView,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct UserView {
    pub id: String,
    pub email: String,
    pub display_name: String,
    pub is_instance_admin: bool,
    /// False for the desktop's local owner until they set a password (then the current
    /// password is not asked when setting one).
    pub has_password: bool,
    pub created_at: String,
}

/// Per-IP and per-account limits of credential endpoints.
pub struct RateLimits {
    per_ip: RateLimiter<String, DefaultKeyedStateStore<String>, DefaultClock>,
    per_account: RateLimiter<String, DefaultKeyedStateStore<String>, DefaultClock>,
}

impl RateLimits {
    pub fn new(per_ip_per_min: u32, per_account_per_min: u32) -> Self {
        let q = |n: u32| Quota::per_minute(NonZeroU32::new(n.max(1)).unwrap_or(NonZeroU32::MIN));
        Self {
            per_ip: RateLimiter::keyed(q(per_ip_per_min)),
            per_account: RateLimiter::keyed(q(per_account_per_min)),
        }
    }

    fn check(
        limiter: &RateLimiter<String, DefaultKeyedStateStore<String>, DefaultClock>,
        key: String,
    ) -> Result<(), AppError> {
        limiter.check_key(&key).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            AppError::RateLimited {
                retry_after_secs: wait.as_secs().max(1),
            }
        })
    }

    /// Counts one attempt for `ip` and (if known) `account` on endpoint family `what`.
    pub fn hit(&self, what: &str, ip: &str, account: Option<&str>) -> Result<(), AppError> {
        Self::check(&self.per_ip, format!("{what}:{ip}"))?;
        if let Some(a) = account {
            Self::check(&self.per_account, format!("{what}:{a}"))?;
        }
        Ok(())
    }

    pub fn forget_idle(&self) {
        self.per_ip.retain_recent();
        self.per_account.retain_recent();
    }
}

/// Session lifetimes.
pub struct Ttl {
    pub access: Duration,
    pub refresh: Duration,
}

/// The identity service over the app's store.
pub struct Auth<'a>(pub &'a App);

pub struct NewAccount {
    pub email: String,
    pub password: String,
    pub display_name: String,
}

impl NewAccount {
    pub fn parse(email: &str, password: &str, display_name: &str) -> Result<Self, AppError> {
        let mut c = Checks::new();
        let email = c.take("email", parse_email(email));
        c.take("password", check_password(password));
        let display_name = c.take("display_name", parse_display_name(display_name));
        c.finish()?;
        match (email, display_name) {
            (Some(email), Some(display_name)) => Ok(Self {
                email,
                password: password.to_string(),
                display_name,
            }),
            _ => Err(AppError::internal("checks passed without values")),
        }
    }
}

/// What a refresh attempt found.
pub enum RefreshOutcome {
    Rotated {
        user_id: String,
        session_id: String,
        refresh_token: String,
    },
    Reused,
    Invalid,
}

impl Auth<'_> {
    pub fn access_token(&self, user_id: &str, session_id: &str) -> Result<(String, i64), AppError> {
        let ttl = self.0.ttl.access.as_secs() as i64;
        let iat = now().timestamp();
        let claims = Claims {
            sub: user_id.to_string(),
            sid: session_id.to_string(),
            iat,
            exp: iat + ttl,
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
        };
        let t = encode(&Header::new(JwtAlg::HS256), &claims, &self.0.keys.enc)
            .map_err(|e| AppError::internal(format!("jwt encode: {e}")))?;
        Ok((t, ttl))
    }

    /// Resolves a bearer credential to an actor: an API token by its prefix, otherwise an
    /// access JWT whose session must still be live.
    pub async fn authenticate(&self, bearer: &str) -> Result<Actor, AppError> {
        if bearer.starts_with(API_TOKEN_PREFIX) {
            let hash = sha256_hex(bearer);
            let now_t = now();
            let now_s = rfc3339(now_t);
            let (actor, last_used) = self
                .0
                .readers
                .read(move |c| Ok(store::actor_by_api_token(c, &hash, &now_s)?))
                .await?
                .ok_or(AppError::InvalidToken)?;
            // Record use at most once a minute per token, off the request's path: a write
            // per API call would put every read behind the writer.
            let stale = last_used.is_none_or(|t| t < rfc3339(now_t - chrono::Duration::seconds(60)));
            if let (true, AuthVia::ApiToken { token_id }) = (stale, &actor.via) {
                let (id, at) = (token_id.clone(), rfc3339(now_t));
                let writer = self.0.writer.clone();
                tokio::spawn(async move {
                    if let Err(e) = writer
                        .write(move |ctx| Ok(store::touch_api_token(ctx.conn, &id, &at)?))
                        .await
                    {
                        tracing::warn!(error = %e, "could not record API token use");
                    }
                });
            }
            return Ok(actor);
        }
        let data =
            decode::<Claims>(bearer, &self.0.keys.dec, &self.0.keys.validation).map_err(|_| AppError::InvalidToken)?;
        let c = data.claims;
        let found = self
            .0
            .readers
            .read(move |conn| Ok(store::actor_by_session(conn, &c.sub, &c.sid)?))
            .await?;
        found.ok_or(AppError::InvalidToken)
    }

    /// Creates an account. The first account of the instance becomes its admin and is
    /// always allowed; after that the registration policy decides.
    pub async fn register(&self, acc: NewAccount) -> Result<TokenPair, AppError> {
        let hash = hash_password(acc.password.clone()).await?;
        let refresh = random_token(REFRESH_PREFIX);
        let refresh_hash = sha256_hex(&refresh);
        let refresh_ttl = self.0.ttl.refresh;
        let user = self
            .0
            .writer
            .write(move |ctx| {
                let c = ctx.conn;
                let first = store::user_count(c)? == 0;
                if !first {
                    let mode = store::registration(c)?;
                    match mode {
                        Registration::Open => {}
                        Registration::Closed => {
                            return Err(AppError::denied(
                                "registration_closed",
                                "registration is closed on this instance",
                            ))
                        }
                        Registration::InviteOnly => {
                            if !crate::workspaces::has_pending_invitation(c, &acc.email)? {
                                return Err(AppError::denied(
                                    "invitation_required",
                                    "this instance registers invited emails only",
                                ));
                            }
                        }
                    }
                }
                if store::user_by_email(c, &acc.email)?.is_some() {
                    return Err(AppError::conflict("email_taken", "an account with this email exists"));
                }
                let user = store::insert_user(c, &acc.email, &acc.display_name, &hash, first)?;
                let sid = store::insert_session(c, &user.id)?;
                store::insert_refresh(c, &refresh_hash, &sid, refresh_ttl)?;
                Ok((user, sid))
            })
            .await?;
        self.pair(user.0, &user.1, refresh)
    }

    fn pair(&self, user: UserView, session_id: &str, refresh: String) -> Result<TokenPair, AppError> {
        let (access_token, expires_in) = self.access_token(&user.id, session_id)?;
        Ok(TokenPair {
            access_token,
            refresh_token: refresh,
            token_type: "Bearer",
            expires_in,
            user,
        })
    }

    pub async fn login(&self, email: &str, password: String) -> Result<TokenPair, AppError> {
        let user = self.verify_credentials(email, password).await?;
        self.open_session(user).await
    }

    /// Checks an email and password without opening a session (sign-in, device pairing).
    /// Unknown emails cost the same hashing work as known ones.
    pub async fn verify_credentials(&self, email: &str, password: String) -> Result<UserView, AppError> {
        let email = parse_email(email).map_err(|_| AppError::InvalidCredentials)?;
        let em = email.clone();
        let found = self
            .0
            .readers
            .read(move |c| Ok(store::credentials_by_email(c, &em)?))
            .await?;
        let (user, hash) = match found {
            Some((u, h)) => (Some(u), Some(h)),
            None => (None, None),
        };
        if !verify_password(password, hash).await? {
            return Err(AppError::InvalidCredentials);
        }
        user.ok_or(AppError::InvalidCredentials)
    }

    /// Makes sure this instance has `user`'s account under the same id, with `password`:
    /// how a device pairing with a server takes its user's account. A different account
    /// with the same email here is refused (pair a fresh data dir instead).
    pub async fn adopt_account(&self, user: UserView, password: String) -> Result<UserView, AppError> {
        let hash = hash_password(password).await?;
        self.0
            .writer
            .write(move |ctx| {
                let c = ctx.conn;
                match store::user_by_email(c, &user.email)? {
                    Some(u) if u.id == user.id => Ok(u),
                    Some(_) => Err(AppError::conflict(
                        "account_mismatch",
                        format!(
                            "this data dir has another account for {}; pair a fresh data dir",
                            user.email
                        ),
                    )),
                    None => {
                        let first = store::user_count(c)? == 0;
                        Ok(store::insert_user_as(
                            c,
                            &user.id,
                            &user.email,
                            &user.display_name,
                            &hash,
                            first,
                        )?)
                    }
                }
            })
            .await
    }

    /// A new session for `user`, answered as a token pair (sign-in and one-time sign-in).
    async fn open_session(&self, user: UserView) -> Result<TokenPair, AppError> {
        let refresh = random_token(REFRESH_PREFIX);
        let refresh_hash = sha256_hex(&refresh);
        let refresh_ttl = self.0.ttl.refresh;
        let uid = user.id.clone();
        let sid = self
            .0
            .writer
            .write(move |ctx| {
                let sid = store::insert_session(ctx.conn, &uid)?;
                store::insert_refresh(ctx.conn, &refresh_hash, &sid, refresh_ttl)?;
                Ok(sid)
            })
            .await?;
        self.pair(user, &sid, refresh)
    }

    /// Rotates a refresh token. Presenting a token that was already used means it leaked:
    /// the whole session (its family) is revoked.
    pub async fn refresh(&self, token: &str) -> Result<TokenPair, AppError> {
        if !token.starts_with(REFRESH_PREFIX) || token.len() > 200 {
            return Err(AppError::InvalidToken);
        }
        let hash = sha256_hex(token);
        let new_token = random_token(REFRESH_PREFIX);
        let new_hash = sha256_hex(&new_token);
        let refresh_ttl = self.0.ttl.refresh;
        let out = self
            .0
            .writer
            .write(move |ctx| store::rotate_refresh(ctx.conn, &hash, &new_hash, refresh_ttl))
            .await?;
        match out {
            RefreshOutcome::Rotated {
                user_id, session_id, ..
            } => {
                let uid = user_id.clone();
                let user = self
                    .0
                    .readers
                    .read(move |c| Ok(store::user_by_id(c, &uid)?))
                    .await?
                    .ok_or(AppError::InvalidToken)?;
                self.pair(user, &session_id, new_token)
            }
            RefreshOutcome::Reused => Err(AppError::unauthorized(
                "refresh_token_reused",
                "this refresh token was already used; the session is revoked",
            )),
            RefreshOutcome::Invalid => Err(AppError::InvalidToken),
        }
    }

    pub async fn logout(&self, actor: &Actor) -> Result<(), AppError> {
        if let Some(sid) = actor.session_id() {
            let sid = sid.to_string();
            self.0
                .writer
                .write(move |ctx| Ok(store::revoke_session(ctx.conn, &sid, "logout")?))
                .await?;
        }
        Ok(())
    }

    pub async fn change_password(&self, actor: &Actor, current: String, new: String) -> Result<Revoked, AppError> {
        if let Err(e) = check_password(&new) {
            return Err(AppError::field("new_password", e));
        }
        let uid = actor.user_id.clone();
        let found = self
            .0
            .readers
            .read(move |c| Ok(store::credentials_by_id(c, &uid)?))
            .await?;
        let has_password = found.as_ref().is_none_or(|(_, set)| *set);
        // An account whose owner never set a password (the desktop's local owner) sets the
        // first one without the current one; everything else proves it knows it.
        if has_password && !verify_password(current, found.map(|(h, _)| h)).await? {
            return Err(AppError::refused("wrong_password", "the current password is wrong"));
        }
        let new_hash = hash_password(new).await?;
        let uid = actor.user_id.clone();
        let keep = actor.session_id().map(str::to_string);
        let (revoked, devices) = self
            .0
            .writer
            .write(move |ctx| {
                store::set_password(ctx.conn, &uid, &new_hash)?;
                revoke_credentials(ctx.conn, &uid, keep.as_deref(), "password_changed")
            })
            .await?;
        for d in &devices {
            self.0.sync.cut_device(d);
        }
        Ok(revoked)
    }
}

/// What a password change or reset signed out.
#[derive(Debug, Clone, Copy, Default, serde::Serialize, utoipa::ToSchema)]
pub struct Revoked {
    /// Other sessions (browsers, apps) signed out.
    pub sessions: usize,
    /// Personal API tokens revoked.
    pub api_tokens: usize,
    /// Paired devices revoked (their sync connections are cut).
    pub devices: usize,
}

/// A new password makes every old credential of the account worthless: sessions (but the
/// caller's own), API tokens and device tokens. Answers what was revoked and the devices'
/// ids, whose live connections the caller cuts after the commit.
fn revoke_credentials(
    c: &rusqlite::Connection,
    uid: &str,
    keep: Option<&str>,
    reason: &str,
) -> Result<(Revoked, Vec<String>), AppError> {
    let sessions = store::revoke_sessions_except(c, uid, keep, reason)?;
    let api_tokens = store::revoke_api_tokens(c, uid)?;
    let devices = crate::sync::revoke_all_devices(c, uid)?;
    Ok((
        Revoked {
            sessions,
            api_tokens,
            devices: devices.len(),
        },
        devices,
    ))
}

/// Sets a new password and revokes every session, API token and device of the account
/// (CLI `keel user reset-password`).
pub fn reset_password_blocking(app: &App, email: &str, password: &str) -> Result<Revoked, AppError> {
    let email = parse_email(email).map_err(|e| AppError::field("email", e))?;
    check_password(password).map_err(|e| AppError::field("password", e))?;
    let hash = hash_password_blocking(password)?;
    let (revoked, devices) = app.writer.write_blocking(move |ctx| {
        let user = store::user_by_email(ctx.conn, &email)?.ok_or(AppError::not_found("user"))?;
        store::set_password(ctx.conn, &user.id, &hash)?;
        revoke_credentials(ctx.conn, &user.id, None, "password_reset")
    })?;
    for d in &devices {
        app.sync.cut_device(d);
    }
    Ok(revoked)
}

/// Creates an account from the CLI (`keel user create`); `admin` makes it instance admin.
pub fn create_user_blocking(app: &App, acc: NewAccount, admin: bool) -> Result<UserView, AppError> {
    let hash = hash_password_blocking(&acc.password)?;
    app.writer.write_blocking(move |ctx| {
        let c = ctx.conn;
        if store::user_by_email(c, &acc.email)?.is_some() {
            return Err(AppError::conflict("email_taken", "an account with this email exists"));
        }
        let first = store::user_count(c)? == 0;
        Ok(store::insert_user(
            c,
            &acc.email,
            &acc.display_name,
            &hash,
            first || admin,
        )?)
    })
}

pub type SharedLimits = Arc<RateLimits>;

/// Inserts an account with a precomputed password hash (seeding scale data, where hashing
/// each password would dominate the run).
pub fn insert_user_with_hash(
    c: &rusqlite::Connection,
    email: &str,
    display_name: &str,
    hash: &str,
) -> Result<UserView, AppError> {
    Ok(store::insert_user(c, email, display_name, hash, false)?)
}

pub const ONE_TIME_PREFIX: &str = "keel_ott_";

/// One-time sign-in tokens: minted in-process (the desktop shell, to open its window
/// already signed in) and traded once at `POST /api/v1/auth/one-time`. They live in memory
/// only: they last a minute and nothing but the process that serves the API can mint them.
#[derive(Default)]
pub struct OneTimeTokens(std::sync::Mutex<std::collections::HashMap<String, (String, std::time::Instant)>>);

impl OneTimeTokens {
    fn map(&self) -> std::sync::MutexGuard<'_, std::collections::HashMap<String, (String, std::time::Instant)>> {
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A token that signs `user_id` in once within `ttl`.
    pub fn mint(&self, user_id: &str, ttl: Duration) -> String {
        let token = random_token(ONE_TIME_PREFIX);
        let now = std::time::Instant::now();
        let mut m = self.map();
        m.retain(|_, (_, exp)| *exp > now);
        m.insert(sha256_hex(&token), (user_id.to_string(), now + ttl));
        token
    }

    /// The user the token was minted for, if it is live; the token is spent either way.
    fn take(&self, token: &str) -> Option<String> {
        let (uid, exp) = self.map().remove(&sha256_hex(token))?;
        (exp > std::time::Instant::now()).then_some(uid)
    }
}

impl Auth<'_> {
    /// Trades a one-time token for a new session.
    pub async fn sign_in_one_time(&self, token: &str) -> Result<TokenPair, AppError> {
        if !token.starts_with(ONE_TIME_PREFIX) || token.len() > 200 {
            return Err(AppError::InvalidToken);
        }
        let uid = self.0.one_time.take(token).ok_or(AppError::InvalidToken)?;
        let user = self
            .0
            .readers
            .read(move |c| Ok(store::user_by_id(c, &uid)?))
            .await?
            .ok_or(AppError::InvalidToken)?;
        self.open_session(user).await
    }
}

/// The desktop's local owner: created at first run as instance admin, with a random
/// password nobody knows (`has_password` false) until the owner sets one. Its id is kept in
/// the instance settings so that later runs find the same account. At that first run the
/// instance's registration becomes invite-only: a desktop shared on the LAN does not let
/// anyone who can reach it make an account. Answers the account and whether it was created now.
pub fn ensure_local_owner_blocking(app: &App, display_name: &str) -> Result<(UserView, bool), AppError> {
    let name = parse_display_name(display_name).unwrap_or_else(|_| "Owner".to_string());
    let hash = hash_password_blocking(&random_token(""))?;
    app.writer.write_blocking(move |ctx| {
        let c = ctx.conn;
        if let Some(id) = store::setting(c, "local_owner")? {
            if let Some(u) = store::user_by_id(c, &id)? {
                return Ok((u, false));
            }
        }
        let mut email = "owner@keel.localhost".to_string();
        let mut n = 1;
        while store::user_by_email(c, &email)?.is_some() {
            n += 1;
            email = format!("owner{n}@keel.localhost");
        }
        let first = store::user_count(c)? == 0;
        let mut user = store::insert_user(c, &email, &name, &hash, true)?;
        store::clear_has_password(c, &user.id)?;
        store::set_setting(c, "local_owner", &user.id)?;
        if first {
            store::set_registration(c, Registration::InviteOnly)?;
        }
        user.has_password = false;
        Ok((user, true))
    })
}
