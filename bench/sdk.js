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
// Then topics: BENCH_SDK_TOPIC_MESSAGES rows (default 20,000) inserted into a topic's source
// table beforehand are consumed by a consumer group and acknowledged in batches of 100, by
// a raw loop (fetch, JSON.parse of each payload, ack) and by the SDK's runConsumer() with a
// handler per message; messages per second and CPU per message, best of two turns each.
//
// Env: KALAMDB_SERVER (default build/kalamdb-server), BENCH_SDK_SUBS, BENCH_SDK_INSERTS,
// BENCH_SDK_TOPIC_MESSAGES.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const sdkDir = path.join(here, '..', 'sdk', 'typescript');
const subs = Number(process.env.BENCH_SDK_SUBS ?? 1000);
const inserts = Number(process.env.BENCH_SDK_INSERTS ?? 100);
const topicMessages = Number(process.env.BENCH_SDK_TOPIC_MESSAGES ?? 20000);
const TOPIC = 'bench.jobs_topic';
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
  reportTopics(await measureTopics());
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

/** A topic holding `topicMessages` messages; each reader consumes all of it in a group of its own. */
async function measureTopics() {
  await server.rootSql('CREATE SHARED TABLE bench.jobs (id BIGINT PRIMARY KEY, body TEXT); ' +
    `CREATE TOPIC ${TOPIC}; ALTER TOPIC ${TOPIC} ADD SOURCE bench.jobs ON INSERT`);
  for (let id = 0; id < topicMessages; id += 500) {
    const rows = Array.from({ length: Math.min(500, topicMessages - id) }, (_, j) => `(${id + j}, '${'x'.repeat(60)}')`);
    await server.rootSql(`INSERT INTO bench.jobs VALUES ${rows.join(', ')}`);
  }
  const results = {};
  for (let round = 0; round < 2; round++) {
    for (const [mode, read] of [['raw', rawTopicReader], ['runConsumer', sdkTopicReader]]) {
      const result = await read(`${mode}-${round}`);
      if (result.messages !== topicMessages) throw new Error(`${mode}: ${result.messages} of ${topicMessages} messages`);
      if (!results[mode] || result.rate > results[mode].rate) results[mode] = result;
    }
  }
  return results;
}

async function timed(run) {
  const cpuBefore = process.cpuUsage();
  const started = process.hrtime.bigint();
  const messages = await run();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const cpu = process.cpuUsage(cpuBefore);
  return { messages, seconds, rate: messages / seconds, cpuUsPerMessage: (cpu.user + cpu.system) / messages };
}

async function rawTopicReader(group) {
  const login = await (await fetch(`${server.url}/v1/api/auth/login`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username: 'root', password: ROOT_PASSWORD }),
  })).json();
  const headers = { 'Content-Type': 'application/json', Authorization: `Bearer ${login.access_token}` };
  const post = async (route, body) =>
    (await fetch(`${server.url}${route}`, { method: 'POST', headers, body: JSON.stringify(body) })).json();
  return timed(async () => {
    let handled = 0;
    while (handled < topicMessages) {
      const batch = await post('/v1/api/topics/consume', { topic_id: TOPIC, group_id: group, start: 'Earliest', limit: 100 });
      for (const m of batch.messages) {
        JSON.parse(m.payload);
        handled++;
      }
      const last = batch.messages.at(-1);
      if (last) await post('/v1/api/topics/ack', { topic_id: TOPIC, group_id: group, partition_id: 0, upto_offset: last.offset });
    }
    return handled;
  });
}

async function sdkTopicReader(group) {
  const client = createClient({ url: server.url, authProvider: async () => Auth.basic('root', ROOT_PASSWORD) });
  await client.login();
  const result = await timed(async () => {
    let handled = 0;
    let finished;
    const all = new Promise((resolve) => { finished = resolve; });
    const loop = client.runConsumer({
      topic: TOPIC, group, start: 'earliest', batchSize: 100, timeoutSeconds: 1,
      handler: () => { if (++handled === topicMessages) finished(); },
    });
    await all;
    await loop.stop();  // sends the last acknowledgement
    return handled;
  });
  await client.shutdown();
  return result;
}

function reportTopics(results) {
  console.log(`\n### TypeScript SDK: topic messages consumed and acknowledged (${topicMessages} messages, batches of 100)\n`);
  console.log('| reader | messages | seconds | messages/s | vs raw | CPU µs/message | vs raw |');
  console.log('|---|---:|---:|---:|---:|---:|---:|');
  for (const [mode, r] of Object.entries(results)) {
    console.log(`| ${mode === 'raw' ? 'raw fetch + JSON.parse' : mode} | ${r.messages} | ${r.seconds.toFixed(2)} | ` +
      `${Math.round(r.rate).toLocaleString('en')} | ${(r.rate / results.raw.rate).toFixed(2)}× | ` +
      `${r.cpuUsPerMessage.toFixed(2)} | ${(results.raw.cpuUsPerMessage / r.cpuUsPerMessage).toFixed(2)}× |`);
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
