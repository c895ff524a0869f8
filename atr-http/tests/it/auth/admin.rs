//! The admin-only endpoints: accounts, committee people, committee import, audit log
//! verification; and the first admin.

use std::collections::BTreeSet;

use atr_core::model::{Actor, EventKind, NewEvent};
use atr_core::ports::{CommitteeRepository, EventRepository, PersonRepository};
use atr_core::types::{CommitteeKey, Timestamp, UserId};
use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use super::{Auth, Body, PASSWORD, apps, uid};

fn ids(names: &[&str]) -> BTreeSet<UserId> {
    names.iter().map(|n| uid(n)).collect()
}

fn key(name: &str) -> CommitteeKey {
    CommitteeKey::parse(name).unwrap()
}

fn import_document() -> Value {
    json!({ "committees": [
        {
            "key": "incubator", "name": "Apache Incubator", "podling": false, "parent": null,
            "pmc_members": ["ipmc1", "ipmc2"], "committers": ["ipmc1"], "release_managers": []
        },
        {
            "key": "tooling", "name": "Apache Tooling", "podling": true, "parent": "incubator",
            "pmc_members": ["alice", "bob"], "committers": ["alice", "bob", "carol"], "release_managers": ["dave"]
        }
    ]})
}

#[tokio::test]
async fn admin_endpoints_refuse_anonymous_callers_non_admins_and_tokens() {
    for app in apps().await {
        app.account("root", true).await;
        app.account("alice", false).await;
        let alice = app.sign_in("alice").await;
        let root = app.sign_in("root").await;
        let token = app
            .post(
                "/api/tokens",
                Auth::Session(&root),
                &json!({ "name": "ci", "projects": ["httpd"], "activities": ["manage_release"], "expires_in_days": 1 }),
            )
            .await;
        let token = format!("Bearer {}", token.json["token"].as_str().unwrap());
        let account = json!({ "user": "zed", "password": PASSWORD, "asf_member": false, "admin": true });
        let people = json!({ "name": "HTTP Server", "pmc_members": ["alice"], "committers": ["alice"] });
        let calls = [
            (Method::POST, "/api/admin/accounts", account, "creating accounts"),
            (Method::PUT, "/api/admin/committees/httpd", people, "setting a committee's people"),
            (
                Method::POST,
                "/api/admin/committees/httpd/people",
                json!({ "user": "alice", "role": "pmc_member", "action": "add" }),
                "changing a committee's people",
            ),
            (Method::POST, "/api/admin/committees/import", import_document(), "importing committees"),
            (Method::GET, "/api/admin/audit/verify", Value::Null, "verifying the audit log"),
        ];
        for (method, uri, body, action) in calls {
            let body = body.to_string();
            let anonymous = app.send(method.clone(), uri, Auth::Nobody, Body::JsonText(&body)).await;
            assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED, "{uri}: {}", anonymous.text);

            let refused = app.send(method.clone(), uri, Auth::Session(&alice), Body::JsonText(&body)).await;
            assert_eq!(refused.status, StatusCode::FORBIDDEN, "{uri}: {}", refused.text);
            assert!(refused.message().contains("needs the role admin"), "{uri}: {}", refused.message());
            assert!(refused.message().contains(action), "{uri}: {}", refused.message());
            assert_eq!(refused.json["error"]["details"]["needs_role"], "admin");

            let by_token = app.send(method.clone(), uri, Auth::Header(&token), Body::JsonText(&body)).await;
            assert_eq!(by_token.status, StatusCode::FORBIDDEN, "{uri}: a token of an admin: {}", by_token.text);
            assert!(by_token.message().contains("needs the role admin"));
        }
        assert!(PersonRepository::get(&app.store, &uid("zed")).await.unwrap().is_none());
        assert!(CommitteeRepository::get(&app.store, &key("httpd")).await.unwrap().is_none());
        assert!(CommitteeRepository::get(&app.store, &key("tooling")).await.unwrap().is_none());
        app.finish().await;
    }
}

