//! Builds the web UI (`ui/` → `ui/dist`) whenever its sources change, so the binary always
//! embeds the UI of the sources it was built from: never a stale or a missing one.

use std::path::Path;
use std::process::Command;

const SOURCES: &[&str] = &[
    "src",
    "public",
    "index.html",
    "package.json",
    "package-lock.json",
    "vite.config.ts",
    "tsconfig.json",
];

fn main() {
    let Ok(root) = std::env::var("CARGO_MANIFEST_DIR") else {
        fail("CARGO_MANIFEST_DIR is not set: build with cargo");
    };
    let ui = Path::new(&root).join("ui");
    for s in SOURCES {
        println!("cargo:rerun-if-changed={}", ui.join(s).display());
    }
    // `refinery::embed_migrations!` reads this folder when the crate compiles: a new
    // migration must rebuild it (cargo watches only what a build script names).
    println!(
        "cargo:rerun-if-changed={}",
        Path::new(&root).join("migrations").display()
    );
    let npm = if cfg!(windows) { "npm.cmd" } else { "npm" };
    if Command::new(npm).arg("--version").output().is_err() {
        fail("npm was not found. Keel embeds its web UI, built from ui/ with Node.js 20+ and npm: install them (Debian: apt install nodejs npm) and build again.");
    }
    let installed = ui.join("node_modules/.package-lock.json");
    let stale = match (mtime(&installed), mtime(&ui.join("package-lock.json"))) {
        (Some(i), Some(l)) => l > i,
        _ => true,
    };
    if stale {
        run(
            Command::new(npm)
                .args(["ci", "--no-audit", "--no-fund"])
                .current_dir(&ui),
            "npm ci",
        );
    }
    run(
        Command::new(npm).args(["run", "--silent", "bundle"]).current_dir(&ui),
        "npm run bundle",
    );
    if !ui.join("dist/index.html").is_file() {
        fail("the UI build finished without ui/dist/index.html");
    }
}

fn mtime(p: &Path) -> Option<std::time::SystemTime> {
    std::fs::metadata(p).and_then(|m| m.modified()).ok()
}

fn run(cmd: &mut Command, what: &str) {
    match cmd.status() {
        Ok(s) if s.success() => {}
        Ok(s) => fail(&format!("`{what}` in ui/ failed ({s}); its output is above")),
        Err(e) => fail(&format!("could not run `{what}` in ui/: {e}")),
    }
}

fn fail(msg: &str) -> ! {
    eprintln!("error: {msg}");
    std::process::exit(1)
}
