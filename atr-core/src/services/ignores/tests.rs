//! Check ignores and draft deletion: who may, what is refused before anything is written, and
//! what the committed change holds.

use std::sync::{Arc, Mutex};

use super::super::ServiceError;
use super::super::fakes::{Fakes, T0, draft, person, release_key};
use crate::auth::Principal;
use crate::lifecycle::TransitionError;
use crate::model::{CheckIgnore, CheckStatus, EventKind, Phase};
use crate::ports::{StoreError, Write};
use crate::types::ProjectKey;

fn httpd() -> ProjectKey {
    ProjectKey::parse("httpd").unwrap()
}

fn license_ignore() -> CheckIgnore {
    CheckIgnore {
        checker_glob: Some("license_headers".into()),
        path_glob: Some("*/test/*".into()),
        ..CheckIgnore::new(httpd(), "  test data carries no header  ")
    }
}

/// Fakes whose project holds `stored` ignores, and whose commits are recorded.
fn with_ignores(stored: Vec<CheckIgnore>) -> (Fakes, super::super::fakes::Log) {
    let mut f = Fakes::httpd();
    f.projects.expect_ignores().returning(move |_| Ok(stored.clone()));
    let log = f.commit_all();
    (f, log)
}

#[tokio::test]
async fn an_ignore_takes_the_id_of_its_event_and_its_reason_is_trimmed() {
    let (f, log) = with_ignores(vec![]);
    let added = f.services().add_ignore(&person("rm"), &httpd(), license_ignore(), T0).await.unwrap();
    assert_eq!(added.id, 1, "the id of the change's first event");
    assert_eq!(added.reason, "test data carries no header");
    assert_eq!(log.events(), vec![EventKind::IgnoreAdded]);
    let Some(Write::AddIgnore(written)) = log.writes().into_iter().next() else { panic!("{:?}", log.writes()) };
    assert_eq!(written.checker_glob.as_deref(), Some("license_headers"));
    assert_eq!(written.reason, "test data carries no header");
}

#[tokio::test]
async fn adding_an_ignore_is_refused_before_anything_is_written() {
    let stored = CheckIgnore { id: 7, reason: "another reason".into(), ..license_ignore() };
    let cases: Vec<(Principal, CheckIgnore, &str)> = vec![
        // Committers and visitors may not change what a vote starts on.
        (person("dev1"), license_ignore(), "denied"),
        (Principal::Anonymous, license_ignore(), "denied"),
        (person("rm"), CheckIgnore::new(httpd(), "no selector"), "ignore"),
        (person("rm"), CheckIgnore { status: Some(CheckStatus::Success), ..license_ignore() }, "status"),
        (person("rm"), CheckIgnore { reason: String::new(), ..license_ignore() }, "reason"),
        // The same selectors as ignore 7, whatever the reason says.
        (person("rm"), license_ignore(), "conflict"),
    ];
    for (principal, ignore, expected) in cases {
        let (f, log) = with_ignores(vec![stored.clone()]);
        let error = f.services().add_ignore(&principal, &httpd(), ignore.clone(), T0).await.unwrap_err();
        let kind = match &error {
            ServiceError::Denied(_) => "denied",
            ServiceError::Field { field, .. } => field.as_str(),
            ServiceError::Conflict(message) => {
                assert!(message.contains("(id 7)"), "{message}");
                "conflict"
            }
            other => panic!("{other}"),
        };
        assert_eq!(kind, expected, "{ignore:?}: {error}");
        assert_eq!(log.commits(), 0, "{ignore:?}");
    }
}

#[tokio::test]
async fn a_project_keeps_a_bounded_number_of_ignores() {
    let full: Vec<CheckIgnore> = (1..=crate::model::check::MAX_IGNORES as u64)
        .map(|id| CheckIgnore { id, message_glob: Some(format!("m{id}")), ..license_ignore() })
        .collect();
    let (f, log) = with_ignores(full);
    let error = f.services().add_ignore(&person("rm"), &httpd(), license_ignore(), T0).await.unwrap_err();
    assert!(matches!(&error, ServiceError::Invalid(m) if m.contains("delete one first")), "{error}");
    assert_eq!(log.commits(), 0);
}

#[tokio::test]
async fn deleting_an_ignore_names_it_and_an_unknown_one_is_not_found() {
    let stored = CheckIgnore { id: 7, ..license_ignore() };
    let (f, log) = with_ignores(vec![stored.clone()]);
    let s = f.services();
    let deleted = s.delete_ignore(&person("pmc1"), &httpd(), 7, T0).await.unwrap();
    assert_eq!(deleted, stored);
    assert_eq!(log.events(), vec![EventKind::IgnoreDeleted { id: 7 }]);
    assert_eq!(log.writes(), vec![Write::DeleteIgnore { project: httpd(), id: 7 }]);
    let error = s.delete_ignore(&person("pmc1"), &httpd(), 8, T0).await.unwrap_err();
    assert!(matches!(&error, ServiceError::NotFound(m) if m == "ignore 8 of project httpd"), "{error}");
    let error = s.delete_ignore(&person("dev1"), &httpd(), 7, T0).await.unwrap_err();
    assert!(matches!(error, ServiceError::Denied(_)), "{error}");
    assert_eq!(log.commits(), 1);
}

#[tokio::test]
async fn a_draft_is_deleted_with_its_files_after_the_commit() {
    let mut release = draft("2.4.70");
    release.latest_revision = crate::model::RevisionNumber::new(3);
    let mut f = Fakes::httpd().with_releases(vec![release.clone()]);
    let order = Arc::new(Mutex::new(Vec::new()));
    let files_order = order.clone();
    f.files.expect_delete_release().times(1).returning(move |key| {
        assert_eq!(key, &release_key("2.4.70"));
        files_order.lock().unwrap().push("files");
        Err(StoreError::Backend("disk gone".into()))
    });
    let log = f.commit_all();
    let deleted = f.services().delete_draft(&person("rm"), &release_key("2.4.70"), T0).await.unwrap();
    assert_eq!(log.writes(), vec![Write::DeleteRelease(release.clone())]);
    assert_eq!(log.events(), vec![EventKind::DraftDeleted { revisions: 3 }]);
    assert_eq!(order.lock().unwrap().as_slice(), ["files"]);
    // The rows are gone, so the draft is deleted; the files left are said, for the log.
    assert_eq!(deleted.release, release);
    assert_eq!(deleted.files_left.as_deref(), Some("storage failed: disk gone"));
}

#[tokio::test]
async fn only_a_release_manager_deletes_only_a_draft() {
    let mut candidate = draft("2.4.71");
    candidate.phase = Phase::Candidate;
    let f = Fakes::httpd().with_releases(vec![draft("2.4.70"), candidate]);
    // No commit and no file removal are expected: either would panic.
    let s = f.services();
    let error = s.delete_draft(&person("dev1"), &release_key("2.4.70"), T0).await.unwrap_err();
    assert!(matches!(error, ServiceError::Denied(_)), "{error}");
    let error = s.delete_draft(&person("rm"), &release_key("2.4.71"), T0).await.unwrap_err();
    assert!(
        matches!(error, ServiceError::Transition(TransitionError::WrongPhase { actual: Phase::Candidate, .. })),
        "{error}"
    );
    assert!(error.to_string().contains("cannot delete the release in phase"), "{error}");
    let error = s.delete_draft(&person("rm"), &release_key("9.9"), T0).await.unwrap_err();
    assert!(matches!(error, ServiceError::NotFound(_)), "{error}");
}
