//! People known to the platform.

use serde::{Deserialize, Serialize};

use super::vote::Consent;
use crate::types::UserId;

/// A person with their global roles. Per-project roles come from committee membership.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    pub id: UserId,
    /// A member of the foundation.
    pub asf_member: bool,
    /// Infrastructure: may act on every project.
    pub admin: bool,
    /// A visitor's consent to keep their personal data, needed to vote as a visitor.
    pub consent: Option<Consent>,
}
