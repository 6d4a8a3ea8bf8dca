-- The workspaces this instance shares with each peer it syncs from (issue 13): it sends
-- that peer, and takes from it, only their documents. A workspace first arrives from a
-- peer and is recorded here then; one made on this machine is shared with no peer.
CREATE TABLE peer_workspaces (
    peer_id      TEXT NOT NULL REFERENCES sync_peers(id) ON DELETE CASCADE ON UPDATE CASCADE,
    workspace_id TEXT NOT NULL,
    shared_at    TEXT NOT NULL,
    PRIMARY KEY (peer_id, workspace_id)
) STRICT, WITHOUT ROWID;

-- Before this, every peer was sent every workspace: instances that already sync keep
-- sharing what they hold with the peers they have.
INSERT INTO peer_workspaces (peer_id, workspace_id, shared_at)
SELECT p.id, w.workspace_id, p.created_at
FROM sync_peers p, (SELECT DISTINCT workspace_id FROM documents) w;
