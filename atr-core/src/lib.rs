#![doc = include_str!("../README.md")]

pub mod lifecycle;
pub mod model;
pub mod policy;
pub mod ports;
pub mod types;
