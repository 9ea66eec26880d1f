#!/usr/bin/env bash
# Runs every test of the toolkit. On a fresh Debian machine it installs what the tests need
# (python3-venv, the Python reference implementations in .venv) before running:
#   1. formatting, clippy (warnings are errors), man page and completion drift;
#   2. every unit and integration test, the cross-tests against the Python references
#      included.
#   3. the broker tests: RabbitMQ (STOMP 61613, AMQP 1.0 5672), ActiveMQ (STOMP 61614), the
#      Qpid Proton C broker (AMQP 1.0 5673) and Mosquitto (MQTT 1883, 8883) from Debian, and
#      Google's Pub/Sub emulator (REST 8085; from Google's Cloud SDK repository: the run
#      fails, saying how to get it, when it is missing), installed if missing and started on
#      loopback with data directories of their own (tests/brokers/), stopped at the end
#      (KEEP_BROKERS=1 leaves them running); python3-qpid-proton for the amqpclt cross-test;
#      Debian's prometheus (its service left stopped) for the metrics test, strace for the
#      system-call budget test.
# Usage: scripts/test.sh [--offline | --quick]
#   --offline  the explicitly chosen offline subset: installs and starts nothing and leaves
#              out the tests that need the references, brokers or root (compat_*, broker_*,
#              root_*: a tmpfs is mounted to fill a disk); it says so at the end.
#   --quick    the inner loop: fmt, clippy and the offline tests (unit tests, the engine's
#              fake-module tests, the agents' tests against peers of their own); no docs,
#              packaging or man page checks; it says so at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
offline=0 quick=0
case "${1:-}" in
  --offline) offline=1 ;;
  --quick) offline=1 quick=1 ;;
  "") ;;
  *) echo "usage: $0 [--offline | --quick]" >&2; exit 2 ;;
esac

if ! command -v cargo > /dev/null; then
  echo "test.sh: cargo not found: install a Rust toolchain >= 1.89 (rustup) first" >&2
  exit 1
fi

# A CI run builds from a clean clone once: incremental caches would be written for nothing
# (a developer's repeated runs keep them)
if [ "${CI:-}" = true ] && [ -z "${CARGO_INCREMENTAL:-}" ]; then
  export CARGO_INCREMENTAL=0
fi

# clippy-driver compiles the workspace's crates in every cargo command below (lints denied):
# one build both lints and compiles them, where `cargo clippy` and then `cargo test` built
# them twice. The packages' build goes without (lints are the test build's business).
if command -v clippy-driver > /dev/null; then
  export RUSTC_WORKSPACE_WRAPPER=clippy-driver
  export CLIPPY_ARGS=-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__
else
  echo "test.sh: clippy-driver not found: rustup component add clippy" >&2
  exit 1
fi

# Installs Debian packages quietly, reading the package lists first only when needed.
apt_install() {
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" > /dev/null 2>&1 || {
    apt-get update -qq > /dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" > /dev/null
  }
}
# each step says when it began (seconds since the start): where the suite's time goes
step() { printf '\n=== %s (at %d s)\n' "$*" "$SECONDS"; }

