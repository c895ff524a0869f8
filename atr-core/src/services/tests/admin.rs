//! Unit tests of the account, committee, project and task use cases over mocks: each asks
//! `authorize` (the admin check lives in the role table), refuses before it writes, and keeps
//! secrets and stored error text away from callers.

use std::collections::BTreeSet;

use super::*;
use crate::auth::{Activity, DenyReason, MachineToken, PasswordHash, Secret, StoredToken};
use crate::model::{CommitteeRole, Metadata, RoleAction, RoleChange};
use crate::ports::{AuditVerdict, TaskRecord};
use crate::services::{
    CommitteeUpdate, NewAccount, NewProduct, NewToken, SIGN_IN_REFUSED, check_metadata, task_failure,
};
use crate::types::Sha256Digest;

fn admin() -> Principal {
    Principal::Person(Person { id: uid("root"), asf_member: false, admin: true, consent: None })
}

fn grant(owner: &str, activities: &[Activity]) -> MachineToken {
    MachineToken::new(
        "0123456789abcdef01234567".into(),
        uid(owner),
        BTreeSet::from([ProjectKey::parse("httpd").unwrap()]),
        activities.iter().copied().collect(),
        T0,
        T0.plus_hours(24),
    )
    .unwrap()
}

fn token_of(owner: &str, activities: &[Activity]) -> Principal {
    let owner_person = Person { id: uid(owner), asf_member: false, admin: owner == "root", consent: None };
    Principal::Token { owner: owner_person, token: grant(owner, activities) }
}

fn account(user: &str, password: &str) -> NewAccount {
    NewAccount { user: uid(user), password: Secret::new(password), asf_member: false, admin: false }
}

#[tokio::test]
async fn admin_use_cases_are_refused_to_everyone_but_admins_before_anything_is_written() {
    let (m, _) = Mocks::new(httpd_committee(), project(PolicyOverrides::default()));
    // No expectation on accounts, credentials, committees.put or the audit log: a call panics.
    let s = m.services();
    let httpd = CommitteeKey::parse("httpd").unwrap();
    for principal in [person("pmc1"), token_of("root", &[Activity::ManageRelease]), Principal::Anonymous] {
        let refusals = [
            (
                Activity::ManageAccounts,
                denied(s.create_account(&principal, account("zed", "long enough pw"), T0).await),
            ),
            (
                Activity::ManageCommittees,
                denied(s.put_committee(&principal, &httpd, CommitteeUpdate::default(), T0).await),
            ),
            (Activity::ManageCommittees, denied(s.import_committees(&principal, vec![httpd_committee()], T0).await)),
            (
                Activity::ManageCommittees,
                denied(
                    s.change_committee_role(
                        &principal,
                        &httpd,
                        &RoleChange { user: uid("erin"), role: CommitteeRole::PmcMember, action: RoleAction::Add },
                        T0,
                    )
                    .await,
                ),
            ),
            (
                Activity::CreateProject,
                denied(s.create_project(&principal, project(PolicyOverrides::default()), T0).await),
            ),
            (Activity::VerifyAudit, denied(s.verify_audit(&principal, T0).await)),
        ];
        for (activity, refusal) in refusals {
            assert_eq!(refusal.activity, activity);
            let expected = match &principal {
                Principal::Token { .. } => DenyReason::TokenActivity,
                _ => DenyReason::NeedsRole(vec![crate::auth::Role::Admin]),
            };
            assert_eq!(refusal.reason, expected, "{principal:?}");
        }
    }
}

