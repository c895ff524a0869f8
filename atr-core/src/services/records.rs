//! Project policy, CVE records and distribution records.

use super::{ServiceError, ServiceResult, Services, actor};
use crate::auth::{Activity, Principal};
use crate::model::{CveLink, CveRecord, Distribution, EventKind, NewEvent, Phase, Project};
use crate::policy::PolicyOverrides;
use crate::ports::{Change, Write};
use crate::types::{CveId, ProjectKey, Timestamp};

pub use crate::model::cve::MAX_CVE_TEXT_LEN;

/// What recording a CVE did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CveRecorded {
    /// The record as stored, with the links it already had.
    pub record: CveRecord,
    /// True if the CVE was new; false if its fields were updated.
    pub created: bool,
}

impl Services {
    /// Replaces the project's vote policy settings after validating them. Needs `manage policy`.
    pub async fn set_project_policy(
        &self,
        principal: &Principal,
        project: &ProjectKey,
        policy: PolicyOverrides,
        now: Timestamp,
    ) -> ServiceResult<Project> {
        let scope = self.authorized_project(principal, Activity::ManagePolicy, project, now).await?;
        policy.validate()?;
        PolicyOverrides::resolve(&self.foundation_policy, &[&policy])?;
        let mut updated = scope.project;
        updated.policy = policy;
        let event = NewEvent::for_project(now, actor(principal), project, EventKind::PolicyChanged);
        self.commit(Change::new().write(Write::UpdateProject(updated.clone())).event(event)).await?;
        Ok(updated)
    }

    /// Records (or updates) a CVE record on behalf of `project`; its links are kept. The fields
    /// must pass [`CveRecord::check_fields`]. Needs `manage metadata` on the project.
    pub async fn record_cve(
        &self,
        principal: &Principal,
        project: &ProjectKey,
        mut record: CveRecord,
        now: Timestamp,
    ) -> ServiceResult<CveRecorded> {
        record.check_fields().map_err(|e| ServiceError::field(e.field(), e.reason()))?;
        self.authorized_project(principal, Activity::ManageMetadata, project, now).await?;
        let existing = self.ports.cves.get(&record.id).await?;
        let event =
            NewEvent::for_project(now, actor(principal), project, EventKind::CveRecorded { id: record.id.clone() });
        self.commit(Change::new().write(Write::PutCve(record.clone())).event(event)).await?;
        let created = existing.is_none();
        if let Some(existing) = existing {
            record.affects = existing.affects;
            record.resolved_by = existing.resolved_by;
        }
        Ok(CveRecorded { record, created })
    }

    /// Links a CVE to a release it affects or resolves, and returns the record with its links.
    /// Needs `manage metadata` on the release's project.
    pub async fn link_cve(
        &self,
        principal: &Principal,
        id: &CveId,
        release: &crate::model::ReleaseKey,
        link: CveLink,
        now: Timestamp,
    ) -> ServiceResult<CveRecord> {
        self.authorized_release(principal, Activity::ManageMetadata, release, now).await?;
        let Some(mut record) = self.ports.cves.get(id).await? else {
            return Err(ServiceError::NotFound(format!("CVE {id}")));
        };
        let event =
            NewEvent::for_release(now, actor(principal), release, EventKind::CveLinked { id: id.clone(), link });
        let change =
            Change::new().write(Write::LinkCve { id: id.clone(), release: release.clone(), link }).event(event);
        self.commit(change).await?;
        match link {
            CveLink::Affects => record.affects.insert(release.clone()),
            CveLink::Resolves => record.resolved_by.insert(release.clone()),
        };
        Ok(record)
    }

    /// Records a distribution of a published release, made from its latest revision. Needs
    /// `perform actions`.
    pub async fn record_distribution(
        &self,
        principal: &Principal,
        distribution: Distribution,
        now: Timestamp,
    ) -> ServiceResult<Distribution> {
        let key = distribution.release.clone();
        let (_, release) = self.authorized_release(principal, Activity::PerformActions, &key, now).await?;
        if release.phase != Phase::Release || release.is_revoked() {
            return Err(ServiceError::Invalid(format!("release {key} is not published; distribute after announcing")));
        }
        if release.latest_revision != Some(distribution.revision) {
            return Err(ServiceError::Invalid(format!(
                "distribution must be made from the released revision, not {}",
                distribution.revision
            )));
        }
        for (field, value) in [
            ("owner_namespace", &distribution.owner_namespace),
            ("package", &distribution.package),
            ("version", &distribution.version),
        ] {
            if value.trim().is_empty() || value.len() > 255 {
                return Err(ServiceError::Invalid(format!("{field} must be 1 to 255 bytes")));
            }
        }
        let kind =
            EventKind::DistributionRecorded { platform: distribution.platform, environment: distribution.environment };
        let change = Change::new().write(Write::PutDistribution(distribution.clone())).event(NewEvent::for_release(
            now,
            actor(principal),
            &key,
            kind,
        ));
        self.commit(change).await?;
        Ok(distribution)
    }
}

#[cfg(test)]
mod tests;
