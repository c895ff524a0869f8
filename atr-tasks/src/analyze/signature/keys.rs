//! Committee KEYS files: the keys a release may be signed with.

use std::collections::{BTreeSet, HashMap};
use std::fmt;

use atr_core::model::SigningKey;
use atr_core::model::key::{KeyReading, ReadKeys};
use atr_core::types::{Fingerprint, Timestamp};
use sequoia_openpgp as openpgp;
use sequoia_openpgp::cert::prelude::*;
use sequoia_openpgp::packet::Packet;
use sequoia_openpgp::packet::Tag;
use sequoia_openpgp::parse::{PacketParserBuilder, PacketParserResult, Parse};
use sequoia_openpgp::policy::{HashAlgoSecurity, Policy};
use sequoia_openpgp::serialize::SerializeInto;
use sequoia_openpgp::types::{PublicKeyAlgorithm, RevocationStatus};
use sequoia_openpgp::{KeyHandle, KeyID};

use super::SignaturePolicy;
use super::detached::armor_blocks;
use super::policy::{self, AnyAlgorithm, Level};

/// The largest KEYS file read.
pub const MAX_KEYS_FILE_BYTES: usize = 16 << 20;

/// The most keys read from one KEYS file; the rest is skipped with a note.
pub const MAX_KEYS: usize = 10_000;

/// What happened to one key (or one unreadable block) of a KEYS file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyNote {
    /// The key's fingerprint, when the key could be read that far.
    pub fingerprint: Option<Fingerprint>,
    /// The key's user ids (`Name <email>`), when they could be read.
    pub user_ids: Vec<String>,
    pub outcome: KeyOutcome,
    /// Why a skipped key was skipped, as a kind that groups like notes; `None` for an added key.
    pub skip: Option<SkipReason>,
    /// The line of the KEYS file its block starts at, when the file is armored.
    pub line: Option<usize>,
    /// Why, in a sentence: for an added key, anything a release manager should know (expired, revoked, SHA-1).
    pub reason: String,
}

/// Why a key (or a block) of a KEYS file was skipped, in kinds a summary can group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SkipReason {
    /// A PGP 2 (version 3) key, a format OpenPGP no longer supports.
    Pgp2,
    /// The key or its block could not be read (damaged, or holding no key).
    Unreadable,
    /// The block has no end line.
    Truncated,
    /// No valid self-signature binds the key.
    NoSelfSignature,
    /// None of its keys may sign.
    CannotSign,
    /// A second copy of a key read earlier (merged with it, or ignored).
    Duplicate,
    /// Not a public key block (a private key, a signature, a message).
    NotPublicKey,
    /// Past the bounds on the KEYS file (its size, its number of keys).
    Limit,
}

impl SkipReason {
    /// The group's heading in a summary: what the keys are and why they are not used.
    fn heading(self, count: usize) -> String {
        let (one, many) = match self {
            Self::Pgp2 => (
                "PGP 2 key (version 3) skipped: OpenPGP no longer supports the format, so it cannot verify signatures",
                "PGP 2 keys (version 3) skipped: OpenPGP no longer supports the format, so they cannot verify \
                 signatures",
            ),
            Self::Unreadable => (
                "unreadable block skipped: it is damaged or holds no key",
                "unreadable blocks skipped: they are damaged or hold no key",
            ),
            Self::Truncated => (
                "truncated key block skipped: it has no END line",
                "truncated key blocks skipped: they have no END line",
            ),
            Self::NoSelfSignature => {
                ("key skipped: no valid self-signature binds it", "keys skipped: no valid self-signature binds them")
            }
            Self::CannotSign => (
                "key skipped: none of its keys may sign (encryption only)",
                "keys skipped: none of their keys may sign (encryption only)",
            ),
            Self::Duplicate => (
                "second copy of a key listed earlier, merged with the first",
                "second copies of keys listed earlier, merged with the first",
            ),
            Self::NotPublicKey => ("block skipped: it is not a public key", "blocks skipped: they are not public keys"),
            Self::Limit => {
                ("part not read: over the KEYS file's limits", "parts not read: over the KEYS file's limits")
            }
        };
        crate::analyze::text::count(count, one, many)
    }
}

