//! The `dirq` command line, run as a process.

use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, SystemTime};

use dirq::{DirQueue, QueueSimple};

fn dirq() -> Command {
    Command::new(env!("CARGO_BIN_EXE_dirq"))
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run(args: &[&str], stdin: &[u8]) -> Run {
    let mut child = dirq()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn dirq");
    // A command that fails early (a usage error) may exit before reading: a broken pipe
    // here is not the test's business, the exit status is.
    let _ = child.stdin.take().expect("stdin").write_all(stdin);
    let Output {
        status,
        stdout,
        stderr,
    } = child.wait_with_output().expect("wait");
    Run {
        code: status.code().expect("exited"),
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    }
}

fn ok(args: &[&str], stdin: &[u8]) -> String {
    let r = run(args, stdin);
    assert_eq!(r.code, 0, "dirq {args:?} failed: {}", r.stderr);
    r.stdout
}

struct Q {
    _dir: tempfile::TempDir,
    path: PathBuf,
}

impl Q {
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("q");
        Q { _dir: dir, path }
    }
    fn p(&self) -> &str {
        self.path.to_str().expect("utf8")
    }
}

/// Lines longer than a read, and lines split between two reads, are added whole and in
/// order; the last line needs no newline.
#[test]
fn add_lines_across_reads() {
    let q = Q::new();
    let lines: Vec<String> = (0..40)
        .map(|i| format!("{}{i}", "x".repeat([0, 1, 1000, 70_000, 200_000][i % 5])))
        .collect();
    let input = lines.join("\n");
    ok(&["add", "-p", q.p(), "--lines", "-q"], input.as_bytes());
    let out = ok(&["pop", "-p", q.p(), "--count", "0", "--lines"], b"");
    assert!(out.lines().eq(lines.iter().map(String::as_str)));
}

#[test]
fn add_list_count_get_pop() {
    let q = Q::new();
    let names = ok(&["add", "--path", q.p(), "--lines"], b"one\ntwo\n\nlast");
    let names: Vec<&str> = names.lines().collect();
    assert_eq!(names.len(), 4, "the empty line is an element too");
    assert_eq!(ok(&["count", "--path", q.p()], b""), "4\n");
    assert_eq!(
        ok(&["list", "--path", q.p()], b"")
            .lines()
            .collect::<Vec<_>>(),
        names
    );
    assert_eq!(ok(&["get", "--path", q.p(), names[1]], b""), "two");
    let f = q.path.with_extension("in");
    fs::write(&f, b"\0binary\xff").expect("write");
    let added = ok(&["add", "-p", q.p(), "-q", f.to_str().expect("utf8")], b"");
    assert_eq!(added, "", "--quiet prints nothing");
    assert_eq!(
        ok(&["pop", "-p", q.p(), "--count", "2", "--lines"], b""),
        "one\ntwo\n"
    );
    assert_eq!(
        ok(&["pop", "-p", q.p(), "--count", "0", "--lines"], b""),
        "\nlast\n\0binary\u{fffd}\n"
    );
    let r = run(&["pop", "-p", q.p()], b"");
    assert_eq!(
        (r.code, r.stdout.as_str(), r.stderr.as_str()),
        (3, "", ""),
        "empty: exit 3"
    );
}

#[test]
fn whole_stdin_is_one_element() {
    let q = Q::new();
    let name = ok(&["add", "-p", q.p()], b"line 1\nline 2\n");
    assert_eq!(
        ok(&["get", "-p", q.p(), name.trim()], b""),
        "line 1\nline 2\n"
    );
}

