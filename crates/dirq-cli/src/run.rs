//! What each subcommand does.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};

use dirq::{AnyQueue, DirQueue, Error, Options, QueueNormal, QueueSimple, Schema};
use message::generator::{Generator, Rng};
use message::{Encoder, MessageQueue, QueueKind, QueueOptions};

use crate::cli::{Cli, Command, Kind, QueueArgs};
use crate::json;

/// Why the command did not succeed, with its documented exit status.
#[derive(Debug)]
pub enum Failure {
    /// Exit 1.
    Error(String),
    /// Exit 2.
    Usage(String),
    /// Exit 3, silently: pop found nothing (cron jobs should not mail about it).
    Empty,
    /// Exit 4.
    Locked(String),
    /// Exit 5.
    NotFound(String),
    /// Exit 0 without a word: the reader of our output went away (`dirq list | head`).
    Quiet,
}

impl Failure {
    /// The exit status.
    pub fn code(&self) -> i32 {
        match self {
            Failure::Quiet => 0,
            Failure::Error(_) => 1,
            Failure::Usage(_) => 2,
            Failure::Empty => 3,
            Failure::Locked(_) => 4,
            Failure::NotFound(_) => 5,
        }
    }

    /// The one-line message for stderr, if any.
    pub fn message(&self) -> Option<&str> {
        match self {
            Failure::Error(m) | Failure::Usage(m) | Failure::Locked(m) | Failure::NotFound(m) => {
                Some(m)
            }
            Failure::Empty | Failure::Quiet => None,
        }
    }
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        let msg = e.to_string();
        match e {
            Error::InvalidName(_) | Error::InvalidOption { .. } | Error::InvalidSchema(_) => {
                Failure::Usage(msg)
            }
            _ if e.is_already_locked() => Failure::Locked(msg),
            _ if e.is_not_found() => Failure::NotFound(msg),
            _ => Failure::Error(msg),
        }
    }
}

impl From<io::Error> for Failure {
    fn from(e: io::Error) -> Self {
        if e.kind() == io::ErrorKind::BrokenPipe {
            Failure::Quiet
        } else {
            Failure::Error(format!("cannot write output: {e}"))
        }
    }
}

type Outcome = Result<(), Failure>;

/// An opened queue of the kind asked for.
enum Queue {
    /// Simple or Normal: raw bodies or JSON objects keyed by field.
    Plain {
        any: AnyQueue,
        schema: Option<Schema>,
    },
    /// DQS or DQN: messages, read and written in their JSON form.
    Messages(MessageQueue),
}

impl From<message::Error> for Failure {
    fn from(e: message::Error) -> Self {
        match e {
            message::Error::Dirq(e) => e.into(),
            message::Error::Option(_) => Failure::Usage(e.to_string()),
            e => Failure::Error(e.to_string()),
        }
    }
}

impl Queue {
    /// Opens a queue that must exist: commands that only read (or change elements that
    /// must be there) fail on a missing or mistyped path instead of creating it.
    fn existing(a: &QueueArgs) -> Result<Self, Failure> {
        match std::fs::metadata(&a.path) {
            Ok(m) if m.is_dir() => Queue::open(a),
            Ok(_) => Err(Failure::Error(format!(
                "{}: not a queue (not a directory)",
                a.path.display()
            ))),
            Err(e) => Err(Failure::Error(format!(
                "no queue at {}: {e}",
                a.path.display()
            ))),
        }
    }

    /// Opens a queue for adding, making its directories: a failure to make them is a
    /// plain error (exit 1), not "no such element".
    fn create(a: &QueueArgs) -> Result<Self, Failure> {
        Queue::open(a).map_err(|f| match f {
            Failure::NotFound(m) | Failure::Locked(m) => Failure::Error(m),
            f => f,
        })
    }

