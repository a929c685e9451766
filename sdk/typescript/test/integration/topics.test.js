// Topics against a real kalamdb-server (visibility timeout 2 s): consume and ack with each
// payload form, a consumer loop whose handler fails once, two loops of one group sharing a
// topic, stop() during a long poll, bad input, a loop that goes on across a restart, and
// the README's agent that answers a user's chat messages in their own rows.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { KalamError } from '../../dist/index.js';
import { appServer, clientAs } from '../support/fixtures.js';
import { waitFor } from '../support/server.js';

const VISIBILITY_SECS = 2;

let server;
let root;
let svc;

before(async () => {
  server = await appServer({ config: `[topics]\nvisibility_timeout_secs = ${VISIBILITY_SECS}\n` });
  root = clientAs(server, 'root');
  svc = clientAs(server, 'svc');
});

after(async () => {
  for (const client of [root, svc]) await client?.shutdown();
  await server?.dispose();
});

/** A SHARED table `app.<name>` (id BIGINT key, body TEXT) whose inserts go to topic `app.<name>_topic`. */
async function tableWithTopic(name, { partitions = 1 } = {}) {
  await root.query(
    `CREATE SHARED TABLE app.${name} (id BIGINT PRIMARY KEY, body TEXT); ` +
      `CREATE TOPIC app.${name}_topic PARTITIONS ${partitions}; ` +
      `ALTER TOPIC app.${name}_topic ADD SOURCE app.${name} ON INSERT`,
  );
  return `app.${name}_topic`;
}

async function committedOffset(topic, group, partition = 0) {
  const row = await root.queryOne(
    'SELECT committed_offset FROM system.topic_offsets WHERE topic_id = $1 AND group_id = $2 AND partition_id = $3',
    [topic, group, partition],
  );
  return row ? row.committed_offset.asNumber() : undefined;
}

test('consume and ack: full, diff and key payloads, exact integers, a stateless read', async () => {
  const big = 2n ** 60n + 1n;
  await root.query(
    'CREATE SHARED TABLE app.items (id BIGINT PRIMARY KEY, name TEXT, qty BIGINT); ' +
      'CREATE TOPIC app.item_changes; ' +
      'ALTER TOPIC app.item_changes ADD SOURCE app.items ON INSERT; ' +
      "ALTER TOPIC app.item_changes ADD SOURCE app.items ON UPDATE WITH (payload = 'diff'); " +
      "ALTER TOPIC app.item_changes ADD SOURCE app.items ON DELETE WITH (payload = 'key')",
  );
  const before = Date.now();
  await root.query('INSERT INTO app.items VALUES ($1, $2, $3)', [big, 'pen', 9007199254740993n]);
  await root.query("UPDATE app.items SET name = 'ink pen' WHERE id = $1", [big]);
  await root.query('DELETE FROM app.items WHERE id = $1', [big]);

  const batch = await svc.consume({ topic: 'app.item_changes', group: 'g', start: 'earliest', limit: 10 });
  assert.equal(batch.messages.length, 3);
  assert.equal(batch.nextOffset, 3);
  assert.equal(batch.hasMore, false);
  const [inserted, updated, deleted] = batch.messages;
  assert.deepEqual(batch.messages.map((m) => [m.topic, m.partition, m.offset, m.op, m.key, m.user]), [
    ['app.item_changes', 0, 0, 'insert', big.toString(), null],
    ['app.item_changes', 0, 1, 'update', big.toString(), null],
    ['app.item_changes', 0, 2, 'delete', big.toString(), null],
  ]);
  assert.equal(inserted.payload.id, big, 'BIGINT past 2^53 exact in the payload');
  assert.equal(inserted.payload.qty, 9007199254740993n);
  assert.equal(inserted.payload.name, 'pen');
  assert.equal(typeof inserted.payloadText, 'string');
  assert.match(inserted.payloadText, /"name":"pen"/);
  assert.ok(inserted.timestampMs >= before - 1000 && inserted.timestampMs <= Date.now() + 1000, `${inserted.timestampMs}`);
  assert.deepEqual(updated.payload, { name: { old: 'pen', new: 'ink pen' } });
  assert.deepEqual(deleted.payload, { id: big });

  // Handed to the group and not acknowledged: reserved, so the next read has nothing.
  assert.equal((await svc.consume({ topic: 'app.item_changes', group: 'g' })).messages.length, 0);
  assert.equal(await svc.ack({ topic: 'app.item_changes', group: 'g', uptoOffset: 1 }), 1);
  assert.equal(await svc.ack({ topic: 'app.item_changes', group: 'g', partition: 0, uptoOffset: 2 }), 2);
  assert.equal(await svc.ack({ topic: 'app.item_changes', group: 'g', uptoOffset: 0 }), 2, 'never goes back');
  assert.equal(await committedOffset('app.item_changes', 'g'), 2);

  // Without a group nothing is reserved: the same read twice, from an offset too.
  const first = await svc.consume({ topic: 'app.item_changes', start: 'earliest' });
  const again = await svc.consume({ topic: 'app.item_changes', start: { offset: 1 }, limit: 1 });
  assert.deepEqual(first.messages.map((m) => m.offset), [0, 1, 2]);
  assert.deepEqual(again.messages.map((m) => m.offset), [1]);
  assert.equal(again.hasMore, true);

  // A USER table's change carries its user.
  await root.query(
    'CREATE USER TABLE app.inbox (id BIGINT PRIMARY KEY, body TEXT); CREATE TOPIC app.inbox_events; ' +
      "ALTER TOPIC app.inbox_events ADD SOURCE app.inbox ON INSERT WITH (payload = 'key')",
  );
  const writer = clientAs(server, 'alice');
  await writer.insert('app.inbox', { id: 7, body: 'hi' });
  await writer.shutdown();
  const alice = await root.queryOne("SELECT user_id FROM system.users WHERE username = 'alice'");
  const [own] = (await svc.consume({ topic: 'app.inbox_events', start: 'earliest' })).messages;
  assert.equal(own.user, alice.user_id.asString());
  assert.deepEqual(own.payload, { id: 7 });
});

