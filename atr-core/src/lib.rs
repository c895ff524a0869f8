//! The trusted-release domain.
//!
//! Pure: no IO, no clock, no runtime. Validated types ([`types`]), the entities ([`model`]), the
//! release lifecycle ([`lifecycle`]), roles and permissions ([`auth`]), vote policy ([`policy`]),
//! tallying and mailing-list replies ([`tally`]), the storage ports ([`ports`]) and the use cases
//! written against them ([`services`]).

pub mod lifecycle;
pub mod model;
pub mod policy;
pub mod ports;
pub mod types;
