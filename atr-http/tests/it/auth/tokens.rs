//! Personal access tokens: shown once, listed without secrets, used as Bearer, refused when
//! expired, revoked, garbled or wrong, and scoped to at most release-manager rights.

use std::collections::BTreeSet;

use atr_core::auth::{Activity, MachineToken};
use atr_core::types::{ProjectKey, Timestamp};
use axum::http::StatusCode;
use serde_json::{Value, json};

use super::{App, Auth, apps, sha256_hex, uid};

fn grant(projects: &[&str], activities: &[&str], days: i64) -> Value {
    json!({ "name": "ci-nightly", "projects": projects, "activities": activities, "expires_in_days": days })
}

/// Creates a token as the signed-in `session`; answers the bearer string and the whole answer.
async fn create(app: &App, session: &str, body: &Value) -> (String, Value) {
    let answer = app.post("/api/tokens", Auth::Session(session), body).await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text);
    (answer.json["token"].as_str().unwrap().to_owned(), answer.json)
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

fn now() -> i64 {
    i64::try_from(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()).unwrap()
}

#[tokio::test]
async fn a_token_is_shown_once_listed_without_secret_and_works_as_bearer() {
    for app in apps().await {
        app.account("alice", false).await;
        let session = app.sign_in("alice").await;
        let (token, created) =
            create(&app, &session, &grant(&["httpd"], &["manage_release", "perform_actions"], 30)).await;
        let id = created["id"].as_str().unwrap().to_owned();
        let secret = token.strip_prefix(&format!("atr_{id}_")).expect("the token is atr_<id>_<secret>").to_owned();
        assert_eq!(secret.len(), 64);
        assert_eq!(created["name"], "ci-nightly");
        assert_eq!(created["owner"], "alice");
        assert_eq!(created["projects"], json!(["httpd"]));
        assert_eq!(created["activities"], json!(["manage_release", "perform_actions"]));
        assert_eq!(created["status"], "active");
        let lifetime = created["expires_at"].as_i64().unwrap() - created["created_at"].as_i64().unwrap();
        assert_eq!(lifetime, 30 * 86_400);

        let me = app.get("/api/me", Auth::Header(&bearer(&token))).await;
        assert_eq!(me.status, StatusCode::OK, "{}", me.text);
        assert_eq!(me.json["person"]["id"], "alice");
        assert_eq!(me.json["signed_in_with"], "token");
        assert_eq!(me.json["token"]["id"], id.as_str());
        assert_eq!(me.json["token"]["projects"], json!(["httpd"]));
        // The scheme is case-insensitive.
        assert_eq!(app.get("/api/me", Auth::Header(&format!("bearer {token}"))).await.status, StatusCode::OK);

        let list = app.get("/api/tokens", Auth::Session(&session)).await;
        assert_eq!(list.status, StatusCode::OK);
        let tokens = list.json["tokens"].as_array().unwrap();
        assert_eq!(tokens.len(), 1);
        assert_eq!(tokens[0]["id"], id.as_str());
        assert!(tokens[0].get("token").is_none(), "the list repeats the token: {}", list.text);
        assert!(!list.text.contains(&secret), "the list shows the secret");
        assert!(tokens[0]["last_used_at"].is_i64(), "the use as Bearer is recorded: {}", list.text);
        // A token lists its owner's tokens too, still without secrets.
        let by_token = app.get("/api/tokens", Auth::Header(&bearer(&token))).await;
        assert_eq!(by_token.status, StatusCode::OK);
        assert!(!by_token.text.contains(&secret));
        app.finish().await;
    }
}

