//! `keel-desktop`: the Keel server in-process on 127.0.0.1 (a random port, the same `serve`
//! the CLI uses) and a window on its web UI, signed in as the local owner through a
//! one-time token. The window is a browser on that server: no second copy of the UI and no
//! IPC to the database. A tray menu opens the window, shares the instance on the LAN and
//! quits.

#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
use std::sync::Mutex;
use std::time::Duration;

use anyhow::Context;
use keel::auth::{Actor, AuthVia};
use keel::{App, Config};
use tauri::menu::{CheckMenuItem, Menu, MenuItem, PredefinedMenuItem};
use tauri::tray::TrayIconBuilder;
use tauri::{AppHandle, Manager, RunEvent, WebviewUrl, WebviewWindowBuilder, Wry};
use tokio::sync::oneshot;

/// What the window, the tray and the exit path share.
struct Desktop {
    app: App,
    owner_id: String,
    port: u16,
    lan_port: u16,
    /// Stops the in-process server (taken at exit).
    stop: Mutex<Option<oneshot::Sender<()>>>,
    server: Mutex<Option<tauri::async_runtime::JoinHandle<anyhow::Result<()>>>>,
    /// Stops the LAN listener while sharing.
    lan: Mutex<Option<oneshot::Sender<()>>>,
    /// False when no tray could be made: closing the window then quits.
    tray: Mutex<Option<TrayItems>>,
}

#[derive(Clone)]
struct TrayItems {
    share: CheckMenuItem<Wry>,
    lan_url: MenuItem<Wry>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn main() {
    if let Err(e) = run() {
        eprintln!("keel-desktop: {e:#}");
        std::process::exit(1);
    }
}

fn run() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,refinery_core=warn,tao=warn,wry=warn".into()),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("start the async runtime")?;
    tauri::async_runtime::set(rt.handle().clone());

    let data_dir = std::env::var_os("KEEL_DATA_DIR")
        .map(Into::into)
        .unwrap_or_else(keel::config::default_data_dir);
    let lan_port = match std::env::var("KEEL_LAN_PORT") {
        Ok(p) => p.parse().context("KEEL_LAN_PORT must be a port number")?,
        Err(_) => 7420,
    };
    // KEEL_SHARE_ON_LAN=1 starts shared, as if "Share on LAN" had been ticked.
    let share_at_start = std::env::var("KEEL_SHARE_ON_LAN").is_ok_and(|v| v == "1" || v == "true");
    let app = App::open(Config::new(data_dir.clone()), true)
        .with_context(|| format!("open the data dir {}", data_dir.display()))?;
    let (owner, created) = keel::auth::ensure_local_owner_blocking(&app, &os_user_name())?;
    if created {
        first_workspace(&rt, &app, &owner)?;
    }

    let listener = rt
        .block_on(tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)))
        .context("listen on 127.0.0.1")?;
    let port = listener.local_addr()?.port();
    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    let server = tauri::async_runtime::spawn(keel::serve(app.clone(), listener, async {
        let _ = stop_rx.await;
    }));
    println!(
        "Keel desktop: serving http://127.0.0.1:{port} from {}",
        data_dir.display()
    );

    let desktop = Desktop {
        app,
        owner_id: owner.id,
        port,
        lan_port,
        stop: Mutex::new(Some(stop_tx)),
        server: Mutex::new(Some(server)),
        lan: Mutex::new(None),
        tray: Mutex::new(None),
    };
    let tauri_app = tauri::Builder::default()
        .manage(desktop)
        .setup(move |app| {
            open_window(app.handle())?;
            match build_tray(app.handle()) {
                Ok(items) => *lock(&app.state::<Desktop>().tray) = Some(items),
                Err(e) => tracing::warn!(error = %e, "no tray icon: closing the window will quit"),
            }
            stop_on_signals(app.handle().clone());
            if share_at_start {
                toggle_lan(app.handle().clone());
            }
            Ok(())
        })
        .build(tauri::generate_context!())
        .context("start the window system")?;
    tauri_app.run(|handle, event| match event {
        // The last window closed: stay in the tray, where "Open Keel" brings it back.
        RunEvent::ExitRequested { code: None, api, .. } if lock(&handle.state::<Desktop>().tray).is_some() => {
            api.prevent_exit();
        }
        RunEvent::Exit => shut_down(handle),
        _ => {}
    });
    Ok(())
}

/// The name the local owner starts with: the OS account's.
fn os_user_name() -> String {
    let raw = std::env::var("USER")
        .or_else(|_| std::env::var("USERNAME"))
        .unwrap_or_default();
    let mut c = raw.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => "Owner".into(),
    }
}

/// A first workspace so that the window opens on real work, not an empty list.
fn first_workspace(rt: &tokio::runtime::Runtime, app: &App, owner: &keel::auth::UserView) -> anyhow::Result<()> {
    let actor = Actor {
        user_id: owner.id.clone(),
        email: owner.email.clone(),
        display_name: owner.display_name.clone(),
        is_instance_admin: owner.is_instance_admin,
        via: AuthVia::Session {
            session_id: String::new(),
        },
    };
    rt.block_on(keel::workspaces::Workspaces(app).create(&actor, "Personal", "personal"))
        .map_err(|e| anyhow::anyhow!("create the first workspace: {e}"))?;
    Ok(())
}

