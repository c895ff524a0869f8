//! Paths: refused segments, what is missing, folder listings, and the routes taken.

use atr_http::{AppState, HttpConfig};
use axum::http::StatusCode;
use tower::ServiceExt;

use super::{Site, assert_error, release_key, sha512_hex};

async fn site() -> Site {
    let site = Site::new().await;
    site.current(
        &release_key("httpd", None, "2.4.68"),
        &[
            ("httpd-2.4.68.tar.gz", b"tarball"),
            ("httpd-2.4.68.tar.gz.asc", b"signature"),
            ("docs/manual/index.html", b"<html>"),
            ("docs/README.txt", b"read me"),
            ("binaries/win64/httpd.zip", b"zip"),
        ],
    )
    .await;
    site
}

#[tokio::test]
async fn missing_things_are_404_json_naming_what_is_missing() {
    let site = site().await;
    let cases = [
        ("/current/nosuch/1.0/a.tar.gz", "project", "nosuch"),
        ("/current/httpd/9.9.9/a.tar.gz", "release", "httpd 9.9.9"),
        ("/current/httpd/2.4.68/nosuch.tar.gz", "file", "nosuch.tar.gz"),
        ("/current/httpd/2.4.68/nosuch/", "folder", "nosuch/"),
    ];
    for (path, missing, named) in cases {
        let reply = site.fetch(path).await;
        let body = assert_error(&reply, StatusCode::NOT_FOUND, "not_found");
        assert_eq!(body["error"]["details"]["missing"], missing, "{path}: {body}");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains(named), "{path}: {message}");
    }
    // A folder asked for as a file says how to list it.
    let reply = site.fetch("/current/httpd/2.4.68/docs").await;
    let body = assert_error(&reply, StatusCode::NOT_FOUND, "not_found");
    assert_eq!(body["error"]["details"]["folder"], "docs/", "{body}");
    // HEAD of a missing file: the same status and headers.
    let head = site.send(axum::http::Method::HEAD, "/current/httpd/2.4.68/nosuch.tar.gz", &[]).await;
    assert_eq!((head.status, head.header("cache-control"), head.body.len()), (StatusCode::NOT_FOUND, "no-store", 0));
}

#[tokio::test]
async fn invalid_segments_are_400() {
    let site = site().await;
    for path in [
        "/current/httpd/2.4.68/../2.4.68/httpd-2.4.68.tar.gz",
        "/current/httpd/2.4.68/docs/../httpd-2.4.68.tar.gz",
        "/current/httpd/2.4.68/%2e%2e/httpd-2.4.68.tar.gz",
        "/current/httpd/2.4.68/.htaccess",
        "/current/httpd/2.4.68/docs/.hidden/",
        "/current/httpd/2.4.68/docs%2FREADME.txt",
        "/current/httpd/2.4.68/docs%2freadme.txt",
        "/current/httpd/2.4.68/a%5cb",
        "/current/httpd/2.4.68/a%00b",
        "/current/httpd/2.4.68//httpd-2.4.68.tar.gz",
        "/current/httpd/2.4.68/docs//",
        "/current/HTTPD/2.4.68/httpd-2.4.68.tar.gz",
        "/current/httpd/2..4/httpd-2.4.68.tar.gz",
        "/current/httpd/2.4.68",
        "/current/httpd/",
        "/current/",
    ] {
        let reply = site.fetch(path).await;
        let body = assert_error(&reply, StatusCode::BAD_REQUEST, "bad_request");
        assert!(body["error"]["message"].as_str().unwrap().starts_with("invalid download path"), "{path}: {body}");
    }
    let deep = format!("/current/httpd/2.4.68/{}a", "d/".repeat(20));
    assert_error(&site.fetch(&deep).await, StatusCode::BAD_REQUEST, "bad_request");
    let long = format!("/current/httpd/2.4.68/{}", "a".repeat(3000));
    assert_error(&site.fetch(&long).await, StatusCode::URI_TOO_LONG, "uri_too_long");
    // A percent-encoded ordinary character is just that character.
    let encoded = site.fetch("/current/httpd/2.4.68/httpd%2D2.4.68.tar.gz").await;
    assert_eq!((encoded.status, encoded.body.as_ref()), (StatusCode::OK, b"tarball".as_slice()));
}

