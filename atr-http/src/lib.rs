//! The HTTP service: the JSON API under `/api`, sign-in and tokens, and downloads by coordinates,
//! on axum. Every request that changes something goes through `atr_core::services`, which asks
//! `atr_core::auth::authorize`.

mod api;
pub mod auth;
pub mod download;
pub mod error;
mod state;

use axum::Router;

pub use error::ApiError;
pub use state::{AppState, HttpConfig};

/// The whole service.
pub fn router(state: AppState) -> Router {
    Router::new().merge(api::routes()).merge(auth::routes()).merge(download::routes()).with_state(state)
}
