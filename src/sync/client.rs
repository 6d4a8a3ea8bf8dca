//! The device side: pairing with a server (or a peer desktop) and keeping one connection
//! to each paired peer, reconnecting with backoff.

use std::path::{Path, PathBuf};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, watch};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;

use super::session::{self, End, Link};
use super::{store, wire, Remote};
use crate::auth::{Auth, UserView};
use crate::error::AppError;
use crate::App;

/// What a server answers to a pairing.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Paired {
    pub device_id: String,
    /// The device token (`keel_dev_…`): shown once, stored by the device with mode 0600.
    pub token: String,
    pub user: UserView,
}

/// A peer as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PeerView {
    pub id: String,
    pub url: String,
    pub device_id: String,
    pub user_id: String,
    pub connected: bool,
    pub last_sync_at: Option<String>,
    /// Documents changed here that the peer has not acknowledged yet.
    pub pending: i64,
    pub last_error: Option<String>,
    /// How long the last connection took to catch up (connect to all sent and taken).
    pub last_sync_ms: Option<u64>,
    pub bytes_received: u64,
    pub bytes_sent: u64,
}

/// `http://host:port` with nothing after it; the sync socket is `ws://host:port/api/v1/sync`.
pub fn parse_peer_url(raw: &str) -> Result<String, String> {
    let u = raw.trim().trim_end_matches('/');
    let rest = u
        .strip_prefix("http://")
        .or_else(|| u.strip_prefix("https://"))
        .ok_or("must start with http:// or https://")?;
    if rest.is_empty() || rest.contains('/') || rest.contains('@') || rest.len() > 253 {
        return Err("must be a server address like http://192.168.1.20:7420".into());
    }
    if let Some(ip) = host_ip(rest) {
        refuse_address(ip)?;
    }
    Ok(u.to_string())
}

/// The IP address a `host[:port]` names literally, if it does.
fn host_ip(hostport: &str) -> Option<std::net::IpAddr> {
    if let Some(v6) = hostport.strip_prefix('[') {
        return v6.split(']').next()?.parse().ok();
    }
    hostport.split(':').next()?.parse().ok()
}

/// Addresses a server is never paired at: link-local (169.254/16, fe80::/10: what a
/// cloud's metadata service and a misconfigured interface answer on), unspecified
/// (0.0.0.0, ::), multicast and broadcast.
fn refuse_address(ip: std::net::IpAddr) -> Result<(), String> {
    let bad = match ip {
        std::net::IpAddr::V4(a) => a.is_link_local() || a.is_unspecified() || a.is_multicast() || a.is_broadcast(),
        std::net::IpAddr::V6(a) => a.is_unspecified() || a.is_multicast() || (a.segments()[0] & 0xffc0) == 0xfe80,
    };
    if bad {
        return Err(format!(
            "{ip} is a link-local, unspecified or multicast address; use the server's LAN address"
        ));
    }
    Ok(())
}

/// Refuses a host name that resolves to an address `refuse_address` refuses.
async fn check_resolved(url: &str) -> Result<(), AppError> {
    let hostport = url.split("://").nth(1).unwrap_or_default();
    let target = if hostport.contains(':') && !hostport.ends_with(']') {
        hostport.to_string()
    } else if url.starts_with("https://") {
        format!("{hostport}:443")
    } else {
        format!("{hostport}:80")
    };
    if let Ok(addrs) = tokio::net::lookup_host(target).await {
        for a in addrs {
            refuse_address(a.ip()).map_err(|m| AppError::field("url", m))?;
        }
    }
    Ok(())
}

fn token_path(data_dir: &Path, peer_id: &str) -> PathBuf {
    data_dir.join("sync").join(format!("{peer_id}.token"))
}

