//! One log line per request: method, route (the template, never the raw path with its
//! parameters), status, duration and a request id, which the answer carries in `x-request-id`
//! so that a person reporting a problem can name the line (error bodies carry it too, as
//! `error.request_id`). The same middleware counts each
//! answer and its latency in the metrics (`atr_http_requests_total`,
//! `atr_http_request_duration_seconds`), by the same method, route and status.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;

static NEXT: AtomicU64 = AtomicU64::new(1);

tokio::task_local! {
    /// The id of the request being answered, for the error bodies ([`current_request_id`]).
    static REQUEST_ID: String;
}

/// The id of the request this task answers, if it answers one.
pub(crate) fn current_request_id() -> Option<String> {
    REQUEST_ID.try_with(Clone::clone).ok()
}

/// A request id: the caller's own `x-request-id` when it is short and plain (a proxy in front
/// sets one), else this process's next number.
fn request_id(request: &Request) -> HeaderValue {
    let given = request.headers().get("x-request-id").filter(|v| {
        let bytes = v.as_bytes();
        (1..=64).contains(&bytes.len())
            && bytes.iter().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    });
    given.cloned().unwrap_or_else(|| {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        HeaderValue::from_str(&format!("{:x}-{n:x}", std::process::id())).unwrap_or(HeaderValue::from_static("0"))
    })
}

pub(crate) async fn requests(State(app): State<crate::AppState>, request: Request, next: Next) -> Response {
    let id = request_id(&request);
    let method = request.method().clone();
    let route =
        request.extensions().get::<MatchedPath>().map_or_else(|| "(no route)".to_owned(), |p| p.as_str().to_owned());
    let started = Instant::now();
    let scoped = id.to_str().unwrap_or_default().to_owned();
    let mut response = REQUEST_ID.scope(scoped, next.run(request)).await;
    let elapsed = started.elapsed();
    let micros = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
    let status = response.status().as_u16();
    app.metrics.request(method.as_str(), &route, status, elapsed);
    let request_id = id.to_str().unwrap_or_default().to_owned();
    if status >= 500 {
        tracing::error!(%method, route, status, micros, request_id, "request");
    } else {
        tracing::info!(%method, route, status, micros, request_id, "request");
    }
    response.headers_mut().insert("x-request-id", id);
    response
}
