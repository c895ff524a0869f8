//! Signature checks.