    fn open(a: &QueueArgs) -> Result<Self, Failure> {
        let mut o = Options {
            granularity: a.granularity,
            maxelts: a.maxelts,
            sync: a.sync,
            ..Options::default()
        };
        if let Some(u) = &a.umask {
            o.set("umask", u)?;
        }
        if let Some(r) = a.rndhex {
            o.set("rndhex", &r.to_string())?;
        }
        if a.schema.is_some() && a.kind != Kind::Normal {
            return Err(Failure::Usage(
                "--schema applies to --type normal only".into(),
            ));
        }
        if a.compression.is_some() && a.kind != Kind::Dqs {
            return Err(Failure::Usage(
                "--compression applies to --type dqs only".into(),
            ));
        }
        if let Some(s) = &a.schema {
            o.set("schema", s)?;
        }
        let schema = o.schema.clone();
        Ok(match a.kind {
            Kind::Simple => Queue::Plain {
                any: AnyQueue::Simple(QueueSimple::with_options(&a.path, &o)?),
                schema,
            },
            Kind::Normal => Queue::Plain {
                any: AnyQueue::Normal(QueueNormal::with_options(&a.path, &o)?),
                schema,
            },
            Kind::Dqs | Kind::Dqn => {
                let encoder = match &a.compression {
                    Some(c) => c
                        .parse()
                        .map_err(|e| Failure::Usage(format!("--compression: {e}")))?,
                    None => Encoder::default(),
                };
                let kind = if a.kind == Kind::Dqs {
                    QueueKind::Dqs
                } else {
                    QueueKind::Dqn
                };
                Queue::Messages(MessageQueue::open(&QueueOptions {
                    kind,
                    path: Some(a.path.clone()),
                    dirq: o,
                    encoder,
                })?)
            }
        })
    }

    fn dq(&self) -> &dyn DirQueue {
        match self {
            Queue::Plain { any, .. } => any,
            Queue::Messages(m) => m.dirq(),
        }
    }

    fn schema(&self) -> Result<&Schema, Failure> {
        match self {
            Queue::Plain {
                schema: Some(s), ..
            } => Ok(s),
            _ => Err(Failure::Usage(
                "normal queues need --schema to add or read elements".into(),
            )),
        }
    }

    /// Checks, before any element is touched, that elements can be read.
    fn check_readable(&self) -> Outcome {
        if let Queue::Plain {
            any: AnyQueue::Normal(_),
            ..
        } = self
        {
            self.schema()?;
        }
        Ok(())
    }

    /// True for kinds whose printed form is one JSON line per element.
    fn prints_lines(&self) -> bool {
        !matches!(
            self,
            Queue::Plain {
                any: AnyQueue::Simple(_),
                ..
            }
        )
    }

    /// Adds one element from its textual input.
    fn add(&self, input: &[u8]) -> Result<String, String> {
        match self {
            Queue::Plain {
                any: AnyQueue::Simple(q),
                ..
            } => q.add(input).map_err(|e| e.to_string()),
            Queue::Plain {
                any: AnyQueue::Normal(q),
                ..
            } => {
                let schema = self
                    .schema()
                    .map_err(|f| f.message().unwrap_or("").to_string())?;
                let elt = json::from_json(input, schema)?;
                q.add(&elt).map_err(|e| e.to_string())
            }
            Queue::Plain {
                any: AnyQueue::Null(q),
                ..
            } => q.add(input).map_err(|e| e.to_string()),
            Queue::Messages(q) => {
                let m = message::decode(input).map_err(|e| e.to_string())?;
                q.add_message(&m).map_err(|e| e.to_string())
            }
        }
    }

    /// Reads a locked element as the bytes to print (structured kinds: JSON and a newline).
    /// The error is the reason alone; callers add the element's path.
    fn read(&self, name: &str) -> Result<Vec<u8>, String> {
        let mut line = match self {
            Queue::Plain {
                any: AnyQueue::Simple(q),
                ..
            } => return q.get(name).map_err(|e| e.to_string()),
            Queue::Plain {
                any: AnyQueue::Normal(q),
                ..
            } => {
                self.schema()
                    .map_err(|f| f.message().unwrap_or("").to_string())?;
                json::to_json(&q.get(name).map_err(|e| e.to_string())?)
            }
            Queue::Plain {
                any: AnyQueue::Null(_),
                ..
            } => return Err(Error::Unsupported("get").to_string()),
            Queue::Messages(q) => match q.get_message(name) {
                Ok(m) => Encoder::default().encode(&m),
                Err(message::Error::Corrupt { source, .. }) => return Err(source.to_string()),
                Err(e) => return Err(e.to_string()),
            },
        };
        line.push('\n');
        Ok(line.into_bytes())
    }

