//! Licence files: a JSON payload and its Ed25519 signature, armoured as text so a licence
//! survives copy and paste and email, verified against public keys built into the binary.
//! Nothing is ever sent anywhere.
//!
//! ```text
//! -----BEGIN KEEL LICENCE-----
//! <base64url(payload)>.<base64url(signature)>, wrapped at 64 columns
//! -----END KEEL LICENCE-----
//! ```
//!
//! The signature is over the payload's exact bytes. The payload names the key that signed
//! it (`key`), so a key can be replaced without invalidating the licences of the old one.
//! Signing is the vendor tool's (`tools/licence`), never the shipped binary's.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::NaiveDate;
use ed25519_dalek::{Signature, VerifyingKey};
use serde::{Deserialize, Serialize};

use super::Plan;
use crate::error::AppError;

pub const BEGIN: &str = "-----BEGIN KEEL LICENCE-----";
pub const END: &str = "-----END KEEL LICENCE-----";
/// The payload format this build reads.
pub const FORMAT: u32 = 1;
/// The largest licence file read: a real one is under 1 KiB.
pub const MAX_BYTES: usize = 16 * 1024;

/// What a licence says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Payload {
    /// The payload's format version (`FORMAT`).
    pub format: u32,
    /// The id of the key that signed it.
    pub key: String,
    /// The licence's own id, e.g. `LIC-2026-0042`.
    pub licence_id: String,
    pub customer: String,
    /// The workspace it is for: its display id, `WK-…`.
    pub workspace: String,
    pub plan: Plan,
    /// Members the workspace may have.
    pub seats: u32,
    pub issued: NaiveDate,
    pub expires: NaiveDate,
}

/// A public key licences are checked against, by the id a licence names.
#[derive(Debug, Clone)]
pub struct TrustedKey {
    pub id: String,
    pub key: VerifyingKey,
}

/// Why a licence file is refused; each has its own stable code and changes nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LicenceError {
    TooLarge,
    NotText,
    Malformed(String),
    UnknownFormat(u32),
    UnknownKey(String),
    BadSignature,
    Dates,
    OtherWorkspace { licence: String, here: String },
}

impl LicenceError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::TooLarge => "licence_too_large",
            Self::NotText => "licence_not_text",
            Self::Malformed(_) => "licence_malformed",
            Self::UnknownFormat(_) => "licence_unknown_format",
            Self::UnknownKey(_) => "licence_unknown_key",
            Self::BadSignature => "licence_bad_signature",
            Self::Dates => "licence_dates",
            Self::OtherWorkspace { .. } => "licence_other_workspace",
        }
    }
    pub fn message(&self) -> String {
        match self {
            Self::TooLarge => format!("a licence file is at most {MAX_BYTES} bytes; this is not one"),
            Self::NotText => "a licence file is text; this one holds binary data".into(),
            Self::Malformed(why) => format!("this is not a whole Keel licence: {why}"),
            Self::UnknownFormat(v) => {
                format!("licence format {v} is newer than this Keel reads ({FORMAT}); update Keel")
            }
            Self::UnknownKey(k) => format!("the licence is signed with key {k}, which this Keel does not know"),
            Self::BadSignature => "the licence's signature does not match its contents: it was altered".into(),
            Self::Dates => "the licence expires before it was issued".into(),
            Self::OtherWorkspace { licence, here } => {
                format!("the licence is for workspace {licence}, not this one ({here})")
            }
        }
    }
}

impl From<LicenceError> for AppError {
    fn from(e: LicenceError) -> Self {
        AppError::refused(e.code(), e.message())
    }
}

/// The armoured text of a payload and its signature (the vendor tool's output).
pub fn armour(payload: &[u8], signature: &[u8; 64]) -> String {
    let body = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(payload),
        URL_SAFE_NO_PAD.encode(signature)
    );
    let mut out = String::from(BEGIN);
    out.push('\n');
    for chunk in body.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str(END);
    out.push('\n');
    out
}

