// The admin UI in headless Chromium (Debian's, through puppeteer-core) against a real
// kalamdb-server that embeds it: sign-in, the SQL studio, the table view's edits, the live
// view, a plain user's limits, text-only rendering, the CSP header, a 100,000-row table that
// scrolls without loading everything, the topics pages (a topic and its source made in the
// page, its messages, a group's offsets and lag, reset, clear, drop, and the roles), and
// screenshots of every page in both themes.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import puppeteer from 'puppeteer-core';
import { Auth, createClient } from '@kalamdb/client';
import { ROOT_PASSWORD, startServer, waitFor } from '../../sdk/typescript/test/support/server.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const outputDir = process.env.TEST_OUTPUT_DIR ?? path.join(here, '..', 'test-output');
const chromium = process.env.CHROMIUM ?? '/usr/bin/chromium';
const XSS_IMG = '<img src=x onerror="window.__pwned=1">';
const XSS_SCRIPT = '<script>window.__pwned=2</script>';

let server;
let browser;
const problems = [];
const openPages = new Set();

/** A test that, when it fails, leaves a screenshot of each page it had open. */
function scenario(name, body) {
  test(name, async () => {
    try {
      await body();
    } catch (error) {
      let n = 0;
      for (const page of openPages) {
        await page.screenshot({ path: path.join(outputDir, `failed-${name.slice(0, 30).replace(/\W+/g, '-')}-${n++}.png`) }).catch(() => undefined);
      }
      throw error;
    } finally {
      openPages.clear();
    }
  });
}

before(async () => {
  mkdirSync(outputDir, { recursive: true });
  server = await startServer();
  browser = await puppeteer.launch({
    executablePath: chromium,
    headless: true,
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--window-size=1280,800'],
    defaultViewport: { width: 1280, height: 800 },
  });
});

after(async () => {
  await browser?.close();
  await server?.dispose();
});

/** A new page in a fresh browser context (its own session storage), errors collected. The
 *  browser logs every refused request ("Failed to load resource ... 403"): those are the
 *  server's answers the page shows, not the page's errors. */
