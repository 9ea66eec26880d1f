#!/usr/bin/env bash
# Checks packaging/: the systemd units with systemd-analyze verify (ExecStart pointed at the
# binaries just built, since /usr/bin has none here), and the RPM spec with rpmspec --parse
# and against the list of tools (packaging/tools): a package, its files and its build for
# each, no other.
# Needs systemd-analyze and rpmspec; scripts/test.sh installs rpm from Debian when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
. packaging/tools.sh
for tool in systemd-analyze rpmspec; do
  command -v "$tool" > /dev/null || { echo "check-packaging: $tool is missing" >&2; exit 1; }
done
# the binaries the units name (the test build made them already: not built again then)
for t in $(tools); do
  if [ ! -x "target/debug/$t" ]; then
    # shellcheck disable=SC2046
    cargo build --quiet $(tool_packages)
    break
  fi
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for unit in packaging/systemd/*.service; do
  sed "s|/usr/bin/|$PWD/target/debug/|g" "$unit" > "$tmp/$(basename "$unit")"
done
# a template is verified through an instance
units=()
for t in $(tools agent); do
  cp "$tmp/$t@.service" "$tmp/$t@example.service"
  units+=("$t@example.service")
  for u in "$tmp/$t"-*.service; do
    [ ! -f "$u" ] || units+=("$(basename "$u")")
  done
done
for t in $(tools command); do
  [ ! -f "$tmp/$t.service" ] || units+=("$t.service")
done
# systemd-analyze only warns about many mistakes ("…, ignoring"): any output is a failure
out=$(cd "$tmp" && systemd-analyze verify --man=no "${units[@]}" 2>&1) || {
  echo "$out" >&2
  exit 1
}
if [ -n "$out" ]; then
  echo "$out" >&2
  exit 1
fi
# the agents' hardening holds: systemd-analyze security's exposure at most 1.5 (each runs as
# its own user, without capabilities)
for t in $(tools agent); do
  for u in "$t@example.service" $(cd "$tmp" && ls "$t"-*.service 2>/dev/null); do
    (cd "$tmp" && systemd-analyze security --offline=yes --threshold=15 --no-pager "$u" > "$tmp/security" 2>&1) || {
      tail -3 "$tmp/security" >&2
      echo "check-packaging: $u is exposed more than 1.5" >&2
      exit 1
    }
  done
done
# simplevisor's too, at most 1.9: its own user, with the three capabilities it needs to run
# its services as their users (they get none)
(cd "$tmp" && systemd-analyze security --offline=yes --threshold=19 --no-pager simplevisor.service > "$tmp/security" 2>&1) || {
  tail -3 "$tmp/security" >&2
  echo "check-packaging: simplevisor.service is exposed more than 1.9" >&2
  exit 1
}
# the test command packs its dev build (scripts/test.sh): nothing of the toolkit may differ
# between the profiles but the code generation
if grep -rn 'debug_assertions' crates/*/src; then
  echo "check-packaging: code that depends on the cargo profile (the packages test packs the dev build)" >&2
  exit 1
fi
rpmspec --parse packaging/rpm/messaging-toolkit.spec > "$tmp/spec"
grep -q 'cargo build --profile release --offline --locked' "$tmp/spec"
# one package per tool of the list, with its files, and no other
packages=$(sed -n 's/^%package -n \([^ ]*\).*/\1/p' "$tmp/spec" | sort)
[ "$packages" = "$(tools | sort)" ] || {
  printf 'check-packaging: the RPM spec packages\n%s\nbut packaging/tools lists\n%s\n' "$packages" "$(tools | sort)" >&2
  exit 1
}
for t in $(tools); do
  grep -q "^%files -n $t\$" "$tmp/spec" || { echo "check-packaging: the RPM spec has no %files -n $t" >&2; exit 1; }
  grep -q "^%{_bindir}/$t\$\|^/usr/bin/$t\$" "$tmp/spec" || { echo "check-packaging: the RPM spec installs no $t" >&2; exit 1; }
done
# every generated man page and completion the spec installs exists
for c in $(tools); do
  for f in "packaging/completions/$c.bash" "packaging/completions/_$c" "packaging/completions/$c.fish" "man/$c.1"; do
    [ -f "$f" ] || { echo "check-packaging: $f missing" >&2; exit 1; }
  done
done
echo "packaging: systemd units and RPM spec check out"
