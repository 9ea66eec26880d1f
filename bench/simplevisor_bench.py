#!/usr/bin/env python3
"""Benchmark: simplevisor (Rust) against python simplevisor 1.3 (PyPI), same machine, same run.

1. Restart latency: a supervised `sleep` is killed with SIGKILL; the time until its
   replacement process exists is measured by scanning /proc every millisecond. Rust runs it
   as a foreground service (restarted on SIGCHLD); as a command-driven service (start/status/
   stop scripts, restarted by the next cycle) both implementations run with the same
   interval, python's only mode.
2. Resident memory of the supervisor process with N supervised services.

Python simplevisor 1.3 from PyPI works on Python 3 only with a JSON configuration, in the
foreground, without a pidfile (see the spec): that is how it runs here.
Prints medians and the ratio python/rust.
"""
import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def find(marker):
    """pids whose command line contains the marker argument."""
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % d, "rb") as f:
                args = f.read().split(b"\0")
            with open("/proc/%s/stat" % d) as f:
                if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                    continue
        except OSError:
            continue
        if marker.encode() in args:
            out.append(int(d))
    return out


def wait_for(marker, old, limit):
    t0 = time.monotonic()
    while time.monotonic() - t0 < limit:
        pids = [p for p in find(marker) if p != old]
        if pids:
            return pids[0]
        time.sleep(0.001)
    return None


def scripts(work):
    """start/status/stop scripts around a setsid'd sleep, as an LSB init script would be."""
    for name, body in {
        "run.sh": 'setsid sleep "$2" </dev/null >/dev/null 2>&1 & echo $! > "%s/$1.pid"\n',
        "st.sh": '[ -s "%s/$1.pid" ] && kill -0 "$(cat "%s/$1.pid")" 2>/dev/null && exit 0; exit 3\n',
        "stop.sh": '[ -s "%s/$1.pid" ] && kill "$(cat "%s/$1.pid")"; rm -f "%s/$1.pid"; exit 0\n',
    }.items():
        path = os.path.join(work, name)
        with open(path, "w") as f:
            f.write("#!/bin/sh\n" + body.replace("%s", work))
        os.chmod(path, 0o755)


def command_service(work, name, marker):
    return {
        "type": "service",
        "name": name,
        "start": "%s/run.sh %s %s" % (work, name, marker),
        "status": "%s/st.sh %s" % (work, name),
        "stop": "%s/stop.sh %s" % (work, name),
    }


def start(kind, work, services, interval, python=None):
    """A supervisor over these services: kind "rust", or "python" (simplevisor 1.3)."""
    conf = os.path.join(work, "%s.json" % kind)
    with open(conf, "w") as f:
        json.dump(
            {
                "simplevisor": {"interval": str(interval), "log": "null"},
                "entry": {"type": "supervisor", "name": "top", "window": "1000",
                          "adjustments": "1000", "children": {"entry": services}},
            },
            f,
        )
    if kind == "rust":
        cmd = [os.path.join(ROOT, "target/release/simplevisor")]
    else:
        cmd = [python, os.path.join(os.path.dirname(python), "simplevisor")]
    return subprocess.Popen(cmd + ["--conftype", "json", "--conf", conf, "start"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def start_rust(work, services, interval):
    return start("rust", work, services, interval)


def start_python(work, services, interval, python):
    return start("python", work, services, interval, python)


def stop(proc):
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def latencies(proc, marker, kills, limit):
    try:
        pid = wait_for(marker, None, 30)
        if pid is None:
            raise SystemExit("the service never started (%s)" % marker)
        out = []
        for _ in range(kills):
            time.sleep(0.3)  # let a restart settle, as a real crash would not come in a burst
            os.kill(pid, signal.SIGKILL)
            t0 = time.monotonic()
            new = wait_for(marker, pid, limit)
            if new is None:
                raise SystemExit("no restart within %ss (%s)" % (limit, marker))
            out.append(time.monotonic() - t0)
            pid = new
        return out
    finally:
        # a failed run must not leave its supervisor (and its sleep) behind
        stop(proc)


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-k", "--kills", type=int, default=15)
    ap.add_argument("-s", "--services", type=int, default=20)
    ap.add_argument("-i", "--interval", type=int, default=1,
                    help="cycle interval for the command-driven runs (python's default is 60)")
    ap.add_argument("--python", default=os.path.join(ROOT, ".venv/bin/python"))
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="sv-bench.")
    scripts(work)
    base = 7000 + os.getpid() % 1000
    res = {}

    m = "%d.1" % base
    # backoff 0: the kills come every 0.3 s, which the default policy would rightly treat
    # as a crash loop and slow down; this measures the reaction itself
    p = start_rust(work, [{"type": "service", "name": "fg", "foreground": "yes",
                           "backoff": "0", "backoff_max": "0",
                           "start": "/bin/sleep %s" % m}], 3600)
    res["rust foreground"] = latencies(p, m, a.kills, 10)

    m = "%d.2" % base
    p = start_rust(work, [command_service(work, "c", m)], a.interval)
    res["rust command-driven"] = latencies(p, m, a.kills, a.interval * 3 + 5)

    m = "%d.3" % base
    p = start_python(work, [command_service(work, "c", m)], a.interval, a.python)
    res["python command-driven"] = latencies(p, m, a.kills, a.interval * 3 + 5)

    print("# simplevisor restart latency: %d SIGKILLs each, command-driven runs with interval "
          "%ds (python simplevisor 1.3 from PyPI, JSON config, foreground)" % (a.kills, a.interval))
    print("%-24s %10s %10s %10s" % ("", "median ms", "min ms", "max ms"))
    for k, v in res.items():
        print("%-24s %10.1f %10.1f %10.1f" % (k, statistics.median(v) * 1000, min(v) * 1000,
                                              max(v) * 1000))
    py = statistics.median(res["python command-driven"])
    print("ratio python command-driven / rust foreground: %.0fx" %
          (py / statistics.median(res["rust foreground"])))
    print("ratio python / rust, both command-driven: %.1fx" %
          (py / statistics.median(res["rust command-driven"])))
    print("with python's default interval of 60 s, a command-driven restart waits 30 s on "
          "median (uniform over the interval)")

    # resident memory with N services
    fg = [{"type": "service", "name": "s%d" % i, "foreground": "yes",
           "start": "/bin/sleep %d.%d" % (base + 1, i)} for i in range(a.services)]
    cmd = [command_service(work, "c%d" % i, "%d.%d" % (base + 2, i)) for i in range(a.services)]
    rows = []
    for label, proc in (
        ("rust, %d foreground" % a.services, lambda: start_rust(work, fg, 1)),
        ("rust, %d command-driven" % a.services, lambda: start_rust(work, cmd, 1)),
        ("python, %d command-driven" % a.services,
         lambda: start_python(work, cmd, 1, a.python)),
    ):
        p = proc()
        time.sleep(3)
        rows.append((label, rss_kib(p.pid)))
        stop(p)
    print("# resident memory of the supervisor process")
    for label, kib in rows:
        print("%-32s %8.1f MB" % (label, kib / 1024))
    print("ratio python / rust (command-driven): %.1fx" % (rows[2][1] / max(rows[1][1], 1)))


if __name__ == "__main__":
    sys.exit(main())
