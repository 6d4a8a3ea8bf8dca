//! The deterministic resolution of merges that break the organisation's rules (seed 003,
//! DESIGN §4). Each device keeps the rules (its API refuses a taken code, a cycle, a sixth
//! level, a second manager), but two devices' valid offline edits can break them together:
//! two departments with one code, two moves that make a cycle or nest six levels, two
//! people flagged as one department's manager, two staff records with one staff id, a
//! move into a department deleted meanwhile. `resolve` repairs the merged state by rules
//! that depend only on that state, so every peer that resolves writes the same values:
//!
//! - a code, short name, department code or staff id held twice: the record with the
//!   smallest id (the first created) keeps it, each other takes a value derived from its
//!   own id (`derived`), repeated while a derived value collides;
//! - a cycle: its department with the smallest id becomes a root (as the tree shows it);
//! - a department below level five: it moves up under its ancestor at level four;
//! - a parent deleted: the department becomes a root; a current staff record in a deleted
//!   department gets none;
//! - two flagged managers of one department: the one with the smallest key stays its
//!   manager.
//!
//! Each repair is written as this instance's change and recorded in `org_conflicts` (the
//! admin-only staff document) under a key derived from it, listed for admins with the
//! other resolved conflicts. It runs after every change of the workspace document: after a
//! device's update where it arrives, and in the API's own jobs (where it finds nothing to
//! do: the services refuse what would need it).

use std::collections::{BTreeMap, HashMap, HashSet};

use super::records::MAX_LEVEL;
use super::store;
use crate::db::WriteCtx;
use crate::docs::{DocRef, Set, TableSpec, Val, Who};
use crate::error::AppError;
use crate::org::records::{departments, org_conflicts, staff_profiles};
use crate::time::now_rfc3339;

/// One repair: a field of a record set to a new value, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Repair {
    pub spec: &'static TableSpec,
    pub id: String,
    /// A column of `spec` (`TableSpec::set` checks it).
    pub field: &'static str,
    pub old: Option<String>,
    pub new: Option<String>,
    /// The conflict's kind, as listed.
    pub kind: &'static str,
}

/// Derived values tried for one record before giving up (a field whose every value is
/// taken).
const MAX_ROUNDS: u32 = 20_000;

fn fnv(s: &str) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for b in s.bytes() {
        h = (h ^ u32::from(b)).wrapping_mul(0x0100_0193);
    }
    h
}

/// `len` base-36 characters from a hash of `seed` (upper case).
fn tag(seed: &str, len: usize) -> String {
    const DIGITS: &[u8; 36] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let mut n = fnv(seed);
    let mut out = vec![b'0'; len];
    for d in out.iter_mut().rev() {
        *d = DIGITS[(n % 36) as usize];
        n /= 36;
    }
    out.into_iter().map(char::from).collect()
}

/// A value for `field` derived from the record's own id (`round` > 0 when an earlier
/// derived value collided), valid for the field's rule.
fn derived(field: &str, value: &str, id: &str, round: u32) -> String {
    let seed = format!("{id}:{round}");
    match field {
        "code" => format!("{}-{}", value.chars().take(15).collect::<String>(), tag(&seed, 4)),
        "short_name" => format!("{}{}", value.chars().take(6).collect::<String>(), tag(&seed, 4)),
        "dept_code" => format!("{:04}", fnv(&seed) % 10_000),
        _ => format!("{}{}", value.chars().take(3).collect::<String>(), tag(&seed, 5)),
    }
}

/// Gives each value held twice (without case) to the smallest id; the others take derived
/// values that nobody holds. `rows` are (id, value).
fn unique(field: &'static str, kind: &'static str, spec: &'static TableSpec, rows: &[(String, String)]) -> Vec<Repair> {
    let mut held: HashSet<String> = rows.iter().map(|(_, v)| v.to_lowercase()).collect();
    let mut groups: BTreeMap<String, Vec<&(String, String)>> = BTreeMap::new();
    for r in rows {
        groups.entry(r.1.to_lowercase()).or_default().push(r);
    }
    let mut out = Vec::new();
    for (_, mut g) in groups {
        if g.len() < 2 {
            continue;
        }
        g.sort_by(|a, b| a.0.cmp(&b.0));
        for (id, value) in g.into_iter().skip(1) {
            let mut round = 0;
            let mut new = derived(field, value, id, round);
            while held.contains(&new.to_lowercase()) && round < MAX_ROUNDS {
                round += 1;
                new = derived(field, value, id, round);
            }
            if held.contains(&new.to_lowercase()) {
                // Every value of the field's form is taken (10,000 department codes): the
                // duplicate stays, and the services keep refusing new ones.
                continue;
            }
            held.insert(new.to_lowercase());
            out.push(Repair {
                spec,
                id: id.clone(),
                field,
                old: Some(value.clone()),
                new: Some(new),
                kind,
            });
        }
    }
    out
}

