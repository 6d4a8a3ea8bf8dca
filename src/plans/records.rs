//! The licence record (`docs::rules`): one per workspace, under the workspace's id, in the
//! workspace document. Its text must be a licence this build verifies for this workspace,
//! and only owners install or remove one, from the API or a device alike. The plan is
//! worked out from the text at every read (`plan_of`), so a record that arrived from a
//! server without being checked here still grants nothing it does not prove.

use crate::docs::rules::{Change, RuleCtx, Rules};
use crate::error::AppError;
use crate::policy::WsRole;

crate::docs::table! {
    /// A workspace's licence file, as installed.
    pub mod licences in Workspace as Atomic {
        workspace_id: Text,
        text: Text,
    }
}

pub const LICENCES: Rules = Rules {
    table: licences::SPEC.name,
    immutable: &[],
    refs: &[],
    // The text's bound is the general one: a licence file's own (`licence::MAX_BYTES`) is
    // the rule's, with its own code.
    max_len: &[],
    check: check_licence,
};

fn check_licence(cx: &RuleCtx<'_>, c: &Change) -> Result<(), AppError> {
    if c.id != cx.doc.workspace_id {
        return Err(AppError::refused(
            "wrong_scope",
            "a workspace's licence is keyed by the workspace's id",
        ));
    }
    let Some(text) = c.text(licences::text) else {
        return Err(AppError::field("text", "must be a licence file's text"));
    };
    if !cx.is_person() {
        return Ok(());
    }
    cx.require_ws(WsRole::Owner, "installing or removing a licence")?;
    if c.is_deleted() {
        return Ok(());
    }
    let here = crate::workspaces::display_id(cx.conn, &cx.doc.workspace_id)?.unwrap_or_default();
    super::licence::verify(text.as_bytes(), super::licence::trusted_keys())?.for_workspace(&here)?;
    Ok(())
}