/// Opens (or focuses) the window, signed in through a fresh one-time token.
fn open_window(handle: &AppHandle) -> anyhow::Result<()> {
    if let Some(w) = handle.get_webview_window("main") {
        let _ = w.unminimize();
        let _ = w.show();
        let _ = w.set_focus();
        return Ok(());
    }
    let d = handle.state::<Desktop>();
    let token = d.app.one_time.mint(&d.owner_id, Duration::from_secs(60));
    // The token travels in the fragment: it never reaches a log line or a Referer.
    let url = format!("http://127.0.0.1:{}/auth/one-time#token={token}", d.port).parse()?;
    WebviewWindowBuilder::new(handle, "main", WebviewUrl::External(url))
        .title("Keel")
        .inner_size(1200.0, 800.0)
        .min_inner_size(640.0, 480.0)
        .build()
        .context("open the window")?;
    Ok(())
}

fn build_tray(handle: &AppHandle) -> anyhow::Result<TrayItems> {
    let d = handle.state::<Desktop>();
    let open = MenuItem::with_id(handle, "open", "Open Keel", true, None::<&str>)?;
    let share = CheckMenuItem::with_id(
        handle,
        "share",
        format!("Share on LAN (port {})", d.lan_port),
        true,
        false,
        None::<&str>,
    )?;
    let lan_url = MenuItem::with_id(handle, "lan_url", "Not shared on the LAN", false, None::<&str>)?;
    let quit = MenuItem::with_id(handle, "quit", "Quit Keel", true, None::<&str>)?;
    let sep = PredefinedMenuItem::separator(handle)?;
    let menu = Menu::with_items(handle, &[&open, &share, &lan_url, &sep, &quit])?;
    let mut tray = TrayIconBuilder::with_id("keel")
        .tooltip("Keel")
        .menu(&menu)
        .show_menu_on_left_click(true)
        .on_menu_event(|h, event| match event.id.as_ref() {
            "open" => {
                if let Err(e) = open_window(h) {
                    tracing::error!(error = %e, "could not open the window");
                }
            }
            "share" => toggle_lan(h.clone()),
            "quit" => h.exit(0),
            _ => {}
        });
    if let Some(icon) = handle.default_window_icon() {
        tray = tray.icon(icon.clone());
    }
    tray.build(handle)?;
    Ok(TrayItems { share, lan_url })
}

/// Starts or stops the LAN listener: the same server, also on 0.0.0.0:`lan_port`.
fn toggle_lan(handle: AppHandle) {
    tauri::async_runtime::spawn(async move {
        let d = handle.state::<Desktop>();
        let items = lock(&d.tray).clone();
        let running = lock(&d.lan).take();
        if let Some(stop) = running {
            let _ = stop.send(());
            if let Some(i) = &items {
                let _ = i.share.set_checked(false);
                let _ = i.lan_url.set_text("Not shared on the LAN");
            }
            println!("Keel desktop: no longer shared on the LAN");
            return;
        }
        let addr = SocketAddr::from((Ipv4Addr::UNSPECIFIED, d.lan_port));
        match tokio::net::TcpListener::bind(addr).await {
            Ok(listener) => {
                let (tx, rx) = oneshot::channel::<()>();
                *lock(&d.lan) = Some(tx);
                let app = d.app.clone();
                tauri::async_runtime::spawn(async move {
                    if let Err(e) = keel::serve(app, listener, async {
                        let _ = rx.await;
                    })
                    .await
                    {
                        tracing::error!(error = %e, "LAN listener failed");
                    }
                });
                let url = format!("http://{}:{}", lan_ip(), d.lan_port);
                if let Some(i) = &items {
                    let _ = i.share.set_checked(true);
                    let _ = i.lan_url.set_text(format!("Open from other machines: {url}"));
                }
                println!("Keel desktop: shared on the LAN at {url}");
            }
            Err(e) => {
                if let Some(i) = &items {
                    let _ = i.share.set_checked(false);
                    let _ = i.lan_url.set_text(format!(
                        "Port {} is not free ({e}); start with KEEL_LAN_PORT set to another",
                        d.lan_port
                    ));
                }
                tracing::warn!(error = %e, port = d.lan_port, "could not share on the LAN");
            }
        }
    });
}

/// This machine's address on its LAN: the source address the OS would use to reach a
/// remote host. Connecting a UDP socket sends nothing.
fn lan_ip() -> String {
    UdpSocket::bind((Ipv4Addr::UNSPECIFIED, 0))
        .and_then(|s| s.connect((Ipv4Addr::new(192, 0, 2, 1), 9)).map(|()| s))
        .and_then(|s| s.local_addr())
        .map_or_else(|_| "this-machine".to_string(), |a| a.ip().to_string())
}

/// SIGTERM and SIGINT quit like the tray's "Quit": the window closes and the server
/// finishes its requests.
fn stop_on_signals(handle: AppHandle) {
    tauri::async_runtime::spawn(async move {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            let (Ok(mut term), Ok(mut int)) = (signal(SignalKind::terminate()), signal(SignalKind::interrupt())) else {
                return;
            };
            tokio::select! { _ = term.recv() => {}, _ = int.recv() => {} }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
        tracing::info!("quitting on a signal");
        handle.exit(0);
    });
}

fn shut_down(handle: &AppHandle) {
    let d = handle.state::<Desktop>();
    if let Some(stop) = lock(&d.lan).take() {
        let _ = stop.send(());
    }
    if let Some(stop) = lock(&d.stop).take() {
        let _ = stop.send(());
    }
    let server = lock(&d.server).take();
    if let Some(server) = server {
        let done = tauri::async_runtime::block_on(async { tokio::time::timeout(Duration::from_secs(5), server).await });
        match done {
            Ok(Ok(Ok(()))) => tracing::info!("server stopped"),
            Ok(Ok(Err(e))) => tracing::error!(error = %e, "server stopped with an error"),
            Ok(Err(e)) => tracing::error!(error = %e, "server task failed"),
            Err(_) => tracing::warn!("server did not stop within 5 s"),
        }
    }
}