#[tokio::test]
async fn an_admin_creates_an_account_that_signs_in() {
    for app in apps().await {
        app.account("root", true).await;
        let root = app.sign_in("root").await;
        let body = json!({ "user": "carol", "password": PASSWORD, "asf_member": true, "admin": false });
        let created = app.post("/api/admin/accounts", Auth::Session(&root), &body).await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
        assert_eq!(created.json["person"]["id"], "carol");
        assert!(!created.text.contains(PASSWORD));
        let carol = PersonRepository::get(&app.store, &uid("carol")).await.unwrap().unwrap();
        assert!(carol.asf_member && !carol.admin);
        let session = app.sign_in("carol").await;
        let me = app.get("/api/me", Auth::Session(&session)).await;
        assert_eq!(me.json["person"]["asf_member"], true);

        let again = app.post("/api/admin/accounts", Auth::Session(&root), &body).await;
        assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.text);
        let short =
            app.post("/api/admin/accounts", Auth::Session(&root), &json!({ "user": "dan", "password": "short" })).await;
        assert_eq!(short.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(short.message().contains("password"), "{}", short.message());
        let bad_user = app
            .post("/api/admin/accounts", Auth::Session(&root), &json!({ "user": "Dan!", "password": PASSWORD }))
            .await;
        assert_eq!(bad_user.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(bad_user.json["error"]["details"]["field"], "user", "{}", bad_user.text);
        app.finish().await;
    }
}

#[tokio::test]
async fn an_imported_committee_document_is_read_back() {
    for app in apps().await {
        app.account("root", true).await;
        let root = app.sign_in("root").await;
        let answer = app.post("/api/admin/committees/import", Auth::Session(&root), &import_document()).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
        assert_eq!(answer.json["imported"], 2);
        assert_eq!(answer.json["created"], json!(["incubator", "tooling"]));

        let tooling = CommitteeRepository::get(&app.store, &key("tooling")).await.unwrap().unwrap();
        assert_eq!(tooling.name, "Apache Tooling");
        assert!(tooling.podling);
        assert_eq!(tooling.parent, Some(key("incubator")));
        assert_eq!(tooling.pmc_members, ids(&["alice", "bob"]));
        assert_eq!(tooling.committers, ids(&["alice", "bob", "carol"]));
        assert_eq!(tooling.release_managers, ids(&["dave"]));
        let incubator = CommitteeRepository::get(&app.store, &key("incubator")).await.unwrap().unwrap();
        assert_eq!(incubator.pmc_members, ids(&["ipmc1", "ipmc2"]));
        assert!(!incubator.podling && incubator.parent.is_none());

        // A second import replaces the listed committees whole.
        let update = json!({ "committees": [
            { "key": "tooling", "name": "Apache Tooling", "parent": "incubator", "pmc_members": ["erin"], "committers": [] }
        ]});
        let answer = app.post("/api/admin/committees/import", Auth::Session(&root), &update).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
        assert_eq!(answer.json["updated"], json!(["tooling"]));
        let tooling = CommitteeRepository::get(&app.store, &key("tooling")).await.unwrap().unwrap();
        assert_eq!(tooling.pmc_members, ids(&["erin"]));
        assert!(tooling.release_managers.is_empty() && !tooling.podling);
        app.finish().await;
    }
}

#[tokio::test]
async fn a_faulty_import_names_its_fault_and_writes_nothing() {
    for app in apps().await {
        app.account("root", true).await;
        let root = app.sign_in("root").await;
        let committee = |k: &str, parent: Option<&str>| json!({ "key": k, "name": "X", "parent": parent, "pmc_members": [], "committers": [] });
        let cases = [
            (
                json!({ "committees": [committee("ok", None), committee("lost", Some("nowhere"))] }),
                "committees[1].parent",
            ),
            (json!({ "committees": [committee("ok", None), committee("ok", None)] }), "committees[1].key"),
            (json!({ "committees": [committee("Bad Key", None)] }), "committees[0].key"),
            (
                json!({ "committees": [{ "key": "ok", "name": "X", "pmc_members": [], "committers": [], "chair": "x" }] }),
                "chair",
            ),
            (json!({ "committees": [{ "key": "ok", "name": "X", "committers": [] }] }), "pmc_members"),
            (
                json!({ "committees": [{ "key": "ok", "name": " ", "pmc_members": [], "committers": [] }] }),
                "committees[0].name",
            ),
            (json!({ "groups": [] }), "groups"),
        ];
        for (document, field) in cases {
            let answer = app.post("/api/admin/committees/import", Auth::Session(&root), &document).await;
            assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY, "{document}: {}", answer.text);
            assert!(answer.message().contains(field), "{document}: {}", answer.message());
        }
        assert!(CommitteeRepository::get(&app.store, &key("ok")).await.unwrap().is_none(), "a refused import wrote");
        app.finish().await;
    }
}

