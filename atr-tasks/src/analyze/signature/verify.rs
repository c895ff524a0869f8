//! Checking an artifact's detached signatures against the committee's keys.

use std::time::SystemTime;

use atr_core::model::CheckStatus;
use atr_core::types::{Fingerprint, ReleasePath};
use sequoia_openpgp as openpgp;
use sequoia_openpgp::cert::prelude::*;
use sequoia_openpgp::packet::Signature;
use sequoia_openpgp::packet::key::PublicParts;
use sequoia_openpgp::policy::{HashAlgoSecurity, Policy, StandardPolicy};
use sequoia_openpgp::types::{HashAlgorithm, RevocationStatus, SignatureType};
use sequoia_openpgp::{KeyHandle, KeyID};

use super::keys::revocation_reason;
use super::policy::{self, AnyAlgorithm, Level};
use super::{CHECKER, DetachedSignatures, Hashes, KeyRing, SignaturePolicy};
use crate::analyze::Finding;

/// Most user ids of a good signer's key passed on to the signer-identity rule.
const MAX_USER_IDS: usize = 100;

/// The outcome of checking one artifact's signatures.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SignatureReport {
    /// What the check found, in signature order; a success for each good signature.
    pub findings: Vec<Finding>,
    /// The primary-key fingerprints of the keys that made a good signature, each once: the keys the release
    /// records as its signers.
    pub good_signers: Vec<Fingerprint>,
    /// The user ids of each good signer's key that were bound to it, and not revoked, when it signed: what the
    /// signer-identity rule reads. One entry per key of [`good_signers`](Self::good_signers), in that order.
    pub signer_user_ids: Vec<(Fingerprint, Vec<String>)>,
}

/// Checks every signature of `sigs` against the artifact's `hashes` and the committee's `ring`.
///
/// The artifact passes when at least one signature is good: it matches the file's bytes, it was made by a key of
/// the ring, and that key was valid (not expired, not revoked, signing-capable, accepted by `policy`) when the
/// signature was made. Each other signature says why it does not count: a signature by a key missing from KEYS is
/// a warning, a signature that does not match or was made by an invalid key is a blocker. Without any good
/// signature, a final blocker sums up.
pub fn verify(
    artifact: &ReleasePath,
    sigs: &DetachedSignatures,
    ring: &KeyRing,
    hashes: &Hashes,
    policy: &SignaturePolicy,
) -> SignatureReport {
    let mut check = Check { artifact, ring, hashes, policy, report: SignatureReport::default() };
    let count = sigs.len();
    for (i, sig) in sigs.signatures().iter().enumerate() {
        let label = if count == 1 { "the signature".to_owned() } else { format!("signature {} of {count}", i + 1) };
        if let Some((signer, user_ids)) = check.one(sig, &label)
            && !check.report.good_signers.contains(&signer)
        {
            check.report.good_signers.push(signer.clone());
            check.report.signer_user_ids.push((signer, user_ids));
        }
    }
    if check.report.good_signers.is_empty() {
        let what = if count == 1 { "its signature".to_owned() } else { format!("none of its {count} signatures") };
        let message = if count == 1 {
            format!(
                "{} has no valid signature from a key in the committee's KEYS file: {what} does not count (the other signature results of this file say why)",
                artifact.file_name()
            )
        } else {
            format!(
                "{} has no valid signature from a key in the committee's KEYS file: {what} counts (the other signature results of this file say why)",
                artifact.file_name()
            )
        };
        check.push(CheckStatus::Blocker, message);
    }
    check.report
}

/// The state of one artifact's check.
struct Check<'a> {
    artifact: &'a ReleasePath,
    ring: &'a KeyRing,
    hashes: &'a Hashes,
    policy: &'a SignaturePolicy,
    report: SignatureReport,
}

