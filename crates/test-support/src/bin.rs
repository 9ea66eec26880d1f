//! Running a binary of the workspace and looking at what it printed.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// target/debug, where `cargo test --workspace` put every binary (the test binary runs from
/// its `deps/`), checked to hold the toolkit's commands.
pub fn workspace_binaries() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary");
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target/debug")
        .to_path_buf();
    for b in crate::tools::names() {
        assert!(
            dir.join(&b).exists(),
            "{b} not built: run the tests with `cargo test --workspace`"
        );
    }
    dir
}

/// Owned arguments from string slices.
pub fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| x.to_string()).collect()
}

/// Runs the program with these arguments to its end.
pub fn output(program: &str, args: &[String]) -> Output {
    Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {program}: {e}"))
}

/// Runs it, asserts success, returns its standard output.
pub fn ok(program: &str, args: &[String]) -> String {
    let out = output(program, args);
    assert!(
        out.status.success(),
        "{program} {args:?} failed ({:?}): {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Asserts the run failed with `code` and one line on standard error, which is returned.
pub fn one_line_error(out: &Output, code: i32) -> String {
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(code), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    err
}

/// Another binary of the workspace, beside `of` (a `CARGO_BIN_EXE_*` path of the calling
/// test): cargo builds it for `cargo test --workspace`.
pub fn sibling(of: &str, name: &str) -> String {
    let p = std::path::Path::new(of).with_file_name(name);
    assert!(
        p.exists(),
        "{} not built: run the tests with `cargo test --workspace`",
        p.display()
    );
    p.display().to_string()
}

/// Waits for a spawned run (its output piped) and asserts it succeeded: (stdout, stderr).
pub fn succeeded(child: std::process::Child) -> (String, String) {
    let out = child.wait_with_output().expect("wait");
    let (so, se) = (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    );
    assert_eq!(out.status.code(), Some(0), "{so}{se}");
    (so, se)
}

/// The number after `after` in a line of statistics.
pub fn number_after(stats: &str, after: &str) -> usize {
    stats
        .split(after)
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .and_then(|x| x.parse().ok())
        .unwrap_or_else(|| panic!("no number after {after:?} in {stats}"))
}

/// Runs each command line and asserts its exit status and that standard error's first
/// line is `PROGRAM: …` containing the text.
pub fn expect_errors(program: &str, cases: &[(Vec<String>, i32, &str)]) {
    for (args, code, text) in cases {
        let out = output(program, args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(*code), "{args:?}: {err}");
        // every error, usage ones included, leads with the one line `TOOL: reason`
        let tool = std::path::Path::new(program)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let first = err.lines().next().unwrap_or_default();
        assert!(first.starts_with(&format!("{tool}: ")), "{args:?}: {err}");
        assert!(first.contains(text), "{args:?}: {err}");
    }
}
