//! Plans and what each allows (seeds 002 and 004; DESIGN §7): one list in the code,
//! `FEATURES`, that the API serves (`GET /api/v1/plans`), the UI shows and refusals name.
//! Free keeps what Keel's users rely on and Plane's free edition lacks (time tracking, the
//! organisation, analytics, sync, the desktop app); premium adds what the seeds mark as
//! paid. A premium plan comes from a signed licence file (`licence`), verified offline.

pub mod licence;
pub mod records;
pub mod routes;
mod store;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::docs::{DocRef, Who};
use crate::error::AppError;
use crate::time::now_rfc3339;
use crate::workspaces::WsCtx;
use crate::App;
use records::licences;

/// Days premium keeps working after a licence's expiry date, with a warning.
pub const GRACE_DAYS: i64 = 14;

/// A workspace's plan (seed 002's `plan_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Plan {
    Free,
    Premium,
}

impl Plan {
    pub fn as_str(self) -> &'static str {
        match self {
            Plan::Free => "free",
            Plan::Premium => "premium",
        }
    }
}

/// One feature and the plan it needs.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
pub struct Feature {
    /// Stable key, as refusals (`plan_required`) name it.
    pub key: &'static str,
    pub name: &'static str,
    pub description: &'static str,
    /// The lowest plan that has it.
    pub plan: Plan,
    /// Whether this Keel has it yet: a feature of a later release is listed, so the plan
    /// page tells the whole offer, and marked as coming.
    pub available: bool,
}

/// Every feature, free first, in the order the plan page shows them.
pub const FEATURES: &[Feature] = &[
    Feature {
        key: "projects",
        name: "Projects and work items",
        description: "Projects, issues, states, labels, cycles, modules and saved views",
        plan: Plan::Free,
        available: true,
    },
    Feature {
        key: "time_tracking",
        name: "Time tracking",
        description: "Work logs, timers, summaries by member, project and department, CSV export",
        plan: Plan::Free,
        available: true,
    },
    Feature {
        key: "org_structure",
        name: "Organisation",
        description: "Departments, staff records, transfers, imports and the managers' rule",
        plan: Plan::Free,
        available: true,
    },
    Feature {
        key: "sync",
        name: "Offline sync",
        description: "Every device keeps its own database and merges with its peers",
        plan: Plan::Free,
        available: true,
    },
    Feature {
        key: "desktop",
        name: "Desktop app",
        description: "Keel in a window of its own, offline, shared on the LAN from the tray",
        plan: Plan::Free,
        available: true,
    },
    Feature {
        key: "analytics",
        name: "Analytics",
        description: "Charts of work items and time by any property, their tables as CSV, the overview",
        plan: Plan::Free,
        available: true,
    },
    Feature {
        key: "dashboards",
        name: "Dashboards beyond the default",
        description: "More dashboards than the workspace's default one (seed 000's is_pro_feature), shared or your own",
        plan: Plan::Premium,
        available: true,
    },
    Feature {
        key: "metric_thresholds",
        name: "Metrics with thresholds",
        description: "Warning and critical levels on a dashboard's metrics, and their status",
        plan: Plan::Premium,
        available: true,
    },
    Feature {
        key: "dashboard_export",
        name: "Dashboard export and import",
        description: "A dashboard as a versioned JSON document, into any workspace",
        plan: Plan::Premium,
        available: true,
    },
    Feature {
        key: "dashboard_themes",
        name: "Dashboard themes",
        description: "Themes for dashboards and their reports",
        plan: Plan::Premium,
        available: false,
    },
    Feature {
        key: "webhooks",
        name: "Webhooks and custom integrations",
        description: "Changes sent to other systems as they happen",
        plan: Plan::Premium,
        available: false,
    },
    Feature {
        key: "premium_quick_actions",
        name: "Premium quick actions",
        description: "Quick actions that require the premium tier (seed 004's requiredTier)",
        plan: Plan::Premium,
        available: false,
    },
    Feature {
        key: "chart_images",
        name: "Chart images for reports",
        description: "Charts drawn by the server as PNG or SVG (format=png|svg), for reports",
        plan: Plan::Premium,
        available: true,
    },
];