impl Check<'_> {
    fn push(&mut self, status: CheckStatus, message: String) {
        self.report.findings.push(Finding::new(CHECKER, self.artifact, status, message));
    }

    /// Checks one signature; returns the signer's primary fingerprint, and its user ids at signing time, when it
    /// is good.
    fn one(&mut self, sig: &Signature, label: &str) -> Option<(Fingerprint, Vec<String>)> {
        let issuers = sig.get_issuers();
        if issuers.is_empty() {
            self.push(
                CheckStatus::Blocker,
                format!("{label} does not name the key that made it, so it cannot be checked against KEYS"),
            );
            return None;
        }
        let mut certs: Vec<&Cert> = Vec::new();
        for issuer in &issuers {
            for cert in self.ring.find(issuer) {
                if !certs.iter().any(|c| c.fingerprint() == cert.fingerprint()) {
                    certs.push(cert);
                }
            }
        }
        if certs.is_empty() {
            self.push(
                CheckStatus::Warning,
                format!(
                    "{label} was made by the key {}, which is not in the committee's KEYS file; if it belongs to a \
                     committee member, add it to KEYS",
                    issuer_name(&issuers)
                ),
            );
            return None;
        }
        if !self.acceptable_type(sig, label) || !self.acceptable_hash(sig, label) {
            return None;
        }
        let Some(made) = sig.signature_creation_time() else {
            self.push(
                CheckStatus::Blocker,
                format!("{label} has no creation time, so the key's validity cannot be judged"),
            );
            return None;
        };
        let (cert, key) = self.matching_key(sig, label, &certs, &issuers, made)?;
        self.valid_at(cert, &key, made, label)
    }

    /// Only signatures over a file's bytes count.
    fn acceptable_type(&mut self, sig: &Signature, label: &str) -> bool {
        match sig.typ() {
            SignatureType::Binary => true,
            SignatureType::Text => {
                self.push(
                    CheckStatus::Blocker,
                    format!(
                        "{label} is a text-mode signature (gpg --textmode), which covers the file with its line ends \
                         rewritten; release artifacts must be signed in binary mode (gpg --armor --detach-sign)"
                    ),
                );
                false
            }
            other => {
                self.push(CheckStatus::Blocker, format!("{label} is a {other} signature, not a signature over a file"));
                false
            }
        }
    }

    /// Applies the policy on the signature's hash algorithm, which must resist collisions.
    fn acceptable_hash(&mut self, sig: &Signature, label: &str) -> bool {
        let algo = sig.hash_algo();
        let Err(error) = policy::strict().signature(sig, HashAlgoSecurity::CollisionResistance) else { return true };
        if algo == HashAlgorithm::SHA1 {
            if self.policy.accept_sha1_data_signatures {
                let mut sha1 = StandardPolicy::new();
                sha1.accept_hash(HashAlgorithm::SHA1);
                if let Err(e) = sha1.signature(sig, HashAlgoSecurity::CollisionResistance) {
                    self.push(
                        CheckStatus::Blocker,
                        format!("{label} is refused by the signature policy: {}", policy::explain(&e)),
                    );
                    return false;
                }
                self.push(
                    CheckStatus::Warning,
                    format!(
                        "{label} was made with SHA-1, accepted because the policy's accept_sha1_data_signatures is \
                         on; SHA-1 no longer protects against collisions: re-sign with SHA-256 or SHA-512"
                    ),
                );
                return true;
            }
            self.push(
                CheckStatus::Blocker,
                format!(
                    "{label} was made with SHA-1, which no longer protects a file against collisions; re-sign the \
                     artifact with SHA-256 or SHA-512 (gpg --digest-algo SHA512), or turn on the policy's \
                     accept_sha1_data_signatures to accept it with a warning"
                ),
            );
            return false;
        }
        self.push(
            CheckStatus::Blocker,
            format!(
                "{label} uses the hash algorithm {algo}, which the signature policy refuses: {}",
                policy::explain(&error)
            ),
        );
        false
    }

    /// Finds the key of the ring whose signature over the file's bytes this is.
    fn matching_key<'r>(
        &mut self,
        sig: &Signature,
        label: &str,
        certs: &[&'r Cert],
        issuers: &[KeyHandle],
        made: SystemTime,
    ) -> Option<(&'r Cert, openpgp::Fingerprint)> {
        let algo = sig.hash_algo();
        let Some(context) = self.hashes.context(algo, sig.salt()) else {
            if self.hashes.is_unsupported(algo) {
                self.push(
                    CheckStatus::Blocker,
                    format!("{label} uses the hash algorithm {algo}, which this check cannot compute"),
                );
            } else {
                self.push(
                    CheckStatus::Exception,
                    format!(
                        "the file's bytes were not hashed with {algo}, which {label} needs; the check is incomplete"
                    ),
                );
            }
            return None;
        };
        let mut predating = None;
        let mut tried = None;
        for &cert in certs {
            for ka in cert.keys().key_handles(issuers.iter().cloned()) {
                let key = ka.key();
                tried.get_or_insert_with(|| key.fingerprint());
                if made < key.creation_time() {
                    predating = Some((key.fingerprint(), key.creation_time()));
                    continue;
                }
                if sig.verify_hash(key, context.clone()).is_ok() {
                    return Some((cert, key.fingerprint()));
                }
            }
        }
        let message = match (predating, tried) {
            (Some((fp, created)), _) => format!(
                "{label} claims to have been made on {}, before its key {fp} was created on {}; it is not valid",
                policy::date(made),
                policy::date(created)
            ),
            (None, Some(fp)) => format!(
                "{label} does not match the file's bytes: the file changed after it was signed, or the signature \
                 belongs to another file (signing key {fp})"
            ),
            (None, None) => {
                format!("{label} names the key {}, but no key of that certificate matches it", issuer_name(issuers))
            }
        };
        self.push(CheckStatus::Blocker, message);
        None
    }

    /// Judges the key that made a good signature as of the signature's creation time.
    fn valid_at(
        &mut self,
        cert: &Cert,
        key: &openpgp::Fingerprint,
        made: SystemTime,
        label: &str,
    ) -> Option<(Fingerprint, Vec<String>)> {
        let strict = policy::strict();
        let sha1 = policy::sha1_bindings();
        let ladder: [(Level, &dyn Policy); 3] =
            [(Level::Strict, &strict), (Level::Sha1Bindings, &sha1), (Level::Refused, &AnyAlgorithm)];
        let when = policy::date(made);
        let name = cert_name(cert);
        let found = ladder.into_iter().find_map(|(level, p)| {
            let vc = cert.with_policy(p, made).ok()?;
            vc.keys().key_handle(key.clone()).next().is_some().then_some((level, vc))
        });
        let Some((level, vc)) = found else {
            let why = match cert.with_policy(&AnyAlgorithm, made) {
                Err(e) => policy::explain(&e),
                Ok(_) => format!("the key {key} was not yet bound to the certificate"),
            };
            self.push(
                CheckStatus::Blocker,
                format!("{label} was made on {when} by {name}, which was not valid at that time: {why}"),
            );
            return None;
        };
        let mut good = true;
        match level {
            Level::Strict => {}
            Level::Sha1Bindings if self.policy.accept_sha1_key_bindings => self.push(
                CheckStatus::Warning,
                format!(
                    "{label} was made by {name}, whose self-signatures use SHA-1; accepted by the policy \
                     (accept_sha1_key_bindings), but its owner should refresh the key with a stronger hash, for \
                     example by setting a new expiry date with a current GnuPG and publishing it in KEYS"
                ),
            ),
            Level::Sha1Bindings => {
                good = false;
                self.push(
                    CheckStatus::Blocker,
                    format!(
                        "{label} was made by {name}, whose self-signatures use SHA-1, which the policy refuses; turn on \
                         the policy's accept_sha1_key_bindings to accept such keys with a warning, or have the owner \
                         refresh the key with a stronger hash and update KEYS"
                    ),
                );
            }
            Level::Refused => {
                good = false;
                let explaining = policy::explaining(*self.policy);
                let why = refused_key(cert, key, made, &explaining);
                self.push(
                    CheckStatus::Blocker,
                    format!("{label} was made by {name}, which the signature policy refuses: {why}"),
                );
            }
        }
        let ka = vc.keys().key_handle(key.clone()).next()?;
        let problems = state_problems(&vc, &ka, key, &name, label, &when);
        good &= problems.is_empty();
        for problem in problems {
            self.push(CheckStatus::Blocker, problem);
        }
        if !good {
            return None;
        }
        let signer = policy::fingerprint(&cert.fingerprint())?;
        let subkey = if ka.primary() { String::new() } else { format!(", with its signing subkey {key}") };
        self.push(CheckStatus::Success, format!("{label} is good: made on {when} by {name}{subkey}"));
        let user_ids = vc
            .userids()
            .revoked(false)
            .take(MAX_USER_IDS)
            .map(|u| String::from_utf8_lossy(u.userid().value()).into_owned())
            .collect();
        Some((signer, user_ids))
    }
}

