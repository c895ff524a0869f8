//! The signer-identity rule on real keys and signatures: on a folder (as `atr check` runs it) and in
//! the Analyze task, which takes the committee's people from the store.

use std::collections::BTreeSet;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use atr_core::model::{
    CheckResult, CheckStatus, Committee, Metadata, Phase, Project, Release, ReleaseKey, Revision, RevisionNumber,
    SignerRule,
};
use atr_core::policy::{PolicyOverrides, VotePolicy};
use atr_core::ports::{
    ByteStream, CommitteeRepository, FileChange, KeyRepository, ProjectRepository, ReleaseFiles, ReleaseRepository,
    RevisionRepository,
};
use atr_core::types::{CommitteeKey, ProjectKey, ReleasePath, Timestamp, UserId, Version};
use atr_store::testing::databases;
use atr_store::{Storage, StorageConfig};
use atr_tasks::analyze::Finding;
use atr_tasks::analyze::folder::{AnalyzeOptions, analyze_folder};
use atr_tasks::analyze::signature::{KeyRing, SignaturePolicy};
use atr_tasks::analyze::signer::SignerCheck;
use atr_tasks::analyze::task::AnalyzeHandler;
use sequoia_openpgp::armor::{Kind, Writer};
use sequoia_openpgp::cert::prelude::*;
use sequoia_openpgp::packet::prelude::*;
use sequoia_openpgp::packet::signature::SignatureBuilder;
use sequoia_openpgp::serialize::{Serialize, SerializeInto};
use sequoia_openpgp::types::{HashAlgorithm, ReasonForRevocation, SignatureType};

const DAY: Duration = Duration::from_hours(24);
const DATA: &[u8] = b"the bytes of apache-widget-1.0.0-src.tar.gz, which is not read as an archive here\n";

/// A point in time, days after 2020-01-01.
fn day(n: u32) -> SystemTime {
    UNIX_EPOCH + DAY * 18_262 + DAY * n
}

/// A release manager's key: a certification-only primary key and a signing subkey, with these user ids.
fn key(user_ids: &[&str]) -> Cert {
    let mut builder = CertBuilder::new().add_signing_subkey().set_creation_time(day(1)).set_validity_period(None);
    for uid in user_ids {
        builder = builder.add_userid(*uid);
    }
    builder.generate().unwrap().0
}

/// An armored detached signature over `data` by the key's signing subkey, made on day 10.
fn sign(cert: &Cert, data: &[u8]) -> Vec<u8> {
    let mut signer = cert.keys().subkeys().unencrypted_secret().next().unwrap().key().clone().into_keypair().unwrap();
    let sig = SignatureBuilder::new(SignatureType::Binary)
        .set_signature_creation_time(day(10))
        .unwrap()
        .set_hash_algo(HashAlgorithm::SHA512)
        .sign_message(&mut signer, data)
        .unwrap();
    let mut out = Vec::new();
    let mut writer = Writer::new(&mut out, Kind::Signature).unwrap();
    Packet::from(sig).serialize(&mut writer).unwrap();
    writer.finalize().unwrap();
    out
}

fn keys_file(certs: &[&Cert]) -> Vec<u8> {
    certs.iter().flat_map(|c| c.armored().to_vec().unwrap()).collect()
}

fn rule() -> SignerRule {
    SignerRule::parse("apache.org", &["{committee}-release@apache.org".to_owned()]).unwrap()
}

fn uid(s: &str) -> UserId {
    UserId::parse(s).unwrap()
}

/// Analyze on a folder holding one artifact signed by `signer`, with `keys` as KEYS.
fn analyze(signer: &Cert, keys: &[&Cert], signers: Option<SignerCheck>) -> Vec<Finding> {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("apache-widget-1.0.0-src.tar"), DATA).unwrap();
    std::fs::write(dir.path().join("apache-widget-1.0.0-src.tar.asc"), sign(signer, DATA)).unwrap();
    let options = AnalyzeOptions { keys: Some(keys_file(keys)), signers, ..AnalyzeOptions::default() };
    let report = analyze_folder(dir.path(), &options);
    let good = report.findings.iter().filter(|f| f.checker == "signature" && f.status == CheckStatus::Success);
    assert_eq!(good.count(), 1, "the signature is good: {:#?}", report.findings);
    report.findings.into_iter().filter(|f| f.checker == "signer-identity").collect()
}

fn committee_check(people: &[&str]) -> SignerCheck {
    SignerCheck {
        rule: rule(),
        committee: Some("widget".to_owned()),
        people: Some(people.iter().map(|p| uid(p)).collect()),
    }
}

#[track_caller]
fn only(findings: &[Finding], status: CheckStatus) -> &str {
    assert_eq!(findings.len(), 1, "{findings:#?}");
    assert_eq!(findings[0].status, status, "{findings:#?}");
    assert_eq!(findings[0].path.as_ref().map(ReleasePath::as_str), Some("apache-widget-1.0.0-src.tar"));
    &findings[0].message
}

