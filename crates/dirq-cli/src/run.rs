//! What each subcommand does.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};

use dirq::{AnyQueue, DirQueue, Error, Options, QueueNormal, QueueSimple, Schema};

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
struct Queue {
    any: AnyQueue,
    schema: Option<Schema>,
}

impl Queue {
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
        if let Some(s) = &a.schema {
            if a.kind == Kind::Simple {
                return Err(Failure::Usage(
                    "--schema applies to --type normal only".into(),
                ));
            }
            o.set("schema", s)?;
        }
        let schema = o.schema.clone();
        let any = match a.kind {
            Kind::Simple => AnyQueue::Simple(QueueSimple::with_options(&a.path, &o)?),
            Kind::Normal => AnyQueue::Normal(QueueNormal::with_options(&a.path, &o)?),
        };
        Ok(Queue { any, schema })
    }

    fn schema(&self) -> Result<&Schema, Failure> {
        self.schema.as_ref().ok_or_else(|| {
            Failure::Usage("normal queues need --schema to add or read elements".into())
        })
    }

    /// Adds one element from its textual input.
    fn add(&self, input: &[u8]) -> Result<String, String> {
        match &self.any {
            AnyQueue::Simple(q) => q.add(input).map_err(|e| e.to_string()),
            AnyQueue::Normal(q) => {
                let schema = self
                    .schema()
                    .map_err(|f| f.message().unwrap_or("").to_string())?;
                let elt = json::from_json(input, schema)?;
                q.add(&elt).map_err(|e| e.to_string())
            }
            AnyQueue::Null(q) => q.add(input).map_err(|e| e.to_string()),
        }
    }

    /// Reads a locked element as the bytes to print (Normal: JSON and a newline).
    fn read(&self, name: &str) -> Result<Vec<u8>, Failure> {
        match &self.any {
            AnyQueue::Simple(q) => Ok(q.get(name)?),
            AnyQueue::Normal(q) => {
                self.schema()?;
                let mut s = json::to_json(&q.get(name)?);
                s.push('\n');
                Ok(s.into_bytes())
            }
            AnyQueue::Null(_) => Err(Error::Unsupported("get").into()),
        }
    }

    fn exists(&self, name: &str) -> bool {
        dirq::is_full_name(name) && self.any.path().join(name).exists()
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

fn dispatch(cmd: Command, out: &mut impl Write) -> Outcome {
    match cmd {
        Command::Add {
            queue,
            lines,
            quiet,
            files,
        } => add(&Queue::open(&queue)?, lines, quiet, &files, out),
        Command::Count { queue } => {
            let n = Queue::open(&queue)?.any.count()?;
            writeln!(out, "{n}")?;
            Ok(())
        }
        Command::List { queue } => {
            for n in Queue::open(&queue)?.any.names() {
                writeln!(out, "{}", n?)?;
            }
            Ok(())
        }
        Command::Get { queue, name } => get(&Queue::open(&queue)?, &name, out),
        Command::Pop {
            queue,
            count,
            lines,
        } => pop(&Queue::open(&queue)?, count, lines, out),
        Command::Purge {
            queue,
            maxtemp,
            maxlock,
        } => Ok(Queue::open(&queue)?.any.purge_with(maxtemp, maxlock)?),
        Command::Lock { queue, name } => {
            Queue::open(&queue)?.any.lock_with(&name, false)?;
            Ok(())
        }
        Command::Unlock { queue, name } => {
            let q = Queue::open(&queue)?;
            match q.any.unlock_with(&name, false) {
                Err(Error::NotLocked { .. }) if !q.exists(&name) => Err(Failure::NotFound(
                    format!("cannot unlock {name}: no such element"),
                )),
                r => r.map(drop).map_err(Failure::from),
            }
        }
        Command::Remove { queue, name } => {
            let q = Queue::open(&queue)?;
            if !q.any.is_locked(&name)? {
                q.any.lock_with(&name, false)?;
            }
            Ok(q.any.remove(&name)?)
        }
        Command::Touch { queue, name } => Ok(Queue::open(&queue)?.any.touch(&name)?),
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
            None => Box::new(io::stdin().lock()),
            Some(p) => {
                Box::new(BufReader::new(File::open(p).map_err(|e| {
                    Failure::Error(format!("cannot open {label}: {e}"))
                })?))
            }
        };
        let mut one = |what: String, data: &[u8], out: &mut dyn Write| -> Outcome {
            match q.add(data) {
                Ok(name) => {
                    if !quiet {
                        writeln!(out, "{name}")?;
                    }
                }
                Err(e) => {
                    // Report and go on: the rest of the input still gets in.
                    eprintln!("dirq: {what}: {e}");
                    failed += 1;
                }
            }
            Ok(())
        };
        let read_err = |e: io::Error| Failure::Error(format!("cannot read {label}: {e}"));
        if lines {
            let mut buf = Vec::new();
            let mut lineno = 0;
            loop {
                buf.clear();
                if reader.read_until(b'\n', &mut buf).map_err(read_err)? == 0 {
                    break;
                }
                lineno += 1;
                if buf.last() == Some(&b'\n') {
                    buf.pop();
                }
                one(format!("{label} line {lineno}"), &buf, out)?;
            }
        } else {
            let mut buf = Vec::new();
            reader.read_to_end(&mut buf).map_err(read_err)?;
            one(label.clone(), &buf, out)?;
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
    let locked_here = q.any.lock_with(name, true)?;
    if !locked_here && !q.any.is_locked(name)? {
        return Err(Failure::NotFound(format!(
            "cannot get {name}: no such element"
        )));
    }
    let body = q.read(name);
    if locked_here {
        q.any.unlock_with(name, true)?;
    }
    out.write_all(&body?)?;
    Ok(())
}

fn pop(q: &Queue, count: usize, lines: bool, out: &mut impl Write) -> Outcome {
    if let AnyQueue::Normal(_) = q.any {
        q.schema()?;
    }
    // Normal elements print as JSON lines already.
    let newline = lines && matches!(q.any, AnyQueue::Simple(_));
    let mut popped = 0usize;
    let mut bad = 0usize;
    for name in q.any.names() {
        let name = name?;
        if !q.any.lock(&name)? {
            continue;
        }
        let body = match q.read(&name) {
            Ok(b) => b,
            Err(f) => {
                // A corrupt element is reported and left in place, never dropped.
                eprintln!(
                    "dirq: {}: {}",
                    q.any.path().join(&name).display(),
                    f.message().unwrap_or("unreadable")
                );
                bad += 1;
                q.any.unlock_with(&name, true)?;
                continue;
            }
        };
        let written = out
            .write_all(&body)
            .and_then(|()| {
                if newline {
                    out.write_all(b"\n")
                } else {
                    Ok(())
                }
            })
            .and_then(|()| out.flush());
        if let Err(e) = written {
            // Not delivered: put it back.
            q.any.unlock_with(&name, true)?;
            return Err(e.into());
        }
        q.any.remove(&name)?;
        popped += 1;
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
