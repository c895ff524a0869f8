//! The release API's refusals: every 400/401/403/404/409/413/422 path of uploads and release
//! calls, on every database engine.

use atr_core::model::{Committee, Metadata, Project};
use atr_core::policy::PolicyOverrides;
use atr_core::ports::{CommitteeRepository, ProjectRepository};
use atr_core::types::{CommitteeKey, ProjectKey, UserId};
use atr_http::HttpConfig;
use atr_testkit::{Auth, Body, Method, StatusCode, TestApp};
use serde_json::Value;

/// The service with the committee and project `demo`: release manager `rm`, committer `dev`,
/// both signed in.
struct Setup {
    app: TestApp,
    rm: String,
    dev: String,
}

async fn setups(max_upload_bytes: u64) -> Vec<Setup> {
    let mut setups = Vec::new();
    for app in TestApp::all_with(|| HttpConfig { max_upload_bytes, ..HttpConfig::default() }).await {
        let sql = &app.state.storage.sql;
        let uid = |s: &str| UserId::parse(s).unwrap();
        let mut committee = Committee::new(CommitteeKey::parse("demo").unwrap(), "Demo");
        committee.release_managers.insert(uid("rm"));
        committee.committers.insert(uid("dev"));
        CommitteeRepository::put(sql, &committee).await.unwrap();
        let project = Project {
            key: ProjectKey::parse("demo").unwrap(),
            committee: committee.key.clone(),
            metadata: Metadata { display_name: "Demo".into(), ..Metadata::default() },
            policy: PolicyOverrides::default(),
            products: Vec::new(),
        };
        ProjectRepository::create(sql, &project).await.unwrap();
        for id in ["rm", "dev"] {
            app.account(id, false).await;
        }
        let (rm, dev) = (app.sign_in("rm").await, app.sign_in("dev").await);
        setups.push(Setup { app, rm, dev });
    }
    setups
}

impl Setup {
    async fn json(&self, method: Method, uri: &str, session: Option<&str>, body: &str) -> (StatusCode, Value) {
        let auth = session.map_or(Auth::Nobody, Auth::Session);
        let body = if body.is_empty() { Body::Empty } else { Body::JsonText(body) };
        let answer = self.app.send(method, uri, auth, body).await;
        (answer.status, answer.json)
    }

    /// Uploads as the release manager: `length` sends the bytes with their `Content-Length`,
    /// `None` sends them chunked; `if_match` names the expected latest revision.
    async fn put(&self, uri: &str, body: &[u8], length: Option<usize>, if_match: Option<&str>) -> (StatusCode, Value) {
        let body = match length {
            Some(_) => Body::Raw("application/octet-stream", body.to_vec()),
            None => Body::Chunked(body.to_vec()),
        };
        let headers: Vec<(&str, &str)> = if_match.map(|m| ("if-match", m)).into_iter().collect();
        let answer = self.app.send_with(Method::PUT, uri, Auth::Session(&self.rm), body, &headers).await;
        (answer.status, answer.json)
    }
}

