//! `keel seed`: scale data for benchmarks, written through the one write path.

use std::fmt;
use std::time::Instant;

use crate::docs::{DocRef, Val, Who};
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
    /// Issues, spread over the projects of the first workspace.
    #[arg(long, default_value_t = 0)]
    pub issues: u32,
    /// Work logs on those issues, by the projects' members over the last two years.
    #[arg(long, default_value_t = 0)]
    pub worklogs: u32,
    /// Departments in the first workspace: a tree of up to five levels.
    #[arg(long, default_value_t = 0)]
    pub departments: u32,
    /// Staff records in the first workspace (one per member, up to the members there are),
    /// spread over the departments, every seventh with a transfer in the last two years.
    #[arg(long, default_value_t = 0)]
    pub staff: u32,
    /// Password of every seeded account.
    #[arg(long, default_value = "keel-seed-password")]
    pub password: String,
}

pub struct SeedReport {
    pub users: u32,
    pub workspaces: u32,
    pub projects: u32,
    pub issues: u32,
    pub worklogs: u32,
    pub seconds: f64,
    /// Email of the owner of every seeded workspace.
    pub owner_email: String,
    pub first_slug: String,
}

impl fmt::Display for SeedReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "seeded {} users, {} workspaces, {} projects, {} issues, {} work logs in {:.1} s; sign in as {} (workspace {})",
            self.users,
            self.workspaces,
            self.projects,
            self.issues,
            self.worklogs,
            self.seconds,
            self.owner_email,
            self.first_slug
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
    let mut first_ws = String::new();
    for w in 0..a.workspaces {
        let slug = format!("seed-{run_tag}-{w}");
        let ws_id = crate::new_id();
        if w == 0 {
            first_slug = slug.clone();
            first_ws = ws_id.clone();
        }
        let (uids, owner, projects) = (user_ids.clone(), owner.clone(), a.projects);
        app.writer
            .write_blocking(move |ctx| {
                let now = now_rfc3339();
                let wd = DocRef::workspace(&ws_id);
                ctx.edit(&Who::System, &wd, |e| {
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
                            &crate::workspaces::member_key(&ws_id, uid),
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
                    ctx.edit(&Who::System, &DocRef::project(&ws_id, &pid), |e| {
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
                                &crate::work::member_key(&pid, uid),
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
                        crate::issues::create_default_states(e, &ws_id, &pid, &owner, &now)
                    })?;
                }
                Ok(())
            })
            .map_err(|e| anyhow::anyhow!("seed workspace {w}: {e}"))?;
    }
    if a.issues > 0 && a.workspaces > 0 {
        work::seed(app, &first_slug, a.issues, a.worklogs)?;
    }
    if a.workspaces > 0 && (a.departments > 0 || a.staff > 0) {
        org::seed(app, &first_ws, &user_ids, a.departments, a.staff)?;
    }
    crate::db::checkpoint_truncate(&app.config.db_path())?;
    Ok(SeedReport {
        users: n_users,
        workspaces: a.workspaces,
        projects: a.workspaces * a.projects,
        issues: if a.workspaces > 0 { a.issues } else { 0 },
        worklogs: if a.workspaces > 0 && a.issues > 0 {
            a.worklogs
        } else {
            0
        },
        seconds: started.elapsed().as_secs_f64(),
        owner_email: emails[0].clone(),
        first_slug,
    })
}

/// Departments and staff records for the org benchmarks, through the write path.
mod org {
    use super::*;

    /// Records per writer job: a job is the writer's unit, and the WAL bound's.
    const CHUNK: usize = 1000;

