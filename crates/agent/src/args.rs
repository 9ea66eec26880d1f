//! The options every agent shares, spelled as Perl stompclt 1.8 spells them. Each agent
//! flattens [`AgentArgs`] into its own clap `Parser`, so `--help`, the man page and the
//! completions still come from one definition per binary.

use std::path::PathBuf;

use clap::{ArgAction, Args};

/// The shared options, and the settings of every agent's command: help exits 1 as the
/// reference's does, an option given twice keeps its last value.
#[derive(Debug, Clone, Args)]
#[command(
    max_term_width = 100,
    disable_help_flag = true,
    args_override_self = true
)]
pub struct AgentArgs {
    /// Print help and exit with status 1, as the reference does.
    #[arg(short = 'h', long = "help", short_alias = '?', action = ArgAction::Help)]
    pub help: Option<bool>,
    /// Print the whole manual (every option with its full description) and exit 0.
    #[arg(short = 'm', long)]
    pub manual: bool,
    /// List the options, one per line, and exit 0.
    #[arg(short = 'l', long)]
    pub list: bool,

    /// URI of the broker to receive from: SCHEME://HOST:PORT (see the schemes below),
    /// failover:(URI,...)?OPTIONS or file:PATH; all:(URI,...)?OPTIONS or
    /// all:SCHEME://ALIAS:PORT (every address of ALIAS) consumes from every broker at once.
    #[arg(long, value_name = "URI")]
    pub incoming_broker_uri: Option<String>,
    /// Credential for the incoming broker, repeatable: 'none', 'plain name=USER
    /// pass-file=FILE' (or pass=PASSWORD, which shows in ps), 'x509 cert=FILE key=FILE
    /// [pass-file=FILE] [ca=DIR] [ca_file=FILE]' (a TLS client certificate; X509_USER_CERT,
    /// X509_USER_KEY, X509_CERT_DIR, X509_CERT_FILE are the defaults). A pass-file's first line
    /// is the password; a file others can access is refused.
    #[arg(long, value_name = "STRING")]
    pub incoming_broker_auth: Vec<String>,
    /// Socket options of the incoming broker (KEY=VALUE...): the IO::Socket::SSL ones mapped to
    /// rustls are SSL_ca_path, SSL_ca_file, SSL_cert_file, SSL_key_file, SSL_passwd,
    /// SSL_verify_mode (0: no verification), SSL_verifycn_name/SSL_hostname; any SSL_* key
    /// turns TLS on; others are ignored with a warning.
    #[arg(long, value_name = "KEY=VALUE...")]
    pub incoming_broker_sockopts: Option<String>,
    /// Directory queue to read: 'path=DIR type=DQS|DQN ...' and any dirq option.
    #[arg(long, value_name = "KEY=VALUE...")]
    pub incoming_queue: Option<String>,

    /// URI of the broker to send to, as for --incoming-broker-uri; all:(URI,...)?OPTIONS or
    /// all:SCHEME://ALIAS:PORT spreads the messages over the brokers that are up (round robin).
    #[arg(long, value_name = "URI")]
    pub outgoing_broker_uri: Option<String>,
    /// Credential for the outgoing broker.
    #[arg(long, value_name = "STRING")]
    pub outgoing_broker_auth: Vec<String>,
    /// Socket options of the outgoing broker (KEY=VALUE...), as for the incoming broker.
    #[arg(long, value_name = "KEY=VALUE...")]
    pub outgoing_broker_sockopts: Option<String>,
    /// Directory queue to write: 'path=DIR type=DQS|DQN compression=zlib ...'.
    #[arg(long, value_name = "KEY=VALUE...")]
    pub outgoing_queue: Option<String>,
    /// Beyond the reference: a message the destination refuses as it is (too large, a bad
    /// destination, refused by the service) goes to this directory queue ('path=DIR
    /// type=DQS ...'), with the reason in its header reject-reason, and its source is
    /// acknowledged; without it such a message ends the run (exit 6), left where it was.
    #[arg(long, value_name = "KEY=VALUE...")]
    pub reject_queue: Option<String>,
    /// Beyond the reference: an incoming queue element that cannot be read as a message
    /// (truncated, empty, bad JSON, bad compression, a bad header) is moved whole to this
    /// directory, with DIR-NAME.reason beside it, logged and counted, and the transfer goes
    /// on; without it such an element ends the run (exit 6), left in place.
    #[arg(long, value_name = "DIR")]
    pub quarantine: Option<PathBuf>,

