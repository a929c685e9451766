// Live queries against a real kalamdb-server: live() reconciliation and limit, raw events,
// checkpoints, many subscriptions on one socket, stop() while the snapshot loads.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { SeqId } from '../../dist/index.js';
import { appServer, clientAs } from '../support/fixtures.js';
import { waitFor } from '../support/server.js';

let server;
let root;
let alice;

before(async () => {
  server = await appServer({ config: '[websocket]\nmax_subscriptions_per_connection = 1000' });
  root = clientAs(server, 'root');
  alice = clientAs(server, 'alice');
  await root.query(
    'CREATE USER TABLE app.items (id BIGINT PRIMARY KEY, body TEXT, room TEXT); ' +
      'CREATE USER TABLE app.pairs (room TEXT, n INT, body TEXT, PRIMARY KEY (room)); ' +
      'CREATE SHARED TABLE app.big (id BIGINT PRIMARY KEY, body TEXT)',
  );
});

after(async () => {
  for (const client of [root, alice]) await client?.shutdown();
  await server?.dispose();
});

const texts = (rows) => rows.map((row) => `${row.id.asString()}:${row.body.asString()}`);

test('live() reconciles inserts, updates and deletes by primary key', async () => {
  await alice.insert('app.items', { id: 1, body: 'one', room: 'a' });
  let latest = null;
  let calls = 0;
  const stop = await alice.live("SELECT id, body FROM app.items WHERE room = 'a'", (rows) => { latest = texts(rows); calls++; });
  await waitFor(() => latest?.length === 1, { what: 'snapshot' });
  assert.deepEqual(latest, ['1:one']);
  await alice.insert('app.items', { id: 2, body: 'two', room: 'a' });
  await alice.insert('app.items', { id: 3, body: 'elsewhere', room: 'b' });
  await alice.update('app.items', 1, { body: 'ONE' });
  await alice.delete('app.items', 2);
  await alice.query("UPDATE app.items SET room = 'a' WHERE id = 3");  // starts matching: an insert
  await waitFor(() => JSON.stringify(latest) === JSON.stringify(['1:ONE', '3:elsewhere']), { what: 'reconciled rows' });
  await alice.query("UPDATE app.items SET room = 'z' WHERE id = 1");  // stops matching: a delete
  await waitFor(() => JSON.stringify(latest) === JSON.stringify(['3:elsewhere']), { what: 'row leaving' });
  assert.ok(calls >= 5);
  await stop();
});

test('live() with keyColumns, mapRow and a text primary key', async () => {
  let latest = [];
  const stop = await alice.live(
    'SELECT room, n FROM app.pairs',
    (rows) => { latest = rows; },
    { mapRow: (row) => `${row.room.asString()}=${row.n.asNumber()}` },
  );
  await alice.query("INSERT INTO app.pairs (room, n, body) VALUES ('x', 1, 'a'), ('y', 1, 'b')");
  await alice.query("UPDATE app.pairs SET n = 2 WHERE room = 'x'");
  await waitFor(() => latest.join() === 'x=2,y=1', { what: 'text keys' });
  await stop();
  let keyed = [];
  const stop2 = await alice.live('SELECT body, n FROM app.pairs', (rows) => { keyed = rows; }, { keyColumns: ['body'] });
  await waitFor(() => keyed.length === 2, { what: 'keyColumns' });
  await stop2();
});

test('live() refuses a projection without the key', async () => {
  const errors = [];
  const stop = await alice.live('SELECT body FROM app.items', () => {}, { onError: (e) => errors.push(e) });
  await waitFor(() => errors.length === 1, { what: 'the key error' });
  assert.equal(errors[0].code, 'INVALID_INPUT');
  assert.match(errors[0].message, /id/);
  await stop();
});

