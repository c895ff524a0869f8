//! Roles, activities and the one permission decision point, [`authorize`].
//!
//! The table of domain.md is [`Role::grants`], written out once. Roles compose: a principal may
//! do what any of its roles allows. PMC member, release manager and committer are per project
//! (membership of the committee that owns the target); visitor, ASF member and admin are global.
//! A machine token acts for its owner with at most release-manager rights, only on the projects
//! and activities it was scoped to, and only until it expires.
//!
//! Besides domain.md's release activities, the table holds the platform's own: creating tokens
//! (a signed-in person's, never a token's), reading a project's tasks, and the admin-only
//! activities (accounts, committees, projects, tasks of no release, the audit log), so that
//! "is this an admin?" is decided here and nowhere else.

use std::collections::BTreeSet;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::model::{Committee, Person};
use crate::types::{ProjectKey, Timestamp, UserId};

pub mod bearer;
mod credentials;

pub use credentials::{
    MAX_PASSWORD_LEN, MAX_TOKEN_NAME_LEN, MIN_PASSWORD_LEN, PasswordHash, Secret, StoredToken, TokenStatus,
    password_weakness,
};

/// A role a person holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// A member of the project's (P)PMC.
    PmcMember,
    /// A release manager of the project.
    ReleaseManager,
    /// A committer of the project.
    Committer,
    /// Anyone; votes only with an active consent record.
    Visitor,
    /// A member of the foundation.
    AsfMember,
    /// Infrastructure: acts on every project.
    Admin,
}

impl Role {
    /// Every role, in the order of domain.md's table.
    pub const ALL: [Role; 6] =
        [Role::PmcMember, Role::ReleaseManager, Role::Committer, Role::Visitor, Role::AsfMember, Role::Admin];