skip=(--)
brokers=tests/brokers
export RMQ_DATA=${RMQ_DATA:-/tmp/msgtk-brokers/rabbitmq} AMQ_DATA=${AMQ_DATA:-/tmp/msgtk-brokers/activemq}
export PROTON_DATA=${PROTON_DATA:-/tmp/msgtk-brokers/proton} MQTT_DATA=${MQTT_DATA:-/tmp/msgtk-brokers/mosquitto}
export PUBSUB_DATA=${PUBSUB_DATA:-/tmp/msgtk-brokers/pubsub} PUBSUB_PORT=${PUBSUB_PORT:-8085}
# one test PKI for both brokers' TLS listeners (made once by tests/brokers/make-test-ca.sh)
export MSGTK_PKI=${MSGTK_PKI:-/tmp/msgtk-brokers/pki}
# the 100 000-message soak keeps that many non-persistent messages in the broker's memory
export AMQ_HEAP=${AMQ_HEAP:-1G}
started_brokers=0
stop_brokers() {
  [ "$started_brokers" = 1 ] && [ "${KEEP_BROKERS:-0}" != 1 ] || return 0
  "$brokers/stop-activemq.sh" > /dev/null 2>&1 || true
  "$brokers/stop-proton-broker.sh" > /dev/null 2>&1 || true
  "$brokers/stop-rabbitmq.sh" > /dev/null 2>&1 || true
  "$brokers/stop-mosquitto.sh" > /dev/null 2>&1 || true
  "$brokers/stop-pubsub-emulator.sh" > /dev/null 2>&1 || true
}
prebuild_pid=
stop_prebuild() {
  [ -z "$prebuild_pid" ] || kill -- -"$prebuild_pid" 2> /dev/null || true
  rm -rf "${prebuild_log:-}" "${prebuild_out:-}"
}
# Debian's Prometheus, for the metrics test (a real server scrapes the agents; promtool
# checks the textfiles). Its service is not started: it would listen on every interface;
# the test starts its own on loopback.
install_prometheus() {
  echo "installing prometheus from Debian (its service left stopped)..."
  local policy=/usr/sbin/policy-rc.d own=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' > "$policy" && chmod +x "$policy" && own=1
  fi
  local rc=0
  apt_install prometheus || rc=$?
  [ "$own" = 1 ] && rm -f "$policy"
  if command -v systemctl > /dev/null; then
    systemctl disable --now prometheus > /dev/null 2>&1 || true
  fi
  return "$rc"
}
# The test executables of the build, one a line: PACKAGE_DIR KIND:TARGET EXECUTABLE.
list_tests() {
  cargo test --workspace --no-run --quiet --message-format=json 2> /dev/null | /usr/bin/python3 -c '
import json, os, sys
for line in sys.stdin:
    try:
        m = json.loads(line)
    except ValueError:
        continue
    if m.get("reason") == "compiler-artifact" and m.get("executable") and m["profile"]["test"]:
        t = m["target"]
        print(os.path.dirname(m["manifest_path"]), t["kind"][0] + ":" + t["name"], m["executable"])
'
}
# Runs the executables of LIST named in WHICH ("KIND:TARGET ...", or "rest:EXCLUDED ..." for
# all the others), each from its package directory, with FILTER... (libtest's own options).
# Fails if any fails; all run.
run_tests() {
  local list=$1 which=$2 rc=0 dir id exe
  shift 2
  while read -r dir id exe; do
    case " ${which#rest:} " in
      *" $id "*) [ "${which#rest:}" = "$which" ] || continue ;;
      *) [ "${which#rest:}" != "$which" ] || continue ;;
    esac
    printf '     Running %s (%s)\n' "$id" "${exe#"$PWD"/}"
    (cd "$dir" && "$exe" "$@") || rc=1
  done < "$list"
  return "$rc"
}
tests_list=$(mktemp)
trap 'rm -f "$tests_list"' EXIT
# The compile-bound checks and the test build: in the full run they go on in the background
# while the references are installed and the brokers boot (mostly waiting on downloads and
# JVM/Erlang start-up), and are waited for before the tests. Everything here that takes
# cargo's lock on target/ goes before the packages' build begins (below).
build() {
  step "cargo fmt --check"
  cargo fmt --all --check
  # clippy is the compiler of the workspace's own crates (set above): its lints, warnings
  # as errors, come with the test build, which compiles every target clippy's --all-targets
  # would look at (there are no bench targets)
  step "the test build with clippy's lints, warnings as errors (cargo test --no-run)"
  cargo test --workspace --no-run --quiet
  if [ "$quick" = 0 ]; then
    # after the test build: xtask then shares its compiled dependencies
    step "man pages and completions up to date"
    cargo run --quiet -p xtask -- check
    step "library crates (dirq, message, config-general): cargo doc -D warnings"
    RUSTDOCFLAGS="-D warnings" cargo doc --quiet --no-deps -p dirq -p message -p config-general
  fi
  if [ "$offline" = 0 ]; then
    list_tests > "$tests_list"
  fi
}
if [ "$offline" = 1 ]; then
  skip=(-- --skip compat_ --skip broker_ --skip root_)
  build
