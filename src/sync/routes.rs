//! HTTP side of sync: pairing, a user's devices, this instance's peers, resolved
//! conflicts, and the WebSocket at `/api/v1/sync`.

use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::Response;
use axum::Json;
use futures_util::{SinkExt, StreamExt};
use serde::Deserialize;
use tokio::sync::mpsc;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::client::{Paired, PeerView};
use super::session::{self, Link};
use super::store::{ConflictView, DeviceView};
use super::{wire, Remote};
use crate::auth::Actor;
use crate::error::AppError;
use crate::extract::{AppJson, AppPath, ClientIp};
use crate::workspaces::WsCtx;
use crate::App;

pub fn router() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(pair_device))
        .routes(routes!(list_devices))
        .routes(routes!(revoke_device))
        .routes(routes!(list_peers, add_peer))
        .routes(routes!(list_conflicts))
        .routes(routes!(sync_socket))
}

#[derive(Deserialize, ToSchema)]
pub struct PairBody {
    pub email: String,
    pub password: String,
    /// A name for the device in its user's list, like "Ana's laptop".
    pub device_name: String,
}

/// Pairs a device with this instance: checks the user's credentials and issues a device
/// token bound to that user and a new device. The token is shown once.
#[utoipa::path(post, path = "/api/v1/sync/pair", tag = "sync", security(()), request_body = PairBody,
    responses((status = 201, body = Paired)))]
async fn pair_device(
    State(app): State<App>,
    ClientIp(ip): ClientIp,
    AppJson(b): AppJson<PairBody>,
) -> Result<(StatusCode, Json<Paired>), AppError> {
    let account = b.email.trim().to_lowercase();
    app.limits.hit("login", &ip, Some(&account))?;
    if b.password.len() > 1024 {
        return Err(AppError::InvalidCredentials);
    }
    let name = b.device_name.trim().to_string();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(AppError::field("device_name", "must be 1 to 100 characters"));
    }
    Ok((
        StatusCode::CREATED,
        Json(super::pair_device(&app, &b.email, b.password, &name).await?),
    ))
}

/// The signed-in user's paired devices, revoked ones included.
#[utoipa::path(get, path = "/api/v1/users/me/devices", tag = "sync",
    responses((status = 200, body = Vec<DeviceView>)))]
async fn list_devices(State(app): State<App>, actor: Actor) -> Result<Json<Vec<DeviceView>>, AppError> {
    Ok(Json(super::devices(&app, &actor.user_id).await?))
}

/// Revokes one of the signed-in user's devices: its token stops working and its live
/// connection is cut at once.
#[utoipa::path(delete, path = "/api/v1/users/me/devices/{device_id}", tag = "sync",
    params(("device_id" = String, Path)), responses((status = 204)))]
async fn revoke_device(
    State(app): State<App>,
    actor: Actor,
    AppPath(device_id): AppPath<String>,
) -> Result<StatusCode, AppError> {
    super::revoke_device(&app, &actor.user_id, &device_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The servers and peers this instance syncs with, and how each is doing.
#[utoipa::path(get, path = "/api/v1/sync/peers", tag = "sync",
    responses((status = 200, body = Vec<PeerView>)))]
async fn list_peers(State(app): State<App>) -> Result<Json<Vec<PeerView>>, AppError> {
    Ok(Json(super::client::peers(&app).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct PeerBody {
    /// The server's address, like `http://192.168.1.20:7420`.
    pub url: String,
    pub email: String,
    pub password: String,
    #[serde(default)]
    pub device_name: Option<String>,
}

/// Pairs this instance with a server (or another desktop) and starts syncing with it.
#[utoipa::path(post, path = "/api/v1/sync/peers", tag = "sync", request_body = PeerBody,
    responses((status = 201, body = PeerView)))]
async fn add_peer(
    State(app): State<App>,
    AppJson(b): AppJson<PeerBody>,
) -> Result<(StatusCode, Json<PeerView>), AppError> {
    let name = b.device_name.unwrap_or_else(super::default_device_name);
    let p = super::client::pair(&app, &b.url, &b.email, &b.password, &name).await?;
    super::client::start(&app, &p.id, &p.url, &p.user_id, &p.device_id);
    Ok((StatusCode::CREATED, Json(p)))
}

/// Merge conflicts that sync resolved by rule in this workspace (an issue number taken
/// twice offline: the later issue moved to the next free number), newest first.
#[utoipa::path(get, path = "/api/v1/workspaces/{slug}/sync/conflicts", tag = "sync",
    params(("slug" = String, Path)), responses((status = 200, body = Vec<ConflictView>)))]
