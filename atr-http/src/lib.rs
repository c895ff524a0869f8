#![doc = include_str!("../README.md")]

mod api;
pub mod auth;
pub mod download;
pub mod error;
mod log;
mod metrics;
mod ops;
mod routes;
mod serve;
mod state;
mod web;

use axum::Router;

pub use error::ApiError;
pub use metrics::MetricsAllow;
pub use serve::{ServeConfig, serve};
pub use state::{AppState, HttpConfig};

/// The whole service.
pub fn router(state: AppState) -> Router {
    let api = api_routes().into_router().layer(axum::middleware::map_response(error::json_errors));
    api.merge(download::routes())
        .merge(web::routes(&state))
        .fallback(web::fallback)
        .layer(axum::middleware::from_fn_with_state(state.clone(), log::requests))
        .with_state(state)
}

/// The operations endpoints alone (`/healthz`, `/readyz`, `/metrics`), for a process that
/// serves no API, such as `atr worker --metrics-listen`: what its task runner does shows in the
/// registry of `state` (see [`AppState::register_metrics`]).
pub fn operations_router(state: AppState) -> Router {
    ops::routes()
        .into_router()
        .layer(axum::middleware::map_response(error::json_errors))
        .layer(axum::middleware::from_fn_with_state(state.clone(), log::requests))
        .with_state(state)
}

/// The routes of the JSON API (downloads apart) and the operations endpoints (`/healthz`,
/// `/readyz`, `/metrics`), registered from the catalogue of `atr-api`.
fn api_routes() -> routes::Routes {
    api::routes().merge(auth::routes()).merge(ops::routes())
}

/// The operations of the catalogue the router serves: those under `/api` and the operations
/// endpoints (downloads by coordinates are routed by stage, see [`download::routes`]).
pub fn served_operations() -> Vec<atr_api::Endpoint> {
    api_routes().served().to_vec()
}