    /// [`Queue::read`], appended to `out` (nothing on an error): a Simple element's body
    /// read straight into it.
    fn read_into(&self, name: &str, out: &mut Vec<u8>) -> Result<(), String> {
        match self {
            Queue::Plain {
                any: AnyQueue::Simple(q),
                ..
            } => q.get_into(name, out).map_err(|e| e.to_string()),
            _ => {
                out.extend_from_slice(&self.read(name)?);
                Ok(())
            }
        }
    }

    fn exists(&self, name: &str) -> bool {
        dirq::is_full_name(name) && self.dq().path().join(name).exists()
    }

    /// Reads an element without taking it: locks it for the read if it is free, reads
    /// through the existing lock otherwise. `None`: it is gone.
    fn peek(&self, name: &str) -> Result<Option<Result<Vec<u8>, String>>, Failure> {
        let locked_here = self.dq().lock_with(name, true)?;
        if !locked_here && !self.dq().is_locked(name)? {
            return Ok(None);
        }
        let body = self.read(name);
        if locked_here {
            self.dq().unlock_with(name, true)?;
        }
        Ok(Some(body))
    }

    /// One line on stderr naming the element's path and the reason (once: dirq's own
    /// errors name the field file already).
    fn report(&self, name: &str, reason: &str) {
        let path = self.dq().path().join(name);
        if reason.contains(&*path.to_string_lossy()) {
            eprintln!("dirq: {reason}");
        } else {
            eprintln!("dirq: {}: {reason}", path.display());
        }
    }
}

/// Runs one parsed command line.
pub fn run(cli: Cli) -> Outcome {
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    let r = dispatch(cli.command, &mut out);
    // A reader that went away is not an error (`dirq list | head`).
    let flushed = out.flush().map_err(Failure::from);
    r.and(flushed)
}

/// An element name is checked before the queue: a bad name is a usage error (exit 2) even
/// where the queue does not exist.
fn named(name: &str) -> Outcome {
    if dirq::is_full_name(name) {
        Ok(())
    } else {
        Err(Error::InvalidName(name.to_string()).into())
    }
}

