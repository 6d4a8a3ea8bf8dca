//! `keel-licence`: the vendor's tool for Keel licences. It makes a key pair (the secret
//! stays with the vendor; the public key goes into release builds as `KEEL_LICENCE_KEY`)
//! and signs licences for one workspace each. It is a separate program: the `keel` binary
//! only verifies (`keel::plans::licence`).

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use chrono::NaiveDate;
use clap::{Parser, Subcommand};
use ed25519_dalek::{Signer, SigningKey};
use keel::plans::licence::{self, Payload};
use keel::plans::Plan;

#[derive(Parser)]
#[command(name = "keel-licence", about = "Make key pairs and sign Keel licences")]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Makes a key pair: writes the secret to FILE (readable by its owner only) and prints
    /// the public key as a release build takes it (`KEEL_LICENCE_KEY=<id>:<hex>`).
    Keygen {
        /// The key's id, named in every licence it signs (e.g. keel-2026).
        #[arg(long)]
        id: String,
        /// Where the secret key goes; refused if it exists.
        #[arg(long)]
        out: PathBuf,
    },
    /// Signs a licence and prints it (or writes it to --out).
    Sign {
        /// The secret key file keygen wrote.
        #[arg(long)]
        secret: PathBuf,
        /// The key's id, as given to keygen.
        #[arg(long)]
        key_id: String,
        #[arg(long)]
        licence_id: String,
        #[arg(long)]
        customer: String,
        /// The workspace's display id (WK-…), shown on its Plan page.
        #[arg(long)]
        workspace: String,
        #[arg(long, default_value = "premium")]
        plan: String,
        #[arg(long)]
        seats: u32,
        /// YYYY-MM-DD; today when not given.
        #[arg(long)]
        issued: Option<NaiveDate>,
        /// YYYY-MM-DD.
        #[arg(long)]
        expires: NaiveDate,
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Checks a licence against a public key (`<id>:<hex>`), as a release build with that
    /// key would.
    Verify {
        file: PathBuf,
        #[arg(long)]
        public: String,
    },
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().cmd {
        Cmd::Keygen { id, out } => println!("{}", keygen(&id, &out)?),
        Cmd::Sign {
            secret,
            key_id,
            licence_id,
            customer,
            workspace,
            plan,
            seats,
            issued,
            expires,
            out,
        } => {
            let plan = match plan.as_str() {
                "premium" => Plan::Premium,
                "free" => Plan::Free,
                other => bail!("no plan {other}: premium or free"),
            };
            let p = Payload {
                format: licence::FORMAT,
                key: key_id,
                licence_id,
                customer,
                workspace,
                plan,
                seats,
                issued: issued.unwrap_or_else(|| chrono::Utc::now().date_naive()),
                expires,
            };
            let text = sign(&read_secret(&secret)?, &p)?;
            match out {
                Some(path) => std::fs::write(&path, &text).with_context(|| format!("writing {}", path.display()))?,
                None => print!("{text}"),
            }
        }
        Cmd::Verify { file, public } => {
            let key = licence::parse_key(&public).context("the public key is <id>:<64 hex digits>")?;
            let bytes = std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            match licence::verify(&bytes, &[key]) {
                Ok(p) => println!("{}", serde_json::to_string_pretty(&p)?),
                Err(e) => bail!("{}: {}", e.code(), e.message()),
            }
        }
    }
    Ok(())
}

/// Writes a new secret key to `out` (owner-only) and answers its public key, `<id>:<hex>`.
fn keygen(id: &str, out: &Path) -> anyhow::Result<String> {
    if id.is_empty() || id.contains(':') || id.chars().any(char::is_whitespace) {
        bail!("a key id is a word without ':' or spaces");
    }
    let key = SigningKey::generate(&mut rand::rngs::OsRng);
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    // Owner-only from its creation: no moment when another user could open it.
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let mut f = opts
        .open(out)
        .with_context(|| format!("creating {} (it must not exist)", out.display()))?;
    writeln!(f, "{}", hex::encode(key.to_bytes()))?;
    Ok(format!("{id}:{}", hex::encode(key.verifying_key().to_bytes())))
}

fn read_secret(path: &Path) -> anyhow::Result<SigningKey> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let bytes: [u8; 32] = hex::decode(text.trim())
        .ok()
        .and_then(|b| b.try_into().ok())
        .context("a secret key file holds 64 hex digits")?;
    Ok(SigningKey::from_bytes(&bytes))
}

/// The armoured licence for `p`, signed with `key`; refuses what Keel would refuse.
fn sign(key: &SigningKey, p: &Payload) -> anyhow::Result<String> {
    if p.expires <= p.issued {
        bail!("the licence would expire before it is issued");
    }
    if !p.workspace.starts_with("WK-") {
        bail!("a workspace is named by its display id, WK-…");
    }
    let bytes = serde_json::to_vec(p)?;
    Ok(licence::armour(&bytes, &key.sign(&bytes).to_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_made_here_signs_licences_that_keel_verifies_with_its_public_half() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let secret = dir.path().join("vendor.key");
        let public = keygen("keel-2026", &secret).unwrap_or_else(|e| panic!("{e}"));
        assert!(
            keygen("keel-2026", &secret).is_err(),
            "an existing secret is not overwritten"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&secret).map(|m| m.permissions().mode()).unwrap_or(0);
            assert_eq!(mode & 0o777, 0o600);
        }
        let p = Payload {
            format: licence::FORMAT,
            key: "keel-2026".into(),
            licence_id: "LIC-2026-0007".into(),
            customer: "Acme GmbH".into(),
            workspace: "WK-ABC123456".into(),
            plan: Plan::Premium,
            seats: 25,
            issued: NaiveDate::from_ymd_opt(2026, 12, 1).unwrap_or_default(),
            expires: NaiveDate::from_ymd_opt(2027, 12, 1).unwrap_or_default(),
        };
        let key = read_secret(&secret).unwrap_or_else(|e| panic!("{e}"));
        let text = sign(&key, &p).unwrap_or_else(|e| panic!("{e}"));
        let trusted = licence::parse_key(&public).unwrap_or_else(|| panic!("{public}"));
        assert_eq!(licence::verify(text.as_bytes(), &[trusted]), Ok(p.clone()));
        // Another vendor key does not verify it.
        let other = SigningKey::from_bytes(&[3; 32]);
        let wrong = licence::parse_key(&format!("keel-2026:{}", hex::encode(other.verifying_key().to_bytes())));
        let refused = licence::verify(text.as_bytes(), &wrong.into_iter().collect::<Vec<_>>());
        assert_eq!(refused.map_err(|e| e.code()), Err("licence_bad_signature"));
        // Nothing Keel would refuse is signed.
        let backwards = Payload {
            expires: p.issued,
            ..p.clone()
        };
        assert!(sign(&key, &backwards).is_err());
        assert!(sign(
            &key,
            &Payload {
                workspace: "acme".into(),
                ..p
            }
        )
        .is_err());
    }
}
