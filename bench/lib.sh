# Shared helpers of bench/run.sh and its suites (bench/roundtrip.sh, bench/tables.sh).
# Sourced, not run. See bench/README.md.
#
# Provides: knobs and paths, die/log, the temp dir with its cleanup trap, free_port, as_pg,
# kalam_start/kalam_stop/kalam_sql, pg_start/pg_sql, run_wrk, run_pgbench, the result map R
# and the formatting helpers ms/num/ratio.

bench_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$bench_dir/.." && pwd)"

duration="${BENCH_DURATION:-8}"
warmup="${BENCH_WARMUP:-2}"
clients_list="${BENCH_CLIENTS:-1 8}"
kalam_bin="${KALAMDB_BIN:-$root/build/kalamdb-server}"
pg_bin="${PG_BIN:-/usr/lib/postgresql/15/bin}"
password="bench-root-password"
cores="$(nproc)"

die() { echo "bench: $*" >&2; exit 2; }
log() { echo "bench: $*" >&2; }

declare -A R          # R[key.field] = value
errors_seen=""        # keys that saw errors, with counts
error_details=""      # Markdown list items: the first failing response of each key
pg_notes=""           # pgbench percentile caveats
sanity_failures=""    # sanity checks that failed after measuring: the run exits 2 after the report

# ---------------------------------------------------------------- prerequisites
# need_kalam: the server binary (copied: every server of the run starts from one copy, even
# if build/ is rebuilt meanwhile) and curl.
need_kalam() {
  [ -x "$kalam_bin" ] || die "no server binary at $kalam_bin (run 'make build')"
  if [ "$kalam_exe" != "$tmp/kalamdb-server" ]; then
    kalam_bin_info="$(stat -c '%y' "$kalam_bin" | cut -d. -f1)"
    cp "$kalam_bin" "$tmp/kalamdb-server" || die "cannot copy $kalam_bin"
    kalam_exe="$tmp/kalamdb-server"
  fi
  command -v curl >/dev/null 2>&1 || die "curl not found (run bench/install-deps.sh)"
}

# need_servers: need_kalam, wrk and PostgreSQL 15.
need_servers() {
  need_kalam
  command -v wrk >/dev/null 2>&1 || die "wrk not found (run bench/install-deps.sh)"
  local b
  for b in initdb pg_ctl pgbench pg_isready psql; do
    [ -x "$pg_bin/$b" ] || die "no $pg_bin/$b (run bench/install-deps.sh: Debian 'postgresql' 15)"
  done
}

# ---------------------------------------------------------------- temp dir and cleanup
tmp="$(mktemp -d /tmp/kalamdb-bench.XXXXXX)" || die "mktemp failed"
chmod 755 "$tmp"
kalam_pid=""
kalam_dir=""
kalam_exe="$kalam_bin"
kalam_bin_info=""
pg_started=0

# PostgreSQL refuses to run as root: run its binaries as the 'postgres' user (or nobody).
pg_user=""
if [ "$(id -u)" -eq 0 ]; then
  if id postgres >/dev/null 2>&1; then pg_user=postgres; else pg_user=nobody; fi
fi
as_pg() {
  if [ -n "$pg_user" ]; then runuser -u "$pg_user" -- "$@"; else "$@"; fi
}

kalam_stop() {
  if [ -n "$kalam_pid" ] && kill -0 "$kalam_pid" 2>/dev/null; then
    kill "$kalam_pid" 2>/dev/null
    for _ in $(seq 100); do kill -0 "$kalam_pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$kalam_pid" 2>/dev/null
    wait "$kalam_pid" 2>/dev/null
  fi
  kalam_pid=""
}

cleanup() {
  kalam_stop
  if declare -F cluster_stop_all >/dev/null; then cluster_stop_all; fi
  if [ "$pg_started" -eq 1 ]; then
    as_pg "$pg_bin/pg_ctl" -D "$tmp/pg/data" -m immediate -w stop >/dev/null 2>&1
  fi
  if [ "${BENCH_KEEP:-0}" = 1 ]; then log "kept $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A free TCP port on 127.0.0.1: random pick, rejected if something answers there. Picked
# below the kernel's ephemeral range: the live suite's thousands of client connections leave
# ephemeral ports in TIME_WAIT, on which a server cannot bind.
used_ports=""
port_hi=32767
read -r port_hi _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null && port_hi=$(( port_hi - 1 ))
[ "$port_hi" -gt 12000 ] || port_hi=32767
free_port() {
  local p
  for _ in $(seq 200); do
    p=$(( 10000 + RANDOM % (port_hi - 10000) ))
    case " $used_ports " in *" $p "*) continue ;; esac
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      used_ports="$used_ports $p"; echo "$p"; return 0
    fi
  done
  return 1
}