fn dispatch(cmd: Command, out: &mut impl Write) -> Outcome {
    if let Command::Get { name, .. }
    | Command::Lock { name, .. }
    | Command::Unlock { name, .. }
    | Command::Remove { name, .. }
    | Command::Touch { name, .. } = &cmd
    {
        named(name)?;
    }
    match cmd {
        Command::Add {
            queue,
            lines,
            quiet,
            files,
        } => add(&Queue::create(&queue)?, lines, quiet, &files, out),
        Command::Count { queue } => {
            let n = Queue::existing(&queue)?.dq().count()?;
            writeln!(out, "{n}")?;
            Ok(())
        }
        Command::Stats {
            queue,
            json,
            prometheus,
        } => {
            let st = stats(&Queue::existing(&queue)?, queue.kind)?;
            let text = if json {
                st.json(&queue.path).to_string() + "\n"
            } else if prometheus {
                st.exposition(&queue.path).render()
            } else {
                st.lines()
            };
            out.write_all(text.as_bytes())?;
            Ok(())
        }
        Command::List { queue, long } => list(&Queue::existing(&queue)?, long, out),
        Command::Get { queue, name } => get(&Queue::existing(&queue)?, &name, out),
        Command::Pop {
            queue,
            count,
            lines,
            null,
            wait,
        } => {
            let sep = match (lines, null) {
                (_, true) => Some(b'\0'),
                (true, _) => Some(b'\n'),
                _ => None,
            };
            pop(&Queue::existing(&queue)?, count, sep, wait, out)
        }
        Command::Purge {
            queue,
            maxtemp,
            maxlock,
        } => {
            // the locks of killed agents and pops first, at once; then maxlock's
            let q = Queue::existing(&queue)?;
            dirq::owners::release_dead(q.dq(), None);
            Ok(q.dq().purge_with(maxtemp, maxlock)?)
        }
        Command::Lock { queue, name } => {
            Queue::existing(&queue)?.dq().lock_with(&name, false)?;
            Ok(())
        }
        Command::Unlock { queue, name } => {
            let q = Queue::existing(&queue)?;
            match q.dq().unlock_with(&name, false) {
                Err(Error::NotLocked { .. }) if !q.exists(&name) => Err(Failure::NotFound(
                    format!("cannot unlock {name}: no such element"),
                )),
                r => r.map(drop).map_err(Failure::from),
            }
        }
        Command::Remove { queue, name } => {
            let q = Queue::existing(&queue)?;
            if !q.dq().is_locked(&name)? {
                q.dq().lock_with(&name, false)?;
            }
            Ok(q.dq().remove(&name)?)
        }
        Command::Generate {
            queue,
            count,
            text,
            body_length,
            body_entropy,
            header_count,
            header_name_prefix,
            header_name_length,
            header_name_entropy,
            header_value_prefix,
            header_value_length,
            header_value_entropy,
            seed,
            fixed,
        } => {
            let mut fixed_headers = Vec::new();
            for f in &fixed {
                let (k, v) = f
                    .split_once('=')
                    .ok_or_else(|| Failure::Usage(format!("--header {f:?} is not KEY=VALUE")))?;
                fixed_headers.push((k.to_string(), v.to_string()));
            }
            let mut g = Generator::default();
            for (k, v) in [
                ("text", &text),
                ("body-length", &body_length),
                ("body-entropy", &body_entropy),
                ("header-count", &header_count),
                ("header-name-prefix", &header_name_prefix),
                ("header-name-length", &header_name_length),
                ("header-name-entropy", &header_name_entropy),
                ("header-value-prefix", &header_value_prefix),
                ("header-value-length", &header_value_length),
                ("header-value-entropy", &header_value_entropy),
            ] {
                g.set(k, v)
                    .map_err(|e| Failure::Usage(format!("--{k}: {e}")))?;
            }
            let Queue::Messages(q) = Queue::open(&queue)? else {
                return Err(Failure::Usage("generate needs --type dqs or dqn".into()));
            };
            let mut rng = Rng::new(seed);
            for _ in 0..count {
                let mut m = g.message(&mut rng);
                for (k, v) in &fixed_headers {
                    m.header.insert(k.clone(), v.clone());
                }
                q.add_message(&m)?;
            }
            Ok(())
        }
        Command::Touch { queue, name } => Ok(Queue::existing(&queue)?.dq().touch(&name)?),
    }
}

fn inputs(files: &[PathBuf]) -> Vec<Option<&Path>> {
    if files.is_empty() {
        return vec![None];
    }
    files
        .iter()
        .map(|f| (f.as_os_str() != "-").then_some(f.as_path()))
        .collect()
}

