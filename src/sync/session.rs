//! One sync connection, the same protocol on both ends.
//!
//! 1. Each side sends `Hello`; a different protocol or yrs version ends the connection
//!    with a `version_mismatch` error that names both versions.
//! 2. Each side sends a `Manifest`: the state vector of every document the other side may
//!    read (from `documents.state_vector`, without loading documents).
//! 3. On the other's manifest, each side pushes what the other lacks: for a document whose
//!    state vector is behind ours, the diff; for one missing there, the whole state. Then
//!    `Done`. Only documents that differ cost anything.
//! 4. Live: every update committed here (by the API or another connection) that the other
//!    side may read is sent; every update received goes through the one write path.
//!    A device's update is checked by its records' rules (`docs::rules`); a refused one is not
//!    applied, stored or relayed, and the device gets `update_rejected` with `reset`,
//!    followed by our state of that document, which it takes in place of its own.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{broadcast, mpsc, watch};
use yrs::updates::decoder::Decode;
use yrs::StateVector;

use super::wire::{DocEntry, Done, ErrorMsg, Frame, Hello, Manifest, Since, PROTOCOL, YRS_VERSION};
use super::{doc_ref, store, Access, Remote};
use crate::db::Published;
use crate::docs::{CheckedUpdate, DocKind, DocRef, Who};
use crate::error::AppError;
use crate::App;

/// Documents a manifest may list: more is refused as hostile.
pub const MAX_MANIFEST: usize = 200_000;
/// Manifests one connection may send: a peer sends one, and one more each time it falls
/// behind; a stream of them (each costs a pass over every document) ends the connection.
pub const MAX_MANIFESTS: usize = 32;
/// At most this many of the server's updates, or bytes of them, are decoded and queued on
/// the writer and not yet answered (a device's first sync is a thousand documents; the
/// writer folds those waiting into one transaction).
const INFLIGHT: usize = 256;
const INFLIGHT_BYTES: usize = 16 * 1024 * 1024;
/// How long a peer has to say hello.
const HELLO_TIMEOUT: Duration = Duration::from_secs(10);

/// The two directions of a connection, as whole frames.
pub struct Link {
    pub inbound: mpsc::Receiver<Vec<u8>>,
    pub outbound: mpsc::Sender<Vec<u8>>,
}

/// How a connection ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum End {
    /// The other side went away.
    Closed,
    /// This side is shutting down.
    Shutdown,
    /// The device was revoked.
    Revoked,
    /// The other side broke the protocol or refused us; the text says how.
    Failed(String),
}

struct Session {
    app: App,
    remote: Remote,
    conn: u64,
    out: mpsc::Sender<Vec<u8>>,
    access: HashMap<String, Access>,
    /// Our pushes not yet acknowledged, and whether the other side's `Done` came.
    unacked: usize,
    done: bool,
    /// Our sequence when the connection started: the other side holds all of it once the
    /// sync completes.
    start_seq: i64,
    /// Our manifests list only documents changed after this sequence (0: all of them).
    since: i64,
    /// The documents our last manifest listed, with their workspaces.
    sent: HashMap<String, String>,
    /// Manifests the other side sent on this connection.
    manifests: usize,
    /// For the server we sync from: whether each workspace seen is shared with it.
    shared: HashMap<String, bool>,
    /// The other side's instance, and its sequence its `Done` vouched for.
    remote_instance: String,
    remote_seq: i64,
    started: std::time::Instant,
    synced_once: bool,
    bytes_in: std::sync::atomic::AtomicU64,
    bytes_out: std::sync::atomic::AtomicU64,
}

fn fail(m: impl Into<String>) -> End {
    End::Failed(m.into())
}