async function newPage(who) {
  const context = await browser.createBrowserContext();
  const page = await context.newPage();
  openPages.add(page);
  page.sqlRequests = 0;
  page.on('request', (r) => { if (r.url().endsWith('/v1/api/sql')) page.sqlRequests++; });
  page.on('pageerror', (error) => problems.push(`${who} pageerror: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() !== 'error') return;
    if (/Failed to load resource: the server responded with a status of 4\d\d/.test(message.text())) return;
    problems.push(`${who} console: ${message.text()}`);
  });
  return page;
}

async function signIn(page, user, password) {
  await page.goto(`${server.url}/`);
  await page.waitForSelector('#sign-in #username');
  await page.type('#username', user);
  await page.type('#password', password);
  await Promise.all([page.waitForSelector('nav.sidebar'), page.click('#sign-in button[type=submit]')]);
}

async function go(page, route) {
  await page.goto(`${server.url}/ui/${route}`);
  await page.waitForSelector('nav.sidebar');
}

/** Types SQL into the studio's editor and runs it with Ctrl+Enter. */
async function runInStudio(page, sql) {
  await page.waitForSelector('pierce/.cm-content');
  await page.click('pierce/.cm-content');
  await page.keyboard.down('Control');
  await page.keyboard.press('KeyA');
  await page.keyboard.up('Control');
  await page.keyboard.press('Backspace');
  await page.keyboard.type(sql);
  await page.keyboard.press('Escape'); // close the completion list
  const tabs = await page.$$eval('.tabs .tab', (t) => t.length).catch(() => 0);
  await page.keyboard.down('Control');
  await page.keyboard.press('Enter');
  await page.keyboard.up('Control');
  await page.waitForFunction((n) => document.querySelectorAll('.tabs .tab').length > n, {}, tabs);
}

const gridRows = (page) => page.$$eval('.grid-row', (rows) => rows
  .filter((r) => !r.classList.contains('pending'))
  .map((r) => [...r.querySelectorAll('.cell')].map((c) => c.textContent)));

async function fillRow(page, values) {
  for (const [column, value] of Object.entries(values)) {
    const selector = `.field[data-column="${column}"]`;
    const useDefault = await page.$(`${selector} .field-options input[type=checkbox]`);
    if (useDefault && await useDefault.evaluate((e) => e.checked && e.parentElement.textContent.includes('default'))) await useDefault.click();
    const input = await page.$(`#field-${column}`);
    await input.click({ clickCount: 3 });
    await page.keyboard.press('Backspace');
    await input.type(String(value));
  }
}

scenario('root creates a namespace and a table in the SQL studio, then inserts, edits and deletes rows in the table view', async () => {
  const page = await newPage('root');
  await signIn(page, 'root', ROOT_PASSWORD);
  await go(page, 'sql');
  await runInStudio(page, 'CREATE NAMESPACE shop; CREATE SHARED TABLE shop.items (id BIGINT PRIMARY KEY, name TEXT NOT NULL, price DOUBLE, note TEXT)');
  const message = await page.$eval('.result-message', (e) => e.textContent);
  assert.match(message, /created/i);

  // An error names its statement and place.
  await runInStudio(page, 'SELECT 1;\nSELECT nope FROM shop.items');
  const error = await page.$eval('.query-error', (e) => e.textContent);
  assert.match(error, /INVALID_SQL|NOT_FOUND/);
  assert.match(error, /statement 2/);

  await go(page, 'table/shop/items');
  await page.waitForSelector('.state.empty');
  const rows = [
    { id: 1, name: 'Tea', price: 3.5, note: 'green' },
    { id: 2, name: XSS_IMG, price: 7, note: XSS_SCRIPT },
    { id: 3, name: 'Coffee', price: 4.25, note: 'beans' },
  ];
  for (const row of rows) {
    await page.click('#add-row');
    await page.waitForSelector('.row-form');
    await fillRow(page, row);
    await page.click('#save-row');
    await page.waitForFunction(() => !document.querySelector('.row-form'));
    await page.waitForFunction((id) => document.querySelector('.sql-shown')?.textContent.includes(`VALUES (${id},`), {}, row.id);
  }
  await page.waitForFunction(() => document.querySelector('#row-count')?.textContent === '3 rows');
  await page.waitForFunction(() => document.querySelectorAll('.grid-row:not(.pending)').length === 3);

  // Edit Tea's price, delete Coffee.
  const rowIndex = async (id) => (await gridRows(page)).findIndex((r) => r[0] === String(id));
  await page.click(`.grid-row:nth-child(${(await rowIndex(1)) + 1})`, { count: 2 });
  await page.waitForSelector('.row-form');
  await fillRow(page, { price: 3.75 });
  await page.click('#save-row');
  await page.waitForFunction(() => document.querySelector('.sql-shown')?.textContent.startsWith('UPDATE shop.items SET price = 3.75 WHERE id = 1'));
  await page.waitForFunction(() => [...document.querySelectorAll('.grid-row')].some((r) => r.textContent.includes('3.75')));
  await page.click(`.grid-row:nth-child(${(await rowIndex(3)) + 1})`, { count: 2 });
  await page.waitForSelector('#delete-row');
  await page.click('#delete-row');
  await page.click('#confirm-delete');
  await page.waitForFunction(() => document.querySelector('#row-count')?.textContent === '2 rows');
  await page.waitForFunction(() => document.querySelectorAll('.grid-row:not(.pending)').length === 2);
  assert.equal(await page.$eval('.sql-shown', (e) => e.textContent), 'DELETE FROM shop.items WHERE id = 3');

  // The grid and a fresh SELECT agree.
  const shown = await gridRows(page);
  const client = createClient({ url: server.url, authProvider: async () => Auth.basic('root', ROOT_PASSWORD) });
  const fresh = await client.query('SELECT * FROM shop.items ORDER BY id');
  await client.shutdown();
  const expected = fresh.results[0].rows.map((r) => r.map((v) => (v === null ? 'NULL' : String(v))));
  assert.deepEqual(shown, expected);
  assert.deepEqual(expected.map((r) => r.slice(0, 4)), [['1', 'Tea', '3.75', 'green'], ['2', XSS_IMG, '7', XSS_SCRIPT]]);

  // Markup in values is text: no element made of it, nothing ran.
  assert.equal(await page.evaluate(() => window.__pwned), undefined);
  assert.equal(await page.$$eval('.grid img, .grid script', (e) => e.length), 0);
  await page.screenshot({ path: path.join(outputDir, 'table-xss-as-text.png') });
  await page.close();
});

scenario('the live view shows another client\'s insert within a second, then its update and delete', async () => {
  const page = await newPage('root-live');
  await signIn(page, 'root', ROOT_PASSWORD);
  await go(page, 'live?table=shop.items');
  await page.click('#live-start');
  await page.waitForSelector('#live-state[data-state="live"]');
  await page.waitForFunction(() => document.querySelectorAll('.live-table tbody tr').length === 2);

  const cellText = (text) => page.waitForFunction((t) => [...document.querySelectorAll('.live-table td')].some((td) => td.textContent === t), { polling: 'mutation', timeout: 1000 }, text);
  let started = Date.now();
  await server.rootSql("INSERT INTO shop.items (id, name, price) VALUES (10, 'Live cocoa', 5)");
  await cellText('Live cocoa');
  assert.ok(Date.now() - started < 1000, `insert shown after ${Date.now() - started} ms`);
  assert.equal(await page.$eval('.live-table tr[data-change="insert"]', (tr) => tr.textContent.includes('Live cocoa')), true);

  started = Date.now();
  await server.rootSql("UPDATE shop.items SET name = 'Live cocoa, hot' WHERE id = 10");
  await cellText('Live cocoa, hot');
  assert.ok(Date.now() - started < 1000);
  assert.equal(await page.$eval('.live-table tr[data-change="update"]', (tr) => tr.textContent.includes('Live cocoa, hot')), true);

  started = Date.now();
  await server.rootSql('DELETE FROM shop.items WHERE id = 10');
  await page.waitForSelector('.live-table tr[data-change="delete"]', { timeout: 1000 });
  assert.ok(Date.now() - started < 1000);
  await page.screenshot({ path: path.join(outputDir, 'live-delete.png') });
  // After its highlight the deleted row leaves.
  await page.waitForFunction(() => document.querySelectorAll('.live-table tbody tr').length === 2, { timeout: 5000 });
  const log = await page.$$eval('.event-log li strong', (s) => s.map((e) => e.textContent));
  assert.deepEqual(log.slice(0, 3), ['delete', 'update', 'insert']);
  await page.close();
});

scenario('a plain user sees only their rows and no user management; admin pages show the server\'s refusal', async () => {
  await server.rootSql("CREATE USER 'alice' WITH PASSWORD 'alice-pass-1' ROLE user; CREATE USER 'bob' WITH PASSWORD 'bob-pass-1' ROLE user");
  await server.rootSql('CREATE USER TABLE shop.notes (id BIGINT PRIMARY KEY, body TEXT)');
  await server.rootSql("EXECUTE AS USER 'alice' (INSERT INTO shop.notes (id, body) VALUES (1, 'alice one'), (2, 'alice two'))");
  await server.rootSql("EXECUTE AS USER 'bob' (INSERT INTO shop.notes (id, body) VALUES (3, 'bob secret'))");

  const page = await newPage('alice');
  await signIn(page, 'alice', 'alice-pass-1');
  const nav = await page.$$eval('nav.sidebar li a', (a) => a.map((e) => e.textContent));
  assert.ok(!nav.includes('Users & roles') && !nav.includes('Storages') && !nav.includes('Jobs'), nav.join(', '));
  await go(page, 'table/shop/notes');
  await page.waitForFunction(() => document.querySelector('#row-count')?.textContent === '2 rows');
  await page.waitForFunction(() => document.querySelectorAll('.grid-row:not(.pending)').length === 2);
  const bodies = (await gridRows(page)).map((r) => r[1]);
  assert.deepEqual(bodies, ['alice one', 'alice two']);

  for (const route of ['storages', 'jobs']) {
    await go(page, route);
    await page.waitForSelector('.state.error');
    assert.match(await page.$eval('.state.error', (e) => e.textContent), /PERMISSION_DENIED/);
  }
  await go(page, 'users');
  await page.waitForSelector('table.simple');
  assert.deepEqual(await page.$$eval('table.simple tbody tr td:first-child', (t) => t.map((e) => e.textContent)), ['alice']);
  await page.click('#create-user');
  await page.type('input[name=username]', 'mallory');
  await page.type('input[name=password]', 'mallory-pass');
  await page.click('.modal button[type=submit]');
  await page.waitForSelector('.state.error');
  assert.match(await page.$eval('.state.error', (e) => e.textContent), /PERMISSION_DENIED/);
  assert.equal(await page.$eval('.sql-shown', (e) => e.textContent), "CREATE USER 'mallory' WITH PASSWORD '********' ROLE user");
  await page.screenshot({ path: path.join(outputDir, 'plain-user-refused.png') });
  await page.close();

  // root reads every user's rows of the USER table, told so, and edits none of them.
  const admin = await newPage('root');
  await signIn(admin, 'root', ROOT_PASSWORD);
  await go(admin, 'table/shop/notes');
  await admin.waitForFunction(() => document.querySelector('#row-count')?.textContent === '3 rows');
  await admin.waitForFunction(() => document.querySelectorAll('.grid-row:not(.pending)').length === 3);
  assert.deepEqual((await gridRows(admin)).map((r) => r[1]), ['alice one', 'alice two', 'bob secret']);
  assert.match(await admin.$eval('#every-user', (e) => e.textContent), /Every user’s rows/);
  assert.equal(await admin.$('p.hint:not(#every-user)'), null, 'no edit hint');
  await admin.screenshot({ path: path.join(outputDir, 'admin-every-user.png') });
  await admin.close();
});

scenario('the UI is served with a CSP, nosniff and caching headers', async () => {
  const index = await fetch(`${server.url}/ui/`);
  const csp = index.headers.get('content-security-policy');
  assert.match(csp, /script-src 'self'/);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
  assert.equal(index.headers.get('x-content-type-options'), 'nosniff');
  assert.equal(index.headers.get('cache-control'), 'no-cache');
  const script = /src="(\/ui\/assets\/app-[^"]+\.js)"/.exec(await index.text())[1];
  const asset = await fetch(`${server.url}${script}`);
  assert.match(asset.headers.get('content-type'), /^text\/javascript/);
  assert.match(asset.headers.get('cache-control'), /immutable/);
  const root = await fetch(`${server.url}/`, { redirect: 'manual' });
  assert.equal(root.status, 302);
  assert.equal(root.headers.get('location'), '/ui/');
});

