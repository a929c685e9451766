#!/usr/bin/env bash
# Installs what bench/run.sh needs on Debian 12 (on top of scripts/install-deps.sh):
# wrk (HTTP load), PostgreSQL 15 with pgbench (the peer), curl and redis-server (the Raft
# library that bench/raft_bench.cpp uses comes with the build's). Safe to run again: it
# skips what is already in place.
set -euo pipefail

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

packages=(wrk postgresql postgresql-contrib curl redis-server)

missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "bench/install-deps: installing ${missing[*]}"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
echo "bench/install-deps: done"
