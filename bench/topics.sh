# Suite "topics" of bench/run.sh (sourced; `bench/topics.sh` alone runs `bench/run.sh topics`).
#
# Topics on KalamDB (a source table's INSERTs into a topic; POST /v1/api/topics/consume and
# /ack) against Redis 7 Streams (XADD, XREADGROUP, XACK) with `appendonly yes, appendfsync
# everysec`, KalamDB with sync_writes = false, driven by bench/topics_bench.cpp:
#   - end-to-end: a producer at BENCH_TOPICS_RATE rows/s (1,000) for BENCH_TOPICS_SECONDS
#     (10) and one consumer long-polling in a group, acknowledging each batch; latency =
#     INSERT (XADD) sent -> message received by the consumer.
#   - drain: BENCH_TOPICS_DRAIN messages (200,000) already in the topic, consumed and
#     acknowledged in batches of 100 by one consumer; messages/s.
#   - waiting consumers: BENCH_TOPICS_WAITERS (1,000) long polls waiting at once (a group
#     each): the server's CPU over 5 s of waiting, then one INSERT: until all have it.
#   - INSERT throughput into a table without sources (4 clients, 5 s), before any topic
#     exists and with topics sourcing another table: the commit path's added cost.

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  exec "$(cd "$(dirname "$0")" && pwd)/run.sh" topics "$@"
fi

topics_rate="${BENCH_TOPICS_RATE:-1000}"
topics_seconds="${BENCH_TOPICS_SECONDS:-10}"
topics_drain="${BENCH_TOPICS_DRAIN:-200000}"
topics_waiters="${BENCH_TOPICS_WAITERS:-1000}"

