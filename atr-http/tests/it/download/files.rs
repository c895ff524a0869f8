//! Serving one file: bytes, headers, validators, conditional requests, ranges, `HEAD`, size.

use axum::http::{Method, StatusCode};

use super::{Site, etag_of, noise, release_key, sha512_hex};

const TARBALL: &str = "/current/httpd/2.4.68/httpd-2.4.68.tar.gz";

/// A site with `httpd 2.4.68` released: a tarball, its signature and checksum.
async fn site() -> (Site, Vec<u8>) {
    let site = Site::new().await;
    let tarball = noise(100_000, 7);
    let checksum = format!("{}  httpd-2.4.68.tar.gz\n", sha512_hex(&tarball));
    site.current(
        &release_key("httpd", None, "2.4.68"),
        &[
            ("httpd-2.4.68.tar.gz", &tarball),
            ("httpd-2.4.68.tar.gz.asc", b"-----BEGIN PGP SIGNATURE-----\n"),
            ("httpd-2.4.68.tar.gz.sha512", checksum.as_bytes()),
        ],
    )
    .await;
    (site, tarball)
}

#[tokio::test]
async fn a_released_file_is_served_with_its_bytes_length_type_and_tag() {
    let (site, tarball) = site().await;
    let reply = site.fetch(TARBALL).await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    assert_eq!(reply.body, tarball);
    assert_eq!(reply.header("content-length"), "100000");
    assert_eq!(reply.header("content-type"), "application/gzip");
    assert_eq!(reply.header("etag"), etag_of(&tarball));
    assert_eq!(reply.header("accept-ranges"), "bytes");
    assert_eq!(reply.header("x-content-type-options"), "nosniff");
    assert!(reply.header("content-security-policy").contains("sandbox"));
    let modified = httpdate::parse_http_date(reply.header("last-modified")).expect("an HTTP date");
    let age = std::time::SystemTime::now().duration_since(modified).unwrap_or_default();
    assert!(age.as_secs() < 3600, "the file was written just now: {modified:?}");
    // No release state leaks into a sound release's answer.
    assert_eq!(reply.header("x-atr-revoked"), "");

    let signature = site.fetch("/current/httpd/2.4.68/httpd-2.4.68.tar.gz.asc").await;
    assert_eq!(signature.status, StatusCode::OK);
    assert_eq!(signature.header("content-type"), "application/pgp-signature");
    assert_eq!(signature.body.as_ref(), b"-----BEGIN PGP SIGNATURE-----\n");
    let checksum = site.fetch("/current/httpd/2.4.68/httpd-2.4.68.tar.gz.sha512").await;
    assert_eq!(checksum.header("content-type"), "text/plain; charset=utf-8");
    assert!(std::str::from_utf8(&checksum.body).unwrap().starts_with(&sha512_hex(&tarball)));
    // Each file has its own tag.
    assert_eq!(checksum.header("etag"), etag_of(&checksum.body));
}

#[tokio::test]
async fn a_matching_if_none_match_gives_304_without_a_body() {
    let (site, tarball) = site().await;
    let etag = etag_of(&tarball);
    let hits = [etag.clone(), format!("\"other\", {etag}"), format!("W/{etag}"), "*".to_owned()];
    for condition in &hits {
        let reply = site.fetch_with(TARBALL, &[("if-none-match", condition)]).await;
        assert_eq!(reply.status, StatusCode::NOT_MODIFIED, "{condition}: {reply:?}");
        assert!(reply.body.is_empty());
        assert_eq!(reply.header("etag"), etag);
        assert_eq!(reply.header("cache-control"), "public, max-age=31536000, immutable");
        // A 304 may only repeat the length of the file, never announce an empty one.
        assert_eq!(reply.header("content-length"), "100000");
    }
    let stale = site.fetch_with(TARBALL, &[("if-none-match", "\"sha512-00\"")]).await;
    assert_eq!(stale.status, StatusCode::OK);
    assert_eq!(stale.body, tarball);

    // A date at or after the file's last change is a hit too, but only without If-None-Match.
    let date = site.fetch(TARBALL).await.header("last-modified").to_owned();
    let reply = site.fetch_with(TARBALL, &[("if-modified-since", &date)]).await;
    assert_eq!(reply.status, StatusCode::NOT_MODIFIED);
    let reply = site.fetch_with(TARBALL, &[("if-modified-since", &date), ("if-none-match", "\"x\"")]).await;
    assert_eq!(reply.status, StatusCode::OK);
}