fn message(answer: &(StatusCode, Value)) -> String {
    answer.1["error"]["message"].as_str().unwrap_or_default().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn release_calls_refuse_what_they_must() {
    for app in setups(1024).await {
        let releases = "/api/projects/demo/releases";

        // 401 without a caller, 403 naming the permission for a committer.
        let anonymous = app.json(Method::POST, releases, None, r#"{"version":"1.0.0"}"#).await;
        assert_eq!(
            (anonymous.0, anonymous.1["error"]["code"].as_str()),
            (StatusCode::UNAUTHORIZED, Some("unauthenticated"))
        );
        let committer = app.json(Method::POST, releases, Some(&app.dev), r#"{"version":"1.0.0"}"#).await;
        assert_eq!(committer.0, StatusCode::FORBIDDEN);
        assert!(message(&committer).contains("manage_release"), "{}", committer.1);
        // 400 for bad JSON or a bad version, 422 naming an unknown or mistyped field.
        let bad = app.json(Method::POST, releases, Some(&app.rm), r#"{"version":"#).await;
        assert_eq!(bad.0, StatusCode::BAD_REQUEST);
        let unknown = app.json(Method::POST, releases, Some(&app.rm), r#"{"version":"1.0.0","colour":"red"}"#).await;
        assert_eq!(unknown.0, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(message(&unknown).contains("colour"), "{}", unknown.1);
        let mistyped = app.json(Method::POST, releases, Some(&app.rm), r#"{"version":100}"#).await;
        assert_eq!(mistyped.0, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(message(&mistyped).contains("version"), "{}", mistyped.1);
        let latest = app.json(Method::POST, releases, Some(&app.rm), r#"{"version":"latest"}"#).await;
        assert_eq!(latest.0, StatusCode::BAD_REQUEST);
        // 201, then 409 for the same version again; 404 for an unknown project or release.
        let created = app.json(Method::POST, releases, Some(&app.rm), r#"{"version":"1.0.0"}"#).await;
        assert_eq!(created.0, StatusCode::CREATED, "{}", created.1);
        let again = app.json(Method::POST, releases, Some(&app.rm), r#"{"version":"1.0.0"}"#).await;
        assert_eq!(again.0, StatusCode::CONFLICT);
        let nowhere =
            app.json(Method::POST, "/api/projects/nosuch/releases", Some(&app.rm), r#"{"version":"1.0.0"}"#).await;
        assert_eq!(nowhere.0, StatusCode::NOT_FOUND);
        let missing = app.json(Method::GET, "/api/projects/demo/releases/9.9.9", None, "").await;
        assert_eq!((missing.0, missing.1["error"]["code"].as_str()), (StatusCode::NOT_FOUND, Some("not_found")));

        // Uploads: 413 over the bound, declared or not; 400 for unsafe paths; 409 for a stale parent.
        let files = "/api/projects/demo/releases/1.0.0/files";
        let big = vec![b'x'; 2000];
        let declared = app.put(&format!("{files}/big.bin"), &big, Some(big.len()), None).await;
        assert_eq!(declared.0, StatusCode::PAYLOAD_TOO_LARGE, "{}", declared.1);
        let streamed = app.put(&format!("{files}/big.bin"), &big, None, None).await;
        assert_eq!(streamed.0, StatusCode::PAYLOAD_TOO_LARGE, "{}", streamed.1);
        // Sent raw: an HTTP client would normalize `a/../b` before sending it.
        for path in ["..%2Fescape", ".hidden", "a/../b", "KEYS%00"] {
            let request = format!(
                "PUT {files}/{path} HTTP/1.1\r\nHost: localhost\r\nCookie: atr_session={}\r\n\
                 Content-Length: 1\r\nConnection: close\r\n\r\nx",
                app.rm
            );
            let (status, response) = app.app.raw(&request).await;
            assert_eq!(status, 400, "{path}: {response}");
            assert!(response.contains("\"code\":\"bad_request\""), "{path}: {response}");
        }
        let first = app.put(&format!("{files}/a.txt"), b"a", None, Some("none")).await;
        assert_eq!(first.0, StatusCode::CREATED, "{}", first.1);
        let second = app.put(&format!("{files}/b.txt"), b"b", None, Some("\"00001\"")).await;
        assert_eq!(second.0, StatusCode::CREATED, "{}", second.1);
        let stale = app.put(&format!("{files}/c.txt"), b"c", None, Some("\"00001\"")).await;
        assert_eq!(stale.0, StatusCode::CONFLICT);
        assert!(message(&stale).contains("expected revision 00001"), "{}", stale.1);
        let garbled = app.put(&format!("{files}/c.txt"), b"c", None, Some("yesterday")).await;
        assert_eq!(garbled.0, StatusCode::BAD_REQUEST);
        // The rejected uploads left no revision behind.
        let revisions = app.json(Method::GET, "/api/projects/demo/releases/1.0.0/revisions", Some(&app.rm), "").await;
        assert_eq!(revisions.1.as_array().unwrap().len(), 2);
        // A draft is not there for an anonymous caller, with the same answer as a release that
        // does not exist.
        for path in ["", "/revisions", "/revisions/00001", "/revisions/00001/checks", "/sboms"] {
            let hidden = app.json(Method::GET, &format!("/api/projects/demo/releases/1.0.0{path}"), None, "").await;
            assert_eq!(hidden.0, StatusCode::NOT_FOUND, "{path}: {}", hidden.1);
            assert_eq!(hidden.1["error"]["message"], "release demo 1.0.0 not found", "{path}");
        }
        let listed = app.json(Method::GET, "/api/projects/demo/releases", None, "").await;
        assert_eq!(listed.1, serde_json::json!([]), "an anonymous listing shows no draft");
        // A move is a revision too; moving a missing file is refused without one.
        let move_url = "/api/projects/demo/releases/1.0.0/moves";
        let renamed = app.json(Method::POST, move_url, Some(&app.rm), r#"{"from":"b.txt","to":"docs/b.txt"}"#).await;
        assert_eq!(renamed.0, StatusCode::CREATED, "{}", renamed.1);
        let paths: Vec<&str> =
            renamed.1["revision"]["files"].as_array().unwrap().iter().map(|f| f["path"].as_str().unwrap()).collect();
        assert_eq!(paths, ["a.txt", "docs/b.txt"]);
        let nothing = app.json(Method::POST, move_url, Some(&app.rm), r#"{"from":"nope.txt","to":"x.txt"}"#).await;
        assert_eq!(nothing.0, StatusCode::UNPROCESSABLE_ENTITY, "{}", nothing.1);
        // SBOM files are listed as such.
        let sbom = app.put(&format!("{files}/demo.cdx.json"), b"{}", None, None).await;
        assert_eq!(sbom.0, StatusCode::CREATED, "{}", sbom.1);
        let sboms = app.json(Method::GET, "/api/projects/demo/releases/1.0.0/sboms", Some(&app.rm), "").await;
        assert_eq!(sboms.1["sboms"][0]["file"]["path"], "demo.cdx.json", "{}", sboms.1);
        assert_eq!(sboms.1["sboms"].as_array().unwrap().len(), 1);
        // 409 for a vote on a revision that is not the latest.
        let vote =
            app.json(Method::POST, "/api/projects/demo/releases/1.0.0/vote", Some(&app.rm), r#"{"revision":1}"#).await;
        assert_eq!(vote.0, StatusCode::CONFLICT, "{}", vote.1);
        app.app.finish().await;
    }
}

/// The router and the catalogue of `atr-api` agree both ways: every route the router serves is an
/// operation of the catalogue, every operation of the catalogue is routed (a known route answers
/// from its handler, an unknown one gets the `no_route` 404 or a 405), no other method is routed at
/// a documented path, and `/api/openapi.json` is the document generated from the catalogue.
#[tokio::test]
async fn the_router_serves_exactly_the_documented_operations() {
    use std::collections::BTreeSet;

    use atr_api::endpoints::Method as Documented;

    let mut apps = TestApp::all().await;
    let app = apps.remove(0);
    for other in apps {
        other.finish().await;
    }

    // Every route registered under /api is a documented operation, and the other way round; the
    // downloads are routed per stage, as the catalogue lists them.
    let served: BTreeSet<(Documented, &str)> =
        atr_http::served_operations().iter().map(|e| (e.method, e.path)).collect();
    let mut all_routes = served.clone();
    for stage in atr_core::types::Stage::ALL {
        let (folder, file) = (format!("/{stage}/"), format!("/{stage}/{{path}}"));
        for path in [folder, file] {
            let documented = atr_api::endpoints::find(Documented::Get, &path).expect("downloads are documented");
            all_routes.insert((Documented::Get, documented.path));
        }
    }
    let documented: BTreeSet<(Documented, &str)> = atr_api::ENDPOINTS.iter().map(|e| (e.method, e.path)).collect();
    let undocumented: Vec<_> = all_routes.difference(&documented).collect();
    assert!(undocumented.is_empty(), "routed but not documented: {undocumented:?}");
    let unrouted: Vec<_> = documented.difference(&all_routes).collect();
    assert!(unrouted.is_empty(), "documented but not routed: {unrouted:?}");
    assert_eq!(served.len(), atr_http::served_operations().len(), "an operation is registered twice");

    let send = |method: Method, uri: String| {
        let app = &app;
        async move {
            let answer = app.send(method, &uri, Auth::Nobody, Body::Empty).await;
            (answer.status, answer.text)
        }
    };
    let params = [
        ("project", "demo"),
        ("version", "1.0.0"),
        ("number", "1"),
        ("path", "a.txt"),
        ("key", "demo"),
        ("fingerprint", "A93D62ECC3C8EA12DB220EC934EA76E6791485A8"),
        ("product", "tools"),
        ("id", "1"),
    ];
    for endpoint in atr_api::ENDPOINTS {
        let uri = endpoint.fill(&params);
        assert!(!uri.contains('{'), "{uri}: a parameter of the test is missing");
        let method = Method::from_bytes(endpoint.method.as_str().as_bytes()).unwrap();
        let (status, bytes) = send(method.clone(), uri.clone()).await;
        let unknown = bytes.contains("\"no_route\"") || status == StatusCode::METHOD_NOT_ALLOWED;
        assert!(!unknown, "{method} {uri} is documented but not routed ({status})");
        // No method the catalogue does not list for this path is routed there.
        for other in [Documented::Get, Documented::Post, Documented::Put, Documented::Delete] {
            if atr_api::endpoints::find(other, endpoint.path).is_some() {
                continue;
            }
            let (status, _) = send(Method::from_bytes(other.as_str().as_bytes()).unwrap(), uri.clone()).await;
            assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "{} {uri} is routed but not documented", other.as_str());
        }
    }

    let (status, bytes) = send(Method::GET, "/api/openapi.json".into()).await;
    assert_eq!(status, StatusCode::OK);
    let document: Value = serde_json::from_str(&bytes).unwrap();
    assert_eq!(document, serde_json::from_str::<Value>(&atr_api::openapi::document_json()).unwrap());
    assert_eq!(document["openapi"], "3.1.0");
    app.finish().await;
}
