// The chat: sign in, pick a room, read its messages live, type to send. Everything goes
// through @kalamdb/client: rooms and messages are live() row sets, sending is insert().
import { Auth, createClient, type ConnectionState, type KalamDBClient, type RowData, type Unsubscribe } from '@kalamdb/client';

interface Room { id: string; name: string; topic: string }
interface Message { id: string; author: string; body: string; sentAt: Date | null }

const params = new URLSearchParams(location.search);
const serverUrl = params.get('server') ?? `${location.protocol}//${location.hostname}:8080`;

const $ = <T extends HTMLElement>(selector: string) => document.querySelector(selector) as T;
const signIn = $<HTMLFormElement>('#sign-in');
const chat = $<HTMLElement>('#chat');
const roomList = $<HTMLUListElement>('#rooms');
const messageList = $<HTMLOListElement>('#messages');
const composer = $<HTMLFormElement>('#composer');
const input = $<HTMLInputElement>('#message');
const status = $<HTMLSpanElement>('#status');

let client: KalamDBClient | null = null;
let me = '';
let currentRoom = 'general';
let stopMessages: Unsubscribe | null = null;
let rooms: Room[] = [];

$<HTMLSpanElement>('#server').textContent = serverUrl;

signIn.addEventListener('submit', async (event) => {
  event.preventDefault();
  const username = $<HTMLInputElement>('#username').value.trim();
  const password = $<HTMLInputElement>('#password').value;
  const error = $<HTMLParagraphElement>('#sign-in-error');
  error.textContent = '';
  const candidate = createClient({ url: serverUrl, authProvider: async () => Auth.basic(username, password) });
  try {
    await candidate.login();
  } catch (e) {
    error.textContent = (e as Error).message;
    return;
  }
  client = candidate;
  me = username;
  client.onConnectionChange(showStatus);
  $<HTMLSpanElement>('#me').textContent = me;
  $<HTMLSpanElement>('#avatar').textContent = me.slice(0, 1).toUpperCase();
  signIn.hidden = true;
  chat.hidden = false;
  await client.live<Room>('SELECT id, name, topic FROM chat.rooms', (rows) => {
    rooms = rows.sort((a, b) => a.name.localeCompare(b.name));
    renderRooms();
  }, { mapRow: (row) => ({ id: text(row, 'id'), name: text(row, 'name'), topic: text(row, 'topic') }) });
  await openRoom(currentRoom);
  input.focus();
});

composer.addEventListener('submit', async (event) => {
  event.preventDefault();
  const body = input.value.trim();
  if (!body || !client) return;
  input.value = '';
  try {
    await client.insert('chat.messages', { room_id: currentRoom, author: me, body });
  } catch (e) {
    input.value = body;
    showStatus(client.getConnectionState(), `not sent: ${(e as Error).message}`);
  }
});

async function openRoom(id: string): Promise<void> {
  if (!client) return;
  currentRoom = id;
  renderRooms();
  await stopMessages?.();
  messageList.replaceChildren();
  stopMessages = await client.live<Message>(
    `SELECT id, author, body, sent_at FROM chat.messages WHERE room_id = '${id.replace(/'/g, "''")}'`,
    renderMessages,
    {
      limit: 200,
      subscriptionOptions: { last_rows: 200 },
      mapRow: (row) => ({ id: text(row, 'id'), author: text(row, 'author'), body: text(row, 'body'), sentAt: row.sent_at!.asDate() }),
      onError: (e) => showStatus(client!.getConnectionState(), `${e.code}: ${e.message}`),
    },
  );
}

function renderRooms(): void {
  roomList.replaceChildren(...rooms.map((room) => {
    const item = element('li', { className: room.id === currentRoom ? 'room active' : 'room' },
      element('span', { className: 'hash', textContent: '#' }),
      element('span', { textContent: room.name }));
    item.addEventListener('click', () => void openRoom(room.id));
    return item;
  }));
  const room = rooms.find((r) => r.id === currentRoom);
  $<HTMLHeadingElement>('#room-name').textContent = room ? `# ${room.name}` : `# ${currentRoom}`;
  $<HTMLParagraphElement>('#room-topic').textContent = room?.topic ?? '';
}

function renderMessages(messages: Message[]): void {
  const atBottom = messageList.scrollHeight - messageList.scrollTop - messageList.clientHeight < 40;
  messageList.replaceChildren(...messages.map((m) => element('li', { className: m.author === me ? 'message mine' : 'message' },
    element('div', { className: 'meta' },
      element('span', { className: 'author', textContent: m.author }),
      element('time', { textContent: m.sentAt ? m.sentAt.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }) : '' })),
    element('div', { className: 'body', textContent: m.body }))));
  if (messages.length === 0) messageList.append(element('li', { className: 'empty', textContent: 'No messages yet. Say hello!' }));
  if (atBottom || messages.at(-1)?.author === me) messageList.scrollTop = messageList.scrollHeight;
}

function showStatus(state: ConnectionState, detail?: string): void {
  status.dataset['state'] = state;
  status.textContent = detail ?? { connected: 'Live', connecting: 'Connecting…', reconnecting: 'Reconnecting…', disconnected: 'Offline' }[state];
}

function text(row: RowData, column: string): string {
  return row[column]?.asString() ?? '';
}

function element<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Partial<HTMLElementTagNameMap[K]>,
  ...children: Node[]
): HTMLElementTagNameMap[K] {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children);
  return node;
}
