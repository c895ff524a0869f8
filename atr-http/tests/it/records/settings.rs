//! Project settings: the vote policy, metadata and products.

use atr_core::model::EventKind;
use atr_core::ports::{EventFilter, EventRepository, PageRequest, ProjectRepository};
use atr_core::types::{ProductKey, ProjectKey};
use axum::http::StatusCode;
use serde_json::json;

use super::sites;

fn demo() -> ProjectKey {
    ProjectKey::parse("demo").unwrap()
}

#[tokio::test]
async fn the_policy_is_validated_and_takes_effect() {
    for site in sites().await {
        let refused = site.put("/api/projects/demo/policy", Some("pmc"), json!({ "min_hours": 10 })).await;
        refused.expect(StatusCode::UNPROCESSABLE_ENTITY);
        assert!(refused.message().contains("min_hours"), "{}", refused.message());
        let unknown = site.put("/api/projects/demo/policy", Some("pmc"), json!({ "min_hourz": 96 })).await;
        unknown.expect(StatusCode::UNPROCESSABLE_ENTITY);
        site.put("/api/projects/demo/policy", None, json!({ "min_hours": 96 })).await.expect(StatusCode::UNAUTHORIZED);
        let committer = site.put("/api/projects/demo/policy", Some("committer"), json!({ "min_hours": 96 })).await;
        assert_eq!(committer.expect(StatusCode::FORBIDDEN)["error"]["details"]["activity"], "manage_policy");
        let project = site.get("/api/projects/demo", None).await;
        assert_eq!(project.expect(StatusCode::OK)["effective_vote_policy"]["min_hours"], 72);

        let set = site.put("/api/projects/demo/policy", Some("pmc"), json!({ "min_hours": 96 })).await;
        assert_eq!(set.expect(StatusCode::OK)["policy"]["min_hours"], 96);
        let project = site.get("/api/projects/demo", None).await;
        assert_eq!(project.expect(StatusCode::OK)["effective_vote_policy"]["min_hours"], 96);
        site.put("/api/projects/nothere/policy", Some("admin"), json!({})).await.expect(StatusCode::NOT_FOUND);
        site.put("/api/projects/Not_A_Key/policy", Some("admin"), json!({})).await.expect(StatusCode::BAD_REQUEST);
        site.finish().await;
    }
}

#[tokio::test]
async fn metadata_is_replaced_by_those_who_manage_it() {
    for site in sites().await {
        let metadata = json!({
            "display_name": "Apache Demo Server",
            "homepage": "https://demo.apache.org/",
            "description": null,
            "repository": null,
            "issue_tracker": null,
        });
        site.put("/api/projects/demo/metadata", None, metadata.clone()).await.expect(StatusCode::UNAUTHORIZED);
        let committer = site.put("/api/projects/demo/metadata", Some("committer"), metadata.clone()).await;
        assert_eq!(committer.expect(StatusCode::FORBIDDEN)["error"]["details"]["activity"], "manage_metadata");
        let bad = json!({ "display_name": "Demo", "homepage": "javascript:alert(1)" });
        let bad = site.put("/api/projects/demo/metadata", Some("pmc"), bad).await;
        bad.expect(StatusCode::UNPROCESSABLE_ENTITY);
        assert!(bad.message().contains("homepage"), "{}", bad.message());
        let stored = ProjectRepository::get(&site.state.storage.sql, &demo()).await.unwrap().unwrap();
        assert_eq!(stored.metadata.display_name, "Apache Demo");

        let done = site.put("/api/projects/demo/metadata", Some("pmc"), metadata).await;
        assert_eq!(done.expect(StatusCode::OK)["metadata"]["display_name"], "Apache Demo Server");
        let stored = ProjectRepository::get(&site.state.storage.sql, &demo()).await.unwrap().unwrap();
        assert_eq!(stored.metadata.display_name, "Apache Demo Server");
        assert_eq!(stored.metadata.homepage.as_deref(), Some("https://demo.apache.org/"));
        let filter = EventFilter::default();
        let events = EventRepository::list(&site.state.storage.sql, &filter, PageRequest::first(10));
        assert!(events.await.unwrap().iter().any(|e| e.event.kind == EventKind::MetadataChanged));
        site.finish().await;
    }
}

