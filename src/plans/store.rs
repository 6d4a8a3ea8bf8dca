//! SQL of plans: a workspace's licence record.

use rusqlite::{Connection, OptionalExtension};

/// The workspace's live licence: its text, when it was installed and by whom.
pub(crate) struct LicenceRow {
    pub text: String,
    pub updated_at: String,
    pub created_by: Option<String>,
}

pub(crate) fn licence(c: &Connection, ws: &str) -> rusqlite::Result<Option<LicenceRow>> {
    c.query_row(
        "SELECT text, updated_at, created_by FROM licences WHERE id = ?1 AND deleted_at IS NULL",
        [ws],
        |r| {
            Ok(LicenceRow {
                text: r.get("text")?,
                updated_at: r.get("updated_at")?,
                created_by: r.get("created_by")?,
            })
        },
    )
    .optional()
}

/// The latest time the writer has seen (RFC 3339).
pub(crate) fn clock_seen(c: &Connection) -> rusqlite::Result<Option<String>> {
    c.query_row("SELECT seen FROM clock WHERE id = 1", [], |r| r.get(0))
        .optional()
}
