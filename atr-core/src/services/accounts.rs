//! Local accounts, signing in, sessions and personal access tokens.
//!
//! Secrets reach the core as [`Secret`]s (whose `Debug` hides them) and leave it only once, to
//! their holder: a new session's secret and a new token's. What is stored is a password's slow
//! hash and a secret's SHA-256, made by the [`crate::ports::Credentials`] port; presented
//! secrets are compared with the stored digest in constant time.

use std::collections::BTreeSet;

use super::{ServiceError, ServiceResult, Services};
use crate::auth::{
    self, Activity, MAX_TOKEN_NAME_LEN, MachineToken, Principal, Secret, StoredToken, Target, TokenError,
    password_weakness,
};
use crate::model::{Committee, Person};
use crate::types::{ProjectKey, Sha256Digest, Timestamp, UserId};

/// The one answer to a refused sign-in, whether the user exists or not.
pub const SIGN_IN_REFUSED: &str = "sign-in refused: unknown user or wrong password";

/// An account to create.
#[derive(Debug, Clone)]
pub struct NewAccount {
    pub user: UserId,
    pub password: Secret,
    pub asf_member: bool,
    pub admin: bool,
}

/// A session that began: the person, the session's secret (shown once, to the browser) and
/// when it ends.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub person: Person,
    pub secret: Secret,
    pub expires_at: Timestamp,
}

/// A personal access token to create.
#[derive(Debug, Clone)]
pub struct NewToken {
    /// The owner's label, such as `ci-nightly`.
    pub name: String,
    pub projects: BTreeSet<ProjectKey>,
    pub activities: BTreeSet<Activity>,
    /// 1 to 366.
    pub expires_in_days: u32,
}

/// The person behind a principal: the signed-in person, or a token's owner.
fn owner_of(principal: &Principal) -> ServiceResult<&Person> {
    match principal {
        Principal::Anonymous => Err(ServiceError::Unauthenticated("not signed in".into())),
        Principal::Person(person) | Principal::Token { owner: person, .. } => Ok(person),
    }
}

/// Whether a presented secret's digest is the stored one (lowercase hex), in constant time.
fn digest_matches(presented: &Sha256Digest, stored: &str) -> bool {
    Sha256Digest::parse(stored).is_ok_and(|stored| stored.ct_eq(presented))
}

impl Services {
    /// Creates a local account and its person with the given global roles. Needs
    /// `manage accounts`. `Conflict` if the account exists.
    pub async fn create_account(
        &self,
        principal: &Principal,
        account: NewAccount,
        now: Timestamp,
    ) -> ServiceResult<Person> {
        auth::authorize(principal, Activity::ManageAccounts, &Target::Foundation, now)?;
        self.add_account(account).await
    }

    async fn add_account(&self, account: NewAccount) -> ServiceResult<Person> {
        if let Some(weakness) = password_weakness(&account.password) {
            return Err(ServiceError::field("password", weakness));
        }
        let hash = self.ports.credentials.hash_password(&account.password).await?;
        let person =
            Person { id: account.user.clone(), asf_member: account.asf_member, admin: account.admin, consent: None };
        self.ports.accounts.create_account(&person, &hash).await?;
        self.ports
            .persons
            .get(&account.user)
            .await?
            .ok_or_else(|| ServiceError::Store(format!("the person {} just written is missing", account.user)))
    }

    /// Makes sure `user` has a local account and is an admin, for the first start of a service:
    /// creates the account with `password` if there is none (true); otherwise leaves the
    /// password alone and only grants admin if missing (false).
    ///
    /// There is no principal: this is for the operator who starts the service and holds its
    /// database, and is never reachable through the API.
    pub async fn ensure_admin(&self, user: &UserId, password: &Secret) -> ServiceResult<bool> {
        let existing = self.ports.persons.get(user).await?;
        let asf_member = existing.as_ref().is_some_and(|p| p.asf_member);
        if self.ports.accounts.password_hash(user).await?.is_some() {
            if !existing.is_some_and(|p| p.admin) {
                let admin = Person { id: user.clone(), asf_member, admin: true, consent: None };
                self.ports.accounts.put_person(&admin).await?;
            }
            return Ok(false);
        }
        let account = NewAccount { user: user.clone(), password: password.clone(), asf_member, admin: true };
        self.add_account(account).await?;
        Ok(true)
    }

    /// Signs in with a local account, from an unknown address (see [`Services::sign_in_from`]).
    pub async fn sign_in(
        &self,
        user: &str,
        password: &Secret,
        ttl_secs: u64,
        now: Timestamp,
    ) -> ServiceResult<SignedIn> {
        self.sign_in_from(user, password, None, ttl_secs, now).await
    }