#[tokio::test]
async fn an_admin_creates_an_account_after_its_password_is_checked_and_hashed() {
    let (mut m, _) = Mocks::new(httpd_committee(), project(PolicyOverrides::default()));
    m.credentials.expect_hash_password().times(1).returning(|p| {
        assert_eq!(p.expose(), "a long enough password");
        Ok(PasswordHash::new("$argon2id$hash"))
    });
    m.accounts.expect_create_account().times(1).returning(|person, hash| {
        assert_eq!((person.id.as_str(), person.admin, hash.as_str()), ("zed", false, "$argon2id$hash"));
        Ok(())
    });
    m.persons
        .expect_get()
        .returning(|id| Ok(Some(Person { id: id.clone(), asf_member: false, admin: false, consent: None })));
    let s = m.services();
    let weak = s.create_account(&admin(), account("zed", "short"), T0).await;
    assert!(matches!(&weak, Err(ServiceError::Field { field, .. }) if field == "password"), "{weak:?}");
    let created = s.create_account(&admin(), account("zed", "a long enough password"), T0).await.unwrap();
    assert_eq!(created.id, uid("zed"));
}

#[tokio::test]
async fn a_refused_sign_in_is_the_same_for_unknown_users_and_wrong_passwords_and_does_the_same_work() {
    let (mut m, _) = Mocks::new(httpd_committee(), project(PolicyOverrides::default()));
    m.accounts.expect_password_hash().returning(|u| Ok((u.as_str() == "alice").then(|| PasswordHash::new("$h"))));
    // Verified once per attempt, also without an account (against a decoy).
    m.credentials.expect_verify_password().times(3).returning(|_, _| Ok(false));
    let s = m.services();
    for user in ["alice", "mallory", "Not A User"] {
        let refused = s.sign_in(user, &Secret::new("wrong"), 60, T0).await;
        assert!(matches!(&refused, Err(ServiceError::Unauthenticated(m)) if m == SIGN_IN_REFUSED), "{refused:?}");
    }
}

#[tokio::test]
async fn a_sign_in_stores_only_the_digest_of_the_session_secret() {
    let (mut m, _) = Mocks::new(httpd_committee(), project(PolicyOverrides::default()));
    m.accounts.expect_password_hash().returning(|_| Ok(Some(PasswordHash::new("$h"))));
    m.credentials.expect_verify_password().returning(|_, _| Ok(true));
    m.persons
        .expect_get()
        .returning(|id| Ok(Some(Person { id: id.clone(), asf_member: false, admin: false, consent: None })));
    m.credentials.expect_new_secret().returning(|| Ok(Secret::new("s3cret")));
    m.credentials
        .expect_digest()
        .returning(|s| Sha256Digest::from_bytes([u8::try_from(s.expose().len()).unwrap(); 32]));
    m.accounts.expect_create_session().times(1).returning(|digest, user, created, expires| {
        assert_eq!(digest, &Sha256Digest::from_bytes([6; 32]));
        assert_eq!((user.as_str(), created, expires), ("alice", T0, T0.plus_seconds(60)));
        Ok(())
    });
    let signed = m.services().sign_in("alice", &Secret::new("right"), 60, T0).await.unwrap();
    assert_eq!((signed.secret.expose(), signed.expires_at), ("s3cret", T0.plus_seconds(60)));
}

