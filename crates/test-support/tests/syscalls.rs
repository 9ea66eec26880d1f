//! The system-call budget (README, "System calls per message"), held: each agent moves a few
//! thousand 1 KiB messages between a tmpfs queue and the test brokers under `strace -f -c`,
//! and the calls per message, by name, must stay within the table. It counts; it does not
//! time. A machine's load only adds calls (socket reads that find less, more wake-ups): a
//! transfer over budget runs once more and the better run must hold. (Named broker_: it
//! needs the brokers of scripts/test.sh and Debian's strace.)
//!
//! `fcntl` is left out: debug builds (these tests') check every descriptor they close with
//! `fcntl(F_GETFD)`; release builds do not.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

const N: usize = 3000;
/// Calls made once per run, whatever N: start-up, the connection, the queue's directories,
/// and the system's TLS roots that lapin reads at start (an `openat` and a `newfstatat` per
/// certificate file: a hundred or more on Debian).
const SETUP: f64 = 400.0;

/// target/debug, where `cargo test --workspace` put every binary.
fn bin(name: &str) -> String {
    let exe = std::env::current_exe().expect("test binary");
    let dir = exe.parent().and_then(Path::parent).expect("target/debug");
    let p = dir.join(name);
    assert!(
        p.exists(),
        "{name} not built: run the tests with `cargo test --workspace`"
    );
    p.display().to_string()
}

/// A scratch directory on tmpfs (as the budget assumes): /dev/shm when there is one.
fn tmpfs() -> tempfile::TempDir {
    let shm = Path::new("/dev/shm");
    if shm.is_dir() {
        tempfile::tempdir_in(shm).expect("tmp in /dev/shm")
    } else {
        tempfile::tempdir().expect("tmp")
    }
}

/// Runs `program args` under `strace -f -c`; the calls by name.
fn counted(dir: &Path, program: &str, args: &[String]) -> BTreeMap<String, u64> {
    let out_file = dir.join(format!("strace.{}", rand_tag()));
    let out = Command::new("strace")
        .args(["-f", "-c", "-o"])
        .arg(&out_file)
        .arg("--")
        .arg(program)
        .args(args)
        .output()
        .expect("strace (Debian package strace; scripts/test.sh installs it)");
    assert!(
        out.status.success(),
        "{program} {args:?} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&out_file).expect("strace output");
    let mut calls = BTreeMap::new();
    for line in text.lines() {
        let t: Vec<&str> = line.split_whitespace().collect();
        // "% time seconds usecs/call calls [errors] syscall"
        if t.len() >= 5
            && t[0].parse::<f64>().is_ok()
            && let (Ok(n), Some(name)) = (t[3].parse::<u64>(), t.last())
            && *name != "total"
        {
            calls.insert(name.to_string(), n);
        }
    }
    assert!(!calls.is_empty(), "no strace table in {text}");
    calls
}

fn rand_tag() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    format!(
        "{}.{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// One row of the table: calls per message by name; `others`: any other call.
struct Budget {
    what: &'static str,
    calls: &'static [(&'static str, f64)],
    others: f64,
}

/// Waiting and memory calls: how many depends on how fast the broker answers and on the
/// allocator, not on the agent's design, so they share one loose ceiling per message
/// ([`WAITS_PER_MESSAGE`]) that only a busy loop would break.
const WAITS: &[&str] = &[
    "epoll_wait",
    "futex",
    "mprotect",
    "brk",
    "mmap",
    "munmap",
    "madvise",
    "mremap",
];
const WAITS_PER_MESSAGE: f64 = 4.0;

/// The broker tests of this file one at a time: the counts of one must not depend on the
/// load of another.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// The dirq floor of a reliable sender (the reference's): lock (link + utime), open, read,
/// close, two unlinks.
const SEND_FLOOR: &[(&str, f64)] = &[
    ("linkat", 1.0),
    ("utimensat", 1.0),
    ("openat", 1.0),
    ("read", 1.0),
    ("close", 1.0),
    ("unlinkat", 2.0),
];
/// The dirq floor of a receiver: open an unnamed file, write, link it to its name, close.
const RECV_FLOOR: &[(&str, f64)] = &[
    ("openat", 1.0),
    ("write", 1.0),
    ("close", 1.0),
    ("linkat", 1.0),
];