scenario('a 100,000-row table scrolls without loading everything', async () => {
  await server.rootSql("CREATE SHARED TABLE shop.big (id BIGINT PRIMARY KEY, label TEXT); INSERT INTO shop.big SELECT i, 'row ' || i FROM range(100000) t(i)");
  const page = await newPage('root-big');
  await signIn(page, 'root', ROOT_PASSWORD);
  await go(page, 'table/shop/big');
  await page.waitForFunction(() => document.querySelector('#row-count')?.textContent === '100,000 rows');
  await page.waitForFunction(() => document.querySelectorAll('.grid-row:not(.pending)').length > 10);
  const before = page.sqlRequests;
  for (const fraction of [0.1, 0.5, 0.9, 1]) {
    await page.$eval('.grid-viewport', (v, f) => { v.scrollTop = (v.scrollHeight - v.clientHeight) * f; }, fraction);
    // Loaded when the row at the top of the viewport is rendered and no row waits.
    await page.waitForFunction(() => {
      const viewport = document.querySelector('.grid-viewport');
      const rows = [...document.querySelectorAll('.grid-row')];
      const top = viewport.scrollTop;
      return rows.length > 10 && !rows.some((r) => r.classList.contains('pending')) &&
        rows.some((r) => parseFloat(r.style.top) <= top && parseFloat(r.style.top) + 30 > top);
    });
  }
  const rows = await gridRows(page);
  assert.equal(rows[rows.length - 1][1], 'row 99999');
  const requests = page.sqlRequests - before;
  assert.ok(requests <= 12, `${requests} requests for four jumps`);
  assert.ok(await page.$$eval('.grid-row', (r) => r.length) < 80, 'only the rows on screen are in the page');
  await page.close();
});

