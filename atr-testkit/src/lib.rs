#![doc = include_str!("../README.md")]
#![expect(clippy::missing_panics_doc, reason = "test support: every failure to set up is a panic with a message")]

use std::collections::BTreeSet;
use std::net::SocketAddr;

use atr_core::auth::{Principal, Secret};
use atr_core::model::{Metadata, Person, Project};
use atr_core::policy::PolicyOverrides;
use atr_core::services::CommitteeUpdate;
use atr_core::types::{CommitteeKey, ProjectKey, Timestamp, UserId};
use atr_http::{AppState, HttpConfig, ServeConfig};
use atr_store::sql::SqlStore;
use atr_store::testing::{TestDatabase, databases};
use atr_store::{Storage, StorageConfig};
use serde_json::Value;

pub use insta;
pub use reqwest::{Method, StatusCode};

/// The password of every account the kit makes.
pub const PASSWORD: &str = "correct horse battery staple";

/// The admin the kit signs in as to set up a foundation.
pub const ADMIN: &str = "root";

/// The committee and project of [`TestApp::foundation`].
pub const PROJECT: &str = "demo";

/// The whole service on a free loopback port, over a fresh data directory and database.
#[derive(Debug)]
pub struct TestApp {
    /// The service's state: its services, storage and configuration.
    pub state: AppState,
    /// A second handle on the database, for tests that look at what was stored.
    pub store: SqlStore,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// Which engine: `sqlite` or `postgres`.
    pub engine: &'static str,
    client: reqwest::Client,
    db: TestDatabase,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<()>>,
    _dir: tempfile::TempDir,
}

/// How a request proves who sends it.
#[derive(Debug, Clone, Copy)]
pub enum Auth<'a> {
    Nobody,
    /// The secret of a session cookie.
    Session(&'a str),
    /// A whole `Authorization` header value, such as `Bearer atr_...`.
    Header(&'a str),
}

/// Sends requests to one app; cheap to clone.
#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    url: String,
}

impl Client {
    /// Sends one request to `path` (from `/`).
    pub async fn send(&self, method: reqwest::Method, path: &str, auth: Auth<'_>, body: Body<'_>) -> Answer {
        self.send_with(method, path, auth, body, &[]).await
    }

