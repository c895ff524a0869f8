//! A release from start to download through the HTTP API, end to end: the service runs on a
//! free port with a temporary data directory and a task runner, people sign in, a release manager
//! uploads files signed with a key generated here, the checks run, the committee votes, the
//! release is announced, downloaded by its versioned path and by `latest`, then revoked. On
//! SQLite and, when `ATR_TEST_DATABASE_URL` is set, on PostgreSQL.

use std::collections::BTreeSet;
use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use atr_core::policy::VotePolicy;
use atr_core::ports::KeyRepository;
use atr_core::types::{CommitteeKey, Timestamp, UserId};
use atr_tasks::analyze::signature::{KeyRing, SignaturePolicy};
use atr_tasks::analyze::task::AnalyzeHandler;
use atr_tasks::runner::{Runner, RunnerConfig, Shutdown};
use atr_testkit::TestApp;
use openpgp::cert::CertBuilder;
use openpgp::serialize::SerializeInto;
use openpgp::serialize::stream::{Armorer, Message, Signer};
use reqwest::Method;
use sequoia_openpgp as openpgp;
use serde_json::{Value, json};
use sha2::{Digest, Sha512};

const APACHE: &str = include_str!("../../atr-tasks/assets/licenses/Apache-2.0.txt");
const PASSWORD: &str = atr_testkit::PASSWORD;

/// The service (the shared test harness) with a task runner beside it, as `atr serve` runs them.
struct Service {
    app: TestApp,
    base: String,
    http: reqwest::Client,
    shutdown: Shutdown,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Service {
    async fn start(app: TestApp) -> Self {
        atr_http::auth::ensure_admin(&app.state, &UserId::parse("root").unwrap(), PASSWORD).await.unwrap();
        let base = app.url.clone();
        let storage = app.state.storage.clone();
        let (shutdown, signal) = Shutdown::new();
        let handler =
            AnalyzeHandler::new(storage.clone(), VotePolicy::foundation_default(), SignaturePolicy::default());
        let config =
            RunnerConfig { poll_interval: Duration::from_millis(20), adaptive: false, ..RunnerConfig::new("e2e") };
        let runner = Arc::new(Runner::new(storage.sql.clone(), config).with_kind(handler));
        let worker = tokio::spawn(async move { runner.run(signal).await });
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        Self { app, base, http, shutdown, tasks: vec![worker] }
    }

    async fn stop(self) {
        self.shutdown.trigger();
        for task in self.tasks {
            task.await.unwrap();
        }
        self.app.finish().await;
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Signs in and returns the session cookie.
    async fn sign_in(&self, user: &str) -> String {
        let response = self
            .http
            .post(self.url("/api/session"))
            .json(&json!({ "user": user, "password": PASSWORD }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "sign-in of {user}");
        let cookie = response.headers()["set-cookie"].to_str().unwrap();
        cookie.split(';').next().unwrap().to_owned()
    }

    /// Sends JSON as the holder of `cookie`, expects `status`, returns the JSON answer.
    async fn call(&self, method: reqwest::Method, path: &str, cookie: &str, body: Option<Value>, status: u16) -> Value {
        let mut request = self.http.request(method.clone(), self.url(path)).header("cookie", cookie);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let got = response.status().as_u16();
        let text = response.text().await.unwrap();
        assert_eq!(got, status, "{method} {path}: {text}");
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }
}

/// A source archive that passes the checks: one root folder, LICENSE, NOTICE, a source file.
fn source_archive() -> Vec<u8> {
    let mut tar = tar::Builder::new(flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default()));
    let files: [(&str, &[u8]); 3] = [
        ("demo-1.0.0/LICENSE", APACHE.as_bytes()),
        ("demo-1.0.0/NOTICE", b"Apache Demo\nCopyright 2026 The Apache Software Foundation\n"),
        ("demo-1.0.0/src/Main.java", b"/* Licensed to the Apache Software Foundation (ASF) under one or more\n * contributor license agreements. */\nclass Main {}\n"),
    ];
    for (name, data) in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        tar.append_data(&mut header, name, data).unwrap();
    }
    let mut gz = tar.into_inner().unwrap();
    gz.flush().unwrap();
    gz.finish().unwrap()
}

/// A detached, armored signature.
fn sign(cert: &openpgp::Cert, data: &[u8]) -> Vec<u8> {
    let keypair = cert.keys().subkeys().unencrypted_secret().next().unwrap().key().clone().into_keypair().unwrap();
    let mut asc = Vec::new();
    let message = Armorer::new(Message::new(&mut asc)).kind(openpgp::armor::Kind::Signature).build().unwrap();
    let mut signer = Signer::new(message, keypair).unwrap().detached().build().unwrap();
    signer.write_all(data).unwrap();
    signer.finalize().unwrap();
    asc
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut out, b| {
        use std::fmt::Write as _;
        let _ = write!(out, "{b:02x}");
        out
    })
}

