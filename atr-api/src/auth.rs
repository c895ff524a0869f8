//! People, signing in, and personal access tokens.

use atr_core::auth as core_auth;
use atr_core::model;
use atr_core::types::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{text, texts};

/// A visitor's consent to keep their name and email so they can vote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Consent {
    pub user: String,
    pub name: String,
    pub email: String,
    /// Unix seconds.
    pub given_at: i64,
    /// Unix seconds.
    pub revoked_at: Option<i64>,
}

impl From<&model::Consent> for Consent {
    fn from(c: &model::Consent) -> Self {
        Self {
            user: text(&c.user),
            name: c.name.clone(),
            email: c.email.clone(),
            given_at: c.given_at.unix(),
            revoked_at: c.revoked_at.map(Timestamp::unix),
        }
    }
}

/// A person with their global roles. Per-project roles come from committee membership.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Person {
    pub id: String,
    /// A member of the foundation.
    pub asf_member: bool,
    /// Infrastructure: may act on every project.
    pub admin: bool,
    /// A visitor's consent to keep their personal data.
    pub consent: Option<Consent>,
}

impl From<&model::Person> for Person {
    fn from(p: &model::Person) -> Self {
        Self {
            id: text(&p.id),
            asf_member: p.asf_member,
            admin: p.admin,
            consent: p.consent.as_ref().map(Consent::from),
        }
    }
}

/// Something a principal may be allowed to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Activity {
    BindingVote,
    Vote,
    ManageRelease,
    ManagePolicy,
    ManageMetadata,
    ManageKeys,
    ManageOwnKey,
    PerformActions,
    ViewDrafts,
    ViewReleaseEvents,
    ViewAllEvents,
    CreateToken,
    ViewTasks,
    ManageTasks,
    CreateProject,
    ManageCommittees,
    ManageAccounts,
    VerifyAudit,
}

impl From<core_auth::Activity> for Activity {
    fn from(activity: core_auth::Activity) -> Self {
        use core_auth::Activity as A;
        match activity {
            A::BindingVote => Self::BindingVote,
            A::Vote => Self::Vote,
            A::ManageRelease => Self::ManageRelease,
            A::ManagePolicy => Self::ManagePolicy,
            A::ManageMetadata => Self::ManageMetadata,
            A::ManageKeys => Self::ManageKeys,
            A::ManageOwnKey => Self::ManageOwnKey,
            A::PerformActions => Self::PerformActions,
            A::ViewDrafts => Self::ViewDrafts,
            A::ViewReleaseEvents => Self::ViewReleaseEvents,
            A::ViewAllEvents => Self::ViewAllEvents,
            A::CreateToken => Self::CreateToken,
            A::ViewTasks => Self::ViewTasks,
            A::ManageTasks => Self::ManageTasks,
            A::CreateProject => Self::CreateProject,
            A::ManageCommittees => Self::ManageCommittees,
            A::ManageAccounts => Self::ManageAccounts,
            A::VerifyAudit => Self::VerifyAudit,
        }
    }
}

/// `POST /api/session`: signs in with a local account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignIn {
    pub user: String,
    pub password: String,
}

/// The answer to a sign-in; the session itself is the `atr_session` cookie.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Session {
    pub person: Person,
    /// When the session ends (Unix seconds).
    pub expires_at: i64,
}

/// What a token grants, without its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Grant {
    /// The token's public id: the part after `atr_`.
    pub id: String,
    pub owner: String,
    /// The projects it may act on, sorted.
    pub projects: Vec<String>,
    pub activities: Vec<Activity>,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds.
    pub expires_at: i64,
}

impl From<&core_auth::MachineToken> for Grant {
    fn from(grant: &core_auth::MachineToken) -> Self {
        Self {
            id: grant.id().to_owned(),
            owner: text(grant.owner()),
            projects: texts(grant.projects()),
            activities: grant.activities().iter().copied().map(Activity::from).collect(),
            created_at: grant.created_at().unix(),
            expires_at: grant.expires_at().unix(),
        }
    }
}

