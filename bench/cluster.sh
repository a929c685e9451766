# Suite "cluster" of bench/run.sh (sourced). See bench/README.md, "Cluster mode".
#
# Three kalamdb-server nodes in cluster mode (replication factor 3, 32 shards) with a
# three-member etcd, all on this machine, against one standalone server, same run:
#   - single-row INSERTs into a SHARED table, 1 client: through the shard's leader, and
#     through another node (which sends the write on); against the single server;
#   - INSERT rate with BENCH_CLUSTER_CLIENTS clients spread over the three nodes (one wrk
#     per node, run at once, each into its own SHARED table: three shards, led wherever the
#     cluster's leadership balancing put them), against the same clients on the single
#     server (one table);
#   - primary-key point SELECTs over 10,000 rows, 1 client at the table's leader and 1
#     through a follower (which sends the read on: read-your-writes), and the clients spread
#     over the three nodes;
#   - a Postgres wire transaction (pgbench, 1 client: BEGIN; a point SELECT; an UPDATE of
#     that row; COMMIT) on the single server, at the table's leader, and begun through
#     another node, which moves it to the leader at its UPDATE;
#   - subscriptions held: BENCH_CLUSTER_SUB_CONNS connections x BENCH_CLUSTER_SUB_SUBS
#     subscriptions (bench/live_bench.cpp kalam-setup) on the single server, and spread a
#     third per node over the cluster at once: time until every one is acknowledged, RSS per
#     subscription;
#   - topics: a producer at BENCH_CLUSTER_TOPIC_RATE rows/s (200) into a SHARED table a
#     topic sources, one consumer long-polling in a group (bench/topics_bench.cpp
#     kalam-e2e), both through the node leading the table's shard (the topic's shard may be
#     led elsewhere: the change then travels through the outbox to it, and the consume is
#     sent on); INSERT sent -> message received, against the single server;
#   - failover: the shard's leader SIGKILLed while a client INSERTs through another node
#     every 20 ms; the time from the kill to the first write taken again
#     (BENCH_CLUSTER_FAILOVERS times; the node restarts and catches up between them);
#   - live query latency (bench/live_bench.cpp kalam-latency: one subscriber, INSERTs one
#     at a time at the leader of bench.chat's shard, INSERT sent -> change received), the
#     subscriber at the leader, at a follower, and at a fourth node that holds no replica
#     (it joins drained), which relays the subscription to the leader.
#   - every user's rows: root's count over bench.inbox, a USER table of
#     BENCH_CLUSTER_EV_USERS users x BENCH_CLUSTER_EV_ROWS rows (200 x 250), hot, then
#     flushed (a segment per user); on the single server, through a node holding every
#     shard (caught up with each leader), and through the fourth node, which holds none
#     and gathers every hot row from the leaders.

cluster_seconds="${BENCH_CLUSTER_SECONDS:-5}"
cluster_clients="${BENCH_CLUSTER_CLIENTS:-12}"
cluster_failovers="${BENCH_CLUSTER_FAILOVERS:-3}"
cluster_topic_rate="${BENCH_CLUSTER_TOPIC_RATE:-200}"
# Subscriptions held: connections (spread over the three nodes) x subscriptions each.
cluster_sub_conns="${BENCH_CLUSTER_SUB_CONNS:-600}"
cluster_sub_subs="${BENCH_CLUSTER_SUB_SUBS:-10}"
cluster_etcd_pids=()
cluster_pids=(0 0 0 0)
cluster_urls=("" "" "" "")
cluster_raft=("" "" "" "")
cluster_http=("" "" "" "")
cluster_pg=("" "" "" "")
cluster_live_n="${BENCH_CLUSTER_LIVE_N:-1000}"
cluster_ev_users="${BENCH_CLUSTER_EV_USERS:-200}"
cluster_ev_rows="${BENCH_CLUSTER_EV_ROWS:-250}"
cluster_endpoints=""

need_cluster() {
  need_kalam
  command -v wrk >/dev/null 2>&1 || die "wrk not found (run bench/install-deps.sh)"
  command -v etcd >/dev/null 2>&1 || die "etcd not found (run scripts/install-deps.sh)"
  [ -x "$pg_bin/pgbench" ] || die "pgbench not found in $pg_bin (run bench/install-deps.sh)"
  ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null
  log "cluster: compiling bench/live_bench.cpp (subscriptions held)"
  g++ -O2 -std=c++20 "$bench_dir/live_bench.cpp" -o "$tmp/live_bench" -lpthread \
    2>"$tmp/live_bench.build.txt" \
    || { cat "$tmp/live_bench.build.txt" >&2; die "cannot compile bench/live_bench.cpp"; }
  log "cluster: compiling bench/topics_bench.cpp (topics end to end)"
  g++ -O2 -std=c++20 "$bench_dir/topics_bench.cpp" -o "$tmp/topics_bench" -lpthread \
    2>"$tmp/topics_bench.build.txt" \
    || { cat "$tmp/topics_bench.build.txt" >&2; die "cannot compile bench/topics_bench.cpp"; }
}

