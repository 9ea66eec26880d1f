//! Running commands and programs: each in its own process group, with a merged environment,
//! working directory and user; one reaper for every child (simplevisor is a subreaper, so
//! orphaned daemons come back to it and are reaped too); timeouts kill the whole group.

use std::collections::HashMap;
use std::io::{Read, Seek};
use std::os::fd::FromRawFd;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How a child ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// exit(code).
    Code(i32),
    /// Killed by this signal.
    Signal(i32),
}

impl Exit {
    /// Normal termination (exit 0).
    pub fn is_success(self) -> bool {
        self == Exit::Code(0)
    }

    /// The shell's view: the code, or 128 + signal.
    pub fn rc(self) -> i32 {
        match self {
            Exit::Code(c) => c,
            Exit::Signal(s) => 128 + s,
        }
    }
}

impl std::fmt::Display for Exit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Exit::Code(c) => write!(f, "exit status {c}"),
            Exit::Signal(s) => write!(f, "signal {s}"),
        }
    }
}

struct Reaped {
    /// pids whose exit someone waits for
    watched: std::collections::HashSet<i32>,
    /// their exits, until taken
    exits: HashMap<i32, Exit>,
}

static REAPED: Mutex<Option<Reaped>> = Mutex::new(None);

/// Held while a child is forked and registered, and while children are reaped: otherwise a
/// thread reaping could collect a quick child of another thread between its fork and its
/// registration, and that thread would wait for an exit already gone.
static SPAWNING: Mutex<()> = Mutex::new(());

fn with<R>(f: impl FnOnce(&mut Reaped) -> R) -> R {
    let mut g = REAPED.lock().unwrap_or_else(|e| e.into_inner());
    let r = g.get_or_insert_with(|| Reaped {
        watched: Default::default(),
        exits: HashMap::new(),
    });
    f(r)
}

/// Makes this process the reaper of its orphaned descendants (daemons started by service
/// commands come back to it instead of init), so none is left a zombie.
pub fn become_subreaper() {
    // SAFETY: prctl with integer arguments.
    unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) };
}

/// Someone will take this pid's exit.
pub fn watch(pid: i32) {
    with(|r| {
        r.watched.insert(pid);
    });
}

/// Reaps every child that has exited; exits of watched pids are kept for [`take`], others
/// (orphans adopted as subreaper) are just reaped. Returns how many watched pids ended.
pub fn reap() -> usize {
    let _guard = SPAWNING.lock().unwrap_or_else(|e| e.into_inner());
    let mut n = 0;
    loop {
        let mut status = 0;
        // SAFETY: waitpid with a valid out pointer.
        let pid = unsafe { libc::waitpid(-1, &mut status, libc::WNOHANG) };
        if pid <= 0 {
            return n;
        }
        let exit = if libc::WIFEXITED(status) {
            Exit::Code(libc::WEXITSTATUS(status))
        } else if libc::WIFSIGNALED(status) {
            Exit::Signal(libc::WTERMSIG(status))
        } else {
            continue;
        };
        with(|r| {
            if r.watched.remove(&pid) {
                r.exits.insert(pid, exit);
                n += 1;
            }
        });
    }
}

/// Whether a watched pid has been reaped (its exit waits for [`take`]).
pub fn has_exited(pid: i32) -> bool {
    with(|r| r.exits.contains_key(&pid))
}

/// The exit of a watched pid, once reaped.
pub fn take(pid: i32) -> Option<Exit> {
    with(|r| r.exits.remove(&pid))
}

/// Sends a signal to a whole process group (ignored if it is gone).
pub fn kill_group(pgid: i32, sig: i32) {
    procctl::signal(procctl::Target::Group(pgid), sig);
}

pub use procctl::group_alive;

/// Who runs a command, where and with what environment.
#[derive(Debug, Clone, Default)]
pub struct ExecOptions {
    /// PATH, merged into the inherited environment.
    pub path: Option<String>,
    /// More variables, merged.
    pub env: Vec<(String, String)>,
    /// Working directory.
    pub cwd: Option<PathBuf>,
    /// Owned programs: append their standard output and error to this file.
    pub output: Option<PathBuf>,
    /// User to run as (needs root): uid, gid, supplementary groups.
    pub user: Option<(u32, u32, Vec<u32>)>,
    /// Limit for one command.
    pub timeout: Duration,
    /// Owned programs: send their output to /dev/null instead of simplevisor's (`single`
    /// from cron must not leave its caller's pipes open in programs that outlive it).
    pub quiet: bool,
    /// Owned programs without a pidfile (`foreground`): they get SIGTERM if simplevisor
    /// itself dies, since nothing could adopt them afterwards and a new simplevisor would
    /// start a second copy.
    pub die_with_parent: bool,
}

