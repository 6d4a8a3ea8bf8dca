//! The structured fuzz harness of the record rules (`fuzz/fuzz_targets/sync_records.rs`, and
//! a replay in `cargo test`): the fuzzer's bytes become yrs updates a device could send —
//! records of every table, under keys of this document, of another document or of another
//! workspace, with fields taken from real rows, from other scopes, or made up — applied
//! through the one write path as a person's change. After every update the writer accepted,
//! the invariants hold (`docs::rules::check_invariants`); a violation panics, which the
//! fuzzer reports. Nothing here runs in the server.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use yrs::updates::decoder::Decode;
use yrs::{Any, Doc, Map, MapPrelim, Out, ReadTxn, StateVector, Transact, Update};

use crate::docs::{Col, DocRef, Shape, Val, Who, TABLES};
use crate::App;

/// A seeded instance, made once per process: two workspaces with members, projects,
/// issues and work logs (`seed::run`, through the write path).
struct World {
    app: App,
    _dir: std::path::PathBuf,
    docs: Vec<DocRef>,
    users: Vec<String>,
}

fn world() -> Option<&'static Mutex<World>> {
    static WORLD: OnceLock<Option<Mutex<World>>> = OnceLock::new();
    WORLD
        .get_or_init(|| {
            let tmp = std::env::temp_dir();
            // Worlds of earlier runs older than an hour are gone by now.
            for e in std::fs::read_dir(&tmp).into_iter().flatten().flatten() {
                let old = e
                    .metadata()
                    .and_then(|m| m.modified())
                    .ok()
                    .and_then(|t| t.elapsed().ok());
                if e.file_name().to_string_lossy().starts_with("keel-fuzz-") && old.is_some_and(|a| a.as_secs() > 3600)
                {
                    let _ = std::fs::remove_dir_all(e.path());
                }
            }
            let dir = tmp.join(format!("keel-fuzz-{}", uuid::Uuid::new_v4()));
            let mut config = crate::Config::new(dir.clone());
            config.readers = 1;
            let app = App::open(config, false).ok()?;
            let args = crate::seed::SeedArgs {
                workspaces: 2,
                members: 4,
                projects: 2,
                issues: 6,
                worklogs: 8,
                departments: 6,
                staff: 4,
                password: "fuzz-password".into(),
            };
            crate::seed::run(&app, &args).ok()?;
            let c = rusqlite::Connection::open(app.config.db_path()).ok()?;
            let docs = crate::docs::all_documents(&c).ok()?;
            // Members of the seeded workspaces (their owner among them).
            let mut users: Vec<String> = pools(&c)
                .remove("workspace_members")
                .unwrap_or_default()
                .into_iter()
                .filter_map(|(_, vals)| {
                    match crate::docs::table_spec("workspace_members")
                        .and_then(|t| t.cols.iter().position(|(n, _)| *n == "user_id"))
                        .map(|i| vals[i].clone())
                    {
                        Some(Val::Text(u)) => Some(u),
                        _ => None,
                    }
                })
                .collect();
            users.sort();
            users.dedup();
            // And somebody who belongs nowhere.
            users.push(crate::new_id());
            Some(Mutex::new(World {
                app,
                _dir: dir,
                docs,
                users,
            }))
        })
        .as_ref()
}

/// Reads the fuzzer's bytes one at a time; zeros once they run out.
struct Bytes<'a>(&'a [u8]);

impl Bytes<'_> {
    fn next(&mut self) -> u8 {
        match self.0.split_first() {
            Some((b, rest)) => {
                self.0 = rest;
                *b
            }
            None => 0,
        }
    }
    fn pick<'t, T>(&mut self, from: &'t [T]) -> Option<&'t T> {
        if from.is_empty() {
            return None;
        }
        from.get(usize::from(self.next()) % from.len())
    }
}

fn any_of(v: &Val) -> Any {
    match v {
        Val::Text(s) => Any::from(s.as_str()),
        Val::Int(n) => Any::from(*n),
        Val::Null => Any::Null,
    }
}

/// Rows of every table, by table: where the fuzzer takes keys and values from.
fn pools(c: &rusqlite::Connection) -> HashMap<&'static str, Vec<(String, Vec<Val>)>> {
    TABLES
        .iter()
        .map(|spec| (spec.name, crate::docs::sample_rows(c, spec, 64).unwrap_or_default()))
        .collect()
}

/// What one input did: updates the writer took, and ones it refused.
#[derive(Debug, Default, Clone, Copy)]
pub struct Outcome {
    pub accepted: usize,
    pub refused: usize,
}

