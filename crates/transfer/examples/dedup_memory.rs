//! The dedup window's memory (bench/dedup.sh): N ids recorded in a window of N, the
//! process's resident memory before and after. Prints one JSON line.
//!
//! Usage: dedup_memory DIR N

use std::time::Duration;

use transfer::dedup::{Bounds, Window};

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn main() {
    let a: Vec<String> = std::env::args().collect();
    let (dir, n): (&str, usize) = (&a[1], a[2].parse().expect("N"));
    let bounds = Bounds {
        max_age: Duration::from_secs(86_400),
        max_ids: n,
    };
    let before = rss_kib();
    let mut w = Window::open(std::path::Path::new(dir), bounds, false, None).expect("window");
    for i in 0..n {
        w.record(&format!("{i:032x}")).expect("record");
    }
    let after = rss_kib();
    println!(
        "{{\"ids\": {}, \"kib\": {}, \"bytes_per_id\": {:.0}}}",
        w.len(),
        after - before,
        (after - before) as f64 * 1024.0 / w.len() as f64
    );
}
