#!/usr/bin/env bash
# Makes .venv with the Python reference implementations the tests and benchmarks compare
# against (tests/python/requirements.txt), and unpacks the compliance vectors of python
# messaging's sdist into .venv/refs. Idempotent; installs python3-venv from Debian
# if the interpreter cannot make a virtualenv.
set -euo pipefail
cd "$(dirname "$0")/.."
req=tests/python/requirements.txt
stamp=.venv/.installed
if [ -x .venv/bin/python ] && [ -f "$stamp" ] && cmp -s "$req" "$stamp"; then
  exit 0
fi
if ! python3 -m venv --help > /dev/null 2>&1 || ! python3 -c 'import ensurepip' 2> /dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get > /dev/null; then
    echo "setup-python: installing python3-venv from Debian" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv > /dev/null
  else
    echo "setup-python: python3 cannot make a virtualenv; install python3-venv" >&2
    exit 1
  fi
fi
rm -rf .venv
python3 -m venv .venv
.venv/bin/pip install -q --disable-pip-version-check -r "$req"
# python messaging's source distribution carries the shared compliance vectors
# (test/compliance/); they are unpacked here, never committed.
mkdir -p .venv/refs
.venv/bin/pip download -q --disable-pip-version-check --no-deps --no-binary :all: \
  -d .venv/refs messaging==1.2
tar -xzf .venv/refs/messaging-1.2.tar.gz -C .venv/refs
test -d .venv/refs/messaging-1.2/test/compliance
cp "$req" "$stamp"
echo "setup-python: .venv ready ($(.venv/bin/python --version))" >&2