#[tokio::test]
async fn expired_revoked_garbled_and_wrong_tokens_are_refused() {
    for app in apps().await {
        app.account("alice", false).await;
        let session = app.sign_in("alice").await;

        // Expired: a grant that ran out yesterday.
        let expired_secret = "ab".repeat(32);
        let expired_id = "0123456789abcdef01234567";
        let past = MachineToken::new(
            expired_id.to_owned(),
            uid("alice"),
            BTreeSet::from([ProjectKey::parse("httpd").unwrap()]),
            BTreeSet::from([Activity::ManageRelease]),
            Timestamp::from_unix(now() - 10 * 86_400),
            Timestamp::from_unix(now() - 86_400),
        )
        .unwrap();
        app.store.create_token(&past, "old", &sha256_hex(&expired_secret)).await.unwrap();
        let expired = app.get("/api/me", Auth::Header(&bearer(&format!("atr_{expired_id}_{expired_secret}")))).await;
        assert_eq!(expired.status, StatusCode::UNAUTHORIZED, "{}", expired.text);
        assert!(expired.message().contains("expired"), "{}", expired.message());

        // Revoked by its owner.
        let (token, created) = create(&app, &session, &grant(&["httpd"], &["manage_release"], 7)).await;
        let id = created["id"].as_str().unwrap();
        assert_eq!(app.get("/api/me", Auth::Header(&bearer(&token))).await.status, StatusCode::OK);
        let revoke = app.delete(&format!("/api/tokens/{id}"), Auth::Session(&session)).await;
        assert_eq!(revoke.status, StatusCode::NO_CONTENT, "{}", revoke.text);
        let revoked = app.get("/api/me", Auth::Header(&bearer(&token))).await;
        assert_eq!(revoked.status, StatusCode::UNAUTHORIZED);
        assert!(revoked.message().contains("revoked"), "{}", revoked.message());
        let list = app.get("/api/tokens", Auth::Session(&session)).await;
        let statuses: Vec<&str> =
            list.json["tokens"].as_array().unwrap().iter().map(|t| t["status"].as_str().unwrap()).collect();
        assert!(statuses.contains(&"revoked") && statuses.contains(&"expired"), "{statuses:?}");

        // A live token whose secret is wrong, and an id nobody issued.
        let (live, live_json) = create(&app, &session, &grant(&["httpd"], &["manage_release"], 7)).await;
        let live_id = live_json["id"].as_str().unwrap();
        let wrong_secret = format!("atr_{live_id}_{}", "cd".repeat(32));
        assert_ne!(wrong_secret, live);
        let wrong = app.get("/api/me", Auth::Header(&bearer(&wrong_secret))).await;
        assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
        assert!(wrong.message().contains("not recognised"), "{}", wrong.message());
        let unknown =
            app.get("/api/me", Auth::Header(&bearer(&format!("atr_{}_{}", "f".repeat(24), "0".repeat(64))))).await;
        assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
        assert_eq!(unknown.message(), wrong.message());
        assert_eq!(app.get("/api/me", Auth::Header(&bearer(&live))).await.status, StatusCode::OK);

        // Garbled credentials.
        for header in
            ["Bearer nonsense", "Bearer", "Bearer atr_xyz_abc", &format!("Bearer {}", &live[..live.len() - 1])]
        {
            let garbled = app.get("/api/me", Auth::Header(header)).await;
            assert_eq!(garbled.status, StatusCode::UNAUTHORIZED, "{header}");
            assert!(garbled.message().contains("malformed"), "{header}: {}", garbled.message());
        }
        let basic = app.get("/api/me", Auth::Header("Basic YWxpY2U6cGFzc3dvcmQ=")).await;
        assert_eq!(basic.status, StatusCode::UNAUTHORIZED);
        assert!(basic.message().contains("only Bearer"), "{}", basic.message());
        app.finish().await;
    }
}

