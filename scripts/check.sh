#!/usr/bin/env bash
# The quick checks to run before a commit: formatting, clippy (warnings are errors), and the
# generated man pages and completions up to date. scripts/test.sh runs these too.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo fmt --all --check
cargo clippy --workspace --all-targets --quiet -- -D warnings
cargo run --quiet -p xtask -- check