#[test]
fn a_committers_key_meets_the_rule() {
    let jane = key(&["Jane Doe <jane@example.org>", "Jane Doe <jane@apache.org>"]);
    let findings = analyze(&jane, &[&jane], Some(committee_check(&["jane"])));
    let message = only(&findings, CheckStatus::Success);
    assert!(message.contains("belongs to jane, a person of the committee widget"), "{message}");
    assert!(message.contains(&jane.fingerprint().to_hex()), "{message}");
}

#[test]
fn a_key_outside_the_domain_is_a_warning_with_the_reason() {
    let stranger = key(&["Sam Smith <sam@example.org>"]);
    let findings = analyze(&stranger, &[&stranger], Some(committee_check(&["jane"])));
    let message = only(&findings, CheckStatus::Warning);
    assert!(message.contains("has no user id in apache.org"), "{message}");
    assert!(message.contains("\"Sam Smith <sam@example.org>\""), "the user ids are named: {message}");
    assert!(message.contains(&stranger.fingerprint().to_hex()), "{message}");
}

#[test]
fn a_key_in_the_domain_of_no_committer_is_a_warning_with_the_reason() {
    let bob = key(&["Bob <bob@apache.org>"]);
    let jane = key(&["Jane Doe <jane@apache.org>"]);
    let findings = analyze(&bob, &[&jane, &bob], Some(committee_check(&["jane"])));
    let message = only(&findings, CheckStatus::Warning);
    assert!(message.contains("is in apache.org (bob), but no committer, PMC member or release manager"), "{message}");
    assert!(message.contains("the committee widget"), "{message}");
}

#[test]
fn a_revoked_user_id_does_not_count() {
    let (cert, _) = CertBuilder::new()
        .add_signing_subkey()
        .set_creation_time(day(1))
        .set_validity_period(None)
        .add_userid("Jane Doe <jane@example.org>")
        .add_userid("Jane Doe <jane@apache.org>")
        .generate()
        .unwrap();
    // The apache.org user id was revoked on day 5, before the signature of day 10.
    let mut primary = cert.primary_key().key().clone().parts_into_secret().unwrap().into_keypair().unwrap();
    let ua = cert.userids().find(|u| u.userid().value().ends_with(b"@apache.org>")).unwrap();
    let revocation = UserIDRevocationBuilder::new()
        .set_signature_creation_time(day(5))
        .unwrap()
        .set_reason_for_revocation(ReasonForRevocation::UIDRetired, b"left")
        .unwrap()
        .build(&mut primary, &cert, ua.userid(), None)
        .unwrap();
    let cert = cert.insert_packets(revocation).unwrap().0;
    let findings = analyze(&cert, &[&cert], Some(committee_check(&["jane"])));
    let message = only(&findings, CheckStatus::Warning);
    assert!(message.contains("has no user id in apache.org"), "{message}");
    assert!(!message.contains("jane@apache.org"), "the revoked user id is not listed: {message}");
}

#[test]
fn the_committees_automated_signing_key_meets_the_rule() {
    let bot = key(&["Widget release signing <widget-release@apache.org>"]);
    let findings = analyze(&bot, &[&bot], Some(committee_check(&["jane"])));
    let message = only(&findings, CheckStatus::Success);
    assert!(message.contains("is the automated-signing key of the committee widget"), "{message}");
}

#[test]
fn without_the_committee_only_the_domain_is_checked() {
    let bob = key(&["Bob <bob@apache.org>"]);
    let check = SignerCheck { rule: rule(), committee: None, people: None };
    let findings = analyze(&bob, &[&bob], Some(check.clone()));
    let message = only(&findings, CheckStatus::Success);
    assert!(message.contains("has the user id \"Bob <bob@apache.org>\" in apache.org"), "{message}");
    assert!(message.contains("not known here"), "{message}");
    let stranger = key(&["Sam <sam@example.org>"]);
    let findings = analyze(&stranger, &[&stranger], Some(check));
    only(&findings, CheckStatus::Warning);
}

#[test]
fn the_rule_is_off_without_a_domain() {
    let stranger = key(&["Sam <sam@example.org>"]);
    assert!(analyze(&stranger, &[&stranger], None).is_empty());
}

// The Analyze task: the committee's people come from the store.

fn release() -> ReleaseKey {
    ReleaseKey::new(ProjectKey::parse("widget").unwrap(), None, Version::parse("1.0.0").unwrap())
}

fn content(bytes: Vec<u8>) -> ByteStream {
    Box::pin(tokio_util::io::ReaderStream::new(std::io::Cursor::new(bytes)))
}

const T0: Timestamp = Timestamp::from_unix(1_780_000_000);

