//! Integration tests of the HTTP service.
mod api;
mod auth;
mod download;
mod keys;
mod records;
