#![doc = include_str!("../README.md")]

pub mod analyze;
pub mod runner;
