//! `keel seed`: scale data for benchmarks, written through the one write path.

use std::fmt;
use std::time::Instant;

use crate::docs::{DocRef, Who};
use crate::error::AppError;
use crate::org::records::{departments, staff_private, staff_profiles, staff_transfers};
use crate::time::now_rfc3339;
use crate::work::records::{project_members, projects};
use crate::workspaces::records::{workspace_members, workspaces};
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
                        workspaces::SPEC,
                        &ws_id,
                        &[
                            workspaces::name.to(format!("Seed workspace {w}")),
                            workspaces::slug.to(slug.as_str()),
                            workspaces::display_id.to(format!("WK-S{:08}", w as u64 * 7919 % 100_000_000)),
                            workspaces::plan.to("free"),
                            workspaces::created_at.to(now.as_str()),
                            workspaces::updated_at.to(now.as_str()),
                            workspaces::created_by.to(owner.as_str()),
                            workspaces::deleted_at.null(),
                        ],
                    )?;
                    for (i, uid) in uids.iter().enumerate() {
                        let role = if i == 0 { "owner" } else { role_for(i as u32) };
                        e.create(
                            workspace_members::SPEC,
                            &crate::workspaces::member_key(&ws_id, uid),
                            &[
                                workspace_members::workspace_id.to(ws_id.as_str()),
                                workspace_members::user_id.to(uid.as_str()),
                                workspace_members::role.to(role),
                                workspace_members::created_at.to(now.as_str()),
                                workspace_members::updated_at.to(now.as_str()),
                                workspace_members::created_by.to(owner.as_str()),
                                workspace_members::deleted_at.null(),
                            ],
                        )?;
                    }
                    Ok(())
                })?;
                for p in 0..projects {
                    let pid = crate::new_id();
                    ctx.edit(&Who::System, &DocRef::project(&ws_id, &pid), |e| {
                        e.create(
                            projects::SPEC,
                            &pid,
                            &[
                                projects::workspace_id.to(ws_id.as_str()),
                                projects::name.to(format!("Project {p}")),
                                projects::identifier.to(format!("P{p}")),
                                projects::description.to(""),
                                projects::is_private.to(p % 5 == 4),
                                projects::is_time_tracking_enabled.to(true),
                                projects::archived_at.null(),
                                projects::created_at.to(now.as_str()),
                                projects::updated_at.to(now.as_str()),
                                projects::created_by.to(owner.as_str()),
                                projects::deleted_at.null(),
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
                                project_members::SPEC,
                                &crate::work::member_key(&pid, uid),
                                &[
                                    project_members::workspace_id.to(ws_id.as_str()),
                                    project_members::project_id.to(pid.as_str()),
                                    project_members::user_id.to(uid.as_str()),
                                    project_members::role.to(role),
                                    project_members::created_at.to(now.as_str()),
                                    project_members::updated_at.to(now.as_str()),
                                    project_members::created_by.to(owner.as_str()),
                                    project_members::deleted_at.null(),
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
                                departments::SPEC,
                                id,
                                &[
                                    departments::workspace_id.to(ws.as_str()),
                                    departments::name.to(format!("Department {i}")),
                                    departments::code.to(format!("D{i}")),
                                    departments::short_name.to(format!("S{i}")),
                                    departments::dept_code.to(format!("{i:04}")),
                                    departments::parent_id.to(parent.clone()),
                                    departments::manager_id.null(),
                                    departments::linked_project_id.null(),
                                    departments::is_active.to(true),
                                    departments::sort_order.to(i as i64),
                                    departments::created_at.to(now.as_str()),
                                    departments::updated_at.to(now.as_str()),
                                    departments::created_by.null(),
                                    departments::deleted_at.null(),
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
                                staff_profiles::SPEC,
                                &crate::org::records::staff_key(&ws, u),
                                &[
                                    staff_profiles::workspace_id.to(ws.as_str()),
                                    staff_profiles::user_id.to(u.as_str()),
                                    staff_profiles::staff_id.to(format!("E{i:06}")),
                                    staff_profiles::department_id.to(dept(*i)),
                                    staff_profiles::position.to(["Engineer", "Designer", "Analyst", "Manager"][i % 4]),
                                    staff_profiles::date_of_joining.to(joined.format("%Y-%m-%d").to_string()),
                                    staff_profiles::date_of_leaving.null(),
                                    staff_profiles::employment_status.to(statuses[i % statuses.len()]),
                                    staff_profiles::is_department_manager.to(false),
                                    staff_profiles::created_at.to(now.as_str()),
                                    staff_profiles::updated_at.to(now.as_str()),
                                    staff_profiles::created_by.null(),
                                    staff_profiles::deleted_at.null(),
                                ],
                            )?;
                        }
                        Ok(())
                    })?;
                    ctx.edit(&Who::System, &DocRef::staff(&ws), |e| {
                        for (i, u) in &chunk {
                            e.create(
                                staff_private::SPEC,
                                &crate::org::records::staff_key(&ws, u),
                                &[
                                    staff_private::workspace_id.to(ws.as_str()),
                                    staff_private::user_id.to(u.as_str()),
                                    staff_private::phone.to(format!("+1 555 {:04}", i % 10_000)),
                                    staff_private::job_grade.to(format!("L{}", i % 7 + 1)),
                                    staff_private::notes.to(""),
                                    staff_private::created_at.to(now.as_str()),
                                    staff_private::updated_at.to(now.as_str()),
                                    staff_private::created_by.null(),
                                    staff_private::deleted_at.null(),
                                ],
                            )?;
                            // Every seventh moved to where they are now, some time in the last two years.
                            if i % 7 == 3 {
                                let at = today - chrono::Days::new(30 + (*i as u64 * 37) % 700);
                                e.create(
                                    staff_transfers::SPEC,
                                    &crate::new_id(),
                                    &[
                                        staff_transfers::workspace_id.to(ws.as_str()),
                                        staff_transfers::user_id.to(u.as_str()),
                                        staff_transfers::from_department_id.to(dept(i + 1)),
                                        staff_transfers::to_department_id.to(dept(*i)),
                                        staff_transfers::effective_date.to(at.format("%Y-%m-%d").to_string()),
                                        staff_transfers::reason.to("Seeded"),
                                        staff_transfers::created_at.to(now.as_str()),
                                        staff_transfers::updated_at.to(now.as_str()),
                                        staff_transfers::created_by.null(),
                                        staff_transfers::deleted_at.null(),
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
    use crate::issues::records::{issue_assignees, issue_labels, issues, labels};
    use crate::planning::records::{cycles, modules};
    use crate::time::now_rfc3339;
    use crate::timetrack::records::worklogs;
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

    /// A project's labels, cycles and modules, made before its issues.
    struct Plan {
        labels: Vec<String>,
        cycles: Vec<String>,
        modules: Vec<String>,
    }

    const LABELS: [&str; 8] = ["bug", "feature", "ux", "backend", "docs", "security", "perf", "infra"];

    fn plan_project(app: &App, ws: &str, pid: &str, owner: &str, today: chrono::NaiveDate) -> Result<Plan, AppError> {
        let plan = Plan {
            labels: LABELS.iter().map(|_| crate::new_id()).collect(),
            cycles: (0..4).map(|_| crate::new_id()).collect(),
            modules: (0..4).map(|_| crate::new_id()).collect(),
        };
        let (ws, pid, owner) = (ws.to_string(), pid.to_string(), owner.to_string());
        let (labels, cycles_, modules_) = (plan.labels.clone(), plan.cycles.clone(), plan.modules.clone());
        app.writer.write_blocking(move |ctx| {
            let now = now_rfc3339();
            ctx.edit(&crate::docs::Who::System, &DocRef::project(&ws, &pid), |e| {
                for (id, name) in labels.iter().zip(LABELS) {
                    e.create(
                        labels::SPEC,
                        id,
                        &[
                            labels::workspace_id.to(ws.as_str()),
                            labels::project_id.to(pid.as_str()),
                            labels::name.to(name),
                            labels::color.to("#3f76ff"),
                            labels::created_at.to(now.as_str()),
                            labels::updated_at.to(now.as_str()),
                            labels::created_by.to(owner.as_str()),
                            labels::deleted_at.null(),
                        ],
                    )?;
                }
                // Four two-week cycles up to today, one after the other.
                for (n, id) in cycles_.iter().enumerate() {
                    let end = today - chrono::Days::new(14 * (3 - n as u64));
                    let start = end - chrono::Days::new(13);
                    e.create(
                        cycles::SPEC,
                        id,
                        &[
                            cycles::workspace_id.to(ws.as_str()),
                            cycles::project_id.to(pid.as_str()),
                            cycles::name.to(format!("Cycle {}", n + 1)),
                            cycles::description.to(""),
                            cycles::start_date.to(start.format("%Y-%m-%d").to_string()),
                            cycles::end_date.to(end.format("%Y-%m-%d").to_string()),
                            cycles::created_at.to(now.as_str()),
                            cycles::updated_at.to(now.as_str()),
                            cycles::created_by.to(owner.as_str()),
                            cycles::deleted_at.null(),
                        ],
                    )?;
                }
                for (n, id) in modules_.iter().enumerate() {
                    e.create(
                        modules::SPEC,
                        id,
                        &[
                            modules::workspace_id.to(ws.as_str()),
                            modules::project_id.to(pid.as_str()),
                            modules::name.to(format!("Module {}", n + 1)),
                            modules::description.to(""),
                            modules::status.to("in-progress"),
                            modules::lead_id.null(),
                            modules::start_date.null(),
                            modules::target_date.null(),
                            modules::created_at.to(now.as_str()),
                            modules::updated_at.to(now.as_str()),
                            modules::created_by.to(owner.as_str()),
                            modules::deleted_at.null(),
                        ],
                    )?;
                }
                Ok(())
            })
        })?;
        Ok(plan)
    }

    /// An issue's fields for analytics: 0–3 labels, points, dates, a cycle and a module for
    /// some, created on a day of the last two years and completed up to 60 days later.
    struct Extra {
        labels: Vec<String>,
        points: Option<i64>,
        start: Option<String>,
        target: Option<String>,
        cycle: Option<String>,
        module: Option<String>,
        created: String,
        completed: String,
    }

    impl Extra {
        fn draw(rng: &mut StdRng, plan: &Plan, today: chrono::NaiveDate) -> Self {
            let day = |d: chrono::NaiveDate| d.format("%Y-%m-%d").to_string();
            let created = today - chrono::Days::new(rng.gen_range(0..730));
            let mut labels: Vec<String> = (0..rng.gen_range(0..=3))
                .map(|_| plan.labels[rng.gen_range(0..plan.labels.len())].clone())
                .collect();
            labels.sort();
            labels.dedup();
            let start = created + chrono::Days::new(rng.gen_range(0..30));
            let target = start + chrono::Days::new(rng.gen_range(1..60));
            let completed = (created + chrono::Days::new(rng.gen_range(0..60))).min(today);
            Self {
                labels,
                points: rng.gen_bool(0.7).then(|| [1, 2, 3, 5, 8][rng.gen_range(0..5)]),
                start: rng.gen_bool(0.6).then(|| day(start)),
                target: rng.gen_bool(0.6).then(|| day(target)),
                cycle: rng
                    .gen_bool(0.4)
                    .then(|| plan.cycles[rng.gen_range(0..plan.cycles.len())].clone()),
                module: rng
                    .gen_bool(0.3)
                    .then(|| plan.modules[rng.gen_range(0..plan.modules.len())].clone()),
                created: format!("{}T09:00:00.000Z", day(created)),
                completed: format!("{}T17:00:00.000Z", day(completed)),
            }
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
        // The fields analytics groups by (labels, points, dates, cycles, modules, creation
        // over two years) come from a second generator, so the rest is drawn as before.
        let mut extra = StdRng::seed_from_u64(1515);
        let vocabulary = Vocabulary::new();
        let today = chrono::Utc::now().date_naive();
        let per_project = (issues as usize).div_ceil(projects.len());
        let mut issue_ids: Vec<Vec<String>> = vec![Vec::new(); projects.len()];
        let mut left = issues as usize;
        for (pi, (pid, members, states)) in projects.iter().enumerate() {
            let n = per_project.min(left);
            left -= n;
            let plan = plan_project(app, &ws, pid, &members[0], today).map_err(err)?;
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
                        Extra::draw(&mut extra, &plan, today),
                    ));
                }
                issue_ids[pi].extend(batch.iter().map(|b| b.0.clone()));
                let (ws, pid, owner) = (ws.clone(), pid.clone(), members[0].clone());
                app.writer
                    .write_blocking(move |ctx| {
                        let now = now_rfc3339();
                        ctx.edit(&crate::docs::Who::System, &DocRef::project(&ws, &pid), |e| {
                            for (id, seq, name, html, state, done, prio, assignee, est, x) in &batch {
                                let text = crate::richtext::parse(html).map(|r| r.text).unwrap_or_default();
                                e.create(
                                    issues::SPEC,
                                    id,
                                    &[
                                        issues::workspace_id.to(ws.as_str()),
                                        issues::project_id.to(pid.as_str()),
                                        issues::sequence_id.to(*seq),
                                        issues::name.to(name.as_str()),
                                        issues::description_html.to(html.as_str()),
                                        issues::description_text.to(text),
                                        issues::state_id.to(state.as_str()),
                                        issues::priority.to(*prio),
                                        issues::estimate_point.to(x.points.map_or(Val::Null, Val::from)),
                                        issues::estimate_time.to(*est),
                                        issues::start_date.to(x.start.as_deref().map_or(Val::Null, Val::from)),
                                        issues::target_date.to(x.target.as_deref().map_or(Val::Null, Val::from)),
                                        issues::parent_id.null(),
                                        issues::sort_order.to(*seq * 65_536),
                                        issues::completed_at.to(if *done {
                                            Val::from(x.completed.as_str())
                                        } else {
                                            Val::Null
                                        }),
                                        issues::cycle_id.to(x.cycle.as_deref().map_or(Val::Null, Val::from)),
                                        issues::module_id.to(x.module.as_deref().map_or(Val::Null, Val::from)),
                                        issues::created_at.to(x.created.as_str()),
                                        issues::updated_at.to(now.as_str()),
                                        issues::created_by.to(owner.as_str()),
                                        issues::deleted_at.null(),
                                    ],
                                )?;
                                for label in &x.labels {
                                    e.put(
                                        issue_labels::SPEC,
                                        &format!("{id}:{label}"),
                                        &[
                                            issue_labels::workspace_id.to(ws.as_str()),
                                            issue_labels::project_id.to(pid.as_str()),
                                            issue_labels::issue_id.to(id.as_str()),
                                            issue_labels::label_id.to(label.as_str()),
                                            issue_labels::created_at.to(now.as_str()),
                                            issue_labels::updated_at.to(now.as_str()),
                                            issue_labels::created_by.to(owner.as_str()),
                                            issue_labels::deleted_at.null(),
                                        ],
                                    )?;
                                }
                                e.put(
                                    issue_assignees::SPEC,
                                    &format!("{id}:{assignee}"),
                                    &[
                                        issue_assignees::workspace_id.to(ws.as_str()),
                                        issue_assignees::project_id.to(pid.as_str()),
                                        issue_assignees::issue_id.to(id.as_str()),
                                        issue_assignees::user_id.to(assignee.as_str()),
                                        issue_assignees::created_at.to(now.as_str()),
                                        issue_assignees::updated_at.to(now.as_str()),
                                        issue_assignees::created_by.to(owner.as_str()),
                                        issue_assignees::deleted_at.null(),
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
                                        worklogs::SPEC,
                                        id,
                                        &[
                                            worklogs::workspace_id.to(ws.as_str()),
                                            worklogs::project_id.to(pid.as_str()),
                                            worklogs::issue_id.to(issue.as_str()),
                                            worklogs::logged_by.to(user.as_str()),
                                            worklogs::duration_minutes.to(*minutes),
                                            worklogs::description.to("seeded"),
                                            worklogs::logged_at.to(day.as_str()),
                                            worklogs::created_at.to(now.as_str()),
                                            worklogs::updated_at.to(now.as_str()),
                                            worklogs::created_by.to(user.as_str()),
                                            worklogs::deleted_at.null(),
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
