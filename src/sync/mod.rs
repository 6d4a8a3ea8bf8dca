//! Sync between instances: devices pair with a server (or another desktop), then one
//! WebSocket per connection carries the yrs updates of every document the device's user
//! may read, both ways (DESIGN §4).
//!
//! - `wire`: the frames and their bounded decoder.
//! - `session`: the protocol, the same on both ends: hello with versions, manifests of
//!   state vectors, the missing updates pushed both ways, then live updates.
//! - this file: who may read and write which document, the checks a remote update passes
//!   before it is kept, and the hub that hands committed updates to connections.
//! - `client`: pairing and the outgoing connection with backoff; `routes`: the HTTP side.

pub mod client;
pub mod routes;
pub mod session;
pub(crate) mod store;
pub mod wire;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use rusqlite::Connection;
use tokio::sync::{broadcast, watch};

use crate::db::Published;
use crate::docs::{DocKind, DocRef};
use crate::error::AppError;
use crate::policy::{ProjRole, WsRole};
use crate::App;

/// Who is at the other end of a connection.
#[derive(Debug, Clone)]
pub enum Remote {
    /// A device of `user_id` that connected to us: it reads and writes what that user may.
    Device { user_id: String, device_id: String },
    /// A server or peer this instance connected to with its device token: trusted, since
    /// it decides what we receive; our updates are checked there.
    Upstream { peer_id: String },
}

/// What a connection may do with one document.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Access {
    pub read: bool,
    pub write: bool,
}

/// Names the document `id` of workspace `ws` from its id alone; `None` for ids that are
/// no Keel document (a hostile peer's).
pub fn doc_ref(id: &str, ws: &str) -> Option<DocRef> {
    DocRef::parse(id, ws)
}

/// What `user` may do with document `d`, from their roles now. A project document that
/// does not exist yet may be written by a workspace member (it is a project they are
/// creating); the check after applying makes sure they made themselves its admin.
pub fn device_access(c: &Connection, user: &str, d: &DocRef) -> rusqlite::Result<Access> {
    let Some(ws_role) = crate::workspaces::role_of(c, &d.workspace_id, user)? else {
        return Ok(Access::default());
    };
    let scope = crate::docs::rules::Scope::of(d);
    let (project, owner) = (scope.project.as_deref(), scope.owner.as_deref());
    let proj_role = match project {
        Some(p) => crate::work::project_for_user(c, &d.workspace_id, p, user)?.map(|(_, r)| r),
        None => None,
    };
    Ok(match d.kind {
        // Guests get no workspace document: it holds invitations and their emails.
        DocKind::Workspace => Access {
            read: ws_role >= WsRole::Member,
            write: ws_role >= WsRole::Admin,
        },
        DocKind::Project => match proj_role {
            Some(r) => Access {
                read: true,
                write: r >= ProjRole::Member,
            },
            None => Access {
                read: false,
                write: ws_role >= WsRole::Member && !store::project_known(c, project.unwrap_or_default())?,
            },
        },
        DocKind::Worklogs => match proj_role {
            Some(r) if r >= ProjRole::Member => Access {
                read: true,
                write: owner == Some(user) || r >= ProjRole::Admin,
            },
            _ => Access::default(),
        },
        DocKind::User => {
            let mine = owner == Some(user);
            Access {
                read: mine,
                write: mine,
            }
        }
        DocKind::Staff => Access {
            read: ws_role >= WsRole::Admin,
            write: ws_role >= WsRole::Admin,
        },
        // Shared dashboards are members' to read and admins' to arrange; a person's own
        // are theirs alone.
        DocKind::Dashboards => match owner {
            None => Access {
                read: ws_role >= WsRole::Member,
                write: ws_role >= WsRole::Admin,
            },
            Some(o) => {
                let mine = o == user && ws_role >= WsRole::Member;
                Access {
                    read: mine,
                    write: mine,
                }
            }
        },
    })
}

/// Connections one device may hold open at once: one is normal, a few cover a reconnect
/// racing the old connection's end; more is a runaway or hostile client.
pub const MAX_DEVICE_CONNECTIONS: usize = 4;

/// Device tokens start with this, so a leaked one is recognisable.
pub const DEVICE_PREFIX: &str = "keel_dev_";

