// runConsumer's acknowledgements and retries against a scripted server (a fake fetch): no
// acknowledgement passes a message whose handler threw, messages handled before come back
// and are skipped, failed requests are reported and retried, stop() ends a backoff.
import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { Auth, createClient } from '../../dist/index.js';
import { waitFor } from '../support/server.js';

const realFetch = globalThis.fetch;
afterEach(() => { globalThis.fetch = realFetch; });

/** Answers consume requests from `script` (then empty batches after a short wait) and
 *  records every request's body. */
function scriptedServer(script) {
  const requests = [];
  globalThis.fetch = async (url, init) => {
    const body = JSON.parse(init.body);
    const path = new URL(url).pathname;
    requests.push({ path, body });
    if (path.endsWith('/ack')) return json(200, { success: true, acknowledged_offset: body.upto_offset });
    const next = script.shift();
    if (next === undefined) {
      await new Promise((resolve, reject) => {
        const timer = setTimeout(resolve, 20);
        init.signal?.addEventListener('abort', () => { clearTimeout(timer); reject(new DOMException('aborted', 'AbortError')); });
      });
      return json(200, { messages: [], next_offset: 0, has_more: false });
    }
    if (next === 'network') throw new TypeError('fetch failed');
    if (typeof next === 'number') return json(next, { status: 'error', error: { code: 'INTERNAL_ERROR', message: 'boom' } });
    return json(200, { messages: next.map(message), next_offset: next.at(-1) + 1, has_more: false });
  };
  return requests;
}

function message(offset) {
  return {
    topic_id: 'app.t', partition_id: 0, offset, payload: `{"n":${offset}}`, key: String(offset),
    timestamp_ms: 1, user: null, op: 'insert',
  };
}

function json(status, body) {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
}

const client = () => createClient({ url: 'http://kalam.test', authProvider: async () => Auth.none() });

test('no acknowledgement passes a failed message; handled ones are skipped when they come back', async () => {
  const requests = scriptedServer([[0, 1, 2], [3, 4], [1, 2, 3, 4]]);
  const handled = [];
  const errors = [];
  let fails = 1;
  const loop = client().runConsumer({
    topic: 'app.t', group: 'g',
    handler: (m) => {
      handled.push(m.offset);
      if (m.offset === 1 && fails-- > 0) throw new Error('later');
    },
    onError: (error, context) => errors.push([context.stage, context.messages?.map((m) => m.offset)]),
  });
  const acks = () => requests.filter((r) => r.path.endsWith('/ack')).map((r) => r.body.upto_offset);
  await waitFor(() => acks().includes(4), { what: 'the acknowledgement up to 4' });
  await loop.stop();
  assert.deepEqual(handled, [0, 1, 2, 3, 4, 1]);
  assert.deepEqual(acks(), [0, 4], 'up to 0 while 1 failed; up to 4 once it was handled');
  assert.deepEqual(errors, [['handler', [1]]]);
  const polls = requests.filter((r) => r.path.endsWith('/consume')).map((r) => r.body);
  assert.deepEqual(polls[0], { topic_id: 'app.t', group_id: 'g', limit: 100, partition_id: 0, timeout_seconds: 20 });
  assert.ok(polls.every((p) => p.timeout_seconds === 20), 'long polls throughout');
  assert.deepEqual(handled.length, 6);
});

test('failed requests are reported and retried with a growing backoff; stop() ends the wait', async () => {
  const requests = scriptedServer(['network', 503, 'network', [0]]);
  const errors = [];
  const handled = [];
  const loop = client().runConsumer({
    topic: 'app.t', group: 'g', handler: (m) => { handled.push(m.offset); },
    onError: (error, context) => errors.push([context.stage, error.code, Date.now()]),
  });
  await waitFor(() => handled.length === 1, { what: 'the message after three failures' });
  assert.deepEqual(errors.map(([stage, code]) => [stage, code]), [
    ['consume', 'NETWORK_ERROR'], ['consume', 'INTERNAL_ERROR'], ['consume', 'NETWORK_ERROR'],
  ]);
  // Backoff ceilings 250, 500 ms (each delay half to all of its ceiling).
  assert.ok(errors[1][2] - errors[0][2] >= 120, `first pause ${errors[1][2] - errors[0][2]} ms`);
  assert.ok(errors[2][2] - errors[1][2] >= 245, `second pause ${errors[2][2] - errors[1][2]} ms`);
  await loop.stop();

  // Stopped while it backs off (the fourth pause can be up to 2 s): at once.
  scriptedServer(['network', 'network', 'network', 'network', 'network']);
  const failing = [];
  const backingOff = client().runConsumer({ topic: 'app.t', group: 'g', handler: () => {}, onError: () => failing.push(1) });
  await waitFor(() => failing.length >= 4, { what: 'four failures' });
  const started = Date.now();
  await backingOff.stop();
  assert.ok(Date.now() - started < 100, `stopped after ${Date.now() - started} ms`);
  assert.ok(requests.length >= 4);
});
