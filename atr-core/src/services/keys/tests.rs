//! The key rules: who may import, what merges with a known key, what an import reports, and that
//! a key a release used is kept.

use std::collections::BTreeSet;

use super::super::fakes::{Fakes, Log, T0, person, release_key, uid};
use super::super::{ServiceError, Services};
use super::{KeyRefusal, RejectedKey};
use crate::model::key::{KeyReading, ReadKeys};
use crate::model::{EventKind, SigningKey};
use crate::ports::{Change, StoreError, Write};
use crate::types::{CommitteeKey, Fingerprint, Timestamp};

fn fp(byte: &str) -> Fingerprint {
    Fingerprint::parse(&byte.repeat(20)).unwrap()
}

fn httpd_key() -> CommitteeKey {
    CommitteeKey::parse("httpd").unwrap()
}

/// A key as the OpenPGP adapter reads it: no owner, no committee, added now.
fn read_key(byte: &str, user_id: &str) -> SigningKey {
    SigningKey {
        fingerprint: fp(byte),
        owner: None,
        algorithm: "EdDSA".into(),
        bits: None,
        created_at: Timestamp::from_unix(1_700_000_000),
        expires_at: None,
        revoked: false,
        user_ids: vec![user_id.to_owned()],
        armored: format!("key {byte}"),
        committees: BTreeSet::new(),
        added_at: T0,
    }
}

fn usable(key: &SigningKey, reason: &str) -> KeyReading {
    KeyReading {
        fingerprint: Some(key.fingerprint.clone()),
        user_ids: key.user_ids.clone(),
        usable: true,
        reason: reason.into(),
    }
}

fn unusable(reason: &str) -> KeyReading {
    KeyReading { fingerprint: None, user_ids: vec![], usable: false, reason: reason.into() }
}

/// The keys a change upserts.
fn upserted(change: &Change) -> impl Iterator<Item = &SigningKey> {
    change.writes.iter().filter_map(|w| match w {
        Write::UpsertKey(key) => Some(key),
        _ => None,
    })
}

/// Mocks knowing the httpd committee and `known` keys, committing every change except those
/// that upsert a key of `refuse` (the store refuses them).
fn fakes(known: Vec<SigningKey>, refuse: Vec<Fingerprint>) -> (Fakes, Log) {
    let mut f = Fakes::httpd();
    f.keys.expect_get().returning(move |k| Ok(known.iter().find(|s| &s.fingerprint == k).cloned()));
    let log = f.commit_unless(move |change| {
        upserted(change)
            .any(|k| refuse.contains(&k.fingerprint))
            .then(|| StoreError::Refused("a user id is longer than the store holds".into()))
    });
    (f, log)
}

/// The keys stored by the committed changes.
fn stored(log: &Log) -> Vec<SigningKey> {
    log.writes()
        .into_iter()
        .filter_map(|w| match w {
            Write::UpsertKey(key) => Some(key),
            _ => None,
        })
        .collect()
}

async fn import(services: &Services, who: &str, read: ReadKeys) -> Result<super::KeyImport, ServiceError> {
    services.import_keys(&person(who), &httpd_key(), read, T0).await
}

#[tokio::test]
async fn an_import_is_refused_whole_without_manage_keys() {
    let mut f = Fakes::httpd();
    f.changes.expect_commit().times(0);
    let s = f.services();
    let key = read_key("A1", "Someone <someone@example.org>");
    let read = ReadKeys { readings: vec![usable(&key, "added")], keys: vec![key] };
    // A release manager may manage their own key, but an import needs manage keys.
    let err = import(&s, "rm", read).await.unwrap_err();
    assert!(matches!(&err, ServiceError::Denied(d) if d.to_string().contains("manage_keys")), "{err}");
}

