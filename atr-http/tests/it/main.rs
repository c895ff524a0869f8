//! Integration tests of the HTTP service.
mod auth;
mod download;
