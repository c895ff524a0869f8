//! CVE records: the field limits are checked before anything is stored, recording again keeps
//! the links, and a link answers the record with it.

use std::collections::BTreeSet;

use super::super::ServiceError;
use super::super::fakes::{Fakes, T0, draft, person, release_key};
use crate::model::{CveLink, CveRecord, Cvss, EventKind};
use crate::ports::Write;
use crate::types::{CveId, ProjectKey};

fn id() -> CveId {
    CveId::parse("CVE-2025-12345").unwrap()
}

fn record(title: &str) -> CveRecord {
    CveRecord {
        id: id(),
        title: title.into(),
        description: String::new(),
        severity: None,
        cvss: None,
        references: vec![],
        published_at: None,
        affects: BTreeSet::new(),
        resolved_by: BTreeSet::new(),
    }
}

fn httpd() -> ProjectKey {
    ProjectKey::parse("httpd").unwrap()
}

#[tokio::test]
async fn fields_out_of_bounds_are_refused_naming_the_field() {
    let mut f = Fakes::httpd();
    f.changes.expect_commit().times(0);
    let s = f.services();
    let mut bad = record("Path traversal");
    bad.cvss = Some(Cvss { score_tenths: 101, vector: "CVSS:3.1/AV:N".into() });
    match s.record_cve(&person("pmc1"), &httpd(), bad, T0).await {
        Err(ServiceError::Field { field, message }) => {
            assert_eq!(field, "cvss.score_tenths");
            assert!(message.contains("0 to 100"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    match s.record_cve(&person("pmc1"), &httpd(), record(" "), T0).await {
        Err(ServiceError::Field { field, .. }) => assert_eq!(field, "title"),
        other => panic!("{other:?}"),
    }
    // Within the limits, the permission still decides.
    let refused = s.record_cve(&person("dev1"), &httpd(), record("Path traversal"), T0).await;
    assert!(
        matches!(&refused, Err(ServiceError::Denied(d)) if d.to_string().contains("manage_metadata")),
        "{refused:?}"
    );
}

#[tokio::test]
async fn recording_again_keeps_the_links() {
    let mut known = record("Old title");
    known.affects.insert(release_key("2.4.67"));
    let mut f = Fakes::httpd();
    let stored = known.clone();
    f.cves.expect_get().returning(move |_| Ok(Some(stored.clone())));
    let log = f.commit_all();
    let s = f.services();
    let recorded = s.record_cve(&person("pmc1"), &httpd(), record("New title"), T0).await.unwrap();
    assert!(!recorded.created);
    assert_eq!(recorded.record.title, "New title");
    assert_eq!(recorded.record.affects, known.affects);
    assert_eq!(log.writes(), [Write::PutCve(record("New title"))]);
    assert_eq!(log.events(), [EventKind::CveRecorded { id: id() }]);

    let mut f = Fakes::httpd();
    f.cves.expect_get().returning(|_| Ok(None));
    f.commit_all();
    let recorded = f.services().record_cve(&person("pmc1"), &httpd(), record("New"), T0).await.unwrap();
    assert!(recorded.created);
}

#[tokio::test]
async fn a_link_answers_the_record_with_it() {
    let mut f = Fakes::httpd().with_releases(vec![draft("2.4.68")]);
    f.cves.expect_get().returning(|_| Ok(Some(record("Path traversal"))));
    let log = f.commit_all();
    let s = f.services();
    let linked = s.link_cve(&person("pmc1"), &id(), &release_key("2.4.68"), CveLink::Resolves, T0).await.unwrap();
    assert_eq!(linked.resolved_by, BTreeSet::from([release_key("2.4.68")]));
    assert!(linked.affects.is_empty());
    assert_eq!(log.events(), [EventKind::CveLinked { id: id(), link: CveLink::Resolves }]);
}