/// The skipped keys of a KEYS file, grouped by why they were skipped: one line per group, such
/// as `25 PGP 2 keys (version 3) skipped: ...: Ben Laurie <ben@algroup.co.uk> (line 12), ... and
/// 20 more`. Each key is named by its first user id, else its fingerprint, else its line.
pub fn summarize_skipped(notes: &[KeyNote]) -> Vec<String> {
    let mut groups: std::collections::BTreeMap<SkipReason, Vec<String>> = std::collections::BTreeMap::new();
    for note in notes {
        let Some(why) = note.skip else { continue };
        let name = note
            .user_ids
            .first()
            .cloned()
            .or_else(|| note.fingerprint.as_ref().map(ToString::to_string))
            .or_else(|| note.line.map(|l| format!("the block at line {l}")))
            .unwrap_or_else(|| note.reason.clone());
        let name = match (note.line, name.starts_with("the block at line")) {
            (Some(line), false) => format!("{name} (line {line})"),
            _ => name,
        };
        groups.entry(why).or_default().push(name);
    }
    groups
        .into_iter()
        .map(|(why, names)| format!("{}: {}", why.heading(names.len()), crate::analyze::text::list(&names)))
        .collect()
}

/// Whether a key went into the key ring.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyOutcome {
    Added,
    Skipped,
}

/// The usable keys of a committee's KEYS file.
#[derive(Default)]
pub struct KeyRing {
    certs: Vec<Cert>,
    /// The line of the KEYS file each certificate starts at.
    lines: Vec<Option<usize>>,
    /// The key id of every primary key and subkey, to the certificates holding it.
    by_key_id: HashMap<KeyID, Vec<usize>>,
    /// The keys skipped so far, and the line they start at: a later copy is merged with them.
    skipped: Vec<(Cert, Option<usize>)>,
}

impl fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let fingerprints: Vec<String> = self.certs.iter().map(|c| c.fingerprint().to_hex()).collect();
        f.debug_struct("KeyRing").field("keys", &fingerprints).finish_non_exhaustive()
    }
}

impl KeyRing {
    /// Reads a committee's KEYS file (ASCII-armored keys with comments between them), one armored key, or binary
    /// OpenPGP keys.
    ///
    /// Never rejects the whole file. PGP 2 (version 3) keys, damaged blocks and keys without any key that may
    /// sign are skipped; expired and revoked keys are kept, as they may have been valid when a release was
    /// signed. Every key, added or skipped, gets a note; `policy` decides how keys bound by SHA-1 are described.
    pub fn parse(keys_file: &[u8], policy: &SignaturePolicy) -> (KeyRing, Vec<KeyNote>) {
        let mut ring = KeyRing::default();
        let mut notes = Vec::new();
        if keys_file.len() > MAX_KEYS_FILE_BYTES {
            notes.push(KeyNote::skipped(
                SkipReason::Limit,
                None,
                None,
                Vec::new(),
                format!(
                    "the KEYS file is {} bytes, over the limit of {MAX_KEYS_FILE_BYTES} bytes; no key was read",
                    keys_file.len()
                ),
            ));
            return (ring, notes);
        }
        let blocks = armor_blocks(keys_file);
        if blocks.is_empty() {
            if keys_file.iter().any(|b| !b.is_ascii_whitespace()) {
                ring.read_block(keys_file, None, *policy, &mut notes);
            }
            return (ring, notes);
        }
        for block in blocks {
            if ring.certs.len() >= MAX_KEYS {
                notes.push(KeyNote::skipped(
                    SkipReason::Limit,
                    Some(block.line),
                    None,
                    Vec::new(),
                    format!(
                        "the KEYS file holds more than {MAX_KEYS} keys; the rest, from line {}, was not read",
                        block.line
                    ),
                ));
                break;
            }
            if block.label != "PUBLIC KEY BLOCK" {
                let what = if block.label == "PRIVATE KEY BLOCK" {
                    "a private key block (it must never be published; only its public key belongs in KEYS)".to_owned()
                } else {
                    format!("a PGP {} block, not a public key", block.label)
                };
                notes.push(KeyNote::skipped(
                    SkipReason::NotPublicKey,
                    Some(block.line),
                    None,
                    Vec::new(),
                    format!("line {}: {what}", block.line),
                ));
                continue;
            }
            if !block.complete {
                notes.push(KeyNote::skipped(
                    SkipReason::Truncated,
                    Some(block.line),
                    None,
                    block_info(block.bytes).user_ids,
                    format!(
                        "line {}: the key block has no `-----END PGP PUBLIC KEY BLOCK-----` line; it is truncated",
                        block.line
                    ),
                ));
                continue;
            }
            ring.read_block(block.bytes, Some(block.line), *policy, &mut notes);
        }
        (ring, notes)
    }

