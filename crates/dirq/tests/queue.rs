//! Library behaviour of every queue kind, on real directories.

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::{Duration, SystemTime};

use dirq::{
    AnyQueue, DirQueue, Element, Error, Options, QueueNormal, QueueNull, QueueSet, QueueSimple,
    Value,
};

fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().expect("temp dir")
}

/// Moves a file's or directory's mtime `secs` seconds into the past.
fn age(path: &Path, secs: u64) {
    let f = fs::File::open(path).expect("open for utime");
    f.set_modified(SystemTime::now() - Duration::from_secs(secs))
        .expect("set mtime");
}

fn entries(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .expect("readdir")
        .map(|e| e.expect("entry").file_name().into_string().expect("utf8"))
        .collect();
    v.sort();
    v
}

fn opts(f: impl FnOnce(&mut Options)) -> Options {
    let mut o = Options::default();
    f(&mut o);
    o
}

#[test]
fn simple_add_lock_get_remove() {
    let d = tmp();
    let q = QueueSimple::new(d.path().join("q")).expect("open");
    let a = q.add(b"first\0\xff").expect("add");
    let b = q.add(b"").expect("add");
    assert!(dirq::is_full_name(&a));
    assert_eq!(q.count().expect("count"), 2);
    let names: Vec<String> = q.names().map(|n| n.expect("name")).collect();
    assert_eq!(names, vec![a.clone(), b.clone()]);
    // get needs the lock
    assert!(matches!(q.get(&a), Err(Error::NotLocked { .. })));
    assert!(q.lock(&a).expect("lock"));
    assert!(!q.lock(&a).expect("second lock is refused"));
    assert!(q.is_locked(&a).expect("is_locked"));
    assert_eq!(q.get(&a).expect("get"), b"first\0\xff");
    assert_eq!(
        fs::read(q.get_path(&a).expect("path")).expect("read"),
        b"first\0\xff"
    );
    q.remove(&a).expect("remove");
    assert_eq!(q.count().expect("count"), 1);
    assert!(!q.lock(&a).expect("gone: permissive false"));
    let e = q.lock_with(&a, false).unwrap_err();
    assert!(e.is_not_found(), "{e}");
    assert!(matches!(q.remove(&b), Err(Error::NotLocked { .. })));
    assert!(q.lock(&b).expect("lock"));
    assert!(q.unlock(&b).expect("unlock"));
    assert!(matches!(q.unlock(&b), Err(Error::NotLocked { .. })));
    assert!(!q.unlock_with(&b, true).expect("permissive"));
    // on disk: one intermediate dir holding one element, nothing else
    let dirs = entries(q.path());
    assert_eq!(dirs.len(), 1);
    assert_eq!(entries(&q.path().join(&dirs[0])), vec![b[9..].to_string()]);
}

#[test]
fn simple_names_and_granularity() {
    let d = tmp();
    let q = QueueSimple::with_options(
        d.path(),
        &opts(|o| {
            o.rndhex = Some(7);
            o.granularity = 3600;
        }),
    )
    .expect("open");
    let n = q.add(b"x").expect("add");
    assert!(n.ends_with('7'));
    let dir = u64::from_str_radix(&n[..8], 16).expect("hex");
    assert_eq!(dir % 3600, 0);
    let secs = u64::from_str_radix(&n[9..17], 16).expect("hex");
    assert!(secs >= dir && secs - dir < 3600);
    let q0 =
        QueueSimple::with_options(d.path().join("g0"), &opts(|o| o.granularity = 0)).expect("open");
    let n = q0.add(b"x").expect("add");
    assert_eq!(
        &n[..8],
        &n[9..17],
        "granularity 0: directory is the second itself"
    );
}

#[test]
fn simple_add_path_moves_the_file() {
    let d = tmp();
    let q = QueueSimple::new(d.path().join("q")).expect("open");
    let src = d.path().join("q").join("incoming");
    fs::write(&src, b"payload").expect("write");
    let n = q.add_path(&src).expect("add_path");
    assert!(!src.exists());
    q.lock(&n).expect("lock");
    assert_eq!(q.get(&n).expect("get"), b"payload");
}

