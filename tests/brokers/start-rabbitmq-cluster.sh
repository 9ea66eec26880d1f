#!/usr/bin/env bash
# Starts a RabbitMQ cluster of ${RMQ_CLUSTER_NODES:-3} nodes on loopback with start-rabbitmq.sh,
# ports, node names and data directories of its own, and joins nodes 2.. to node 1. Node K:
#   name msgtk-cK@localhost, data $RMQ_CLUSTER_DATA/nK (default /tmp/msgtk-brokers/cluster),
#   AMQP 127.0.0.1:$((5690+K)) (TLS 5700+K), STOMP 127.0.0.1:$((61670+K)) (TLS 61680+K),
#   Erlang distribution 25690+K; one Erlang cookie for all. RMQ_CLUSTER_PORTS=N adds N to
#   every port and names the nodes msgtkN-cK (clusters side by side).
# RMQ_FRESH=1 wipes the data first. `start-rabbitmq-cluster.sh node K` (re)starts node K alone
# on its data (it rejoins the cluster it belongs to); stop with stop-rabbitmq-cluster.sh.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
base=${RMQ_CLUSTER_DATA:-/tmp/msgtk-brokers/cluster}
nodes=${RMQ_CLUSTER_NODES:-3}
off=${RMQ_CLUSTER_PORTS:-0}
if [ "$off" = 0 ]; then prefix=msgtk-c; else prefix=msgtk$off-c; fi
ctl=/usr/lib/rabbitmq/bin/rabbitmqctl
node_env() { # K: the environment of start-rabbitmq.sh for node K
    echo RMQ_DATA="$base/n$1" RMQ_NODENAME="$prefix$1@localhost" \
        RMQ_AMQP_PORT=$((5690 + off + $1)) RMQ_AMQPS_PORT=$((5700 + off + $1)) \
        RMQ_STOMP_PORT=$((61670 + off + $1)) RMQ_STOMPS_PORT=$((61680 + off + $1)) \
        RMQ_DIST_PORT=$((25690 + off + $1))
}
start_node() { # K [FRESH]
    # shellcheck disable=SC2046
    env $(node_env "$1") RMQ_FRESH="${2:-0}" RMQ_COOKIE="$cookie" "$here/start-rabbitmq.sh" | sed "s/^rabbitmq:/rabbitmq node $1:/"
}
if [ "${RMQ_FRESH:-0}" = 1 ]; then rm -rf "$base"; fi
mkdir -p "$base"
[ -s "$base/cookie" ] || head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$base/cookie"
cookie=$(cat "$base/cookie")
if [ "${1:-}" = node ]; then
    start_node "$2"
    exit 0
fi
# the nodes boot side by side (the shared test PKI made first, once)
[ -n "${MSGTK_PKI:-}" ] && "$here/make-test-ca.sh" "$MSGTK_PKI" >/dev/null
pids=()
for k in $(seq 1 "$nodes"); do start_node "$k" & pids+=($!); done
for p in "${pids[@]}"; do wait "$p"; done
for k in $(seq 2 "$nodes"); do
    (
        # shellcheck disable=SC1090
        . "$base/n$k/env.sh"
        if ! "$ctl" -q cluster_status 2>/dev/null | grep -q "${prefix}1@localhost"; then
            "$ctl" -q stop_app >/dev/null
            "$ctl" -q join_cluster "${prefix}1@localhost" >/dev/null
            "$ctl" -q start_app >/dev/null
        fi
    )
    . "$here/common.sh"
    wait_port 127.0.0.1 $((61670 + off + k)) 60 || { echo "rabbitmq node $k: STOMP did not come back after joining" >&2; exit 1; }
done
running=$(. "$base/n1/env.sh" && "$ctl" -q eval 'length(rabbit_nodes:all_running()).')
echo "rabbitmq cluster: $running of $nodes nodes running"
[ "$running" = "$nodes" ]