else
  build_log=$(mktemp)
  build > "$build_log" 2>&1 &
  build_pid=$!
  if ! command -v rpmbuild > /dev/null || ! command -v rpmspec > /dev/null; then
    echo "installing rpm (rpmbuild, rpmspec) from Debian..."
    apt_install rpm
  fi
  step "Python references (.venv)"
  scripts/setup-python.sh
  REF_PYTHON=$PWD/.venv/bin/python
  MESSAGING_COMPLIANCE=$PWD/.venv/refs/messaging-1.2/test/compliance
  export REF_PYTHON MESSAGING_COMPLIANCE
  step "brokers (RabbitMQ, ActiveMQ, Qpid Proton, Mosquitto, the Pub/Sub emulator) on loopback"
  trap 'stop_prebuild; stop_brokers; rm -f "$tests_list"' EXIT
  started_brokers=1
  # the emulator (Java) boots while the others start and the checks below run
  emulator_log=$(mktemp)
  "$brokers/start-pubsub-emulator.sh" > "$emulator_log" 2>&1 &
  emulator=$!
  RMQ_FRESH=1 "$brokers/start-rabbitmq.sh"
  AMQ_FRESH=1 "$brokers/start-activemq.sh"
  PROTON_FRESH=1 "$brokers/start-proton-broker.sh"
  MQTT_FRESH=1 "$brokers/start-mosquitto.sh"
  if ! /usr/bin/python3 -c 'import proton' 2> /dev/null; then
    echo "installing python3-qpid-proton from Debian..."
    apt_install python3-qpid-proton
  fi
  if ! command -v prometheus > /dev/null || ! command -v promtool > /dev/null; then
    install_prometheus
  fi
  if ! command -v curl > /dev/null; then
    # amsclt's guide makes its topic and subscription with it
    echo "installing curl from Debian..."
    apt_install curl
  fi
  if ! command -v strace > /dev/null; then
    # the system-call budget test counts with it
    echo "installing strace from Debian..."
    apt_install strace
  fi
  export AMQP_BROKERS="rabbitmq=127.0.0.1:5672,proton=127.0.0.1:5673"
  export AMQPS_RABBITMQ=127.0.0.1:5671 AMQPS_PROTON=127.0.0.1:5673
  # Mosquitto: MQTT 3.1.1/5, and over TLS with the test PKI (client certificates required)
  export MQTT_BROKER=127.0.0.1:1883 MQTTS_BROKER=127.0.0.1:8883
  export STOMP_BROKERS="rabbitmq=127.0.0.1:61613,activemq=127.0.0.1:61614"
  # STOMP over TLS on both, with the test PKI the start scripts made
  export STOMP_TLS="rabbitmq=127.0.0.1:61615,activemq=127.0.0.1:61617" STOMP_TLS_DIR="$MSGTK_PKI"
  export PUBSUB_EMULATOR_HOST=127.0.0.1:$PUBSUB_PORT
  if ! wait "$emulator"; then
    cat "$emulator_log" >&2
    exit 1
  fi
  cat "$emulator_log"
  rm -f "$emulator_log"
fi

if [ "$offline" = 0 ]; then
  printf '\n=== the build, begun in the background at 0 s (waited for at %d s)\n' "$SECONDS"
  build_status=0
  wait "$build_pid" || build_status=$?
  cat "$build_log"
  rm -f "$build_log"
  [ "$build_status" = 0 ] || exit "$build_status"
  # The packages, from here on at the lowest priority beside the tests (they wait on
  # brokers, kills and cuts much of the time): the RPMs and .debs of the test build's
  # binaries (the dev profile, sharing its compiled dependencies: a release build would
  # compile everything a second time, about 540 s of CPU here, for what the packages test
  # checks the same either way; scripts/build-packages.sh builds release by default). The
  # packages test checks, installs and removes them, and the demo runs their binaries.
  prebuild_log=$(mktemp)
  prebuild_out=$(mktemp -d)
  # (a session of its own, so that an early exit stops it with its rpmbuild, cargo and rustc;
  # where the kernel groups sessions for the scheduler, the whole group is made nice 19 too:
  # a nice process in a session of its own would otherwise get as much as all the others)
  setsid sh -c 'echo 19 > /proc/self/autogroup 2> /dev/null; exec nice -n 19 "$@"' sh \
    env -u RUSTC_WORKSPACE_WRAPPER -u CLIPPY_ARGS \
    scripts/build-packages.sh --profile dev --build-dir target "$prebuild_out" > "$prebuild_log" 2>&1 &
  prebuild_pid=$! prebuild_at=$SECONDS
