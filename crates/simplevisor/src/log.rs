//! The reference's logging: one logger named `logname`, to stdout, a file, syslog (facility
//! daemon) or nowhere, formatted `<asctime> <logname>[<pid>]: [<LEVEL>] <message>`.

use std::io::Write;
use std::sync::Mutex;

use procctl::syslog::{self, Facility, Priority};

/// Logging could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    /// `log = file` without a `logfile`.
    #[error("log = file needs a logfile")]
    NoFile,
    /// The log file cannot be opened.
    #[error("cannot open log file {}", .path.display())]
    Open {
        /// The file.
        path: std::path::PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// An unknown `log` value.
    #[error("invalid log {0:?} (stdout, file, syslog, null)")]
    Target(String),
}

/// Log levels, lowest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// Command output, each step.
    Debug,
    /// Starts, stops, cycles.
    Info,
    /// The default threshold.
    Warning,
    /// Failures.
    Error,
    /// Fatal.
    Critical,
}

impl Level {
    /// Parses a level name; an unknown one falls back to warning, as the reference does.
    pub fn parse(s: &str) -> Level {
        match s.to_ascii_lowercase().as_str() {
            "debug" => Level::Debug,
            "info" => Level::Info,
            "error" => Level::Error,
            "critical" => Level::Critical,
            _ => Level::Warning,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Level::Debug => "DEBUG",
            Level::Info => "INFO",
            Level::Warning => "WARNING",
            Level::Error => "ERROR",
            Level::Critical => "CRITICAL",
        }
    }

    fn syslog_priority(self) -> Priority {
        match self {
            Level::Debug => Priority::Debug,
            Level::Info => Priority::Info,
            Level::Warning => Priority::Warning,
            Level::Error => Priority::Error,
            Level::Critical => Priority::Critical,
        }
    }
}

/// Where log lines go.
#[derive(Debug)]
pub enum Target {
    /// Standard output.
    Stdout,
    /// Appended to a file.
    File(std::fs::File),
    /// syslog, facility daemon.
    Syslog,
    /// Nowhere.
    Null,
}

struct Logger {
    target: Target,
    level: Level,
    name: String,
}

static LOGGER: Mutex<Option<Logger>> = Mutex::new(None);

/// Sets up logging: `log` is stdout, file, syslog or null.
pub fn init(
    log: &str,
    logfile: Option<&std::path::Path>,
    level: &str,
    name: &str,
) -> Result<(), LogError> {
    let target = match log {
        "stdout" => Target::Stdout,
        "null" => Target::Null,
        "syslog" => {
            syslog::open(name, Facility::Daemon);
            Target::Syslog
        }
        "file" => {
            let path = logfile.ok_or(LogError::NoFile)?;
            let f = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .map_err(|source| LogError::Open {
                    path: path.to_path_buf(),
                    source,
                })?;
            Target::File(f)
        }
        other => return Err(LogError::Target(other.to_string())),
    };
    let mut g = LOGGER.lock().unwrap_or_else(|e| e.into_inner());
    *g = Some(Logger {
        target,
        level: Level::parse(level),
        name: name.to_string(),
    });
    Ok(())
}

/// Whether a line at this level would be written.
pub fn enabled(level: Level) -> bool {
    let g = LOGGER.lock().unwrap_or_else(|e| e.into_inner());
    g.as_ref().is_some_and(|l| level >= l.level)
}

/// Python logging's asctime: `2026-11-22 03:28:46,123`, local time.
pub fn asctime(t: std::time::SystemTime) -> String {
    let d = t.duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs() as libc::time_t;
    // SAFETY: localtime_r writes into our zeroed struct only.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    unsafe { libc::localtime_r(&secs, &mut tm) };
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02},{:03}",
        tm.tm_year + 1900,
        tm.tm_mon + 1,
        tm.tm_mday,
        tm.tm_hour,
        tm.tm_min,
        tm.tm_sec,
        d.subsec_millis()
    )
}

/// Writes one line.
pub fn log(level: Level, msg: std::fmt::Arguments<'_>) {
    let mut g = LOGGER.lock().unwrap_or_else(|e| e.into_inner());
    let Some(l) = g.as_mut() else {
        // not set up (a library user): warnings and worse to stderr
        if level >= Level::Warning {
            eprintln!("simplevisor: [{}] {msg}", level.name());
        }
        return;
    };
    if level < l.level {
        return;
    }
    let pid = std::process::id();
    match &mut l.target {
        Target::Null => {}
        Target::Stdout => {
            let line = format!(
                "{} {}[{pid}]: [{}] {msg}\n",
                asctime(std::time::SystemTime::now()),
                l.name,
                level.name()
            );
            let _ = std::io::stdout().lock().write_all(line.as_bytes());
        }
        Target::File(f) => {
            let line = format!(
                "{} {}[{pid}]: [{}] {msg}\n",
                asctime(std::time::SystemTime::now()),
                l.name,
                level.name()
            );
            let _ = f.write_all(line.as_bytes());
        }
        Target::Syslog => {
            syslog::log(
                level.syslog_priority(),
                &format!("[{}] {msg}", level.name()),
            );
        }
    }
}

/// `debug!`-style helpers.
#[macro_export]
macro_rules! debug { ($($t:tt)*) => { $crate::log::log($crate::log::Level::Debug, format_args!($($t)*)) } }
/// Info line.
#[macro_export]
macro_rules! info { ($($t:tt)*) => { $crate::log::log($crate::log::Level::Info, format_args!($($t)*)) } }
/// Warning line.
#[macro_export]
macro_rules! warning { ($($t:tt)*) => { $crate::log::log($crate::log::Level::Warning, format_args!($($t)*)) } }
/// Error line.
#[macro_export]
macro_rules! error { ($($t:tt)*) => { $crate::log::log($crate::log::Level::Error, format_args!($($t)*)) } }