# The source table and topic of the topics measurement.
cluster_topic_sql="CREATE SHARED TABLE bench.events ($columns); CREATE TOPIC bench.stream; ALTER TOPIC bench.stream ADD SOURCE bench.events ON INSERT"

# cluster_subscribe KEY PORT PID CONNS: CONNS connections to the server on PORT (process
# PID) each sending cluster_sub_subs subscriptions to bench.chat, as live_bench kalam-setup
# does; its LIVE_RESULT fields land in R[KEY.*] (also when run in the background: read
# back with cluster_read_live).
cluster_subscribe() {
  local key="$1" port="$2" pid="$3" conns="$4" token
  token="$(curl -sS -H 'Content-Type: application/json' -d "{\"username\":\"root\",\"password\":\"$password\"}" \
    "http://127.0.0.1:$port/v1/api/auth/login" | sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p')"
  "$tmp/live_bench" kalam-setup port="$port" token="$token" conns="$conns" subs="$cluster_sub_subs" pid="$pid" \
    timeout=60 >"$tmp/$key.live.txt" 2>&1
}
cluster_read_live() {
  local key="$1" line f
  line="$(grep '^LIVE_RESULT' "$tmp/$key.live.txt" 2>/dev/null | tail -1)"
  [ -n "$line" ] || { errors_seen="$errors_seen $key(failed)"; return 0; }
  for f in $line; do case "$f" in *=*) R[$key.${f%%=*}]="${f#*=}" ;; esac; done
}

cluster_stop_all() {
  local pid
  for pid in "${cluster_pids[@]}" "${cluster_etcd_pids[@]}"; do
    [ "$pid" != 0 ] || continue
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  done
  cluster_pids=(0 0 0 0)
  cluster_etcd_pids=()
}

# cluster_sql NODE SQL [EXTRA_CURL_ARGS...]: the response body, through node NODE (0-2).
cluster_sql() {
  local node="$1" esc="${2//\\/\\\\}"
  shift 2
  esc="${esc//\"/\\\"}"
  curl -sS -m 20 -H "Authorization: $auth" -H 'Content-Type: application/json' "$@" \
    -d "{\"sql\":\"$esc\"}" "${cluster_urls[$node]}/v1/api/sql"
}

cluster_start_etcd() {
  local i initial="" client=() peer=()
  for i in 0 1 2; do
    client[$i]="$(free_port)" || die "no free port"
    peer[$i]="$(free_port)" || die "no free port"
    initial+="${initial:+,}e$i=http://127.0.0.1:${peer[$i]}"
  done
  cluster_endpoints=""
  for i in 0 1 2; do
    etcd --name "e$i" --data-dir "$tmp/cluster/etcd-$i" \
      --listen-client-urls "http://127.0.0.1:${client[$i]}" --advertise-client-urls "http://127.0.0.1:${client[$i]}" \
      --listen-peer-urls "http://127.0.0.1:${peer[$i]}" --initial-advertise-peer-urls "http://127.0.0.1:${peer[$i]}" \
      --initial-cluster "$initial" --initial-cluster-state new --initial-cluster-token kalamdb-bench \
      --logger zap --log-level warn >"$tmp/cluster/etcd-$i.log" 2>&1 &
    cluster_etcd_pids+=($!)
    cluster_endpoints+="${cluster_endpoints:+, }\"http://127.0.0.1:${client[$i]}\""
  done
  for i in 0 1 2; do
    for _ in $(seq 150); do
      curl -fs "http://127.0.0.1:${client[$i]}/health" 2>/dev/null | grep -q '"true"' && break
      sleep 0.2
    done
  done
}

# cluster_node_start I: node I on its ports (chosen the first time, kept on restarts).
cluster_node_start() {
  local i="$1"
  local dir="$tmp/cluster/node-$i"
  mkdir -p "$dir"
  [ -n "${cluster_http[$i]}" ] || cluster_http[$i]="$(free_port)" || die "no free port"
  [ -n "${cluster_raft[$i]}" ] || cluster_raft[$i]="$(free_port)" || die "no free port"
  [ -n "${cluster_pg[$i]}" ] || cluster_pg[$i]="$(free_port)" || die "no free port"
  cat >"$dir/server.toml" <<TOML
[auth]
bcrypt_cost = 4
[postgres_wire]
port = ${cluster_pg[$i]}
[websocket]
max_subscriptions_per_user = 1000000
[cluster]
node_id = "node-$i"
raft_port = ${cluster_raft[$i]}
etcd_endpoints = [$cluster_endpoints]
shared_storage_path = "$tmp/cluster/shared"
TOML
  KALAMDB_ROOT_PASSWORD="$password" "$kalam_exe" --config "$dir/server.toml" \
    --host 127.0.0.1 --port "${cluster_http[$i]}" --data-path "$dir/data" >>"$dir/server.log" 2>&1 &
  cluster_pids[$i]=$!
  cluster_urls[$i]="http://127.0.0.1:${cluster_http[$i]}"
  for _ in $(seq 300); do
    curl -fsS "${cluster_urls[$i]}/health" >/dev/null 2>&1 && return 0
    kill -0 "${cluster_pids[$i]}" 2>/dev/null || { tail -20 "$dir/server.log" >&2; die "cluster node $i exited"; }
    sleep 0.1
  done
  die "cluster node $i did not come up"
}

