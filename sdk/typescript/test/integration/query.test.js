// SQL over HTTP against a real kalamdb-server: answers, cells of every type, params,
// errors with their codes, users kept apart, sign-in.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Auth, createClient, KalamError, SeqId } from '../../dist/index.js';
import { appServer, clientAs, PASSWORD } from '../support/fixtures.js';

let server;
let root;
let alice;
let bob;

before(async () => {
  server = await appServer();
  root = clientAs(server, 'root');
  alice = clientAs(server, 'alice');
  bob = clientAs(server, 'bob');
  await root.query(
    'CREATE USER TABLE app.notes (id BIGINT PRIMARY KEY, body TEXT, n INT); ' +
      'CREATE SHARED TABLE app.kinds (id BIGINT PRIMARY KEY, b BOOLEAN, s SMALLINT, i INT, big BIGINT, f FLOAT, d DOUBLE, ' +
      'dec DECIMAL(12,3), t TEXT, by BYTES, j JSON, ts TIMESTAMP, dt DATE, tm TIME, u UUID)',
  );
});

after(async () => {
  for (const client of [root, alice, bob]) await client?.shutdown();
  await server?.dispose();
});

test('createClient throws at once without url or authProvider', () => {
  assert.throws(() => createClient({ authProvider: async () => Auth.none() }), /url is required/);
  assert.throws(() => createClient({ url: server.url }), /authProvider is required/);
});

test('query answers results with schema, rows, row_count and took', async () => {
  const response = await alice.query('SELECT 1 AS one, \'x\' AS two; SELECT 2 AS n');
  assert.equal(response.status, 'success');
  assert.equal(response.results.length, 2);
  assert.deepEqual(response.results[0].schema.map((f) => f.name), ['one', 'two']);
  assert.deepEqual(response.results[0].rows, [[1, 'x']]);
  assert.equal(response.results[1].row_count, 1);
  assert.equal(typeof response.took, 'number');
});

test('cells of every type, BIGINT past 2^53 exact', async () => {
  const big = 2n ** 62n + 12345n;
  await root.query(
    'INSERT INTO app.kinds VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)',
    [1n, true, 7, -2147483648, big, 1.5, 2.25, '12345.678', 'héllo', 'AAEC/w==', { k: [1, 2n ** 60n] },
      '2026-11-24T05:00:00.123456Z', '2026-11-24', '05:06:07.5', '550e8400-e29b-41d4-a716-446655440000'],
  );
  await root.query('INSERT INTO app.kinds (id) VALUES (2)');
  const [row, empty] = await root.queryAll('SELECT * FROM app.kinds ORDER BY id');
  assert.equal(row.b.asBoolean(), true);
  assert.equal(row.s.asNumber(), 7);
  assert.equal(row.i.asInt(), -2147483648);
  assert.equal(row.big.asBigInt(), big);
  assert.equal(row.big.asString(), big.toString());
  assert.equal(row.f.asNumber(), 1.5);
  assert.equal(row.d.asFloat(), 2.25);
  assert.equal(row.dec.asDecimal(), '12345.678');
  assert.equal(row.t.asString(), 'héllo');
  // a text param into BYTES stores the text's bytes; the server answers base64
  assert.deepEqual(Array.from(row.by.asBytes()), Array.from(new TextEncoder().encode('AAEC/w==')));
  assert.deepEqual(row.j.asJson(), { k: [1, 2n ** 60n] });
  assert.equal(row.ts.asDate().toISOString(), '2026-11-24T05:00:00.123Z');
  assert.equal(row.ts.asString(), '2026-11-24T05:00:00.123456Z');
  assert.equal(row.dt.asDate().toISOString(), '2026-11-24T00:00:00.000Z');
  assert.match(row.tm.asString(), /^05:06:07\.5/);
  assert.equal(row.u.asString(), '550e8400-e29b-41d4-a716-446655440000');
  assert.equal(row._seq.asBigInt() > 2n ** 53n, true);
  for (const column of ['b', 's', 'big', 'dec', 'j', 'ts', 'u']) assert.equal(empty[column].isNull(), true, column);
  const plain = JSON.parse(JSON.stringify(row));
  assert.equal(plain.big, big.toString(), 'toJSON writes bigints as strings');
  assert.equal(plain.t, 'héllo');
});

test('params of every JSON type, bigint, Date, SeqId and null bind $n', async () => {
  const at = new Date('2026-01-02T03:04:05.006Z');
  const row = await root.queryOne(
    'SELECT $1 AS a, $2 AS b, $3 AS c, $4 AS d, $5 AS e, $6 AS f, $7::TIMESTAMP AS g, $8 AS h',
    [null, true, 42, 2.5, "it's", 9007199254740993n, at, SeqId.from('386686101856718848')],
  );
  assert.equal(row.a.isNull(), true);
  assert.equal(row.b.asBoolean(), true);
  assert.equal(row.c.asNumber(), 42);
  assert.equal(row.d.asNumber(), 2.5);
  assert.equal(row.e.asString(), "it's");
  assert.equal(row.f.asBigInt(), 9007199254740993n);
  assert.equal(row.g.asDate().getTime(), at.getTime());
  assert.equal(row.h.asBigInt(), 386686101856718848n);
});

