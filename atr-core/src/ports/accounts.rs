//! The ports of accounts and administration: local accounts and sessions, personal access
//! tokens, the credential work the core cannot do itself, and the audit log's verification.

use async_trait::async_trait;

use super::StoreResult;
use crate::auth::{MachineToken, PasswordHash, Secret, StoredToken};
use crate::model::Person;
use crate::types::{Sha256Digest, Timestamp, UserId};

/// Local accounts, people's global roles, browser sessions and personal access tokens.
///
/// Nothing stored here is a secret: a password is kept as its PHC hash string, session and token
/// secrets as their SHA-256.
///
/// These writes are the repository's own, outside [`super::UnitOfWork`]: accounts, sessions and
/// tokens record no event and queue no task, so a unit of work would add nothing, and each write
/// is one transaction of its own (an account with its person's roles together). Sessions in
/// particular are written on every sign-in and read on every request; they are credentials, not
/// state of the domain, and are not part of the audit trail.
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait AccountRepository: Send + Sync {
    /// The hash of the account's password, or `None` without a local account.
    async fn password_hash(&self, user: &UserId) -> StoreResult<Option<PasswordHash>>;
    /// Creates the local account of `person.id` with the password hash and sets the person's
    /// global roles (creating the person if missing), in one transaction. MUST return `Conflict`
    /// if the account exists, and then change nothing, the person's roles included.
    async fn create_account(&self, person: &Person, password: &PasswordHash) -> StoreResult<()>;
    /// Creates the person, or sets the global roles (`asf_member`, `admin`) of a known one; a
    /// consent record is left alone.
    async fn put_person(&self, person: &Person) -> StoreResult<()>;
    /// Records a session of `user` under the digest of its secret, live from `created_at` until
    /// (not at) `expires_at`. MAY drop the user's sessions expired by `created_at`. `NotFound` if
    /// the user is not a known person.
    async fn create_session(
        &self,
        secret: &Sha256Digest,
        user: &UserId,
        created_at: Timestamp,
        expires_at: Timestamp,
    ) -> StoreResult<()>;
    /// The user of the session with this secret digest, if it is live at `now`.
    async fn session_user(&self, secret: &Sha256Digest, now: Timestamp) -> StoreResult<Option<UserId>>;
    /// Ends the session with this secret digest; false if there was none.
    async fn delete_session(&self, secret: &Sha256Digest) -> StoreResult<bool>;
    /// Records a new token under the digest of its secret. MUST return `Conflict` if the id is
    /// taken and `NotFound` if the owner is not a known person.
    async fn create_token(&self, grant: &MachineToken, name: &str, secret: &Sha256Digest) -> StoreResult<()>;
    /// The token with this id, revoked and expired ones included.
    async fn token(&self, id: &str) -> StoreResult<Option<StoredToken>>;
    /// The owner's tokens, newest first, revoked and expired ones included.
    async fn tokens(&self, owner: &UserId) -> StoreResult<Vec<StoredToken>>;
    /// Revokes the owner's token at `at`; revoking it again keeps the first time. MUST return
    /// `NotFound` if the owner has no token with this id (someone else's token is not found).
    async fn revoke_token(&self, id: &str, owner: &UserId, at: Timestamp) -> StoreResult<()>;
    /// Notes that the token was used at `now`. MAY skip the write when the last note is recent.
    async fn touch_token(&self, id: &str, now: Timestamp) -> StoreResult<()>;
}

/// The credential work that needs randomness or slow hashing, which the core does not do.
///
/// Contract: secrets come from the operating system's random source; nothing passed in or out is
/// logged or stored by the implementation.
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait Credentials: Send + Sync {
    /// A new random secret: MUST be 32 random bytes, as 64 lowercase hex digits.
    fn new_secret(&self) -> StoreResult<Secret>;
    /// A new random token id: MUST be 12 random bytes, as 24 lowercase hex digits.
    fn new_token_id(&self) -> StoreResult<String>;
    /// The SHA-256 of a secret: what is stored in its place.
    fn digest(&self, secret: &Secret) -> Sha256Digest;
    /// A slow, salted hash of a password (argon2id with a fresh salt, as a PHC string), computed
    /// off the threads that serve requests.
    async fn hash_password(&self, password: &Secret) -> StoreResult<PasswordHash>;
    /// Whether the password matches the stored hash, compared in constant time. Without a stored
    /// hash it MUST still do the work of one verification (against a decoy) and answer false, so
    /// that a refusal takes as long whether the account exists or not.
    async fn verify_password(&self, password: &Secret, stored: Option<PasswordHash>) -> StoreResult<bool>;
}

/// What verifying the audit log's hash chain found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuditVerdict {
    /// Every event verifies: how many, and the hash of the last ("" for an empty log).
    Intact { events: u64, head: String },
    /// The chain is broken, or could not be read: why, and the first event that does not
    /// verify (`None` when the log could not be read).
    Broken { error: String, broken_at: Option<u64> },
}

/// The audit log's integrity.
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait AuditLog: Send + Sync {
    /// Recomputes the whole event chain and compares it with the stored hashes and head. A log
    /// that cannot be read is `Broken` with `broken_at: None` and a message without storage
    /// detail (the cause goes to the implementation's log).
    async fn verify(&self) -> StoreResult<AuditVerdict>;
}
