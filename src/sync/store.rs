//! SQL of sync: devices, the document manifest, peers and resolved conflicts.

use rusqlite::{params, Connection, OptionalExtension};

use crate::time::now_rfc3339;

/// A document as a manifest lists it: id, kind, workspace, state vector (if recorded).
pub(crate) struct DocRow {
    pub id: String,
    pub kind: String,
    pub workspace_id: String,
    pub sv: Option<Vec<u8>>,
    /// The sequence of the document's latest update here, made here or received.
    pub last_seq: i64,
}

/// Every document of the workspaces `user` belongs to (all documents when `None`); the
/// caller filters them by access.
/// Whether this instance takes and sends the documents of workspace `ws` with `peer`:
/// `Some(true)` shared, `Some(false)` a workspace held here and not shared with it (made here,
/// or from another peer), `None` a workspace this instance does not hold yet.
pub(crate) fn peer_scope(c: &Connection, peer: &str, ws: &str) -> rusqlite::Result<Option<bool>> {
    let shared: bool = c
        .prepare_cached("SELECT EXISTS(SELECT 1 FROM peer_workspaces WHERE peer_id = ?1 AND workspace_id = ?2)")?
        .query_row([peer, ws], |r| r.get(0))?;
    if shared {
        return Ok(Some(true));
    }
    let held: bool = c
        .prepare_cached("SELECT EXISTS(SELECT 1 FROM documents WHERE workspace_id = ?1)")?
        .query_row([ws], |r| r.get(0))?;
    Ok(if held { Some(false) } else { None })
}

/// Records that workspace `ws` is shared with `peer` (it came from there).
pub(crate) fn share_workspace(c: &Connection, peer: &str, ws: &str) -> rusqlite::Result<()> {
    c.prepare_cached(
        "INSERT INTO peer_workspaces (peer_id, workspace_id, shared_at) VALUES (?1, ?2, ?3)
         ON CONFLICT DO NOTHING",
    )?
    .execute(params![peer, ws, now_rfc3339()])?;
    Ok(())
}

/// The documents of the workspaces shared with `peer`, as `documents` lists them.
pub(crate) fn documents_for_peer(c: &Connection, peer: &str) -> rusqlite::Result<Vec<DocRow>> {
    c.prepare_cached(
        "SELECT d.id, d.kind, d.workspace_id, d.state_vector, d.last_seq FROM documents d
         WHERE d.workspace_id IN (SELECT workspace_id FROM peer_workspaces WHERE peer_id = ?1)
         ORDER BY d.id",
    )?
    .query_map([peer], |r| {
        Ok(DocRow {
            id: r.get("id")?,
            kind: r.get("kind")?,
            workspace_id: r.get("workspace_id")?,
            sv: r.get("state_vector")?,
            last_seq: r.get("last_seq")?,
        })
    })?
    .collect()
}

pub(crate) fn documents(c: &Connection, user: Option<&str>) -> rusqlite::Result<Vec<DocRow>> {
    let map = |r: &rusqlite::Row<'_>| {
        Ok(DocRow {
            id: r.get("id")?,
            kind: r.get("kind")?,
            workspace_id: r.get("workspace_id")?,
            sv: r.get("state_vector")?,
            last_seq: r.get("last_seq")?,
        })
    };
    match user {
        Some(u) => c
            .prepare_cached(
                "SELECT d.id, d.kind, d.workspace_id, d.state_vector, d.last_seq FROM documents d
                 WHERE d.workspace_id IN (SELECT workspace_id FROM workspace_members
                                          WHERE user_id = ?1 AND deleted_at IS NULL)
                 ORDER BY d.id",
            )?
            .query_map([u], map)?
            .collect(),
        None => c
            .prepare_cached("SELECT id, kind, workspace_id, state_vector, last_seq FROM documents ORDER BY id")?
            .query_map([], map)?
            .collect(),
    }
}

/// Whether any document or row knows project `pid` (a new project's id must be new).
pub(crate) fn project_known(c: &Connection, pid: &str) -> rusqlite::Result<bool> {
    c.query_row(
        "SELECT EXISTS(SELECT 1 FROM projects WHERE id = ?1)
             OR EXISTS(SELECT 1 FROM documents WHERE id = 'project:' || ?1)",
        [pid],
        |r| r.get(0),
    )
}

/// The workspace a document is stored under here, if it exists.
pub(crate) fn document_workspace(c: &Connection, id: &str) -> rusqlite::Result<Option<String>> {
    c.query_row("SELECT workspace_id FROM documents WHERE id = ?1", [id], |r| r.get(0))
        .optional()
}

/// The latest update held here, made here or received, over all documents: the sequence a
/// peer that took everything up to now holds.
pub(crate) fn max_seq(c: &Connection) -> rusqlite::Result<i64> {
    c.query_row("SELECT COALESCE(MAX(last_seq), 0) FROM documents", [], |r| r.get(0))
}