test('a long poll waits for the next message; an AbortSignal ends it with ABORTED', async () => {
  const topic = await tableWithTopic('polled');
  const waiting = svc.consume({ topic, group: 'p', timeoutSeconds: 20 });
  await waitFor(async () => (await committedOffset(topic, 'p')) !== undefined, { what: 'the group made by the poll' });
  await root.insert('app.polled', { id: 1, body: 'wake up' });
  const woken = await waiting;
  assert.deepEqual(woken.messages.map((m) => m.payload.body), ['wake up']);

  const controller = new AbortController();
  const aborted = svc.consume({ topic, group: 'p', timeoutSeconds: 30, signal: controller.signal });
  const started = Date.now();
  setTimeout(() => controller.abort(), 100);
  await assert.rejects(aborted, (e) => e instanceof KalamError && e.code === 'ABORTED');
  assert.ok(Date.now() - started < 2000, `aborted after ${Date.now() - started} ms`);
});

test('bad input is a KalamError with the server\'s code', async () => {
  const topic = await tableWithTopic('checked');
  await root.insert('app.checked', { id: 1, body: 'x' });
  const alice = clientAs(server, 'alice');
  const cases = [
    [() => svc.consume({ topic: 'app.nope' }), 'NOT_FOUND', 404],
    [() => svc.consume({ topic, partition: 3 }), 'INVALID_INPUT', 400],
    [() => svc.consume({ topic, timeoutSeconds: 61 }), 'INVALID_INPUT', 400],
    [() => svc.consume({ topic, group: 'bad\u0001group' }), 'INVALID_INPUT', 400],
    [() => svc.ack({ topic, group: 'g', uptoOffset: 5 }), 'INVALID_INPUT', 400],
    [() => svc.ack({ topic: 'app.nope', group: 'g', uptoOffset: 0 }), 'NOT_FOUND', 404],
    [() => alice.consume({ topic }), 'PERMISSION_DENIED', 403],
    [() => alice.ack({ topic, group: 'g', uptoOffset: 0 }), 'PERMISSION_DENIED', 403],
    // checked before anything is sent
    [() => svc.consume({ topic, limit: 0 }), 'INVALID_INPUT', undefined],
    [() => svc.consume({ topic, start: 'oldest' }), 'INVALID_INPUT', undefined],
    [() => svc.ack({ topic, uptoOffset: 0 }), 'INVALID_INPUT', undefined],
  ];
  for (const [run, code, status] of cases) {
    await assert.rejects(run, (error) => {
      assert.ok(error instanceof KalamError, String(error));
      assert.equal(error.code, code);
      assert.equal(error.httpStatus, status);
      assert.ok(error.message.length > 0);
      return true;
    }, `${code} ${run}`);
  }
  const handler = () => {};
  assert.throws(() => svc.runConsumer({ topic, handler }), (e) => e.code === 'INVALID_INPUT');
  assert.throws(() => svc.runConsumer({ topic, group: 'g' }), (e) => e.code === 'INVALID_INPUT');
  assert.throws(() => svc.runConsumer({ topic, group: 'g', handler, batchHandler: handler }), (e) => e.code === 'INVALID_INPUT');
  assert.throws(() => svc.runConsumer({ topic, group: 'g', handler, partitions: [] }), (e) => e.code === 'INVALID_INPUT');
  assert.throws(() => svc.runConsumer({ topic, group: 'g', handler, timeoutSeconds: 0 }), (e) => e.code === 'INVALID_INPUT');
  assert.throws(() => svc.runConsumer({ topic, group: 'g', handler, start: 'first' }), (e) => e.code === 'INVALID_INPUT');

  // A loop on a topic that does not exist reports each failed poll and goes on, backing off.
  const errors = [];
  const loop = svc.runConsumer({
    topic: 'app.nope', group: 'g', handler, timeoutSeconds: 1,
    onError: (error, context) => errors.push([error.code, context.stage]),
  });
  await waitFor(() => errors.length >= 3, { what: 'three reported failures' });
  await loop.stop();
  assert.deepEqual(errors[0], ['NOT_FOUND', 'consume']);
  await alice.shutdown();
});

