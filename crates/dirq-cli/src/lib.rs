//! The `dirq` command line as a library: the binary only parses and maps the outcome to an
//! exit status, and the man page and completions are generated from [`cli::Cli`].

pub mod cli;
mod json;
mod run;

pub use run::{Failure, run};
