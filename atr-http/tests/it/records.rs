//! CVE records, project settings, a visitor's consent and the task queue over the API, on every
//! database engine. Each site has the committee and project `demo` (PMC member `pmc`, committer
//! `committer`), an admin `admin`, a visitor `visitor`, and the draft `demo 1.0.0` whose first
//! revision holds one file (so its Analyze task is queued).

mod consent;
mod cves;
mod settings;
mod tasks;

use std::collections::BTreeSet;

use atr_core::model::{Committee, Metadata, Person, Project, ReleaseKey};
use atr_core::policy::PolicyOverrides;
use atr_core::ports::{CommitteeRepository, ProjectRepository};
use atr_core::types::{CommitteeKey, ProjectKey, UserId, Version};
use atr_http::{AppState, HttpConfig};
use atr_store::testing::{TestDatabase, databases};
use atr_store::{Storage, StorageConfig};
use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use serde_json::{Value, json};
use tower::ServiceExt;

const PASSWORD: &str = "correct horse battery staple";

/// Who sends a request: nobody, or one of the site's people (by user id).
type Who<'a> = Option<&'a str>;

/// A service over one fresh database, with its people signed in.
struct Site {
    router: Router,
    state: AppState,
    db: TestDatabase,
    _dir: tempfile::TempDir,
    /// Session secrets by user id.
    sessions: Vec<(&'static str, String)>,
    /// The Analyze task queued by the upload of `demo 1.0.0` revision 1.
    analyze_task: i64,
}

/// A response: status and JSON body (`Null` when empty).
#[derive(Debug)]
struct Answer {
    status: StatusCode,
    json: Value,
    text: String,
}

impl Answer {
    fn message(&self) -> &str {
        self.json["error"]["message"].as_str().unwrap_or_else(|| panic!("not an error answer: {}", self.text))
    }

    /// Asserts the status, showing the body when it differs.
    #[track_caller]
    fn expect(&self, status: StatusCode) -> &Value {
        assert_eq!(self.status, status, "{}", self.text);
        &self.json
    }
}

fn uid(id: &str) -> UserId {
    UserId::parse(id).unwrap()
}

fn key(version: &str) -> ReleaseKey {
    ReleaseKey::new(ProjectKey::parse("demo").unwrap(), None, Version::parse(version).unwrap())
}

/// One site per configured engine.
async fn sites() -> Vec<Site> {
    let mut sites = Vec::new();
    for db in databases().await {
        let dir = tempfile::tempdir().unwrap();
        let config =
            StorageConfig { database_url: Some(db.url.clone()), ..StorageConfig::new(dir.path().join("data")) };
        let (storage, _) = Storage::open(&config).await.unwrap();
        let state = AppState::new(storage, HttpConfig::default());
        let router = atr_http::router(state.clone());
        let mut site = Site { router, state, db, _dir: dir, sessions: Vec::new(), analyze_task: 0 };
        site.seed().await;
        sites.push(site);
    }
    sites
}

impl Site {
    async fn seed(&mut self) {
        let sql = &self.state.storage.sql;
        let mut committee = Committee::new(CommitteeKey::parse("demo").unwrap(), "Apache Demo");
        committee.pmc_members = BTreeSet::from([uid("pmc")]);
        committee.committers = BTreeSet::from([uid("committer")]);
        CommitteeRepository::put(sql, &committee).await.unwrap();
        let project = Project {
            key: ProjectKey::parse("demo").unwrap(),
            committee: committee.key.clone(),
            metadata: Metadata { display_name: "Apache Demo".into(), ..Metadata::default() },
            policy: PolicyOverrides::default(),
            products: Vec::new(),
        };
        ProjectRepository::create(sql, &project).await.unwrap();
        for (id, admin) in [("pmc", false), ("committer", false), ("admin", true), ("visitor", false)] {
            let user = uid(id);
            sql.create_account(&user, &atr_http::auth::hash_password(PASSWORD)).await.unwrap();
            sql.put_person(&Person { id: user, asf_member: false, admin, consent: None }).await.unwrap();
            let answer =
                self.send(Method::POST, "/api/session", None, Some(json!({ "user": id, "password": PASSWORD })));
            let answer = answer.await;
            assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
            self.sessions.push((id, answer.cookie));
        }
        self.start_release("1.0.0").await;
        let upload = self.upload("1.0.0", "README.txt", "Apache Demo\n").await;
        self.analyze_task = upload["analyze_task"]["id"].as_i64().expect("the upload queues an Analyze task");
    }

