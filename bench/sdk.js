// Suite "sdk" of bench/run.sh (or alone: node bench/sdk.js). Change events per second
// delivered by the TypeScript SDK (sdk/typescript) into subscribeWithSql() callbacks and
// into live() row sets, against a raw WebSocket client (the `ws` package, JSON.parse per
// message) reading the same subscriptions, in one run on one server.
//
// Each client holds BENCH_SDK_SUBS subscriptions (default 1,000) of `SELECT * FROM
// bench.feed` on one socket; a writer in a process of its own then inserts
// BENCH_SDK_INSERTS single-row INSERTs (default 100) as fast as it can, so every insert is
// one change event for each subscription. Rate = events / (first insert → last event in);
// CPU = the reading process's user+system time over the same window, per event. The
// clients take turns (raw, subscribeWithSql, live, twice over); each one's better run counts.
// The rate is end to end (server fan-out included); the CPU per event is the client's own
// cost, and 1 / (CPU per event) the most one core could take in.
//
// Env: KALAMDB_SERVER (default build/kalamdb-server), BENCH_SDK_SUBS, BENCH_SDK_INSERTS.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const sdkDir = path.join(here, '..', 'sdk', 'typescript');
const subs = Number(process.env.BENCH_SDK_SUBS ?? 1000);
const inserts = Number(process.env.BENCH_SDK_INSERTS ?? 100);
const SQL = 'SELECT * FROM bench.feed';

if (process.argv[2] === '--writer') {
  await write(process.argv[3], Number(process.argv[4]), Number(process.argv[5]));
  process.exit(0);
}

const { Auth, createClient } = await import(path.join(sdkDir, 'dist', 'index.js'));
const { ROOT_PASSWORD, startServer, waitFor } = await import(path.join(sdkDir, 'test', 'support', 'server.js'));
const WebSocket = createRequire(path.join(sdkDir, 'package.json'))('ws');

const server = await startServer({
  config: '[websocket]\nmax_subscriptions_per_connection = 100000\nmax_subscriptions_per_user = 100000\n' +
    'max_pending_bytes = 1073741824',
});
let nextId = 1;
try {
  await server.rootSql('CREATE NAMESPACE bench; CREATE SHARED TABLE bench.feed (id BIGINT PRIMARY KEY, room TEXT, body TEXT)');
  const results = {};
  for (let round = 0; round < 2; round++) {
    for (const mode of ['raw', 'subscribeWithSql', 'live']) {
      const result = await measure(mode);
      if (!results[mode] || result.rate > results[mode].rate) results[mode] = result;
    }
  }
  report(results);
} finally {
  await server.dispose();
}

/** One client of `mode` with `subs` subscriptions; the writer's inserts; the figures. */
async function measure(mode) {
  const reader = mode === 'raw' ? await rawReader() : await sdkReader(mode);
  const expected = subs * inserts;
  const cpuBefore = process.cpuUsage();
  const started = process.hrtime.bigint();
  const writer = spawn(process.execPath, [fileURLToPath(import.meta.url), '--writer', server.url, String(nextId), String(inserts)],
    { stdio: 'inherit', env: { ...process.env, KALAMDB_ROOT_PASSWORD: ROOT_PASSWORD } });
  nextId += inserts;
  await waitFor(() => reader.events() >= expected, { ms: 300000, everyMs: 5, what: `${mode}: ${expected} events` });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const cpu = process.cpuUsage(cpuBefore);
  await new Promise((resolve) => (writer.exitCode !== null ? resolve() : writer.once('exit', resolve)));
  await reader.close();
  const events = reader.events();
  return { events, seconds, rate: events / seconds, cpuUsPerEvent: (cpu.user + cpu.system) / events };
}

async function rawReader() {
  const login = await (await fetch(`${server.url}/v1/api/auth/login`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username: 'root', password: ROOT_PASSWORD }),
  })).json();
  const ws = new WebSocket(`${server.url.replace('http', 'ws')}/v1/ws`);
  let events = 0;
  let acked = 0;
  ws.on('message', (data) => {
    const message = JSON.parse(data.toString());
    if (message.type === 'change') events++;
    else if (message.type === 'subscription_ack') acked++;
    else if (message.type === 'auth_success') {
      for (let i = 0; i < subs; i++) ws.send(JSON.stringify({ type: 'subscribe', subscription: { id: `r${i}`, sql: SQL, options: {} } }));
    }
  });
  await new Promise((resolve) => ws.once('open', resolve));
  ws.send(JSON.stringify({ type: 'authenticate', method: 'jwt', token: login.access_token }));
  await waitFor(() => acked === subs, { ms: 60000, what: 'raw acks' });
  return { events: () => events, close: async () => ws.close() };
}

async function sdkReader(mode) {
  const client = createClient({ url: server.url, authProvider: async () => Auth.basic('root', ROOT_PASSWORD) });
  let events = 0;
  let snapshots = 0;
  const count = mode === 'live'
    ? () => {
      let first = true;  // live() hands the snapshot over first: not a change
      return client.live(SQL, () => { if (first) { first = false; snapshots++; } else events++; }, { limit: 50 });
    }
    : () => client.subscribeWithSql(SQL, (event) => { if (event.type === 'change') events++; });
  await Promise.all(Array.from({ length: subs }, () => count()));
  if (mode === 'live') await waitFor(() => snapshots === subs, { ms: 60000, what: 'live snapshots' });
  return { events: () => events, close: () => client.shutdown() };
}

async function write(url, firstId, count) {
  const headers = {
    'Content-Type': 'application/json',
    Authorization: 'Basic ' + Buffer.from(`root:${process.env.KALAMDB_ROOT_PASSWORD ?? 'root-secret-1'}`).toString('base64'),
  };
  for (let id = firstId; id < firstId + count; id++) {
    const res = await fetch(`${url}/v1/api/sql`, {
      method: 'POST', headers,
      body: JSON.stringify({ sql: 'INSERT INTO bench.feed (id, room, body) VALUES ($1, $2, $3)', params: [id, 'r1', 'x'.repeat(60)] }),
    });
    if (res.status !== 200) throw new Error(`insert ${id}: ${await res.text()}`);
  }
}

function report(results) {
  const raw = results.raw.rate;
  const aims = { raw: '', subscribeWithSql: '≥ 0.8×', live: '≥ 0.5×' };
  console.log(`\n### TypeScript SDK: change events into callbacks (${subs} subscriptions on one socket, ${inserts} single-row INSERTs)\n`);
  console.log('| client | events | seconds | events/s | vs raw | aim | CPU µs/event | events/s per core (1/CPU) | vs raw |');
  console.log('|---|---:|---:|---:|---:|---|---:|---:|---:|');
  for (const [mode, r] of Object.entries(results)) {
    const ratio = r.rate / raw;
    const met = mode === 'raw' ? '' : `${aims[mode]} ${ratio >= (mode === 'live' ? 0.5 : 0.8) ? 'met' : 'not met'}`;
    console.log(`| ${mode === 'raw' ? 'raw ws + JSON.parse' : mode} | ${r.events} | ${r.seconds.toFixed(2)} | ` +
      `${Math.round(r.rate).toLocaleString('en')} | ${ratio.toFixed(2)}× | ${met} | ${r.cpuUsPerEvent.toFixed(2)} | ` +
      `${Math.round(1e6 / r.cpuUsPerEvent).toLocaleString('en')} | ${(results.raw.cpuUsPerEvent / r.cpuUsPerEvent).toFixed(2)}× |`);
  }
}