#[tokio::test]
async fn a_token_cannot_create_tokens_and_a_presented_token_is_checked() {
    let (mut m, _) = Mocks::new(httpd_committee(), project(PolicyOverrides::default()));
    let stored_digest = Sha256Digest::from_bytes([7; 32]);
    m.credentials
        .expect_digest()
        .returning(|s| Sha256Digest::from_bytes([if s.expose() == "right" { 7 } else { 8 }; 32]));
    m.accounts.expect_token().returning(move |_| {
        Ok(Some(StoredToken {
            grant: grant("rm", &[Activity::ManageRelease]),
            name: "ci".into(),
            secret_hash: stored_digest.to_hex(),
            revoked_at: None,
            last_used_at: None,
        }))
    });
    m.persons
        .expect_get()
        .returning(|id| Ok(Some(Person { id: id.clone(), asf_member: false, admin: false, consent: None })));
    m.accounts.expect_touch_token().returning(|_, _| Err(StoreError::Backend("disk full".into())));
    let s = m.services();
    let request = NewToken {
        name: "ci".into(),
        projects: BTreeSet::from([ProjectKey::parse("httpd").unwrap()]),
        activities: BTreeSet::from([Activity::ManageRelease]),
        expires_in_days: 30,
    };
    let refused = denied(s.create_token(&token_of("rm", &[Activity::ManageRelease]), request, T0).await);
    assert_eq!((refused.activity, &refused.reason), (Activity::CreateToken, &DenyReason::SessionOnly));
    assert!(refused.to_string().contains("a token cannot create tokens"), "{refused}");

    let wrong = s.token_principal("0123456789abcdef01234567", &Secret::new("wrong"), T0).await;
    assert!(matches!(&wrong, Err(ServiceError::Unauthenticated(m)) if m.contains("not recognised")), "{wrong:?}");
    let (principal, noted) = s.token_principal("0123456789abcdef01234567", &Secret::new("right"), T0).await.unwrap();
    assert!(matches!(principal, Principal::Token { ref owner, .. } if owner.id == uid("rm")));
    assert!(noted.is_some(), "a failure to note the use is handed back for the log");
    let expired = s.token_principal("0123456789abcdef01234567", &Secret::new("right"), T0.plus_hours(24)).await;
    assert!(matches!(&expired, Err(ServiceError::Unauthenticated(m)) if m.contains("expired")), "{expired:?}");
}

fn unauthenticated<T>(result: &crate::services::ServiceResult<T>, text: &str) -> bool {
    matches!(result, Err(ServiceError::Unauthenticated(m)) if m.contains(text))
}

#[tokio::test]
async fn a_bearer_string_is_parsed_once_and_a_held_token_is_checked_again_at_every_call() {
    let (mut m, _) = Mocks::new(httpd_committee(), project(PolicyOverrides::default()));
    let right = "ab".repeat(32);
    let right_digest = Sha256Digest::from_bytes([7; 32]);
    let expected = right.clone();
    m.credentials
        .expect_digest()
        .returning(move |s| Sha256Digest::from_bytes([if s.expose() == expected { 7 } else { 8 }; 32]));
    let revoked = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let seen = revoked.clone();
    m.accounts.expect_token().returning(move |id| {
        let at = seen.load(std::sync::atomic::Ordering::SeqCst).then(|| T0.plus_hours(1));
        Ok((id == "0123456789abcdef01234567").then(|| StoredToken {
            grant: grant("rm", &[Activity::ManageRelease]),
            name: "ci".into(),
            secret_hash: right_digest.to_hex(),
            revoked_at: at,
            last_used_at: None,
        }))
    });
    m.persons
        .expect_get()
        .returning(|id| Ok(Some(Person { id: id.clone(), asf_member: false, admin: false, consent: None })));
    m.accounts.expect_touch_token().returning(|_, _| Ok(()));
    let s = m.services();

    for garbled in
        ["", "nonsense", "atr_0123456789abcdef01234567", &format!("atr_0123456789abcdef01234567_{}", "AB".repeat(32))]
    {
        let refused = s.bearer_principal(garbled, T0).await;
        assert!(unauthenticated(&refused, "malformed"), "{garbled:?}: {refused:?}");
    }
    let wrong = s.bearer_principal(&format!("atr_0123456789abcdef01234567_{}", "cd".repeat(32)), T0).await;
    assert!(unauthenticated(&wrong, "not recognised"), "{wrong:?}");
    let bearer = crate::auth::bearer::bearer("0123456789abcdef01234567", &Secret::new(right));
    let (principal, noted) = s.bearer_principal(&bearer, T0).await.unwrap();
    assert!(noted.is_none());
    let Principal::Token { owner, token } = principal else { panic!("not a token principal: {principal:?}") };
    assert_eq!((owner.id.as_str(), token.id()), ("rm", "0123456789abcdef01234567"));

    let committees = s.token_committees(&token).await.unwrap();
    assert_eq!(committees.iter().map(|c| c.key.to_string()).collect::<Vec<_>>(), ["httpd"]);
    assert!(committees[0].release_managers.contains(&uid("rm")));

    // Held in process: looked up again by id, for its owner only, until revoked or expired.
    let held = s.held_token_principal(token.id(), &uid("rm"), T0).await.unwrap();
    assert!(matches!(&held, Principal::Token { token: t, .. } if t == &token));
    let other = s.held_token_principal(token.id(), &uid("mallory"), T0).await;
    assert!(unauthenticated(&other, "not known"), "{other:?}");
    let unknown = s.held_token_principal("ffffffffffffffffffffffff", &uid("rm"), T0).await;
    assert!(unauthenticated(&unknown, "not known"), "{unknown:?}");
    let expired = s.held_token_principal(token.id(), &uid("rm"), T0.plus_hours(24)).await;
    assert!(unauthenticated(&expired, "expired"), "{expired:?}");
    revoked.store(true, std::sync::atomic::Ordering::SeqCst);
    let gone = s.held_token_principal(token.id(), &uid("rm"), T0).await;
    assert!(unauthenticated(&gone, "revoked"), "{gone:?}");
    assert!(unauthenticated(&s.bearer_principal(&bearer, T0).await, "revoked"));
}

