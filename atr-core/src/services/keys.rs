//! Signing keys: adding, linking to committees, deleting.

use super::{ServiceError, ServiceResult, Services, actor, person_id};
use crate::auth::{self, Activity, Principal, Target};
use crate::model::{EventKind, NewEvent, SigningKey};
use crate::ports::{Change, Write};
use crate::types::{CommitteeKey, Fingerprint, Timestamp};

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

    /// Adds (or updates) a signing key and links it to `committee`.
    pub async fn add_key(
        &self,
        principal: &Principal,
        mut key: SigningKey,
        committee: &CommitteeKey,
        now: Timestamp,
    ) -> ServiceResult<SigningKey> {
        self.authorize_key(principal, &key, committee, now).await?;
        if key.owner.is_none() {
            key.owner = key.apache_uid();
        }
        key.committees.insert(committee.clone());
        let added = self.ports.keys.get(&key.fingerprint).await?.is_none();
        let who = actor(principal);
        let mut change = Change::new()
            .write(Write::UpsertKey(key.clone()))
            .write(Write::LinkKey { fingerprint: key.fingerprint.clone(), committee: committee.clone() });
        if added {
            change = change.event(NewEvent::global(
                now,
                who.clone(),
                EventKind::KeyAdded { fingerprint: key.fingerprint.clone() },
            ));
        }
        let linked = EventKind::KeyLinked { fingerprint: key.fingerprint.clone(), committee: committee.clone() };
        self.commit(change.event(NewEvent::global(now, who, linked))).await?;
        Ok(key)
    }

    /// Links an existing key to another committee.
    pub async fn link_key(
        &self,
        principal: &Principal,
        fingerprint: &Fingerprint,
        committee: &CommitteeKey,
        now: Timestamp,
    ) -> ServiceResult<()> {
        let key = self.key(fingerprint).await?;
        self.authorize_key(principal, &key, committee, now).await?;
        let linked = EventKind::KeyLinked { fingerprint: fingerprint.clone(), committee: committee.clone() };
        let change = Change::new()
            .write(Write::LinkKey { fingerprint: fingerprint.clone(), committee: committee.clone() })
            .event(NewEvent::global(now, actor(principal), linked));
        self.commit(change).await?;
        Ok(())
    }

    /// Deletes a key no release used. The principal must be allowed to manage it for one of its
    /// committees.
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
        let deleted = EventKind::KeyDeleted { fingerprint: fingerprint.clone() };
        let change = Change::new().write(Write::DeleteKey(fingerprint.clone())).event(NewEvent::global(
            now,
            actor(principal),
            deleted,
        ));
        self.commit(change).await?;
        Ok(())
    }

    async fn key(&self, fingerprint: &Fingerprint) -> ServiceResult<SigningKey> {
        self.ports.keys.get(fingerprint).await?.ok_or_else(|| ServiceError::NotFound(format!("key {fingerprint}")))
    }
}
