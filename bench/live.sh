# Suite "live" of bench/run.sh (sourced; `bench/live.sh` alone runs `bench/run.sh live`).
#
# Live queries on KalamDB (WebSocket /v1/ws, SHARED table bench.chat) against Redis 7 pub/sub,
# measured with bench/live_bench.cpp (Boost.Beast/Asio, compiled here), all on 127.0.0.1:
#   - latency: one subscriber on an idle server; an HTTP client inserts one row at a time
#     (Redis: PUBLISH r1 on a second connection), the next once the change has arrived;
#     latency = INSERT sent -> change message received.
#   - fan-out: 1,000 connections x 10 subscriptions matching every row; one single-row INSERT
#     per round (Redis: each connection SUBSCRIBEs fan0..fan9, a round is a pipelined batch
#     of PUBLISH fan0..fan9), the next round once all 10,000 messages are in.
#   - set-up: 1,000 connections, then 100 subscriptions sent on each at once, until every
#     acknowledgement is in; server VmRSS before/after gives memory per idle connection and
#     per idle subscription (a fresh server for this, and a fresh Redis).

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  exec "$(cd "$(dirname "$0")" && pwd)/run.sh" live "$@"
fi

live_conns="${BENCH_LIVE_CONNS:-1000}"
live_fan_subs="${BENCH_LIVE_FAN_SUBS:-10}"
live_setup_subs="${BENCH_LIVE_SETUP_SUBS:-100}"
live_mem_subs="${BENCH_LIVE_MEM_SUBS:-10}"       # per connection, for the memory figures
live_latency_n="${BENCH_LIVE_LATENCY_N:-3000}"
live_rounds="${BENCH_LIVE_ROUNDS:-100}"
live_setup_timeout="${BENCH_LIVE_SETUP_TIMEOUT:-60}"   # seconds to wait for the acknowledgements
live_body="${BENCH_LIVE_BODY:-22}"   # 'x' bytes in the body: a ~150-byte row object
redis_bin="${REDIS_SERVER:-redis-server}"
redis_pid=""
redis_port=""

# An access token for root (POST /v1/api/auth/login).
kalam_token() {
  local body
  body="$(curl -sS -H 'Content-Type: application/json' \
    -d "{\"username\":\"root\",\"password\":\"$password\"}" "$kalam_url/v1/api/auth/login")"
  sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p' <<<"$body"
}

redis_stop() {
  if [ -n "$redis_pid" ] && kill -0 "$redis_pid" 2>/dev/null; then
    kill "$redis_pid" 2>/dev/null
    for _ in $(seq 50); do kill -0 "$redis_pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$redis_pid" 2>/dev/null
    wait "$redis_pid" 2>/dev/null
  fi
  redis_pid=""
}

# redis_start NAME: a fresh redis-server on a free loopback port, no persistence (unless
# redis_extra_args, a suite's own directives, say otherwise: later ones win).
redis_start() {
  redis_stop
  redis_port="$(free_port)" || die "no free port"
  mkdir -p "$tmp/redis-$1"
  log "starting redis-server ($1) on 127.0.0.1:$redis_port"
  "$redis_bin" --bind 127.0.0.1 --port "$redis_port" --save '' --appendonly no \
    --dir "$tmp/redis-$1" --maxclients 20000 --protected-mode no ${redis_extra_args:-} \
    >"$tmp/redis-$1/server.log" 2>&1 &
  redis_pid=$!
  for _ in $(seq 100); do
    [ "$(redis-cli -p "$redis_port" ping 2>/dev/null)" = PONG ] && return 0
    kill -0 "$redis_pid" 2>/dev/null || break
    sleep 0.1
  done
  cat "$tmp/redis-$1/server.log" >&2
  die "redis-server did not come up"
}

