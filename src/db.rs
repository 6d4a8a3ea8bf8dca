//! SQLite: connection settings, embedded migrations, the single writer thread with group
//! commit, and the pool of read-only connections.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;
use rusqlite::{Connection, OpenFlags, TransactionBehavior};
use tokio::sync::{mpsc, oneshot, Semaphore};

use crate::docs::DocCache;
use crate::error::AppError;

mod embedded {
    refinery::embed_migrations!("migrations");
}

/// How many writes the writer folds into one transaction (one fsync) at most.
const MAX_BATCH: usize = 512;

pub(crate) fn open_rw(path: &Path) -> anyhow::Result<Connection> {
    let conn = Connection::open(path).with_context(|| format!("open {}", path.display()))?;
    conn.busy_timeout(BUSY)?;
    conn.execute_batch(
        "PRAGMA journal_mode=WAL;
         PRAGMA synchronous=FULL;
         PRAGMA foreign_keys=ON;
         PRAGMA wal_autocheckpoint=0;",
    )?;
    // When the log restarts from its beginning (after a checkpoint took it all), its file
    // is cut back to this size instead of keeping its high-water mark.
    conn.pragma_update(None, "journal_size_limit", WAL_CHECKPOINT_AT as i64)?;
    Ok(conn)
}

/// The write-ahead log is checkpointed and truncated by the writer once its file passes
/// this size (`WalBound`), so it stays near it under any load (ARCHITECTURE.md, "The WAL is
/// bounded"; the soak benchmark in BENCHMARKS.md).
pub const WAL_CHECKPOINT_AT: u64 = 16 << 20;
/// The most a bounding checkpoint waits for readers of an older snapshot; the writer waits
/// with it, so this is also the most one costs a write.
const WAL_WAIT: Duration = Duration::from_millis(250);
/// After a checkpoint that readers kept from finishing, the writer tries again this much
/// later rather than after every commit.
const WAL_RETRY: Duration = Duration::from_secs(1);
/// The writer's wait for a lock (readers never hold one; other checkpointers might).
const BUSY: Duration = Duration::from_secs(10);

/// The database's write-ahead log file.
pub fn wal_path(db: &Path) -> PathBuf {
    let mut p = db.as_os_str().to_owned();
    p.push("-wal");
    PathBuf::from(p)
}

/// Sizes of the database and its write-ahead log, in bytes (0 for a file not there).
pub fn file_sizes(db: &Path) -> (u64, u64) {
    let len = |p: &Path| std::fs::metadata(p).map_or(0, |m| m.len());
    (len(db), len(&wal_path(db)))
}

/// Keeps the WAL bounded. The background checkpointer copies the log into the database
/// without blocking anybody (PASSIVE), but under continuous writes it never reaches the
/// end of the log, so the log never restarts and its file grows without end (1.24 GB beside
/// a 35 MB database after 22k writes from 8 clients). The writer, between two batches —
/// when no write is in flight — checks the file's size and, past `WAL_CHECKPOINT_AT`, runs
/// a TRUNCATE checkpoint: all of the log into the database, then the file cut to zero. It
/// waits at most `WAL_WAIT` for readers still on an older snapshot (reads are short; when
/// one is not, the checkpoint copies what it can and the writer retries `WAL_RETRY` later).
struct WalBound {
    wal: PathBuf,
    next_try: std::time::Instant,
    /// Wakes the background checkpointer (`spawn_checkpointer`), if there is one.
    kick: Option<std::sync::mpsc::SyncSender<()>>,
}

impl WalBound {
    fn new(db: &Path, kick: Option<std::sync::mpsc::SyncSender<()>>) -> Self {
        Self {
            wal: wal_path(db),
            next_try: std::time::Instant::now(),
            kick,
        }
    }

    /// Whether the log's file is past the bound.
    fn over(&self) -> bool {
        std::fs::metadata(&self.wal).map_or(0, |m| m.len()) > WAL_CHECKPOINT_AT
    }

    /// Whether a batch should end here so a checkpoint can run: the log is past the bound
    /// and the writer may try now. While a reader holds a checkpoint up, batches keep
    /// their size (one fsync for many writes) until the retry time comes.
    fn cut_batch(&self) -> bool {
        std::time::Instant::now() >= self.next_try && self.over()
    }

