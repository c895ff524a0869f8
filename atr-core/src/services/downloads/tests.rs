//! What a public path serves: the stage a release is public in, the revision it serves there, and
//! the files and folders of that revision.

use std::collections::BTreeSet;

use super::super::fakes::{Fakes, T0, draft, httpd, httpd_project, uid};
use super::super::{ServiceError, Services};
use super::{NotServed, Public, served_revision};
use crate::model::{FileEntry, Metadata, Phase, Product, Release, RevisionNumber, VoteRecord, VoteRound};
use crate::policy::{PolicyOverrides, VotePolicy};
use crate::ports::StoreError;
use crate::types::{CommitteeKey, ProductKey, ReleasePath, Sha3_256Digest, Sha512Digest, Stage, Timestamp};

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

fn vote(revision: u32) -> VoteRecord {
    VoteRecord {
        revision: rev(revision),
        round: VoteRound::Committee,
        started_at: T0,
        started_by: uid("rm"),
        closes_at: T0.plus_hours(72),
        policy: VotePolicy::foundation_default(),
        binding_committee: CommitteeKey::parse("httpd").unwrap(),
        binding_voters: BTreeSet::new(),
        signing_keys: BTreeSet::new(),
        outcome: None,
        resolved_at: None,
    }
}

/// A release in `phase` with `latest` revisions, voted on revision `voted` if any.
fn release(version: &str, phase: Phase, latest: u32, voted: Option<u32>) -> Release {
    let mut r = draft(version);
    r.phase = phase;
    r.latest_revision = RevisionNumber::new(latest);
    r.vote = voted.map(vote);
    r
}

fn revoked(mut release: Release) -> Release {
    release.revocation = Some(crate::model::Revocation {
        at: Timestamp::from_unix(T0.unix() + 10),
        by: uid("pmc1"),
        reason: "bad".into(),
    });
    release
}

#[test]
fn each_phase_serves_its_revision() {
    // Under vote: the voted revision, not a later one.
    assert_eq!(served_revision(&release("1.0", Phase::Candidate, 3, Some(2))), Some(rev(2)));
    // Released: the latest, frozen at announce.
    assert_eq!(served_revision(&release("1.0", Phase::Release, 4, Some(2))), Some(rev(4)));
    // Revoked while a candidate: the voted revision; never voted on: nothing.
    assert_eq!(served_revision(&revoked(release("1.0", Phase::Candidate, 3, Some(2)))), Some(rev(2)));
    assert_eq!(served_revision(&revoked(release("1.0", Phase::Draft, 3, None))), None);
    assert_eq!(served_revision(&release("1.0", Phase::Draft, 3, None)), None);
}

/// Services knowing the httpd project (with a product `server`), these releases, and a manifest
/// for every revision: `a.tar.gz`, `a.tar.gz.asc` and `docs/guide/index.html`.
fn services(releases: Vec<Release>) -> Services {
    let mut project = httpd_project();
    let server = ProductKey::parse("server").unwrap();
    project.products.push(Product { key: server, metadata: Metadata::default(), policy: PolicyOverrides::default() });
    let latest = releases.clone();
    let mut f = Fakes::knowing(vec![httpd()], vec![project]).with_releases(releases);
    f.releases.expect_latest().returning(move |project, product, stage| {
        let found =
            latest.iter().filter(|r| &r.key.project == project && r.key.product == product && r.stage() == Some(stage));
        Ok(found.max_by(|a, b| a.key.version.cmp(&b.key.version)).cloned())
    });
    f.files.expect_manifest().returning(|release, number| {
        if release.version.as_str() == "0.9" {
            return Err(StoreError::NotFound(format!("revision {number} of {release}")));
        }
        Ok(vec![entry("a.tar.gz"), entry("a.tar.gz.asc"), entry("docs/guide/index.html")])
    });
    f.services()
}

fn not_served(result: Result<Public, NotServed>) -> NotServed {
    match result {
        Err(e) => e,
        Ok(other) => panic!("expected nothing to be served, got {other:?}"),
    }
}

#[tokio::test]
async fn a_release_is_served_only_in_its_public_stage() {
    let s = services(vec![
        release("2.4.66", Phase::Draft, 1, None),
        release("2.4.67", Phase::Candidate, 3, Some(2)),
        release("2.4.68", Phase::Release, 5, Some(4)),
    ]);
    match s.public_path("/candidate/httpd/2.4.67/a.tar.gz").await.unwrap() {
        Public::File(file) => {
            assert_eq!((file.stage(), file.revision()), (Stage::Candidate, rev(2)));
            assert_eq!(file.entry().path.as_str(), "a.tar.gz");
        }
        other => panic!("{other:?}"),
    }
    match s.public_path("/current/httpd/2.4.68/a.tar.gz.asc").await.unwrap() {
        Public::File(file) => assert_eq!(file.revision(), rev(5)),
        other => panic!("{other:?}"),
    }
    // A candidate asked for as current: not there, but said where it is.
    match not_served(s.public_path("/current/httpd/2.4.67/a.tar.gz").await) {
        NotServed::NotInStage { stage: Stage::Current, public: Some(Stage::Candidate), .. } => {}
        other => panic!("{other:?}"),
    }
    // A draft is never served, in any stage; an unknown release neither.
    for path in ["/candidate/httpd/2.4.66/a.tar.gz", "/current/httpd/2.4.66/a.tar.gz", "/current/httpd/9.9/a"] {
        match not_served(s.public_path(path).await) {
            NotServed::NotInStage { public: None, .. } => {}
            other => panic!("{path}: {other:?}"),
        }
    }
    let err = not_served(s.public_path("/current/httpd/2.4.67/a.tar.gz").await);
    assert_eq!(
        err.to_string(),
        "release httpd 2.4.67 not found in stage current: it is candidate, under /candidate/httpd/2.4.67/"
    );
    let err = not_served(s.public_path("/current/httpd/9.9/a").await);
    assert_eq!(err.to_string(), "release httpd 9.9 not found in stage current");
}