# live_run KEY MODE [key=value ...]: runs the load generator, R[KEY.field] from LIVE_RESULT.
live_run() {
  local key="$1" mode="$2" out line f
  shift 2
  out="$("$tmp/live_bench" "$mode" "$@" 2>&1)"
  echo "$out" >"$tmp/$key.live.txt"
  line="$(grep '^LIVE_RESULT' <<<"$out" | tail -1)"
  if [ -z "$line" ]; then
    log "live_bench $mode failed:"; echo "$out" >&2
    errors_seen="$errors_seen $key(failed)"
    error_details="$error_details
- \`$key\`: $(grep -m1 '^LIVE_ERROR' <<<"$out" | cut -c1-400)"
    return 0
  fi
  for f in $line; do
    case "$f" in *=*) R[$key.${f%%=*}]="${f#*=}" ;; esac
  done
  if [ "${R[$key.errors]:-0}" != 0 ] || [ "${R[$key.timeouts]:-0}" != 0 ]; then
    errors_seen="$errors_seen $key(errors=${R[$key.errors]:-0},timeouts=${R[$key.timeouts]:-0})"
    f="$(sed -n 's/^LIVE_FIRST_ERROR //p' <<<"$out" | head -1)"
    [ -n "$f" ] && error_details="$error_details
- \`$key\`: first error: \`$f\`"
  fi
}

# The server log's warnings and errors (what a run provoked), for the report.
live_server_log() { # NAME
  local file="$kalam_dir/server.log" n
  [ -f "$file" ] || return 0
  n="$(grep -ciE 'warn|error|critical' "$file")"
  R[live.log_$1]="$n"
  if [ "$n" != 0 ]; then
    R[live.log_$1_first]="$(grep -iE -m1 'warn|error|critical' "$file" | cut -c1-300)"
  fi
  cp "$file" "$tmp/$1.server.log" 2>/dev/null
}

live_create_table() {
  kalam_sql_ok "CREATE NAMESPACE bench" >/dev/null
  kalam_sql_ok "CREATE SHARED TABLE bench.chat (id BIGINT PRIMARY KEY, room TEXT, author TEXT, body TEXT, created_at TIMESTAMP)" >/dev/null
}

need_live() {
  trap 'redis_stop; cleanup' EXIT
  need_kalam
  command -v "$redis_bin" >/dev/null 2>&1 || die "redis-server not found (run bench/install-deps.sh)"
  command -v redis-cli >/dev/null 2>&1 || die "redis-cli not found (run bench/install-deps.sh)"
  command -v g++ >/dev/null 2>&1 || die "g++ not found (needed for bench/live_bench.cpp)"
  [ -f /usr/include/boost/beast.hpp ] || die "Boost.Beast headers not found (libboost-dev)"
  # 1,000 connections on each side of each test; the server and Redis inherit this.
  ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null
  R[live.nofile]="$(ulimit -n)"
  [ "${R[live.nofile]}" -ge $(( live_conns * 2 + 100 )) ] \
    || die "open files limit $(ulimit -n) is too low for $live_conns connections"

  log "live: compiling bench/live_bench.cpp"
  g++ -O2 -std=c++20 "$bench_dir/live_bench.cpp" -o "$tmp/live_bench" -lpthread \
    2>"$tmp/live_bench.build.txt" \
    || { cat "$tmp/live_bench.build.txt" >&2; die "cannot compile bench/live_bench.cpp"; }
}

suite_live() {
  R[live.redis_version]="$("$redis_bin" --version | sed -n 's/.* v=\([^ ]*\).*/\1/p')"

  # All subscriptions are root's: lift the per-user cap (default 1000) above the test's
  # 100,000; the per-connection cap stays at its default (100).
  local kalam_extra_config="[websocket]
max_subscriptions_per_user = 1000000"

  # --- latency and fan-out: one server, one Redis
  kalam_start live
  live_create_table
  local token
  token="$(kalam_token)"
  [ -n "$token" ] || die "KalamDB: login as root failed"
  redis_start live

  log "live: single-subscriber latency, KalamDB ($live_latency_n inserts after 300 warm-up)"
  live_run live_lat_kalam kalam-latency port="${kalam_url##*:}" token="$token" \
    n="$live_latency_n" warmup=300 base=1000000 body="$live_body"
  log "live: single-subscriber latency, Redis ($live_latency_n publishes after 300 warm-up)"
  live_run live_lat_redis redis-latency port="$redis_port" n="$live_latency_n" warmup=300 \
    base=1000000 body="$live_body"

  log "live: fan-out, KalamDB ($live_conns connections x $live_fan_subs subscriptions, $live_rounds rounds)"
  live_run live_fan_kalam kalam-fanout port="${kalam_url##*:}" token="$token" \
    conns="$live_conns" subs="$live_fan_subs" rounds="$live_rounds" warmup=10 base=2000000 \
    body="$live_body" window=1 pid="$kalam_pid"
  log "live: fan-out, Redis ($live_conns connections x $live_fan_subs channels, $live_rounds rounds)"
  live_run live_fan_redis redis-fanout port="$redis_port" \
    conns="$live_conns" subs="$live_fan_subs" rounds="$live_rounds" warmup=10 base=2000000 \
    body="$live_body" window=1 pid="$redis_pid"
  kill -0 "$kalam_pid" 2>/dev/null || errors_seen="$errors_seen kalamdb-server-exited(live)"
  live_server_log live
  kalam_stop

  # --- memory (a set-up that completes: live_mem_subs per connection) and set-up time
  # (live_setup_subs per connection), each on a fresh server
  # (setup0: the same on an empty table, KalamDB only: a snapshot reads the table's rows.)
  local run subs
  for run in mem setup setup0; do
    subs="$live_setup_subs"
    [ "$run" = mem ] && subs="$live_mem_subs"
    kalam_start "live-$run"
    live_create_table
    [ "$run" = setup0 ] || kalam_sql_ok "INSERT INTO bench.chat SELECT range, 'room-' || (range % 10), 'author-1', repeat('x', $live_body), TIMESTAMP '2026-01-01 00:00:00' FROM range(1000)" >/dev/null
    token="$(kalam_token)"
    [ -n "$token" ] || die "KalamDB: login as root failed"
    log "live: $run: $live_conns connections x $subs subscriptions, KalamDB"
    live_run "live_${run}_kalam" kalam-setup port="${kalam_url##*:}" token="$token" \
      conns="$live_conns" subs="$subs" pid="$kalam_pid" timeout="$live_setup_timeout"
    kill -0 "$kalam_pid" 2>/dev/null || errors_seen="$errors_seen kalamdb-server-exited(live-$run)"
    live_server_log "live_$run"
    kalam_stop
    [ "$run" = setup0 ] && continue
    redis_start "live-$run"
    log "live: $run: $live_conns connections x $subs subscriptions, Redis"
    live_run "live_${run}_redis" redis-setup port="$redis_port" conns="$live_conns" \
      subs="$subs" pid="$redis_pid" timeout="$live_setup_timeout"
    redis_stop
  done
}

report_live() {
  local k=live_lat_kalam r=live_lat_redis fk=live_fan_kalam fr=live_fan_redis
  local sk=live_setup_kalam sr=live_setup_redis mk=live_mem_kalam mr=live_mem_redis
  local total=$(( live_conns * live_setup_subs ))
  kb() { [ -n "${1:-}" ] && awk -v v="$1" 'BEGIN { printf "%.2f", v / 1024 }' || printf 'n/a'; }
  mb() { [ -n "${1:-}" ] && awk -v v="$1" 'BEGIN { printf "%.0f", v / 1024 }' || printf 'n/a'; }
  secs() { [ -n "${1:-}" ] && awk -v v="$1" 'BEGIN { printf "%.2f", v }' || printf 'n/a'; }
  cores_busy() { [ -n "${1:-}" ] && [ -n "${2:-}" ] && awk -v c="$1" -v t="$2" 'BEGIN { if (t > 0 && c >= 0) printf "%.2f", c / t; else printf "n/a" }' || printf 'n/a'; }
  # set-up time: the seconds, or "> timeout (N of M)" when not every acknowledgement came.
  setup_time() { # KEY
    if [ -z "${R[$1.subscribe_s]:-}" ]; then printf 'n/a'
    elif [ "${R[$1.complete]:-0}" = 1 ]; then secs "${R[$1.subscribe_s]}"
    else printf '> %s (%s of %s acknowledged)' "$(secs "${R[$1.subscribe_s]}")" "${R[$1.acked]:-?}" "$total"
    fi
  }
  in_3s() { # KEY: acknowledged within 3 s
    if [ -z "${R[$1.subscribe_s]:-}" ]; then printf 'n/a'
    elif [ -n "${R[$1.acked_3s]:-}" ]; then printf '%s' "${R[$1.acked_3s]}"
    else printf '%s (all)' "${R[$1.acked]:-?}"
    fi
  }
  rss_line() { # KEY
    printf '%s / %s / %s / %s' "$(mb "${R[$1.rss0_kb]:-}")" "$(mb "${R[$1.rss_conns_kb]:-}")" \
      "$(mb "${R[$1.rss_subs_kb]:-}")" "$(mb "${R[$1.rss_closed_kb]:-}")"
  }
  row3() { # label kalam redis [ratio-a ratio-b]
    printf '| %s | %s | %s | %s |\n' "$1" "$2" "$3" "$( [ $# -ge 5 ] && ratio "$4" "$5" )"
  }
  echo
  echo "## Live queries: KalamDB vs Redis ${R[live.redis_version]:-7} pub/sub — $(date -u +%Y-%m-%d), $cores cores"
  echo
  echo "| test | KalamDB | Redis | KalamDB/Redis |"
  echo "|---|---:|---:|---:|"
  row3 "1 subscriber: delivery p50 ms" "$(ms "${R[$k.deliver_p50_us]:-}")" "$(ms "${R[$r.deliver_p50_us]:-}")" "${R[$k.deliver_p50_us]:-}" "${R[$r.deliver_p50_us]:-}"
  row3 "1 subscriber: delivery p99 ms" "$(ms "${R[$k.deliver_p99_us]:-}")" "$(ms "${R[$r.deliver_p99_us]:-}")" "${R[$k.deliver_p99_us]:-}" "${R[$r.deliver_p99_us]:-}"
  row3 "1 subscriber: delivery p99.9 / max ms" "$(ms "${R[$k.deliver_p999_us]:-}") / $(ms "${R[$k.deliver_max_us]:-}")" "$(ms "${R[$r.deliver_p999_us]:-}") / $(ms "${R[$r.deliver_max_us]:-}")"
  row3 "1 subscriber: INSERT / PUBLISH answered, p50 ms" "$(ms "${R[$k.ack_p50_us]:-}")" "$(ms "${R[$r.ack_p50_us]:-}")" "${R[$k.ack_p50_us]:-}" "${R[$r.ack_p50_us]:-}"
  row3 "fan-out to $(( live_conns * live_fan_subs )) subscriptions: delivered messages/s" "$(num "${R[$fk.rows_per_s]:-}")" "$(num "${R[$fr.rows_per_s]:-}")" "${R[$fk.rows_per_s]:-}" "${R[$fr.rows_per_s]:-}"
  row3 "fan-out: delivery p50 ms" "$(ms "${R[$fk.lat_p50_us]:-}")" "$(ms "${R[$fr.lat_p50_us]:-}")" "${R[$fk.lat_p50_us]:-}" "${R[$fr.lat_p50_us]:-}"
  row3 "fan-out: delivery p99 ms" "$(ms "${R[$fk.lat_p99_us]:-}")" "$(ms "${R[$fr.lat_p99_us]:-}")" "${R[$fk.lat_p99_us]:-}" "${R[$fr.lat_p99_us]:-}"
  row3 "fan-out: server / load generator CPU, cores busy" \
    "$(cores_busy "${R[$fk.server_cpu_s]:-}" "${R[$fk.seconds]:-}") / $(cores_busy "${R[$fk.client_cpu_s]:-}" "${R[$fk.seconds]:-}")" \
    "$(cores_busy "${R[$fr.server_cpu_s]:-}" "${R[$fr.seconds]:-}") / $(cores_busy "${R[$fr.client_cpu_s]:-}" "${R[$fr.seconds]:-}")"
  row3 "fan-out: subscribing $(( live_conns * live_fan_subs )) ($live_fan_subs per connection), s" "$(secs "${R[$fk.subscribe_s]:-}")" "$(secs "${R[$fr.subscribe_s]:-}")"
  row3 "set-up: opening $live_conns connections, s" "$(secs "${R[$sk.open_s]:-}")" "$(secs "${R[$sr.open_s]:-}")"
  row3 "set-up: $total subscriptions ($live_setup_subs per connection, sent at once) until all acknowledged, s" "$(setup_time "$sk")" "$(setup_time "$sr")"
  row3 "set-up: subscriptions acknowledged within 3 s" "$(in_3s "$sk")" "$(in_3s "$sr")"
  row3 "set-up as above on an empty table, s" "$(setup_time live_setup0_kalam)" ""
  row3 "set-up on an empty table: acknowledged within 3 s" "$(in_3s live_setup0_kalam)" ""
  row3 "memory per idle connection, KiB" "$(kb "${R[$mk.per_conn_bytes]:-}")" "$(kb "${R[$mr.per_conn_bytes]:-}")" "${R[$mk.per_conn_bytes]:-}" "${R[$mr.per_conn_bytes]:-}"
  row3 "memory per idle subscription, KiB" "$(kb "${R[$mk.per_sub_bytes]:-}")" "$(kb "${R[$mr.per_sub_bytes]:-}")" "${R[$mk.per_sub_bytes]:-}" "${R[$mr.per_sub_bytes]:-}"
  row3 "server RSS MiB ($(( live_conns * live_mem_subs )) subscriptions): start / +connections / +subscriptions / all closed" "$(rss_line "$mk")" "$(rss_line "$mr")"
  row3 "server RSS MiB ($total subscriptions asked for): start / +connections / +subscriptions / all closed" "$(rss_line "$sk")" "$(rss_line "$sr")"
  echo
  echo "Payload: the row object KalamDB sends is ${R[$k.row_bytes]:-?} bytes (the change message"
  echo "${R[$k.change_bytes]:-?} bytes); Redis publishes the same ${R[$r.row_bytes]:-?}-byte object. Latency: from writing"
  echo "the INSERT (HTTP keep-alive, Bearer token) / PUBLISH to reading the message; ${live_latency_n} samples after"
  echo "300 warm-up, one at a time. Fan-out: ${live_rounds} rounds after 10 warm-up, one round in flight, the"
  echo "table holding the $(( live_latency_n + 300 )) rows of the latency test (none in the fan-out room);"
  echo "messages/s = messages received / time; KalamDB gets one INSERT per round, Redis ${live_fan_subs} pipelined"
  echo "PUBLISHes (one per channel). Set-up: every connection sends its subscriptions in one write;"
  echo "each on a fresh server (KalamDB's table holds 1,000 rows, none in the subscribed rooms: each"
  echo "acknowledgement is the ack alone; once more on an empty table); the load generator gives up"
  echo "after ${live_setup_timeout} s. Memory:"
  echo "VmRSS growth / count, 2 s after each phase, from a run with $live_mem_subs subscriptions per connection"
  echo "(${R[$mk.subs_held]:-?} held on KalamDB; that run completes, so the server is idle when measured)."
  echo "KalamDB runs with \`[websocket] max_subscriptions_per_user = 1000000\` (all subscriptions are root's)."
  if [ -n "${R[$sk.live_queries_after_close]:-}" ]; then
    echo "After the load generator closed its $live_conns connections, \`system.live_queries\` held"
    echo "${R[$sk.live_queries_after_close]} rows $(secs "${R[$sk.drain_s]:-}") s later."
  fi
  local n
  for n in live live_mem live_setup live_setup0; do
    if [ -n "${R[live.log_$n]:-}" ]; then
      echo "Server log ($n): ${R[live.log_$n]} warning/error line(s)${R[live.log_${n}_first]:+; first: \`${R[live.log_${n}_first]}\`}."
    fi
  done
  echo
  local v w
  v="${R[$k.deliver_p50_us]:-}"; w="${R[$k.deliver_p99_us]:-}"
  if [ -n "$v" ] && [ -n "$w" ]; then
    awk -v a="$v" -v b="$w" 'BEGIN { printf "aim: single subscriber p50 <= 1 ms and p99 <= 5 ms: %s (p50 %.3f ms, p99 %.3f ms)\n", (a <= 1000 && b <= 5000 ? "met" : "NOT met"), a / 1000, b / 1000 }'
  fi
  v="${R[$fk.rows_per_s]:-}"; w="${R[$fr.rows_per_s]:-}"
  if [ -n "$v" ] && [ -n "$w" ]; then
    awk -v a="$v" -v b="$w" 'BEGIN { r = a / b; printf "aim: fan-out >= 0.5x Redis delivered messages/s: %s (%.0f vs %.0f/s = %.2fx)\n", (r >= 0.5 ? "met" : "NOT met"), a, b, r }'
  fi
  v="${R[$sk.subscribe_s]:-}"
  if [ -n "$v" ]; then
    awk -v a="$v" -v c="${R[$sk.complete]:-0}" -v n="$total" -v got="${R[$sk.acked]:-0}" 'BEGIN {
      if (c == 1) printf "aim: %d subscriptions acknowledged in <= 3 s: %s (%.2f s)\n", n, (a <= 3 ? "met" : "NOT met"), a;
      else printf "aim: %d subscriptions acknowledged in <= 3 s: NOT met (%d acknowledged after %.0f s)\n", n, got, a }'
    v="${R[live_setup0_kalam.subscribe_s]:-}"
    [ -n "$v" ] && awk -v a="$v" -v c="${R[live_setup0_kalam.complete]:-0}" -v got="${R[live_setup0_kalam.acked]:-0}" 'BEGIN {
      if (c == 1) printf "     (on an empty table: %.2f s, %s)\n", a, (a <= 3 ? "within the aim" : "still over it");
      else printf "     (on an empty table: %d acknowledged after %.0f s)\n", got, a }'
  fi
  v="${R[$mk.per_sub_bytes]:-}"
  if [ -n "$v" ]; then
    awk -v a="$v" 'BEGIN { printf "aim: <= 1 KB per idle subscription: %s (%.2f KiB)\n", (a <= 1024 ? "met" : "NOT met"), a / 1024 }'
  fi
  v="${R[$mk.per_conn_bytes]:-}"
  if [ -n "$v" ]; then
    awk -v a="$v" 'BEGIN { printf "aim: <= 8 KB per idle connection: %s (%.2f KiB)\n", (a <= 8192 ? "met" : "NOT met"), a / 1024 }'
  fi
}
