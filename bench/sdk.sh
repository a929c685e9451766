# Suite "sdk" of bench/run.sh (sourced): bench/sdk.js, the TypeScript SDK's change events
# per second into subscribeWithSql() and live() against a raw `ws` client, 1,000
# subscriptions on one socket, then topic messages per second through runConsumer()
# against a raw fetch loop. Needs Node 20+ and `npm ci` in sdk/typescript
# (scripts/install-deps.sh does it).

sdk_report=""

need_sdk() {
  need_kalam
  command -v node >/dev/null 2>&1 || die "node not found (scripts/install-deps.sh)"
  [ -f "$root/sdk/typescript/dist/index.js" ] || die "sdk/typescript is not built (npm ci in sdk/typescript)"
}

suite_sdk() {
  log "sdk: ${BENCH_SDK_SUBS:-1000} subscriptions, ${BENCH_SDK_INSERTS:-100} inserts per client"
  sdk_report="$(KALAMDB_SERVER="$kalam_exe" node "$bench_dir/sdk.js")" || die "bench/sdk.js failed"
}

report_sdk() {
  echo "$sdk_report"
}
