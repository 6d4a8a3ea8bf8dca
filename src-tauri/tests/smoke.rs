//! Desktop smoke test: the real `keel-desktop` binary in a real X server (Xvfb). Its
//! embedded server must answer, its window must show the signed-in workspace screen (a
//! screenshot of the screen is read back by OCR), and SIGTERM must end it cleanly.
//! Needs Xvfb, ImageMagick's `import` and `tesseract` (`.ci/run` installs them).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn need(tool: &str) {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        found,
        "`{tool}` is missing: `bash .ci/run` installs what the desktop smoke test needs"
    );
}

fn start_xvfb() -> (Killed, String) {
    need("Xvfb");
    for n in 90..140 {
        if Path::new(&format!("/tmp/.X11-unix/X{n}")).exists() || Path::new(&format!("/tmp/.X{n}-lock")).exists() {
            continue;
        }
        let display = format!(":{n}");
        let child = Command::new("Xvfb")
            .args([display.as_str(), "-screen", "0", "1280x800x24", "-nolisten", "tcp"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start Xvfb");
        let x = Killed(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if Path::new(&format!("/tmp/.X11-unix/X{n}")).exists() {
                return (x, display);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    panic!("no free X display for Xvfb");
}

fn http_get(port: u16, path: &str) -> String {
    http_get_at("127.0.0.1", port, path)
}

fn http_get_at(host: &str, port: u16, path: &str) -> String {
    let mut s = TcpStream::connect((host, port)).expect("connect to the embedded server");
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

fn artifacts() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../test-artifacts/desktop");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Screenshot of the whole X screen, read back as text.
fn screen_text(display: &str, png: &Path) -> String {
    let shot = Command::new("import")
        .args(["-display", display, "-window", "root"])
        .arg(png)
        .status()
        .expect("run import");
    assert!(shot.success(), "import failed");
    let ocr = Command::new("tesseract")
        .arg(png)
        .arg("stdout")
        .stderr(Stdio::null())
        .output()
        .expect("run tesseract");
    String::from_utf8_lossy(&ocr.stdout).to_lowercase()
}

#[test]
fn desktop_opens_signed_in_on_the_workspace_serves_and_quits_cleanly() {
    need("import");
    need("tesseract");
    let (_xvfb, display) = start_xvfb();
    let lan_port = std::net::TcpListener::bind("0.0.0.0:0")
        .and_then(|l| l.local_addr())
        .unwrap()
        .port();
    let data = tempfile::tempdir().unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_keel-desktop"))
        .env("DISPLAY", &display)
        .env("KEEL_DATA_DIR", data.path())
        .env("USER", "dana")
        .env("KEEL_SHARE_ON_LAN", "1")
        .env("KEEL_LAN_PORT", lan_port.to_string())
        // Software rendering: Xvfb has no GPU.
        .env("WEBKIT_DISABLE_COMPOSITING_MODE", "1")
        .env("LIBGL_ALWAYS_SOFTWARE", "1")
        .env_remove("WAYLAND_DISPLAY")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start keel-desktop");
    let mut app = Killed(child);

    // The embedded server's address, from the first line the app prints.
    let stdout = app.0.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if line.starts_with("Keel desktop:") {
                let _ = tx.send(line);
            }
        }
    });
    let line = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("keel-desktop printed no address within 60 s");
    let port: u16 = line
        .split("http://127.0.0.1:")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("unexpected first line: {line}"));

    let health = http_get(port, "/health");
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");

    // Started shared on the LAN: the same server answers on the LAN port and address.
    let shared = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("keel-desktop did not report sharing on the LAN");
    let lan_url = shared
        .strip_prefix("Keel desktop: shared on the LAN at http://")
        .unwrap_or_else(|| panic!("unexpected line: {shared}"));
    let (lan_host, lan_port_seen) = lan_url.rsplit_once(':').unwrap();
    assert_eq!(lan_port_seen, lan_port.to_string());
    let lan_health = http_get_at(lan_host, lan_port, "/health");
    assert!(lan_health.starts_with("HTTP/1.1 200"), "{lan_health}");
    let page = http_get(port, "/");
    assert!(
        page.contains("<div id=\"root\">"),
        "the server does not serve the UI: {page}"
    );

    // The window: wait until the screen shows the signed-in workspace screen.
    let png = artifacts().join("window.png");
    let deadline = Instant::now() + Duration::from_secs(90);
    let mut text = String::new();
    while Instant::now() < deadline {
        text = screen_text(&display, &png);
        assert!(
            !text.contains("could not sign in") && !text.contains("page not found"),
            "the window shows an error page:\n{text}"
        );
        if text.contains("personal") && text.contains("projects") && text.contains("sign out") {
            break;
        }
        std::thread::sleep(Duration::from_secs(1));
    }
    assert!(
        text.contains("personal") && text.contains("projects") && text.contains("sign out"),
        "after 90 s the screen (test-artifacts/desktop/window.png) does not show the workspace screen:\n{text}"
    );

    // SIGTERM quits cleanly: exit code 0, and the server stops answering.
    let pid = app.0.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(s) = app.0.try_wait().unwrap() {
            break s;
        }
        assert!(
            Instant::now() < deadline,
            "keel-desktop did not exit within 20 s of SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(status.success(), "keel-desktop exited with {status}");
    assert!(
        TcpStream::connect(("127.0.0.1", port)).is_err(),
        "the server still answers"
    );
    assert!(
        TcpStream::connect((lan_host, lan_port)).is_err(),
        "the LAN listener still answers"
    );
    // The data dir is free again: the lock was released.
    keel_lock_is_free(data.path());
}

fn keel_lock_is_free(dir: &Path) {
    let f = std::fs::File::options()
        .write(true)
        .open(dir.join("keel.lock"))
        .unwrap();
    assert!(f.try_lock().is_ok(), "the data dir is still locked");
}
