//! OpenPGP: KEYS files and detached signatures.
//!
//! The signature check (domain check 1) answers one question for each release artifact: does its detached
//! signature `<file>.asc` verify against a key of the committee's KEYS file, and was that key valid when the
//! signature was made? It works in four steps, so that the artifact's bytes are read once, by the caller:
//!
//! 1. [`KeyRing::parse`] reads the committee's KEYS file. It never rejects the whole file: keys it cannot use
//!    (PGP 2 keys, damaged blocks, keys that cannot sign) are skipped, and every key gets a [`KeyNote`] saying
//!    what happened to it and why.
//! 2. [`DetachedSignatures::parse`] reads the `.asc` (one or several ASCII-armored blocks, as written when several
//!    release managers sign) or a binary `.sig`, and fails with a typed [`SignatureError`] when it holds no usable
//!    signature.
//! 3. [`Hashes::for_signatures`] (or [`Hashes::new`]) prepares one hash context per hash algorithm the signatures
//!    need, plus SHA-512 for the checksum check; the caller feeds the artifact's bytes through
//!    [`Hashes::update`], chunk by chunk.
//! 4. [`verify`] checks every signature against the finished hashes and turns the outcome into [`Finding`]s.
//!
//! # The hash-algorithm policy
//!
//! Many ASF keys are old: their self-signatures (which bind user ids and subkeys to the key) were made with
//! SHA-1, and a few release signatures still are. The policy is explicit, configurable, and every refusal says why:
//!
//! * Keys and signatures are first judged by Sequoia's standard policy, as of today. It refuses SHA-1 everywhere,
//!   and weak public-key algorithms (such as 1024-bit RSA or DSA).
//! * A self-signature only needs second pre-image resistance, which SHA-1 still offers in practice. With
//!   [`SignaturePolicy::accept_sha1_key_bindings`] (the default), a key whose self-signatures are SHA-1 is
//!   accepted, and each signature it made gets a warning asking its owner to refresh the key.
//! * A signature over a release artifact needs collision resistance, which SHA-1 no longer offers: a SHA-1
//!   signature over data is a blocker unless [`SignaturePolicy::accept_sha1_data_signatures`] is set (then a
//!   warning). MD5 and other broken algorithms are always refused.
//! * A key must have been valid *when the signature was made* (the signature's creation time): not expired, not
//!   revoked, and signing-capable. A key that expired after signing is fine. A revocation for a compromised key
//!   (or with no reason) applies at every time; a key retired or superseded after signing is fine.

mod detached;
mod hashes;
mod keys;
mod verify;

pub use detached::{DetachedSignatures, MAX_SIGNATURE_FILE_BYTES, MAX_SIGNATURES, SignatureError};
pub use hashes::Hashes;
pub use keys::{KeyNote, KeyOutcome, KeyRing, MAX_KEYS, MAX_KEYS_FILE_BYTES, SkipReason, read_keys, summarize_skipped};
pub use verify::{SignatureReport, verify};

use serde::{Deserialize, Serialize};

#[cfg(doc)]
use crate::analyze::Finding;

/// The checker name written on every finding of this check.
pub const CHECKER: &str = "signature";

/// The hash-algorithm policy of the signature check: which uses of SHA-1 are tolerated.
///
/// Everything else follows Sequoia's standard policy as of today (see the module documentation). The defaults
/// accept old keys whose self-signatures use SHA-1, with a warning, and refuse SHA-1 signatures over release
/// artifacts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SignaturePolicy {
    /// Accept keys whose user ids and subkeys are bound only by SHA-1 self-signatures. Their signatures are
    /// reported with a warning. Default: `true`, as many committee keys were made before SHA-256 became the norm.
    pub accept_sha1_key_bindings: bool,
    /// Accept signatures over an artifact made with SHA-1 (reported as a warning). Default: `false`, as SHA-1
    /// collisions are practical and such a signature does not pin the artifact's bytes.
    pub accept_sha1_data_signatures: bool,
}

impl Default for SignaturePolicy {
    fn default() -> Self {
        Self { accept_sha1_key_bindings: true, accept_sha1_data_signatures: false }
    }
}

/// The OpenPGP policies behind a [`SignaturePolicy`], and shared helpers.
mod policy {
    use std::time::{SystemTime, UNIX_EPOCH};