/// Checks a user's credentials and issues a device token bound to the user and a new device.
pub async fn pair_device(app: &App, email: &str, password: String, name: &str) -> Result<client::Paired, AppError> {
    let user = crate::auth::Auth(app).verify_credentials(email, password).await?;
    let token = crate::auth::random_token(DEVICE_PREFIX);
    let hash = crate::auth::sha256_hex(&token);
    let (id, uid, name) = (crate::new_id(), user.id.clone(), name.to_string());
    let device_id = id.clone();
    app.writer
        .write(move |ctx| Ok(store::create_device(ctx.conn, &id, &uid, &name, &hash)?))
        .await?;
    Ok(client::Paired { device_id, token, user })
}

/// The device and user of a live device token.
pub async fn authenticate_device(app: &App, token: &str) -> Result<(String, String), AppError> {
    if !token.starts_with(DEVICE_PREFIX) || token.len() > 200 {
        return Err(AppError::InvalidToken);
    }
    let hash = crate::auth::sha256_hex(token);
    let found = app.readers.read(move |c| Ok(store::device_by_token(c, &hash)?)).await?;
    let (device, user) = found.ok_or(AppError::InvalidToken)?;
    let d = device.clone();
    app.writer
        .write(move |ctx| Ok(store::touch_device(ctx.conn, &d)?))
        .await?;
    Ok((device, user))
}

pub async fn devices(app: &App, user: &str) -> Result<Vec<store::DeviceView>, AppError> {
    let u = user.to_string();
    app.readers.read(move |c| Ok(store::devices(c, &u)?)).await
}

/// Revokes a device of `user` and cuts its live connections.
pub async fn revoke_device(app: &App, user: &str, device_id: &str) -> Result<(), AppError> {
    let (u, d) = (user.to_string(), device_id.to_string());
    let done = app
        .writer
        .write(move |ctx| Ok(store::revoke_device(ctx.conn, &u, &d)?))
        .await?;
    if !done {
        return Err(AppError::not_found("device"));
    }
    app.sync.cut_device(device_id);
    Ok(())
}

/// Revokes every device of `user` inside a writer job (a password change or reset); the
/// caller cuts their connections after the commit (`Hub::cut_device`). Answers their ids.
pub fn revoke_all_devices(c: &Connection, user: &str) -> rusqlite::Result<Vec<String>> {
    store::revoke_devices_of(c, user)
}

/// Whether this instance syncs workspace `ws` from a server it connects to: the rules
/// that the side which sees every device's changes keeps (the manager rule) run there.
pub fn has_upstream(c: &Connection, ws: &str) -> rusqlite::Result<bool> {
    store::has_upstream(c, ws)
}

pub async fn conflicts(app: &App, ws: &str) -> Result<Vec<store::ConflictView>, AppError> {
    let w = ws.to_string();
    app.readers.read(move |c| Ok(store::conflicts(c, &w)?)).await
}

/// This machine's name, for the device list of the server it pairs with.
pub fn default_device_name() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.trim().is_empty())
        .map_or_else(|| "Keel device".to_string(), |h| h.chars().take(100).collect())
}

/// One fuzz input: the bytes a peer could send. A leading 0 feeds the rest straight to update
/// application (for each kind of document); anything else is decoded as a frame, and an
/// update frame's payload is then applied like a peer's. Never panics, whatever the input.
pub fn fuzz_one(data: &[u8]) {
    use crate::docs::{check_update, DocKind};
    match data.split_first() {
        Some((0, rest)) => {
            for kind in DocKind::ALL {
                let _ = check_update(kind, rest);
            }
        }
        _ => {
            if let Ok(wire::Frame::Update {
                doc_id,
                workspace_id,
                update,
                ..
            }) = wire::Frame::decode(data)
            {
                let kind = doc_ref(&doc_id, &workspace_id).map_or(DocKind::Project, |d| d.kind);
                let _ = check_update(kind, &update);
            }
        }
    }
}

/// Status of a peer this instance connects to, for the API.
#[derive(Debug, Clone, Default, serde::Serialize, utoipa::ToSchema)]
pub struct PeerLive {
    pub connected: bool,
    pub last_error: Option<String>,
    /// From connecting to having sent and taken everything missing, on the last sync.
    pub last_sync_ms: Option<u64>,
    /// Bytes of frames received and sent on the current (or last) connection.
    pub bytes_received: u64,
    pub bytes_sent: u64,
}

/// A live connection of a device and the switch that ends it.
type Cut = (u64, watch::Sender<bool>);

