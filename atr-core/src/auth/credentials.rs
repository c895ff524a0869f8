//! Credentials as the core handles them: secrets that are never shown in logs, password hashes,
//! stored personal access tokens, and the rules for new passwords.
//!
//! The core never creates randomness or runs a password hash (that is IO and slow work): the
//! [`crate::ports::Credentials`] port does. It only decides, and compares digests in constant
//! time.

use std::fmt;

use super::MachineToken;
use crate::types::Timestamp;

/// Shortest password accepted for a local account, in characters.
pub const MIN_PASSWORD_LEN: usize = 12;
/// Longest password accepted, in characters (hashing cost grows with it).
pub const MAX_PASSWORD_LEN: usize = 1024;
/// Longest personal access token name, in characters.
pub const MAX_TOKEN_NAME_LEN: usize = 100;

/// A secret in clear: a password, or a session or token secret. `Debug` never shows it, so a
/// secret cannot reach a log by formatting the value that holds it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(text: impl Into<String>) -> Self {
        Self(text.into())
    }

    /// The secret in clear, for hashing or for showing it once to its holder.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(..)")
    }
}

/// A password hash as stored: a PHC string (argon2id). Not a secret, but not shown either.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash(String);

impl PasswordHash {
    pub fn new(phc: impl Into<String>) -> Self {
        Self(phc.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PasswordHash(..)")
    }
}

/// Why a new password is refused, naming the field, if it is.
pub fn password_weakness(password: &Secret) -> Option<String> {
    let length = password.expose().chars().count();
    if length < MIN_PASSWORD_LEN {
        Some(format!("must be at least {MIN_PASSWORD_LEN} characters"))
    } else if length > MAX_PASSWORD_LEN {
        Some(format!("must be at most {MAX_PASSWORD_LEN} characters"))
    } else {
        None
    }
}

/// A personal access token as stored: its grant, its name, the hash of its secret, and when it
/// was revoked and last used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredToken {
    /// Who the token acts for, on which projects and activities, until when; its id is public.
    pub grant: MachineToken,
    /// The owner's label for the token, such as `ci-nightly`.
    pub name: String,
    /// SHA-256 of the token's secret, lowercase hex.
    pub secret_hash: String,
    pub revoked_at: Option<Timestamp>,
    pub last_used_at: Option<Timestamp>,
}

/// Whether a stored token still works.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenStatus {
    Active,
    Revoked,
    Expired,
}

impl TokenStatus {
    /// `active`, `revoked` or `expired`.
    pub fn as_str(self) -> &'static str {
        match self {
            TokenStatus::Active => "active",
            TokenStatus::Revoked => "revoked",
            TokenStatus::Expired => "expired",
        }
    }
}

impl StoredToken {
    /// Revoked wins over expired: a revoked token stays revoked.
    pub fn status(&self, now: Timestamp) -> TokenStatus {
        if self.revoked_at.is_some() {
            TokenStatus::Revoked
        } else if self.grant.is_live(now) {
            TokenStatus::Active
        } else {
            TokenStatus::Expired
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_and_hashes_never_show_in_debug_output() {
        let secret = Secret::new("correct horse battery staple");
        assert_eq!(format!("{secret:?}"), "Secret(..)");
        assert_eq!(format!("{:?}", PasswordHash::new("$argon2id$v=19$...")), "PasswordHash(..)");
    }

    #[test]
    fn a_password_has_bounds() {
        assert!(password_weakness(&Secret::new("short")).unwrap().contains("at least 12"));
        assert!(password_weakness(&Secret::new("x".repeat(MAX_PASSWORD_LEN + 1))).unwrap().contains("at most"));
        assert_eq!(password_weakness(&Secret::new("twelve chars")), None);
    }
}
