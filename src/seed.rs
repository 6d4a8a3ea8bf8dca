//! `keel seed`: scale data for benchmarks, written through the one write path.

use std::fmt;
use std::time::Instant;

use crate::docs::{DocRef, Val};
use crate::error::AppError;
use crate::time::now_rfc3339;
use crate::App;

#[derive(clap::Args, Debug, Clone)]
pub struct SeedArgs {
    /// Workspaces to create.
    #[arg(long, default_value_t = 10)]
    pub workspaces: u32,
    /// Accounts to create; every workspace gets all of them as members.
    #[arg(long, default_value_t = 200)]
    pub members: u32,
    /// Projects per workspace.
    #[arg(long, default_value_t = 50)]
    pub projects: u32,
    /// Password of every seeded account.
    #[arg(long, default_value = "keel-seed-password")]
    pub password: String,
}

pub struct SeedReport {
    pub users: u32,
    pub workspaces: u32,
    pub projects: u32,
    pub seconds: f64,
    /// Email of the owner of every seeded workspace.
    pub owner_email: String,
    pub first_slug: String,
}

impl fmt::Display for SeedReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "seeded {} users, {} workspaces, {} projects in {:.1} s; sign in as {} (workspace {})",
            self.users, self.workspaces, self.projects, self.seconds, self.owner_email, self.first_slug
        )
    }
}

fn role_for(i: u32) -> &'static str {
    match i % 10 {
        0 => "admin",
        9 => "guest",
        _ => "member",
    }
}

pub fn run(app: &App, a: &SeedArgs) -> anyhow::Result<SeedReport> {
    let started = Instant::now();
    let hash = crate::auth::hash_password_blocking(&a.password).map_err(|e| anyhow::anyhow!("{e}"))?;
    let run_tag = crate::new_id()[..8].to_string();
    let n_users = a.members.max(1);
    let emails: Vec<String> = (0..n_users).map(|i| format!("seed{i}-{run_tag}@keel.test")).collect();
    let em = emails.clone();
    let user_ids: Vec<String> = app
        .writer
        .write_blocking(move |ctx| {
            em.iter()
                .enumerate()
                .map(|(i, e)| Ok(crate::auth::insert_user_with_hash(ctx.conn, e, &format!("Seed User {i}"), &hash)?.id))
                .collect::<Result<Vec<_>, AppError>>()
        })
        .map_err(|e| anyhow::anyhow!("seed users: {e}"))?;
    let owner = user_ids[0].clone();
    let mut first_slug = String::new();
    for w in 0..a.workspaces {
        let slug = format!("seed-{run_tag}-{w}");
        if w == 0 {
            first_slug = slug.clone();
        }
        let ws_id = crate::new_id();
        let (uids, owner, projects) = (user_ids.clone(), owner.clone(), a.projects);
        app.writer
            .write_blocking(move |ctx| {
                let now = now_rfc3339();
                let wd = DocRef::workspace(&ws_id);
                ctx.edit(&wd, |e| {
                    e.create(
                        "workspaces",
                        &ws_id,
                        &[
                            ("name", format!("Seed workspace {w}").into()),
                            ("slug", slug.as_str().into()),
                            ("display_id", format!("WK-S{:08}", w as u64 * 7919 % 100_000_000).into()),
                            ("plan", "free".into()),
                            ("created_at", now.as_str().into()),
                            ("updated_at", now.as_str().into()),
                            ("created_by", owner.as_str().into()),
                            ("deleted_at", Val::Null),
                        ],
                    )?;
                    for (i, uid) in uids.iter().enumerate() {
                        let role = if i == 0 { "owner" } else { role_for(i as u32) };
                        e.create(
                            "workspace_members",
                            &crate::new_id(),
                            &[
                                ("workspace_id", ws_id.as_str().into()),
                                ("user_id", uid.as_str().into()),
                                ("role", role.into()),
                                ("created_at", now.as_str().into()),
                                ("updated_at", now.as_str().into()),
                                ("created_by", owner.as_str().into()),
                                ("deleted_at", Val::Null),
                            ],
                        )?;
                    }
                    Ok(())
                })?;
                for p in 0..projects {
                    let pid = crate::new_id();
                    ctx.edit(&DocRef::project(&ws_id, &pid), |e| {
                        e.create(
                            "projects",
                            &pid,
                            &[
                                ("workspace_id", ws_id.as_str().into()),
                                ("name", format!("Project {p}").into()),
                                ("identifier", format!("P{p}").into()),
                                ("description", "".into()),
                                ("is_private", (p % 5 == 4).into()),
                                ("is_time_tracking_enabled", true.into()),
                                ("archived_at", Val::Null),
                                ("created_at", now.as_str().into()),
                                ("updated_at", now.as_str().into()),
                                ("created_by", owner.as_str().into()),
                                ("deleted_at", Val::Null),
                            ],
                        )?;
                        // The owner administers every project; a rotating tenth of the
                        // members work in each.
                        for (i, uid) in uids.iter().enumerate() {
                            if i != 0 && !(i as u32 + p).is_multiple_of(10) {
                                continue;
                            }
                            let role = if i == 0 { "admin" } else { "member" };
                            e.create(
                                "project_members",
                                &crate::new_id(),
                                &[
                                    ("workspace_id", ws_id.as_str().into()),
                                    ("project_id", pid.as_str().into()),
                                    ("user_id", uid.as_str().into()),
                                    ("role", role.into()),
                                    ("created_at", now.as_str().into()),
                                    ("updated_at", now.as_str().into()),
                                    ("created_by", owner.as_str().into()),
                                    ("deleted_at", Val::Null),
                                ],
                            )?;
                        }
                        Ok(())
                    })?;
                }
                Ok(())
            })
            .map_err(|e| anyhow::anyhow!("seed workspace {w}: {e}"))?;
    }
    Ok(SeedReport {
        users: n_users,
        workspaces: a.workspaces,
        projects: a.workspaces * a.projects,
        seconds: started.elapsed().as_secs_f64(),
        owner_email: emails[0].clone(),
        first_slug,
    })
}