/// Runs one connection until it ends. `me` is our user id (for the hello), `cut` turns
/// true when the connection must end (device revoked, server shutting down).
pub async fn run(
    app: App,
    remote: Remote,
    me: &str,
    device: Option<&str>,
    mut link: Link,
    mut cut: watch::Receiver<bool>,
) -> End {
    let conn = app.sync.next_conn_id();
    // Subscribe before reading the manifest so no commit falls between the two.
    let mut live = app.sync.subscribe();
    let mut closing = app.sync.closing();
    let mut s = Session {
        app: app.clone(),
        remote,
        conn,
        out: link.outbound.clone(),
        access: HashMap::new(),
        unacked: 0,
        done: false,
        start_seq: 0,
        since: 0,
        sent: HashMap::new(),
        manifests: 0,
        shared: HashMap::new(),
        remote_instance: String::new(),
        remote_seq: 0,
        started: std::time::Instant::now(),
        synced_once: false,
        bytes_in: Default::default(),
        bytes_out: Default::default(),
    };
    let peer_id = match &s.remote {
        Remote::Upstream { peer_id } => Some(peer_id.clone()),
        Remote::Device { .. } => None,
    };
    let ours = s
        .app
        .readers
        .read(move |c| {
            let peer = match &peer_id {
                Some(id) => store::peer(c, id)?,
                None => None,
            };
            Ok((store::instance_id(c)?, store::max_seq(c)?, peer))
        })
        .await;
    let (instance, start_seq, peer) = match ours {
        Ok(v) => v,
        Err(e) => return s.refuse("internal", &e.to_string()).await,
    };
    s.start_seq = start_seq;
    // What we hold of the other side, if we synced with it completely before.
    let claim = peer.as_ref().and_then(|p| {
        let instance = p.remote_instance.clone().filter(|_| p.remote_seq > 0)?;
        Some(Since {
            instance,
            seq: p.remote_seq,
        })
    });
    if s.send(Frame::Hello(Hello::ours(me, device, &instance, start_seq, claim)))
        .await
        .is_err()
    {
        return End::Closed;
    }
    let hello = match tokio::time::timeout(HELLO_TIMEOUT, link.inbound.recv()).await {
        Err(_) => return s.refuse("timeout", "no hello within 10 s").await,
        Ok(None) => return End::Closed,
        Ok(Some(b)) => b,
    };
    let theirs = match Frame::decode(&hello) {
        Ok(Frame::Hello(h)) if h.protocol == PROTOCOL && h.yrs == YRS_VERSION => h,
        Ok(Frame::Hello(h)) => {
            let m = format!(
                "version mismatch: this side speaks Keel sync {PROTOCOL} with yrs {YRS_VERSION}, the other {} with yrs {}",
                h.protocol, h.yrs
            );
            return s.refuse("version_mismatch", &m).await;
        }
        Ok(Frame::Error(e)) => return fail(format!("{}: {}", e.code, e.message)),
        Ok(_) => return s.refuse("bad_frame", "the first message must be hello").await,
        Err(e) => return s.refuse("bad_frame", &e.0).await,
    };
    s.remote_instance = theirs.instance.chars().take(64).collect();
    s.since = catch_up_since(&s.remote, &instance, start_seq, &theirs, peer.as_ref());
    // The serving side opens with its manifest; a device answers it with its own.
    if matches!(s.remote, Remote::Device { .. }) {
        match s.manifest().await {
            Ok(m) => {
                if s.send(Frame::Manifest(m)).await.is_err() {
                    return End::Closed;
                }
            }
            Err(e) => return s.refuse("internal", &e.to_string()).await,
        }
    }
    // A device pipelines the server's updates: each is checked on a blocking thread (not
    // the writer's) and queued while the writer applies the ones before, and the writer
    // folds those waiting into one transaction; answers go out in order. Any other frame
    // waits until every update before it is answered. Only on the device side, whose access
    // to its server's documents is whole: a server decides each device update's access
    // after the one before it, so it takes them one at a time.
    let mut inflight: VecDeque<Pending> = VecDeque::new();
    let mut inflight_bytes = 0usize;
    let mut held: Option<Frame> = None;
    loop {
        if inflight.is_empty() {
            if let Some(f) = held.take() {
                if let Err(end) = s.handle(f).await {
                    return end;
                }
            }
        }
        let reading = held.is_none() && inflight.len() < INFLIGHT && inflight_bytes < INFLIGHT_BYTES;
        tokio::select! {
            r = cut.changed() => {
                if r.is_err() || *cut.borrow() {
                    let _ = s.send(Frame::Error(ErrorMsg { code: "device_revoked".into(), message: "this device was revoked".into(), doc_id: None, reset: false })).await;
                    return End::Revoked;
                }
            }
            _ = closing.changed() => return End::Shutdown,
            f = link.inbound.recv(), if reading => {
                let Some(bytes) = f else { return End::Closed };
                s.bytes_in.fetch_add(bytes.len() as u64, std::sync::atomic::Ordering::Relaxed);
                let frame = match Frame::decode(&bytes) {
                    Ok(f) => f,
                    Err(e) => return s.refuse("bad_frame", &e.0).await,
                };
                match frame {
                    Frame::Update { doc_id, workspace_id, seq, update } if matches!(s.remote, Remote::Upstream { .. }) => {
                        match s.queue_update(&doc_id, &workspace_id, seq, update).await {
                            Ok(Some(p)) => {
                                inflight_bytes += p.size;
                                inflight.push_back(p);
                            }
                            Ok(None) => {}
                            Err(end) => return end,
                        }
                    }
                    f if inflight.is_empty() => {
                        if let Err(end) = s.handle(f).await {
                            return end;
                        }
                    }
                    f => held = Some(f),
                }
            }
            (p, r) = next_answer(&mut inflight), if !inflight.is_empty() => {
                inflight_bytes -= p.size;
                if let Err(end) = s.applied(&p.d, Access { read: true, write: true }, p.seq, r).await {
                    return end;
                }
            }
            p = live.recv() => match p {
                Ok(p) => if let Err(end) = s.forward(&p).await { return end },
                // Fell behind the hub: a fresh manifest makes the other side catch up.
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    let r = match s.remote {
                        Remote::Device { .. } => match s.manifest().await {
                            Ok(m) => s.send(Frame::Manifest(m)).await,
                            Err(e) => return s.refuse("internal", &e.to_string()).await,
                        },
                        Remote::Upstream { .. } => {
                            let listed: Vec<(String, String)> = s.sent.iter().map(|(a, b)| (a.clone(), b.clone())).collect();
                            s.answer_manifest(listed).await
                        }
                    };
                    if let Err(end) = r { return end }
                }
                Err(broadcast::error::RecvError::Closed) => return End::Shutdown,
            },
        }
    }
}

