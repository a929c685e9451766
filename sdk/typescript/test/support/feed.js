// A concurrent writer and a checking reader, for the tests that break the connection:
// the writer inserts, updates and deletes rows of app.feed; the reader keeps a live() row
// set and the raw event log; check() compares them with a fresh query.
import assert from 'node:assert/strict';
import { waitFor } from './server.js';

export const FEED_TABLE = 'CREATE USER TABLE app.feed (id BIGINT PRIMARY KEY, n INT)';

/** Writes to app.feed until stop() (retrying through outages); resolves to the count. */
export function startWriter(client) {
  let running = true;
  let written = 0;
  const retry = async (sql, params) => {
    for (;;) {
      try {
        return await client.query(sql, params);
      } catch (error) {
        if (error.code === 'CONSTRAINT_VIOLATION') return null;  // committed, answer lost
        if (!running && error.code === 'NETWORK_ERROR') return null;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }
  };
  const done = (async () => {
    for (let id = 1; running; id++) {
      await retry('INSERT INTO app.feed (id, n) VALUES ($1, 0)', [id]);
      if (id % 5 === 0) await retry('UPDATE app.feed SET n = n + 1 WHERE id = $1', [id - 3]);
      if (id % 7 === 0) await retry('DELETE FROM app.feed WHERE id = $1', [id - 6]);
      written = id;
    }
    return written;
  })();
  return { stop: async () => { running = false; return done; }, count: () => written };
}

/** Subscribes `client` to app.feed twice: live() rows and the raw events' `_seq`s. */
export async function startReader(client) {
  const reader = { rows: new Map(), log: [], stops: [] };
  reader.stops.push(await client.live('SELECT id, n FROM app.feed', (rows) => {
    reader.rows = new Map(rows.map((row) => [row.id.asString(), row.n.asNumber()]));
  }));
  reader.stops.push(await client.subscribeWithSql('SELECT id, n FROM app.feed', (event) => {
    const rows = event.type === 'change' && event.change_type === 'delete' ? event.old_values : event.rows;
    for (const row of rows ?? []) reader.log.push({ seq: row._seq.asBigInt(), id: row.id.asString(), n: row.n.asNumber() });
  }));
  return reader;
}

/** The reader caught up with the table: its rows equal a fresh query; its log holds the
 *  current version of every row, in rising `_seq` order, none twice. */
export async function checkReader(reader, client) {
  let fresh;
  await waitFor(async () => {
    fresh = await client.queryAll('SELECT id, n, _seq FROM app.feed ORDER BY id');
    return fresh.length === reader.rows.size &&
      fresh.every((row) => reader.rows.get(row.id.asString()) === row.n.asNumber());
  }, { ms: 15000, what: 'the live() rows to equal a fresh query' });
  const seqs = reader.log.map((entry) => entry.seq);
  for (let i = 1; i < seqs.length; i++) {
    assert.ok(seqs[i] > seqs[i - 1], `event log in _seq order, none twice (at ${i}: ${seqs[i - 1]} then ${seqs[i]})`);
  }
  const logged = new Set(seqs.map(String));
  const missing = fresh.filter((row) => !logged.has(row._seq.asBigInt().toString()));
  assert.deepEqual(missing.map((row) => row.id.asString()), [], 'every row\'s current version reached the event log');
  return fresh.length;
}

/** A server with app.feed, behind a proxy whose connections a test can cut. */
export async function feedServer(options) {
  const { appServer } = await import('./fixtures.js');
  const { CuttableProxy } = await import('./proxy.js');
  const server = await appServer(options);
  await server.rootSql(FEED_TABLE);
  const proxy = await new CuttableProxy(server.port).listen();
  return {
    server,
    proxy,
    dispose: async () => {
      await proxy.close();
      await server.dispose();
    },
  };
}
