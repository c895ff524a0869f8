//! Signing keys, as the API shows them, and what an import did.

use atr_core::model;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{text, texts};

/// A public signing key. Listings leave out the armored key; a single key carries it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SigningKey {
    /// 40 uppercase hex digits.
    pub fingerprint: String,
    /// The last 16 hex digits of the fingerprint.
    pub key_id: String,
    /// The person the key belongs to.
    pub owner: Option<String>,
    /// Algorithm as OpenPGP names it, such as `RSA` or `EdDSA`.
    pub algorithm: String,
    pub bits: Option<u32>,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds.
    pub expires_at: Option<i64>,
    pub revoked: bool,
    /// The key's user ids (`Name <email>`).
    pub user_ids: Vec<String>,
    /// The committees the key is linked to, sorted.
    pub committees: Vec<String>,
    /// Unix seconds.
    pub added_at: i64,
    /// The ASCII-armored public key; only in the answers about one key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub armored: Option<String>,
}

impl SigningKey {
    /// The key without its armored form, as listings show it.
    pub fn summary(key: &model::SigningKey) -> Self {
        Self {
            fingerprint: text(&key.fingerprint),
            key_id: key.fingerprint.key_id().to_hex(),
            owner: key.owner.as_ref().map(text),
            algorithm: key.algorithm.clone(),
            bits: key.bits,
            created_at: key.created_at.unix(),
            expires_at: key.expires_at.map(atr_core::types::Timestamp::unix),
            revoked: key.revoked,
            user_ids: key.user_ids.clone(),
            committees: texts(&key.committees),
            added_at: key.added_at.unix(),
            armored: None,
        }
    }

    /// The key with its armored form.
    pub fn full(key: &model::SigningKey) -> Self {
        Self { armored: Some(key.armored.clone()), ..Self::summary(key) }
    }
}

/// One key of an import that went in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ImportedKey {
    pub fingerprint: String,
    pub owner: Option<String>,
    pub user_ids: Vec<String>,
    /// What the KEYS reader noted, such as where the key starts and whether it expired.
    pub note: String,
}

/// One key (or unreadable block) of an import that did not go in on its own: an unusable key, a
/// damaged block, or a second copy of a key (merged into the first).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RejectedKey {
    /// Absent when the block could not be read as a key at all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
    pub user_ids: Vec<String>,
    pub reason: String,
}

/// `POST /api/committees/{key}/keys/import`: what happened to each key of the KEYS file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct KeyImportReport {
    pub added: Vec<ImportedKey>,
    pub updated: Vec<ImportedKey>,
    pub rejected: Vec<RejectedKey>,
}

impl From<&atr_core::services::ImportedKey> for ImportedKey {
    fn from(key: &atr_core::services::ImportedKey) -> Self {
        Self {
            fingerprint: text(&key.fingerprint),
            owner: key.owner.as_ref().map(text),
            user_ids: key.user_ids.clone(),
            note: key.note.clone(),
        }
    }
}

impl From<&atr_core::services::RejectedKey> for RejectedKey {
    fn from(key: &atr_core::services::RejectedKey) -> Self {
        Self {
            fingerprint: key.fingerprint.as_ref().map(text),
            user_ids: key.user_ids.clone(),
            reason: key.reason.clone(),
        }
    }
}

impl From<&atr_core::services::KeyImport> for KeyImportReport {
    fn from(report: &atr_core::services::KeyImport) -> Self {
        Self {
            added: report.added.iter().map(ImportedKey::from).collect(),
            updated: report.updated.iter().map(ImportedKey::from).collect(),
            rejected: report.rejected.iter().map(RejectedKey::from).collect(),
        }
    }
}
