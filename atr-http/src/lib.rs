//! The HTTP service: JSON API, downloads by coordinates and the web UI, on axum.
//!
//! Nothing is implemented yet.
