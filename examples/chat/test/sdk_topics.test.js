// The SDK's topic consumer in headless Chromium (this example holds the repository's browser
// test setup): a page on another origin runs runConsumer() through the browser's fetch
// (CORS preflights included), handles rows inserted from Node, acknowledges them, and
// stop() aborts its waiting long poll.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import puppeteer from 'puppeteer-core';
import { ROOT_PASSWORD, startServer, waitFor } from '../../../sdk/typescript/test/support/server.js';
import { serve } from '../serve.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const chromium = process.env.CHROMIUM ?? '/usr/bin/chromium';
const WORKER_PASSWORD = 'worker-pass-1';

let server;
let site;
let browser;

before(async () => {
  server = await startServer();
  await server.rootSql(
    'CREATE NAMESPACE jobs; CREATE SHARED TABLE jobs.tasks (id BIGINT PRIMARY KEY, body TEXT); ' +
      'CREATE TOPIC jobs.queue; ALTER TOPIC jobs.queue ADD SOURCE jobs.tasks ON INSERT; ' +
      `CREATE USER 'worker' WITH PASSWORD '${WORKER_PASSWORD}' ROLE service`,
  );
  site = await serve(0);
  browser = await puppeteer.launch({ executablePath: chromium, headless: true, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
});

after(async () => {
  await browser?.close();
  await new Promise((resolve) => (site ? site.close(resolve) : resolve()));
  await server?.dispose();
});

test('runConsumer in a browser: handles, acknowledges, and stops a waiting long poll', async () => {
  const bundle = await build({
    stdin: { contents: "export { Auth, createClient } from '@kalamdb/client';", resolveDir: here, loader: 'js' },
    bundle: true, format: 'iife', globalName: 'kalam', target: 'es2022', write: false,
  });
  const page = await browser.newPage();
  const problems = [];
  page.on('pageerror', (error) => problems.push(error.message));
  await page.goto(`http://127.0.0.1:${site.address().port}/blank`);  // an origin other than the server's
  await page.addScriptTag({ content: bundle.outputFiles[0].text });
  await page.evaluate((url, password) => {
    const { Auth, createClient } = window.kalam;
    window.worker = createClient({ url, authProvider: async () => Auth.basic('worker', password) });
    window.handled = [];
    window.loop = window.worker.runConsumer({
      topic: 'jobs.queue', group: 'browser', start: 'earliest', timeoutSeconds: 30,
      handler: (message) => { window.handled.push(`${message.offset}:${message.payload.body}`); },
      onError: (error, context) => window.handled.push(`error ${context.stage} ${error.code}`),
    });
  }, server.url, WORKER_PASSWORD);

  await server.rootSql("INSERT INTO jobs.tasks VALUES (1, 'first'), (2, 'second')");
  await page.waitForFunction(() => window.handled.length >= 2, { timeout: 10000 });
  await waitFor(async () => {
    const body = await server.rootSql("SELECT committed_offset FROM system.topic_offsets WHERE group_id = 'browser'");
    return body.results[0].rows?.[0]?.[0] === 1;
  }, { what: 'the browser acknowledged both' });
  // The loop is waiting in a 30 s long poll now: stop() ends it at once.
  const stopMs = await page.evaluate(async () => {
    const started = performance.now();
    await window.loop.stop();
    return performance.now() - started;
  });
  const aborted = await page.evaluate(async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    return window.worker.consume({ topic: 'jobs.queue', timeoutSeconds: 30, signal: controller.signal })
      .then(() => 'answered', (error) => error.code);
  });
  assert.deepEqual(await page.evaluate(() => window.handled), ['0:first', '1:second']);
  assert.ok(stopMs < 1000, `stopped after ${stopMs} ms`);
  assert.equal(aborted, 'ABORTED');
  assert.deepEqual(problems, []);
  await page.close();
});
