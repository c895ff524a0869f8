//! CVE records, project settings, a visitor's consent and the task queue over the API, on every
//! database engine. Each site has the committee and project `demo` (PMC member `pmc`, committer
//! `committer`), an admin `admin`, a visitor `visitor`, and the draft `demo 1.0.0` whose first
//! revision holds one file (so its Analyze task is queued).

mod consent;
mod cves;
mod settings;
mod source;
mod tasks;

use std::collections::BTreeSet;

use atr_core::model::{Committee, Metadata, Project, ReleaseKey};
use atr_core::policy::PolicyOverrides;
use atr_core::ports::{CommitteeRepository, ProjectRepository};
use atr_core::types::{CommitteeKey, ProjectKey, UserId, Version};
use atr_testkit::{Answer, Auth, Body, Method, StatusCode, TestApp};
use serde_json::{Value, json};

/// Who sends a request: nobody, or one of the site's people (by user id).
type Who<'a> = Option<&'a str>;

/// The service over one fresh database, with its people signed in.
struct Site {
    app: TestApp,
    /// Session secrets by user id.
    sessions: Vec<(&'static str, String)>,
    /// The Analyze task queued by the upload of `demo 1.0.0` revision 1.
    analyze_task: i64,
}

impl std::ops::Deref for Site {
    type Target = TestApp;
    fn deref(&self) -> &TestApp {
        &self.app
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
    for app in TestApp::all().await {
        let mut site = Site { app, sessions: Vec::new(), analyze_task: 0 };
        site.seed().await;
        sites.push(site);
    }
    sites
}

impl Site {
    async fn seed(&mut self) {
        let sql = &self.app.state.storage.sql;
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
            self.app.account(id, admin).await;
            let secret = self.app.sign_in(id).await;
            self.sessions.push((id, secret));
        }
        self.start_release("1.0.0").await;
        let upload = self.upload("1.0.0", "README.txt", "Apache Demo\n").await;
        self.analyze_task = upload["analyze_task"]["id"].as_i64().expect("the upload queues an Analyze task");
    }

    fn session(&self, who: &str) -> &str {
        &self.sessions.iter().find(|(id, _)| *id == who).unwrap_or_else(|| panic!("{who} is not signed in")).1
    }

    fn auth(&self, who: Who<'_>) -> Auth<'_> {
        who.map_or(Auth::Nobody, |id| Auth::Session(self.session(id)))
    }

    async fn send(&self, method: Method, uri: &str, who: Who<'_>, body: Option<Value>) -> Answer {
        let body = body.as_ref().map_or(Body::Empty, Body::Json);
        self.app.send(method, uri, self.auth(who), body).await
    }

    async fn get(&self, uri: &str, who: Who<'_>) -> Answer {
        self.send(Method::GET, uri, who, None).await
    }

    async fn post(&self, uri: &str, who: Who<'_>, body: Value) -> Answer {
        self.send(Method::POST, uri, who, Some(body)).await
    }

    async fn put(&self, uri: &str, who: Who<'_>, body: Value) -> Answer {
        self.send(Method::PUT, uri, who, Some(body)).await
    }

    async fn delete(&self, uri: &str, who: Who<'_>) -> Answer {
        self.send(Method::DELETE, uri, who, None).await
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
        let body = Body::Raw("application/octet-stream", content.as_bytes().to_vec());
        let answer = self.app.send(Method::PUT, &uri, self.auth(Some("pmc")), body).await;
        answer.expect(StatusCode::CREATED).clone()
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
        self.app.complete_analyze_tasks().await;
        latest
    }

    async fn finish(self) {
        self.app.finish().await;
    }
}
