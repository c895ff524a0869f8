//! Sign-in, sessions, personal access tokens and the admin endpoints, on every database engine.

mod admin;
mod sessions;
mod tokens;

use atr_core::model::Person;
use atr_core::types::{Sha256Digest, UserId};
use atr_http::{AppState, HttpConfig};
use atr_store::sql::SqlStore;
use atr_store::testing::{TestDatabase, databases};
use atr_store::{Storage, StorageConfig};
use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use serde_json::Value;
use sha2::{Digest, Sha256};
use tower::ServiceExt;

/// A password long enough for local accounts.
const PASSWORD: &str = "correct horse battery staple";

/// The service over one fresh database.
struct App {
    router: Router,
    store: SqlStore,
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
    /// A whole `Authorization` header value.
    Header(&'a str),
}

/// A response: status, headers, JSON body (`Null` when empty) and the raw text.
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

    fn set_cookie(&self) -> &str {
        self.headers.get(header::SET_COOKIE).expect("a Set-Cookie header").to_str().unwrap()
    }
}

/// One app per configured engine.
async fn apps_with(config: impl Fn() -> HttpConfig) -> Vec<App> {
    let mut apps = Vec::new();
    for db in databases().await {
        let dir = tempfile::tempdir().unwrap();
        let storage_config =
            StorageConfig { database_url: Some(db.url.clone()), ..StorageConfig::new(dir.path().join("data")) };
        let (storage, _) = Storage::open(&storage_config).await.unwrap();
        let state = AppState::new(storage, config());
        let router = atr_http::router(state.clone());
        apps.push(App { router, store: db.store.clone(), state, db, _dir: dir });
    }
    apps
}

async fn apps() -> Vec<App> {
    apps_with(HttpConfig::default).await
}

fn uid(id: &str) -> UserId {
    UserId::parse(id).unwrap()
}

/// SHA-256 of a secret, lowercase hex: what the store should keep instead of the secret.
fn sha256_hex(secret: &str) -> String {
    Sha256Digest::from_bytes(Sha256::digest(secret.as_bytes()).into()).to_hex()
}

impl App {
    async fn send(&self, method: Method, uri: &str, auth: Auth<'_>, body: Option<&str>) -> Answer {
        let mut request = Request::builder().method(method).uri(uri);
        match auth {
            Auth::Nobody => {}
            Auth::Session(secret) => {
                request = request.header(header::COOKIE, format!("theme=dark; atr_session={secret}"));
            }
            Auth::Header(value) => request = request.header(header::AUTHORIZATION, value),
        }
        let request = match body {
            Some(body) => request.header(header::CONTENT_TYPE, "application/json").body(Body::from(body.to_owned())),
            None => request.body(Body::empty()),
        }
        .unwrap();
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
        let text = String::from_utf8(bytes.to_vec()).unwrap();
        let json = if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap() };
        Answer { status, headers, json, text }
    }

    async fn get(&self, uri: &str, auth: Auth<'_>) -> Answer {
        self.send(Method::GET, uri, auth, None).await
    }

    async fn post(&self, uri: &str, auth: Auth<'_>, body: &Value) -> Answer {
        self.send(Method::POST, uri, auth, Some(&body.to_string())).await
    }

    async fn delete(&self, uri: &str, auth: Auth<'_>) -> Answer {
        self.send(Method::DELETE, uri, auth, None).await
    }

    /// A person with a local account.
    async fn account(&self, id: &str, admin: bool) {
        let user = uid(id);
        self.store.create_account(&user, &atr_http::auth::hash_password(PASSWORD)).await.unwrap();
        self.store.put_person(&Person { id: user, asf_member: false, admin, consent: None }).await.unwrap();
    }

    /// Signs in and answers the session secret from the cookie.
    async fn sign_in(&self, id: &str) -> String {
        let answer =
            self.post("/api/session", Auth::Nobody, &serde_json::json!({ "user": id, "password": PASSWORD })).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
        session_secret(answer.set_cookie())
    }

    async fn finish(self) {
        self.state.storage.sql.close().await;
        self.db.finish().await;
    }
}

/// The secret of an `atr_session=...` Set-Cookie value.
fn session_secret(set_cookie: &str) -> String {
    let first = set_cookie.split(';').next().unwrap();
    let secret = first.strip_prefix("atr_session=").unwrap_or_else(|| panic!("not a session cookie: {set_cookie}"));
    assert_eq!(secret.len(), 64, "a session secret is 32 bytes of hex");
    assert!(secret.bytes().all(|b| b.is_ascii_hexdigit()));
    secret.to_owned()
}
