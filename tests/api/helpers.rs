//! TestApp: the real server on 127.0.0.1:0 with a temp data dir, and one helper per call.

use std::net::SocketAddr;

use keel::{App, Config};
use reqwest::Method;
use serde_json::{json, Value};
use tokio::sync::oneshot;

pub struct TestApp {
    pub addr: SocketAddr,
    pub client: reqwest::Client,
    pub app: App,
    pub dir: tempfile::TempDir,
    shutdown: Option<oneshot::Sender<()>>,
}

#[derive(Debug, Clone)]
pub struct Res {
    pub status: u16,
    pub body: Value,
    pub headers: reqwest::header::HeaderMap,
}

impl Res {
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }
    pub fn message(&self) -> &str {
        self.body["error"]["message"].as_str().unwrap_or("")
    }
    #[track_caller]
    pub fn ok(&self, status: u16) -> &Value {
        assert_eq!(self.status, status, "unexpected answer: {}", self.body);
        &self.body
    }
    #[track_caller]
    pub fn err(&self, status: u16, code: &str) {
        assert_eq!(
            (self.status, self.code()),
            (status, code),
            "unexpected answer: {}",
            self.body
        );
    }
}

#[derive(Debug, Clone)]
pub struct User {
    pub id: String,
    pub email: String,
    pub password: String,
    pub token: String,
    pub refresh: String,
}

pub const PASSWORD: &str = "correct horse battery";

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(|_| {}).await
    }

    pub async fn spawn_with(f: impl FnOnce(&mut Config)) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut config = Config::new(dir.path().to_path_buf());
        config.auth_per_ip_per_min = 100_000;
        config.auth_per_account_per_min = 100_000;
        config.readers = 2;
        f(&mut config);
        Self::start(dir, config).await
    }

    async fn start(dir: tempfile::TempDir, config: Config) -> Self {
        let app = App::open(config, true).expect("open app");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (tx, rx) = oneshot::channel::<()>();
        let a = app.clone();
        tokio::spawn(async move {
            keel::serve(a, listener, async move {
                let _ = rx.await;
            })
            .await
            .expect("serve");
        });
        Self {
            addr,
            client: reqwest::Client::new(),
            app,
            dir,
            shutdown: Some(tx),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub async fn call(&self, method: Method, path: &str, token: Option<&str>, body: Option<Value>) -> Res {
        let mut rb = self.client.request(method, self.url(path));
        if let Some(t) = token {
            rb = rb.bearer_auth(t);
        }
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        let r = rb.send().await.expect("request");
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let text = r.text().await.expect("body");
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        Res { status, body, headers }
    }

    pub async fn get(&self, path: &str, token: &str) -> Res {
        self.call(Method::GET, path, Some(token), None).await
    }
    pub async fn post(&self, path: &str, token: &str, body: Value) -> Res {
        self.call(Method::POST, path, Some(token), Some(body)).await
    }
    pub async fn patch(&self, path: &str, token: &str, body: Value) -> Res {
        self.call(Method::PATCH, path, Some(token), Some(body)).await
    }
    pub async fn delete(&self, path: &str, token: &str) -> Res {
        self.call(Method::DELETE, path, Some(token), None).await
    }
    pub async fn put(&self, path: &str, token: &str, body: Value) -> Res {
        self.call(Method::PUT, path, Some(token), Some(body)).await
    }

    pub async fn register_raw(&self, email: &str, password: &str, name: &str) -> Res {
        self.call(
            Method::POST,
            "/api/v1/auth/register",
            None,
            Some(json!({"email": email, "password": password, "display_name": name})),
        )
        .await
    }

    pub async fn register(&self, email: &str) -> User {
        self.register_named(email, email.split('@').next().unwrap_or("x")).await
    }

    /// An account with the display name `name`.
    pub async fn register_named(&self, email: &str, name: &str) -> User {
        let r = self.register_raw(email, PASSWORD, name).await;
        let b = r.ok(201).clone();
        User {
            id: b["user"]["id"].as_str().expect("id").to_string(),
            email: email.to_string(),
            password: PASSWORD.to_string(),
            token: b["access_token"].as_str().expect("token").to_string(),
            refresh: b["refresh_token"].as_str().expect("refresh").to_string(),
        }
    }

    pub async fn login(&self, email: &str, password: &str) -> Res {
        self.call(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({"email": email, "password": password})),
        )
        .await
    }

    pub async fn create_workspace(&self, owner: &User, slug: &str) -> Value {
        self.post(
            "/api/v1/workspaces",
            &owner.token,
            json!({"name": slug.to_uppercase(), "slug": slug}),
        )
        .await
        .ok(201)
        .clone()
    }

    pub async fn add_member(&self, admin: &User, slug: &str, who: &User, role: &str) {
        self.post(
            &format!("/api/v1/workspaces/{slug}/members"),
            &admin.token,
            json!({"email": who.email, "role": role}),
        )
        .await
        .ok(201);
    }

    pub async fn create_project(&self, who: &User, slug: &str, ident: &str, private: bool) -> String {
        let r = self
            .post(
                &format!("/api/v1/workspaces/{slug}/projects"),
                &who.token,
                json!({"name": format!("Project {ident}"), "identifier": ident, "is_private": private}),
            )
            .await;
        r.ok(201)["id"].as_str().expect("id").to_string()
    }

    pub async fn api_token(&self, who: &User) -> String {
        let r = self
            .post("/api/v1/users/me/tokens", &who.token, json!({"name": "ci"}))
            .await;
        r.ok(201)["token"].as_str().expect("token").to_string()
    }

    /// Rows of a table as JSON, ordered by id (read straight from the SQLite file).
    pub fn dump(&self, sql: &str) -> Vec<Value> {
        dump_db(&self.dir.path().join("keel.db"), sql)
    }
}

/// A server with workspace `acme`: its owner, an admin, a member and a guest.
pub struct Team {
    pub app: TestApp,
    pub o: User,
    pub a: User,
    pub m: User,
    pub g: User,
}

pub async fn team() -> Team {
    let app = TestApp::spawn().await;
    let o = app.register("owner@example.com").await;
    let a = app.register("admin@example.com").await;
    let m = app.register("member@example.com").await;
    let g = app.register("guest@example.com").await;
    app.create_workspace(&o, "acme").await;
    app.add_member(&o, "acme", &a, "admin").await;
    app.add_member(&o, "acme", &m, "member").await;
    app.add_member(&o, "acme", &g, "guest").await;
    Team { app, o, a, m, g }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

pub fn dump_db(path: &std::path::Path, sql: &str) -> Vec<Value> {
    let c = rusqlite::Connection::open(path).expect("open db");
    let mut stmt = c.prepare(sql).expect("prepare");
    let n = stmt.column_count();
    let names: Vec<String> = (0..n).map(|i| stmt.column_name(i).expect("name").to_string()).collect();
    let rows = stmt
        .query_map([], |r| {
            let mut m = serde_json::Map::new();
            for (i, name) in names.iter().enumerate() {
                let v: rusqlite::types::Value = r.get(i)?;
                let j = match v {
                    rusqlite::types::Value::Null => Value::Null,
                    rusqlite::types::Value::Integer(i) => json!(i),
                    rusqlite::types::Value::Real(f) => json!(f),
                    rusqlite::types::Value::Text(t) => json!(t),
                    rusqlite::types::Value::Blob(b) => json!(format!("blob:{}", b.len())),
                };
                m.insert(name.clone(), j);
            }
            Ok(Value::Object(m))
        })
        .expect("query")
        .collect::<Result<Vec<_>, _>>()
        .expect("rows");
    rows
}
