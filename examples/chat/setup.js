// Creates what the chat needs on a server: namespace `chat`, its tables, a few rooms and
// users. Run once: node setup.js [--url http://127.0.0.1:8080] (root's password from
// KALAMDB_ROOT_PASSWORD). Safe to run again.
import { Auth, createClient } from '@kalamdb/client';

export const CHAT_PASSWORD = 'chat-pass-1';

/** Rooms are a SHARED table everyone reads; messages a SHARED table chat members (role
 *  service, which may write SHARED tables) read and write. */
export async function setUp(url, rootPassword, users = ['alice', 'bob', 'carol']) {
  const root = createClient({ url, authProvider: async () => Auth.basic('root', rootPassword) });
  await root.query(
    'CREATE NAMESPACE IF NOT EXISTS chat; ' +
      "CREATE SHARED TABLE IF NOT EXISTS chat.rooms (id TEXT PRIMARY KEY, name TEXT NOT NULL, topic TEXT) WITH (ACCESS_LEVEL = 'public'); " +
      'CREATE SHARED TABLE IF NOT EXISTS chat.messages (id BIGINT PRIMARY KEY DEFAULT SNOWFLAKE_ID(), ' +
      'room_id TEXT NOT NULL, author TEXT NOT NULL, body TEXT NOT NULL, sent_at TIMESTAMP DEFAULT NOW())',
  );
  await root.query(
    "INSERT INTO chat.rooms (id, name, topic) VALUES ('general', 'General', 'Anything goes'), " +
      "('random', 'Random', 'Off topic'), ('help', 'Help', 'Questions and answers') ON CONFLICT (id) DO NOTHING",
  );
  const existing = new Set((await root.queryAll('SELECT username FROM system.users')).map((r) => r.username.asString()));
  for (const user of users) {
    if (!existing.has(user)) await root.query(`CREATE USER '${user}' WITH PASSWORD '${CHAT_PASSWORD}' ROLE service`);
  }
  await root.shutdown();
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const at = process.argv.indexOf('--url');
  const url = at > 0 ? process.argv[at + 1] : 'http://127.0.0.1:8080';
  const password = process.env.KALAMDB_ROOT_PASSWORD ?? '';
  setUp(url, password).then(
    () => console.log(`chat: ready on ${url}; sign in as alice, bob or carol with password ${CHAT_PASSWORD}`),
    (error) => { console.error(`chat setup failed: ${error.code ?? ''} ${error.message}`); process.exit(1); },
  );
}