# ---------------------------------------------------------------- KalamDB
auth="Basic $(printf 'root:%s' "$password" | base64 -w0)"
kalam_url=""

# kalam_start NAME [SYNC_WRITES]: a fresh server (own data dir) on a free port.
# SYNC_WRITES empty = the default config (no [storage] section).
kalam_start() {
  local name="$1" sync="${2:-}" port
  kalam_stop
  port="$(free_port)" || die "no free port"
  kalam_dir="$tmp/kalam-$name"
  mkdir -p "$kalam_dir"
  {
    echo "[auth]"
    echo "bcrypt_cost = 4"
    kalam_pg_port="$(free_port)"
    echo "[postgres_wire]"
    echo "port = $kalam_pg_port"
    if [ -n "$sync" ]; then
      echo "[storage]"
      echo "sync_writes = $sync"
    fi
    # More sections from the caller (a suite's own settings), as TOML lines.
    if [ -n "${kalam_extra_config:-}" ]; then printf '%s\n' "$kalam_extra_config"; fi
  } >"$kalam_dir/server.toml"
  log "starting kalamdb-server ($name${sync:+, sync_writes = $sync}) on 127.0.0.1:$port"
  KALAMDB_ROOT_PASSWORD="$password" "$kalam_exe" --config "$kalam_dir/server.toml" \
    --host 127.0.0.1 --port "$port" --data-path "$kalam_dir/data" \
    >"$kalam_dir/server.log" 2>&1 &
  kalam_pid=$!
  kalam_url="http://127.0.0.1:$port"
  for _ in $(seq 100); do
    curl -fsS "$kalam_url/health" >/dev/null 2>&1 && break
    kill -0 "$kalam_pid" 2>/dev/null || { cat "$kalam_dir/server.log" >&2; die "kalamdb-server exited"; }
    sleep 0.1
  done
  curl -fsS "$kalam_url/health" >/dev/null 2>&1 || { cat "$kalam_dir/server.log" >&2; die "kalamdb-server did not come up"; }
}

# kalam_sql SQL: prints the response body.
kalam_sql() {
  local esc="${1//\\/\\\\}"
  esc="${esc//\"/\\\"}"
  curl -sS -H "Authorization: $auth" -H 'Content-Type: application/json' \
    -d "{\"sql\":\"$esc\"}" "$kalam_url/v1/api/sql"
}

# kalam_sql_ok SQL: runs it, dies unless it succeeded; prints the response body.
kalam_sql_ok() {
  local body
  body="$(kalam_sql "$1")"
  case "$body" in
    '{"status":"success"'*) printf '%s' "$body" ;;
    *) die "KalamDB: '$1' failed: $body" ;;
  esac
}

# ---------------------------------------------------------------- PostgreSQL 15
pg_port=""
pg_start() {
  [ "$pg_started" -eq 1 ] && return 0
  pg_port="$(free_port)" || die "no free port"
  mkdir -p "$tmp/pg/sock"
  [ -n "$pg_user" ] && chown -R "$pg_user" "$tmp/pg"
  log "initdb + starting PostgreSQL 15 on 127.0.0.1:$pg_port (as ${pg_user:-$(id -un)})"
  as_pg "$pg_bin/initdb" -D "$tmp/pg/data" -U postgres --auth=trust -E UTF8 --no-sync \
    >"$tmp/pg/initdb.log" 2>&1 || { cat "$tmp/pg/initdb.log" >&2; die "initdb failed"; }
  as_pg "$pg_bin/pg_ctl" -D "$tmp/pg/data" -l "$tmp/pg/server.log" -w -t 30 \
    -o "-c listen_addresses=127.0.0.1 -p $pg_port -k $tmp/pg/sock" start >/dev/null 2>&1 \
    || { cat "$tmp/pg/server.log" >&2; die "PostgreSQL did not start"; }
  pg_started=1
  "$pg_bin/pg_isready" -q -h 127.0.0.1 -p "$pg_port" -U postgres || die "PostgreSQL not ready"
}

