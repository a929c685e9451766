# Suite "pgwire" of bench/run.sh (sourced). See bench/README.md.
#
# The same pgbench scripts against PostgreSQL 15 and against KalamDB's Postgres wire door,
# in the same protocol mode, 1/8/16 clients: SELECT 1, a primary-key point SELECT of the
# 100k-row reads table, a 200-row filter, and a 1-row INSERT — durable commits off on both
# sides (sync_writes = false, synchronous_commit = off), then the INSERT with them on. The
# HTTP door's figures for the same statements at 8 clients come from the same run, so
# the cost of each door shows.

pgwire_clients="${BENCH_PGWIRE_CLIENTS:-1 8 16}"
pgwire_modes="${BENCH_PGWIRE_MODES:-simple prepared}"
pgwire_duration="${BENCH_PGWIRE_DURATION:-${BENCH_TABLE_DURATION:-5}}"

# pgwire_pair NAME MODE CLIENTS PG_SCRIPT KALAM_SCRIPT [pgbench args...]: PostgreSQL, then KalamDB.
pgwire_pair() {
  local name="$1" mode="$2" n="$3" pg="$4" kalam="$5" t
  shift 5
  t="$(gen_threads "$n")"
  log "pgwire: $name, $mode protocol, $n client(s), ${pgwire_duration}s each side"
  pgbench_mode="$mode" run_pgbench "pg_pw_${name}_${mode}_$n" "$n" "$pgwire_duration" "$t" "$pg" "$@"
  pgbench_mode="$mode" pgbench_target=kalam run_pgbench "kalam_pw_${name}_${mode}_$n" "$n" "$pgwire_duration" "$t" \
    "$kalam" "$@"
}

# The PostgreSQL script NAME with KalamDB's table names, as $tmp/pg/k_NAME.sql.
pgwire_kalam_script() {
  sed "s/FROM reads/FROM $kalam_reads/; s/INTO messages/INTO $kalam_inserts/" "$tmp/pg/$1.sql" | pg_script "k_$1"
}

suite_pgwire() {
  pg_start
  pg_write_scripts
  pg_setup
  echo 'SELECT 1;' | pg_script select1 >/dev/null
  # pgbench would put a parameter inside the quotes of 'room-:r', and 'room-' || :r is an
  # expression the INSERT fast path does not take: the filter reads one room, and the
  # INSERT's room and author are its numbers (texts either way).
  printf '%s\n' "SELECT * FROM reads WHERE room = 'room-7';" | pg_script pwroom >/dev/null
  printf '%s\n' '\set n :n + 1' '\set id :base + :client_id * 1000000000 + :n' '\set r :id % 500' '\set a :id % 50' \
    "INSERT INTO messages (id, room, author, body, created_at) VALUES (:id, :r, :a, '$body_text', '2026-01-01 00:00:00');" \
    | pg_script pwins1 >/dev/null
  local s
  for s in select1 point pwroom pwins1; do pgwire_kalam_script "$s" >/dev/null; done

  kalam_start pgwire false
  kalam_load_reads
  kalam_create_insert_table
  pg_session_options="-c synchronous_commit=off"
  log "pgwire: warm-up (${warmup}s each side)"
  pgwire_duration="$warmup" pgwire_pair warm prepared 2 "$tmp/pg/point.sql" "$tmp/pg/k_point.sql"
  local mode n base
  for mode in $pgwire_modes; do
    for n in $pgwire_clients; do
      pgwire_pair select1 "$mode" "$n" "$tmp/pg/select1.sql" "$tmp/pg/k_select1.sql"
      pgwire_pair point "$mode" "$n" "$tmp/pg/point.sql" "$tmp/pg/k_point.sql"
      pgwire_pair room "$mode" "$n" "$tmp/pg/pwroom.sql" "$tmp/pg/k_pwroom.sql"
      id_run=$(( id_run + 1 )); base=$(( id_run * 100000000000 ))
      pgwire_pair ins1 "$mode" "$n" "$tmp/pg/pwins1.sql" "$tmp/pg/k_pwins1.sql" -D n=0 -D base="$base"
    done
  done
  # The HTTP door, same server, same statements, 8 clients.
  local t
  t="$(gen_threads 8)"
  log "pgwire: the HTTP door at 8 clients, ${pgwire_duration}s each"
  run_wrk kalam_http_select1_8 8 "$pgwire_duration" "$t" BENCH_SQL="SELECT 1"
  run_wrk kalam_http_point_8 8 "$pgwire_duration" "$t" BENCH_SQL="SELECT * FROM $kalam_reads WHERE id = {r}" \
    BENCH_RAND_MAX=100000
  run_wrk kalam_http_room_8 8 "$pgwire_duration" "$t" BENCH_SQL="SELECT * FROM $kalam_reads WHERE room = 'room-7'"
  id_run=$(( id_run + 1 )); base=$(( id_run * 100000000000 ))
  run_wrk kalam_http_ins1_8 8 "$pgwire_duration" "$t" BENCH_TABLE="$kalam_inserts" BENCH_INSERT_ROWS=1 \
    BENCH_ID_BASE="$base"
  kill -0 "$kalam_pid" 2>/dev/null || errors_seen="$errors_seen kalamdb-server-exited(pgwire)"

  # Durable commits on both sides: the 1-row INSERT again.
  pg_session_options=""
  kalam_start pgwire-sync true
  kalam_create_insert_table
  for n in 8 16; do
    id_run=$(( id_run + 1 )); base=$(( id_run * 100000000000 ))
    pgwire_pair ins1sync prepared "$n" "$tmp/pg/pwins1.sql" "$tmp/pg/k_pwins1.sql" -D n=0 -D base="$base"
  done
  kill -0 "$kalam_pid" 2>/dev/null || errors_seen="$errors_seen kalamdb-server-exited(pgwire-sync)"
  kalam_stop
}