    fn after_commit(&mut self, conn: &Connection) {
        let len = std::fs::metadata(&self.wal).map_or(0, |m| m.len());
        if len > WAL_CHECKPOINT_AT / 4 {
            if let Some(k) = &self.kick {
                // Full means it is kicked already.
                let _ = k.try_send(());
            }
        }
        let now = std::time::Instant::now();
        if now < self.next_try || len <= WAL_CHECKPOINT_AT {
            return;
        }
        let _ = conn.busy_timeout(WAL_WAIT);
        let r = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| {
            Ok((
                r.get::<_, i64>("busy")?,
                r.get::<_, i64>("log")?,
                r.get::<_, i64>("checkpointed")?,
            ))
        });
        let _ = conn.busy_timeout(BUSY);
        match r {
            Ok((0, _, _)) => {}
            // Another checkpoint was running (SQLite answers that at once, without waiting):
            // the next commit tries again.
            Ok(_) if now.elapsed() < WAL_WAIT / 2 => {}
            Ok((_, log, done)) => {
                tracing::debug!(log, done, "wal checkpoint held up by a reader; retrying later");
                self.next_try = now + WAL_RETRY;
            }
            Err(e) => {
                tracing::warn!(error = %e, "wal checkpoint failed");
                self.next_try = now + WAL_RETRY;
            }
        }
    }
}

fn open_ro(path: &Path) -> anyhow::Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI,
    )?;
    conn.busy_timeout(Duration::from_secs(10))?;
    conn.execute_batch("PRAGMA foreign_keys=ON; PRAGMA query_only=ON;")?;
    Ok(conn)
}

/// Runs the embedded refinery migrations. Append-only: a landed migration is never edited.
pub fn migrate(path: &Path) -> anyhow::Result<usize> {
    let mut conn = open_rw(path)?;
    let report = embedded::migrations::runner()
        .run(&mut conn)
        .context("run migrations")?;
    Ok(report.applied_migrations().len())
}

/// What a write job sees: the open transaction (a savepoint of the batch) and the loaded
/// yrs documents.
pub struct WriteCtx<'a> {
    pub conn: &'a Connection,
    pub docs: &'a mut DocCache,
    /// Documents this job changed; evicted if the job or the batch fails, because yrs
    /// cannot roll back and the cached copy would then be ahead of the log.
    pub touched: HashSet<String>,
    /// Updates produced by this job, published after commit.
    pub published: Vec<Published>,
    /// The sync connection a remote update came from, so it is not echoed back to it.
    pub origin: Option<u64>,
}

/// A committed document update, handed to the sync hub.
#[derive(Debug, Clone)]
pub struct Published {
    pub doc_id: String,
    pub kind: crate::docs::DocKind,
    pub workspace_id: String,
    pub update: Vec<u8>,
    pub origin: Option<u64>,
    /// The update's sequence number in this instance's log.
    pub seq: i64,
    /// Who made the change, and every record it touched, before and after (DESIGN §11's
    /// change events: what activity feeds, webhooks, metrics and live views subscribe to).
    pub who: crate::docs::Who,
    pub changes: Vec<crate::docs::Change>,
}

/// A document not used for this long leaves the writer's memory (it reloads on next use).
pub const IDLE_DOCUMENT: std::time::Duration = std::time::Duration::from_secs(300);