/// The feature with key `key`.
pub fn feature(key: &str) -> Option<&'static Feature> {
    FEATURES.iter().find(|f| f.key == key)
}

/// The plans and what each allows, as `GET /api/v1/plans` answers.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PlansView {
    pub plans: Vec<PlanView>,
    pub features: Vec<Feature>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PlanView {
    pub plan: Plan,
    pub name: &'static str,
    /// How a workspace gets it.
    pub how: &'static str,
}

pub fn plans() -> PlansView {
    PlansView {
        plans: vec![
            PlanView {
                plan: Plan::Free,
                name: "Free",
                how: "every workspace starts on it, with no limit of members",
            },
            PlanView {
                plan: Plan::Premium,
                name: "Premium",
                how: "a licence file for the workspace, installed by one of its owners; members up to its seats",
            },
        ],
        features: FEATURES.to_vec(),
    }
}

/// Where a workspace's licence stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LicenceState {
    /// No licence: the free plan.
    None,
    /// Valid today.
    Active,
    /// Past its expiry date, within the grace days: premium still works, with a warning.
    Grace,
    /// Past the grace days: premium features are read-only until a new licence comes.
    Expired,
    /// Installed but not valid here (signed with a key this build does not trust, or for
    /// another workspace): it grants nothing.
    Invalid,
}

/// The licence a workspace has, as its Plan page shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LicenceView {
    pub licence_id: String,
    pub customer: String,
    pub seats: u32,
    pub issued: NaiveDate,
    pub expires: NaiveDate,
    /// The last day of the grace period.
    pub grace_until: NaiveDate,
    pub installed_at: String,
    pub installed_by: Option<String>,
}

/// One feature for one workspace: on or off, and why.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FeatureState {
    pub key: &'static str,
    pub name: &'static str,
    pub plan: Plan,
    pub available: bool,
    pub enabled: bool,
    pub reason: String,
}

/// A workspace's plan (`GET /api/v1/workspaces/{slug}/plan`).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WorkspacePlanView {
    /// The display id a licence for this workspace names (`WK-…`).
    pub workspace: String,
    pub plan: Plan,
    pub state: LicenceState,
    /// What the state means for the people of the workspace (a warning in grace).
    pub message: String,
    pub seats_used: i64,
    /// `None`: no limit (the free plan).
    pub seats_allowed: Option<u32>,
    pub licence: Option<LicenceView>,
    pub features: Vec<FeatureState>,
}

