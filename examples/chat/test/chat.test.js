// The chat in headless Chromium (Debian's, through puppeteer-core): two pages signed in as
// two users, a message from one shows in the other within a second, and after a server
// restart messages a third client sent meanwhile show without a reload.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import puppeteer from 'puppeteer-core';
import { Auth, createClient } from '@kalamdb/client';
import { ROOT_PASSWORD, startServer, waitFor } from '../../../sdk/typescript/test/support/server.js';
import { serve } from '../serve.js';
import { CHAT_PASSWORD, setUp } from '../setup.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const outputDir = process.env.TEST_OUTPUT_DIR ?? path.join(here, '..', 'test-output');
const chromium = process.env.CHROMIUM ?? '/usr/bin/chromium';

let server;
let site;
let browser;
const problems = [];

before(async () => {
  mkdirSync(outputDir, { recursive: true });
  server = await startServer();
  await setUp(server.url, ROOT_PASSWORD);
  site = await serve(0);
  browser = await puppeteer.launch({
    executablePath: chromium,
    headless: true,
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--window-size=1100,720'],
    defaultViewport: { width: 1100, height: 720 },
  });
});

after(async () => {
  await browser?.close();
  await new Promise((resolve) => (site ? site.close(resolve) : resolve()));
  await server?.dispose();
});

/** A page signed in as `user`; page errors and console errors are collected. */
async function signedIn(user) {
  const page = await browser.newPage();
  page.on('pageerror', (error) => problems.push(`${user} pageerror: ${error.message}`));
  page.on('console', (message) => {
    // The browser itself logs each refused connection while the server restarts; those
    // are the network's, not the page's.
    if (message.type() === 'error' && !/ERR_CONNECTION_REFUSED|WebSocket connection to/.test(message.text())) {
      problems.push(`${user} console: ${message.text()} (${message.location()?.url ?? ""})`);
    }
  });
  const { port } = site.address();
  await page.goto(`http://127.0.0.1:${port}/?server=${encodeURIComponent(server.url)}`);
  await page.type('#username', user);
  await page.type('#password', CHAT_PASSWORD);
  await page.click('#sign-in button');
  await page.waitForSelector('#status[data-state="connected"]', { timeout: 10000 });
  await page.waitForFunction(() => document.querySelectorAll('#rooms .room').length === 3);
  return page;
}

const shows = (page, text, timeout) => page.waitForFunction(
  (wanted) => [...document.querySelectorAll('#messages .message .body')].some((e) => e.textContent === wanted),
  { timeout, polling: 'mutation' }, text);

test('two users chat live; after a server restart messages sent meanwhile appear without a reload', async () => {
  const alice = await signedIn('alice');
  const bob = await signedIn('bob');

  for (const [from, to, text] of [[alice, bob, 'Hi Bob! Is the deploy done?'], [bob, alice, 'Yes, all green. Shipping it now.']]) {
    await from.type('#message', text);
    const sentAt = Date.now();
    await from.keyboard.press('Enter');
    await shows(to, text, 1000);
    const took = Date.now() - sentAt;
    assert.ok(took < 1000, `shown after ${took} ms`);
    await shows(from, text, 1000);
  }

  await server.restart('SIGTERM');
  const carol = createClient({ url: server.url, authProvider: async () => Auth.basic('carol', CHAT_PASSWORD) });
  const meanwhile = ['Carol here: I was away while the server restarted.', 'Did anything break?'];
  for (const body of meanwhile) await carol.insert('chat.messages', { room_id: 'general', author: 'carol', body });
  for (const page of [alice, bob]) {
    for (const text of meanwhile) await shows(page, text, 15000);
    await page.waitForSelector('#status[data-state="connected"]', { timeout: 15000 });
  }
  await bob.type('#message', 'Nothing broke. Welcome back!');
  await bob.keyboard.press('Enter');
  await shows(alice, 'Nothing broke. Welcome back!', 1000);

  await alice.screenshot({ path: path.join(outputDir, 'chat-alice.png') });
  await bob.screenshot({ path: path.join(outputDir, 'chat-bob.png') });
  const order = await alice.$$eval('#messages .message .body', (nodes) => nodes.map((n) => n.textContent));
  assert.deepEqual(order.slice(-3), [...meanwhile, 'Nothing broke. Welcome back!']);
  await carol.shutdown();
  assert.deepEqual(problems, [], 'no page errors');
});
