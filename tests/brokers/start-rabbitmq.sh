#!/usr/bin/env bash
# Adapted from the toolkit's shared broker scripts; carried here so that tests run anywhere.
# Start RabbitMQ (Debian rabbitmq-server 3.10) as root, without systemd, on
# loopback only, with the STOMP and AMQP 1.0 plugins enabled.
#   AMQP 0-9-1 + AMQP 1.0 : 127.0.0.1:${RMQ_AMQP_PORT:-5672}
#   the same over TLS     : 127.0.0.1:${RMQ_AMQPS_PORT:-5671} (same PKI and rules as STOMP over TLS)
#   STOMP                 : 127.0.0.1:${RMQ_STOMP_PORT:-61613}
#   STOMP over TLS        : 127.0.0.1:${RMQ_STOMPS_PORT:-61615}, test PKI from make-test-ca.sh in
#                           ${MSGTK_PKI:-$RMQ_DATA/tls}; client certificates required (verify_peer)
#   Erlang distribution   : 127.0.0.1:${RMQ_DIST_PORT:-25672}, epmd 127.0.0.1:4369
# RMQ_NODENAME (rabbit@localhost) and RMQ_COOKIE (random) for a node of a cluster.
# Credentials: guest/guest (AMQP 1.0 SASL ANONYMOUS is mapped to guest too), receiver/secret
# (with the virtual hosts virtual_host and rabbitmq: python-amqpclt's examples); SASL EXTERNAL
# on the TLS listener as "msgtk test client", the CN of the test PKI's client certificate.
# All state lives in ${RMQ_DATA:-/tmp/brokers/rabbitmq}; RMQ_FRESH=1 wipes it first.
# Idempotent: if the broker is already up (pidfile alive) it just re-checks ports.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"

if [ ! -x /usr/lib/rabbitmq/bin/rabbitmq-server ]; then
    echo "installing rabbitmq-server from Debian..." >&2
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends rabbitmq-server >/dev/null
fi

DATA=${RMQ_DATA:-/tmp/brokers/rabbitmq}
AMQP_PORT=${RMQ_AMQP_PORT:-5672}
STOMP_PORT=${RMQ_STOMP_PORT:-61613}
STOMPS_PORT=${RMQ_STOMPS_PORT:-61615}
AMQPS_PORT=${RMQ_AMQPS_PORT:-5671}
DIST_PORT=${RMQ_DIST_PORT:-25672}
NODENAME=${RMQ_NODENAME:-rabbit@localhost}
PIDFILE=$DATA/rabbitmq.pid
TIMEOUT=${RMQ_START_TIMEOUT:-120}

if pid_alive "$PIDFILE"; then
    echo "rabbitmq: already running (pid $(cat "$PIDFILE"))"
else
    [ "${RMQ_FRESH:-0}" = 1 ] && rm -rf "$DATA"
    for p in "$AMQP_PORT" "$AMQPS_PORT" "$STOMP_PORT" "$STOMPS_PORT"; do
        if port_busy "$p"; then
            echo "rabbitmq: port $p already in use by something else; set RMQ_AMQP_PORT/RMQ_STOMP_PORT" >&2
            exit 1
        fi
    done
    mkdir -p "$DATA/mnesia" "$DATA/log" "$DATA/home"
    PKI=${MSGTK_PKI:-$DATA/tls}
    "$here/make-test-ca.sh" "$PKI" >/dev/null
    cat > "$DATA/rabbitmq.conf" <<CONF
