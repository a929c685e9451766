# Suite "raft" of bench/run.sh (sourced). See bench/README.md, "Cluster: the consensus library".
#
# Debian's Raft library (libraft 0.15) as cluster mode would run it, through
# bench/raft_bench.cpp: three replicas in three processes, the log on disk, TCP between
# them; commit latency one entry at a time, entries/s with 64 in flight, 16 KiB batches,
# and the time to a new leader after the leader is killed. BENCH_RAFT_RUNS runs (default 3)
# at a 500 ms election timeout, then the library's in-memory fixture once (its consensus
# logic alone, simulated time).

raft_runs="${BENCH_RAFT_RUNS:-3}"

need_raft() {
  command -v g++ >/dev/null 2>&1 || die "g++ not found (needed for bench/raft_bench.cpp)"
  [ -f /usr/include/raft.h ] || die "libraft-dev not found (run bench/install-deps.sh)"
  log "raft: compiling bench/raft_bench.cpp"
  g++ -O2 -std=c++17 "$bench_dir/raft_bench.cpp" -o "$tmp/raft_bench" -lraft -luv \
    2>"$tmp/raft_bench.build.txt" \
    || { cat "$tmp/raft_bench.build.txt" >&2; die "cannot compile bench/raft_bench.cpp"; }
}

suite_raft() {
  local i
  for i in $(seq "$raft_runs"); do
    log "raft: run $i of $raft_runs (three replicas, election timeout 500 ms)"
    RAFT_BENCH_ELECTION_MS=500 timeout 180 "$tmp/raft_bench" "$tmp" >"$tmp/raft_run_$i.txt" 2>&1 \
      || echo "(the run ended with status $?)" >>"$tmp/raft_run_$i.txt"
  done
  log "raft: the library's fixture (in-memory I/O)"
  timeout 600 "$tmp/raft_bench" --fixture >"$tmp/raft_fixture.txt" 2>/dev/null \
    || echo "(the fixture ended with status $?)" >>"$tmp/raft_fixture.txt"
}

report_raft() {
  local i
  echo
  echo "## Raft: libraft 0.15, three replicas on this machine — $(date -u +%Y-%m-%d), $cores cores"
  for i in $(seq "$raft_runs"); do
    echo
    echo "Run $i:"
    grep -v '^leader:' "$tmp/raft_run_$i.txt"
  done
  echo
  echo "The library's fixture (in-memory disk and network, simulated time; four rounds each):"
  echo
  cat "$tmp/raft_fixture.txt"
  echo
  echo "Aims (cluster): replicated commit p50 well under 2 ms; failover <= 3 s."
}
