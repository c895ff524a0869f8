//! The web pages over HTTP, on every database engine: security headers, the stylesheet's and the
//! script's caching, the 404 page, form tokens, refusals shown in words that change nothing,
//! uploads (several files into one revision), moves and deletes through the forms, the key, CVE,
//! task and project configuration pages, and download folders answered by `Accept`.

use atr_core::model::{Committee, Metadata, Project};
use atr_core::policy::PolicyOverrides;
use atr_core::ports::{CommitteeRepository, ProjectRepository};
use atr_core::types::{CommitteeKey, ProjectKey, UserId};
use atr_http::HttpConfig;
use atr_testkit::{Auth, TestApp};
use axum::body::Body;
use axum::http::{Request, StatusCode, header};

struct Answer {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: String,
}

/// The shared test service, with requests written as `axum` requests.
struct App {
    kit: TestApp,
}

impl App {
    async fn send(&self, request: Request<Body>) -> Answer {
        let (parts, body) = request.into_parts();
        let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap().to_vec();
        let headers: Vec<(&str, &str)> =
            parts.headers.iter().map(|(name, value)| (name.as_str(), value.to_str().unwrap())).collect();
        let body = if bytes.is_empty() { atr_testkit::Body::Empty } else { atr_testkit::Body::Bytes(bytes) };
        let uri = parts.uri.to_string();
        let answer = self.kit.send_with(parts.method, &uri, Auth::Nobody, body, &headers).await;
        Answer { status: answer.status, headers: answer.headers, body: answer.text }
    }

    async fn get(&self, uri: &str, cookie: Option<&str>) -> Answer {
        let mut request = Request::get(uri).header(header::ACCEPT, "text/html");
        if let Some(cookie) = cookie {
            request = request.header(header::COOKIE, cookie);
        }
        self.send(request.body(Body::empty()).unwrap()).await
    }

    async fn post_form(&self, uri: &str, cookie: &str, form: &str) -> Answer {
        let request = Request::post(uri)
            .header(header::COOKIE, cookie)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(form.to_owned()))
            .unwrap();
        self.send(request).await
    }

    async fn session(&self, user: &str) -> String {
        format!("atr_session={}", self.kit.sign_in(user).await)
    }

    /// The form token on a page.
    async fn token(&self, uri: &str, cookie: &str) -> String {
        let page = self.get(uri, Some(cookie)).await;
        let at = page.body.find("name=\"csrf\" value=\"").expect("a form token on the page") + 19;
        page.body[at..at + 64].to_owned()
    }
}

fn config() -> HttpConfig {
    HttpConfig { max_upload_bytes: 4096, ..HttpConfig::default() }
}

async fn app(kit: TestApp) -> App {
    let sql = &kit.state.storage.sql;
    let uid = |s: &str| UserId::parse(s).unwrap();
    for id in ["rm", "dev"] {
        kit.account(id, false).await;
    }
    let mut committee = Committee::new(CommitteeKey::parse("demo").unwrap(), "Demo Committee");
    committee.release_managers.insert(uid("rm"));
    committee.committers.insert(uid("dev"));
    CommitteeRepository::put(sql, &committee).await.unwrap();
    let project = Project {
        key: ProjectKey::parse("demo").unwrap(),
        committee: committee.key.clone(),
        metadata: Metadata { display_name: "Demo Project".into(), ..Metadata::default() },
        policy: PolicyOverrides::default(),
        products: Vec::new(),
    };
    ProjectRepository::create(sql, &project).await.unwrap();
    App { kit }
}