#[tokio::test]
async fn latest_names_the_newest_release_of_the_stage() {
    let s = services(vec![
        release("2.4.9", Phase::Release, 1, Some(1)),
        release("2.4.10", Phase::Release, 1, Some(1)),
        release("2.4.11", Phase::Candidate, 1, Some(1)),
    ]);
    let latest = |path: &'static str| {
        let s = s.clone();
        async move {
            match s.public_path(path).await.unwrap() {
                Public::Latest { path } => path,
                other => panic!("{other:?}"),
            }
        }
    };
    assert_eq!(latest("/current/httpd/latest/a.tar.gz").await, "/current/httpd/2.4.10/a.tar.gz");
    assert_eq!(latest("/current/httpd/latest/").await, "/current/httpd/2.4.10/");
    assert_eq!(latest("/candidate/httpd/latest/docs/").await, "/candidate/httpd/2.4.11/docs/");
    let err = not_served(s.public_path("/revoked/httpd/latest/a.tar.gz").await);
    assert!(matches!(err, NotServed::NoRelease { stage: Stage::Revoked, .. }), "{err:?}");
    assert_eq!(err.to_string(), "httpd has no release in stage revoked");
    let err = not_served(s.public_path("/current/httpd/server/latest/a.tar.gz").await);
    assert_eq!(err.to_string(), "httpd/server has no release in stage current");
}

#[tokio::test]
async fn files_and_folders_of_the_served_revision() {
    let s = services(vec![release("2.4.68", Phase::Release, 5, Some(4))]);
    match s.public_path("/current/httpd/2.4.68/docs/").await.unwrap() {
        Public::Folder(folder) => {
            assert_eq!(folder.folder().map(ReleasePath::as_str), Some("docs"));
            let paths: Vec<&str> = folder.files().iter().map(|f| f.path.as_str()).collect();
            assert_eq!(paths, ["docs/guide/index.html"]);
        }
        other => panic!("{other:?}"),
    }
    match s.public_path("/current/httpd/2.4.68/").await.unwrap() {
        Public::Folder(root) => assert_eq!((root.folder(), root.files().len()), (None, 3)),
        other => panic!("{other:?}"),
    }
    match not_served(s.public_path("/current/httpd/2.4.68/nothing/").await) {
        NotServed::NoFolder { folder, .. } => assert_eq!(folder.as_str(), "nothing"),
        other => panic!("{other:?}"),
    }
    match not_served(s.public_path("/current/httpd/2.4.68/docs/guide").await) {
        err @ NotServed::NoFile { is_folder: true, .. } => {
            assert_eq!(err.to_string(), "docs/guide is a folder of release httpd 2.4.68; list it as docs/guide/");
        }
        other => panic!("{other:?}"),
    }
    match not_served(s.public_path("/current/httpd/2.4.68/b.tar.gz").await) {
        NotServed::NoFile { is_folder: false, .. } => {}
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn bad_paths_unknown_projects_and_lost_files() {
    let s = services(vec![release("0.9", Phase::Release, 1, Some(1)), revoked(release("0.8", Phase::Draft, 1, None))]);
    for path in ["current/httpd/1.0/a", "/current/httpd/1.0", "/stable/httpd/1.0/a", "/current/httpd/1.0/%2Fetc"] {
        assert!(matches!(not_served(s.public_path(path).await), NotServed::BadPath(_)), "{path}");
    }
    match not_served(s.public_path("/current/nosuch/1.0/a").await) {
        NotServed::NoProject(key) => assert_eq!(key.as_str(), "nosuch"),
        other => panic!("{other:?}"),
    }
    // Revoked before it was ever a candidate: public, but nothing to serve.
    assert!(matches!(not_served(s.public_path("/revoked/httpd/0.8/a").await), NotServed::NoFiles(_)));
    // The database says the revision is public but release storage lost it: a failure of the
    // service, not a missing file.
    match not_served(s.public_path("/current/httpd/0.9/a.tar.gz").await) {
        NotServed::Failed(ServiceError::Store(why)) => assert!(why.contains("missing from release storage"), "{why}"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_products_release_is_told_from_a_version() {
    let mut on_server = release("1.0", Phase::Release, 1, Some(1));
    on_server.key.product = Some(ProductKey::parse("server").unwrap());
    let s = services(vec![on_server, release("2.0", Phase::Release, 1, Some(1))]);
    match s.public_path("/current/httpd/server/1.0/a.tar.gz").await.unwrap() {
        Public::File(file) => assert_eq!(file.release().key.product.as_ref().map(ProductKey::as_str), Some("server")),
        other => panic!("{other:?}"),
    }
    assert!(matches!(s.public_path("/current/httpd/2.0/a.tar.gz").await, Ok(Public::File(_))));
}
