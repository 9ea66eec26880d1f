//! How every tool ends (the agents, simplevisor, dirq): lines on standard output, one error
//! line on standard error, a documented exit status; and the one path a command line that
//! clap refused (or `--help`, `--version`) takes.

use std::ffi::OsString;
use std::io::Write;

/// The exit statuses a tool gives to clap's own outcomes.
#[derive(Debug, Clone, Copy)]
pub struct ClapCodes {
    /// `--help`.
    pub help: i32,
    /// `--version`.
    pub version: i32,
    /// A command line refused: unknown option, bad value, missing argument.
    pub usage: i32,
}

/// What a run of a tool ends with: printed by [`Outcome::print`], then the process exits
/// with [`Outcome::code`] ([`Outcome::exit`] does both).
#[derive(Debug)]
pub struct Outcome {
    /// The program name, for the error line.
    pub program: &'static str,
    /// The exit status.
    pub code: i32,
    /// Lines for standard output (statistics, `--status`, `--list`…).
    pub lines: Vec<String>,
    /// The one-line error, printed as `PROGRAM: ERROR` on standard error.
    pub error: Option<String>,
    /// A command line clap refused (or `--help`/`--version`): printed as clap prints it,
    /// its first paragraph made one line (see [`crate::usage_error`]).
    pub clap: Option<clap::Error>,
}

impl Outcome {
    /// Success, or a status without a message, with these lines.
    pub fn lines(program: &'static str, code: i32, lines: Vec<String>) -> Outcome {
        Outcome {
            program,
            code,
            lines,
            error: None,
            clap: None,
        }
    }

    /// A failure, in one line.
    pub fn failed(program: &'static str, code: i32, error: impl Into<String>) -> Outcome {
        Outcome {
            error: Some(error.into()),
            ..Outcome::lines(program, code, Vec::new())
        }
    }

    /// What clap's error (or `--help`, `--version`) means for this tool.
    pub fn clap(program: &'static str, e: clap::Error, codes: ClapCodes) -> Outcome {
        let code = match e.kind() {
            clap::error::ErrorKind::DisplayHelp => codes.help,
            clap::error::ErrorKind::DisplayVersion => codes.version,
            _ => codes.usage,
        };
        Outcome {
            clap: Some(e),
            ..Outcome::lines(program, code, Vec::new())
        }
    }

    /// Prints the outcome: clap's text, the lines on standard output (a closed one is no
    /// reason to panic), the error on standard error.
    pub fn print(&self) {
        if let Some(e) = &self.clap {
            if e.use_stderr() {
                let text = crate::usage_error(self.program, &e.render().to_string());
                let _ = std::io::stderr().write_all(text.as_bytes());
            } else {
                let _ = e.print();
            }
        }
        let mut out = std::io::stdout().lock();
        for l in &self.lines {
            if writeln!(out, "{l}").is_err() {
                break;
            }
        }
        let _ = out.flush();
        if let Some(e) = &self.error {
            let _ = writeln!(std::io::stderr(), "{}: {e}", self.program);
        }
    }

    /// Prints the outcome and returns the status for `main` to exit with.
    pub fn exit(self) -> std::process::ExitCode {
        self.print();
        std::process::ExitCode::from(u8::try_from(self.code).unwrap_or(u8::MAX))
    }
}

/// Parses a command line with clap: the parsed value, or the [`Outcome`] of a refused
/// command line, `--help` or `--version`.
pub fn parse<C: clap::Parser>(
    program: &'static str,
    args: impl IntoIterator<Item = OsString>,
    codes: ClapCodes,
) -> Result<C, Outcome> {
    C::try_parse_from(args).map_err(|e| Outcome::clap(program, e, codes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(clap::Parser, Debug)]
    #[command(name = "tool", version = "1")]
    struct Cli {
        #[arg(long)]
        count: Option<u32>,
    }

    const CODES: ClapCodes = ClapCodes {
        help: 1,
        version: 0,
        usage: 2,
    };

    fn args(a: &[&str]) -> Vec<OsString> {
        std::iter::once("tool")
            .chain(a.iter().copied())
            .map(OsString::from)
            .collect()
    }

    #[test]
    fn clap_outcomes_take_the_tools_codes() {
        let code = |a: &[&str]| {
            parse::<Cli>("tool", args(a), CODES)
                .map(|_| ())
                .unwrap_err()
                .code
        };
        assert_eq!(code(&["--help"]), 1);
        assert_eq!(code(&["--version"]), 0);
        assert_eq!(code(&["--count", "x"]), 2);
        assert_eq!(code(&["--bogus"]), 2);
        let cli = parse::<Cli>("tool", args(&["--count", "3"]), CODES).expect("parses");
        assert_eq!(cli.count, Some(3));
    }

    #[test]
    fn failures_carry_their_line() {
        let o = Outcome::failed("tool", 6, "incoming queue /q: gone");
        assert_eq!(
            (o.code, o.error.as_deref()),
            (6, Some("incoming queue /q: gone"))
        );
        assert!(o.lines.is_empty() && o.clap.is_none());
    }
}