    /// Reads the keys of one armored block (or of binary data), noting each.
    fn read_block(&mut self, bytes: &[u8], line: Option<usize>, policy: SignaturePolicy, notes: &mut Vec<KeyNote>) {
        let at = line.map_or_else(String::new, |l| format!("line {l}: "));
        let parser = match CertParser::from_bytes(bytes) {
            Ok(parser) => parser,
            Err(e) => {
                notes.push(KeyNote::skipped(
                    SkipReason::Unreadable,
                    line,
                    None,
                    block_info(bytes).user_ids,
                    format!("{at}the key block could not be read: {}", policy::explain(&e)),
                ));
                return;
            }
        };
        let results: Vec<_> = parser.take(MAX_KEYS + 1).collect();
        let single = results.len() == 1;
        let mut info = None;
        if results.is_empty() {
            notes.push(KeyNote::skipped(
                SkipReason::Unreadable,
                line,
                None,
                Vec::new(),
                format!("{at}the key block holds no key"),
            ));
        }
        for result in results {
            if self.certs.len() >= MAX_KEYS {
                notes.push(KeyNote::skipped(
                    SkipReason::Limit,
                    line,
                    None,
                    Vec::new(),
                    format!("{at}the KEYS file holds more than {MAX_KEYS} keys; the rest was not read"),
                ));
                return;
            }
            match result {
                Ok(cert) => self.add(cert, line, policy, notes),
                Err(e) => {
                    // Name the key when the block held only it: its user id packets are still readable.
                    let info = info.get_or_insert_with(|| block_info(bytes));
                    let user_ids = if single { info.user_ids.clone() } else { Vec::new() };
                    let why = if info.pgp2_key_ids.is_empty() { SkipReason::Unreadable } else { SkipReason::Pgp2 };
                    notes.push(KeyNote::skipped(
                        why,
                        line,
                        None,
                        user_ids,
                        format!("{at}{}", unreadable_key(&e, info)),
                    ));
                }
            }
        }
    }

    /// Adds one certificate, or merges it into an earlier copy, noting what happened.
    fn add(&mut self, cert: Cert, line: Option<usize>, policy: SignaturePolicy, notes: &mut Vec<KeyNote>) {
        let at = line.map_or_else(String::new, |l| format!("line {l}: "));
        let had_secret = cert.is_tsk();
        let cert = cert.strip_secret_key_material();
        let fingerprint = policy::fingerprint(&cert.fingerprint());
        let mut user_ids = user_ids(&cert);
        if let Some(index) = self.certs.iter().position(|c| c.fingerprint() == cert.fingerprint()) {
            let first = self.lines[index].map_or_else(|| "earlier".to_owned(), |l| format!("at line {l}"));
            let reason = match self.certs[index].clone().merge_public(cert) {
                Ok(merged) => {
                    self.certs[index] = merged;
                    self.index(index);
                    format!("{at}the same key appears {first}; the two copies were merged")
                }
                Err(e) => format!("{at}the same key appears {first}; this copy was ignored: {}", policy::explain(&e)),
            };
            notes.push(KeyNote::skipped(SkipReason::Duplicate, line, fingerprint, user_ids, reason));
            return;
        }
        // A copy of a key skipped earlier (perhaps damaged there) is judged with the earlier copy merged in.
        let mut cert = cert;
        let mut earlier = None;
        if let Some(i) = self.skipped.iter().position(|(c, _)| c.fingerprint() == cert.fingerprint()) {
            let (skipped, first) = self.skipped.swap_remove(i);
            earlier = Some(first.map_or_else(|| "earlier".to_owned(), |l| format!("at line {l}")));
            if let Ok(merged) = skipped.clone().merge_public(cert.clone()) {
                cert = merged;
                user_ids = self::user_ids(&cert);
            }
        }
        match assess(&cert, policy) {
            Err((why, reason)) => {
                let reason = match &earlier {
                    Some(first) => format!("{at}{reason} (it also appears {first}, skipped there too)"),
                    None => format!("{at}{reason}"),
                };
                self.skipped.push((cert, line));
                notes.push(KeyNote::skipped(why, line, fingerprint, user_ids, reason));
            }
            Ok(mut remarks) => {
                if let Some(first) = earlier {
                    remarks.push(format!("it also appears {first}, where it was skipped; the copies were merged"));
                }
                if had_secret {
                    remarks.push(
                        "the block also held secret key material, which was dropped; publish only public keys"
                            .to_owned(),
                    );
                }
                let reason =
                    if remarks.is_empty() { "added".to_owned() } else { format!("added; {}", remarks.join("; ")) };
                notes.push(KeyNote {
                    fingerprint,
                    user_ids,
                    outcome: KeyOutcome::Added,
                    skip: None,
                    line,
                    reason: format!("{at}{reason}"),
                });
                self.certs.push(cert);
                self.lines.push(line);
                self.index(self.certs.len() - 1);
            }
        }
    }