    /// The role's name: `pmc_member`, `release_manager`, ...
    pub fn as_str(self) -> &'static str {
        match self {
            Role::PmcMember => "pmc_member",
            Role::ReleaseManager => "release_manager",
            Role::Committer => "committer",
            Role::Visitor => "visitor",
            Role::AsfMember => "asf_member",
            Role::Admin => "admin",
        }
    }

    /// True for roles held per project rather than foundation-wide.
    pub fn is_per_project(self) -> bool {
        matches!(self, Role::PmcMember | Role::ReleaseManager | Role::Committer)
    }

    /// Whether the role allows the activity: the permission table of domain.md. The visitor's
    /// `vote` is further conditioned on consent by [`authorize`].
    pub fn grants(self, activity: Activity) -> bool {
        use Activity as A;
        use Role as R;
        match activity {
            A::BindingVote => matches!(self, R::PmcMember),
            A::Vote => matches!(self, R::PmcMember | R::Committer | R::Visitor | R::AsfMember),
            A::ManageRelease | A::ManagePolicy | A::ManageMetadata | A::PerformActions => {
                matches!(self, R::PmcMember | R::ReleaseManager | R::Admin)
            }
            A::ManageKeys => matches!(self, R::PmcMember | R::Admin),
            A::ManageOwnKey => matches!(self, R::PmcMember | R::ReleaseManager),
            // Creating a token: everyone signed in; `authorize` refuses it to tokens and to
            // anonymous callers.
            A::ViewReleaseEvents | A::CreateToken => true,
            A::ViewAllEvents => matches!(self, R::AsfMember | R::Admin),
            A::ViewDrafts | A::ViewTasks => matches!(self, R::PmcMember | R::ReleaseManager | R::Committer | R::Admin),
            A::ManageTasks | A::CreateProject | A::ManageCommittees | A::ManageAccounts | A::VerifyAudit => {
                matches!(self, R::Admin)
            }
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Something a principal may be allowed to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Activity {
    /// Cast a vote that binds.
    BindingVote,
    /// Cast a vote.
    Vote,
    /// Start releases, upload and change files.
    ManageRelease,
    /// Change the vote policy.
    ManagePolicy,
    /// Change project metadata, CVE links.
    ManageMetadata,
    /// Manage anyone's signing keys for the committee.
    ManageKeys,
    /// Manage one's own signing keys.
    ManageOwnKey,
    /// Start and resolve votes, announce, distribute.
    PerformActions,
    /// Read a release before its vote: a draft or a preview, with its revisions, files and checks.
    ViewDrafts,
    /// Read a release's history.
    ViewReleaseEvents,
    /// Read the foundation-wide history.
    ViewAllEvents,
    /// Create a personal access token: only a signed-in person, in a session.
    CreateToken,
    /// Read the tasks of a project's releases (their state, never their stored error text).
    ViewTasks,
    /// Cancel and retry the tasks of no release (a project's tasks need `perform actions`).
    ManageTasks,
    /// Create a project.
    CreateProject,
    /// Set committees and their people (one role at a time, whole, or by an import).
    ManageCommittees,
    /// Create local accounts with their global roles.
    ManageAccounts,
    /// Verify the audit log's hash chain.
    VerifyAudit,
}

impl Activity {
    /// Every activity, in the order of domain.md's tables.
    pub const ALL: [Activity; 18] = [
        Activity::BindingVote,
        Activity::Vote,
        Activity::ManageRelease,
        Activity::ManagePolicy,
        Activity::ManageMetadata,
        Activity::ManageKeys,
        Activity::ManageOwnKey,
        Activity::PerformActions,
        Activity::ViewDrafts,
        Activity::ViewReleaseEvents,
        Activity::ViewAllEvents,
        Activity::CreateToken,
        Activity::ViewTasks,
        Activity::ManageTasks,
        Activity::CreateProject,
        Activity::ManageCommittees,
        Activity::ManageAccounts,
        Activity::VerifyAudit,
    ];

    /// The activity's name: `binding_vote`, `manage_release`, ...
    pub fn as_str(self) -> &'static str {
        match self {
            Activity::BindingVote => "binding_vote",
            Activity::Vote => "vote",
            Activity::ManageRelease => "manage_release",
            Activity::ManagePolicy => "manage_policy",
            Activity::ManageMetadata => "manage_metadata",
            Activity::ManageKeys => "manage_keys",
            Activity::ManageOwnKey => "manage_own_key",
            Activity::PerformActions => "perform_actions",
            Activity::ViewDrafts => "view_drafts",
            Activity::ViewReleaseEvents => "view_release_events",
            Activity::ViewAllEvents => "view_all_events",
            Activity::CreateToken => "create_token",
            Activity::ViewTasks => "view_tasks",
            Activity::ManageTasks => "manage_tasks",
            Activity::CreateProject => "create_project",
            Activity::ManageCommittees => "manage_committees",
            Activity::ManageAccounts => "manage_accounts",
            Activity::VerifyAudit => "verify_audit",
        }
    }

    /// Parses a name written by [`Activity::as_str`].
    pub fn parse(name: &str) -> Option<Activity> {
        Activity::ALL.into_iter().find(|a| a.as_str() == name)
    }

    /// The roles whose grant includes this activity.
    pub fn granted_by(self) -> Vec<Role> {
        Role::ALL.into_iter().filter(|r| r.grants(self)).collect()
    }

    /// True if a machine token may carry this activity: release-manager rights at most, and
    /// nothing that needs a session.
    pub fn allowed_for_tokens(self) -> bool {
        Role::ReleaseManager.grants(self) && !self.needs_session()
    }

    /// True for what only a signed-in person does in a session: a token never mints tokens, and
    /// an anonymous caller has nobody to create them for.
    pub fn needs_session(self) -> bool {
        matches!(self, Activity::CreateToken)
    }

    /// True for what every token may do on the projects it is scoped to, whatever activities it
    /// carries: reading the drafts of those projects and their tasks, which its own uploads make
    /// and queue and its holder waits on. The owner must still hold a role that grants it.
    pub fn implied_for_tokens(self) -> bool {
        matches!(self, Activity::ViewDrafts | Activity::ViewTasks)
    }

    /// True for the activities only an admin holds.
    pub fn is_admin_only(self) -> bool {
        self.granted_by() == [Role::Admin]
    }
}

impl fmt::Display for Activity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Longest lifetime of a machine token.
pub const MAX_TOKEN_LIFETIME_SECS: i64 = 366 * 24 * 3600;
/// Most projects one token may be scoped to.
pub const MAX_TOKEN_PROJECTS: usize = 100;

/// A fine-grained machine token's grant: who it acts for, on which projects, for which
/// activities, until when. The secret itself is not here: adapters store only its hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MachineToken {
    id: String,
    owner: UserId,
    projects: BTreeSet<ProjectKey>,
    activities: BTreeSet<Activity>,
    created_at: Timestamp,
    expires_at: Timestamp,
}

/// Why a token grant is refused at creation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("a token id must be 1 to 64 characters of letters, digits, '-' and '_'")]
    BadId,
    #[error("a token must be scoped to at least one project and at most {MAX_TOKEN_PROJECTS}")]
    Projects,
    #[error("a token must be scoped to at least one activity")]
    NoActivity,
    #[error("a token may not carry {0}: tokens have at most release-manager rights")]
    AboveReleaseManager(Activity),
    #[error("a token must expire after it is created and within 366 days")]
    Lifetime,
}

