//! The read side: who sees which events, what a release view and an SBOM listing hold, and that
//! reads of unknown things are not found.

use super::super::ServiceError;
use super::super::fakes::{Fakes, T0, asf_member, draft, person, release_key};
use crate::auth::Principal;
use crate::model::{
    CheckResult, CheckStatus, CveLink, CveRecord, Event, FileEntry, NewEvent, Revision, RevisionNumber,
};
use crate::ports::{EventFilter, PageRequest};
use crate::types::{CommitteeKey, CveId, ProjectKey, ReleasePath, Sha3_256Digest, Sha512Digest};

fn rev(n: u32) -> RevisionNumber {
    RevisionNumber::new(n).unwrap()
}

fn entry(path: &str) -> FileEntry {
    FileEntry {
        path: ReleasePath::parse(path).unwrap(),
        size: 3,
        sha512: Sha512Digest::from_bytes([1; 64]),
        sha3_256: Sha3_256Digest::from_bytes([2; 32]),
    }
}

fn revision(number: u32, files: &[&str]) -> Revision {
    Revision {
        release: release_key("2.4.68"),
        number: rev(number),
        parent: None,
        phase: crate::model::Phase::Draft,
        created_at: T0,
        created_by: super::super::fakes::uid("rm"),
        description: None,
        files: files.iter().map(|f| entry(f)).collect(),
    }
}

fn result(checker: &str, path: &str, status: CheckStatus) -> CheckResult {
    CheckResult {
        release: release_key("2.4.68"),
        revision: rev(2),
        checker: checker.into(),
        checker_version: "1".into(),
        path: Some(ReleasePath::parse(path).unwrap()),
        member: None,
        status,
        message: format!("{checker} says {status:?}"),
        at: T0,
    }
}

/// Mocks whose event log lists one event for any filter, with the release 2.4.68 under vote.
fn with_events() -> Fakes {
    let mut candidate = draft("2.4.68");
    candidate.phase = crate::model::Phase::Candidate;
    let mut f = Fakes::httpd().with_releases(vec![candidate]);
    f.events.expect_list().returning(|_, _| {
        let kind = crate::model::EventKind::PolicyChanged;
        let project = ProjectKey::parse("httpd").unwrap();
        let event = NewEvent::for_project(T0, crate::model::Actor::System, &project, kind);
        Ok(vec![Event { id: 1, event }])
    });
    f
}

#[tokio::test]
async fn a_projects_history_is_for_everyone_and_the_foundations_for_members() {
    let s = with_events().services();
    let page = PageRequest::first(10);
    let project = EventFilter { project: Some(ProjectKey::parse("httpd").unwrap()), ..EventFilter::default() };
    let release = EventFilter { release: Some(release_key("2.4.68")), ..EventFilter::default() };
    for who in [Principal::Anonymous, person("dev1"), asf_member("member")] {
        assert_eq!(s.list_events(&who, &project, page.clone(), T0).await.unwrap().len(), 1);
        assert_eq!(s.list_events(&who, &release, page.clone(), T0).await.unwrap().len(), 1);
    }

    let everything = EventFilter::default();
    for who in [Principal::Anonymous, person("pmc1")] {
        let err = s.list_events(&who, &everything, page.clone(), T0).await.unwrap_err();
        assert!(matches!(&err, ServiceError::Denied(d) if d.to_string().contains("view_all_events")), "{err}");
    }
    assert_eq!(s.list_events(&asf_member("member"), &everything, page.clone(), T0).await.unwrap().len(), 1);

    // The release a filter names must exist (and be readable), and so its project.
    let mut unknown = release_key("1.0");
    unknown.project = ProjectKey::parse("nosuch").unwrap();
    let filter = EventFilter { release: Some(unknown), ..EventFilter::default() };
    let err = s.list_events(&Principal::Anonymous, &filter, page, T0).await.unwrap_err();
    assert!(matches!(&err, ServiceError::NotFound(w) if w == "release nosuch 1.0"), "{err}");
}

