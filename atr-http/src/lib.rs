#![doc = include_str!("../README.md")]

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
