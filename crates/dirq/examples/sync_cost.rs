//! The cost of `sync` per add: N adds of SIZE bytes to a Simple queue in DIR, without and with
//! `sync`, alternated over RUNS rounds; prints the median microseconds per add of each and
//! their ratio. Run it on the filesystem that matters (fsync is free on tmpfs):
//! `cargo run --release -p dirq --example sync_cost -- /var/tmp 2000 1024 3`.

use std::time::Instant;

use dirq::{Options, QueueSimple};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let dir = args.get(1).map_or("/var/tmp", String::as_str);
    let n: usize = args.get(2).map_or(Ok(2000), |s| s.parse())?;
    let size: usize = args.get(3).map_or(Ok(1024), |s| s.parse())?;
    let runs: usize = args.get(4).map_or(Ok(3), |s| s.parse())?;
    let body = vec![b'x'; size];
    let (mut plain, mut synced) = (Vec::new(), Vec::new());
    for r in 0..runs {
        for sync in [false, true] {
            let work = tempfile::tempdir_in(dir)?;
            let o = Options {
                sync,
                ..Options::default()
            };
            let q = QueueSimple::with_options(work.path().join(format!("q{r}")), &o)?;
            let t = Instant::now();
            for _ in 0..n {
                q.add(&body)?;
            }
            let us = t.elapsed().as_secs_f64() * 1e6 / n as f64;
            if sync {
                synced.push(us)
            } else {
                plain.push(us)
            }
        }
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (p, s) = (median(&mut plain), median(&mut synced));
    println!("# {n} adds of {size} bytes in {dir}, median of {runs}");
    println!(
        "without sync: {p:.1} us/add\nwith sync:    {s:.1} us/add\nratio:        {:.1}x",
        s / p
    );
    Ok(())
}
