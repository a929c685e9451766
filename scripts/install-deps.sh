#!/usr/bin/env bash
# Installs everything the build and the tests need on Debian 12:
# the Debian packages, and the pinned DuckDB 1.4.4 tarballs from the npm registry.
# Safe to run again: it skips what is already in place.
set -euo pipefail

here="$(cd "$(dirname "$0")/.." && pwd)"
duck_dir="$here/third_party/duckdb"

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

packages=(
  build-essential cmake ninja-build ccache pkg-config git
  libboost1.81-dev librocksdb-dev libssl-dev libtomlplusplus-dev
  libspdlog-dev libfmt-dev libcli11-dev libedit-dev libjemalloc-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  prometheus-cpp-dev prometheus
  curl ca-certificates
  postgresql postgresql-contrib
  postgresql-client           # psql and pgbench: the Postgres wire tests and benchmark
  python3-psycopg             # psycopg 3: the Postgres wire tests
  libpostgresql-jdbc-java default-jdk-headless  # the JDBC driver test (java runs a source file)
  clang libclang-rt-14-dev    # make fuzz: libFuzzer with the sanitizers
  chromium                    # the TypeScript SDK's browser test (examples/chat)
  etcd-server                 # cluster mode: placement; its tests and make cluster-demo
  libraft-dev libuv1-dev      # cluster mode: the shards' Raft groups (canonical raft 0.15)
  iproute2                    # cluster failure trials: network namespaces and a bridge
)

# Node.js and npm fetch the DuckDB tarballs; some machines carry a Node.js of their own
# (with npm inside), which Debian's npm package conflicts with.
command -v npm >/dev/null 2>&1 || packages+=(nodejs npm)

missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# DuckDB: the shared library and the headers of the same version, pinned by integrity hash.
fetch_npm() { # name@version integrity
  local spec="$1" want="$2" tmp file got
  tmp="$(mktemp -d)"
  (cd "$tmp" && npm pack --silent "$spec" >/dev/null)
  file="$(ls "$tmp"/*.tgz)"
  got="sha512-$(openssl dgst -sha512 -binary "$file" | base64 -w0)"
  if [ "$got" != "$want" ]; then
    echo "install-deps: integrity mismatch for $spec: $got" >&2
    rm -rf "$tmp"; exit 1
  fi
  echo "$file"
}

if [ ! -f "$duck_dir/lib/libduckdb.so" ] || [ ! -f "$duck_dir/include/duckdb.hpp" ]; then
  echo "install-deps: fetching DuckDB 1.4.4 from the npm registry"
  rm -rf "$duck_dir"; mkdir -p "$duck_dir/lib" "$duck_dir/include"
  lib_tgz="$(fetch_npm '@duckdb/node-bindings-linux-x64@1.4.4-r.4' \
    'sha512-jBTL/WvfwxLToFa/pVHfT6elMtltJGnc3wSuxZD9OfMltit9YUdVFS37vBFQzXMT1Z8OWjtSjMh+zPKxOwHLHA==')"
  hdr_tgz="$(fetch_npm 'duckdb@1.4.4' \
    'sha512-hEJJ5hyVF0VLj3dmOLpsWrQR0b3d4Ykqtygm6iUXjHJDDnSqg/USKxcb5qvNrOhFYPgktayU6dXCtgPqcmmpog==')"
  tar -xzf "$lib_tgz" -C "$duck_dir/lib" --strip-components=1 package/libduckdb.so
  tar -xzf "$hdr_tgz" -C "$duck_dir/include" --strip-components=5 package/src/duckdb/src/include
  rm -rf "$(dirname "$lib_tgz")" "$(dirname "$hdr_tgz")"
fi
# Clients this project did not write, which the integration tests drive: `ws` (WebSocket)
# and `pg` (node-postgres), pinned by the committed lockfile.
node_clients="$here/tests/integration/node"
if ! cmp -s "$node_clients/package-lock.json" "$node_clients/node_modules/.installed-from-lock"; then
  echo "install-deps: installing the Node test clients (npm ci)"
  (cd "$node_clients" && npm ci --no-audit --no-fund --silent &&
    cp package-lock.json node_modules/.installed-from-lock)
fi
# The TypeScript SDK, the chat example and the admin UI (ui/, bundled into the server at
# build time): their npm packages, exactly as the committed
# lockfiles say (npm ci also builds the SDK's dist/). puppeteer-core drives Debian's
# chromium, so no browser is downloaded.
for dir in sdk/typescript examples/chat ui; do
  if [ ! -d "$here/$dir/node_modules" ] || [ "$here/$dir/package-lock.json" -nt "$here/$dir/node_modules" ]; then
    echo "install-deps: npm ci in $dir"
    (cd "$here/$dir" && PUPPETEER_SKIP_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
    touch "$here/$dir/node_modules"
  fi
done
echo "install-deps: done"
