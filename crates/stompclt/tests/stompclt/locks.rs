//! Lock owners (the shell's, for every agent): the locks of a reader SIGKILLed mid-transfer
//! are released at once by the next run, with the default maxlock; a reference reader's lock
//! (no owner record) is left for purge.

use super::*;

fn walk(d: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(d) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

/// The locks left, and how many of them carry a stamp some owner recorded (the others were
/// taken by a reader killed between the lock's two system calls, link and date: released
/// too, by their undated link).
fn left_locks(q: &Path) -> (usize, usize) {
    let mut stamps = std::collections::HashSet::new();
    for f in walk(&q.join(".owners")) {
        for line in std::fs::read_to_string(f).unwrap_or_default().lines() {
            if let Some((_, s)) = line.split_once(' ') {
                stamps.insert(s.to_string());
            }
        }
    }
    let lcks: Vec<_> = walk(q)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "lck"))
        .collect();
    let stamped = lcks
        .iter()
        .filter(|p| {
            let m = std::fs::metadata(p).expect("stat");
            let ns = std::os::unix::fs::MetadataExt::mtime(&m) as i128 * 1_000_000_000
                + std::os::unix::fs::MetadataExt::mtime_nsec(&m) as i128;
            stamps.contains(&ns.to_string())
        })
        .count();
    (lcks.len(), stamped)
}

#[test]
fn a_killed_readers_locks_are_released_at_once_with_the_default_maxlock() {
    let d = tmp();
    let n = 50_000;
    let inq = d.path().join("in");
    fill(&inq, "DQS", &mixed(n, "/q"));
    let args = qq_args(d.path(), &["--reliable", "--remove", "--window", "200"]);
    // killed mid-transfer (once it has moved a first message, however loaded the machine)
    // until it leaves recorded locks behind
    let (mut left, mut stamped) = (0, 0);
    for seed in 0..20u64 {
        let before = queue_count(&d.path().join("out"));
        let mut child = stompclt()
            .args(&args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn");
        let t = Instant::now();
        while queue_count(&d.path().join("out")) == before && t.elapsed() < Duration::from_secs(20)
        {
            std::thread::sleep(Duration::from_millis(2));
        }
        std::thread::sleep(Duration::from_millis(seed * 7 % 40));
        assert!(
            child.try_wait().expect("wait").is_none(),
            "ended before its kill"
        );
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        (left, stamped) = left_locks(&inq);
        if stamped > 0 {
            break;
        }
    }
    assert!(stamped > 0, "no kill left a recorded lock behind");
    // the next run, with purge's default maxlock (600 s): every recorded lock released at
    // once, the spool sent within seconds but for the unrecorded ones
    let t = Instant::now();
    ok(&args);
    let took = t.elapsed();
    let after = queue_count(&inq);
    assert_eq!(
        after, 0,
        "{after} elements left; the killed run left {left} locks, {stamped} of them dated"
    );
    assert!(took < Duration::from_secs(30), "{took:?}");
    eprintln!(
        "the {left} locks of a killed run ({} linked and not dated) released at once; the \
         spool sent in {took:?}",
        left - stamped
    );
    assert!(drain(&d.path().join("out"), "DQS").len() >= n - after);
}

#[test]
fn compat_a_python_dirq_readers_lock_is_not_taken() {
    let python = std::env::var("REF_PYTHON").expect(
        "REF_PYTHON is not set: this test locks an element with python dirq (scripts/setup-python.sh)",
    );
    let d = tmp();
    let inq = d.path().join("in");
    fill(&inq, "DQS", &mixed(20, "/q"));
    // python dirq locks the first element and keeps it (no owner record: a reader of its own)
    let script = format!(
        "from dirq.QueueSimple import QueueSimple\nq = QueueSimple({:?})\nn = next(iter(q))\nassert q.lock(n)\nprint(n)",
        p(&inq)
    );
    let out = Command::new(python)
        .args(["-c", &script])
        .output()
        .expect("python");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let name = String::from_utf8_lossy(&out.stdout).trim().to_string();
    ok(&qq_args(d.path(), &["--reliable", "--remove"]));
    let lib = dirq::QueueSimple::new(&inq).expect("open");
    assert_eq!(lib.count().expect("count"), 1, "the locked one left");
    assert!(lib.is_locked(&name).expect("locked?"), "its lock kept");
    assert_eq!(queue_count(&d.path().join("out")), 19);
}

/// Three senders on one spool (the elastic-consumer pattern), one of them SIGKILLed 20
/// times and restarted: nothing lost, and no message sent twice by the two that live (each
/// sender marks what it sends; a duplicate must involve the killed one).
#[test]
fn broker_three_senders_on_one_spool_one_killed_20_times_nothing_lost_none_stolen() {
    let b = &brokers()[0];
    let d = tmp();
    let dest = unique_destination("three");
    let n = 30_000;
    let sent = mixed(n, &dest);
    let inq = d.path().join("in");
    fill(&inq, "DQS", &sent);
    let sender = |who: &str| {
        let mut c = stompclt();
        c.args(s(&["--incoming-queue", &format!("path={}", p(&inq))]))
            .args(s(&["--reliable", "--remove", "--window", "200"]))
            .args(s(&["--header-set", &format!("x-sender={who}")]))
            .args(b.opts("outgoing"))
            .stdout(Stdio::null());
        c
    };
    let living: Vec<std::process::Child> = ["a", "b"]
        .iter()
        .map(|w| sender(w).spawn().expect("stompclt"))
        .collect();
    let mut killed = 0;
    for k in 0..20 {
        if kill_at_random(sender("c"), 300 + k, 100).is_none() {
            killed += 1;
        }
    }
    assert!(
        killed >= 10,
        "only {killed} of the killed runs were still sending"
    );
    for mut c in living {
        assert!(c.wait().expect("wait").success(), "a living sender failed");
    }
    // the last killed run's recorded locks: released by the next run, at once
    let (left, stamped) = left_locks(&inq);
    let out = sender("c").output().expect("stompclt");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let after = queue_count(&inq);
    assert_eq!(
        after, 0,
        "{after} left of the {left} locks the last killed run left ({stamped} dated)"
    );
    let mut args = s(&["--subscribe", &format!("destination={dest}"), "--reliable"]);
    args.extend(s(&[
        "--outgoing-queue",
        &format!("path={}", p(&d.path().join("out"))),
    ]));
    args.extend(s(&["--timeout-inactivity", "5"]));
    args.extend(b.opts("incoming"));
    ok(&args);
    let got = drain(&d.path().join("out"), "DQS");
    let dups = compare(&sent, &got, "three senders");
    let mut by_index: std::collections::HashMap<&str, Vec<&str>> = std::collections::HashMap::new();
    for m in &got {
        by_index
            .entry(m.header["x-index"].as_str())
            .or_default()
            .push(m.header["x-sender"].as_str());
    }
    let stolen = by_index
        .values()
        .filter(|senders| senders.len() > 1 && senders.iter().filter(|s| **s != "c").count() > 1)
        .count();
    assert_eq!(stolen, 0, "a message sent twice by the living senders");
    eprintln!(
        "three senders, one killed {killed} times: {dups} duplicates (all the killed one's), 0 lost"
    );
}