scenario('a fresh server whose root has no password opens on the set-up page, which sets one; tokens are refreshed', async () => {
  const fresh = await startServer({ rootPassword: false, accessTokenTtlSecs: 3 });
  try {
    const page = await newPage('setup');
    await page.goto(`${fresh.url}/`);
    await page.waitForSelector('#sign-in #confirm');
    await page.screenshot({ path: path.join(outputDir, 'light-set-up.png') });
    await page.type('#password', 'first-secret-9');
    await page.type('#confirm', 'first-secret-9');
    await page.click('#sign-in button[type=submit]');
    await page.waitForSelector('nav.sidebar');
    assert.equal(await page.$eval('.who .name', (e) => e.textContent), 'root');
    const login = await fetch(`${fresh.url}/v1/api/auth/login`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ username: 'root', password: 'first-secret-9' }) });
    assert.equal(login.status, 200);
    assert.deepEqual(await (await fetch(`${fresh.url}/v1/api/auth/setup`)).json(), { needs_setup: false });
    // Access tokens live 3 s here: twice that later, after a reload (the tab keeps its
    // session), the pages still work, on refreshed tokens.
    let refreshes = 0;
    page.on('request', (r) => { if (r.url().endsWith('/v1/api/auth/refresh')) refreshes++; });
    await new Promise((resolve) => setTimeout(resolve, 6000));
    await page.reload();
    await page.waitForSelector('nav.sidebar');
    await page.click('nav.sidebar a[href="/ui/namespaces"]');
    await page.waitForFunction(() => [...document.querySelectorAll('table.simple td')].some((td) => td.textContent === 'default'));
    assert.ok(refreshes >= 2, `${refreshes} refreshes`);
    await page.close();
  } finally {
    await fresh.dispose();
  }
});