#[test]
fn simple_iteration_is_sorted_across_directories() {
    let d = tmp();
    let q = QueueSimple::new(d.path()).expect("open");
    for (dir, elt) in [
        ("00000002", "00000002000001"),
        ("00000001", "00000001000002"),
        ("00000001", "00000001000001"),
    ] {
        fs::create_dir_all(d.path().join(dir)).expect("mkdir");
        fs::write(d.path().join(dir).join(elt), b"x").expect("write");
    }
    // noise that iteration and count must ignore
    fs::write(d.path().join("00000001/00000001000003.tmp"), b"x").expect("write");
    fs::write(d.path().join("00000001/00000001000001.lck"), b"x").expect("write");
    fs::create_dir(d.path().join("NOTHEX00")).expect("mkdir");
    let names: Vec<String> = q.names().map(|n| n.expect("name")).collect();
    assert_eq!(
        names,
        [
            "00000001/00000001000001",
            "00000001/00000001000002",
            "00000002/00000002000001"
        ]
    );
    assert_eq!(q.count().expect("count"), 3);
}

#[test]
fn iteration_survives_a_vanished_directory() {
    let d = tmp();
    let q = QueueSimple::new(d.path()).expect("open");
    for dir in ["00000001", "00000002", "00000003"] {
        fs::create_dir(d.path().join(dir)).expect("mkdir");
        fs::write(d.path().join(dir).join(format!("{dir}000000")), b"x").expect("write");
    }
    let mut it = q.names();
    assert_eq!(
        it.next().expect("one").expect("ok"),
        "00000001/00000001000000"
    );
    fs::remove_dir_all(d.path().join("00000002")).expect("rm");
    assert_eq!(
        it.next().expect("two").expect("ok"),
        "00000003/00000003000000"
    );
    assert!(it.next().is_none());
}

#[test]
fn simple_purge_ages_and_directories() {
    let d = tmp();
    let q = QueueSimple::new(d.path()).expect("open");
    let old = d.path().join("00000001");
    let new = d.path().join("00000002");
    fs::create_dir(&old).expect("mkdir");
    fs::create_dir(&new).expect("mkdir");
    let w = |p: &Path, secs| {
        fs::write(p, b"x").expect("write");
        age(p, secs);
    };
    w(&new.join("00000002000001.tmp"), 400); // old temp: removed
    w(&new.join("00000002000002.tmp"), 10); // young temp: kept
    w(&new.join("00000002000003"), 700); // element with an old lock
    fs::hard_link(new.join("00000002000003"), new.join("00000002000003.lck")).expect("link");
    w(&new.join("00000002000004"), 400); // element with a young lock (400 < 600)
    fs::hard_link(new.join("00000002000004"), new.join("00000002000004.lck")).expect("link");
    w(&new.join("notes.txt"), 9999); // not ours: Perl would delete it, we do not
    q.purge().expect("purge");
    assert!(!old.exists(), "empty old directory removed");
    assert_eq!(
        entries(&new),
        [
            "00000002000002.tmp",
            "00000002000003",
            "00000002000004",
            "00000002000004.lck",
            "notes.txt"
        ]
    );
    // the newest directory stays even when empty
    for e in entries(&new) {
        fs::remove_file(new.join(e)).expect("rm");
    }
    q.purge().expect("purge");
    assert!(new.exists());
    // limits of 0 disable
    w(&new.join("00000002000009.tmp"), 100_000);
    q.purge_with(0, 0).expect("purge");
    assert!(new.join("00000002000009.tmp").exists());
}

#[test]
fn simple_purge_uses_the_configured_maxlock() {
    // Perl 2.2 uses maxtemp as maxlock when purge() gets no arguments (bug 1).
    let d = tmp();
    let q = QueueSimple::with_options(
        d.path(),
        &opts(|o| {
            o.maxlock = 5;
            o.maxtemp = 300;
        }),
    )
    .expect("open");
    let n = q.add(b"x").expect("add");
    assert!(q.lock(&n).expect("lock"));
    age(&d.path().join(&n), 100);
    q.purge().expect("purge");
    assert!(
        !q.is_locked(&n).expect("is_locked"),
        "100 s old lock > maxlock 5"
    );
}

