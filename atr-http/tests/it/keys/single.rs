//! One key: adding it, reading it, the releases it signed, linking and deleting it.

use atr_core::model::{Committee, Metadata, Project, Release, ReleaseKey, SigningKey};
use atr_core::policy::PolicyOverrides;
use atr_core::ports::{KeyRepository, ProjectRepository, ReleaseRepository};
use atr_core::types::{CommitteeKey, ProjectKey, Timestamp, Version};
use axum::http::{Method, StatusCode};
use serde_json::json;

use super::{App, Auth, apps, httpd_keys, read_keys, uid};

/// The first key of the httpd KEYS file that has an `@apache.org` user id.
fn apache_key() -> SigningKey {
    read_keys(&httpd_keys()).into_iter().find(|k| k.apache_uid().is_some()).expect("a key of an ASF committer")
}

/// Makes the owner of `key` a release manager (or only a committer) of `httpd`, signed in.
async fn owner_signed_in(app: &App, key: &SigningKey, release_manager: bool) -> String {
    let owner = key.apache_uid().unwrap();
    let mut httpd = Committee::new(CommitteeKey::parse("httpd").unwrap(), "Apache HTTP Server");
    httpd.pmc_members.insert(uid("pmc"));
    if release_manager {
        httpd.release_managers.insert(owner.clone());
    } else {
        httpd.committers.insert(owner.clone());
    }
    app.put_committee(&httpd).await;
    app.signed_in(owner.as_str(), false).await
}

#[tokio::test]
async fn a_release_manager_adds_their_own_key_and_reads_it_back() {
    let key = apache_key();
    let owner = key.apache_uid().unwrap();
    for app in apps().await {
        let session = owner_signed_in(&app, &key, true).await;
        let added = app.post_keys("/api/committees/httpd/keys", Auth::Session(&session), key.armored.as_bytes()).await;
        assert_eq!(added.status, StatusCode::CREATED, "{}", added.text);
        let fingerprint = key.fingerprint.to_hex();
        assert_eq!(added.json["fingerprint"], fingerprint.as_str());
        assert_eq!(added.json["owner"], owner.as_str());
        assert_eq!(added.json["committees"], json!(["httpd"]));
        assert_eq!(added.json["algorithm"], key.algorithm.as_str());

        // The fingerprint may be written in lowercase and in groups.
        let spaced: String = fingerprint
            .to_lowercase()
            .as_bytes()
            .chunks(4)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect::<Vec<_>>()
            .join("%20");
        let read = app.get(&format!("/api/keys/{spaced}")).await;
        assert_eq!(read.status, StatusCode::OK, "{}", read.text);
        assert_eq!(read.json["fingerprint"], fingerprint.as_str());
        assert_eq!(read.json["key_id"], key.fingerprint.key_id().to_hex().as_str());
        assert_eq!(read.json["user_ids"], json!(key.user_ids));
        assert_eq!(read.json["created_at"], key.created_at.unix());
        assert!(read.json["armored"].as_str().unwrap().starts_with("-----BEGIN PGP PUBLIC KEY BLOCK-----"));
        let (ring, _) = atr_tasks::analyze::signature::KeyRing::parse(
            read.json["armored"].as_str().unwrap().as_bytes(),
            &atr_tasks::analyze::signature::SignaturePolicy::default(),
        );
        assert_eq!(ring.fingerprints(), vec![key.fingerprint.clone()]);

        let signed = app.get(&format!("/api/keys/{fingerprint}/releases")).await;
        assert_eq!(signed.status, StatusCode::OK, "{}", signed.text);
        assert_eq!(signed.json, json!([]));

        let mine = app.get(&format!("/api/users/{owner}/keys")).await;
        assert_eq!(mine.status, StatusCode::OK, "{}", mine.text);
        assert_eq!(mine.json.as_array().unwrap().len(), 1);
        assert_eq!(mine.json[0]["fingerprint"], fingerprint.as_str());
        assert_eq!(app.get("/api/users/nobody/keys").await.json, json!([]));

        // Sending it again updates it.
        let again = app.post_keys("/api/committees/httpd/keys", Auth::Session(&session), key.armored.as_bytes()).await;
        assert_eq!(again.status, StatusCode::OK, "{}", again.text);
        assert_eq!(again.json["added_at"], added.json["added_at"]);
        app.finish().await;
    }
}