fi
if [ "$quick" = 0 ]; then
  step "library crates (dirq, message, config-general): cargo publish --dry-run"
  if [ "$offline" = 1 ]; then
    echo "publish --dry-run skipped in the offline subset (it reads the crates.io index)"
  else
    # packaged together: message's dirq comes from the same dry run. Cargo takes crates from
    # that temporary registry as immutable (extracted under CARGO_HOME and built once per
    # version): an earlier run's dirq 0.1.0 would stand in for today's, so those extractions
    # and builds go first (the builds in a target directory of their own).
    rm -rf "${CARGO_HOME:-$HOME/.cargo}"/registry/src/-*/{dirq,message,config-general}-[0-9]*
    rm -rf target/publish-check/debug/.fingerprint/{dirq,message,config-general}-*
    publog=$(mktemp)
    CARGO_TARGET_DIR=target/publish-check cargo publish --dry-run --quiet --allow-dirty -p dirq -p message -p config-general > "$publog" 2>&1 || {
      cat "$publog"
      exit 1
    }
    rm -f "$publog"
    echo "dirq, message and config-general package and verify"
  fi
  step "packaging (systemd units, RPM spec)"
  if [ "$offline" = 1 ] && ! command -v rpmspec > /dev/null; then
    echo "skipped in the offline subset: rpmspec is not installed"
  else
    if ! command -v rpmspec > /dev/null; then
      echo "installing rpm (for rpmspec) from Debian..."
      apt_install rpm
    fi
    scripts/check-packaging.sh
  fi
fi

step "cargo test"
log=$(mktemp)
# The tests' scratch space (TMPDIR) on tmpfs when it has room: their spools are small files
# created, renamed and removed by the hundred thousand, which on ext4 costs minutes of
# journal work (measured: stompclt's SIGKILL soak 202 s under /tmp, 135 s under /dev/shm).
# The brokers keep their data where the start scripts put it.
scratch=
if [ -z "${TMPDIR:-}" ] && [ -d /dev/shm ] && [ -w /dev/shm ] &&
  [ "$(df -Pk /dev/shm | awk 'NR == 2 { print $4 }')" -ge $((8 * 1024 * 1024)) ]; then
  scratch=$(mktemp -d /dev/shm/msgtk-tests.XXXXXX)
  # world-traversable and sticky, as /tmp: tests run services as other users from there
  chmod 1777 "$scratch"
  # the tests run scripts they write there: a noexec mount does not do
  printf '#!/bin/sh\nexit 0\n' > "$scratch/exec-check" && chmod +x "$scratch/exec-check"
  if "$scratch/exec-check" 2> /dev/null; then
    export TMPDIR=$scratch
    echo "test scratch space (TMPDIR): $scratch (tmpfs)"
  else
    rm -rf "$scratch"
    scratch=
  fi
fi
# (the brokers first: a scratch directory that cannot be removed must not keep them running)
trap 'stop_prebuild; stop_brokers; rm -f "$log" "$tests_list"; [ -z "$scratch" ] || rm -rf "$scratch" || true' EXIT
status=0
# the packages test: in a step of its own, below
if [ "$offline" = 1 ]; then
  cargo test --workspace "${skip[@]}" --skip root_packages_ 2>&1 | tee "$log" || status=$?