impl Budget {
    /// The counts of a run of `n` messages against this row: the report, or the report
    /// naming the calls over budget.
    fn verdict(&self, calls: &BTreeMap<String, u64>, n: usize) -> Result<String, String> {
        let allowed = |name: &str| {
            self.calls
                .iter()
                .filter(|(c, _)| *c == name)
                .map(|(_, per)| *per)
                .sum::<f64>()
        };
        let mut report = String::new();
        let mut over = Vec::new();
        let waits: u64 = calls
            .iter()
            .filter(|(n, _)| WAITS.contains(&n.as_str()))
            .map(|(_, c)| *c)
            .sum();
        report.push_str(&format!(
            "  {:<14} {waits:>7} {:>7.3}/msg (limit {WAITS_PER_MESSAGE:.3})\n",
            "(waits)",
            waits as f64 / n as f64
        ));
        if waits as f64 > WAITS_PER_MESSAGE * n as f64 + SETUP {
            over.push("(waits)".to_string());
        }
        for (name, &count) in calls {
            if name == "fcntl" || WAITS.contains(&name.as_str()) {
                continue;
            }
            let per = allowed(name);
            let limit = if per > 0.0 { per } else { self.others } * n as f64 + SETUP;
            report.push_str(&format!(
                "  {name:<14} {count:>7} {:>7.3}/msg (limit {:.3})\n",
                count as f64 / n as f64,
                (limit - SETUP) / n as f64
            ));
            if count as f64 > limit {
                over.push(name.clone());
            }
        }
        if over.is_empty() {
            Ok(format!("{}: {n} messages\n{report}", self.what))
        } else {
            Err(format!("{}: over budget: {over:?}\n{report}", self.what))
        }
    }
}

/// A scratch tmpfs directory with a spool of N persistent 1 KiB text messages for `dest`.
fn spool(dest: &str) -> (tempfile::TempDir, String) {
    let dir = tmpfs();
    let p = dir.path().join("spool").display().to_string();
    let out = Command::new(bin("dirq"))
        .args(["generate", "-p", &p, "-t", "dqs", "-c", &N.to_string()])
        .args(["--text", "1", "--body-length", "1024"])
        .args([
            "--header",
            &format!("destination={dest}"),
            "--header",
            "persistent=true",
        ])
        .output()
        .expect("dirq");
    assert!(out.status.success(), "{out:?}");
    (dir, p)
}

fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| x.to_string()).collect()
}

fn broker(var: &str, name: &str) -> String {
    test_support::brokers::from_env(var)
        .into_iter()
        .find(|(n, _)| n == name)
        .map(|(_, a)| a)
        .unwrap_or_else(|| panic!("{name} in {var} (scripts/test.sh)"))
}

/// Calls per message by name.
type Calls = &'static [(&'static str, f64)];

