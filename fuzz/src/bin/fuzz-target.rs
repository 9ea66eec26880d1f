//! The coverage-guided fuzzer (libFuzzer) of one target, named by `MSGTK_FUZZ_TARGET`:
//! built and run by bench/fuzz.sh.
#![no_main]

use std::sync::OnceLock;

static TARGET: OnceLock<fn(&[u8])> = OnceLock::new();

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let run = TARGET.get_or_init(|| {
        fuzz::quiet();
        let name = std::env::var("MSGTK_FUZZ_TARGET").unwrap_or_default();
        fuzz::target(&name).unwrap_or_else(|| {
            let names: Vec<&str> = fuzz::TARGETS.iter().map(|(n, _)| *n).collect();
            panic!("MSGTK_FUZZ_TARGET={name:?}: not one of {names:?}")
        })
    });
    run(data);
});
