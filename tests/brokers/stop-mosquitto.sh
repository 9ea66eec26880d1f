#!/usr/bin/env bash
# Stops the Mosquitto started by start-mosquitto.sh, by its pidfile (TERM: it saves its store);
# MQTT_CLEAN=1 also removes its data directory.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"
DATA=${MQTT_DATA:-/tmp/msgtk-brokers/mosquitto}
stop_pidfile "$DATA/mosquitto.pid" mosquitto 10
if [ "${MQTT_CLEAN:-0}" = 1 ]; then rm -rf "$DATA" && echo "mosquitto: removed $DATA"; fi
exit 0
