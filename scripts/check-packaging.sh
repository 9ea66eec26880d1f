#!/usr/bin/env bash
# Checks packaging/: the systemd units with systemd-analyze verify (ExecStart pointed at the
# binaries just built, since /usr/bin has none here) and the RPM spec with rpmspec --parse.
# Needs systemd-analyze and rpmspec; scripts/test.sh installs rpm from Debian when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
for tool in systemd-analyze rpmspec; do
  command -v "$tool" > /dev/null || { echo "check-packaging: $tool is missing" >&2; exit 1; }
done
cargo build --quiet -p stompclt -p simplevisor
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for unit in packaging/systemd/*.service; do
  sed "s|/usr/bin/|$PWD/target/debug/|g" "$unit" > "$tmp/$(basename "$unit")"
done
# a template is verified through an instance
cp "$tmp/stompclt@.service" "$tmp/stompclt@example.service"
# systemd-analyze only warns about many mistakes ("…, ignoring"): any output is a failure
out=$(cd "$tmp" && systemd-analyze verify --man=no simplevisor.service stompclt@example.service 2>&1) || {
  echo "$out" >&2
  exit 1
}
if [ -n "$out" ]; then
  echo "$out" >&2
  exit 1
fi
rpmspec --parse packaging/rpm/messaging-toolkit.spec > "$tmp/spec"
grep -q '^cargo build --release --locked' "$tmp/spec"
# every generated man page and completion the spec installs exists
for c in dirq stompclt simplevisor; do
  for f in "packaging/completions/$c.bash" "packaging/completions/_$c" "packaging/completions/$c.fish" "man/$c.1"; do
    [ -f "$f" ] || { echo "check-packaging: $f missing" >&2; exit 1; }
  done
done
echo "packaging: systemd units and RPM spec check out"
