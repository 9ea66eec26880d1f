#!/usr/bin/env bash
# Starts the Qpid Proton C example broker (Debian libqpid-proton11-dev-examples, compiled here)
# as a second, independent AMQP 1.0 peer on 127.0.0.1:${PROTON_PORT:-5673}: in-memory queues
# (any address is a queue, made on first use), SASL ANONYMOUS only, TLS auto-detected on the
# same port with Proton's self-signed test certificate. It settles deliveries before they
# arrive (see ../../README.md, amqpclt). Data: ${PROTON_DATA:-/tmp/msgtk-brokers/proton}.
# Idempotent; PROTON_FRESH=1 restarts it.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"

EX=/usr/share/proton/examples/c
if [ ! -f "$EX/broker.c" ] || [ ! -f /usr/include/proton/proactor.h ] || ! command -v gcc > /dev/null; then
    echo "proton-broker: installing libqpid-proton11-dev-examples from Debian..." >&2
    pkgs=(libqpid-proton11-dev-examples libqpid-proton11-dev gcc libc6-dev)
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${pkgs[@]}" > /dev/null 2>&1 || {
        apt-get update -qq > /dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${pkgs[@]}" > /dev/null
    }
fi
DATA=${PROTON_DATA:-/tmp/msgtk-brokers/proton}
PORT=${PROTON_PORT:-5673}
PIDFILE=$DATA/proton-broker.pid
mkdir -p "$DATA"
if [ "${PROTON_FRESH:-0}" = 1 ]; then
    stop_pidfile "$PIDFILE" proton-broker 10 > /dev/null
fi
if [ ! -x "$DATA/broker" ] || [ "$EX/broker.c" -nt "$DATA/broker" ]; then
    gcc -O2 -o "$DATA/broker" "$EX/broker.c" -I"$EX" -lqpid-proton -lpthread
fi
# the broker looks for ssl-certs/ in its working directory
rm -rf "$DATA/ssl-certs" && cp -r "$EX/ssl-certs" "$DATA/ssl-certs"

if pid_alive "$PIDFILE"; then
    echo "proton-broker: already running (pid $(cat "$PIDFILE"))"
else
    if port_busy "$PORT"; then echo "proton-broker: port $PORT busy; set PROTON_PORT" >&2; exit 1; fi
    (cd "$DATA" && exec setsid nohup ./broker 127.0.0.1 "$PORT" > "$DATA/stdout.log" 2>&1 < /dev/null) &
    echo $! > "$PIDFILE"
    wait_port 127.0.0.1 "$PORT" 30 "$PIDFILE" || { cat "$DATA/stdout.log" >&2; exit 1; }
fi
echo "proton-broker: pid $(cat "$PIDFILE"), AMQP 1.0 127.0.0.1:$PORT (SASL ANONYMOUS; TLS with $DATA/ssl-certs/tserver-certificate.pem)"
echo "proton-broker: stop with: $here/stop-proton-broker.sh"
