//! What belongs to one person in a workspace, kept in their own document of it
//! (`user:{workspace}:{user}`, written only by them): favorites, user properties (seed 001:
//! one record per entity type and id), home preferences, quick links, recent visits and
//! stickies (seed 000). Records about something (a favorite, the properties of a project,
//! a visit) are keyed by the person and what they are about (`{user}:{type}:{id}`), so the
//! person's two devices write one record, and two people never share a key.

pub mod records;
pub(crate) mod routes;
pub(crate) mod store;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use utoipa::ToSchema;

use crate::docs::{DocRef, Who};
use crate::error::{AppError, Checks};
use crate::me::records::{favorites, home_preferences, quick_links, recent_visits, stickies, user_properties};
use crate::time::now_rfc3339;
use crate::workspaces::WsCtx;
use crate::App;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FavoriteType {
    Project,
    Cycle,
    Module,
    View,
}

impl FavoriteType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Project => "project",
            Self::Cycle => "cycle",
            Self::Module => "module",
            Self::View => "view",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Project, Self::Cycle, Self::Module, Self::View]
            .into_iter()
            .find(|t| t.as_str() == s)
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FavoriteView {
    pub entity_type: FavoriteType,
    pub entity_id: String,
    pub project_id: Option<String>,
    /// The favorite's current name.
    pub name: String,
    pub created_at: String,
}

/// Entities that carry user properties (seed 001).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PropEntity {
    Workspace,
    Project,
    Cycle,
    Module,
}

impl PropEntity {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Workspace => "WORKSPACE",
            Self::Project => "PROJECT",
            Self::Cycle => "CYCLE",
            Self::Module => "MODULE",
        }
    }
}

/// A person's display settings for one entity: its filters, display filters (layout, order,
/// grouping), which properties show, rich filters, and per-entity extras.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UserPropertiesView {
    pub entity_type: PropEntity,
    pub entity_id: String,
    #[schema(value_type = Object)]
    pub filters: Value,
    #[schema(value_type = Object)]
    pub display_filters: Value,
    #[schema(value_type = Object)]
    pub display_properties: Value,
    #[schema(value_type = Object)]
    pub rich_filters: Value,
    #[schema(value_type = Object)]
    pub extra: Value,
    /// False while the defaults are answered (nothing saved yet).
    pub is_saved: bool,
}

/// The defaults of user properties, as seed 001 lists them.
pub fn default_properties(entity: PropEntity, id: &str) -> UserPropertiesView {
    UserPropertiesView {
        entity_type: entity,
        entity_id: id.to_string(),
        filters: json!({}),
        display_filters: json!({
            "layout": "list", "group_by": null, "sub_group_by": null, "order_by": "-created_at",
            "type": null, "sub_issue": true, "show_empty_groups": true
        }),
        display_properties: json!({
            "assignee": true, "start_date": true, "due_date": true, "labels": true, "key": true,
            "priority": true, "state": true, "sub_issue_count": true, "link": true,
            "attachment_count": true, "estimate": true, "created_on": true, "updated_on": true,
            "modules": true, "cycle": true, "issue_type": true
        }),
        rich_filters: json!({}),
        extra: match entity {
            PropEntity::Project => json!({"preferences": {"pages": {"block_display": true}}, "sort_order": 65535}),
            PropEntity::Workspace => {
                json!({"navigation_project_limit": 10, "navigation_control_preference": "ACCORDION"})
            }
            _ => json!({}),
        },
        is_saved: false,
    }
}

/// Fields of a user-properties change; each replaces the stored one whole.
#[derive(Debug, Default, Clone, Deserialize, ToSchema)]
pub struct UserPropertiesPatch {
    #[schema(value_type = Option<Object>)]
    pub filters: Option<Value>,
    #[schema(value_type = Option<Object>)]
    pub display_filters: Option<Value>,
    #[schema(value_type = Option<Object>)]
    pub display_properties: Option<Value>,
    #[schema(value_type = Option<Object>)]
    pub rich_filters: Option<Value>,
    #[schema(value_type = Option<Object>)]
    pub extra: Option<Value>,
}

