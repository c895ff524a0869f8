//! Downloads by coordinates. (Being built.)

use axum::Router;

use crate::AppState;

/// The download routes.
pub fn routes() -> Router<AppState> {
    Router::new()
}
