//! The one mapping from the Rust errors to the Python exception tree of `atr._errors`.
//!
//! Every failure that reaches Python is a [`Failure`]: the exception class, a stable `snake_case`
//! code, the HTTP status a Quart handler should answer, a message for people and optional
//! details. The classes are defined in Python (so that `InvalidInput` can also be a
//! `ValueError`); which one a Rust error becomes is decided here, once.

use atr_core::auth::{Denied, DenyReason};
use atr_core::services::{KeyRefusal, ServiceError};
use pyo3::prelude::*;
use pyo3::types::PyDict;

/// The exception classes of `atr`, each with the HTTP status it stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Nobody is signed in, or the credential is not accepted.
    NotAuthenticated,
    /// A session object of a shape or with values that cannot be a principal.
    InvalidSession,
    /// The principal may not do this.
    Forbidden,
    NotFound,
    /// The state does not allow it, or another change won a race.
    Conflict,
    /// The input is refused.
    InvalidInput,
    /// Storage failed, the handle is closed, or the process is shutting down.
    Unavailable,
}

impl Kind {
    /// Every kind, for the tests that hold the Python classes to this list.
    pub(crate) const ALL: [Kind; 7] = [
        Kind::NotAuthenticated,
        Kind::InvalidSession,
        Kind::Forbidden,
        Kind::NotFound,
        Kind::Conflict,
        Kind::InvalidInput,
        Kind::Unavailable,
    ];

    /// The name of the Python class in `atr._errors`.
    pub(crate) fn class_name(self) -> &'static str {
        match self {
            Kind::NotAuthenticated => "NotAuthenticated",
            Kind::InvalidSession => "InvalidSession",
            Kind::Forbidden => "Forbidden",
            Kind::NotFound => "NotFound",
            Kind::Conflict => "Conflict",
            Kind::InvalidInput => "InvalidInput",
            Kind::Unavailable => "Unavailable",
        }
    }

    /// The class's default code.
    pub(crate) fn code(self) -> &'static str {
        match self {
            Kind::NotAuthenticated => "unauthenticated",
            Kind::InvalidSession => "invalid_session",
            Kind::Forbidden => "forbidden",
            Kind::NotFound => "not_found",
            Kind::Conflict => "conflict",
            Kind::InvalidInput => "invalid",
            Kind::Unavailable => "unavailable",
        }
    }

    /// The class's HTTP status.
    pub(crate) fn http_status(self) -> u16 {
        match self {
            Kind::NotAuthenticated | Kind::InvalidSession => 401,
            Kind::Forbidden => 403,
            Kind::NotFound => 404,
            Kind::Conflict => 409,
            Kind::InvalidInput => 400,
            Kind::Unavailable => 503,
        }
    }
}

/// A failure on its way to Python.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Failure {
    pub(crate) kind: Kind,
    pub(crate) code: &'static str,
    pub(crate) http_status: u16,
    pub(crate) message: String,
    pub(crate) details: Option<serde_json::Value>,
}

impl Failure {
    pub(crate) fn new(kind: Kind, message: impl Into<String>) -> Self {
        Self { kind, code: kind.code(), http_status: kind.http_status(), message: message.into(), details: None }
    }

    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        Self::new(Kind::InvalidInput, message)
    }

    pub(crate) fn unavailable(message: impl Into<String>) -> Self {
        Self::new(Kind::Unavailable, message)
    }

    fn with_code(mut self, code: &'static str) -> Self {
        self.code = code;
        self
    }

    fn with_details(mut self, details: serde_json::Value) -> Self {
        self.details = Some(details);
        self
    }

    /// The Python exception: an instance of the class of `atr._errors` named by the kind.
    pub(crate) fn into_pyerr(self, py: Python<'_>) -> PyErr {
        match self.instance(py) {
            Ok(instance) => PyErr::from_value(instance),
            Err(error) => error,
        }
    }

    fn instance(self, py: Python<'_>) -> PyResult<Bound<'_, PyAny>> {
        let class = py.import("atr._errors")?.getattr(self.kind.class_name())?;
        let kwargs = PyDict::new(py);
        kwargs.set_item("code", self.code)?;
        kwargs.set_item("http_status", self.http_status)?;
        if let Some(details) = &self.details {
            let json = py.import("json")?;
            kwargs.set_item("details", json.call_method1("loads", (details.to_string(),))?)?;
        }
        class.call((self.message,), Some(&kwargs))
    }
}

