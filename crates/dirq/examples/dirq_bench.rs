//! Benchmark driver for the dirq crate; `bench/dirq.sh` runs it beside the python
//! reference and prints the ratios. Usage:
//!
//! `dirq_bench KIND DIR N SIZE` (KIND simple|normal) runs add, count, purge (full), consume,
//! purge (empty) on a new queue under DIR and prints one JSON line per phase.
//! `dirq_bench count-purge KIND DIR` times count and purge of an existing queue and prints the
//! peak resident memory.
//! `dirq_bench floor DIR N SIZE THREADS` is the spool's own ceiling for the transfer agents'
//! benchmarks: THREADS threads add N SIZE-byte elements to one Simple queue between them, then
//! THREADS threads lock, read and remove them all; one JSON line per phase, no messaging.
//! `dirq_bench stage DIR N SIZE` adds N elements one at a time, then N more in two steps
//! (stage, commit: `--dedup`'s writes, invisible to readers until committed), then N more
//! at one time again, alternating; one JSON line per way (the best of its three rounds).

use std::path::Path;
use std::time::Instant;

use dirq::{DirQueue, Element, Options, QueueNormal, QueueSimple, Value};

fn phase(name: &str, n: usize, secs: f64) {
    let rate = if secs > 0.0 { n as f64 / secs } else { 0.0 };
    println!(
        "{{\"impl\":\"rust\",\"phase\":\"{name}\",\"n\":{n},\"secs\":{secs:.6},\"rate\":{rate:.1}}}"
    );
}

fn timed<T>(f: impl FnOnce() -> T) -> (T, f64) {
    let t = Instant::now();
    let r = f();
    (r, t.elapsed().as_secs_f64())
}

fn max_rss_kib() -> i64 {
    let mut ru = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: getrusage fills the struct we pass.
    unsafe {
        libc::getrusage(libc::RUSAGE_SELF, ru.as_mut_ptr());
        ru.assume_init().ru_maxrss
    }
}

fn open(kind: &str, path: &Path) -> dirq::AnyQueue {
    let o = Options {
        schema: Some("body=binary".parse().expect("schema")),
        ..Options::default()
    };
    match kind {
        "simple" => dirq::AnyQueue::Simple(QueueSimple::with_options(path, &o).expect("open")),
        "normal" => dirq::AnyQueue::Normal(QueueNormal::with_options(path, &o).expect("open")),
        _ => panic!("kind must be simple or normal"),
    }
}

/// What a spool alone allows: `threads` adders then `threads` consumers on one queue.
fn floor(dir: &Path, n: usize, size: usize, threads: usize) {
    let q = QueueSimple::new(dir.join("floor")).expect("open");
    let body = vec![b'A'; size];
    let ((), secs) = timed(|| {
        std::thread::scope(|s| {
            for t in 0..threads {
                let (q, body) = (&q, &body);
                let share = n / threads + usize::from(t < n % threads);
                s.spawn(move || (0..share).for_each(|_| drop(q.add(body).expect("add"))));
            }
        })
    });
    phase(&format!("add-x{threads}"), n, secs);
    let (got, secs) = timed(|| {
        // one listing, dealt out, so that the threads do not race for the same elements
        let names: Vec<String> = q.names().map(|n| n.expect("name")).collect();
        std::thread::scope(|s| {
            let workers: Vec<_> = (0..threads)
                .map(|t| {
                    let (q, names) = (&q, &names);
                    s.spawn(move || {
                        let mut got = 0;
                        for name in names.iter().skip(t).step_by(threads) {
                            if !q.lock(name).expect("lock") {
                                continue;
                            }
                            assert_eq!(q.get(name).expect("get").len(), size);
                            q.remove(name).expect("remove");
                            got += 1;
                        }
                        got
                    })
                })
                .collect();
            workers
                .into_iter()
                .map(|w| w.join().expect("worker"))
                .sum::<usize>()
        })
    });
    assert_eq!(got, n);
    phase(&format!("consume-x{threads}"), n, secs);
}