/// Stores a device token readable by this user only (0600, in a 0700 directory).
fn save_token(data_dir: &Path, peer_id: &str, token: &str) -> anyhow::Result<()> {
    let dir = data_dir.join("sync");
    std::fs::create_dir_all(&dir)?;
    let path = token_path(data_dir, peer_id);
    #[cfg(unix)]
    {
        use std::io::Write;
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700))?;
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&path)?;
        f.write_all(token.as_bytes())?;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
    }
    #[cfg(not(unix))]
    std::fs::write(&path, token)?;
    Ok(())
}

fn load_token(data_dir: &Path, peer_id: &str) -> anyhow::Result<String> {
    Ok(std::fs::read_to_string(token_path(data_dir, peer_id))?
        .trim()
        .to_string())
}

/// Pairs this instance with the server at `url` as `email`: the server issues a device
/// token, this instance takes the user's account (same id) and remembers the peer.
pub async fn pair(app: &App, url: &str, email: &str, password: &str, device_name: &str) -> Result<PeerView, AppError> {
    let url = parse_peer_url(url).map_err(|m| AppError::field("url", m))?;
    check_resolved(&url).await?;
    // A redirect could carry the credentials to an address nobody chose.
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(AppError::internal)?;
    let r = http
        .post(format!("{url}/api/v1/sync/pair"))
        .json(&serde_json::json!({"email": email, "password": password, "device_name": device_name}))
        .send()
        .await
        .map_err(|e| AppError::refused_status(502, "peer_unreachable", format!("cannot reach {url}: {e}")))?;
    let status = r.status();
    let body: serde_json::Value = r.json().await.unwrap_or_default();
    if !status.is_success() {
        let code = body["error"]["code"].as_str().unwrap_or("pairing_failed").to_string();
        let msg = body["error"]["message"]
            .as_str()
            .unwrap_or("the server refused the pairing")
            .to_string();
        let msg: String = msg.chars().take(200).collect();
        // The other server's field errors that name this request's fields.
        let fields: crate::error::FieldErrors = body["error"]["fields"]
            .as_object()
            .into_iter()
            .flatten()
            .filter(|(k, _)| ["email", "password", "device_name"].contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.as_str().unwrap_or("invalid").chars().take(200).collect()))
            .collect();
        return Err(match code.as_str() {
            // The other server's credentials, not this one's session: a field to correct
            // (a 401 here would read as "signed out" to the caller).
            "invalid_credentials" => AppError::field(
                "password",
                "That email and password do not match an account on that server",
            ),
            "validation_failed" if !fields.is_empty() => AppError::Validation(fields),
            _ => AppError::refused_status(502, "pairing_failed", format!("{url}: {code}: {msg}")),
        });
    }
    let paired: Paired = serde_json::from_value(body).map_err(|e| {
        AppError::refused_status(502, "pairing_failed", format!("{url} answered an unknown shape: {e}"))
    })?;
    Auth(app)
        .adopt_account(paired.user.clone(), password.to_string())
        .await?;
    let peer_id = crate::new_id();
    save_token(&app.config.data_dir, &peer_id, &paired.token).map_err(AppError::Internal)?;
    let (p, u, d, uid) = (
        peer_id.clone(),
        url.clone(),
        paired.device_id.clone(),
        paired.user.id.clone(),
    );
    app.writer
        .write(move |ctx| Ok(store::upsert_peer(ctx.conn, &p, &u, &d, &uid)?))
        .await?;
    peer_view(app, &peer_id)
        .await?
        .ok_or_else(|| AppError::internal("peer vanished"))
}

pub async fn peers(app: &App) -> Result<Vec<PeerView>, AppError> {
    let rows = app
        .readers
        .read(|c| {
            let rows = store::peers(c)?;
            let mut out = Vec::new();
            for r in rows {
                let pending = store::pending(c, r.acked_seq)?;
                out.push((r, pending));
            }
            Ok(out)
        })
        .await?;
    Ok(rows
        .into_iter()
        .map(|(r, pending)| {
            let live = app.sync.peer(&r.id);
            PeerView {
                connected: live.connected,
                last_error: live.last_error.clone().or(r.last_error),
                id: r.id,
                url: r.url,
                device_id: r.device_id,
                user_id: r.user_id,
                last_sync_at: r.last_sync_at,
                pending,
                last_sync_ms: live.last_sync_ms,
                bytes_received: live.bytes_received,
                bytes_sent: live.bytes_sent,
            }
        })
        .collect())
}

