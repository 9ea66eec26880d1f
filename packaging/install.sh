#!/usr/bin/env bash
# Installs the toolkit's files: the one list of what gets installed, used by both package
# builds (the RPM spec's %install, packaging/deb/build-debs.sh) and by hand:
#   DESTDIR=/tmp/root prefix=/usr/local packaging/install.sh BIN_DIR [TOOL...]
# BIN_DIR holds the built binaries (target/release); TOOL is one of packaging/tools (all by
# default). Directories, with their defaults: DESTDIR (none),
# prefix (/usr), sysconfdir (/etc), localstatedir (/var), datadir ($prefix/share), mandir
# ($datadir/man), docdir ($datadir/doc), unitdir ($prefix/lib/systemd/system), zshdir
# ($datadir/zsh/site-functions; Debian: $datadir/zsh/vendor-completions), sysusersdir
# ($prefix/lib/sysusers.d). Each agent gets /etc/TOOL (0750) with the examples as
# configurations (0640), /var/spool/TOOL (0750) and its system user TOOL (sysusersdir/TOOL.conf);
# the packages give /etc/TOOL to root:TOOL and the spool to TOOL:TOOL. simplevisor gets its
# system user simplevisor likewise, and /etc/simplevisor is given to root:simplevisor.
set -euo pipefail
cd "$(dirname "$0")/.."
. packaging/tools.sh
[ $# -ge 1 ] || { echo "usage: $0 BIN_DIR [TOOL...]" >&2; exit 2; }
bin=$1
shift
chosen=("$@")
[ ${#chosen[@]} -gt 0 ] || mapfile -t chosen < <(tools)
d=${DESTDIR:-}
prefix=${prefix:-/usr}
sysconfdir=${sysconfdir:-/etc}
localstatedir=${localstatedir:-/var}
datadir=${datadir:-$prefix/share}
mandir=${mandir:-$datadir/man}
docdir=${docdir:-$datadir/doc}
unitdir=${unitdir:-$prefix/lib/systemd/system}
zshdir=${zshdir:-$datadir/zsh/site-functions}
sysusersdir=${sysusersdir:-$prefix/lib/sysusers.d}
for t in "${chosen[@]}"; do
  kind=$(tool_kind "$t")
  [ -n "$kind" ] || { echo "$0: unknown tool $t (not in packaging/tools)" >&2; exit 2; }
  install -D -m 0755 "$bin/$t" "$d$prefix/bin/$t"
  # the tool's page, its subcommands' (dirq-add(1), ...) and its configuration's (TOOL.conf(5))
  for page in man/"$t".1 man/"$t"-*.1 man/"$t".conf.5; do
    [ -f "$page" ] || continue
    sec=${page##*.}
    install -D -m 0644 "$page" "$d$mandir/man$sec/$(basename "$page")"
    gzip -9nf "$d$mandir/man$sec/$(basename "$page")"
  done
  install -D -m 0644 "packaging/completions/$t.bash" "$d$datadir/bash-completion/completions/$t"
  install -D -m 0644 "packaging/completions/_$t" "$d$zshdir/_$t"
  install -D -m 0644 "packaging/completions/$t.fish" "$d$datadir/fish/vendor_completions.d/$t.fish"
  install -D -m 0644 README.md "$d$docdir/$t/README.md"
  install -D -m 0644 "docs/$t.md" "$d$docdir/$t/guide.md"
  if [ "$kind" = agent ]; then
    install -D -m 0644 "packaging/systemd/$t@.service" "$d$unitdir/$t@.service"
    # an agent's other units (amsclt-publisher.service)
    for u in packaging/systemd/"$t"-*.service; do
      [ ! -f "$u" ] || install -D -m 0644 "$u" "$d$unitdir/$(basename "$u")"
    done
    install -d -m 0750 "$d$sysconfdir/$t" "$d$localstatedir/spool/$t"
    # the agent's system user, whom its units run as (systemd-sysusers(8) makes it)
    mkdir -p "$d$sysusersdir"
    printf '# %s: the user its units run as; it owns %s\nu %s - "%s" %s -\n' \
      "$t" "$localstatedir/spool/$t" "$t" "$t transfer agent" "$localstatedir/spool/$t" > "$d$sysusersdir/$t.conf"
    chmod 0644 "$d$sysusersdir/$t.conf"
    for e in packaging/examples/"$t"-*.conf; do
      install -D -m 0644 "$e" "$d$docdir/$t/examples/$(basename "$e")"
      # named without the tool: systemctl start TOOL@sender, TOOL@receiver
      n=$(basename "$e" .conf)
      install -m 0640 "$e" "$d$sysconfdir/$t/${n#"$t"-}.conf"
    done
  fi
  case $t in
    dirq)
      install -D -m 0644 man/messaging-queue.7 "$d$mandir/man7/messaging-queue.7"
      gzip -9nf "$d$mandir/man7/messaging-queue.7"
      ;;
    simplevisor)
      install -D -m 0644 packaging/systemd/simplevisor.service "$d$unitdir/simplevisor.service"
      install -D -m 0755 packaging/simplevisor-control "$d$prefix/bin/simplevisor-control"
      install -D -m 0644 packaging/examples/simplevisor.conf "$d$docdir/simplevisor/examples/simplevisor.conf"
      install -d -m 0750 "$d$sysconfdir/simplevisor"
      install -m 0640 packaging/examples/simplevisor.conf "$d$sysconfdir/simplevisor/simplevisor.conf"
      # its system user, whom its unit runs as (its store in /var/lib/simplevisor)
      mkdir -p "$d$sysusersdir"
      printf '# simplevisor: the user its unit runs as (its services run as the users they name)\nu simplevisor - "simplevisor supervisor" %s -\n' \
        "$localstatedir/lib/simplevisor" > "$d$sysusersdir/simplevisor.conf"
      chmod 0644 "$d$sysusersdir/simplevisor.conf"
      ;;
  esac
done
