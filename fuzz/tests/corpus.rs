//! The fuzz corpora replayed, in seconds: every input kept under fuzz/corpus/TARGET (the
//! seeds, what libFuzzer kept for new coverage, and each crash or hang it found, kept as a
//! regression input) through its target; then, for each target, mutations of its corpus by
//! a seeded generator (bit flips, truncations, splices, repeated bytes), so that the test
//! command itself feeds every decoder hostile bytes. A panic names the target and the input.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

fn corpus(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("corpus")
        .join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("corpus entry").path())
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let data = std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            (p, data)
        })
        .collect()
}

/// Runs `f` on `data`; a panic or a run over `limit` fails, naming what was fed.
fn feed(target: &str, f: fn(&[u8]), data: &[u8], what: &dyn Fn() -> String) {
    fuzz::quiet();
    let limit = Duration::from_secs(2);
    let t = Instant::now();
    if catch_unwind(AssertUnwindSafe(|| f(data))).is_err() {
        panic!("{target} panicked on {}", what());
    }
    assert!(
        t.elapsed() < limit,
        "{target} took {:?} on {}",
        t.elapsed(),
        what()
    );
}

#[test]
fn every_corpus_input_replays() {
    let mut total = 0;
    for (target, f) in fuzz::TARGETS {
        let inputs = corpus(target);
        assert!(!inputs.is_empty(), "{target}: an empty corpus");
        for (path, data) in &inputs {
            feed(target, *f, data, &|| path.display().to_string());
        }
        total += inputs.len();
    }
    assert!(total >= fuzz::TARGETS.len());
}

/// xorshift64*: the same inputs on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn mutate(rng: &mut Rng, base: &[u8], other: &[u8]) -> Vec<u8> {
    let mut v = base.to_vec();
    for _ in 0..=rng.below(4) {
        match rng.below(6) {
            0 if !v.is_empty() => {
                let i = rng.below(v.len());
                v[i] ^= 1 << rng.below(8);
            }
            1 => v.truncate(rng.below(v.len() + 1)),
            2 => {
                let at = rng.below(v.len() + 1);
                let from = rng.below(other.len() + 1);
                v.splice(at..at, other[from..].iter().copied());
            }
            3 if !v.is_empty() => {
                let i = rng.below(v.len());
                let b = v[i];
                let n = 1 + rng.below(64);
                v.splice(i..i, std::iter::repeat_n(b, n));
            }
            4 if !v.is_empty() => {
                // an interesting byte: lengths and delimiters
                let i = rng.below(v.len());
                v[i] = [0, 0x7f, 0x80, 0xff, b'\n', b':', b'"', b'\\'][rng.below(8)];
            }
            _ => v.push(rng.next() as u8),
        }
    }
    v
}

#[test]
fn mutated_inputs_are_refused_without_a_panic() {
    const PER_TARGET: usize = 3000;
    for (target, f) in fuzz::TARGETS {
        let inputs: Vec<Vec<u8>> = corpus(target).into_iter().map(|(_, d)| d).collect();
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ target.len() as u64);
        for i in 0..PER_TARGET {
            let base = &inputs[rng.below(inputs.len())];
            let other = &inputs[rng.below(inputs.len())];
            let data = mutate(&mut rng, base, other);
            feed(target, *f, &data, &|| format!("mutation {i}: {data:?}"));
        }
    }
}