#[tokio::test]
async fn adding_a_key_checks_who_may_and_what_was_sent() {
    let key = apache_key();
    for app in apps().await {
        let anonymous = app.post_keys("/api/committees/httpd/keys", Auth::Nobody, key.armored.as_bytes()).await;
        assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED, "{}", anonymous.text);

        // A committer who is not a release manager may not add even their own key.
        let owner = owner_signed_in(&app, &key, false).await;
        let own = app.post_keys("/api/committees/httpd/keys", Auth::Session(&owner), key.armored.as_bytes()).await;
        assert_eq!(own.status, StatusCode::FORBIDDEN, "{}", own.text);
        assert!(own.message().contains("manage_own_key"), "{}", own.message());

        // Someone else's key needs manage keys.
        let committer = app.signed_in("committer", false).await;
        let theirs =
            app.post_keys("/api/committees/httpd/keys", Auth::Session(&committer), key.armored.as_bytes()).await;
        assert_eq!(theirs.status, StatusCode::FORBIDDEN, "{}", theirs.text);
        assert!(theirs.message().contains("manage_keys"), "{}", theirs.message());

        // A PMC member may add anyone's key; its owner still comes from the key.
        let pmc = app.signed_in("pmc", false).await;
        let by_pmc = app.post_keys("/api/committees/httpd/keys", Auth::Session(&pmc), key.armored.as_bytes()).await;
        assert_eq!(by_pmc.status, StatusCode::CREATED, "{}", by_pmc.text);
        assert_eq!(by_pmc.json["owner"], key.apache_uid().unwrap().as_str());

        let garbage = app.post_keys("/api/committees/httpd/keys", Auth::Session(&pmc), b"not a key at all").await;
        assert_eq!(garbage.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", garbage.text);
        assert!(garbage.message().contains("no usable OpenPGP public key"), "{}", garbage.message());
        let empty = app.post_keys("/api/committees/httpd/keys", Auth::Session(&pmc), b"").await;
        assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", empty.text);

        let many = app.post_keys("/api/committees/httpd/keys", Auth::Session(&pmc), &httpd_keys()).await;
        assert_eq!(many.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", many.text);
        assert!(many.message().contains("keys/import"), "{}", many.message());

        let unknown = app.post_keys("/api/committees/nosuch/keys", Auth::Session(&pmc), key.armored.as_bytes()).await;
        assert_eq!(unknown.status, StatusCode::NOT_FOUND, "{}", unknown.text);

        let huge = vec![b' '; (1 << 20) + 1];
        let too_large = app.post_keys("/api/committees/httpd/keys", Auth::Session(&pmc), &huge).await;
        assert_eq!(too_large.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", too_large.text);
        app.finish().await;
    }
}

#[tokio::test]
async fn a_key_links_to_another_committee() {
    let key = apache_key();
    for app in apps().await {
        let root = app.signed_in("root", true).await;
        let added = app.post_keys("/api/committees/httpd/keys", Auth::Session(&root), key.armored.as_bytes()).await;
        assert_eq!(added.status, StatusCode::CREATED, "{}", added.text);
        let uri = format!("/api/committees/tomcat/keys/{}", key.fingerprint);
        let linked = app.send(Method::PUT, &uri, Auth::Session(&root), None).await;
        assert_eq!(linked.status, StatusCode::OK, "{}", linked.text);
        assert_eq!(linked.json["committees"], json!(["httpd", "tomcat"]));
        assert_eq!(app.get("/api/committees/tomcat/keys").await.json.as_array().unwrap().len(), 1);

        let pmc = app.signed_in("pmc", false).await;
        let refused = app.send(Method::PUT, &uri, Auth::Session(&pmc), None).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.text);
        app.finish().await;
    }
}

#[tokio::test]
async fn bad_and_unknown_fingerprints() {
    for app in apps().await {
        let pmc = app.signed_in("pmc", false).await;
        for uri in ["/api/keys/XYZ", "/api/keys/ABCD/releases", "/api/keys/0123456789ABCDEF"] {
            let answer = app.get(uri).await;
            assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{uri}: {}", answer.text);
            assert!(answer.message().contains("fingerprint"), "{}", answer.message());
        }
        let bad_delete = app.delete("/api/keys/not-hex", Auth::Session(&pmc)).await;
        assert_eq!(bad_delete.status, StatusCode::BAD_REQUEST, "{}", bad_delete.text);
        let bad_user = app.get("/api/users/Not%20A%20User/keys").await;
        assert_eq!(bad_user.status, StatusCode::BAD_REQUEST, "{}", bad_user.text);

        let unknown = "A1".repeat(20);
        assert_eq!(app.get(&format!("/api/keys/{unknown}")).await.status, StatusCode::NOT_FOUND);
        assert_eq!(app.get(&format!("/api/keys/{unknown}/releases")).await.status, StatusCode::NOT_FOUND);
        assert_eq!(
            app.delete(&format!("/api/keys/{unknown}"), Auth::Session(&pmc)).await.status,
            StatusCode::NOT_FOUND
        );
        app.finish().await;
    }
}

#[tokio::test]
async fn deleting_a_key_no_release_used() {
    let key = apache_key();
    for app in apps().await {
        let pmc = app.signed_in("pmc", false).await;
        app.import_httpd(&pmc).await;
        let uri = format!("/api/keys/{}", key.fingerprint);

        assert_eq!(app.delete(&uri, Auth::Nobody).await.status, StatusCode::UNAUTHORIZED);
        let committer = app.signed_in("committer", false).await;
        let refused = app.delete(&uri, Auth::Session(&committer)).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.text);

        let deleted = app.delete(&uri, Auth::Session(&pmc)).await;
        assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.text);
        assert!(deleted.text.is_empty());
        assert_eq!(app.get(&uri).await.status, StatusCode::NOT_FOUND);
        assert_eq!(app.delete(&uri, Auth::Session(&pmc)).await.status, StatusCode::NOT_FOUND);
        let listed = app.get("/api/committees/httpd/keys").await.json;
        assert!(listed.as_array().unwrap().iter().all(|k| k["fingerprint"] != key.fingerprint.to_hex().as_str()));
        app.finish().await;
    }
}

