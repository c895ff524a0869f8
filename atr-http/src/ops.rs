//! The operations endpoints: `/healthz` (the process answers), `/readyz` (it can serve: the
//! probes are `atr_store::Storage::readiness`) and `/metrics` (the Prometheus exposition, for the
//! addresses the operator allows).

use std::net::SocketAddr;

use atr_api::endpoints::{Healthz, Metrics, Readyz};
use axum::Json;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;
use crate::routes::Routes;
use crate::{AppState, metrics};

pub(crate) fn routes() -> Routes {
    Routes::new().serve(Healthz, healthz).serve(Readyz, readyz).serve(Metrics, scrape)
}

fn no_store(mut response: Response) -> Response {
    response.headers_mut().insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

async fn healthz() -> Response {
    no_store(Json(atr_api::Health { status: "ok".into() }).into_response())
}

async fn readyz(State(app): State<AppState>) -> Response {
    let readiness = app.storage.readiness().await;
    let ready = readiness.ready();
    let body = atr_api::Readiness {
        ready,
        checks: readiness
            .checks
            .into_iter()
            .map(|c| atr_api::ReadinessCheck { name: c.name.to_owned(), ok: c.ok, detail: c.detail })
            .collect(),
    };
    if !ready {
        let failed: Vec<&str> = body.checks.iter().filter(|c| !c.ok).map(|c| c.name.as_str()).collect();
        tracing::warn!(failed = failed.join(","), "not ready");
    }
    let status = if ready { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    no_store((status, Json(body)).into_response())
}

async fn scrape(State(app): State<AppState>, request: Request) -> Response {
    let peer = request.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
    if !peer.is_some_and(|ip| app.config.metrics_allow.allows(ip)) {
        return ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "the metrics are served only to the addresses the operator allows (atr serve --metrics-allow)",
        )
        .into_response();
    }
    let counts = match app.services.task_counts().await {
        Ok(counts) => Some(counts),
        Err(error) => {
            tracing::warn!(%error, "the queue's counts could not be read for the metrics");
            None
        }
    };
    let text = app.metrics.render(counts.as_deref());
    let mut response = no_store(text.into_response());
    response.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static(metrics::CONTENT_TYPE));
    response
}