#[tokio::test]
async fn a_deleted_drafts_history_is_read_by_whom_may_read_the_projects_drafts() {
    let s = with_events().services();
    let deleted = EventFilter { release: Some(release_key("2.4.70")), ..EventFilter::default() };
    for reader in [person("rm"), person("pmc1"), person("dev1")] {
        assert_eq!(s.list_events(&reader, &deleted, PageRequest::first(10), T0).await.unwrap().len(), 1);
    }
    for outsider in [Principal::Anonymous, person("someone"), asf_member("member")] {
        let err = s.list_events(&outsider, &deleted, PageRequest::first(10), T0).await.unwrap_err();
        assert!(matches!(&err, ServiceError::NotFound(w) if w == "release httpd 2.4.70"), "{err}");
    }
}

#[tokio::test]
async fn a_release_view_holds_its_stage_and_packages() {
    let mut with_files = draft("2.4.68");
    with_files.latest_revision = Some(rev(2));
    let mut f = Fakes::httpd().with_releases(vec![with_files, draft("2.4.69")]);
    f.revisions.expect_get().returning(|_, n| {
        Ok((n == rev(2)).then(|| revision(2, &["httpd-2.4.68.tar.gz", "httpd-2.4.68.tar.gz.asc", "lost.sha512"])))
    });
    let s = f.services();
    let rm = person("rm");
    let view = s.release_view(&rm, &release_key("2.4.68"), T0).await.unwrap();
    assert_eq!((view.stage, view.tally.is_none()), (None, true));
    let packages = view.packages.unwrap();
    assert_eq!(packages.packages.len(), 1);
    assert_eq!(packages.packages[0].signature.as_ref().unwrap().as_str(), "httpd-2.4.68.tar.gz.asc");
    assert_eq!(packages.orphans, [ReleasePath::parse("lost.sha512").unwrap()]);

    let empty = s.release_view(&rm, &release_key("2.4.69"), T0).await.unwrap();
    assert_eq!(empty.packages, None);
    let err = s.release_view(&rm, &release_key("9.9"), T0).await.unwrap_err();
    assert!(matches!(&err, ServiceError::NotFound(w) if w == "release httpd 9.9"), "{err}");
    let err = s.revision(&rm, &release_key("2.4.68"), rev(3), T0).await.unwrap_err();
    assert!(matches!(&err, ServiceError::NotFound(w) if w == "revision 00003 of httpd 2.4.68"), "{err}");
}

#[tokio::test]
async fn a_draft_is_read_only_by_whom_the_project_lets_view_drafts_and_is_not_found_by_others() {
    let mut candidate = draft("2.4.66");
    candidate.phase = crate::model::Phase::Candidate;
    let mut f = Fakes::httpd().with_releases(vec![draft("2.4.68"), candidate.clone()]);
    f.releases.expect_list().returning(move |_, _, _, _| Ok(vec![draft("2.4.68"), candidate.clone(), draft("2.4.67")]));
    f.revisions.expect_list().returning(|_, _| Ok(vec![revision(1, &["a.tar.gz"])]));
    f.revisions.expect_checks().returning(|_, _| Ok(vec![]));
    f.events.expect_list().returning(|_, _| Ok(vec![]));
    let s = f.services();
    let project = ProjectKey::parse("httpd").unwrap();
    let key = release_key("2.4.68");
    let page = PageRequest::first(10);
    let versions = |listed: Vec<crate::model::Release>| -> Vec<String> {
        listed.iter().map(|r| r.key.version.to_string()).collect()
    };

    // The project's PMC members, release managers and committers, and admins, read drafts.
    for reader in [
        person("pmc1"),
        person("rm"),
        person("dev1"),
        Principal::Person(crate::model::Person {
            id: super::super::fakes::uid("root"),
            asf_member: false,
            admin: true,
            consent: None,
        }),
    ] {
        let listed = s.list_releases(&reader, &project, None, None, page.clone(), T0).await.unwrap();
        assert_eq!(versions(listed), ["2.4.68", "2.4.66", "2.4.67"]);
        assert_eq!(s.list_revisions(&reader, &key, PageRequest::first(10), T0).await.unwrap().len(), 1);
        assert!(s.revision_checks(&reader, &key, rev(1), T0).await.unwrap().is_empty());
    }
    // Anyone else sees the candidate only; the draft is not found, with no hint that it exists.
    for outsider in [Principal::Anonymous, person("someone"), asf_member("member")] {
        let listed = s.list_releases(&outsider, &project, None, None, page.clone(), T0).await.unwrap();
        assert_eq!(versions(listed), ["2.4.66"]);
        let missing = |err: ServiceError| matches!(&err, ServiceError::NotFound(w) if w == "release httpd 2.4.68");
        assert!(missing(s.release_view(&outsider, &key, T0).await.unwrap_err()));
        assert!(missing(s.list_revisions(&outsider, &key, PageRequest::first(10), T0).await.unwrap_err()));
        assert!(missing(s.revision(&outsider, &key, rev(1), T0).await.unwrap_err()));
        assert!(missing(s.revision_checks(&outsider, &key, rev(1), T0).await.unwrap_err()));
        assert!(missing(s.release_sboms(&outsider, &key, T0).await.unwrap_err()));
        let history = EventFilter { release: Some(key.clone()), ..EventFilter::default() };
        assert!(missing(s.list_events(&outsider, &history, PageRequest::first(10), T0).await.unwrap_err()));
        assert!(s.release_view(&outsider, &release_key("2.4.66"), T0).await.is_ok());
    }
}

