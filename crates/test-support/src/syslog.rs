//! Catching what a program sends to syslog(3): a datagram socket at /dev/log when nothing
//! listens there, else bound over /dev/log in a mount namespace of the program's own (root).

use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// The socket the lines arrive on.
pub struct SyslogCatcher {
    sock: UnixDatagram,
    /// Bound at /dev/log itself (removed when dropped).
    ours: bool,
    path: PathBuf,
}

impl SyslogCatcher {
    /// A socket in `dir` (or at /dev/log); needs root.
    pub fn new(dir: &Path) -> SyslogCatcher {
        crate::process::need_root();
        let dev_log = Path::new("/dev/log");
        let ours = !dev_log.exists();
        let path = if ours {
            dev_log.to_path_buf()
        } else {
            dir.join("log.sock")
        };
        let sock = UnixDatagram::bind(&path).expect("bind the log socket");
        sock.set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        SyslogCatcher { sock, ours, path }
    }

    /// A command that runs `program` with its syslog lines sent here; the caller adds the
    /// program's arguments.
    pub fn command(&self, program: &str) -> Command {
        if self.ours {
            return Command::new(program);
        }
        let mut cmd = Command::new("unshare");
        cmd.args(["-m", "sh", "-c"])
            .arg(format!(
                "mount --bind {} /dev/log && exec {program} \"$@\"",
                self.path.display()
            ))
            .arg("sh");
        cmd
    }

    /// The lines received until one satisfies `last` (or 10 s pass without a line).
    pub fn lines_until(&self, last: impl Fn(&str) -> bool) -> Vec<String> {
        let mut got = Vec::new();
        let mut buf = [0u8; 4096];
        while let Ok(n) = self.sock.recv(&mut buf) {
            got.push(String::from_utf8_lossy(&buf[..n]).into_owned());
            if got.last().is_some_and(|l| last(l)) {
                break;
            }
        }
        got
    }
}

impl Drop for SyslogCatcher {
    fn drop(&mut self) {
        if self.ours {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}
