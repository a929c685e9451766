// What the integration tests share: a server with an app namespace and users, and
// clients signed in as them.
import { Auth, createClient } from '../../dist/index.js';
import { ROOT_PASSWORD, startServer } from './server.js';

export const PASSWORD = 'secret-pass-1';

/** A server with namespace `app` and users alice and bob (role user) and svc (service). */
export async function appServer(options) {
  const server = await startServer(options);
  await server.rootSql(
    "CREATE NAMESPACE app; " +
      `CREATE USER 'alice' WITH PASSWORD '${PASSWORD}' ROLE user; ` +
      `CREATE USER 'bob' WITH PASSWORD '${PASSWORD}' ROLE user; ` +
      `CREATE USER 'svc' WITH PASSWORD '${PASSWORD}' ROLE service`,
  );
  return server;
}

/** A client of `server` signed in as `user` (Basic credentials traded for tokens). */
export function clientAs(server, user, options = {}) {
  const password = user === 'root' ? ROOT_PASSWORD : PASSWORD;
  return createClient({
    url: server.url,
    authProvider: async () => Auth.basic(user, password),
    reconnectDelayMs: 50,
    maxReconnectDelayMs: 500,
    ...options,
  });
}