    /// Sends one request with extra headers.
    pub async fn send_with(
        &self,
        method: reqwest::Method,
        path: &str,
        auth: Auth<'_>,
        body: Body<'_>,
        headers: &[(&str, &str)],
    ) -> Answer {
        let mut request = self.http.request(method, format!("{}{path}", self.url));
        match auth {
            Auth::Nobody => {}
            Auth::Session(secret) => request = request.header("cookie", format!("theme=dark; atr_session={secret}")),
            Auth::Header(value) => request = request.header("authorization", value),
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request = match body {
            Body::Empty => request,
            Body::Json(value) => request.header("content-type", "application/json").body(value.to_string()),
            Body::JsonText(text) => request.header("content-type", "application/json").body(text.to_owned()),
            Body::Raw(content_type, bytes) => request.header("content-type", content_type).body(bytes),
            Body::Bytes(bytes) => request.body(bytes),
            Body::Chunked(bytes) => {
                let chunks = futures_util::stream::iter([Ok::<_, std::io::Error>(bytes)]);
                request.body(reqwest::Body::wrap_stream(chunks))
            }
        };
        let response = request.send().await.unwrap_or_else(|e| panic!("{path}: {e}"));
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.unwrap_or_else(|e| panic!("{path}: reading the body: {e}"));
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Answer { status, headers, text, json }
    }
}

/// A request body.
#[derive(Debug, Clone)]
pub enum Body<'a> {
    Empty,
    /// JSON, sent as `application/json`.
    Json(&'a Value),
    /// Text sent as `application/json` as it is (for malformed JSON).
    JsonText(&'a str),
    /// Raw bytes with their content type.
    Raw(&'a str, Vec<u8>),
    /// Raw bytes with their `Content-Length` and no content type (the headers name it).
    Bytes(Vec<u8>),
    /// Raw bytes sent chunked, with no `Content-Length` (a client that does not say how much
    /// it sends).
    Chunked(Vec<u8>),
}

/// A response: status, headers, the raw text and its JSON (`Null` when empty or not JSON).
#[derive(Debug)]
pub struct Answer {
    pub status: reqwest::StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
    pub json: Value,
}

impl Answer {
    /// The `error.code` of an error answer.
    pub fn code(&self) -> &str {
        self.json["error"]["code"].as_str().unwrap_or_else(|| panic!("not an error answer: {}", self.text))
    }

    /// The `error.message` of an error answer.
    pub fn message(&self) -> &str {
        self.json["error"]["message"].as_str().unwrap_or_else(|| panic!("not an error answer: {}", self.text))
    }

    /// The `Set-Cookie` header; panics when absent.
    pub fn set_cookie(&self) -> &str {
        let cookie = self.header("set-cookie");
        assert!(!cookie.is_empty(), "no Set-Cookie header: {}", self.text);
        cookie
    }

    /// The `Content-Type` header, or "".
    pub fn content_type(&self) -> &str {
        self.header("content-type")
    }

    /// Whether the answer sets no cookie.
    pub fn set_cookie_absent(&self) -> bool {
        self.headers.get("set-cookie").is_none()
    }

    /// A header's value, or "" when absent.
    pub fn header(&self, name: &str) -> &str {
        self.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
    }

    /// Panics with the body unless the status is `status`; answers the JSON.
    #[track_caller]
    pub fn expect(&self, status: impl Into<u16>) -> &Value {
        assert_eq!(self.status.as_u16(), status.into(), "{}", self.text);
        &self.json
    }

    /// The JSON with what changes from run to run replaced by a placeholder: times (fields ending
    /// in `_at` or `_at_ms`, and `at`), task, event and request ids, digests of the audit chain, and
    /// token ids and secrets. For `insta::assert_json_snapshot!`.
    pub fn snapshot(&self) -> Value {
        redact(&self.json)
    }
}

/// Replaces what varies between runs, recursively (see [`Answer::snapshot`]).
pub fn redact(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(key, v)| {
                    let varies = key.ends_with("_at") || key.ends_with("_at_ms") || key == "at";
                    let secret = matches!(key.as_str(), "token" | "head" | "hash" | "prev_hash") && v.is_string();
                    let id = matches!(key.as_str(), "id" | "task" | "analyze_task_id") && v.is_number();
                    let token_id = key == "id" && v.as_str().is_some_and(|s| s.len() == 12);
                    let request_id = key == "request_id" && v.is_string();
                    let redacted = if v.is_null() {
                        Value::Null
                    } else if varies {
                        Value::String("[time]".into())
                    } else if secret {
                        Value::String("[secret]".into())
                    } else if id || token_id || request_id {
                        Value::String("[id]".into())
                    } else {
                        redact(v)
                    };
                    (key.clone(), redacted)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(redact).collect()),
        other => other.clone(),
    }
}

/// The sessions of [`TestApp::foundation`]: one person in each role of the role table.
#[derive(Debug, Clone)]
pub struct Foundation {
    /// `root`: an admin.
    pub admin: String,
    /// `chair`: a PMC member of `demo`.
    pub pmc: String,
    /// `rm`: a release manager (and committer) of `demo`.
    pub rm: String,
    /// `dev`: a committer of `demo`.
    pub committer: String,
    /// `guest`: signed in, with no role in `demo`.
    pub visitor: String,
}

fn uid(id: &str) -> UserId {
    UserId::parse(id).unwrap_or_else(|e| panic!("{id}: {e}"))
}

/// The current time, as the service reads it.
pub fn now() -> Timestamp {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    Timestamp::from_unix(i64::try_from(secs).unwrap_or(i64::MAX))
}

impl TestApp {
    /// One app per configured database engine, with the default configuration.
    pub async fn all() -> Vec<TestApp> {
        Self::all_with(HttpConfig::default).await
    }

    /// One app per configured database engine, with `config()`'s configuration.
    pub async fn all_with(config: impl Fn() -> HttpConfig) -> Vec<TestApp> {
        let mut apps = Vec::new();
        for db in databases().await {
            apps.push(Self::start(db, config()).await);
        }
        apps
    }

    /// One app over a fresh SQLite database, whatever engines are configured.
    pub async fn sqlite() -> TestApp {
        Self::start(atr_store::testing::sqlite().await, HttpConfig::default()).await
    }

    /// The router the server runs, for in-process requests that must reach the service byte
    /// for byte (paths an HTTP client would normalize, such as `a/../b`).
    pub fn router(&self) -> axum::Router {
        atr_http::router(self.state.clone())
    }

    /// The service over `db`, listening on a free loopback port.
    pub async fn start(db: TestDatabase, config: HttpConfig) -> TestApp {
        Self::start_serving(db, config, ServeConfig::default()).await
    }

    /// The service over `db` with these connection limits (`atr_http::serve`, as `atr serve`
    /// runs it).
    pub async fn start_serving(db: TestDatabase, config: HttpConfig, serving: ServeConfig) -> TestApp {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let storage_config =
            StorageConfig { database_url: Some(db.url.clone()), ..StorageConfig::new(dir.path().join("data")) };
        let (storage, _) = Storage::open(&storage_config).await.expect("the storage opens");
        let state = AppState::new(storage, config);
        let listener =
            tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await.expect("a free loopback port");
        let address = listener.local_addr().expect("the bound address");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let router = atr_http::router(state.clone());
        let server = tokio::spawn(async move {
            let stop = async move {
                let _ = stopped.await;
            };
            if let Err(error) = atr_http::serve(listener, router, serving, stop).await {
                panic!("the test service stopped: {error}");
            }
        });
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(std::time::Duration::from_mins(1))
            .build()
            .expect("an HTTP client");
        let engine = if db.url.starts_with("postgres") { "postgres" } else { "sqlite" };
        TestApp {
            state,
            store: db.store.clone(),
            url: format!("http://{address}"),
            engine,
            client,
            db,
            stop: Some(stop),
            server: Some(server),
            _dir: dir,
        }
    }

    /// A handle that sends requests to this app, to move into spawned tasks.
    pub fn client(&self) -> Client {
        Client { http: self.client.clone(), url: self.url.clone() }
    }

    /// Sends one request to `path` (from `/`).
    pub async fn send(&self, method: reqwest::Method, path: &str, auth: Auth<'_>, body: Body<'_>) -> Answer {
        self.client().send(method, path, auth, body).await
    }

    /// Sends one request with extra headers.
    pub async fn send_with(
        &self,
        method: reqwest::Method,
        path: &str,
        auth: Auth<'_>,
        body: Body<'_>,
        headers: &[(&str, &str)],
    ) -> Answer {
        self.client().send_with(method, path, auth, body, headers).await
    }

    pub async fn get(&self, path: &str, auth: Auth<'_>) -> Answer {
        self.send(reqwest::Method::GET, path, auth, Body::Empty).await
    }

    pub async fn post(&self, path: &str, auth: Auth<'_>, body: &Value) -> Answer {
        self.send(reqwest::Method::POST, path, auth, Body::Json(body)).await
    }

    pub async fn put(&self, path: &str, auth: Auth<'_>, body: &Value) -> Answer {
        self.send(reqwest::Method::PUT, path, auth, Body::Json(body)).await
    }

    pub async fn delete(&self, path: &str, auth: Auth<'_>) -> Answer {
        self.send(reqwest::Method::DELETE, path, auth, Body::Empty).await
    }

    /// Sends `request` (a whole HTTP/1.1 request head and body, `\r\n` line ends) byte for byte
    /// over a new connection, for what an HTTP client would normalize first (`a/../b`, odd
    /// headers); answers the status and the whole raw response. Bounded by ten seconds.
    pub async fn raw(&self, request: &str) -> (u16, String) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let address = self.url.trim_start_matches("http://");
        let exchange = async {
            let mut stream = tokio::net::TcpStream::connect(address).await?;
            stream.write_all(request.as_bytes()).await?;
            let mut response = Vec::new();
            stream.read_to_end(&mut response).await?;
            Ok::<_, std::io::Error>(String::from_utf8_lossy(&response).into_owned())
        };
        let response = tokio::time::timeout(std::time::Duration::from_secs(10), exchange)
            .await
            .expect("the service answers a raw request within ten seconds")
            .expect("a raw exchange");
        let status = response.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
        (status, response)
    }

    /// The admin of [`TestApp::foundation`] (`root`), made through the first start's
    /// `ensure_admin` if missing.
    pub async fn admin(&self) -> Principal {
        let services = &self.state.services;
        services.ensure_admin(&uid(ADMIN), &Secret::new(PASSWORD)).await.expect("the admin account");
        let person = Person { id: uid(ADMIN), asf_member: false, admin: true, consent: None };
        Principal::Person(person)
    }

    /// A person with a local account and [`PASSWORD`], written straight to the store (as the
    /// first start's `ensure_admin` does), so that no other account or event appears.
    pub async fn account(&self, id: &str, admin: bool) {
        let user = uid(id);
        let hash = atr_http::auth::hash_password(PASSWORD);
        self.store.create_account(&user, &hash).await.unwrap_or_else(|e| panic!("{id}: {e}"));
        let person = Person { id: user, asf_member: false, admin, consent: None };
        self.store.put_person(&person).await.unwrap_or_else(|e| panic!("{id}: {e}"));
    }

    /// Signs `id` in and answers the secret of the session cookie.
    pub async fn sign_in(&self, id: &str) -> String {
        let body = serde_json::json!({ "user": id, "password": PASSWORD });
        let answer = self.post("/api/session", Auth::Nobody, &body).await;
        answer.expect(200_u16);
        session_secret(answer.header("set-cookie"))
    }

    /// A committee and project `demo` with one person in each role, each signed in.
    pub async fn foundation(&self) -> Foundation {
        let root = self.admin().await;
        for id in ["chair", "rm", "dev", "guest"] {
            self.account(id, false).await;
        }
        let set = |ids: &[&str]| ids.iter().map(|id| uid(id)).collect::<BTreeSet<_>>();
        let key = CommitteeKey::parse(PROJECT).expect("a committee key");
        let update = CommitteeUpdate {
            name: Some("Demo".into()),
            podling: Some(false),
            parent: None,
            pmc_members: set(&["chair"]),
            committers: set(&["chair", "rm", "dev"]),
            release_managers: set(&["rm"]),
        };
        let services = &self.state.services;
        services.put_committee(&root, &key, update, now()).await.expect("the demo committee");
        let project = Project {
            key: ProjectKey::parse(PROJECT).expect("a project key"),
            committee: key,
            metadata: Metadata { display_name: "Demo".into(), ..Metadata::default() },
            policy: PolicyOverrides::default(),
            products: Vec::new(),
        };
        services.create_project(&root, project, now()).await.expect("the demo project");
        Foundation {
            admin: self.sign_in(ADMIN).await,
            pmc: self.sign_in("chair").await,
            rm: self.sign_in("rm").await,
            committer: self.sign_in("dev").await,
            visitor: self.sign_in("guest").await,
        }
    }

    /// Completes every queued Analyze task as a clean check run, as a task runner would record
    /// it (no results, no signers), so that a draft's revisions count as checked. The checks
    /// themselves are tested in atr-tasks.
    pub async fn complete_analyze_tasks(&self) {
        use atr_core::model::{Analyze, CheckCounts, CheckRun, TaskKind};
        let sql = &self.state.storage.sql;
        while let Some(task) = sql.claim_task(&[Analyze::NAME], "test", i64::MAX / 4, 60_000).await.expect("a claim") {
            let job: Analyze = atr_core::model::task::decode(&task.kind, &task.args).expect("an Analyze payload");
            let run = CheckRun {
                release: job.release,
                revision: job.revision,
                checker_version: "test".into(),
                completed_at: Timestamp::from_unix(0),
                counts: CheckCounts::default(),
                signers: BTreeSet::new(),
                inputs: None,
                reused_from: None,
            };
            let result = serde_json::json!({});
            let done = atr_store::sql::Completion { result: &result, checks: &[], run: Some(&run), events: &[] };
            sql.complete_task_with(task.id, task.fence, &done, 1).await.expect("the task completes");
        }
    }

    /// Stops the server, closes the storage and drops the databases.
    pub async fn finish(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            let _ = server.await;
        }
        self.state.storage.sql.close().await;
        self.db.finish().await;
    }
}

/// The secret of an `atr_session=...` Set-Cookie value.
pub fn session_secret(set_cookie: &str) -> String {
    let first = set_cookie.split(';').next().unwrap_or_default();
    let secret = first.strip_prefix("atr_session=").unwrap_or_else(|| panic!("not a session cookie: {set_cookie}"));
    assert_eq!(secret.len(), 64, "a session secret is 32 bytes of hex");
    assert!(secret.bytes().all(|b| b.is_ascii_hexdigit()));
    secret.to_owned()
}