#[test]
fn umask_is_per_queue() {
    let d = tmp();
    let q = QueueSimple::with_options(d.path().join("open"), &opts(|o| o.umask = Some(0)))
        .expect("open");
    let n = q.add(b"x").expect("add");
    let mode = |p: &Path| fs::metadata(p).expect("stat").permissions().mode() & 0o777;
    assert_eq!(mode(&q.path().join(&n)), 0o666);
    assert_eq!(mode(&q.path().join(&n[..8])), 0o777);
    let q = QueueNormal::with_options(
        d.path().join("closed"),
        &opts(|o| {
            o.umask = Some(0o077);
            o.schema = Some("body=binary".parse().expect("schema"));
        }),
    )
    .expect("open");
    let n = q
        .add(&Element::from([(
            "body".into(),
            Value::Binary(b"x".to_vec()),
        )]))
        .expect("add");
    assert_eq!(mode(&q.path().join(&n).join("body")), 0o600);
    assert_eq!(mode(&q.path().join(&n)), 0o700);
    assert_eq!(mode(&q.path().join("temporary")), 0o700);
}

#[test]
fn permission_denied_is_an_error_not_a_loop() {
    if nix_is_root() {
        // root ignores directory permissions; use a read-only bind instead: a file in place
        // of the intermediate directory gives ENOTDIR, which must also fail at once.
        let d = tmp();
        let q = QueueSimple::with_options(d.path(), &opts(|o| o.granularity = 0)).expect("open");
        let (s, _) = (
            SystemTime::now()
                .duration_since(SystemTime::UNIX_EPOCH)
                .expect("time")
                .as_secs(),
            0,
        );
        for t in s..s + 30 {
            fs::write(d.path().join(format!("{:08x}", t)), b"").expect("blocker");
        }
        let e = q.add(b"x").unwrap_err();
        assert!(e.to_string().starts_with("cannot create "), "{e}");
        return;
    }
    let d = tmp();
    let q = QueueSimple::new(d.path()).expect("open");
    fs::set_permissions(d.path(), fs::Permissions::from_mode(0o500)).expect("chmod");
    let e = q.add(b"x").unwrap_err();
    assert!(e.to_string().contains("Permission denied"), "{e}");
}

fn nix_is_root() -> bool {
    fs::read_to_string("/proc/self/status")
        .map(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .is_some_and(|l| l.split_whitespace().nth(1) == Some("0"))
        })
        .unwrap_or(false)
}

fn normal(path: &Path, schema: &str) -> QueueNormal {
    QueueNormal::with_options(
        path,
        &opts(|o| o.schema = Some(schema.parse().expect("schema"))),
    )
    .expect("open")
}