// One scenario, told in order: splitting it would hide the story it checks.
#[expect(clippy::too_many_lines, reason = "one scenario, told in order")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_release_goes_from_upload_to_download_and_is_revoked() {
    for app in TestApp::all().await {
        let storage = app.state.storage.clone();
        let service = Service::start(app).await;

        // The admin sets up a committee with people in every role, their accounts and a project.
        let root = service.sign_in("root").await;
        for user in ["pmc1", "pmc2", "dev1", "rm"] {
            let account = json!({ "user": user, "password": PASSWORD, "asf_member": false, "admin": false });
            service.call(Method::POST, "/api/admin/accounts", &root, Some(account), 201).await;
        }
        let committee = json!({ "committees": [{ "key": "demo", "name": "Apache Demo",
            "pmc_members": ["root", "pmc1", "pmc2"], "committers": ["dev1"], "release_managers": ["rm"] }] });
        service.call(Method::POST, "/api/admin/committees/import", &root, Some(committee), 200).await;
        let project = json!({ "key": "demo", "committee": "demo", "metadata": { "display_name": "Apache Demo" },
            "policy": { "min_hours": 0 }, "products": [] });
        service.call(Method::POST, "/api/projects", &root, Some(project), 201).await;

        // The release manager's signing key, generated here, in the committee's keys.
        let (cert, _) = CertBuilder::new()
            .add_userid("Release Manager <rm@apache.org>")
            .add_signing_subkey()
            .set_creation_time(SystemTime::now() - Duration::from_hours(1))
            .generate()
            .unwrap();
        let (ring, _) = KeyRing::parse(&cert.armored().to_vec().unwrap(), &SignaturePolicy::default());
        let now = Timestamp::from_unix(
            i64::try_from(SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs()).unwrap(),
        );
        for mut key in ring.signing_keys(now) {
            key.committees = BTreeSet::from([CommitteeKey::parse("demo").unwrap()]);
            KeyRepository::upsert(&storage.sql, &key).await.unwrap();
        }

        // The release manager starts the release and uploads three files with a scoped token.
        let rm = service.sign_in("rm").await;
        service.call(Method::POST, "/api/projects/demo/releases", &rm, Some(json!({ "version": "1.0.0" })), 201).await;
        let token = service
            .call(
                Method::POST,
                "/api/tokens",
                &rm,
                Some(json!({ "name": "ci", "projects": ["demo"],
                "activities": ["manage_release"], "expires_in_days": 1 })),
                201,
            )
            .await["token"]
            .as_str()
            .unwrap()
            .to_owned();
        let archive = source_archive();
        let sha512 = format!("{}  demo-1.0.0.tar.gz\n", hex(&Sha512::digest(&archive)));
        let files: [(&str, Vec<u8>); 3] = [
            ("demo-1.0.0.tar.gz", archive.clone()),
            ("demo-1.0.0.tar.gz.asc", sign(&cert, &archive)),
            ("demo-1.0.0.tar.gz.sha512", sha512.into_bytes()),
        ];
        for (number, (name, bytes)) in files.into_iter().enumerate() {
            let response = service
                .http
                .put(service.url(&format!("/api/projects/demo/releases/1.0.0/files/{name}")))
                .bearer_auth(&token)
                .header("if-match", format!("\"{number}\"").replace("\"0\"", "none"))
                .body(bytes)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 201, "{name}: {}", response.text().await.unwrap());
        }
        // A stale writer (still at revision 1) is told so.
        let stale = service
            .http
            .put(service.url("/api/projects/demo/releases/1.0.0/files/extra.txt"))
            .bearer_auth(&token)
            .header("if-match", "\"1\"")
            .body("late")
            .send()
            .await
            .unwrap();
        assert_eq!(stale.status(), 409);

        // The checks of revision 3 complete; the vote starts once nothing is pending.
        let deadline = std::time::Instant::now() + Duration::from_mins(1);
        let checks = loop {
            let checks =
                service.call(Method::GET, "/api/projects/demo/releases/1.0.0/revisions/3/checks", &rm, None, 200).await;
            let list = checks.as_array().unwrap();
            if list.iter().any(|c| c["checker"] == "signature") && list.iter().any(|c| c["checker"] == "archive") {
                break list.clone();
            }
            assert!(std::time::Instant::now() < deadline, "the checks never completed");
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        assert!(checks.iter().all(|c| c["status"] != "blocker"), "{checks:?}");
        assert!(checks.iter().any(|c| c["checker"] == "signature" && c["status"] == "success"), "{checks:?}");
        let vote = loop {
            let response = service
                .http
                .post(service.url("/api/projects/demo/releases/1.0.0/vote"))
                .header("cookie", &rm)
                .json(&json!({ "revision": 3 }))
                .send()
                .await
                .unwrap();
            if response.status() == 200 {
                break response.json::<Value>().await.unwrap();
            }
            assert!(std::time::Instant::now() < deadline, "the vote never started: {}", response.text().await.unwrap());
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        assert_eq!(vote["phase"], "candidate");

        // Binding and non-binding ballots; a changed vote counts once.
        for user in ["pmc1", "pmc2", "root", "dev1"] {
            let session = service.sign_in(user).await;
            let value = if user == "pmc2" { "-1" } else { "+1" };
            service
                .call(
                    Method::POST,
                    "/api/projects/demo/releases/1.0.0/ballots",
                    &session,
                    Some(json!({ "value": value })),
                    201,
                )
                .await;
            if user == "pmc2" {
                service
                    .call(
                        Method::POST,
                        "/api/projects/demo/releases/1.0.0/ballots",
                        &session,
                        Some(json!({ "value": "+1" })),
                        201,
                    )
                    .await;
            }
        }
        let tally = service.call(Method::GET, "/api/projects/demo/releases/1.0.0/tally", &rm, None, 200).await;
        assert_eq!(
            (tally["binding"]["plus_one"].as_u64(), tally["non_binding"]["plus_one"].as_u64()),
            (Some(3), Some(1))
        );
        assert_eq!(tally["binding"]["minus_one"], 0);
        assert_eq!(tally["passes"], true);
        // A committer may not resolve; the release manager may.
        let dev = service.sign_in("dev1").await;
        let refused = service
            .call(
                Method::POST,
                "/api/projects/demo/releases/1.0.0/resolve",
                &dev,
                Some(json!({ "outcome": "passed" })),
                403,
            )
            .await;
        assert!(refused["error"]["message"].as_str().unwrap().contains("perform_actions"), "{refused}");
        let resolved = service
            .call(
                Method::POST,
                "/api/projects/demo/releases/1.0.0/resolve",
                &rm,
                Some(json!({ "outcome": "passed" })),
                200,
            )
            .await;
        assert_eq!(resolved["phase"], "preview");
        let announced =
            service.call(Method::POST, "/api/projects/demo/releases/1.0.0/announce", &rm, Some(json!({})), 200).await;
        assert_eq!(announced["phase"], "release");

        // Downloads: the versioned path, immutable; `latest`, a redirect to it.
        let file = service.http.get(service.url("/current/demo/1.0.0/demo-1.0.0.tar.gz")).send().await.unwrap();
        assert_eq!(file.status(), 200);
        assert!(file.headers()["cache-control"].to_str().unwrap().contains("immutable"));
        assert_eq!(file.bytes().await.unwrap().as_ref(), archive.as_slice());
        let latest = service.http.get(service.url("/current/demo/latest/demo-1.0.0.tar.gz")).send().await.unwrap();
        assert!(latest.status().is_redirection(), "{}", latest.status());
        assert!(latest.headers()["location"].to_str().unwrap().ends_with("/current/demo/1.0.0/demo-1.0.0.tar.gz"));

        // Revoking is a stage: gone from current, still downloadable as revoked, and marked.
        let revoked = service
            .call(
                Method::DELETE,
                "/api/projects/demo/releases/1.0.0",
                &rm,
                Some(json!({ "reason": "CVE-2026-0001" })),
                200,
            )
            .await;
        assert!(revoked["revocation"]["reason"] == "CVE-2026-0001", "{revoked}");
        let gone = service.http.get(service.url("/current/demo/1.0.0/demo-1.0.0.tar.gz")).send().await.unwrap();
        assert_eq!(gone.status(), 404);
        let kept = service.http.get(service.url("/revoked/demo/1.0.0/demo-1.0.0.tar.gz")).send().await.unwrap();
        assert_eq!(kept.status(), 200);
        assert_eq!(kept.headers()["x-atr-revoked"], "true");

        // The release's history tells the story, newest first.
        let events = service.call(Method::GET, "/api/events?project=demo&version=1.0.0", &rm, None, 200).await;
        let kinds: Vec<&str> =
            events.as_array().unwrap().iter().map(|e| e["event"]["kind"]["type"].as_str().unwrap()).collect();
        for kind in [
            "release_started",
            "revision_created",
            "vote_started",
            "ballot_cast",
            "vote_resolved",
            "announced",
            "revoked",
        ] {
            assert!(kinds.contains(&kind), "{kind} missing from {kinds:?}");
        }
        assert_eq!(storage.sql.verify_events().await.unwrap().events, u64::try_from(kinds.len()).unwrap());

        service.stop().await;
    }
}
