//! Cross-implementation tests against the reference python dirq 1.8 (PyPI), run in the
//! virtualenv that `scripts/test.sh` makes. Every test here is named `compat_*` so that an
//! explicitly offline run can leave them out (`cargo test -- --skip compat_`); without the
//! reference they fail, they never pass silently.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use dirq::{DirQueue, Element, Options, QueueNormal, QueueSimple, Value};
use serde_json::Value as Json;

fn python() -> String {
    std::env::var("REF_PYTHON").unwrap_or_else(|_| {
        panic!(
            "REF_PYTHON is not set: these tests need the python dirq 1.8 reference; \
             run scripts/test.sh, or leave them out explicitly with `-- --skip compat_`"
        )
    })
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/python/dirq_ref.py")
}

fn py(args: &[&str]) -> Json {
    let out = Command::new(python())
        .arg(script())
        .args(args)
        .output()
        .expect("run the python reference");
    assert!(
        out.status.success(),
        "python {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("python printed JSON")
}

fn b64(s: &Json) -> Vec<u8> {
    STANDARD
        .decode(s.as_str().expect("string"))
        .expect("base64")
}

fn schema_opts() -> Options {
    Options {
        schema: Some(
            "binary=binary,string=string?,table=table?"
                .parse()
                .expect("schema"),
        ),
        ..Options::default()
    }
}

/// The JSON form dirq_ref.py uses for a Normal element.
fn to_json(e: &Element) -> Json {
    let mut m = serde_json::Map::new();
    for (k, v) in e {
        let j = match v {
            Value::Binary(b) => Json::String(STANDARD.encode(b)),
            Value::String(s) => Json::String(s.clone()),
            Value::Table(t) => Json::Object(
                t.iter()
                    .map(|(k, v)| (k.clone(), Json::String(v.clone())))
                    .collect(),
            ),
        };
        m.insert(k.clone(), j);
    }
    Json::Object(m)
}

fn from_json(j: &Json) -> Element {
    let mut e = Element::new();
    for (k, v) in j.as_object().expect("object") {
        let v = match k.as_str() {
            "binary" => Value::Binary(b64(v)),
            "string" => Value::String(v.as_str().expect("str").into()),
            "table" => Value::Table(
                v.as_object()
                    .expect("table")
                    .iter()
                    .map(|(k, v)| (k.clone(), v.as_str().expect("str").to_string()))
                    .collect(),
            ),
            other => panic!("unexpected field {other}"),
        };
        e.insert(k.clone(), v);
    }
    e
}

fn age(path: &Path, secs: u64) {
    fs::File::open(path)
        .expect("open")
        .set_modified(SystemTime::now() - Duration::from_secs(secs))
        .expect("utime");
}

#[test]
fn compat_python_simple_read_by_rust() {
    let d = tempfile::tempdir().expect("tmp");
    let q = d.path().join("q");
    let written = py(&["write-simple", q.to_str().expect("utf8")]);
    let written = written.as_array().expect("list");
    let rq = QueueSimple::new(&q).expect("open");
    assert_eq!(rq.count().expect("count"), written.len());
    let names: Vec<String> = rq.names().map(|n| n.expect("name")).collect();
    let expected: Vec<&str> = written
        .iter()
        .map(|w| w[0].as_str().expect("name"))
        .collect();
    assert_eq!(names, expected, "same iteration order");
    for w in written {
        let n = w[0].as_str().expect("name");
        assert!(rq.lock(n).expect("lock"));
        assert_eq!(rq.get(n).expect("get"), b64(&w[1]), "body of {n}");
        rq.remove(n).expect("remove");
    }
    assert_eq!(rq.count().expect("count"), 0);
    rq.purge().expect("purge");
    assert_eq!(py(&["count-simple", q.to_str().expect("utf8")]), 0);
}

#[test]
fn compat_python_normal_read_by_rust() {
    let d = tempfile::tempdir().expect("tmp");
    let q = d.path().join("q");
    let written = py(&["write-normal", q.to_str().expect("utf8")]);
    let written = written.as_array().expect("list");
    let rq = QueueNormal::with_options(&q, &schema_opts()).expect("open");
    assert_eq!(rq.count().expect("count"), written.len());
    for w in written {
        let n = w[0].as_str().expect("name");
        assert!(rq.lock(n).expect("lock"));
        assert_eq!(rq.get(n).expect("get"), from_json(&w[1]), "element {n}");
        rq.remove(n).expect("remove");
    }
    rq.purge_with(1, 1).expect("purge");
    assert_eq!(py(&["count-normal", q.to_str().expect("utf8")]), 0);
}

fn rust_simple_bodies() -> Vec<Vec<u8>> {
    vec![
        b"\x00\xff rust binary \x00".to_vec(),
        "é ☺ 中文".as_bytes().to_vec(),
        Vec::new(),
        (0..=255u8).cycle().take(100_000).collect(),
    ]
}

#[test]
fn compat_rust_simple_read_by_python() {
    let d = tempfile::tempdir().expect("tmp");
    let q = d.path().join("q");
    let rq = QueueSimple::new(&q).expect("open");
    let mut expected = Vec::new();
    for b in rust_simple_bodies() {
        expected.push((rq.add(&b).expect("add"), b));
    }
    let p = q.to_str().expect("utf8");
    assert_eq!(py(&["count-simple", p]), expected.len());
    let dumped = py(&["dump-simple", p]);
    let dumped = dumped.as_array().expect("list");
    assert_eq!(dumped.len(), expected.len());
    for ((name, body), got) in expected.iter().zip(dumped) {
        assert_eq!(got[0].as_str(), Some(name.as_str()));
        assert_eq!(&b64(&got[1]), body);
    }
    // an element locked by Rust is refused by python
    assert!(rq.lock(&expected[0].0).expect("lock"));
    assert_eq!(py(&["lock-simple", p, &expected[0].0]), false);
    rq.unlock(&expected[0].0).expect("unlock");
    let consumed = py(&["consume-simple", p]);
    assert_eq!(consumed.as_array().expect("list").len(), expected.len());
    assert_eq!(rq.count().expect("count"), 0);
}

#[test]
fn compat_rust_normal_read_by_python() {
    let d = tempfile::tempdir().expect("tmp");
    let q = d.path().join("q");
    let rq = QueueNormal::with_options(&q, &schema_opts()).expect("open");
    let table: BTreeMap<String, String> = [
        ("tab\tkey", "lf\nvalue"),
        ("back\\slash", "\\n stays"),
        ("", ""),
        ("☺", "\r"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let elements: Vec<Element> = vec![
        [
            ("binary".to_string(), Value::Binary(b"\0\xff".to_vec())),
            (
                "string".to_string(),
                Value::String("Élément ☺\n\t\\".into()),
            ),
            ("table".to_string(), Value::Table(table)),
        ]
        .into(),
        [("binary".to_string(), Value::Binary(Vec::new()))].into(),
    ];
    let names: Vec<String> = elements.iter().map(|e| rq.add(e).expect("add")).collect();
    let p = q.to_str().expect("utf8");
    assert_eq!(py(&["count-normal", p]), 2);
    let dumped = py(&["dump-normal", p]);
    let dumped = dumped.as_array().expect("list");
    for ((name, e), got) in names.iter().zip(&elements).zip(dumped) {
        assert_eq!(got[0].as_str(), Some(name.as_str()));
        assert_eq!(got[1], to_json(e), "element {name} as python reads it");
    }
    assert!(rq.lock(&names[1]).expect("lock"));
    assert_eq!(py(&["lock-normal", p, &names[1]]), false);
    rq.unlock(&names[1]).expect("unlock");
    assert_eq!(
        py(&["consume-normal", p]).as_array().expect("list").len(),
        2
    );
    assert_eq!(rq.count().expect("count"), 0);
}

#[test]
fn compat_python_leftovers_simple() {
    let d = tempfile::tempdir().expect("tmp");
    let q = d.path().join("q");
    let p = q.to_str().expect("utf8");
    let st = py(&["leave-simple-states", p]);
    let locked = st["locked"].as_str().expect("name");
    let tmp = PathBuf::from(st["tmp"].as_str().expect("path"));
    let rq = QueueSimple::new(&q).expect("open");
    assert_eq!(rq.count().expect("count"), 1, ".tmp is not an element");
    assert!(!rq.lock(locked).expect("lock"), "python's lock holds");
    assert_eq!(
        rq.get(locked).expect("read through the lock"),
        b"locked by python"
    );
    // young: purge keeps both
    rq.purge().expect("purge");
    assert!(tmp.exists() && rq.is_locked(locked).expect("locked"));
    // old: purge removes the temporary file and releases the lock
    age(&tmp, 400);
    age(&q.join(locked), 700);
    rq.purge().expect("purge");
    assert!(!tmp.exists());
    assert!(rq.lock(locked).expect("lock after purge"));
    rq.remove(locked).expect("remove");
    assert_eq!(py(&["count-simple", p]), 0);
}

#[test]
fn compat_python_leftovers_normal() {
    let d = tempfile::tempdir().expect("tmp");
    let q = d.path().join("q");
    let p = q.to_str().expect("utf8");
    let st = py(&["leave-normal-states", p]);
    let locked = st["locked"].as_str().expect("name");
    let temps = st["temporary"].as_array().expect("list");
    assert_eq!(temps.len(), 1, "python left a half-built element");
    let rq = QueueNormal::with_options(&q, &schema_opts()).expect("open");
    assert_eq!(rq.count().expect("count"), 1);
    assert!(!rq.lock(locked).expect("lock"));
    let got = rq.get(locked).expect("get through python's lock");
    assert_eq!(got["binary"], Value::Binary(b"locked by python".to_vec()));
    rq.purge().expect("purge");
    let tdir = q.join("temporary");
    assert_eq!(fs::read_dir(&tdir).expect("ls").count(), 1, "young: kept");
    age(&tdir.join(temps[0].as_str().expect("name")), 400);
    age(&q.join(locked), 700);
    rq.purge().expect("purge");
    assert_eq!(fs::read_dir(&tdir).expect("ls").count(), 0, "old: removed");
    assert!(!rq.is_locked(locked).expect("unlocked by purge"));
    // and python still reads what is left
    let dumped = py(&["dump-normal", p]);
    assert_eq!(dumped.as_array().expect("list").len(), 1);
}

#[test]
fn compat_mixed_producers_and_consumers() {
    // python and Rust add to one queue at once; python and Rust consume it at once
    let d = tempfile::tempdir().expect("tmp");
    let q = d.path().join("q");
    let p = q.to_str().expect("utf8").to_string();
    let rq = QueueSimple::new(&q).expect("open");
    let pyadd = {
        let p = p.clone();
        std::thread::spawn(move || py(&["add-simple-many", &p, "2000"]))
    };
    for i in 0..2000 {
        rq.add(format!("rust {i}\n").as_bytes()).expect("add");
    }
    pyadd.join().expect("python adder");
    assert_eq!(rq.count().expect("count"), 4000);
    let pyconsume = {
        let p = p.clone();
        std::thread::spawn(move || py(&["consume-simple", &p]))
    };
    let mut bodies = Vec::new();
    for n in rq.names() {
        let n = n.expect("name");
        if rq.lock(&n).expect("lock") {
            bodies.push(String::from_utf8(rq.get(&n).expect("get")).expect("utf8"));
            rq.remove(&n).expect("remove");
        }
    }
    let theirs = pyconsume.join().expect("python consumer");
    for item in theirs.as_array().expect("list") {
        if !item[1].is_null() {
            bodies.push(String::from_utf8(b64(&item[1])).expect("utf8"));
        }
    }
    bodies.sort();
    let mut expected: Vec<String> = (0..2000)
        .flat_map(|i| [format!("rust {i}\n"), format!("python {i}\n")])
        .collect();
    expected.sort();
    assert_eq!(bodies, expected, "every element consumed exactly once");
}