/// Why a key was not usable when it made a signature: revoked, expired, or not signing-capable.
fn state_problems(
    vc: &ValidCert<'_>,
    ka: &ValidErasedKeyAmalgamation<'_, PublicParts>,
    key: &openpgp::Fingerprint,
    name: &str,
    label: &str,
    when: &str,
) -> Vec<String> {
    let mut problems = Vec::new();
    if let RevocationStatus::Revoked(sigs) = vc.revocation_status() {
        problems
            .push(format!("{label} was made by {name}, which is revoked ({}) as of {when}", revocation_reason(&sigs)));
    }
    if !ka.primary()
        && let RevocationStatus::Revoked(sigs) = ka.revocation_status()
    {
        problems.push(format!(
            "{label} was made by the subkey {key} of {name}, which is revoked ({}) as of {when}",
            revocation_reason(&sigs)
        ));
    }
    if vc.alive().is_err() {
        let expired = vc
            .primary_key()
            .key_expiration_time()
            .map_or_else(|| "before then".to_owned(), |t| format!("on {}", policy::date(t)));
        problems.push(format!(
            "{label} was made on {when} by {name}, which had expired {expired}: the key was not valid then"
        ));
    } else if !ka.primary() && ka.alive().is_err() {
        let expired =
            ka.key_expiration_time().map_or_else(|| "before then".to_owned(), |t| format!("on {}", policy::date(t)));
        problems.push(format!(
            "{label} was made on {when} by the subkey {key} of {name}, which had expired {expired}: the key was not \
             valid then"
        ));
    }
    if !policy::can_sign(ka) {
        problems.push(format!(
            "{label} was made by the key {key} of {name}, which is not signing-capable (its key flags allow only \
             certification or encryption)"
        ));
    }
    problems
}