test('live() limit keeps the newest rows; last_rows trims the snapshot', async () => {
  await alice.query("DELETE FROM app.items WHERE room = 'lim'");
  for (let i = 1; i <= 6; i++) await alice.insert('app.items', { id: 100 + i, body: `m${i}`, room: 'lim' });
  let latest = [];
  const stop = await alice.live("SELECT id, body FROM app.items WHERE room = 'lim'", (rows) => { latest = texts(rows); },
    { limit: 3, subscriptionOptions: { last_rows: 2 } });
  await waitFor(() => latest.length === 2, { what: 'last_rows snapshot' });
  assert.deepEqual(latest, ['105:m5', '106:m6']);
  for (let i = 7; i <= 8; i++) await alice.insert('app.items', { id: 100 + i, body: `m${i}`, room: 'lim' });
  await waitFor(() => latest.join() === '106:m6,107:m7,108:m8', { what: 'limit' });
  await stop();
});

test('subscribeWithSql hands the raw events, rows as cells; subscribe(table) too', async () => {
  const events = [];
  const stop = await alice.subscribeWithSql("SELECT id, body FROM app.items WHERE room = 'raw'", (e) => events.push(e), { batch_size: 10 });
  const tableEvents = [];
  const stopTable = await alice.subscribe('app.items', (e) => tableEvents.push(e));
  assert.equal(alice.isSubscribedTo('app.items'), true);
  await alice.insert('app.items', { id: 200, body: 'r', room: 'raw' });
  await alice.update('app.items', 200, { body: 'R' });
  await alice.delete('app.items', 200);
  await waitFor(() => events.filter((e) => e.type === 'change').length === 3, { what: 'three changes' });
  const [ack, insert, update, remove] = events;
  assert.equal(ack.type, 'subscription_ack');
  assert.deepEqual(ack.schema.map((f) => f.name), ['id', 'body', '_seq']);
  assert.equal(insert.change_type, 'insert');
  assert.equal(insert.rows[0].body.asString(), 'r');
  assert.equal(update.change_type, 'update');
  assert.equal(update.rows[0].body.asString(), 'R');
  assert.equal(update.old_values[0].body.asString(), 'r');
  assert.equal(remove.change_type, 'delete');
  assert.equal(remove.rows, undefined);
  assert.equal(remove.old_values[0].id.asNumber(), 200);
  const seqs = [insert, update].map((e) => e.rows[0]._seq.asBigInt()).concat(remove.old_values[0]._seq.asBigInt());
  assert.ok(seqs[0] < seqs[1] && seqs[1] < seqs[2], '_seq rises');
  await waitFor(() => tableEvents.filter((e) => e.type === 'change').length >= 3, { what: 'table events' });
  await stop();
  await stopTable();
});

test('getSubscriptions and a checkpoint: from resumes after it', async () => {
  const seen = [];
  const stop = await alice.subscribeWithSql("SELECT id, body FROM app.items WHERE room = 'cp'", (e) => {
    for (const row of e.rows ?? []) seen.push(row.body.asString());
  });
  await alice.insert('app.items', { id: 300, body: 'before', room: 'cp' });
  await waitFor(() => seen.length === 1, { what: 'first change' });
  const [info] = alice.getSubscriptions().filter((s) => s.sql.includes("'cp'"));
  assert.equal(info.state, 'ready');
  assert.equal(info.tableName, info.sql);
  assert.ok(info.lastSeqId instanceof SeqId);
  assert.equal(alice.getLastSeqId(info.id).toString(), info.lastSeqId.toString());
  const checkpoint = info.lastSeqId.toString();  // what an app stores
  await stop();
  assert.equal(alice.getSubscriptions().some((s) => s.id === info.id), false);

  await alice.insert('app.items', { id: 301, body: 'after', room: 'cp' });
  const resumed = [];
  const stop2 = await alice.subscribeWithSql("SELECT id, body FROM app.items WHERE room = 'cp'", (e) => {
    for (const row of e.rows ?? []) resumed.push(row.body.asString());
  }, { from: SeqId.from(checkpoint) });
  await waitFor(() => resumed.length === 1, { what: 'rows after the checkpoint' });
  assert.deepEqual(resumed, ['after']);
  let liveRows = [];
  const stop3 = await alice.live("SELECT id, body FROM app.items WHERE room = 'cp'", (rows) => { liveRows = texts(rows); },
    { subscriptionOptions: { from: checkpoint } });
  await waitFor(() => liveRows.length === 1, { what: 'live from a checkpoint' });
  assert.deepEqual(liveRows, ['301:after']);
  await stop2();
  await stop3();
});