    pub(super) fn seed(app: &App, ws: &str, users: &[String], departments: u32, staff: u32) -> anyhow::Result<()> {
        // A tree of up to five levels, filled breadth first: 8 roots, 5 children each.
        let n = departments.min(9999) as usize;
        let mut depts: Vec<(String, Option<String>, usize)> = Vec::with_capacity(n);
        for i in 0..n {
            let (parent, level) = if i < 8 {
                (None, 1)
            } else {
                let p = (i - 8) / 5;
                (Some(depts[p].0.clone()), depts[p].2 + 1)
            };
            if level > 5 {
                break;
            }
            depts.push((crate::new_id(), parent, level));
        }
        let now = now_rfc3339();
        for (c, chunk) in depts.chunks(CHUNK).enumerate() {
            let (ws, now, chunk) = (ws.to_string(), now.clone(), chunk.to_vec());
            app.writer
                .write_blocking(move |ctx| {
                    ctx.edit(&Who::System, &DocRef::workspace(&ws), |e| {
                        for (k, (id, parent, _)) in chunk.iter().enumerate() {
                            let i = c * CHUNK + k;
                            e.create(
                                "departments",
                                id,
                                &[
                                    ("workspace_id", ws.as_str().into()),
                                    ("name", format!("Department {i}").into()),
                                    ("code", format!("D{i}").into()),
                                    ("short_name", format!("S{i}").into()),
                                    ("dept_code", format!("{i:04}").into()),
                                    ("parent_id", parent.clone().into()),
                                    ("manager_id", Val::Null),
                                    ("linked_project_id", Val::Null),
                                    ("is_active", true.into()),
                                    ("sort_order", (i as i64).into()),
                                    ("created_at", now.as_str().into()),
                                    ("updated_at", now.as_str().into()),
                                    ("created_by", Val::Null),
                                    ("deleted_at", Val::Null),
                                ],
                            )?;
                        }
                        Ok(())
                    })
                })
                .map_err(|e| anyhow::anyhow!("seed departments: {e}"))?;
        }
        let people: Vec<(usize, String)> = users.iter().take(staff as usize).cloned().enumerate().collect();
        let statuses = [
            "active",
            "active",
            "active",
            "probation",
            "active",
            "suspended",
            "resigned",
            "active",
        ];
        let today = chrono::Utc::now().date_naive();
        for chunk in people.chunks(CHUNK) {
            let (ws, now, chunk) = (ws.to_string(), now.clone(), chunk.to_vec());
            let ids: Vec<String> = depts.iter().map(|d| d.0.clone()).collect();
            app.writer
                .write_blocking(move |ctx| {
                    let dept = |i: usize| (!ids.is_empty()).then(|| ids[(i * 7919) % ids.len()].clone());
                    ctx.edit(&Who::System, &DocRef::workspace(&ws), |e| {
                        for (i, u) in &chunk {
                            let joined = today - chrono::Days::new(800 + (*i as u64 % 1500));
                            e.create(
                                "staff_profiles",
                                &crate::org::records::staff_key(&ws, u),
                                &[
                                    ("workspace_id", ws.as_str().into()),
                                    ("user_id", u.as_str().into()),
                                    ("staff_id", format!("E{i:06}").into()),
                                    ("department_id", dept(*i).into()),
                                    ("position", ["Engineer", "Designer", "Analyst", "Manager"][i % 4].into()),
                                    ("date_of_joining", joined.format("%Y-%m-%d").to_string().into()),
                                    ("date_of_leaving", Val::Null),
                                    ("employment_status", statuses[i % statuses.len()].into()),
                                    ("is_department_manager", false.into()),
                                    ("created_at", now.as_str().into()),
                                    ("updated_at", now.as_str().into()),
                                    ("created_by", Val::Null),
                                    ("deleted_at", Val::Null),
                                ],
                            )?;
                        }
                        Ok(())
                    })?;
                    ctx.edit(&Who::System, &DocRef::staff(&ws), |e| {
                        for (i, u) in &chunk {
                            e.create(
                                "staff_private",
                                &crate::org::records::staff_key(&ws, u),
                                &[
                                    ("workspace_id", ws.as_str().into()),
                                    ("user_id", u.as_str().into()),
                                    ("phone", format!("+1 555 {:04}", i % 10_000).into()),
                                    ("job_grade", format!("L{}", i % 7 + 1).into()),
                                    ("notes", "".into()),
                                    ("created_at", now.as_str().into()),
                                    ("updated_at", now.as_str().into()),
                                    ("created_by", Val::Null),
                                    ("deleted_at", Val::Null),
                                ],
                            )?;
                            // Every seventh moved to where they are now, some time in the last two years.
                            if i % 7 == 3 {
                                let at = today - chrono::Days::new(30 + (*i as u64 * 37) % 700);
                                e.create(
                                    "staff_transfers",
                                    &crate::new_id(),
                                    &[
                                        ("workspace_id", ws.as_str().into()),
                                        ("user_id", u.as_str().into()),
                                        ("from_department_id", dept(i + 1).into()),
                                        ("to_department_id", dept(*i).into()),
                                        ("effective_date", at.format("%Y-%m-%d").to_string().into()),
                                        ("reason", "Seeded".into()),
                                        ("created_at", now.as_str().into()),
                                        ("updated_at", now.as_str().into()),
                                        ("created_by", Val::Null),
                                        ("deleted_at", Val::Null),
                                    ],
                                )?;
                            }
                        }
                        Ok(())
                    })
                })
                .map_err(|e| anyhow::anyhow!("seed staff: {e}"))?;
        }
        Ok(())
    }
}