    /// Beyond the reference: exactly once into a spool. A message from a queue element gets
    /// a stable id (header dedup-id, and the protocol's own id field), the same however
    /// often the element is sent; a message whose id was written (or, to a broker,
    /// confirmed) within the window is acknowledged and not written again. The window is
    /// kept beside the outgoing queue, or in --dedup-state.
    #[arg(long, overrides_with = "no_dedup")]
    pub dedup: bool,
    #[arg(long, overrides_with = "dedup", hide = true)]
    pub no_dedup: bool,
    /// With --dedup: the directory of the window when the destination is a broker.
    #[arg(long, value_name = "DIR")]
    pub dedup_state: Option<PathBuf>,
    /// With --dedup: ids older than this many seconds are forgotten (accepted again).
    #[arg(long, value_name = "SECONDS", default_value_t = 86_400.0)]
    pub dedup_window: f64,
    /// With --dedup: at most this many ids are kept (about 100 bytes each in memory).
    #[arg(long, value_name = "INT", default_value_t = 200_000)]
    pub dedup_size: usize,

    /// Subscription (KEY=VALUE...), repeatable: 'destination=ADDRESS' and the protocol's own
    /// keys.
    #[arg(long, value_name = "KEY=VALUE...")]
    pub subscribe: Vec<String>,

    /// At-least-once: an incoming message is acknowledged only after the destination
    /// confirmed it (a broker receipt or accepted outcome, or a completed queue add); queue
    /// elements are removed only then.
    #[arg(long, overrides_with = "no_reliable")]
    pub reliable: bool,
    #[arg(long, overrides_with = "reliable", hide = true)]
    pub no_reliable: bool,
    /// Prefetch of the subscriptions (the broker's own header or link credit); default
    /// min(count, 100) with --reliable and --count.
    #[arg(long, value_name = "INT")]
    pub prefetch: Option<u64>,
    /// Reliable mode: at most this many messages unconfirmed (0: unlimited).
    #[arg(long, value_name = "INT")]
    pub window: Option<u64>,

    /// Beyond the reference: when a broker connection is lost during the transfer (socket
    /// error, bad frame, missed heart-beats), connect again with the failover backoff and go
    /// on. With --reliable nothing is lost: unconfirmed messages are sent again and
    /// unacknowledged ones redelivered (possible duplicates, counted in --statistics).
    #[arg(long, overrides_with = "no_reconnect")]
    pub reconnect: bool,
    #[arg(long, overrides_with = "reconnect", hide = true)]
    pub no_reconnect: bool,

    /// Heart-beats: the client shows it is alive, and a broker silent for twice the server
    /// period is taken for dead (STOMP heart-beats; the AMQP idle time-out).
    #[arg(long, overrides_with = "no_heart_beat")]
    pub heart_beat: bool,
    #[arg(long, overrides_with = "heart_beat", hide = true)]
    pub no_heart_beat: bool,
    /// Client heart-beat period, seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 40.0)]
    pub timeout_client: f64,
    /// Desired server heart-beat period, seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 10.0)]
    pub timeout_server: f64,