    use atr_core::types::{Fingerprint, Timestamp};
    use sequoia_openpgp as openpgp;
    use sequoia_openpgp::cert::prelude::ValidErasedKeyAmalgamation;
    use sequoia_openpgp::packet::Signature;
    use sequoia_openpgp::packet::key::PublicParts;
    use sequoia_openpgp::policy::{HashAlgoSecurity, Policy, StandardPolicy};
    use sequoia_openpgp::types::{HashAlgorithm, PublicKeyAlgorithm};

    use super::SignaturePolicy;

    /// Sequoia's standard policy, as of now.
    pub(super) fn strict() -> StandardPolicy<'static> {
        StandardPolicy::new()
    }

    /// The standard policy, except that SHA-1 self-signatures (which need second pre-image resistance only) pass.
    pub(super) fn sha1_bindings() -> StandardPolicy<'static> {
        let mut policy = StandardPolicy::new();
        policy.accept_hash_property(HashAlgorithm::SHA1, HashAlgoSecurity::SecondPreImageResistance);
        policy
    }

    /// A policy that accepts every algorithm. It is never used to accept a signature: only to tell a key that the
    /// policy refuses apart from one that is malformed, so that the finding can say why.
    #[derive(Debug)]
    pub(super) struct AnyAlgorithm;

    impl Policy for AnyAlgorithm {
        fn signature(&self, _sig: &Signature, _sec: HashAlgoSecurity) -> openpgp::Result<()> {
            Ok(())
        }

        fn key(&self, _ka: &ValidErasedKeyAmalgamation<PublicParts>) -> openpgp::Result<()> {
            Ok(())
        }
    }

    /// Whether a key may make signatures over data.
    ///
    /// Old `GnuPG` wrote self-signatures without key flags; like `GnuPG`, a key without them may sign when its
    /// algorithm can.
    pub(super) fn can_sign(ka: &ValidErasedKeyAmalgamation<'_, PublicParts>) -> bool {
        #[expect(
            deprecated,
            reason = "old keys still use the deprecated RSA variants (sign-only, encrypt-or-sign), and sign with them"
        )]
        let algorithm_signs = matches!(
            ka.key().pk_algo(),
            PublicKeyAlgorithm::RSAEncryptSign
                | PublicKeyAlgorithm::RSASign
                | PublicKeyAlgorithm::DSA
                | PublicKeyAlgorithm::ECDSA
                | PublicKeyAlgorithm::EdDSA
                | PublicKeyAlgorithm::Ed25519
                | PublicKeyAlgorithm::Ed448
        );
        ka.for_signing() || (ka.key_flags().is_none() && algorithm_signs)
    }

    /// The policy whose verdict explains a refusal: the most lenient one the configuration allows.
    pub(super) fn explaining(policy: SignaturePolicy) -> StandardPolicy<'static> {
        if policy.accept_sha1_key_bindings { sha1_bindings() } else { strict() }
    }

    /// How far down the ladder of policies a key had to go to be valid.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub(super) enum Level {
        /// Valid under the standard policy.
        Strict,
        /// Valid only once SHA-1 self-signatures are accepted.
        Sha1Bindings,
        /// Valid only when every algorithm is accepted: the policy refuses it.
        Refused,
    }

    /// The seconds since the epoch of an OpenPGP time.
    pub(super) fn timestamp(time: SystemTime) -> Timestamp {
        let seconds = match time.duration_since(UNIX_EPOCH) {
            Ok(after) => i64::try_from(after.as_secs()).unwrap_or(i64::MAX),
            Err(before) => i64::try_from(before.duration().as_secs()).map_or(i64::MIN, |s| -s),
        };
        Timestamp::from_unix(seconds)
    }

    /// A time as the findings write it.
    pub(super) fn date(time: SystemTime) -> String {
        timestamp(time).to_string()
    }

    /// The domain's fingerprint of an OpenPGP fingerprint, if it is a v4 or v6 one.
    pub(super) fn fingerprint(fp: &openpgp::Fingerprint) -> Option<Fingerprint> {
        Fingerprint::parse(&fp.to_hex()).ok()
    }

    /// An error and its causes on one line.
    pub(super) fn explain(error: &openpgp::anyhow::Error) -> String {
        format!("{error:#}")
    }
}
