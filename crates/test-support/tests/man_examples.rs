//! The man pages' EXAMPLES, run as written against the brokers scripts/test.sh starts: each
//! command of a `.nf` block, in a scratch directory, with the workspace's binaries on PATH.
//! Absolute paths (`/etc/…`, `/var/…`, `/tmp/…`) are taken under the scratch directory, so
//! the examples keep the paths a deployment uses; the test first makes what an example
//! assumes (the spool it sends, the files it adds, the configuration it names). A line with
//! `...`, `NAME` or `URI1`, or a `systemctl` line, is a template, not a command; each page's
//! count of commands run is asserted, so none is skipped unnoticed. An agent's example that
//! drains a broker runs until stopped: it is started first, given what the sending examples
//! sent, and stopped with SIGTERM as systemd would, which must end it with status 0.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use message::Message;
use test_support::process::wait_until;
use test_support::queues::{drain, fill, p, queue_count, tmp};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The lines of each `.nf` block of a page's section `title`, roff escapes undone.
fn blocks(page: &str, title: &str) -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(root().join("man").join(page)).expect("man page");
    let mut out: Vec<Vec<String>> = Vec::new();
    let (mut in_section, mut in_block) = (false, false);
    for line in text.lines() {
        if let Some(t) = line.strip_prefix(".SH ") {
            in_section = t.trim() == title;
            continue;
        }
        match line.trim() {
            ".nf" if in_section => {
                in_block = true;
                out.push(Vec::new());
            }
            ".fi" => in_block = false,
            _ if in_block => {
                let l = line.replace("\\-", "-").replace("\\\\", "\\");
                out.last_mut().expect("a block").push(l);
            }
            _ => {}
        }
    }
    out
}

/// The commands of a page's EXAMPLES section, continued lines joined.
fn commands(page: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut pending = String::new();
    for l in blocks(page, "EXAMPLES").concat() {
        match l.trim_end().strip_suffix('\\') {
            Some(head) => pending.push_str(head),
            None => {
                pending.push_str(&l);
                // one space for each run of them (a continued line's indentation)
                out.push(pending.split_whitespace().collect::<Vec<_>>().join(" "));
                pending.clear();
            }
        }
    }
    out
}

fn is_template(cmd: &str) -> bool {
    cmd.contains("...")
        || cmd.contains("NAME")
        || cmd.contains("URI1")
        || cmd.starts_with("systemctl ")
}

