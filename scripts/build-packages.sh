#!/usr/bin/env bash
# Builds every package of the toolkit into OUT (default target/packages): the RPMs with
# rpmbuild from a source tarball of the checkout (every tracked file as it is in the working
# tree), offline (`cargo --offline --locked` against a cargo home that `cargo fetch` filled),
# and the .debs from the same compiled binaries (packaging/deb/build-debs.sh).
# Needs rpmbuild (Debian's rpm package) and dpkg-deb. Usage: scripts/build-packages.sh [OUT]
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(realpath -m "${1:-target/packages}")
version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
name=messaging-toolkit
top=$(mktemp -d)
trap 'rm -rf "$top"' EXIT
mkdir -p "$top/SOURCES" "$out"
rm -f "$out"/*.rpm "$out"/*.deb
git ls-files -z | tar --null -T - --transform "s,^,$name-$version/," -czf "$top/SOURCES/$name-$version.tar.gz"
# every crate of Cargo.lock in the cargo home: the build itself needs no network
cargo fetch --locked --quiet
# the compilation persists across runs (target/dist, shared with scripts/demo.sh)
rpmbuild -bb --nodeps --quiet \
  --define "_topdir $top" \
  --define "_cargo_home ${CARGO_HOME:-$HOME/.cargo}" \
  --define "_cargo_target_dir $PWD/target/dist" \
  packaging/rpm/$name.spec
cp "$top"/RPMS/*/*.rpm "$out/"
ls "$out"/*.rpm
packaging/deb/build-debs.sh "$PWD/target/dist/release" "$version" "$out"