impl MachineToken {
    /// A token grant, refused if it is empty, carries an activity above release-manager rights,
    /// or does not expire within [`MAX_TOKEN_LIFETIME_SECS`].
    pub fn new(
        id: String,
        owner: UserId,
        projects: BTreeSet<ProjectKey>,
        activities: BTreeSet<Activity>,
        created_at: Timestamp,
        expires_at: Timestamp,
    ) -> Result<Self, TokenError> {
        let id_ok =
            !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !id_ok {
            return Err(TokenError::BadId);
        }
        if projects.is_empty() || projects.len() > MAX_TOKEN_PROJECTS {
            return Err(TokenError::Projects);
        }
        if activities.is_empty() {
            return Err(TokenError::NoActivity);
        }
        if let Some(bad) = activities.iter().find(|a| !a.allowed_for_tokens()) {
            return Err(TokenError::AboveReleaseManager(*bad));
        }
        let lifetime = expires_at.unix() - created_at.unix();
        if lifetime <= 0 || lifetime > MAX_TOKEN_LIFETIME_SECS {
            return Err(TokenError::Lifetime);
        }
        Ok(Self { id, owner, projects, activities, created_at, expires_at })
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    pub fn owner(&self) -> &UserId {
        &self.owner
    }

    pub fn projects(&self) -> &BTreeSet<ProjectKey> {
        &self.projects
    }

    pub fn activities(&self) -> &BTreeSet<Activity> {
        &self.activities
    }

    pub fn created_at(&self) -> Timestamp {
        self.created_at
    }

    pub fn expires_at(&self) -> Timestamp {
        self.expires_at
    }

    /// True until the expiry instant.
    pub fn is_live(&self, now: Timestamp) -> bool {
        now < self.expires_at
    }
}

/// Who is asking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// Nobody signed in.
    Anonymous,
    /// A signed-in person.
    Person(Person),
    /// A machine token, with the person it acts for as they are now.
    Token { owner: Person, token: MachineToken },
}

/// What an activity is done on.
#[derive(Debug, Clone, Copy)]
pub enum Target<'a> {
    /// The foundation as a whole: the global audit log, accounts, committees, new projects, and
    /// tasks of no release.
    Foundation,
    /// A project, with the committee that owns it.
    Project { project: &'a ProjectKey, committee: &'a Committee },
    /// A committee as a whole, before any project of it is named: what a frontend that knows a
    /// person's committees (an OAuth session, say) asks about. A token is never scoped to it.
    Committee(&'a Committee),
    /// A signing key of `owner` (if known), linked to `committee`; `project` names the project a
    /// token acts on, if any.
    Key { owner: Option<&'a UserId>, committee: &'a Committee, project: Option<&'a ProjectKey> },
}

impl Target<'_> {
    fn committee(&self) -> Option<&Committee> {
        match self {
            Target::Foundation => None,
            Target::Project { committee, .. } | Target::Key { committee, .. } | Target::Committee(committee) => {
                Some(committee)
            }
        }
    }

    fn project(&self) -> Option<&ProjectKey> {
        match self {
            Target::Foundation | Target::Committee(_) => None,
            Target::Project { project, .. } => Some(project),
            Target::Key { project, .. } => *project,
        }
    }
}

impl fmt::Display for Target<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Foundation => f.write_str("the foundation"),
            Target::Project { project, .. } => write!(f, "project {project}"),
            Target::Committee(committee) => write!(f, "committee {}", committee.key),
            Target::Key { owner: Some(owner), committee, .. } => write!(f, "a key of {owner} for {}", committee.key),
            Target::Key { owner: None, committee, .. } => write!(f, "a key for {}", committee.key),
        }
    }
}

/// Why a permission was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DenyReason {
    /// None of the principal's roles grants the activity.
    NeedsRole(Vec<Role>),
    /// A visitor votes only with an active consent record.
    NoConsent,
    /// `manage own key` on a key that is not the principal's own.
    NotOwnKey,
    TokenExpired,
    /// The token is not scoped to the target's project.
    TokenProject,
    /// The token is not scoped to the activity.
    TokenActivity,
    /// The token belongs to someone other than the person presented with it.
    TokenOwner,
    /// Only a signed-in person may do this in a session, never with a token.
    SessionOnly,
    /// Nobody is signed in.
    NotSignedIn,
}