# Waits until node 0 sees every shard led and caught up (lag 0 everywhere), the leaders
# spread over the nodes.
cluster_wait_settled() {
  local n
  for _ in $(seq 300); do
    n="$(first_cell "$(cluster_sql 0 "SELECT count(*) FROM system.shards WHERE leader IS NOT NULL AND lag = 0")")"
    if [ "$n" = 32 ]; then
      # ...and leadership spread (no node leading more than 11 of the 32).
      n="$(first_cell "$(cluster_sql 0 "SELECT max(n) FROM (SELECT leader, count(*) AS n FROM system.shards GROUP BY leader)")")"
      [ -n "$n" ] && [ "$n" -le 11 ] && return 0
    fi
    sleep 0.2
  done
  die "the cluster's shards did not settle: $(cluster_sql 0 "SELECT * FROM system.shards")"
}

# The node (0-2) leading the shard of the SHARED table $1 (default bench.messages): the one
# that takes a write it is asked not to send on.
cluster_leader() {
  local table="${1:-bench.messages}" i id=$(( 900000000 + RANDOM ))
  for _ in $(seq 100); do
    for i in 0 1 2; do
      [ "${cluster_pids[$i]}" != 0 ] || continue
      case "$(cluster_sql "$i" "INSERT INTO $table (id, room, author, body, created_at) VALUES ($id, 'r', 'a', 'probe', '2026-01-01 00:00:00')" -H 'X-Kalam-Forwarded-By: bench')" in
        '{"status":"success"'*) echo "$i"; return 0 ;;
      esac
    done
    sleep 0.1
  done
  return 1
}

# cluster_tx KEY PG_PORT: one pgbench client for BENCH_CLUSTER_SECONDS running a Postgres
# wire transaction (BEGIN; a point SELECT; an UPDATE of that row; COMMIT) on bench.points.
cluster_tx() {
  local script="$tmp/cluster/tx.sql"
  cat >"$script" <<'SQL'
\set r random(0, 9999)
BEGIN;
SELECT body FROM bench.points WHERE id = :r;
UPDATE bench.points SET author = 'tx' WHERE id = :r;
COMMIT;
SQL
  kalam_pg_port="$2" pgbench_target=kalam run_pgbench "$1" 1 "$cluster_seconds" 1 "$script"
}

# run_wrk_on KEY NODE CLIENTS THREADS [VAR=VALUE...]: run_wrk against node NODE.
run_wrk_on() {
  local key="$1" node="$2" n="$3" threads="$4"
  shift 4
  local saved="$kalam_url"
  kalam_url="${cluster_urls[$node]}"
  run_wrk "$key" "$n" "$cluster_seconds" "$threads" "$@"
  kalam_url="$saved"
}

# flush_wait KEY SQL_FN: loads bench.cold (50,000 rows, never flushed by itself) through
# SQL_FN (a function taking SQL), then FLUSH TABLE bench.cold, waiting for its job:
# R[KEY.ms] (statement to job completed), R[KEY.rows].
flush_wait() {
  local key="$1" sql_fn="$2" started job status body k
  body="$("$sql_fn" "CREATE SHARED TABLE bench.cold ($columns) WITH (FLUSH_POLICY = 'rows:1000000000')")"
  cluster_ok "$body" "creating bench.cold"
  for k in 0 1 2 3 4; do
    body="$("$sql_fn" "INSERT INTO bench.cold SELECT $k * 10000 + range, 'room-' || (range % 500), 'author', repeat('x', 100), TIMESTAMP '2026-01-01' FROM range(10000)")"
    cluster_ok "$body" "loading bench.cold"
  done
  started="$(date +%s%3N)"
  body="$("$sql_fn" "FLUSH TABLE bench.cold")"
  job="$(first_cell "$body")"
  [ -n "$job" ] || { log "flush: $body"; return 0; }
  for _ in $(seq 6000); do
    body="$("$sql_fn" "SELECT status, result FROM system.jobs WHERE job_id = '$job'")"
    status="$(first_cell "$body")"
    case "$status" in queued|running) sleep 0.02 ;; *) break ;; esac
  done
  R[$key.ms]=$(( $(date +%s%3N) - started ))
  R[$key.rows]="$(sed -n 's/.*rows_flushed\\":\([0-9]*\).*/\1/p' <<<"$body")"
  log "flush: $key $status in ${R[$key.ms]} ms, ${R[$key.rows]:-?} rows"
}

