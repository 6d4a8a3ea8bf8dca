//! SQL of a person's own records: favorites, user properties, home, recents, stickies.

use rusqlite::{params, Connection, OptionalExtension};
use serde_json::Value;

use super::{
    FavoriteType, FavoriteView, HomePreferenceView, PropEntity, QuickLinkView, RecentVisitView, StickyView,
    UserPropertiesView,
};

/// The current name of an entity of the workspace (issues as `IDENT-12 title`).
const NAME_OF: &str = "CASE x.entity_type
    WHEN 'project' THEN (SELECT name FROM projects WHERE id = x.entity_id)
    WHEN 'cycle' THEN (SELECT name FROM cycles WHERE id = x.entity_id)
    WHEN 'module' THEN (SELECT name FROM modules WHERE id = x.entity_id)
    WHEN 'view' THEN (SELECT name FROM issue_views WHERE id = x.entity_id)
    WHEN 'issue' THEN (SELECT p.identifier || '-' || i.sequence_id || ' ' || i.name FROM issues i
                       JOIN projects p ON p.id = i.project_id WHERE i.id = x.entity_id)
    END";

/// Whether the entity is still there for the person (deleted ones, and views made private
/// by somebody else, drop out of favorites and recents).
const LIVE: &str = "CASE x.entity_type
    WHEN 'project' THEN EXISTS(SELECT 1 FROM projects WHERE id = x.entity_id AND deleted_at IS NULL)
    WHEN 'cycle' THEN EXISTS(SELECT 1 FROM cycles WHERE id = x.entity_id AND deleted_at IS NULL)
    WHEN 'module' THEN EXISTS(SELECT 1 FROM modules WHERE id = x.entity_id AND deleted_at IS NULL)
    WHEN 'view' THEN EXISTS(SELECT 1 FROM issue_views WHERE id = x.entity_id AND deleted_at IS NULL
                            AND (is_private = 0 OR created_by = x.user_id))
    WHEN 'issue' THEN EXISTS(SELECT 1 FROM issues WHERE id = x.entity_id AND deleted_at IS NULL)
    END";

pub(crate) fn favorites(c: &Connection, ws: &str, uid: &str) -> rusqlite::Result<Vec<FavoriteView>> {
    let mut stmt = c.prepare_cached(&format!(
        "SELECT x.entity_type, x.entity_id, x.project_id, COALESCE({NAME_OF}, '') AS name, x.created_at
         FROM favorites x WHERE x.workspace_id = ?1 AND x.user_id = ?2 AND x.deleted_at IS NULL AND {LIVE}
         ORDER BY x.created_at, x.id"
    ))?;
    let rows = stmt
        .query_map([ws, uid], |r| {
            let t: String = r.get("entity_type")?;
            Ok(FavoriteView {
                entity_type: FavoriteType::parse(&t).unwrap_or(FavoriteType::Project),
                entity_id: r.get("entity_id")?,
                project_id: r.get("project_id")?,
                name: r.get("name")?,
                created_at: r.get("created_at")?,
            })
        })?
        .collect();
    rows
}

/// Whether the person's favorite `key` is live in this workspace (the workspace's user
/// document is the one that holds it).
pub(crate) fn is_favorite(c: &Connection, ws: &str, uid: &str, key: &str) -> rusqlite::Result<bool> {
    c.query_row(
        "SELECT EXISTS(SELECT 1 FROM favorites WHERE id = ?1 AND user_id = ?2 AND workspace_id = ?3
                       AND deleted_at IS NULL)",
        [key, uid, ws],
        |r| r.get(0),
    )
}

fn json_col(s: String) -> Value {
    serde_json::from_str(&s).unwrap_or_else(|_| Value::Object(Default::default()))
}

