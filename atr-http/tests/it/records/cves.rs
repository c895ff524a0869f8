//! CVE records: recorded, linked both ways, read back, and refused without the permission.

use atr_core::model::EventKind;
use atr_core::ports::{EventFilter, EventRepository, PageRequest};
use axum::http::StatusCode;
use serde_json::{Value, json};

use super::{key, sites};

const ID: &str = "CVE-2025-12345";

fn record(title: &str) -> Value {
    json!({
        "title": title,
        "description": "A crafted request reads files outside the document root.",
        "severity": "important",
        "cvss": { "score_tenths": 75, "vector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N" },
        "references": ["https://demo.apache.org/security.html"],
        "published_at": 1_760_000_000,
    })
}

fn release_json(version: &str) -> Value {
    serde_json::to_value(key(version)).unwrap()
}

#[tokio::test]
async fn a_cve_is_recorded_linked_and_read_both_ways() {
    for site in sites().await {
        site.start_release("1.0.1").await;
        let created = site.put(&format!("/api/projects/demo/cves/{ID}"), Some("pmc"), record("Path traversal")).await;
        let created = created.expect(StatusCode::CREATED);
        assert_eq!(created["id"], ID);
        assert_eq!(created["severity"], "important");
        assert_eq!(created["cvss"]["score_tenths"], 75);

        // Recording again updates the fields; the id is normalized from any case.
        let updated =
            site.put("/api/projects/demo/cves/cve-2025-12345", Some("pmc"), record("Path traversal in mod_demo"));
        let updated = updated.await;
        assert_eq!(updated.expect(StatusCode::OK)["title"], "Path traversal in mod_demo");

        let affects = json!({ "id": ID, "link": "affects" });
        let linked = site.post("/api/projects/demo/releases/1.0.0/cves", Some("pmc"), affects).await;
        assert_eq!(linked.expect(StatusCode::OK)["affects"], json!([release_json("1.0.0")]));
        let resolves_link = json!({ "id": ID, "link": "resolves" });
        site.post("/api/projects/demo/releases/1.0.1/cves", Some("pmc"), resolves_link).await.expect(StatusCode::OK);

        // From the CVE to the releases.
        let cve = site.get(&format!("/api/cves/{ID}"), Some("pmc")).await;
        let cve = cve.expect(StatusCode::OK);
        assert_eq!(cve["title"], "Path traversal in mod_demo");
        assert_eq!(cve["affects"], json!([release_json("1.0.0")]));
        assert_eq!(cve["resolved_by"], json!([release_json("1.0.1")]));

        // Both releases are drafts: an anonymous caller sees the record without them, and the
        // releases' CVE lists not at all.
        let hidden = site.get(&format!("/api/cves/{ID}"), None).await;
        let hidden = hidden.expect(StatusCode::OK);
        assert_eq!((hidden["affects"].clone(), hidden["resolved_by"].clone()), (json!([]), json!([])));
        let listed = site.get("/api/projects/demo/releases/1.0.0/cves?link=affects", None).await;
        listed.expect(StatusCode::NOT_FOUND);

        // From the releases to the CVE.
        let ids = |answer: &Value| -> Vec<String> {
            answer.as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap().to_owned()).collect()
        };
        let affecting = site.get("/api/projects/demo/releases/1.0.0/cves?link=affects", Some("pmc")).await;
        assert_eq!(ids(affecting.expect(StatusCode::OK)), [ID]);
        let resolved = site.get("/api/projects/demo/releases/1.0.1/cves?link=resolves", Some("pmc")).await;
        assert_eq!(ids(resolved.expect(StatusCode::OK)), [ID]);
        let not_resolved = site.get("/api/projects/demo/releases/1.0.0/cves?link=resolves", Some("pmc")).await;
        assert_eq!(ids(not_resolved.expect(StatusCode::OK)), Vec::<String>::new());
        let not_affected = site.get("/api/projects/demo/releases/1.0.1/cves?link=affects", Some("pmc")).await;
        assert_eq!(ids(not_affected.expect(StatusCode::OK)), Vec::<String>::new());

        // Updating the record keeps its links.
        site.put(&format!("/api/projects/demo/cves/{ID}"), Some("pmc"), record("Path traversal"))
            .await
            .expect(StatusCode::OK);
        let cve = site.get(&format!("/api/cves/{ID}"), Some("pmc")).await;
        assert_eq!(cve.expect(StatusCode::OK)["affects"], json!([release_json("1.0.0")]));

        // The listing, in pages by id.
        site.put("/api/projects/demo/cves/CVE-2024-0001", Some("pmc"), record("Older"))
            .await
            .expect(StatusCode::CREATED);
        let all = site.get("/api/cves", Some("pmc")).await;
        assert_eq!(ids(all.expect(StatusCode::OK)), ["CVE-2024-0001", ID]);
        let first = site.get("/api/cves?limit=1", Some("pmc")).await;
        assert_eq!(ids(first.expect(StatusCode::OK)), ["CVE-2024-0001"]);
        let next = site.get("/api/cves?after=CVE-2024-0001&limit=1", Some("pmc")).await;
        assert_eq!(ids(next.expect(StatusCode::OK)), [ID]);

        // Both changes are in the audit trail.
        let filter = EventFilter::default();
        let events = EventRepository::list(&site.state.storage.sql, &filter, PageRequest::first(100));
        let kinds: Vec<EventKind> = events.await.unwrap().into_iter().map(|e| e.event.kind).collect();
        assert!(kinds.iter().any(|k| matches!(k, EventKind::CveRecorded { id } if id.as_str() == ID)), "{kinds:?}");
        assert!(kinds.iter().any(|k| matches!(k, EventKind::CveLinked { id, .. } if id.as_str() == ID)), "{kinds:?}");
        site.finish().await;
    }
}

