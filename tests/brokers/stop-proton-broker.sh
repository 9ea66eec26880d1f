#!/usr/bin/env bash
# Stops the Proton example broker started by start-proton-broker.sh, by its pidfile;
# PROTON_CLEAN=1 also removes its data directory.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"
DATA=${PROTON_DATA:-/tmp/msgtk-brokers/proton}
stop_pidfile "$DATA/proton-broker.pid" proton-broker 10
if [ "${PROTON_CLEAN:-0}" = 1 ]; then rm -rf "$DATA" && echo "proton-broker: removed $DATA"; fi
exit 0
