//! Secrets kept in files, out of `ps`: `pass-file=PATH` in a credential, `--key-file`.
//!
//! A file the toolkit itself introduced as the place for a secret is refused when other
//! users of the host can reach it (as ssh refuses a private key others can read). Group
//! access is allowed: a package gives the file to `root:TOOL` with mode 0640 so that the
//! tool's own user reads it and nobody else does. Files the references accepted with secrets
//! in them (configuration files, TLS keys, ams-publisher's INI) are only warned about
//! ([`exposed`]): refusing them would break installations that work today.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// A secret file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    /// It cannot be read.
    #[error("{source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Others than its owner and group can read, write or run it.
    #[error("others can access it (mode {mode:04o}): chmod o-rwx it, it holds a secret")]
    Exposed {
        /// The file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// Its first line is empty.
    #[error("the first line holds no key or password")]
    Empty {
        /// The file.
        path: PathBuf,
    },
}

impl SecretError {
    /// The file.
    pub fn path(&self) -> &Path {
        match self {
            SecretError::Read { path, .. }
            | SecretError::Exposed { path, .. }
            | SecretError::Empty { path } => path,
        }
    }
}

/// The permission bits of `path` when other users can access it (any `o` bit), else `None`;
/// `None` too when it cannot be examined (reading it will then say why).
pub fn exposed(path: &Path) -> Option<u32> {
    let mode = std::fs::metadata(path).ok()?.permissions().mode() & 0o7777;
    (mode & 0o007 != 0).then_some(mode)
}

/// The secret in `path`: its first line without the line end (blanks inside are kept, a
/// password may hold them), refused when others can access the file or the line is empty.
pub fn read(path: &Path) -> Result<String, SecretError> {
    if let Some(mode) = exposed(path) {
        return Err(SecretError::Exposed {
            path: path.to_path_buf(),
            mode,
        });
    }
    let text = std::fs::read_to_string(path).map_err(|source| SecretError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let line = text.lines().next().unwrap_or("").trim_end_matches('\r');
    if line.trim().is_empty() {
        return Err(SecretError::Empty {
            path: path.to_path_buf(),
        });
    }
    Ok(line.to_string())
}

/// The warning for a file the references accepted with a secret in it, when others can
/// read it: `what` names it ("the configuration file").
pub fn warning(path: &Path, what: &str) -> Option<String> {
    exposed(path).map(|mode| {
        format!(
            "{what} {} holds a secret and others can access it (mode {mode:04o}): chmod o-rwx it",
            path.display()
        )
    })
}

/// `uri` with the password of any `SCHEME://USER:PASSWORD@` in it shown as `***`, and
/// whether there was a user part.
pub fn hide_userinfo(uri: &str) -> (String, bool) {
    let mut shown = String::with_capacity(uri.len());
    let mut found = false;
    for (i, part) in uri.split("://").enumerate() {
        if i > 0 {
            shown.push_str("://");
        }
        let host_end = part.find(['/', ',', ')', '?']).unwrap_or(part.len());
        match part[..host_end].rfind('@') {
            Some(at) if i > 0 => {
                found = true;
                let user = part[..at].split(':').next().unwrap_or("");
                shown.push_str(user);
                shown.push_str(":***");
                shown.push_str(&part[at..]);
            }
            _ => shown.push_str(part),
        }
    }
    (shown, found)
}

/// `-sockopts` with the value of `SSL_passwd` (and `SSL_passwd_cb`) shown as `***`.
pub fn hide_sockopts(sockopts: &str) -> String {
    sockopts
        .split_whitespace()
        .map(|kv| match kv.split_once('=') {
            Some((k, _)) if k.starts_with("SSL_passwd") => format!("{k}=***"),
            _ => kv.to_string(),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(dir: &Path, name: &str, text: &str, mode: u32) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, text).expect("write");
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).expect("chmod");
        p
    }

    #[test]
    fn hidden_in_uris_and_sockopts() {
        let (u, found) = hide_userinfo("failover:(stomp://h:1,ssl://u:pw@h:2/x@y)?a=b");
        assert_eq!(u, "failover:(stomp://h:1,ssl://u:***@h:2/x@y)?a=b");
        assert!(found);
        assert_eq!(
            hide_userinfo("stomp://h:1/a@b"),
            ("stomp://h:1/a@b".into(), false)
        );
        assert_eq!(
            hide_sockopts("SSL_ca_file=c SSL_passwd=pw"),
            "SSL_ca_file=c SSL_passwd=***"
        );
    }

    #[test]
    fn first_line_of_a_private_file() {
        let d = tempfile::tempdir().expect("tempdir");
        let p = file(d.path(), "a", "pa ss\r\nsecond\n", 0o640);
        assert_eq!(read(&p).expect("read"), "pa ss");
        assert!(warning(&p, "x").is_none());
    }

    #[test]
    fn refused_when_others_can_read_or_empty() {
        let d = tempfile::tempdir().expect("tempdir");
        let p = file(d.path(), "a", "secret\n", 0o644);
        let e = read(&p).expect_err("exposed");
        assert!(e.to_string().contains("mode 0644") && e.path() == p, "{e}");
        let w = warning(&p, "the configuration file").expect("warned");
        assert!(w.contains("mode 0644"), "{w}");
        let p = file(d.path(), "b", "\nsecond\n", 0o600);
        assert!(matches!(read(&p), Err(SecretError::Empty { .. })));
        let e = read(&d.path().join("none"))
            .expect_err("missing")
            .to_string();
        assert!(e.contains("No such file"), "{e}");
    }
}
