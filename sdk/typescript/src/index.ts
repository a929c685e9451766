/**
 * @kalamdb/client: SQL over HTTP, live queries over one shared WebSocket, and topic
 * consumers, for browsers and Node 20+.
 *
 * ```ts
 * import { Auth, createClient } from '@kalamdb/client';
 * const client = createClient({ url: 'http://localhost:8080', authProvider: async () => Auth.basic('alice', 'secret-pass') });
 * const stop = await client.live('SELECT id, body FROM app.messages', (rows) => render(rows));
 * ```
 */
export { Auth, type AuthCredentials, type AuthProvider, type BasicAuthCredentials, type JwtAuthCredentials, type NoAuthCredentials } from './auth.js';
export { KalamCellValue, type RowData, wrapRowMap } from './cell.js';
export { createClient, KalamDBClient, type SqlParam } from './client.js';
export { KalamError } from './errors.js';
export { parseJson, stringifyJson } from './json.js';
export { LiveRowSet, keyOfColumns } from './live_rows.js';
export { SeqId } from './seq_id.js';
export * from './types.js';
export { KalamDBClient as default } from './client.js';
