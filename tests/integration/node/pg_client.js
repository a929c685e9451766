// node-postgres (the npm `pg` package, pinned by package-lock.json) against a running
// kalamdb-server's Postgres door.
// Usage: node pg_client.js <pg port> <root password>
// The users alice and carol (passwords alice-password, carol-password) must exist. Prints each
// check's name; the first failure exits non-zero.
'use strict';
const assert = require('node:assert/strict');
const { Client, Pool } = require('pg');

const [port, rootPassword] = process.argv.slice(2);
const ns = `js${process.pid}`;
const config = (user, password) => ({ host: '127.0.0.1', port: Number(port), user, password, database: 'kalam' });

async function connect(user, password) {
  const client = new Client(config(user, password));
  await client.connect();
  return client;
}

async function expectCode(promise, code) {
  await assert.rejects(promise, (e) => {
    assert.equal(e.code, code, `${e.message} (${e.code})`);
    return true;
  });
}

async function main() {
  const root = await connect('root', rootPassword);
  await root.query(`CREATE NAMESPACE ${ns}`);
  await root.query(`CREATE SHARED TABLE ${ns}.items (id BIGINT PRIMARY KEY, name TEXT, price DOUBLE, ok BOOLEAN, ` +
                   'added TIMESTAMP, raw BYTES, doc JSON)');
  await root.query(`CREATE USER TABLE ${ns}.notes (id BIGINT PRIMARY KEY, body TEXT)`);

  // Parameters (node-postgres sends them as text of unspecified type) and results.
  const big = '9007199254740993';  // 2^53 + 1: a JavaScript number would round it
  const added = new Date(Date.UTC(2026, 11, 3, 4, 5, 6, 789));
  await root.query(`INSERT INTO ${ns}.items (id, name, price, ok, added, raw, doc) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
                   [big, "it's \\ ünïcode", 12.5, true, added, Buffer.from([0, 1, 39, 255]), JSON.stringify({ a: [1, null] })]);
  let result = await root.query(`SELECT id, name, price, ok, added, raw, doc FROM ${ns}.items WHERE id = $1`, [big]);
  assert.equal(result.rowCount, 1);
  const row = result.rows[0];
  assert.equal(row.id, big);  // int8 arrives as a string, all digits
  assert.equal(row.name, "it's \\ ünïcode");
  assert.equal(row.price, 12.5);
  assert.equal(row.ok, true);
  assert.equal(row.added.getTime() - row.added.getTimezoneOffset() * 60000, added.getTime());  // timestamp without zone
  assert.deepEqual([...row.raw], [0, 1, 39, 255]);
  assert.deepEqual(row.doc, { a: [1, null] });
  assert.deepEqual(result.fields.map((f) => f.dataTypeID), [20, 25, 701, 16, 1114, 17, 114]);
  await root.query(`INSERT INTO ${ns}.items (id, name) VALUES ($1, $2)`, [2, null]);
  result = await root.query(`SELECT name, price FROM ${ns}.items WHERE id = $1`, [2]);
  assert.deepEqual(result.rows[0], { name: null, price: null });
  console.log('ok parameters and results of each type, NULLs, BIGINT past 2^53');

  // Results in binary, as the client asks.
  result = await root.query({ text: `SELECT id, ok, name FROM ${ns}.items WHERE id = $1`, values: [big], binary: true });
  assert.equal(result.rows[0].id, big);
  assert.equal(result.rows[0].ok, true);
  assert.equal(result.rows[0].name, "it's \\ ünïcode");
  console.log('ok binary results');

  // A named prepared statement, parsed once, reused.
  for (let i = 0; i < 500; i++) {
    result = await root.query({ name: 'by-id', text: `SELECT $2::INT + 1 AS n, name FROM ${ns}.items WHERE id = $1`, values: [big, i] });
    assert.equal(result.rows[0].n, i + 1);
  }
  console.log('ok a named prepared statement reused 500 times');

  // Transactions.
  await root.query('BEGIN');
  await root.query(`INSERT INTO ${ns}.items (id, name) VALUES (10, 'rolled back')`);
  await root.query('ROLLBACK');
  await root.query('BEGIN');
  await root.query(`INSERT INTO ${ns}.items (id, name) VALUES (11, 'committed')`);
  await root.query('COMMIT');
  result = await root.query(`SELECT id FROM ${ns}.items WHERE id IN (10, 11) ORDER BY id`);
  assert.deepEqual(result.rows.map((r) => r.id), ['11']);
  const other = await connect('root', rootPassword);
  await root.query('BEGIN');
  await other.query('BEGIN');
  await root.query(`UPDATE ${ns}.items SET name = 'first' WHERE id = 11`);
  await other.query(`UPDATE ${ns}.items SET name = 'second' WHERE id = 11`);
  await root.query('COMMIT');
  await expectCode(other.query('COMMIT'), '40001');
  await other.end();
  console.log('ok transactions: commit, rollback, conflict');

  // Errors with their SQLSTATE; the connection goes on.
  await expectCode(root.query(`INSERT INTO ${ns}.items (id) VALUES (11)`), '23505');
  await expectCode(root.query('SELEC 1'), '42601');
  await expectCode(root.query(`SELECT * FROM ${ns}.missing`), '42P01');
  await expectCode(connect('alice', 'wrong-password'), '28P01');
  assert.equal((await root.query('SELECT 41 + 1 AS n')).rows[0].n, 42);
  console.log('ok errors with SQLSTATEs');

  // Two users, each their own rows.
  const alice = await connect('alice', 'alice-password');
  const carol = await connect('carol', 'carol-password');
  await alice.query(`INSERT INTO ${ns}.notes (id, body) VALUES ($1, $2)`, [1, 'alice']);
  await carol.query(`INSERT INTO ${ns}.notes (id, body) VALUES ($1, $2)`, [1, 'carol']);
  assert.deepEqual((await alice.query(`SELECT body FROM ${ns}.notes`)).rows, [{ body: 'alice' }]);
  assert.deepEqual((await carol.query(`SELECT body FROM ${ns}.notes`)).rows, [{ body: 'carol' }]);
  await alice.end();
  await carol.end();
  console.log('ok two users see only their own rows');

  // A pool of 20 connections under concurrent load: every answer is its own.
  const pool = new Pool({ ...config('root', rootPassword), max: 20 });  // the server's cap is above this
  const queries = [];
  for (let i = 0; i < 2000; i++) {
    queries.push(pool.query(`SELECT $1::BIGINT * 3 AS n, name FROM ${ns}.items WHERE id = $2`, [i, big]).then((r) => {
      assert.equal(r.rows[0].n, String(i * 3));
    }));
    if (i % 10 === 0) {
      queries.push(pool.query(`INSERT INTO ${ns}.items (id, name) VALUES ($1, $2)`, [1000 + i, `row ${i}`]));
    }
  }
  await Promise.all(queries);
  assert.equal(pool.totalCount, 20);
  const count = await pool.query(`SELECT count(*) AS n FROM ${ns}.items WHERE id BETWEEN 1000 AND 2999`);
  assert.equal(count.rows[0].n, '200');
  await pool.end();
  console.log('ok a pool of 20 connections under concurrent load');

  await root.end();
  console.log('all passed');
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
