#!/usr/bin/env bash
# Builds every package of the toolkit into OUT (default target/packages): the RPMs with
# rpmbuild from a source tarball of the checkout (every tracked file as it is in the working
# tree), offline (`cargo --offline --locked` against a cargo home that `cargo fetch` filled),
# and the .debs from the same compiled binaries (packaging/deb/build-debs.sh).
# Needs rpmbuild (Debian's rpm package) and dpkg-deb.
# Usage: scripts/build-packages.sh [--profile PROFILE] [--build-dir DIR] [OUT]
#   --profile    the cargo profile of the binaries: release (the default: what ships) or dev
#   --build-dir  cargo's build directory (its compiled dependencies), e.g. the checkout's
#                own target/ after a test build: only the toolkit's crates are compiled again
#                (the test suite packs its dev build so)
set -euo pipefail
cd "$(dirname "$0")/.."
profile=release build_dir=
while [ $# -gt 0 ]; do
  case "$1" in
    --profile) profile=${2:?--profile needs a value}; shift 2 ;;
    --build-dir) build_dir=$(realpath -m "${2:?--build-dir needs a value}"); shift 2 ;;
    -*) echo "usage: $0 [--profile PROFILE] [--build-dir DIR] [OUT]" >&2; exit 2 ;;
    *) break ;;
  esac
done
out=$(realpath -m "${1:-target/packages}")
version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
name=messaging-toolkit
# a fixed place to build in: cargo keys the toolkit's compiled crates by their path, and a new
# path each run would leave another copy of them in the target directory every time
top=$PWD/target/rpmbuild
rm -rf "$top"
trap 'rm -rf "$top"' EXIT
mkdir -p "$top/SOURCES" "$out"
rm -f "$out"/*.rpm "$out"/*.deb
git ls-files -z | tar --null -T - --transform "s,^,$name-$version/," -czf "$top/SOURCES/$name-$version.tar.gz"
# every crate of Cargo.lock in the cargo home: the build itself needs no network
cargo fetch --locked --quiet
# the binaries persist across runs (target/dist, shared with scripts/demo.sh)
rpmbuild -bb --nodeps --quiet \
  --define "_topdir $top" \
  --define "_cargo_home ${CARGO_HOME:-$HOME/.cargo}" \
  --define "_cargo_target_dir $PWD/target/dist" \
  ${build_dir:+--define "_cargo_build_dir $build_dir"} \
  --define "_cargo_profile $profile" \
  packaging/rpm/$name.spec
cp "$top"/RPMS/*/*.rpm "$out/"
ls "$out"/*.rpm
bin_dir=$profile
[ "$profile" != dev ] || bin_dir=debug
packaging/deb/build-debs.sh "$PWD/target/dist/$bin_dir" "$version" "$out"
