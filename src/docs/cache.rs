//! The writer's documents in memory: loaded lazily from snapshot and log, with a fresh
//! random client id each time, evicted when idle or past `MAX_LOADED`.

use super::*;

/// A loaded document in the writer's cache.
pub struct Loaded {
    pub doc: Doc,
    /// Updates in the log after the snapshot.
    pub log_len: u64,
    last_used: u64,
    used_at: std::time::Instant,
}

/// The writer's documents, loaded lazily from the snapshot and log, evicted when idle.
#[derive(Default)]
pub struct DocCache {
    loaded: HashMap<String, Loaded>,
    clock: u64,
}

/// A fresh document with a random client id: a client id is never persisted or reused, so
/// two clones or restores of one data dir can never write under the same id (DESIGN §4).
pub fn fresh_doc() -> Doc {
    Doc::with_options(Options::with_client_id(ClientID::random()))
}

/// Builds a document from a snapshot and the updates after it.
pub fn doc_from_parts(snapshot: Option<&[u8]>, updates: &[Vec<u8>]) -> anyhow::Result<Doc> {
    let doc = fresh_doc();
    {
        let mut txn = doc.transact_mut();
        if let Some(s) = snapshot {
            txn.apply_update(Update::decode_v1(s)?)?;
        }
        for u in updates {
            txn.apply_update(Update::decode_v1(u)?)?;
        }
    }
    Ok(doc)
}

impl DocCache {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn evict(&mut self, id: &str) {
        self.loaded.remove(id);
    }

    pub fn len(&self) -> usize {
        self.loaded.len()
    }

    /// Drops the documents not used for `idle`: they are reloaded from SQLite on next use.
    pub fn evict_idle(&mut self, idle: std::time::Duration) -> usize {
        let before = self.loaded.len();
        self.loaded.retain(|_, l| l.used_at.elapsed() < idle);
        before - self.loaded.len()
    }

    pub fn is_empty(&self) -> bool {
        self.loaded.is_empty()
    }

    /// Returns the loaded document, loading it (or creating its row) first.
    pub(super) fn load(&mut self, conn: &Connection, d: &DocRef) -> Result<&mut Loaded, AppError> {
        self.clock += 1;
        let now = self.clock;
        if !self.loaded.contains_key(&d.id) {
            if self.loaded.len() >= MAX_LOADED {
                if let Some(oldest) = self
                    .loaded
                    .iter()
                    .min_by_key(|(_, l)| l.last_used)
                    .map(|(k, _)| k.clone())
                {
                    self.loaded.remove(&oldest);
                }
            }
            let parts = store::load_parts(conn, &d.id)?;
            let (doc, log_len) = match parts {
                Some(p) => {
                    let doc = doc_from_parts(p.snapshot.as_deref(), &p.updates)
                        .map_err(|e| AppError::Internal(e.context(format!("load document {}", d.id))))?;
                    (doc, p.updates.len() as u64)
                }
                None => {
                    store::create_document(conn, d)?;
                    (fresh_doc(), 0)
                }
            };
            self.loaded.insert(
                d.id.clone(),
                Loaded {
                    doc,
                    log_len,
                    last_used: now,
                    used_at: std::time::Instant::now(),
                },
            );
        }
        let l = self
            .loaded
            .get_mut(&d.id)
            .ok_or_else(|| AppError::internal("document vanished from cache"))?;
        l.last_used = now;
        l.used_at = std::time::Instant::now();
        Ok(l)
    }
}
