//! Setting a release's source: who may, when, and the checks queued again with it.

use super::super::ServiceError;
use super::super::fakes::{Fakes, T0, draft, person, release_key};
use crate::model::{Analyze, EventKind, Phase, Release, RevisionNumber, SourceOrigin, TaskDescriptor};
use crate::ports::Write;

fn origin() -> SourceOrigin {
    SourceOrigin::new("https://github.com/apache/httpd.git", "6c1e3c5a1a0e4d6a8f0b2c3d4e5f60718293a4b5", Some("2.4.68"))
        .unwrap()
}

fn with_revisions(n: u32) -> Release {
    let mut release = draft("2.4.68");
    release.latest_revision = RevisionNumber::new(n);
    release
}

#[tokio::test]
async fn the_source_is_stored_and_the_latest_revision_checked_again() {
    let mut f = Fakes::httpd().with_releases(vec![with_revisions(3)]);
    let log = f.commit_all();
    let set = f.services().set_release_source(&person("rm"), &release_key("2.4.68"), Some(origin()), T0).await.unwrap();
    assert_eq!(set.release.source, Some(origin()));
    let mut stored = with_revisions(3);
    stored.source = Some(origin());
    assert_eq!(log.writes(), [Write::UpdateRelease(stored)]);
    assert_eq!(log.events(), [EventKind::SourceSet { commit: Some(origin().commit) }]);
    let analyze = TaskDescriptor::of(&Analyze {
        release: release_key("2.4.68"),
        revision: RevisionNumber::new(3).unwrap(),
        force: false,
    })
    .unwrap();
    assert_eq!(log.tasks(), [analyze]);
}

#[tokio::test]
async fn a_release_without_revisions_queues_no_checks_and_clearing_is_recorded() {
    let mut release = draft("2.4.68");
    release.source = Some(origin());
    let mut f = Fakes::httpd().with_releases(vec![release]);
    let log = f.commit_all();
    let set = f.services().set_release_source(&person("rm"), &release_key("2.4.68"), None, T0).await.unwrap();
    assert_eq!(set.release.source, None);
    assert!(set.analyze.is_none());
    assert!(log.tasks().is_empty());
    assert_eq!(log.events(), [EventKind::SourceSet { commit: None }]);
}

#[tokio::test]
async fn only_a_release_manager_sets_it_and_only_before_the_vote() {
    let mut f = Fakes::httpd().with_releases(vec![with_revisions(1)]);
    f.changes.expect_commit().times(0);
    let s = f.services();
    let refused = s.set_release_source(&person("dev1"), &release_key("2.4.68"), Some(origin()), T0).await;
    assert!(
        matches!(&refused, Err(ServiceError::Denied(d)) if d.to_string().contains("manage_release")),
        "{refused:?}"
    );

    let mut voting = with_revisions(1);
    voting.phase = Phase::Candidate;
    let mut f = Fakes::httpd().with_releases(vec![voting]);
    f.changes.expect_commit().times(0);
    let refused = f.services().set_release_source(&person("rm"), &release_key("2.4.68"), Some(origin()), T0).await;
    assert!(
        matches!(&refused, Err(ServiceError::Transition(e)) if e.to_string().contains("set the source")),
        "{refused:?}"
    );
}