/// Reads and verifies a licence file against `keys`: its shape, its signature, its format
/// and its dates. Which workspace it is for is the caller's check (`for_workspace`).
pub fn verify(bytes: &[u8], keys: &[TrustedKey]) -> Result<Payload, LicenceError> {
    if bytes.len() > MAX_BYTES {
        return Err(LicenceError::TooLarge);
    }
    let text = std::str::from_utf8(bytes).map_err(|_| LicenceError::NotText)?;
    if text.chars().any(|c| c.is_control() && !c.is_whitespace()) {
        return Err(LicenceError::NotText);
    }
    // Mail clients quote and indent: what is around the armour, each line's quote marks
    // (`> `) and spaces do not count (neither is in the base64url alphabet).
    let start = text
        .find(BEGIN)
        .ok_or_else(|| LicenceError::Malformed(format!("no {BEGIN} line")))?;
    let rest = &text[start + BEGIN.len()..];
    let end = rest
        .find(END)
        .ok_or_else(|| LicenceError::Malformed(format!("no {END} line (cut short?)")))?;
    let body: String = rest[..end]
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '>')
        .collect();
    let (p, s) = body
        .split_once('.')
        .ok_or_else(|| LicenceError::Malformed("no signature after the contents".into()))?;
    let payload = URL_SAFE_NO_PAD
        .decode(p)
        .map_err(|_| LicenceError::Malformed("the contents are not base64".into()))?;
    let sig: [u8; 64] = URL_SAFE_NO_PAD
        .decode(s)
        .map_err(|_| LicenceError::Malformed("the signature is not base64".into()))?
        .try_into()
        .map_err(|_| LicenceError::Malformed("the signature is not 64 bytes (cut short?)".into()))?;
    // The format and key first, from a loose reading: a newer format's other fields may
    // not parse here, and its refusal should say so rather than "malformed".
    #[derive(Deserialize)]
    struct Head {
        format: u32,
        key: String,
    }
    let head: Head = serde_json::from_slice(&payload)
        .map_err(|_| LicenceError::Malformed("the contents are not a licence's JSON".into()))?;
    if head.format != FORMAT {
        return Err(LicenceError::UnknownFormat(head.format));
    }
    let key = keys
        .iter()
        .find(|k| k.id == head.key)
        .ok_or_else(|| LicenceError::UnknownKey(head.key.clone()))?;
    key.key
        .verify_strict(&payload, &Signature::from_bytes(&sig))
        .map_err(|_| LicenceError::BadSignature)?;
    let licence: Payload =
        serde_json::from_slice(&payload).map_err(|e| LicenceError::Malformed(format!("the contents: {e}")))?;
    if licence.expires <= licence.issued {
        return Err(LicenceError::Dates);
    }
    Ok(licence)
}

impl Payload {
    /// Refuses a licence for another workspace than the one with display id `here`.
    pub fn for_workspace(self, here: &str) -> Result<Self, LicenceError> {
        if self.workspace != here {
            return Err(LicenceError::OtherWorkspace {
                licence: self.workspace,
                here: here.to_string(),
            });
        }
        Ok(self)
    }
}

/// The test key pair's secret: public knowledge, so its public key is trusted only by
/// builds for tests (`cargo test` enables the feature; a release build never has it).
#[cfg(any(test, feature = "test-licence-key"))]
pub const TEST_KEY_SEED: [u8; 32] = *b"keel-licence-test-key-not-secret";
#[cfg(any(test, feature = "test-licence-key"))]
pub const TEST_KEY_ID: &str = "keel-test";

/// Signs `payload` with the key of `seed` and armours it: for tests, which sign with the
/// test key (or a stranger's); the vendor's tool signs real licences.
#[cfg(any(test, feature = "test-licence-key"))]
pub fn sign_for_tests(seed: &[u8; 32], payload: &serde_json::Value) -> String {
    use ed25519_dalek::Signer;
    let bytes = serde_json::to_vec(payload).unwrap_or_default();
    armour(
        &bytes,
        &ed25519_dalek::SigningKey::from_bytes(seed).sign(&bytes).to_bytes(),
    )
}

/// The keys this build trusts: the vendor's, given when the release is built
/// (`KEEL_LICENCE_KEY=<id>:<64 hex digits of the public key>`), and in builds for tests the
/// test key. A build with neither verifies no licence: every workspace stays on free. Made
/// once per process (every plan read verifies against them).
pub fn trusted_keys() -> &'static [TrustedKey] {
    static KEYS: std::sync::OnceLock<Vec<TrustedKey>> = std::sync::OnceLock::new();
    KEYS.get_or_init(|| {
        let vendor = option_env!("KEEL_LICENCE_KEY").and_then(parse_key);
        #[cfg(any(test, feature = "test-licence-key"))]
        let test = Some(test_key());
        #[cfg(not(any(test, feature = "test-licence-key")))]
        let test = None;
        keys_for(vendor, test)
    })
}