#[tokio::test]
async fn token_scopes_above_release_manager_or_empty_or_too_long_are_refused() {
    for app in apps().await {
        app.account("alice", false).await;
        let session = app.sign_in("alice").await;
        let cases = [
            (grant(&["httpd"], &["manage_keys"], 30), "activities", "manage_keys"),
            (grant(&["httpd"], &["binding_vote"], 30), "activities", "release-manager"),
            (grant(&["httpd"], &[], 30), "activities", "at least one activity"),
            (grant(&[], &["manage_release"], 30), "projects", "at least one project"),
            (grant(&["httpd"], &["manage_release"], 367), "expires_in_days", "366"),
            (grant(&["httpd"], &["manage_release"], 0), "expires_in_days", "366"),
            (grant(&["httpd"], &["rule_everything"], 30), "activities[0]", "rule_everything"),
            (grant(&["Not-A-Key"], &["manage_release"], 30), "projects", "Not-A-Key"),
            (grant(&["httpd"], &["manage_release"], -1), "expires_in_days", "-1"),
        ];
        for (body, field, words) in cases {
            let answer = app.post("/api/tokens", Auth::Session(&session), &body).await;
            assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {}", answer.text);
            assert!(answer.message().contains(field), "{body}: {}", answer.message());
            assert!(answer.message().contains(words), "{body}: {}", answer.message());
            let named = answer.json["error"]["details"]["field"].as_str().unwrap_or_default();
            assert!(named.starts_with(field.split('[').next().unwrap()), "{body}: {}", answer.text);
        }
        let mut extra = grant(&["httpd"], &["manage_release"], 30);
        extra["admin"] = json!(true);
        let answer = app.post("/api/tokens", Auth::Session(&session), &extra).await;
        assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(answer.message().contains("admin"), "{}", answer.message());
        assert!(app.store.list_tokens(&uid("alice")).await.unwrap().is_empty(), "a refused token was stored");
        // The longest lifetime allowed is accepted.
        create(&app, &session, &grant(&["httpd"], &["manage_release", "manage_policy"], 366)).await;
        app.finish().await;
    }
}

#[tokio::test]
async fn tokens_are_made_from_a_session_and_revoked_only_by_their_owner() {
    for app in apps().await {
        app.account("alice", false).await;
        app.account("bob", false).await;
        let alice = app.sign_in("alice").await;
        let bob = app.sign_in("bob").await;
        let body = grant(&["httpd"], &["manage_release"], 30);

        let anonymous = app.post("/api/tokens", Auth::Nobody, &body).await;
        assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
        assert_eq!(app.get("/api/tokens", Auth::Nobody).await.status, StatusCode::UNAUTHORIZED);

        let (token, created) = create(&app, &alice, &body).await;
        let by_token = app.post("/api/tokens", Auth::Header(&bearer(&token)), &body).await;
        assert_eq!(by_token.status, StatusCode::FORBIDDEN, "{}", by_token.text);
        assert!(by_token.message().contains("a token cannot create tokens"), "{}", by_token.message());

        let id = created["id"].as_str().unwrap();
        let bobs_list = app.get("/api/tokens", Auth::Session(&bob)).await;
        assert_eq!(bobs_list.json["tokens"], json!([]));
        let by_bob = app.delete(&format!("/api/tokens/{id}"), Auth::Session(&bob)).await;
        assert_eq!(by_bob.status, StatusCode::NOT_FOUND);
        assert_eq!(app.get("/api/me", Auth::Header(&bearer(&token))).await.status, StatusCode::OK);
        // A token may revoke itself.
        let itself = app.delete(&format!("/api/tokens/{id}"), Auth::Header(&bearer(&token))).await;
        assert_eq!(itself.status, StatusCode::NO_CONTENT);
        assert_eq!(app.get("/api/me", Auth::Header(&bearer(&token))).await.status, StatusCode::UNAUTHORIZED);
        app.finish().await;
    }
}

#[tokio::test]
async fn stored_tokens_hold_no_secret() {
    for app in apps().await {
        app.account("alice", false).await;
        let session = app.sign_in("alice").await;
        let (token, created) = create(&app, &session, &grant(&["httpd"], &["manage_release"], 30)).await;
        let id = created["id"].as_str().unwrap();
        let secret = token.rsplit('_').next().unwrap();
        let rows = app.store.account_table_text("access_tokens").await.unwrap();
        assert_eq!(rows.len(), 1);
        assert!(rows[0].contains(id), "the row is the token's: {}", rows[0]);
        assert!(!rows[0].contains(secret), "the token's secret is stored: {}", rows[0]);
        assert!(!rows[0].contains(&token));
        assert!(rows[0].contains(&sha256_hex(secret)), "the row keeps the secret's hash");
        let stored = app.store.token_by_id(id).await.unwrap().unwrap();
        assert_eq!(stored.secret_hash, sha256_hex(secret));
        app.finish().await;
    }
}