fn add(q: &Queue, lines: bool, quiet: bool, files: &[PathBuf], out: &mut impl Write) -> Outcome {
    let mut failed = 0usize;
    for src in inputs(files) {
        let label = src.map_or("standard input".to_string(), |p| p.display().to_string());
        let mut reader: Box<dyn BufRead> = match src {
            // large reads: with --lines, one read per many elements
            None => Box::new(BufReader::with_capacity(1 << 16, io::stdin().lock())),
            Some(p) => Box::new(BufReader::with_capacity(
                1 << 16,
                File::open(p).map_err(|e| Failure::Error(format!("cannot open {label}: {e}")))?,
            )),
        };
        // `what` names the input only when an add fails: nothing is formatted per element
        let mut one = |what: &dyn Fn() -> String, data: &[u8], out: &mut dyn Write| -> Outcome {
            match q.add(data) {
                Ok(name) => {
                    if !quiet {
                        writeln!(out, "{name}")?;
                    }
                }
                Err(e) => {
                    // Report and go on: the rest of the input still gets in.
                    eprintln!("dirq: {}: {e}", what());
                    failed += 1;
                }
            }
            Ok(())
        };
        let read_err = |e: io::Error| Failure::Error(format!("cannot read {label}: {e}"));
        if lines {
            // each line added from the reader's buffer where it lies whole in it; copied
            // only when it straddles two reads
            let (mut carry, mut lineno) = (Vec::new(), 0);
            loop {
                let buf = reader.fill_buf().map_err(read_err)?;
                if buf.is_empty() {
                    break;
                }
                let mut rest = buf;
                while let Some(i) = memchr::memchr(b'\n', rest) {
                    lineno += 1;
                    let what = || format!("{label} line {lineno}");
                    if carry.is_empty() {
                        one(&what, &rest[..i], out)?;
                    } else {
                        carry.extend_from_slice(&rest[..i]);
                        one(&what, &carry, out)?;
                        carry.clear();
                    }
                    rest = &rest[i + 1..];
                }
                carry.extend_from_slice(rest);
                let used = buf.len();
                reader.consume(used);
            }
            if !carry.is_empty() {
                lineno += 1;
                one(&|| format!("{label} line {lineno}"), &carry, out)?;
            }
        } else {
            let mut buf = Vec::new();
            reader.read_to_end(&mut buf).map_err(read_err)?;
            one(&|| label.clone(), &buf, out)?;
        }
    }
    if failed > 0 {
        return Err(Failure::Error(format!(
            "{failed} input(s) could not be added (see above)"
        )));
    }
    Ok(())
}

fn get(q: &Queue, name: &str, out: &mut impl Write) -> Outcome {
    q.check_readable()?;
    match q.peek(name)? {
        None => Err(Failure::NotFound(format!(
            "cannot get {name}: no such element"
        ))),
        Some(Ok(body)) => Ok(out.write_all(&body)?),
        Some(Err(reason)) => {
            q.report(name, &reason);
            Err(Failure::Error(format!(
                "cannot get {name}: unreadable element"
            )))
        }
    }
}

fn list(q: &Queue, long: bool, out: &mut impl Write) -> Outcome {
    if long {
        if !q.prints_lines() {
            return Err(Failure::Usage(
                "list --long needs a structured type (normal, dqs or dqn)".into(),
            ));
        }
        q.check_readable()?;
    }
    let mut bad = 0usize;
    for n in q.dq().names() {
        let n = n?;
        if !long {
            writeln!(out, "{n}")?;
            continue;
        }
        match q.peek(&n)? {
            None => {}
            Some(Ok(line)) => out.write_all(&line)?,
            Some(Err(reason)) => {
                q.report(&n, &reason);
                bad += 1;
            }
        }
    }
    if bad > 0 {
        return Err(Failure::Error(format!(
            "{bad} element(s) could not be read (see above)"
        )));
    }
    Ok(())
}

fn pop(
    q: &Queue,
    count: usize,
    sep: Option<u8>,
    wait: Option<f64>,
    out: &mut impl Write,
) -> Outcome {
    q.check_readable()?;
    let Some(secs) = wait else {
        return pop_once(q, count, sep, out);
    };
    if secs.is_nan() || secs < 0.0 {
        return Err(Failure::Usage(format!(
            "--wait {secs}: not a number of seconds"
        )));
    }
    // watching before the scan: an element added between the scan and the wait still wakes
    let mut waiter = dirq::Waiter::new(q.dq().path());
    let deadline = (secs.is_finite())
        .then(|| std::time::Instant::now() + std::time::Duration::from_secs_f64(secs));
    loop {
        match pop_once(q, count, sep, out) {
            Err(Failure::Empty) => {}
            r => return r,
        }
        let left = match deadline {
            Some(d) => d.saturating_duration_since(std::time::Instant::now()),
            None => std::time::Duration::from_secs(3600),
        };
        if left.is_zero() {
            return Err(Failure::Empty);
        }
        // a wake-up is a hint (another consumer may take the element): scan again anyway
        waiter.wait(left);
    }
}

/// Names `pop` plans (records in its owner file with one write) before locking them.
const PLAN: usize = 16;

/// Nanoseconds since the epoch: the stamps of `pop`'s locks.
fn now_ns() -> i128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as i128)
}