#[tokio::test]
async fn an_import_is_checked_whole_before_anything_is_written() {
    let (m, log) = Mocks::new(httpd_committee(), project(PolicyOverrides::default()));
    let s = m.services();
    let named = |key: &str, parent: Option<&str>| {
        let mut c = Committee::new(CommitteeKey::parse(key).unwrap(), "X");
        c.parent = parent.map(|p| CommitteeKey::parse(p).unwrap());
        c
    };
    let cases = [
        (vec![named("ok", None), named("ok", None)], "committees[1].key"),
        (vec![named("ok", None), named("lost", Some("nowhere"))], "committees[1].parent"),
        (vec![named("self", Some("self"))], "committees[0].parent"),
        (vec![Committee::new(CommitteeKey::parse("blank").unwrap(), " ")], "committees[0].name"),
    ];
    for (document, expected) in cases {
        let refused = s.import_committees(&admin(), document, T0).await;
        assert!(matches!(&refused, Err(ServiceError::Field { field, .. }) if field == expected), "{refused:?}");
    }
    assert!(log.changes().is_empty(), "a refused import wrote");
    let report = s.import_committees(&admin(), vec![named("tooling", Some("httpd")), named("apex", None)], T0).await;
    assert_eq!(report.unwrap().created.len(), 2);
    let changes = log.changes();
    assert_eq!(changes.len(), 1, "an import is one change");
    assert_eq!(changes[0].writes.len(), 2);
}

#[tokio::test]
async fn a_role_change_is_one_store_operation_and_an_unknown_committee_is_not_found() {
    let (mut m, _) = Mocks::new(httpd_committee(), project(PolicyOverrides::default()));
    m.committees.expect_change_role().returning(|key, change| {
        if key.as_str() != "httpd" {
            return Err(StoreError::NotFound(format!("committee {key}")));
        }
        let mut c = httpd_committee();
        let changed = c.apply(change);
        Ok((c, changed))
    });
    let s = m.services();
    let change = RoleChange { user: uid("erin"), role: CommitteeRole::ReleaseManager, action: RoleAction::Add };
    let httpd = CommitteeKey::parse("httpd").unwrap();
    let done = s.change_committee_role(&admin(), &httpd, &change, T0).await.unwrap();
    assert!(done.changed && done.committee.release_managers.contains(&uid("erin")));
    let nowhere = CommitteeKey::parse("nowhere").unwrap();
    let missing = s.change_committee_role(&admin(), &nowhere, &change, T0).await;
    assert!(matches!(&missing, Err(ServiceError::NotFound(w)) if w == "committee nowhere"), "{missing:?}");
}

