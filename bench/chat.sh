# Suite "chat" of bench/run.sh (sourced; `bench/chat.sh` alone runs `bench/run.sh chat`).
#
# A chat on KalamDB, driven by bench/chat_bench.cpp (Boost.Asio; WebSocket by hand), all on
# 127.0.0.1, on one throw-away server:
#   - users chat0..chatN-1 (role user, created by root), BENCH_CHAT_ROOM_SIZE (10) to a
#     room; each holds one WebSocket connection (Basic credentials on the upgrade) with two
#     subscriptions: its room of the SHARED table chat.messages (ACCESS_LEVEL public) and
#     its own rows of the USER table chat.inbox.
#   - senders (BENCH_CHAT_SENDERS HTTP keep-alive connections, as root) INSERT messages at
#     BENCH_CHAT_RATE (500) per second over the rooms; one in BENCH_CHAT_INBOX_EVERY (4)
#     also notifies one member through `EXECUTE AS USER` into chat.inbox, in the same
#     request. A message carries its send time; latency = sent -> each member has it.
#   - memory: BENCH_CHAT_MEM_CONNS (10,000) connections held idle with their two
#     subscriptions each on the fresh server: VmRSS growth per connection.
#   - load: BENCH_CHAT_CONNS ("1000 5000 10000") connections in turn, BENCH_CHAT_SECONDS
#     (10) at the rate: delivery p50/p99/max, deliveries/s, lost and duplicated deliveries.
#   - rate search at BENCH_CHAT_SEARCH_CONNS (1000): the rate doubled from 250 while
#     delivery p99 <= 50 ms with nothing lost and the senders on time, then bisected 3
#     times; BENCH_CHAT_SEARCH_SECONDS (4) a step. The highest rate that held.
#   - BENCH_CHAT_PERF=FILE: `perf record -g` of the server into FILE over one more run at
#     the largest count (reported apart).
# Lost, duplicated or misrouted deliveries in the load runs, or none at all, fail the run
# (exit 2) after the report.

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  exec "$(cd "$(dirname "$0")" && pwd)/run.sh" chat "$@"
fi

chat_conns="${BENCH_CHAT_CONNS:-1000 5000 10000}"
chat_room_size="${BENCH_CHAT_ROOM_SIZE:-10}"
chat_rate="${BENCH_CHAT_RATE:-500}"
chat_seconds="${BENCH_CHAT_SECONDS:-10}"
chat_mem_conns="${BENCH_CHAT_MEM_CONNS:-10000}"
chat_search_conns="${BENCH_CHAT_SEARCH_CONNS:-1000}"
chat_search_seconds="${BENCH_CHAT_SEARCH_SECONDS:-4}"
chat_senders="${BENCH_CHAT_SENDERS:-8}"
chat_inbox_every="${BENCH_CHAT_INBOX_EVERY:-4}"
chat_perf="${BENCH_CHAT_PERF:-}"
chat_keys=()          # the R prefixes of the load runs, in order
chat_search_keys=()   # the same of the search steps

# chat_users N: users chat0..chatN-1, 500 to a request, two requests at a time.
chat_users() {
  local n="$1" i j sql pids=() out
  for (( i = 0; i < n; i += 500 )); do
    sql=""
    for (( j = i; j < i + 500 && j < n; j++ )); do
      sql="$sql CREATE USER 'chat$j' WITH PASSWORD 'chat-password-$j' ROLE user;"
    done
    kalam_sql "$sql" >"$tmp/chat-users-$i.json" &
    pids+=($!)
    if [ ${#pids[@]} -ge 2 ]; then wait "${pids[@]}"; pids=(); fi
  done
  [ ${#pids[@]} -eq 0 ] || wait "${pids[@]}"  # (a bare `wait` would wait for the server too)
  for out in "$tmp"/chat-users-*.json; do
    case "$(cat "$out")" in
      '{"status":"success"'*) ;;
      *) die "KalamDB: CREATE USER failed: $(cut -c1-300 "$out")" ;;
    esac
  done
}

# chat_collect OUTPUT: R[chat_<phase>_<conns>.field] from each CHAT_RESULT line (search
# steps: chat_search_<i>).
chat_collect() {
  local line key f phase conns i=0
  while read -r line; do
    phase="$(sed -n 's/.* phase=\([a-z_]*\).*/\1/p' <<<"$line")"
    conns="$(sed -n 's/.* conns=\([0-9]*\).*/\1/p' <<<"$line")"
    case "$phase" in
      search) key="chat_search_$i"; i=$(( i + 1 )); chat_search_keys+=("$key") ;;
      load) key="chat_load_$conns"; chat_keys+=("$key") ;;
      *) key="chat_${phase}_${conns}" ;;
    esac
    for f in ${line#CHAT_RESULT }; do R[$key.${f%%=*}]="${f#*=}"; done
  done < <(grep '^CHAT_RESULT' <<<"$1")
}