/// One fuzz input: a few crafted updates, each applied as one person's device would send it,
/// the invariants checked after each. Never panics but on a broken invariant.
pub fn fuzz_records(data: &[u8]) -> Outcome {
    let mut out = Outcome::default();
    let Some(world) = world() else { return out };
    let Ok(w) = world.lock() else { return out };
    let mut b = Bytes(data);
    for _ in 0..4 {
        if b.0.is_empty() {
            break;
        }
        let Ok(c) = rusqlite::Connection::open(w.app.config.db_path()) else {
            return out;
        };
        let pools = pools(&c);
        let (Some(user), Some(d)) = (b.pick(&w.users).cloned(), b.pick(&w.docs).cloned()) else {
            return out;
        };
        let tables: Vec<&crate::docs::TableSpec> = TABLES.iter().copied().filter(|t| t.kind == d.kind).collect();
        let Some(spec) = b.pick(&tables).copied() else { continue };
        let rows = &pools[spec.name];
        // The key: a record of this table (here or elsewhere), a new one, a derived one, or junk.
        let all_ids: Vec<&String> = pools.values().flatten().map(|(id, _)| id).collect();
        let key = match b.next() % 6 {
            0..=2 => b.pick(rows).map_or_else(crate::new_id, |(id, _)| id.clone()),
            3 => crate::new_id(),
            4 => format!(
                "{}:{}",
                b.pick(&all_ids).map_or("", |s| s.as_str()),
                b.pick(&w.users).map_or("", |s| s.as_str())
            ),
            _ => ["", "x", "../../etc", &"k".repeat(300)][usize::from(b.next()) % 4].to_string(),
        };
        // The fields: a real row's as the base, then a few replaced by values from elsewhere.
        let template = b.pick(rows).map(|(_, v)| v.clone());
        let mut fields: Vec<(&str, Any)> = Vec::new();
        if let Some(t) = &template {
            if b.next() % 2 == 0 {
                fields = spec.cols.iter().zip(t).map(|((n, _), v)| (*n, any_of(v))).collect();
            }
        }
        for _ in 0..(b.next() % 5) {
            let Some((name, ty)) = b.pick(spec.cols).copied() else {
                break;
            };
            let v = match b.next() % 7 {
                0 => b
                    .pick(rows)
                    .and_then(|(_, vals)| spec.cols.iter().position(|c| c.0 == name).map(|i| any_of(&vals[i])))
                    .unwrap_or(Any::Null),
                1 => b.pick(&all_ids).map_or(Any::Null, |s| Any::from(s.as_str())),
                2 => Any::from(user.as_str()),
                3 => Any::Null,
                4 => Any::from(i64::from(b.next()) - 8),
                5 => Any::from(if ty == Col::Int {
                    "7"
                } else {
                    "<img src=x onerror=alert(1)>"
                }),
                _ => Any::from("y".repeat(2000).as_str()),
            };
            fields.retain(|(n, _)| *n != name);
            fields.push((name, v));
        }
        let Some(update) = crafted(&c, &d, spec.name, spec.shape, &key, &fields, b.next() % 8 == 0) else {
            continue;
        };
        drop(c);
        let who = Who::User(user);
        let d2 = d.clone();
        let accepted = w
            .app
            .writer
            .write_blocking(move |ctx| ctx.apply_remote(&who, &d2, &update).map(|a| a.changed))
            .unwrap_or(false);
        if !accepted {
            out.refused += 1;
        } else {
            out.accepted += 1;
            let Ok(c) = rusqlite::Connection::open(w.app.config.db_path()) else {
                return out;
            };
            match crate::docs::rules::check_invariants(&c) {
                Ok(Ok(())) | Err(_) => {}
                Ok(Err(violation)) => panic!(
                    "after an accepted update of {}/{key} in {}: {violation}",
                    spec.name, d.id
                ),
            }
        }
    }
    out
}

/// The update a device would send: its copy of `d` (ours), with record `key` of `table`
/// written with `fields` (a nested map for field-shaped tables, one value for atomic ones;
/// `wrong_shape` swaps them).
fn crafted(
    c: &rusqlite::Connection,
    d: &DocRef,
    table: &str,
    shape: Shape,
    key: &str,
    fields: &[(&str, Any)],
    wrong_shape: bool,
) -> Option<Vec<u8>> {
    let doc = Doc::new();
    let root = doc.get_or_insert_map(table);
    if let Some(state) = crate::docs::document_state(c, &d.id).ok().flatten() {
        doc.transact_mut().apply_update(Update::decode_v1(&state).ok()?).ok()?;
    }
    let before: StateVector = doc.transact().state_vector();
    let mut txn = doc.transact_mut();
    let nested = (shape == Shape::Fields) != wrong_shape;
    match root.get(&txn, key) {
        Some(Out::YMap(rec)) if nested => {
            for (k, v) in fields {
                rec.insert(&mut txn, k.to_string(), v.clone());
            }
        }
        existing => {
            if nested {
                let prelim: MapPrelim = fields.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
                root.insert(&mut txn, key.to_string(), prelim);
            } else {
                let mut m: HashMap<String, Any> = match existing {
                    Some(Out::Any(Any::Map(cur))) => cur.as_ref().clone(),
                    _ => HashMap::new(),
                };
                for (k, v) in fields {
                    m.insert(k.to_string(), v.clone());
                }
                root.insert(&mut txn, key.to_string(), Any::from(m));
            }
        }
    }
    drop(txn);
    let diff = doc.transact().encode_diff_v1(&before);
    Some(diff)
}

#[cfg(test)]
mod tests {
    /// A few hundred structured inputs from a fixed seed, so every `cargo test` runs the
    /// harness (the fuzzer explores further).
    #[test]
    fn crafted_records_never_break_the_invariants() {
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        let mut total = super::Outcome::default();
        for _ in 0..300 {
            let input: Vec<u8> = (0..48)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    (x >> 24) as u8
                })
                .collect();
            let o = super::fuzz_records(&input);
            total.accepted += o.accepted;
            total.refused += o.refused;
        }
        // Both outcomes occur, or the harness tests nothing.
        assert!(total.accepted >= 5 && total.refused >= 100, "{total:?}");
    }
}
