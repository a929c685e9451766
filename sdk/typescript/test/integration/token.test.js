// Tokens that expire while a subscription runs: the client refreshes them (Basic
// credentials) or asks its authProvider again (JWT), and no event is lost.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Auth, createClient } from '../../dist/index.js';
import { clientAs, PASSWORD } from '../support/fixtures.js';
import { checkReader, feedServer, startReader, startWriter } from '../support/feed.js';
import { waitFor } from '../support/server.js';

const TTL_SECS = 3;
let server;
let proxy;
let feed;

before(async () => {
  feed = await feedServer({ accessTokenTtlSecs: TTL_SECS });
  ({ server, proxy } = feed);
});

after(() => feed?.dispose());

test('a token expiring mid-subscription is refreshed before expiry; no event lost', async () => {
  const writerClient = clientAs(server, 'alice');
  const client = clientAs(server, 'alice', { url: proxy.url });
  const first = await client.login();
  assert.equal(first.expires_in, TTL_SECS);
  const writer = startWriter(writerClient);
  const reader = await startReader(client);
  // A failed check must not leave the clients retrying against a stopped server (the
  // run would then hang until its timeout): they shut down whatever happens.
  try {
    const started = Date.now();
    await waitFor(() => Date.now() - started > (TTL_SECS + 1) * 1000, { ms: 10000, what: 'the first token to expire' });
    // The first access token has expired: a new socket needs the refreshed one.
    await assert.rejects(
      fetch(`${server.url}/v1/api/sql`, { method: 'POST', headers: { Authorization: `Bearer ${first.access_token}`, 'Content-Type': 'application/json' }, body: '{"sql":"SELECT 1"}' })
        .then(async (res) => { const body = await res.json(); if (body.error) throw Object.assign(new Error(body.error.code), { code: body.error.code }); }),
      (e) => e.code === 'TOKEN_EXPIRED',
    );
    proxy.cutAll();
    await waitFor(() => client.getConnectionState() === 'reconnecting', { what: 'the drop noticed' });
    await waitFor(() => client.isConnected(), { what: 'reconnected with a refreshed token' });
    assert.equal((await client.queryOne('SELECT 1 AS x')).x.asNumber(), 1, 'HTTP with the refreshed token');
    const count = writer.count();
    await waitFor(() => writer.count() >= count + 30, { what: 'writes after the reconnect' });
    await writer.stop();
    await checkReader(reader, client);
    for (const stop of reader.stops) await stop();
  } finally {
    await writer.stop();
    await client.shutdown();
    await writerClient.shutdown();
  }
});

test('with Auth.jwt the provider is asked again when its token expired or is refused', async () => {
  let asked = 0;
  const provider = async () => {
    asked++;
    const res = await fetch(`${server.url}/v1/api/auth/login`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ username: 'bob', password: PASSWORD }),
    });
    return Auth.jwt((await res.json()).access_token);
  };
  const client = createClient({ url: proxy.url, authProvider: provider, reconnectDelayMs: 50 });
  const seen = [];
  const stop = await client.subscribeWithSql('SELECT id, n FROM app.feed', (e) => {
    for (const row of e.rows ?? []) seen.push(row.id.asNumber());
  });
  assert.equal(asked, 1);
  const started = Date.now();
  await waitFor(() => Date.now() - started > (TTL_SECS + 1) * 1000, { ms: 10000, what: 'the token to expire' });
  proxy.cutAll();
  await waitFor(() => client.isConnected() && asked >= 2, { what: 'a new token from the provider' });
  await client.insert('app.feed', { id: 1, n: 7 });
  await waitFor(() => seen.includes(1), { what: 'the change after the reconnect' });
  await stop();
  await client.shutdown();
});
