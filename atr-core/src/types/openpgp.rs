//! OpenPGP key identifiers: fingerprints and 8-byte key ids.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::hex;

/// Why a fingerprint or key id was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyIdError {
    #[error("fingerprint {0:?} must be 40 (v4) or 64 (v6) hex digits")]
    Fingerprint(String),
    #[error("key id {0:?} must be 16 hex digits")]
    KeyId(String),
}

/// Removes spaces and an optional `0x`, as fingerprints are often written in groups.
fn compact(text: &str) -> String {
    let t = text.trim();
    let t = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")).unwrap_or(t);
    t.chars().filter(|c| !c.is_whitespace()).collect()
}

/// The fingerprint of an OpenPGP key: 20 bytes for a v4 key, 32 bytes for a v6 key.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Fingerprint {
    /// A v4 fingerprint (SHA-1 of the key).
    V4([u8; 20]),
    /// A v6 fingerprint (SHA-256 of the key).
    V6([u8; 32]),
}

impl Fingerprint {
    /// Parses hex, either case, with optional spaces (`"A93D 62EC ..."`) and `0x` prefix.
    pub fn parse(text: &str) -> Result<Self, KeyIdError> {
        let c = compact(text);
        if let Some(b) = hex::decode::<20>(&c) {
            return Ok(Fingerprint::V4(b));
        }
        if let Some(b) = hex::decode::<32>(&c) {
            return Ok(Fingerprint::V6(b));
        }
        Err(KeyIdError::Fingerprint(text.to_owned()))
    }

    /// The fingerprint's bytes.
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Fingerprint::V4(b) => b,
            Fingerprint::V6(b) => b,
        }
    }

    /// The key id: the last 8 bytes of a v4 fingerprint, the first 8 of a v6 one (RFC 9580).
    pub fn key_id(&self) -> KeyId {
        let mut id = [0u8; 8];
        match self {
            Fingerprint::V4(b) => id.copy_from_slice(&b[12..]),
            Fingerprint::V6(b) => id.copy_from_slice(&b[..8]),
        }
        KeyId(id)
    }

    /// Uppercase hex without spaces, the canonical form.
    pub fn to_hex(&self) -> String {
        hex::encode(self.as_bytes(), true)
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Fingerprint({})", self.to_hex())
    }
}

impl TryFrom<String> for Fingerprint {
    type Error = KeyIdError;
    fn try_from(value: String) -> Result<Self, KeyIdError> {
        Self::parse(&value)
    }
}

impl From<Fingerprint> for String {
    fn from(value: Fingerprint) -> String {
        value.to_hex()
    }
}

/// An 8-byte OpenPGP key id, as a signature may name its issuer.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct KeyId([u8; 8]);

impl KeyId {
    /// Parses 16 hex digits, either case, optional `0x` and spaces.
    pub fn parse(text: &str) -> Result<Self, KeyIdError> {
        hex::decode::<8>(&compact(text)).map(KeyId).ok_or_else(|| KeyIdError::KeyId(text.to_owned()))
    }

    /// Builds a key id from its bytes.
    pub fn from_bytes(bytes: [u8; 8]) -> Self {
        KeyId(bytes)
    }

    /// The id's bytes.
    pub fn as_bytes(&self) -> &[u8; 8] {
        &self.0
    }

    /// Uppercase hex, the canonical form.
    pub fn to_hex(&self) -> String {
        hex::encode(&self.0, true)
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyId({})", self.to_hex())
    }
}

impl TryFrom<String> for KeyId {
    type Error = KeyIdError;
    fn try_from(value: String) -> Result<Self, KeyIdError> {
        Self::parse(&value)
    }
}

impl From<KeyId> for String {
    fn from(value: KeyId) -> String {
        value.to_hex()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_grouped_fingerprints() {
        let f = Fingerprint::parse("A93D 62EC C3C8 EA12 DB22  0EC9 34EA 76E6 7914 85A8").unwrap();
        assert_eq!(f.to_hex(), "A93D62ECC3C8EA12DB220EC934EA76E6791485A8");
        assert_eq!(f.key_id().to_hex(), "34EA76E6791485A8");
        assert_eq!(Fingerprint::parse("0xa93d62ecc3c8ea12db220ec934ea76e6791485a8").unwrap(), f);
        let v6 = Fingerprint::parse(&"ab".repeat(32)).unwrap();
        assert_eq!(v6.key_id().to_hex(), "ABABABABABABABAB");
        assert!(Fingerprint::parse("A93D").is_err());
        assert!(Fingerprint::parse(&"zz".repeat(20)).is_err());
    }

    #[test]
    fn key_ids() {
        assert_eq!(KeyId::parse("0x34ea76e6791485a8").unwrap().to_hex(), "34EA76E6791485A8");
        assert!(KeyId::parse("791485A8").is_err());
    }
}
