#![doc = include_str!("../README.md")]

pub mod auth;
pub mod lifecycle;
pub mod model;
pub mod policy;
pub mod ports;
pub mod search;
pub mod services;
pub mod tally;
pub mod throttle;
pub mod types;