/// This instance's identity (set once by migration 7): a peer's record of our sequence is
/// only good for this instance.
pub(crate) fn instance_id(c: &Connection) -> rusqlite::Result<String> {
    c.query_row(
        "SELECT value FROM instance_settings WHERE key = 'instance_id'",
        [],
        |r| r.get(0),
    )
}

// Devices ---------------------------------------------------------------------------------

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct DeviceView {
    pub id: String,
    pub name: String,
    pub created_at: String,
    pub last_seen_at: Option<String>,
    pub revoked_at: Option<String>,
}

pub(crate) fn create_device(
    c: &Connection,
    id: &str,
    user: &str,
    name: &str,
    token_hash: &str,
) -> rusqlite::Result<()> {
    c.execute(
        "INSERT INTO devices (id, user_id, name, token_hash, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![id, user, name, token_hash, now_rfc3339()],
    )?;
    Ok(())
}

/// The live device of a token hash: (device id, user id).
pub(crate) fn device_by_token(c: &Connection, token_hash: &str) -> rusqlite::Result<Option<(String, String)>> {
    c.query_row(
        "SELECT d.id, d.user_id FROM devices d JOIN users u ON u.id = d.user_id
         WHERE d.token_hash = ?1 AND d.revoked_at IS NULL",
        [token_hash],
        |r| Ok((r.get("id")?, r.get("user_id")?)),
    )
    .optional()
}

pub(crate) fn touch_device(c: &Connection, id: &str) -> rusqlite::Result<()> {
    c.execute(
        "UPDATE devices SET last_seen_at = ?2 WHERE id = ?1",
        params![id, now_rfc3339()],
    )?;
    Ok(())
}

pub(crate) fn devices(c: &Connection, user: &str) -> rusqlite::Result<Vec<DeviceView>> {
    c.prepare_cached(
        "SELECT id, name, created_at, last_seen_at, revoked_at FROM devices WHERE user_id = ?1
         ORDER BY created_at DESC, id",
    )?
    .query_map([user], |r| {
        Ok(DeviceView {
            id: r.get("id")?,
            name: r.get("name")?,
            created_at: r.get("created_at")?,
            last_seen_at: r.get("last_seen_at")?,
            revoked_at: r.get("revoked_at")?,
        })
    })?
    .collect()
}