#[tokio::test]
async fn putting_a_committee_replaces_its_people() {
    for app in apps().await {
        app.account("root", true).await;
        let root = app.sign_in("root").await;
        let put = |body: Value| {
            let root = root.clone();
            let app = &app;
            async move {
                app.send(Method::PUT, "/api/admin/committees/httpd", Auth::Session(&root), Body::Json(&body)).await
            }
        };
        let nameless = put(json!({ "pmc_members": ["alice"], "committers": ["alice"] })).await;
        assert_eq!(nameless.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(nameless.message().contains("name"), "{}", nameless.message());

        let first = put(json!({ "name": "Apache HTTP Server", "pmc_members": ["alice"], "committers": ["alice", "bob"], "release_managers": ["bob"] })).await;
        assert_eq!(first.status, StatusCode::OK, "{}", first.text);
        let second = put(json!({ "pmc_members": ["bob"], "committers": ["bob"] })).await;
        assert_eq!(second.status, StatusCode::OK, "{}", second.text);
        let httpd = CommitteeRepository::get(&app.store, &key("httpd")).await.unwrap().unwrap();
        assert_eq!(httpd.name, "Apache HTTP Server", "an absent name is kept");
        assert_eq!(httpd.pmc_members, ids(&["bob"]));
        assert_eq!(httpd.committers, ids(&["bob"]));
        assert!(httpd.release_managers.is_empty());

        let orphan = put(json!({ "parent": "nowhere", "pmc_members": [], "committers": [] })).await;
        assert_eq!(orphan.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(orphan.message().contains("parent"), "{}", orphan.message());
        let unknown = put(json!({ "pmc_members": [], "committers": [], "chair": "bob" })).await;
        assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(unknown.message().contains("chair"), "{}", unknown.message());
        app.finish().await;
    }
}

#[tokio::test]
async fn the_first_admin_is_created_once() {
    for app in apps().await {
        assert!(atr_http::auth::ensure_admin(&app.state, &uid("root"), PASSWORD).await.unwrap());
        let root = PersonRepository::get(&app.store, &uid("root")).await.unwrap().unwrap();
        assert!(root.admin);
        assert!(!atr_http::auth::ensure_admin(&app.state, &uid("root"), "another long password").await.unwrap());
        // The password was not replaced: the first one still signs in.
        let session = app.sign_in("root").await;
        let me = app.get("/api/me", Auth::Session(&session)).await;
        assert_eq!(me.json["person"]["admin"], true);
        assert!(atr_http::auth::ensure_admin(&app.state, &uid("other"), "short").await.is_err());
        app.finish().await;
    }
}

#[tokio::test]
async fn an_admin_verifies_the_audit_log() {
    for app in apps().await {
        app.account("root", true).await;
        app.account("alice", false).await;
        let root = app.sign_in("root").await;
        let fresh = app.get("/api/admin/audit/verify", Auth::Session(&root)).await;
        assert_eq!(fresh.status, StatusCode::OK, "{}", fresh.text);
        assert_eq!(fresh.json["intact"], true, "{}", fresh.text);
        let start = fresh.json["events"].as_u64().unwrap();

        for _ in 0..3 {
            let event = NewEvent::global(Timestamp::from_unix(1_750_000_000), Actor::System, EventKind::PolicyChanged);
            EventRepository::append(&app.store, &event).await.unwrap();
        }
        let verified = app.get("/api/admin/audit/verify", Auth::Session(&root)).await;
        assert_eq!(verified.status, StatusCode::OK, "{}", verified.text);
        assert_eq!(verified.json["intact"], true, "{}", verified.text);
        assert_eq!(verified.json["events"].as_u64(), Some(start + 3), "{}", verified.text);
        let head = verified.json["head"].as_str().unwrap();
        assert_eq!(head.len(), 64, "{head}");
        assert_ne!(fresh.json["head"], verified.json["head"]);

        let alice = app.sign_in("alice").await;
        let refused = app.get("/api/admin/audit/verify", Auth::Session(&alice)).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.text);
        assert!(refused.message().contains("verifying the audit log"), "{}", refused.message());
        assert_eq!(refused.json["error"]["details"]["needs_role"], "admin");
        let anonymous = app.get("/api/admin/audit/verify", Auth::Nobody).await;
        assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED, "{}", anonymous.text);
        app.finish().await;
    }
}