/// The writer's answer to a queued update: whether it changed the document.
type Answer = std::pin::Pin<Box<dyn std::future::Future<Output = Result<bool, AppError>> + Send>>;

/// An update from the server queued on the writer and not yet answered.
struct Pending {
    d: DocRef,
    seq: u64,
    size: usize,
    job: Answer,
}

/// `docs::verify_update` on a blocking thread: off the async workers and the writer.
async fn checked(update: Vec<u8>) -> Result<Result<CheckedUpdate, AppError>, End> {
    tokio::task::spawn_blocking(move || crate::docs::verify_update(update))
        .await
        .map_err(|e| fail(format!("checking an update: {e}")))
}

/// The oldest pending update, once the writer has answered it.
fn next_answer(q: &mut VecDeque<Pending>) -> impl std::future::Future<Output = (Pending, Result<bool, AppError>)> + '_ {
    std::future::poll_fn(move |cx| {
        let Some(front) = q.front_mut() else {
            return std::task::Poll::Pending;
        };
        let r = std::task::ready!(front.job.as_mut().poll(cx));
        match q.pop_front() {
            Some(p) => std::task::Poll::Ready((p, r)),
            None => std::task::Poll::Pending,
        }
    })
}

impl Session {
    async fn send(&self, f: Frame) -> Result<(), End> {
        let b = f.encode();
        self.bytes_out
            .fetch_add(b.len() as u64, std::sync::atomic::Ordering::Relaxed);
        self.out.send(b).await.map_err(|_| End::Closed)
    }

    async fn refuse(&self, code: &str, message: &str) -> End {
        let _ = self
            .send(Frame::Error(ErrorMsg {
                code: code.into(),
                message: message.into(),
                doc_id: None,
                reset: false,
            }))
            .await;
        fail(format!("{code}: {message}"))
    }

    fn device_user(&self) -> Option<String> {
        match &self.remote {
            Remote::Device { user_id, .. } => Some(user_id.clone()),
            Remote::Upstream { .. } => None,
        }
    }