/// What writing in two steps costs an element: adds and stage-commits, alternated, each
/// phase into a queue of its own (removed after it: a directory's size changes the cost).
fn stage(dir: &Path, n: usize, size: usize) {
    let body = vec![b'A'; size];
    let (mut add, mut two) = (f64::MAX, f64::MAX);
    for round in 0..3 {
        let path = dir.join(format!("stage-add-{round}"));
        let q = QueueSimple::new(&path).expect("open");
        let ((), secs) = timed(|| (0..n).for_each(|_| drop(q.add(&body).expect("add"))));
        add = add.min(secs);
        std::fs::remove_dir_all(&path).expect("remove");
        let path = dir.join(format!("stage-two-{round}"));
        let q = QueueSimple::new(&path).expect("open");
        let ((), secs) = timed(|| {
            (0..n).for_each(|_| {
                let tmp = q.stage(&body).expect("stage");
                q.commit_path(&tmp).expect("commit");
            })
        });
        two = two.min(secs);
        std::fs::remove_dir_all(&path).expect("remove");
    }
    phase("add", n, add);
    phase("stage-commit", n, two);
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("stage") {
        let num = |i: usize| args[i].parse::<usize>().expect("a number");
        stage(Path::new(&args[1]), num(2), num(3));
        return;
    }
    if args.first().map(String::as_str) == Some("floor") {
        let num = |i: usize| args[i].parse::<usize>().expect("a number");
        floor(Path::new(&args[1]), num(2), num(3), num(4));
        return;
    }
    if args.first().map(String::as_str) == Some("count-purge") {
        let q = open(&args[1], Path::new(&args[2]));
        let (n, secs) = timed(|| q.count().expect("count"));
        phase("count", n, secs);
        let ((), secs) = timed(|| q.purge().expect("purge"));
        phase("purge-full", n, secs);
        println!(
            "{{\"impl\":\"rust\",\"phase\":\"max-rss-kib\",\"n\":{n},\"secs\":0,\"rate\":{}}}",
            max_rss_kib()
        );
        return;
    }
    let (kind, dir, n, size) = (
        args[0].as_str(),
        Path::new(&args[1]),
        args[2].parse::<usize>().expect("N"),
        args[3].parse::<usize>().expect("SIZE"),
    );
    let q = open(kind, &dir.join(format!("rust-{kind}")));
    let body = vec![b'A'; size];
    let elt: Element = [("body".to_string(), Value::Binary(body.clone()))].into();
    let ((), secs) = timed(|| {
        for _ in 0..n {
            match &q {
                dirq::AnyQueue::Simple(s) => {
                    s.add(&body).expect("add");
                }
                dirq::AnyQueue::Normal(s) => {
                    s.add(&elt).expect("add");
                }
                dirq::AnyQueue::Null(_) => unreachable!(),
            }
        }
    });
    phase("add", n, secs);
    let (c, secs) = timed(|| q.count().expect("count"));
    assert_eq!(c, n);
    phase("count", n, secs);
    let ((), secs) = timed(|| q.purge().expect("purge"));
    phase("purge-full", n, secs);
    let (got, secs) = timed(|| {
        let mut got = 0;
        for name in q.names() {
            let name = name.expect("name");
            if !q.lock(&name).expect("lock") {
                continue;
            }
            match &q {
                dirq::AnyQueue::Simple(s) => assert_eq!(s.get(&name).expect("get").len(), size),
                dirq::AnyQueue::Normal(s) => assert_eq!(s.get(&name).expect("get").len(), 1),
                dirq::AnyQueue::Null(_) => unreachable!(),
            }
            // the agents' way: the lock is ours, no need to look
            q.remove_locked(&name).expect("remove");
            got += 1;
        }
        got
    });
    assert_eq!(got, n);
    phase("consume", n, secs);
    let ((), secs) = timed(|| q.purge().expect("purge"));
    phase("purge-empty", n, secs);
}