type Deliver = Box<dyn FnOnce(Option<AppError>) + Send>;
type Job = Box<dyn FnOnce(&mut WriteCtx<'_>) -> (bool, Deliver) + Send>;

/// Called after each commit with the document updates it made durable.
pub type Publisher = Arc<dyn Fn(Vec<Published>) + Send + Sync>;

/// The one writer. SQLite allows one writer at a time; funnelling every write through one
/// thread turns SQLITE_BUSY into a queue and lets concurrent requests share one commit
/// (one fsync) instead of paying one each.
#[derive(Clone)]
pub struct Writer {
    tx: mpsc::UnboundedSender<Job>,
}

impl Writer {
    /// `kick` wakes the background checkpointer (`spawn_checkpointer`) when the log grows.
    pub fn start(
        path: &Path,
        publisher: Option<Publisher>,
        kick: Option<std::sync::mpsc::SyncSender<()>>,
    ) -> anyhow::Result<(Self, std::thread::JoinHandle<()>)> {
        let conn = open_rw(path)?;
        // Each statement in a transaction keeps an undo journal of the pages it changes
        // (statement and job savepoints): in memory, not a temporary file written through
        // the kernel. A 16 MiB page cache keeps a large batch's pages from spilling into the
        // WAL before its commit. Both measured on a device's first sync (BENCHMARKS.md).
        conn.execute_batch("PRAGMA temp_store=MEMORY; PRAGMA cache_size=-16384;")?;
        conn.set_prepared_statement_cache_capacity(256);
        let (tx, rx) = mpsc::unbounded_channel::<Job>();
        let handle = std::thread::Builder::new()
            .name("keel-writer".into())
            .spawn(move || writer_loop(conn, rx, publisher, kick))?;
        Ok((Self { tx }, handle))
    }

    fn submit<T, F>(&self, f: F, answer: impl FnOnce(Result<T, AppError>) + Send + 'static) -> Result<(), AppError>
    where
        T: Send + 'static,
        F: FnOnce(&mut WriteCtx<'_>) -> Result<T, AppError> + Send + 'static,
    {
        let job: Job = Box::new(move |ctx| {
            let r = f(ctx);
            let ok = r.is_ok();
            let deliver: Deliver = Box::new(move |commit_err| {
                answer(match commit_err {
                    None => r,
                    Some(e) => Err(e),
                });
            });
            (ok, deliver)
        });
        self.tx.send(job).map_err(|_| AppError::internal("writer stopped"))
    }

    /// Runs `f` on the writer inside the batch transaction and answers after the commit.
    pub async fn write<T, F>(&self, f: F) -> Result<T, AppError>
    where
        T: Send + 'static,
        F: FnOnce(&mut WriteCtx<'_>) -> Result<T, AppError> + Send + 'static,
    {
        self.enqueue(f)?.await
    }

    /// Queues `f` now and answers a future of its result: jobs queued before the first is
    /// awaited share one batch transaction (one commit), each in its own savepoint.
    pub fn enqueue<T, F>(&self, f: F) -> Result<impl std::future::Future<Output = Result<T, AppError>>, AppError>
    where
        T: Send + 'static,
        F: FnOnce(&mut WriteCtx<'_>) -> Result<T, AppError> + Send + 'static,
    {
        let (done_tx, done_rx) = oneshot::channel();
        self.submit(f, move |r| {
            let _ = done_tx.send(r);
        })?;
        // A job dropped unrun (begin or savepoint failed) drops its sender: an error here.
        Ok(async move { done_rx.await.map_err(|_| AppError::internal("writer dropped a job"))? })
    }

    /// Blocking variant for the CLI and maintenance; callable from any thread.
    pub fn write_blocking<T, F>(&self, f: F) -> Result<T, AppError>
    where
        T: Send + 'static,
        F: FnOnce(&mut WriteCtx<'_>) -> Result<T, AppError> + Send + 'static,
    {
        let (done_tx, done_rx) = std::sync::mpsc::channel();
        self.submit(f, move |r| {
            let _ = done_tx.send(r);
        })?;
        done_rx.recv().map_err(|_| AppError::internal("writer dropped a job"))?
    }
}

/// How often the writer moves the latest time seen (`clock`), at most.
const CLOCK_EVERY: Duration = Duration::from_secs(60);

fn writer_loop(
    mut conn: Connection,
    mut rx: mpsc::UnboundedReceiver<Job>,
    publisher: Option<Publisher>,
    kick: Option<std::sync::mpsc::SyncSender<()>>,
) {
    let mut docs = DocCache::new();
    let mut wal = conn
        .path()
        .filter(|p| !p.is_empty())
        .map(|p| WalBound::new(Path::new(p), kick));
    let mut clock_moved: Option<std::time::Instant> = None;
    while let Some(first) = rx.blocking_recv() {
        run_batch(&mut conn, &mut docs, first, &mut rx, wal.as_ref(), publisher.as_ref());
        // The latest time seen (`plans`: a clock turned back does not extend a licence),
        // moved at the first write and then at most once a minute: licences count days, and
        // a statement in every batch cost bulk writes a page of the log each.
        if clock_moved.is_none_or(|t| t.elapsed() >= CLOCK_EVERY) {
            match conn.execute(
                "UPDATE clock SET seen = ?1 WHERE id = 1 AND seen < ?1",
                [crate::time::now_rfc3339()],
            ) {
                Ok(_) => clock_moved = Some(std::time::Instant::now()),
                Err(e) => tracing::warn!(error = %e, "writer: clock not moved"),
            }
        }
        if let Some(w) = wal.as_mut() {
            w.after_commit(&conn);
        }
        docs.evict_idle(IDLE_DOCUMENT);
    }
}

/// Runs `first` and the jobs already queued behind it (up to `MAX_BATCH`) in one
/// transaction. The batch also ends once the log's file passes the bound: a batch's pages
/// spill into the log before its commit, and no checkpoint can take them until then, so a
/// bulk stream (a device's first sync) would otherwise carry the log far past it.
fn run_batch(
    conn: &mut Connection,
    docs: &mut DocCache,
    first: Job,
    rx: &mut mpsc::UnboundedReceiver<Job>,
    wal: Option<&WalBound>,
    publisher: Option<&Publisher>,
) {
    let mut tx = match conn.transaction_with_behavior(TransactionBehavior::Immediate) {
        Ok(tx) => tx,
        Err(e) => {
            tracing::error!(error = %e, "writer: begin failed");
            // Dropping the unrun job answers its caller with an internal error.
            drop(first);
            return;
        }
    };
    let mut delivers: Vec<Deliver> = Vec::new();
    let mut all_touched: HashSet<String> = HashSet::new();
    let mut published: Vec<Published> = Vec::new();
    let mut next = Some(first);
    let mut run = 0;
    loop {
        let job = match next.take() {
            Some(j) => j,
            None if run < MAX_BATCH && !wal.is_some_and(WalBound::cut_batch) => match rx.try_recv() {
                Ok(j) => j,
                Err(_) => break,
            },
            None => break,
        };
        run += 1;
        let sp = match tx.savepoint() {
            Ok(sp) => sp,
            Err(e) => {
                // Dropping an unrun job drops its answer channel: the caller gets an
                // internal error and nothing was written for it.
                tracing::error!(error = %e, "writer: savepoint failed");
                drop(job);
                continue;
            }
        };
        let mut ctx = WriteCtx {
            conn: &sp,
            docs,
            touched: HashSet::new(),
            published: Vec::new(),
            origin: None,
        };
        let (ok, deliver) = job(&mut ctx);
        let touched = std::mem::take(&mut ctx.touched);
        let job_published = std::mem::take(&mut ctx.published);
        if ok {
            match sp.commit() {
                Ok(()) => {
                    all_touched.extend(touched);
                    published.extend(job_published);
                    delivers.push(deliver);
                }
                Err(e) => {
                    for d in &touched {
                        docs.evict(d);
                    }
                    deliver(Some(AppError::Internal(
                        anyhow::Error::new(e).context("release savepoint"),
                    )));
                }
            }
        } else {
            // Dropping the savepoint rolls it back.
            drop(sp);
            for d in &touched {
                docs.evict(d);
            }
            deliver(None);
        }
    }
    match tx.commit() {
        Ok(()) => {
            // Published before the callers hear back: once a write returns, its update is
            // with the hub (the property test collects it right after).
            if let (Some(p), false) = (publisher, published.is_empty()) {
                p(std::mem::take(&mut published));
            }
            for d in delivers {
                d(None);
            }
        }
        Err(e) => {
            tracing::error!(error = %e, "writer: commit failed");
            for d in &all_touched {
                docs.evict(d);
            }
            for d in delivers {
                d(Some(AppError::internal("commit failed")));
            }
        }
    }
}

/// A connection of the reader pool: read-only, and reading the database file through a
/// memory map (pages still in the WAL are read as before). With the default 2 MiB page
/// cache a list joining 10,000 staff records to their people read most pages again from
/// the kernel at every request (pread: a third of its time); the map shares the kernel's
/// page cache instead, without copies, for every reader at once. The file never shrinks
/// under a running server (no VACUUM in place; restore refuses to run beside it).
fn open_reader(path: &Path) -> anyhow::Result<Connection> {
    let conn = open_ro(path)?;
    conn.pragma_update(None, "mmap_size", READER_MMAP_BYTES)?;
    Ok(conn)
}

/// How much of the database file a reader maps (more is read as before).
const READER_MMAP_BYTES: i64 = 1 << 30;

/// Read-only connections. Readers never wait on the writer (WAL); the semaphore bounds how
/// many blocking reads run at once.
pub struct Readers {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
    permits: Semaphore,
}

impl Readers {
    pub fn new(path: &Path, size: usize) -> anyhow::Result<Self> {
        let mut idle = Vec::with_capacity(size);
        for _ in 0..size {
            idle.push(open_reader(path)?);
        }
        Ok(Self {
            path: path.to_path_buf(),
            idle: Mutex::new(idle),
            permits: Semaphore::new(size),
        })
    }

    /// Runs `f` on a read-only connection on the blocking pool.
    pub async fn read<T, F>(self: &Arc<Self>, f: F) -> Result<T, AppError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, AppError> + Send + 'static,
    {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| AppError::internal("reader pool closed"))?;
        let this = Arc::clone(self);
        tokio::task::spawn_blocking(move || {
            let conn = match this.idle.lock().map(|mut v| v.pop()) {
                Ok(Some(c)) => c,
                _ => open_reader(&this.path)?,
            };
            // One read transaction: every statement of `f` sees the same snapshot (a list's
            // count and its page, a kept tree's version and the tree it stands for).
            let r = match conn.execute_batch("BEGIN") {
                Ok(()) => {
                    let r = f(&conn);
                    if !conn.is_autocommit() {
                        let _ = conn.execute_batch("ROLLBACK");
                    }
                    r
                }
                Err(e) => Err(e.into()),
            };
            if let Ok(mut v) = this.idle.lock() {
                v.push(conn);
            }
            r
        })
        .await
        .map_err(|e| AppError::internal(format!("read task: {e}")))?
    }
}

/// Checkpoints the WAL off the request path (the writer has `wal_autocheckpoint=0`).
/// Runs every `every`, and at once when the writer kicks it (the answer: give the sender to
/// `Writer::start`): the writer kicks once the log passes a quarter of the bound, so under
/// bulk writes the copying happens here, on another core, and the writer's own TRUNCATE
/// checkpoint finds little left to copy. The thread ends with the writer.
pub fn spawn_checkpointer(path: &Path, every: Duration) -> anyhow::Result<std::sync::mpsc::SyncSender<()>> {
    let conn = open_rw(path)?;
    let (kick, kicked) = std::sync::mpsc::sync_channel::<()>(1);
    std::thread::Builder::new()
        .name("keel-checkpoint".into())
        .spawn(move || loop {
            if let Err(std::sync::mpsc::RecvTimeoutError::Disconnected) = kicked.recv_timeout(every) {
                return;
            }
            if let Err(e) = conn.execute_batch("PRAGMA wal_checkpoint(PASSIVE);") {
                tracing::warn!(error = %e, "wal checkpoint failed");
            }
        })?;
    Ok(kick)
}

/// Checkpoints the whole WAL into the database and truncates it, waiting for readers and
/// the writer to let it: `keel seed` between batches (one batch is far past the writer's
/// bound), and every clean shutdown (`serve`), so a stopped server leaves no log behind.
pub fn checkpoint_truncate(path: &Path) -> anyhow::Result<()> {
    checkpoint_truncate_within(path, Duration::from_secs(60))
}

/// `checkpoint_truncate`, giving up after about `wait` (a clean stop should not hang on a
/// reader: what is not folded now is folded at the next start).
pub fn checkpoint_truncate_within(path: &Path, wait: Duration) -> anyhow::Result<()> {
    let conn = open_rw(path)?;
    conn.busy_timeout(wait)?;
    let deadline = std::time::Instant::now() + wait;
    // Readers and writers are waited for by the busy handler; another checkpoint running
    // (the writer's, the background one's) is answered busy at once, so that is retried.
    loop {
        let busy: i64 = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get("busy"))?;
        if busy == 0 {
            return Ok(());
        }
        if std::time::Instant::now() > deadline {
            anyhow::bail!(
                "the write-ahead log could not be checkpointed: it was held for {} s",
                wait.as_secs()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Online backup into a new file (`VACUUM INTO`: consistent, compacted, never a file copy).
/// A query that answers when the database does (`/health`).
pub fn ping(c: &Connection) -> rusqlite::Result<()> {
    c.query_row("SELECT 1", [], |r| r.get::<_, i64>(0))?;
    Ok(())
}

pub fn backup_into(db: &Path, dest: &Path) -> anyhow::Result<()> {
    if dest.exists() {
        anyhow::bail!("{} already exists; choose a new file", dest.display());
    }
    let conn = open_rw(db)?;
    let dest_str = dest.to_str().context("backup path must be valid UTF-8")?;
    conn.execute("VACUUM INTO ?1", [dest_str])?;
    Ok(())
}

/// `PRAGMA integrity_check` on a database file; Ok(()) when it says "ok".
///
/// The connection is read-write (but never creates the file): SQLite's check of the FTS5
/// indexes needs to write temporary state and fails on a read-only connection. The check
/// itself changes no data.
pub fn integrity_check(path: &Path) -> anyhow::Result<()> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI,
    )?;
    conn.busy_timeout(Duration::from_secs(10))?;
    let r: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
    if r == "ok" {
        Ok(())
    } else {
        anyhow::bail!("integrity_check: {r}")
    }
}

/// Replaces the database at `dest` by the backup `src`, through the SQLite backup API so
/// the WAL and the page cache stay consistent. The caller holds the data-dir lock.
pub fn restore_from(src: &Path, dest: &Path) -> anyhow::Result<()> {
    integrity_check(src).context("the backup file is not a sound Keel database")?;
    let src_conn = open_ro(src)?;
    let has_schema: bool = src_conn.query_row(
        "SELECT EXISTS(SELECT 1 FROM sqlite_master WHERE name = 'refinery_schema_history')",
        [],
        |r| r.get(0),
    )?;
    if !has_schema {
        anyhow::bail!("{} is not a Keel database", src.display());
    }
    let mut dest_conn = open_rw(dest)?;
    {
        let backup = rusqlite::backup::Backup::new(&src_conn, &mut dest_conn)?;
        backup.run_to_completion(256, Duration::from_millis(0), None)?;
    }
    dest_conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A database upgraded past V016 and V017 with an organisation already in it: its staff
    /// are found by the search index from the start, and its version moves at the first
    /// change (a manager's new name), so no kept tree stays stale.
    #[test]
    fn an_upgrade_indexes_and_versions_the_organisation_already_there() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keel.db");
        let mut conn = open_rw(&path).unwrap();
        embedded::migrations::runner()
            .set_target(refinery::Target::Version(15))
            .run(&mut conn)
            .unwrap();
        conn.execute_batch(
            "INSERT INTO users (id, email, display_name, password_hash, is_instance_admin, created_at, updated_at)
                 VALUES ('u', 'ada@example.com', 'Ada Lovelace', 'h', 0, 't', 't');
             INSERT INTO departments (id, workspace_id, name, code, short_name, dept_code, manager_id, created_at, updated_at)
                 VALUES ('d', 'w', 'Engines', 'ENG', 'ENG', '0001', 'u', 't', 't');
             INSERT INTO staff_profiles (id, workspace_id, user_id, staff_id, department_id, position, employment_status, created_at, updated_at)
                 VALUES ('w:u', 'w', 'u', 'E1', 'd', 'Analyst', 'active', 't', 't');",
        )
        .unwrap();
        drop(conn);
        migrate(&path).unwrap();
        let c = open_rw(&path).unwrap();
        let version = |c: &Connection| -> i64 {
            c.query_row("SELECT version FROM org_versions WHERE workspace_id = 'w'", [], |r| {
                r.get(0)
            })
            .unwrap()
        };
        let found = |c: &Connection, q: &str| -> Vec<String> {
            let mut st = c
                .prepare(
                    "SELECT s.id FROM staff_search f JOIN staff_profiles s ON s.rowid = f.rowid
                     WHERE staff_search MATCH ?1",
                )
                .unwrap();
            st.query_map([q], |r| r.get(0))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap()
        };
        assert_eq!(version(&c), 1);
        assert_eq!(found(&c, "\"lovelace\""), ["w:u"]);
        assert_eq!(found(&c, "\"analy\""), ["w:u"]);
        c.execute("UPDATE users SET display_name = 'Ada King' WHERE id = 'u'", [])
            .unwrap();
        assert_eq!(version(&c), 2);
        assert_eq!(found(&c, "\"king\""), ["w:u"]);
        assert!(found(&c, "\"lovelace\"").is_empty());
    }
}
