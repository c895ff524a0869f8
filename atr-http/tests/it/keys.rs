//! Signing keys over the API, on every database engine, with the real KEYS file of Apache httpd:
//! importing it, the generated KEYS file, one key, and deleting keys.

mod import;
mod single;

use std::path::PathBuf;

use atr_core::model::{Committee, SigningKey};
use atr_core::ports::CommitteeRepository;
use atr_core::types::{CommitteeKey, Timestamp, UserId};
use atr_tasks::analyze::signature::{KeyRing, SignaturePolicy};
use atr_testkit::{Answer, Auth, Body, Method, StatusCode, TestApp};

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
    app: TestApp,
}

impl std::ops::Deref for App {
    type Target = TestApp;
    fn deref(&self) -> &TestApp {
        &self.app
    }
}

async fn apps() -> Vec<App> {
    let mut apps = Vec::new();
    for app in TestApp::all().await {
        let app = App { app };
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

fn uid(id: &str) -> UserId {
    UserId::parse(id).unwrap()
}

impl App {
    async fn put_committee(&self, committee: &Committee) {
        CommitteeRepository::put(&self.state.storage.sql, committee).await.unwrap();
    }

    async fn send(&self, method: Method, uri: &str, auth: Auth<'_>, body: Option<(&str, Vec<u8>)>) -> Answer {
        let body = body.map_or(Body::Empty, |(content_type, bytes)| Body::Raw(content_type, bytes));
        self.app.send(method, uri, auth, body).await
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

    /// Creates an account for `id`, signs in, and answers the session secret.
    async fn signed_in(&self, id: &str, admin: bool) -> String {
        self.app.account(id, admin).await;
        self.app.sign_in(id).await
    }

    /// Imports the httpd KEYS file into `httpd` as the PMC member, who must be signed in.
    async fn import_httpd(&self, session: &str) -> Answer {
        let answer = self.post_keys("/api/committees/httpd/keys/import", Auth::Session(session), &httpd_keys()).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
        answer
    }

    async fn finish(self) {
        self.app.finish().await;
    }
}