impl UserPropertiesPatch {
    pub fn check(&self) -> Result<(), AppError> {
        let mut c = Checks::new();
        for (name, v) in [
            ("filters", &self.filters),
            ("display_filters", &self.display_filters),
            ("display_properties", &self.display_properties),
            ("rich_filters", &self.rich_filters),
            ("extra", &self.extra),
        ] {
            if let Some(v) = v {
                if !v.is_object() {
                    c.add(name, "must be an object");
                } else if v.to_string().len() > 16_384 {
                    c.add(name, "must be at most 16 KB");
                }
            }
        }
        c.finish()
    }
}

pub const HOME_KEYS: [&str; 3] = ["quick_links", "recents", "my_stickies"];

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HomePreferenceView {
    /// `quick_links`, `recents` or `my_stickies`.
    pub key: String,
    pub is_enabled: bool,
    pub sort_order: i64,
    #[schema(value_type = Object)]
    pub config: Value,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct QuickLinkView {
    pub id: String,
    pub title: String,
    pub url: String,
    pub sort_order: i64,
    pub created_at: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RecentVisitView {
    /// `project`, `issue`, `cycle`, `module` or `view`.
    pub entity_type: String,
    pub entity_id: String,
    pub project_id: Option<String>,
    /// The entity's current name (`IDENT-12 title` for issues).
    pub name: String,
    pub visited_at: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StickyView {
    pub id: String,
    pub name: String,
    /// Sanitized HTML.
    pub description_html: String,
    pub color: Option<String>,
    pub sort_order: i64,
    pub created_at: String,
    pub updated_at: String,
}

// ---------------------------------------------------------------------------------------
// Parsing

pub fn parse_url(raw: &str) -> Result<String, String> {
    let s = raw.trim();
    let scheme_ok = s.starts_with("https://") || s.starts_with("http://");
    if !scheme_ok {
        Err("must start with https:// or http://".into())
    } else if s.len() > 2048 {
        Err("must be at most 2048 characters".into())
    } else if s.chars().any(|c| c.is_whitespace() || c.is_control()) || s.len() <= "https://".len() {
        Err("is not a link".into())
    } else {
        Ok(s.to_string())
    }
}

fn parse_title(raw: &str) -> Result<String, String> {
    let s = raw.trim();
    if s.chars().count() > 255 {
        Err("must be at most 255 characters".into())
    } else if s.chars().any(char::is_control) {
        Err("must not contain control characters".into())
    } else {
        Ok(s.to_string())
    }
}

/// A validated quick link or sticky change.
#[derive(Debug, Default, Clone)]
pub struct NoteInput {
    pub title: Option<String>,
    pub url: Option<String>,
    pub html: Option<String>,
    pub color: Option<Option<String>>,
    pub sort_order: Option<i64>,
}

impl NoteInput {
    pub fn quick_link(
        title: Option<&str>,
        url: Option<&str>,
        sort_order: Option<i64>,
        creating: bool,
    ) -> Result<Self, AppError> {
        let mut c = Checks::new();
        if creating && url.is_none() {
            c.add("url", "is required");
        }
        let n = Self {
            title: title.and_then(|t| c.take("title", parse_title(t))),
            url: url.and_then(|u| c.take("url", parse_url(u))),
            sort_order: sort_order.and_then(|v| c.take("sort_order", crate::issues::parse_order(v))),
            ..Default::default()
        };
        c.finish()?;
        Ok(n)
    }

    pub fn sticky(
        name: Option<&str>,
        html: Option<&str>,
        color: Option<Option<&str>>,
        sort_order: Option<i64>,
    ) -> Result<Self, AppError> {
        let mut c = Checks::new();
        let n = Self {
            title: name.and_then(|t| c.take("name", parse_title(t))),
            html: html.and_then(|h| c.take("description_html", crate::richtext::parse(h).map(|r| r.html))),
            color: match color {
                None => None,
                Some(None) => Some(None),
                Some(Some(v)) => c.take("color", crate::issues::parse_color(v)).map(Some),
            },
            sort_order: sort_order.and_then(|v| c.take("sort_order", crate::issues::parse_order(v))),
            ..Default::default()
        };
        c.finish()?;
        Ok(n)
    }
}

// ---------------------------------------------------------------------------------------
// The domain

pub struct Me<'a>(pub &'a App);

fn doc(w: &WsCtx) -> DocRef {
    DocRef::user(&w.ws.id, &w.actor.user_id)
}

/// The fields every record of a person's document starts with, for table `$t`: theirs, in
/// this workspace, made now.
macro_rules! base {
    ($t:ident, $w:expr, $now:expr) => {
        vec![
            $t::workspace_id.to($w.ws.id.as_str()),
            $t::user_id.to($w.actor.user_id.as_str()),
            $t::created_at.to($now),
            $t::updated_at.to($now),
            $t::created_by.to($w.actor.user_id.as_str()),
            $t::deleted_at.null(),
        ]
    };
}

/// The person's two kinds of note.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Note {
    QuickLink,
    Sticky,
}

impl Note {
    fn spec(self) -> &'static crate::docs::TableSpec {
        match self {
            Note::QuickLink => quick_links::SPEC,
            Note::Sticky => stickies::SPEC,
        }
    }
}

