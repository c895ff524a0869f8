//! `atr status`: whether the service can serve, as its readiness probe says.

use atr_api::endpoints as op;
use atr_api::{Operation as _, Readiness};
use reqwest::StatusCode;

use super::api::{Api, Failure, Outcome, read_json};
use super::output;

/// Reads `GET /readyz` and prints each check; a service that is not ready fails with exit 1,
/// naming the checks that failed.
pub(crate) async fn status(api: &Api, json: bool) -> Outcome {
    let request = api.request_for(op::Readyz, op::Readyz::ENDPOINT.path);
    let response = request.send().await.map_err(|e| api.unreachable(&e))?;
    let code = response.status();
    if code != StatusCode::OK && code != StatusCode::SERVICE_UNAVAILABLE {
        return Err(Failure::other(format!("the readiness probe answered {code}"))
            .hint("the address may not be an ATR service: check --server, ATR_SERVER or `atr login`"));
    }
    let value = read_json(response).await?;
    let readiness: Readiness = serde_json::from_value(value.clone()).map_err(|e| {
        Failure::other(format!("the readiness probe answered JSON that does not fit the API's description: {e}"))
    })?;
    if json {
        output::print_json(&value);
    } else {
        for check in &readiness.checks {
            println!("{:<10}\t{}\t{}", check.name, if check.ok { "ok" } else { "FAILED" }, check.detail);
        }
    }
    if readiness.ready {
        return Ok(());
    }
    let failed: Vec<&str> = readiness.checks.iter().filter(|c| !c.ok).map(|c| c.name.as_str()).collect();
    Err(Failure::other(format!("the service is not ready: {} failed", failed.join(", ")))
        .hint("the service's log and docs/operations.md say more; `/readyz` answers 200 again once fixed"))
}
