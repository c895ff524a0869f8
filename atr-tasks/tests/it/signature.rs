//! Signature checks: KEYS files, detached signatures, and verification at signing time.

use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use atr_core::model::CheckStatus;
use atr_core::types::{Fingerprint, ReleasePath, Timestamp};
use atr_tasks::analyze::signature::{
    DetachedSignatures, Hashes, KeyOutcome, KeyRing, SignatureError, SignaturePolicy, SignatureReport, SkipReason,
    read_keys, summarize_skipped, verify,
};
use sequoia_openpgp as openpgp;
use sequoia_openpgp::armor::{Kind, Writer};
use sequoia_openpgp::cert::prelude::*;
use sequoia_openpgp::packet::prelude::*;
use sequoia_openpgp::packet::signature::SignatureBuilder;
use sequoia_openpgp::serialize::{Serialize, SerializeInto};
use sequoia_openpgp::types::{HashAlgorithm, SignatureType};

const DAY: Duration = Duration::from_hours(24);

/// A point in time, days after 2020-01-01.
fn day(n: u64) -> SystemTime {
    UNIX_EPOCH + DAY * 18_262 + DAY * u32::try_from(n).unwrap()
}

/// A key like a release manager's: a certification-only primary key and a signing subkey.
fn key(name: &str, uid: &str, created: SystemTime, validity: Option<Duration>) -> (Cert, Signature) {
    CertBuilder::new()
        .add_userid(format!("{name} <{uid}@apache.org>"))
        .add_signing_subkey()
        .set_creation_time(created)
        .set_validity_period(validity)
        .generate()
        .unwrap()
}

/// The signing subkey, ready to sign.
fn signer(cert: &Cert) -> openpgp::crypto::KeyPair {
    cert.keys().subkeys().unencrypted_secret().next().unwrap().key().clone().into_keypair().unwrap()
}

/// A binary detached signature over `data`, made at `at` with `hash`.
fn signature(cert: &Cert, data: &[u8], at: SystemTime, hash: HashAlgorithm) -> Signature {
    SignatureBuilder::new(SignatureType::Binary)
        .set_signature_creation_time(at)
        .unwrap()
        .set_hash_algo(hash)
        .sign_message(&mut signer(cert), data)
        .unwrap()
}

/// The signature as an ASCII-armored `.asc`.
fn armored(sig: &Signature) -> Vec<u8> {
    let mut out = Vec::new();
    let mut writer = Writer::new(&mut out, Kind::Signature).unwrap();
    Packet::from(sig.clone()).serialize(&mut writer).unwrap();
    writer.finalize().unwrap();
    out
}

/// The signature as a binary `.sig`.
fn binary(sig: &Signature) -> Vec<u8> {
    Packet::from(sig.clone()).to_vec().unwrap()
}

/// A detached, armored signature made at `at` with SHA-512.
fn sign(cert: &Cert, data: &[u8], at: SystemTime) -> Vec<u8> {
    armored(&signature(cert, data, at, HashAlgorithm::SHA512))
}

/// A KEYS file: each public key armored, after a comment line, as committees write them.
fn keys_file(certs: &[&Cert]) -> Vec<u8> {
    let mut out = b"This file contains the PGP keys of the project's release managers.\n\n".to_vec();
    for cert in certs {
        out.extend_from_slice(format!("pub   {}\n", cert.fingerprint()).as_bytes());
        out.extend_from_slice(&cert.armored().to_vec().unwrap());
        out.extend_from_slice(b"\n");
    }
    out
}

fn artifact() -> ReleasePath {
    ReleasePath::parse("apache-widget-1.0.0-src.tar.gz").unwrap()
}

fn fingerprint(cert: &Cert) -> Fingerprint {
    Fingerprint::parse(&cert.fingerprint().to_hex()).unwrap()
}

/// Parses the signature, hashes the data in small chunks, and verifies.
fn check(data: &[u8], asc: &[u8], keys: &[u8], policy: SignaturePolicy) -> SignatureReport {
    let sigs = DetachedSignatures::parse(asc).unwrap();
    let (ring, _) = KeyRing::parse(keys, &policy);
    let mut hashes = Hashes::for_signatures(&sigs);
    for chunk in data.chunks(7) {
        hashes.update(chunk);
    }
    verify(&artifact(), &sigs, &ring, &hashes, &policy)
}

fn with_status(report: &SignatureReport, status: CheckStatus) -> Vec<&str> {
    report.findings.iter().filter(|f| f.status == status).map(|f| f.message.as_str()).collect()
}