/** POSTs to a topic route as root; the answer's body. */
async function topicRoute(route, body) {
  const response = await fetch(`${server.url}/v1/api/topics/${route}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Basic ${Buffer.from(`root:${ROOT_PASSWORD}`).toString('base64')}` },
    body: JSON.stringify(body),
  });
  const answer = await response.json();
  assert.equal(response.status, 200, JSON.stringify(answer));
  return answer;
}

const tableCells = (page, label) => page.$$eval(`table[aria-label="${label}"] tbody tr`, (rows) => rows.map((r) => [...r.querySelectorAll('td')].map((td) => td.textContent)));

/** Waits until the table's rows, cut to their first columns, are `expected`. */
async function waitForRows(page, label, expected) {
  const width = expected[0]?.length ?? 0;
  await page.waitForFunction((l, e, w) => {
    const rows = [...document.querySelectorAll(`table[aria-label="${l}"] tbody tr`)].map((r) => [...r.querySelectorAll('td')].slice(0, w).map((td) => td.textContent));
    return JSON.stringify(rows) === JSON.stringify(e);
  }, { timeout: 10000 }, label, expected, width).catch(async (error) => {
    throw new Error(`${label}: ${JSON.stringify(await tableCells(page, label))}, not ${JSON.stringify(expected)} (${error.message})`);
  });
}