/// A program that cannot be started, or a user that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SpawnError {
    /// An empty command line.
    #[error("empty command")]
    Empty,
    /// The output file cannot be opened.
    #[error("cannot open output {}", .path.display())]
    Output {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// fork/exec failed.
    #[error("cannot run {program}")]
    Run {
        /// The program.
        program: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The user database could not be read.
    #[error("cannot look up user {name}")]
    Lookup {
        /// The user.
        name: String,
        /// Why.
        #[source]
        source: nix::Error,
    },
    /// No such user.
    #[error("no such user: {0}")]
    NoUser(String),
    /// A user name with a NUL byte.
    #[error("bad user name {0:?}")]
    BadName(String),
}

/// Looks up a user for [`ExecOptions::user`].
pub fn lookup_user(name: &str) -> Result<(u32, u32, Vec<u32>), SpawnError> {
    let lookup = |source| SpawnError::Lookup {
        name: name.to_string(),
        source,
    };
    let u = nix::unistd::User::from_name(name)
        .map_err(lookup)?
        .ok_or_else(|| SpawnError::NoUser(name.to_string()))?;
    let cname = std::ffi::CString::new(name).map_err(|_| SpawnError::BadName(name.to_string()))?;
    let groups = nix::unistd::getgrouplist(&cname, u.gid).map_err(lookup)?;
    Ok((
        u.uid.as_raw(),
        u.gid.as_raw(),
        groups.into_iter().map(|g| g.as_raw()).collect(),
    ))
}

fn command(argv: &[String], o: &ExecOptions) -> std::process::Command {
    let mut c = std::process::Command::new(&argv[0]);
    c.args(&argv[1..]);
    if let Some(p) = &o.path {
        c.env("PATH", p);
    }
    for (k, v) in &o.env {
        c.env(k, v);
    }
    if let Some(d) = &o.cwd {
        c.current_dir(d);
    }
    c.stdin(std::process::Stdio::null());
    let user = o.user.clone();
    let die_with_parent = o.die_with_parent;
    // SAFETY: only async-signal-safe calls between fork and exec.
    unsafe {
        c.pre_exec(move || {
            if die_with_parent {
                let parent = libc::getppid();
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM, 0, 0, 0);
                // the parent may have died before prctl: then nobody will signal us
                if libc::getppid() != parent {
                    libc::_exit(1);
                }
            }
            // its own process group: stop and timeouts reach every process of it
            if libc::setpgid(0, 0) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            // capabilities simplevisor was given to run its services as their users (the
            // packaged unit's CAP_SETUID, CAP_SETGID, CAP_KILL, ambient) are not theirs: without
            // ambient ones, exec leaves a program of a user other than root none at all
            if libc::prctl(
                libc::PR_CAP_AMBIENT,
                libc::PR_CAP_AMBIENT_CLEAR_ALL,
                0,
                0,
                0,
            ) != 0
                && std::io::Error::last_os_error().raw_os_error() != Some(libc::EINVAL)
            {
                return Err(std::io::Error::last_os_error());
            }
            if let Some((uid, gid, groups)) = &user
                && (libc::setgroups(groups.len(), groups.as_ptr()) != 0
                    || libc::setgid(*gid) != 0
                    || libc::setuid(*uid) != 0)
            {
                return Err(std::io::Error::last_os_error());
            }
            // and none of them, not even inheritable, stays with a program not run as root
            if libc::getuid() != 0 {
                drop_capabilities()?;
            }
            Ok(())
        });
    }
    c
}

