//! Extractors: JSON, query and path parsing whose rejections are `AppError`s, and the
//! identity and context that the policy layer resolved for the request.

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::request::Parts;
use axum::Json;
use serde::de::DeserializeOwned;

use crate::auth::Actor;
use crate::error::AppError;
use crate::work::ProjCtx;
use crate::workspaces::WsCtx;

/// `Json<T>` whose rejection is an `AppError` in the one error shape.
pub struct AppJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for AppJson<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(AppJson(v)),
            Err(rej) => Err(json_rejection(rej)),
        }
    }
}

fn json_rejection(rej: JsonRejection) -> AppError {
    match rej {
        JsonRejection::JsonDataError(e) => {
            // serde says "missing field `x`" or "x: invalid type ..."; name the field when it can.
            let text = e.body_text();
            let detail = text.split_once(": ").map_or(text.as_str(), |(_, d)| d).to_string();
            if let Some(field) = detail.split("missing field `").nth(1).and_then(|s| s.split('`').next()) {
                AppError::field(field, "is required")
            } else if let Some((path, _)) = detail.split_once(": ") {
                AppError::field(path.trim(), detail.clone())
            } else {
                AppError::field("body", detail)
            }
        }
        JsonRejection::JsonSyntaxError(_) => AppError::BadRequest("the request body is not valid JSON".into()),
        JsonRejection::MissingJsonContentType(_) => {
            AppError::refused_status(415, "unsupported_media_type", "send the body as application/json")
        }
        JsonRejection::BytesRejection(b) if b.status().as_u16() == 413 => AppError::PayloadTooLarge,
        other => AppError::BadRequest(other.body_text()),
    }
}

/// `Query<T>` with `AppError` rejections.
pub struct AppQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for AppQuery<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(v)| AppQuery(v))
            .map_err(|e: QueryRejection| AppError::BadRequest(format!("invalid query: {}", e.body_text())))
    }
}

/// `Path<T>` with `AppError` rejections.
pub struct AppPath<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for AppPath<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|Path(v)| AppPath(v))
            .map_err(|e: PathRejection| AppError::BadRequest(format!("invalid path: {}", e.body_text())))
    }
}

fn from_ext<T: Clone + Send + Sync + 'static>(parts: &Parts) -> Result<T, AppError> {
    // The policy layer puts these in; a handler asking for one its route's policy does not
    // resolve is a programming error, reported as 500 and caught by the matrix test.
    parts
        .extensions
        .get::<T>()
        .cloned()
        .ok_or_else(|| AppError::internal(format!("{} not resolved by policy", std::any::type_name::<T>())))
}

impl<S: Send + Sync> FromRequestParts<S> for Actor {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        from_ext(parts)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for WsCtx {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        from_ext(parts)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ProjCtx {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        from_ext(parts)
    }
}

/// The client's IP address, for rate limits.
pub struct ClientIp(pub String);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let ip = parts
            .extensions
            .get::<ConnectInfo<std::net::SocketAddr>>()
            .map(|c| c.0.ip().to_string())
            .unwrap_or_else(|| "unknown".into());
        Ok(ClientIp(ip))
    }
}

/// Reads a present JSON value, `null` included, as `Some(..)`; an absent field stays `None`
/// through `#[serde(default)]`. So a PATCH can clear a field by sending `null`.
pub fn nullable<'de, D: serde::Deserializer<'de>, T: serde::Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    <Option<T> as serde::Deserialize>::deserialize(d).map(Some)
}