    /// Signs in with a local account: a new session of `ttl_secs`. Unknown users and wrong
    /// passwords get the same refusal. After too many refusals for the account name or from the
    /// `address` (as the frontend knows the client) within the throttle's window, every attempt
    /// is refused with [`ServiceError::Throttled`] for a while, the right password included.
    pub async fn sign_in_from(
        &self,
        user: &str,
        password: &Secret,
        address: Option<&str>,
        ttl_secs: u64,
        now: Timestamp,
    ) -> ServiceResult<SignedIn> {
        use crate::throttle::ThrottleKey;
        let mut keys = vec![ThrottleKey::Account(user.to_owned())];
        keys.extend(address.map(|a| ThrottleKey::Address(a.to_owned())));
        self.throttle(|t| t.check(&keys, now))
            .map_err(|wait| ServiceError::Throttled { retry_after_secs: wait.0.max(1) })?;
        let signed = self.check_password(user, password, ttl_secs, now).await;
        match &signed {
            Ok(_) => self.throttle(|t| t.succeeded(&keys)),
            Err(ServiceError::Unauthenticated(_)) => self.throttle(|t| t.refused(&keys, now)),
            Err(_) => {}
        }
        signed
    }

    /// Runs `f` on the sign-in throttle (a poisoned lock still holds valid counts).
    fn throttle<T>(&self, f: impl FnOnce(&mut crate::throttle::SignInThrottle) -> T) -> T {
        let mut throttle = self.sign_ins.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&mut throttle)
    }

    async fn check_password(
        &self,
        user: &str,
        password: &Secret,
        ttl_secs: u64,
        now: Timestamp,
    ) -> ServiceResult<SignedIn> {
        let refused = || ServiceError::Unauthenticated(SIGN_IN_REFUSED.into());
        let user = UserId::parse(user).ok();
        let stored = match &user {
            Some(user) => self.ports.accounts.password_hash(user).await?,
            None => None,
        };
        let known = stored.is_some();
        let matches = self.ports.credentials.verify_password(password, stored).await?;
        let (Some(user), true, true) = (user, known, matches) else {
            return Err(refused());
        };
        let person = self.ports.persons.get(&user).await?.ok_or_else(refused)?;
        let secret = self.ports.credentials.new_secret()?;
        let expires_at = now.plus_seconds(i64::try_from(ttl_secs).unwrap_or(i64::MAX));
        let digest = self.ports.credentials.digest(&secret);
        self.ports.accounts.create_session(&digest, &user, now, expires_at).await?;
        Ok(SignedIn { person, secret, expires_at })
    }

    /// Ends the session of this secret, if there is one.
    pub async fn sign_out(&self, session: &Secret) -> ServiceResult<()> {
        self.ports.accounts.delete_session(&self.ports.credentials.digest(session)).await?;
        Ok(())
    }

    /// The person of a live session, or [`Principal::Anonymous`] for a stale or unknown one (a
    /// browser with an old cookie still sees public pages).
    pub async fn session_principal(&self, session: &Secret, now: Timestamp) -> ServiceResult<Principal> {
        let digest = self.ports.credentials.digest(session);
        if let Some(user) = self.ports.accounts.session_user(&digest, now).await?
            && let Some(person) = self.ports.persons.get(&user).await?
        {
            return Ok(Principal::Person(person));
        }
        Ok(Principal::Anonymous)
    }

    /// The principal of a presented bearer string (`atr_<id>_<secret>`, see
    /// [`crate::auth::bearer`]), or why it is refused ([`ServiceError::Unauthenticated`]): a
    /// string of another shape, then as [`Services::token_principal`]. What every frontend that
    /// accepts personal access tokens calls.
    pub async fn bearer_principal(
        &self,
        bearer: &str,
        now: Timestamp,
    ) -> ServiceResult<(Principal, Option<ServiceError>)> {
        let Some((id, secret)) = auth::bearer::parse_bearer(bearer) else {
            return Err(ServiceError::Unauthenticated(format!(
                "the token is malformed: expected {}<id>_<secret>",
                auth::bearer::TOKEN_PREFIX
            )));
        };
        self.token_principal(id, &secret, now).await
    }

    /// The principal of a presented token `id` and `secret`, or why it is refused
    /// ([`ServiceError::Unauthenticated`]): unknown id or wrong secret (one answer for both),
    /// revoked, expired, or an owner no longer known. Notes the token's use; a failure to note it
    /// is handed back beside the principal, for the log.
    pub async fn token_principal(
        &self,
        id: &str,
        secret: &Secret,
        now: Timestamp,
    ) -> ServiceResult<(Principal, Option<ServiceError>)> {
        let presented = self.ports.credentials.digest(secret);
        let Some(stored) = self.ports.accounts.token(id).await?.filter(|t| digest_matches(&presented, &t.secret_hash))
        else {
            return Err(ServiceError::Unauthenticated(
                "the token is not recognised: unknown id or wrong secret".into(),
            ));
        };
        let principal = self.live_token(stored, now).await?;
        let noted = self.ports.accounts.touch_token(id, now).await.err().map(ServiceError::from);
        Ok((principal, noted))
    }

    /// The principal of a token that was presented with its secret earlier (to
    /// [`Services::bearer_principal`]) and that a frontend holds in process for the rest of a
    /// request: the token is looked up again by its id, so that one revoked or expired since is
    /// refused ([`ServiceError::Unauthenticated`]) at every call, and the owner is read as they
    /// are now. `owner` must be the token's owner (a frontend that mixed up its principals is
    /// refused the same way).
    ///
    /// No secret is checked here: this is for a frontend that runs in the platform's own
    /// process with its storage (the Python module), never for a credential from the network.
    pub async fn held_token_principal(&self, id: &str, owner: &UserId, now: Timestamp) -> ServiceResult<Principal> {
        let Some(stored) = self.ports.accounts.token(id).await?.filter(|t| t.grant.owner() == owner) else {
            return Err(ServiceError::Unauthenticated(format!("the token {id} of {owner} is not known")));
        };
        self.live_token(stored, now).await
    }

    /// A stored token's principal, refused if it was revoked, expired, or its owner is no longer
    /// known.
    async fn live_token(&self, stored: StoredToken, now: Timestamp) -> ServiceResult<Principal> {
        let id = stored.grant.id();
        if let Some(at) = stored.revoked_at {
            return Err(ServiceError::Unauthenticated(format!("the token {id} was revoked at {at}")));
        }
        if !stored.grant.is_live(now) {
            return Err(ServiceError::Unauthenticated(format!(
                "the token {id} expired at {}",
                stored.grant.expires_at()
            )));
        }
        let Some(owner) = self.ports.persons.get(stored.grant.owner()).await? else {
            return Err(ServiceError::Unauthenticated(format!("the owner of token {id} is no longer known")));
        };
        Ok(Principal::Token { owner, token: stored.grant })
    }

    /// The committees that own the projects a token is scoped to, each once, by key: where the
    /// token's owner can hold the per-project roles the token acts with. A project that no longer
    /// exists is left out.
    pub async fn token_committees(&self, token: &MachineToken) -> ServiceResult<Vec<Committee>> {
        let mut keys = BTreeSet::new();
        for project in token.projects() {
            if let Some(found) = self.ports.projects.get(project).await? {
                keys.insert(found.committee);
            }
        }
        let mut committees = Vec::with_capacity(keys.len());
        for key in keys {
            if let Some(committee) = self.ports.committees.get(&key).await? {
                committees.push(committee);
            }
        }
        Ok(committees)
    }

    /// Creates a personal access token for the signed-in person (`create token`: never with a
    /// token). Answers the stored token and its secret, which is shown this once.
    pub async fn create_token(
        &self,
        principal: &Principal,
        request: NewToken,
        now: Timestamp,
    ) -> ServiceResult<(StoredToken, Secret)> {
        auth::authorize(principal, Activity::CreateToken, &Target::Foundation, now)?;
        let owner = owner_of(principal)?;
        let name = request.name.trim();
        if name.is_empty() || name.chars().count() > MAX_TOKEN_NAME_LEN || name.chars().any(char::is_control) {
            return Err(ServiceError::field(
                "name",
                format!("must be 1 to {MAX_TOKEN_NAME_LEN} characters, without control characters"),
            ));
        }
        let expires_at = now.plus_seconds(i64::from(request.expires_in_days) * 86_400);
        let id = self.ports.credentials.new_token_id()?;
        let grant = MachineToken::new(id, owner.id.clone(), request.projects, request.activities, now, expires_at)
            .map_err(|e| match e {
                TokenError::Projects => ServiceError::field("projects", e),
                TokenError::NoActivity | TokenError::AboveReleaseManager(_) => ServiceError::field("activities", e),
                TokenError::Lifetime => ServiceError::field("expires_in_days", "must be 1 to 366 days"),
                TokenError::BadId => ServiceError::Store(format!("a generated token id is refused: {e}")),
            })?;
        let secret = self.ports.credentials.new_secret()?;
        let digest = self.ports.credentials.digest(&secret);
        self.ports.accounts.create_token(&grant, name, &digest).await?;
        let stored = StoredToken {
            grant,
            name: name.to_owned(),
            secret_hash: digest.to_hex(),
            revoked_at: None,
            last_used_at: None,
        };
        Ok((stored, secret))
    }

    /// The caller's tokens (the signed-in person's, or the presenting token owner's), newest
    /// first.
    pub async fn tokens(&self, principal: &Principal) -> ServiceResult<Vec<StoredToken>> {
        let owner = owner_of(principal)?;
        Ok(self.ports.accounts.tokens(&owner.id).await?)
    }

    /// Revokes one of the caller's tokens; a token may revoke itself. `NotFound` for a token
    /// that is not the caller's.
    pub async fn revoke_token(&self, principal: &Principal, id: &str, now: Timestamp) -> ServiceResult<()> {
        let owner = owner_of(principal)?;
        self.ports.accounts.revoke_token(id, &owner.id, now).await?;
        Ok(())
    }
}
