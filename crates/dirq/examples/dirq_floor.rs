//! The spool's floor, for `bench/dirq.sh`: only the system calls of the crate's technique,
//! with nothing around them, so that the library and the `dirq` command are measured against
//! what this machine can do at all.
//!
//! `dirq_floor DIR N SIZE`: in a fresh Simple-layout queue under DIR, adds N SIZE-byte
//! elements (an unnamed `O_TMPFILE` file written and linked to its name, then closed: 4 calls
//! relative to a held directory fd), then takes them all (a lock linked, its time set, the
//! element opened, read and closed, element and lock unlinked: 7 calls). Names are made from
//! a counter, the directory listed once. One JSON line a phase, as `dirq_bench` prints.

use std::ffi::CString;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::Path;
use std::time::Instant;

fn check(rc: libc::c_int, what: &str) -> libc::c_int {
    assert!(rc >= 0, "{what}: {}", std::io::Error::last_os_error());
    rc
}

fn check_size(rc: isize, what: &str) -> usize {
    assert!(rc >= 0, "{what}: {}", std::io::Error::last_os_error());
    rc as usize
}

fn phase(name: &str, n: usize, secs: f64) {
    println!(
        "{{\"impl\":\"floor\",\"phase\":\"{name}\",\"n\":{n},\"secs\":{secs:.6},\"rate\":{:.1}}}",
        n as f64 / secs
    );
}

/// `N` unnamed files written and linked into `dir`; their names.
fn add(dir: &OwnedFd, n: usize, body: &[u8]) -> Vec<CString> {
    let d = dir.as_raw_fd();
    let mut names = Vec::with_capacity(n);
    for i in 0..n {
        let name = CString::new(format!("{:014x}", 0x6000_0000_0000u64 + i as u64)).expect("name");
        // SAFETY: every path is NUL-terminated and every fd open; the buffer lives.
        unsafe {
            let fd = check(
                libc::openat(d, c".".as_ptr(), libc::O_TMPFILE | libc::O_WRONLY, 0o600),
                "open",
            );
            let wrote = check_size(libc::write(fd, body.as_ptr().cast(), body.len()), "write");
            assert_eq!(wrote, body.len());
            check(
                libc::linkat(fd, c"".as_ptr(), d, name.as_ptr(), libc::AT_EMPTY_PATH),
                "link (as root, or Linux 6.10)",
            );
            check(libc::close(fd), "close");
        }
        names.push(name);
    }
    names
}

/// Every element listed in `dir` taken: locked, read, removed.
fn take(dir: &OwnedFd, path: &Path, size: usize) -> usize {
    let d = dir.as_raw_fd();
    let mut buf = vec![0u8; size + 1];
    let mut got = 0;
    let names: Vec<_> = std::fs::read_dir(path)
        .expect("list")
        .map(|e| e.expect("entry").file_name().into_encoded_bytes())
        .collect();
    for name in names {
        let name = CString::new(name).expect("name");
        let lock = CString::new([name.as_bytes(), b".lck"].concat()).expect("lock");
        // SAFETY: as above.
        unsafe {
            check(libc::linkat(d, name.as_ptr(), d, lock.as_ptr(), 0), "lock");
            check(
                libc::utimensat(d, lock.as_ptr(), std::ptr::null(), 0),
                "touch",
            );
            let fd = check(libc::openat(d, name.as_ptr(), libc::O_RDONLY), "open");
            let read = check_size(libc::read(fd, buf.as_mut_ptr().cast(), buf.len()), "read");
            assert_eq!(read, size);
            check(libc::close(fd), "close");
            check(libc::unlinkat(d, name.as_ptr(), 0), "remove");
            check(libc::unlinkat(d, lock.as_ptr(), 0), "unlock");
        }
        got += 1;
    }
    got
}

fn main() {
    let a: Vec<String> = std::env::args().skip(1).collect();
    let (dir, n, size) = (
        Path::new(&a[0]),
        a[1].parse::<usize>().expect("N"),
        a[2].parse::<usize>().expect("SIZE"),
    );
    let path = dir.join("floor").join("6a000000");
    std::fs::create_dir_all(&path).expect("directory");
    let c = CString::new(path.as_os_str().as_encoded_bytes()).expect("path");
    // SAFETY: a NUL-terminated path; the fd is owned from here on.
    let held = unsafe {
        OwnedFd::from_raw_fd(check(
            libc::open(c.as_ptr(), libc::O_RDONLY | libc::O_DIRECTORY),
            "open directory",
        ))
    };
    let body = vec![b'A'; size];
    let t = Instant::now();
    let names = add(&held, n, &body);
    phase("add", names.len(), t.elapsed().as_secs_f64());
    let t = Instant::now();
    let got = take(&held, &path, size);
    assert_eq!(got, n);
    phase("consume", got, t.elapsed().as_secs_f64());
    std::fs::remove_dir_all(dir.join("floor")).expect("clean up");
}
