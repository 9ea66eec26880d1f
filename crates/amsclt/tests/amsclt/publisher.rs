//! The drop-in for ams-publisher: queues written as `ams-metric-to-queue` and
//! `ams-alarm-to-queue` write them (python `messaging` DQS, `tests/python/ams_publisher_ref.py`),
//! `amsclt --ams-publisher` run with a configuration in the reference's shape (two workers:
//! metric_data as Avro, alarms as JSON), the messages read back by Google's own client and
//! decoded by Python's `avro`: each record and its attributes checked field by field.

use std::collections::BTreeMap;
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::*;

/// ams-publisher's schema for metric_data (config/metric_data.avsc), as its hosts install it.
const METRIC_DATA_AVSC: &str = r#"{"namespace": "argo.avro", "type": "record", "name": "metric_data",
 "fields": [
  {"name": "timestamp", "type": "string"},
  {"name": "service", "type": "string"},
  {"name": "hostname", "type": "string"},
  {"name": "metric", "type": "string"},
  {"name": "status", "type": "string"},
  {"name": "monitoring_host", "type": ["null", "string"]},
  {"name": "actual_data", "type": ["null", "string"], "default": null},
  {"name": "summary", "type": ["null", "string"]},
  {"name": "message", "type": ["null", "string"]},
  {"name": "tags", "type": ["null", {"name": "Tags", "type": "map", "values": ["null", "string"]}]}
 ]}"#;

/// Runs a script of tests/python with `args`, `input` on its standard input: its output.
fn python(script: &str, args: &[&str], input: &str) -> String {
    let python = std::env::var("REF_PYTHON").expect(
        "REF_PYTHON is not set: the ams-publisher test needs the .venv of \
         scripts/setup-python.sh (messaging, avro, google-cloud-pubsub)",
    );
    let script = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/python")
        .join(script);
    let mut child = Command::new(python)
        .arg(script)
        .args(args)
        .env("PUBSUB_EMULATOR_HOST", pubsub::host())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python");
    let mut stdin = child.stdin.take().expect("stdin");
    stdin.write_all(input.as_bytes()).expect("write");
    drop(stdin);
    let out = child.wait_with_output().expect("python");
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn json_lines(text: &str) -> Vec<serde_json::Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect()
}

/// The configuration: `[General]`, then a worker per `(name, dir, topic, msgtype, avro)`.
fn configuration(d: &Path, workers: &[(&str, &Path, &str, &str, bool)]) -> String {
    let schema = d.join("metric_data.avsc");
    std::fs::write(&schema, METRIC_DATA_AVSC).expect("schema");
    let mut text = "[General]\nHost = mon.example.org\nRunAsUser = nagios\nStatsEveryHour = 24\n\
        PublishMsgFile = False\nPublishMsgFileDir = /published\nPublishArgoMessaging = True\n\
        TimeZone = UTC\n"
        .to_string();
    for (name, dir, topic, msgtype, avro) in workers {
        text += &format!(
            "\n[Queue_{name}]\nDirectory = {}/\nRate = 10\nPurge = True\nPurgeEverySec = 300\n\
             MaxTemp = 300\nMaxLock = 0\nGranularity = 60\n\n[Topic_{name}]\nHost = http://{}\n\
             Key = EGIKEY\nProject = {}\nBulksize = 100\nTopic = {topic}\nMsgType = {msgtype}\n\
             Avro = {}\nAvroSchema = {}\nRetry = 5\nTimeout = 60\nSleepRetry = 300\n",
            p(dir),
            pubsub::host(),
            pubsub::PROJECT,
            if *avro { "True" } else { "False" },
            p(&schema),
        );
    }
    text
}

/// Reads `n` messages of `sub` with google-cloud-pubsub and decodes them (`avro` with the
/// schema at `schema`, or `json`): by the field `key` of each record.
fn read_back(sub: &str, n: usize, kind: &[&str], key: &str) -> BTreeMap<String, serde_json::Value> {
    let pulled = python(
        "pubsub_peer.py",
        &["gcp-pull", pubsub::PROJECT, sub, &n.to_string()],
        "",
    );
    let mut args = vec!["decode"];
    args.extend(kind);
    json_lines(&python("ams_publisher_ref.py", &args, &pulled))
        .into_iter()
        .map(|m| (m["record"][key].as_str().expect(key).to_string(), m))
        .collect()
}

