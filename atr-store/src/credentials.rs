//! Credentials at rest: argon2id password hashes (PHC strings), and random secrets kept only as
//! their SHA-256. Implements [`atr_core::ports::Credentials`].

use std::sync::OnceLock;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash as Phc, PasswordHasher, PasswordVerifier, SaltString};
use async_trait::async_trait;
// Random bytes of a token id (public) and of a secret: the core's bearer format.
use atr_core::auth::bearer::{SECRET_BYTES, TOKEN_ID_BYTES as ID_BYTES};
use atr_core::auth::{PasswordHash, Secret};
use atr_core::ports::{Credentials, StoreError, StoreResult};
use atr_core::types::Sha256Digest;
use sha2::{Digest, Sha256};

/// The argon2id PHC string of `password`, with a fresh random salt and the crate's default
/// parameters.
///
/// # Panics
///
/// If the operating system's random source fails.
pub fn hash_password(password: &str) -> String {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).expect("the operating system's random source works");
    let salt = SaltString::encode_b64(&salt).expect("16 bytes make a valid salt");
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2 with its default parameters hashes any password")
        .to_string()
}

/// Whether `password` matches the PHC string (argon2 compares in constant time).
fn verify_password(password: &str, phc: &str) -> bool {
    Phc::new(phc).is_ok_and(|hash| Argon2::default().verify_password(password.as_bytes(), &hash).is_ok())
}

/// A hash no password is known to match, verified against when the user has no account, so a
/// refusal takes as long whether the user exists or not.
fn decoy_hash() -> &'static str {
    static DECOY: OnceLock<String> = OnceLock::new();
    DECOY.get_or_init(|| {
        let mut secret = [0u8; 32];
        getrandom::fill(&mut secret).expect("the operating system's random source works");
        hash_password(&String::from_utf8_lossy(&secret))
    })
}

/// `N` random bytes as lowercase hex.
fn random_hex<const N: usize>() -> StoreResult<String> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|e| StoreError::Backend(format!("the random source failed: {e}")))?;
    let mut hex = String::with_capacity(N * 2);
    for byte in bytes {
        hex.push(char::from(b"0123456789abcdef"[usize::from(byte >> 4)]));
        hex.push(char::from(b"0123456789abcdef"[usize::from(byte & 0xf)]));
    }
    Ok(hex)
}

/// Argon2id for passwords, the operating system's random source for secrets, SHA-256 for what
/// is stored of them.
#[derive(Debug, Clone, Copy, Default)]
pub struct Argon2Credentials;

#[async_trait]
impl Credentials for Argon2Credentials {
    fn new_secret(&self) -> StoreResult<Secret> {
        random_hex::<SECRET_BYTES>().map(Secret::new)
    }

    fn new_token_id(&self) -> StoreResult<String> {
        random_hex::<ID_BYTES>()
    }

    fn digest(&self, secret: &Secret) -> Sha256Digest {
        Sha256Digest::from_bytes(Sha256::digest(secret.expose().as_bytes()).into())
    }

    async fn hash_password(&self, password: &Secret) -> StoreResult<PasswordHash> {
        let password = password.clone();
        tokio::task::spawn_blocking(move || PasswordHash::new(hash_password(password.expose())))
            .await
            .map_err(|e| StoreError::Backend(format!("hashing a password did not finish: {e}")))
    }

    async fn verify_password(&self, password: &Secret, stored: Option<PasswordHash>) -> StoreResult<bool> {
        let password = password.clone();
        tokio::task::spawn_blocking(move || {
            if let Some(phc) = stored {
                verify_password(password.expose(), phc.as_str())
            } else {
                let _ = verify_password(password.expose(), decoy_hash());
                false
            }
        })
        .await
        .map_err(|e| StoreError::Backend(format!("verifying a password did not finish: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_password_verifies_against_its_hash_only() {
        let credentials = Argon2Credentials;
        let hash = credentials.hash_password(&Secret::new("correct horse battery staple")).await.unwrap();
        assert!(hash.as_str().starts_with("$argon2id$"), "a PHC string");
        let right = Secret::new("correct horse battery staple");
        assert!(credentials.verify_password(&right, Some(hash.clone())).await.unwrap());
        assert!(!credentials.verify_password(&Secret::new("wrong"), Some(hash)).await.unwrap());
        assert!(!credentials.verify_password(&right, None).await.unwrap(), "no account never matches");
    }

    #[test]
    fn secrets_are_random_hex_and_stored_as_their_digest() {
        let credentials = Argon2Credentials;
        let (a, b) = (credentials.new_secret().unwrap(), credentials.new_secret().unwrap());
        assert_ne!(a, b);
        assert!(a.expose().len() == 64 && a.expose().bytes().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(credentials.new_token_id().unwrap().len(), 24);
        assert_eq!(
            credentials.digest(&Secret::new("abc")).to_hex(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