/// One live department as the repairs of the tree see it.
#[derive(Debug, Clone)]
pub(crate) struct Node {
    pub id: String,
    pub parent: Option<String>,
}

/// The repairs of a tree: parents deleted, cycles, departments below level five.
pub(crate) fn tree_repairs(nodes: &[Node]) -> Vec<Repair> {
    let mut parent: HashMap<String, Option<String>> = nodes.iter().map(|n| (n.id.clone(), n.parent.clone())).collect();
    let mut out = Vec::new();
    let mut set = |parent: &mut HashMap<String, Option<String>>, id: &str, new: Option<String>, kind| {
        let old = parent.get(id).cloned().flatten();
        parent.insert(id.to_string(), new.clone());
        out.push(Repair {
            spec: departments::SPEC,
            id: id.to_string(),
            field: "parent_id",
            old,
            new,
            kind,
        });
    };
    let mut ids: Vec<String> = nodes.iter().map(|n| n.id.clone()).collect();
    ids.sort();
    for id in &ids {
        if let Some(Some(p)) = parent.get(id) {
            if !parent.contains_key(p) {
                set(&mut parent, id, None, "department_parent_deleted");
            }
        }
    }
    // Cycles: walking up from each department in id order; a walk that returns to a
    // department it passed has found a cycle, broken at its smallest id.
    for id in &ids {
        let mut path: Vec<String> = vec![id.clone()];
        let mut at = id.clone();
        while let Some(Some(p)) = parent.get(&at).cloned() {
            if let Some(pos) = path.iter().position(|x| *x == p) {
                let smallest = path[pos..].iter().min().cloned().unwrap_or(p);
                set(&mut parent, &smallest, None, "department_cycle");
                break;
            }
            path.push(p.clone());
            at = p;
        }
    }
    // Depth: a department below level five moves under its ancestor at level four, in id
    // order, until none is.
    loop {
        let mut moved = false;
        for id in &ids {
            let mut chain: Vec<String> = Vec::new();
            let mut at = id.clone();
            while let Some(Some(p)) = parent.get(&at).cloned() {
                chain.push(p.clone());
                at = p;
                if chain.len() > 16 {
                    break;
                }
            }
            // chain: parent, grandparent, ... root; the department's level is chain.len() + 1.
            if chain.len() as i64 + 1 > MAX_LEVEL {
                let at_four = chain[chain.len() - (MAX_LEVEL as usize - 1)].clone();
                set(&mut parent, id, Some(at_four), "department_too_deep");
                moved = true;
            }
        }
        if !moved {
            break;
        }
    }
    out
}

/// One live staff record as the repairs see it.
#[derive(Debug, Clone)]
pub(crate) struct Person {
    pub key: String,
    pub staff_id: String,
    pub department_id: Option<String>,
    pub current: bool,
    pub manager: bool,
}

pub(crate) fn staff_repairs(people: &[Person], live_departments: &HashSet<String>) -> Vec<Repair> {
    let rows: Vec<(String, String)> = people.iter().map(|p| (p.key.clone(), p.staff_id.clone())).collect();
    let mut out = unique("staff_id", "staff_id_taken", staff_profiles::SPEC, &rows);
    let mut flagged: BTreeMap<&str, Vec<&Person>> = BTreeMap::new();
    for p in people {
        if let Some(d) = p.department_id.as_deref() {
            if !live_departments.contains(d) && p.current {
                out.push(Repair {
                    spec: staff_profiles::SPEC,
                    id: p.key.clone(),
                    field: "department_id",
                    old: Some(d.to_string()),
                    new: None,
                    kind: "staff_department_deleted",
                });
                continue;
            }
            if p.manager && p.current {
                flagged.entry(d).or_default().push(p);
            }
        }
    }
    for (_, mut g) in flagged {
        if g.len() < 2 {
            continue;
        }
        // The smallest key stays: a fact of the state alone, whatever edits came after.
        g.sort_by(|a, b| a.key.cmp(&b.key));
        let dept = g[0].department_id.clone();
        for p in g.into_iter().skip(1) {
            out.push(Repair {
                spec: staff_profiles::SPEC,
                id: p.key.clone(),
                field: "is_department_manager",
                // The department they were flagged for, so the record names the clash.
                old: dept.clone(),
                new: None,
                kind: "department_manager_taken",
            });
        }
    }
    out
}

