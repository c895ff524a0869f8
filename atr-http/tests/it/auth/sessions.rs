//! Signing in and out, the session cookie, and `/api/me`.

use std::time::Duration;

use atr_core::types::Timestamp;
use atr_http::HttpConfig;
use axum::http::{Method, StatusCode};
use serde_json::json;

use super::{Auth, Body, PASSWORD, apps, apps_with, session_secret, sha256_hex, uid};

#[tokio::test]
async fn signing_in_sets_a_hardened_cookie_and_me_answers_the_person() {
    for app in apps().await {
        app.account("alice", false).await;
        let answer = app.post("/api/session", Auth::Nobody, &json!({ "user": "alice", "password": PASSWORD })).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
        assert_eq!(answer.json["person"]["id"], "alice");
        let cookie = answer.set_cookie();
        let secret = session_secret(cookie);
        let attributes: Vec<&str> = cookie.split(';').map(str::trim).skip(1).collect();
        for expected in ["HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=43200"] {
            assert!(attributes.contains(&expected), "{expected} missing from {cookie}");
        }
        assert!(!attributes.contains(&"Secure"), "not configured secure: {cookie}");
        assert!(!answer.text.contains(&secret), "the body repeats the session secret");

        let me = app.get("/api/me", Auth::Session(&secret)).await;
        assert_eq!(me.status, StatusCode::OK, "{}", me.text);
        assert_eq!(me.json["person"]["id"], "alice");
        assert_eq!(me.json["signed_in_with"], "session");
        app.finish().await;
    }
}