fn elt(pairs: Vec<(&str, Value)>) -> Element {
    pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

#[test]
fn normal_round_trip_and_layout() {
    let d = tmp();
    let q = normal(d.path(), "body=binary,text=string?,header=table?");
    let table: BTreeMap<String, String> = [("a\tb".to_string(), "c\nd\\".to_string())]
        .into_iter()
        .collect();
    let data = elt(vec![
        ("body", Value::Binary(b"\0\xff".to_vec())),
        ("text", Value::String("é☺".into())),
        ("header", Value::Table(table)),
    ]);
    let n = q.add(&data).expect("add");
    assert_eq!(&n[..8], "00000000");
    assert_eq!(
        entries(d.path()),
        ["00000000", "obsolete", "temporary"],
        "top level"
    );
    assert_eq!(
        fs::read(d.path().join(&n).join("header")).expect("read"),
        b"a\\tb\tc\\nd\\\\\n"
    );
    assert!(matches!(q.get(&n), Err(Error::NotLocked { .. })));
    assert!(q.lock(&n).expect("lock"));
    assert!(d.path().join(&n).join("locked").is_dir());
    assert_eq!(q.get(&n).expect("get"), data);
    let only = elt(vec![("body", Value::Binary(vec![]))]);
    let m = q.add(&only).expect("add");
    q.lock(&m).expect("lock");
    assert_eq!(
        q.get(&m).expect("get"),
        only,
        "absent optional fields are left out"
    );
    assert_eq!(q.count().expect("count"), 2);
    q.remove(&n).expect("remove");
    q.remove(&m).expect("remove");
    assert_eq!(q.count().expect("count"), 0);
    assert!(entries(&d.path().join("obsolete")).is_empty());
    assert!(entries(&d.path().join("temporary")).is_empty());
}

#[test]
fn normal_add_is_validated_before_writing() {
    let d = tmp();
    let q = normal(d.path(), "body=binary,header=table?");
    let cases = [
        (elt(vec![]), "invalid data: missing mandatory field body"),
        (
            elt(vec![("body", Value::String("x".into()))]),
            "invalid data: field body must be binary, not string",
        ),
        (
            elt(vec![
                ("body", Value::Binary(vec![])),
                ("x", Value::Binary(vec![])),
            ]),
            "invalid data: unexpected field \"x\"",
        ),
    ];
    for (data, msg) in cases {
        assert_eq!(q.add(&data).unwrap_err().to_string(), msg);
    }
    assert!(entries(&d.path().join("temporary")).is_empty());
    let noschema = QueueNormal::new(d.path()).expect("open");
    assert!(matches!(noschema.add(&elt(vec![])), Err(Error::NoSchema)));
}

#[test]
fn normal_maxelts_rollover_and_reuse() {
    let d = tmp();
    let q = QueueNormal::with_options(
        d.path(),
        &opts(|o| {
            o.maxelts = 3;
            o.schema = Some("body=string".parse().expect("schema"));
        }),
    )
    .expect("open");
    let body = elt(vec![("body", Value::String("x".into()))]);
    let names: Vec<String> = (0..7).map(|_| q.add(&body).expect("add")).collect();
    let dirs: Vec<&str> = names.iter().map(|n| &n[..8]).collect();
    assert_eq!(
        dirs,
        [
            "00000000", "00000000", "00000000", "00000001", "00000001", "00000001", "00000002"
        ]
    );
    assert_eq!(q.count().expect("count"), 7);
    // empty the last directory: Perl reuses it
    q.lock(&names[6]).expect("lock");
    q.remove(&names[6]).expect("remove");
    assert_eq!(&q.add(&body).expect("add")[..8], "00000002");
}

#[test]
fn normal_count_ignores_elements_in_flight() {
    let d = tmp();
    let q = normal(d.path(), "body=string");
    q.add(&elt(vec![("body", Value::String("x".into()))]))
        .expect("add");
    fs::create_dir(d.path().join("temporary/00000001000000")).expect("mkdir");
    fs::create_dir(d.path().join("obsolete/00000001000000")).expect("mkdir");
    assert_eq!(q.count().expect("count"), 1, "python counts 3 here (bug 2)");
}

#[test]
fn normal_purge_respects_ages() {
    let d = tmp();
    let q = normal(d.path(), "body=string");
    let t = d.path().join("temporary");
    // young empty temporary dir: an add that has just done its mkdir (python removes it)
    fs::create_dir(t.join("00000001000001")).expect("mkdir");
    // young non-empty one (python raises "Directory not empty")
    fs::create_dir(t.join("00000001000002")).expect("mkdir");
    fs::write(t.join("00000001000002/body"), b"x").expect("write");
    // old ones, with a locked dir inside, are removed
    fs::create_dir_all(t.join("00000001000003/locked")).expect("mkdir");
    fs::write(t.join("00000001000003/body"), b"x").expect("write");
    age(&t.join("00000001000003"), 400);
    let o = d.path().join("obsolete/00000001000004");
    fs::create_dir(&o).expect("mkdir");
    age(&o, 400);
    // an old lock is released, a young one kept
    let body = elt(vec![("body", Value::String("x".into()))]);
    let a = q.add(&body).expect("add");
    let b = q.add(&body).expect("add");
    q.lock(&a).expect("lock");
    q.lock(&b).expect("lock");
    age(&d.path().join(&a), 700);
    q.purge().expect("purge");
    assert_eq!(entries(&t), ["00000001000001", "00000001000002"]);
    assert!(entries(&d.path().join("obsolete")).is_empty());
    assert!(!q.is_locked(&a).expect("a"));
    assert!(q.is_locked(&b).expect("b"));
}

#[test]
fn normal_purge_removes_empty_older_directories() {
    let d = tmp();
    let q = QueueNormal::with_options(
        d.path(),
        &opts(|o| {
            o.maxelts = 1;
            o.schema = Some("body=string".parse().expect("schema"));
        }),
    )
    .expect("open");
    let body = elt(vec![("body", Value::String("x".into()))]);
    let names: Vec<String> = (0..3).map(|_| q.add(&body).expect("add")).collect();
    for n in &names {
        q.lock(n).expect("lock");
        q.remove(n).expect("remove");
    }
    q.purge().expect("purge");
    assert_eq!(entries(d.path()), ["00000002", "obsolete", "temporary"]);
}

#[test]
fn normal_get_reports_bad_files() {
    let d = tmp();
    let q = normal(d.path(), "body=string,header=table?");
    let n = q
        .add(&elt(vec![("body", Value::String("x".into()))]))
        .expect("add");
    q.lock(&n).expect("lock");
    let dir = d.path().join(&n);
    fs::write(dir.join("header"), b"no tab here\n").expect("write");
    let e = q.get(&n).unwrap_err().to_string();
    assert!(
        e.ends_with("header: unexpected hash line \"no tab here\""),
        "{e}"
    );
    fs::write(dir.join("header"), b"").expect("write");
    fs::write(dir.join("body"), b"\xff").expect("write");
    let e = q.get(&n).unwrap_err().to_string();
    assert!(e.ends_with("body: invalid UTF-8 in string field"), "{e}");
    fs::remove_file(dir.join("body")).expect("rm");
    let e = q.get(&n).unwrap_err().to_string();
    assert!(
        e.ends_with("missing data file for mandatory field body"),
        "{e}"
    );
}

#[test]
fn invalid_names_are_refused() {
    let d = tmp();
    let q = QueueSimple::new(d.path()).expect("open");
    for bad in ["../etc/passwd", "00000000/0000000000000", "x"] {
        assert!(matches!(q.lock(bad), Err(Error::InvalidName(_))), "{bad}");
    }
}

#[test]
fn null_queue() {
    let d = tmp();
    let q = QueueNull::new();
    assert_eq!(q.add(b"x").expect("add"), "");
    let f = d.path().join("f");
    fs::write(&f, b"x").expect("write");
    assert_eq!(q.add_path(&f).expect("add_path"), "");
    assert!(!f.exists());
    assert_eq!(q.count().expect("count"), 0);
    assert!(q.names().next().is_none());
    q.purge().expect("purge");
    assert_eq!(
        q.lock("00000000/00000000000000").unwrap_err().to_string(),
        "unsupported method: lock()"
    );
}

#[test]
fn set_merges_by_element_name() {
    let d = tmp();
    let a = QueueSimple::new(d.path().join("a")).expect("open");
    let b = QueueSimple::new(d.path().join("b")).expect("open");
    let mk = |q: &QueueSimple, dir: &str, e: &str| {
        fs::create_dir_all(q.path().join(dir)).expect("mkdir");
        fs::write(q.path().join(dir).join(e), b"x").expect("write");
    };
    // Perl orders by the last 14 characters, whatever the directory
    mk(&a, "00000009", "00000001000001");
    mk(&a, "00000009", "00000003000001");
    mk(&b, "00000001", "00000002000001");
    let set = QueueSet::new([AnyQueue::Simple(a.clone()), AnyQueue::Simple(b)]).expect("set");
    let got: Vec<(usize, String)> = set.iter().map(|r| r.expect("ok")).collect();
    assert_eq!(
        got,
        [
            (0, "00000009/00000001000001".to_string()),
            (1, "00000001/00000002000001".to_string()),
            (0, "00000009/00000003000001".to_string()),
        ]
    );
    assert_eq!(set.count().expect("count"), 3);
    let mut set = set;
    let e = set.add(AnyQueue::Simple(a.clone())).unwrap_err();
    assert!(matches!(e, Error::DuplicateQueue(_)));
    assert!(set.remove(&AnyQueue::Simple(a)).expect("remove").is_some());
    assert_eq!(set.count().expect("count"), 1);
}

#[test]
fn durable_mode_adds_the_same_layout() {
    let d = tmp();
    let q = QueueSimple::with_options(d.path(), &opts(|o| o.sync = true)).expect("open");
    let n = q.add(b"durable").expect("add");
    q.lock(&n).expect("lock");
    assert_eq!(q.get(&n).expect("get"), b"durable");
    let q = QueueNormal::with_options(
        d.path().join("n"),
        &opts(|o| {
            o.sync = true;
            o.schema = Some("body=binary".parse().expect("schema"));
        }),
    )
    .expect("open");
    q.add(&elt(vec![("body", Value::Binary(b"d".to_vec()))]))
        .expect("add");
    assert_eq!(q.count().expect("count"), 1);
}

#[test]
fn threads_share_a_queue_without_losing_elements() {
    let d = tmp();
    let q = QueueSimple::new(d.path()).expect("open");
    std::thread::scope(|s| {
        for t in 0..4u8 {
            let q = q.clone();
            s.spawn(move || {
                for i in 0..250u32 {
                    q.add(format!("{t}-{i}").as_bytes()).expect("add");
                }
            });
        }
    });
    assert_eq!(q.count().expect("count"), 1000);
    let consumed = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..4 {
            let q = q.clone();
            let consumed = &consumed;
            s.spawn(move || {
                for n in q.names() {
                    let n = n.expect("name");
                    if q.lock(&n).expect("lock") {
                        q.get(&n).expect("get");
                        q.remove(&n).expect("remove");
                        consumed.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    }
                }
            });
        }
    });
    assert_eq!(consumed.into_inner(), 1000);
    assert_eq!(q.count().expect("count"), 0);
}

