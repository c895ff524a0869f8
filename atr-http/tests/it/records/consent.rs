//! A visitor's consent: given, kept with the person, required to vote, and revoked.

use atr_core::ports::PersonRepository;
use axum::http::StatusCode;
use serde_json::json;

use super::{sites, uid};

#[tokio::test]
async fn consent_is_given_and_revoked_and_decides_whether_a_visitor_votes() {
    for site in sites().await {
        // Checks that were cancelled never completed: no vote on that revision.
        site.post(&format!("/api/tasks/{}/cancel", site.analyze_task), Some("pmc"), json!({}))
            .await
            .expect(StatusCode::OK);
        let vote = site.post("/api/projects/demo/releases/1.0.0/vote", Some("pmc"), json!({ "revision": 1 })).await;
        vote.expect(StatusCode::CONFLICT);
        assert!(vote.message().contains("did not complete"), "{}", vote.message());
        // A candidate: a package whose checks completed.
        let revision = site.checked_package("1.0.0").await;
        let vote =
            site.post("/api/projects/demo/releases/1.0.0/vote", Some("pmc"), json!({ "revision": revision })).await;
        vote.expect(StatusCode::OK);
        let ballots = "/api/projects/demo/releases/1.0.0/ballots";
        let plus_one = json!({ "value": "+1" });

        let before = site.post(ballots, Some("visitor"), plus_one.clone()).await;
        before.expect(StatusCode::FORBIDDEN);
        assert!(before.message().contains("consent"), "{}", before.message());

        let consent = json!({ "name": "Vera Visitor", "email": "vera@example.org" });
        site.put("/api/me/consent", None, consent.clone()).await.expect(StatusCode::UNAUTHORIZED);
        let given = site.put("/api/me/consent", Some("visitor"), consent).await;
        let given = given.expect(StatusCode::OK);
        assert_eq!(given["name"], "Vera Visitor");
        assert_eq!(given["email"], "vera@example.org");
        let person = PersonRepository::get(&site.state.storage.sql, &uid("visitor")).await.unwrap().unwrap();
        let kept = person.consent.expect("the consent is kept with the person");
        assert_eq!((kept.name.as_str(), kept.email.as_str()), ("Vera Visitor", "vera@example.org"));
        assert_eq!(kept.revoked_at, None);

        let ballot = site.post(ballots, Some("visitor"), plus_one.clone()).await;
        assert_eq!(ballot.expect(StatusCode::CREATED)["voter"], json!({ "user": "visitor" }));

        site.delete("/api/me/consent", None).await.expect(StatusCode::UNAUTHORIZED);
        site.delete("/api/me/consent", Some("visitor")).await.expect(StatusCode::NO_CONTENT);
        let person = PersonRepository::get(&site.state.storage.sql, &uid("visitor")).await.unwrap().unwrap();
        if let Some(consent) = person.consent {
            assert!(consent.revoked_at.is_some(), "{consent:?}");
            assert_eq!((consent.name.as_str(), consent.email.as_str()), ("", ""), "the personal data is erased");
        }
        let after = site.post(ballots, Some("visitor"), plus_one).await;
        after.expect(StatusCode::FORBIDDEN);
        assert!(after.message().contains("consent"), "{}", after.message());
        // Nothing left to revoke.
        site.delete("/api/me/consent", Some("visitor")).await.expect(StatusCode::NOT_FOUND);
        site.finish().await;
    }
}

#[tokio::test]
async fn consent_needs_a_name_and_a_mail_address() {
    for site in sites().await {
        let no_mail = json!({ "name": "Vera Visitor", "email": "not a mail address" });
        site.put("/api/me/consent", Some("visitor"), no_mail).await.expect(StatusCode::UNPROCESSABLE_ENTITY);
        let no_name = json!({ "name": " ", "email": "vera@example.org" });
        site.put("/api/me/consent", Some("visitor"), no_name).await.expect(StatusCode::UNPROCESSABLE_ENTITY);
        site.put("/api/me/consent", Some("visitor"), json!({ "name": "Vera" }))
            .await
            .expect(StatusCode::UNPROCESSABLE_ENTITY);
        let person = PersonRepository::get(&site.state.storage.sql, &uid("visitor")).await.unwrap().unwrap();
        assert_eq!(person.consent, None);
        site.finish().await;
    }
}
