//! Which release a stage serves, `latest`, sub-products, and the caching policy of each stage.

use axum::http::StatusCode;

use super::{Site, assert_error, etag_of, release_key};

#[tokio::test]
async fn latest_redirects_to_the_newest_version_by_version_order_not_upload_order() {
    let site = Site::new().await;
    // 2.4.68 is uploaded first; 2.4.9 later, and sorts after it as text: neither may win.
    site.current(&release_key("httpd", None, "2.4.68"), &[("README", b"68")]).await;
    site.current(&release_key("httpd", None, "2.4.9"), &[("README", b"9")]).await;
    // A newer version in another stage does not count.
    let candidate = release_key("httpd", None, "2.5.0");
    site.draft(&candidate, &[("README", b"250")]).await;
    site.start_vote(&candidate, atr_core::model::RevisionNumber::FIRST).await;

    let reply = site.fetch("/current/httpd/latest/README").await;
    assert_eq!(reply.status, StatusCode::TEMPORARY_REDIRECT, "{reply:?}");
    assert_eq!(reply.header("location"), "/current/httpd/2.4.68/README");
    assert_eq!(reply.header("cache-control"), "public, max-age=60");
    let followed = site.fetch(reply.header("location")).await;
    assert_eq!(followed.body.as_ref(), b"68");

    let folder = site.fetch("/current/httpd/latest/").await;
    assert_eq!(folder.header("location"), "/current/httpd/2.4.68/");
    let candidate = site.fetch("/candidate/httpd/latest/README").await;
    assert_eq!(candidate.header("location"), "/candidate/httpd/2.5.0/README");

    // No release in the stage: 404, not a redirect.
    let none = site.fetch("/revoked/httpd/latest/README").await;
    assert_error(&none, StatusCode::NOT_FOUND, "not_found");
}

#[tokio::test]
async fn a_sub_product_has_its_own_coordinates_and_latest() {
    let site = Site::new().await;
    site.current(&release_key("tomcat", Some("server"), "11.0.0"), &[("bin/server.zip", b"server 11")]).await;
    site.current(&release_key("tomcat", None, "10.1.0"), &[("tomcat.zip", b"main 10.1")]).await;

    let reply = site.fetch("/current/tomcat/server/11.0.0/bin/server.zip").await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    assert_eq!(reply.body.as_ref(), b"server 11");
    assert_eq!(reply.header("content-type"), "application/zip");
    let latest = site.fetch("/current/tomcat/server/latest/bin/server.zip").await;
    assert_eq!(latest.header("location"), "/current/tomcat/server/11.0.0/bin/server.zip");
    let main = site.fetch("/current/tomcat/latest/tomcat.zip").await;
    assert_eq!(main.header("location"), "/current/tomcat/10.1.0/tomcat.zip");
    assert_eq!(site.fetch("/current/tomcat/10.1.0/tomcat.zip").await.body.as_ref(), b"main 10.1");
    // The main product has no 11.0.0, and the product no 10.1.0.
    assert_error(&site.fetch("/current/tomcat/11.0.0/bin/server.zip").await, StatusCode::NOT_FOUND, "not_found");
    assert_error(&site.fetch("/current/tomcat/server/10.1.0/tomcat.zip").await, StatusCode::NOT_FOUND, "not_found");
}

#[tokio::test]
async fn each_stage_has_its_cache_policy_and_a_revoked_release_is_marked() {
    let site = Site::new().await;
    let current = release_key("httpd", None, "2.4.68");
    let candidate = release_key("httpd", None, "2.4.70");
    let revoked = release_key("httpd", None, "2.4.60");
    site.current(&current, &[("a.tar.gz", b"current")]).await;
    site.draft(&candidate, &[("a.tar.gz", b"candidate")]).await;
    site.start_vote(&candidate, atr_core::model::RevisionNumber::FIRST).await;
    site.current(&revoked, &[("a.tar.gz", b"revoked")]).await;
    site.revoke(&revoked, "CVE-2025-0001:\r\nSet-Cookie: session=stolen\u{7} see\tthe advisory").await;

    let reply = site.fetch("/current/httpd/2.4.68/a.tar.gz").await;
    assert_eq!(reply.header("cache-control"), "public, max-age=31536000, immutable");
    assert_eq!(reply.header("x-atr-revoked"), "");

    let reply = site.fetch("/candidate/httpd/2.4.70/a.tar.gz").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body.as_ref(), b"candidate");
    assert_eq!(reply.header("cache-control"), "public, max-age=300");
    assert_eq!(reply.header("x-atr-revoked"), "");

    let reply = site.fetch("/revoked/httpd/2.4.60/a.tar.gz").await;
    assert_eq!(reply.status, StatusCode::OK, "a revoked release stays downloadable");
    assert_eq!(reply.body.as_ref(), b"revoked");
    assert_eq!(reply.header("cache-control"), "public, max-age=3600");
    assert_eq!(reply.header("x-atr-revoked"), "true");
    // The reason is one line of printable text: no header can be smuggled in.
    assert_eq!(reply.header("x-atr-revoked-reason"), "CVE-2025-0001: Set-Cookie: session=stolen see the advisory");
    assert!(reply.headers.get("set-cookie").is_none());
    // The marking is on listings, 304s and HEADs too.
    let listing = site.fetch("/revoked/httpd/2.4.60/").await;
    assert_eq!((listing.header("x-atr-revoked"), listing.header("cache-control")), ("true", "public, max-age=3600"));
    let cached = site.fetch_with("/revoked/httpd/2.4.60/a.tar.gz", &[("if-none-match", &etag_of(b"revoked"))]).await;
    assert_eq!((cached.status, cached.header("x-atr-revoked")), (StatusCode::NOT_MODIFIED, "true"));

    // A listing of a current release is as immutable as its files.
    let listing = site.fetch("/current/httpd/2.4.68/").await;
    assert_eq!(listing.header("cache-control"), "public, max-age=31536000, immutable");
}

