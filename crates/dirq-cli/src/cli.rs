//! The command-line definition. Help text, the man page and the shell completions are all
//! generated from these types.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Exit status meanings, listed in `--help` and the man page.
pub const EXIT_CODES: &str = "\
Exit status:
  0  success
  1  error (I/O, corrupt element, bad data); the message names the element and the reason
  2  usage error (unknown option, bad value)
  3  queue empty: pop found no element it could lock
  4  element locked by someone else (lock)
  5  no such element";

/// Directory queues from shells and cron, on-disk compatible with Perl Directory::Queue and
/// python dirq.
#[derive(Debug, Parser)]
#[command(
    name = "dirq",
    version,
    after_help = EXIT_CODES,
    max_term_width = 100,
    disable_help_subcommand = true
)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The queue kinds the command line handles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Kind {
    /// One file per element holding the raw body.
    Simple,
    /// One directory per element, one file per schema field (needs --schema to add or read).
    Normal,
    /// Messages, one serialized JSON message per Simple element (Messaging::Message DQS).
    Dqs,
    /// Messages as Normal elements: header table, text or binary (Messaging::Message DQN).
    Dqn,
}

/// Which queue, and how to open it.
#[derive(Debug, Clone, Args)]
pub struct QueueArgs {
    /// The queue's top directory (created if missing).
    #[arg(short, long, value_name = "Q")]
    pub path: PathBuf,
    /// The queue kind.
    #[arg(short = 't', long = "type", value_enum, default_value_t = Kind::Simple)]
    pub kind: Kind,
    /// Normal queues: the fields, e.g. 'body=binary,header=table?' (types binary, string,
    /// table; '?' optional, '*' accepted).
    #[arg(long, value_name = "SCHEMA")]
    pub schema: Option<String>,
    /// Umask (octal) for what the queue creates; default: the process umask.
    #[arg(long, value_name = "OCTAL")]
    pub umask: Option<String>,
    /// Simple queues: seconds per intermediate directory.
    #[arg(long, value_name = "S", default_value_t = 60)]
    pub granularity: u64,
    /// Normal queues: elements per intermediate directory.
    #[arg(long, value_name = "N", default_value_t = 16000)]
    pub maxelts: usize,
    /// The hex digit (0-15) ending the names this command creates; default random.
    #[arg(long, value_name = "N")]
    pub rndhex: Option<u8>,
    /// Durability: fsync each element and its directory before add reports it.
    #[arg(long)]
    pub sync: bool,
    /// DQS queues: compress message bodies longer than 255 bytes when it pays off
    /// (zlib, lz4, snappy; a trailing '!' always compresses).
    #[arg(long, value_name = "ALGO")]
    pub compression: Option<String>,
}