/// The page's commands to run, their absolute paths under `dir`.
fn runnable(page: &str, dir: &Path, expected: usize) -> Vec<String> {
    let all = commands(page);
    let run: Vec<String> = all
        .iter()
        .filter(|c| !is_template(c))
        .map(|c| {
            c.split(' ')
                .map(|w| under(w, dir))
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect();
    assert_eq!(run.len(), expected, "{page}: commands run of {all:#?}");
    run
}

/// A word with its absolute path (alone or as `path=`) moved under `dir`.
fn under(word: &str, dir: &Path) -> String {
    let (head, path) = match word.split_once("path=") {
        Some((h, rest)) => (format!("{h}path="), rest),
        None => (String::new(), word),
    };
    if ["/etc/", "/var/", "/tmp/"]
        .iter()
        .any(|r| path.starts_with(r))
    {
        format!("{head}{}{path}", dir.display())
    } else {
        word.to_string()
    }
}

fn bash(cmd: &str, dir: &Path) -> Command {
    let mut c = Command::new("bash");
    // exec: the pid is the example's own, for the SIGTERM
    c.args(["-euo", "pipefail", "-c", &format!("exec {cmd}")])
        .current_dir(dir)
        .env(
            "PATH",
            format!(
                "{}:{}",
                test_support::bin::workspace_binaries().display(),
                std::env::var("PATH").unwrap_or_default()
            ),
        );
    c
}

fn run_ok(cmd: &str, dir: &Path) -> Output {
    let out = bash(cmd, dir).output().expect("bash");
    assert!(
        out.status.success(),
        "man page example failed: {cmd}\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// The value of `--option path=X` (or of `path = X` in the `<incoming-queue>` block of the
/// file given to `--conf`).
fn queue_path(cmd: &str, option: &str) -> Option<PathBuf> {
    let words: Vec<&str> = cmd.split(' ').collect();
    let after = |o: &str| {
        words
            .iter()
            .position(|w| *w == o)
            .and_then(|i| words.get(i + 1))
    };
    if let Some(v) = after(option) {
        return v.strip_prefix("path=").map(PathBuf::from);
    }
    let conf = std::fs::read_to_string(after("--conf")?).ok()?;
    let block = conf
        .split(&format!("<{}>", option.trim_start_matches("--")))
        .nth(1)?;
    let line = block.lines().find(|l| l.trim_start().starts_with("path"))?;
    Some(PathBuf::from(line.split_once('=')?.1.trim()))
}

/// What a draining example subscribes to: `destination=X` or `topic=X`.
fn subscription(cmd: &str) -> String {
    let (_, rest) = cmd.split_once("--subscribe ").expect("--subscribe");
    let rest = rest.trim_start_matches('\'');
    let v = rest
        .strip_prefix("destination=")
        .or_else(|| rest.strip_prefix("topic="))
        .expect("destination= or topic=");
    v.split([' ', '\'']).next().expect("value").to_string()
}

fn is_drain(cmd: &str) -> bool {
    cmd.contains("--incoming-broker-uri")
        && !["--count", "--duration", "--timeout-inactivity"]
            .iter()
            .any(|o| cmd.contains(o))
}

/// Ends a started example at the end of the test, whatever happened.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// An agent's page: the draining examples started first (an MQTT broker keeps nothing for a
/// subscription that does not exist yet: probes are published until each drain has one),
/// every sending example given a spool of its own to send and run to its end, then each
/// drain waited for until it has what was sent, and stopped.
fn agent_page(page: &str, expected: usize, prepare: impl FnOnce(&Path)) {
    let d = tmp();
    prepare(d.path());
    let cmds = runnable(page, d.path(), expected);
    let (drains, sends): (Vec<&String>, Vec<&String>) = cmds.iter().partition(|c| is_drain(c));
    assert!(!drains.is_empty() && !sends.is_empty(), "{page}: {cmds:#?}");
    let dest = subscription(drains[0]);
    let mqtt = page.starts_with("mqttclt");
    let mut running = Vec::new();
    for c in &drains {
        let out = queue_path(c, "--outgoing-queue").expect("--outgoing-queue path=");
        let child = bash(c, d.path())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn");
        running.push((Running(child), out));
    }
    let mut got: HashSet<String> = HashSet::new();
    let take = |out: &Path, got: &mut HashSet<String>| {
        if out.exists() {
            got.extend(drain(out, "DQS").iter().map(body));
        }
    };
    if mqtt {
        for (_, out) in &running {
            wait_until("the drain's subscription", Duration::from_secs(30), || {
                let _ = Command::new("mosquitto_pub")
                    .args(["-h", "127.0.0.1", "-p", "1883", "-q", "1", "-t", &dest])
                    .args(["-m", "probe"])
                    .output();
                std::thread::sleep(Duration::from_millis(200));
                out.exists() && queue_count(out) > 0
            });
        }
    }
    let tag = test_support::brokers::unique_destination("man");
    let mut sent = Vec::new();
    for (k, c) in sends.iter().enumerate() {
        let spool = queue_path(c, "--incoming-queue").expect("the spool an example sends");
        let msgs: Vec<Message> = (0..20)
            .map(|i| Message::text(format!("{tag} {k} {i}")).with_header("destination", &dest))
            .collect();
        fill(&spool, "DQS", &msgs);
        run_ok(c, d.path());
        assert_eq!(queue_count(&spool), 0, "{c} sent its spool");
        sent.extend(msgs.iter().map(body));
    }
    for (mut child, out) in running {
        wait_until("the sent messages drained", Duration::from_secs(60), || {
            take(&out, &mut got);
            sent.iter().all(|b| got.contains(b))
        });
        // the example's own pid (bash exec'd it)
        sigterm(child.0.id());
        let status = child.0.wait().expect("wait");
        assert_eq!(status.code(), Some(0), "a SIGTERMed drain exits 0");
    }
}

fn body(m: &Message) -> String {
    String::from_utf8_lossy(m.body.as_bytes()).into_owned()
}

fn sigterm(pid: u32) {
    let _ = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status();
}

#[test]
fn broker_stompclt_man_page_examples() {
    test_support::brokers::from_env("STOMP_BROKERS");
    agent_page("stompclt.1", 2, |_| {});
}

#[test]
fn broker_amqpclt_man_page_examples() {
    test_support::brokers::from_env("AMQP_BROKERS");
    agent_page("amqpclt.1", 3, |d| {
        // a python-amqpclt configuration, as the example says
        let etc = d.join("etc/amqpclt");
        std::fs::create_dir_all(&etc).expect("etc");
        let conf = format!(
            "<incoming-queue>\n path = {}/var/spool/sender\n</incoming-queue>\n\
             remove = true\nreliable = true\n\
             <outgoing-broker>\n uri = \"amqp://127.0.0.1:5672\"\n</outgoing-broker>\n",
            d.display()
        );
        std::fs::write(etc.join("sender.conf"), conf).expect("sender.conf");
    });
}

#[test]
fn broker_amsclt_man_page_examples() {
    // the project, topic and subscription the examples name, on the emulator
    test_support::pubsub::ensure("monitoring", "metrics", "metrics");
    agent_page("amsclt.1", 2, |_| {});
}

#[test]
fn broker_mqttclt_man_page_examples() {
    std::env::var("MQTT_BROKER").expect("MQTT_BROKER: the Mosquitto of scripts/test.sh");
    agent_page("mqttclt.1", 2, |_| {});
}

#[test]
fn dirq_man_page_examples() {
    let d = tmp();
    for f in ["file1", "file2"] {
        std::fs::write(d.path().join(f), format!("{f}\n")).expect("input");
    }
    let cmds = runnable("dirq.1", d.path(), 4);
    let outs: Vec<Output> = cmds.iter().map(|c| run_ok(c, d.path())).collect();
    assert_eq!(
        queue_count(&d.path().join("tmp/q")),
        2,
        "dirq add of two files"
    );
    let popped = String::from_utf8_lossy(&outs[2].stdout).lines().count();
    assert_eq!(
        popped, 100,
        "dirq pop --count 0 takes all that generate made"
    );
}

#[test]
fn messaging_queue_man_page_examples() {
    let d = tmp();
    let cmds = runnable("messaging-queue.7", d.path(), 3);
    let outs: Vec<Output> = cmds.iter().map(|c| run_ok(c, d.path())).collect();
    assert_eq!(String::from_utf8_lossy(&outs[1].stdout).lines().count(), 10);
    assert_eq!(String::from_utf8_lossy(&outs[2].stdout).lines().count(), 10);
}

#[test]
fn simplevisor_man_page_examples() {
    let d = tmp();
    let etc = d.path().join("etc/simplevisor");
    std::fs::create_dir_all(&etc).expect("etc");
    let pidfile = d.path().join("sv.pid");
    let conf = format!(
        "<simplevisor>\n  pidfile = {}\n  store = {}\n</simplevisor>\n\
         <entry>\n  type = supervisor\n  name = top\n  <children>\n    <entry>\n\
         \x20     type = service\n      name = sleeper\n      foreground = yes\n\
         \x20     start = sleep 600\n    </entry>\n  </children>\n</entry>\n",
        p(&pidfile),
        p(&d.path().join("store.json"))
    );
    std::fs::write(etc.join("simplevisor.conf"), conf).expect("conf");
    let cmds = runnable("simplevisor.1", d.path(), 4);
    // stops the daemon whatever happens below
    struct Daemon(PathBuf);
    impl Drop for Daemon {
        fn drop(&mut self) {
            if let Some(pid) = std::fs::read_to_string(&self.0)
                .ok()
                .and_then(|s| s.trim().parse::<u32>().ok())
            {
                sigterm(pid);
            }
        }
    }
    let _daemon = Daemon(pidfile.clone());
    let outs: Vec<Output> = cmds.iter().map(|c| run_ok(c, d.path())).collect();
    let status: serde_json::Value = serde_json::from_slice(&outs[2].stdout).expect("json");
    assert_eq!(status["running"], true, "{status}");
    assert_eq!(
        status["tree"]["children"][0]["status"], "running",
        "{status}"
    );
    assert!(!pidfile.exists(), "stop removed the pidfile");
}

#[test]
fn the_simplevisor_conf_page_example_is_a_valid_configuration() {
    let d = tmp();
    let example = blocks("simplevisor.conf.5", "EXAMPLE");
    assert_eq!(example.len(), 1, "one example configuration");
    let conf = d.path().join("simplevisor.conf");
    std::fs::write(&conf, example[0].join("\n")).expect("write");
    let out = run_ok(
        &format!("simplevisor --conf {} check_configuration", p(&conf)),
        d.path(),
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "the configuration file is valid"
    );
}

/// Every page with EXAMPLES has its test above.
#[test]
fn every_man_page_with_examples_is_run() {
    let mut pages: Vec<String> = std::fs::read_dir(root().join("man"))
        .expect("man")
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_file())
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|f| !commands(f).is_empty())
        .collect();
    pages.sort();
    assert_eq!(
        pages,
        [
            "amqpclt.1",
            "amsclt.1",
            "dirq.1",
            "messaging-queue.7",
            "mqttclt.1",
            "simplevisor.1",
            "stompclt.1"
        ]
    );
}