    /// Records the key ids of a certificate's keys.
    fn index(&mut self, index: usize) {
        for key in self.certs[index].keys() {
            let ids = self.by_key_id.entry(key.key().keyid()).or_default();
            if !ids.contains(&index) {
                ids.push(index);
            }
        }
    }

    /// How many keys the ring holds.
    pub fn len(&self) -> usize {
        self.certs.len()
    }

    /// Whether the ring holds no key.
    pub fn is_empty(&self) -> bool {
        self.certs.is_empty()
    }

    /// The primary-key fingerprints of the keys, in file order.
    pub fn fingerprints(&self) -> Vec<Fingerprint> {
        self.certs.iter().filter_map(|c| policy::fingerprint(&c.fingerprint())).collect()
    }

    /// The keys as the domain stores them: no owner and no committee yet, added `now`.
    pub fn signing_keys(&self, now: Timestamp) -> Vec<SigningKey> {
        self.certs.iter().filter_map(|cert| signing_key(cert, now)).collect()
    }

    /// The certificates holding a key the handle names (a fingerprint, or an 8-byte key id).
    pub(super) fn find(&self, handle: &KeyHandle) -> Vec<&Cert> {
        let key_id = KeyID::from(handle);
        self.by_key_id
            .get(&key_id)
            .into_iter()
            .flatten()
            .map(|&i| &self.certs[i])
            .filter(|cert| cert.keys().any(|k| k.key().key_handle().aliases(handle)))
            .collect()
    }
}

/// Reads a body of OpenPGP keys (one key, or a whole KEYS file) into what the domain's key
/// services take: the usable keys as plain values (no owner or committee yet, added `now`) and a
/// reading of every block, as [`KeyRing::parse`] judges them under `policy`.
pub fn read_keys(bytes: &[u8], policy: &SignaturePolicy, now: Timestamp) -> ReadKeys {
    let (ring, notes) = KeyRing::parse(bytes, policy);
    let readings = notes
        .into_iter()
        .map(|note| KeyReading {
            fingerprint: note.fingerprint,
            user_ids: note.user_ids,
            usable: note.outcome == KeyOutcome::Added,
            reason: note.reason,
        })
        .collect();
    ReadKeys { keys: ring.signing_keys(now), readings }
}

impl KeyNote {
    fn skipped(
        why: SkipReason,
        line: Option<usize>,
        fingerprint: Option<Fingerprint>,
        user_ids: Vec<String>,
        reason: String,
    ) -> Self {
        KeyNote { fingerprint, user_ids, outcome: KeyOutcome::Skipped, skip: Some(why), line, reason }
    }
}