const shownSql = (page) => page.$eval('.page > .sql-shown', (e) => e.textContent);

scenario('topics: create a topic and its source in the page, see its messages, a group\'s offsets and lag, reset the group, clear and drop the topic', async () => {
  await server.rootSql('CREATE SHARED TABLE shop.orders (id BIGINT PRIMARY KEY, item TEXT, qty INT)');
  const page = await newPage('root-topics');
  await signIn(page, 'root', ROOT_PASSWORD);
  await go(page, 'topics');
  await page.waitForSelector('.state.empty');
  await page.click('#create-topic');
  await page.waitForSelector('#topic-namespace option[value="shop"]');
  await page.type('#topic-name', 'order_events');
  await page.select('#topic-namespace', 'shop');
  await page.click('#topic-partitions', { clickCount: 3 });
  await page.keyboard.type('2');
  await page.click('.modal button[type=submit]');
  await page.waitForFunction(() => !document.querySelector('.modal'));
  assert.equal(await shownSql(page), 'CREATE TOPIC shop.order_events PARTITIONS 2');
  await waitForRows(page, 'Topics', [['shop.order_events', '2', '0', 'none']]);

  await page.click('a[href="/ui/topics/shop/order_events"]');
  await page.waitForSelector('#add-source');
  await page.click('#add-source');
  await page.waitForSelector('#source-table option[value="shop.orders"]');
  await page.select('#source-table', 'shop.orders');
  await page.select('#source-op', 'INSERT');
  await page.type('#source-where', 'qty > 1');
  await page.select('#source-payload', 'full');
  await page.click('.modal button[type=submit]');
  await page.waitForFunction(() => !document.querySelector('.modal'));
  assert.equal(await shownSql(page), "ALTER TOPIC shop.order_events ADD SOURCE shop.orders ON INSERT WHERE qty > 1 WITH (payload = 'full')");
  await waitForRows(page, 'Sources', [['shop.orders', 'INSERT', 'qty > 1', 'full']]);

  // Five of the six rows match the filter.
  await server.rootSql(`INSERT INTO shop.orders (id, item, qty) VALUES (1, 'tea', 2), (2, 'cup', 1), (3, '${XSS_IMG}', 5), (4, 'pot', 3), (5, 'lid', 4), (6, 'spoon', 7)`);
  await page.click('#refresh-topic');
  await page.waitForFunction(() => document.querySelector('[data-fact="messages"]')?.textContent === '5');
  await page.waitForFunction(() => document.querySelectorAll('.messages .message').length === 5);
  const payloads = await page.$$eval('.messages .payload', (p) => p.map((e) => e.textContent));
  assert.ok(payloads.some((p) => p.includes('\n  "item": "tea"')), payloads.join('\n---\n'));
  assert.ok(payloads.some((p) => p.includes('onerror=\\"window.__pwned=1\\"')), 'the markup shows as JSON text');
  assert.ok(!payloads.some((p) => p.includes('"cup"')), 'qty 1 is filtered out');
  assert.equal(await page.$$eval('.messages img', (e) => e.length), 0);
  assert.match(await page.$eval('.topic-section[aria-label="Recent messages"] .sql-shown', (e) => e.textContent), /^CONSUME FROM shop\.order_events PARTITION \d FROM 0 LIMIT 10/);

  // A worker group reads every partition from the start and acknowledges only its first
  // message of each: its lag is the rest.
  const expected = [];
  for (const partition of [0, 1]) {
    const batch = await topicRoute('consume', { topic_id: 'shop.order_events', group_id: 'billing', partition_id: partition, start: 'Earliest', limit: 100 });
    const count = batch.messages.length;
    if (count > 0) {
      assert.equal((await topicRoute('ack', { topic_id: 'shop.order_events', group_id: 'billing', partition_id: partition, upto_offset: batch.messages[0].offset })).acknowledged_offset, 0);
    }
    expected.push(['billing', String(partition), count > 0 ? '0' : 'none', String(count), String(Math.max(0, count - 1))]);
  }
  await page.click('#refresh-topic');
  await waitForRows(page, 'Consumer groups', expected);
  await page.screenshot({ path: path.join(outputDir, 'topic-group-lag.png') });

  // Reset to the earliest: nothing committed, everything to read again.
  await page.click('[data-reset="billing/0"]');
  await page.waitForSelector('#reset-partition');
  await page.select('#reset-partition', 'all');
  await page.select('#reset-to', 'EARLIEST');
  await page.click('#confirm-reset');
  await page.waitForFunction(() => !document.querySelector('.modal'));
  assert.equal(await shownSql(page), "RESET CONSUMER GROUP 'billing' ON shop.order_events TO EARLIEST");
  await waitForRows(page, 'Consumer groups', expected.map(([g, p, , end]) => [g, p, 'none', end, end]));

  // Without its source the topic records nothing more.
  await page.click('[data-drop-source="shop.orders ON INSERT"]');
  await page.waitForFunction(() => document.querySelector('.page > .sql-shown')?.textContent === 'ALTER TOPIC shop.order_events DROP SOURCE shop.orders ON INSERT');
  await page.waitForFunction(() => document.querySelector('.topic-section[aria-label="Sources"] .state.empty'));
  await server.rootSql("INSERT INTO shop.orders (id, item, qty) VALUES (7, 'unrecorded', 9)");

  // Clear: the messages go, the offsets stay where they were, so the group has nothing to read.
  await page.click('#clear-topic');
  await page.click('#confirm-clear');
  await page.waitForFunction(() => document.querySelector('[data-fact="messages"]')?.textContent === '0');
  assert.equal(await shownSql(page), 'CLEAR TOPIC shop.order_events');
  await waitForRows(page, 'Consumer groups', expected.map(([g, p, , end]) => [g, p, 'none', end, '0']));
  await page.waitForFunction(() => document.querySelector('.topic-section[aria-label="Recent messages"] .state.empty'));

  await page.click('#drop-topic');
  await page.click('#confirm-drop');
  await page.waitForFunction(() => location.pathname === '/ui/topics');
  await page.waitForSelector('.page.topics .state.empty');
  const left = await server.rootSql("SELECT count(*) AS n FROM system.topics WHERE topic_id = 'shop.order_events'");
  assert.equal(Number(left.results[0].rows[0][0]), 0);
  assert.equal(await page.evaluate(() => window.__pwned), undefined);
  await page.close();
});

