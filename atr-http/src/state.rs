//! What every handler shares.

use std::sync::Arc;
use std::time::Duration;

use atr_core::policy::VotePolicy;
use atr_core::services::Services;
use atr_store::Storage;

use crate::metrics::{Metrics, MetricsAllow};

/// Settings of the HTTP side.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// Largest upload accepted, in bytes.
    pub max_upload_bytes: u64,
    /// How long a browser session lasts.
    pub session_ttl: Duration,
    /// Whether session cookies are marked `Secure` (behind HTTPS).
    pub secure_cookies: bool,
    /// The longest wait for the next chunk of an upload before it is dropped.
    pub body_stall_timeout: Duration,
    /// The most uploads one person (with their sessions and tokens) runs at once.
    pub max_uploads_per_person: usize,
    /// The addresses `/metrics` answers (loopback by default).
    pub metrics_allow: MetricsAllow,
    /// How long a task runner may go unseen before pending work is said to wait for one
    /// (`Services::with_stale_runner_after`; 60 s by default).
    pub stale_runner_after: Duration,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            max_upload_bytes: 4 << 30,
            session_ttl: Duration::from_hours(12),
            secure_cookies: false,
            body_stall_timeout: Duration::from_mins(1),
            max_uploads_per_person: 4,
            metrics_allow: MetricsAllow::default(),
            stale_runner_after: atr_core::services::DEFAULT_STALE_RUNNER_AFTER,
        }
    }
}

/// The service's state: storage, the use cases over it, and settings.
#[derive(Debug, Clone)]
pub struct AppState {
    pub storage: Storage,
    pub services: Services,
    pub config: Arc<HttpConfig>,
    /// The uploads running now, per person.
    pub(crate) uploads: Arc<crate::api::UploadSlots>,
    /// The metrics registry `/metrics` writes.
    pub(crate) metrics: Arc<Metrics>,
}

impl AppState {
    /// State over `storage` with the foundation's default vote policy.
    ///
    /// # Panics
    ///
    /// Never in practice: the foundation's default policy is valid (a unit test of the policy
    /// module says so).
    pub fn new(storage: Storage, config: HttpConfig) -> Self {
        let services = Services::new(storage.ports(), VotePolicy::foundation_default())
            .expect("the foundation's default vote policy is valid")
            .with_stale_runner_after(config.stale_runner_after);
        let uploads = crate::api::UploadSlots::new(config.max_uploads_per_person);
        let metrics = Arc::new(Metrics::new(storage.sql.clone()));
        Self { storage, services, config: Arc::new(config), uploads, metrics }
    }

    /// Lets another part of the process, such as a task runner started beside the service,
    /// register its series in the registry that `/metrics` writes.
    pub fn register_metrics(&self, register: impl FnOnce(&mut prometheus_client::registry::Registry)) {
        self.metrics.register(register);
    }
}