#[tokio::test]
async fn an_import_reports_every_key_and_keeps_what_was_recorded() {
    let fresh = read_key("A1", "Fresh <fresh@example.org>");
    let mut known = read_key("B2", "Known <known@example.org>");
    known.owner = Some(uid("jdoe"));
    known.added_at = Timestamp::from_unix(1_600_000_000);
    known.committees.insert(CommitteeKey::parse("tomcat").unwrap());
    let again = read_key("B2", "Known <known@example.org>");
    let refused = read_key("C3", "Long <long@example.org>");
    let (f, log) = fakes(vec![known], vec![refused.fingerprint.clone()]);
    let s = f.services();
    let read = ReadKeys {
        readings: vec![
            usable(&fresh, "key at line 1; it expired in 2024"),
            unusable("a PGP 2 key at line 40 cannot sign"),
            usable(&again, "key at line 80"),
        ],
        keys: vec![fresh.clone(), again, refused.clone()],
    };
    let report = import(&s, "pmc1", read).await.unwrap();

    assert_eq!(report.added.len(), 1);
    assert_eq!(report.added[0].fingerprint, fresh.fingerprint);
    assert_eq!(report.added[0].note, "key at line 1; it expired in 2024");
    assert_eq!(report.updated.len(), 1);
    assert_eq!(report.updated[0].owner, Some(uid("jdoe")), "the recorded owner is kept");
    assert_eq!(report.updated[0].note, "key at line 80");
    let reasons: Vec<&str> = report.rejected.iter().map(|r| r.reason.as_str()).collect();
    assert_eq!(reasons, ["a PGP 2 key at line 40 cannot sign", "a user id is longer than the store holds"]);
    assert_eq!(
        report.rejected[1],
        RejectedKey {
            fingerprint: Some(refused.fingerprint.clone()),
            user_ids: refused.user_ids.clone(),
            reason: "a user id is longer than the store holds".into()
        }
    );

    let stored = stored(&log);
    let updated = stored.iter().find(|k| k.fingerprint == fp("B2")).unwrap();
    assert_eq!(updated.owner, Some(uid("jdoe")));
    assert_eq!(updated.added_at, Timestamp::from_unix(1_600_000_000), "the first time it was added is kept");
    assert_eq!(updated.committees, BTreeSet::from([httpd_key()]));
    assert_eq!(
        log.events(),
        [
            EventKind::KeyAdded { fingerprint: fp("A1") },
            EventKind::KeyLinked { fingerprint: fp("A1"), committee: httpd_key() },
            EventKind::KeyLinked { fingerprint: fp("B2"), committee: httpd_key() },
        ]
    );
}

#[tokio::test]
async fn one_key_is_added_with_its_owner_from_an_apache_user_id() {
    let (f, log) = fakes(vec![], vec![]);
    let s = f.services();
    let key = read_key("A1", "Release Manager <RM@apache.org>");
    let read = ReadKeys { readings: vec![usable(&key, "added")], keys: vec![key] };
    // The release manager adds their own key: `manage own key` is enough.
    let added = s.add_one_key(&person("rm"), &httpd_key(), read, T0).await.unwrap();
    assert!(added.created);
    assert_eq!(added.key.owner, Some(uid("rm")));
    assert_eq!(added.key.committees, BTreeSet::from([httpd_key()]));
    assert_eq!(log.events().len(), 2, "added and linked, in one change");
    assert_eq!(log.commits(), 1);
}

#[tokio::test]
async fn a_recorded_owner_decides_whose_key_it_is() {
    // An admin recorded `rm` as the owner of a key whose user ids do not say so.
    let mut known = read_key("A1", "R. M. <rm@example.org>");
    known.owner = Some(uid("rm"));
    known.committees.insert(CommitteeKey::parse("tomcat").unwrap());
    let (f, log) = fakes(vec![known], vec![]);
    let s = f.services();
    let key = read_key("A1", "R. M. <rm@example.org>");
    let read = ReadKeys { readings: vec![], keys: vec![key] };
    let added = s.add_one_key(&person("rm"), &httpd_key(), read, T0).await.unwrap();
    assert!(!added.created);
    assert_eq!(added.key.owner, Some(uid("rm")));
    let both = BTreeSet::from([httpd_key(), CommitteeKey::parse("tomcat").unwrap()]);
    assert_eq!(added.key.committees, both, "the earlier link is kept");
    assert_eq!(stored(&log)[0].owner, Some(uid("rm")));

    // Someone else's key still needs manage keys.
    let (f, _) = fakes(vec![], vec![]);
    let key = read_key("A1", "Other <other@apache.org>");
    let read = ReadKeys { readings: vec![], keys: vec![key] };
    let err = f.services().add_one_key(&person("rm"), &httpd_key(), read, T0).await.unwrap_err();
    assert!(matches!(&err, ServiceError::Denied(d) if d.to_string().contains("manage_keys")), "{err}");
}