    fn session(&self, who: &str) -> &str {
        &self.sessions.iter().find(|(id, _)| *id == who).unwrap_or_else(|| panic!("{who} is not signed in")).1
    }

    async fn request(&self, request: Request<Body>) -> Reply {
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let cookie = response
            .headers()
            .get(header::SET_COOKIE)
            .and_then(|v| v.to_str().ok()?.split(';').next()?.strip_prefix("atr_session="))
            .unwrap_or_default()
            .to_owned();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
        let text = String::from_utf8(bytes.to_vec()).unwrap();
        let json = if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap() };
        Reply { status, json, text, cookie }
    }

    fn builder(&self, method: Method, uri: &str, who: Who<'_>) -> axum::http::request::Builder {
        let builder = Request::builder().method(method).uri(uri);
        match who {
            Some(id) => builder.header(header::COOKIE, format!("atr_session={}", self.session(id))),
            None => builder,
        }
    }

    async fn send(&self, method: Method, uri: &str, who: Who<'_>, body: Option<Value>) -> Reply {
        let builder = self.builder(method, uri, who);
        let request = match body {
            Some(body) => builder.header(header::CONTENT_TYPE, "application/json").body(Body::from(body.to_string())),
            None => builder.body(Body::empty()),
        };
        self.request(request.unwrap()).await
    }

    async fn get(&self, uri: &str, who: Who<'_>) -> Answer {
        self.send(Method::GET, uri, who, None).await.answer()
    }

    async fn post(&self, uri: &str, who: Who<'_>, body: Value) -> Answer {
        self.send(Method::POST, uri, who, Some(body)).await.answer()
    }

    async fn put(&self, uri: &str, who: Who<'_>, body: Value) -> Answer {
        self.send(Method::PUT, uri, who, Some(body)).await.answer()
    }

    async fn delete(&self, uri: &str, who: Who<'_>) -> Answer {
        self.send(Method::DELETE, uri, who, None).await.answer()
    }

    /// Starts the draft `demo <version>` as the PMC member.
    async fn start_release(&self, version: &str) {
        self.post("/api/projects/demo/releases", Some("pmc"), json!({ "version": version }))
            .await
            .expect(StatusCode::CREATED);
    }

    /// Uploads a file to the draft as the PMC member: a new revision.
    async fn upload(&self, version: &str, path: &str, content: &str) -> Value {
        let uri = format!("/api/projects/demo/releases/{version}/files/{path}");
        let request = self
            .builder(Method::PUT, &uri, Some("pmc"))
            .header(header::CONTENT_TYPE, "application/octet-stream")
            .body(Body::from(content.to_owned()))
            .unwrap();
        self.request(request).await.answer().expect(StatusCode::CREATED).clone()
    }

    /// Makes the draft `version` votable: uploads a package (artifact, signature, checksum) and
    /// completes every queued Analyze task as a clean run, as a task runner would record it.
    /// Returns the latest revision. (The checks themselves are tested in atr-tasks.)
    async fn checked_package(&self, version: &str) -> u32 {
        let artifact = format!("apache-demo-{version}.tar.gz");
        let mut latest = 0;
        for file in [artifact.clone(), format!("{artifact}.asc"), format!("{artifact}.sha512")] {
            let upload = self.upload(version, &file, "bytes\n").await;
            latest = u32::try_from(upload["revision"]["number"].as_u64().unwrap()).unwrap();
        }
        let sql = &self.state.storage.sql;
        let name = <atr_core::model::Analyze as atr_core::model::TaskKind>::NAME;
        while let Some(task) = sql.claim_task(&[name], "test", i64::MAX / 4, 60_000).await.unwrap() {
            let job: atr_core::model::Analyze = atr_core::model::task::decode(&task.kind, &task.args).unwrap();
            let run = atr_core::model::CheckRun {
                release: job.release,
                revision: job.revision,
                checker_version: "test".into(),
                completed_at: atr_core::types::Timestamp::from_unix(0),
                counts: atr_core::model::CheckCounts::default(),
                signers: BTreeSet::new(),
            };
            let result = json!({});
            let done = atr_store::sql::Completion { result: &result, checks: &[], run: Some(&run), events: &[] };
            sql.complete_task_with(task.id, task.fence, &done, 1).await.unwrap();
        }
        latest
    }

    async fn finish(self) {
        self.state.storage.sql.close().await;
        self.db.finish().await;
    }
}

/// A raw response, with the session secret a sign-in sets.
struct Reply {
    status: StatusCode,
    json: Value,
    text: String,
    cookie: String,
}

impl Reply {
    fn answer(self) -> Answer {
        Answer { status: self.status, json: self.json, text: self.text }
    }
}