# The largest connection count of the run.
chat_most() {
  local c most="$chat_mem_conns"
  for c in $chat_conns; do [ "$c" -gt "$most" ] && most="$c"; done
  echo "$most"
}

need_chat() {
  need_kalam
  command -v g++ >/dev/null 2>&1 || die "g++ not found (needed for bench/chat_bench.cpp)"
  [ -f /usr/include/boost/beast.hpp ] || die "Boost.Beast headers not found (libboost-dev)"
  local most
  most="$(chat_most)"
  ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null
  R[chat.nofile]="$(ulimit -n)"
  [ "${R[chat.nofile]}" -ge $(( most + 200 )) ] \
    || die "open files limit $(ulimit -n) is too low for $most connections"

  log "chat: compiling bench/chat_bench.cpp"
  # BENCH_CXX: the compiler command (e.g. under a lock shared with other builds).
  ${BENCH_CXX:-g++} -O2 -std=c++20 "$bench_dir/chat_bench.cpp" -o "$tmp/chat_bench" -lpthread \
    2>"$tmp/chat_bench.build.txt" \
    || { cat "$tmp/chat_bench.build.txt" >&2; die "cannot compile bench/chat_bench.cpp"; }
}

suite_chat() {
  local most
  most="$(chat_most)"

  # Every connection is a user of its own: the cap on open connections (default 10,000)
  # must leave room for the senders and the script's own requests.
  local kalam_extra_config="[server]
max_connections = $(( most + 1000 ))"
  kalam_start chat
  kalam_sql_ok "CREATE NAMESPACE chat; CREATE SHARED TABLE chat.messages (id BIGINT PRIMARY KEY, room_id TEXT NOT NULL, sender TEXT, body TEXT, sent_at BIGINT) WITH (ACCESS_LEVEL = 'public'); CREATE USER TABLE chat.inbox (id BIGINT PRIMARY KEY, message_id BIGINT, room_id TEXT, sender TEXT, sent_at BIGINT)" >/dev/null
  log "chat: creating $most users"
  local t0=$SECONDS
  chat_users "$most"
  R[chat.users_s]=$(( SECONDS - t0 ))
  R[chat.load_before]="$(cut -d' ' -f1-3 /proc/loadavg)"

  local steps="${chat_conns// /,}" perf_args=()
  [ -n "$chat_perf" ] && perf_args=(perf_out="$chat_perf")
  log "chat: $chat_mem_conns idle connections, then $chat_conns connections at $chat_rate messages/s for $chat_seconds s each, the rate search at $chat_search_conns"
  local out
  out="$("$tmp/chat_bench" run port="${kalam_url##*:}" auth="$auth" pid="$kalam_pid" \
    room_size="$chat_room_size" mem_conns="$chat_mem_conns" steps="$steps" rate="$chat_rate" \
    seconds="$chat_seconds" senders="$chat_senders" inbox_every="$chat_inbox_every" \
    search_conns="$chat_search_conns" search_seconds="$chat_search_seconds" "${perf_args[@]}" 2>&1)"
  echo "$out" >"$tmp/chat.out.txt"
  R[chat.load_after]="$(cut -d' ' -f1-3 /proc/loadavg)"
  chat_collect "$out"
  kill -0 "$kalam_pid" 2>/dev/null || errors_seen="$errors_seen kalamdb-server-exited(chat)"
  live_server_log chat
  kalam_stop

  if grep -q '^CHAT_ERROR' <<<"$out"; then
    errors_seen="$errors_seen chat(failed)"
    error_details="$error_details
- \`chat\`: $(grep -m1 '^CHAT_ERROR' <<<"$out" | cut -c1-400)"
    sanity_failures="$sanity_failures chat: the load generator failed;"
  fi
  local k
  for k in "${chat_keys[@]}"; do
    [ "${R[$k.delivered]:-0}" -gt 0 ] || sanity_failures="$sanity_failures $k: nothing delivered;"
    local bad=$(( ${R[$k.lost]:-0} + ${R[$k.dups]:-0} + ${R[$k.inbox_lost]:-0} + ${R[$k.inbox_dups]:-0} + ${R[$k.stray]:-0} ))
    [ "$bad" = 0 ] || sanity_failures="$sanity_failures $k: lost ${R[$k.lost]}, duplicated ${R[$k.dups]}, inbox lost ${R[$k.inbox_lost]}, inbox duplicated ${R[$k.inbox_dups]}, misrouted ${R[$k.stray]};"
  done
  [ ${#chat_keys[@]} -gt 0 ] || sanity_failures="$sanity_failures chat: no load run finished;"
}

# chat_open_secs CONNS: seconds to connect / subscribe the connections added for CONNS, or
# a note when they were all open already (kept from the memory phase).
chat_open_secs() {
  local o="${R[chat_open_$1.open_s]:-}" s="${R[chat_open_$1.subscribe_s]:-}"
  if [ "$o" = 0 ] && [ "$s" = 0 ]; then printf 'kept open'
  else printf '%s / %s' "$(secs "$o")" "$(secs "$s")"
  fi
}

report_chat() {
  local k
  secs() { [ -n "${1:-}" ] && awk -v v="$1" 'BEGIN { printf "%.2f", v }' || printf 'n/a'; }
  cores_busy() { [ -n "${1:-}" ] && [ -n "${2:-}" ] && awk -v c="$1" -v t="$2" 'BEGIN { if (t > 0) printf "%.2f", c / t; else printf "n/a" }' || printf 'n/a'; }
  echo
  echo "## Chat — $(date -u +%Y-%m-%d), $cores cores, load average ${R[chat.load_before]:-?} before / ${R[chat.load_after]:-?} after"
  echo
  echo "Rooms of $chat_room_size users; every user one WebSocket with 2 subscriptions (its room of"
  echo "\`chat.messages\`, its \`chat.inbox\`); $chat_senders HTTP senders as root; one message in $chat_inbox_every"
  echo "also notifies one member's inbox (\`EXECUTE AS USER\`, same request). Latency: the row's"
  echo "\`sent_at\` (written as the INSERT is sent) -> the change read by each member."
  echo
  echo "| connections | rooms | messages/s sent | deliveries/s | delivery p50 / p99 / max ms | inbox p50 / p99 ms | INSERT answered p50 / p99 ms | lost / duplicated | server CPU, cores | connect / subscribe s |"
  echo "|---:|---:|---:|---:|---|---|---|---|---:|---|"
  for k in "${chat_keys[@]}"; do
    local c="${R[$k.conns]}"
    echo "| $c | ${R[$k.rooms]} | $(num "${R[$k.achieved_rate]:-}") | $(num "${R[$k.deliveries_per_s]:-}") | $(ms "${R[$k.lat_p50_us]:-}") / $(ms "${R[$k.lat_p99_us]:-}") / $(ms "${R[$k.lat_max_us]:-}") | $(ms "${R[$k.inbox_p50_us]:-}") / $(ms "${R[$k.inbox_p99_us]:-}") | $(ms "${R[$k.ack_p50_us]:-}") / $(ms "${R[$k.ack_p99_us]:-}") | $(( ${R[$k.lost]:-0} + ${R[$k.inbox_lost]:-0} )) / $(( ${R[$k.dups]:-0} + ${R[$k.inbox_dups]:-0} )) | $(cores_busy "${R[$k.server_cpu_s]:-}" "${R[$k.span_s]:-}") | $(chat_open_secs "$c") |"
  done
  if [ ${#chat_search_keys[@]} -gt 0 ]; then
    echo
    echo "Rate search at $chat_search_conns connections, $chat_search_seconds s a step (held: p99 ≤ 50 ms, nothing lost, senders within 5%):"
    echo
    echo "| messages/s asked | sent | deliveries/s | delivery p50 / p99 / max ms | lost | server CPU, cores | held |"
    echo "|---:|---:|---:|---|---:|---:|---|"
    for k in "${chat_search_keys[@]}"; do
      echo "| $(num "${R[$k.rate]:-}") | $(num "${R[$k.achieved_rate]:-}") | $(num "${R[$k.deliveries_per_s]:-}") | $(ms "${R[$k.lat_p50_us]:-}") / $(ms "${R[$k.lat_p99_us]:-}") / $(ms "${R[$k.lat_max_us]:-}") | $(( ${R[$k.lost]:-0} + ${R[$k.inbox_lost]:-0} )) | $(cores_busy "${R[$k.server_cpu_s]:-}" "${R[$k.span_s]:-}") | $( [ "${R[$k.held]:-0}" = 1 ] && echo yes || echo no ) |"
    done
    k="chat_best_$chat_search_conns"
    echo
    echo "Highest sustained rate with p99 ≤ 50 ms at $chat_search_conns connections: **$(num "${R[$k.best_rate]:-}") messages/s** ($(num "$(awk -v r="${R[$k.best_rate]:-0}" -v s="$chat_room_size" -v e="$chat_inbox_every" 'BEGIN { print r * s + (e > 0 ? r / e : 0) }')") deliveries/s; lowest rate that did not hold: $(num "${R[$k.lowest_failed_rate]:-}"))."
  fi
  k="chat_mem_$chat_mem_conns"
  if [ -n "${R[$k.rss0_kb]:-}" ]; then
    kib() { awk -v v="$1" 'BEGIN { printf "%.2f", v / 1024 }'; }
    echo
    echo "Memory, $chat_mem_conns idle connections on the fresh server: VmRSS $(( ${R[$k.rss0_kb]} / 1024 )) MiB → $(( ${R[$k.rss_conns_kb]} / 1024 )) MiB connected → $(( ${R[$k.rss_subs_kb]} / 1024 )) MiB with ${R[$k.live_queries]:-?} subscriptions;"
    echo "**$(kib "${R[$k.per_conn_bytes]}") KiB per connection** with its 2 subscriptions ($(kib "${R[$k.per_bare_conn_bytes]}") KiB the connection, $(kib "${R[$k.per_sub_bytes]}") KiB a subscription)."
    echo "Connecting (Basic credentials, a bcrypt check of cost 4 each) took $(secs "${R[$k.open_s]}") s, subscribing $(secs "${R[$k.subscribe_s]}") s; ${R[chat.users_s]:-?} s to create the users."
  fi
  if [ -n "${R[live.log_chat]:-}" ] && [ "${R[live.log_chat]}" != 0 ]; then
    echo
    echo "Server log: ${R[live.log_chat]} warning/error line(s); first: \`${R[live.log_chat_first]:-}\`."
  fi
  k="chat_perf_${chat_conns##* }"
  if [ -n "$chat_perf" ] && [ -n "${R[$k.lat_p50_us]:-}" ]; then
    echo
    echo "Profiled run at ${chat_conns##* } connections (\`perf record -g\` into $chat_perf): delivery p50 / p99 $(ms "${R[$k.lat_p50_us]:-}") / $(ms "${R[$k.lat_p99_us]:-}") ms, server CPU $(cores_busy "${R[$k.server_cpu_s]:-}" "${R[$k.span_s]:-}") cores."
  fi
  if [ -n "${sanity_failures:-}" ]; then
    echo
    echo "SANITY CHECK FAILED:$sanity_failures"
  fi
}