report_pgwire() {
  echo
  echo "## Postgres wire: KalamDB vs PostgreSQL 15, both through pgbench — $(date -u +%Y-%m-%d), $cores cores, ${pgwire_duration}s per measurement"
  echo
  echo "| test | mode | clients | KalamDB p50 ms | PostgreSQL p50 ms | KalamDB tx/s | PostgreSQL tx/s | KalamDB/PG | errors K / PG |"
  echo "|---|---|---:|---:|---:|---:|---:|---:|---:|"
  local name mode n k p what
  for name in select1 point room ins1 ins1sync; do
    case "$name" in
      select1) what="SELECT 1" ;;
      point) what="point SELECT by primary key" ;;
      room) what="200-row filter" ;;
      ins1) what="1-row INSERT, durable commits off" ;;
      ins1sync) what="1-row INSERT, durable commits on" ;;
    esac
    for mode in $pgwire_modes; do
      for n in $pgwire_clients; do
        k="kalam_pw_${name}_${mode}_$n"; p="pg_pw_${name}_${mode}_$n"
        [ -n "${R[$k.rps]:-}${R[$p.rps]:-}" ] || continue
        printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s / %s |\n' "$what" "$mode" "$n" \
          "$(ms "${R[$k.p50_us]:-}")" "$(ms "${R[$p.p50_us]:-}")" "$(num "${R[$k.rps]:-}")" \
          "$(num "${R[$p.rps]:-}")" "$(ratio "${R[$k.rps]:-}" "${R[$p.rps]:-}")" \
          "${R[$k.errors]:-n/a}" "${R[$p.errors]:-n/a}"
      done
    done
  done
  echo
  echo "The HTTP door, same server, 8 clients (requests/s; ratio to the Postgres door in prepared mode):"
  echo
  echo "| test | HTTP req/s | HTTP p50 ms | HTTP / Postgres wire |"
  echo "|---|---:|---:|---:|"
  for name in select1 point room ins1; do
    k="kalam_http_${name}_8"
    printf '| %s | %s | %s | %s |\n' "$name" "$(num "${R[$k.rps]:-}")" "$(ms "${R[$k.p50_us]:-}")" \
      "$(ratio "${R[$k.rps]:-}" "${R[kalam_pw_${name}_prepared_8.rps]:-}")"
  done
  echo
  local m="prepared"
  echo "Aims (prepared mode): point SELECT ≥ 1.0× at 8/16 clients: $(ratio "${R[kalam_pw_point_${m}_8.rps]:-}" "${R[pg_pw_point_${m}_8.rps]:-}") / $(ratio "${R[kalam_pw_point_${m}_16.rps]:-}" "${R[pg_pw_point_${m}_16.rps]:-}"); 1-row INSERT ≥ 1.0×: $(ratio "${R[kalam_pw_ins1_${m}_8.rps]:-}" "${R[pg_pw_ins1_${m}_8.rps]:-}") / $(ratio "${R[kalam_pw_ins1_${m}_16.rps]:-}" "${R[pg_pw_ins1_${m}_16.rps]:-}"); SELECT 1 ≥ 0.8×: $(ratio "${R[kalam_pw_select1_${m}_8.rps]:-}" "${R[pg_pw_select1_${m}_8.rps]:-}") / $(ratio "${R[kalam_pw_select1_${m}_16.rps]:-}" "${R[pg_pw_select1_${m}_16.rps]:-}"); one client p50 within 20 µs of PostgreSQL's: point $(ms "${R[kalam_pw_point_${m}_1.p50_us]:-}") vs $(ms "${R[pg_pw_point_${m}_1.p50_us]:-}") ms, SELECT 1 $(ms "${R[kalam_pw_select1_${m}_1.p50_us]:-}") vs $(ms "${R[pg_pw_select1_${m}_1.p50_us]:-}") ms."
}
