#!/usr/bin/env bash
# KalamDB round-trip benchmark against PostgreSQL 15 (see bench/README.md).
#
# Starts kalamdb-server and a throw-away PostgreSQL 15 cluster on free loopback ports, measures
#   - KalamDB: POST /v1/api/sql {"sql":"SELECT 1"} and {"sql":"SELECT * FROM system.namespaces"}
#     over HTTP/1.1 keep-alive with wrk (1 and 8 concurrent clients);
#   - PostgreSQL: SELECT 1 through `pgbench -f` over TCP loopback (same client counts),
# and prints p50, p99 and queries/s for both plus the ratios, as a Markdown table.
#
# Exit status: 0 whenever the setup works (slow numbers never fail anything); 2 when a
# prerequisite is missing or a server cannot be started.
#
# Environment knobs:
#   BENCH_DURATION  seconds per measurement (default 8)
#   BENCH_WARMUP    seconds of warm-up per server (default 2)
#   BENCH_CLIENTS   client counts (default "1 8")
#   KALAMDB_BIN     server binary (default build/kalamdb-server)
#   PG_BIN          PostgreSQL bin dir (default /usr/lib/postgresql/15/bin)
#   BENCH_KEEP      1 = keep the temp dir (logs) after the run
set -uo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"

duration="${BENCH_DURATION:-8}"
warmup="${BENCH_WARMUP:-2}"
clients_list="${BENCH_CLIENTS:-1 8}"
kalam_bin="${KALAMDB_BIN:-$root/build/kalamdb-server}"
pg_bin="${PG_BIN:-/usr/lib/postgresql/15/bin}"
password="bench-root-password"

die() { echo "bench: $*" >&2; exit 2; }
log() { echo "bench: $*" >&2; }

# ---------------------------------------------------------------- prerequisites
[ -x "$kalam_bin" ] || die "no server binary at $kalam_bin (run 'make build')"
command -v wrk >/dev/null 2>&1 || die "wrk not found (run bench/install-deps.sh)"
command -v curl >/dev/null 2>&1 || die "curl not found (run bench/install-deps.sh)"
for b in initdb pg_ctl pgbench pg_isready; do
  [ -x "$pg_bin/$b" ] || die "no $pg_bin/$b (run bench/install-deps.sh: Debian 'postgresql' 15)"
done

# ---------------------------------------------------------------- temp dir and cleanup
tmp="$(mktemp -d /tmp/kalamdb-bench.XXXXXX)" || die "mktemp failed"
chmod 755 "$tmp"
kalam_pid=""
pg_started=0

# PostgreSQL refuses to run as root: run its binaries as the 'postgres' user (or nobody).
pg_user=""
if [ "$(id -u)" -eq 0 ]; then
  if id postgres >/dev/null 2>&1; then pg_user=postgres; else pg_user=nobody; fi
fi
as_pg() {
  if [ -n "$pg_user" ]; then runuser -u "$pg_user" -- "$@"; else "$@"; fi
}

cleanup() {
  if [ -n "$kalam_pid" ] && kill -0 "$kalam_pid" 2>/dev/null; then
    kill "$kalam_pid" 2>/dev/null
    for _ in $(seq 50); do kill -0 "$kalam_pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$kalam_pid" 2>/dev/null
  fi
  if [ "$pg_started" -eq 1 ]; then
    as_pg "$pg_bin/pg_ctl" -D "$tmp/pg/data" -m immediate -w stop >/dev/null 2>&1
  fi
  if [ "${BENCH_KEEP:-0}" = 1 ]; then log "kept $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A free TCP port on 127.0.0.1: random pick, rejected if something answers there.
used_ports=""
free_port() {
  local p
  for _ in $(seq 200); do
    p=$(( 20000 + RANDOM % 40000 ))
    case " $used_ports " in *" $p "*) continue ;; esac
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      used_ports="$used_ports $p"; echo "$p"; return 0
    fi
  done
  return 1
}

# ---------------------------------------------------------------- KalamDB
kalam_port="$(free_port)" || die "no free port"
mkdir -p "$tmp/kalam"
cat >"$tmp/kalam/server.toml" <<EOF
[auth]
bcrypt_cost = 4
EOF
log "starting kalamdb-server on 127.0.0.1:$kalam_port"
KALAMDB_ROOT_PASSWORD="$password" "$kalam_bin" --config "$tmp/kalam/server.toml" \
  --host 127.0.0.1 --port "$kalam_port" --data-path "$tmp/kalam/data" \
  >"$tmp/kalam/server.log" 2>&1 &
kalam_pid=$!
kalam_url="http://127.0.0.1:$kalam_port"
for _ in $(seq 100); do
  curl -fsS "$kalam_url/health" >/dev/null 2>&1 && break
  kill -0 "$kalam_pid" 2>/dev/null || { cat "$tmp/kalam/server.log" >&2; die "kalamdb-server exited"; }
  sleep 0.1