/// Revokes a live device of `user`; false if there is none with that id.
/// Revokes every live device of a user; answers their ids.
pub(crate) fn revoke_devices_of(c: &Connection, user: &str) -> rusqlite::Result<Vec<String>> {
    let ids: Vec<String> = c
        .prepare("SELECT id FROM devices WHERE user_id = ?1 AND revoked_at IS NULL")?
        .query_map([user], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    c.execute(
        "UPDATE devices SET revoked_at = ?2 WHERE user_id = ?1 AND revoked_at IS NULL",
        rusqlite::params![user, crate::time::now_rfc3339()],
    )?;
    Ok(ids)
}

pub(crate) fn revoke_device(c: &Connection, user: &str, id: &str) -> rusqlite::Result<bool> {
    Ok(c.execute(
        "UPDATE devices SET revoked_at = ?3 WHERE id = ?1 AND user_id = ?2 AND revoked_at IS NULL",
        params![id, user, now_rfc3339()],
    )? == 1)
}

// Peers -----------------------------------------------------------------------------------

#[derive(Debug, Clone)]
pub(crate) struct PeerRow {
    pub id: String,
    pub url: String,
    pub device_id: String,
    pub user_id: String,
    pub acked_seq: i64,
    pub last_sync_at: Option<String>,
    pub last_error: Option<String>,
    /// Our sequence at the start of the last complete sync with the peer.
    pub synced_seq: i64,
    /// The peer's instance and its sequence at that sync.
    pub remote_instance: Option<String>,
    pub remote_seq: i64,
}

pub(crate) fn peers(c: &Connection) -> rusqlite::Result<Vec<PeerRow>> {
    c.prepare_cached(
        "SELECT id, url, device_id, user_id, acked_seq, last_sync_at, last_error, synced_seq, remote_instance, remote_seq
         FROM sync_peers ORDER BY created_at, id",
    )?
    .query_map([], |r| {
        Ok(PeerRow {
            id: r.get("id")?,
            url: r.get("url")?,
            device_id: r.get("device_id")?,
            user_id: r.get("user_id")?,
            acked_seq: r.get("acked_seq")?,
            last_sync_at: r.get("last_sync_at")?,
            last_error: r.get("last_error")?,
            synced_seq: r.get("synced_seq")?,
            remote_instance: r.get("remote_instance")?,
            remote_seq: r.get("remote_seq")?,
        })
    })?
    .collect()
}

pub(crate) fn upsert_peer(c: &Connection, id: &str, url: &str, device_id: &str, user_id: &str) -> rusqlite::Result<()> {
    c.execute(
        "INSERT INTO sync_peers (id, url, device_id, user_id, created_at) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT(url) DO UPDATE SET id = excluded.id, device_id = excluded.device_id,
             user_id = excluded.user_id, acked_seq = 0, last_sync_at = NULL, last_error = NULL,
             synced_seq = 0, remote_instance = NULL, remote_seq = 0",
        params![id, url, device_id, user_id, now_rfc3339()],
    )?;
    Ok(())
}

pub(crate) fn set_acked(c: &Connection, id: &str, seq: i64) -> rusqlite::Result<()> {
    c.execute(
        "UPDATE sync_peers SET acked_seq = MAX(acked_seq, ?2) WHERE id = ?1",
        params![id, seq],
    )?;
    Ok(())
}

/// Records a complete sync: the peer holds everything we held at `seq`, and we hold
/// everything `remote_instance` held at `remote_seq`.
pub(crate) fn set_synced(
    c: &Connection,
    id: &str,
    seq: i64,
    remote_instance: &str,
    remote_seq: i64,
) -> rusqlite::Result<()> {
    c.execute(
        "UPDATE sync_peers SET acked_seq = MAX(acked_seq, ?2), synced_seq = ?2, remote_instance = ?4,
             remote_seq = ?5, last_sync_at = ?3, last_error = NULL WHERE id = ?1",
        params![id, seq, now_rfc3339(), remote_instance, remote_seq],
    )?;
    Ok(())
}

/// The peer's record, if this instance connects to it.
pub(crate) fn peer(c: &Connection, id: &str) -> rusqlite::Result<Option<PeerRow>> {
    Ok(peers(c)?.into_iter().find(|p| p.id == id))
}

pub(crate) fn set_peer_error(c: &Connection, id: &str, err: &str) -> rusqlite::Result<()> {
    c.execute("UPDATE sync_peers SET last_error = ?2 WHERE id = ?1", params![id, err])?;
    Ok(())
}

/// Documents changed here since the peer last acknowledged: updates waiting to go out.
pub(crate) fn pending(c: &Connection, acked_seq: i64) -> rusqlite::Result<i64> {
    c.query_row(
        "SELECT COUNT(*) FROM documents WHERE local_seq > ?1",
        [acked_seq],
        |r| r.get(0),
    )
}

// Conflicts -------------------------------------------------------------------------------

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct ConflictView {
    /// `issue_number`: two devices gave two issues one number, the later one moved to a new
    /// number. `project_identifier`: two devices created projects with one identifier, the
    /// later one took a derived identifier. The organisation's (`org::merges`):
    /// `department_code_taken`, `department_short_name_taken`, `department_dept_code_taken`,
    /// `department_cycle`, `department_too_deep`, `department_parent_deleted`,
    /// `staff_id_taken`, `staff_department_deleted`, `department_manager_taken`.
    pub kind: String,
    /// The project of a project's conflict; `null` for the organisation's.
    pub project_id: Option<String>,
    /// The issue, project, department or staff record that changed.
    pub record_id: String,
    pub old_value: Option<String>,
    pub new_value: Option<String>,
    pub resolved_at: String,
}

/// Resolved merge conflicts of a workspace, newest first (the renumbering rule records each
/// as an activity with a key derived from it, so every peer lists the same ones).
pub(crate) fn conflicts(c: &Connection, ws: &str) -> rusqlite::Result<Vec<ConflictView>> {
    c.prepare_cached(
        "SELECT 'issue_number' AS kind, project_id, issue_id AS record_id, old_value, new_value,
                created_at AS resolved_at, id FROM issue_activity
         WHERE workspace_id = ?1 AND verb = 'renumbered' AND deleted_at IS NULL
         UNION ALL
         SELECT kind, project_id, record_id, old_value, new_value, created_at, id FROM sync_conflicts
         WHERE workspace_id = ?1 AND deleted_at IS NULL
         UNION ALL
         SELECT kind, NULL, record_id, old_value, new_value, created_at, id FROM org_conflicts
         WHERE workspace_id = ?1 AND deleted_at IS NULL
         ORDER BY 6 DESC, 7 LIMIT 500",
    )?
    .query_map([ws], |r| {
        Ok(ConflictView {
            kind: r.get("kind")?,
            project_id: r.get("project_id")?,
            record_id: r.get("record_id")?,
            old_value: r.get("old_value")?,
            new_value: r.get("new_value")?,
            resolved_at: r.get("resolved_at")?,
        })
    })?
    .collect()
}

/// Whether this instance syncs workspace `ws` from a server it connects to.
pub(crate) fn has_upstream(c: &Connection, ws: &str) -> rusqlite::Result<bool> {
    c.prepare_cached("SELECT 1 FROM peer_workspaces WHERE workspace_id = ?1")?
        .exists([ws])
}