#[test]
fn elements_of_every_size_read_back_whole() {
    let d = tmp();
    let q = QueueSimple::new(d.path()).expect("open");
    for size in [0usize, 1, 4095, 4096, 4097, 8192, 100_000, 1 << 20] {
        let data: Vec<u8> = (0..size).map(|i| (i * 7 % 251) as u8).collect();
        let n = q.add(&data).expect("add");
        q.lock(&n).expect("lock");
        assert_eq!(q.get(&n).expect("get"), data, "size {size}");
    }
}

#[test]
fn remove_locked_is_the_references_two_unlinks() {
    let d = tempfile::tempdir().expect("tmp");
    let q = QueueSimple::new(d.path()).expect("queue");
    let a = q.add(b"a").expect("add");
    let b = q.add(b"b").expect("add");
    assert!(q.lock(&a).expect("lock"));
    q.remove_locked(&a).expect("remove");
    assert_eq!(q.count().expect("count"), 1);
    assert!(!q.lock(&a).expect("gone"));
    // not locked after all: an error, as the references' second unlink fails
    assert!(matches!(q.remove_locked(&b), Err(Error::NotLocked { .. })));
}

#[test]
fn normal_get_locked_and_remove_locked_skip_the_lock_check() {
    let d = tmp();
    let q = normal(d.path(), "body=binary,text=string?");
    let data = elt(vec![("body", Value::Binary(b"x".to_vec()))]);
    let a = q.add(&data).expect("add");
    let b = q.add(&data).expect("add");
    assert!(q.lock(&a).expect("lock"));
    assert_eq!(q.get_locked(&a).expect("get"), data);
    q.remove_locked(&a).expect("remove");
    assert_eq!(q.count().expect("count"), 1);
    assert!(!q.lock(&a).expect("gone"));
    // not locked after all: still an error (the element has moved out of the queue)
    assert!(matches!(q.remove_locked(&b), Err(Error::NotLocked { .. })));
    assert_eq!(q.count().expect("count"), 0);
}