impl From<Denied> for Failure {
    fn from(denied: Denied) -> Self {
        let kind = if denied.reason == DenyReason::NotSignedIn { Kind::NotAuthenticated } else { Kind::Forbidden };
        let details = serde_json::json!({
            "activity": denied.activity.as_str(),
            "target": denied.target,
            "reason": reason_code(&denied.reason),
        });
        Failure::new(kind, denied.to_string()).with_details(details)
    }
}

/// A stable name for why a permission was refused.
fn reason_code(reason: &DenyReason) -> &'static str {
    match reason {
        DenyReason::NeedsRole(_) => "needs_role",
        DenyReason::NoConsent => "no_consent",
        DenyReason::NotOwnKey => "not_own_key",
        DenyReason::TokenExpired => "token_expired",
        DenyReason::TokenProject => "token_project",
        DenyReason::TokenActivity => "token_activity",
        DenyReason::TokenOwner => "token_owner",
        DenyReason::SessionOnly => "session_only",
        DenyReason::NotSignedIn => "not_signed_in",
    }
}

impl From<ServiceError> for Failure {
    fn from(error: ServiceError) -> Self {
        match error {
            ServiceError::Denied(denied) => denied.into(),
            ServiceError::Transition(t) => Failure::new(Kind::Conflict, t.to_string()).with_code("invalid_transition"),
            ServiceError::Policy(p) => Failure::invalid(p.to_string()).with_code("invalid_policy"),
            ServiceError::NotFound(what) => Failure::new(Kind::NotFound, format!("{what} not found")),
            ServiceError::Conflict(what) => Failure::new(Kind::Conflict, what),
            ServiceError::Invalid(what) => Failure::invalid(what),
            ServiceError::TooLarge(what) => {
                let mut failure = Failure::invalid(format!("too large: {what}")).with_code("too_large");
                failure.http_status = 413;
                failure
            }
            ServiceError::Store(cause) => Failure::unavailable(format!("storage is unavailable: {cause}")),
            ServiceError::Key(refusal) => match refusal {
                KeyRefusal::NoUsableKey(_) => Failure::invalid(refusal.to_string()).with_code("no_usable_key"),
                KeyRefusal::SeveralKeys(_) => Failure::invalid(refusal.to_string()).with_code("several_keys"),
                KeyRefusal::InUse { .. } => Failure::new(Kind::Conflict, refusal.to_string()).with_code("key_in_use"),
            },
            ServiceError::Field { field, message } => {
                Failure::invalid(format!("{field}: {message}")).with_details(serde_json::json!({ "field": field }))
            }
            ServiceError::Unauthenticated(why) => Failure::new(Kind::NotAuthenticated, why),
            // Sign-in throttling (the module signs nobody in, so only a caller of the services
            // beside it would see this): not authenticated, with when to try again.
            throttled @ ServiceError::Throttled { retry_after_secs } => {
                Failure::new(Kind::NotAuthenticated, throttled.to_string())
                    .with_code("too_many_requests")
                    .with_details(serde_json::json!({ "retry_after": retry_after_secs }))
            }
        }
    }
}

impl From<atr_core::ports::StoreError> for Failure {
    fn from(error: atr_core::ports::StoreError) -> Self {
        ServiceError::from(error).into()
    }
}

/// The kinds as (class name, code, HTTP status), for the Python tests of the tree.
#[pyfunction]
pub(crate) fn _error_kinds() -> Vec<(&'static str, &'static str, u16)> {
    Kind::ALL.into_iter().map(|k| (k.class_name(), k.code(), k.http_status())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_errors_map_to_their_kind_and_status() {
        let cases = [
            (ServiceError::NotFound("release x".into()), Kind::NotFound, "not_found", 404),
            (ServiceError::Conflict("raced".into()), Kind::Conflict, "conflict", 409),
            (ServiceError::Invalid("bad".into()), Kind::InvalidInput, "invalid", 400),
            (ServiceError::TooLarge("big".into()), Kind::InvalidInput, "too_large", 413),
            (ServiceError::Store("gone".into()), Kind::Unavailable, "unavailable", 503),
            (ServiceError::Unauthenticated("no".into()), Kind::NotAuthenticated, "unauthenticated", 401),
            (ServiceError::field("policy", "too short"), Kind::InvalidInput, "invalid", 400),
        ];
        for (error, kind, code, status) in cases {
            let failure = Failure::from(error);
            assert_eq!((failure.kind, failure.code, failure.http_status), (kind, code, status));
        }
    }
}