/// Empties this process's capability sets (capset(2) has no libc wrapper).
///
/// # Safety
/// Called between fork and exec: one system call.
unsafe fn drop_capabilities() -> std::io::Result<()> {
    #[repr(C)]
    struct Header {
        version: u32,
        pid: libc::c_int,
    }
    #[repr(C)]
    struct Data {
        effective: u32,
        permitted: u32,
        inheritable: u32,
    }
    const VERSION_3: u32 = 0x2008_0522;
    let header = Header {
        version: VERSION_3,
        pid: 0,
    };
    let none = [
        Data {
            effective: 0,
            permitted: 0,
            inheritable: 0,
        },
        Data {
            effective: 0,
            permitted: 0,
            inheritable: 0,
        },
    ];
    // SAFETY: a version-3 header and the two data structs it asks for.
    if unsafe { libc::syscall(libc::SYS_capset, &header, none.as_ptr()) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

/// Starts a long-running program (an owned service) in its own process group; its output
/// goes where simplevisor's goes. Returns its pid, watched for [`take`].
pub fn spawn(argv: &[String], o: &ExecOptions) -> Result<i32, SpawnError> {
    if argv.is_empty() {
        return Err(SpawnError::Empty);
    }
    let mut c = command(argv, o);
    if let Some(path) = &o.output {
        // opened at each start, so a rotated file (copytruncate or rename) is picked up
        let output = |source| SpawnError::Output {
            path: path.clone(),
            source,
        };
        let f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(output)?;
        let g = f.try_clone().map_err(output)?;
        c.stdout(f).stderr(g);
    } else if o.quiet {
        c.stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
    }
    let guard = SPAWNING.lock().unwrap_or_else(|e| e.into_inner());
    let child = c.spawn().map_err(|source| SpawnError::Run {
        program: argv[0].clone(),
        source,
    })?;
    let pid = child.id() as i32;
    watch(pid);
    drop(guard);
    Ok(pid)
}

/// What a command did: the reference's (rc, stdout, stderr).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// Exit code; 1 for a timeout or a command that cannot run, 128+N for signal N.
    pub rc: i32,
    /// Its standard output.
    pub stdout: String,
    /// Its standard error (`timeout` after a timeout).
    pub stderr: String,
}

impl Outcome {
    fn failed(why: String) -> Outcome {
        Outcome {
            rc: 1,
            stdout: String::new(),
            stderr: why,
        }
    }
}

fn memfd(name: &std::ffi::CStr) -> std::io::Result<std::fs::File> {
    // SAFETY: memfd_create with a NUL-terminated name; the fd is ours.
    let fd = unsafe { libc::memfd_create(name.as_ptr(), libc::MFD_CLOEXEC) };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: a fresh fd we own.
    Ok(unsafe { std::fs::File::from_raw_fd(fd) })
}

fn read_back(f: &mut std::fs::File) -> String {
    let mut buf = Vec::new();
    let _ = f.rewind();
    // a chatty command must not eat the supervisor's memory
    let _ = f.take(64 * 1024).read_to_end(&mut buf);
    String::from_utf8_lossy(&buf).into_owned()
}

/// Runs a command to its end or its timeout. Output is captured in memory files rather than
/// pipes, so a daemon that inherits them cannot block us. On timeout the whole process group
/// is killed, so no grandchild is left behind.
pub fn run(argv: &[String], o: &ExecOptions) -> Outcome {
    if argv.is_empty() {
        return Outcome::failed("empty command".into());
    }
    let (mut out, mut err) = match (memfd(c"stdout"), memfd(c"stderr")) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => return Outcome::failed(format!("memfd: {e}")),
    };
    let mut c = command(argv, o);
    match (out.try_clone(), err.try_clone()) {
        (Ok(a), Ok(b)) => {
            c.stdout(a).stderr(b);
        }
        (Err(e), _) | (_, Err(e)) => return Outcome::failed(format!("memfd: {e}")),
    }
    let guard = SPAWNING.lock().unwrap_or_else(|e| e.into_inner());
    let child = match c.spawn() {
        Ok(c) => c,
        Err(e) => return Outcome::failed(format!("cannot run {}: {e}", argv[0])),
    };
    let pid = child.id() as i32;
    watch(pid);
    drop(guard);
    drop(c);
    let deadline = Instant::now() + o.timeout;
    let mut nap = Duration::from_micros(200);
    let mut timed_out = false;
    let exit = loop {
        reap();
        if let Some(e) = take(pid) {
            break e;
        }
        if !timed_out && Instant::now() >= deadline {
            timed_out = true;
            kill_group(pid, libc::SIGKILL);
        }
        std::thread::sleep(nap);
        nap = (nap * 2).min(Duration::from_millis(10));
    };
    if timed_out {
        // the group may outlive its leader: make sure
        kill_group(pid, libc::SIGKILL);
        return Outcome {
            rc: 1,
            stdout: read_back(&mut out),
            stderr: "timeout".into(),
        };
    }
    Outcome {
        rc: exit.rc(),
        stdout: read_back(&mut out),
        stderr: read_back(&mut err),
    }
}

/// Processes whose command line (NUL bytes as spaces) matches the pattern, this process
/// excepted: the reference's pattern mode, native.
pub fn pidof(re: &regex::Regex) -> Vec<i32> {
    let me = std::process::id() as i32;
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for e in dir.flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<i32>().ok()) else {
            continue;
        };
        if pid == me {
            continue;
        }
        let Ok(raw) = std::fs::read(e.path().join("cmdline")) else {
            continue;
        };
        if raw.is_empty() {
            continue; // kernel threads, zombies
        }
        let line: String = String::from_utf8_lossy(&raw)
            .trim_end_matches('\0')
            .replace('\0', " ");
        if re.is_match(&line) {
            out.push(pid);
        }
    }
    out.sort_unstable();
    out
}
