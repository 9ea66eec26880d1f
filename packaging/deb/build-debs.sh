#!/usr/bin/env bash
# Builds one Debian package per tool of packaging/tools with
# dpkg-deb from binaries already built (the RPM build's, so that both formats ship the same
# binaries from one compilation), installed by packaging/install.sh as for the RPMs:
# /etc/TOOL/*.conf are conffiles, /var/spool/TOOL 0750.
# Usage: packaging/deb/build-debs.sh BIN_DIR VERSION OUT_DIR
set -euo pipefail
cd "$(dirname "$0")/../.."
. packaging/tools.sh
[ $# = 3 ] || { echo "usage: $0 BIN_DIR VERSION OUT_DIR" >&2; exit 2; }
bin=$1 version=$2 out=$3
arch=$(dpkg --print-architecture)
mkdir -p "$out"
for t in $(tools); do
  root=$(mktemp -d)
  chmod 0755 "$root"
  # the one list of what gets installed, shared with the RPMs
  DESTDIR=$root prefix=/usr zshdir=/usr/share/zsh/vendor-completions packaging/install.sh "$bin" "$t"
  # debugging information stripped as rpmbuild strips it (brp-strip: strip -g): the same
  # binaries in both formats
  strip -g "$root/usr/bin/$t"
  unit=""
  if [ "$(tool_kind "$t")" = agent ]; then
    unit="$t@.service"
  elif [ -f "packaging/systemd/$t.service" ]; then
    unit="$t.service"
  fi
  mkdir -p "$root/DEBIAN"
  size=$(du -sk "$root" | cut -f1)
  cat > "$root/DEBIAN/control" <<CONTROL
Package: $t
Version: $version
Architecture: $arch
Maintainer: messaging toolkit developers <msgtk@example.invalid>
Installed-Size: $size
Depends: libc6
Section: net
Priority: optional
Homepage: https://example.invalid/messaging-toolkit
Description: $(tool_summary "$t")
 Part of the messaging toolkit: directory queues, transfer agents between them and
 STOMP, AMQP 1.0 or MQTT brokers, and a supervisor; see $t(1).
CONTROL
  if [ -d "$root/etc" ]; then
    (cd "$root" && find etc -type f | sed 's|^|/|') > "$root/DEBIAN/conffiles"
  fi
  if [ -n "$unit" ]; then
    # the unit is known to systemd at once; instances are stopped before the binary goes
    printf '#!/bin/sh\nset -e\n' > "$root/DEBIAN/postinst"
    if [ "$(tool_kind "$t")" = agent ] || [ "$t" = simplevisor ]; then
      # the tool's system user (its sysusers.d file), then what it owns: an agent's spool, and
      # the configuration it reads through its group (unless an administrator overrode them)
      home=/var/spool/$t spool="dpkg-statoverride --list /var/spool/$t > /dev/null || chown $t:$t /var/spool/$t"
      if [ "$t" = simplevisor ]; then
        home=/var/lib/$t spool=:
      fi
      cat >> "$root/DEBIAN/postinst" <<POSTINST
if [ "\$1" = configure ]; then
  if command -v systemd-sysusers > /dev/null; then
    systemd-sysusers $t.conf
  elif ! getent passwd $t > /dev/null; then
    adduser --system --group --home $home --no-create-home --quiet $t
  fi
  for f in /etc/$t /etc/$t/*.conf; do
    [ -e "\$f" ] && ! dpkg-statoverride --list "\$f" > /dev/null && chown root:$t "\$f"
  done
  $spool
fi
POSTINST
    fi
    printf 'if [ -d /run/systemd/system ]; then systemctl daemon-reload || true; fi\n' >> "$root/DEBIAN/postinst"
    glob=${unit/@./@*.}
    # an agent's other units too (amsclt-publisher.service)
    for u in packaging/systemd/"$t"-*.service; do
      [ ! -f "$u" ] || glob="$glob' '$(basename "$u")"
    done
    printf '#!/bin/sh\nset -e\nif [ -d /run/systemd/system ]; then systemctl stop '"'%s'"' || true; fi\n' "$glob" > "$root/DEBIAN/prerm"
    printf '#!/bin/sh\nset -e\nif [ -d /run/systemd/system ]; then systemctl daemon-reload || true; fi\n' > "$root/DEBIAN/postrm"
    chmod 0755 "$root/DEBIAN/postinst" "$root/DEBIAN/prerm" "$root/DEBIAN/postrm"
  fi
  dpkg-deb --root-owner-group --build "$root" "$out/${t}_${version}_$arch.deb" > /dev/null
  rm -rf "$root"
done
ls "$out"/*.deb