#[cfg(any(test, feature = "test-licence-key"))]
fn test_key() -> TrustedKey {
    TrustedKey {
        id: TEST_KEY_ID.into(),
        key: ed25519_dalek::SigningKey::from_bytes(&TEST_KEY_SEED).verifying_key(),
    }
}

/// The keys a build trusts, from the vendor's key it was given and the test key its
/// features hold. A build given the vendor's key is a release, whatever else it was built
/// with (`cargo test --release` turns the test feature on): it never trusts the test key.
fn keys_for(vendor: Option<TrustedKey>, test: Option<TrustedKey>) -> Vec<TrustedKey> {
    let test = test.filter(|_| vendor.is_none());
    vendor.into_iter().chain(test).collect()
}

/// `<id>:<hex>` as the vendor tool prints a public key.
pub fn parse_key(s: &str) -> Option<TrustedKey> {
    let (id, hex_key) = s.trim().split_once(':')?;
    let bytes: [u8; 32] = hex::decode(hex_key).ok()?.try_into().ok()?;
    Some(TrustedKey {
        id: id.to_string(),
        key: VerifyingKey::from_bytes(&bytes).ok()?,
    })
}

#[cfg(test)]
mod tests {
    use ed25519_dalek::{Signer, SigningKey};

    use super::*;

    fn payload(ws: &str) -> serde_json::Value {
        serde_json::json!({
            "format": 1, "key": TEST_KEY_ID, "licence_id": "LIC-2026-0001", "customer": "Acme GmbH",
            "workspace": ws, "plan": "premium", "seats": 25,
            "issued": "2026-12-01", "expires": "2027-12-01"
        })
    }