#[tokio::test]
async fn one_role_changes_atomically_and_concurrent_changes_are_all_kept() {
    for app in apps().await {
        app.account("root", true).await;
        let root = app.sign_in("root").await;
        let uri = "/api/admin/committees/httpd/people";
        let change = |user: &str, role: &str, action: &str| json!({ "user": user, "role": role, "action": action });
        let unknown = app.post(uri, Auth::Session(&root), &change("erin", "pmc_member", "add")).await;
        assert_eq!(unknown.status, StatusCode::NOT_FOUND, "{}", unknown.text);
        let create = json!({ "name": "Apache HTTP Server", "pmc_members": ["alice"], "committers": ["dev"] });
        let created =
            app.send(Method::PUT, "/api/admin/committees/httpd", Auth::Session(&root), Body::Json(&create)).await;
        assert_eq!(created.status, StatusCode::OK, "{}", created.text);

        let added = app.post(uri, Auth::Session(&root), &change("erin", "pmc_member", "add")).await;
        assert_eq!(added.status, StatusCode::OK, "{}", added.text);
        assert_eq!(added.json["changed"], true);
        assert_eq!(added.json["committee"]["pmc_members"], json!(["alice", "erin"]));
        assert_eq!(added.json["committee"]["committers"], json!(["dev"]), "other roles are left alone");
        let again = app.post(uri, Auth::Session(&root), &change("erin", "pmc_member", "add")).await;
        assert_eq!(again.json["changed"], false, "{}", again.text);
        let removed = app.post(uri, Auth::Session(&root), &change("alice", "pmc_member", "remove")).await;
        assert_eq!(removed.json["committee"]["pmc_members"], json!(["erin"]), "{}", removed.text);
        for (body, field) in [
            (change("erin", "chair", "add"), "role"),
            (change("erin", "committer", "toggle"), "action"),
            (change("Erin!", "committer", "add"), "user"),
        ] {
            let refused = app.post(uri, Auth::Session(&root), &body).await;
            assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {}", refused.text);
            assert_eq!(refused.json["error"]["details"]["field"], field, "{body}: {}", refused.text);
        }

        // Twenty admins' grants at once: each is applied to the committee as it is, none is lost.
        let mut running = tokio::task::JoinSet::new();
        for n in 0..20 {
            let client = app.client();
            let root = root.clone();
            running.spawn(async move {
                let body = json!({ "user": format!("person{n}"), "role": "release_manager", "action": "add" });
                client.send(Method::POST, uri, Auth::Session(&root), Body::Json(&body)).await.status
            });
        }
        while let Some(status) = running.join_next().await {
            assert_eq!(status.unwrap(), StatusCode::OK);
        }
        let httpd = CommitteeRepository::get(&app.store, &key("httpd")).await.unwrap().unwrap();
        assert_eq!(httpd.release_managers.len(), 20, "{:?}", httpd.release_managers);
        assert_eq!(httpd.pmc_members, ids(&["erin"]));
        app.finish().await;
    }
}