#[tokio::test]
async fn the_sbom_listing_holds_sbom_files_with_their_validation() {
    let mut with_files = draft("2.4.68");
    with_files.latest_revision = Some(rev(2));
    let mut f = Fakes::httpd().with_releases(vec![with_files, draft("2.4.69")]);
    f.revisions
        .expect_get()
        .returning(|_, _| Ok(Some(revision(2, &["a.tar.gz", "sbom/a.cdx.json", "a.spdx.json", "a.json"]))));
    f.revisions.expect_checks().returning(|_, _| {
        Ok(vec![
            result("sbom", "sbom/a.cdx.json", CheckStatus::Success),
            result("paths", "sbom/a.cdx.json", CheckStatus::Warning),
            result("sbom", "a.spdx.json", CheckStatus::Blocker),
            result("sbom", "a.json", CheckStatus::Note),
        ])
    });
    let s = f.services();
    let listing = s.release_sboms(&person("dev1"), &release_key("2.4.68"), T0).await.unwrap();
    assert_eq!(listing.revision, Some(rev(2)));
    let files: Vec<(&str, Vec<CheckStatus>)> =
        listing.sboms.iter().map(|s| (s.file.path.as_str(), s.checks.iter().map(|c| c.status).collect())).collect();
    assert_eq!(files, [("sbom/a.cdx.json", vec![CheckStatus::Success]), ("a.spdx.json", vec![CheckStatus::Blocker])]);

    let none = s.release_sboms(&person("dev1"), &release_key("2.4.69"), T0).await.unwrap();
    assert_eq!((none.revision, none.sboms.len()), (None, 0));
}

#[tokio::test]
async fn a_releases_cves_need_the_release() {
    let id = CveId::parse("CVE-2025-0001").unwrap();
    let record = CveRecord {
        id: id.clone(),
        title: "t".into(),
        description: String::new(),
        severity: None,
        cvss: None,
        references: vec![],
        published_at: None,
        affects: [release_key("2.4.68")].into(),
        resolved_by: std::collections::BTreeSet::default(),
    };
    let mut f = Fakes::httpd().with_releases(vec![draft("2.4.68")]);
    let affects = id.clone();
    f.cves
        .expect_for_release()
        .returning(move |_, link| Ok(if link == CveLink::Affects { vec![affects.clone()] } else { vec![] }));
    f.cves.expect_get().returning(move |i| Ok((i == &record.id).then(|| record.clone())));
    let s = f.services();
    let found = s.release_cves(&person("pmc1"), &release_key("2.4.68"), CveLink::Affects, T0).await.unwrap();
    assert_eq!(found.iter().map(|r| &r.id).collect::<Vec<_>>(), [&id]);
    assert!(s.release_cves(&person("pmc1"), &release_key("2.4.68"), CveLink::Resolves, T0).await.unwrap().is_empty());
    let err = s.release_cves(&person("pmc1"), &release_key("9.9"), CveLink::Affects, T0).await.unwrap_err();
    assert!(matches!(err, ServiceError::NotFound(_)), "{err}");
    // The draft it affects is shown to whom may read the draft only, and hidden otherwise.
    assert_eq!(s.cve(&person("pmc1"), &id, T0).await.unwrap().affects, [release_key("2.4.68")].into());
    assert!(s.cve(&Principal::Anonymous, &id, T0).await.unwrap().affects.is_empty());
    let err = s.release_cves(&Principal::Anonymous, &release_key("2.4.68"), CveLink::Affects, T0).await.unwrap_err();
    assert!(matches!(err, ServiceError::NotFound(_)), "{err}");
    let err = s.cve(&Principal::Anonymous, &CveId::parse("CVE-2025-0002").unwrap(), T0).await.unwrap_err();
    assert!(matches!(&err, ServiceError::NotFound(w) if w == "CVE CVE-2025-0002"), "{err}");
}