    fn err(text: &[u8], keys: &[TrustedKey]) -> &'static str {
        match verify(text, keys) {
            Ok(_) => "accepted",
            Err(e) => e.code(),
        }
    }

    #[test]
    fn a_signed_licence_reads_back_whole_through_mail_and_copy() {
        let text = sign_for_tests(&TEST_KEY_SEED, &payload("WK-ABC123456"));
        let l = verify(text.as_bytes(), trusted_keys()).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(l.customer, "Acme GmbH");
        assert_eq!((l.plan, l.seats), (Plan::Premium, 25));
        // Quoted in a reply, with CRLF line ends and text around it.
        let quoted: String = format!("Here it is:\r\n\r\n{}\r\nRegards", text.replace('\n', "\r\n> "));
        assert_eq!(verify(quoted.as_bytes(), trusted_keys()), Ok(l.clone()));
        assert_eq!(l.clone().for_workspace("WK-ABC123456"), Ok(l));
    }

    #[test]
    fn every_bad_licence_gets_its_own_code() {
        let keys = trusted_keys();
        let good = sign_for_tests(&TEST_KEY_SEED, &payload("WK-ABC123456"));
        assert_eq!(err(good.as_bytes(), keys), "accepted");
        // Huge, or not text.
        assert_eq!(err(&vec![b'a'; MAX_BYTES + 1], keys), "licence_too_large");
        assert_eq!(err(&[0xff, 0xfe, 0x00, 0x41], keys), "licence_not_text");
        assert_eq!(err(b"\x00\x01binary", keys), "licence_not_text");
        // Truncated anywhere: no end line, a cut signature, no armour at all.
        assert_eq!(err(&good.as_bytes()[..good.len() - 20], keys), "licence_malformed");
        let body_end = good.find(END).unwrap_or(0);
        let cut = format!("{}\n{END}\n", &good[..body_end - 10]);
        assert_eq!(err(cut.as_bytes(), keys), "licence_malformed");
        assert_eq!(err(b"just some text", keys), "licence_malformed");
        assert_eq!(
            err(format!("{BEGIN}\n!!!.???\n{END}").as_bytes(), keys),
            "licence_malformed"
        );
        // Altered: one character of the contents changed.
        let lines: Vec<&str> = good.lines().collect();
        let mut altered = lines[1].to_string();
        let c = if altered.starts_with('e') { "f" } else { "e" };
        altered.replace_range(0..1, c);
        let altered = good.replacen(lines[1], &altered, 1);
        assert!(
            matches!(
                err(altered.as_bytes(), keys),
                "licence_bad_signature" | "licence_malformed"
            ),
            "{}",
            err(altered.as_bytes(), keys)
        );
        let mut v = payload("WK-ABC123456");
        let bytes = serde_json::to_vec(&v).unwrap_or_default();
        let sig = SigningKey::from_bytes(&TEST_KEY_SEED).sign(&bytes).to_bytes();
        v["seats"] = serde_json::json!(2500);
        let forged = armour(&serde_json::to_vec(&v).unwrap_or_default(), &sig);
        assert_eq!(err(forged.as_bytes(), keys), "licence_bad_signature");
        // Signed by a key that claims the test key's id, and by a key nobody knows.
        assert_eq!(
            err(sign_for_tests(&[7; 32], &payload("WK-ABC123456")).as_bytes(), keys),
            "licence_bad_signature"
        );
        let mut other = payload("WK-ABC123456");
        other["key"] = "someone-else".into();
        assert_eq!(
            err(sign_for_tests(&[7; 32], &other).as_bytes(), keys),
            "licence_unknown_key"
        );
        // A newer format; dates in the wrong order; a plan Keel does not have.
        let mut newer = payload("WK-ABC123456");
        newer["format"] = 2.into();
        newer["shiny"] = true.into();
        assert_eq!(
            err(sign_for_tests(&TEST_KEY_SEED, &newer).as_bytes(), keys),
            "licence_unknown_format"
        );
        let mut backwards = payload("WK-ABC123456");
        backwards["expires"] = "2026-11-30".into();
        assert_eq!(
            err(sign_for_tests(&TEST_KEY_SEED, &backwards).as_bytes(), keys),
            "licence_dates"
        );
        let mut plan = payload("WK-ABC123456");
        plan["plan"] = "platinum".into();
        assert_eq!(
            err(sign_for_tests(&TEST_KEY_SEED, &plan).as_bytes(), keys),
            "licence_malformed"
        );
        // Another workspace's.
        let theirs = verify(good.as_bytes(), keys).map(|l| l.for_workspace("WK-OTHER0000"));
        assert!(matches!(theirs, Ok(Err(LicenceError::OtherWorkspace { .. }))));
    }

    #[test]
    fn a_build_without_the_test_key_refuses_a_licence_it_signed() {
        let good = sign_for_tests(&TEST_KEY_SEED, &payload("WK-ABC123456"));
        // What a release build trusts: the vendor's key only (here none, or another).
        let release: Vec<TrustedKey> = trusted_keys().iter().filter(|k| k.id != TEST_KEY_ID).cloned().collect();
        assert_eq!(err(good.as_bytes(), &release), "licence_unknown_key");
        let vendor = SigningKey::from_bytes(&[9; 32]);
        let printed = format!("keel-2026:{}", hex::encode(vendor.verifying_key().to_bytes()));
        let key = parse_key(&printed).unwrap_or_else(|| panic!("{printed}"));
        assert_eq!(err(good.as_bytes(), std::slice::from_ref(&key)), "licence_unknown_key");
        // A release is a build given the vendor's key (`KEEL_LICENCE_KEY`): even with the
        // test feature on, the keys it trusts are the vendor's alone, so the test key's
        // licence is refused and the vendor's is taken.
        let release = keys_for(Some(key), Some(test_key()));
        assert_eq!(release.iter().map(|k| k.id.as_str()).collect::<Vec<_>>(), ["keel-2026"]);
        assert_eq!(err(good.as_bytes(), &release), "licence_unknown_key");
        let theirs = sign_for_tests(&[9; 32], &{
            let mut p = payload("WK-ABC123456");
            p["key"] = serde_json::json!("keel-2026");
            p
        });
        assert!(verify(theirs.as_bytes(), &release).is_ok());
        // A build for tests with no vendor key trusts the test key; one with neither, nothing.
        assert_eq!(keys_for(None, Some(test_key())).len(), 1);
        assert!(keys_for(None, None).is_empty());
        assert!(parse_key("keel-2026:abcd").is_none());
        assert!(parse_key("no colon").is_none());
    }
}