/// A workspace's plan as of `today`, from its licence record (verified again here: what a
/// server sent without this build's check grants nothing it does not prove).
pub fn plan_of(c: &rusqlite::Connection, ws: &str, today: NaiveDate) -> Result<WorkspacePlanView, AppError> {
    let seats_used = crate::workspaces::member_count(c, ws)?;
    let here = crate::workspaces::display_id(c, ws)?.unwrap_or_default();
    let row = store::licence(c, ws)?;
    let checked = row
        .as_ref()
        .map(|r| licence::verify(r.text.as_bytes(), licence::trusted_keys()).and_then(|p| p.for_workspace(&here)));
    let row_plan = checked.as_ref().and_then(|c| c.as_ref().ok()).map(|p| p.plan);
    let (state, message, lic) = match (&row, checked) {
        (Some(r), Some(Ok(p))) => {
            let grace_until = p
                .expires
                .checked_add_signed(chrono::Duration::days(GRACE_DAYS))
                .unwrap_or(p.expires);
            let view = LicenceView {
                licence_id: p.licence_id.clone(),
                customer: p.customer.clone(),
                seats: p.seats,
                issued: p.issued,
                expires: p.expires,
                grace_until,
                installed_at: r.updated_at.clone(),
                installed_by: r.created_by.clone(),
            };
            let (state, message) = if p.plan != Plan::Premium {
                (
                    LicenceState::Active,
                    "a free-plan licence: premium needs a premium licence".to_string(),
                )
            } else if today < p.expires {
                (
                    LicenceState::Active,
                    format!("premium; the licence expires on {}", p.expires),
                )
            } else if today <= grace_until {
                (
                    LicenceState::Grace,
                    format!(
                        "the licence expired on {}: premium keeps working until {grace_until}; install a new licence",
                        p.expires
                    ),
                )
            } else {
                (
                    LicenceState::Expired,
                    format!(
                        "the licence expired on {}: premium features are read-only until a new licence is installed",
                        p.expires
                    ),
                )
            };
            (state, message, Some(view))
        }
        (Some(_), Some(Err(e))) => (LicenceState::Invalid, e.message(), None),
        _ => (LicenceState::None, "the free plan".to_string(), None),
    };
    let premium = matches!(state, LicenceState::Active | LicenceState::Grace)
        && lic.as_ref().is_some_and(|_| row_plan == Some(Plan::Premium));
    let plan = if premium { Plan::Premium } else { Plan::Free };
    let features = FEATURES
        .iter()
        .map(|f| {
            let (enabled, reason) = match (f.plan, premium, f.available) {
                (Plan::Premium, false, available) => (
                    false,
                    format!(
                        "needs premium ({message}){}",
                        if available {
                            ""
                        } else {
                            "; coming in a later release of Keel"
                        }
                    ),
                ),
                (_, _, false) => (false, "coming in a later release of Keel".to_string()),
                (Plan::Free, _, true) => (true, "on every plan".to_string()),
                (Plan::Premium, true, true) => (true, "on this workspace's premium licence".to_string()),
            };
            FeatureState {
                key: f.key,
                name: f.name,
                plan: f.plan,
                available: f.available,
                enabled,
                reason,
            }
        })
        .collect();
    Ok(WorkspacePlanView {
        workspace: here,
        plan,
        state,
        message,
        seats_used,
        seats_allowed: lic.as_ref().filter(|_| premium).map(|l| l.seats),
        licence: lic,
        features,
    })
}

/// Refuses (402 `plan_required`, naming the feature) a change that needs premium feature
/// `key` in a workspace without a valid premium licence. Past the grace days premium
/// features are read-only: what exists stays readable, nothing premium is made or changed.
/// For services and record rules alike (a rule gets `cx.conn` and `cx.doc.workspace_id`), so
/// a device's offline edit of a premium record is refused the same way.
pub fn require(c: &rusqlite::Connection, ws: &str, key: &str) -> Result<(), AppError> {
    let f = feature(key).ok_or_else(|| AppError::internal(format!("no feature {key}")))?;
    if f.plan == Plan::Free {
        return Ok(());
    }
    let plan = plan_of(c, ws, licence_today(c)?)?;
    if plan.plan == Plan::Premium {
        return Ok(());
    }
    Err(AppError::refused_status(
        402,
        "plan_required",
        format!("{} ({key}) needs the premium plan: {}", f.name, plan.message),
    ))
}

/// Today for a licence: the system's date, or the latest date this instance has seen
/// (the writer moves it at its first write, then at most once a minute), whichever is later.
pub fn licence_today(c: &rusqlite::Connection) -> Result<NaiveDate, AppError> {
    let now = crate::timetrack::today();
    let seen = store::clock_seen(c)?
        .and_then(|s| s.get(..10).and_then(|d| d.parse::<NaiveDate>().ok()))
        .unwrap_or(now);
    Ok(now.max(seen))
}