/// Issues and work logs at scale, through the write path (one edit per batch of records).
mod work {
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    use crate::docs::{DocRef, Val};
    use crate::error::AppError;
    use crate::time::now_rfc3339;
    use crate::App;

    const WORDS: [&str; 24] = [
        "login",
        "safari",
        "export",
        "invoice",
        "sidebar",
        "dark",
        "mode",
        "search",
        "timer",
        "report",
        "sync",
        "offline",
        "crash",
        "upload",
        "avatar",
        "billing",
        "webhook",
        "latency",
        "android",
        "calendar",
        "import",
        "csv",
        "dashboard",
        "permissions",
    ];
    const PRIORITIES: [&str; 5] = ["urgent", "high", "medium", "low", "none"];
    const BATCH: usize = 1000;

    /// A vocabulary of about 3,200 words, made-up ones and the product words among them, drawn
    /// with Zipf's law (the word of rank r in proportion to 1/r) as in real text, so a few
    /// words are everywhere and most are rare.
    struct Vocabulary {
        words: Vec<String>,
        cumulative: Vec<f64>,
    }

    impl Vocabulary {
        fn new() -> Self {
            const SYL: [&str; 20] = [
                "ka", "lo", "mi", "ne", "ru", "sa", "ti", "vo", "be", "di", "fu", "go", "ha", "je", "ko", "lu", "ma",
                "pi", "re", "zo",
            ];
            let mut words: Vec<String> = Vec::new();
            for a in SYL {
                for b in SYL {
                    for c in ["n", "r", "s", "t", "l", "m", "k", "x"] {
                        words.push(format!("{a}{b}{c}"));
                    }
                }
            }
            // The product words rank 31st to 54th: each in roughly a tenth of the issues.
            for (i, w) in WORDS.iter().enumerate() {
                words.insert(30 + i, w.to_string());
            }
            let mut total = 0.0;
            let cumulative = (1..=words.len())
                .map(|r| {
                    total += 1.0 / r as f64;
                    total
                })
                .collect();
            Self { words, cumulative }
        }

        fn draw(&self, rng: &mut StdRng) -> &str {
            let total = self.cumulative.last().copied().unwrap_or(1.0);
            let x = rng.gen_range(0.0..total);
            let i = self.cumulative.partition_point(|c| *c < x).min(self.words.len() - 1);
            &self.words[i]
        }

        fn text(&self, rng: &mut StdRng, n: usize) -> String {
            (0..n).map(|_| self.draw(rng)).collect::<Vec<_>>().join(" ")
        }
    }