#[tokio::test]
async fn products_are_added_and_changed_but_never_named_like_a_version() {
    for site in sites().await {
        let server = json!({ "key": "server", "metadata": { "display_name": "Demo Server" } });
        site.post("/api/projects/demo/products", None, server.clone()).await.expect(StatusCode::UNAUTHORIZED);
        let committer = site.post("/api/projects/demo/products", Some("committer"), server.clone()).await;
        assert_eq!(committer.expect(StatusCode::FORBIDDEN)["error"]["details"]["activity"], "manage_metadata");

        let added = site.post("/api/projects/demo/products", Some("pmc"), server.clone()).await;
        assert_eq!(added.expect(StatusCode::CREATED)["key"], "server");
        let again = site.post("/api/projects/demo/products", Some("pmc"), server).await;
        again.expect(StatusCode::CONFLICT);

        // A release of the main product has the version `11`: a product `11` would make
        // `/current/demo/11/...` ambiguous.
        site.start_release("11").await;
        let clash = json!({ "key": "11", "metadata": { "display_name": "Eleven" } });
        let clash = site.post("/api/projects/demo/products", Some("pmc"), clash).await;
        clash.expect(StatusCode::CONFLICT);
        assert!(clash.message().contains("version"), "{}", clash.message());
        let bad_key = json!({ "key": "Server!", "metadata": { "display_name": "Bad" } });
        site.post("/api/projects/demo/products", Some("pmc"), bad_key).await.expect(StatusCode::UNPROCESSABLE_ENTITY);
        let stored = ProjectRepository::get(&site.state.storage.sql, &demo()).await.unwrap().unwrap();
        let keys: Vec<&str> = stored.products.iter().map(|p| p.key.as_str()).collect();
        assert_eq!(keys, ["server"]);

        // The product's own policy, validated over the project's.
        let uri = "/api/projects/demo/products/server";
        let refused = site.put(uri, Some("pmc"), json!({ "policy": { "min_hours": 10 } })).await;
        refused.expect(StatusCode::UNPROCESSABLE_ENTITY);
        assert!(refused.message().contains("min_hours"), "{}", refused.message());
        let committer = site.put(uri, Some("committer"), json!({ "policy": { "min_hours": 120 } })).await;
        assert_eq!(committer.expect(StatusCode::FORBIDDEN)["error"]["details"]["activity"], "manage_policy");
        let changed = site.put(uri, Some("pmc"), json!({ "policy": { "min_hours": 120 } })).await;
        assert_eq!(changed.expect(StatusCode::OK)["policy"]["min_hours"], 120);
        let renamed = site.put(uri, Some("pmc"), json!({ "metadata": { "display_name": "Demo Server 2" } })).await;
        let renamed = renamed.expect(StatusCode::OK);
        assert_eq!(renamed["metadata"]["display_name"], "Demo Server 2");
        assert_eq!(renamed["policy"]["min_hours"], 120, "changing the metadata keeps the policy");
        let stored = ProjectRepository::get(&site.state.storage.sql, &demo()).await.unwrap().unwrap();
        let product = stored.product(&ProductKey::parse("server").unwrap()).unwrap();
        assert_eq!(product.policy.min_hours, Some(120));
        assert_eq!(product.metadata.display_name, "Demo Server 2");

        site.put(uri, Some("pmc"), json!({})).await.expect(StatusCode::UNPROCESSABLE_ENTITY);
        let missing = json!({ "metadata": { "display_name": "Nothing" } });
        site.put("/api/projects/demo/products/client", Some("pmc"), missing.clone())
            .await
            .expect(StatusCode::NOT_FOUND);
        site.put("/api/projects/demo/products/Client", Some("pmc"), missing).await.expect(StatusCode::BAD_REQUEST);
        site.finish().await;
    }
}