#[tokio::test]
async fn recording_and_linking_need_manage_metadata() {
    for site in sites().await {
        let uri = format!("/api/projects/demo/cves/{ID}");
        let anonymous = site.put(&uri, None, record("Path traversal")).await;
        anonymous.expect(StatusCode::UNAUTHORIZED);
        let committer = site.put(&uri, Some("committer"), record("Path traversal")).await;
        assert_eq!(committer.expect(StatusCode::FORBIDDEN)["error"]["details"]["activity"], "manage_metadata");
        assert!(committer.message().contains("manage_metadata"), "{}", committer.message());
        site.get(&format!("/api/cves/{ID}"), None).await.expect(StatusCode::NOT_FOUND);

        site.put(&uri, Some("pmc"), record("Path traversal")).await.expect(StatusCode::CREATED);
        let link = json!({ "id": ID, "link": "affects" });
        let anonymous = site.post("/api/projects/demo/releases/1.0.0/cves", None, link.clone()).await;
        anonymous.expect(StatusCode::UNAUTHORIZED);
        let committer = site.post("/api/projects/demo/releases/1.0.0/cves", Some("committer"), link).await;
        assert_eq!(committer.expect(StatusCode::FORBIDDEN)["error"]["details"]["activity"], "manage_metadata");
        let cve = site.get(&format!("/api/cves/{ID}"), None).await;
        assert_eq!(cve.expect(StatusCode::OK)["affects"], json!([]));
        site.finish().await;
    }
}

#[tokio::test]
async fn bad_ids_unknown_records_and_bad_fields_are_refused() {
    for site in sites().await {
        site.get("/api/cves/not-a-cve", None).await.expect(StatusCode::BAD_REQUEST);
        site.get("/api/cves/CVE-2025-9999", None).await.expect(StatusCode::NOT_FOUND);
        site.get("/api/cves?after=nonsense", None).await.expect(StatusCode::BAD_REQUEST);
        site.put("/api/projects/demo/cves/CVE-25-1", Some("pmc"), record("x")).await.expect(StatusCode::BAD_REQUEST);
        site.put(&format!("/api/projects/nothere/cves/{ID}"), Some("pmc"), record("x"))
            .await
            .expect(StatusCode::NOT_FOUND);

        let mut bad_score = record("x");
        bad_score["cvss"]["score_tenths"] = json!(101);
        let answer = site.put(&format!("/api/projects/demo/cves/{ID}"), Some("pmc"), bad_score).await;
        answer.expect(StatusCode::UNPROCESSABLE_ENTITY);
        assert!(answer.message().contains("score_tenths"), "{}", answer.message());
        let answer = site.put(&format!("/api/projects/demo/cves/{ID}"), Some("pmc"), record("  ")).await;
        answer.expect(StatusCode::UNPROCESSABLE_ENTITY);
        let mut unknown_field = record("x");
        unknown_field["affects"] = json!([]);
        site.put(&format!("/api/projects/demo/cves/{ID}"), Some("pmc"), unknown_field)
            .await
            .expect(StatusCode::UNPROCESSABLE_ENTITY);
        site.get(&format!("/api/cves/{ID}"), None).await.expect(StatusCode::NOT_FOUND);

        // Links to an unknown CVE or release, or of an unknown kind.
        let link = |id: &str, link: &str| json!({ "id": id, "link": link });
        let uri = "/api/projects/demo/releases/1.0.0/cves";
        site.post(uri, Some("pmc"), link(ID, "affects")).await.expect(StatusCode::NOT_FOUND);
        site.put(&format!("/api/projects/demo/cves/{ID}"), Some("pmc"), record("x")).await.expect(StatusCode::CREATED);
        site.post(uri, Some("pmc"), link("CVE-1", "affects")).await.expect(StatusCode::UNPROCESSABLE_ENTITY);
        site.post(uri, Some("pmc"), link(ID, "mentions")).await.expect(StatusCode::UNPROCESSABLE_ENTITY);
        site.post("/api/projects/demo/releases/9.9.9/cves", Some("pmc"), link(ID, "affects"))
            .await
            .expect(StatusCode::NOT_FOUND);

        // Reading a release's CVEs needs a known link and release.
        site.get(uri, None).await.expect(StatusCode::BAD_REQUEST);
        site.get(&format!("{uri}?link=mentions"), None).await.expect(StatusCode::BAD_REQUEST);
        site.get("/api/projects/demo/releases/9.9.9/cves?link=affects", None).await.expect(StatusCode::NOT_FOUND);
        site.get("/api/projects/demo/releases/1..0/cves?link=affects", None).await.expect(StatusCode::BAD_REQUEST);
        site.finish().await;
    }
}
