//! Integration tests of the storage adapters, against real databases and a real filesystem.

mod admin;
mod crash;
mod deletion;
mod files;
mod installation;
mod readiness;
mod runners;
mod search;
mod sql;
mod unit_of_work;
