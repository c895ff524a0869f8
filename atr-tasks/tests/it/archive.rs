//! Archive checks.
