-- A staff record an import prepared for someone it invited (issue 14): kept with the
-- invitation (keyed by its id) in the admin-only staff document, and made the person's
-- staff record when they accept.
CREATE TABLE staff_pending (
    id            TEXT PRIMARY KEY,
    workspace_id  TEXT NOT NULL,
    email         TEXT NOT NULL,
    data          TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    created_by    TEXT,
    deleted_at    TEXT
) STRICT;
