//! What only admins may do: local accounts, committees' people, the committee import, and the
//! audit log's check.

use atr_core::model;
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;

use crate::auth::Person;
use crate::committees::Committee;

/// `POST /api/admin/accounts`: a local account and its person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAccount {
    #[schema(pattern = "^[a-z][a-z0-9_-]*$", max_length = 64)]
    pub user: String,
    /// At least 12 characters.
    pub password: String,
    #[serde(default)]
    pub asf_member: bool,
    #[serde(default)]
    pub admin: bool,
}

/// The answer to an account's creation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AccountCreated {
    pub person: Person,
}

/// Deserializes a present field, even `null`, as `Some`: tells "absent" from "null".
#[expect(clippy::option_option, reason = "absent, null and a value mean three different things here")]
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(deserializer: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(deserializer).map(Some)
}

/// `PUT /api/admin/committees/{key}`: the committee's people, replaced whole. `name`, `podling`
/// and `parent` replace the stored values when given and keep them when absent (`"parent":
/// null` removes the parent); a new committee needs a `name`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CommitteePeople {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub podling: Option<bool>,
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, required = false)]
    pub parent: Option<Option<String>>,
    pub pmc_members: Vec<String>,
    pub committers: Vec<String>,
    #[serde(default)]
    pub release_managers: Vec<String>,
}

/// The answer to a change of a committee's people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CommitteeAnswer {
    pub committee: Committee,
}

/// A role held through a committee: one of its three sets of people.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CommitteeRole {
    /// A member of the (P)PMC.
    PmcMember,
    Committer,
    /// A release manager who need not be a PMC member.
    ReleaseManager,
}

impl From<model::CommitteeRole> for CommitteeRole {
    fn from(role: model::CommitteeRole) -> Self {
        match role {
            model::CommitteeRole::PmcMember => Self::PmcMember,
            model::CommitteeRole::Committer => Self::Committer,
            model::CommitteeRole::ReleaseManager => Self::ReleaseManager,
        }
    }
}

/// Whether a role is given or taken away.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RoleAction {
    Add,
    Remove,
}

impl From<model::RoleAction> for RoleAction {
    fn from(action: model::RoleAction) -> Self {
        match action {
            model::RoleAction::Add => Self::Add,
            model::RoleAction::Remove => Self::Remove,
        }
    }
}

/// `POST /api/admin/committees/{key}/people`: one person's role, added or removed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PersonRole {
    #[schema(pattern = "^[a-z][a-z0-9_-]*$", max_length = 64)]
    pub user: String,
    pub role: CommitteeRole,
    pub action: RoleAction,
}

/// The answer to a change of one person's role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RoleChanged {
    pub committee: Committee,
    /// False when the person already had (or did not have) the role.
    pub changed: bool,
}

/// One committee of an import document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ImportedCommittee {
    #[schema(pattern = "^[a-z0-9]+(-[a-z0-9]+)*$", max_length = 64)]
    pub key: String,
    pub name: String,
    #[serde(default)]
    pub podling: bool,
    /// The overseeing committee: in the document or already known.
    #[serde(default)]
    pub parent: Option<String>,
    pub pmc_members: Vec<String>,
    pub committers: Vec<String>,
    #[serde(default)]
    pub release_managers: Vec<String>,
}

/// `POST /api/admin/committees/import`: committees created or replaced whole; those not listed
/// are left alone. Every committee is validated before any is written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CommitteeImport {
    pub committees: Vec<ImportedCommittee>,
}

/// What a committee import did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CommitteeImportReport {
    /// How many committees the document held.
    pub imported: u64,
    /// The keys of the new committees, sorted.
    pub created: Vec<String>,
    /// The keys of the replaced ones, sorted.
    pub updated: Vec<String>,
}

/// `GET /api/admin/audit/verify`: the audit log's hash chain, recomputed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum AuditReport {
    /// Every event verifies.
    Intact {
        /// `true`.
        intact: bool,
        /// Events checked.
        events: u64,
        /// The hash of the last event (empty for an empty log).
        head: String,
    },
    /// An event was changed or deleted outside the service.
    Broken {
        /// `false`.
        intact: bool,
        error: String,
        /// The first event that does not verify; `null` when the log could not be read.
        broken_at: Option<u64>,
    },
}

impl From<&atr_core::services::ImportReport> for CommitteeImportReport {
    fn from(report: &atr_core::services::ImportReport) -> Self {
        Self {
            imported: report.imported() as u64,
            created: crate::texts(&report.created),
            updated: crate::texts(&report.updated),
        }
    }
}

impl From<&atr_core::services::RoleChanged> for RoleChanged {
    fn from(done: &atr_core::services::RoleChanged) -> Self {
        Self { committee: (&done.committee).into(), changed: done.changed }
    }
}

impl From<atr_core::ports::AuditVerdict> for AuditReport {
    fn from(verdict: atr_core::ports::AuditVerdict) -> Self {
        match verdict {
            atr_core::ports::AuditVerdict::Intact { events, head } => Self::Intact { intact: true, events, head },
            atr_core::ports::AuditVerdict::Broken { error, broken_at } => {
                Self::Broken { intact: false, error, broken_at }
            }
        }
    }
}
