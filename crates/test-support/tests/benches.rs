//! The benchmarks as the docs name them: each `bench/NAME.sh` they mention exists, is
//! executable (a newcomer types the path), parses (`bash -n`), and answers an option it does
//! not know with its usage line and exit status 2 before building or starting anything.
//! Running them is on demand (they take minutes and want a quiet machine); this keeps the
//! commands themselves from rotting.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The `bench/*.sh` paths the README and the guides name, each once.
fn named_in_readme() -> Vec<String> {
    let readme: String = test_support::docs::pages()
        .into_iter()
        .map(|(_, text)| text)
        .collect::<Vec<_>>()
        .join("\n");
    let mut names: Vec<String> = readme
        .match_indices("bench/")
        .filter_map(|(i, _)| {
            let rest = &readme[i..];
            let end = rest.find(|c: char| !(c.is_ascii_alphanumeric() || "/_.".contains(c)))?;
            let name = rest[..end].trim_end_matches('.');
            name.ends_with(".sh").then(|| name.to_string())
        })
        .collect();
    names.sort();
    names.dedup();
    names
}

#[test]
fn the_readme_names_the_agent_benchmarks() {
    let names = named_in_readme();
    // every agent's, and the spool's and scale-out's
    let mut benches = test_support::tools::agents();
    benches.extend(["scaleout".to_string(), "dirq".to_string()]);
    for b in benches {
        assert!(
            names.contains(&format!("bench/{b}.sh")),
            "bench/{b}.sh in {names:?}"
        );
    }
}

#[test]
fn every_benchmark_the_readme_names_is_executable_and_refuses_a_bad_option() {
    for name in named_in_readme() {
        let path = root().join(&name);
        let mode = std::fs::metadata(&path)
            .unwrap_or_else(|e| panic!("{name}: {e}"))
            .permissions()
            .mode();
        assert!(mode & 0o111 != 0, "{name} is not executable");
        let parsed = Command::new("bash")
            .arg("-n")
            .arg(&path)
            .output()
            .expect("bash");
        assert!(
            parsed.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&parsed.stderr)
        );
        // simplevisor.sh hands its options to its Python driver after building: not run here
        if name == "bench/simplevisor.sh" {
            continue;
        }
        let out = Command::new(&path)
            .arg("--no-such-option")
            .output()
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{name}: {stderr}");
        assert!(stderr.starts_with("usage: "), "{name}: {stderr}");
    }
}