#[tokio::test]
async fn one_key_means_exactly_one() {
    let (fakes, log) = fakes(vec![], vec![]);
    let s = fakes.services();
    let two = ReadKeys { readings: vec![], keys: vec![read_key("A1", "a <a@x.org>"), read_key("B2", "b <b@x.org>")] };
    let err = s.add_one_key(&person("pmc1"), &httpd_key(), two, T0).await.unwrap_err();
    assert!(matches!(err, ServiceError::Key(KeyRefusal::SeveralKeys(2))), "{err}");

    let none = ReadKeys { readings: vec![unusable("a damaged block at line 3")], keys: vec![] };
    let err = s.add_one_key(&person("pmc1"), &httpd_key(), none, T0).await.unwrap_err();
    match err {
        ServiceError::Key(KeyRefusal::NoUsableKey(readings)) => {
            assert_eq!(readings, [unusable("a damaged block at line 3")]);
        }
        other => panic!("{other}"),
    }
    let unknown = CommitteeKey::parse("nosuch").unwrap();
    let err = s.add_one_key(&person("pmc1"), &unknown, ReadKeys::default(), T0).await.unwrap_err();
    assert!(matches!(&err, ServiceError::NotFound(w) if w == "committee nosuch"), "{err}");
    assert!(log.writes().is_empty());
}

#[tokio::test]
async fn a_key_a_release_used_is_kept() {
    let mut key = read_key("A1", "a <a@apache.org>");
    key.committees.insert(httpd_key());
    let mut f = Fakes::httpd();
    let known = key.clone();
    f.keys.expect_get().returning(move |_| Ok(Some(known.clone())));
    f.keys.expect_releases_signed().returning(|_| Ok(vec![release_key("2.4.68")]));
    f.changes.expect_commit().times(0);
    let err = f.services().delete_key(&person("pmc1"), &key.fingerprint, T0).await.unwrap_err();
    match &err {
        ServiceError::Key(KeyRefusal::InUse { releases, .. }) => assert_eq!(releases, &[release_key("2.4.68")]),
        other => panic!("{other}"),
    }
    assert!(err.to_string().contains("signed httpd 2.4.68"), "{err}");

    // A use recorded between the check and the delete is refused the same way.
    let mut f = Fakes::httpd();
    let known = key.clone();
    f.keys.expect_get().returning(move |_| Ok(Some(known.clone())));
    let mut seq = mockall::Sequence::new();
    f.keys.expect_releases_signed().times(1).in_sequence(&mut seq).returning(|_| Ok(vec![]));
    f.keys.expect_releases_signed().times(1).in_sequence(&mut seq).returning(|_| Ok(vec![release_key("2.4.68")]));
    let log = f.commit_unless(|_| Some(StoreError::Conflict("key signed httpd 2.4.68".into())));
    let err = f.services().delete_key(&person("pmc1"), &key.fingerprint, T0).await.unwrap_err();
    assert!(matches!(err, ServiceError::Key(KeyRefusal::InUse { .. })), "{err}");
    assert!(log.writes().is_empty());

    // An unused key goes, with its event in the same change.
    let mut f = Fakes::httpd();
    let known = key.clone();
    f.keys.expect_get().returning(move |_| Ok(Some(known.clone())));
    f.keys.expect_releases_signed().returning(|_| Ok(vec![]));
    let log = f.commit_all();
    f.services().delete_key(&person("pmc1"), &key.fingerprint, T0).await.unwrap();
    assert_eq!(log.writes(), [Write::DeleteKey(key.fingerprint.clone())]);
    assert_eq!(log.events(), [EventKind::KeyDeleted { fingerprint: key.fingerprint.clone() }]);
}

#[tokio::test]
async fn linking_returns_the_key_with_its_committees() {
    let mut key = read_key("A1", "a <a@example.org>");
    key.committees.insert(CommitteeKey::parse("tomcat").unwrap());
    let (f, log) = fakes(vec![key.clone()], vec![]);
    let linked = f.services().link_key(&person("pmc1"), &key.fingerprint, &httpd_key(), T0).await.unwrap();
    assert_eq!(linked.committees, BTreeSet::from([httpd_key(), CommitteeKey::parse("tomcat").unwrap()]));
    assert_eq!(log.events(), [EventKind::KeyLinked { fingerprint: key.fingerprint, committee: httpd_key() }]);
}
