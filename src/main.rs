//! The `keel` command: serve, migrate, backup, restore, user, rebuild-projection, seed.

use std::io::BufRead;
use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};
use keel::{App, Config};

#[derive(Parser)]
#[command(name = "keel", version, about = "Self-hosted, offline-first work management")]
struct Cli {
    /// Data directory (database, secrets). Default: the platform data dir.
    #[arg(long, global = true, env = "KEEL_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// Log line format.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text, env = "KEEL_LOG_FORMAT")]
    log_format: LogFormat,
    #[command(subcommand)]
    cmd: Option<Cmd>,
}

#[derive(Clone, Copy, ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run the server (the default command).
    Serve(ServeArgs),
    /// Apply database migrations and exit.
    Migrate,
    /// Write a consistent online backup of the database to FILE.
    Backup { file: PathBuf },
    /// Replace the database by the backup FILE (refused while a server uses the data dir).
    Restore { file: PathBuf },
    /// Manage accounts.
    User {
        #[command(subcommand)]
        cmd: UserCmd,
    },
    /// Rebuild every projection table from the yrs documents.
    RebuildProjection,
    /// Fold every document's update log into a snapshot.
    Compact,
    /// Fill the database with scale data for benchmarks.
    Seed(keel::seed::SeedArgs),
    /// Print the OpenAPI document (the web UI's types are generated from it).
    Openapi,
    /// A workspace's licence: install a licence file, show the plan, remove it.
    License {
        #[command(subcommand)]
        cmd: LicenseCmd,
    },
    /// Sync with a team server or another desktop.
    Sync {
        #[command(subcommand)]
        cmd: SyncCmd,
    },
}

#[derive(Subcommand)]
enum LicenseCmd {
    /// Verify the licence FILE (offline) and install it for the workspace.
    Install {
        file: PathBuf,
        #[arg(long)]
        workspace: String,
    },
    /// Show the workspace's plan and licence.
    Show {
        #[arg(long)]
        workspace: String,
    },
    /// Remove the workspace's licence: back to the free plan; no data changes.
    Remove {
        #[arg(long)]
        workspace: String,
    },
}

#[derive(Subcommand)]
enum SyncCmd {
    /// Pair this data dir with the Keel at URL as EMAIL (password from KEEL_PASSWORD or
    /// stdin); `keel serve` then syncs with it.
    Connect {
        url: String,
        #[arg(long)]
        email: String,
        /// The name this device gets in the user's device list.
        #[arg(long)]
        name: Option<String>,
    },
    /// List the peers and how each is doing.
    Status,
}

#[derive(clap::Args)]
struct ServeArgs {
    /// Address to listen on; a non-loopback address is LAN mode.
    #[arg(long, env = "KEEL_BIND", default_value = "127.0.0.1:7420")]
    bind: SocketAddr,
    /// Allowed CORS origin (repeatable), e.g. https://keel.example.com
    #[arg(long = "cors-origin", env = "KEEL_CORS_ORIGINS", value_delimiter = ',')]
    cors_origins: Vec<String>,
    /// Host name this server is reached by, besides IP addresses and localhost (repeatable).
    #[arg(long = "public-host", env = "KEEL_PUBLIC_HOSTS", value_delimiter = ',')]
    public_hosts: Vec<String>,
    /// Attempts per minute per client IP on credential endpoints.
    #[arg(long, default_value_t = 30)]
    auth_rate_per_ip: u32,
    /// Attempts per minute per account on credential endpoints.
    #[arg(long, default_value_t = 10)]
    auth_rate_per_account: u32,
}

#[derive(Subcommand)]
enum UserCmd {
    /// Create an account. The password is read from KEEL_PASSWORD or the first line of stdin.
    Create {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        /// Make the account an instance admin.
        #[arg(long)]
        admin: bool,
    },
    /// Set a new password and sign out every session. Password as for `create`.
    ResetPassword {
        #[arg(long)]
        email: String,
    },
}

