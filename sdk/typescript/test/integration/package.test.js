// The package as an app gets it: `npm pack` makes a tarball that installs and imports,
// and `npm install <repo>/sdk/typescript` works too. No network: npm's cache serves `ws`.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const sdkDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const work = mkdtempSync(path.join(os.tmpdir(), 'kalamdb-sdk-pack-'));
after(() => rmSync(work, { recursive: true, force: true }));

const npm = (args, cwd) => execFileSync('npm', [...args, '--no-audit', '--no-fund', '--loglevel=error'], { cwd, encoding: 'utf8' });
const APP = `import { createClient, Auth, SeqId, KalamError } from '@kalamdb/client';
const client = createClient({ url: 'http://127.0.0.1:1', authProvider: async () => Auth.none() });
if (typeof client.live !== 'function' || SeqId.from('12345678901234567890').toString() !== '12345678901234567890') process.exit(1);
client.query('SELECT 1').catch((e) => { console.log(e instanceof KalamError ? e.code : 'other'); });
`;

function appIn(name) {
  const dir = path.join(work, name);
  execFileSync('mkdir', ['-p', dir]);
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name, private: true, type: 'module' }));
  writeFileSync(path.join(dir, 'app.js'), APP);
  return dir;
}

test('npm pack makes a tarball an app installs and imports', () => {
  npm(['pack', '--pack-destination', work], sdkDir);
  const tarball = readdirSync(work).find((f) => f.endsWith('.tgz'));
  assert.ok(tarball, 'a .tgz');
  const listing = execFileSync('tar', ['-tzf', path.join(work, tarball)], { encoding: 'utf8' });
  assert.match(listing, /package\/dist\/index\.js/);
  assert.match(listing, /package\/dist\/index\.d\.ts/);
  assert.doesNotMatch(listing, /package\/src\//);
  const app = appIn('from-tarball');
  npm(['install', '--prefer-offline', path.join(work, tarball)], app);
  assert.equal(execFileSync('node', ['app.js'], { cwd: app, encoding: 'utf8' }).trim(), 'NETWORK_ERROR');
});

test('npm install of the package folder works', () => {
  const app = appIn('from-folder');
  npm(['install', '--prefer-offline', sdkDir], app);
  assert.equal(execFileSync('node', ['app.js'], { cwd: app, encoding: 'utf8' }).trim(), 'NETWORK_ERROR');
});
