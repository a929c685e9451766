// The reconnect state machine, against a fake socket: no server, every message scripted.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Auth, createClient, parseJson, stringifyJson } from '../../dist/index.js';
import { waitFor } from '../support/server.js';

class FakeSocket {
  constructor(url) {
    this.url = url;
    this.readyState = 0;
    this.sent = [];
    this.onopen = this.onmessage = this.onclose = this.onerror = null;
  }
  send(text) { this.sent.push(parseJson(text)); }
  close() { this.readyState = 3; }
  open() { this.readyState = 1; this.onopen?.({}); }
  deliver(message) { this.onmessage?.({ data: stringifyJson(message) }); }
  drop() { this.readyState = 3; this.onclose?.({ code: 1006, reason: 'network' }); }
  of(type) { return this.sent.filter((m) => m.type === type); }
}

/** A client whose sockets are fakes; `sockets` lists them in order of opening. */
function fakeClient(options = {}) {
  const sockets = [];
  const states = [];
  let refuse = 0;
  const client = createClient({
    url: 'http://db.test:8080',
    authProvider: async () => Auth.jwt('token-1'),
    reconnectDelayMs: 5,
    maxReconnectDelayMs: 20,
    pingIntervalMs: 0,
    webSocketFactory: (url) => {
      if (refuse > 0) { refuse--; throw new Error('connection refused'); }
      const socket = new FakeSocket(url);
      sockets.push(socket);
      return socket;
    },
    onConnectionChange: (state) => states.push(state),
    ...options,
  });
  return { client, sockets, states, refuseNext: (n) => { refuse = n; } };
}

/** Opens the newest socket and answers its authenticate. */
async function accept(sockets, count) {
  await waitFor(() => sockets.length >= count, { what: `socket ${count}` });
  const socket = sockets[count - 1];
  socket.open();
  assert.deepEqual(socket.sent[0], { type: 'authenticate', method: 'jwt', token: 'token-1' });
  socket.deliver({ type: 'auth_success', user_id: 'u_1', role: 'user' });
  return socket;
}

const ack = (id, lastSeq, status = 'ready') => ({
  type: 'subscription_ack', subscription_id: id, live_id: 'l', total_rows: 0,
  schema: [{ name: 'id', data_type: 'BigInt', index: 0 }, { name: '_seq', data_type: 'BigInt', index: 1 }],
  batch_control: { batch_num: 0, has_more: status !== 'ready', status, last_seq_id: lastSeq },
});
const insert = (id, rowId, seq) => ({ type: 'change', subscription_id: id, change_type: 'insert', rows: [{ id: rowId, _seq: seq }] });

test('a subscription made before the socket is up goes out once it is authenticated', async () => {
  const { client, sockets, states } = fakeClient();
  const events = [];
  const started = client.subscribeWithSql('SELECT * FROM app.t', (e) => events.push(e), { last_rows: 10 });
  const socket = await accept(sockets, 1);
  assert.equal(sockets[0].url, 'ws://db.test:8080/v1/ws');
  const [subscribe] = socket.of('subscribe');
  assert.deepEqual(subscribe.subscription.options, { last_rows: 10 });
  socket.deliver(ack(subscribe.subscription.id, 100n));
  const stop = await started;
  assert.deepEqual(states, ['connecting', 'connected']);
  assert.equal(events[0].type, 'subscription_ack');
  const stopped = stop();
  assert.deepEqual(socket.of('unsubscribe'), [{ type: 'unsubscribe', subscription_id: subscribe.subscription.id }]);
  socket.deliver({ type: 'unsubscribed', subscription_id: subscribe.subscription.id });
  await stopped;
  assert.equal(client.getSubscriptionCount(), 0);
  await client.disconnect();
});