fn multipart(token: &str, parent: &str, name: &str, content: &str) -> (String, String) {
    let boundary = "XyZboundary";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{token}\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"parent\"\r\n\r\n{parent}\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n\
         Content-Type: application/octet-stream\r\n\r\n{content}\r\n--{boundary}--\r\n"
    );
    (format!("multipart/form-data; boundary={boundary}"), body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[expect(clippy::too_many_lines, reason = "one walk through the forms, each refusal checked in turn")]
async fn pages_protect_forms_and_refuse_in_words() {
    for kit in TestApp::all_with(config).await {
        let app = app(kit).await;

        // The directory: security headers, a form cookie for a new browser, the project listed.
        let home = app.get("/", None).await;
        assert_eq!(home.status, StatusCode::OK);
        let csp = home.headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
        assert!(csp.contains("frame-ancestors 'none'") && csp.contains("script-src 'self';"), "{csp}");
        assert!(!csp.contains("unsafe-inline") && !home.body.contains("<script>"), "{csp}");
        assert_eq!(home.headers[header::REFERRER_POLICY], "same-origin");
        assert_eq!(home.headers[header::CACHE_CONTROL], "no-store");
        let set = home.headers[header::SET_COOKIE].to_str().unwrap();
        assert!(set.starts_with("atr_csrf=") && set.contains("HttpOnly"), "{set}");
        assert!(home.body.contains("Demo Project") && home.body.contains("Demo Committee"), "{}", home.body);
        // The stylesheet, under its content-hashed name, cached for a year; another name is a 404.
        let at = home.body.find("/static/atr-").unwrap();
        let css_url = &home.body[at..at + home.body[at..].find('"').unwrap()];
        let css = app.get(css_url, None).await;
        assert_eq!(css.status, StatusCode::OK);
        assert_eq!(css.headers[header::CACHE_CONTROL], "public, max-age=31536000, immutable");
        assert!(css.body.contains("--ink"));
        assert_eq!(app.get("/static/atr-0000000000000000.css", None).await.status, StatusCode::NOT_FOUND);
        // A real 404 page, and JSON under /api.
        let missing = app.get("/no/such/page", None).await;
        assert_eq!(missing.status, StatusCode::NOT_FOUND);
        assert!(missing.body.contains("There is no page at this address"));
        assert!(missing.headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap().contains("default-src 'none'"));
        let api = app.get("/api/no-such-endpoint", None).await;
        assert_eq!(
            (api.status, api.headers[header::CONTENT_TYPE].to_str().unwrap()),
            (StatusCode::NOT_FOUND, "application/json")
        );
        assert_eq!(app.get("/projects/nope", None).await.status, StatusCode::NOT_FOUND);

        // Starting a release: refused without this browser's token, done with it.
        let rm = app.session("rm").await;
        let dev = app.session("dev").await;
        let token = app.token("/projects/demo", &rm).await;
        let forged = app.post_form("/projects/demo/releases", &rm, "version=1.0.0").await;
        assert_eq!(forged.status, StatusCode::FORBIDDEN);
        assert!(forged.body.contains("did not come from this site"), "{}", forged.body);
        let other_token = app.token("/projects/demo", &dev).await;
        let wrong = app.post_form("/projects/demo/releases", &rm, &format!("csrf={other_token}&version=1.0.0")).await;
        assert_eq!(wrong.status, StatusCode::FORBIDDEN);
        assert!(app.get("/projects/demo/releases/1.0.0", Some(&rm)).await.status == StatusCode::NOT_FOUND);
        let bad = app.post_form("/projects/demo/releases", &rm, &format!("csrf={token}&version=1..0")).await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(bad.body.contains("Version:") && bad.body.contains("id=\"form-error\""), "{}", bad.body);
        let started = app.post_form("/projects/demo/releases", &rm, &format!("csrf={token}&version=1.0.0")).await;
        assert_eq!(started.status, StatusCode::SEE_OTHER, "{}", started.body);
        assert_eq!(started.headers[header::LOCATION], "/projects/demo/releases/1.0.0?done=started");
        let page = app.get("/projects/demo/releases/1.0.0?done=started", Some(&rm)).await;
        assert!(page.body.contains("started as a draft") && page.body.contains("id=\"upload\""), "{}", page.body);

        // Before its vote the release is not there for a visitor: no page, not in the project's
        // listing, and no drafts section at all; the release manager sees both.
        let hidden = app.get("/projects/demo/releases/1.0.0", None).await;
        assert_eq!(hidden.status, StatusCode::NOT_FOUND, "{}", hidden.body);
        assert!(hidden.body.contains("release demo 1.0.0 not found"), "{}", hidden.body);
        let listing = app.get("/projects/demo", None).await.body;
        assert!(!listing.contains("1.0.0") && !listing.contains("Drafts and previews"), "{listing}");
        let listing = app.get("/projects/demo", Some(&rm)).await.body;
        assert!(listing.contains("Drafts and previews") && listing.contains("1.0.0"), "{listing}");

        // A committer is offered nothing, and a revoke posted anyway is refused and changes nothing.
        let page = app.get("/projects/demo/releases/1.0.0", Some(&dev)).await;
        assert!(!page.body.contains("id=\"revoke\"") && !page.body.contains("id=\"upload\""));
        let refused = app
            .post_form("/projects/demo/releases/1.0.0/revoke", &dev, &format!("csrf={other_token}&reason=nope"))
            .await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN);
        assert!(refused.body.contains("permission denied: manage_release"), "{}", refused.body);
        assert!(refused.body.contains("not public"), "the release page shows the release unchanged");
        assert!(!app.get("/projects/demo/releases/1.0.0", Some(&rm)).await.body.contains("Revoked"));
        // Histories: the project's for anyone signed in, the foundation's only with `view all events`.
        let history = app.get("/projects/demo/audit", Some(&dev)).await;
        assert_eq!(history.status, StatusCode::OK);
        assert!(
            history.body.contains("release started") && history.body.contains("shown to admins"),
            "{}",
            history.body
        );
        assert!(history.body.contains("<strong>the whole project</strong>"), "{}", history.body);
        let no_product = app.get("/projects/demo/audit?product=nosuch", Some(&dev)).await;
        assert_eq!(no_product.status, StatusCode::NOT_FOUND);
        assert!(no_product.body.contains("has no product nosuch"), "{}", no_product.body);
        let foundation = app.get("/audit", Some(&dev)).await;
        assert_eq!(foundation.status, StatusCode::FORBIDDEN);
        assert!(foundation.body.contains("view_all_events"), "{}", foundation.body);
        let unknown = app.post_form("/projects/demo/releases/1.0.0/explode", &rm, &format!("csrf={token}")).await;
        assert_eq!(unknown.status, StatusCode::NOT_FOUND);

        // Uploads through the form: on the revision shown, refused on a stale one or without token.
        let (kind, body) = multipart(&token, "", "notes.txt", "hello");
        let upload = |kind: String, body: String| {
            Request::post("/projects/demo/releases/1.0.0/upload")
                .header(header::COOKIE, &rm)
                .header(header::CONTENT_TYPE, kind)
                .body(Body::from(body))
                .unwrap()
        };
        let uploaded = app.send(upload(kind.clone(), body)).await;
        assert_eq!(uploaded.status, StatusCode::SEE_OTHER, "{}", uploaded.body);
        let (_, stale) = multipart(&token, "", "other.txt", "again");
        let stale = app.send(upload(kind.clone(), stale)).await;
        assert_eq!(stale.status, StatusCode::CONFLICT);
        assert!(stale.body.contains("expected revision none to be the latest, but it is 00001"), "{}", stale.body);
        let (_, forged) = multipart(&other_token, "1", "other.txt", "again");
        assert_eq!(app.send(upload(kind.clone(), forged)).await.status, StatusCode::FORBIDDEN);
        let (_, large) = multipart(&token, "1", "big.txt", &"x".repeat(5000));
        let large = app.send(upload(kind, large)).await;
        assert_eq!(large.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", large.body);
        let page = app.get("/projects/demo/releases/1.0.0", Some(&rm)).await;
        assert!(page.body.contains("notes.txt") && !page.body.contains("other.txt") && !page.body.contains("big.txt"));
        assert!(page.body.contains("<dd>00001</dd>"), "one revision only: {}", page.body);
        app.kit.finish().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_page_sets_a_session_only_with_its_token() {
    let app = app(TestApp::start(atr_store::testing::sqlite().await, config()).await).await;
    let first = app.get("/signin?next=/projects/demo", None).await;
    let cookie = first.headers[header::SET_COOKIE].to_str().unwrap().split(';').next().unwrap().to_owned();
    let token = app.token("/signin", &cookie).await;
    let form = |token: &str, password: &str| format!("csrf={token}&user=rm&password={password}&next=/projects/demo");
    let forged =
        app.post_form("/signin", &cookie, &form("0".repeat(64).as_str(), "correct+horse+battery+staple")).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert!(forged.headers.get(header::SET_COOKIE).is_none());
    let wrong = app.post_form("/signin", &cookie, &form(&token, "wrong")).await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(wrong.body.contains("id=\"form-error\"") && wrong.headers.get(header::SET_COOKIE).is_none());
    let signed = app.post_form("/signin", &cookie, &form(&token, "correct+horse+battery+staple")).await;
    assert_eq!(signed.status, StatusCode::SEE_OTHER, "{}", signed.body);
    assert_eq!(signed.headers[header::LOCATION], "/projects/demo");
    let session = signed.headers[header::SET_COOKIE].to_str().unwrap();
    assert!(session.starts_with("atr_session=") && session.contains("HttpOnly"));
    let session = session.split(';').next().unwrap();
    let page = app.get("/projects/demo", Some(session)).await;
    assert!(page.body.contains("Signed in as <strong>rm</strong>") && page.body.contains("release manager"));
    // An outside address to come back to is not followed.
    let away = app
        .post_form(
            "/signin",
            &cookie,
            &format!("csrf={token}&user=rm&password=correct+horse+battery+staple&next=//evil.example"),
        )
        .await;
    assert_eq!(away.headers[header::LOCATION], "/");
    app.kit.finish().await;
}

/// A multipart upload form with several files, in the order the page's form sends its fields.
fn multipart_files(token: &str, parent: &str, files: &[(&str, &str)]) -> (String, String) {
    use std::fmt::Write as _;
    let boundary = "XyZboundary";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{token}\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"parent\"\r\n\r\n{parent}\r\n"
    );
    for (name, content) in files {
        let _ = write!(
            body,
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n\
             Content-Type: application/octet-stream\r\n\r\n{content}\r\n"
        );
    }
    let _ = write!(body, "--{boundary}--\r\n");
    (format!("multipart/form-data; boundary={boundary}"), body)
}

impl App {
    async fn upload(&self, release: &str, cookie: &str, kind: &str, body: String) -> Answer {
        let request = Request::post(format!("{release}/upload"))
            .header(header::COOKIE, cookie)
            .header(header::CONTENT_TYPE, kind)
            .body(Body::from(body))
            .unwrap();
        self.send(request).await
    }

    /// The files of the release's latest revision, as its page lists them for the delete form.
    async fn files(&self, release: &str, cookie: &str) -> Vec<String> {
        let page = self.get(release, Some(cookie)).await;
        let Some(at) = page.body.find("id=\"delete-path\"") else { return Vec::new() };
        let select = &page.body[at..at + page.body[at..].find("</select>").unwrap()];
        select.split("<option value=\"").skip(1).map(|o| o[..o.find('"').unwrap()].to_owned()).collect()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn release_page_uploads_several_files_moves_and_deletes_them() {
    for kit in TestApp::all_with(|| HttpConfig { max_upload_bytes: 64 * 1024, ..HttpConfig::default() }).await {
        let app = app(kit).await;
        let rm = app.session("rm").await;
        let dev = app.session("dev").await;
        let token = app.token("/projects/demo", &rm).await;
        let started = app.post_form("/projects/demo/releases", &rm, &format!("csrf={token}&version=2.0.0")).await;
        assert_eq!(started.status, StatusCode::SEE_OTHER, "{}", started.body);
        let release = "/projects/demo/releases/2.0.0";

        // The upload form takes several files, and the script that shows its progress is served
        // under a content-hashed name, cached like the stylesheet.
        let page = app.get(release, Some(&rm)).await;
        assert!(page.body.contains("name=\"file\" multiple"), "{}", page.body);
        let at = page.body.find("<script src=\"/static/atr-").expect("the upload script") + 13;
        let js_url = &page.body[at..at + page.body[at..].find('"').unwrap()];
        assert_eq!(js_url.rsplit('.').next(), Some("js"), "{js_url}");
        let js = app.get(js_url, None).await;
        assert_eq!(js.status, StatusCode::OK);
        assert_eq!(js.headers[header::CONTENT_TYPE], "text/javascript; charset=utf-8");
        assert_eq!(js.headers[header::CACHE_CONTROL], "public, max-age=31536000, immutable");
        assert!(js.body.contains("upload.addEventListener(\"progress\""));

        // Three files in one form: one revision holding all three.
        let sbom = r#"{"bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1, "components": []}"#;
        let (kind, body) =
            multipart_files(&token, "", &[("a.txt", "first"), ("b.txt", "second"), ("demo.cdx.json", sbom)]);
        let uploaded = app.upload(release, &rm, &kind, body).await;
        assert_eq!(uploaded.status, StatusCode::SEE_OTHER, "{}", uploaded.body);
        assert_eq!(app.files(release, &rm).await, ["a.txt", "b.txt", "demo.cdx.json"]);
        let page = app.get(release, Some(&rm)).await;
        assert!(page.body.contains("<dd>00001</dd>"), "one revision for the three files: {}", page.body);
        // The SBOM is listed on the page, its validation still to come.
        let at = page.body.find("<section id=\"sboms\">").expect("an SBOM section");
        let sboms = &page.body[at..at + page.body[at..].find("</section>").unwrap()];
        assert!(sboms.contains("demo.cdx.json") && sboms.contains("not validated yet"), "{sboms}");
        assert!(!sboms.contains("a.txt"), "only SBOM files are listed: {sboms}");

        // A form with a bad second file name changes nothing, and says why.
        let (kind, body) = multipart_files(&token, "1", &[("c.txt", "third"), (".secret", "bad")]);
        let refused = app.upload(release, &rm, &kind, body).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.body);
        assert!(refused.body.contains("id=\"form-error\"") && refused.body.contains(".secret"), "{}", refused.body);
        assert_eq!(app.files(release, &rm).await, ["a.txt", "b.txt", "demo.cdx.json"]);

        // Move, then delete, each a new revision on the one the page showed.
        let moved = app
            .post_form(&format!("{release}/move"), &rm, &format!("csrf={token}&parent=1&from=a.txt&to=docs/a.txt"))
            .await;
        assert_eq!(moved.status, StatusCode::SEE_OTHER, "{}", moved.body);
        assert_eq!(moved.headers[header::LOCATION], format!("{release}?done=moved"));
        assert_eq!(app.files(release, &rm).await, ["b.txt", "demo.cdx.json", "docs/a.txt"]);
        let deleted =
            app.post_form(&format!("{release}/delete"), &rm, &format!("csrf={token}&parent=2&path=b.txt")).await;
        assert_eq!(deleted.status, StatusCode::SEE_OTHER, "{}", deleted.body);
        let page = app.get(&format!("{release}?done=deleted"), Some(&rm)).await;
        assert!(
            page.body.contains("deleted in a new revision") && page.body.contains("<dd>00003</dd>"),
            "{}",
            page.body
        );
        assert_eq!(app.files(release, &rm).await, ["demo.cdx.json", "docs/a.txt"]);

        // Refused in words, changing nothing: a stale page, a path that is no path of a release,
        // a missing file, a form without the token, and a committer who is not offered the forms.
        let stale =
            app.post_form(&format!("{release}/delete"), &rm, &format!("csrf={token}&parent=2&path=docs/a.txt")).await;
        assert_eq!(stale.status, StatusCode::CONFLICT, "{}", stale.body);
        assert!(stale.body.contains("expected revision 00002 to be the latest, but it is 00003"), "{}", stale.body);
        let bad = app
            .post_form(&format!("{release}/move"), &rm, &format!("csrf={token}&parent=3&from=docs/a.txt&to=../a.txt"))
            .await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.body);
        assert!(bad.body.contains("New path") && bad.body.contains("../a.txt"), "{}", bad.body);
        let empty = app.post_form(&format!("{release}/delete"), &rm, &format!("csrf={token}&parent=3&path=")).await;
        assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(empty.body.contains("File: name a file of the release."), "{}", empty.body);
        let forged = app.post_form(&format!("{release}/delete"), &rm, "parent=3&path=docs/a.txt").await;
        assert_eq!(forged.status, StatusCode::FORBIDDEN);
        let page = app.get(release, Some(&dev)).await;
        assert!(!page.body.contains("id=\"delete-file\"") && !page.body.contains("id=\"move-file\""));
        assert!(!page.body.contains("<script"), "the script is served only with the upload form");
        let dev_token = app.token(release, &dev).await;
        let refused = app
            .post_form(&format!("{release}/delete"), &dev, &format!("csrf={dev_token}&parent=3&path=docs/a.txt"))
            .await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN);
        assert!(refused.body.contains("permission denied: manage_release"), "{}", refused.body);
        assert_eq!(app.files(release, &rm).await, ["demo.cdx.json", "docs/a.txt"]);
        assert!(app.get(release, Some(&rm)).await.body.contains("<dd>00003</dd>"));
        app.kit.finish().await;
    }
}

const FINGERPRINT: &str = "0123456789ABCDEF0123456789ABCDEF01234567";

fn release(version: &str) -> atr_core::model::ReleaseKey {
    atr_core::model::ReleaseKey::new(
        ProjectKey::parse("demo").unwrap(),
        None,
        atr_core::types::Version::parse(version).unwrap(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[expect(clippy::too_many_lines, reason = "three pages over one set of records, each checked in turn")]
async fn key_cve_and_task_pages_show_their_records() {
    use atr_core::model::{CveLink, CveRecord, Cvss, Severity, SigningKey};
    use atr_core::ports::KeyRepository;
    use atr_core::types::{CveId, Fingerprint, Timestamp};

    for kit in TestApp::all_with(config).await {
        let app = app(kit).await;
        app.kit.account("outsider", false).await;
        let rm = app.session("rm").await;
        let dev = app.session("dev").await;
        let outsider = app.session("outsider").await;
        let token = app.token("/projects/demo", &rm).await;
        for version in ["1.0.0", "1.0.1"] {
            let started =
                app.post_form("/projects/demo/releases", &rm, &format!("csrf={token}&version={version}")).await;
            assert_eq!(started.status, StatusCode::SEE_OTHER, "{}", started.body);
        }
        let (kind, body) = multipart(&token, "", "notes.txt", "hello");
        assert_eq!(app.upload("/projects/demo/releases/1.0.0", &rm, &kind, body).await.status, StatusCode::SEE_OTHER);

        // A key of the committee that signed 1.0.0.
        let sql = &app.kit.state.storage.sql;
        let fingerprint = Fingerprint::parse(FINGERPRINT).unwrap();
        let key = SigningKey {
            fingerprint: fingerprint.clone(),
            owner: Some(UserId::parse("rm").unwrap()),
            algorithm: "RSA".into(),
            bits: Some(4096),
            created_at: Timestamp::from_unix(1_700_000_000),
            expires_at: None,
            revoked: false,
            user_ids: vec!["Release Manager <rm@apache.org>".into()],
            armored: String::new(),
            committees: std::collections::BTreeSet::from([CommitteeKey::parse("demo").unwrap()]),
            added_at: Timestamp::from_unix(1_700_000_100),
        };
        KeyRepository::upsert(sql, &key).await.unwrap();
        KeyRepository::record_use(sql, &fingerprint, &release("1.0.0")).await.unwrap();
        // The release it signed is a draft: listed to its release manager, not to a visitor.
        let anonymous = app.get(&format!("/keys/{FINGERPRINT}"), None).await;
        assert_eq!(anonymous.status, StatusCode::OK, "{}", anonymous.body);
        assert!(anonymous.body.contains(FINGERPRINT) && !anonymous.body.contains("demo 1.0.0"), "{}", anonymous.body);
        let page = app.get(&format!("/keys/{FINGERPRINT}"), Some(&rm)).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        for shown in [
            FINGERPRINT,
            "<dd>89ABCDEF01234567</dd>",
            "RSA 4096 bits",
            "Release Manager &#60;rm@apache.org&#62;",
            "<dd>rm</dd>",
            "<dd>never</dd>",
            "href=\"/api/committees/demo/KEYS\"",
            "<a href=\"/projects/demo/releases/1.0.0\">demo 1.0.0</a>",
        ] {
            assert!(page.body.contains(shown), "{shown} is missing: {}", page.body);
        }
        assert!(!page.body.contains("1.0.1"), "only what the key signed is listed");
        // Lower case and spaces name the same key; a wrong or unknown fingerprint is a 404 in words.
        let spaced = "0123 4567 89ab cdef 0123 4567 89ab cdef 0123 4567".replace(' ', "%20");
        assert_eq!(app.get(&format!("/keys/{spaced}"), None).await.status, StatusCode::OK);
        let wrong = app.get("/keys/not-a-key", None).await;
        assert_eq!(wrong.status, StatusCode::NOT_FOUND);
        assert!(wrong.body.contains("40 or 64 hexadecimal digits"), "{}", wrong.body);
        let unknown = app.get(&format!("/keys/{}", "F".repeat(40)), None).await;
        assert_eq!(unknown.status, StatusCode::NOT_FOUND);
        assert!(unknown.body.contains("not found"), "{}", unknown.body);

        // A CVE affecting 1.0.0 and resolved by 1.0.1; both release pages link to it.
        let id = CveId::parse("CVE-2026-1234").unwrap();
        let record = CveRecord {
            id: id.clone(),
            title: "Demo overflow".into(),
            description: "A long header overflows a buffer.".into(),
            severity: Some(Severity::Important),
            cvss: Some(Cvss { score_tenths: 98, vector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H".into() }),
            references: vec!["https://example.org/advisory".into(), "mail thread of 2026-01-02".into()],
            published_at: None,
            affects: std::collections::BTreeSet::new(),
            resolved_by: std::collections::BTreeSet::new(),
        };
        let admin = app.kit.admin().await;
        let services = &app.kit.state.services;
        let at = atr_testkit::now();
        services.record_cve(&admin, &ProjectKey::parse("demo").unwrap(), record, at).await.unwrap();
        services.link_cve(&admin, &id, &release("1.0.0"), CveLink::Affects, at).await.unwrap();
        services.link_cve(&admin, &id, &release("1.0.1"), CveLink::Resolves, at).await.unwrap();
        // Both are drafts: a visitor sees the record without them, their release manager with.
        let anonymous = app.get("/cves/CVE-2026-1234", None).await;
        assert!(anonymous.body.contains("Demo overflow") && !anonymous.body.contains("demo/releases/1.0"));
        let page = app.get("/cves/CVE-2026-1234", Some(&rm)).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        let affects =
            &page.body[page.body.find("id=\"affects\"").unwrap()..page.body.find("id=\"resolved-by\"").unwrap()];
        assert!(affects.contains("href=\"/projects/demo/releases/1.0.0\"") && !affects.contains("1.0.1"), "{affects}");
        let resolved = &page.body[page.body.find("id=\"resolved-by\"").unwrap()..];
        assert!(resolved.contains("href=\"/projects/demo/releases/1.0.1\""), "{resolved}");
        for shown in ["Demo overflow", "important", "9.8 (CVSS:3.1/AV:N", "<a href=\"https://example.org/advisory\">"] {
            assert!(page.body.contains(shown), "{shown} is missing: {}", page.body);
        }
        assert!(
            page.body.contains("<li>mail thread of 2026-01-02</li>"),
            "a reference that is no address is not a link"
        );
        let affected = app.get("/projects/demo/releases/1.0.0", Some(&rm)).await;
        assert!(
            affected.body.contains("Affecting this release: <a href=\"/cves/CVE-2026-1234\">"),
            "{}",
            affected.body
        );
        let fixed = app.get("/projects/demo/releases/1.0.1", Some(&rm)).await;
        assert!(fixed.body.contains("Resolved by this release: <a href=\"/cves/CVE-2026-1234\">"), "{}", fixed.body);
        assert_eq!(app.get("/cves/CVE-2026-9999", None).await.status, StatusCode::NOT_FOUND);
        let wrong = app.get("/cves/1234", None).await;
        assert_eq!(wrong.status, StatusCode::NOT_FOUND);
        assert!(wrong.body.contains("CVE-2026-1234"), "the 404 says what an id looks like: {}", wrong.body);

        // The Analyze task of the upload: shown to a committer of the project, refused in words to
        // someone without a role and to nobody.
        let queued = app
            .kit
            .state
            .services
            .tasks(&admin, atr_core::model::TaskStatus::Queued, 10, atr_testkit::now())
            .await
            .unwrap();
        let task = queued.iter().find(|t| t.task.release == Some(release("1.0.0"))).expect("the upload's task");
        let url = format!("/tasks/{}", task.task.id);
        let page = app.get(&url, Some(&dev)).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        let attempts = format!("<dt>Attempts</dt><dd>0 of at most {}</dd>", task.task.max_attempts);
        for shown in [
            "<dt>Status</dt><dd>queued</dd>",
            "<dt>Kind</dt><dd>analyze</dd>",
            attempts.as_str(),
            "<dt>Started</dt><dd>not yet</dd>",
            "<dt>Revision</dt><dd>00001</dd>",
            "<a href=\"/projects/demo/releases/1.0.0\">demo 1.0.0</a>",
        ] {
            assert!(page.body.contains(shown), "{shown} is missing: {}", page.body);
        }
        let refused = app.get(&url, Some(&outsider)).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN);
        assert!(refused.body.contains("view_tasks") && !refused.body.contains("analyze"), "{}", refused.body);
        let anonymous = app.get(&url, None).await;
        assert!(anonymous.status.is_client_error() && anonymous.body.contains("view_tasks"), "{}", anonymous.body);
        assert_eq!(app.get("/tasks/999999", Some(&dev)).await.status, StatusCode::NOT_FOUND);
        assert_eq!(app.get("/tasks/abc", Some(&dev)).await.status, StatusCode::NOT_FOUND);
        app.kit.finish().await;
    }
}

/// The KEYS file of the Apache httpd 2.4.68 release: `ATR_HTTPD_FIXTURE`, or the workspace's
/// fixture folder.
fn httpd_keys() -> String {
    let dir = std::env::var_os("ATR_HTTPD_FIXTURE").map_or_else(
        || std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/fixtures/httpd-2.4.68"),
        std::path::PathBuf::from,
    );
    let path = dir.join("KEYS");
    let bytes = std::fs::read(&path).unwrap_or_else(|e| {
        panic!("the httpd KEYS file is missing at {} ({e}): run scripts/fetch-httpd-release.sh", path.display())
    });
    // A form sends text; the armored keys are ASCII whatever the comments around them are in.
    String::from_utf8_lossy(&bytes).into_owned()
}

/// `text` percent-encoded as a form value.
fn form_value(text: &str) -> String {
    use std::fmt::Write as _;
    text.bytes().fold(String::with_capacity(text.len() * 3), |mut out, b| {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
        out
    })
}

/// The rows of a policy table on the configuration page, as (setting, value, source).
fn policy_rows(body: &str, id: &str) -> Vec<(String, String, String)> {
    let at = body.find(&format!("<table id=\"{id}\">")).unwrap_or_else(|| panic!("no table {id}: {body}"));
    let table = &body[at..at + body[at..].find("</table>").unwrap()];
    table
        .split("<tr><th scope=\"row\">")
        .skip(1)
        .map(|row| {
            let cells: Vec<&str> = row.split("</t").collect();
            let name = cells[0].to_owned();
            let value = cells[1].rsplit('>').next().unwrap().to_owned();
            let source = cells[2].rsplit('>').next().unwrap().to_owned();
            (name, value, source)
        })
        .collect()
}

/// The project `demo` with a PMC member `pmc`, a home page, policy overrides of its own and of
/// its product `tools`, and a check ignore.
async fn configure(app: &App) {
    use atr_core::model::{CheckIgnore, Product};

    let sql = &app.kit.state.storage.sql;
    app.kit.account("pmc", false).await;
    let mut committee = CommitteeRepository::get(sql, &CommitteeKey::parse("demo").unwrap()).await.unwrap().unwrap();
    committee.pmc_members.insert(UserId::parse("pmc").unwrap());
    CommitteeRepository::put(sql, &committee).await.unwrap();
    let key = ProjectKey::parse("demo").unwrap();
    let mut project = ProjectRepository::get(sql, &key).await.unwrap().unwrap();
    project.metadata.homepage = Some("https://demo.example.org/".into());
    project.policy = PolicyOverrides { min_hours: Some(96), strict_checking: Some(true), ..PolicyOverrides::default() };
    project.products.push(Product {
        key: atr_core::types::ProductKey::parse("tools").unwrap(),
        metadata: Metadata { display_name: "Demo Tools".into(), ..Metadata::default() },
        policy: PolicyOverrides { min_hours: Some(120), ..PolicyOverrides::default() },
    });
    ProjectRepository::update(sql, &project).await.unwrap();
    let ignore = CheckIgnore {
        checker_glob: Some("license".into()),
        path_glob: Some("*.txt".into()),
        member_glob: Some("*/test/*".into()),
        status: Some(atr_core::model::CheckStatus::Warning),
        ..CheckIgnore::new(key.clone(), "text files need no header")
    };
    let added = atr_core::model::NewEvent::for_project(
        atr_core::types::Timestamp::from_unix(0),
        atr_core::model::Actor::System,
        &key,
        atr_core::model::EventKind::IgnoreAdded,
    );
    let change = atr_core::ports::Change::new().write(atr_core::ports::Write::AddIgnore(ignore)).event(added);
    atr_core::ports::UnitOfWork::commit(sql, change).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn configuration_page_shows_the_policy_in_force_with_its_source_and_imports_keys() {
    for kit in TestApp::all_with(HttpConfig::default).await {
        let app = app(kit).await;
        configure(&app).await;
        // Anyone reads the configuration; the values come with the level they come from.
        let project_page = app.get("/projects/demo", None).await;
        assert!(project_page.body.contains("href=\"/projects/demo/config\""));
        let page = app.get("/projects/demo/config", None).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        let main = policy_rows(&page.body, "policy-main");
        let row = |rows: &[(String, String, String)], name: &str| {
            rows.iter().find(|r| r.0 == name).cloned().unwrap_or_else(|| panic!("no row {name}: {rows:?}"))
        };
        assert_eq!(main.len(), 18, "{main:?}");
        assert_eq!(row(&main, "min hours"), ("min hours".into(), "96".into(), "project".into()));
        assert_eq!(row(&main, "strict checking"), ("strict checking".into(), "true".into(), "project".into()));
        assert_eq!(row(&main, "mode"), ("mode".into(), "email".into(), "foundation".into()));
        assert_eq!(row(&main, "pass rule").2, "foundation");
        assert!(row(&main, "pass rule").1.contains("min binding plus one: 3"), "{main:?}");
        let tools = policy_rows(&page.body, "policy-tools");
        assert_eq!(row(&tools, "min hours"), ("min hours".into(), "120".into(), "product".into()));
        assert_eq!(row(&tools, "strict checking").2, "project");
        for shown in [
            "https://demo.example.org/",
            "Demo Tools",
            "<dd id=\"release-managers\">rm</dd>",
            "<dd id=\"pmc-members\">pmc</dd>",
            "text files need no header",
            "member */test/*, status warning",
            "href=\"/api/committees/demo/KEYS\"",
            "No key yet.",
        ] {
            assert!(page.body.contains(shown), "{shown} is missing: {}", page.body);
        }
        assert!(!page.body.contains("id=\"import-keys\""), "nobody signed in is offered the import");
        // A release page shows the same resolution for the release, its own level included.
        let rm = app.session("rm").await;
        let token = app.token("/projects/demo", &rm).await;
        let started =
            app.post_form("/projects/demo/releases", &rm, &format!("csrf={token}&version=3.0.0&product=tools")).await;
        assert_eq!(started.status, StatusCode::SEE_OTHER, "{}", started.body);
        // The product's history holds its release, and the project's links to it.
        let product_history = app.get("/projects/demo/audit?product=tools", Some(&rm)).await;
        assert!(product_history.body.contains("History of demo, product tools"), "{}", product_history.body);
        assert!(product_history.body.contains("release started"), "{}", product_history.body);
        let whole = app.get("/projects/demo/audit", Some(&rm)).await.body;
        assert!(whole.contains("<a href=\"/projects/demo/audit?product=tools\">product tools</a>"), "{whole}");
        let release = app.get("/projects/demo/releases/3.0.0?product=tools", Some(&rm)).await;
        let rows = policy_rows(&release.body, "release-policy");
        assert_eq!(row(&rows, "min hours"), ("min hours".into(), "120".into(), "product".into()));
        assert_eq!(row(&rows, "strict checking").2, "project");
        assert_eq!(row(&rows, "checklist").2, "foundation");

        // A release manager may not manage the committee's keys: no form, and refused if posted.
        let page = app.get("/projects/demo/config", Some(&rm)).await;
        assert!(!page.body.contains("id=\"import-keys\""), "{}", page.body);
        let rm_token = app.token("/projects/demo", &rm).await;
        let keys = httpd_keys();
        let posted = format!("csrf={rm_token}&keys={}", form_value(&keys));
        let refused = app.post_form("/projects/demo/config/keys", &rm, &posted).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
        assert!(refused.body.contains("permission denied: manage_keys") && refused.body.contains("No key yet."));

        // A PMC member imports the KEYS file and reads what happened to each key.
        let pmc = app.session("pmc").await;
        let page = app.get("/projects/demo/config", Some(&pmc)).await;
        assert!(page.body.contains("id=\"import-keys\""), "{}", page.body);
        let token = app.token("/projects/demo/config", &pmc).await;
        let empty = app.post_form("/projects/demo/config/keys", &pmc, &format!("csrf={token}&keys=")).await;
        assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(empty.body.contains("KEYS: paste the text of a KEYS file."), "{}", empty.body);
        let forged = app.post_form("/projects/demo/config/keys", &pmc, &format!("keys={}", form_value(&keys))).await;
        assert_eq!(forged.status, StatusCode::FORBIDDEN);
        assert!(app.get("/projects/demo/config", None).await.body.contains("No key yet."));
        let imported = app
            .post_form("/projects/demo/config/keys", &pmc, &format!("csrf={token}&keys={}", form_value(&keys)))
            .await;
        assert_eq!(imported.status, StatusCode::OK, "{}", imported.body);
        assert!(imported.body.contains("41 key(s) added, 0 updated, 26 rejected."), "{}", imported.body);
        assert!(imported.body.contains("<h4>Rejected</h4>"), "{}", imported.body);
        let listed = app.get("/projects/demo/config", None).await;
        let at = listed.body.find("<table id=\"key-list\">").expect("the committee's keys");
        let table = &listed.body[at..at + listed.body[at..].find("</table>").unwrap()];
        assert_eq!(table.matches("<a href=\"/keys/").count(), 41, "{table}");
        // Again: every key is known now.
        let again = app
            .post_form("/projects/demo/config/keys", &pmc, &format!("csrf={token}&keys={}", form_value(&keys)))
            .await;
        assert!(again.body.contains("0 key(s) added, 41 updated"), "{}", again.body);
        app.kit.finish().await;
    }
}

const FPR: &str = "A93D62ECC3C8EA12DB220EC934EA76E6791485A8";

/// The site of [`app`] with a release, a signing key and a CVE record to find.
async fn search_site(kit: TestApp) -> App {
    use atr_core::model::{CveRecord, Release, ReleaseKey, SigningKey};
    use atr_core::ports::{CveRepository, KeyRepository, ReleaseRepository};
    use atr_core::types::{CveId, Fingerprint, Timestamp, Version};
    let app = app(kit).await;
    let sql = &app.kit.state.storage.sql;
    let key = ReleaseKey::new(ProjectKey::parse("demo").unwrap(), None, Version::parse("1.0.7").unwrap());
    let at = Timestamp::from_unix(1_750_000_000);
    let release = Release::new_draft(key, CommitteeKey::parse("demo").unwrap(), UserId::parse("rm").unwrap(), at);
    ReleaseRepository::create(sql, &release).await.unwrap();
    let signing_key = SigningKey {
        fingerprint: Fingerprint::parse(FPR).unwrap(),
        owner: Some(UserId::parse("rm").unwrap()),
        algorithm: "RSA".into(),
        bits: Some(4096),
        created_at: at,
        expires_at: None,
        revoked: false,
        user_ids: vec!["Rita Manager <rm@apache.org>".into()],
        armored: "-----BEGIN PGP PUBLIC KEY BLOCK-----".into(),
        committees: std::collections::BTreeSet::new(),
        added_at: at,
    };
    KeyRepository::upsert(sql, &signing_key).await.unwrap();
    let record = CveRecord {
        id: CveId::parse("CVE-2024-1234").unwrap(),
        title: "Demo <b>header</b> injection".into(),
        description: "Crafted headers reach the demo.".into(),
        severity: None,
        cvss: None,
        references: vec![],
        published_at: None,
        affects: std::collections::BTreeSet::new(),
        resolved_by: std::collections::BTreeSet::new(),
    };
    CveRepository::put(sql, &record).await.unwrap();

    app
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_page_finds_each_kind_with_links_and_words_refusals() {
    for kit in TestApp::all().await {
        let app = search_site(kit).await;
        // Every page has the box in its header, labelled, sent by GET without a script.
        let home = app.get("/", None).await;
        assert!(
            home.body.contains("<form class=\"search\" method=\"get\" action=\"/search\" role=\"search\"")
                && home.body.contains("<label for=\"site-search\">Search</label>")
                && home.body.contains("id=\"site-search\" name=\"q\" value=\"\""),
            "{}",
            home.body
        );
        // An empty query: the page and its help, no results.
        for path in ["/search", "/search?q=", "/search?q=+++"] {
            let empty = app.get(path, None).await;
            assert_eq!(empty.status, StatusCode::OK, "{path}");
            assert!(empty.body.contains("id=\"search-help\"") && !empty.body.contains("class=\"hits\""), "{path}");
        }

        // Each kind, linked to its page; the box keeps the text. The release is a draft, found
        // for its release manager and not for a visitor.
        let rm = app.session("rm").await;
        let visitor = app.get("/search?q=1.0", None).await;
        assert!(!visitor.body.contains("1.0.7"), "{}", visitor.body);
        let demo = app.get("/search?q=Demo", Some(&rm)).await;
        assert_eq!(demo.status, StatusCode::OK);
        assert!(demo.body.contains("value=\"Demo\""), "{}", demo.body);
        assert!(demo.body.contains("<ul class=\"hits\" id=\"projects\">"), "{}", demo.body);
        assert!(demo.body.contains("<a href=\"/projects/demo\">demo</a> <span class=\"label\">Demo Project</span>"));
        assert!(demo.body.contains("<a href=\"/projects/demo/releases/1.0.7\">demo 1.0.7</a>"), "{}", demo.body);
        assert!(demo.body.contains("<a href=\"/cves/CVE-2024-1234\">CVE-2024-1234</a>"), "{}", demo.body);
        // The CVE's title is escaped, never markup.
        assert!(
            demo.body.contains("Demo &#60;b&#62;header&#60;/b&#62; injection")
                || demo.body.contains("Demo &lt;b&gt;header")
        );
        let version = app.get("/search?q=1.0", Some(&rm)).await;
        assert!(version.body.contains("href=\"/projects/demo/releases/1.0.7\"") && version.body.contains("draft"));
        assert!(!version.body.contains("id=\"projects\""), "only the release matches 1.0: {}", version.body);
        let key_hit = format!(
            "<a href=\"/keys/{FPR}\">{FPR}</a> <span class=\"label\">Rita Manager &#60;rm@apache.org&#62;</span>"
        );
        for text in [FPR.to_lowercase(), FPR[24..].to_owned(), "rita".to_owned(), "rm%40apache.org".to_owned()] {
            let found = app.get(&format!("/search?q={text}"), None).await;
            assert!(
                found.body.contains(&key_hit)
                    || found.body.contains(&key_hit.replace("&#60;", "&lt;").replace("&#62;", "&gt;")),
                "{text}: {}",
                found.body
            );
            assert!(found.body.contains("<ul class=\"hits\" id=\"keys\">"), "{text}");
        }
        let cve = app.get("/search?q=cve-2024-1234", None).await;
        assert!(
            cve.body.contains("<ul class=\"hits\" id=\"cves\">") && cve.body.contains("href=\"/cves/CVE-2024-1234\"")
        );

        // Nothing found, said so; markup typed in is shown as text.
        let none = app.get("/search?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E", None).await;
        assert_eq!(none.status, StatusCode::OK);
        assert!(none.body.contains("id=\"no-results\"") && !none.body.contains("<script>"), "{}", none.body);
        // Query syntax and NUL are separators: still results.
        let hostile = app.get("/search?q=%22demo%22*%00%27%5C%3A%28%29%5E", None).await;
        assert_eq!(hostile.status, StatusCode::OK, "{}", hostile.body);
        assert!(hostile.body.contains("href=\"/projects/demo\""), "{}", hostile.body);
        // Too long, too many words, nothing to search for: the reason in words, nothing searched.
        for (q, words) in [
            ("x".repeat(201), "at most 200 are searched"),
            ("a b c d e f g h i".replace(' ', "+"), "at most 8 are searched"),
            ("%22*%3A%28%29".to_owned(), "no letter or digit"),
        ] {
            let refused = app.get(&format!("/search?q={q}"), None).await;
            assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{q}");
            assert!(
                refused.body.contains("id=\"search-error\"") && refused.body.contains(words),
                "{q}: {}",
                refused.body
            );
            assert!(!refused.body.contains("class=\"hits\""));
        }

        app.kit.finish().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_in_the_api_answers_each_kind_by_its_identity() {
    for kit in TestApp::all().await {
        let app = search_site(kit).await;
        // The same search in the JSON API, one hit of each kind; the draft only for whom may
        // read it.
        let anonymous = app.kit.get("/api/search?q=demo&limit=1", Auth::Nobody).await;
        let kinds: Vec<String> =
            anonymous.expect(200_u16).as_array().unwrap().iter().map(|h| h["kind"].to_string()).collect();
        assert_eq!(kinds, ["\"project\"", "\"cve\""]);
        let rm = app.kit.sign_in("rm").await;
        let answer = app.kit.get("/api/search?q=demo&limit=1", Auth::Session(&rm)).await;
        let hits = answer.expect(200_u16).as_array().unwrap().clone();
        let kinds: Vec<&str> = hits.iter().map(|h| h["kind"].as_str().unwrap()).collect();
        assert_eq!(kinds, ["project", "release", "cve"], "{hits:?}");
        assert_eq!((hits[0]["project"].as_str(), hits[0]["label"].as_str()), (Some("demo"), Some("Demo Project")));
        assert_eq!(hits[1]["release"], serde_json::json!({ "project": "demo", "product": null, "version": "1.0.7" }));
        assert_eq!((hits[1]["label"].as_str(), hits[2]["cve"].as_str()), (Some("draft"), Some("CVE-2024-1234")));
        let key = app.kit.get(&format!("/api/search?q={}", &FPR[24..]), Auth::Nobody).await;
        assert_eq!(key.expect(200_u16)[0]["fingerprint"], FPR);
        let refused = app.kit.get("/api/search?q=%22%2A%3A", Auth::Nobody).await;
        assert_eq!((refused.status.as_u16(), refused.code()), (422, "invalid"), "{}", refused.text);
        assert!(refused.message().starts_with("q: ") && refused.message().contains("no letter or digit"));
        let missing = app.kit.get("/api/search", Auth::Nobody).await;
        assert_eq!(missing.status.as_u16(), 400, "{}", missing.text);
        app.kit.finish().await;
    }
}