test('200 subscriptions share one socket', async () => {
  const client = clientAs(server, 'alice');
  let sockets = 0;
  client.onConnect(() => sockets++);
  const counts = new Array(200).fill(0);
  const stops = await Promise.all(counts.map((_, i) =>
    client.subscribeWithSql(`SELECT id FROM app.items WHERE room = 'many${i % 4}'`, (e) => {
      if (e.type === 'change') counts[i]++;
    })));
  assert.equal(sockets, 1);
  assert.equal(client.getSubscriptionCount(), 200);
  const live = await root.queryOne("SELECT count(*) AS n FROM system.live_queries WHERE user_id <> 'root'");
  assert.ok(live.n.asNumber() >= 200);
  for (let r = 0; r < 4; r++) await client.insert('app.items', { id: 400 + r, body: 'x', room: `many${r}` });
  await waitFor(() => counts.every((c) => c === 1), { what: 'one change for each of 200' });
  await client.unsubscribeAll();
  assert.equal(client.getSubscriptionCount(), 0);
  await waitFor(async () => (await client.queryAll('SELECT live_id FROM system.live_queries')).length === 0,
    { what: 'no live queries left' });
  await client.shutdown();
});

test('stop() while the snapshot is loading leaves nothing on the server', async () => {
  const values = Array.from({ length: 500 }, (_, i) => `(${i + 1}, 'row ${i + 1} ${'x'.repeat(100)}')`);
  for (let i = 0; i < 20; i++) {
    await root.query(`INSERT INTO app.big VALUES ${values.map((v, j) => v.replace(/^\((\d+)/, `(${i * 500 + j + 1}`)).join(', ')}`);
  }
  const client = clientAs(server, 'root');
  let batches = 0;
  let ready = false;
  const stop = await client.subscribeWithSql('SELECT * FROM app.big', (e) => {
    if (e.type === 'initial_data_batch') {
      batches++;
      if (e.batch_control.status === 'ready') ready = true;
    }
  }, { batch_size: 10 });
  await stop();  // acknowledged, the snapshot's 1,000 batches still coming
  assert.equal(ready, false, 'stopped before the snapshot was complete');
  const left = await root.queryAll('SELECT live_id FROM system.live_queries');
  assert.deepEqual(left, [], 'no subscription left behind');
  const later = batches;
  await client.insert('app.big', { id: 999999, body: 'late' });
  assert.ok(batches - later < 1000, 'events stop reaching the callback');
  await client.shutdown();
});

test('a subscription created while the server is down is sent when it is back', async () => {
  const client = clientAs(server, 'alice');
  await client.login();
  await server.stop('SIGKILL');
  const seen = [];
  const started = client.subscribeWithSql("SELECT id, body FROM app.items WHERE room = 'down'", (e) => {
    for (const row of e.rows ?? []) seen.push(row.body.asString());
  });
  await waitFor(() => client.getReconnectAttempts() >= 1, { what: 'reconnect attempts' });
  assert.equal(client.getSubscriptions()[0].state, 'pending');
  await server.start();
  const stop = await started;
  await alice.insert('app.items', { id: 500, body: 'back', room: 'down' });
  await waitFor(() => seen.includes('back'), { what: 'the change after the restart' });
  await stop();
  await client.shutdown();
});
