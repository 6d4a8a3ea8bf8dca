//! The layering rules of ARCHITECTURE.md, checked over the source (outside test modules):
//! SQL only in `store.rs` files and `db.rs`; axum only in `routes.rs`, `extract.rs`,
//! `http.rs` and `ui.rs`; a domain reaches another only through its `mod.rs` (never its
//! `store` or `routes`); an issue's history is written only by `issues/activity.rs`; a row
//! of several columns is read by column name, not position; the desktop crate never
//! touches the database.

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The file's lines before its first test module, with their numbers.
fn code_lines(p: &Path) -> Vec<(usize, String)> {
    let text = std::fs::read_to_string(p).unwrap();
    text.lines()
        .enumerate()
        .take_while(|(_, l)| !l.trim_start().starts_with("#[cfg(test)]"))
        .filter(|(_, l)| !l.trim_start().starts_with("//"))
        .map(|(i, l)| (i + 1, l.to_string()))
        .collect()
}

/// Whether `line` reads a row's column past the first by position: `.get(2)`,
/// `.get::<_, i64>(1)`, `.get_ref(3)`.
fn reads_by_position(line: &str) -> bool {
    let mut after: Vec<&str> = Vec::new();
    for m in [".get(", ".get_ref(", ".get_unwrap("] {
        after.extend(line.match_indices(m).map(|(i, _)| &line[i + m.len()..]));
    }
    for (i, _) in line.match_indices(".get::<") {
        if let Some(j) = line[i..].find(">(") {
            after.push(&line[i + j + 2..]);
        }
    }
    after.iter().any(|a| a.starts_with(|c: char| ('1'..='9').contains(&c)))
}

#[test]
fn a_column_past_the_first_read_by_position_is_found() {
    for bad in [
        "r.get(1)?",
        "r.get::<_, i64>(6)? != 0",
        "row.get_ref(2)",
        "x, r.get(10)?",
    ] {
        assert!(reads_by_position(bad), "{bad}");
    }
    for good in [
        "r.get(0)",
        "r.get(\"name\")?",
        "r.get::<_, String>(\"id\")?",
        "parts.get(i)",
        "row.get_ref(by)",
    ] {
        assert!(!reads_by_position(good), "{good}");
    }
}

#[test]
fn the_layering_rules_hold() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    let domains = [
        "auth",
        "workspaces",
        "org",
        "work",
        "issues",
        "planning",
        "timetrack",
        "me",
        "plans",
        "sync",
        "docs",
    ];
    let sql = [
        ".prepare(",
        ".prepare_cached(",
        ".execute(",
        ".query_row(",
        ".execute_batch(",
    ];
    let mut broken = Vec::new();
    for f in &files {
        let rel = f.strip_prefix(root).unwrap().to_string_lossy().replace('\\', "/");
        let name = f.file_name().unwrap().to_string_lossy().to_string();
        let own = rel
            .strip_prefix("src/")
            .and_then(|r| r.split_once('/'))
            .map(|(d, _)| d.to_string());
        for (n, line) in code_lines(f) {
            let at = format!("{rel}:{n}: {}", line.trim());
            if sql.iter().any(|s| line.contains(s)) && name != "store.rs" && rel != "src/db.rs" {
                broken.push(format!("SQL outside store.rs/db.rs: {at}"));
            }
            // A row read by position breaks silently when its SELECT changes; a second
            // column read by position means a row of several, which is read by name.
            if (name == "store.rs" || rel == "src/db.rs") && reads_by_position(&line) {
                broken.push(format!("a row's column read by position, not name: {at}"));
            }
            if line.contains("axum") && !matches!(name.as_str(), "routes.rs" | "extract.rs" | "http.rs" | "ui.rs") {
                broken.push(format!("axum outside the HTTP layer: {at}"));
            }
            // An issue's history is derived from changes in one place (`issues::activity`).
            if line.contains("\"issue_activity\"")
                && !matches!(
                    rel.as_str(),
                    "src/issues/activity.rs" | "src/issues/records.rs" | "src/docs/schema.rs" | "src/docs/rules.rs"
                )
            {
                broken.push(format!("history written outside issues/activity.rs: {at}"));
            }
            for d in domains {
                if own.as_deref() == Some(d) {
                    continue;
                }
                if line.contains(&format!("crate::{d}::store")) {
                    broken.push(format!("another domain's store: {at}"));
                }
                if line.contains(&format!("crate::{d}::routes")) && rel != "src/http.rs" {
                    broken.push(format!("another domain's routes: {at}"));
                }
            }
        }
    }
    let mut desktop = Vec::new();
    rust_files(&root.join("src-tauri/src"), &mut desktop);
    for f in &desktop {
        for (n, line) in code_lines(f) {
            if line.contains("rusqlite") || line.contains("keel::db::") || line.contains("keel::docs::") {
                broken.push(format!("the desktop touches the database: {}:{n}", f.display()));
            }
        }
    }
    assert!(broken.is_empty(), "{}", broken.join("\n"));
    assert!(files.len() > 40, "read only {} files", files.len());
}

/// A peer's update that makes yrs panic is caught (`docs::remote::integrate`) only if panics
/// unwind: with `panic = "abort"` the shipped server would die of one hostile device's bytes
/// (the fuzz regressions hold such inputs). No profile a server is built with may abort.
#[test]
fn no_build_profile_aborts_on_panic() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let toml = std::fs::read_to_string(root.join("Cargo.toml")).unwrap();
    let aborting: Vec<&str> = toml
        .lines()
        .filter(|l| {
            l.split('#')
                .next()
                .unwrap_or("")
                .replace(' ', "")
                .starts_with("panic=\"abort\"")
        })
        .collect();
    assert!(aborting.is_empty(), "Cargo.toml: {aborting:?}");
}