test('a handler that throws sees its message again after the visibility timeout; the rest once', async () => {
  const topic = await tableWithTopic('jobs');
  const seen = [];  // [offset, ms]
  const failures = [];
  let failOnce = true;
  const loop = svc.runConsumer({
    topic, group: 'workers', start: 'earliest', timeoutSeconds: 5,
    handler: async (message) => {
      seen.push([message.offset, Date.now()]);
      if (message.payload.body === 'flaky' && failOnce) {
        failOnce = false;
        throw new Error('not now');
      }
    },
    onError: (error, context) => failures.push([error.message, context.stage, context.messages.map((m) => m.offset)]),
  });
  await root.query("INSERT INTO app.jobs VALUES (1, 'a'), (2, 'flaky'), (3, 'c')");
  await waitFor(async () => (await committedOffset(topic, 'workers')) === 2, { ms: 15000, what: 'offset 2 acknowledged' });
  assert.deepEqual(failures, [['not now', 'handler', [1]]]);
  assert.deepEqual(seen.map(([offset]) => offset), [0, 1, 2, 1], 'the failed one again, the one after it not');
  const firstTry = seen[1][1];
  const secondTry = seen[3][1];
  assert.ok(secondTry - firstTry >= VISIBILITY_SECS * 1000 - 500, `came back after ${secondTry - firstTry} ms`);

  await root.query("INSERT INTO app.jobs VALUES (4, 'd')");
  await waitFor(async () => (await committedOffset(topic, 'workers')) === 3, { what: 'offset 3 acknowledged' });
  await loop.stop();
  assert.deepEqual(seen.map(([offset]) => offset), [0, 1, 2, 1, 3]);
});

test('after RESET CONSUMER GROUP the loop hands the messages over again', async () => {
  const topic = await tableWithTopic('replayed');
  const seen = [];
  const loop = svc.runConsumer({
    topic, group: 'r', start: 'earliest', timeoutSeconds: 5,
    handler: (message) => { seen.push(message.payload.body); },
  });
  await root.query("INSERT INTO app.replayed VALUES (1, 'a'), (2, 'b')");
  await waitFor(async () => (await committedOffset(topic, 'r')) === 1, { what: 'both acknowledged' });
  await root.query(`RESET CONSUMER GROUP 'r' ON ${topic} TO EARLIEST`);
  await root.query("INSERT INTO app.replayed VALUES (3, 'c')");  // wakes the waiting poll
  await waitFor(async () => (await committedOffset(topic, 'r')) === 2 && seen.length >= 5, { what: 'the replay acknowledged' });
  await loop.stop();
  assert.deepEqual(seen, ['a', 'b', 'a', 'b', 'c']);
});

test('a batch handler that throws gets the whole batch again', async () => {
  const topic = await tableWithTopic('batches');
  const batches = [];
  const loop = svc.runConsumer({
    topic, group: 'b', start: 'earliest', timeoutSeconds: 5, onError: () => {},
    batchHandler: async (messages) => {
      batches.push(messages.map((m) => m.key));
      if (batches.length === 1) throw new Error('first batch fails');
    },
  });
  await root.query("INSERT INTO app.batches VALUES (1, 'a'), (2, 'b')");
  await waitFor(async () => (await committedOffset(topic, 'b')) === 1, { ms: 15000, what: 'the batch acknowledged' });
  await loop.stop();
  assert.deepEqual(batches, [['1', '2'], ['1', '2']]);
});