# every_user_load SQL_FN: bench.inbox, a USER table, with cluster_ev_rows rows of each of
# cluster_ev_users users, written in their names (EXECUTE AS) through SQL_FN.
every_user_load() {
  local sql_fn="$1" u users=""
  cluster_ok "$("$sql_fn" "CREATE USER TABLE bench.inbox ($columns) WITH (FLUSH_POLICY = 'rows:1000000000')")" "creating bench.inbox"
  for u in $(seq 0 $(( cluster_ev_users - 1 ))); do
    users+="CREATE USER IF NOT EXISTS 'ev$u' WITH PASSWORD 'ev-password-$u' ROLE user; "
  done
  cluster_ok "$("$sql_fn" "$users")" "creating bench.inbox's users"
  for u in $(seq 0 $(( cluster_ev_users - 1 ))); do
    cluster_ok "$("$sql_fn" "EXECUTE AS USER 'ev$u' (INSERT INTO bench.inbox SELECT range, 'room-' || (range % 50), 'author', repeat('x', 100), TIMESTAMP '2026-01-01' FROM range($cluster_ev_rows))")" "loading bench.inbox"
  done
}

# every_user_flush SQL_FN: FLUSH TABLE bench.inbox through SQL_FN, waiting for its job.
every_user_flush() {
  local sql_fn="$1" body job status
  body="$("$sql_fn" "FLUSH TABLE bench.inbox")"
  cluster_ok "$body" "flushing bench.inbox"
  job="$(first_cell "$body")"
  for _ in $(seq 6000); do
    status="$(first_cell "$("$sql_fn" "SELECT status FROM system.jobs WHERE job_id = '$job'")")"
    case "$status" in queued|running) sleep 0.02 ;; *) break ;; esac
  done
  [ "$status" = completed ] || die "cluster: flushing bench.inbox: $status"
}

# every_user_time KEY URL: root's count of every user's rows of bench.inbox through URL,
# 20 times: R[KEY.p50_ms], R[KEY.max_ms], R[KEY.rows] (what it counted).
every_user_time() {
  local key="$1" url="$2" t
  local -a times=()
  for _ in $(seq 20); do
    t="$(curl -sS -m 60 -o "$tmp/every_user.json" -w '%{time_total}' -H "Authorization: $auth" \
      -H 'Content-Type: application/json' -d '{"sql":"SELECT count(*), count(DISTINCT room) FROM bench.inbox"}' "$url/v1/api/sql")"
    cluster_ok "$(cat "$tmp/every_user.json")" "counting every user's rows ($key)"
    times+=("$(awk -v t="$t" 'BEGIN { printf "%.1f", t * 1000 }')")
  done
  R[$key.p50_ms]="$(printf '%s\n' "${times[@]}" | sort -n | sed -n 10p)"
  R[$key.max_ms]="$(printf '%s\n' "${times[@]}" | sort -n | tail -1)"
  R[$key.rows]="$(first_cell "$(cat "$tmp/every_user.json")")"
  log "every user's rows: $key p50 ${R[$key.p50_ms]} ms, max ${R[$key.max_ms]} ms, ${R[$key.rows]} rows"
}

# Dies unless the response body is a success.
cluster_ok() {
  case "$1" in '{"status":"success"'*) ;; *) die "cluster: $2 failed: $1" ;; esac
}