# topics_run KEY MODE [key=value ...]: runs the load generator, R[KEY.field] from its result.
topics_run() {
  local key="$1" mode="$2" out line f
  shift 2
  out="$("$tmp/topics_bench" "$mode" "$@" 2>&1)"
  echo "$out" >"$tmp/$key.topics.txt"
  line="$(grep '^TOPICS_RESULT' <<<"$out" | tail -1)"
  if [ -z "$line" ]; then
    log "topics_bench $mode failed:"; echo "$out" >&2
    errors_seen="$errors_seen $key(failed)"
    error_details="$error_details
- \`$key\`: $(grep -m1 '^TOPICS_ERROR' <<<"$out" | cut -c1-400)"
    return 0
  fi
  for f in ${line#TOPICS_RESULT }; do R[$key.${f%%=*}]="${f#*=}"; done
}

topics_create() {
  kalam_sql_ok "CREATE NAMESPACE bench; CREATE SHARED TABLE bench.events (id BIGINT PRIMARY KEY, room TEXT, author TEXT, body TEXT); CREATE SHARED TABLE bench.plain (id BIGINT PRIMARY KEY, body TEXT)" >/dev/null
}

topics_add() {
  kalam_sql_ok "CREATE TOPIC bench.$1; ALTER TOPIC bench.$1 ADD SOURCE bench.events ON INSERT" >/dev/null
}

need_topics() {
  trap 'redis_stop; cleanup' EXIT
  need_kalam
  command -v "$redis_bin" >/dev/null 2>&1 || die "redis-server not found (run bench/install-deps.sh)"
  command -v redis-cli >/dev/null 2>&1 || die "redis-cli not found (run bench/install-deps.sh)"
  command -v g++ >/dev/null 2>&1 || die "g++ not found (needed for bench/topics_bench.cpp)"
  log "topics: compiling bench/topics_bench.cpp"
  g++ -O2 -std=c++20 "$bench_dir/topics_bench.cpp" -o "$tmp/topics_bench" -lpthread \
    2>"$tmp/topics_bench.build.txt" \
    || { cat "$tmp/topics_bench.build.txt" >&2; die "cannot compile bench/topics_bench.cpp"; }
}

suite_topics() {
  R[topics.redis_version]="$("$redis_bin" --version | sed -n 's/.* v=\([^ ]*\).*/\1/p')"
  local port

  # --- INSERT throughput without topics, then with topics on another table
  kalam_start topics-insert false
  topics_create
  port="${kalam_url##*:}"
  log "topics: INSERT into a table without sources, no topic exists"
  topics_run topics_ins_none kalam-insert port="$port" auth="$auth" seconds=5 clients=4 base=0
  topics_add other1
  topics_add other2
  log "topics: INSERT into a table without sources, two topics source another table"
  topics_run topics_ins_topics kalam-insert port="$port" auth="$auth" seconds=5 clients=4 base=1000000000
  log "topics: INSERT into a table without sources, the topics dropped again (the noise)"
  kalam_sql_ok "DROP TOPIC bench.other1; DROP TOPIC bench.other2" >/dev/null
  topics_run topics_ins_none2 kalam-insert port="$port" auth="$auth" seconds=5 clients=4 base=2000000000
  kalam_stop

  # --- end-to-end latency
  kalam_start topics-e2e false
  topics_create
  topics_add stream
  log "topics: end-to-end, KalamDB ($topics_rate rows/s for $topics_seconds s)"
  topics_run topics_e2e_kalam kalam-e2e port="${kalam_url##*:}" auth="$auth" topic=bench.stream \
    rate="$topics_rate" seconds="$topics_seconds"
  ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null
  log "topics: $topics_waiters consumers waiting on KalamDB, then one INSERT"
  topics_run topics_waiters kalam-waiters port="${kalam_url##*:}" auth="$auth" topic=bench.stream \
    n="$topics_waiters" seconds=5 pid="$kalam_pid"
  kalam_stop
  local redis_extra_args="--appendonly yes --appendfsync everysec"
  redis_start topics-e2e
  redis-cli -p "$redis_port" XGROUP CREATE bench e2e '$' MKSTREAM >/dev/null
  log "topics: end-to-end, Redis Streams ($topics_rate entries/s for $topics_seconds s)"
  topics_run topics_e2e_redis redis-e2e port="$redis_port" rate="$topics_rate" seconds="$topics_seconds"
  redis_stop

  # --- drain
  kalam_start topics-drain false
  topics_create
  topics_add drain
  log "topics: filling the KalamDB topic with $topics_drain messages"
  local i
  for (( i = 0; i < topics_drain; i += 10000 )); do
    kalam_sql_ok "INSERT INTO bench.events SELECT range, 'r1', 'author-1', 'hello from the producer' FROM range($i, $(( i + 10000 )))" >/dev/null
  done
  log "topics: drain, KalamDB"
  topics_run topics_drain_kalam kalam-drain port="${kalam_url##*:}" auth="$auth" topic=bench.drain \
    n="$topics_drain" batch=100
  kalam_stop
  redis_start topics-drain
  topics_run topics_fill_redis redis-fill port="$redis_port" n="$topics_drain"
  log "topics: drain, Redis Streams"
  topics_run topics_drain_redis redis-drain port="$redis_port" n="$topics_drain" batch=100
  redis_stop
}

report_topics() {
  local k=topics_e2e_kalam r=topics_e2e_redis
  echo
  echo "## Topics (KalamDB sync_writes = false; Redis ${R[topics.redis_version]:-?} Streams, appendonly yes, appendfsync everysec)"
  echo
  echo "| measure | KalamDB | Redis Streams | ratio | aim |"
  echo "|---|---|---|---|---|"
  echo "| end-to-end p50 at $topics_rate msg/s (ms) | $(ms "${R[$k.e2e_p50_us]:-}") | $(ms "${R[$r.e2e_p50_us]:-}") | | ≤ 2 ms |"
  echo "| end-to-end p99 (ms) | $(ms "${R[$k.e2e_p99_us]:-}") | $(ms "${R[$r.e2e_p99_us]:-}") | | |"
  echo "| drain, batches of 100 + ack (msg/s) | $(num "${R[topics_drain_kalam.drain_per_s]:-}") | $(num "${R[topics_drain_redis.drain_per_s]:-}") | $(ratio "${R[topics_drain_kalam.drain_per_s]:-}" "${R[topics_drain_redis.drain_per_s]:-}") | ≥ 1.0× |"
  echo
  echo "Waiting consumers: ${R[topics_waiters.waiters]:-?} long polls waiting at once used $(awk -v c="${R[topics_waiters.cpu_waiting_s]:-0}" -v s="${R[topics_waiters.wait_seconds]:-1}" 'BEGIN { printf "%.1f", 100 * c / s }')% of a core while they waited (${R[topics_waiters.answered_early]:-?} answered before the INSERT); one INSERT then answered all of them in $(ms "${R[topics_waiters.wake_all_us]:-}") ms (${R[topics_waiters.with_message]:-?} with the message)."
  echo
  echo "| INSERT into a table without sources, 4 clients | rows/s | vs no topics |"
  echo "|---|---|---|"
  echo "| no topic | $(num "${R[topics_ins_none.inserts_per_s]:-}") | |"
  echo "| two topics on another table | $(num "${R[topics_ins_topics.inserts_per_s]:-}") | $(ratio "${R[topics_ins_topics.inserts_per_s]:-}" "${R[topics_ins_none.inserts_per_s]:-}") |"
  echo "| no topic again (noise) | $(num "${R[topics_ins_none2.inserts_per_s]:-}") | $(ratio "${R[topics_ins_none2.inserts_per_s]:-}" "${R[topics_ins_none.inserts_per_s]:-}") |"
}
