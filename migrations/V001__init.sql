-- Keel schema, version 1.
-- Local tables (instance settings, accounts, sessions, tokens) belong to this instance.
-- Document tables hold the yrs update log: the replication source of truth.
-- Projection tables are the materialised, indexed view of the documents; they carry no
-- foreign keys because documents may arrive in any order from peers, and
-- `keel rebuild-projection` must be able to rewrite them from the documents alone.

CREATE TABLE instance_settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;

CREATE TABLE users (
    id                TEXT PRIMARY KEY,
    email             TEXT NOT NULL,
    display_name      TEXT NOT NULL,
    password_hash     TEXT NOT NULL,
    is_instance_admin INTEGER NOT NULL DEFAULT 0,
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL,
    deleted_at        TEXT
) STRICT;
CREATE UNIQUE INDEX users_email ON users(email) WHERE deleted_at IS NULL;

-- A session is one sign-in; its refresh tokens form one rotation family.
CREATE TABLE sessions (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users(id),
    created_at   TEXT NOT NULL,
    revoked_at   TEXT,
    revoke_reason TEXT
) STRICT;
CREATE INDEX sessions_user ON sessions(user_id);

CREATE TABLE refresh_tokens (
    token_hash TEXT PRIMARY KEY,
    session_id TEXT NOT NULL REFERENCES sessions(id),
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at    TEXT
) STRICT;
CREATE INDEX refresh_tokens_session ON refresh_tokens(session_id);

CREATE TABLE api_tokens (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users(id),
    name         TEXT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    created_at   TEXT NOT NULL,
    expires_at   TEXT,
    last_used_at TEXT,
    revoked_at   TEXT
) STRICT;
CREATE INDEX api_tokens_user ON api_tokens(user_id);

-- yrs documents: an optional snapshot plus the updates appended after it.
CREATE TABLE documents (
    id           TEXT PRIMARY KEY,
    kind         TEXT NOT NULL,
    workspace_id TEXT NOT NULL,
    snapshot     BLOB,
    snapshot_seq INTEGER NOT NULL DEFAULT 0,
    created_at   TEXT NOT NULL
) STRICT;
CREATE INDEX documents_workspace ON documents(workspace_id);

CREATE TABLE doc_updates (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    doc_id     TEXT NOT NULL REFERENCES documents(id),
    data       BLOB NOT NULL,
    created_at TEXT NOT NULL
) STRICT;
CREATE INDEX doc_updates_doc ON doc_updates(doc_id, seq);

-- Projection tables.
CREATE TABLE workspaces (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    slug       TEXT NOT NULL,
    display_id TEXT NOT NULL,
    plan       TEXT NOT NULL DEFAULT 'free',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    created_by TEXT,
    deleted_at TEXT
) STRICT;
-- Slugs and display ids stay reserved after a soft delete, so old links never point at
-- somebody else's workspace.
CREATE UNIQUE INDEX workspaces_slug ON workspaces(slug);
CREATE UNIQUE INDEX workspaces_display_id ON workspaces(display_id);

CREATE TABLE workspace_members (
    id           TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL,
    user_id      TEXT NOT NULL,
    role         TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    created_by   TEXT,
    deleted_at   TEXT
) STRICT;
CREATE UNIQUE INDEX workspace_members_live ON workspace_members(workspace_id, user_id) WHERE deleted_at IS NULL;
CREATE INDEX workspace_members_user ON workspace_members(user_id) WHERE deleted_at IS NULL;

CREATE TABLE invitations (
    id           TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL,
    email        TEXT NOT NULL,
    role         TEXT NOT NULL,
    token_hash   TEXT NOT NULL,
    expires_at   TEXT NOT NULL,
    accepted_at  TEXT,
    accepted_by  TEXT,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    created_by   TEXT,
    deleted_at   TEXT
) STRICT;
CREATE INDEX invitations_workspace ON invitations(workspace_id);
CREATE INDEX invitations_token ON invitations(token_hash);
CREATE INDEX invitations_email ON invitations(email);

CREATE TABLE projects (
    id                       TEXT PRIMARY KEY,
    workspace_id             TEXT NOT NULL,
    name                     TEXT NOT NULL,
    identifier               TEXT NOT NULL,
    description              TEXT NOT NULL DEFAULT '',
    is_private               INTEGER NOT NULL DEFAULT 0,
    is_time_tracking_enabled INTEGER NOT NULL DEFAULT 1,
    archived_at              TEXT,
    created_at               TEXT NOT NULL,
    updated_at               TEXT NOT NULL,
    created_by               TEXT,
    deleted_at               TEXT
) STRICT;
CREATE UNIQUE INDEX projects_identifier ON projects(workspace_id, identifier) WHERE deleted_at IS NULL;
CREATE INDEX projects_workspace ON projects(workspace_id, created_at);

CREATE TABLE project_members (
    id           TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL,
    project_id   TEXT NOT NULL,
    user_id      TEXT NOT NULL,
    role         TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    created_by   TEXT,
    deleted_at   TEXT
) STRICT;
CREATE UNIQUE INDEX project_members_live ON project_members(project_id, user_id) WHERE deleted_at IS NULL;
CREATE INDEX project_members_user ON project_members(user_id, workspace_id) WHERE deleted_at IS NULL;