fn assert_success(report: &SignatureReport, signer: &Cert) {
    assert_eq!(report.good_signers, vec![fingerprint(signer)], "{:#?}", report.findings);
    assert!(with_status(report, CheckStatus::Blocker).is_empty(), "{:#?}", report.findings);
    let successes = with_status(report, CheckStatus::Success);
    assert_eq!(successes.len(), 1, "{:#?}", report.findings);
    assert!(successes[0].contains(&signer.fingerprint().to_hex()), "{}", successes[0]);
    assert!(report.findings.iter().all(|f| f.checker == "signature" && f.path == Some(artifact())));
}

fn assert_blocked(report: &SignatureReport, needle: &str) {
    assert!(report.good_signers.is_empty(), "{:#?}", report.findings);
    assert!(with_status(report, CheckStatus::Success).is_empty(), "{:#?}", report.findings);
    let blockers = with_status(report, CheckStatus::Blocker);
    assert!(blockers.iter().any(|m| m.contains(needle)), "no blocker saying {needle:?}: {:#?}", report.findings);
    assert!(
        blockers.iter().any(|m| m.contains("has no valid signature from a key in the committee's KEYS file")),
        "{:#?}",
        report.findings
    );
}

const DATA: &[u8] = b"the release artifact's bytes\n\x00\x01\x02 and more bytes";

#[test]
fn a_good_signature_names_its_signer() {
    let (cert, _) = key("Jane Doe", "jdoe", day(0), None);
    let report = check(DATA, &sign(&cert, DATA, day(10)), &keys_file(&[&cert]), SignaturePolicy::default());
    assert_success(&report, &cert);
    let success = with_status(&report, CheckStatus::Success)[0];
    assert!(success.contains("Jane Doe <jdoe@apache.org>"), "{success}");
    assert!(success.contains("2020-01-11"), "{success}");
}

#[test]
fn a_flipped_byte_is_a_blocker() {
    let (cert, _) = key("Jane Doe", "jdoe", day(0), None);
    let asc = sign(&cert, DATA, day(10));
    let mut changed = DATA.to_vec();
    changed[3] ^= 0x01;
    let report = check(&changed, &asc, &keys_file(&[&cert]), SignaturePolicy::default());
    assert_blocked(&report, "does not match the file's bytes");
}

#[test]
fn a_signature_by_a_key_missing_from_keys_names_its_issuer() {
    let (member, _) = key("Jane Doe", "jdoe", day(0), None);
    let (stranger, _) = key("Mallory", "mallory", day(0), None);
    let report = check(DATA, &sign(&stranger, DATA, day(10)), &keys_file(&[&member]), SignaturePolicy::default());
    let signing_subkey = stranger.keys().subkeys().next().unwrap().key().fingerprint().to_hex();
    let warnings = with_status(&report, CheckStatus::Warning);
    assert!(
        warnings.iter().any(|m| m.contains(&signing_subkey) && m.contains("not in the committee's KEYS file")),
        "{:#?}",
        report.findings
    );
    assert_blocked(&report, "has no valid signature");
}

#[test]
fn an_issuer_named_only_by_key_id_is_found() {
    let (cert, _) = key("Jane Doe", "jdoe", day(0), None);
    let subkey = cert.keys().subkeys().next().unwrap().key().keyid();
    let sig = SignatureBuilder::new(SignatureType::Binary)
        .set_signature_creation_time(day(10))
        .unwrap()
        .set_issuer(subkey.clone())
        .unwrap()
        .sign_message(&mut signer(&cert), DATA)
        .unwrap();
    assert!(sig.issuer_fingerprints().next().is_none());
    let report = check(DATA, &armored(&sig), &keys_file(&[&cert]), SignaturePolicy::default());
    assert_success(&report, &cert);

    // Signed by a stranger: the warning names the key id.
    let (stranger, _) = key("Mallory", "mallory", day(0), None);
    let stranger_id = stranger.keys().subkeys().next().unwrap().key().keyid();
    let sig = SignatureBuilder::new(SignatureType::Binary)
        .set_issuer(stranger_id.clone())
        .unwrap()
        .sign_message(&mut signer(&stranger), DATA)
        .unwrap();
    let report = check(DATA, &armored(&sig), &keys_file(&[&cert]), SignaturePolicy::default());
    let warnings = with_status(&report, CheckStatus::Warning);
    assert!(warnings.iter().any(|m| m.contains(&stranger_id.to_hex())), "{:#?}", report.findings);
}

