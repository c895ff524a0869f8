//! Committees and their people, and the audit log's verification: what admins do.
//!
//! A committee's people change three ways: one person's role at a time
//! ([`Services::change_committee_role`], atomic in the store, so two admins granting at once
//! both win), a committee's people replaced whole ([`Services::put_committee`]), and an import
//! of many committees checked before any is written ([`Services::import_committees`]).

use std::collections::{BTreeMap, BTreeSet};

use super::{ServiceError, ServiceResult, Services};
use crate::auth::{self, Activity, Principal, Target};
use crate::model::{Committee, RoleChange};
use crate::ports::{AuditVerdict, Change, CommitteeRepository, PageRequest, StoreError, UnitOfWork, Write};
use crate::types::{CommitteeKey, Timestamp, UserId};

/// Longest committee display name, in characters.
const MAX_COMMITTEE_NAME_LEN: usize = 200;

/// A committee's people, replaced whole, and optionally its name, podling flag and parent.
#[derive(Debug, Clone, Default)]
pub struct CommitteeUpdate {
    /// Replaces the display name when given; a new committee needs one.
    pub name: Option<String>,
    /// Replaces the podling flag when given.
    pub podling: Option<bool>,
    /// Replaces the parent when given (`Some(None)` removes it).
    pub parent: Option<Option<CommitteeKey>>,
    pub pmc_members: BTreeSet<UserId>,
    pub committers: BTreeSet<UserId>,
    pub release_managers: BTreeSet<UserId>,
}

/// What an import did: the committees it created and those it replaced, by key.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportReport {
    pub created: Vec<CommitteeKey>,
    pub updated: Vec<CommitteeKey>,
}

impl ImportReport {
    /// How many committees the import wrote.
    pub fn imported(&self) -> usize {
        self.created.len() + self.updated.len()
    }
}

/// A committee after one role changed, and whether anything changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleChanged {
    pub committee: Committee,
    pub changed: bool,
}

/// A display name, trimmed, or the refusal naming `field`.
fn check_name(field: &str, name: &str) -> ServiceResult<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_COMMITTEE_NAME_LEN || name.chars().any(char::is_control) {
        return Err(ServiceError::field(
            field,
            format!("must be 1 to {MAX_COMMITTEE_NAME_LEN} characters, without control characters"),
        ));
    }
    Ok(name.to_owned())
}

/// Applies a committee import: `committees` in the order of the document, each created or
/// replaced whole; committees not listed are left alone. Every committee is checked (names,
/// each key once, a parent in the document or already known, no committee its own parent)
/// before any is written; refusals name the field as `committees[i].name`.
///
/// The whole import is one [`Change`]: every committee is written, or none is.
///
/// [`Services::import_committees`] calls it for an admin; the operator's `atr committees
/// import`, which holds the database, calls it directly.
pub async fn import_committees(
    store: &dyn CommitteeRepository,
    changes: &dyn UnitOfWork,
    committees: Vec<Committee>,
) -> ServiceResult<ImportReport> {
    let mut checked: BTreeMap<CommitteeKey, Committee> = BTreeMap::new();
    let mut parents: Vec<(usize, CommitteeKey, CommitteeKey)> = Vec::new();
    for (index, mut committee) in committees.into_iter().enumerate() {
        if checked.contains_key(&committee.key) {
            let key = committee.key;
            return Err(ServiceError::field(
                format!("committees[{index}].key"),
                format!("committee {key} appears twice"),
            ));
        }
        committee.name = check_name(&format!("committees[{index}].name"), &committee.name)?;
        if let Some(parent) = &committee.parent {
            parents.push((index, committee.key.clone(), parent.clone()));
        }
        checked.insert(committee.key.clone(), committee);
    }
    for (index, key, parent) in parents {
        let field = format!("committees[{index}].parent");
        if parent == key {
            return Err(ServiceError::field(field, "a committee cannot oversee itself"));
        }
        if !checked.contains_key(&parent) && store.get(&parent).await?.is_none() {
            return Err(ServiceError::field(field, format!("committee {parent} is neither in the document nor known")));
        }
    }
    write_import(store, changes, checked).await
}