    /// What the other side may do with `d` (cached until a workspace or project changes).
    async fn access(&mut self, d: &DocRef) -> Result<Access, End> {
        if let Some(a) = self.access.get(&d.id) {
            return Ok(*a);
        }
        let user = match &self.remote {
            Remote::Device { user_id, .. } => user_id.clone(),
            Remote::Upstream { peer_id } => {
                // The server we sync from is trusted with the workspaces it shares with us,
                // and with new ones it brings (recorded as shared when first applied): never
                // with one made here, or from elsewhere. Decided once per workspace.
                if let Some(open) = self.shared.get(&d.workspace_id) {
                    return Ok(Access {
                        read: *open,
                        write: *open,
                    });
                }
                let (p, ws) = (peer_id.clone(), d.workspace_id.clone());
                let scope = self
                    .app
                    .readers
                    .read(move |c| Ok(store::peer_scope(c, &p, &ws)?))
                    .await
                    .map_err(|e| fail(e.to_string()))?;
                let open = scope != Some(false);
                self.shared.insert(d.workspace_id.clone(), open);
                return Ok(Access {
                    read: open,
                    write: open,
                });
            }
        };
        let d2 = d.clone();
        let a = self
            .app
            .readers
            .read(move |c| {
                // A document stored here under another workspace is not this one.
                if let Some(ws) = store::document_workspace(c, &d2.id)? {
                    if ws != d2.workspace_id {
                        return Ok(Access::default());
                    }
                }
                Ok(super::device_access(c, &user, &d2)?)
            })
            .await
            .map_err(|e| fail(e.to_string()))?;
        self.access.insert(d.id.clone(), a);
        Ok(a)
    }

    /// Our documents the other side may read, with their state vectors: those changed
    /// after `since` (all of them when it is 0).
    async fn manifest(&mut self) -> Result<Manifest, AppError> {
        let user = self.device_user();
        let peer = match &self.remote {
            Remote::Upstream { peer_id } => Some(peer_id.clone()),
            Remote::Device { .. } => None,
        };
        let since = self.since;
        let rows = self
            .app
            .readers
            .read(move |c| {
                let mut rows = match (&user, &peer) {
                    (None, Some(p)) => store::documents_for_peer(c, p)?,
                    _ => store::documents(c, user.as_deref())?,
                };
                // What a device may read also follows its roles, kept in the workspace and
                // project documents: when one of those changed, so may have its access to
                // every document under it, changed or not.
                retain_changed(&mut rows, since, user.is_some());
                let mut out = Vec::with_capacity(rows.len());
                for r in rows {
                    let Some(d) = doc_ref(&r.id, &r.workspace_id) else {
                        continue;
                    };
                    if let Some(u) = &user {
                        if !super::device_access(c, u, &d)?.read {
                            continue;
                        }
                    }
                    let sv = match r.sv {
                        Some(sv) => sv,
                        // Documents not written since the sync migration: computed once here.
                        None => crate::docs::document_state_vector(c, &r.id).map_err(AppError::Internal)?,
                    };
                    out.push(DocEntry {
                        id: r.id,
                        kind: r.kind,
                        workspace_id: r.workspace_id,
                        sv: DocEntry::encode_sv(&sv),
                    });
                }
                Ok(out)
            })
            .await?;
        self.sent = rows.iter().map(|e| (e.id.clone(), e.workspace_id.clone())).collect();
        Ok(Manifest { docs: rows })
    }

    async fn handle(&mut self, f: Frame) -> Result<(), End> {
        match f {
            Frame::Hello(_) => Err(self.refuse("bad_frame", "hello twice").await),
            Frame::Manifest(m) => self.on_manifest(m).await,
            Frame::Update {
                doc_id,
                workspace_id,
                seq,
                update,
            } => self.on_update(&doc_id, &workspace_id, seq, update).await,
            Frame::Step1 {
                doc_id,
                workspace_id,
                sv,
            } => {
                let Some(d) = doc_ref(&doc_id, &workspace_id) else {
                    return self
                        .doc_error(&doc_id, "unknown_document", "no such document", false)
                        .await;
                };
                if self.access(&d).await?.read {
                    let sv = crate::alloc::bounded(sv.len(), || StateVector::decode_v1(&sv))
                        .and_then(Result::ok)
                        .ok_or_else(|| fail("step1: bad state vector"))?;
                    // The serving side asks for what we hold beyond its state; our answer
                    // is part of the catch-up, acknowledged like the rest.
                    self.push_diff(&d, sv, 1).await?;
                }
                Ok(())
            }
            Frame::Ack(seq) => {
                self.unacked = self.unacked.saturating_sub(1);
                if let Remote::Upstream { peer_id } = &self.remote {
                    let (p, seq) = (peer_id.clone(), i64::try_from(seq).unwrap_or(i64::MAX));
                    let _ = self
                        .app
                        .writer
                        .write(move |ctx| Ok(store::set_acked(ctx.conn, &p, seq)?))
                        .await;
                }
                self.maybe_synced().await;
                Ok(())
            }
            Frame::Done(d) => {
                self.done = true;
                self.remote_seq = d.server_seq;
                self.maybe_synced().await;
                Ok(())
            }
            Frame::Error(e) => self.on_error(e).await,
        }
    }