test('after a lost socket: backoff, re-subscribe from the last _seq, nothing twice, stale socket ignored', async () => {
  const { client, sockets, states } = fakeClient();
  const seqs = [];
  const started = client.subscribeWithSql('SELECT * FROM app.t', (e) => {
    for (const row of e.rows ?? []) seqs.push(row._seq.asBigInt());
  }, { last_rows: 10 });
  const first = await accept(sockets, 1);
  const id = first.of('subscribe')[0].subscription.id;
  first.deliver(ack(id, 100n));
  await started;
  first.deliver(insert(id, 1, 101n));
  first.deliver(insert(id, 2, 102n));
  assert.equal(client.getLastSeqId(id).toString(), '102');

  first.drop();
  assert.equal(client.isReconnecting(), true);
  first.deliver(insert(id, 9, 999n));  // the old socket's late message: ignored
  const second = await accept(sockets, 2);
  const [again] = second.of('subscribe');
  assert.equal(again.subscription.id, id);
  assert.deepEqual(Object.keys(again.subscription.options), ['from_seq_id'], 'resume without last_rows');
  assert.equal(BigInt(again.subscription.options.from_seq_id), 102n, 'resume from the last _seq');
  second.deliver(ack(id, 105n, 'loading'));
  second.deliver({ type: 'initial_data_batch', subscription_id: id, rows: [{ id: 2, _seq: 102n }, { id: 3, _seq: 103n }],
    batch_control: { batch_num: 1, has_more: false, status: 'ready', last_seq_id: 105n } });
  second.deliver(insert(id, 4, 106n));
  assert.deepEqual(seqs, [101n, 102n, 103n, 106n], 'the replayed 102 is dropped');
  assert.deepEqual(states, ['connecting', 'connected', 'reconnecting', 'connected']);
  assert.equal(client.getReconnectAttempts(), 0);
  await client.disconnect();
});

test('failed attempts back off, then give up after maxReconnectAttempts', async () => {
  const errors = [];
  const { client, sockets, refuseNext } = fakeClient({ onError: (e) => errors.push(e) });
  const started = client.subscribeWithSql('SELECT * FROM app.t', () => {});
  const socket = await accept(sockets, 1);
  socket.deliver(ack(socket.of('subscribe')[0].subscription.id, 1n));
  await started;
  client.setMaxReconnectAttempts(3);
  refuseNext(100);
  socket.drop();
  await waitFor(() => client.getConnectionState() === 'disconnected', { what: 'giving up' });
  assert.equal(errors.filter((e) => !e.recoverable).length, 1);
  assert.match(errors.at(-1).message, /gave up after 3/);
  assert.equal(sockets.length, 1);
  await client.disconnect();
});

test('a subscription the server refuses rejects with its code', async () => {
  const { client, sockets } = fakeClient();
  const started = client.subscribeWithSql('SELECT * FROM nope', () => {});
  const socket = await accept(sockets, 1);
  const id = socket.of('subscribe')[0].subscription.id;
  socket.deliver({ type: 'error', subscription_id: id, code: 'NOT_FOUND', message: "Table 'default.nope' does not exist" });
  await assert.rejects(started, (e) => e.name === 'KalamError' && e.code === 'NOT_FOUND');
  assert.equal(client.getSubscriptionCount(), 0);
  await client.disconnect();
});

test('live() reloads its set after a reconnect, so rows deleted meanwhile go', async () => {
  const { client, sockets } = fakeClient();
  let latest = [];
  const started = client.live('SELECT * FROM app.t', (rows) => { latest = rows.map((r) => r.id.asNumber()); }, { keyColumns: ['id'] });
  const first = await accept(sockets, 1);
  const id = first.of('subscribe')[0].subscription.id;
  first.deliver(ack(id, 10n, 'loading'));
  first.deliver({ type: 'initial_data_batch', subscription_id: id, rows: [{ id: 1, _seq: 5n }, { id: 2, _seq: 6n }],
    batch_control: { batch_num: 1, has_more: false, status: 'ready', last_seq_id: 10n } });
  await started;
  await waitFor(() => latest.length === 2, { what: 'snapshot' });
  first.drop();
  const second = await accept(sockets, 2);
  assert.deepEqual(second.of('subscribe')[0].subscription.options, {}, 'a whole snapshot again');
  second.deliver(ack(id, 20n, 'loading'));
  second.deliver({ type: 'initial_data_batch', subscription_id: id, rows: [{ id: 2, _seq: 6n }, { id: 3, _seq: 15n }],
    batch_control: { batch_num: 1, has_more: false, status: 'ready', last_seq_id: 20n } });
  assert.deepEqual(latest, [2, 3]);
  await client.disconnect();
});

test('disconnect() rejects a subscription still waiting for the socket', async () => {
  const { client, refuseNext } = fakeClient();
  refuseNext(1000);
  const started = client.subscribeWithSql('SELECT * FROM app.t', () => {});
  await client.disconnect();
  await assert.rejects(started, (e) => e.code === 'CLIENT_CLOSED');
});