fn read_password() -> anyhow::Result<String> {
    if let Ok(p) = std::env::var("KEEL_PASSWORD") {
        return Ok(p);
    }
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("read password from stdin")?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

fn init_logs(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,refinery_core=warn"));
    // Colours only on a terminal: a log file or journald gets plain readable lines.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let b = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(ansi);
    match format {
        LogFormat::Text => b.init(),
        LogFormat::Json => b.json().init(),
    }
}

/// Installs the SIGINT/SIGTERM handlers now (before the server announces itself, so a
/// signal sent right after the announcement is never lost) and resolves on the first one.
fn shutdown_signal() -> anyhow::Result<impl std::future::Future<Output = ()>> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut term = signal(SignalKind::terminate())?;
        let mut int = signal(SignalKind::interrupt())?;
        Ok(async move {
            tokio::select! { _ = term.recv() => {}, _ = int.recv() => {} }
            tracing::info!("shutting down: finishing in-flight requests");
        })
    }
    #[cfg(not(unix))]
    {
        Ok(async move {
            let _ = tokio::signal::ctrl_c().await;
        })
    }
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    init_logs(cli.log_format);
    let data_dir = cli.data_dir.unwrap_or_else(keel::config::default_data_dir);
    let config = Config::new(data_dir.clone());
    // `keel` alone is `keel serve`, with serve's flags and environment defaults.
    let cmd = match cli.cmd {
        Some(c) => c,
        None => Cli::parse_from(std::env::args_os().chain(["serve".into()]))
            .cmd
            .context("no command")?,
    };
    match cmd {
        Cmd::Openapi => {
            println!("{}", keel::http::openapi().to_pretty_json()?);
            Ok(())
        }
        Cmd::Serve(a) => {
            let mut config = config;
            config.bind = a.bind;
            config.cors_origins = a.cors_origins;
            config.public_hosts = a.public_hosts;
            config.auth_per_ip_per_min = a.auth_rate_per_ip;
            config.auth_per_account_per_min = a.auth_rate_per_account;
            let rt = tokio::runtime::Runtime::new()?;
            rt.block_on(async move {
                let lan = config.is_lan();
                let app = App::open(config.clone(), true)?;
                let listener = tokio::net::TcpListener::bind(config.bind)
                    .await
                    .with_context(|| format!("bind {}", config.bind))?;
                let addr = listener.local_addr()?;
                let shutdown = shutdown_signal()?;
                tracing::info!(data_dir = %config.data_dir.display(), "data dir");
                // This line is read by tests and scripts to learn the port; keep its shape.
                println!("Keel listening on http://{addr}");
                if lan {
                    println!(
                        "LAN mode: open http://<this machine's address>:{}/ from other machines; host names other than IP addresses need --public-host",
                        addr.port()
                    );
                }
                keel::serve(app, listener, shutdown).await
            })
        }
        Cmd::Migrate => {
            std::fs::create_dir_all(&data_dir)?;
            let n = keel::db::migrate(&config.db_path())?;
            println!("applied {n} migration(s)");
            Ok(())
        }
        Cmd::Backup { file } => {
            keel::db::backup_into(&config.db_path(), &file)?;
            keel::db::integrity_check(&file)?;
            println!("backup written to {}", file.display());
            Ok(())
        }
        Cmd::Restore { file } => {
            std::fs::create_dir_all(&data_dir)?;
            let _lock = keel::lock_data_dir(&data_dir).context("restore needs the server stopped")?;
            keel::db::restore_from(&file, &config.db_path())?;
            println!("restored {} into {}", file.display(), data_dir.display());
            Ok(())
        }
        Cmd::User { cmd } => {
            let app = App::open(config, false)?;
            match cmd {
                UserCmd::Create { email, name, admin } => {
                    let password = read_password()?;
                    let acc = keel::auth::NewAccount::parse(&email, &password, &name)
                        .map_err(|e| anyhow::anyhow!("{}", describe(&e)))?;
                    let u = keel::auth::create_user_blocking(&app, acc, admin)
                        .map_err(|e| anyhow::anyhow!("{}", describe(&e)))?;
                    println!(
                        "created {} ({}){}",
                        u.email,
                        u.id,
                        if u.is_instance_admin { ", instance admin" } else { "" }
                    );
                }
                UserCmd::ResetPassword { email } => {
                    let password = read_password()?;
                    let r = keel::auth::reset_password_blocking(&app, &email, &password)
                        .map_err(|e| anyhow::anyhow!("{}", describe(&e)))?;
                    println!(
                        "password reset for {email}; signed out {} session(s), revoked {} API token(s) and {} device(s)",
                        r.sessions, r.api_tokens, r.devices
                    );
                }
            }
            Ok(())
        }
        Cmd::License { cmd } => {
            let app = App::open(config, false)?;
            let show = |p: keel::plans::WorkspacePlanView| {
                println!("plan: {} ({})", p.plan.as_str(), p.message);
                if let Some(l) = &p.licence {
                    println!(
                        "licence {} for {}: {} seats, issued {}, expires {} (grace until {})",
                        l.licence_id, l.customer, l.seats, l.issued, l.expires, l.grace_until
                    );
                }
                let allowed = p.seats_allowed.map_or("no limit".to_string(), |s| s.to_string());
                println!("members: {} of {allowed}", p.seats_used);
            };
            let fail = |e: keel::error::AppError| anyhow::anyhow!("{}: {}", e.status_and_code().1, describe(&e));
            match cmd {
                LicenseCmd::Install { file, workspace } => {
                    let bytes = std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
                    show(keel::plans::install_blocking(&app, &workspace, &bytes).map_err(fail)?);
                }
                LicenseCmd::Show { workspace } => show(keel::plans::show_blocking(&app, &workspace).map_err(fail)?),
                LicenseCmd::Remove { workspace } => {
                    keel::plans::remove_blocking(&app, &workspace).map_err(fail)?;
                    println!("licence removed from {workspace}: the free plan");
                }
            }
            Ok(())
        }
        Cmd::RebuildProjection => {
            let app = App::open(config, false)?;
            let n = keel::docs::rebuild_projection_blocking(&app)?;
            println!("projected {n} records from the documents");
            Ok(())
        }
        Cmd::Compact => {
            let app = App::open(config, false)?;
            let n = keel::docs::compact_all_blocking(&app)?;
            println!("compacted {n} documents");
            Ok(())
        }
        Cmd::Sync { cmd } => {
            let rt = tokio::runtime::Runtime::new()?;
            rt.block_on(async move {
                let app = App::open(config, false)?;
                match cmd {
                    SyncCmd::Connect { url, email, name } => {
                        let password = read_password()?;
                        let name = name.unwrap_or_else(keel::sync::default_device_name);
                        let p = keel::sync::client::pair(&app, &url, &email, &password, &name)
                            .await
                            .map_err(|e| anyhow::anyhow!("{}", describe(&e)))?;
                        println!(
                            "paired with {} as device {}; `keel serve` syncs with it",
                            p.url, p.device_id
                        );
                    }
                    SyncCmd::Status => {
                        let peers = keel::sync::client::peers(&app)
                            .await
                            .map_err(|e| anyhow::anyhow!("{}", describe(&e)))?;
                        if peers.is_empty() {
                            println!("no peers; pair with `keel sync connect URL --email EMAIL`");
                        }
                        for p in peers {
                            println!(
                                "{}  last sync {}  {} document(s) waiting{}",
                                p.url,
                                p.last_sync_at.as_deref().unwrap_or("never"),
                                p.pending,
                                p.last_error.map(|e| format!("  last error: {e}")).unwrap_or_default()
                            );
                        }
                    }
                }
                anyhow::Ok(())
            })
        }
        Cmd::Seed(args) => {
            let app = App::open(config, false)?;
            let report = keel::seed::run(&app, &args)?;
            println!("{report}");
            Ok(())
        }
    }
}

fn describe(e: &keel::error::AppError) -> String {
    let b = e.body();
    if b.error.fields.is_empty() {
        b.error.message
    } else {
        let f: Vec<String> = b.error.fields.iter().map(|(k, v)| format!("{k} {v}")).collect();
        format!("{}: {}", b.error.message, f.join("; "))
    }
}