async fn seed(storage: &Storage, keys: &[&Cert]) {
    let sql = &storage.sql;
    let mut committee = Committee::new(CommitteeKey::parse("widget").unwrap(), "Apache Widget");
    committee.committers.insert(uid("jane"));
    committee.pmc_members.insert(uid("pat"));
    CommitteeRepository::put(sql, &committee).await.unwrap();
    let project = Project {
        key: ProjectKey::parse("widget").unwrap(),
        committee: committee.key.clone(),
        metadata: Metadata::default(),
        policy: PolicyOverrides::default(),
        products: Vec::new(),
    };
    ProjectRepository::create(sql, &project).await.unwrap();
    ReleaseRepository::create(sql, &Release::new_draft(release(), committee.key.clone(), uid("rm"), T0)).await.unwrap();
    let (ring, _) = KeyRing::parse(&keys_file(keys), &SignaturePolicy::default());
    for mut signing_key in ring.signing_keys(T0) {
        signing_key.committees = BTreeSet::from([committee.key.clone()]);
        KeyRepository::upsert(sql, &signing_key).await.unwrap();
    }
}

/// Revision 1: one artifact per signer, each with its signature.
async fn upload(storage: &Storage, signers: &[(&str, &Cert)]) {
    let mut changes = Vec::new();
    for (name, cert) in signers {
        let data = format!("the bytes of {name}\n").into_bytes();
        let signature = sign(cert, &data);
        changes.push(FileChange::Put { path: ReleasePath::parse(name).unwrap(), content: content(data) });
        changes.push(FileChange::Put {
            path: ReleasePath::parse(&format!("{name}.asc")).unwrap(),
            content: content(signature),
        });
    }
    let number = RevisionNumber::new(1).unwrap();
    let files = storage.files.create_revision(&release(), None, number, changes).await.unwrap();
    let revision = Revision {
        release: release(),
        number,
        parent: None,
        phase: Phase::Draft,
        created_at: T0,
        created_by: uid("rm"),
        description: None,
        files,
    };
    RevisionRepository::record(&storage.sql, &revision).await.unwrap();
}

async fn run_analyze(storage: &Storage, rule: Option<SignerRule>) -> Vec<CheckResult> {
    let handler = AnalyzeHandler::new(storage.clone(), VotePolicy::foundation_default(), SignaturePolicy::default())
        .with_signer_rule(rule);
    super::analyze_task::run_analyze(storage, &release(), RevisionNumber::new(1).unwrap(), handler).await
}

fn identity_of<'a>(checks: &'a [CheckResult], file: &str) -> Vec<(CheckStatus, &'a str)> {
    checks
        .iter()
        .filter(|c| c.checker == "signer-identity" && c.path.as_ref().map(ReleasePath::as_str) == Some(file))
        .map(|c| (c.status, c.message.as_str()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_task_judges_signers_by_the_committees_people() {
    let jane = key(&["Jane Doe <jane@apache.org>"]);
    let pat = key(&["Pat <pat@apache.org>"]);
    let bob = key(&["Bob <bob@apache.org>"]);
    for db in databases().await {
        let data = tempfile::tempdir().unwrap();
        let config = StorageConfig { database_url: Some(db.url.clone()), ..StorageConfig::new(data.path()) };
        let (storage, _) = Storage::open(&config).await.unwrap();
        seed(&storage, &[&jane, &pat, &bob]).await;
        upload(&storage, &[("widget-1.0.0-a.tar", &jane), ("widget-1.0.0-b.tar", &pat), ("widget-1.0.0-c.tar", &bob)])
            .await;
        let checks = run_analyze(&storage, Some(rule())).await;
        let a = identity_of(&checks, "widget-1.0.0-a.tar");
        assert!(matches!(a[..], [(CheckStatus::Success, m)] if m.contains("belongs to jane")), "{a:?}");
        let b = identity_of(&checks, "widget-1.0.0-b.tar");
        assert!(matches!(b[..], [(CheckStatus::Success, m)] if m.contains("belongs to pat")), "a PMC member: {b:?}");
        let c = identity_of(&checks, "widget-1.0.0-c.tar");
        assert!(
            matches!(c[..], [(CheckStatus::Warning, m)] if m.contains("(bob), but no committer") && m.contains("widget")),
            "{c:?}"
        );
        // The signature itself still counts: the rule warns, it does not block.
        let signature_blockers = checks.iter().filter(|c| c.checker == "signature" && c.status == CheckStatus::Blocker);
        assert_eq!(signature_blockers.count(), 0, "{checks:?}");
        storage.sql.close().await;
        db.finish().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_task_leaves_the_rule_off_by_default() {
    let bob = key(&["Bob <bob@example.org>"]);
    let db = databases().await.remove(0);
    let data = tempfile::tempdir().unwrap();
    let config = StorageConfig { database_url: Some(db.url.clone()), ..StorageConfig::new(data.path()) };
    let (storage, _) = Storage::open(&config).await.unwrap();
    seed(&storage, &[&bob]).await;
    upload(&storage, &[("widget-1.0.0.tar", &bob)]).await;
    let checks = run_analyze(&storage, None).await;
    assert!(checks.iter().any(|c| c.checker == "signature" && c.status == CheckStatus::Success), "{checks:?}");
    assert!(identity_of(&checks, "widget-1.0.0.tar").is_empty(), "{checks:?}");
    storage.sql.close().await;
    db.finish().await;
}