/// Whether the person still sees a project, asked once per project: favorites and recents
/// of projects they have left (or that turned private) drop out of their lists.
struct Visible<'a> {
    ws: &'a str,
    uid: &'a str,
    known: std::collections::HashMap<String, bool>,
}

impl<'a> Visible<'a> {
    fn new(ws: &'a str, uid: &'a str) -> Self {
        Self {
            ws,
            uid,
            known: Default::default(),
        }
    }

    fn project(&mut self, c: &rusqlite::Connection, pid: Option<&str>) -> bool {
        let Some(pid) = pid else { return false };
        if let Some(v) = self.known.get(pid) {
            return *v;
        }
        let v = matches!(crate::work::project_for_user(c, self.ws, pid, self.uid), Ok(Some(_)));
        self.known.insert(pid.to_string(), v);
        v
    }
}

/// How many recent visits a person keeps per workspace.
pub const RECENT_SLOTS: usize = 100;

/// Records that the person opened something, off the request path: a read never waits
/// on the writer. Visits within a minute of the last one to the same thing are not
/// written again; each person keeps the last [`RECENT_SLOTS`] things they opened.
pub fn visit(app: &App, w: &WsCtx, entity_type: &'static str, entity_id: &str, project_id: Option<&str>) {
    let who = Who::user(&w.actor.user_id);
    let (app, w) = (app.clone(), w.clone());
    let (id, pid) = (entity_id.to_string(), project_id.map(str::to_string));
    tokio::spawn(async move {
        let (ws, uid, eid) = (w.ws.id.clone(), w.actor.user_id.clone(), id.clone());
        let recent = app
            .readers
            .read(move |c| Ok(store::visited_within(c, &ws, &uid, entity_type, &eid, 60)?))
            .await
            .unwrap_or(false);
        if recent {
            return;
        }
        let r = app
            .writer
            .write(move |ctx| {
                let key = store::recent_slot(ctx.conn, &w.ws.id, &w.actor.user_id, entity_type, &id, RECENT_SLOTS)?;
                let now = now_rfc3339();
                let mut f = base!(recent_visits, w, &now);
                f.extend([
                    recent_visits::entity_type.to(entity_type),
                    recent_visits::entity_id.to(id.as_str()),
                    recent_visits::project_id.to(pid.clone()),
                    recent_visits::visited_at.to(now.as_str()),
                ]);
                ctx.edit(&who, &doc(&w), |e| e.put(recent_visits::SPEC, &key, &f))
            })
            .await;
        if let Err(e) = r {
            tracing::warn!(error = %e, "recording a recent visit failed");
        }
    });
}