/// A refused permission: which activity, on what, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("permission denied: {activity} on {target}: {}", self.explain())]
pub struct Denied {
    pub activity: Activity,
    /// The target, as displayed.
    pub target: String,
    pub reason: DenyReason,
}

impl Denied {
    fn explain(&self) -> String {
        match &self.reason {
            DenyReason::NeedsRole(roles) => {
                let names: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
                format!("needs one of the roles {}", names.join(", "))
            }
            DenyReason::NoConsent => "a visitor votes only after giving consent to keep their name and email".into(),
            DenyReason::NotOwnKey => "the key is not the principal's own".into(),
            DenyReason::TokenExpired => "the token has expired".into(),
            DenyReason::TokenProject => "the token is not scoped to this project".into(),
            DenyReason::TokenActivity => "the token is not scoped to this activity".into(),
            DenyReason::TokenOwner => "the token does not belong to the person it is presented for".into(),
            DenyReason::SessionOnly if self.activity == Activity::CreateToken => {
                "a token cannot create tokens; sign in with a session".into()
            }
            DenyReason::SessionOnly => "only a signed-in session may do this, never a token".into(),
            DenyReason::NotSignedIn => "nobody is signed in".into(),
        }
    }
}

/// The roles `person` holds for `target`: the global ones, and per-project ones from the
/// target's committee. Everyone is a visitor.
pub fn roles(person: &Person, target: &Target<'_>) -> BTreeSet<Role> {
    let mut roles = BTreeSet::from([Role::Visitor]);
    if person.asf_member {
        roles.insert(Role::AsfMember);
    }
    if person.admin {
        roles.insert(Role::Admin);
    }
    if let Some(committee) = target.committee() {
        if committee.pmc_members.contains(&person.id) {
            roles.insert(Role::PmcMember);
        }
        if committee.release_managers.contains(&person.id) {
            roles.insert(Role::ReleaseManager);
        }
        if committee.committers.contains(&person.id) {
            roles.insert(Role::Committer);
        }
    }
    roles
}

/// The one permission decision: may `principal` do `activity` on `target` at `now`?
pub fn authorize(principal: &Principal, activity: Activity, target: &Target<'_>, now: Timestamp) -> Result<(), Denied> {
    let deny = |reason| Err(Denied { activity, target: target.to_string(), reason });
    match principal {
        Principal::Anonymous => {
            if activity.needs_session() {
                deny(DenyReason::NotSignedIn)
            } else if Role::Visitor.grants(activity) && activity != Activity::Vote {
                Ok(())
            } else if activity == Activity::Vote {
                deny(DenyReason::NoConsent)
            } else {
                deny(DenyReason::NeedsRole(activity.granted_by()))
            }
        }
        Principal::Person(person) => authorize_person(person, activity, target, now).or_else(deny),
        Principal::Token { owner, token } => {
            if token.owner() != &owner.id {
                return deny(DenyReason::TokenOwner);
            }
            if !token.is_live(now) {
                return deny(DenyReason::TokenExpired);
            }
            if activity.needs_session() {
                return deny(DenyReason::SessionOnly);
            }
            // A live token is never weaker than no credentials at all: what anyone may do
            // (reading a project's public history), its holder may do whatever it carries.
            if authorize(&Principal::Anonymous, activity, target, now).is_ok() {
                return Ok(());
            }
            let carried = token.activities().contains(&activity) || activity.implied_for_tokens();
            if !carried || !activity.allowed_for_tokens() {
                return deny(DenyReason::TokenActivity);
            }
            if !target.project().is_some_and(|p| token.projects().contains(p)) {
                return deny(DenyReason::TokenProject);
            }
            authorize_person(owner, activity, target, now).or_else(deny)
        }
    }
}

fn authorize_person(
    person: &Person,
    activity: Activity,
    target: &Target<'_>,
    now: Timestamp,
) -> Result<(), DenyReason> {
    if activity == Activity::ManageOwnKey {
        match target {
            Target::Key { owner: Some(owner), .. } if *owner == &person.id => {}
            _ => return Err(DenyReason::NotOwnKey),
        }
    }
    let held = roles(person, target);
    let consented = person.consent.as_ref().is_some_and(|c| c.user == person.id && c.is_active(now));
    let allowed = held
        .iter()
        .any(|role| role.grants(activity) && (*role != Role::Visitor || activity != Activity::Vote || consented));
    if allowed {
        return Ok(());
    }
    if activity == Activity::Vote && held.contains(&Role::Visitor) {
        return Err(DenyReason::NoConsent);
    }
    Err(DenyReason::NeedsRole(activity.granted_by()))
}

#[cfg(test)]
mod tests;