/// Hands committed updates to the live connections, and holds what they share: connection
/// ids, the connections of each device (so revoking one cuts it at once) and peer status.
pub struct Hub {
    tx: broadcast::Sender<Arc<Published>>,
    closing: watch::Sender<bool>,
    next_conn: AtomicU64,
    devices: Mutex<HashMap<String, Vec<Cut>>>,
    pub peers: Mutex<HashMap<String, PeerLive>>,
}

impl Default for Hub {
    fn default() -> Self {
        let (tx, _) = broadcast::channel(4096);
        Self {
            tx,
            closing: watch::channel(false).0,
            next_conn: AtomicU64::new(1),
            devices: Mutex::default(),
            peers: Mutex::default(),
        }
    }
}

impl Hub {
    pub fn publish(&self, batch: Vec<Published>) {
        for p in batch {
            // No receiver is fine: nobody is connected.
            let _ = self.tx.send(Arc::new(p));
        }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Published>> {
        self.tx.subscribe()
    }

    /// Turns true when the server shuts down: every connection ends.
    pub fn closing(&self) -> watch::Receiver<bool> {
        self.closing.subscribe()
    }

    pub fn shutdown(&self) {
        let _ = self.closing.send(true);
    }

    pub fn next_conn_id(&self) -> u64 {
        self.next_conn.fetch_add(1, Ordering::Relaxed)
    }

    /// Registers a device's connection; the receiver turns true when the device is revoked.
    /// `None` when the device has `MAX_DEVICE_CONNECTIONS` open already.
    pub fn register_device(&self, device_id: &str, conn: u64) -> Option<watch::Receiver<bool>> {
        let (tx, rx) = watch::channel(false);
        let mut m = self.devices.lock().ok()?;
        let open = m.entry(device_id.to_string()).or_default();
        if open.len() >= MAX_DEVICE_CONNECTIONS {
            return None;
        }
        open.push((conn, tx));
        Some(rx)
    }

    /// How many connections a device has open.
    pub fn device_connections(&self, device_id: &str) -> usize {
        self.devices
            .lock()
            .map(|m| m.get(device_id).map_or(0, Vec::len))
            .unwrap_or(0)
    }

    pub fn unregister_device(&self, device_id: &str, conn: u64) {
        if let Ok(mut m) = self.devices.lock() {
            if let Some(v) = m.get_mut(device_id) {
                v.retain(|(c, _)| *c != conn);
                if v.is_empty() {
                    m.remove(device_id);
                }
            }
        }
    }

    /// Cuts every live connection of a device.
    pub fn cut_device(&self, device_id: &str) {
        if let Ok(m) = self.devices.lock() {
            for (_, tx) in m.get(device_id).into_iter().flatten() {
                let _ = tx.send(true);
            }
        }
    }

    pub fn set_peer(&self, peer_id: &str, f: impl FnOnce(&mut PeerLive)) {
        if let Ok(mut m) = self.peers.lock() {
            f(m.entry(peer_id.to_string()).or_default());
        }
    }

    pub fn peer(&self, peer_id: &str) -> PeerLive {
        self.peers
            .lock()
            .ok()
            .and_then(|m| m.get(peer_id).cloned())
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fuzz corpus and every crash input found so far, run as regression tests.
    #[test]
    fn fuzz_corpus_and_crash_inputs_run_clean() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
        let mut n = 0;
        // Crash inputs run many times: an update meets a fresh document with a random client
        // id, and some crashed only when that id fell in a range the update names.
        for (dir, times) in [("corpus/sync_frames", 1), ("regressions/sync_frames", 500)] {
            let Ok(entries) = std::fs::read_dir(root.join(dir)) else {
                continue;
            };
            for e in entries.flatten() {
                if let Ok(data) = std::fs::read(e.path()) {
                    for _ in 0..times {
                        fuzz_one(&data);
                    }
                    n += 1;
                }
            }
        }
        assert!(n > 0, "no fuzz corpus under {}", root.display());
    }

    #[test]
    fn an_update_listing_a_client_twice_is_refused_before_yrs_integrates_it() {
        // The input that made yrs 0.28 follow a freed block (SIGSEGV) on some client ids.
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/regressions/sync_frames");
        let data = std::fs::read(root.join("crash-446f02db")).unwrap_or_default();
        assert_eq!(data.first(), Some(&0), "a raw update input");
        for kind in DocKind::ALL {
            let e = crate::docs::check_update(kind, &data[1..]).map(|_| ()).unwrap_err();
            assert!(e.to_string().contains("overlap"), "{e}");
        }
    }

    #[test]
    fn an_update_whose_clocks_wrap_is_refused_before_yrs_integrates_it() {
        // yrs 0.28 adds block lengths with wrapping arithmetic in a release build: a client's
        // blocks past u32::MAX overlap its first ones (the segfault of crash-582c689f…).
        let varint = |mut n: u64| {
            let mut v = Vec::new();
            loop {
                let b = (n & 0x7f) as u8;
                n >>= 7;
                if n == 0 {
                    v.push(b);
                    return v;
                }
                v.push(b | 0x80);
            }
        };
        // One client, two deleted-content items under root "a": u32::MAX long, then one more.
        let mut blocks = vec![1, 2, 1, 1];
        for len in [u64::from(u32::MAX), 1] {
            blocks.extend([0x01, 1, 1, b'a']);
            blocks.extend(varint(len));
        }
        blocks.push(0);
        // No blocks; a delete range that runs past u32::MAX.
        let mut deletes = vec![0, 1, 1, 1];
        deletes.extend(varint(u64::from(u32::MAX) - 4));
        deletes.extend(varint(16));
        for (data, why) in [(&blocks, "past the last clock"), (&deletes, "deletes past")] {
            for kind in DocKind::ALL {
                let e = crate::docs::check_update(kind, data).map(|_| ()).unwrap_err();
                assert!(e.to_string().contains(why), "{e}");
            }
        }
        // The input the fuzzer found lists clients 0 and 1 twice besides.
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/regressions/sync_frames");
        let data = std::fs::read(root.join("crash-582c689f89ecef3cfce112ef2dac45b2179b65ec")).unwrap_or_default();
        assert_eq!(data.first(), Some(&0), "a raw update input");
        let e = crate::docs::check_update(DocKind::Project, &data[1..])
            .map(|_| ())
            .unwrap_err();
        assert!(e.to_string().contains("twice"), "{e}");
    }

    #[test]
    fn document_ids_are_parsed_strictly() {
        let w = "01a20575-63a8-7175-aa4d-82612176bc63";
        let p = "01a20575-63a9-73df-8378-2fe91debddd9";
        assert_eq!(doc_ref(&format!("ws:{w}"), w).map(|d| d.kind), Some(DocKind::Workspace));
        assert!(doc_ref(&format!("ws:{p}"), w).is_none(), "another workspace's document");
        assert_eq!(
            doc_ref(&format!("project:{p}"), w).map(|d| d.kind),
            Some(DocKind::Project)
        );
        assert_eq!(
            doc_ref(&format!("worklogs:{p}:{w}:2026Q4"), w).map(|d| d.kind),
            Some(DocKind::Worklogs)
        );
        assert!(doc_ref(&format!("worklogs:{p}:{w}:2026Q5"), w).is_none());
        assert!(
            doc_ref(&format!("worklogs:{p}:{w}:abc\u{e9}Q"), w).is_none(),
            "a multi-byte quarter"
        );
        assert_eq!(
            doc_ref(&format!("user:{w}:{p}"), w).map(|d| d.kind),
            Some(DocKind::User)
        );
        assert_eq!(doc_ref(&format!("staff:{w}"), w).map(|d| d.kind), Some(DocKind::Staff));
        assert!(doc_ref(&format!("staff:{p}"), w).is_none(), "another workspace's staff");
        assert_eq!(
            doc_ref(&format!("dashboards:{w}:shared"), w).map(|d| d.kind),
            Some(DocKind::Dashboards)
        );
        assert_eq!(
            doc_ref(&format!("dashboards:{w}:{p}"), w).map(|d| d.kind),
            Some(DocKind::Dashboards)
        );
        assert!(doc_ref(&format!("dashboards:{w}:nobody"), w).is_none());
        assert!(
            doc_ref(&format!("dashboards:{p}:shared"), w).is_none(),
            "another workspace's"
        );
        for bad in [
            "",
            "ws",
            "project:x",
            "users:1",
            "project:../../etc",
            &format!("project:{p}:extra"),
        ] {
            assert!(doc_ref(bad, w).is_none(), "{bad}");
        }
    }
}
