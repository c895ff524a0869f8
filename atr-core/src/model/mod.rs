//! The entities of the domain: plain data. The rules that change them live in
//! [`crate::lifecycle`], [`crate::auth`], [`crate::policy`] and [`crate::tally`].

pub mod check;
pub mod committee;
pub mod cve;
pub mod distribution;
pub mod event;
pub mod key;
pub mod license;
pub mod person;
pub mod project;
pub mod release;
pub mod revision;
pub mod signer;
pub mod source;
pub mod task;
pub mod vote;

pub use check::{CheckCounts, CheckIgnore, CheckResult, CheckRun, CheckStatus, CheckSummary, IgnoreError};
pub use committee::{Committee, CommitteeRole, RoleAction, RoleChange};
pub use cve::{CveLink, CveRecord, Cvss, Severity};
pub use distribution::{Distribution, DistributionStatus, Environment, Platform};
pub use event::{Actor, Event, EventKind, NewEvent};
pub use key::SigningKey;
pub use license::LicenseCategory;
pub use person::Person;
pub use project::{Metadata, Product, Project};
pub use release::{Phase, Release, ReleaseKey, ReleaseState, Revocation};
pub use revision::{FileEntry, Package, PackageListing, Revision, RevisionNumber, derive_packages};
pub use signer::{SignerRule, SignerRuleError, SignerVerdict};
pub use source::{CommitId, RepositoryUrl, SourceError, SourceOrigin};
pub use task::{Analyze, PayloadError, Task, TaskDescriptor, TaskKind, TaskStatus};
pub use vote::{Ballot, BallotSource, Consent, VoteOutcome, VoteRecord, VoteRound, VoteValue, Voter};
