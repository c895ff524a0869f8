//! Signing keys: adding one key or importing a KEYS file (the merge rules and the per-key
//! report), linking a key to another committee, and deleting a key no release used.
//!
//! OpenPGP is read by an adapter (the core does not depend on an OpenPGP implementation): it
//! hands the services plain [`SigningKey`] values and a reading of every block ([`ReadKeys`]).

use std::collections::BTreeSet;

use super::{ServiceError, ServiceResult, Services, actor, person_id};
use crate::auth::{self, Activity, Principal, Target};
use crate::model::key::{KeyReading, ReadKeys};
use crate::model::{EventKind, NewEvent, ReleaseKey, SigningKey};
use crate::ports::{Change, StoreError, Write};
use crate::types::{CommitteeKey, Fingerprint, Timestamp, UserId};

/// Why a change of keys is refused, with what a client needs to explain it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyRefusal {
    /// The body holds no usable key; the readings say why each block was skipped (empty when
    /// the body held no key at all).
    #[error("the body holds no usable OpenPGP public key")]
    NoUsableKey(Vec<KeyReading>),
    /// The body holds this many usable keys where one was expected.
    #[error("the body holds {0} keys; send one, or import a KEYS file")]
    SeveralKeys(usize),
    /// Releases were signed with the key: it stays, as their evidence.
    #[error("key {fingerprint} signed {}", names(releases))]
    InUse { fingerprint: Fingerprint, releases: Vec<ReleaseKey> },
}

fn names(releases: &[ReleaseKey]) -> String {
    releases.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
}

/// What adding one key did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyAdded {
    /// The key as stored, with every committee it is linked to.
    pub key: SigningKey,
    /// True if the key was new; false if a known key was updated.
    pub created: bool,
}

/// A key of an import that went in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedKey {
    pub fingerprint: Fingerprint,
    pub owner: Option<UserId>,
    pub user_ids: Vec<String>,
    /// What the reader noted, such as where the key starts and whether it expired.
    pub note: String,
}

/// A key (or unreadable block) of an import that did not go in on its own: an unusable key, a
/// damaged block, a second copy of a key (merged into the first), or a key the store refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RejectedKey {
    pub fingerprint: Option<Fingerprint>,
    pub user_ids: Vec<String>,
    pub reason: String,
}

/// What an import did, key by key.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyImport {
    pub added: Vec<ImportedKey>,
    pub updated: Vec<ImportedKey>,
    pub rejected: Vec<RejectedKey>,
}

/// Prepares a read key for storing over `existing`: an owner already recorded (perhaps set by an
/// admin) and the first time the key was added are kept; without either, the owner comes from
/// an `@apache.org` user id.
fn merge_over(mut key: SigningKey, existing: Option<&SigningKey>) -> SigningKey {
    if let Some(existing) = existing {
        if existing.owner.is_some() {
            key.owner.clone_from(&existing.owner);
        }
        key.added_at = existing.added_at;
    }
    if key.owner.is_none() {
        key.owner = key.apache_uid();
    }
    key
}

/// Whether `principal` may import a KEYS file into `committee` (`manage keys` on the committee as
/// a whole): asked by [`Services::import_keys`] and by the page offers.
pub(super) fn may_import_keys(
    principal: &Principal,
    committee: &crate::model::Committee,
    now: Timestamp,
) -> Result<(), auth::Denied> {
    let target = Target::Key { owner: None, committee, project: None };
    auth::authorize(principal, Activity::ManageKeys, &target, now)
}

impl Services {
    /// Checks that the principal may manage `key` for `committee`: their own key needs
    /// `manage own key`, anyone else's `manage keys`.
    async fn authorize_key(
        &self,
        principal: &Principal,
        key: &SigningKey,
        committee: &CommitteeKey,
        now: Timestamp,
    ) -> ServiceResult<()> {
        let committee = self.committee(committee).await?;
        let owner = key.owner.clone().or_else(|| key.apache_uid());
        let target = Target::Key { owner: owner.as_ref(), committee: &committee, project: None };
        let own = owner.is_some() && owner.as_ref() == person_id(principal);
        let activity = if own { Activity::ManageOwnKey } else { Activity::ManageKeys };
        match auth::authorize(principal, activity, &target, now) {
            Ok(()) => Ok(()),
            // A PMC member managing their own key may also do so as a key manager.
            Err(_) if own && auth::authorize(principal, Activity::ManageKeys, &target, now).is_ok() => Ok(()),
            Err(denied) => Err(denied.into()),
        }
    }

    /// Adds (or updates) a signing key and links it to `committee`. A key already known keeps
    /// its recorded owner and the time it was first added.
    pub async fn add_key(
        &self,
        principal: &Principal,
        key: SigningKey,
        committee: &CommitteeKey,
        now: Timestamp,
    ) -> ServiceResult<SigningKey> {
        Ok(self.put_key(principal, key, committee, now).await?.key)
    }

    /// Adds the one usable key of `read` (a body that should hold one key) and links it to
    /// `committee`. Refused with [`KeyRefusal::NoUsableKey`] or [`KeyRefusal::SeveralKeys`]
    /// otherwise. The principal's own key (by its recorded owner or an `@apache.org` user id)
    /// needs `manage own key`; anyone else's `manage keys`.
    pub async fn add_one_key(
        &self,
        principal: &Principal,
        committee: &CommitteeKey,
        mut read: ReadKeys,
        now: Timestamp,
    ) -> ServiceResult<KeyAdded> {
        self.committee(committee).await?;
        if read.keys.len() > 1 {
            return Err(KeyRefusal::SeveralKeys(read.keys.len()).into());
        }
        let Some(key) = read.keys.pop() else {
            return Err(KeyRefusal::NoUsableKey(read.unusable().cloned().collect()).into());
        };
        self.put_key(principal, key, committee, now).await
    }

