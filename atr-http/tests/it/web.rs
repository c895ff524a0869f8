//! The web pages over HTTP, on every database engine: security headers, the stylesheet's
//! caching, the 404 page, form tokens, refusals shown in words that change nothing, uploads
//! through the form, and download folders answered by `Accept`.

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
async fn pages_protect_forms_and_refuse_in_words() {
    for kit in TestApp::all_with(config).await {
        let app = app(kit).await;

        // The directory: security headers, a form cookie for a new browser, the project listed.
        let home = app.get("/", None).await;
        assert_eq!(home.status, StatusCode::OK);
        let csp = home.headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
        assert!(csp.contains("frame-ancestors 'none'") && !csp.contains("script-src"), "{csp}");
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

        // Each kind, linked to its page; the box keeps the text.
        let demo = app.get("/search?q=Demo", None).await;
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
        let version = app.get("/search?q=1.0", None).await;
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
        // The same search in the JSON API, one hit of each kind.
        let answer = app.kit.get("/api/search?q=demo&limit=1", Auth::Nobody).await;
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
