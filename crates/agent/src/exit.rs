//! Exit statuses of every agent, as named constants, with the mapping from the engine's
//! error kinds; [`EXIT_CODES`] is the same list for `--help` and the man pages.

use transfer::ErrorKind;

/// Success, including a stop by INT, TERM or QUIT.
pub const OK: i32 = 0;
/// `--help` (as the reference).
pub const HELP: i32 = 1;
/// Usage or configuration.
pub const USAGE: i32 = 2;
/// Cannot connect.
pub const CONNECT: i32 = 3;
/// The broker refused.
pub const BROKER: i32 = 4;
/// Protocol or connection failure during the transfer.
pub const PROTOCOL: i32 = 5;
/// Incoming queue.
pub const INCOMING_QUEUE: i32 = 6;
/// Outgoing queue.
pub const OUTGOING_QUEUE: i32 = 7;
/// Unconfirmed messages at the end of linger.
pub const PENDING: i32 = 8;
/// Pidfile.
pub const PIDFILE: i32 = 9;

/// The statuses of clap's outcomes: `--help` as the reference, `--version`, a refused command
/// line.
pub const CLAP: procctl::ClapCodes = procctl::ClapCodes {
    help: HELP,
    version: OK,
    usage: USAGE,
};

/// The exit status for an engine error of this kind.
pub fn for_kind(kind: ErrorKind) -> i32 {
    match kind {
        ErrorKind::Config => USAGE,
        ErrorKind::Connect => CONNECT,
        ErrorKind::Broker => BROKER,
        ErrorKind::Protocol => PROTOCOL,
        ErrorKind::IncomingQueue => INCOMING_QUEUE,
        ErrorKind::OutgoingQueue => OUTGOING_QUEUE,
        ErrorKind::Pending => PENDING,
        // from a queue the engine makes it an IncomingQueue error naming the element
        ErrorKind::BadMessage => PROTOCOL,
        // the agents' only per-turn hook is the pidfile's
        ErrorKind::Tick => PIDFILE,
    }
}

/// The exit statuses, listed in every agent's `--help` and man page.
pub const EXIT_CODES: &str = "\
Exit status:
  0  success, including a stop by INT, TERM or QUIT
  1  --help (as the reference)
  2  usage: unknown option, bad value or combination, bad configuration file
  3  cannot connect (refused, unreachable, timed out, TLS handshake)
  4  the broker refused: bad credentials, a refused destination or message, missing receipts
  5  protocol or connection failure during the transfer (bad frame, connection lost)
  6  incoming queue error (I/O, empty or corrupt element, a message that cannot be sent such
     as one without destination; named, and left in place)
  7  outgoing queue error (disk full, permissions; nothing is acknowledged)
  8  messages still unconfirmed when --timeout-linger ran out (\"N pending messages\")
  9  pidfile error
With --status: 0 running, 1 dead, 3 not running (no pidfile), 4 stale or unknown.";