# pg_sql SQL...: runs the statements with psql (stop at the first error), prints the output.
pg_sql() {
  local args=() s
  for s in "$@"; do args+=(-c "$s"); done
  "$pg_bin/psql" -X -q -At -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$pg_port" -U postgres \
    "${args[@]}" postgres
}

# pg_script NAME: writes stdin to $tmp/pg/NAME.sql (readable by everyone), prints the path.
pg_script() {
  cat >"$tmp/pg/$1.sql"
  chmod 644 "$tmp/pg/$1.sql"
  echo "$tmp/pg/$1.sql"
}

# ---------------------------------------------------------------- measurements
# run_wrk KEY CLIENTS SECONDS THREADS [VAR=VALUE ...]
#   wrk -t THREADS -c CLIENTS against $kalam_url with bench/wrk-sql.lua, configured by the
#   BENCH_* assignments (BENCH_SQL, BENCH_INSERT_ROWS, ...; see wrk-sql.lua). Latency
#   percentiles (p50_us, ...) are per-request ones measured by the script, only when
#   THREADS = CLIENTS; wrk's coordinated-omission-corrected figures land in co_*.
run_wrk() {
  local key="$1" n="$2" secs="$3" threads="$4" out line
  shift 4
  local one=0
  [ "$threads" = "$n" ] && one=1
  out="$(env BENCH_AUTH="$auth" BENCH_ONE_CONN="$one" "$@" wrk -t "$threads" -c "$n" -d "${secs}s" --latency \
    -s "$bench_dir/wrk-sql.lua" "$kalam_url/v1/api/sql" 2>&1)"
  echo "$out" >"$tmp/$key.wrk.txt"
  line="$(grep '^BENCH_RESULT' <<<"$out" | tail -1)"
  if [ -z "$line" ]; then
    log "wrk failed for $key:"; echo "$out" >&2
    errors_seen="$errors_seen $key(wrk-failed)"
    return 0
  fi
  local f
  for f in $line; do
    case "$f" in *=*) R[$key.${f%%=*}]="${f#*=}" ;; esac
  done
  local bad=$(( ${R[$key.non2xx]:-0} + ${R[$key.sockerr]:-0} + ${R[$key.not_success]:-0} ))
  R[$key.errors]="$bad"
  if [ "$bad" != 0 ]; then
    errors_seen="$errors_seen $key(non2xx=${R[$key.non2xx]},sockerr=${R[$key.sockerr]},not_success=${R[$key.not_success]})"
    local e s
    e="$(sed -n 's/^BENCH_ERROR \(.*\)$/\1/p' <<<"$out" | head -1)"
    s="$(sed -n 's/^BENCH_ERROR_SQL \(.*\)$/\1/p' <<<"$out" | head -1)"
    if [ -n "$e" ]; then
      error_details="$error_details
