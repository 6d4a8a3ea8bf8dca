//! Runtime configuration and the per-install secrets kept in the data dir.

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use rand::RngCore;

#[derive(Debug, Clone)]
pub struct Config {
    pub data_dir: PathBuf,
    pub bind: SocketAddr,
    /// Origins allowed by CORS (exact `scheme://host[:port]`); empty means same-origin only.
    pub cors_origins: Vec<String>,
    /// Host names (besides IP literals and `localhost`) this server answers to.
    pub public_hosts: Vec<String>,
    pub auth_per_ip_per_min: u32,
    pub auth_per_account_per_min: u32,
    pub access_ttl: Duration,
    pub refresh_ttl: Duration,
    pub readers: usize,
    pub request_timeout: Duration,
    pub body_limit: usize,
}

impl Config {
    pub fn new(data_dir: PathBuf) -> Self {
        Self {
            data_dir,
            bind: SocketAddr::from(([127, 0, 0, 1], 7420)),
            cors_origins: Vec::new(),
            public_hosts: Vec::new(),
            auth_per_ip_per_min: 30,
            auth_per_account_per_min: 10,
            access_ttl: Duration::from_secs(15 * 60),
            refresh_ttl: Duration::from_secs(30 * 24 * 3600),
            readers: 4,
            request_timeout: Duration::from_secs(30),
            body_limit: 1024 * 1024,
        }
    }

    pub fn db_path(&self) -> PathBuf {
        self.data_dir.join("keel.db")
    }

    /// Loopback binds serve this machine only; anything else is LAN mode.
    pub fn is_lan(&self) -> bool {
        !self.bind.ip().is_loopback()
    }
}

/// The platform data dir (`~/.local/share/keel` on Linux) unless overridden.
pub fn default_data_dir() -> PathBuf {
    directories::ProjectDirs::from("dev", "keel", "keel")
        .map(|d| d.data_dir().to_path_buf())
        .unwrap_or_else(|| PathBuf::from("keel-data"))
}

/// Reads the install's signing secret, creating it (mode 0600) on first start.
pub fn load_or_create_secret(dir: &Path) -> anyhow::Result<Vec<u8>> {
    let path = dir.join("secret.key");
    if path.exists() {
        let hexed = std::fs::read_to_string(&path).with_context(|| format!("read {}", path.display()))?;
        let key = hex::decode(hexed.trim()).context("secret.key is not hex")?;
        if key.len() < 32 {
            anyhow::bail!("secret.key is too short");
        }
        return Ok(key);
    }
    let mut key = vec![0u8; 64];
    rand::rngs::OsRng.fill_bytes(&mut key);
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(&path).with_context(|| format!("create {}", path.display()))?;
    f.write_all(hex::encode(&key).as_bytes())?;
    f.sync_all()?;
    Ok(key)
}
