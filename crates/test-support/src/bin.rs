//! Running a binary of the workspace and looking at what it printed.

use std::process::{Command, Output};

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
