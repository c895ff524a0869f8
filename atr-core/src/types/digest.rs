//! Digests of release files.

use std::fmt;

use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;

use super::hex;

/// Why a digest was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{algorithm} digest must be {digits} hex digits, got {got} characters")]
pub struct DigestError {
    pub algorithm: &'static str,
    pub digits: usize,
    pub got: usize,
}

macro_rules! digest_type {
    ($(#[$meta:meta])* $name:ident, $len:literal, $alg:literal) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Eq, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name([u8; $len]);

        impl $name {
            /// The algorithm's name.
            pub const ALGORITHM: &'static str = $alg;

            /// Parses hex digits, either case, surrounding whitespace ignored.
            pub fn parse(text: &str) -> Result<Self, DigestError> {
                let t = text.trim();
                hex::decode::<$len>(t)
                    .map(Self)
                    .ok_or(DigestError { algorithm: $alg, digits: $len * 2, got: t.chars().count() })
            }

            /// Wraps raw digest bytes.
            pub fn from_bytes(bytes: [u8; $len]) -> Self {
                Self(bytes)
            }

            /// The raw bytes.
            pub fn as_bytes(&self) -> &[u8; $len] {
                &self.0
            }

            /// Lowercase hex, as checksum files write it.
            pub fn to_hex(&self) -> String {
                hex::encode(&self.0, false)
            }

            /// Compares in constant time.
            pub fn ct_eq(&self, other: &Self) -> bool {
                self.0.ct_eq(&other.0).into()
            }
        }

        /// Equality is constant-time.
        impl PartialEq for $name {
            fn eq(&self, other: &Self) -> bool {
                self.ct_eq(other)
            }
        }

        impl std::hash::Hash for $name {
            fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
                self.0.hash(state);
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.to_hex())
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", $alg, self.to_hex())
            }
        }

        impl TryFrom<String> for $name {
            type Error = DigestError;
            fn try_from(value: String) -> Result<Self, DigestError> {
                Self::parse(&value)
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.to_hex()
            }
        }
    };
}

digest_type!(
    /// A SHA-512 digest.
    Sha512Digest,
    64,
    "SHA-512"
);
digest_type!(
    /// A SHA-256 digest.
    Sha256Digest,
    32,
    "SHA-256"
);
digest_type!(
    /// A SHA3-256 digest.
    Sha3_256Digest,
    32,
    "SHA3-256"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_compare() {
        let hex = "ab".repeat(64);
        let a = Sha512Digest::parse(&hex.to_uppercase()).unwrap();
        assert_eq!(a.to_hex(), hex);
        assert_eq!(a, Sha512Digest::from_bytes([0xab; 64]));
        assert_ne!(a, Sha512Digest::from_bytes([0xac; 64]));
        let err = Sha512Digest::parse("abc").unwrap_err();
        assert_eq!(err.to_string(), "SHA-512 digest must be 128 hex digits, got 3 characters");
        assert!(Sha256Digest::parse(&"0".repeat(64)).is_ok());
        assert!(Sha256Digest::parse(&"0".repeat(128)).is_err());
    }
}