async fn list_conflicts(State(app): State<App>, w: WsCtx) -> Result<Json<Vec<ConflictView>>, AppError> {
    Ok(Json(super::conflicts(&app, &w.ws.id).await?))
}

/// The sync WebSocket. Authenticated by a device token (`Authorization: Bearer keel_dev_…`);
/// a browser page of another origin is refused. Speaks the protocol of `sync::session`.
#[utoipa::path(get, path = "/api/v1/sync", tag = "sync", security(()),
    responses((status = 101, description = "switching to the sync protocol")))]
async fn sync_socket(
    State(app): State<App>,
    headers: HeaderMap,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Result<Response, AppError> {
    if let Some(origin) = headers.get(header::ORIGIN) {
        let o = origin.to_str().unwrap_or("");
        if !app.config.cors_origins.iter().any(|c| c == o) {
            return Err(AppError::denied(
                "origin_not_allowed",
                "sync does not answer pages of another origin",
            ));
        }
    }
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(s, _)| s.eq_ignore_ascii_case("bearer"))
        .map(|(_, t)| t.trim().to_string())
        .ok_or(AppError::Unauthenticated)?;
    let (device_id, user_id) = super::authenticate_device(&app, &token).await?;
    if app.sync.device_connections(&device_id) >= super::MAX_DEVICE_CONNECTIONS {
        return Err(too_many_connections());
    }
    let ws =
        ws.map_err(|_| AppError::refused_status(426, "upgrade_required", "the sync endpoint speaks WebSocket only"))?;
    Ok(ws
        .max_message_size(wire::MAX_FRAME)
        .max_frame_size(wire::MAX_FRAME)
        .on_upgrade(move |socket| serve_device(app, socket, device_id, user_id)))
}

fn too_many_connections() -> AppError {
    AppError::refused_status(
        429,
        "too_many_connections",
        format!(
            "this device has {} sync connections open already; close one first",
            super::MAX_DEVICE_CONNECTIONS
        ),
    )
}

async fn serve_device(app: App, socket: WebSocket, device_id: String, user_id: String) {
    let (mut sink, mut stream) = socket.split();
    let (in_tx, in_rx) = mpsc::channel::<Vec<u8>>(64);
    let (out_tx, mut out_rx) = mpsc::channel::<Vec<u8>>(64);
    let reader = tokio::spawn(async move {
        while let Some(Ok(m)) = stream.next().await {
            let frame = match m {
                Message::Binary(b) => b.to_vec(),
                // Text is no frame of ours: pass it on so the session reports it.
                Message::Text(t) => t.as_bytes().to_vec(),
                Message::Close(_) => break,
                _ => continue,
            };
            if in_tx.send(frame).await.is_err() {
                break;
            }
        }
    });
    let writer = tokio::spawn(async move {
        while let Some(b) = out_rx.recv().await {
            if sink.send(Message::Binary(b.into())).await.is_err() {
                break;
            }
        }
        let _ = sink.close().await;
    });
    let conn = app.sync.next_conn_id();
    let Some(cut) = app.sync.register_device(&device_id, conn) else {
        // Two connections raced past the check before the upgrade.
        let e = too_many_connections();
        let frame = wire::Frame::Error(wire::ErrorMsg {
            code: e.status_and_code().1.into(),
            message: e.to_string(),
            doc_id: None,
            reset: false,
        });
        let _ = out_tx.send(frame.encode()).await;
        drop(out_tx);
        reader.abort();
        let _ = writer.await;
        return;
    };
    let end = session::run(
        app.clone(),
        Remote::Device {
            user_id: user_id.clone(),
            device_id: device_id.clone(),
        },
        "",
        None,
        Link {
            inbound: in_rx,
            outbound: out_tx,
        },
        cut,
    )
    .await;
    app.sync.unregister_device(&device_id, conn);
    tracing::info!(device = %device_id, user = %user_id, end = ?end, "sync: device disconnected");
    reader.abort();
    let _ = writer.await;
}
