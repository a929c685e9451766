// Reconnect and resume under a concurrent writer: after a dropped socket and after a
// server restart the client's rows equal a fresh query, and its event log has every
// row's current version once, in order.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { clientAs } from '../support/fixtures.js';
import { checkReader, feedServer, startReader, startWriter } from '../support/feed.js';
import { waitFor } from '../support/server.js';

let server;
let proxy;
let feed;

before(async () => {
  feed = await feedServer();
  ({ server, proxy } = feed);
});

after(() => feed?.dispose());

test('resume after a dropped socket and after a server restart, with a writer going on', async () => {
  const writerClient = clientAs(server, 'alice');
  const sent = [];
  const client = clientAs(server, 'alice', { url: proxy.url, onSend: (text) => sent.push(text) });
  const states = [];
  client.onConnectionChange((state) => states.push(state));
  const writer = startWriter(writerClient);
  // A failed check must not leave the clients retrying against a stopped server (the
  // run would then hang until its timeout): they shut down whatever happens.
  try {
    await waitFor(() => writer.count() >= 20, { what: 'first writes' });
    const reader = await startReader(client);
    await waitFor(() => writer.count() >= 60, { what: 'writes while subscribed' });

    proxy.cutAll();  // the network drops the socket: no close frame
    await waitFor(() => states.includes('reconnecting'), { what: 'the drop noticed' });
    await waitFor(() => client.isConnected(), { what: 'reconnected after the drop' });
    await waitFor(() => writer.count() >= 120, { what: 'writes after the drop' });

    await server.restart('SIGTERM');  // the writer's requests fail meanwhile and are retried
    await waitFor(() => writer.count() >= 200, { ms: 20000, what: 'writes after the restart' });
    const written = await writer.stop();

    const rows = await checkReader(reader, client);
    assert.ok(rows > 100, `rows: ${rows} of ${written} written`);
    assert.ok(states.filter((s) => s === 'connected').length >= 3, `states: ${states.join(' ')}`);
    const resumes = sent.filter((text) => text.includes('"subscribe"') && text.includes('from_seq_id'));
    assert.equal(resumes.length, 2, 'the raw subscription resumed from _seq twice');
    console.log(`rows ${rows}, events ${reader.log.length}, written ${written}`);
    for (const stop of reader.stops) await stop();
  } finally {
    await writer.stop();
    await client.shutdown();
    await writerClient.shutdown();
  }
});
