//! Password hashing: argon2id with the crate's default parameters, stored as a PHC string.

use std::sync::OnceLock;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};

use crate::ApiError;

/// Shortest password accepted for a local account, in characters.
pub const MIN_PASSWORD_LEN: usize = 12;
/// Longest password accepted, in characters (hashing cost grows with it).
pub const MAX_PASSWORD_LEN: usize = 1024;

/// The argon2id PHC string of `password`, with a fresh random salt.
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
    PasswordHash::new(phc).is_ok_and(|hash| Argon2::default().verify_password(password.as_bytes(), &hash).is_ok())
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

/// Verifies off the async threads. With no stored hash, verifies against the decoy and answers
/// false.
pub(crate) async fn verify(password: String, stored: Option<String>) -> Result<bool, ApiError> {
    tokio::task::spawn_blocking(move || {
        if let Some(phc) = stored {
            verify_password(&password, &phc)
        } else {
            let _ = verify_password(&password, decoy_hash());
            false
        }
    })
    .await
    .map_err(|e| ApiError::internal(&e))
}

/// Hashes off the async threads.
pub(crate) async fn hash(password: String) -> Result<String, ApiError> {
    tokio::task::spawn_blocking(move || hash_password(&password)).await.map_err(|e| ApiError::internal(&e))
}

/// Why a new password is refused, if it is.
pub(crate) fn weakness(password: &str) -> Option<String> {
    let length = password.chars().count();
    if length < MIN_PASSWORD_LEN {
        Some(format!("password: must be at least {MIN_PASSWORD_LEN} characters"))
    } else if length > MAX_PASSWORD_LEN {
        Some(format!("password: must be at most {MAX_PASSWORD_LEN} characters"))
    } else {
        None
    }
}
