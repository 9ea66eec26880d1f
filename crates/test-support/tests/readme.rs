//! The runnable examples of the README and of every guide in docs/, run as written: every
//! ```sh block that follows the line `<!-- example: runs in scripts/test.sh -->` is given to
//! bash in a scratch directory, with the workspace's binaries on PATH, against the brokers
//! scripts/test.sh starts. An example can no longer rot. (Named broker_: it needs the
//! brokers.)

use std::process::Command;

use test_support::docs;

const MARK: &str = "<!-- example: runs in scripts/test.sh -->";

/// The blocks after the marker, with the line each starts at.
fn examples(page: &str, text: &str) -> Vec<(usize, String)> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        if lines[i].trim() == MARK {
            assert_eq!(
                lines.get(i + 1).map(|l| l.trim()),
                Some("```sh"),
                "{page} line {}",
                i + 2
            );
            let start = i + 2;
            let end = (start..lines.len())
                .find(|&j| lines[j].trim() == "```")
                .unwrap_or_else(|| panic!("{page} line {start}: unclosed block"));
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
    let path = format!(
        "{}:{}",
        test_support::bin::workspace_binaries().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut ran = 0;
    for (page, text) in docs::pages() {
        for (line, block) in examples(&page, &text) {
            let d = test_support::queues::tmp();
            let out = Command::new("bash")
                .args(["-euo", "pipefail", "-c", &block])
                .current_dir(d.path())
                .env("PATH", &path)
                .output()
                .expect("bash");
            assert!(
                out.status.success(),
                "{page} example at line {line} failed:\n{block}\n{}{}",
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
                "{page} example at line {line}: received {n}:\n{last}"
            );
            ran += 1;
        }
    }
    assert!(ran >= 10, "only {ran} examples ran");
}

#[test]
fn the_readme_tours_every_tool_and_the_guides_mark_their_examples() {
    let pages = docs::pages();
    let (_, readme) = &pages[0];
    let tour = examples("README.md", readme);
    for tool in ["dirq ", "stompclt ", "amqpclt ", "mqttclt ", "simplevisor "] {
        assert!(
            tour.iter().any(|(_, b)| b.contains(tool)),
            "the README's tour runs no {tool}"
        );
    }
    for guide in ["docs/stompclt.md", "docs/amqpclt.md", "docs/mqttclt.md"] {
        let (_, text) = pages.iter().find(|(p, _)| p == guide).expect(guide);
        assert!(
            !examples(guide, text).is_empty(),
            "{guide} marks no example"
        );
    }
}

#[test]
fn the_docs_name_no_issues_and_the_readme_stays_short() {
    for (page, text) in docs::pages() {
        for (i, line) in text.lines().enumerate() {
            let l = line.to_lowercase();
            assert!(
                !(l.contains("issue ") && l.chars().any(|c| c.is_ascii_digit()))
                    || l.contains("otp issue"),
                "{page} line {}: an issue number: {line}",
                i + 1
            );
        }
    }
    let readme = std::fs::read_to_string(docs::root().join("README.md")).expect("README.md");
    let n = readme.lines().count();
    assert!(
        n <= 200,
        "README.md has {n} lines (at most 200: the front door)"
    );
}
