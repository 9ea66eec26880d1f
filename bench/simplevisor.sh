#!/usr/bin/env bash
# Benchmark: simplevisor against python simplevisor 1.3 (PyPI, in .venv), same run:
# restart latency after SIGKILL and resident memory with 20 services.
# Usage: bench/simplevisor.sh [-k KILLS] [-s SERVICES] [-i INTERVAL]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-python.sh >&2
cargo build -q --release -p simplevisor
exec .venv/bin/python bench/simplevisor_bench.py "$@"