/// Why the standard policy refuses a key (not its certificate) at a time.
fn refused_key(cert: &Cert, key: &openpgp::Fingerprint, made: SystemTime, strict: &dyn Policy) -> String {
    let Ok(vc) = cert.with_policy(&AnyAlgorithm, made) else { return String::new() };
    if let Err(e) = strict.key(&vc.primary_key().into()) {
        return policy::explain(&e);
    }
    if let Err(e) = cert.with_policy(strict, made) {
        return policy::explain(&e);
    }
    let Some(ka) = vc.keys().key_handle(key.clone()).next() else { return String::new() };
    if let Err(e) = strict.key(&ka) {
        return policy::explain(&e);
    }
    if let Err(e) = strict.signature(ka.binding_signature(), HashAlgoSecurity::SecondPreImageResistance) {
        return policy::explain(&e);
    }
    format!("its key {key} is not valid under the standard policy")
}

/// A key as findings name it: its first user id and its fingerprint.
fn cert_name(cert: &Cert) -> String {
    let uid = super::keys::user_ids(cert).into_iter().next();
    match uid {
        Some(uid) => format!("the key {} ({uid})", cert.fingerprint().to_hex()),
        None => format!("the key {}", cert.fingerprint().to_hex()),
    }
}

/// The issuer of a signature, by fingerprint when it gives one, else by key id.
fn issuer_name(issuers: &[KeyHandle]) -> String {
    issuers
        .iter()
        .find_map(|h| match h {
            KeyHandle::Fingerprint(fp) => Some(format!("with fingerprint {}", fp.to_hex())),
            KeyHandle::KeyID(_) => None,
        })
        .or_else(|| issuers.first().map(|h| format!("with key id {}", KeyID::from(h).to_hex())))
        .unwrap_or_else(|| "that made it".to_owned())
}