#[tokio::test]
async fn an_admin_verifies_the_audit_log() {
    let (mut m, _) = Mocks::new(httpd_committee(), project(PolicyOverrides::default()));
    m.audit.expect_verify().returning(|| Ok(AuditVerdict::Intact { events: 3, head: "ab".into() }));
    let verdict = m.services().verify_audit(&admin(), T0).await.unwrap();
    assert_eq!(verdict, AuditVerdict::Intact { events: 3, head: "ab".into() });
}

fn task(id: u64, release: Option<ReleaseKey>, error: Option<&str>) -> TaskRecord {
    TaskRecord {
        id,
        kind: "analyze".into(),
        args: serde_json::json!({}),
        release,
        status: TaskStatus::Failed,
        priority: 0,
        attempts: 3,
        max_attempts: 3,
        created_at_ms: 0,
        scheduled_at_ms: 0,
        started_at_ms: None,
        finished_at_ms: None,
        error: error.map(str::to_owned),
        result: None,
    }
}

#[tokio::test]
async fn a_task_is_read_only_by_those_who_may_see_its_project_and_never_with_its_stored_error() {
    let (mut m, _) = Mocks::new(httpd_committee(), project(PolicyOverrides::default()));
    let leaky = "storage failed: error returned from database: no such table: revisions (/srv/atr/atr.db)";
    m.queue.expect_get().returning(move |id| {
        Ok(Some(match id {
            1 => task(1, Some(key()), Some(leaky)),
            _ => task(id, None, Some("timed out after 600 s")),
        }))
    });
    let s = m.services();
    // A person with no role on httpd, and a visitor, may not; its people and admins may.
    for outsider in [person("outsider"), visitor(true)] {
        let refused = denied(s.task(&outsider, 1, T0).await);
        assert_eq!(refused.activity, Activity::ViewTasks);
    }
    for insider in [person("dev1"), person("rm"), person("pmc1"), admin(), token_of("rm", &[Activity::ManageRelease])] {
        let seen = s.task(&insider, 1, T0).await.unwrap();
        assert_eq!(seen.task.error, None, "the stored text is never handed out");
        assert_eq!(seen.failure.unwrap().code, "failed");
        assert!(!seen.failure.unwrap().message.contains("storage"));
    }
    // A task of no release is the foundation's: admins only.
    denied(s.task(&person("pmc1"), 2, T0).await);
    denied(s.task(&token_of("root", &[Activity::ManageRelease]), 2, T0).await);
    assert_eq!(s.task(&admin(), 2, T0).await.unwrap().failure.unwrap().code, "timed_out");
}

#[tokio::test]
async fn a_listing_shows_only_the_tasks_the_caller_may_see() {
    let (mut m, _) = Mocks::new(httpd_committee(), project(PolicyOverrides::default()));
    m.queue.expect_with_status().times(1).returning(|_, page| {
        assert_eq!(page.after, None);
        Ok(vec![task(1, Some(key()), None), task(2, None, None), task(3, Some(key()), None)])
    });
    let s = m.services();
    let ids = |views: Vec<crate::services::TaskView>| views.iter().map(|v| v.task.id).collect::<Vec<_>>();
    assert_eq!(ids(s.tasks(&person("dev1"), TaskStatus::Failed, 100, T0).await.unwrap()), [1, 3]);
}

#[tokio::test]
async fn cancelling_a_task_of_no_release_needs_manage_tasks() {
    let (mut m, _) = Mocks::new(httpd_committee(), project(PolicyOverrides::default()));
    m.queue.expect_get().returning(|id| Ok(Some(task(id, None, None))));
    let s = m.services();
    let refused = denied(s.cancel_task(&person("pmc1"), 2, T0).await);
    assert_eq!(refused.activity, Activity::ManageTasks);
}

