//! A release's source repository and commit: set and cleared by a release manager before the
//! vote, with the checks of the latest revision queued again in the same change.

use axum::http::StatusCode;
use serde_json::json;

use super::sites;

const COMMIT: &str = "6c1e3c5a1a0e4d6a8f0b2c3d4e5f60718293a4b5";

#[tokio::test]
async fn the_source_is_set_with_the_checks_queued_again_and_refused_when_wrong() {
    for site in sites().await {
        let uri = "/api/projects/demo/releases/1.0.0/source";
        let body = json!({ "repository": "https://github.com/apache/demo.git", "commit": COMMIT, "tag": "v1.0.0" });
        let set = site.put(uri, Some("pmc"), body.clone()).await;
        let set = set.expect(StatusCode::OK).clone();
        assert_eq!(set["release"]["source"], body, "{set}");
        // The upload's Analyze task of revision 1 was still queued: the same work is not queued twice.
        assert_eq!(set["analyze_task"]["id"], site.analyze_task, "{set}");
        assert_eq!(set["analyze_task"]["descriptor"]["args"]["revision"], 1, "{set}");
        let release = site.get("/api/projects/demo/releases/1.0.0", Some("pmc")).await;
        assert_eq!(release.expect(StatusCode::OK)["release"]["source"]["commit"], COMMIT);
        let events = site.get("/api/events?project=demo&version=1.0.0", Some("pmc")).await;
        let events = events.expect(StatusCode::OK).to_string();
        assert!(events.contains(&format!(r#""commit":"{COMMIT}""#)), "{events}");

        // Refusals name the field, and store nothing.
        let bad = site.put(uri, Some("pmc"), json!({ "repository": "ext::sh -c id", "commit": COMMIT })).await;
        assert_eq!(bad.expect(StatusCode::UNPROCESSABLE_ENTITY)["error"]["details"]["field"], "repository");
        let secret = json!({ "repository": "https://rm:hunter2@github.com/a/b", "commit": COMMIT });
        let secret = site.put(uri, Some("pmc"), secret).await;
        assert!(!secret.expect(StatusCode::UNPROCESSABLE_ENTITY).to_string().contains("hunter2"));
        let short = site.put(uri, Some("pmc"), json!({ "repository": "https://h/r", "commit": "6c1e3c5" })).await;
        assert_eq!(short.expect(StatusCode::UNPROCESSABLE_ENTITY)["error"]["details"]["field"], "commit");
        let extra = json!({ "repository": "https://h/r", "commit": COMMIT, "branch": "main" });
        site.put(uri, Some("pmc"), extra).await.expect(StatusCode::UNPROCESSABLE_ENTITY);
        site.put(uri, None, body.clone()).await.expect(StatusCode::UNAUTHORIZED);
        let committer = site.put(uri, Some("committer"), body.clone()).await;
        assert_eq!(committer.expect(StatusCode::FORBIDDEN)["error"]["details"]["activity"], "manage_release");
        let missing = site.put("/api/projects/demo/releases/9.9.9/source", Some("pmc"), body.clone()).await;
        missing.expect(StatusCode::NOT_FOUND);
        let release = site.get("/api/projects/demo/releases/1.0.0", Some("pmc")).await;
        assert_eq!(
            release.expect(StatusCode::OK)["release"]["source"]["repository"],
            "https://github.com/apache/demo.git"
        );

        let cleared = site.delete(uri, Some("pmc")).await;
        let cleared = cleared.expect(StatusCode::OK);
        assert!(cleared["release"].get("source").is_none(), "{cleared}");
        site.finish().await;
    }
}