else
  # The build is done (above). Its test executables are run as they are, each from its
  # package's directory as cargo would: `cargo test -p PKG` would resolve PKG's features
  # alone and compile a second copy of the shared crates. The four long harnesses (stompclt:
  # RabbitMQ and ActiveMQ; amqpclt: RabbitMQ's AMQP listeners and the Proton broker; amsclt:
  # the Pub/Sub emulator; test-support's power cuts) run side by side with the rest: most of
  # their time goes to waiting on brokers, killed agents, restarts and cuts, not to the cores.
  if [ "$status" = 0 ]; then
    group_dir=$(mktemp -d)
    # (listed by the build)
    cp "$tests_list" "$group_dir/all"
    side_groups=(test:stompclt test:amqpclt test:amsclt test:power)
    filters=("${skip[@]:1}")
    # each group's own RabbitMQs and RabbitMQ cluster on ports of its own (MSGTK_PORT_OFFSET)
    offset=0 groups=()
    for g in "${side_groups[@]}"; do
      # (set +e: a failing test must not end the group before its status is written)
      (set +e
        MSGTK_PORT_OFFSET=$offset run_tests "$group_dir/all" "$g" "${filters[@]}" > "$group_dir/$g.log" 2>&1
        echo $? > "$group_dir/$g.rc") &
      groups+=($!)
      offset=$((offset + 100))
    done
    # the rest, then the doctests (the system-call budget counts how calls batch, which a
    # loaded machine changes: alone, after them; the packages test has a step of its own)
    (set +e
      MSGTK_PORT_OFFSET=$offset run_tests "$group_dir/all" "rest:${side_groups[*]} test:syscalls test:packages" \
        "${filters[@]}"
      echo $? > "$group_dir/rest.rc") 2>&1 | tee -a "$log"
    [ "$(cat "$group_dir/rest.rc")" = 0 ] || status=1
    cargo test --workspace --doc --quiet 2>&1 | tee -a "$log" || status=$?
    wait "${groups[@]}" || true
    for g in "${side_groups[@]}"; do
      printf '\n=== %s tests (run beside the others, at %d s)\n' "$g" "$SECONDS"
      cat "$group_dir/$g.log"
      cat "$group_dir/$g.log" >> "$log"
      [ "$(cat "$group_dir/$g.rc" 2> /dev/null)" = 0 ] || status=1
    done
    step "the system-call budget, on a quiet machine"
    run_tests "$group_dir/all" test:syscalls 2>&1 | tee -a "$log" || status=$?
    rm -rf "$group_dir"
  fi
fi
if [ "$offline" = 0 ] && [ "$status" = 0 ]; then
  step "packages: RPMs (rpmbuild, offline) and .debs built, checked, installed and removed"
  # the packages' build begun in the background (its failure shows again in the test's build)
  prebuild_status=0
  wait "$prebuild_pid" || prebuild_status=$?
  prebuild_pid=
  demo_pid=
  packages_dir=
  if [ "$prebuild_status" = 0 ]; then
    printf 'the packages begun in the background at %d s were built at %d s\n' "$prebuild_at" "$SECONDS"
    # the packages test checks, installs and removes those; the demo runs their binaries
    # beside it
    packages_dir=$prebuild_out
    demo_log=$(mktemp)
    DEMO_BIN_DIR=target/dist/debug scripts/demo.sh > "$demo_log" 2>&1 &
    demo_pid=$!
  else
    # (the test builds them itself, and fails as the background build did)
    cat "$prebuild_log"
  fi
  for pkg in man-db:man systemd:systemd-analyze; do
    command -v "${pkg#*:}" > /dev/null || {
      echo "installing ${pkg%%:*} from Debian..."
      apt_install "${pkg%%:*}"
    }
  done
  (unset RUSTC_WORKSPACE_WRAPPER CLIPPY_ARGS
    [ -z "$packages_dir" ] || export MSGTK_PACKAGES=$packages_dir
    run_tests "$tests_list" test:packages) 2>&1 | tee -a "$log" || status=$?
  rm -rf "$prebuild_log" "$prebuild_out"
fi
if [ "$offline" = 0 ] && [ -n "${demo_pid:-}" ]; then
  step "the main job, as the README runs it: scripts/demo.sh (on the packages' binaries, run beside the packages test)"
  wait "$demo_pid" || status=$?
  cat "$demo_log"
  rm -f "$demo_log"
fi
# One closing line over all test binaries (cargo prints one per binary).
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
     END { printf "\nsummary: %d passed, %d failed\n", p, f }' "$log"
printf 'took %d s\n' "$SECONDS"
[ "$status" = 0 ] || exit "$status"

if [ "$quick" = 1 ]; then
  printf '\nQUICK LOOP: the man page, docs and packaging checks and the compat_*, broker_* and root_*\ntests were NOT run (scripts/test.sh runs everything).\n'
elif [ "$offline" = 1 ]; then
  printf '\nOFFLINE SUBSET: the compat_* cross-tests (Python references), broker_* tests (RabbitMQ,\nActiveMQ, Proton) and root_* tests (full disk, service users, syslog) were NOT run.\n'
fi
