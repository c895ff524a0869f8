//! The operations endpoints: liveness, readiness and the metrics exposition, for load balancers,
//! orchestrators and Prometheus rather than for people.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The process answers (`GET /healthz`): nothing else is checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Health {
    /// Always `ok`.
    pub status: String,
}

/// Whether the service can serve (`GET /readyz`): 200 when every check passed, else 503.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Readiness {
    /// True when every check passed.
    pub ready: bool,
    /// `database` (it answers), `migrations` (all applied) and `storage` (release storage takes
    /// a write), in that order.
    pub checks: Vec<ReadinessCheck>,
}

/// One readiness check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ReadinessCheck {
    /// `database`, `migrations` or `storage`.
    pub name: String,
    pub ok: bool,
    /// What was found, such as why the check failed (never a secret).
    pub detail: String,
}
