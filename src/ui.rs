//! The web UI, built from `ui/` by build.rs and embedded in the binary: files by path,
//! hashed assets cached for a year, every other GET path answered with index.html (the UI
//! routes on the client).

use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};

use crate::error::AppError;

#[derive(rust_embed::Embed)]
#[folder = "ui/dist/"]
struct Assets;

/// Answers a request no API route matched: a UI file, the UI's index.html, or the API's
/// 404 for anything under /api/ and for methods other than GET and HEAD.
pub async fn fallback(method: Method, uri: Uri, headers: HeaderMap) -> Response {
    let path = uri.path();
    if path.starts_with("/api/") || path == "/api" || !(method == Method::GET || method == Method::HEAD) {
        return AppError::not_found("route").into_response();
    }
    let file = path.trim_start_matches('/');
    if let Some(asset) = (!file.is_empty()).then(|| Assets::get(file)).flatten() {
        let immutable = file.starts_with("assets/");
        return answer(asset, &headers, immutable);
    }
    // A missing file (it has an extension) is a 404; any other path is a UI route.
    let last = file.rsplit('/').next().unwrap_or("");
    if last.contains('.') {
        return AppError::not_found("file").into_response();
    }
    match Assets::get("index.html") {
        Some(index) => answer(index, &headers, false),
        None => AppError::internal("the web UI is missing from this build").into_response(),
    }
}

fn answer(file: rust_embed::EmbeddedFile, req: &HeaderMap, immutable: bool) -> Response {
    let etag = format!("\"{}\"", hex::encode(&file.metadata.sha256_hash()[..16]));
    let cache = if immutable {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    let mut h = HeaderMap::new();
    if let Ok(v) = HeaderValue::from_str(file.metadata.mimetype()) {
        h.insert(header::CONTENT_TYPE, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    let matches = req
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag));
    if matches {
        return (StatusCode::NOT_MODIFIED, h).into_response();
    }
    (h, Body::from(file.data.into_owned())).into_response()
}