#[test]
fn damaged_signature_files_are_refused_with_a_clear_error() {
    let (cert, _) = key("Jane Doe", "jdoe", day(0), None);
    let asc = sign(&cert, DATA, day(10));

    let truncated = &asc[..asc.len() / 2];
    let error = DetachedSignatures::parse(truncated).unwrap_err();
    assert!(matches!(error, SignatureError::Truncated { line: 1, .. }), "{error:?}");
    assert!(error.to_string().contains("truncated"), "{error}");
    assert!(error.to_string().contains("-----END PGP SIGNATURE-----"), "{error}");

    // The footer survived but the middle is gone.
    let text = String::from_utf8(asc.clone()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let mut cut = lines[..3].to_vec();
    cut.extend_from_slice(&lines[lines.len() - 2..]);
    let error = DetachedSignatures::parse(cut.join("\n").as_bytes()).unwrap_err();
    assert!(matches!(error, SignatureError::CorruptPacket { .. } | SignatureError::CorruptArmor { .. }), "{error:?}");

    // A binary signature cut short.
    let binary = binary(&signature(&cert, DATA, day(10), HashAlgorithm::SHA512));
    let error = DetachedSignatures::parse(&binary[..binary.len() - 20]).unwrap_err();
    assert!(matches!(error, SignatureError::CorruptPacket { .. }), "{error:?}");
    assert!(error.to_string().contains("truncated or damaged"), "{error}");

    assert_eq!(DetachedSignatures::parse(b"").unwrap_err(), SignatureError::Empty);
    assert_eq!(DetachedSignatures::parse(b"not a signature\n").unwrap_err(), SignatureError::NotOpenPgp);
    let error = DetachedSignatures::parse(&cert.armored().to_vec().unwrap()).unwrap_err();
    assert!(error.to_string().contains("PUBLIC KEY BLOCK, not a detached signature"), "{error}");
    let empty_block = b"-----BEGIN PGP SIGNATURE-----\n\n-----END PGP SIGNATURE-----\n";
    assert_eq!(DetachedSignatures::parse(empty_block).unwrap_err(), SignatureError::NoSignature);
    let error = DetachedSignatures::parse(&vec![b'x'; 2 << 20]).unwrap_err();
    assert!(matches!(error, SignatureError::TooLarge { .. }), "{error:?}");
}

#[test]
fn a_file_of_only_other_packets_is_not_a_signature() {
    let (cert, _) = key("Jane Doe", "jdoe", day(0), None);
    let error = DetachedSignatures::parse(&cert.to_vec().unwrap()).unwrap_err();
    assert!(matches!(error, SignatureError::NotDetachedSignature { .. }), "{error:?}");
    assert!(error.to_string().contains("not a detached signature"), "{error}");
}

#[test]
fn too_many_signatures_are_refused() {
    let (cert, _) = key("Jane Doe", "jdoe", day(0), None);
    let one = binary(&signature(&cert, DATA, day(10), HashAlgorithm::SHA256));
    let error = DetachedSignatures::parse(&one.repeat(101)).unwrap_err();
    assert_eq!(error, SignatureError::TooManySignatures { limit: 100 });
    assert_eq!(DetachedSignatures::parse(&one.repeat(100)).unwrap().len(), 100);
}

#[test]
fn crlf_armor_verifies() {
    let (cert, _) = key("Jane Doe", "jdoe", day(0), None);
    let asc = String::from_utf8(sign(&cert, DATA, day(10))).unwrap();
    let crlf = format!("signed by jdoe\r\n{}", asc.replace('\n', "\r\n"));
    assert!(crlf.contains("\r\n-----END PGP SIGNATURE-----\r\n"));
    let report = check(DATA, crlf.as_bytes(), &keys_file(&[&cert]), SignaturePolicy::default());
    assert_success(&report, &cert);
}

#[test]
fn a_binary_sig_verifies() {
    let (cert, _) = key("Jane Doe", "jdoe", day(0), None);
    let binary = binary(&signature(&cert, DATA, day(10), HashAlgorithm::SHA256));
    let sigs = DetachedSignatures::parse(&binary).unwrap();
    assert_eq!(sigs.hash_algorithms(), vec![HashAlgorithm::SHA256]);
    let report = check(DATA, &binary, &keys_file(&[&cert]), SignaturePolicy::default());
    assert_success(&report, &cert);
}

#[test]
fn two_armor_blocks_one_by_a_stranger_still_pass() {
    let (member, _) = key("Jane Doe", "jdoe", day(0), None);
    let (stranger, _) = key("Mallory", "mallory", day(0), None);
    let mut asc = sign(&stranger, DATA, day(10));
    asc.extend_from_slice(&armored(&signature(&member, DATA, day(11), HashAlgorithm::SHA256)));
    let sigs = DetachedSignatures::parse(&asc).unwrap();
    assert_eq!(sigs.len(), 2);
    assert_eq!(sigs.hash_algorithms(), vec![HashAlgorithm::SHA512, HashAlgorithm::SHA256]);
    let report = check(DATA, &asc, &keys_file(&[&member]), SignaturePolicy::default());
    assert_success(&report, &member);
    let warnings = with_status(&report, CheckStatus::Warning);
    assert!(warnings.iter().any(|m| m.starts_with("signature 1 of 2") && m.contains("not in the committee's KEYS")));
    assert!(with_status(&report, CheckStatus::Success)[0].starts_with("signature 2 of 2 is good"));
}

#[test]
fn a_key_expired_at_signing_time_is_a_blocker() {
    let (cert, _) = key("Jane Doe", "jdoe", day(0), Some(DAY * 30));
    let report = check(DATA, &sign(&cert, DATA, day(40)), &keys_file(&[&cert]), SignaturePolicy::default());
    assert_blocked(&report, "had expired on 2020-01-31");
}

#[test]
fn a_key_that_expired_after_signing_is_accepted() {
    let (cert, _) = key("Jane Doe", "jdoe", day(0), Some(DAY * 30));
    let keys = keys_file(&[&cert]);
    let (ring, notes) = KeyRing::parse(&keys, &SignaturePolicy::default());
    assert_eq!(ring.len(), 1);
    assert_eq!(notes[0].outcome, KeyOutcome::Added);
    assert!(notes[0].reason.contains("expired on 2020-01-31"), "{}", notes[0].reason);
    let report = check(DATA, &sign(&cert, DATA, day(20)), &keys, SignaturePolicy::default());
    assert_success(&report, &cert);
}

#[test]
fn a_revoked_key_is_a_blocker() {
    let (cert, revocation) = key("Jane Doe", "jdoe", day(0), None);
    let asc = sign(&cert, DATA, day(10));
    let (revoked, _) = cert.insert_packets(revocation).unwrap();
    let keys = keys_file(&[&revoked]);
    let (ring, notes) = KeyRing::parse(&keys, &SignaturePolicy::default());
    assert_eq!(ring.len(), 1, "a revoked key is kept: {notes:?}");
    assert!(notes[0].reason.contains("revoked"), "{}", notes[0].reason);
    let report = check(DATA, &asc, &keys, SignaturePolicy::default());
    assert_blocked(&report, "which is revoked");
}

#[test]
fn a_signature_older_than_its_key_is_a_blocker() {
    let (cert, _) = key("Jane Doe", "jdoe", day(100), None);
    let report = check(DATA, &sign(&cert, DATA, day(10)), &keys_file(&[&cert]), SignaturePolicy::default());
    assert_blocked(&report, "before its key");
}

#[test]
fn sha1_data_signatures_follow_the_policy() {
    let (cert, _) = key("Jane Doe", "jdoe", day(0), None);
    let asc = armored(&signature(&cert, DATA, day(10), HashAlgorithm::SHA1));
    let keys = keys_file(&[&cert]);
    let report = check(DATA, &asc, &keys, SignaturePolicy::default());
    assert_blocked(&report, "was made with SHA-1");
    assert!(with_status(&report, CheckStatus::Blocker)[0].contains("accept_sha1_data_signatures"));

    let lenient = SignaturePolicy { accept_sha1_data_signatures: true, ..SignaturePolicy::default() };
    let report = check(DATA, &asc, &keys, lenient);
    assert_success(&report, &cert);
    assert!(with_status(&report, CheckStatus::Warning)[0].contains("SHA-1"), "{:#?}", report.findings);
}

/// The same key, its user id and subkey bound by SHA-1 self-signatures, as old `GnuPG` made them.
fn with_sha1_bindings(cert: &Cert, created: SystemTime) -> Cert {
    let mut primary = cert.primary_key().key().clone().parts_into_secret().unwrap().into_keypair().unwrap();
    let uid = cert.userids().next().unwrap();
    let uid_binding = SignatureBuilder::from(uid.self_signatures().next().unwrap().clone())
        .set_signature_creation_time(created)
        .unwrap()
        .set_hash_algo(HashAlgorithm::SHA1)
        .sign_userid_binding(&mut primary, None, uid.userid())
        .unwrap();
    let subkey = cert.keys().subkeys().next().unwrap();
    let subkey_binding = SignatureBuilder::from(subkey.self_signatures().next().unwrap().clone())
        .set_signature_creation_time(created)
        .unwrap()
        .set_hash_algo(HashAlgorithm::SHA1)
        .sign_subkey_binding(&mut primary, None, subkey.key())
        .unwrap();
    let packets: Vec<Packet> = vec![
        cert.primary_key().key().clone().into(),
        uid.userid().clone().into(),
        uid_binding.into(),
        subkey.key().clone().into(),
        subkey_binding.into(),
    ];
    Cert::from_packets(packets.into_iter()).unwrap()
}

#[test]
fn keys_bound_by_sha1_follow_the_policy() {
    let (cert, _) = key("Old Timer", "old", day(0), None);
    let old = with_sha1_bindings(&cert, day(0));
    let asc = sign(&cert, DATA, day(10));
    let keys = keys_file(&[&old]);

    let report = check(DATA, &asc, &keys, SignaturePolicy::default());
    assert_success(&report, &cert);
    let warnings = with_status(&report, CheckStatus::Warning);
    assert!(warnings.iter().any(|m| m.contains("SHA-1") && m.contains("accept_sha1_key_bindings")), "{warnings:?}");

    let strict = SignaturePolicy { accept_sha1_key_bindings: false, ..SignaturePolicy::default() };
    let (ring, notes) = KeyRing::parse(&keys, &strict);
    assert_eq!(ring.len(), 1, "{notes:?}");
    assert!(notes[0].reason.contains("SHA-1"), "{}", notes[0].reason);
    let report = check(DATA, &asc, &keys, strict);
    assert_blocked(&report, "turn on the policy's accept_sha1_key_bindings");
}

#[test]
fn a_keys_file_with_garbage_duplicates_and_damage_keeps_the_good_keys() {
    let (jane, _) = key("Jane Doe", "jdoe", day(0), None);
    let (john, _) = key("John Roe", "jroe", day(0), None);
    let (cannot_sign, _) = CertBuilder::new()
        .add_userid("Crypt Only <crypt@apache.org>")
        .add_transport_encryption_subkey()
        .set_creation_time(day(0))
        .generate()
        .unwrap();
    let mut keys = keys_file(&[&jane]);
    keys.extend_from_slice(b"\n#### some garbage \x00\xff between the blocks ####\n");
    // A damaged block: its base64 is cut in the middle of a packet.
    let john_armored = String::from_utf8(john.armored().to_vec().unwrap()).unwrap();
    let lines: Vec<&str> = john_armored.lines().collect();
    let mut damaged = lines[..8].to_vec();
    damaged.push(lines[lines.len() - 1]);
    keys.extend_from_slice(damaged.join("\n").as_bytes());
    keys.extend_from_slice(b"\n");
    keys.extend_from_slice(&keys_file(&[&cannot_sign, &john, &jane]));

    let (ring, notes) = KeyRing::parse(&keys, &SignaturePolicy::default());
    for note in &notes {
        println!("{:?} {:?} {:?}: {}", note.outcome, note.fingerprint, note.user_ids, note.reason);
    }
    assert_eq!(ring.fingerprints(), vec![fingerprint(&jane), fingerprint(&john)]);
    assert_eq!(notes.iter().filter(|n| n.outcome == KeyOutcome::Added).count(), 2);
    let skipped: Vec<_> = notes.iter().filter(|n| n.outcome == KeyOutcome::Skipped).collect();
    assert_eq!(skipped.len(), 4, "{notes:#?}");
    assert!(skipped.iter().all(|n| !n.reason.is_empty()));
    // The damaged block: what could be read of John's key has no self-signature, the rest is a truncated packet.
    assert!(skipped.iter().any(|n| n.fingerprint.is_none() && n.reason.contains("could not be read")), "{skipped:#?}");
    assert!(
        skipped
            .iter()
            .any(|n| n.fingerprint == Some(fingerprint(&john)) && n.reason.contains("no valid self-signature")),
        "{skipped:#?}"
    );
    // Its intact copy further down is added all the same.
    let john_added = notes.iter().find(|n| n.outcome == KeyOutcome::Added && n.fingerprint == Some(fingerprint(&john)));
    assert!(john_added.unwrap().reason.contains("where it was skipped"), "{notes:#?}");
    assert!(
        skipped.iter().any(|n| n.fingerprint == Some(fingerprint(&cannot_sign)) && n.reason.contains("may sign")),
        "{skipped:#?}"
    );
    assert!(
        skipped.iter().any(|n| n.fingerprint == Some(fingerprint(&jane)) && n.reason.contains("same key appears")),
        "{skipped:#?}"
    );

    let report = check(DATA, &sign(&john, DATA, day(10)), &keys, SignaturePolicy::default());
    assert_success(&report, &john);
}

/// A PGP 2 (version 3) RSA public key and its user id, armored as old KEYS files hold them.
/// Sequoia cannot make one (the format is obsolete), so its packets are written here by hand: a
/// public key packet (old format, tag 6) with version 3, a creation time, a validity period, the
/// RSA algorithm and the modulus and exponent, then a user id packet (tag 13).
fn pgp2_key(uid: &str, seed: u8) -> Vec<u8> {
    let mut body = vec![3u8];
    body.extend_from_slice(&0x3000_0000u32.to_be_bytes());
    body.extend_from_slice(&0u16.to_be_bytes());
    body.push(1);
    body.extend_from_slice(&1024u16.to_be_bytes());
    body.extend((0..128u8).map(|i| i.wrapping_mul(31).wrapping_add(seed) | if i == 0 { 0x80 } else { 0 }));
    body.extend_from_slice(&17u16.to_be_bytes());
    body.extend_from_slice(&[0x01, 0x00, 0x01]);
    let mut packets = vec![0x99];
    packets.extend_from_slice(&u16::try_from(body.len()).unwrap().to_be_bytes());
    packets.extend_from_slice(&body);
    packets.push(0xB4);
    packets.push(u8::try_from(uid.len()).unwrap());
    packets.extend_from_slice(uid.as_bytes());
    let mut out = b"pub   1024R/OLDKEY 1997-07-01\n".to_vec();
    let mut writer = Writer::new(&mut out, Kind::PublicKey).unwrap();
    std::io::Write::write_all(&mut writer, &packets).unwrap();
    writer.finalize().unwrap();
    out.push(b'\n');
    out
}

#[test]
fn skipped_keys_are_named_and_grouped_by_reason() {
    let (jane, _) = key("Jane Doe", "jdoe", day(0), None);
    let (cannot_sign, _) = CertBuilder::new()
        .add_userid("Crypt Only <crypt@apache.org>")
        .add_transport_encryption_subkey()
        .set_creation_time(day(0))
        .generate()
        .unwrap();
    let mut keys = pgp2_key("Old Timer <old@apache.org>", 1);
    keys.extend_from_slice(&keys_file(&[&jane]));
    keys.extend_from_slice(&pgp2_key("Elder Statesman <elder@apache.org>", 2));
    keys.extend_from_slice(&keys_file(&[&cannot_sign, &jane]));
    let (ring, notes) = KeyRing::parse(&keys, &SignaturePolicy::default());
    assert_eq!(ring.fingerprints(), vec![fingerprint(&jane)]);
    let reasons: Vec<Option<SkipReason>> = notes.iter().map(|n| n.skip).collect();
    assert_eq!(
        reasons,
        vec![
            Some(SkipReason::Pgp2),
            None,
            Some(SkipReason::Pgp2),
            Some(SkipReason::CannotSign),
            Some(SkipReason::Duplicate)
        ],
        "{notes:#?}"
    );
    assert!(notes.iter().all(|n| n.line.is_some()), "{notes:#?}");
    let summary = summarize_skipped(&notes);
    for line in &summary {
        println!("{line}");
    }
    assert_eq!(summary.len(), 3, "{summary:#?}");
    assert!(summary[0].starts_with("2 PGP 2 keys (version 3) skipped: OpenPGP no longer supports the format"));
    assert!(
        summary[0]
            .contains("signatures: Old Timer <old@apache.org> (line 2) and Elder Statesman <elder@apache.org> (line "),
        "{}",
        summary[0]
    );
    assert!(summary[1].starts_with("1 key skipped: none of its keys may sign"), "{}", summary[1]);
    assert!(summary[1].contains("Crypt Only <crypt@apache.org>"), "{}", summary[1]);
    assert!(summary[2].starts_with("1 second copy of a key listed earlier, merged with the first: Jane Doe"));
}

#[test]
fn a_long_list_of_skipped_keys_is_counted() {
    let mut keys = Vec::new();
    for i in 0..12u8 {
        keys.extend_from_slice(&pgp2_key(&format!("Old Key {i} <old{i}@apache.org>"), i));
    }
    let (ring, notes) = KeyRing::parse(&keys, &SignaturePolicy::default());
    assert!(ring.is_empty());
    let summary = summarize_skipped(&notes);
    assert_eq!(summary.len(), 1, "{summary:#?}");
    assert!(summary[0].starts_with("12 PGP 2 keys (version 3) skipped"), "{}", summary[0]);
    assert!(summary[0].contains("Old Key 0 <old0@apache.org>"), "{}", summary[0]);
    assert!(summary[0].ends_with(" and 7 more"), "{}", summary[0]);
    assert!(!summary[0].contains("Old Key 11"), "{}", summary[0]);
}

#[test]
fn an_oversized_keys_file_is_refused_with_a_note() {
    let (ring, notes) = KeyRing::parse(&vec![b'#'; 17 << 20], &SignaturePolicy::default());
    assert_eq!(ring.len(), 0);
    assert_eq!(notes.len(), 1);
    assert_eq!(notes[0].outcome, KeyOutcome::Skipped);
    assert!(notes[0].reason.contains("over the limit"), "{}", notes[0].reason);
}

#[test]
fn signing_keys_describe_the_keys() {
    let (cert, _) = key("Jane Doe", "jdoe", day(0), Some(DAY * 365));
    let (ring, _) = KeyRing::parse(&cert.armored().to_vec().unwrap(), &SignaturePolicy::default());
    let now = Timestamp::from_unix(1_800_000_000);
    let keys = ring.signing_keys(now);
    assert_eq!(keys.len(), 1);
    let k = &keys[0];
    assert_eq!(k.fingerprint, fingerprint(&cert));
    assert_eq!(k.owner, None);
    assert_eq!(k.algorithm, "EdDSA");
    assert_eq!(k.created_at, Timestamp::from_unix(1_577_836_800));
    assert_eq!(k.expires_at, Some(Timestamp::from_unix(1_577_836_800 + 365 * 86_400)));
    assert!(!k.revoked);
    assert_eq!(k.user_ids, vec!["Jane Doe <jdoe@apache.org>".to_owned()]);
    assert_eq!(k.apache_uid().unwrap().as_str(), "jdoe");
    assert!(k.armored.starts_with("-----BEGIN PGP PUBLIC KEY BLOCK-----"));
    assert!(!k.armored.contains("PRIVATE KEY"));
    assert!(k.committees.is_empty());
    assert_eq!(k.added_at, now);
    // The armored key reads back as the same key.
    let (again, _) = KeyRing::parse(k.armored.as_bytes(), &SignaturePolicy::default());
    assert_eq!(again.fingerprints(), vec![fingerprint(&cert)]);
}

#[test]
fn read_keys_gives_the_services_plain_keys_and_a_reading_of_every_block() {
    let (jane, _) = key("Jane Doe", "jdoe", day(0), None);
    let (john, _) = key("John Roe", "jroe", day(1), None);
    let mut body = keys_file(&[&jane, &john]);
    body.extend_from_slice(b"-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nbroken\n-----END PGP PUBLIC KEY BLOCK-----\n");
    let now = Timestamp::from_unix(1_800_000_000);
    let read = read_keys(&body, &SignaturePolicy::default(), now);
    let (ring, notes) = KeyRing::parse(&body, &SignaturePolicy::default());
    assert_eq!(read.keys, ring.signing_keys(now));
    assert_eq!(read.readings.len(), notes.len());
    for (reading, note) in read.readings.iter().zip(&notes) {
        assert_eq!(
            (&reading.fingerprint, &reading.user_ids, &reading.reason),
            (&note.fingerprint, &note.user_ids, &note.reason)
        );
        assert_eq!(reading.usable, note.outcome == KeyOutcome::Added);
    }
    assert_eq!(read.unusable().count(), 1, "{:?}", read.readings);
    assert!(read.note_of(&fingerprint(&john)).is_some());
}

#[test]
fn hashes_feed_every_context_and_give_sha512() {
    fn assert_send<T: Send>(_: &T) {}
    use sha2::Digest;
    let mut hashes = Hashes::new([HashAlgorithm::SHA256]);
    assert_send(&hashes);
    for chunk in DATA.chunks(5) {
        hashes.update(chunk);
    }
    let expected: [u8; 64] = sha2::Sha512::digest(DATA).into();
    assert_eq!(hashes.sha512(), expected);
    assert_eq!(hashes.sha512(), expected, "reading the digest does not consume the context");
}

/// The folder of the real Apache httpd 2.4.68 release: `ATR_HTTPD_FIXTURE`, or the workspace's fixture folder.
fn httpd_fixture() -> PathBuf {
    let dir = std::env::var_os("ATR_HTTPD_FIXTURE").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/fixtures/httpd-2.4.68"),
        PathBuf::from,
    );
    assert!(
        dir.join("httpd-2.4.68.tar.gz").is_file() && dir.join("KEYS").is_file(),
        "the httpd 2.4.68 release is missing from {}: run `scripts/fetch-httpd-release.sh {}` first (or set \
         ATR_HTTPD_FIXTURE to a folder holding httpd-2.4.68.tar.gz, its .asc and KEYS)",
        dir.display(),
        dir.display()
    );
    dir
}