async fn peer_view(app: &App, id: &str) -> Result<Option<PeerView>, AppError> {
    Ok(peers(app).await?.into_iter().find(|p| p.id == id))
}

/// Starts the connection loop of every paired peer (at `serve`).
pub async fn start_all(app: &App) -> anyhow::Result<()> {
    let rows = app.readers.read(|c| Ok(store::peers(c)?)).await?;
    for r in rows {
        start(app, &r.id, &r.url, &r.user_id, &r.device_id);
    }
    Ok(())
}

/// Keeps a connection to one peer until the server shuts down: connect, run the session,
/// and after it ends wait 0.5 s, 1 s, 2 s… up to 30 s (plus jitter) before trying again;
/// a connection that synced resets the wait.
pub fn start(app: &App, peer_id: &str, url: &str, user_id: &str, device_id: &str) {
    let (app, peer_id, url, user_id, device_id) = (
        app.clone(),
        peer_id.to_string(),
        url.to_string(),
        user_id.to_string(),
        device_id.to_string(),
    );
    tokio::spawn(async move {
        let mut closing = app.sync.closing();
        let mut wait = Duration::from_millis(500);
        loop {
            if *closing.borrow() {
                return;
            }
            let end = match connect_once(&app, &peer_id, &url, &user_id, &device_id).await {
                // A revoked device stays revoked: it says so and stops trying.
                Ok(End::Revoked) => Err(REVOKED.to_string()),
                other => other,
            };
            let revoked = matches!(&end, Err(e) if e == REVOKED);
            app.sync.set_peer(&peer_id, |l| {
                l.connected = false;
                if let Err(e) = &end {
                    l.last_error = Some(e.clone());
                }
            });
            let synced = matches!(end, Ok(End::Closed | End::Shutdown));
            if let Err(e) = &end {
                tracing::info!(peer = %url, error = %e, "sync: connection ended");
                let (p, e) = (peer_id.clone(), e.clone());
                let _ = app
                    .writer
                    .write(move |ctx| Ok(store::set_peer_error(ctx.conn, &p, &e)?))
                    .await;
            }
            if revoked || matches!(end, Ok(End::Shutdown)) {
                return;
            }
            if synced {
                wait = Duration::from_millis(500);
            }
            let jitter = Duration::from_millis(u64::from(rand::random::<u8>()) * 2);
            tokio::select! {
                _ = tokio::time::sleep(wait + jitter) => {}
                _ = closing.changed() => return,
            }
            wait = (wait * 2).min(Duration::from_secs(30));
        }
    });
}