#[tokio::test]
async fn a_path_ending_in_a_slash_lists_the_folder() {
    let site = site().await;
    let reply = site.fetch("/current/httpd/2.4.68/").await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    let listing = reply.json();
    assert_eq!(listing["release"]["project"], "httpd");
    assert_eq!(listing["release"]["product"], serde_json::Value::Null);
    assert_eq!(listing["release"]["version"], "2.4.68");
    assert_eq!(listing["release"]["stage"], "current");
    assert_eq!(listing["revision"], "00001");
    assert_eq!(listing["path"], "");
    let entries = listing["entries"].as_array().unwrap();
    let names: Vec<_> = entries.iter().map(|e| (e["name"].as_str().unwrap(), e["type"].as_str().unwrap())).collect();
    assert_eq!(
        names,
        [
            ("binaries", "folder"),
            ("docs", "folder"),
            ("httpd-2.4.68.tar.gz", "file"),
            ("httpd-2.4.68.tar.gz.asc", "file")
        ]
    );
    assert_eq!(entries[2]["size"], 7);
    assert_eq!(entries[2]["sha512"], sha512_hex(b"tarball"));
    assert_eq!(entries[1]["size"], 13, "a folder's size is the total of its files");
    assert_eq!(entries[1]["sha512"], serde_json::Value::Null);

    let docs = site.fetch("/current/httpd/2.4.68/docs/").await.json();
    assert_eq!(docs["path"], "docs/");
    let names: Vec<_> = docs["entries"].as_array().unwrap().iter().map(|e| e["name"].clone()).collect();
    assert_eq!(names, ["README.txt", "manual"]);
    let deep = site.fetch("/current/httpd/2.4.68/binaries/win64/").await.json();
    assert_eq!(deep["entries"][0]["name"], "httpd.zip");
    assert_eq!(deep["entries"][0]["sha512"], sha512_hex(b"zip"));

    // A file is not a folder.
    let file = site.fetch("/current/httpd/2.4.68/httpd-2.4.68.tar.gz/").await;
    assert_error(&file, StatusCode::NOT_FOUND, "not_found");
    // Listings are validated like files: the revision is their tag.
    let etag = site.fetch("/current/httpd/2.4.68/").await.header("etag").to_owned();
    assert!(!etag.is_empty());
    let cached = site.fetch_with("/current/httpd/2.4.68/", &[("if-none-match", &etag)]).await;
    assert_eq!((cached.status, cached.body.len()), (StatusCode::NOT_MODIFIED, 0));
    let head = site.send(axum::http::Method::HEAD, "/current/httpd/2.4.68/", &[]).await;
    assert_eq!(head.status, StatusCode::OK);
    assert!(head.body.is_empty());
    assert!(head.header("content-length").parse::<usize>().unwrap() > 100);
}

#[tokio::test]
async fn files_of_a_release_are_never_run_by_browsers() {
    let site = site().await;
    let reply = site.fetch("/current/httpd/2.4.68/docs/manual/index.html").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.header("content-type"), "text/html");
    assert_eq!(reply.header("x-content-type-options"), "nosniff");
    assert!(reply.header("content-security-policy").contains("sandbox"));
}

#[tokio::test]
async fn only_the_three_stages_are_taken() {
    let site = site().await;
    let downloads = atr_http::download::routes().with_state(AppState::new(site.storage.clone(), HttpConfig::default()));
    for path in ["/api/releases", "/draft/httpd/2.4.68/httpd-2.4.68.tar.gz", "/currentx/httpd/2.4.68/a", "/"] {
        let request = axum::http::Request::builder().uri(path).body(axum::body::Body::empty()).unwrap();
        let response = downloads.clone().oneshot(request).await.unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
        // The router's own "no route" answer, not a download error.
        assert!(response.headers().get("cache-control").is_none(), "{path}");
    }
    let request = axum::http::Request::builder().uri("/current/httpd/2.4.68/httpd-2.4.68.tar.gz");
    let response = downloads.oneshot(request.body(axum::body::Body::empty()).unwrap()).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}