    /// Records a successful sync once the other side's state arrived and ours was taken.
    async fn maybe_synced(&mut self) {
        if !self.done || self.unacked > 0 {
            return;
        }
        if let Remote::Upstream { peer_id } = &self.remote {
            let (p, seq) = (peer_id.clone(), self.start_seq);
            let (ri, rs) = (self.remote_instance.clone(), self.remote_seq);
            let _ = self
                .app
                .writer
                .write(move |ctx| Ok(store::set_synced(ctx.conn, &p, seq, &ri, rs)?))
                .await;
            let ms = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX);
            let (rx, tx) = (
                self.bytes_in.load(std::sync::atomic::Ordering::Relaxed),
                self.bytes_out.load(std::sync::atomic::Ordering::Relaxed),
            );
            self.app.sync.set_peer(peer_id, |l| {
                l.connected = true;
                l.last_error = None;
                // Only the first completion of a connection measures its catch-up.
                if !self.synced_once {
                    l.last_sync_ms = Some(ms);
                }
                l.bytes_received = rx;
                l.bytes_sent = tx;
            });
            self.synced_once = true;
        }
    }

    /// Their manifest: we send what they lack of each listed document. A device then
    /// answers with its own manifest; the serving side asks the device (step 1) for the
    /// documents it listed and we did not, sends whole the ones we listed and it did not,
    /// and ends with `Done`.
    async fn on_manifest(&mut self, m: Manifest) -> Result<(), End> {
        self.manifests += 1;
        if self.manifests > MAX_MANIFESTS {
            return Err(self
                .refuse(
                    "too_many_manifests",
                    &format!("a connection sends at most {MAX_MANIFESTS} manifests; reconnect to start over"),
                )
                .await);
        }
        if m.docs.len() > MAX_MANIFEST {
            return Err(self.refuse("bad_frame", "manifest lists too many documents").await);
        }
        let mut theirs: Vec<(String, String)> = Vec::with_capacity(m.docs.len());
        for e in &m.docs {
            let Some(d) = doc_ref(&e.id, &e.workspace_id) else {
                continue;
            };
            theirs.push((e.id.clone(), e.workspace_id.clone()));
            if !self.access(&d).await?.read {
                continue;
            }
            let sv = e
                .sv_bytes()
                .ok()
                .and_then(|b| crate::alloc::bounded(b.len(), || StateVector::decode_v1(&b)).and_then(Result::ok))
                .ok_or_else(|| fail("manifest: bad state vector"))?;
            self.push_diff(&d, sv, 1).await?;
        }
        if matches!(self.remote, Remote::Upstream { .. }) {
            return self.answer_manifest(theirs).await;
        }
        let listed: HashSet<&str> = theirs.iter().map(|(id, _)| id.as_str()).collect();
        let ask: Vec<(String, String)> = theirs
            .iter()
            .filter(|(id, _)| !self.sent.contains_key(id))
            .cloned()
            .collect();
        let svs = self.our_svs(ask.iter().map(|(id, _)| id.clone()).collect()).await?;
        for ((id, ws), sv) in ask.into_iter().zip(svs) {
            let Some(d) = doc_ref(&id, &ws) else { continue };
            // Only a device that may write the document can hold anything we need.
            if self.access(&d).await?.write {
                self.send(Frame::Step1 {
                    doc_id: id,
                    workspace_id: ws,
                    sv,
                })
                .await?;
            }
        }
        let missing: Vec<(String, String)> = self
            .sent
            .iter()
            .filter(|(id, _)| !listed.contains(id.as_str()))
            .map(|(a, b)| (a.clone(), b.clone()))
            .collect();
        for (id, ws) in missing {
            if let Some(d) = doc_ref(&id, &ws) {
                self.push_diff(&d, StateVector::default(), 1).await?;
            }
        }
        let seq = self.start_seq;
        self.send(Frame::Done(Done { server_seq: seq })).await
    }

    /// A device's answer to the serving side's manifest: every document it listed, with our
    /// state vector (empty if we lack it) so it sends what we lack, and ours changed since
    /// our last complete sync with it.
    async fn answer_manifest(&mut self, listed: Vec<(String, String)>) -> Result<(), End> {
        let mut m = self.manifest().await.map_err(|e| fail(e.to_string()))?;
        let extra: Vec<(String, String)> = listed
            .into_iter()
            .filter(|(id, _)| !self.sent.contains_key(id))
            .collect();
        let svs = self.our_svs(extra.iter().map(|(id, _)| id.clone()).collect()).await?;
        for ((id, ws), sv) in extra.into_iter().zip(svs) {
            let Some(d) = doc_ref(&id, &ws) else { continue };
            self.sent.insert(id.clone(), ws.clone());
            m.docs.push(DocEntry {
                id,
                kind: d.kind.as_str().to_string(),
                workspace_id: ws,
                sv: DocEntry::encode_sv(&sv),
            });
        }
        self.send(Frame::Manifest(m)).await
    }

    /// Our state vectors of `ids` (empty for a document we do not have).
    async fn our_svs(&self, ids: Vec<String>) -> Result<Vec<Vec<u8>>, End> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        self.app
            .readers
            .read(move |c| {
                ids.iter()
                    .map(|id| crate::docs::recorded_state_vector(c, id).map_err(AppError::Internal))
                    .collect()
            })
            .await
            .map_err(|e| fail(e.to_string()))
    }

    /// Sends what our copy of `d` has beyond `sv`, if anything. `ack` asks for an ack (our
    /// own catch-up pushes, so the sync is known complete when all are taken).
    async fn push_diff(&mut self, d: &DocRef, sv: StateVector, ack: u64) -> Result<(), End> {
        let id = d.id.clone();
        let diff = self
            .app
            .readers
            .read(move |c| crate::docs::document_diff(c, &id, &sv).map_err(AppError::Internal))
            .await
            .map_err(|e| fail(e.to_string()))?;
        let Some((diff, seq)) = diff else { return Ok(()) };
        let upstream = matches!(self.remote, Remote::Upstream { .. });
        let seq = if upstream && ack > 0 {
            u64::try_from(seq).unwrap_or(0).max(1)
        } else {
            0
        };
        if seq > 0 {
            self.unacked += 1;
        }
        self.send(Frame::Update {
            doc_id: d.id.clone(),
            workspace_id: d.workspace_id.clone(),
            seq,
            update: diff,
        })
        .await
    }

    async fn doc_error(&self, doc: &str, code: &str, message: &str, reset: bool) -> Result<(), End> {
        self.send(Frame::Error(ErrorMsg {
            code: code.into(),
            message: message.into(),
            doc_id: Some(doc.chars().take(200).collect()),
            reset,
        }))
        .await
    }

    async fn on_update(&mut self, doc_id: &str, ws: &str, seq: u64, update: Vec<u8>) -> Result<(), End> {
        let Some(d) = doc_ref(doc_id, ws) else {
            return self
                .doc_error(doc_id, "unknown_document", "no such document", false)
                .await;
        };
        let access = self.access(&d).await?;
        if !access.write {
            return self
                .reject(&d, access, "this device may not change this document")
                .await;
        }
        let r = match checked(update).await?.and_then(|u| self.apply(&d, u)) {
            Ok(job) => job.await,
            Err(e) => Err(e),
        };
        self.applied(&d, access, seq, r).await
    }

    /// Checks an update from the server on a blocking thread and queues it on the writer.
    /// `None` when the document is unknown (answered here).
    async fn queue_update(
        &mut self,
        doc_id: &str,
        ws: &str,
        seq: u64,
        update: Vec<u8>,
    ) -> Result<Option<Pending>, End> {
        let Some(d) = doc_ref(doc_id, ws) else {
            self.doc_error(doc_id, "unknown_document", "no such document", false)
                .await?;
            return Ok(None);
        };
        if !self.access(&d).await?.write {
            // A workspace this instance does not share with that server: not taken.
            self.doc_error(
                &d.id,
                "not_shared",
                "this workspace is not shared with this server",
                false,
            )
            .await?;
            return Ok(None);
        }
        let size = update.len();
        let job: Answer = match checked(update).await?.and_then(|u| self.apply(&d, u)) {
            Ok(job) => Box::pin(job),
            Err(e) => Box::pin(std::future::ready(Err(e))),
        };
        Ok(Some(Pending { d, seq, size, job }))
    }

    /// Queues a remote update of `d` on the writer: through the write path with this
    /// connection's checks, then the merge rules its document kind needs.
    fn apply(
        &self,
        d: &DocRef,
        update: CheckedUpdate,
    ) -> Result<impl std::future::Future<Output = Result<bool, AppError>>, AppError> {
        let remote = self.remote.clone();
        let (d2, conn) = (d.clone(), self.conn);
        self.app.writer.enqueue(move |ctx| {
            ctx.origin = Some(conn);
            // A device's update is its user's change, under every rule of its records; the
            // server's updates were checked there and keep the rules of structure here.
            let who = match &remote {
                Remote::Device { user_id, .. } => Who::User(user_id.clone()),
                Remote::Upstream { peer_id } => {
                    // A workspace the server brings is shared with it from now on.
                    store::share_workspace(ctx.conn, peer_id, &d2.workspace_id)?;
                    Who::Upstream
                }
            };
            let applied = ctx.apply_checked(&who, &d2, &update)?;
            // What this instance writes in answer (a renumbering) is its own change:
            // the sender has to receive it too.
            ctx.origin = None;
            if applied.changed && d2.kind == DocKind::Project {
                if let Some(pid) = d2.id.strip_prefix("project:") {
                    crate::issues::renumber_duplicates(ctx, &d2.workspace_id, pid)?;
                }
                // Identifiers are resolved where devices' updates arrive: the side that
                // sees the workspace's projects (a device may not see private ones).
                if matches!(remote, Remote::Device { .. }) {
                    crate::work::resolve_duplicate_identifiers(ctx, &d2.workspace_id)?;
                }
            }
            // The manager rule follows a device's change of the tree, of staff records or of
            // a project's link where it arrives (`org::reconcile_managers`).
            // Only an update of what they read runs them: an issue edit scans no tree.
            let touched = |tables: &[&str]| applied.touched.iter().any(|(t, _)| tables.contains(t));
            if applied.changed && matches!(remote, Remote::Device { .. }) {
                // What two devices' offline edits broke together is repaired first.
                if touched(&["departments", "staff_profiles"]) {
                    crate::org::resolve_merges(ctx, &d2.workspace_id)?;
                }
                let org = [
                    "departments",
                    "staff_profiles",
                    "projects",
                    "project_members",
                    "workspace_members",
                ];
                if touched(&org) {
                    crate::org::reconcile_managers(ctx, &Who::System, &d2.workspace_id, None)?;
                }
            }
            Ok(applied.changed)
        })
    }

    /// Answers a remote update once the writer has: an ack, or a rejection with a reset.
    async fn applied(&mut self, d: &DocRef, access: Access, seq: u64, r: Result<bool, AppError>) -> Result<(), End> {
        match r {
            Ok(changed) => {
                if changed && matches!(d.kind, DocKind::Workspace | DocKind::Project) {
                    self.access.clear();
                }
                if seq > 0 {
                    self.send(Frame::Ack(seq)).await?;
                }
                Ok(())
            }
            Err(e) => {
                tracing::warn!(doc = %d.id, error = %e.detail(), "sync: refused an update");
                self.reject(d, access, &e.detail()).await
            }
        }
    }

    /// Tells the other side its update of `d` was dropped and sends our state of `d` (if it
    /// may read it), which it takes in place of its own.
    async fn reject(&mut self, d: &DocRef, access: Access, why: &str) -> Result<(), End> {
        self.doc_error(&d.id, "update_rejected", why, true).await?;
        if access.read {
            self.push_diff(d, StateVector::default(), 0).await?;
        }
        Ok(())
    }

    async fn on_error(&mut self, e: ErrorMsg) -> Result<(), End> {
        match (e.reset, e.doc_id.as_deref(), &self.remote) {
            (true, Some(doc), Remote::Upstream { .. }) => {
                // Our copy is dropped; the state that follows replaces it.
                let ws = self
                    .app
                    .readers
                    .read({
                        let doc = doc.to_string();
                        move |c| Ok(store::document_workspace(c, &doc)?)
                    })
                    .await
                    .ok()
                    .flatten();
                if let Some(d) = ws.and_then(|w| doc_ref(doc, &w)) {
                    // A reset applies only to what this instance shares with that server.
                    if self.access(&d).await?.write {
                        tracing::warn!(doc = %d.id, reason = %e.message, "sync: the server refused our update; resetting the document");
                        let empty = yrs::Update::new().encode_v1();
                        let _ = self.app.writer.write(move |ctx| ctx.reset_document(&d, &empty)).await;
                    } else {
                        tracing::warn!(doc = %d.id, "sync: a server asked to reset a document it does not share; ignored");
                    }
                }
                self.unacked = self.unacked.saturating_sub(1);
                Ok(())
            }
            (_, Some(_), _) => Ok(()),
            _ => Err(fail(format!("{}: {}", e.code, e.message))),
        }
    }

    /// Sends a committed update on if the other side may read its document.
    async fn forward(&mut self, p: &Arc<Published>) -> Result<(), End> {
        if matches!(p.kind, DocKind::Workspace | DocKind::Project) {
            // Roles may have changed: decide again.
            self.access.clear();
        }
        if p.origin == Some(self.conn) {
            return Ok(());
        }
        let Some(d) = doc_ref(&p.doc_id, &p.workspace_id) else {
            return Ok(());
        };
        if !self.access(&d).await?.read {
            return Ok(());
        }
        let seq = match self.remote {
            Remote::Upstream { .. } => u64::try_from(p.seq).unwrap_or(0),
            Remote::Device { .. } => 0,
        };
        self.send(Frame::Update {
            doc_id: p.doc_id.clone(),
            workspace_id: p.workspace_id.clone(),
            seq,
            update: p.update.clone(),
        })
        .await
    }
}