#[tokio::test]
async fn a_completed_task_cannot_be_retried_and_says_so() {
    let (mut m, _) = Mocks::new(httpd_committee(), project(PolicyOverrides::default()));
    m.queue.expect_get().returning(|id| {
        let status = if id == 1 { TaskStatus::Completed } else { TaskStatus::Active };
        Ok(Some(TaskRecord { status, ..task(id, Some(key()), None) }))
    });
    // The queue is never asked to retry a task that has not failed or been cancelled.
    m.queue.expect_retry().never();
    let s = m.services();
    match s.retry_task(&person("rm"), 1, T0).await {
        Err(ServiceError::Conflict(message)) => {
            assert!(message.contains("task 1 completed") && message.contains("cannot be retried"), "{message}");
            assert!(!message.contains("release"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    match s.retry_task(&person("rm"), 2, T0).await {
        Err(ServiceError::Conflict(message)) => assert!(message.contains("task 2 is still active"), "{message}"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn setting_a_product_policy_needs_manage_policy_and_a_valid_policy() {
    let (m, log) = Mocks::new(httpd_committee(), project(PolicyOverrides::default()));
    let s = m.services();
    let server = |policy: Option<PolicyOverrides>| NewProduct {
        key: crate::types::ProductKey::parse("server").unwrap(),
        metadata: Metadata { display_name: " Server ".into(), ..Metadata::default() },
        policy,
    };
    let strict = PolicyOverrides { min_hours: Some(96), ..PolicyOverrides::default() };
    let refused = denied(s.add_product(&person("dev1"), &ProjectKey::parse("httpd").unwrap(), server(None), T0).await);
    assert_eq!(refused.activity, Activity::ManageMetadata);
    let invalid = PolicyOverrides { min_hours: Some(100_000), ..PolicyOverrides::default() };
    let refused = s.add_product(&person("rm"), &ProjectKey::parse("httpd").unwrap(), server(Some(invalid)), T0).await;
    assert!(matches!(&refused, Err(ServiceError::Field { field, .. }) if field == "policy"), "{refused:?}");
    let added = s.add_product(&person("rm"), &ProjectKey::parse("httpd").unwrap(), server(Some(strict)), T0).await;
    assert_eq!(added.unwrap().metadata.display_name, "Server", "the display name is trimmed");
    let changes = log.changes();
    assert_eq!(changes.len(), 1, "the product and its events are one change");
    assert!(matches!(changes[0].writes.as_slice(), [Write::UpdateProject(p)] if p.products.len() == 1));
    assert_eq!(log.events(), [EventKind::MetadataChanged, EventKind::PolicyChanged]);
}

#[test]
fn metadata_has_limits_and_web_links() {
    let ok = Metadata { display_name: "Demo".into(), ..Metadata::default() };
    assert!(check_metadata(ok.clone(), "").is_ok());
    let refused = |m: Metadata| match check_metadata(m, "metadata.") {
        Err(ServiceError::Field { field, .. }) => field,
        other => panic!("{other:?}"),
    };
    assert_eq!(refused(Metadata { display_name: "  ".into(), ..ok.clone() }), "metadata.display_name");
    assert_eq!(refused(Metadata { homepage: Some("javascript:alert(1)".into()), ..ok.clone() }), "metadata.homepage");
    assert_eq!(
        refused(Metadata { repository: Some("https://example.org/a b".into()), ..ok.clone() }),
        "metadata.repository"
    );
    assert_eq!(refused(Metadata { description: Some("x".repeat(16 * 1024 + 1)), ..ok }), "metadata.description");
}

#[test]
fn stored_task_errors_become_stable_codes_without_detail() {
    assert_eq!(task_failure("timed out after 600 s").code, "timed_out");
    assert_eq!(task_failure("no handler for this task kind").code, "no_handler");
    let other = task_failure("storage failed: connection refused to 10.0.0.5:5432");
    assert_eq!(other.code, "failed");
    assert!(!other.message.contains("10.0.0.5") && !other.message.contains("storage failed"));
}
