//! stompclt: the STOMP transfer agent, as a library (the binary parses and maps errors to
//! exit codes): a STOMP 1.0/1.1/1.2 codec and client on tokio, the broker modules of the
//! transfer engine, and the command line.

pub mod broker;
pub mod cli;
pub mod client;
pub mod config;
pub mod frame;
pub mod log;
pub mod mapping;
pub mod run;
pub mod syslog;
pub mod tls;
