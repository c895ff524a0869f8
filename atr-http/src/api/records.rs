//! (Being built.)

use axum::Router;

use crate::AppState;

/// The routes of this part of the API.
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
}