/// The elements `pop` takes, each planned in its owner file before it is locked (queues
/// whose locks carry stamps): a `pop` killed while it holds one leaves a lock the next
/// agent or `dirq purge` releases at once, as an agent's.
struct Taker<'a> {
    names: dirq::Names,
    owner: Option<dirq::owners::Owner>,
    planned: std::collections::VecDeque<(String, i128)>,
    exhausted: bool,
    q: &'a dyn DirQueue,
}

impl<'a> Taker<'a> {
    fn new(q: &'a dyn DirQueue) -> Self {
        let owner = if q.stamps_locks() {
            dirq::owners::Owner::new(q.path())
        } else {
            None
        };
        Taker {
            names: q.names(),
            owner,
            planned: std::collections::VecDeque::new(),
            exhausted: false,
            q,
        }
    }

    /// The next element locked here, or `None` when the queue has no more free ones.
    fn next(&mut self) -> Result<Option<String>, Failure> {
        loop {
            if self.planned.is_empty() && !self.exhausted {
                let base = now_ns();
                for i in 0..PLAN {
                    let Some(name) = self.names.next() else {
                        self.exhausted = true;
                        break;
                    };
                    let name = name?;
                    let stamp = base + i as i128;
                    if let Some(o) = self.owner.as_mut() {
                        o.took(&name, stamp);
                    }
                    self.planned.push_back((name, stamp));
                }
                if let Some(o) = self.owner.as_mut() {
                    o.flush();
                }
            }
            let Some((name, stamp)) = self.planned.pop_front() else {
                return Ok(None);
            };
            let locked = match self.owner {
                Some(_) => self.q.lock_at(&name, stamp)?,
                None => self.q.lock(&name)?,
            };
            if locked {
                return Ok(Some(name));
            }
            if let Some(o) = self.owner.as_mut() {
                o.not_taken(&name, stamp);
            }
        }
    }

    /// Done with an element: removed, or unlocked again.
    fn done(&mut self, name: &str, remove: bool) -> Result<(), Failure> {
        if let Some(o) = self.owner.as_mut() {
            o.released(name);
        }
        if remove {
            // locked here: no need to look
            self.q.remove_locked(name)?;
        } else {
            self.q.unlock_with(name, true)?;
        }
        Ok(())
    }
}

/// Elements `pop` takes before it writes them out (one write) and removes them.
const BATCH: usize = 64;

fn pop_once(q: &Queue, count: usize, sep: Option<u8>, out: &mut impl Write) -> Outcome {
    // Structured kinds print JSON lines already: a NUL may still be asked for
    let sep = sep.filter(|&b| b == 0 || !q.prints_lines());
    let mut popped = 0usize;
    let mut bad = 0usize;
    let mut taker = Taker::new(q.dq());
    let mut text = Vec::new();
    let mut taken: Vec<String> = Vec::new();
    loop {
        let room = if count == 0 {
            BATCH
        } else {
            (count - popped).min(BATCH)
        };
        while taken.len() < room {
            let name = match taker.next() {
                Ok(Some(name)) => name,
                Ok(None) => break,
                Err(e) => {
                    // what this batch holds goes back before the error is told
                    for name in &taken {
                        let _ = taker.done(name, false);
                    }
                    return Err(e);
                }
            };
            match q.read_into(&name, &mut text) {
                Ok(()) => {
                    text.extend(sep);
                    taken.push(name);
                }
                Err(reason) => {
                    // A corrupt element is reported and left in place, never dropped.
                    q.report(&name, &reason);
                    bad += 1;
                    taker.done(&name, false)?;
                }
            }
        }
        if taken.is_empty() {
            break;
        }
        // out before removed: a failed write puts them back
        if let Err(e) = out.write_all(&text).and_then(|()| out.flush()) {
            for name in &taken {
                taker.done(name, false)?;
            }
            return Err(e.into());
        }
        text.clear();
        for name in taken.drain(..) {
            taker.done(&name, true)?;
            popped += 1;
        }
        if popped == count {
            break;
        }
    }
    if bad > 0 {
        return Err(Failure::Error(format!(
            "{bad} element(s) could not be read and were left in the queue"
        )));
    }
    if popped == 0 {
        return Err(Failure::Empty);
    }
    Ok(())
}