    pub(super) fn seed(app: &App, slug: &str, issues: u32, worklogs: u32) -> anyhow::Result<()> {
        let slug = slug.to_string();
        let err = |e: AppError| anyhow::anyhow!("seed work: {e}");
        // (workspace, [(project, [member ids], [(state id, group)])])
        let (ws, projects) = app
            .writer
            .write_blocking(move |ctx| Ok(crate::issues::seed_targets(ctx.conn, &slug)?))
            .map_err(err)?;
        anyhow::ensure!(!projects.is_empty(), "the first workspace has no projects");
        let mut rng = StdRng::seed_from_u64(7420);
        let vocabulary = Vocabulary::new();
        let per_project = (issues as usize).div_ceil(projects.len());
        let mut issue_ids: Vec<Vec<String>> = vec![Vec::new(); projects.len()];
        let mut left = issues as usize;
        for (pi, (pid, members, states)) in projects.iter().enumerate() {
            let n = per_project.min(left);
            left -= n;
            let mut made = 0;
            while made < n {
                let k = BATCH.min(n - made);
                let mut batch = Vec::with_capacity(k);
                for j in 0..k {
                    let seq = (made + j + 1) as i64;
                    let (state, group) = &states[rng.gen_range(0..states.len())];
                    let assignee = members[rng.gen_range(0..members.len())].clone();
                    batch.push((
                        crate::new_id(),
                        seq,
                        format!("{} {}", vocabulary.text(&mut rng, 4), seq),
                        format!("<p>{}</p>", vocabulary.text(&mut rng, 24)),
                        state.clone(),
                        group == "completed",
                        PRIORITIES[rng.gen_range(0..PRIORITIES.len())],
                        assignee,
                        rng.gen_range(30..2400i64),
                    ));
                }
                issue_ids[pi].extend(batch.iter().map(|b| b.0.clone()));
                let (ws, pid, owner) = (ws.clone(), pid.clone(), members[0].clone());
                app.writer
                    .write_blocking(move |ctx| {
                        let now = now_rfc3339();
                        ctx.edit(&crate::docs::Who::System, &DocRef::project(&ws, &pid), |e| {
                            for (id, seq, name, html, state, done, prio, assignee, est) in &batch {
                                let text = crate::richtext::parse(html).map(|r| r.text).unwrap_or_default();
                                e.create(
                                    "issues",
                                    id,
                                    &[
                                        ("workspace_id", ws.as_str().into()),
                                        ("project_id", pid.as_str().into()),
                                        ("sequence_id", (*seq).into()),
                                        ("name", name.as_str().into()),
                                        ("description_html", html.as_str().into()),
                                        ("description_text", text.into()),
                                        ("state_id", state.as_str().into()),
                                        ("priority", (*prio).into()),
                                        ("estimate_point", Val::Null),
                                        ("estimate_time", (*est).into()),
                                        ("start_date", Val::Null),
                                        ("target_date", Val::Null),
                                        ("parent_id", Val::Null),
                                        ("sort_order", (*seq * 65_536).into()),
                                        ("completed_at", if *done { Val::from(now.as_str()) } else { Val::Null }),
                                        ("created_at", now.as_str().into()),
                                        ("updated_at", now.as_str().into()),
                                        ("created_by", owner.as_str().into()),
                                        ("deleted_at", Val::Null),
                                    ],
                                )?;
                                e.put(
                                    "issue_assignees",
                                    &format!("{id}:{assignee}"),
                                    &[
                                        ("workspace_id", ws.as_str().into()),
                                        ("project_id", pid.as_str().into()),
                                        ("issue_id", id.as_str().into()),
                                        ("user_id", assignee.as_str().into()),
                                        ("created_at", now.as_str().into()),
                                        ("updated_at", now.as_str().into()),
                                        ("created_by", owner.as_str().into()),
                                        ("deleted_at", Val::Null),
                                    ],
                                )?;
                            }
                            Ok(())
                        })
                    })
                    .map_err(err)?;
                made += k;
            }
        }
        // The writer keeps the log bounded between these jobs (`db::WalBound`).
        if worklogs == 0 {
            return Ok(());
        }
        // Work logs: every (project, member) pair gets an equal share, on random issues of
        // the project and random days of the last two years.
        let pairs: Vec<(usize, String)> = projects
            .iter()
            .enumerate()
            .filter(|(pi, _)| !issue_ids[*pi].is_empty())
            .flat_map(|(pi, (_, members, _))| members.iter().map(move |m| (pi, m.clone())))
            .collect();
        anyhow::ensure!(!pairs.is_empty(), "no issues to log time on");
        let per_pair = (worklogs as usize).div_ceil(pairs.len());
        let mut left = worklogs as usize;
        let today = chrono::Utc::now().date_naive();
        for (pi, user) in pairs {
            let n = per_pair.min(left);
            left -= n;
            let mut made = 0;
            while made < n {
                let k = BATCH.min(n - made);
                let batch: Vec<(String, String, i64, String)> = (0..k)
                    .map(|_| {
                        let issue = issue_ids[pi][rng.gen_range(0..issue_ids[pi].len())].clone();
                        let day = (today - chrono::Days::new(rng.gen_range(0..730)))
                            .format("%Y-%m-%d")
                            .to_string();
                        (crate::new_id(), issue, rng.gen_range(15..=240i64), day)
                    })
                    .collect();
                let (ws, pid, user) = (ws.clone(), projects[pi].0.clone(), user.clone());
                app.writer
                    .write_blocking(move |ctx| {
                        let now = now_rfc3339();
                        let quarter = crate::timetrack::quarter_of(&now);
                        ctx.edit(
                            &crate::docs::Who::System,
                            &DocRef::worklogs(&ws, &pid, &user, &quarter),
                            |e| {
                                for (id, issue, minutes, day) in &batch {
                                    e.create(
                                        "worklogs",
                                        id,
                                        &[
                                            ("workspace_id", ws.as_str().into()),
                                            ("project_id", pid.as_str().into()),
                                            ("issue_id", issue.as_str().into()),
                                            ("logged_by", user.as_str().into()),
                                            ("duration_minutes", (*minutes).into()),
                                            ("description", "seeded".into()),
                                            ("logged_at", day.as_str().into()),
                                            ("created_at", now.as_str().into()),
                                            ("updated_at", now.as_str().into()),
                                            ("created_by", user.as_str().into()),
                                            ("deleted_at", Val::Null),
                                        ],
                                    )?;
                                }
                                Ok(())
                            },
                        )
                    })
                    .map_err(err)?;
                made += k;
            }
        }
        Ok(())
    }
}
