//! The first two lines of a pidfile, as the agents and simplevisor share them: line 1 the
//! pid, line 2 an action written by a command line for the running process (`quit`, …).
//! Each tool keeps its own protocol (when it reads, how it answers) on top of these.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::Path;

/// Reads `(pid, action)`; either may be missing.
pub fn read(path: &Path) -> std::io::Result<(Option<i32>, Option<String>)> {
    let text = std::fs::read_to_string(path)?;
    let mut lines = text.lines();
    let pid = lines.next().and_then(|l| l.trim().parse().ok());
    let action = lines
        .next()
        .map(|l| l.trim().to_string())
        .filter(|a| !a.is_empty());
    Ok((pid, action))
}

/// The pid a pidfile names, if it can be read and holds one.
pub fn read_pid(path: &Path) -> Option<i32> {
    read(path).ok().and_then(|(pid, _)| pid)
}

/// Writes an action for the running process, in place: a process that locked this file
/// keeps its lock, and the file is never seen empty (written over the pid line, then cut
/// to length). Returns the pid it names, or `None` (and writes nothing) when it names none.
pub fn send_action(path: &Path, action: &str) -> std::io::Result<Option<i32>> {
    let Some(pid) = read_pid(path) else {
        return Ok(None);
    };
    let mut f = OpenOptions::new().write(true).open(path)?;
    let text = format!("{pid}\n{action}\n");
    f.write_all(text.as_bytes())?;
    f.set_len(text.len() as u64)?;
    Ok(Some(pid))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_and_send() {
        let d = tempfile::tempdir().expect("tmp");
        let p = d.path().join("x.pid");
        assert!(read(&p).is_err());
        // no file: nothing to tell, nothing written
        assert_eq!(send_action(&p, "quit").expect("no file"), None);
        assert!(!p.exists());
        std::fs::write(&p, "12345\n").expect("write");
        assert_eq!(read(&p).expect("read"), (Some(12345), None));
        assert_eq!(send_action(&p, "quit").expect("send"), Some(12345));
        assert_eq!(
            read(&p).expect("read"),
            (Some(12345), Some("quit".to_string()))
        );
        std::fs::write(&p, "\n").expect("write");
        assert_eq!(read_pid(&p), None);
    }
}