#[tokio::test]
async fn a_single_byte_range_gives_206_and_a_range_past_the_end_gives_416() {
    let (site, tarball) = site().await;
    let cases: [(&str, std::ops::Range<usize>); 4] = [
        ("bytes=0-9", 0..10),
        ("bytes=99990-", 99_990..100_000),
        ("bytes=-16", 99_984..100_000),
        ("bytes=50000-50000", 50_000..50_001),
    ];
    for (range, expected) in cases {
        let reply = site.fetch_with(TARBALL, &[("range", range)]).await;
        assert_eq!(reply.status, StatusCode::PARTIAL_CONTENT, "{range}: {reply:?}");
        assert_eq!(reply.body, tarball[expected.clone()], "{range}");
        assert_eq!(reply.header("content-length"), expected.len().to_string());
        let content_range = format!("bytes {}-{}/100000", expected.start, expected.end - 1);
        assert_eq!(reply.header("content-range"), content_range);
        assert_eq!(reply.header("etag"), etag_of(&tarball));
    }
    // Past the end: 416 with the file's length.
    for range in ["bytes=100000-", "bytes=200000-300000", "bytes=-0"] {
        let reply = site.fetch_with(TARBALL, &[("range", range)]).await;
        assert_eq!(reply.status, StatusCode::RANGE_NOT_SATISFIABLE, "{range}: {reply:?}");
        assert_eq!(reply.header("content-range"), "bytes */100000");
        assert!(reply.body.is_empty());
        // An answer about the file, not an error: the file's policy, not `no-store`.
        assert_eq!(reply.header("cache-control"), "public, max-age=31536000, immutable");
    }
    // Several ranges, or a range for another version of the file: the whole file.
    let several = site.fetch_with(TARBALL, &[("range", "bytes=0-1,5-6")]).await;
    assert_eq!((several.status, several.body.len()), (StatusCode::OK, 100_000));
    let outdated = site.fetch_with(TARBALL, &[("range", "bytes=0-9"), ("if-range", "\"sha512-00\"")]).await;
    assert_eq!((outdated.status, outdated.body.len()), (StatusCode::OK, 100_000));
    let current = site.fetch_with(TARBALL, &[("range", "bytes=0-9"), ("if-range", &etag_of(&tarball))]).await;
    assert_eq!((current.status, current.body.len()), (StatusCode::PARTIAL_CONTENT, 10));
}

#[tokio::test]
async fn head_has_the_headers_of_get_and_no_body() {
    let (site, tarball) = site().await;
    let get = site.fetch(TARBALL).await;
    let head = site.send(Method::HEAD, TARBALL, &[]).await;
    assert_eq!(head.status, StatusCode::OK);
    assert!(head.body.is_empty());
    for name in ["content-length", "content-type", "etag", "last-modified", "cache-control", "accept-ranges"] {
        assert!(!get.header(name).is_empty(), "{name}");
        assert_eq!(head.header(name), get.header(name), "{name}");
    }
    assert_eq!(head.header("content-length"), tarball.len().to_string());
    let ranged = site.send(Method::HEAD, TARBALL, &[("range", "bytes=0-99")]).await;
    assert_eq!(ranged.status, StatusCode::PARTIAL_CONTENT);
    assert_eq!((ranged.header("content-length"), ranged.body.len()), ("100", 0));
    let conditional = site.send(Method::HEAD, TARBALL, &[("if-none-match", &etag_of(&tarball))]).await;
    assert_eq!(conditional.status, StatusCode::NOT_MODIFIED);
}

#[tokio::test]
async fn a_large_file_streams_intact() {
    let site = Site::new().await;
    let big = noise(8 * 1024 * 1024 + 123, 11);
    site.current(&release_key("httpd", None, "2.4.1"), &[("httpd-2.4.1.tar.bz2", &big)]).await;
    let reply = site.fetch("/current/httpd/2.4.1/httpd-2.4.1.tar.bz2").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.header("content-length"), big.len().to_string());
    assert_eq!(reply.body.len(), big.len());
    assert_eq!(sha512_hex(&reply.body), sha512_hex(&big));
    assert_eq!(reply.header("etag"), etag_of(&big));
    // A range across chunk boundaries deep in the file.
    let start = 5 * 1024 * 1024 - 17;
    let end = start + 200_000;
    let range = format!("bytes={start}-{}", end - 1);
    let part = site.fetch_with("/current/httpd/2.4.1/httpd-2.4.1.tar.bz2", &[("range", &range)]).await;
    assert_eq!(part.status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(part.body, big[start..end]);
}