/// How the caller signed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum SignedInWith {
    /// The `atr_session` cookie.
    Session,
    /// `Authorization: Bearer atr_<id>_<secret>`.
    Token,
}

/// `GET /api/me`: the signed-in person, and the token's grant when a token is used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Me {
    pub person: Person,
    pub signed_in_with: SignedInWith,
    /// `null` for a session.
    pub token: Option<Grant>,
}

/// Whether a token still works.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum TokenStatus {
    Active,
    Revoked,
    Expired,
}

impl From<core_auth::TokenStatus> for TokenStatus {
    fn from(status: core_auth::TokenStatus) -> Self {
        match status {
            core_auth::TokenStatus::Active => Self::Active,
            core_auth::TokenStatus::Revoked => Self::Revoked,
            core_auth::TokenStatus::Expired => Self::Expired,
        }
    }
}

/// A token's metadata, never its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Token {
    /// The token's public id: the part after `atr_`.
    pub id: String,
    pub owner: String,
    pub projects: Vec<String>,
    pub activities: Vec<Activity>,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds.
    pub expires_at: i64,
    /// The owner's label, such as `ci-nightly`.
    pub name: String,
    pub status: TokenStatus,
    /// Unix seconds.
    pub revoked_at: Option<i64>,
    /// Unix seconds.
    pub last_used_at: Option<i64>,
}

impl Token {
    /// A token's metadata from its grant and what the store keeps beside it.
    pub fn new(
        grant: &core_auth::MachineToken,
        name: &str,
        status: TokenStatus,
        revoked_at: Option<Timestamp>,
        last_used_at: Option<Timestamp>,
    ) -> Self {
        let Grant { id, owner, projects, activities, created_at, expires_at } = grant.into();
        Self {
            id,
            owner,
            projects,
            activities,
            created_at,
            expires_at,
            name: name.to_owned(),
            status,
            revoked_at: revoked_at.map(Timestamp::unix),
            last_used_at: last_used_at.map(Timestamp::unix),
        }
    }
}

/// `GET /api/tokens`: the caller's tokens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TokenList {
    pub tokens: Vec<Token>,
}

/// The answer to a token's creation: the bearer string, shown this once, and the metadata.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CreatedToken {
    /// `atr_<id>_<secret>`, to send as `Authorization: Bearer ...`.
    pub token: String,
    pub id: String,
    pub owner: String,
    pub projects: Vec<String>,
    pub activities: Vec<Activity>,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds.
    pub expires_at: i64,
    pub name: String,
    pub status: TokenStatus,
    /// Unix seconds.
    pub revoked_at: Option<i64>,
    /// Unix seconds.
    pub last_used_at: Option<i64>,
}

impl CreatedToken {
    /// The answer for a new token: its bearer string and its metadata.
    pub fn new(token: String, view: Token) -> Self {
        let Token { id, owner, projects, activities, created_at, expires_at, name, status, revoked_at, last_used_at } =
            view;
        Self { token, id, owner, projects, activities, created_at, expires_at, name, status, revoked_at, last_used_at }
    }
}

/// `POST /api/tokens`: a token for the signed-in person (a session; tokens cannot create
/// tokens).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    /// A label to recognise the token by, 1 to 100 characters.
    pub name: String,
    /// The projects the token may act on.
    pub projects: Vec<String>,
    /// What it allows, by name (the service refuses the unknown ones and those above a release
    /// manager's).
    #[schema(value_type = Vec<Activity>)]
    pub activities: Vec<String>,
    /// 1 to 366.
    pub expires_in_days: u32,
}

/// `PUT /api/me/consent`: gives (or renews) consent to keep a name and email, to vote as a
/// visitor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GiveConsent {
    pub name: String,
    pub email: String,
}