/// Writes the workspace's licence: a new record (or one made again after a removal), or a
/// new text for the live one, which keeps who first installed it (its author never changes).
fn put_licence(
    e: &mut crate::docs::Edit<'_>,
    ws: &str,
    text: String,
    now: &str,
    by: Option<&str>,
    live: bool,
) -> Result<(), AppError> {
    if live {
        return e.set(
            licences::SPEC,
            ws,
            &[licences::text.to(text), licences::updated_at.to(now)],
        );
    }
    e.put(
        licences::SPEC,
        ws,
        &[
            licences::workspace_id.to(ws),
            licences::text.to(text),
            licences::created_at.to(now),
            licences::updated_at.to(now),
            licences::created_by.to(by),
            licences::deleted_at.null(),
        ],
    )
}

/// `keel license install FILE --workspace SLUG`: the CLI acts for the instance's operator
/// (whoever holds the data dir), not a person, so the file is verified here, from its
/// bytes, before it is written; answers the plan it gives.
pub fn install_blocking(app: &App, slug: &str, bytes: &[u8]) -> Result<WorkspacePlanView, AppError> {
    let slug = slug.to_string();
    let bytes = bytes.to_vec();
    app.writer.write_blocking(move |ctx| {
        let ws = crate::workspaces::id_of_slug(ctx.conn, &slug)?.ok_or(AppError::not_found("workspace"))?;
        let here = crate::workspaces::display_id(ctx.conn, &ws)?.unwrap_or_default();
        licence::verify(&bytes, licence::trusted_keys())?.for_workspace(&here)?;
        let text = String::from_utf8(bytes).map_err(|_| licence::LicenceError::NotText)?;
        let now = now_rfc3339();
        let live = store::licence(ctx.conn, &ws)?.is_some();
        ctx.edit(&Who::System, &DocRef::workspace(&ws), |e| {
            put_licence(e, &ws, text, &now, None, live)
        })?;
        plan_of(ctx.conn, &ws, licence_today(ctx.conn)?)
    })
}

/// `keel license show --workspace SLUG`.
pub fn show_blocking(app: &App, slug: &str) -> Result<WorkspacePlanView, AppError> {
    let slug = slug.to_string();
    app.writer.write_blocking(move |ctx| {
        let ws = crate::workspaces::id_of_slug(ctx.conn, &slug)?.ok_or(AppError::not_found("workspace"))?;
        plan_of(ctx.conn, &ws, licence_today(ctx.conn)?)
    })
}

/// `keel license remove --workspace SLUG`.
pub fn remove_blocking(app: &App, slug: &str) -> Result<(), AppError> {
    let slug = slug.to_string();
    app.writer.write_blocking(move |ctx| {
        let ws = crate::workspaces::id_of_slug(ctx.conn, &slug)?.ok_or(AppError::not_found("workspace"))?;
        if store::licence(ctx.conn, &ws)?.is_none() {
            return Err(AppError::not_found("licence"));
        }
        let now = now_rfc3339();
        ctx.edit(&Who::System, &DocRef::workspace(&ws), |e| {
            e.set(
                licences::SPEC,
                &ws,
                &[
                    licences::deleted_at.to(now.as_str()),
                    licences::updated_at.to(now.as_str()),
                ],
            )
        })
    })
}

pub struct Plans<'a>(pub &'a App);

