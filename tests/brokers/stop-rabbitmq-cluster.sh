#!/usr/bin/env bash
# Stops the nodes start-rabbitmq-cluster.sh started (`stop-rabbitmq-cluster.sh node K`: node K
# alone, gracefully); RMQ_CLEAN=1 also removes the data.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
base=${RMQ_CLUSTER_DATA:-/tmp/msgtk-brokers/cluster}
nodes=${RMQ_CLUSTER_NODES:-3}
if [ "${1:-}" = node ]; then
    RMQ_DATA="$base/n$2" RMQ_CLEAN=0 "$here/stop-rabbitmq.sh"
    exit 0
fi
for k in $(seq "$nodes" -1 1); do
    RMQ_DATA="$base/n$k" RMQ_CLEAN=0 "$here/stop-rabbitmq.sh" || true
done
if [ "${RMQ_CLEAN:-0}" = 1 ]; then rm -rf "$base" && echo "rabbitmq cluster: removed $base"; fi
exit 0
