//! Keel: self-hosted, offline-first work management in one binary.
//!
//! The module list is the code map (see ARCHITECTURE.md):
//! - `alloc`: the allocator that bounds what decoding a peer's bytes may allocate.
//! - `db`: SQLite connections, migrations, the one writer with group commit, read pool.
//! - `docs`: yrs documents, their update log and snapshots, the projection into tables.
//! - `http`: router, layers, the policy middleware, error rendering; `extract`: extractors.
//! - `policy`: the one table that says who may call each route.
//! - `ui`: the web UI built from `ui/`, embedded and served at `/`.
//! - `sync`: devices, peers and the sync WebSocket over the documents.
//! - `fuzzing`: the structured fuzz harness of the record rules (not used by the server).
//! - `auth`, `workspaces`, `work`: the domains, each with `store.rs` (SQL) and `routes.rs`.

pub mod alloc;
pub mod analytics;
pub mod auth;
pub mod config;
pub mod dashboards;
pub mod db;
pub mod docs;
pub mod error;
pub mod extract;
pub mod fuzzing;
pub mod http;
pub mod issues;
pub mod me;
pub mod org;
pub mod planning;
pub mod plans;
pub mod policy;
pub mod richtext;
pub mod seed;
pub mod sync;
pub mod time;
pub mod timetrack;
pub mod ui;
pub mod work;
pub mod workspaces;

use std::fs::File;
use std::future::Future;
use std::ops::Deref;
use std::sync::Arc;

use anyhow::Context;

pub use config::Config;

/// A new time-ordered id (UUID v7), as stored.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

pub struct AppInner {
    pub config: Config,
    pub writer: db::Writer,
    pub readers: Arc<db::Readers>,
    pub keys: auth::Keys,
    pub limits: auth::RateLimits,
    pub ttl: auth::Ttl,
    pub one_time: auth::OneTimeTokens,
    /// Hands committed document updates to sync connections.
    pub sync: Arc<sync::Hub>,
    /// The department trees last made (`org::TreeCache`).
    pub org_trees: org::TreeCache,
    /// The facts analytics last loaded per workspace (`analytics::facts`).
    pub analytics: analytics::facts::FactCache,
    /// The metrics last computed per workspace (`dashboards::metrics`).
    pub metrics: dashboards::metrics::MetricCache,
    /// Held while the app runs: the exclusive lock on the data dir, when taken.
    _lock: Option<File>,
}

/// The application: configuration, the writer, the readers and the keys. Cheap to clone.
#[derive(Clone)]
pub struct App(Arc<AppInner>);

impl Deref for App {
    type Target = AppInner;
    fn deref(&self) -> &AppInner {
        &self.0
    }
}

/// Takes the exclusive lock of a data dir; fails if another Keel process holds it.
pub fn lock_data_dir(dir: &std::path::Path) -> anyhow::Result<File> {
    let f = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(dir.join("keel.lock"))
        .context("open keel.lock")?;
    match f.try_lock() {
        Ok(()) => Ok(f),
        Err(std::fs::TryLockError::WouldBlock) => {
            anyhow::bail!("another Keel process is using {}", dir.display())
        }
        Err(std::fs::TryLockError::Error(e)) => Err(e).context("lock data dir"),
    }
}

impl App {
    /// Opens (creating if needed) the data dir: migrations, secrets, writer and readers.
    /// `exclusive` takes the data-dir lock, as `serve` does.
    pub fn open(config: Config, exclusive: bool) -> anyhow::Result<Self> {
        std::fs::create_dir_all(&config.data_dir)
            .with_context(|| format!("create data dir {}", config.data_dir.display()))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(&config.data_dir, std::fs::Permissions::from_mode(0o700));
        }
        let lock = if exclusive {
            Some(lock_data_dir(&config.data_dir)?)
        } else {
            None
        };
        let db_path = config.db_path();
        db::migrate(&db_path)?;
        let secret = config::load_or_create_secret(&config.data_dir)?;
        let hub = Arc::new(sync::Hub::default());
        let publisher_hub = hub.clone();
        let publisher: db::Publisher = Arc::new(move |batch| publisher_hub.publish(batch));
        let kick = if exclusive {
            Some(db::spawn_checkpointer(&db_path, std::time::Duration::from_secs(1))?)
        } else {
            None
        };
        let (writer, _thread) = db::Writer::start(&db_path, Some(publisher), kick)?;
        let readers = Arc::new(db::Readers::new(&db_path, config.readers)?);
        let app = App(Arc::new(AppInner {
            keys: auth::Keys::new(&secret),
            limits: auth::RateLimits::new(config.auth_per_ip_per_min, config.auth_per_account_per_min),
            ttl: auth::Ttl {
                access: config.access_ttl,
                refresh: config.refresh_ttl,
            },
            one_time: auth::OneTimeTokens::default(),
            sync: hub,
            org_trees: org::TreeCache::default(),
            analytics: analytics::facts::FactCache::default(),
            metrics: dashboards::metrics::MetricCache::default(),
            writer,
            readers,
            config,
            _lock: lock,
        }));
        // Workspaces made before dashboards existed get their default (once).
        if exclusive {
            dashboards::ensure_defaults_blocking(&app)?;
        }
        Ok(app)
    }
}

/// Serves the app on `listener` until `shutdown` resolves, then finishes in-flight requests.
/// The CLI, the desktop shell and every test call this same function.
pub async fn serve(
    app: App,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let db = app.config.db_path();
    let served = http::serve(app, listener, shutdown).await;
    // A clean stop folds the log into the database and leaves it empty: the next start
    // does not replay it, and a copied data dir is whole in `keel.db` alone.
    let folded =
        tokio::task::spawn_blocking(move || db::checkpoint_truncate_within(&db, std::time::Duration::from_secs(5)))
            .await;
    match folded {
        Ok(Ok(())) => {}
        Ok(Err(e)) => tracing::warn!(error = %e, "checkpoint at shutdown"),
        Err(e) => tracing::warn!(error = %e, "checkpoint at shutdown"),
    }
    served
}