impl Me<'_> {
    // Favorites ----------------------------------------------------------------------------

    pub async fn favorites(&self, w: &WsCtx) -> Result<Vec<FavoriteView>, AppError> {
        let (ws, uid) = (w.ws.id.clone(), w.actor.user_id.clone());
        self.0
            .readers
            .read(move |c| {
                let mut seen = Visible::new(&ws, &uid);
                let mut out = store::favorites(c, &ws, &uid)?;
                out.retain(|f| seen.project(c, f.project_id.as_deref()));
                Ok(out)
            })
            .await
    }

    /// Marks (`on`) or unmarks something the person can see as a favorite.
    pub async fn set_favorite(&self, w: &WsCtx, t: FavoriteType, entity_id: &str, on: bool) -> Result<(), AppError> {
        let who = Who::user(&w.actor.user_id);
        let w = w.clone();
        let id = entity_id.to_string();
        self.0
            .writer
            .write(move |ctx| {
                let uid = w.actor.user_id.clone();
                let key = format!("{uid}:{}:{id}", t.as_str());
                if !on {
                    if !store::is_favorite(ctx.conn, &w.ws.id, &uid, &key)? {
                        return Err(AppError::not_found("favorite"));
                    }
                    let now = now_rfc3339();
                    return ctx.edit(&who, &doc(&w), |e| {
                        e.set(
                            favorites::SPEC,
                            &key,
                            &[
                                favorites::deleted_at.to(now.as_str()),
                                favorites::updated_at.to(now.as_str()),
                            ],
                        )
                    });
                }
                let project_id = match t {
                    FavoriteType::Project => id.clone(),
                    other => {
                        let (pid, private_owner) =
                            crate::planning::owner_project(ctx.conn, &w.ws.id, other.as_str(), &id)?
                                .ok_or(AppError::not_found("favorite target"))?;
                        if private_owner.is_some_and(|o| o != uid) {
                            return Err(AppError::not_found("favorite target"));
                        }
                        pid
                    }
                };
                if store::is_favorite(ctx.conn, &w.ws.id, &uid, &key)? {
                    return Ok(()); // already one: keep when it was marked
                }
                // The person must see the project the target is in.
                crate::work::project_for_user(ctx.conn, &w.ws.id, &project_id, &uid)?
                    .ok_or(AppError::not_found("favorite target"))?;
                let now = now_rfc3339();
                let mut f = base!(favorites, w, &now);
                f.extend([
                    favorites::entity_type.to(t.as_str()),
                    favorites::entity_id.to(id.as_str()),
                    favorites::project_id.to(project_id.as_str()),
                ]);
                ctx.edit(&who, &doc(&w), |e| e.put(favorites::SPEC, &key, &f))
            })
            .await
    }

    // User properties ------------------------------------------------------------------------

    pub async fn properties(
        &self,
        w: &WsCtx,
        entity: PropEntity,
        entity_id: &str,
    ) -> Result<UserPropertiesView, AppError> {
        let uid = w.actor.user_id.clone();
        let id = entity_id.to_string();
        self.0
            .readers
            .read(move |c| {
                Ok(store::properties(c, &uid, entity, &id)?.unwrap_or_else(|| default_properties(entity, &id)))
            })
            .await
    }

    pub async fn save_properties(
        &self,
        w: &WsCtx,
        entity: PropEntity,
        entity_id: &str,
        project_id: Option<&str>,
        p: UserPropertiesPatch,
    ) -> Result<UserPropertiesView, AppError> {
        let who = Who::user(&w.actor.user_id);
        p.check()?;
        let w2 = w.clone();
        let (id, pid) = (entity_id.to_string(), project_id.map(str::to_string));
        self.0
            .writer
            .write(move |ctx| {
                // Read inside the write, so two concurrent partial saves both land.
                let cur = store::properties(ctx.conn, &w2.actor.user_id, entity, &id)?
                    .unwrap_or_else(|| default_properties(entity, &id));
                let now = now_rfc3339();
                let pick = |new: &Option<Value>, old: &Value| new.clone().unwrap_or_else(|| old.clone()).to_string();
                let mut f = base!(user_properties, w2, &now);
                f.extend([
                    user_properties::entity_type.to(entity.as_str()),
                    user_properties::entity_id.to(id.as_str()),
                    user_properties::project_id.to(pid.clone()),
                    user_properties::filters.to(pick(&p.filters, &cur.filters)),
                    user_properties::display_filters.to(pick(&p.display_filters, &cur.display_filters)),
                    user_properties::display_properties.to(pick(&p.display_properties, &cur.display_properties)),
                    user_properties::rich_filters.to(pick(&p.rich_filters, &cur.rich_filters)),
                    user_properties::extra.to(pick(&p.extra, &cur.extra)),
                ]);
                let key = format!("{}:{}:{id}", w2.actor.user_id, entity.as_str());
                ctx.edit(&who, &doc(&w2), |e| e.put(user_properties::SPEC, &key, &f))
            })
            .await?;
        self.properties(w, entity, entity_id).await
    }

    // Home ----------------------------------------------------------------------------------

    pub async fn home_preferences(&self, w: &WsCtx) -> Result<Vec<HomePreferenceView>, AppError> {
        let (ws, uid) = (w.ws.id.clone(), w.actor.user_id.clone());
        self.0.readers.read(move |c| home_preferences_in(c, &ws, &uid)).await
    }

    pub async fn set_home_preference(
        &self,
        w: &WsCtx,
        key: &str,
        is_enabled: Option<bool>,
        sort_order: Option<i64>,
        config: Option<Value>,
    ) -> Result<HomePreferenceView, AppError> {
        let who = Who::user(&w.actor.user_id);
        if !HOME_KEYS.contains(&key) {
            return Err(AppError::not_found("home preference"));
        }
        if let Some(c) = &config {
            if !c.is_object() {
                return Err(AppError::field("config", "must be an object"));
            }
            if c.to_string().len() > 16_384 {
                return Err(AppError::field("config", "must be at most 16 KB"));
            }
        }
        if let Some(Err(m)) = sort_order.map(crate::issues::parse_order) {
            return Err(AppError::field("sort_order", m));
        }
        let w2 = w.clone();
        let key = key.to_string();
        let wanted = key.clone();
        self.0
            .writer
            .write(move |ctx| {
                // Read inside the write, so two concurrent partial changes both land.
                let cur = home_preferences_in(ctx.conn, &w2.ws.id, &w2.actor.user_id)?
                    .into_iter()
                    .find(|p| p.key == key)
                    .ok_or_else(|| AppError::internal("home preference without default"))?;
                let now = now_rfc3339();
                let mut f = base!(home_preferences, w2, &now);
                f.extend([
                    home_preferences::key.to(key.as_str()),
                    home_preferences::is_enabled.to(is_enabled.unwrap_or(cur.is_enabled)),
                    home_preferences::sort_order.to(sort_order.unwrap_or(cur.sort_order)),
                    home_preferences::config.to(config.unwrap_or(cur.config).to_string()),
                ]);
                ctx.edit(&who, &doc(&w2), |e| {
                    e.put(
                        home_preferences::SPEC,
                        &format!("{}:{}:home:{key}", w2.ws.id, w2.actor.user_id),
                        &f,
                    )
                })?;
                Ok(key)
            })
            .await?;
        self.home_preferences(w)
            .await?
            .into_iter()
            .find(|p| p.key == wanted)
            .ok_or_else(|| AppError::internal("home preference not projected"))
    }

    pub async fn quick_links(&self, w: &WsCtx) -> Result<Vec<QuickLinkView>, AppError> {
        let (ws, uid) = (w.ws.id.clone(), w.actor.user_id.clone());
        self.0
            .readers
            .read(move |c| Ok(store::quick_links(c, &ws, &uid)?))
            .await
    }

    pub async fn recents(&self, w: &WsCtx, entity_type: Option<String>) -> Result<Vec<RecentVisitView>, AppError> {
        let (ws, uid) = (w.ws.id.clone(), w.actor.user_id.clone());
        self.0
            .readers
            .read(move |c| {
                let mut seen = Visible::new(&ws, &uid);
                let mut out = store::recents(c, &ws, &uid, entity_type.as_deref(), 2 * RECENT_SLOTS as i64)?;
                out.retain(|r| seen.project(c, r.project_id.as_deref()));
                out.truncate(20);
                Ok(out)
            })
            .await
    }

    pub async fn stickies(&self, w: &WsCtx) -> Result<Vec<StickyView>, AppError> {
        let (ws, uid) = (w.ws.id.clone(), w.actor.user_id.clone());
        self.0.readers.read(move |c| Ok(store::stickies(c, &ws, &uid)?)).await
    }

    /// Creates, changes (`Some(id)`) or deletes (`delete`) a quick link or a sticky of the
    /// person. Answers the record's id.
    pub async fn save_note(
        &self,
        w: &WsCtx,
        note: Note,
        id: Option<&str>,
        n: NoteInput,
        delete: bool,
    ) -> Result<String, AppError> {
        let who = Who::user(&w.actor.user_id);
        let w2 = w.clone();
        let existing = id.map(str::to_string);
        let table = note.spec().name;
        self.0
            .writer
            .write(move |ctx| {
                let uid = w2.actor.user_id.clone();
                if let Some(id) = &existing {
                    if !store::note_exists(ctx.conn, table, &w2.ws.id, &uid, id)? {
                        return Err(AppError::not_found(match note {
                            Note::Sticky => "sticky",
                            Note::QuickLink => "quick link",
                        }));
                    }
                }
                let now = now_rfc3339();
                let id = existing.clone().unwrap_or_else(crate::new_id);
                let new = existing.is_none();
                let next = store::max_note_order(ctx.conn, table, &w2.ws.id, &uid)?.saturating_add(1000);
                let sort = match n.sort_order {
                    Some(s) => Some(s),
                    None if new => Some(next),
                    None => None,
                };
                // What both kinds share: when changed, deleted, their place.
                macro_rules! common {
                    ($t:ident) => {{
                        let mut f = if new {
                            base!($t, w2, &now)
                        } else {
                            vec![$t::updated_at.to(now.as_str())]
                        };
                        if delete {
                            f.push($t::deleted_at.to(now.as_str()));
                        }
                        if let Some(s) = sort {
                            f.push($t::sort_order.to(s));
                        }
                        f
                    }};
                }
                let f = match note {
                    Note::QuickLink => {
                        let mut f = common!(quick_links);
                        // A link without a title is called by its address.
                        match (n.title.clone().filter(|t| !t.is_empty()), new) {
                            (Some(t), _) => f.push(quick_links::title.to(t)),
                            (None, true) => f.push(quick_links::title.to(n.url.clone().unwrap_or_default())),
                            (None, false) => {}
                        }
                        if let Some(u) = &n.url {
                            f.push(quick_links::url.to(u.as_str()));
                        }
                        f
                    }
                    Note::Sticky => {
                        let mut f = common!(stickies);
                        match (n.title.clone(), new) {
                            (Some(t), _) => f.push(stickies::name.to(t)),
                            (None, true) => f.push(stickies::name.to("")),
                            (None, false) => {}
                        }
                        match (&n.html, new) {
                            (Some(h), _) => f.push(stickies::description_html.to(h.as_str())),
                            (None, true) => f.push(stickies::description_html.to("")),
                            (None, false) => {}
                        }
                        if let Some(c) = &n.color {
                            f.push(stickies::color.to(c.clone()));
                        }
                        f
                    }
                };
                ctx.edit(&who, &doc(&w2), |e| {
                    if new {
                        e.create(note.spec(), &id, &f)
                    } else {
                        e.set(note.spec(), &id, &f)
                    }
                })?;
                Ok(id)
            })
            .await
    }
}