#[tokio::test]
async fn a_key_a_release_used_is_kept() {
    let key = apache_key();
    for app in apps().await {
        let pmc = app.signed_in("pmc", false).await;
        app.import_httpd(&pmc).await;
        let store = &app.state.storage.sql;
        let project = Project {
            key: ProjectKey::parse("httpd").unwrap(),
            committee: CommitteeKey::parse("httpd").unwrap(),
            metadata: Metadata::default(),
            policy: PolicyOverrides::default(),
            products: Vec::new(),
        };
        ProjectRepository::create(store, &project).await.unwrap();
        let release = ReleaseKey::new(project.key.clone(), None, Version::parse("2.4.68").unwrap());
        let draft = Release::new_draft(release.clone(), project.committee.clone(), uid("pmc"), Timestamp::from_unix(0));
        ReleaseRepository::create(store, &draft).await.unwrap();
        KeyRepository::record_use(store, &key.fingerprint, &release).await.unwrap();

        let uri = format!("/api/keys/{}", key.fingerprint);
        // The release is a draft: listed to the PMC member, not to an anonymous caller.
        let signed = app.send(Method::GET, &format!("{uri}/releases"), Auth::Session(&pmc), None).await;
        assert_eq!(signed.status, StatusCode::OK, "{}", signed.text);
        assert_eq!(signed.json, json!([{ "project": "httpd", "product": null, "version": "2.4.68" }]));
        assert_eq!(app.get(&format!("{uri}/releases")).await.json, json!([]));

        let refused = app.delete(&uri, Auth::Session(&pmc)).await;
        assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.text);
        assert!(refused.message().contains("httpd 2.4.68"), "{}", refused.message());
        assert_eq!(refused.json["error"]["details"]["releases"], signed.json);
        assert_eq!(app.get(&uri).await.status, StatusCode::OK, "the key is still there");
        app.finish().await;
    }
}