    /// TCP connect timeout, also the wait for the broker's answer to the connection (default:
    /// 10 s for that answer).
    #[arg(long, value_name = "SECONDS")]
    pub timeout_connect: Option<f64>,
    /// How long to wait for subscription receipts (default: forever).
    #[arg(long, value_name = "SECONDS")]
    pub timeout_broker: Option<f64>,
    /// How long to wait for the broker to confirm the disconnection.
    #[arg(long, value_name = "SECONDS", default_value_t = 60.0)]
    pub timeout_disconnect: f64,
    /// Time to write the remaining output at stop.
    #[arg(long, value_name = "SECONDS", default_value_t = 60.0)]
    pub timeout_flush: f64,
    /// Stop when no message arrived for this long.
    #[arg(long, value_name = "SECONDS")]
    pub timeout_inactivity: Option<f64>,
    /// At stop, how long to wait for outstanding confirmations (default: forever).
    #[arg(long, value_name = "SECONDS")]
    pub timeout_linger: Option<f64>,
    /// With --status, retry this long.
    #[arg(long, value_name = "SECONDS")]
    pub timeout_status: Option<f64>,

    /// Process at most this many messages.
    #[arg(short = 'c', long, value_name = "INT")]
    pub count: Option<u64>,
    /// Stop after this many seconds (fractional allowed).
    #[arg(long, value_name = "SECONDS")]
    pub duration: Option<f64>,
    /// Incoming queue: start again at the end instead of stopping.
    #[arg(long = "loop", overrides_with = "no_loop")]
    pub looping: bool,
    #[arg(long = "no-loop", overrides_with = "looping", hide = true)]
    pub no_loop: bool,
    /// Incoming queue: remove the elements handed on (otherwise only unlock them).
    #[arg(long, overrides_with = "no_remove")]
    pub remove: bool,
    #[arg(long, overrides_with = "remove", hide = true)]
    pub no_remove: bool,
    /// Start the outgoing module only when the first message arrives.
    #[arg(long, overrides_with = "no_lazy")]
    pub lazy: bool,
    #[arg(long, overrides_with = "lazy", hide = true)]
    pub no_lazy: bool,

    /// Built-in filter: remove the headers the broker adds on delivery (listed below), e.g.
    /// before sending received messages on.
    #[arg(long)]
    pub strip_broker_headers: bool,
    /// Built-in filter: delete this header (repeatable).
    #[arg(long, value_name = "NAME")]
    pub header_delete: Vec<String>,
    /// Built-in filter: rename a header, OLD=NEW (repeatable).
    #[arg(long, value_name = "OLD=NEW")]
    pub header_rename: Vec<String>,
    /// Built-in filter: set a header, NAME=VALUE (repeatable), e.g. destination=/queue/x.
    #[arg(long, value_name = "NAME=VALUE")]
    pub header_set: Vec<String>,
    /// Built-in filter: pass on only messages whose header (or 'body') matches the regex,
    /// FIELD=REGEX (repeatable: all must match). Dropped messages are acknowledged.
    #[arg(long, value_name = "FIELD=REGEX")]
    pub keep_if: Vec<String>,
    /// Built-in filter: drop messages whose header (or 'body') matches the regex,
    /// FIELD=REGEX (repeatable: any drops).
    #[arg(long, value_name = "FIELD=REGEX")]
    pub drop_if: Vec<String>,
    /// Built-in filter: also add every message passed on to this queue ('path=DIR type=DQS').
    #[arg(long, value_name = "KEY=VALUE...")]
    pub tap: Option<String>,

    /// Perl callback code: not supported (Perl cannot run here; see the built-in filters).
    #[arg(long, value_name = "CODE")]
    pub callback_code: Option<String>,
    /// Perl callback file: not supported.
    #[arg(long, value_name = "PATH")]
    pub callback_path: Option<PathBuf>,
    /// Data for the Perl callback: not supported.
    #[arg(long, value_name = "KEY=VALUE...")]
    pub callback_data: Option<String>,

