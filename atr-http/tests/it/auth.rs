//! Sign-in, sessions, personal access tokens and the admin endpoints, on every database engine.

mod admin;
mod sessions;
mod tokens;

use atr_core::types::{Sha256Digest, UserId};
use atr_testkit::TestApp as App;
pub(crate) use atr_testkit::{Auth, Body, PASSWORD, session_secret};
use sha2::{Digest, Sha256};

/// One app per configured engine.
async fn apps_with(config: impl Fn() -> atr_http::HttpConfig) -> Vec<App> {
    App::all_with(config).await
}

async fn apps() -> Vec<App> {
    App::all().await
}

fn uid(id: &str) -> UserId {
    UserId::parse(id).unwrap()
}

/// SHA-256 of a secret, lowercase hex: what the store should keep instead of the secret.
fn sha256_hex(secret: &str) -> String {
    Sha256Digest::from_bytes(Sha256::digest(secret.as_bytes()).into()).to_hex()
}
