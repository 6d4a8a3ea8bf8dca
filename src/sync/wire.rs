//! The frames of the sync protocol, one per binary WebSocket message.
//!
//! ```text
//! frame    = tag:u8 body
//! Hello    (1)  json   {"protocol": 2, "yrs": "0.28.1", "user_id", "device_id"?, "instance",
//!                       "seq", "since"?: {"instance", "seq"}}
//! Manifest (2)  json   {"docs": [{"id", "kind", "workspace_id", "sv": base64}]}
//! Update   (3)  str doc_id, str workspace_id, u64 seq, bytes update (yrs v1)
//! Step1    (4)  str doc_id, str workspace_id, bytes state vector (yrs v1)
//! Ack      (5)  u64 seq
//! Done     (6)  json   {"server_seq": n}
//! Error    (7)  json   {"code", "message", "doc_id"?, "reset": bool}
//! str / bytes = u32 big-endian length, then that many bytes
//! ```
//!
//! Decoding never trusts a length: every one is checked against what is left of the
//! frame, and a frame is at most [`MAX_FRAME`] bytes, so hostile input costs at most one
//! frame's memory and gets an error, never a panic.

use base64::Engine;
use serde::{Deserialize, Serialize};

/// The Keel sync protocol version; a peer speaking another one is refused.
pub const PROTOCOL: u32 = 2;
/// The exact yrs version: its encoding is the wire format of updates (client ids changed
/// width in 0.26), so peers must agree on it exactly.
pub const YRS_VERSION: &str = "0.28.1";
/// The largest frame accepted: 16 MiB (a document's full state in one update).
pub const MAX_FRAME: usize = 16 * 1024 * 1024;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hello {
    pub protocol: u32,
    pub yrs: String,
    pub user_id: String,
    #[serde(default)]
    pub device_id: Option<String>,
    /// The sender's instance id. (Defaults keep a hello of protocol 1, which had neither,
    /// decodable, so such a peer hears a version mismatch rather than a bad frame.)
    #[serde(default)]
    pub instance: String,
    /// The sender's update sequence now.
    #[serde(default)]
    pub seq: i64,
    /// What the sender holds of the receiver's updates, from their last complete sync.
    #[serde(default)]
    pub since: Option<Since>,
}

/// "I hold every update `instance` held at its sequence `seq`."
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Since {
    pub instance: String,
    pub seq: i64,
}