    /// Detach and run in the background; errors go to syslog. Incompatible with --statistics.
    #[arg(long, overrides_with = "no_daemon")]
    pub daemon: bool,
    #[arg(long, overrides_with = "daemon", hide = true)]
    pub no_daemon: bool,
    /// Pid file: created exclusively (a stale one is replaced), touched while running,
    /// removed at exit; also how --quit and --status find the process.
    #[arg(long, value_name = "PATH")]
    pub pidfile: Option<PathBuf>,
    /// Tell the agent of --pidfile to quit (it lingers, then TERM, then KILL).
    #[arg(long)]
    pub quit: bool,
    /// Report the status of the agent of --pidfile: exit 0 running, 1 dead, 3 not
    /// running, 4 stale or unknown.
    #[arg(long)]
    pub status: bool,
    /// With --status: print the running agent's figures (the metrics below) as one JSON
    /// object.
    #[arg(long, requires = "status")]
    pub json: bool,

    /// The metrics options.
    #[command(flatten)]
    pub metrics: metrics::MetricsArgs,

    /// Print statistics at the end.
    #[arg(short = 's', long, overrides_with = "no_statistics")]
    pub statistics: bool,
    #[arg(long, overrides_with = "statistics", hide = true)]
    pub no_statistics: bool,
    /// Debug output on stderr (syslog with --daemon), repeatable: -d connections and
    /// subscriptions, -dd every frame's command and headers, -ddd body sizes, -dddd the
    /// configuration.
    #[arg(short = 'd', long, action = ArgAction::Count)]
    pub debug: u8,
    /// Where warnings and debug lines go (the reference amqpclt's spelling): stdout, syslog,
    /// file (with --logfile) or null; default standard error (syslog once a daemon).
    #[arg(long, value_name = "TARGET", value_parser = ["stdout", "syslog", "file", "null"])]
    pub log: Option<String>,
    /// The file of --log file (appended to).
    #[arg(long, value_name = "PATH")]
    pub logfile: Option<PathBuf>,
    /// The lowest level logged: debug (as -d), info, warning (the default) or error (no
    /// warnings).
    #[arg(long, value_name = "LEVEL", value_parser = ["debug", "info", "warning", "error"])]
    pub loglevel: Option<String>,

    /// Configuration file (Config::General syntax): option names as on the command line,
    /// blocks as dashed prefixes, repeated <subscribe> blocks, an optional wrapper block named
    /// after the program. The command line overrides the file.
    #[arg(long, visible_aliases = ["conf", "cfg"], value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Extra Config::General options (KEY=VALUE...); InterPolateVars=1 turns on $variables.
    #[arg(long, value_name = "KEY=VALUE...")]
    pub config_general: Option<String>,
}

/// The shared options whose value is `KEY=VALUE` pairs: as configuration blocks, they are
/// kept whole.
pub const MAP_OPTIONS: &[&str] = &[
    "subscribe",
    "incoming-queue",
    "outgoing-queue",
    "incoming-broker-sockopts",
    "outgoing-broker-sockopts",
    "incoming-broker-auth",
    "outgoing-broker-auth",
    "callback-data",
    "config-general",
];

/// The lines `--list` prints: every option's long name (and short name), one per line.
pub fn option_list(cmd: &clap::Command) -> Vec<String> {
    cmd.get_arguments()
        .filter(|a| !a.is_hide_set())
        .filter_map(|a| {
            let long = a.get_long()?;
            Some(match a.get_short() {
                Some(c) => format!("--{long} -{c}"),
                None => format!("--{long}"),
            })
        })
        .collect()
}

/// A `KEY=VALUE…` string could not be split.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {what}: {word:?} is not KEY=VALUE")]
pub struct KeyValueError {
    /// The option.
    pub what: String,
    /// The word without `=`.
    pub word: String,
}

/// Splits a `KEY=VALUE…` option string on blanks; keys and values are URI-unescaped (`%20`).
pub fn key_values(s: &str, what: &str) -> Result<Vec<(String, String)>, KeyValueError> {
    let mut out = Vec::new();
    for word in s.split_whitespace() {
        let (k, v) = word.split_once('=').ok_or_else(|| KeyValueError {
            what: what.to_string(),
            word: word.to_string(),
        })?;
        out.push((
            config_general::percent_decode(k),
            config_general::percent_decode(v),
        ));
    }
    Ok(out)
}

