//! Downloads by coordinates, end to end: a real storage (SQLite and release files in a temporary
//! folder), releases seeded through the repositories and moved to their stages, and requests sent
//! to the whole service.

mod files;
mod paths;
mod stages;

use std::collections::BTreeSet;

use atr_core::model::{
    Committee, Metadata, Phase, Product, Project, Release, ReleaseKey, Revision, RevisionNumber, Revocation,
    VoteRecord, VoteRound,
};
use atr_core::policy::{PolicyOverrides, VotePolicy};
use atr_core::ports::{
    ByteStream, CommitteeRepository, FileChange, ProjectRepository, ReleaseFiles, ReleaseRepository, RevisionRepository,
};
use atr_core::types::{CommitteeKey, ProductKey, ProjectKey, ReleasePath, Timestamp, UserId, Version};
use atr_store::Storage;
use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use bytes::Bytes;
use sha2::{Digest, Sha512};
use tower::ServiceExt;

const T0: Timestamp = Timestamp::from_unix(1_780_000_000);

/// A service over a fresh storage holding two projects: `httpd` (main product only) and `tomcat`
/// (a main product and the sub-product `server`).
struct Site {
    /// The service, its data folder and database (requests go through `app` in process, byte
    /// for byte, so that unnormalized paths reach it).
    _kit: atr_testkit::TestApp,
    storage: Storage,
    app: Router,
}

/// An answer, with its body read to the end.
#[derive(Debug)]
struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

impl Reply {
    /// A header as text; empty if absent.
    fn header(&self, name: &str) -> &str {
        self.headers.get(name).map_or("", |v| v.to_str().expect("a text header"))
    }

    fn json(&self) -> serde_json::Value {
        assert_eq!(self.header("content-type"), "application/json", "{self:?}");
        serde_json::from_slice(&self.body).expect("a JSON body")
    }
}

fn user() -> UserId {
    UserId::parse("rm").unwrap()
}

fn release_key(project: &str, product: Option<&str>, version: &str) -> ReleaseKey {
    ReleaseKey::new(
        ProjectKey::parse(project).unwrap(),
        product.map(|p| ProductKey::parse(p).unwrap()),
        Version::parse(version).unwrap(),
    )
}

fn content(bytes: Vec<u8>) -> ByteStream {
    Box::pin(tokio_util::io::ReaderStream::new(std::io::Cursor::new(bytes)))
}

/// `len` bytes that do not repeat in any short period.
fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state.to_le_bytes()[0]
        })
        .collect()
}

fn sha512_hex(bytes: &[u8]) -> String {
    Sha512::digest(bytes).iter().fold(String::new(), |mut hex, b| {
        use std::fmt::Write as _;
        let _ = write!(hex, "{b:02x}");
        hex
    })
}

/// The entity tag a file with these bytes must have.
fn etag_of(bytes: &[u8]) -> String {
    format!("\"sha512-{}\"", sha512_hex(bytes))
}

impl Site {
    async fn new() -> Self {
        let kit = atr_testkit::TestApp::sqlite().await;
        let storage = kit.state.storage.clone();
        for (name, display, products) in
            [("httpd", "Apache HTTP Server", vec![]), ("tomcat", "Apache Tomcat", vec!["server"])]
        {
            let committee = Committee::new(CommitteeKey::parse(name).unwrap(), display);
            CommitteeRepository::put(&storage.sql, &committee).await.unwrap();
            let project = Project {
                key: ProjectKey::parse(name).unwrap(),
                committee: committee.key.clone(),
                metadata: Metadata::default(),
                policy: PolicyOverrides::default(),
                products: products
                    .into_iter()
                    .map(|p| Product {
                        key: ProductKey::parse(p).unwrap(),
                        metadata: Metadata::default(),
                        policy: PolicyOverrides::default(),
                    })
                    .collect(),
            };
            ProjectRepository::create(&storage.sql, &project).await.unwrap();
        }
        let app = kit.router();
        Self { _kit: kit, storage, app }
    }

    /// Creates a draft of `key` whose first revision holds `files`.
    async fn draft(&self, key: &ReleaseKey, files: &[(&str, &[u8])]) {
        let committee = CommitteeKey::parse(key.project.as_str()).unwrap();
        let draft = Release::new_draft(key.clone(), committee, user(), T0);
        ReleaseRepository::create(&self.storage.sql, &draft).await.unwrap();
        self.revise(key, files).await;
    }