test('errors are KalamError with code, message and statementIndex', async () => {
  const cases = [
    [() => alice.query('SELECT 1; SELEC 2'), 'INVALID_SQL', 2, 400],
    [() => alice.query('SELECT * FROM app.nope'), 'NOT_FOUND', 1, 404],
    [() => alice.query("CREATE USER 'x' WITH PASSWORD 'long-enough-1' ROLE user"), 'PERMISSION_DENIED', 1, 403],
    [() => alice.query('SELECT $1', [1, 2]), 'INVALID_PARAMETER', undefined, 400],
    [() => alice.query('SELECT 1; SELECT 2', [1]), 'PARAMS_WITH_BATCH', undefined, 400],
    [() => alice.query(''), 'EMPTY_SQL', undefined, 400],
    [() => root.query('INSERT INTO app.kinds (id) VALUES (1)'), 'CONSTRAINT_VIOLATION', 1, 400],
  ];
  for (const [run, code, index, status] of cases) {
    await assert.rejects(run, (error) => {
      assert.ok(error instanceof KalamError);
      assert.equal(error.code, code);
      assert.equal(error.httpStatus, status);
      if (index !== undefined) assert.equal(error.statementIndex, index);
      assert.ok(error.message.length > 0);
      return true;
    }, code);
  }
  const failed = await alice.query('SELECT 1; SELEC 2').catch((e) => e);
  assert.equal(failed.results.length, 1, 'results of the statements that ran before');
});

test('a wrong password makes login() reject; Auth.none() is refused', async () => {
  const wrong = createClient({ url: server.url, authProvider: async () => Auth.basic('alice', 'not-the-password') });
  await assert.rejects(wrong.login(), (e) => e.code === 'INVALID_CREDENTIALS' && e.httpStatus === 401);
  const anonymous = createClient({ url: server.url, authProvider: async () => Auth.none() });
  await assert.rejects(anonymous.query('SELECT 1'), (e) => e.code === 'MISSING_AUTHORIZATION');
  assert.equal((await anonymous.healthCheck()).status, 'healthy');
});

test('login() gives tokens; Auth.jwt and refreshToken() work with them', async () => {
  const client = clientAs(server, 'bob');
  const login = await client.login();
  assert.equal(login.token_type, 'Bearer');
  assert.equal(login.user.username, 'bob');
  assert.equal(client.getAuthType(), 'basic');
  const refreshed = await client.refreshToken();
  assert.notEqual(refreshed.refresh_token, login.refresh_token, 'refresh tokens rotate');
  const byToken = createClient({ url: server.url, authProvider: async () => Auth.jwt(refreshed.access_token) });
  assert.equal((await byToken.queryOne('SELECT 1 AS x')).x.asNumber(), 1);
  assert.equal(byToken.getAuthType(), 'jwt');
  await client.shutdown();
});

test('two users: each sees only their own rows of a USER table', async () => {
  await alice.insert('app.notes', { id: 1, body: 'alice 1', n: 1 });
  await bob.insert('app.notes', { id: 1, body: 'bob 1', n: 1 });
  await bob.insert('app.notes', { id: 2, body: 'bob 2', n: 2 });
  assert.deepEqual((await alice.queryAll('SELECT body FROM app.notes')).map((r) => r.body.asString()), ['alice 1']);
  assert.deepEqual((await bob.queryAll('SELECT body FROM app.notes ORDER BY id')).map((r) => r.body.asString()), ['bob 1', 'bob 2']);
});

test('insert, update and delete by id; queryOne gives null for no row', async () => {
  await alice.insert('app.notes', { id: 10, body: 'draft', n: 0 });
  await alice.update('app.notes', 10, { body: 'final', n: 3 });
  const row = await alice.queryOne('SELECT body, n FROM app.notes WHERE id = $1', [10]);
  assert.equal(row.body.asString(), 'final');
  assert.equal(row.n.asNumber(), 3);
  await alice.delete('app.notes', 10);
  assert.equal(await alice.queryOne('SELECT * FROM app.notes WHERE id = 10'), null);
});

test('executeAsUser writes into the named user\'s rows', async () => {
  const svc = clientAs(server, 'svc');
  await svc.executeAsUser('INSERT INTO app.notes (id, body, n) VALUES ($1, $2, $3)', 'alice', [20, 'from svc', 0]);
  const row = await alice.queryOne('SELECT body FROM app.notes WHERE id = 20');
  assert.equal(row.body.asString(), 'from svc');
  assert.equal(await bob.queryOne('SELECT body FROM app.notes WHERE id = 20'), null);
  await assert.rejects(alice.executeAsUser('SELECT 1', 'bob'), (e) => e.code === 'PERMISSION_DENIED');
  await svc.shutdown();
});

test('Basic credentials on a new client sign in once, then use tokens', async () => {
  const client = createClient({ url: server.url, authProvider: async () => Auth.basic('alice', PASSWORD) });
  await client.initialize();
  for (let i = 0; i < 3; i++) assert.equal((await client.queryOne('SELECT 1 AS x')).x.asNumber(), 1);
  await client.shutdown();
});
