//! Keys of committees, projects and products, and user ids.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Why a name was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("{kind} is empty")]
    Empty { kind: &'static str },
    #[error("{kind} {value:?} is longer than {max} characters")]
    TooLong { kind: &'static str, value: String, max: usize },
    #[error("{kind} {value:?} contains {found:?}; only lowercase ASCII letters, digits and '-' are allowed")]
    BadCharacter { kind: &'static str, value: String, found: char },
    #[error("{kind} {value:?} must start and end with a letter or digit and not contain \"--\"")]
    BadShape { kind: &'static str, value: String },
    #[error("{kind} {value:?} is reserved")]
    Reserved { kind: &'static str, value: String },
}

/// Longest committee, project or product key accepted.
pub const MAX_KEY_LEN: usize = 64;

/// Checks the shared rule of committee, project and product keys:
/// lowercase ASCII letters, digits and `-`, starting and ending with a letter or digit,
/// no `--`, at most [`MAX_KEY_LEN`] characters.
fn check_key(kind: &'static str, value: &str) -> Result<(), NameError> {
    if value.is_empty() {
        return Err(NameError::Empty { kind });
    }
    if value.len() > MAX_KEY_LEN {
        return Err(NameError::TooLong { kind, value: value.to_owned(), max: MAX_KEY_LEN });
    }
    if let Some(found) = value.chars().find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-')) {
        return Err(NameError::BadCharacter { kind, value: value.to_owned(), found });
    }
    if value.starts_with('-') || value.ends_with('-') || value.contains("--") {
        return Err(NameError::BadShape { kind, value: value.to_owned() });
    }
    if value == "latest" {
        return Err(NameError::Reserved { kind, value: value.to_owned() });
    }
    Ok(())
}

macro_rules! key_type {
    ($(#[$meta:meta])* $name:ident, $kind:literal) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            #[doc = concat!("Parses a ", $kind, ".")]
            pub fn parse(value: &str) -> Result<Self, NameError> {
                check_key($kind, value)?;
                Ok(Self(value.to_owned()))
            }

            /// The key as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl TryFrom<String> for $name {
            type Error = NameError;
            fn try_from(value: String) -> Result<Self, NameError> {
                check_key($kind, &value)?;
                Ok(Self(value))
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.0
            }
        }

        impl std::str::FromStr for $name {
            type Err = NameError;
            fn from_str(value: &str) -> Result<Self, NameError> {
                Self::parse(value)
            }
        }
    };
}

key_type!(
    /// The key of a committee (a PMC or a podling's PPMC), such as `httpd` or `incubator`.
    CommitteeKey,
    "committee key"
);
key_type!(
    /// The key of a project, such as `httpd`. It is the second segment of every coordinate.
    ProjectKey,
    "project key"
);
key_type!(
    /// The key of a sub-product of a project, such as `server` in `/current/tomcat/server/11.0.0/`.
    ProductKey,
    "product key"
);

/// Why a user id was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UserIdError {
    #[error("user id {0:?} must be 1 to 64 characters")]
    Length(String),
    #[error("user id {0:?} must start with a lowercase letter and use only lowercase letters, digits, '-' and '_'")]
    Shape(String),
}

/// The id of a person on the platform, such as the ASF id `jdoe`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct UserId(String);

impl UserId {
    /// Parses a user id: a lowercase letter, then lowercase letters, digits, `-` or `_`; 1 to 64 characters.
    pub fn parse(value: &str) -> Result<Self, UserIdError> {
        if value.is_empty() || value.len() > 64 {
            return Err(UserIdError::Length(value.to_owned()));
        }
        let mut chars = value.chars();
        let first_ok = chars.next().is_some_and(|c| c.is_ascii_lowercase());
        if !first_ok || !chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_') {
            return Err(UserIdError::Shape(value.to_owned()));
        }
        Ok(Self(value.to_owned()))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for UserId {
    type Error = UserIdError;
    fn try_from(value: String) -> Result<Self, UserIdError> {
        Self::parse(&value)
    }
}

impl From<UserId> for String {
    fn from(value: UserId) -> String {
        value.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_real_project_keys() {
        for key in ["httpd", "commons-lang", "tooling-trusted-releases", "log4j2", "0ad"] {
            assert_eq!(ProjectKey::parse(key).unwrap().as_str(), key);
        }
    }

    #[test]
    fn refuses_bad_keys_with_a_reason() {
        assert_eq!(ProjectKey::parse(""), Err(NameError::Empty { kind: "project key" }));
        assert!(matches!(ProjectKey::parse("Httpd"), Err(NameError::BadCharacter { found: 'H', .. })));
        assert!(matches!(ProjectKey::parse("a_b"), Err(NameError::BadCharacter { found: '_', .. })));
        assert!(matches!(ProjectKey::parse("-ab"), Err(NameError::BadShape { .. })));
        assert!(matches!(ProjectKey::parse("ab-"), Err(NameError::BadShape { .. })));
        assert!(matches!(ProjectKey::parse("a--b"), Err(NameError::BadShape { .. })));
        assert!(matches!(ProductKey::parse("latest"), Err(NameError::Reserved { .. })));
        assert!(matches!(ProjectKey::parse(&"a".repeat(65)), Err(NameError::TooLong { .. })));
        assert!(matches!(ProjectKey::parse(".."), Err(NameError::BadCharacter { found: '.', .. })));
    }

    #[test]
    fn serde_refuses_invalid_keys() {
        let key: ProjectKey = serde_json_like("httpd").unwrap();
        assert_eq!(key.as_str(), "httpd");
        assert!(serde_json_like::<ProjectKey>("../etc").is_err());
    }

    fn serde_json_like<T: TryFrom<String>>(value: &str) -> Result<T, T::Error> {
        T::try_from(value.to_owned())
    }

    #[test]
    fn user_ids() {
        assert!(UserId::parse("jdoe").is_ok());
        assert!(UserId::parse("j_doe-2").is_ok());
        assert!(UserId::parse("2doe").is_err());
        assert!(UserId::parse("").is_err());
        assert!(UserId::parse("J").is_err());
    }
}
