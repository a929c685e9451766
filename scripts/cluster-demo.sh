#!/usr/bin/env bash
# A local three-node KalamDB cluster with its three-member etcd, for trying cluster mode:
#
#   scripts/cluster-demo.sh [BUILD_DIR]     (make cluster-demo)
#
# Everything listens on 127.0.0.1: the nodes' HTTP on 8081-8083, Postgres wire on
# 5441-5443 and Raft on 9181-9183, etcd's clients on 2381-2383. Data and logs go to ./cluster-demo (DEMO_DIR).
# Ctrl-C stops the nodes, then etcd; run it again to start the same cluster on the same data.
set -euo pipefail

here="$(cd "$(dirname "$0")/.." && pwd)"
build="${1:-$here/build}"
server="$build/kalamdb-server"
dir="${DEMO_DIR:-$PWD/cluster-demo}"
[ -x "$server" ] || { echo "cluster-demo: $server is not built (make build)" >&2; exit 2; }
command -v etcd >/dev/null || { echo "cluster-demo: etcd is missing (scripts/install-deps.sh)" >&2; exit 2; }
mkdir -p "$dir"

pids=()
stop() {
  trap - INT TERM EXIT
  echo "cluster-demo: stopping"
  # Nodes first (they leave the cluster in etcd), then etcd.
  for pid in "${pids[@]:3}" ; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]:3}" ; do wait "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]:0:3}" ; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap stop INT TERM EXIT

initial=""
for i in 1 2 3; do initial+="${initial:+,}e$i=http://127.0.0.1:239$i"; done
for i in 1 2 3; do
  etcd --name "e$i" --data-dir "$dir/etcd-$i" \
    --listen-client-urls "http://127.0.0.1:238$i" --advertise-client-urls "http://127.0.0.1:238$i" \
    --listen-peer-urls "http://127.0.0.1:239$i" --initial-advertise-peer-urls "http://127.0.0.1:239$i" \
    --initial-cluster "$initial" --initial-cluster-state new --initial-cluster-token kalamdb-demo \
    --logger zap --log-level warn >"$dir/etcd-$i.log" 2>&1 &
  pids+=($!)
done
for i in 1 2 3; do
  for _ in $(seq 100); do
    curl -fs "http://127.0.0.1:238$i/health" | grep -q '"true"' && break
    sleep 0.2
  done
done
echo "cluster-demo: etcd is up on 127.0.0.1:2381-2383"

for i in 1 2 3; do
  cat >"$dir/node-$i.toml" <<TOML
[server]
host = "127.0.0.1"
port = 808$i

[storage]
data_path = "$dir/node-$i"

[postgres_wire]
port = 544$i

[cluster]
node_id = "node-$i"
raft_port = 918$i
etcd_endpoints = ["http://127.0.0.1:2381", "http://127.0.0.1:2382", "http://127.0.0.1:2383"]
# Cold segments every node reads (on one machine any directory is shared).
shared_storage_path = "$dir/shared"
TOML
  "$server" --config "$dir/node-$i.toml" >"$dir/node-$i.log" 2>&1 &
  pids+=($!)
done
for i in 1 2 3; do
  for _ in $(seq 300); do
    curl -fs "http://127.0.0.1:808$i/health" >/dev/null && break
    sleep 0.2
  done
done

cat <<TEXT
cluster-demo: three nodes are up (logs and data in $dir):
  http://127.0.0.1:8081  http://127.0.0.1:8082  http://127.0.0.1:8083   (console at /)
  psql -h 127.0.0.1 -p 5441 -U root
Try: curl -s -u root: http://127.0.0.1:8082/v1/api/sql -d '{"sql":"CLUSTER LIST"}'
     curl -s -u root: http://127.0.0.1:8083/v1/api/sql -d '{"sql":"SELECT * FROM system.shards"}'
Ctrl-C stops the cluster.
TEXT
wait -n "${pids[@]}" || true
echo "cluster-demo: a process ended; see the logs in $dir" >&2
