//! Integration tests of the HTTP service.
#![expect(clippy::disallowed_methods, reason = "the tests read their fixtures (the KEYS of a real release) from disk")]
mod api;
mod auth;
mod download;
mod keys;
mod limits;
mod ops;
mod records;
mod snapshots;
mod web;