pub(crate) fn properties(
    c: &Connection,
    uid: &str,
    entity: PropEntity,
    id: &str,
) -> rusqlite::Result<Option<UserPropertiesView>> {
    c.query_row(
        "SELECT filters, display_filters, display_properties, rich_filters, extra FROM user_properties
         WHERE user_id = ?1 AND entity_type = ?2 AND entity_id = ?3 AND deleted_at IS NULL
         ORDER BY updated_at DESC LIMIT 1",
        params![uid, entity.as_str(), id],
        |r| {
            Ok(UserPropertiesView {
                entity_type: entity,
                entity_id: id.to_string(),
                filters: json_col(r.get("filters")?),
                display_filters: json_col(r.get("display_filters")?),
                display_properties: json_col(r.get("display_properties")?),
                rich_filters: json_col(r.get("rich_filters")?),
                extra: json_col(r.get("extra")?),
                is_saved: true,
            })
        },
    )
    .optional()
}

pub(crate) fn home_preferences(c: &Connection, ws: &str, uid: &str) -> rusqlite::Result<Vec<HomePreferenceView>> {
    let mut stmt = c.prepare_cached(
        "SELECT key, is_enabled, sort_order, config FROM home_preferences
         WHERE workspace_id = ?1 AND user_id = ?2 AND deleted_at IS NULL",
    )?;
    let rows = stmt
        .query_map([ws, uid], |r| {
            Ok(HomePreferenceView {
                key: r.get("key")?,
                is_enabled: r.get::<_, i64>("is_enabled")? != 0,
                sort_order: r.get("sort_order")?,
                config: json_col(r.get("config")?),
            })
        })?
        .collect();
    rows
}

pub(crate) fn quick_links(c: &Connection, ws: &str, uid: &str) -> rusqlite::Result<Vec<QuickLinkView>> {
    let mut stmt = c.prepare_cached(
        "SELECT id, title, url, sort_order, created_at FROM quick_links
         WHERE workspace_id = ?1 AND user_id = ?2 AND deleted_at IS NULL ORDER BY sort_order, id",
    )?;
    let rows = stmt
        .query_map([ws, uid], |r| {
            Ok(QuickLinkView {
                id: r.get("id")?,
                title: r.get("title")?,
                url: r.get("url")?,
                sort_order: r.get("sort_order")?,
                created_at: r.get("created_at")?,
            })
        })?
        .collect();
    rows
}

pub(crate) fn stickies(c: &Connection, ws: &str, uid: &str) -> rusqlite::Result<Vec<StickyView>> {
    let mut stmt = c.prepare_cached(
        "SELECT id, name, description_html, color, sort_order, created_at, updated_at FROM stickies
         WHERE workspace_id = ?1 AND user_id = ?2 AND deleted_at IS NULL ORDER BY sort_order, id",
    )?;
    let rows = stmt
        .query_map([ws, uid], |r| {
            Ok(StickyView {
                id: r.get("id")?,
                name: r.get("name")?,
                description_html: r.get("description_html")?,
                color: r.get("color")?,
                sort_order: r.get("sort_order")?,
                created_at: r.get("created_at")?,
                updated_at: r.get("updated_at")?,
            })
        })?
        .collect();
    rows
}

/// Tables named by this crate, never by input.
fn note_table(t: &str) -> &'static str {
    if t == "stickies" {
        "stickies"
    } else {
        "quick_links"
    }
}

pub(crate) fn note_exists(c: &Connection, table: &str, ws: &str, uid: &str, id: &str) -> rusqlite::Result<bool> {
    c.query_row(
        &format!(
            "SELECT EXISTS(SELECT 1 FROM {} WHERE id = ?1 AND workspace_id = ?2 AND user_id = ?3 AND deleted_at IS NULL)",
            note_table(table)
        ),
        [id, ws, uid],
        |r| r.get(0),
    )
}

pub(crate) fn max_note_order(c: &Connection, table: &str, ws: &str, uid: &str) -> rusqlite::Result<i64> {
    c.query_row(
        &format!(
            "SELECT COALESCE(MAX(sort_order), 0) FROM {} WHERE workspace_id = ?1 AND user_id = ?2 AND deleted_at IS NULL",
            note_table(table)
        ),
        [ws, uid],
        |r| r.get(0),
    )
}