    /// Records a new revision of `key` that puts `files` over the previous one.
    async fn revise(&self, key: &ReleaseKey, files: &[(&str, &[u8])]) -> RevisionNumber {
        let parent = self.get(key).await.latest_revision;
        let number = RevisionNumber::after(parent).unwrap();
        let changes = files
            .iter()
            .map(|(path, bytes)| FileChange::Put {
                path: ReleasePath::parse(path).unwrap(),
                content: content(bytes.to_vec()),
            })
            .collect();
        let manifest = self.storage.files.create_revision(key, parent, number, changes).await.unwrap();
        let revision = Revision {
            release: key.clone(),
            number,
            parent,
            phase: Phase::Draft,
            created_at: T0,
            created_by: user(),
            description: None,
            files: manifest,
        };
        RevisionRepository::record(&self.storage.sql, &revision).await.unwrap();
        number
    }

    async fn get(&self, key: &ReleaseKey) -> Release {
        ReleaseRepository::get(&self.storage.sql, key).await.unwrap().unwrap()
    }

    async fn change(&self, key: &ReleaseKey, change: impl FnOnce(&mut Release)) {
        let before = self.get(key).await;
        let mut after = before.clone();
        change(&mut after);
        ReleaseRepository::update(&self.storage.sql, &after, &before).await.unwrap();
    }

    /// Puts `key` under vote on `revision`: a `candidate`.
    async fn start_vote(&self, key: &ReleaseKey, revision: RevisionNumber) {
        self.change(key, |release| {
            release.phase = Phase::Candidate;
            release.vote = Some(VoteRecord {
                revision,
                round: VoteRound::Committee,
                started_at: T0,
                started_by: user(),
                closes_at: T0.plus_hours(72),
                policy: VotePolicy::foundation_default(),
                binding_committee: release.committee.clone(),
                binding_voters: BTreeSet::new(),
                signing_keys: BTreeSet::new(),
                outcome: None,
                resolved_at: None,
            });
        })
        .await;
    }

    /// Announces `key`: `current`.
    async fn announce(&self, key: &ReleaseKey) {
        self.change(key, |release| {
            release.phase = Phase::Release;
            release.released_at = Some(T0);
        })
        .await;
    }

    /// Revokes `key`: `revoked`.
    async fn revoke(&self, key: &ReleaseKey, reason: &str) {
        self.change(key, |release| {
            release.revocation = Some(Revocation { at: T0, by: user(), reason: reason.to_owned() });
        })
        .await;
    }

    /// A released (`current`) release holding `files`.
    async fn current(&self, key: &ReleaseKey, files: &[(&str, &[u8])]) {
        self.draft(key, files).await;
        self.announce(key).await;
    }

    async fn send(&self, method: Method, uri: &str, headers: &[(&str, &str)]) -> Reply {
        let mut request = Request::builder().method(method).uri(uri);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = self.app.clone().oneshot(request.body(Body::empty()).unwrap()).await.unwrap();
        let (parts, body) = response.into_parts();
        let body = axum::body::to_bytes(body, usize::MAX).await.unwrap();
        Reply { status: parts.status, headers: parts.headers, body }
    }

    async fn fetch(&self, uri: &str) -> Reply {
        self.send(Method::GET, uri, &[]).await
    }

    async fn fetch_with(&self, uri: &str, headers: &[(&str, &str)]) -> Reply {
        self.send(Method::GET, uri, headers).await
    }
}

/// Asserts the API's error shape, a `no-store` answer, and the error's code.
fn assert_error(reply: &Reply, status: StatusCode, code: &str) -> serde_json::Value {
    assert_eq!(reply.status, status, "{reply:?}");
    assert_eq!(reply.header("cache-control"), "no-store", "{reply:?}");
    let body = reply.json();
    let error = &body["error"];
    assert_eq!(error["code"], code, "{body}");
    assert!(error["message"].as_str().is_some_and(|m| !m.is_empty()), "{body}");
    assert!(error.get("details").is_some(), "{body}");
    body
}