#[test]
fn lock_unlock_remove_touch_and_their_exit_codes() {
    let q = Q::new();
    let name = ok(&["add", "-p", q.p()], b"x");
    let name = name.trim();
    ok(&["lock", "-p", q.p(), name], b"");
    let r = run(&["lock", "-p", q.p(), name], b"");
    assert_eq!(r.code, 4);
    assert_eq!(
        r.stderr,
        format!("dirq: cannot lock {name}: already locked\n")
    );
    // pop skips a locked element
    assert_eq!(run(&["pop", "-p", q.p()], b"").code, 3);
    // get reads through the lock and keeps it
    assert_eq!(ok(&["get", "-p", q.p(), name], b""), "x");
    ok(&["touch", "-p", q.p(), name], b"");
    ok(&["unlock", "-p", q.p(), name], b"");
    let r = run(&["unlock", "-p", q.p(), name], b"");
    assert_eq!(
        (r.code, r.stderr.trim()),
        (1, &*format!("dirq: cannot unlock {name}: not locked"))
    );
    ok(&["remove", "-p", q.p(), name], b"");
    assert_eq!(ok(&["count", "-p", q.p()], b""), "0\n");
    for cmd in ["get", "lock", "unlock", "remove", "touch"] {
        let r = run(&[cmd, "-p", q.p(), name], b"");
        assert_eq!(r.code, 5, "{cmd} of a missing element: {}", r.stderr);
        assert!(r.stderr.starts_with("dirq: ") && r.stderr.lines().count() == 1);
    }
}

#[test]
fn usage_errors_exit_2() {
    let q = Q::new();
    for args in [
        vec!["lock", "-p", q.p(), "not-a-name"],
        vec!["count"],
        vec!["count", "-p", q.p(), "--bogus"],
        vec!["count", "-p", q.p(), "--type", "weird"],
        vec!["add", "-p", q.p(), "--schema", "body=binary"],
        vec![
            "add",
            "-p",
            q.p(),
            "--type",
            "normal",
            "--schema",
            "body=blob",
        ],
        vec!["add", "-p", q.p(), "--umask", "999"],
        vec!["add", "-p", q.p(), "--rndhex", "16"],
    ] {
        let r = run(&args, b"");
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        // one line saying what is wrong, the usage after it
        let first = r.stderr.lines().next().unwrap_or_default();
        assert!(first.starts_with("dirq: "), "{args:?}: {}", r.stderr);
        assert!(first.len() > "dirq: ".len() + 10, "{args:?}: {}", r.stderr);
    }
    let r = run(&["add"], b"");
    assert_eq!(
        r.stderr.lines().next(),
        Some("dirq: the following required arguments were not provided: --path <Q>")
    );
    assert!(r.stderr.contains("\nUsage: dirq add"), "{}", r.stderr);
}