use yrs::updates::encoder::Encode;

/// The sequence after which our manifest lists documents (0: all of them).
/// - Serving a device: the sequence of ours it says it holds, if it names this instance and
///   the sequence is not ahead of us (a server restored from a backup starts over).
/// - As a device: ours at the start of our last complete sync with this same server, if
///   the server is not behind what it vouched for then.
fn catch_up_since(
    remote: &Remote,
    instance: &str,
    start_seq: i64,
    theirs: &Hello,
    peer: Option<&store::PeerRow>,
) -> i64 {
    match remote {
        Remote::Device { .. } => match &theirs.since {
            Some(s) if s.instance == instance && (0..=start_seq).contains(&s.seq) => s.seq,
            _ => 0,
        },
        Remote::Upstream { .. } => match peer {
            Some(p)
                if p.remote_seq > 0
                    && p.remote_instance.as_deref() == Some(theirs.instance.as_str())
                    && theirs.seq >= p.remote_seq =>
            {
                p.synced_seq
            }
            _ => 0,
        },
    }
}

/// Keeps the rows changed after `since`; with `by_scope`, also every document of a
/// workspace or project whose own document changed (roles and membership live there).
fn retain_changed(rows: &mut Vec<store::DocRow>, since: i64, by_scope: bool) {
    if since <= 0 {
        return;
    }
    let seq: HashMap<String, i64> = if by_scope {
        rows.iter()
            .filter(|r| r.id.starts_with("ws:") || r.id.starts_with("project:"))
            .map(|r| (r.id.clone(), r.last_seq))
            .collect()
    } else {
        HashMap::new()
    };
    let changed = |id: &str| seq.get(id).is_some_and(|s| *s > since);
    rows.retain(|r| {
        if r.last_seq > since {
            return true;
        }
        if !by_scope {
            return false;
        }
        let Some(d) = doc_ref(&r.id, &r.workspace_id) else {
            return false;
        };
        changed(&format!("ws:{}", r.workspace_id))
            || crate::docs::rules::Scope::of(&d)
                .project
                .is_some_and(|p| changed(&format!("project:{p}")))
    });
}