listeners.tcp.1 = 127.0.0.1:$AMQP_PORT
listeners.ssl.1 = 127.0.0.1:$AMQPS_PORT
stomp.listeners.tcp.1 = 127.0.0.1:$STOMP_PORT
stomp.listeners.ssl.1 = 127.0.0.1:$STOMPS_PORT
ssl_options.cacertfile = $PKI/ca.pem
ssl_options.certfile = $PKI/server.pem
ssl_options.keyfile = $PKI/server.key
ssl_options.verify = verify_peer
ssl_options.fail_if_no_peer_cert = true
stomp.default_user = guest
stomp.default_pass = guest
amqp1_0.default_user = guest
# SASL EXTERNAL over TLS (rabbitmq_auth_mechanism_ssl): the client certificate's CN is the
# user name; the test client's user is made below
auth_mechanisms.1 = PLAIN
auth_mechanisms.2 = AMQPLAIN
auth_mechanisms.3 = EXTERNAL
ssl_cert_login_from = common_name
amqp1_0.default_vhost = /
default_user = guest
default_pass = guest
log.console = false
log.file.level = info
# users, virtual hosts, permissions and policies imported at boot: no rabbitmqctl call
# (half a second each) at start or restart
definitions.import_backend = local_filesystem
definitions.local.path = $DATA/definitions.json
CONF
    # guest/guest and receiver/secret (python-amqpclt's examples, with its virtual hosts
    # virtual_host and rabbitmq); "msgtk test client", the CN of make-test-ca.sh's client
    # certificate, whom SASL EXTERNAL logs in without a password; sentinel, whose password
    # (Pw-7q3Zx9-sentinel) the secrets test looks for in every output; queues named
    # msgtk.reject.* refuse every message (a full queue, reject-publish). Hashes: base64 of
    # a 4-byte salt and SHA-256(salt + password).
    cat > "$DATA/definitions.json" <<'DEFS'
{
  "users": [
    {"name": "guest", "password_hash": "bXNndJ4pCs6EDk0TmAXayeJQspNpXCskOAUfbmCIYFpYEOi5",
     "hashing_algorithm": "rabbit_password_hashing_sha256", "tags": ["administrator"]},
    {"name": "receiver", "password_hash": "dGtyMcf+qldidtWlNvmD0KKMGEmAUfCDV/PnEnEhD7Y2Gdg3",
     "hashing_algorithm": "rabbit_password_hashing_sha256", "tags": []},
    {"name": "sentinel", "password_hash": "bXNnc0K2gaWw16+Eiqdmz6qe3CAujpRD5xKnAdQl3xJU6l6k",
     "hashing_algorithm": "rabbit_password_hashing_sha256", "tags": []},
    {"name": "msgtk test client", "password_hash": "",
     "hashing_algorithm": "rabbit_password_hashing_sha256", "tags": []}
  ],
  "vhosts": [{"name": "/"}, {"name": "virtual_host"}, {"name": "rabbitmq"}],
  "permissions": [
    {"user": "guest", "vhost": "/", "configure": ".*", "write": ".*", "read": ".*"},
    {"user": "guest", "vhost": "virtual_host", "configure": ".*", "write": ".*", "read": ".*"},
    {"user": "guest", "vhost": "rabbitmq", "configure": ".*", "write": ".*", "read": ".*"},
    {"user": "receiver", "vhost": "/", "configure": ".*", "write": ".*", "read": ".*"},
    {"user": "receiver", "vhost": "virtual_host", "configure": ".*", "write": ".*", "read": ".*"},
    {"user": "receiver", "vhost": "rabbitmq", "configure": ".*", "write": ".*", "read": ".*"},
    {"user": "sentinel", "vhost": "/", "configure": ".*", "write": ".*", "read": ".*"},
    {"user": "msgtk test client", "vhost": "/", "configure": ".*", "write": ".*", "read": ".*"}
  ],
  "policies": [
    {"vhost": "/", "name": "msgtk-reject", "pattern": "^msgtk\\.reject\\.", "apply-to": "queues",
     "definition": {"max-length": 0, "overflow": "reject-publish"}, "priority": 0}
  ]
}
DEFS
    echo '[rabbitmq_stomp,rabbitmq_amqp1_0,rabbitmq_auth_mechanism_ssl].' > "$DATA/enabled_plugins"
    # Own Erlang cookie under $DATA/home, so nothing in /root is touched (RMQ_COOKIE: the
    # cookie the nodes of a cluster share).
    if [ -n "${RMQ_COOKIE:-}" ] && [ ! -s "$DATA/home/.erlang.cookie" ]; then
        printf '%s' "$RMQ_COOKIE" > "$DATA/home/.erlang.cookie"
        chmod 400 "$DATA/home/.erlang.cookie"
    fi
    [ -s "$DATA/home/.erlang.cookie" ] || {
        head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$DATA/home/.erlang.cookie"
        chmod 400 "$DATA/home/.erlang.cookie"
    }
    cat > "$DATA/env.sh" <<ENV
export HOME=$DATA/home
export RABBITMQ_NODENAME=$NODENAME
export RABBITMQ_CONFIG_FILE=$DATA/rabbitmq.conf
export RABBITMQ_ENABLED_PLUGINS_FILE=$DATA/enabled_plugins
export RABBITMQ_MNESIA_BASE=$DATA/mnesia
export RABBITMQ_LOG_BASE=$DATA/log
export RABBITMQ_PID_FILE=$DATA/beam.pid
export RABBITMQ_NODE_IP_ADDRESS=127.0.0.1
export RABBITMQ_NODE_PORT=$AMQP_PORT
export RABBITMQ_DIST_PORT=$DIST_PORT
export ERL_EPMD_ADDRESS=127.0.0.1
export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
ENV
    # shellcheck disable=SC1091
    . "$DATA/env.sh"
    start=$(date +%s.%N)
    # The wrapper script traps TERM and stops the Erlang VM gracefully.
    setsid nohup /usr/lib/rabbitmq/bin/rabbitmq-server \
        >"$DATA/log/stdout.log" 2>&1 </dev/null &
    echo $! > "$PIDFILE"
    for p in "$AMQP_PORT" "$AMQPS_PORT" "$STOMP_PORT" "$STOMPS_PORT"; do
        if ! wait_port 127.0.0.1 "$p" "$TIMEOUT" "$PIDFILE"; then
            echo "rabbitmq: port $p did not open within ${TIMEOUT}s; see $DATA/log" >&2
            tail -20 "$DATA/log/stdout.log" >&2 || true
            exit 1
        fi
    done
    end=$(date +%s.%N)
    awk -v a="$start" -v b="$end" 'BEGIN { printf "rabbitmq: started in %.1fs\n", b - a }'
fi
beam=$(cat "$DATA/beam.pid" 2>/dev/null || true)
echo "rabbitmq: wrapper pid $(cat "$PIDFILE"), beam pid ${beam:-?}, RSS $( [ -n "$beam" ] && rss_kib "$beam" ) KiB"
echo "rabbitmq: AMQP 0-9-1/1.0 127.0.0.1:$AMQP_PORT (TLS $AMQPS_PORT)  STOMP 127.0.0.1:$STOMP_PORT  STOMP+TLS 127.0.0.1:$STOMPS_PORT  user guest/guest  data $DATA"
echo "rabbitmq: rabbitmqctl: (. $DATA/env.sh && /usr/lib/rabbitmq/bin/rabbitmqctl list_queues)"
echo "rabbitmq: stop with: $here/stop-rabbitmq.sh"
