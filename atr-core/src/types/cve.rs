//! CVE identifiers.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Why a CVE id was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("CVE id {0:?} must look like CVE-YYYY-NNNN (year from 1999, at least four digits)")]
pub struct CveIdError(pub String);

/// A CVE id such as `CVE-2025-12345`, stored in upper case.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CveId(String);

impl CveId {
    /// Parses `CVE-YYYY-N...` case-insensitively: a year from 1999 to 9999 and 4 to 19 digits.
    pub fn parse(text: &str) -> Result<Self, CveIdError> {
        let err = || CveIdError(text.to_owned());
        let upper = text.trim().to_ascii_uppercase();
        let rest = upper.strip_prefix("CVE-").ok_or_else(err)?;
        let (year, number) = rest.split_once('-').ok_or_else(err)?;
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if year.len() != 4 || !digits(year) || year < "1999" || !digits(number) || !(4..=19).contains(&number.len()) {
            return Err(err());
        }
        Ok(Self(upper))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CveId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for CveId {
    type Error = CveIdError;
    fn try_from(value: String) -> Result<Self, CveIdError> {
        Self::parse(&value)
    }
}

impl From<CveId> for String {
    fn from(value: CveId) -> String {
        value.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses() {
        assert_eq!(CveId::parse("cve-2025-12345").unwrap().as_str(), "CVE-2025-12345");
        assert!(CveId::parse("CVE-2021-44228").is_ok());
        for bad in ["CVE-21-1234", "CVE-2021-123", "CVE-1998-1234", "CVE-2021-12a4", "2021-1234", "CVE-2021-"] {
            assert!(CveId::parse(bad).is_err(), "{bad}");
        }
    }
}