#[tokio::test]
async fn a_long_revocation_reason_is_cut() {
    let site = Site::new().await;
    let revoked = release_key("httpd", None, "2.4.60");
    site.current(&revoked, &[("a.tar.gz", b"revoked")]).await;
    site.revoke(&revoked, &"withdrawn ".repeat(100)).await;
    let reply = site.fetch("/revoked/httpd/2.4.60/a.tar.gz").await;
    let reason = reply.header("x-atr-revoked-reason");
    assert!(reason.len() <= 256 && reason.starts_with("withdrawn withdrawn") && reason.ends_with("..."), "{reason}");
}

#[tokio::test]
async fn a_release_is_served_only_under_its_own_stage() {
    let site = Site::new().await;
    let revoked = release_key("httpd", None, "2.4.60");
    let current = release_key("httpd", None, "2.4.68");
    site.current(&revoked, &[("a.tar.gz", b"revoked")]).await;
    site.revoke(&revoked, "security").await;
    site.current(&current, &[("a.tar.gz", b"current")]).await;

    // Revoked is not current any more, and current is not revoked.
    let body = assert_error(&site.fetch("/current/httpd/2.4.60/a.tar.gz").await, StatusCode::NOT_FOUND, "not_found");
    assert_eq!(body["error"]["details"]["stage"], "revoked", "{body}");
    assert_error(&site.fetch("/revoked/httpd/2.4.68/a.tar.gz").await, StatusCode::NOT_FOUND, "not_found");
    assert_error(&site.fetch("/candidate/httpd/2.4.68/a.tar.gz").await, StatusCode::NOT_FOUND, "not_found");
    // `latest` of current skips the revoked release even if it were newer.
    let newest = release_key("httpd", None, "2.4.99");
    site.current(&newest, &[("a.tar.gz", b"newest")]).await;
    site.revoke(&newest, "broken").await;
    assert_eq!(site.fetch("/current/httpd/latest/a.tar.gz").await.header("location"), "/current/httpd/2.4.68/a.tar.gz");
    assert_eq!(site.fetch("/revoked/httpd/latest/a.tar.gz").await.header("location"), "/revoked/httpd/2.4.99/a.tar.gz");
}

#[tokio::test]
async fn a_draft_or_preview_is_never_served() {
    let site = Site::new().await;
    let draft = release_key("httpd", None, "2.5.0");
    site.draft(&draft, &[("a.tar.gz", b"draft")]).await;
    let preview = release_key("httpd", None, "2.4.70");
    site.draft(&preview, &[("a.tar.gz", b"preview")]).await;
    site.change(&preview, |r| r.phase = atr_core::model::Phase::Preview).await;
    for version in ["2.5.0", "2.4.70"] {
        for stage in ["candidate", "current", "revoked"] {
            let reply = site.fetch(&format!("/{stage}/httpd/{version}/a.tar.gz")).await;
            let body = assert_error(&reply, StatusCode::NOT_FOUND, "not_found");
            // Not even the phase is told.
            assert!(body["error"]["details"].get("stage").is_none(), "{body}");
            let listing = site.fetch(&format!("/{stage}/httpd/{version}/")).await;
            assert_error(&listing, StatusCode::NOT_FOUND, "not_found");
        }
        let latest = site.fetch("/candidate/httpd/latest/a.tar.gz").await;
        assert_error(&latest, StatusCode::NOT_FOUND, "not_found");
    }
    // A draft revoked before any vote published nothing, so it serves nothing.
    site.revoke(&draft, "abandoned").await;
    assert_error(&site.fetch("/revoked/httpd/2.5.0/a.tar.gz").await, StatusCode::NOT_FOUND, "not_found");
}

#[tokio::test]
async fn a_candidate_serves_the_revision_under_vote() {
    let site = Site::new().await;
    let key = release_key("httpd", None, "2.4.70");
    site.draft(&key, &[("a.tar.gz", b"voted bytes")]).await;
    // A later revision exists, but the vote is on the first one.
    site.revise(&key, &[("a.tar.gz", b"later bytes"), ("extra.txt", b"later")]).await;
    site.start_vote(&key, atr_core::model::RevisionNumber::FIRST).await;
    let reply = site.fetch("/candidate/httpd/2.4.70/a.tar.gz").await;
    assert_eq!(reply.body.as_ref(), b"voted bytes");
    assert_error(&site.fetch("/candidate/httpd/2.4.70/extra.txt").await, StatusCode::NOT_FOUND, "not_found");
    let listing = site.fetch("/candidate/httpd/2.4.70/").await.json();
    assert_eq!(listing["revision"], "00001");
}
