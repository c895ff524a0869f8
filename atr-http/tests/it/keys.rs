//! Signing keys over the API, on every database engine, with the real KEYS file of Apache httpd:
//! importing it, the generated KEYS file, one key, and deleting keys.

mod import;
mod single;

use std::path::PathBuf;

use atr_core::model::{Committee, Person, SigningKey};
use atr_core::ports::CommitteeRepository;
use atr_core::types::{CommitteeKey, Timestamp, UserId};
use atr_http::{AppState, HttpConfig};
use atr_store::testing::{TestDatabase, databases};
use atr_store::{Storage, StorageConfig};
use atr_tasks::analyze::signature::{KeyRing, SignaturePolicy};
use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use serde_json::{Value, json};
use tower::ServiceExt;

const PASSWORD: &str = "correct horse battery staple";

/// Usable and unusable keys in the httpd KEYS file.
const HTTPD_USABLE_KEYS: usize = 41;
const HTTPD_UNUSABLE_KEYS: usize = 26;

/// The KEYS file of the Apache httpd 2.4.68 release: `ATR_HTTPD_FIXTURE`, or the workspace's
/// fixture folder.
fn httpd_keys() -> Vec<u8> {
    let dir = std::env::var_os("ATR_HTTPD_FIXTURE").map_or_else(
        || std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/fixtures/httpd-2.4.68"),
        PathBuf::from,
    );
    let path = dir.join("KEYS");
    std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "the httpd KEYS file is missing at {} ({e}): run scripts/fetch-httpd-release.sh {}",
            path.display(),
            dir.display()
        )
    })
}

/// The usable keys of a KEYS file, as the service reads them.
fn read_keys(bytes: &[u8]) -> Vec<SigningKey> {
    let (ring, _) = KeyRing::parse(bytes, &SignaturePolicy::default());
    ring.signing_keys(Timestamp::from_unix(0))
}

/// A service over one fresh database, with the committee `httpd` (PMC member `pmc`, release
/// manager `rm`, committer `committer`) and `tomcat` (nobody).
struct App {
    router: Router,
    state: AppState,
    db: TestDatabase,
    _dir: tempfile::TempDir,
}

/// How a request proves who sends it.
#[derive(Debug, Clone, Copy)]
enum Auth<'a> {
    Nobody,
    /// The secret of the session cookie.
    Session(&'a str),
}

/// A response: status, headers, JSON body (`Null` when empty or not JSON) and the raw text.
#[derive(Debug)]
struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    json: Value,
    text: String,
}

impl Answer {
    fn message(&self) -> &str {
        self.json["error"]["message"].as_str().unwrap_or_else(|| panic!("not an error answer: {}", self.text))
    }

    fn content_type(&self) -> &str {
        self.headers.get(header::CONTENT_TYPE).map_or("", |v| v.to_str().unwrap())
    }
}

fn uid(id: &str) -> UserId {
    UserId::parse(id).unwrap()
}

async fn apps() -> Vec<App> {
    let mut apps = Vec::new();
    for db in databases().await {
        let dir = tempfile::tempdir().unwrap();
        let storage_config =
            StorageConfig { database_url: Some(db.url.clone()), ..StorageConfig::new(dir.path().join("data")) };
        let (storage, _) = Storage::open(&storage_config).await.unwrap();
        let state = AppState::new(storage, HttpConfig::default());
        let router = atr_http::router(state.clone());
        let app = App { router, state, db, _dir: dir };
        let mut httpd = Committee::new(CommitteeKey::parse("httpd").unwrap(), "Apache HTTP Server");
        httpd.pmc_members.insert(uid("pmc"));
        httpd.release_managers.insert(uid("rm"));
        httpd.committers.insert(uid("committer"));
        app.put_committee(&httpd).await;
        app.put_committee(&Committee::new(CommitteeKey::parse("tomcat").unwrap(), "Apache Tomcat")).await;
        apps.push(app);
    }
    apps
}

impl App {
    async fn put_committee(&self, committee: &Committee) {
        CommitteeRepository::put(&self.state.storage.sql, committee).await.unwrap();
    }

    async fn send(&self, method: Method, uri: &str, auth: Auth<'_>, body: Option<(&str, Vec<u8>)>) -> Answer {
        let mut request = Request::builder().method(method).uri(uri);
        if let Auth::Session(secret) = auth {
            request = request.header(header::COOKIE, format!("atr_session={secret}"));
        }
        let request = match body {
            Some((content_type, bytes)) => request.header(header::CONTENT_TYPE, content_type).body(Body::from(bytes)),
            None => request.body(Body::empty()),
        }
        .unwrap();
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
        let text = String::from_utf8(bytes.to_vec()).unwrap();
        let json = serde_json::from_str(&text).unwrap_or(Value::Null);
        Answer { status, headers, json, text }
    }

    async fn get(&self, uri: &str) -> Answer {
        self.send(Method::GET, uri, Auth::Nobody, None).await
    }

    /// Posts OpenPGP data as the raw body.
    async fn post_keys(&self, uri: &str, auth: Auth<'_>, bytes: &[u8]) -> Answer {
        self.send(Method::POST, uri, auth, Some(("application/pgp-keys", bytes.to_vec()))).await
    }

    async fn delete(&self, uri: &str, auth: Auth<'_>) -> Answer {
        self.send(Method::DELETE, uri, auth, None).await
    }

    /// A person with a local account.
    async fn account(&self, id: &str, admin: bool) {
        let user = uid(id);
        let store = &self.state.storage.sql;
        store.create_account(&user, &atr_http::auth::hash_password(PASSWORD)).await.unwrap();
        store.put_person(&Person { id: user, asf_member: false, admin, consent: None }).await.unwrap();
    }

    /// Creates an account for `id`, signs in, and answers the session secret.
    async fn signed_in(&self, id: &str, admin: bool) -> String {
        self.account(id, admin).await;
        let body = json!({ "user": id, "password": PASSWORD }).to_string().into_bytes();
        let answer = self.send(Method::POST, "/api/session", Auth::Nobody, Some(("application/json", body))).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
        let cookie = answer.headers.get(header::SET_COOKIE).expect("a session cookie").to_str().unwrap();
        let first = cookie.split(';').next().unwrap();
        first.strip_prefix("atr_session=").unwrap_or_else(|| panic!("not a session cookie: {cookie}")).to_owned()
    }

    /// Imports the httpd KEYS file into `httpd` as the PMC member, who must be signed in.
    async fn import_httpd(&self, session: &str) -> Answer {
        let answer = self.post_keys("/api/committees/httpd/keys/import", Auth::Session(session), &httpd_keys()).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
        answer
    }

    async fn finish(self) {
        self.state.storage.sql.close().await;
        self.db.finish().await;
    }
}
