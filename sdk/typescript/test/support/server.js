// A kalamdb-server of its own for a test or a benchmark: a free port, a temporary data
// directory, root's password from the environment, readiness by polling GET /health.
// The binary comes from KALAMDB_SERVER (default: <repo>/build/kalamdb-server).
import { spawn } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, closeSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const repoRoot = path.resolve(here, '../../../..');
export const serverBinary =
  process.env.KALAMDB_SERVER || path.join(repoRoot, 'build', 'kalamdb-server');
export const ROOT_PASSWORD = 'root-secret-1';

export function freePort() {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

/** Polls `condition` (sync or async) every `everyMs` until it is truthy or `ms` pass. */
export async function waitFor(condition, { ms = 10000, everyMs = 20, what = 'condition' } = {}) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await condition();
    if (value) return value;
    if (Date.now() >= deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

export class TestServer {
  /**
   * @param {object} [options]
   * @param {string} [options.config] extra TOML sections appended to the config file
   * @param {number} [options.accessTokenTtlSecs]
   * @param {boolean} [options.rootPassword] false: root starts without a password
   */
  constructor(options = {}) {
    this.options = options;
    this.workDir = mkdtempSync(path.join(os.tmpdir(), 'kalamdb-sdk-'));
    this.dataDir = path.join(this.workDir, 'data');
    this.logPath = path.join(this.workDir, 'server.log');
    this.port = 0;
    this.child = null;
  }

  get url() {
    return `http://127.0.0.1:${this.port}`;
  }

  writeConfig() {
    const auth = ['bcrypt_cost = 4'];
    if (this.options.accessTokenTtlSecs) {
      auth.push(`access_token_ttl_secs = ${this.options.accessTokenTtlSecs}`);
    }
    const text = [
      '[server]',
      'host = "127.0.0.1"',
      `port = ${this.port}`,
      'workers = 2',
      '[auth]',
      ...auth,
      '[postgres_wire]',
      'enabled = false',
      '[logging]',
      'level = "info"',
      this.options.config ?? '',
      '',
    ].join('\n');
    const file = path.join(this.workDir, 'server.toml');
    writeFileSync(file, text);
    return file;
  }

  /** Starts the server; on a restart it keeps its port and data directory. */
  async start() {
    for (let attempt = 0; attempt < 3; attempt++) {
      if (!this.port || attempt > 0) this.port = await freePort();
      const config = this.writeConfig();
      const log = openSync(this.logPath, 'a');
      const child = spawn(serverBinary, ['--config', config], {
        env: {
          ...process.env,
          KALAMDB_ROOT_PASSWORD: this.options.rootPassword === false ? undefined : ROOT_PASSWORD,
          KALAMDB_DATA_PATH: this.dataDir,
        },
        stdio: ['ignore', log, log],
      });
      closeSync(log);
      let exited = false;
      child.once('exit', () => { exited = true; });
      this.child = child;
      try {
        await waitFor(async () => {
          if (exited) throw new Error('exited');
          try {
            const res = await fetch(`${this.url}/health`);
            return res.status === 200;
          } catch {
            return false;
          }
        }, { ms: 60000, everyMs: 50, what: 'kalamdb-server /health' });
        return this;
      } catch {
        await this.stop('SIGKILL');
        // the port may have been taken meanwhile: try another
      }
    }
    throw new Error(`kalamdb-server (${serverBinary}) did not start:\n${this.log()}`);
  }

  /** Stops the server; resolves when the process has exited. */
  async stop(signal = 'SIGTERM') {
    const child = this.child;
    this.child = null;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise((resolve) => {
      child.once('exit', resolve);
      child.kill(signal);
    });
  }

  async restart(signal = 'SIGKILL') {
    await this.stop(signal);
    await this.start();
  }

  log() {
    try {
      return readFileSync(this.logPath, 'utf8');
    } catch {
      return '';
    }
  }

  /** Runs SQL as root over plain HTTP (no SDK), returning the parsed body. */
  async rootSql(sql, params) {
    const res = await fetch(`${this.url}/v1/api/sql`, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        Authorization: 'Basic ' + Buffer.from(`root:${ROOT_PASSWORD}`).toString('base64'),
      },
      body: JSON.stringify(params ? { sql, params } : { sql }),
    });
    const body = await res.json();
    if (body.status !== 'success') throw new Error(`${sql}: ${JSON.stringify(body.error)}`);
    return body;
  }

  async dispose() {
    await this.stop('SIGKILL');
    rmSync(this.workDir, { recursive: true, force: true });
  }
}

/** A started server, disposed when the process's tests end (use in a `before` hook). */
export async function startServer(options) {
  const server = new TestServer(options);
  await server.start();
  return server;
}
