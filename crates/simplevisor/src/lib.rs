//! simplevisor: an Erlang/OTP-style supervisor for services, a drop-in for python
//! simplevisor 1.3 (configuration, commands, exit codes, store and pidfile protocol) that
//! also runs foreground programs itself, restarts them the moment they die, kills whole
//! process groups and never leaves a child behind.

pub mod cli;
pub mod config;
pub mod error;
#[macro_use]
pub mod log;
pub mod metrics;
pub mod pidfile;
pub mod process;
pub mod run;
pub mod service;
pub mod store;
pub mod supervisor;