/// Decides whether a key is worth keeping, as of now, and what to say about it.
///
/// Returns remarks for a kept key, or why it is skipped: it has no valid self-signature even when every
/// algorithm is accepted, or none of its keys may sign.
fn assess(cert: &Cert, policy: SignaturePolicy) -> Result<Vec<String>, (SkipReason, String)> {
    let strict = policy::strict();
    let sha1 = policy::sha1_bindings();
    let ladder: [(Level, &dyn Policy); 3] =
        [(Level::Strict, &strict), (Level::Sha1Bindings, &sha1), (Level::Refused, &AnyAlgorithm)];
    let mut first_error = None;
    let mut valid_without_signing = false;
    for (level, p) in ladder {
        let vc = match cert.with_policy(p, None) {
            Ok(vc) => vc,
            Err(e) => {
                first_error.get_or_insert_with(|| policy::explain(&e));
                continue;
            }
        };
        if !vc.keys().any(|ka| policy::can_sign(&ka)) {
            valid_without_signing = true;
            continue;
        }
        let mut remarks = Vec::new();
        match level {
            Level::Strict => {}
            Level::Sha1Bindings => remarks.push(if policy.accept_sha1_key_bindings {
                "its self-signatures use SHA-1: its signatures are accepted with a warning; its owner should \
                 refresh them with SHA-256 or better"
                    .to_owned()
            } else {
                "its self-signatures use SHA-1, which the policy refuses (accept_sha1_key_bindings is off): its \
                 signatures will be refused"
                    .to_owned()
            }),
            Level::Refused => remarks.push(format!(
                "the signature policy refuses it, so its signatures will be refused: {}",
                refusal(cert, &policy::explaining(policy), &vc)
            )),
        }
        remarks.extend(state_remarks(&vc));
        return Ok(remarks);
    }
    if valid_without_signing {
        Err((
            SkipReason::CannotSign,
            "none of its keys may sign (they are for encryption or certification only); it cannot have signed a \
             release"
                .to_owned(),
        ))
    } else {
        Err((
            SkipReason::NoSelfSignature,
            format!(
                "it has no valid self-signature: {}",
                first_error.unwrap_or_else(|| "no user id or direct key signature binds it".to_owned())
            ),
        ))
    }
}

/// Why the standard policy refuses a key that is well-formed.
fn refusal(cert: &Cert, strict: &dyn Policy, vc: &ValidCert<'_>) -> String {
    if let Err(e) = strict.key(&vc.primary_key().into()) {
        return policy::explain(&e);
    }
    if let Err(e) = cert.with_policy(strict, None) {
        return policy::explain(&e);
    }
    for ka in vc.keys().filter(|ka| policy::can_sign(ka)) {
        if let Err(e) = strict.key(&ka) {
            return policy::explain(&e);
        }
        if let Err(e) = strict.signature(ka.binding_signature(), HashAlgoSecurity::SecondPreImageResistance) {
            return policy::explain(&e);
        }
    }
    "its signing key is not valid under the standard policy".to_owned()
}

/// What a release manager should know about a kept key: expired, revoked, signing keys expired.
fn state_remarks(vc: &ValidCert<'_>) -> Vec<String> {
    let mut remarks = Vec::new();
    if let RevocationStatus::Revoked(sigs) = vc.revocation_status() {
        remarks.push(format!(
            "it is revoked ({}); kept, as its signatures made before a retirement stay valid",
            revocation_reason(&sigs)
        ));
    }
    if vc.alive().is_err() {
        let when =
            vc.primary_key().key_expiration_time().map_or_else(String::new, |t| format!(" on {}", policy::date(t)));
        remarks.push(format!("it expired{when}; kept, as it may have been valid when a release was signed"));
    } else if !vc.keys().alive().revoked(false).any(|ka| policy::can_sign(&ka)) {
        remarks.push("all its signing keys are expired or revoked; kept for signatures made before".to_owned());
    }
    remarks
}

/// The reason a revocation gives, for a message.
pub(super) fn revocation_reason(sigs: &[&openpgp::packet::Signature]) -> String {
    sigs.iter().find_map(|s| s.reason_for_revocation()).map_or_else(
        || "no reason given".to_owned(),
        |(code, text)| {
            let text = String::from_utf8_lossy(text);
            if text.trim().is_empty() { code.to_string() } else { format!("{code}: {}", text.trim()) }
        },
    )
}

/// A sentence for a key the parser could not read.
fn unreadable_key(error: &openpgp::anyhow::Error, block: &BlockInfo) -> String {
    let detail = policy::explain(error);
    if block.pgp2_key_ids.is_empty() {
        format!("the key could not be read: {detail}")
    } else {
        let ids: Vec<String> = block.pgp2_key_ids.iter().map(|id| format!("0x{}", id.to_hex())).collect();
        format!(
            "a PGP 2 (version 3) key ({}), a format OpenPGP no longer supports; it cannot verify signatures",
            ids.join(", ")
        )
    }
}

/// What a damaged or unsupported key block still shows, to name its keys in a note.
#[derive(Debug, Default)]
struct BlockInfo {
    user_ids: Vec<String>,
    /// The key ids of its PGP 2 (version 2 or 3) RSA keys: the low 64 bits of the modulus.
    pgp2_key_ids: Vec<KeyID>,
}

