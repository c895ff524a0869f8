#![doc = include_str!("../README.md")]

mod admin;
mod auth;
mod committees;
mod cves;
mod downloads;
pub mod endpoints;
mod error;
mod events;
mod ignores;
mod keys;
pub mod openapi;
mod ops;
mod projects;
mod releases;
mod search;
mod tasks;
mod votes;

pub use admin::*;
pub use auth::*;
pub use committees::*;
pub use cves::*;
pub use downloads::*;
pub use endpoints::{ENDPOINTS, Endpoint, Operation};
pub use error::*;
pub use events::*;
pub use ignores::*;
pub use keys::*;
pub use ops::*;
pub use projects::*;
pub use releases::*;
pub use search::*;
pub use tasks::*;
pub use votes::*;

/// The wire text of a core value: exactly what its serde form writes (every validated core type
/// serializes through `Into<String>`).
fn text<T: Clone + Into<String>>(value: &T) -> String {
    value.clone().into()
}

/// The wire texts of a set or list of core values, in its order.
fn texts<'a, T: Clone + Into<String> + 'a>(values: impl IntoIterator<Item = &'a T>) -> Vec<String> {
    values.into_iter().map(text).collect()
}

#[cfg(test)]
mod tests;
