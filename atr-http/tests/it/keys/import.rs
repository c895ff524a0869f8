//! Importing a whole KEYS file, and the KEYS file generated from the database.

use std::collections::BTreeSet;

use atr_tasks::analyze::signature::{KeyRing, SignaturePolicy};
use axum::http::StatusCode;
use serde_json::Value;

use super::{Auth, HTTPD_UNUSABLE_KEYS, HTTPD_USABLE_KEYS, apps, httpd_keys};

fn entries<'a>(report: &'a Value, list: &str) -> &'a Vec<Value> {
    report[list].as_array().unwrap_or_else(|| panic!("no {list} list in {report}"))
}

fn fingerprints(list: &[Value]) -> BTreeSet<String> {
    list.iter().map(|k| k["fingerprint"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn importing_reports_every_key_then_updates_on_a_second_import() {
    for app in apps().await {
        let pmc = app.signed_in("pmc", false).await;
        let first = app.import_httpd(&pmc).await.json;
        let added = entries(&first, "added");
        assert_eq!(added.len(), HTTPD_USABLE_KEYS, "{first}");
        assert!(entries(&first, "updated").is_empty(), "{first}");
        let rejected = entries(&first, "rejected");
        assert_eq!(rejected.len(), HTTPD_UNUSABLE_KEYS, "{first}");
        for entry in rejected {
            assert!(!entry["reason"].as_str().unwrap().is_empty(), "a rejection says why: {entry}");
            assert!(entry["user_ids"].is_array(), "{entry}");
        }
        for entry in added {
            assert!(entry["note"].as_str().unwrap().contains("added"), "{entry}");
            assert!(!entry["user_ids"].as_array().unwrap().is_empty(), "{entry}");
        }
        // Keys with an @apache.org user id are owned by that person.
        assert!(added.iter().any(|k| k["owner"].is_string()), "{first}");

        let listing = app.get("/api/committees/httpd/keys").await;
        assert_eq!(listing.status, StatusCode::OK, "{}", listing.text);
        let listed = listing.json.as_array().unwrap();
        assert_eq!(fingerprints(listed), fingerprints(added));
        assert!(listed.iter().all(|k| k.get("armored").is_none() && k["committees"] == serde_json::json!(["httpd"])));

        let second = app.import_httpd(&pmc).await.json;
        assert!(entries(&second, "added").is_empty(), "{second}");
        assert_eq!(fingerprints(entries(&second, "updated")), fingerprints(added));
        assert_eq!(entries(&second, "rejected").len(), HTTPD_UNUSABLE_KEYS);
        assert_eq!(app.get("/api/committees/httpd/keys").await.json.as_array().unwrap().len(), HTTPD_USABLE_KEYS);
        app.finish().await;
    }
}

#[tokio::test]
async fn importing_needs_manage_keys() {
    for app in apps().await {
        let keys = httpd_keys();
        let anonymous = app.post_keys("/api/committees/httpd/keys/import", Auth::Nobody, &keys).await;
        assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED, "{}", anonymous.text);

        for who in ["committer", "rm"] {
            let session = app.signed_in(who, false).await;
            let refused = app.post_keys("/api/committees/httpd/keys/import", Auth::Session(&session), &keys).await;
            assert_eq!(refused.status, StatusCode::FORBIDDEN, "{who}: {}", refused.text);
            assert!(refused.message().contains("manage_keys"), "{}", refused.message());
            assert_eq!(refused.json["error"]["details"]["activity"], "manage_keys");
        }
        // A PMC member of another committee may not import here either.
        let pmc = app.signed_in("pmc", false).await;
        let elsewhere = app.post_keys("/api/committees/tomcat/keys/import", Auth::Session(&pmc), &keys).await;
        assert_eq!(elsewhere.status, StatusCode::FORBIDDEN, "{}", elsewhere.text);
        assert!(app.get("/api/committees/httpd/keys").await.json.as_array().unwrap().is_empty());

        // An admin may, anywhere.
        let root = app.signed_in("root", true).await;
        let by_admin = app.post_keys("/api/committees/tomcat/keys/import", Auth::Session(&root), &keys).await;
        assert_eq!(by_admin.status, StatusCode::OK, "{}", by_admin.text);
        assert_eq!(by_admin.json["added"].as_array().unwrap().len(), HTTPD_USABLE_KEYS);

        let unknown = app.post_keys("/api/committees/nosuch/keys/import", Auth::Session(&root), &keys).await;
        assert_eq!(unknown.status, StatusCode::NOT_FOUND, "{}", unknown.text);
        let bad = app.post_keys("/api/committees/Not%20A%20Key/keys/import", Auth::Session(&root), &keys).await;
        assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.text);
        app.finish().await;
    }
}

#[tokio::test]
async fn an_import_of_nothing_usable_rejects_every_block() {
    for app in apps().await {
        let pmc = app.signed_in("pmc", false).await;
        let body = b"Just some words.\n-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nnot base64 !!\n";
        let answer = app.post_keys("/api/committees/httpd/keys/import", Auth::Session(&pmc), body).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
        assert!(answer.json["added"].as_array().unwrap().is_empty());
        let rejected = answer.json["rejected"].as_array().unwrap();
        assert_eq!(rejected.len(), 1, "{}", answer.text);
        assert!(rejected[0]["reason"].as_str().unwrap().contains("truncated"), "{}", answer.text);
        assert!(rejected[0].get("fingerprint").is_none());
        app.finish().await;
    }
}

#[tokio::test]
async fn the_keys_file_is_generated_from_the_database_and_reads_back() {
    for app in apps().await {
        let empty = app.get("/api/committees/httpd/KEYS").await;
        assert_eq!(empty.status, StatusCode::OK, "{}", empty.text);
        assert_eq!(empty.content_type(), "text/plain; charset=utf-8");
        assert!(!empty.text.contains("BEGIN PGP"), "{}", empty.text);

        let pmc = app.signed_in("pmc", false).await;
        let report = app.import_httpd(&pmc).await.json;
        let imported = fingerprints(entries(&report, "added"));

        let keys = app.get("/api/committees/httpd/KEYS").await;
        assert_eq!(keys.status, StatusCode::OK);
        assert_eq!(keys.content_type(), "text/plain; charset=utf-8");
        let (ring, notes) = KeyRing::parse(keys.text.as_bytes(), &SignaturePolicy::default());
        let read: BTreeSet<String> = ring.fingerprints().iter().map(ToString::to_string).collect();
        assert_eq!(read, imported, "{notes:?}");
        assert_eq!(keys.text.matches("-----BEGIN PGP PUBLIC KEY BLOCK-----").count(), HTTPD_USABLE_KEYS);
        assert_eq!(keys.text.lines().filter(|l| l.starts_with("pub   ")).count(), HTTPD_USABLE_KEYS);
        assert!(keys.text.lines().filter(|l| l.starts_with("uid   ")).count() >= HTTPD_USABLE_KEYS);
        // Each block is preceded by its comment lines: `pub <algorithm><bits> <date>`, the fingerprint, uids.
        for fingerprint in &imported {
            let at = keys.text.find(&format!("      {fingerprint}\n")).expect("the fingerprint line");
            let pub_line = keys.text[..at].lines().last().unwrap();
            let words: Vec<&str> = pub_line.split_whitespace().collect();
            assert_eq!(words[0], "pub", "{pub_line}");
            assert!(words[1].chars().next().unwrap().is_ascii_lowercase(), "{pub_line}");
            assert!(words[2].len() == 10 && words[2].as_bytes()[4] == b'-', "{pub_line}");
            let after = &keys.text[at..];
            let block = after.find("-----BEGIN PGP PUBLIC KEY BLOCK-----").unwrap();
            assert!(after[..block].lines().skip(1).any(|l| l.starts_with("uid   ")), "{}", &after[..block]);
        }

        // The second import of the generated file changes nothing but updates every key.
        let again = app.post_keys("/api/committees/httpd/keys/import", Auth::Session(&pmc), keys.text.as_bytes()).await;
        assert_eq!(again.status, StatusCode::OK, "{}", again.text);
        assert_eq!(fingerprints(entries(&again.json, "updated")), imported);
        assert!(entries(&again.json, "rejected").is_empty(), "{}", again.text);

        assert_eq!(app.get("/api/committees/nosuch/KEYS").await.status, StatusCode::NOT_FOUND);
        assert_eq!(app.get("/api/committees/nosuch/keys").await.status, StatusCode::NOT_FOUND);
        app.finish().await;
    }
}