/// What a run is, its extra options and its calls per message.
type Row<'a> = (&'static str, &'a [&'a str], Vec<(&'static str, f64)>);

/// The floor and the rest of a row.
fn with(floor: &[(&'static str, f64)], rest: &[(&'static str, f64)]) -> Vec<(&'static str, f64)> {
    floor.iter().chain(rest).copied().collect()
}

/// Runs `program` under strace and checks the row.
fn run_row(
    dir: &Path,
    what: &'static str,
    program: &str,
    args: &[String],
    calls: Vec<(&'static str, f64)>,
) {
    match row_verdict(dir, what, program, args, calls) {
        Ok(report) => eprintln!("{report}"),
        Err(report) => panic!("{report}"),
    }
}

/// Runs `program` under strace: the row's verdict.
fn row_verdict(
    dir: &Path,
    what: &'static str,
    program: &str,
    args: &[String],
    calls: Vec<(&'static str, f64)>,
) -> Result<String, String> {
    let counts = counted(dir, &bin(program), args);
    Budget {
        what,
        calls: Box::leak(calls.into_boxed_slice()),
        others: 0.02,
    }
    .verdict(&counts, N)
}

/// A queue to a broker and back, each way counted: (`what`, extra options) per run. A
/// loaded machine only ever adds calls (a socket read finds less to read, a wait wakes
/// more often): a transfer over budget is run once more, and the better of the two must be
/// within it, each way.
fn both_ways(
    program: &str,
    conn: &dyn Fn(&str) -> Vec<String>,
    subscribe: &str,
    dest: &str,
    rows: [Row; 2],
) {
    let mut failed = None;
    for attempt in 1..=2 {
        match transfer_verdict(program, conn, subscribe, dest, rows.clone()) {
            Ok(reports) => {
                eprintln!("{reports}");
                return;
            }
            Err(report) => {
                eprintln!("attempt {attempt}: {report}");
                failed = Some(report);
            }
        }
    }
    panic!("{}", failed.unwrap_or_default());
}

/// One transfer each way under strace: both reports, or the first over budget.
fn transfer_verdict(
    program: &str,
    conn: &dyn Fn(&str) -> Vec<String>,
    subscribe: &str,
    dest: &str,
    rows: [Row; 2],
) -> Result<String, String> {
    let (dir, spool) = spool(dest);
    let [
        (send_what, send_extra, send_calls),
        (recv_what, recv_extra, recv_calls),
    ] = rows;
    let mut send = s(&[
        "--incoming-queue",
        &format!("path={spool}"),
        "--remove",
        "--reliable",
    ]);
    send.extend(conn("outgoing"));
    send.extend(s(send_extra));
    let sent = row_verdict(dir.path(), send_what, program, &send, send_calls);
    let out = dir.path().join("out").display().to_string();
    let mut recv = s(&[
        "--subscribe",
        subscribe,
        "--reliable",
        "--count",
        &N.to_string(),
    ]);
    recv.extend(s(&["--outgoing-queue", &format!("path={out}")]));
    recv.extend(conn("incoming"));
    recv.extend(s(recv_extra));
    // received even when sending was over budget: the broker holds what was sent
    let received = row_verdict(dir.path(), recv_what, program, &recv, recv_calls);
    Ok(format!("{}\n{}", sent?, received?))
}

#[test]
fn broker_syscall_budget_stompclt() {
    let _one = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let rabbit = broker("STOMP_BROKERS", "rabbitmq");
    let conn = |dir: &str| {
        s(&[
            &format!("--{dir}-broker-uri"),
            &format!("stomp://{rabbit}"),
            &format!("--{dir}-broker-auth"),
            "plain name=guest pass=guest",
            &format!("--{dir}-broker-connect"),
            "host=/",
        ])
    };
    let sock_send = [
        ("writev", 0.25),
        ("sendto", 0.25),
        ("recvfrom", 0.5),
        ("write", 0.1),
    ];
    let sock_recv = [("recvfrom", 0.5), ("writev", 0.3)];
    let dest = test_support::brokers::unique_destination("syscalls");
    both_ways(
        "stompclt",
        &conn,
        &format!("destination={dest}"),
        &dest,
        [
            ("stompclt send", &[], with(SEND_FLOOR, &sock_send)),
            ("stompclt receive", &[], with(RECV_FLOOR, &sock_recv)),
        ],
    );
    // --batch: a receipt per 100 SENDs, a cumulative ACK per 100 messages
    let dest = test_support::brokers::unique_destination("syscalls");
    both_ways(
        "stompclt",
        &conn,
        &format!("destination={dest}"),
        &dest,
        [
            (
                "stompclt send --batch 100",
                &["--batch", "100"],
                with(SEND_FLOOR, &sock_send),
            ),
            (
                "stompclt receive --batch 100",
                &["--batch", "100"],
                with(RECV_FLOOR, &[("recvfrom", 0.5), ("writev", 0.05)]),
            ),
        ],
    );
}

#[test]
fn broker_syscall_budget_amqpclt() {
    let _one = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let rabbit = broker("AMQP_BROKERS", "rabbitmq");
    // (module, send row, its socket calls, receive row, its socket calls)
    let rows: [(&str, &'static str, Calls, &'static str, Calls); 2] = [
        (
            "amqp1",
            "amqpclt send (AMQP 1.0)",
            &[("sendto", 0.15), ("recvfrom", 0.15), ("write", 0.1)],
            "amqpclt receive (AMQP 1.0)",
            &[("sendto", 0.1), ("recvfrom", 0.3), ("write", 0.05)],
        ),
        (
            // lapin writes from an I/O thread of its own, woken through an eventfd (write)
            "pika",
            "amqpclt send (AMQP 0-9-1)",
            &[("sendto", 0.4), ("recvfrom", 0.3), ("write", 0.35)],
            // a basic.ack per delivery without --batch, as the reference (below: --batch)
            "amqpclt receive (AMQP 0-9-1)",
            &[("sendto", 1.0), ("recvfrom", 0.3), ("write", 0.35)],
        ),
    ];
    for (module, send, send_calls, recv, recv_calls) in rows {
        amqp_both_ways(
            &rabbit,
            module,
            (send, &[], send_calls),
            (recv, &[], recv_calls),
        );
    }
    // --batch 100: one multiple ack per 100 deliveries
    amqp_both_ways(
        &rabbit,
        "pika",
        (
            "amqpclt send --batch 100 (AMQP 0-9-1)",
            &["--batch", "100"],
            &[("sendto", 0.4), ("recvfrom", 0.3), ("write", 0.35)],
        ),
        (
            "amqpclt receive --batch 100 (AMQP 0-9-1)",
            &["--batch", "100"],
            &[("sendto", 0.1), ("recvfrom", 0.3), ("write", 0.35)],
        ),
    );
}

/// amqpclt with this module, a spool to RabbitMQ and back.
fn amqp_both_ways(
    rabbit: &str,
    module: &str,
    send: (&'static str, &[&str], Calls),
    recv: (&'static str, &[&str], Calls),
) {
    let conn = |dir: &str| {
        s(&[
            &format!("--{dir}-broker-uri"),
            &format!("amqp://{rabbit}"),
            &format!("--{dir}-broker-auth"),
            "plain name=guest pass=guest",
            &format!("--{dir}-broker-module"),
            module,
        ])
    };
    let dest = test_support::brokers::unique_destination("syscalls");
    both_ways(
        "amqpclt",
        &conn,
        &format!("destination={dest}"),
        &dest,
        [
            (send.0, send.1, with(SEND_FLOOR, send.2)),
            (recv.0, recv.1, with(RECV_FLOOR, recv.2)),
        ],
    );
}

#[test]
fn broker_syscall_budget_mqttclt() {
    let _one = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let mosquitto = std::env::var("MQTT_BROKER").expect("MQTT_BROKER (scripts/test.sh)");
    let id = format!("syscalls-{}", std::process::id());
    let topic = format!("syscalls/{}", std::process::id());
    let conn = |dir: &str| {
        let mut v = s(&[
            &format!("--{dir}-broker-uri"),
            &format!("mqtt://{mosquitto}"),
        ]);
        if dir == "incoming" {
            v.extend(s(&[
                "--incoming-broker-connect",
                &format!("client-id={id} session-expiry=300"),
            ]));
        }
        v
    };
    let subscribe = format!("topic={topic} qos=1");
    // the persistent session first, so that what is sent waits in it
    let mut args = s(&[
        "--subscribe",
        &subscribe,
        "--reliable",
        "--duration",
        "1",
        "--outgoing-queue",
        "type=NULL",
    ]);
    args.extend(conn("incoming"));
    let out = Command::new(bin("mqttclt"))
        .args(&args)
        .output()
        .expect("mqttclt");
    assert!(out.status.success(), "{out:?}");
    both_ways(
        "mqttclt",
        &conn,
        &subscribe,
        &topic,
        [
            (
                "mqttclt send (MQTT 5)",
                &[],
                with(
                    SEND_FLOOR,
                    &[("sendto", 0.25), ("recvfrom", 0.25), ("write", 0.15)],
                ),
            ),
            (
                "mqttclt receive (MQTT 5)",
                &[],
                with(RECV_FLOOR, &[("sendto", 0.05), ("recvfrom", 0.25)]),
            ),
        ],
    );
}

/// `dirq pop` at the floor of taking an element (no look at the lock before the removal),
/// its output one write for up to 64 elements and its owner record one for 16.
#[test]
fn syscall_budget_dirq_pop() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let (dir, p) = spool("/queue/pop");
    run_row(
        dir.path(),
        "dirq pop --count 0",
        "dirq",
        &s(&["pop", "-p", &p, "-t", "simple", "--count", "0"]),
        with(SEND_FLOOR, &[("write", 1.0 / 64.0 + 1.0 / 16.0)]),
    );
}

/// `dirq add --lines` at the floor of adding an element (an unnamed file written, linked to
/// its name, closed), its input read 64 KiB at a time.
#[test]
fn syscall_budget_dirq_add() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let dir = tmpfs();
    let input = dir.path().join("lines");
    let line = format!("{}\n", "x".repeat(1024));
    std::fs::write(&input, line.repeat(N)).expect("input");
    let q = dir.path().join("q").display().to_string();
    let input = input.display().to_string();
    run_row(
        dir.path(),
        "dirq add --lines",
        "dirq",
        &s(&["add", "-p", &q, "-q", "--lines", &input]),
        with(RECV_FLOOR, &[("read", 1.0 / 60.0)]),
    );
}