#[test]
fn the_real_httpd_release_verifies() {
    use std::io::Read;
    let dir = httpd_fixture();
    let policy = SignaturePolicy::default();
    let (ring, notes) = KeyRing::parse(&std::fs::read(dir.join("KEYS")).unwrap(), &policy);
    let added = notes.iter().filter(|n| n.outcome == KeyOutcome::Added).count();
    let skipped: Vec<_> = notes.iter().filter(|n| n.outcome == KeyOutcome::Skipped).collect();
    println!("httpd KEYS: {added} keys added, {} skipped", skipped.len());
    for note in &notes {
        let who = note.user_ids.first().map_or("", String::as_str);
        let fp = note.fingerprint.as_ref().map_or_else(|| "-".to_owned(), ToString::to_string);
        println!("  {:?} {fp} {who}: {}", note.outcome, note.reason);
    }
    assert_eq!(ring.len(), added);
    assert!(added >= 30, "only {added} keys added");
    assert!(skipped.iter().all(|n| n.reason.len() > 20), "{skipped:#?}");
    // The project's oldest keys are PGP 2 keys: skipped, each named by its key id.
    let ben = notes.iter().find(|n| n.user_ids.iter().any(|u| u.contains("ben@algroup.co.uk"))).unwrap();
    assert_eq!(ben.outcome, KeyOutcome::Skipped);
    assert!(ben.reason.contains("PGP 2") && ben.reason.contains("2719AF35"), "{}", ben.reason);
    // The skipped keys are told by reason, each group naming its keys: the old PGP 2 keys first.
    let pgp2 = notes.iter().filter(|n| n.skip == Some(SkipReason::Pgp2)).count();
    let summary = summarize_skipped(&notes);
    println!("{summary:#?}");
    assert!(pgp2 >= 20, "{pgp2} PGP 2 keys");
    assert!(summary[0].starts_with(&format!("{pgp2} PGP 2 keys (version 3) skipped")), "{summary:#?}");
    assert!(summary[0].contains(&format!("and {} more", pgp2 - 5)), "{summary:#?}");
    let grouped: usize = notes.iter().filter(|n| n.skip.is_some()).count();
    assert_eq!(grouped, skipped.len());

    let sigs = DetachedSignatures::parse(&std::fs::read(dir.join("httpd-2.4.68.tar.gz.asc")).unwrap()).unwrap();
    let mut hashes = Hashes::for_signatures(&sigs);
    let mut file = std::fs::File::open(dir.join("httpd-2.4.68.tar.gz")).unwrap();
    let mut buf = vec![0u8; 64 * 1024];
    let mut bytes = Vec::new();
    loop {
        let n = file.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        hashes.update(&buf[..n]);
        bytes.extend_from_slice(&buf[..n]);
    }
    let path = ReleasePath::parse("httpd-2.4.68.tar.gz").unwrap();
    let report = verify(&path, &sigs, &ring, &hashes, &policy);
    for finding in &report.findings {
        println!("  {:?}: {}", finding.status, finding.message);
    }
    assert_eq!(report.good_signers.len(), 1, "{:#?}", report.findings);
    assert!(ring.fingerprints().contains(&report.good_signers[0]));
    assert!(report.findings.iter().any(|f| f.status == CheckStatus::Success));
    assert!(report.findings.iter().all(|f| f.status != CheckStatus::Blocker), "{:#?}", report.findings);
    assert_eq!(hashes.sha512()[..8], [0xde, 0x3d, 0x6e, 0x2d, 0xd3, 0x7a, 0x60, 0x0b]);

    // One flipped byte in a copy: the signature no longer holds.
    let mut copy = tempfile::tempfile().unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x20;
    std::io::Write::write_all(&mut copy, &bytes).unwrap();
    std::io::Seek::rewind(&mut copy).unwrap();
    let mut hashes = Hashes::for_signatures(&sigs);
    loop {
        let n = copy.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        hashes.update(&buf[..n]);
    }
    let report = verify(&path, &sigs, &ring, &hashes, &policy);
    assert!(report.good_signers.is_empty());
    let blockers = with_status(&report, CheckStatus::Blocker);
    assert!(blockers.iter().any(|m| m.contains("does not match the file's bytes")), "{:#?}", report.findings);
}
