//! The rules of a person's own records in a workspace (`docs::rules`): favorites, display
//! properties, home preferences, quick links, recent visits, stickies. The scope rules make
//! the document's person their owner; these make that person the only one who writes them,
//! and make what they point to a record of the same workspace.

use crate::docs::rules::{Change, RuleCtx, Rules};
use crate::error::AppError;
use crate::policy::WsRole;

crate::docs::table! {
    /// Something a person marked as a favourite.
    pub mod favorites in User as Atomic {
        workspace_id: Text,
        user_id: Text,
        entity_type: Text,
        entity_id: Text,
        project_id: Text,
    }
    /// A person's display settings for a list (filters, properties).
    pub mod user_properties in User as Atomic {
        workspace_id: Text,
        user_id: Text,
        entity_type: Text,
        entity_id: Text,
        project_id: Text,
        filters: Text,
        display_filters: Text,
        display_properties: Text,
        rich_filters: Text,
        extra: Text,
    }
    /// A person's choice of a home-page widget.
    pub mod home_preferences in User as Atomic {
        workspace_id: Text,
        user_id: Text,
        key: Text,
        is_enabled: Int,
        sort_order: Int,
        config: Text,
    }
    /// A person's link on their home page.
    pub mod quick_links in User as Atomic {
        workspace_id: Text,
        user_id: Text,
        title: Text,
        url: Text,
        sort_order: Int,
    }
    /// Something a person opened recently.
    pub mod recent_visits in User as Atomic {
        workspace_id: Text,
        user_id: Text,
        entity_type: Text,
        entity_id: Text,
        project_id: Text,
        visited_at: Text,
    }
    /// A person's sticky note.
    pub mod stickies in User as Atomic {
        workspace_id: Text,
        user_id: Text,
        name: Text,
        description_html: Text,
        color: Text,
        sort_order: Int,
    }
}

/// Only the owner writes their records, while they are in the workspace.
fn mine(cx: &RuleCtx<'_>, c: &Change) -> Result<(), AppError> {
    if cx.is_person() && !cx.is_me(c.text_by_name("user_id")) {
        return Err(AppError::forbidden("a person's own records are written by them alone"));
    }
    cx.require_ws(WsRole::Guest, "keeping records in a workspace")
}

/// The table an entity type names.
fn entity_table(t: &str) -> Option<&'static str> {
    Some(match t {
        "project" | "PROJECT" => "projects",
        "cycle" | "CYCLE" => "cycles",
        "module" | "MODULE" => "modules",
        "view" => "issue_views",
        "issue" => "issues",
        "WORKSPACE" => "workspaces",
        _ => return None,
    })
}

/// The record's `entity_id` names a record of its `entity_type` in this workspace.
fn entity_here(cx: &RuleCtx<'_>, c: &Change) -> Result<(), AppError> {
    mine(cx, c)?;
    if !cx.is_person() || c.is_deleted() || !(c.changed_by_name("entity_id") || c.changed_by_name("entity_type")) {
        return Ok(());
    }
    let table = c
        .text_by_name("entity_type")
        .and_then(entity_table)
        .ok_or_else(|| AppError::field("entity_type", "is not a kind of thing Keel knows"))?;
    let id = c.text_by_name("entity_id").unwrap_or_default();
    if !cx.in_workspace(table, id)? {
        return Err(AppError::field("entity_id", "names no such record here"));
    }
    if let Some(p) = c.text_by_name("project_id") {
        if !cx.in_workspace("projects", p)? {
            return Err(AppError::field("project_id", "names no such record here"));
        }
    }
    Ok(())
}

pub const FAVORITES: Rules = Rules {
    table: favorites::SPEC.name,
    immutable: &[],
    refs: &[],
    max_len: &[(favorites::entity_type.name, 16)],
    check: entity_here,
};

pub const USER_PROPERTIES: Rules = Rules {
    table: user_properties::SPEC.name,
    immutable: &[],
    refs: &[],
    max_len: &[(user_properties::entity_type.name, 16)],
    check: entity_here,
};

pub const RECENT_VISITS: Rules = Rules {
    table: recent_visits::SPEC.name,
    immutable: &[],
    refs: &[],
    max_len: &[(recent_visits::entity_type.name, 16)],
    check: entity_here,
};

pub const HOME_PREFERENCES: Rules = Rules {
    table: home_preferences::SPEC.name,
    immutable: &[],
    refs: &[],
    max_len: &[(home_preferences::key.name, 64)],
    check: mine,
};

pub const QUICK_LINKS: Rules = Rules {
    table: quick_links::SPEC.name,
    immutable: &[],
    refs: &[],
    max_len: &[(quick_links::title.name, 255), (quick_links::url.name, 2048)],
    check: mine,
};

pub const STICKIES: Rules = Rules {
    table: stickies::SPEC.name,
    immutable: &[],
    refs: &[],
    max_len: &[
        (stickies::name.name, 255),
        (stickies::description_html.name, crate::richtext::MAX_STORED_HTML),
        (stickies::color.name, 7),
    ],
    check: mine,
};
