// A live-query client written with the `ws` package from the npm registry: it subscribes,
// prints every message it gets as one JSON line, and exits after the first change.
// Usage: node live_client.js <port> <access token> <sql>
const path = require('path');
const WebSocket = require(path.join(process.env.KALAMDB_NODE_MODULES, 'ws'));

const [port, token, sql] = process.argv.slice(2);
const ws = new WebSocket(`ws://127.0.0.1:${port}/v1/ws?token=${token}`);
const timer = setTimeout(() => { console.log(JSON.stringify({ type: 'timeout' })); process.exit(2); }, 10000);

ws.on('message', (data) => {
  const message = JSON.parse(data.toString());
  console.log(JSON.stringify(message));
  if (message.type === 'auth_success') {
    ws.send(JSON.stringify({ type: 'subscribe', subscription: { id: 'node', sql, options: {} } }));
  } else if (message.type === 'subscription_ack') {
    console.log(JSON.stringify({ type: 'ready' }));
  } else if (message.type === 'change') {
    clearTimeout(timer);
    ws.close();
  }
});
ws.on('close', () => process.exit(0));
ws.on('error', (e) => { console.log(JSON.stringify({ type: 'socket_error', message: e.message })); process.exit(1); });