    /// Imports every usable key of a KEYS file into `committee` and says what happened to each
    /// block: added, updated (a key already known) or rejected (unusable, or refused by the
    /// store; the other keys still go in). Needs `manage keys` on the committee, checked once
    /// for the whole import.
    pub async fn import_keys(
        &self,
        principal: &Principal,
        committee: &CommitteeKey,
        read: ReadKeys,
        now: Timestamp,
    ) -> ServiceResult<KeyImport> {
        let loaded = self.committee(committee).await?;
        may_import_keys(principal, &loaded, now)?;
        let mut report = KeyImport::default();
        report.rejected.extend(read.unusable().map(|r| RejectedKey {
            fingerprint: r.fingerprint.clone(),
            user_ids: r.user_ids.clone(),
            reason: r.reason.clone(),
        }));
        for key in &read.keys {
            let note = read.note_of(&key.fingerprint).unwrap_or("added").to_owned();
            let (fingerprint, user_ids) = (key.fingerprint.clone(), key.user_ids.clone());
            match self.put_key(principal, key.clone(), committee, now).await {
                Ok(added) => {
                    let entry = ImportedKey { fingerprint, owner: added.key.owner, user_ids, note };
                    if added.created { report.added.push(entry) } else { report.updated.push(entry) }
                }
                // The store refused this key (say, a field it cannot hold): the others still go in.
                Err(ServiceError::Invalid(reason)) => {
                    report.rejected.push(RejectedKey { fingerprint: Some(fingerprint), user_ids, reason });
                }
                Err(other) => return Err(other),
            }
        }
        Ok(report)
    }

    /// Stores a key over the one already known (see [`merge_over`]), links it to `committee`,
    /// and records `KeyAdded` (for a new key) and `KeyLinked`.
    async fn put_key(
        &self,
        principal: &Principal,
        key: SigningKey,
        committee: &CommitteeKey,
        now: Timestamp,
    ) -> ServiceResult<KeyAdded> {
        let existing = self.ports.keys.get(&key.fingerprint).await?;
        let mut key = merge_over(key, existing.as_ref());
        self.authorize_key(principal, &key, committee, now).await?;
        key.committees.insert(committee.clone());
        let created = existing.is_none();
        let who = actor(principal);
        let mut change = Change::new()
            .write(Write::UpsertKey(key.clone()))
            .write(Write::LinkKey { fingerprint: key.fingerprint.clone(), committee: committee.clone() });
        if created {
            let added = EventKind::KeyAdded { fingerprint: key.fingerprint.clone() };
            change = change.event(NewEvent::global(now, who.clone(), added));
        }
        let linked = EventKind::KeyLinked { fingerprint: key.fingerprint.clone(), committee: committee.clone() };
        self.commit(change.event(NewEvent::global(now, who, linked))).await?;
        // Links are kept: the key is now linked to its earlier committees and this one.
        let earlier: BTreeSet<CommitteeKey> = existing.map(|e| e.committees).unwrap_or_default();
        key.committees.extend(earlier);
        Ok(KeyAdded { key, created })
    }

    /// Links an existing key to another committee, and returns the key with its committees.
    pub async fn link_key(
        &self,
        principal: &Principal,
        fingerprint: &Fingerprint,
        committee: &CommitteeKey,
        now: Timestamp,
    ) -> ServiceResult<SigningKey> {
        let mut key = self.key(fingerprint).await?;
        self.authorize_key(principal, &key, committee, now).await?;
        let linked = EventKind::KeyLinked { fingerprint: fingerprint.clone(), committee: committee.clone() };
        let change = Change::new()
            .write(Write::LinkKey { fingerprint: fingerprint.clone(), committee: committee.clone() })
            .event(NewEvent::global(now, actor(principal), linked));
        self.commit(change).await?;
        key.committees.insert(committee.clone());
        Ok(key)
    }

    /// Deletes a key no release used. The principal must be allowed to manage it for one of its
    /// committees. A key that signed a release is kept: [`KeyRefusal::InUse`] names the releases.
    pub async fn delete_key(
        &self,
        principal: &Principal,
        fingerprint: &Fingerprint,
        now: Timestamp,
    ) -> ServiceResult<()> {
        let key = self.key(fingerprint).await?;
        let mut allowed = Err(ServiceError::NotFound(format!("a committee of key {fingerprint}")));
        for committee in &key.committees {
            allowed = self.authorize_key(principal, &key, committee, now).await;
            if allowed.is_ok() {
                break;
            }
        }
        allowed?;
        let releases = self.ports.keys.releases_signed(fingerprint).await?;
        if !releases.is_empty() {
            return Err(KeyRefusal::InUse { fingerprint: fingerprint.clone(), releases }.into());
        }
        let deleted = EventKind::KeyDeleted { fingerprint: fingerprint.clone() };
        let change = Change::new().write(Write::DeleteKey(fingerprint.clone())).event(NewEvent::global(
            now,
            actor(principal),
            deleted,
        ));
        match self.ports.changes.commit(change).await {
            Ok(_) => Ok(()),
            // A release recorded its use of the key in the meantime.
            Err(StoreError::Conflict(_)) => {
                let releases = self.ports.keys.releases_signed(fingerprint).await?;
                Err(KeyRefusal::InUse { fingerprint: fingerprint.clone(), releases }.into())
            }
            Err(other) => Err(other.into()),
        }
    }

    async fn key(&self, fingerprint: &Fingerprint) -> ServiceResult<SigningKey> {
        self.ports.keys.get(fingerprint).await?.ok_or_else(|| ServiceError::NotFound(format!("key {fingerprint}")))
    }
}

#[cfg(test)]
mod tests;