/// One `KEY=VALUE` of an option, read with a type: each reader's error is the one line
/// `invalid OPTION: KEY="VALUE" is not …`.
#[derive(Debug, Clone, Copy)]
pub struct Value<'a> {
    /// The option (`will`, `incoming-broker-connect`, a failover URI…).
    pub what: &'a str,
    /// The key.
    pub key: &'a str,
    /// The value as written.
    pub value: &'a str,
}

impl<'a> Value<'a> {
    /// The value `value` of `key` in option `what`.
    pub fn new(what: &'a str, key: &'a str, value: &'a str) -> Self {
        Value { what, key, value }
    }

    /// The error for a value that is not what the key takes: `invalid OPTION: KEY="VALUE"
    /// is not IS_NOT`.
    pub fn is_not(&self, is_not: &str) -> String {
        format!(
            "invalid {}: {}={:?} is not {is_not}",
            self.what, self.key, self.value
        )
    }

    /// A boolean, in the one vocabulary of every protocol option, destination option and
    /// configuration key (Config::General's): true/false, yes/no, on/off, 1/0, in any case.
    pub fn boolean(&self) -> Result<bool, String> {
        config_general::parse_bool(self.value)
            .ok_or_else(|| self.is_not("a boolean (true/false, yes/no, on/off, 1/0)"))
    }

    /// A number of type `T` (its range checked by the parse).
    pub fn number<T: std::str::FromStr>(&self) -> Result<T, String> {
        self.value
            .trim()
            .parse()
            .map_err(|_| self.is_not("a number in range"))
    }

    /// A whole number of milliseconds.
    pub fn millis(&self) -> Result<std::time::Duration, String> {
        self.value
            .trim()
            .parse()
            .map(std::time::Duration::from_millis)
            .map_err(|_| self.is_not("a number of milliseconds"))
    }

    /// The error for a key the option does not have; `known` lists those it has.
    pub fn unexpected(&self, known: &str) -> String {
        format!("invalid {}: unexpected {:?} ({known})", self.what, self.key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_boolean_vocabulary() {
        for (t, f) in [
            ("true", "false"),
            ("yes", "no"),
            ("on", "off"),
            ("1", "0"),
            ("TRUE", "Off"),
        ] {
            assert_eq!(Value::new("x", "k", t).boolean(), Ok(true));
            assert_eq!(Value::new("x", "k", f).boolean(), Ok(false));
        }
    }

    #[test]
    fn typed_values_name_the_option_key_and_value() {
        let v = |s| Value::new("will", "retain", s);
        assert_eq!(v("on").boolean(), Ok(true));
        assert_eq!(
            v("maybe").boolean().expect_err("not a boolean"),
            "invalid will: retain=\"maybe\" is not a boolean (true/false, yes/no, on/off, 1/0)"
        );
        assert_eq!(v(" 60 ").number::<u16>(), Ok(60));
        assert_eq!(
            v("70000").number::<u16>().expect_err("out of range"),
            "invalid will: retain=\"70000\" is not a number in range"
        );
        assert_eq!(v("500").millis(), Ok(std::time::Duration::from_millis(500)));
        assert!(v("x").millis().is_err());
        assert_eq!(
            v("1").unexpected("topic, qos"),
            "invalid will: unexpected \"retain\" (topic, qos)"
        );
    }

    #[test]
    fn key_value_strings() {
        assert_eq!(
            key_values("destination=/queue/a%20b  selector=x=1", "subscribe").expect("ok"),
            [
                ("destination".to_string(), "/queue/a b".to_string()),
                ("selector".to_string(), "x=1".to_string())
            ]
        );
        let e = key_values("oops", "subscribe").expect_err("no =");
        assert_eq!(
            e.to_string(),
            "invalid subscribe: \"oops\" is not KEY=VALUE"
        );
        assert_eq!(config_general::percent_decode("100%"), "100%");
        assert_eq!(config_general::percent_decode("%zz%41"), "%zzA");
    }
}