scenario('topics: a plain user is told which roles topics need; a service user sees groups but may not reset them', async () => {
  await server.rootSql("CREATE USER 'tobi' WITH PASSWORD 'tobi-pass-1' ROLE user; CREATE USER 'sam' WITH PASSWORD 'sam-pass-1' ROLE service");
  await server.rootSql("CREATE TOPIC shop.audit PARTITIONS 3; ALTER TOPIC shop.audit ADD SOURCE shop.orders ON UPDATE WITH (payload = 'diff')");
  await server.rootSql("UPDATE shop.orders SET qty = qty + 10 WHERE id <= 3");
  await topicRoute('consume', { topic_id: 'shop.audit', group_id: 'auditors', partition_id: 0, start: 'Earliest', limit: 1 });

  const user = await newPage('tobi');
  await signIn(user, 'tobi', 'tobi-pass-1');
  assert.ok(!(await user.$$eval('nav.sidebar li a', (a) => a.map((e) => e.textContent))).includes('Topics'));
  for (const route of ['topics', 'topics/shop/audit']) {
    await go(user, route);
    await user.waitForSelector('.needs-role');
    assert.match(await user.$eval('.needs-role', (e) => e.textContent), /Topics need the service, dba or system role/);
    assert.equal(await user.$('.state.error'), null);
  }
  await user.screenshot({ path: path.join(outputDir, 'topics-plain-user.png') });
  await user.close();

  const service = await newPage('sam');
  await signIn(service, 'sam', 'sam-pass-1');
  await service.keyboard.press('g');
  await service.keyboard.press('t');
  await waitForRows(service, 'Topics', [['shop.audit', '3', '3']]);
  await service.click('a[href="/ui/topics/shop/audit"]');
  await waitForRows(service, 'Consumer groups', [['auditors', '0'], ['auditors', '1'], ['auditors', '2']]);
  assert.equal(await service.$('[data-reset]'), null);
  await service.waitForFunction(() => document.querySelectorAll('.messages .message').length === 3);
  const diff = await service.$eval('.messages .payload', (e) => e.textContent);
  assert.match(diff, /"qty"/);
  await service.close();
});