/// The subcommands.
// Parsed once per run: the size of the largest variant does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Add elements: each FILE (or standard input) becomes one; prints the new names.
    ///
    /// Normal queues read one JSON object per element, keyed by field: a string field as a
    /// JSON string, a table as an object of strings, a binary field as base64. DQS and DQN
    /// queues read one JSON message per element (the Messaging::Message form).
    Add {
        #[command(flatten)]
        queue: QueueArgs,
        /// Each input line (without its newline) becomes one element.
        #[arg(short, long)]
        lines: bool,
        /// Print nothing.
        #[arg(short, long)]
        quiet: bool,
        /// Input files; none or '-' means standard input.
        #[arg(value_name = "FILE")]
        files: Vec<PathBuf>,
    },
    /// Print the number of elements, locked or not.
    Count {
        #[command(flatten)]
        queue: QueueArgs,
    },
    /// Print the queue's figures: elements, the oldest and newest element's age, locked
    /// elements, temporary elements (being added, or left by a crash), for cron and
    /// monitoring. Lines 'NAME VALUE', or one JSON object, or the Prometheus text format for
    /// node_exporter's textfile collector.
    Stats {
        #[command(flatten)]
        queue: QueueArgs,
        /// One JSON object instead of lines.
        #[arg(long, conflicts_with = "prometheus")]
        json: bool,
        /// The Prometheus text format (dirq_* gauges labelled with the queue's path).
        #[arg(long)]
        prometheus: bool,
    },
    /// Print the element names in iteration (creation) order.
    List {
        #[command(flatten)]
        queue: QueueArgs,
        /// Print each element instead of its name: one JSON message (dqs, dqn) or object
        /// (normal) a line.
        #[arg(long)]
        long: bool,
    },
    /// Print an element's body (normal: a JSON object; dqs, dqn: a JSON message; one line).
    ///
    /// An unlocked element is locked for the read and unlocked after; a locked one is read
    /// through its lock.
    Get {
        #[command(flatten)]
        queue: QueueArgs,
        /// The element, DDDDDDDD/EEEEEEEEEEEEEE.
        name: String,
    },
    /// Take elements out in order: lock, print, remove; locked elements are skipped. Bodies
    /// are printed as they are: to pop several, separate them with --lines or --null.
    Pop {
        #[command(flatten)]
        queue: QueueArgs,
        /// How many elements at most; 0 for all.
        #[arg(short, long, value_name = "N", default_value_t = 1)]
        count: usize,
        /// Follow each body with a newline.
        #[arg(short, long, conflicts_with = "null")]
        lines: bool,
        /// Follow each body with a NUL byte (for bodies that hold newlines; `xargs -0`).
        #[arg(short = '0', long)]
        null: bool,
        /// When the queue is empty, wait for an element to arrive (at most SECONDS; without
        /// a value, for ever) instead of exiting 3 at once. Woken by inotify the moment an
        /// element is added; on NFS and other network filesystems it polls every 200 ms.
        #[arg(
            short,
            long,
            value_name = "SECONDS",
            num_args = 0..=1,
            default_missing_value = "inf"
        )]
        wait: Option<f64>,
    },
    /// Remove old temporary elements, release stale locks (those of killed agents and pops at
    /// once, others after --maxlock), remove empty directories.
    Purge {
        #[command(flatten)]
        queue: QueueArgs,
        /// Age in seconds after which a temporary element is removed; 0 never.
        #[arg(long, value_name = "S", default_value_t = 300)]
        maxtemp: u64,
        /// Age in seconds after which a lock is released; 0 never.
        #[arg(long, value_name = "S", default_value_t = 600)]
        maxlock: u64,
    },
    /// Lock an element (exit 4 if it is already locked).
    Lock {
        #[command(flatten)]
        queue: QueueArgs,
        /// The element.
        name: String,
    },
    /// Unlock an element.
    Unlock {
        #[command(flatten)]
        queue: QueueArgs,
        /// The element.
        name: String,
    },
    /// Remove an element. An unlocked one is locked first; a locked one is taken to be
    /// locked by the caller (an earlier 'dirq lock').
    Remove {
        #[command(flatten)]
        queue: QueueArgs,
        /// The element.
        name: String,
    },
    /// Fill a dqs or dqn queue with generated test messages (the option names of Perl's
    /// Messaging::Message::Generator; integers take X, X-Y uniform or X^Y normal; entropy 0
    /// one letter, 1 hex, 2 base64url, 3 printable ASCII, 4 random bytes or Unicode).
    Generate {
        #[command(flatten)]
        queue: QueueArgs,
        /// How many messages.
        #[arg(short, long, value_name = "N", default_value_t = 1)]
        count: usize,
        /// 0 binary, 1 text, 0-1 either at random.
        #[arg(long, value_name = "0|1|0-1", default_value = "0-1")]
        text: String,
        /// Body length (bytes or characters).
        #[arg(long, value_name = "INT", default_value = "0")]
        body_length: String,
        /// Body entropy (0-4).
        #[arg(long, value_name = "INT", default_value = "0")]
        body_entropy: String,
        /// Number of header fields.
        #[arg(long, value_name = "INT", default_value = "0")]
        header_count: String,
        /// Prefix of header field names.
        #[arg(long, value_name = "STRING", default_value = "")]
        header_name_prefix: String,
        /// Length of header field names after the prefix.
        #[arg(long, value_name = "INT", default_value = "0")]
        header_name_length: String,
        /// Entropy of header field names (0-3).
        #[arg(long, value_name = "INT", default_value = "0")]
        header_name_entropy: String,
        /// Prefix of header field values.
        #[arg(long, value_name = "STRING", default_value = "")]
        header_value_prefix: String,
        /// Length of header field values after the prefix.
        #[arg(long, value_name = "INT", default_value = "0")]
        header_value_length: String,
        /// Entropy of header field values (0-4).
        #[arg(long, value_name = "INT", default_value = "0")]
        header_value_entropy: String,
        /// Seed of the pseudo-random generator (same seed, same messages).
        #[arg(long, value_name = "N", default_value_t = 1)]
        seed: u64,
        /// A header field every message gets (repeatable), e.g. destination=/queue/test.
        #[arg(long = "header", value_name = "KEY=VALUE")]
        fixed: Vec<String>,
    },
    /// Set an element's modification time to now, so that purge leaves its lock alone.
    Touch {
        #[command(flatten)]
        queue: QueueArgs,
        /// The element.
        name: String,
    },
}