- \`$key\`: first failing response: \`HTTP $e\` — to (the last request its wrk thread built): \`$s\`"
    fi
  fi
}

# run_pgbench KEY CLIENTS SECONDS THREADS SCRIPT [pgbench args...]
#   pgbench -n -f SCRIPT over TCP loopback against PostgreSQL, simple query protocol.
#   PGOPTIONS from the variable pg_session_options (e.g. "-c synchronous_commit=off").
#   pgbench_mode (simple | extended | prepared) sets the protocol; pgbench_target=kalam
#   points it at KalamDB's Postgres wire door instead (user root, database kalam).
run_pgbench() {
  local key="$1" n="$2" secs="$3" threads="$4" script="$5" out dir="$tmp/pg/$1"
  shift 5
  mkdir -p "$dir"
  local port="$pg_port" user=postgres db=postgres options="${pg_session_options:-}"
  if [ "${pgbench_target:-}" = kalam ]; then port="$kalam_pg_port" user=root db=kalam options=""; fi
  out="$(cd "$dir" && PGPASSWORD="$password" PGOPTIONS="$options" "$pg_bin/pgbench" -n -f "$script" \
    -M "${pgbench_mode:-simple}" -c "$n" -j "$threads" -T "$secs" "$@" \
    -h 127.0.0.1 -p "$port" -U "$user" --log --log-prefix="$dir/tx" "$db" 2>&1)"
  echo "$out" >"$tmp/$key.pgbench.txt"
  local tps failed avg
  tps="$(sed -n 's/^tps = \([0-9.]*\) (without initial connection time).*/\1/p' <<<"$out" | head -1)"
  if [ -z "$tps" ]; then
    log "pgbench failed for $key:"; echo "$out" >&2
    errors_seen="$errors_seen $key(pgbench-failed)"
    return 0
  fi
  failed="$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' <<<"$out" | head -1)"
  avg="$(sed -n 's/^latency average = \([0-9.]*\) ms.*/\1/p' <<<"$out" | head -1)"
  R[$key.rps]="$tps"
  R[$key.non2xx]="${failed:-0}"
  R[$key.sockerr]=0
  R[$key.errors]="${failed:-0}"
  # pgbench's "latency average" is clients x duration / transactions (Little's law): sound.
  [ -n "$avg" ] && R[$key.mean_us]="$(awk -v v="$avg" 'BEGIN { printf "%.1f", v * 1000 }')"
  # Per-transaction log: column 3 is the latency in microseconds. Nearest-rank percentiles.
  # pgbench 15 reuses a cached clock reading within one pass of its event loop, so a client
  # whose thread was descheduled between sending the query and reading the answer logs 0 us.
  # That happens a lot once pgbench threads + backends outnumber the cores; when more than 5%
  # of the samples are 0 the percentiles are unusable and reported as n/a.
  local pct
  pct="$(cat "$dir"/tx.* 2>/dev/null | awk '{print $3}' | sort -n | awk '
    { v[NR] = $1; if ($1 == 0) z++ }
    END {
      if (NR == 0) exit;
      i50 = int(NR * 0.50); if (i50 < NR * 0.50) i50++; if (i50 < 1) i50 = 1;
      i99 = int(NR * 0.99); if (i99 < NR * 0.99) i99++; if (i99 < 1) i99 = 1;
      printf "p50_us=%s p99_us=%s samples=%d zeros=%d\n", v[i50], v[i99], NR, z + 0
    }')"
  local f
  for f in $pct; do R[$key.${f%%=*}]="${f#*=}"; done
  rm -f "$dir"/tx.*
  if [ -n "${R[$key.samples]:-}" ] && [ "${R[$key.zeros]:-0}" -gt 0 ]; then
    local share
    share="$(awk -v z="${R[$key.zeros]}" -v n="${R[$key.samples]}" 'BEGIN { printf "%.1f", 100 * z / n }')"
    if [ $(( ${R[$key.zeros]} * 20 )) -gt "${R[$key.samples]}" ]; then
      unset "R[$key.p50_us]" "R[$key.p99_us]"
      pg_notes="$pg_notes
- $key: $share% of pgbench's per-transaction latencies logged as 0 us: percentiles n/a."
    else
      pg_notes="$pg_notes
- $key: $share% of pgbench's per-transaction latencies logged as 0 us (kept; p99 may be understated)."
    fi
  fi
  if [ "${failed:-0}" != 0 ] || grep -q 'aborted' <<<"$out"; then
    errors_seen="$errors_seen $key(failed=${failed:-0})"
    local e
    e="$(grep -m1 -iE 'error|abort' <<<"$out")"
    [ -n "$e" ] && error_details="$error_details
- \`$key\`: \`$e\`"
  fi
}

# ---------------------------------------------------------------- formatting
ms()   { [ -n "${1:-}" ] && awk -v v="$1" 'BEGIN { printf "%.3f", v / 1000 }' || printf 'n/a'; }
num()  { [ -n "${1:-}" ] && awk -v v="$1" 'BEGIN { printf "%.0f", v }' || printf 'n/a'; }
ratio() { [ -n "${1:-}" ] && [ -n "${2:-}" ] && awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f×", a / b; else printf "n/a" }' || printf 'n/a'; }
