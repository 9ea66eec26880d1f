//! The README's runnable examples, run as written: every ```sh block that follows the line
//! `<!-- example: runs in scripts/test.sh -->` is given to bash in a scratch directory, with
//! the workspace's binaries on PATH, against the brokers scripts/test.sh starts. An example
//! can no longer rot. (Named broker_: it needs the brokers.)

use std::path::Path;
use std::process::Command;

const MARK: &str = "<!-- example: runs in scripts/test.sh -->";

/// The blocks after the marker, with the line each starts at.
fn examples(readme: &str) -> Vec<(usize, String)> {
    let lines: Vec<&str> = readme.lines().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        if lines[i].trim() == MARK {
            assert_eq!(
                lines.get(i + 1).map(|l| l.trim()),
                Some("```sh"),
                "line {}",
                i + 2
            );
            let start = i + 2;
            let end = (start..lines.len())
                .find(|&j| lines[j].trim() == "```")
                .unwrap_or_else(|| panic!("README line {start}: unclosed block"));
            out.push((start + 1, lines[start..end].join("\n")));
            i = end;
        }
        i += 1;
    }
    out
}

#[test]
fn broker_readme_examples_run_as_written() {
    // fails loudly without the brokers, like every broker_ test
    test_support::brokers::from_env("STOMP_BROKERS");
    test_support::brokers::from_env("AMQP_BROKERS");
    std::env::var("MQTT_BROKER").expect("MQTT_BROKER: the Mosquitto of scripts/test.sh");
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let readme = std::fs::read_to_string(root.join("README.md")).expect("README.md");
    let blocks = examples(&readme);
    assert!(blocks.len() >= 2, "the README marks its runnable examples");
    let path = format!(
        "{}:{}",
        test_support::bin::workspace_binaries().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    for (line, block) in blocks {
        let d = test_support::queues::tmp();
        let out = Command::new("bash")
            .args(["-euo", "pipefail", "-c", &block])
            .current_dir(d.path())
            .env("PATH", &path)
            .output()
            .expect("bash");
        assert!(
            out.status.success(),
            "README example at line {line} failed:\n{block}\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        // each example ends by counting what it received: all 100 test messages at least
        let last = String::from_utf8_lossy(&out.stdout);
        let n: usize = last
            .trim()
            .lines()
            .last()
            .unwrap_or("")
            .trim()
            .parse()
            .unwrap_or(0);
        assert!(
            n >= 100,
            "README example at line {line}: received {n}:\n{last}"
        );
    }
}

#[test]
fn the_readme_marks_its_examples() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let readme = std::fs::read_to_string(root.join("README.md")).expect("README.md");
    let blocks = examples(&readme);
    assert!(blocks.iter().any(|(_, b)| b.contains("stompclt ")));
    assert!(blocks.iter().any(|(_, b)| b.contains("amqpclt ")));
}