/// The caller's home preferences: the saved ones, and the defaults for the rest, in order.
fn home_preferences_in(c: &rusqlite::Connection, ws: &str, uid: &str) -> Result<Vec<HomePreferenceView>, AppError> {
    let saved = store::home_preferences(c, ws, uid)?;
    let mut out: Vec<HomePreferenceView> = HOME_KEYS
        .iter()
        .enumerate()
        .map(|(i, k)| {
            saved
                .iter()
                .find(|p| p.key == *k)
                .cloned()
                .unwrap_or(HomePreferenceView {
                    key: (*k).to_string(),
                    is_enabled: true,
                    sort_order: (i as i64 + 1) * 1000,
                    config: json!({}),
                })
        })
        .collect();
    out.sort_by_key(|p| p.sort_order);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_must_be_web_addresses() {
        assert_eq!(
            parse_url(" https://keel.dev/a?b=c "),
            Ok("https://keel.dev/a?b=c".into())
        );
        for bad in [
            "javascript:alert(1)",
            "data:text/html,x",
            "ftp://x",
            "https://",
            "https://a b",
            "/relative",
        ] {
            assert!(parse_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn property_patches_are_objects() {
        let ok = UserPropertiesPatch {
            display_filters: Some(json!({"layout": "board"})),
            ..Default::default()
        };
        assert!(ok.check().is_ok());
        let bad = UserPropertiesPatch {
            filters: Some(json!([1, 2])),
            extra: Some(json!({"x": "y".repeat(20_000)})),
            ..Default::default()
        };
        match bad.check() {
            Err(AppError::Validation(f)) => assert!(f.contains_key("filters") && f.contains_key("extra")),
            other => panic!("{other:?}"),
        }
    }
}