/// One connection attempt, run to its end.
async fn connect_once(app: &App, peer_id: &str, url: &str, user_id: &str, device_id: &str) -> Result<End, String> {
    let token = load_token(&app.config.data_dir, peer_id).map_err(|e| format!("device token: {e}"))?;
    let ws_url = format!(
        "{}/api/v1/sync",
        url.replacen("https://", "wss://", 1).replacen("http://", "ws://", 1)
    );
    let mut req = ws_url.into_client_request().map_err(|e| e.to_string())?;
    req.headers_mut().insert(
        "authorization",
        format!("Bearer {token}").parse().map_err(|_| "bad token".to_string())?,
    );
    let cfg = WebSocketConfig::default()
        .max_message_size(Some(wire::MAX_FRAME))
        .max_frame_size(Some(wire::MAX_FRAME));
    let socket = tokio::time::timeout(
        Duration::from_secs(10),
        tokio_tungstenite::connect_async_with_config(req, Some(cfg), false),
    )
    .await
    .map_err(|_| "connect timed out".to_string())?;
    let (socket, _) = match socket {
        Ok(s) => s,
        // Keel refuses the device token (`invalid_token`: revoked there, or the account or
        // database it was issued by is gone). Any other refusal (a proxy's login page, a
        // captive portal) is retried like a network error.
        Err(tokio_tungstenite::tungstenite::Error::Http(r)) if token_refused(r.status(), r.body().as_deref()) => {
            return Ok(End::Revoked)
        }
        Err(e) => return Err(e.to_string()),
    };
    app.sync.set_peer(peer_id, |l| l.connected = true);
    let (mut sink, mut stream) = socket.split();
    let (in_tx, in_rx) = mpsc::channel::<Vec<u8>>(64);
    let (out_tx, mut out_rx) = mpsc::channel::<Vec<u8>>(64);
    let reader = tokio::spawn(async move {
        while let Some(Ok(m)) = stream.next().await {
            let frame = match m {
                Message::Binary(b) => b.to_vec(),
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
    // Nobody revokes our own outgoing connection: the sender just stays alive.
    let (cut_tx, cut) = watch::channel(false);
    let end = session::run(
        app.clone(),
        Remote::Upstream {
            peer_id: peer_id.to_string(),
        },
        user_id,
        Some(device_id),
        Link {
            inbound: in_rx,
            outbound: out_tx,
        },
        cut,
    )
    .await;
    drop(cut_tx);
    reader.abort();
    let _ = writer.await;
    match end {
        End::Failed(m) if m.starts_with("device_revoked:") => Ok(End::Revoked),
        End::Failed(m) => Err(m),
        other => Ok(other),
    }
}

/// Whether an answer to the sync upgrade is Keel refusing the device token.
fn token_refused(status: reqwest::StatusCode, body: Option<&[u8]>) -> bool {
    status == reqwest::StatusCode::UNAUTHORIZED
        && body
            .and_then(|b| serde_json::from_slice::<serde_json::Value>(b).ok())
            .is_some_and(|v| v["error"]["code"] == "invalid_token")
}

/// A peer's error once the server stopped accepting this device.
const REVOKED: &str =
    "device_revoked: the server no longer accepts this device (revoked there); connect to it again to resume syncing";

#[cfg(test)]
mod tests {
    use super::token_refused;
    use reqwest::StatusCode;

    #[test]
    fn only_keels_invalid_token_answer_means_the_device_is_no_longer_accepted() {
        let keel = br#"{"error":{"code":"invalid_token","message":"the token is invalid or expired","fields":{}}}"#;
        assert!(token_refused(StatusCode::UNAUTHORIZED, Some(keel)));
        // A proxy's or portal's login, another code, another status, no body: retried.
        assert!(!token_refused(StatusCode::UNAUTHORIZED, Some(b"<html>Sign in</html>")));
        let other = br#"{"error":{"code":"unauthenticated","message":"","fields":{}}}"#;
        assert!(!token_refused(StatusCode::UNAUTHORIZED, Some(other)));
        assert!(!token_refused(StatusCode::FORBIDDEN, Some(keel)));
        assert!(!token_refused(StatusCode::UNAUTHORIZED, None));
    }
}

#[cfg(test)]
mod address_tests {
    use super::*;

    #[test]
    fn peer_addresses_that_are_link_local_unspecified_or_multicast_are_refused() {
        for bad in [
            "http://169.254.169.254",
            "http://169.254.1.2:7420",
            "http://0.0.0.0:7420",
            "http://[::]:7420",
            "http://[fe80::1]:7420",
            "http://224.0.0.1",
            "http://255.255.255.255",
            "ftp://10.0.0.1",
            "http://10.0.0.1/path",
            "http://user@10.0.0.1",
        ] {
            assert!(parse_peer_url(bad).is_err(), "{bad}");
        }
        for good in [
            "http://192.168.1.20:7420",
            "http://127.0.0.1:7420/",
            "https://keel.example.com",
            "http://[::1]:7420",
        ] {
            assert!(parse_peer_url(good).is_ok(), "{good}");
        }
    }
}