/// Every repair the workspace's organisation needs now.
pub(crate) fn repairs(c: &rusqlite::Connection, ws: &str) -> Result<Vec<Repair>, AppError> {
    let depts = store::live(c, ws)?;
    let mut out = Vec::new();
    for (field, kind) in [
        ("code", "department_code_taken"),
        ("short_name", "department_short_name_taken"),
        ("dept_code", "department_dept_code_taken"),
    ] {
        let rows: Vec<(String, String)> = depts
            .iter()
            .map(|d| {
                let v = match field {
                    "code" => &d.code,
                    "short_name" => &d.short_name,
                    _ => &d.dept_code,
                };
                (d.id.clone(), v.clone())
            })
            .collect();
        out.extend(unique(field, kind, departments::SPEC, &rows));
    }
    let nodes: Vec<Node> = depts
        .iter()
        .map(|d| Node {
            id: d.id.clone(),
            parent: d.parent_id.clone(),
        })
        .collect();
    out.extend(tree_repairs(&nodes));
    let live: HashSet<String> = depts.iter().map(|d| d.id.clone()).collect();
    let people: Vec<Person> = store::staff_facts(c, ws)?;
    out.extend(staff_repairs(&people, &live));
    Ok(out)
}

fn value(field: &str, v: &Option<String>) -> Val {
    match (field, v.as_deref()) {
        // The only repair of the flag clears it.
        ("is_department_manager", _) => false.into(),
        (_, Some(s)) => s.into(),
        (_, None) => Val::Null,
    }
}

