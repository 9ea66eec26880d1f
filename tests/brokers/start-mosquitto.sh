#!/usr/bin/env bash
# Adapted from the toolkit's shared broker scripts; carried here so that tests run anywhere.
# Start Mosquitto (Debian mosquitto 2.0, MQTT 3.1/3.1.1/5) as root, without systemd, on loopback:
#   MQTT            : ${MQTT_HOST:-127.0.0.1}:${MQTT_PORT:-1883}, anonymous, plus users guest/guest
#                     and sentinel/Pw-7q3Zx9-sentinel
#   MQTT over TLS   : ${MQTT_HOST:-127.0.0.1}:${MQTTS_PORT:-8883}, the test PKI of make-test-ca.sh in
#                     ${MSGTK_PKI:-$MQTT_DATA/tls}, client certificates required
# Persistence under ${MQTT_DATA:-/tmp/msgtk-brokers/mosquitto}; MQTT_FRESH=1 wipes it first.
# max_queued_messages 0: with the default (1000) Mosquitto silently drops what an offline
# persistent client has queued beyond that. MQTT_DURABLE=1 saves the store after every change,
# so that a SIGKILLed broker loses nothing it acknowledged (by default it loses everything
# since its last autosave, 30 min); it costs most of the throughput to an offline persistent
# client (23k → 0.64k msg/s measured), so only the broker-crash test asks for it.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"
if [ ! -x /usr/sbin/mosquitto ] || ! command -v mosquitto_pub > /dev/null; then
    echo "installing mosquitto and mosquitto-clients from Debian..." >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends mosquitto mosquitto-clients >/dev/null 2>&1 || {
        apt-get update -qq >/dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends mosquitto mosquitto-clients >/dev/null
    }
fi
DATA=${MQTT_DATA:-/tmp/msgtk-brokers/mosquitto}
PORT=${MQTT_PORT:-1883}
# another loopback address (127.0.0.2, …): brokers on one port behind one name (all: aliases)
HOST=${MQTT_HOST:-127.0.0.1}
TLS_PORT=${MQTTS_PORT:-8883}
PIDFILE=$DATA/mosquitto.pid
if pid_alive "$PIDFILE"; then
    echo "mosquitto: already running (pid $(cat "$PIDFILE"))"
    exit 0
fi
[ "${MQTT_FRESH:-0}" = 1 ] && rm -rf "$DATA"
for p in "$PORT" "$TLS_PORT"; do
    if port_busy "$p" "$HOST"; then echo "mosquitto: port $p busy; set MQTT_PORT/MQTTS_PORT" >&2; exit 1; fi
done
mkdir -p "$DATA/data"
PKI=${MSGTK_PKI:-$DATA/tls}
"$here/make-test-ca.sh" "$PKI" >/dev/null
# guest/guest for the credential tests (anonymous access stays allowed)
rm -f "$DATA/passwd"
touch "$DATA/passwd"
chmod 600 "$DATA/passwd"
mosquitto_passwd -b "$DATA/passwd" guest guest
# the secrets test's user: its password is looked for in every output
mosquitto_passwd -b "$DATA/passwd" sentinel Pw-7q3Zx9-sentinel
durable=""
[ "${MQTT_DURABLE:-0}" = 1 ] && durable=$'autosave_interval 1\nautosave_on_changes true'
cat > "$DATA/mosquitto.conf" <<CONF
# user root: stay root (no privilege drop to user "mosquitto")
user root
per_listener_settings false
allow_anonymous true
password_file $DATA/passwd
persistence true
persistence_location $DATA/data/
max_queued_messages 0
$durable
log_dest file $DATA/mosquitto.log
listener $PORT $HOST
listener $TLS_PORT $HOST
cafile $PKI/ca.pem
certfile $PKI/server.pem
keyfile $PKI/server.key
require_certificate true
CONF
start=$(date +%s.%N)
setsid nohup /usr/sbin/mosquitto -c "$DATA/mosquitto.conf" >"$DATA/stdout.log" 2>&1 </dev/null &
echo $! > "$PIDFILE"
for p in "$PORT" "$TLS_PORT"; do
    wait_port "$HOST" "$p" 30 "$PIDFILE" || { tail -20 "$DATA/stdout.log" "$DATA/mosquitto.log" >&2; exit 1; }
done
end=$(date +%s.%N)
awk -v a="$start" -v b="$end" 'BEGIN { printf "mosquitto: started in %.2fs\n", b - a }'
echo "mosquitto: pid $(cat "$PIDFILE"), MQTT $HOST:$PORT (anonymous or guest/guest), TLS $HOST:$TLS_PORT, data $DATA"
echo "mosquitto: stop with: $here/stop-mosquitto.sh"
