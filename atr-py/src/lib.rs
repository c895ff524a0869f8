//! Python bindings of `atr-core`, built with pyo3 and maturin.
//!
//! Nothing is implemented yet.