#[test]
fn broker_ams_publisher_drop_in_two_workers() {
    let d = tmp();
    let (metrics, alarms) = (d.path().join("metrics"), d.path().join("alarms"));
    let (mtopic, msub) = pubsub::topic_and_subscription("amspub-metrics", 60);
    let (atopic, asub) = pubsub::topic_and_subscription("amspub-alarms", 60);
    // 250 with BulkSize 100: the reference would publish 200 and wait; a time flush sends all
    let expected = json_lines(&python(
        "ams_publisher_ref.py",
        &["metric-to-queue", &p(&metrics), "250"],
        "",
    ));
    let expected_alarms = json_lines(&python(
        "ams_publisher_ref.py",
        &["alarm-to-queue", &p(&alarms), "30"],
        "",
    ));
    let conf = d.path().join("ams-publisher.conf");
    std::fs::write(
        &conf,
        configuration(
            d.path(),
            &[
                ("Metrics", &metrics, &mtopic, "metric_data", true),
                ("Alarms", &alarms, &atopic, "alarm", false),
            ],
        ),
    )
    .expect("conf");
    // alarms carry no timestamp: they are dated the day they are published (UTC)
    let day_before = utc_today();
    let mut child = Command::new(AMSCLT)
        .args(["--ams-publisher", &p(&conf)])
        .spawn()
        .expect("amsclt");
    let start = Instant::now();
    while queue_count(&metrics) + queue_count(&alarms) > 0 {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "the queues were not drained"
        );
        assert!(
            child.try_wait().expect("wait").is_none(),
            "amsclt ended early"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    procctl::liveness::signal(
        procctl::liveness::Target::Pid(child.id() as i32),
        libc::SIGTERM,
    );
    let status = child.wait().expect("wait");
    assert_eq!(
        status.code(),
        Some(0),
        "stopped by TERM, every worker with it"
    );

    let schema = d.path().join("metric_data.avsc");
    let got = read_back(&msub, 250, &["avro", &p(&schema)], "metric");
    assert_eq!(got.len(), 250, "each metric once");
    for want in &expected {
        let m = &got[want["metric"].as_str().expect("metric")];
        // every schema field, those the message lacks as null (as the reference's writer)
        let mut record = want.clone();
        for f in ["actual_data", "monitoring_host", "summary", "message"] {
            record
                .as_object_mut()
                .expect("object")
                .entry(f)
                .or_insert(serde_json::Value::Null);
        }
        assert_eq!(m["record"], record, "the Avro datum");
        let date = &want["timestamp"].as_str().expect("timestamp")[..10];
        assert_eq!(
            m["attributes"],
            serde_json::json!({"partition_date": date, "type": "metric_data"})
        );
    }
    let got = read_back(&asub, 30, &["json"], "test_name");
    let day_after = utc_today();
    assert_eq!(got.len(), 30);
    for want in &expected_alarms {
        let m = &got[want["test_name"].as_str().expect("test_name")];
        assert_eq!(&m["record"], want, "the JSON message");
        assert_eq!(m["attributes"]["type"], "alarm");
        let date = m["attributes"]["partition_date"].as_str().expect("a date");
        assert!(
            date == day_before || date == day_after,
            "partition_date {date}: published between {day_before} and {day_after}"
        );
    }
}

/// Today's date in UTC, YYYY-MM-DD, as `date -u +%F` prints it.
fn utc_today() -> String {
    let out = Command::new("date")
        .args(["-u", "+%F"])
        .output()
        .expect("date");
    String::from_utf8(out.stdout)
        .expect("utf8")
        .trim()
        .to_string()
}

#[test]
fn ams_publisher_configuration_errors() {
    let d = tmp();
    let conf = d.path().join("ams-publisher.conf");
    let write = |text: &str| std::fs::write(&conf, text).expect("conf");
    let base = "[General]\nPublishArgoMessaging = True\n[Queue_A]\nDirectory = /tmp/x\n\
                [Topic_A]\nHost = localhost\nProject = P\nTopic = t\nMsgType = metric_data\n";
    let cases: Vec<(String, Vec<&str>, &str)> = vec![
        (
            base.replace("[Topic_A]", "[Topic_B]"),
            vec![],
            "[Queue_A] has no [Topic_A]",
        ),
        (
            base.replace("MsgType = metric_data", "MsgType = x"),
            vec![],
            "MsgType = \"x\" is not metric_data or alarm",
        ),
        (
            base.to_string() + "Avro = True\n",
            vec![],
            "[Queue_A]/[Topic_A]: no avroschema",
        ),
        (
            base.to_string(),
            vec!["--topic", "t"],
            "options ams-publisher and topic are mutually exclusive",
        ),
        (
            base.to_string(),
            vec!["--ams-publisher-worker", "b"],
            "no worker \"b\" (it has a)",
        ),
    ];
    for (text, extra, want) in cases {
        write(&text);
        let mut args = s(&["--ams-publisher", &p(&conf)]);
        args.extend(s(&extra));
        let line = one_line_error(&run(&args), 2);
        assert!(line.contains(want), "{line:?} should say {want:?}");
    }
    // two workers run as two processes: an option of one process is refused
    let second = base
        .replace("_A]", "_B]")
        .replace("[General]\nPublishArgoMessaging = True\n", "");
    write(&format!("{base}{second}"));
    let out = run(&s(&[
        "--ams-publisher",
        &p(&conf),
        "--pidfile",
        "/tmp/x.pid",
    ]));
    assert!(
        one_line_error(&out, 2).contains("option pidfile is for one worker"),
        "{out:?}"
    );
    let out = run(&s(&[
        "--ams-publisher-worker",
        "a",
        "--incoming-queue",
        "path=/tmp/x",
    ]));
    assert!(one_line_error(&out, 2).contains("needs --ams-publisher FILE"));
}