test('two loops of one group split the work without duplicates', async () => {
  const topic = await tableWithTopic('tasks', { partitions: 2 });
  const handled = [[], []];
  const loops = handled.map((into) => svc.runConsumer({
    topic, group: 'pool', start: 'earliest', partitions: [0, 1], batchSize: 3, timeoutSeconds: 5,
    handler: async (message) => {
      into.push(`${message.partition}/${message.key}`);
      await new Promise((resolve) => setTimeout(resolve, 2));
    },
  }));
  const rows = 120;
  for (let i = 0; i < rows; i += 6) {
    const values = Array.from({ length: 6 }, (_, j) => `(${i + j}, 'task')`).join(', ');
    await root.query(`INSERT INTO app.tasks VALUES ${values}`);
  }
  await waitFor(() => handled[0].length + handled[1].length >= rows, { ms: 30000, what: `${rows} tasks handled` });
  const all = [...handled[0], ...handled[1]];
  assert.equal(new Set(all).size, rows, 'every task');
  assert.equal(all.length, rows, 'none twice');
  assert.ok(handled[0].length > 0 && handled[1].length > 0, `split ${handled[0].length} / ${handled[1].length}`);
  await waitFor(async () => {
    const committed = [await committedOffset(topic, 'pool', 0), await committedOffset(topic, 'pool', 1)];
    return committed[0] + committed[1] + 2 === rows;
  }, { what: 'both partitions acknowledged to their end' });
  await Promise.all(loops.map((loop) => loop.stop()));
});

test('stop() ends a waiting long poll at once; a signal stops a loop too', async () => {
  const topic = await tableWithTopic('idle');
  const loop = svc.runConsumer({ topic, group: 'idle', timeoutSeconds: 60, handler: () => {} });
  await waitFor(async () => (await committedOffset(topic, 'idle')) !== undefined, { what: 'the first poll' });
  const started = Date.now();
  await loop.stop();
  assert.ok(Date.now() - started < 1000, `stopped after ${Date.now() - started} ms`);

  const controller = new AbortController();
  const bySignal = svc.runConsumer({ topic, group: 'idle2', timeoutSeconds: 60, handler: () => {}, signal: controller.signal });
  await waitFor(async () => (await committedOffset(topic, 'idle2')) !== undefined, { what: 'the first poll' });
  controller.abort();
  await bySignal.done;
  await bySignal.stop();  // stopping twice is harmless
});

test('a loop goes on across a server restart', async () => {
  const topic = await tableWithTopic('durable');
  const bodies = [];
  const errors = [];
  const loop = svc.runConsumer({
    topic, group: 'd', start: 'earliest', timeoutSeconds: 5,
    handler: (message) => { bodies.push(message.payload.body); },
    onError: (error, context) => errors.push(`${context.stage}: ${error.code}`),
  });
  await root.insert('app.durable', { id: 1, body: 'before' });
  await waitFor(async () => (await committedOffset(topic, 'd')) === 0, { what: 'the first acknowledged' });
  await server.restart('SIGKILL');
  await root.insert('app.durable', { id: 2, body: 'after' });
  await waitFor(async () => (await committedOffset(topic, 'd')) === 1, { ms: 20000, what: 'the second acknowledged' });
  await loop.stop();
  assert.deepEqual(bodies, ['before', 'after']);
  assert.ok(errors.some((e) => e === 'consume: NETWORK_ERROR'), errors.join(', '));
});

test('an agent answers each user message in that user\'s rows (the README\'s worker)', async () => {
  await root.query(
    "CREATE USER TABLE app.chat (id BIGINT PRIMARY KEY DEFAULT SNOWFLAKE_ID(), role TEXT, body TEXT); " +
      'CREATE TOPIC app.to_agent; ' +
      "ALTER TOPIC app.to_agent ADD SOURCE app.chat ON INSERT WHERE role = 'user'",
  );
  const agent = svc.runConsumer({
    topic: 'app.to_agent', group: 'reply-agent', start: 'earliest',
    handler: async (message) => {
      await svc.executeAsUser("INSERT INTO app.chat (role, body) VALUES ('assistant', $1)", message.user,
        [`echo: ${message.payload.body}`]);
    },
  });
  const alice = clientAs(server, 'alice');
  const bob = clientAs(server, 'bob');
  await alice.insert('app.chat', { role: 'user', body: 'hello' });
  await bob.insert('app.chat', { role: 'user', body: 'hi there' });
  const conversation = async (client) =>
    (await client.queryAll('SELECT role, body FROM app.chat ORDER BY id')).map((r) => `${r.role.asString()}: ${r.body.asString()}`);
  await waitFor(async () => (await conversation(alice)).length === 2 && (await conversation(bob)).length === 2,
    { what: 'both answered' });
  await waitFor(async () => (await committedOffset('app.to_agent', 'reply-agent')) === 1, { what: 'both acknowledged' });
  await agent.stop();
  assert.deepEqual(await conversation(alice), ['user: hello', 'assistant: echo: hello']);
  assert.deepEqual(await conversation(bob), ['user: hi there', 'assistant: echo: hi there']);
  const routed = await svc.consume({ topic: 'app.to_agent', start: 'earliest' });
  assert.equal(routed.messages.length, 2, 'the replies are not routed back to the agent');
  await alice.shutdown();
  await bob.shutdown();
});