#[tokio::test]
async fn cookies_are_secure_when_configured() {
    for app in apps_with(|| HttpConfig { secure_cookies: true, ..HttpConfig::default() }).await {
        app.account("alice", false).await;
        let answer = app.post("/api/session", Auth::Nobody, &json!({ "user": "alice", "password": PASSWORD })).await;
        assert_eq!(answer.status, StatusCode::OK);
        assert!(answer.set_cookie().split(';').any(|a| a.trim() == "Secure"), "{}", answer.set_cookie());
        let out = app.delete("/api/session", Auth::Nobody).await;
        assert!(out.set_cookie().split(';').any(|a| a.trim() == "Secure"), "{}", out.set_cookie());
        app.finish().await;
    }
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_user_get_the_same_refusal() {
    for app in apps().await {
        app.account("alice", false).await;
        let wrong =
            app.post("/api/session", Auth::Nobody, &json!({ "user": "alice", "password": "not the password" })).await;
        let unknown = app.post("/api/session", Auth::Nobody, &json!({ "user": "mallory", "password": PASSWORD })).await;
        let garbled =
            app.post("/api/session", Auth::Nobody, &json!({ "user": "Not A User", "password": PASSWORD })).await;
        for answer in [&wrong, &unknown, &garbled] {
            assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{}", answer.text);
            assert!(answer.headers.get("set-cookie").is_none(), "a refused sign-in sets no cookie");
        }
        assert_eq!(wrong.message(), unknown.message());
        assert_eq!(wrong.message(), garbled.message());
        assert!(wrong.message().contains("unknown user or wrong password"), "{}", wrong.message());
        // A person without a local account cannot sign in either.
        app.store
            .put_person(&atr_core::model::Person { id: uid("bob"), asf_member: true, admin: false, consent: None })
            .await
            .unwrap();
        let no_account = app.post("/api/session", Auth::Nobody, &json!({ "user": "bob", "password": PASSWORD })).await;
        assert_eq!(no_account.status, StatusCode::UNAUTHORIZED);
        assert_eq!(no_account.message(), wrong.message());
        app.finish().await;
    }
}

#[tokio::test]
async fn an_expired_session_is_refused() {
    for app in apps_with(|| HttpConfig { session_ttl: Duration::ZERO, ..HttpConfig::default() }).await {
        app.account("alice", false).await;
        let secret = app.sign_in("alice").await;
        let me = app.get("/api/me", Auth::Session(&secret)).await;
        assert_eq!(me.status, StatusCode::UNAUTHORIZED, "a session past its expiry still works: {}", me.text);
        app.finish().await;
    }
    for app in apps().await {
        // The store's boundary: live until the expiry instant, not at it.
        app.account("alice", false).await;
        let hash = sha256_hex("a secret of the test");
        let (created, expires) = (Timestamp::from_unix(1_000), Timestamp::from_unix(2_000));
        app.store.create_session(&hash, &uid("alice"), created, expires).await.unwrap();
        assert_eq!(app.store.session_user(&hash, Timestamp::from_unix(1_999)).await.unwrap(), Some(uid("alice")));
        assert_eq!(app.store.session_user(&hash, expires).await.unwrap(), None);
        assert_eq!(app.store.session_user(&sha256_hex("another"), created).await.unwrap(), None);
        app.finish().await;
    }
}

#[tokio::test]
async fn signing_out_ends_the_session() {
    for app in apps().await {
        app.account("alice", false).await;
        let secret = app.sign_in("alice").await;
        assert_eq!(app.get("/api/me", Auth::Session(&secret)).await.status, StatusCode::OK);
        let out = app.delete("/api/session", Auth::Session(&secret)).await;
        assert_eq!(out.status, StatusCode::NO_CONTENT);
        assert!(out.set_cookie().starts_with("atr_session=;"), "{}", out.set_cookie());
        assert!(out.set_cookie().contains("Max-Age=0"), "{}", out.set_cookie());
        let me = app.get("/api/me", Auth::Session(&secret)).await;
        assert_eq!(me.status, StatusCode::UNAUTHORIZED, "the session outlived sign-out");
        assert!(app.store.account_table_text("sessions").await.unwrap().is_empty());
        app.finish().await;
    }
}

#[tokio::test]
async fn an_anonymous_caller_has_no_me() {
    for app in apps().await {
        let me = app.get("/api/me", Auth::Nobody).await;
        assert_eq!(me.status, StatusCode::UNAUTHORIZED);
        assert_eq!(me.json["error"]["code"], "unauthenticated");
        assert!(me.message().contains("not signed in"), "{}", me.message());
        // A cookie that is not a session of this service is ignored, not an error.
        let stale = app.get("/api/me", Auth::Session(&"0".repeat(64))).await;
        assert_eq!(stale.status, StatusCode::UNAUTHORIZED);
        app.finish().await;
    }
}

#[tokio::test]
async fn bad_sign_in_bodies_name_the_field() {
    for app in apps().await {
        let extra = app
            .post("/api/session", Auth::Nobody, &json!({ "user": "alice", "password": PASSWORD, "remember": true }))
            .await;
        assert_eq!(extra.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", extra.text);
        assert!(extra.message().contains("remember"), "{}", extra.message());
        assert_eq!(extra.json["error"]["details"]["field"], "remember");

        let missing = app.post("/api/session", Auth::Nobody, &json!({ "user": "alice" })).await;
        assert_eq!(missing.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(missing.json["error"]["details"]["field"], "password", "{}", missing.text);

        let typed = app.post("/api/session", Auth::Nobody, &json!({ "user": 7, "password": PASSWORD })).await;
        assert_eq!(typed.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(typed.json["error"]["details"]["field"], "user", "{}", typed.text);

        let broken = app.send(Method::POST, "/api/session", Auth::Nobody, Body::JsonText("{\"user\": ")).await;
        assert_eq!(broken.status, StatusCode::BAD_REQUEST);
        assert_eq!(broken.json["error"]["code"], "bad_request");
        app.finish().await;
    }
}

#[tokio::test]
async fn stored_sessions_and_accounts_hold_no_secret() {
    for app in apps().await {
        app.account("alice", false).await;
        let secret = app.sign_in("alice").await;
        let sessions = app.store.account_table_text("sessions").await.unwrap();
        assert_eq!(sessions.len(), 1);
        assert!(!sessions[0].contains(&secret), "the session secret is stored: {}", sessions[0]);
        assert!(sessions[0].contains(&sha256_hex(&secret)), "the session row is keyed by the secret's hash");
        let accounts = app.store.account_table_text("accounts").await.unwrap();
        assert_eq!(accounts.len(), 1);
        assert!(!accounts[0].contains(PASSWORD), "the password is stored: {}", accounts[0]);
        assert!(accounts[0].contains("$argon2id$"), "the password is kept as an argon2id PHC string");
        app.finish().await;
    }
}