#[tokio::test]
async fn a_committees_keys_need_the_committee() {
    let mut f = Fakes::httpd();
    f.keys.expect_by_committee().returning(|_| Ok(vec![]));
    let s = f.services();
    let text = s.committee_keys_file(&CommitteeKey::parse("httpd").unwrap()).await.unwrap();
    assert!(text.starts_with("This file contains the OpenPGP keys of Apache HTTP Server (httpd)."), "{text}");
    let nosuch = CommitteeKey::parse("nosuch").unwrap();
    assert!(matches!(s.committee_keys_file(&nosuch).await, Err(ServiceError::NotFound(_))));
    assert!(matches!(s.committee_keys(&nosuch).await, Err(ServiceError::NotFound(_))));
}

#[tokio::test]
async fn search_validates_the_text_bounds_the_limit_and_leaves_out_releases_not_found() {
    use crate::search::{MAX_SEARCH_HITS, SearchHit, SearchSubject};
    let mut f = Fakes::httpd().with_releases(vec![draft("2.4.68")]);
    f.search.expect_search().returning(|terms, limit| {
        assert_eq!(terms.terms(), ["httpd", "2.4"]);
        assert_eq!(limit, MAX_SEARCH_HITS, "the limit asked for is clamped");
        let hit = |subject| SearchHit { subject, label: "label".into() };
        Ok(vec![
            hit(SearchSubject::Project(ProjectKey::parse("httpd").unwrap())),
            hit(SearchSubject::Release(release_key("2.4.68"))),
            // Gone between the index and the read: not shown.
            hit(SearchSubject::Release(release_key("2.4.67"))),
            hit(SearchSubject::Cve(CveId::parse("CVE-2024-1234").unwrap())),
        ])
    });
    let services = f.services();
    // The draft is found by a committer of the project, and left out for anyone else.
    let hidden = services.search(&Principal::Anonymous, "httpd 2.4", 10_000, T0).await.unwrap();
    assert!(hidden.iter().all(|h| !matches!(h.subject, SearchSubject::Release(_))), "{hidden:?}");
    let hits = services.search(&person("dev1"), "  HTTPD \"2.4\"* ", 10_000, T0).await.unwrap();
    let subjects: Vec<_> = hits.iter().map(|h| h.subject.clone()).collect();
    assert_eq!(
        subjects,
        [
            SearchSubject::Project(ProjectKey::parse("httpd").unwrap()),
            SearchSubject::Release(release_key("2.4.68")),
            SearchSubject::Cve(CveId::parse("CVE-2024-1234").unwrap()),
        ]
    );
    // Refused before storage is asked (the mock would fail on other terms).
    for (text, words) in [("", "type something"), (&"x".repeat(201)[..], "at most 200"), ("()*", "no letter")] {
        match services.search(&Principal::Anonymous, text, 10, T0).await {
            Err(ServiceError::Field { field, message }) => {
                assert_eq!(field, "q");
                assert!(message.contains(words), "{message}");
            }
            other => panic!("{text:?}: {other:?}"),
        }
    }
}