suite_cluster() {
  mkdir -p "$tmp/cluster"
  local per=$(( cluster_clients / 3 )) i leader follower points_leader k
  [ "$per" -ge 1 ] || per=1

  # ---- one server (all subscriptions are root's: the per-user cap is lifted)
  local kalam_extra_config="[websocket]
max_subscriptions_per_user = 1000000"
  kalam_start cluster-single
  kalam_sql_ok "CREATE NAMESPACE bench; CREATE SHARED TABLE bench.messages ($columns); CREATE SHARED TABLE bench.points ($columns)" >/dev/null
  kalam_sql_ok "INSERT INTO bench.points SELECT range, 'room-' || (range % 500), 'author', repeat('x', 100), TIMESTAMP '2026-01-01' FROM range(10000)" >/dev/null
  log "cluster: the single server"
  run_wrk single.insert1 1 "$cluster_seconds" 1 BENCH_INSERT_ROWS=1 BENCH_ID_BASE=1
  run_wrk single.insertN "$cluster_clients" "$cluster_seconds" "$(gen_threads "$cluster_clients")" BENCH_INSERT_ROWS=1 BENCH_ID_BASE=100000000
  run_wrk single.point1 1 "$cluster_seconds" 1 BENCH_SQL="SELECT * FROM bench.points WHERE id = {r}" BENCH_RAND_MAX=10000
  run_wrk single.pointN "$cluster_clients" "$cluster_seconds" "$(gen_threads "$cluster_clients")" BENCH_SQL="SELECT * FROM bench.points WHERE id = {r}" BENCH_RAND_MAX=10000
  log "cluster: a Postgres wire transaction on the single server"
  cluster_tx single.tx "$kalam_pg_port"
  flush_wait single.flush kalam_sql
  log "cluster: every user's rows on the single server"
  every_user_load kalam_sql
  every_user_time single.every_user "$kalam_url"
  every_user_flush kalam_sql
  every_user_time single.every_user_cold "$kalam_url"
  kalam_sql_ok "$cluster_topic_sql" >/dev/null
  log "cluster: topics end to end on the single server ($cluster_topic_rate rows/s)"
  topics_run single.topic kalam-e2e port="${kalam_url##*:}" auth="$auth" topic=bench.stream \
    rate="$cluster_topic_rate" seconds="$cluster_seconds"
  kalam_sql_ok "CREATE SHARED TABLE bench.chat (id BIGINT PRIMARY KEY, room TEXT, author TEXT, body TEXT, created_at TIMESTAMP)" >/dev/null
  log "cluster: $cluster_sub_conns connections x $cluster_sub_subs subscriptions on the single server"
  cluster_subscribe single.subs "${kalam_url##*:}" "$kalam_pid" "$cluster_sub_conns"
  cluster_read_live single.subs
  kalam_stop

  # ---- three nodes
  log "cluster: starting a three-member etcd and three nodes"
  cluster_start_etcd
  for i in 0 1 2; do cluster_node_start "$i"; done
  cluster_wait_settled
  cluster_ok "$(cluster_sql 0 "CREATE NAMESPACE bench; CREATE SHARED TABLE bench.messages ($columns); CREATE SHARED TABLE bench.points ($columns); CREATE SHARED TABLE bench.m0 ($columns); CREATE SHARED TABLE bench.m1 ($columns); CREATE SHARED TABLE bench.m2 ($columns)")" "creating the tables"
  cluster_ok "$(cluster_sql 0 "INSERT INTO bench.points SELECT range, 'room-' || (range % 500), 'author', repeat('x', 100), TIMESTAMP '2026-01-01' FROM range(10000)")" "loading bench.points"
  leader="$(cluster_leader)" || die "cluster: no node takes writes to bench.messages"
  follower=$(( (leader + 1) % 3 ))
  R[cluster.leader]="$leader"
  log "cluster: node $leader leads bench.messages' shard; $(first_cell "$(cluster_sql 0 "SELECT count(DISTINCT leader) FROM system.shards")") node(s) lead the 32 shards"
  R[cluster.leaders]="$(first_cell "$(cluster_sql 0 "SELECT count(DISTINCT leader) FROM system.shards")")"
  run_wrk_on cluster.insert1.leader "$leader" 1 1 BENCH_INSERT_ROWS=1 BENCH_ID_BASE=1
  run_wrk_on cluster.insert1.forwarded "$follower" 1 1 BENCH_INSERT_ROWS=1 BENCH_ID_BASE=200000000
  # Point reads are made at bench.points' leader (read-your-writes through any node).
  points_leader="$(cluster_leader bench.points)" || die "cluster: no node takes writes to bench.points"
  run_wrk_on cluster.point1 "$(( (points_leader + 1) % 3 ))" 1 1 BENCH_SQL="SELECT * FROM bench.points WHERE id = {r}" BENCH_RAND_MAX=10000
  run_wrk_on cluster.point1.leader "$points_leader" 1 1 BENCH_SQL="SELECT * FROM bench.points WHERE id = {r}" BENCH_RAND_MAX=10000
  # A Postgres wire transaction at bench.points' leader, and begun through another node
  # (its UPDATE moves it to the leader: the SELECT runs again there, then the rest).
  log "cluster: a Postgres wire transaction at the leader of bench.points and through another node"
  cluster_tx cluster.tx.leader "${cluster_pg[$points_leader]}"
  cluster_tx cluster.tx.moved "${cluster_pg[$(( (points_leader + 1) % 3 ))]}"
  # The clients spread over the nodes, all at once.
  # (Waiting for these runs only: the nodes and etcd are children of this shell too.)
  local runs=()
  for i in 0 1 2; do
    run_wrk_on "cluster.insertN.$i" "$i" "$per" "$(gen_threads "$per")" BENCH_INSERT_ROWS=1 BENCH_TABLE="bench.m$i" BENCH_ID_BASE=$(( 300000000 + i * 100000000 )) &
    runs+=($!)
  done
  wait "${runs[@]}"
  runs=()
  for i in 0 1 2; do
    run_wrk_on "cluster.pointN.$i" "$i" "$per" "$(gen_threads "$per")" BENCH_SQL="SELECT * FROM bench.points WHERE id = {r}" BENCH_RAND_MAX=10000 &
    runs+=($!)
  done
  wait "${runs[@]}"
  # run_wrk ran in subshells: read their results back from the files they wrote.
  for k in cluster.insertN.0 cluster.insertN.1 cluster.insertN.2 cluster.pointN.0 cluster.pointN.1 cluster.pointN.2; do
    local line f
    line="$(grep '^BENCH_RESULT' "$tmp/$k.wrk.txt" 2>/dev/null | tail -1)"
    for f in $line; do case "$f" in *=*) R[$k.${f%%=*}]="${f#*=}" ;; esac; done
  done
  R[cluster.insertN.rps]="$(awk -v a="${R[cluster.insertN.0.rps]:-0}" -v b="${R[cluster.insertN.1.rps]:-0}" -v c="${R[cluster.insertN.2.rps]:-0}" 'BEGIN { printf "%.1f", a + b + c }')"
  R[cluster.pointN.rps]="$(awk -v a="${R[cluster.pointN.0.rps]:-0}" -v b="${R[cluster.pointN.1.rps]:-0}" -v c="${R[cluster.pointN.2.rps]:-0}" 'BEGIN { printf "%.1f", a + b + c }')"

  # A flush through node 0, whichever leads bench.cold's shard: the leader writes the
  # segment to the shared storage, every replica drops the rows through the shard's log.
  cluster_sql_0() { cluster_sql 0 "$1"; }
  flush_wait cluster.flush cluster_sql_0

  # ---- topics: producer and consumer through the node leading the source table's shard
  cluster_ok "$(cluster_sql 0 "$cluster_topic_sql")" "creating bench.stream"
  k="$(cluster_leader bench.events)" || die "cluster: no node takes writes to bench.events"
  log "cluster: topics end to end through node $k ($cluster_topic_rate rows/s)"
  topics_run cluster.topic kalam-e2e port="${cluster_http[$k]}" auth="$auth" topic=bench.stream \
    rate="$cluster_topic_rate" seconds="$cluster_seconds"

  # ---- subscriptions held: the same connections and subscriptions, a third on each node
  cluster_ok "$(cluster_sql 0 "CREATE SHARED TABLE bench.chat (id BIGINT PRIMARY KEY, room TEXT, author TEXT, body TEXT, created_at TIMESTAMP)")" "creating bench.chat"
  log "cluster: $cluster_sub_conns connections x $cluster_sub_subs subscriptions spread over the three nodes"
  runs=()
  for i in 0 1 2; do
    cluster_subscribe "cluster.subs.$i" "${cluster_http[$i]}" "${cluster_pids[$i]}" $(( cluster_sub_conns / 3 )) &
    runs+=($!)
  done
  wait "${runs[@]}"
  for i in 0 1 2; do cluster_read_live "cluster.subs.$i"; done

  # ---- failover
  local run t_kill t_back writer_node ok
  R[cluster.failovers]=""
  for run in $(seq "$cluster_failovers"); do
    leader="$(cluster_leader)" || die "cluster: no leader before failover $run"
    writer_node=$(( (leader + 1) % 3 ))
    log "cluster: failover $run: SIGKILL node $leader"
    t_kill="$(now_ms)"
    kill -9 "${cluster_pids[$leader]}"
    wait "${cluster_pids[$leader]}" 2>/dev/null
    cluster_pids[$leader]=0
    t_back=""
    for k in $(seq 1500); do
      ok="$(cluster_sql "$writer_node" "INSERT INTO bench.messages (id, room, author, body, created_at) VALUES ($(( 800000000 + run * 10000 + k )), 'r', 'a', 'failover', '2026-01-01 00:00:00')")"
      case "$ok" in '{"status":"success"'*) t_back="$(now_ms)"; break ;; esac
      sleep 0.02
    done
    if [ -n "$t_back" ]; then
      R[cluster.failovers]+="${R[cluster.failovers]:+ }$(( t_back - t_kill ))"
    else
      R[cluster.failovers]+="${R[cluster.failovers]:+ }none"
    fi
    cluster_node_start "$leader"
    cluster_wait_settled
  done

  # ---- live query latency: at the leader, at a follower, relayed by a node without a replica
  log "cluster: a fourth node joins drained (it holds no replica)"
  cluster_node_start 3
  # (Node 0 knows of the new node from its next heartbeat on.)
  local drained=""
  for _ in $(seq 100); do
    drained="$(cluster_sql 0 "CLUSTER DRAIN 'node-3'")"
    case "$drained" in '{"status":"success"'*) break ;; esac
    sleep 0.1
  done
  cluster_ok "$drained" "draining node-3"
  for _ in $(seq 600); do
    [ "$(first_cell "$(cluster_sql 0 "SELECT shards_held FROM system.cluster_nodes WHERE node_id = 'node-3'")")" = 0 ] && break
    sleep 0.2
  done
  cluster_wait_settled
  log "cluster: every user's rows through a node holding every shard and through the fourth"
  every_user_load cluster_sql_0
  every_user_time cluster.every_user.held "${cluster_urls[0]}"
  every_user_time cluster.every_user.gathered "${cluster_urls[3]}"
  every_user_flush cluster_sql_0
  every_user_time cluster.every_user_cold.held "${cluster_urls[0]}"
  every_user_time cluster.every_user_cold.gathered "${cluster_urls[3]}"
  k="$(cluster_leader bench.chat)" || die "cluster: no node takes writes to bench.chat"
  local token
  token="$(curl -sS -H 'Content-Type: application/json' -d "{\"username\":\"root\",\"password\":\"$password\"}" \
    "${cluster_urls[$k]}/v1/api/auth/login" | sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p')"
  local at
  for at in leader follower relayed; do
    case "$at" in
      leader) i="$k" ;;
      follower) i=$(( (k + 1) % 3 )) ;;
      relayed) i=3 ;;
    esac
    log "cluster: live query latency, subscriber $at (node $i), $cluster_live_n INSERTs at node $k"
    live_run "cluster.live.$at" kalam-latency port="${cluster_http[$i]}" sql_port="${cluster_http[$k]}" token="$token" \
      n="$cluster_live_n" warmup=100 base=$(( 900000000 + ${#at} * 1000000 )) body=22
  done
  cluster_stop_all
}

report_cluster() {
  local fails max=0 v
  echo
  echo "## Cluster mode: three nodes and a three-member etcd on this machine — $(date -u +%Y-%m-%d), $cores cores"
  echo
  echo "Replication factor 3, 32 shards; every node, etcd member and load generator shares the $cores cores. bench.messages is a SHARED table (one shard); ${R[cluster.leaders]:-?} node(s) led the 32 shards. The spread INSERTs go to three SHARED tables, one per node's clients."
  echo
  echo "| measurement | single server | cluster | cluster / single |"
  echo "|---|---|---|---|"
  echo "| INSERT 1 row, 1 client, p50 / p99 (leader) | $(ms "${R[single.insert1.p50_us]:-}") / $(ms "${R[single.insert1.p99_us]:-}") | $(ms "${R[cluster.insert1.leader.p50_us]:-}") / $(ms "${R[cluster.insert1.leader.p99_us]:-}") | |"
  echo "| INSERT 1 row, 1 client, p50 / p99 (through another node) | | $(ms "${R[cluster.insert1.forwarded.p50_us]:-}") / $(ms "${R[cluster.insert1.forwarded.p99_us]:-}") | |"
  echo "| INSERT 1 row, 1 client, rows/s (leader) | $(num "${R[single.insert1.rps]:-}") | $(num "${R[cluster.insert1.leader.rps]:-}") | $(ratio "${R[cluster.insert1.leader.rps]:-}" "${R[single.insert1.rps]:-}") |"
  echo "| INSERT 1 row, $cluster_clients clients, rows/s (cluster: spread over 3 nodes) | $(num "${R[single.insertN.rps]:-}") | $(num "${R[cluster.insertN.rps]:-}") | $(ratio "${R[cluster.insertN.rps]:-}" "${R[single.insertN.rps]:-}") |"
  echo "| point SELECT, 1 client, p50 (cluster: at the table's leader) | $(ms "${R[single.point1.p50_us]:-}") | $(ms "${R[cluster.point1.leader.p50_us]:-}") | |"
  echo "| point SELECT, 1 client, p50 (cluster: through a follower, sent on to the leader) | | $(ms "${R[cluster.point1.p50_us]:-}") | |"
  echo "| point SELECT, $cluster_clients clients, rows/s (cluster: spread over 3 nodes) | $(num "${R[single.pointN.rps]:-}") | $(num "${R[cluster.pointN.rps]:-}") | $(ratio "${R[cluster.pointN.rps]:-}" "${R[single.pointN.rps]:-}") |"
  echo "| topic end to end at $cluster_topic_rate rows/s, p50 / p99 (INSERT sent -> consumer has it; cluster: through the source's leader) | $(ms "${R[single.topic.e2e_p50_us]:-}") / $(ms "${R[single.topic.e2e_p99_us]:-}") | $(ms "${R[cluster.topic.e2e_p50_us]:-}") / $(ms "${R[cluster.topic.e2e_p99_us]:-}") | |"
  echo "| Postgres wire transaction (BEGIN; point SELECT; UPDATE of that row; COMMIT), 1 pgbench client, p50 / p99 (cluster: at the table's leader) | $(ms "${R[single.tx.p50_us]:-}") / $(ms "${R[single.tx.p99_us]:-}") | $(ms "${R[cluster.tx.leader.p50_us]:-}") / $(ms "${R[cluster.tx.leader.p99_us]:-}") | |"
  echo "| the same transaction, transactions/s (cluster: at the table's leader) | $(num "${R[single.tx.rps]:-}") | $(num "${R[cluster.tx.leader.rps]:-}") | $(ratio "${R[cluster.tx.leader.rps]:-}" "${R[single.tx.rps]:-}") |"
  echo "| the same transaction begun through another node (moved to the leader at its UPDATE), p50 / p99; transactions/s; failed | | $(ms "${R[cluster.tx.moved.p50_us]:-}") / $(ms "${R[cluster.tx.moved.p99_us]:-}"); $(num "${R[cluster.tx.moved.rps]:-}"); ${R[cluster.tx.moved.errors]:-?} | |"
  echo "| FLUSH TABLE of ${R[single.flush.rows]:-?} / ${R[cluster.flush.rows]:-?} rows (a SHARED table), statement to job completed | ${R[single.flush.ms]:-?} ms | ${R[cluster.flush.ms]:-?} ms | |"
  echo
  local held=0 slowest=0 per_sub=""
  for i in 0 1 2; do
    held=$(( held + ${R[cluster.subs.$i.acked]:-0} ))
    slowest="$(awk -v a="$slowest" -v b="${R[cluster.subs.$i.subscribe_s]:-0}" 'BEGIN { print (b > a ? b : a) }')"
    per_sub+="${per_sub:+ / }${R[cluster.subs.$i.per_sub_bytes]:-n/a}"
  done
  echo "Subscriptions held ($cluster_sub_conns connections x $cluster_sub_subs subscriptions to bench.chat; cluster: a third of the connections on each node, at once): single server ${R[single.subs.acked]:-0} acknowledged in ${R[single.subs.subscribe_s]:-n/a} s, ${R[single.subs.per_sub_bytes]:-n/a} bytes of RSS per subscription; cluster $held acknowledged, the slowest node in $slowest s, bytes per subscription on each node: $per_sub."
  echo
  echo "Failover (SIGKILL of the shard's leader → first INSERT taken again through another node, ms): ${R[cluster.failovers]:-none}"
  echo
  echo "Every user's rows (root's \`SELECT count(*), count(DISTINCT room)\` over a USER table of ${R[single.every_user.rows]:-?} / ${R[cluster.every_user.held.rows]:-?} / ${R[cluster.every_user.gathered.rows]:-?} hot rows of $cluster_ev_users users, p50 / max of 20, ms): single server ${R[single.every_user.p50_ms]:-n/a} / ${R[single.every_user.max_ms]:-n/a}; cluster, through a node holding every shard (each caught up with its leader first) ${R[cluster.every_user.held.p50_ms]:-n/a} / ${R[cluster.every_user.held.max_ms]:-n/a}; through a fourth node holding none (every row sent by the shards' leaders) ${R[cluster.every_user.gathered.p50_ms]:-n/a} / ${R[cluster.every_user.gathered.max_ms]:-n/a}. The same rows flushed (a Parquet segment per user, merged per user): single server ${R[single.every_user_cold.p50_ms]:-n/a} / ${R[single.every_user_cold.max_ms]:-n/a}; cluster, through a node holding every shard ${R[cluster.every_user_cold.held.p50_ms]:-n/a} / ${R[cluster.every_user_cold.held.max_ms]:-n/a}; through the fourth ${R[cluster.every_user_cold.gathered.p50_ms]:-n/a} / ${R[cluster.every_user_cold.gathered.max_ms]:-n/a}."
  echo
  echo "Live query latency ($cluster_live_n INSERTs one at a time at the leader of bench.chat's shard → change received, p50 / p99): subscriber at the leader $(ms "${R[cluster.live.leader.deliver_p50_us]:-}") / $(ms "${R[cluster.live.leader.deliver_p99_us]:-}"), at a follower $(ms "${R[cluster.live.follower.deliver_p50_us]:-}") / $(ms "${R[cluster.live.follower.deliver_p99_us]:-}"), at a fourth node holding no replica (relayed to the leader) $(ms "${R[cluster.live.relayed.deliver_p50_us]:-}") / $(ms "${R[cluster.live.relayed.deliver_p99_us]:-}")."
  echo
  fails=""
  for v in ${R[cluster.failovers]:-}; do
    if [ "$v" = none ]; then fails="a run never recovered"; else [ "$v" -gt "$max" ] && max="$v"; fi
  done
  echo "Aims: replicated INSERT p50 <= 2 ms at low load: $(awk -v p="${R[cluster.insert1.leader.p50_us]:-999999}" 'BEGIN { print (p <= 2000 ? "met" : "not met") }');" \
    "aggregate INSERT rate >= 0.5x the single server's: $(awk -v a="${R[cluster.insertN.rps]:-0}" -v b="${R[single.insertN.rps]:-1}" 'BEGIN { print (a >= 0.5 * b ? "met" : "not met") }');" \
    "failover <= 3 s: $( [ -z "$fails" ] && [ "$max" -le 3000 ] && echo met || echo "not met${fails:+ ($fails)}")."
}
