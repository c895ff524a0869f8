//! The one clock of the bindings: the services never read one, so callers pass `now`.

use atr_core::types::Timestamp;

/// The current time, in whole seconds.
#[expect(
    clippy::disallowed_methods,
    clippy::disallowed_types,
    reason = "the bindings are a frontend: they read the clock for the services"
)]
pub(crate) fn now() -> Timestamp {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    Timestamp::from_unix(i64::try_from(secs).unwrap_or(i64::MAX))
}