/// Repairs what merges broke, as this instance, recording each repair; answers how many.
pub fn resolve(ctx: &mut WriteCtx<'_>, ws: &str) -> Result<usize, AppError> {
    let repairs = repairs(ctx.conn, ws)?;
    if repairs.is_empty() {
        return Ok(0);
    }
    let now = now_rfc3339();
    // Several repairs of one record's field (a cycle broken, then a depth fixed) end at the
    // last; each is recorded.
    let mut last: BTreeMap<(&str, String, &str), (&'static TableSpec, Option<String>)> = BTreeMap::new();
    for r in &repairs {
        last.insert((r.spec.name, r.id.clone(), r.field), (r.spec, r.new.clone()));
    }
    ctx.edit(&Who::System, &DocRef::workspace(ws), |e| {
        let mut by_record: BTreeMap<(&str, &String), (&'static TableSpec, Vec<Set>)> = BTreeMap::new();
        for ((table, id, field), (spec, new)) in &last {
            let set = spec
                .set(field, value(field, new))
                .ok_or_else(|| AppError::internal(format!("{table} has no field {field}")))?;
            by_record
                .entry((table, id))
                .or_insert_with(|| (spec, Vec::new()))
                .1
                .push(set);
        }
        for ((table, id), (spec, mut f)) in by_record {
            f.push(
                spec.set("updated_at", now.as_str().into())
                    .ok_or_else(|| AppError::internal(table))?,
            );
            e.set(spec, id, &f)?;
        }
        Ok(())
    })?;
    record(ctx, ws, &repairs, &now)?;
    Ok(repairs.len())
}

/// Records repairs as resolved conflicts (once per key), as this instance.
pub(super) fn record(ctx: &mut WriteCtx<'_>, ws: &str, repairs: &[Repair], now: &str) -> Result<(), AppError> {
    let known: HashSet<String> = repairs
        .iter()
        .map(conflict_key)
        .filter(|k| store::conflict_recorded(ctx.conn, k).unwrap_or(false))
        .collect();
    if repairs.iter().all(|r| known.contains(&conflict_key(r))) {
        return Ok(());
    }
    ctx.edit(&Who::System, &DocRef::staff(ws), |e| {
        for r in repairs {
            let key = conflict_key(r);
            if known.contains(&key) {
                continue;
            }
            e.put(
                org_conflicts::SPEC,
                &key,
                &[
                    org_conflicts::workspace_id.to(ws),
                    org_conflicts::kind.to(r.kind),
                    org_conflicts::record_id.to(r.id.as_str()),
                    org_conflicts::old_value.to(r.old.clone()),
                    org_conflicts::new_value.to(r.new.clone()),
                    org_conflicts::created_at.to(now),
                    org_conflicts::updated_at.to(now),
                    org_conflicts::created_by.null(),
                    org_conflicts::deleted_at.null(),
                ],
            )?;
        }
        Ok(())
    })
}

/// A staff id for record `key` derived from `taken`, that no live record holds.
pub(super) fn free_staff_id(c: &rusqlite::Connection, ws: &str, taken: &str, key: &str) -> Result<String, AppError> {
    for round in 0..MAX_ROUNDS {
        let v = derived("staff_id", taken, key, round);
        if !store::staff_id_taken(c, ws, &v, key)? {
            return Ok(v);
        }
    }
    Err(AppError::internal("no free staff id"))
}

/// The key a repair is recorded under: the same on every peer that makes it.
pub fn conflict_key(r: &Repair) -> String {
    key_of(r.kind, &r.id, r.old.as_deref(), r.new.as_deref())
}

/// The key of an `org_conflicts` record from its fields (for the record's rule).
pub fn key_of(kind: &str, record: &str, old: Option<&str>, new: Option<&str>) -> String {
    format!("{kind}:{record}:{}:{}", old.unwrap_or(""), new.unwrap_or(""))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(id: &str, parent: Option<&str>) -> Node {
        Node {
            id: id.into(),
            parent: parent.map(str::to_string),
        }
    }

    #[test]
    fn a_cycle_breaks_at_its_smallest_id_and_depth_moves_up_to_level_five() {
        // b ⇄ c, d under c; a chain r > s > t > u > v > w (w at level 6); x under a gone one.
        let nodes = vec![
            node("c", Some("b")),
            node("b", Some("c")),
            node("d", Some("c")),
            node("r", None),
            node("s", Some("r")),
            node("t", Some("s")),
            node("u", Some("t")),
            node("v", Some("u")),
            node("w", Some("v")),
            node("x", Some("gone")),
        ];
        let got: Vec<(String, Option<String>, &str)> = tree_repairs(&nodes)
            .into_iter()
            .map(|r| (r.id, r.new, r.kind))
            .collect();
        assert_eq!(
            got,
            vec![
                ("x".to_string(), None, "department_parent_deleted"),
                ("b".to_string(), None, "department_cycle"),
                ("w".to_string(), Some("u".to_string()), "department_too_deep"),
            ]
        );
        // The same state in any order gives the same repairs.
        let mut rev = nodes.clone();
        rev.reverse();
        assert_eq!(tree_repairs(&rev), tree_repairs(&nodes));
    }

    #[test]
    fn values_held_twice_go_to_the_first_and_the_others_get_derived_valid_ones() {
        let rows = vec![
            ("02".to_string(), "OPS".to_string()),
            ("01".to_string(), "ops".to_string()),
            ("03".to_string(), "OPS".to_string()),
        ];
        let r = unique("code", "department_code_taken", departments::SPEC, &rows);
        assert_eq!(r.len(), 2);
        assert!(r.iter().all(|x| x.id != "01"), "the first created keeps it");
        for x in &r {
            let v = x.new.clone().unwrap();
            assert!(super::super::records::valid_code(&v), "{v}");
        }
        assert_ne!(r[0].new, r[1].new);
        let s = unique(
            "short_name",
            "k",
            departments::SPEC,
            &[("a".into(), "ENG".into()), ("b".into(), "ENG".into())],
        );
        assert!(super::super::records::valid_short_name(s[0].new.as_deref().unwrap()));
        let d = unique(
            "dept_code",
            "k",
            departments::SPEC,
            &[("a".into(), "0001".into()), ("b".into(), "0001".into())],
        );
        assert!(super::super::records::valid_dept_code(d[0].new.as_deref().unwrap()));
        let i = unique(
            "staff_id",
            "k",
            staff_profiles::SPEC,
            &[("a".into(), "E1".into()), ("b".into(), "e1".into())],
        );
        assert!(super::super::records::valid_staff_id(i[0].new.as_deref().unwrap()));
    }
}