/// Reads what can still be read of a key block that did not parse.
fn block_info(bytes: &[u8]) -> BlockInfo {
    let mut info = BlockInfo::default();
    let Ok(mut ppr) = PacketParserBuilder::from_bytes(bytes).and_then(|b| b.buffer_unread_content().build()) else {
        return info;
    };
    let mut packets = 0;
    while let PacketParserResult::Some(pp) = ppr {
        let Ok((packet, next)) = pp.next() else { break };
        ppr = next;
        match packet {
            Packet::UserID(uid) if info.user_ids.len() < 16 => {
                info.user_ids.push(String::from_utf8_lossy(uid.value()).into_owned());
            }
            Packet::Unknown(unknown) if unknown.tag() == Tag::PublicKey => {
                if let Some(id) = pgp2_key_id(unknown.body()) {
                    info.pgp2_key_ids.push(id);
                }
            }
            _ => {}
        }
        packets += 1;
        if packets > 10_000 {
            break;
        }
    }
    info
}

/// The key id of a version 2 or 3 RSA key packet's body: the low 64 bits of its modulus.
fn pgp2_key_id(body: &[u8]) -> Option<KeyID> {
    // Version, creation time (4), validity days (2), algorithm, then the modulus as an MPI.
    let (&version, rest) = body.split_first()?;
    if !(version == 2 || version == 3) || rest.len() < 9 || !(1..=3).contains(&rest[6]) {
        return None;
    }
    let bits = usize::from(u16::from_be_bytes([rest[7], rest[8]]));
    let modulus = rest.get(9..9 + bits.div_ceil(8))?;
    let low = modulus.get(modulus.len().checked_sub(8)?..)?;
    Some(KeyID::from_bytes(low))
}

/// A certificate's user ids, as text.
pub(super) fn user_ids(cert: &Cert) -> Vec<String> {
    cert.userids().map(|u| String::from_utf8_lossy(u.userid().value()).into_owned()).collect()
}

/// The algorithm's name as OpenPGP users know it.
pub(super) fn algorithm_name(algo: PublicKeyAlgorithm) -> String {
    #[expect(deprecated, reason = "old keys still use the deprecated RSA and ElGamal variants, and are named")]
    match algo {
        PublicKeyAlgorithm::RSAEncryptSign | PublicKeyAlgorithm::RSAEncrypt | PublicKeyAlgorithm::RSASign => {
            "RSA".to_owned()
        }
        PublicKeyAlgorithm::DSA => "DSA".to_owned(),
        PublicKeyAlgorithm::ECDSA => "ECDSA".to_owned(),
        PublicKeyAlgorithm::EdDSA => "EdDSA".to_owned(),
        PublicKeyAlgorithm::Ed25519 => "Ed25519".to_owned(),
        PublicKeyAlgorithm::Ed448 => "Ed448".to_owned(),
        PublicKeyAlgorithm::ElGamalEncrypt | PublicKeyAlgorithm::ElGamalEncryptSign => "ElGamal".to_owned(),
        other => other.to_string(),
    }
}

/// The domain's record of a certificate.
fn signing_key(cert: &Cert, now: Timestamp) -> Option<SigningKey> {
    let fingerprint = policy::fingerprint(&cert.fingerprint())?;
    let primary = cert.primary_key().key();
    let strict = policy::strict();
    let sha1 = policy::sha1_bindings();
    let vc = cert
        .with_policy(&strict, None)
        .or_else(|_| cert.with_policy(&sha1, None))
        .or_else(|_| cert.with_policy(&AnyAlgorithm, None))
        .ok();
    let expires_at = vc.as_ref().and_then(|vc| vc.primary_key().key_expiration_time()).map(policy::timestamp);
    let revoked = vc.as_ref().is_some_and(|vc| matches!(vc.revocation_status(), RevocationStatus::Revoked(_)));
    let armored = cert.armored().to_vec().ok().and_then(|bytes| String::from_utf8(bytes).ok()).unwrap_or_default();
    Some(SigningKey {
        fingerprint,
        owner: None,
        algorithm: algorithm_name(primary.pk_algo()),
        bits: primary.mpis().bits().and_then(|b| u32::try_from(b).ok()),
        created_at: policy::timestamp(primary.creation_time()),
        expires_at,
        revoked,
        user_ids: user_ids(cert),
        armored,
        committees: BTreeSet::new(),
        added_at: now,
    })
}