/// The person's most recent visits to things that still exist, newest first.
pub(crate) fn recents(
    c: &Connection,
    ws: &str,
    uid: &str,
    entity_type: Option<&str>,
    limit: i64,
) -> rusqlite::Result<Vec<RecentVisitView>> {
    let mut stmt = c.prepare_cached(&format!(
        "SELECT x.entity_type, x.entity_id, x.project_id, COALESCE({NAME_OF}, '') AS name, x.visited_at
         FROM recent_visits x WHERE x.workspace_id = ?1 AND x.user_id = ?2 AND x.deleted_at IS NULL
           AND (?3 IS NULL OR x.entity_type = ?3) AND {LIVE}
         ORDER BY x.visited_at DESC, x.id LIMIT ?4"
    ))?;
    let rows = stmt
        .query_map(params![ws, uid, entity_type, limit], |r| {
            Ok(RecentVisitView {
                entity_type: r.get("entity_type")?,
                entity_id: r.get("entity_id")?,
                project_id: r.get("project_id")?,
                name: r.get("name")?,
                visited_at: r.get("visited_at")?,
            })
        })?
        .collect();
    rows
}

/// Whether the person's visit to the entity was recorded less than `secs` seconds ago.
pub(crate) fn visited_within(
    c: &Connection,
    ws: &str,
    uid: &str,
    entity_type: &str,
    entity_id: &str,
    secs: i64,
) -> rusqlite::Result<bool> {
    let at: Option<String> = c
        .query_row(
            "SELECT MAX(visited_at) FROM recent_visits
             WHERE workspace_id = ?1 AND user_id = ?2 AND entity_type = ?3 AND entity_id = ?4",
            [ws, uid, entity_type, entity_id],
            |r| r.get(0),
        )
        .optional()?
        .flatten();
    Ok(at
        .and_then(|a| chrono::DateTime::parse_from_rfc3339(&a).ok())
        .is_some_and(|t| (chrono::Utc::now() - t.with_timezone(&chrono::Utc)).num_seconds() < secs))
}

/// The record a visit is written to. A person keeps at most `slots` recent visits per
/// workspace: a visit reuses the record of the same entity, else a free slot, else the
/// slot of the oldest visit — so neither the table nor the person's document grows with
/// every issue ever opened. (Two offline devices may fill one slot with different
/// entities; the later visit wins, which is all a list of recents needs.)
pub(crate) fn recent_slot(
    c: &Connection,
    ws: &str,
    uid: &str,
    entity_type: &str,
    entity_id: &str,
    slots: usize,
) -> rusqlite::Result<String> {
    let mut stmt = c.prepare_cached(
        "SELECT id, entity_type, entity_id FROM recent_visits WHERE workspace_id = ?1 AND user_id = ?2
         ORDER BY visited_at DESC, id",
    )?;
    let rows: Vec<(String, String, String)> = stmt
        .query_map([ws, uid], |r| {
            Ok((r.get("id")?, r.get("entity_type")?, r.get("entity_id")?))
        })?
        .collect::<rusqlite::Result<_>>()?;
    if let Some((id, ..)) = rows.iter().find(|(_, t, e)| t == entity_type && e == entity_id) {
        return Ok(id.clone());
    }
    if rows.len() < slots {
        let taken: std::collections::HashSet<&str> = rows.iter().map(|(id, ..)| id.as_str()).collect();
        if let Some(free) = (0..slots)
            .map(|i| format!("{uid}:recent:{i}"))
            .find(|k| !taken.contains(k.as_str()))
        {
            return Ok(free);
        }
    }
    Ok(rows
        .last()
        .map_or_else(|| format!("{uid}:recent:0"), |(id, ..)| id.clone()))
}