#[test]
fn normal_queues_speak_json() {
    let q = Q::new();
    let s = [
        "--type",
        "normal",
        "--schema",
        "body=binary,text=string?,header=table?",
    ];
    let input = concat!(
        r#"{"body":"AP8=","text":"é☺","header":{"a\tb":"c\nd"}}"#,
        "\n",
        r#"{"body":""}"#,
        "\n"
    );
    let mut args = vec!["add", "-p", q.p(), "--lines"];
    args.extend(s);
    let names = ok(&args, input.as_bytes());
    let names: Vec<&str> = names.lines().collect();
    assert_eq!(names.len(), 2);
    let dir = q.path.join(names[0]);
    assert_eq!(fs::read(dir.join("body")).expect("body"), b"\0\xff");
    assert_eq!(
        fs::read(dir.join("header")).expect("header"),
        b"a\\tb\tc\\nd\n"
    );
    let mut args = vec!["get", "-p", q.p(), names[0]];
    args.extend(s);
    assert_eq!(
        ok(&args, b""),
        "{\"body\":\"AP8=\",\"header\":{\"a\\tb\":\"c\\nd\"},\"text\":\"é☺\"}\n"
    );
    let mut args = vec!["pop", "-p", q.p(), "-c", "0", "--lines"];
    args.extend(s);
    let popped = ok(&args, b"");
    assert_eq!(
        popped.lines().count(),
        2,
        "one JSON object a line: {popped}"
    );
    assert_eq!(popped.lines().nth(1), Some(r#"{"body":""}"#));
}

#[test]
fn bad_json_is_reported_and_the_rest_added() {
    let q = Q::new();
    let s = ["--type", "normal", "--schema", "body=binary,header=table?"];
    let input = concat!(
        "{\"body\":\"eA==\"}\n",
        "{not json\n",
        "{\"body\":\"!!\"}\n",
        "{\"header\":{}}\n",
        "{\"body\":\"\",\"header\":{\"k\":1}}\n",
        "[1]\n",
        "{\"body\":\"eQ==\"}\n"
    );
    let mut args = vec!["add", "-p", q.p(), "--lines"];
    args.extend(s);
    let r = run(&args, input.as_bytes());
    assert_eq!(r.code, 1);
    assert_eq!(r.stdout.lines().count(), 2, "the two good lines were added");
    let errs: Vec<&str> = r.stderr.lines().collect();
    assert_eq!(errs.len(), 6, "{}", r.stderr);
    assert!(
        errs[0].starts_with("dirq: standard input line 2: invalid JSON"),
        "{}",
        errs[0]
    );
    assert!(errs[1].starts_with("dirq: standard input line 3: field body: invalid base64"));
    assert_eq!(
        errs[2],
        "dirq: standard input line 4: invalid data: missing mandatory field body"
    );
    assert!(errs[3].contains("table value for \"k\" must be a string"));
    assert_eq!(
        errs[4],
        "dirq: standard input line 6: expected a JSON object keyed by field"
    );
    assert_eq!(errs[5], "dirq: 5 input(s) could not be added (see above)");
    assert!(
        fs::read_dir(q.path.join("temporary"))
            .expect("ls")
            .next()
            .is_none()
    );
}

#[test]
fn corrupt_elements_are_reported_and_left_in_place() {
    let q = Q::new();
    let s = ["--type", "normal", "--schema", "body=string"];
    let mut args = vec!["add", "-p", q.p(), "--lines"];
    args.extend(s);
    let names = ok(
        &args,
        b"{\"body\":\"a\"}\n{\"body\":\"b\"}\n{\"body\":\"c\"}\n",
    );
    let names: Vec<&str> = names.lines().collect();
    fs::write(q.path.join(names[0]).join("body"), b"\xff\xfe").expect("corrupt");
    fs::remove_file(q.path.join(names[1]).join("body")).expect("corrupt");
    let mut args = vec!["pop", "-p", q.p(), "-c", "0"];
    args.extend(s);
    let r = run(&args, b"");
    assert_eq!(r.code, 1);
    assert_eq!(r.stdout, "{\"body\":\"c\"}\n");
    let errs: Vec<&str> = r.stderr.lines().collect();
    assert_eq!(errs.len(), 3, "{}", r.stderr);
    assert!(errs[0].contains(names[0]) && errs[0].ends_with("invalid UTF-8 in string field"));
    assert!(
        errs[1].contains(names[1])
            && errs[1].ends_with("missing data file for mandatory field body")
    );
    assert_eq!(
        errs[2],
        "dirq: 2 element(s) could not be read and were left in the queue"
    );
    let mut args = vec!["count", "-p", q.p()];
    args.extend(s);
    assert_eq!(ok(&args, b""), "2\n");
    // and unlocked again, for a later look
    let mut args = vec!["lock", "-p", q.p(), names[0]];
    args.extend(s);
    ok(&args, b"");
}

#[test]
fn list_into_a_closed_pipe_exits_quietly() {
    let q = Q::new();
    let lib = QueueSimple::new(&q.path).expect("open");
    for i in 0..20_000 {
        lib.add(format!("{i}").as_bytes()).expect("add");
    }
    let mut child = dirq()
        .args(["list", "-p", q.p()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut first = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut first)
        .expect("read one line");
    // the reader is gone now, like `| head -1`
    let mut err = String::new();
    child
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut err)
        .expect("stderr");
    let status = child.wait().expect("wait");
    assert_eq!(first.len(), 24);
    assert_eq!((status.code(), err.as_str()), (Some(0), ""));
}

fn spawn_pop(q: &Q) -> Child {
    dirq()
        .args(["pop", "-p", q.p(), "--count", "0", "--lines"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn pop")
}

fn locks(dir: &Path) -> usize {
    all_files(dir)
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "lck"))
        .count()
}

/// A `pop` holds an owner record while it holds a lock: blocked writing an element into a
/// full pipe, its lock is kept by `purge`; SIGKILLed there, the next `purge` releases it at
/// once (with the default maxlock of 600 s), and the element is popped whole.
#[test]
fn a_killed_pops_lock_is_released_at_once_by_purge_a_living_ones_never() {
    let q = Q::new();
    let big = vec![b'x'; 256 * 1024];
    ok(&["add", "--path", q.p()], &big);
    // nobody reads its output: it blocks in its write, the element locked
    let mut pop = dirq()
        .args(["pop", "-p", q.p()])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn pop");
    let t = std::time::Instant::now();
    while locks(&q.path) == 0 {
        assert!(t.elapsed() < Duration::from_secs(10), "pop took no lock");
        std::thread::sleep(Duration::from_millis(5));
    }
    std::thread::sleep(Duration::from_millis(100));
    ok(&["purge", "--path", q.p()], b"");
    assert_eq!(locks(&q.path), 1, "a living pop's lock is kept");
    pop.kill().expect("SIGKILL");
    pop.wait().expect("wait");
    assert_eq!(locks(&q.path), 1, "the killed pop's lock is left");
    ok(&["purge", "--path", q.p()], b"");
    assert_eq!(locks(&q.path), 0, "released at once");
    assert_eq!(ok(&["pop", "-p", q.p()], b"").as_bytes(), &big[..]);
}

#[test]
fn four_consumers_take_every_element_exactly_once() {
    let q = Q::new();
    let lib = QueueSimple::new(&q.path).expect("open");
    for i in 0..20_000 {
        lib.add(format!("element {i}").as_bytes()).expect("add");
    }
    let children: Vec<Child> = (0..4).map(|_| spawn_pop(&q)).collect();
    let mut got = Vec::new();
    for c in children {
        let out = c.wait_with_output().expect("wait");
        // a consumer that found nothing left exits 3; anything else is a failure
        assert!(
            matches!(out.status.code(), Some(0) | Some(3)),
            "{:?} {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        got.extend(
            String::from_utf8(out.stdout)
                .expect("utf8")
                .lines()
                .map(String::from),
        );
    }
    got.sort();
    let mut want: Vec<String> = (0..20_000).map(|i| format!("element {i}")).collect();
    want.sort();
    assert_eq!(got.len(), want.len(), "consumed exactly 20 000");
    assert_eq!(got, want);
    assert_eq!(lib.count().expect("count"), 0);
}

#[test]
fn producers_consumers_and_purge_together_lose_nothing() {
    let q = Q::new();
    // made first: a pop or purge that ran before the first add would find no queue
    QueueSimple::new(&q.path).expect("open");
    let gran = ["--granularity", "0"]; // a new directory every second: purge has work
    let producers: Vec<Child> = (0..2)
        .map(|p| {
            let mut c = dirq()
                .args(["add", "-p", q.p(), "--lines", "-q"])
                .args(gran)
                .stdin(Stdio::piped())
                .spawn()
                .expect("spawn add");
            let mut stdin = c.stdin.take().expect("stdin");
            std::thread::spawn(move || {
                for i in 0..3000 {
                    writeln!(stdin, "p{p}-{i}").expect("feed");
                    if i % 500 == 0 {
                        std::thread::sleep(Duration::from_millis(300));
                    }
                }
            });
            c
        })
        .collect();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let purger = {
        let stop = stop.clone();
        let p = q.p().to_string();
        std::thread::spawn(move || {
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let r = run(&["purge", "-p", &p], b"");
                assert_eq!(r.code, 0, "purge: {}", r.stderr);
            }
        })
    };
    let consumers: Vec<_> = (0..2)
        .map(|_| {
            let stop = stop.clone();
            let p = q.p().to_string();
            std::thread::spawn(move || {
                let mut got = Vec::new();
                loop {
                    let done = stop.load(std::sync::atomic::Ordering::Relaxed);
                    let r = run(&["pop", "-p", &p, "-c", "0", "--lines"], b"");
                    assert!(r.code == 0 || r.code == 3, "pop: {}", r.stderr);
                    got.extend(r.stdout.lines().map(String::from));
                    if done && r.code == 3 {
                        return got;
                    }
                }
            })
        })
        .collect();
    for mut p in producers {
        assert!(p.wait().expect("wait").success());
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    purger.join().expect("purger");
    let mut got: Vec<String> = consumers
        .into_iter()
        .flat_map(|c| c.join().expect("consumer"))
        .collect();
    got.sort();
    let mut want: Vec<String> = (0..2)
        .flat_map(|p| (0..3000).map(move |i| format!("p{p}-{i}")))
        .collect();
    want.sort();
    assert_eq!(got, want, "nothing lost, nothing twice");
}

fn pseudo_random(n: u64) -> u64 {
    let t = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .expect("time")
        .subsec_nanos() as u64;
    (t ^ (n.wrapping_mul(0x9e37_79b9_7f4a_7c15))) % 1000
}

fn all_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in fs::read_dir(dir).expect("ls") {
        let p = e.expect("entry").path();
        if p.is_dir() {
            out.extend(all_files(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// Whether the filesystem of `dir` has `O_TMPFILE` (where dirq writes Simple elements unnamed).
fn makes_unnamed_files(dir: &Path) -> bool {
    use std::os::unix::fs::OpenOptionsExt;
    fs::OpenOptions::new()
        .write(true)
        .custom_flags(libc::O_TMPFILE)
        .mode(0o600)
        .open(dir)
        .is_ok()
}

#[test]
fn a_killed_writer_never_leaves_a_partial_element() {
    let q = Q::new();
    let body = "x".repeat(200_000);
    for round in 0..12u64 {
        let mut c = dirq()
            .args(["add", "-p", q.p(), "--lines", "-q"])
            .stdin(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn");
        let mut stdin = c.stdin.take().expect("stdin");
        let body = body.clone();
        let feeder = std::thread::spawn(move || {
            for i in 0.. {
                if writeln!(stdin, "{round}-{i}:{body}").is_err() {
                    break;
                }
            }
        });
        std::thread::sleep(Duration::from_millis(20 + pseudo_random(round) % 200));
        c.kill().expect("SIGKILL");
        c.wait().expect("reap");
        feeder.join().expect("feeder");
    }
    let lib = QueueSimple::new(&q.path).expect("open");
    let mut n = 0;
    for name in lib.names() {
        let name = name.expect("name");
        let data = fs::read(q.path.join(&name)).expect("read");
        let s = String::from_utf8(data).expect("utf8");
        let (_, b) = s.split_once(':').expect("prefix");
        assert_eq!(b.len(), body.len(), "element {name} is complete");
        n += 1;
    }
    assert!(n > 0, "the writers got some elements in");
    // leftovers are only .tmp files, which purge removes once they are old; none at all where
    // the filesystem makes unnamed files (tmpfs and ext4, the tests' own): those vanish
    let tmps: Vec<PathBuf> = all_files(&q.path)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "tmp"))
        .collect();
    if makes_unnamed_files(&q.path) {
        assert!(tmps.is_empty(), "killed writers left {tmps:?}");
    }
    for t in &tmps {
        fs::File::open(t)
            .expect("open")
            .set_modified(SystemTime::now() - Duration::from_secs(400))
            .expect("age");
    }
    ok(&["purge", "-p", q.p()], b"");
    let left = all_files(&q.path);
    assert!(left.iter().all(|p| p.extension().is_none()), "{left:?}");
    assert_eq!(left.len(), n);
}

#[test]
fn dqs_and_dqn_speak_json_messages() {
    for kind in ["dqs", "dqn"] {
        let q = Q::new();
        let input = concat!(
            r#"{"header":{"destination":"/queue/a"},"body":"hello","text":true}"#,
            "\n",
            r#"{"header": {"k": "v"}, "body": "YWJj7g==", "encoding": "base64"}"#,
            "\n",
            r#"{"body":"eJxLTBwFo2AUDHcAAPnYevg=","text":true,"encoding":"utf8+zlib+base64"}"#,
            "\n",
            "{}\n"
        );
        let names = ok(
            &["add", "-p", q.p(), "-t", kind, "--lines"],
            input.as_bytes(),
        );
        let names: Vec<&str> = names.lines().collect();
        assert_eq!(names.len(), 4, "{kind}");
        let long = ok(&["list", "-p", q.p(), "-t", kind, "--long"], b"");
        let want = format!(
            "{}\n{}\n{}\n{{}}\n",
            r#"{"header":{"destination":"/queue/a"},"body":"hello","text":true}"#,
            r#"{"header":{"k":"v"},"body":"YWJj7g==","encoding":"base64"}"#,
            format_args!(r#"{{"body":"{}","text":true}}"#, "a".repeat(1000)),
        );
        assert_eq!(
            long, want,
            "{kind}: list --long prints the messages, Perl style"
        );
        assert_eq!(
            ok(&["get", "-p", q.p(), "-t", kind, names[1]], b""),
            "{\"header\":{\"k\":\"v\"},\"body\":\"YWJj7g==\",\"encoding\":\"base64\"}\n"
        );
        assert_eq!(ok(&["pop", "-p", q.p(), "-t", kind, "-c", "0"], b""), want);
        assert_eq!(ok(&["count", "-p", q.p(), "-t", kind], b""), "0\n");
    }
}

#[test]
fn dqs_add_reads_one_message_per_file_and_compresses() {
    let q = Q::new();
    let f = q.path.with_extension("msg");
    fs::write(
        &f,
        format!(r#"{{"body":"{}","text":true}}"#, "z".repeat(4000)),
    )
    .expect("write");
    let name = ok(
        &[
            "add",
            "-p",
            q.p(),
            "-t",
            "dqs",
            "--compression",
            "zlib",
            f.to_str().expect("utf8"),
        ],
        b"",
    );
    let stored = fs::read_to_string(q.path.join(name.trim())).expect("element");
    assert!(
        stored.ends_with(r#""text":true,"encoding":"base64+zlib"}"#),
        "{stored}"
    );
    let r = run(
        &["add", "-p", q.p(), "-t", "dqn", "--compression", "zlib"],
        b"{}",
    );
    assert_eq!(r.code, 2, "compression is for dqs only: {}", r.stderr);
    let r = run(
        &["add", "-p", q.p(), "-t", "dqs", "--compression", "gzip"],
        b"{}",
    );
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("unsupported compression \"gzip\""),
        "{}",
        r.stderr
    );
}

#[test]
fn malformed_messages_are_reported_and_left_in_place() {
    let q = Q::new();
    let r = run(
        &["add", "-p", q.p(), "-t", "dqs", "--lines"],
        b"{\"body\":\"ok\"}\nnot json\n{\"body\":1}\n{\"body\":\"x\",\"encoding\":\"rot13\"}\n",
    );
    assert_eq!(r.code, 1);
    let errs: Vec<&str> = r.stderr.lines().collect();
    assert!(
        errs[0].starts_with("dirq: standard input line 2: invalid JSON: expected ident"),
        "{}",
        errs[0]
    );
    assert!(
        errs[1].contains(
            "line 3: invalid message: invalid type: integer `1`, expected body as a JSON string"
        ),
        "{}",
        errs[1]
    );
    assert_eq!(
        errs[2],
        "dirq: standard input line 4: invalid message: decoding not supported: \"rot13\""
    );
    // a corrupt element on disk (written by something else)
    let good = r.stdout.trim().to_string();
    let lib = QueueSimple::new(&q.path).expect("open");
    let bad = lib
        .add(b"{\"body\":\"!!\",\"encoding\":\"base64\"}")
        .expect("add");
    lib.add(b"{\"body\":\"last\"}").expect("add");
    let r = run(&["pop", "-p", q.p(), "-t", "dqs", "-c", "0"], b"");
    assert_eq!(r.code, 1);
    assert_eq!(r.stdout, "{\"body\":\"ok\"}\n{\"body\":\"last\"}\n");
    let errs: Vec<&str> = r.stderr.lines().collect();
    assert_eq!(errs.len(), 2, "{}", r.stderr);
    assert!(
        errs[0].starts_with(&format!(
            "dirq: {}: invalid message: body is not valid base64",
            q.path.join(&bad).display()
        )),
        "{}",
        errs[0]
    );
    assert!(!good.is_empty());
    assert_eq!(
        ok(&["list", "-p", q.p()], b""),
        format!("{bad}\n"),
        "left in place, unlocked"
    );
}

#[test]
fn generate_fills_a_message_queue() {
    let q = Q::new();
    ok(
        &[
            "generate",
            "-p",
            q.p(),
            "-t",
            "dqn",
            "-c",
            "25",
            "--text",
            "0",
            "--body-length",
            "100-200",
            "--body-entropy",
            "4",
            "--header-count",
            "3",
            "--header-name-prefix",
            "x-",
            "--header-name-length",
            "6",
            "--header-name-entropy",
            "2",
            "--header-value-length",
            "8",
            "--header",
            "destination=/queue/gen",
        ],
        b"",
    );
    assert_eq!(ok(&["count", "-p", q.p(), "-t", "dqn"], b""), "25\n");
    let lines = ok(&["pop", "-p", q.p(), "-t", "dqn", "-c", "0"], b"");
    for line in lines.lines() {
        let m = message::decode(line.as_bytes()).expect("a message");
        assert!(!m.is_text());
        assert!((100..=200).contains(&m.body.as_bytes().len()));
        assert_eq!(m.header.len(), 4);
        assert_eq!(m.header["destination"], "/queue/gen");
        assert!(
            m.header
                .keys()
                .filter(|k| *k != "destination")
                .all(|k| k.starts_with("x-") && k.len() == 8)
        );
    }
    let r = run(&["generate", "-p", q.p(), "--header-count", "many"], b"");
    assert_eq!(r.code, 2);
}

/// `pop --wait`: blocks until an element arrives and takes it at once (inotify), or exits 3
/// when the time is up; elements already there are taken without waiting.
#[test]
fn pop_wait_takes_an_element_the_moment_it_arrives() {
    let q = Q::new();
    ok(&["add", "--path", q.p()], b"first");
    assert_eq!(ok(&["pop", "--path", q.p(), "--wait", "5"], b""), "first");
    // empty: exit 3 after the time, not before
    let t = std::time::Instant::now();
    assert_eq!(run(&["pop", "--path", q.p(), "--wait", "0.3"], b"").code, 3);
    assert!(t.elapsed() >= Duration::from_millis(300));
    // a consumer waiting for ever gets what a producer adds later, at once
    let consumer = dirq()
        .args(["pop", "--path", q.p(), "--wait"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn");
    std::thread::sleep(Duration::from_millis(300));
    let added = std::time::Instant::now();
    ok(&["add", "--path", q.p()], b"late");
    let out = consumer.wait_with_output().expect("wait");
    let latency = added.elapsed();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "late");
    assert!(
        latency < Duration::from_millis(900),
        "woken after {latency:?}"
    );
    assert_eq!(run(&["pop", "--path", q.p(), "--wait", "-1"], b"").code, 2);
}

/// Commands that read do not create: a mistyped path is one line and exit 1, and nothing is
/// made; only `add` makes a queue, and a failure to make one is exit 1, not "no such element".
#[test]
fn a_missing_queue_is_an_error_not_an_empty_new_one() {
    let q = Q::new();
    for cmd in ["count", "list", "pop", "purge"] {
        let r = run(&[cmd, "--path", q.p()], b"");
        assert_eq!(r.code, 1, "{cmd}: {}", r.stderr);
        assert!(
            r.stderr.starts_with("dirq: no queue at "),
            "{cmd}: {}",
            r.stderr
        );
        assert_eq!(r.stderr.lines().count(), 1);
        assert!(!q.path.exists(), "{cmd} made the queue");
    }
    let r = run(&["add", "--path", "/proc/msgtk-q"], b"x");
    assert_eq!(r.code, 1, "{}", r.stderr);
    let file = q._dir.path().join("afile");
    fs::write(&file, b"").expect("write");
    let inside = file.join("q");
    let r = run(&["count", "--path", inside.to_str().expect("utf8")], b"");
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("Not a directory"), "{}", r.stderr);
    ok(&["add", "--path", q.p()], b"x");
    assert_eq!(ok(&["count", "--path", q.p()], b"").trim(), "1");
}

/// `pop --null` separates bodies with NUL bytes (bodies may hold newlines); `--lines` and
/// `--null` exclude each other.
#[test]
fn pop_null_separates_bodies_that_hold_newlines() {
    let q = Q::new();
    ok(&["add", "--path", q.p()], b"a\nb");
    ok(&["add", "--path", q.p()], b"c");
    assert_eq!(
        ok(&["pop", "--path", q.p(), "--count", "0", "--null"], b""),
        "a\nb\0c\0"
    );
    assert_eq!(
        run(&["pop", "--path", q.p(), "--lines", "--null"], b"").code,
        2
    );
}

#[test]
fn stats_counts_elements_locks_temporaries_and_ages() {
    let q = Q::new();
    let names = ok(&["add", "--path", q.p(), "--lines"], b"a\nb\nc\n");
    let names: Vec<&str> = names.lines().collect();
    ok(&["lock", "--path", q.p(), names[1]], b"");
    // a temporary element left by a crashed writer, beside the elements
    let dir = q.path.join(&names[0][..8]);
    fs::write(dir.join("0000000000000a.tmp"), b"half").expect("tmp");
    // the oldest element 100 s old (its name carries its time)
    let old = format!(
        "{:08x}000000",
        SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .expect("now")
            .as_secs()
            - 100
    );
    fs::write(dir.join(&old), b"old").expect("old");
    let text = ok(&["stats", "--path", q.p()], b"");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[..3],
        ["elements 4", "locked 1", "temporary 1"],
        "{text}"
    );
    let age: u64 = lines[3]
        .strip_prefix("oldest_age_seconds ")
        .expect("oldest")
        .parse()
        .expect("n");
    assert!((100..110).contains(&age), "{text}");
    let v: serde_json::Value =
        serde_json::from_str(&ok(&["stats", "--path", q.p(), "--json"], b"")).expect("json");
    assert_eq!(
        (v["elements"].as_u64(), v["locked"].as_u64()),
        (Some(4), Some(1))
    );
    assert!(
        v["newest_age_seconds"].as_u64().is_some_and(|a| a < 10),
        "{v}"
    );
    let prom = ok(&["stats", "--path", q.p(), "--prometheus"], b"");
    assert!(
        prom.contains(&format!("dirq_elements{{queue=\"{}\"}} 4\n", q.p())),
        "{prom}"
    );
    assert!(
        prom.contains("# TYPE dirq_locked_elements gauge\n"),
        "{prom}"
    );
    // an empty queue has no ages
    let e = Q::new();
    ok(&["add", "--path", e.p()], b"x");
    ok(&["pop", "--path", e.p()], b"");
    let v: serde_json::Value =
        serde_json::from_str(&ok(&["stats", "--path", e.p(), "--json"], b"")).expect("json");
    assert_eq!(v["elements"], 0);
    assert!(v["oldest_age_seconds"].is_null(), "{v}");
    let r = run(&["stats", "--path", "/nonexistent/q"], b"");
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("/nonexistent/q"), "{}", r.stderr);
}
