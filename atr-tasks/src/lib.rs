//! The durable task queue, its runner and the task implementations (Analyze checks, mail,
//! distribution).
//!
//! Nothing is implemented yet; task descriptors live in `atr_core::model::task`.