done
curl -fsS "$kalam_url/health" >/dev/null 2>&1 || { cat "$tmp/kalam/server.log" >&2; die "kalamdb-server did not come up"; }

auth="Basic $(printf 'root:%s' "$password" | base64 -w0)"
for q in "SELECT 1" "SELECT * FROM system.namespaces"; do
  body="$(curl -sS -H "Authorization: $auth" -H 'Content-Type: application/json' \
    -d "{\"sql\":\"$q\"}" "$kalam_url/v1/api/sql")"
  case "$body" in
    *'"status":"success"'*) ;;
    *) die "sanity check of '$q' failed: $body" ;;
  esac
done

# ---------------------------------------------------------------- PostgreSQL 15
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
echo "SELECT 1;" >"$tmp/pg/select1.sql"
chmod 644 "$tmp/pg/select1.sql"

# ---------------------------------------------------------------- measurements
declare -A R  # R[key.field] = value; key = kalam_select1_<n>, kalam_ns_<n>, pg_select1_<n>
errors_seen=""
pg_notes=""

# run_wrk KEY SQL CLIENTS SECONDS
run_wrk() {
  local key="$1" sql="$2" n="$3" secs="$4" out line
  out="$(BENCH_SQL="$sql" BENCH_AUTH="$auth" wrk -t "$n" -c "$n" -d "${secs}s" --latency \
    -s "$here/wrk-sql.lua" "$kalam_url/v1/api/sql" 2>&1)"
  echo "$out" >"$tmp/$key.wrk.txt"
  line="$(grep '^BENCH_RESULT' <<<"$out" | tail -1)"
  if [ -z "$line" ]; then
    log "wrk failed for $key:"; echo "$out" >&2
    return 0
  fi
  local f
  for f in $line; do
    case "$f" in *=*) R[$key.${f%%=*}]="${f#*=}" ;; esac
  done
  if [ "${R[$key.non2xx]:-0}" != 0 ] || [ "${R[$key.sockerr]:-0}" != 0 ]; then
    errors_seen="$errors_seen $key(non2xx=${R[$key.non2xx]},sockerr=${R[$key.sockerr]})"
  fi
}

# run_pgbench KEY CLIENTS SECONDS  (SELECT 1, simple query protocol, TCP loopback)
run_pgbench() {
  local key="$1" n="$2" secs="$3" out dir="$tmp/pg/$1"
  mkdir -p "$dir"
  out="$(cd "$dir" && "$pg_bin/pgbench" -n -f "$tmp/pg/select1.sql" -c "$n" -j "$n" -T "$secs" \
    -h 127.0.0.1 -p "$pg_port" -U postgres --log --log-prefix="$dir/tx" postgres 2>&1)"
  echo "$out" >"$tmp/$key.pgbench.txt"
  local tps failed avg
  tps="$(sed -n 's/^tps = \([0-9.]*\) (without initial connection time).*/\1/p' <<<"$out" | head -1)"
  if [ -z "$tps" ]; then
    log "pgbench failed for $key:"; echo "$out" >&2
    return 0
  fi
  failed="$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' <<<"$out" | head -1)"
  avg="$(sed -n 's/^latency average = \([0-9.]*\) ms.*/\1/p' <<<"$out" | head -1)"
  R[$key.rps]="$tps"
  R[$key.non2xx]="${failed:-0}"
  R[$key.sockerr]=0
  # pgbench's "latency average" is clients x duration / transactions (Little's law): sound.
  [ -n "$avg" ] && R[$key.mean_us]="$(awk -v v="$avg" 'BEGIN { printf "%.1f", v * 1000 }')"
  # Per-transaction log: column 3 is the latency in microseconds. Nearest-rank percentiles.
  # pgbench 15 reuses a cached clock reading within one pass of its event loop, so a client
  # whose thread was descheduled between sending the query and reading the answer logs 0 us.
  # That happens a lot once pgbench threads + backends outnumber the cores; when more than 5%
  # of the samples are 0 the percentiles are unusable and reported as n/a.
  local pct
  pct="$(cat "$dir"/tx.* | awk '{print $3}' | sort -n | awk '
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
  if [ "${failed:-0}" != 0 ]; then errors_seen="$errors_seen $key(failed=$failed)"; fi
}

log "warm-up (${warmup}s each)"
BENCH_SQL="SELECT 1" BENCH_AUTH="$auth" wrk -t 2 -c 2 -d "${warmup}s" -s "$here/wrk-sql.lua" \
  "$kalam_url/v1/api/sql" >/dev/null 2>&1
"$pg_bin/pgbench" -n -f "$tmp/pg/select1.sql" -c 2 -j 2 -T "$warmup" \
  -h 127.0.0.1 -p "$pg_port" -U postgres postgres >/dev/null 2>&1