impl Plans<'_> {
    pub async fn plan(&self, w: &WsCtx) -> Result<WorkspacePlanView, AppError> {
        let ws = w.ws.id.clone();
        self.0.readers.read(move |c| plan_of(c, &ws, licence_today(c)?)).await
    }

    /// Installs (or replaces) the workspace's licence; the record's rule verifies it.
    pub async fn install(&self, w: &WsCtx, text: String) -> Result<WorkspacePlanView, AppError> {
        let who = Who::user(&w.actor.user_id);
        let (ws, by) = (w.ws.id.clone(), w.actor.user_id.clone());
        self.0
            .writer
            .write(move |ctx| {
                let now = now_rfc3339();
                let live = store::licence(ctx.conn, &ws)?.is_some();
                ctx.edit(&who, &DocRef::workspace(&ws), |e| {
                    put_licence(e, &ws, text, &now, Some(&by), live)
                })
            })
            .await?;
        self.plan(w).await
    }

    /// Removes the workspace's licence: back to free; nothing else changes.
    pub async fn remove(&self, w: &WsCtx) -> Result<(), AppError> {
        let who = Who::user(&w.actor.user_id);
        let ws = w.ws.id.clone();
        self.0
            .writer
            .write(move |ctx| {
                if store::licence(ctx.conn, &ws)?.is_none() {
                    return Err(AppError::not_found("licence"));
                }
                let now = now_rfc3339();
                ctx.edit(&who, &DocRef::workspace(&ws), |e| {
                    e.set(
                        licences::SPEC,
                        &ws,
                        &[
                            licences::deleted_at.to(now.as_str()),
                            licences::updated_at.to(now.as_str()),
                        ],
                    )
                })
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The gate on a real database: free refuses, a premium licence allows, grace still
    /// allows, past grace refuses again; a free feature is always allowed.
    #[test]
    fn premium_features_need_a_valid_premium_licence() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let db = dir.path().join("keel.db");
        crate::db::migrate(&db).unwrap_or_else(|e| panic!("{e}"));
        let c = rusqlite::Connection::open(&db).unwrap_or_else(|e| panic!("{e}"));
        let t = "2026-12-01T00:00:00.000Z";
        c.execute(
            "INSERT INTO workspaces (id, name, slug, display_id, created_at, updated_at) VALUES ('w1', 'A', 'a', 'WK-A00000000', ?1, ?1)",
            [t],
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let code = |r: Result<(), AppError>| r.err().map(|e| e.status_and_code());
        assert_eq!(code(require(&c, "w1", "time_tracking")), None);
        assert_eq!(code(require(&c, "w1", "dashboards")), Some((402, "plan_required")));
        let install = |issued: chrono::NaiveDate, expires: chrono::NaiveDate| {
            let v = serde_json::json!({
                "format": 1, "key": licence::TEST_KEY_ID, "licence_id": "L1", "customer": "C",
                "workspace": "WK-A00000000", "plan": "premium", "seats": 5,
                "issued": issued, "expires": expires
            });
            let text = licence::sign_for_tests(&licence::TEST_KEY_SEED, &v);
            c.execute(
                "INSERT OR REPLACE INTO licences (id, workspace_id, text, created_at, updated_at) VALUES ('w1', 'w1', ?1, ?2, ?2)",
                [text.as_str(), t],
            )
            .unwrap_or_else(|e| panic!("{e}"));
        };
        let today = crate::timetrack::today();
        let days = |n: i64| today + chrono::Duration::days(n);
        install(days(-10), days(100));
        assert_eq!(code(require(&c, "w1", "dashboards")), None);
        install(days(-100), days(-3));
        assert_eq!(code(require(&c, "w1", "dashboards")), None, "in grace");
        install(days(-100), days(-20));
        assert_eq!(
            code(require(&c, "w1", "dashboards")),
            Some((402, "plan_required")),
            "past grace"
        );
        assert_eq!(code(require(&c, "w1", "time_tracking")), None);
    }

    #[test]
    fn every_feature_is_listed_once_and_free_keeps_what_users_rely_on() {
        let mut keys: Vec<&str> = FEATURES.iter().map(|f| f.key).collect();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(keys.len(), FEATURES.len(), "a feature key twice");
        for k in ["time_tracking", "org_structure", "analytics", "sync", "desktop"] {
            assert_eq!(feature(k).map(|f| f.plan), Some(Plan::Free), "{k}");
        }
        for k in [
            "dashboards",
            "metric_thresholds",
            "dashboard_export",
            "webhooks",
            "chart_images",
        ] {
            assert_eq!(feature(k).map(|f| f.plan), Some(Plan::Premium), "{k}");
        }
        assert!(feature("nothing").is_none());
    }
}