/// What `dirq stats` reports.
#[derive(Debug, Default)]
struct Stats {
    elements: usize,
    locked: usize,
    temporary: usize,
    /// Seconds since the oldest and the newest element were added (from their names).
    oldest: Option<u64>,
    newest: Option<u64>,
}

/// The seconds an element name carries (its first 8 hex digits after the directory).
fn name_time(name: &str) -> Option<u64> {
    name.get(9..17)
        .and_then(|h| u64::from_str_radix(h, 16).ok())
}

fn stats(q: &Queue, kind: Kind) -> Result<Stats, Failure> {
    let dq = q.dq();
    let mut st = Stats::default();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    let (mut first, mut last) = (None, None);
    for name in dq.names() {
        let name = name?;
        st.elements += 1;
        // an element removed meanwhile is simply not locked
        if dq.is_locked(&name).unwrap_or(false) {
            st.locked += 1;
        }
        first.get_or_insert_with(|| name.clone());
        last = Some(name);
    }
    let age = |n: &Option<String>| {
        n.as_deref()
            .and_then(name_time)
            .map(|t| now.saturating_sub(t))
    };
    (st.oldest, st.newest) = (age(&first), age(&last));
    st.temporary = temporary(dq.path(), kind)?;
    Ok(st)
}

/// Temporary elements: `NAME.tmp` files in the intermediate directories (simple, dqs), or
/// the entries of `temporary/` (normal, dqn).
fn temporary(top: &Path, kind: Kind) -> Result<usize, Failure> {
    let list = |d: &Path| -> Result<Vec<String>, Failure> {
        match std::fs::read_dir(d) {
            Ok(rd) => Ok(rd
                .filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Vec::new()),
            Err(e) => Err(Failure::Error(format!("cannot list {}: {e}", d.display()))),
        }
    };
    Ok(match kind {
        Kind::Normal | Kind::Dqn => list(&top.join("temporary"))?.len(),
        Kind::Simple | Kind::Dqs => {
            let mut n = 0;
            for d in list(top)? {
                if dirq::is_dir_name(d.as_bytes()) {
                    n += list(&top.join(&d))?
                        .iter()
                        .filter(|f| {
                            f.strip_suffix(".tmp")
                                .is_some_and(|stem| dirq::is_element_name(stem.as_bytes()))
                        })
                        .count();
                }
            }
            n
        }
    })
}

impl Stats {
    fn lines(&self) -> String {
        let age = |a: Option<u64>| a.map_or("-".to_string(), |a| a.to_string());
        format!(
            "elements {}\nlocked {}\ntemporary {}\noldest_age_seconds {}\nnewest_age_seconds {}\n",
            self.elements,
            self.locked,
            self.temporary,
            age(self.oldest),
            age(self.newest)
        )
    }

    fn json(&self, path: &Path) -> serde_json::Value {
        serde_json::json!({
            "path": path.display().to_string(),
            "elements": self.elements,
            "locked": self.locked,
            "temporary": self.temporary,
            "oldest_age_seconds": self.oldest,
            "newest_age_seconds": self.newest,
        })
    }

    fn exposition(&self, path: &Path) -> metrics::Exposition {
        let q = path.display().to_string();
        let l = [("queue", q.as_str())];
        let mut e = metrics::Exposition::new();
        e.gauge("dirq_elements", "Elements in the queue, locked or not.")
            .sample(&l, self.elements as f64);
        e.gauge(
            "dirq_locked_elements",
            "Elements locked now (being processed).",
        )
        .sample(&l, self.locked as f64);
        e.gauge(
            "dirq_temporary_elements",
            "Temporary elements (being added, or left by a crash until purged).",
        )
        .sample(&l, self.temporary as f64);
        if let Some(a) = self.oldest {
            e.gauge(
                "dirq_oldest_element_age_seconds",
                "Age of the oldest element.",
            )
            .sample(&l, a as f64);
        }
        if let Some(a) = self.newest {
            e.gauge(
                "dirq_newest_element_age_seconds",
                "Age of the newest element.",
            )
            .sample(&l, a as f64);
        }
        e
    }
}