for n in $clients_list; do
  log "kalamdb SELECT 1, $n client(s), ${duration}s"
  run_wrk "kalam_select1_$n" "SELECT 1" "$n" "$duration"
  log "kalamdb SELECT * FROM system.namespaces, $n client(s), ${duration}s"
  run_wrk "kalam_ns_$n" "SELECT * FROM system.namespaces" "$n" "$duration"
  log "postgres SELECT 1 (pgbench), $n client(s), ${duration}s"
  run_pgbench "pg_select1_$n" "$n" "$duration"
done

if ! kill -0 "$kalam_pid" 2>/dev/null; then
  errors_seen="$errors_seen kalamdb-server-exited"
fi

# ---------------------------------------------------------------- report
ms()   { [ -n "${1:-}" ] && awk -v v="$1" 'BEGIN { printf "%.3f", v / 1000 }' || printf 'n/a'; }
num()  { [ -n "${1:-}" ] && awk -v v="$1" 'BEGIN { printf "%.0f", v }' || printf 'n/a'; }
ratio() { [ -n "${1:-}" ] && [ -n "${2:-}" ] && awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f×", a / b; else printf "n/a" }' || printf 'n/a'; }

row() { # label key
  printf '| %s | %s | %s | %s | %s | %s |\n' "$1" "$(ms "${R[$2.p50_us]:-}")" "$(ms "${R[$2.p99_us]:-}")" \
    "$(ms "${R[$2.mean_us]:-}")" "$(num "${R[$2.rps]:-}")" "${R[$2.non2xx]:-n/a}"
}
ratio_row() { # label ours pg
  printf '| %s | %s | %s | %s | %s | |\n' "$1" "$(ratio "${R[$2.p50_us]:-}" "${R[$3.p50_us]:-}")" \
    "$(ratio "${R[$2.p99_us]:-}" "${R[$3.p99_us]:-}")" "$(ratio "${R[$2.mean_us]:-}" "${R[$3.mean_us]:-}")" \
    "$(ratio "${R[$2.rps]:-}" "${R[$3.rps]:-}")"
}

echo
echo "KalamDB vs PostgreSQL 15 — $(date -u +%Y-%m-%d), $(nproc) cores, ${duration}s per measurement"
echo
echo "| run | p50 ms | p99 ms | mean ms | queries/s | errors |"
echo "|---|---:|---:|---:|---:|---:|"
for n in $clients_list; do
  row "KalamDB \`SELECT 1\`, $n client(s)" "kalam_select1_$n"
  row "KalamDB \`SELECT * FROM system.namespaces\`, $n client(s)" "kalam_ns_$n"
  row "PostgreSQL \`SELECT 1\` (pgbench), $n client(s)" "pg_select1_$n"
  ratio_row "ratio \`SELECT 1\` KalamDB/PostgreSQL, $n client(s)" "kalam_select1_$n" "pg_select1_$n"
  ratio_row "ratio \`system.namespaces\` KalamDB/\`SELECT 1\` PostgreSQL, $n client(s)" "kalam_ns_$n" "pg_select1_$n"
done
echo
echo "errors = non-2xx HTTP responses (wrk) or failed transactions (pgbench)."
echo "Latency ratios: lower is better for KalamDB; queries/s ratios: higher is better."
echo "PostgreSQL mean = pgbench's 'latency average' (clients x time / transactions)."
if [ -n "$pg_notes" ]; then
  echo "pgbench reuses a cached clock reading when its thread was descheduled mid-transaction:$pg_notes"
fi
echo

# The aims (informational only: they never change the exit status).
first="$(awk '{print $1}' <<<"$clients_list")"
last="$(awk '{print $NF}' <<<"$clients_list")"
p50="${R[kalam_select1_$first.p50_us]:-}"
if [ -n "$p50" ]; then
  awk -v v="$p50" -v n="$first" 'BEGIN { printf "aim: %s-client SELECT 1 p50 <= 0.3 ms: %s (%.3f ms)\n", n, (v <= 300 ? "met" : "NOT met"), v / 1000 }'
fi
ours="${R[kalam_select1_$last.rps]:-}"; theirs="${R[pg_select1_$last.rps]:-}"
if [ -n "$ours" ] && [ -n "$theirs" ]; then
  awk -v a="$ours" -v b="$theirs" -v n="$last" 'BEGIN { r = a / b; printf "aim: %s-client SELECT 1 throughput >= 0.5x PostgreSQL: %s (%.2fx)\n", n, (r >= 0.5 ? "met" : "NOT met"), r }'
fi
if [ -n "$errors_seen" ]; then
  echo "WARNING: errors under load:$errors_seen (logs: rerun with BENCH_KEEP=1)"
fi
exit 0