impl Hello {
    pub fn ours(user_id: &str, device_id: Option<&str>, instance: &str, seq: i64, since: Option<Since>) -> Self {
        Self {
            protocol: PROTOCOL,
            yrs: YRS_VERSION.into(),
            user_id: user_id.into(),
            device_id: device_id.map(str::to_string),
            instance: instance.into(),
            seq,
            since,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocEntry {
    pub id: String,
    pub kind: String,
    pub workspace_id: String,
    /// The document's state vector (yrs v1), base64.
    pub sv: String,
}

impl DocEntry {
    pub fn sv_bytes(&self) -> Result<Vec<u8>, WireError> {
        base64::engine::general_purpose::STANDARD
            .decode(&self.sv)
            .map_err(|_| WireError("manifest: a state vector is not base64".into()))
    }
    pub fn encode_sv(sv: &[u8]) -> String {
        base64::engine::general_purpose::STANDARD.encode(sv)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub docs: Vec<DocEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Done {
    pub server_seq: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorMsg {
    pub code: String,
    pub message: String,
    #[serde(default)]
    pub doc_id: Option<String>,
    /// The sender dropped the document's update: reset it to the state that follows.
    #[serde(default)]
    pub reset: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    Hello(Hello),
    Manifest(Manifest),
    Update {
        doc_id: String,
        workspace_id: String,
        seq: u64,
        update: Vec<u8>,
    },
    Step1 {
        doc_id: String,
        workspace_id: String,
        sv: Vec<u8>,
    },
    Ack(u64),
    Done(Done),
    Error(ErrorMsg),
}

/// A frame that could not be decoded; the connection is closed after it is reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WireError(pub String);

impl std::fmt::Display for WireError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    // Frames are capped far below 4 GiB, so the length always fits.
    out.extend_from_slice(&u32::try_from(b.len()).unwrap_or(u32::MAX).to_be_bytes());
    out.extend_from_slice(b);
}

fn json<T: Serialize>(tag: u8, v: &T) -> Vec<u8> {
    let mut out = vec![tag];
    // Serialising these plain structs cannot fail.
    out.extend(serde_json::to_vec(v).unwrap_or_default());
    out
}

impl Frame {
    pub fn encode(&self) -> Vec<u8> {
        match self {
            Frame::Hello(h) => json(1, h),
            Frame::Manifest(m) => json(2, m),
            Frame::Update {
                doc_id,
                workspace_id,
                seq,
                update,
            } => {
                let mut out = Vec::with_capacity(update.len() + doc_id.len() + workspace_id.len() + 21);
                out.push(3);
                put_bytes(&mut out, doc_id.as_bytes());
                put_bytes(&mut out, workspace_id.as_bytes());
                out.extend_from_slice(&seq.to_be_bytes());
                put_bytes(&mut out, update);
                out
            }
            Frame::Step1 {
                doc_id,
                workspace_id,
                sv,
            } => {
                let mut out = vec![4];
                put_bytes(&mut out, doc_id.as_bytes());
                put_bytes(&mut out, workspace_id.as_bytes());
                put_bytes(&mut out, sv);
                out
            }
            Frame::Ack(seq) => {
                let mut out = vec![5];
                out.extend_from_slice(&seq.to_be_bytes());
                out
            }
            Frame::Done(d) => json(6, d),
            Frame::Error(e) => json(7, e),
        }
    }

    pub fn decode(b: &[u8]) -> Result<Frame, WireError> {
        if b.len() > MAX_FRAME {
            return Err(WireError(format!(
                "frame of {} bytes is over the {MAX_FRAME}-byte cap",
                b.len()
            )));
        }
        let Some((&tag, body)) = b.split_first() else {
            return Err(WireError("empty frame".into()));
        };
        let mut r = Reader(body);
        let f = match tag {
            1 => Frame::Hello(r.json()?),
            2 => Frame::Manifest(r.json()?),
            3 => Frame::Update {
                doc_id: r.id()?,
                workspace_id: r.id()?,
                seq: r.u64()?,
                update: r.bytes()?.to_vec(),
            },
            4 => Frame::Step1 {
                doc_id: r.id()?,
                workspace_id: r.id()?,
                sv: r.bytes()?.to_vec(),
            },
            5 => Frame::Ack(r.u64()?),
            6 => Frame::Done(r.json()?),
            7 => Frame::Error(r.json()?),
            t => return Err(WireError(format!("unknown frame type {t}"))),
        };
        if !r.0.is_empty() {
            return Err(WireError("trailing bytes after the frame".into()));
        }
        Ok(f)
    }
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], WireError> {
        if n > self.0.len() {
            return Err(WireError("truncated frame".into()));
        }
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        Ok(a)
    }
    fn u32(&mut self) -> Result<u32, WireError> {
        let b = self.take(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn u64(&mut self) -> Result<u64, WireError> {
        let b = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_be_bytes(a))
    }
    fn bytes(&mut self) -> Result<&'a [u8], WireError> {
        let n = self.u32()? as usize;
        self.take(n)
    }
    /// A document or workspace id: short printable ASCII.
    fn id(&mut self) -> Result<String, WireError> {
        let b = self.bytes()?;
        if b.is_empty() || b.len() > 200 || !b.iter().all(|c| c.is_ascii_graphic()) {
            return Err(WireError("an id is empty, too long or not printable".into()));
        }
        Ok(String::from_utf8_lossy(b).into_owned())
    }
    fn json<T: for<'de> Deserialize<'de>>(&mut self) -> Result<T, WireError> {
        let all = std::mem::take(&mut self.0);
        serde_json::from_slice(all).map_err(|e| WireError(format!("bad message: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all() -> Vec<Frame> {
        vec![
            Frame::Hello(Hello::ours(
                "u1",
                Some("d1"),
                "i1",
                7,
                Some(Since {
                    instance: "i2".into(),
                    seq: 3,
                }),
            )),
            Frame::Manifest(Manifest {
                docs: vec![DocEntry {
                    id: "project:p".into(),
                    kind: "project".into(),
                    workspace_id: "w".into(),
                    sv: DocEntry::encode_sv(&[0]),
                }],
            }),
            Frame::Update {
                doc_id: "project:p".into(),
                workspace_id: "w".into(),
                seq: 7,
                update: vec![1, 2, 3],
            },
            Frame::Step1 {
                doc_id: "ws:w".into(),
                workspace_id: "w".into(),
                sv: vec![0],
            },
            Frame::Ack(u64::MAX),
            Frame::Done(Done { server_seq: 42 }),
            Frame::Error(ErrorMsg {
                code: "update_rejected".into(),
                message: "no".into(),
                doc_id: Some("ws:w".into()),
                reset: true,
            }),
        ]
    }

    #[test]
    fn frames_round_trip() {
        for f in all() {
            assert_eq!(Frame::decode(&f.encode()), Ok(f));
        }
    }

    #[test]
    fn every_truncation_and_extension_is_an_error_not_a_panic() {
        for f in all() {
            let b = f.encode();
            for n in 0..b.len() {
                // JSON bodies may parse when cut after a complete value: only panics matter.
                let _ = Frame::decode(&b[..n]);
            }
            let mut longer = b.clone();
            longer.push(0);
            assert!(Frame::decode(&longer).is_err(), "{f:?}");
        }
        assert!(Frame::decode(&[]).is_err());
        assert!(Frame::decode(&[99]).is_err());
        // A length claiming 4 GiB in a 20-byte frame.
        assert!(Frame::decode(&[3, 255, 255, 255, 255, 1, 2, 3]).is_err());
        assert!(Frame::decode(&vec![3u8; MAX_FRAME + 1]).is_err());
    }
}