async fn write_import(
    store: &dyn CommitteeRepository,
    changes: &dyn UnitOfWork,
    checked: BTreeMap<CommitteeKey, Committee>,
) -> ServiceResult<ImportReport> {
    let mut report = ImportReport::default();
    let mut change = Change::new();
    for (key, committee) in checked {
        let known = store.get(&key).await?.is_some();
        if known { &mut report.updated } else { &mut report.created }.push(key);
        change = change.write(Write::PutCommittee(committee));
    }
    changes.commit(change).await?;
    Ok(report)
}

impl Services {
    /// Committees ordered by key, after the cursor.
    pub async fn list_committees(&self, page: PageRequest<CommitteeKey>) -> ServiceResult<Vec<Committee>> {
        Ok(self.ports.committees.list(page).await?)
    }

    /// One committee with its people.
    pub async fn get_committee(&self, key: &CommitteeKey) -> ServiceResult<Committee> {
        self.committee(key).await
    }

    /// Creates a committee or replaces its people (see [`CommitteeUpdate`]). Needs
    /// `manage committees`.
    pub async fn put_committee(
        &self,
        principal: &Principal,
        key: &CommitteeKey,
        update: CommitteeUpdate,
        now: Timestamp,
    ) -> ServiceResult<Committee> {
        auth::authorize(principal, Activity::ManageCommittees, &Target::Foundation, now)?;
        let existing = self.ports.committees.get(key).await?;
        let mut committee = match (existing, &update.name) {
            (Some(committee), _) => committee,
            (None, Some(_)) => Committee::new(key.clone(), String::new()),
            (None, None) => {
                return Err(ServiceError::field("name", format!("committee {key} is new and needs a name")));
            }
        };
        if let Some(name) = &update.name {
            committee.name = check_name("name", name)?;
        }
        if let Some(podling) = update.podling {
            committee.podling = podling;
        }
        if let Some(parent) = update.parent {
            if let Some(parent) = &parent {
                if parent == key {
                    return Err(ServiceError::field("parent", "a committee cannot oversee itself"));
                }
                if self.ports.committees.get(parent).await?.is_none() {
                    return Err(ServiceError::field("parent", format!("committee {parent} is not known")));
                }
            }
            committee.parent = parent;
        }
        committee.pmc_members = update.pmc_members;
        committee.committers = update.committers;
        committee.release_managers = update.release_managers;
        self.commit(Change::new().write(Write::PutCommittee(committee.clone()))).await?;
        Ok(committee)
    }

    /// Creates or replaces every committee of an import (see [`import_committees`]). Needs
    /// `manage committees`.
    pub async fn import_committees(
        &self,
        principal: &Principal,
        committees: Vec<Committee>,
        now: Timestamp,
    ) -> ServiceResult<ImportReport> {
        auth::authorize(principal, Activity::ManageCommittees, &Target::Foundation, now)?;
        import_committees(self.ports.committees.as_ref(), self.ports.changes.as_ref(), committees).await
    }

    /// Adds or removes one person's role in a committee, atomically: a concurrent change of the
    /// committee's people is never lost. Needs `manage committees`. `NotFound` for an unknown
    /// committee.
    pub async fn change_committee_role(
        &self,
        principal: &Principal,
        key: &CommitteeKey,
        change: &RoleChange,
        now: Timestamp,
    ) -> ServiceResult<RoleChanged> {
        auth::authorize(principal, Activity::ManageCommittees, &Target::Foundation, now)?;
        match self.ports.committees.change_role(key, change).await {
            Ok((committee, changed)) => Ok(RoleChanged { committee, changed }),
            Err(StoreError::NotFound(_)) => Err(ServiceError::NotFound(format!("committee {key}"))),
            Err(other) => Err(other.into()),
        }
    }

    /// Recomputes the audit log's hash chain. Needs `verify audit`.
    pub async fn verify_audit(&self, principal: &Principal, now: Timestamp) -> ServiceResult<AuditVerdict> {
        auth::authorize(principal, Activity::VerifyAudit, &Target::Foundation, now)?;
        Ok(self.ports.audit.verify().await?)
    }
}