scenario('screenshots of every page in the light and dark themes; the console stays free of errors', async () => {
  const page = await newPage('screens');
  for (const theme of ['light', 'dark']) {
    await page.goto(`${server.url}/ui/`);
    // The console writes its theme to localStorage once it has mounted: wait for that, or it
    // could overwrite the one set here and every screenshot would show the other theme.
    await page.waitForFunction(() => document.documentElement.dataset.theme);
    await page.evaluate((t) => localStorage.setItem('kalamdb.theme', t), theme);
    await page.reload();
    await page.waitForSelector('#sign-in');
    assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), theme);
    await page.screenshot({ path: path.join(outputDir, `${theme}-sign-in.png`) });
    await signIn(page, 'root', ROOT_PASSWORD);
    const pages = { explorer: '', table: 'table/shop/items', sql: 'sql', live: 'live?table=shop.items', namespaces: 'namespaces', users: 'users', storages: 'storages', jobs: 'jobs', topics: 'topics', topic: 'topics/shop/audit', health: 'health', logs: 'logs' };
    for (const [name, route] of Object.entries(pages)) {
      await go(page, route);
      if (name === 'explorer') {
        await page.waitForSelector('[data-table="shop.items"]');
        await page.click('[data-table="shop.items"]');
        await page.waitForSelector('[data-stat="hot_rows"]');
      }
      if (name === 'table') await page.waitForSelector('.grid-row:not(.pending)');
      if (name === 'sql') {
        await page.waitForSelector('pierce/.cm-content');
        await runInStudio(page, "SELECT namespace_id, table_name, table_type FROM system.tables WHERE namespace_id = 'shop'");
        await page.keyboard.down('Control');
        await page.keyboard.press('End');
        await page.keyboard.up('Control');
        await page.keyboard.type('\nSELECT name FROM shop.');
        await page.waitForFunction(() => document.querySelector('.cm-host').shadowRoot.querySelector('.cm-tooltip-autocomplete'));
      }
      if (name === 'live') { await page.click('#live-start'); await page.waitForSelector('#live-state[data-state="live"]'); }
      if (name === 'jobs') { await page.click('#flush'); await page.waitForFunction(() => document.querySelectorAll('table.simple tbody tr').length > 0, { timeout: 10000 }); }
      if (name === 'health') await page.waitForFunction(() => document.querySelector('.chart strong')?.textContent !== '—', { timeout: 10000 });
      if (['namespaces', 'users', 'storages', 'topics'].includes(name)) await page.waitForSelector('table.simple');
      if (name === 'topic') await page.waitForFunction(() => document.querySelectorAll('.messages .message').length > 0 && document.querySelector('table[aria-label="Consumer groups"]'));
      if (name === 'logs') await page.waitForFunction(() => [...document.querySelectorAll('table.log-lines td.message')].some((td) => td.textContent.includes('listening on')), { timeout: 10000 });
      assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), theme, name);
      await page.screenshot({ path: path.join(outputDir, `${theme}-${name}.png`) });
    }
    await page.click('#sign-out');
    await page.waitForSelector('#sign-in');
  }
  assert.equal(await page.evaluate(() => window.__pwned), undefined);
  await page.close();
  assert.deepEqual(problems, [], 'no page or console errors');
});
