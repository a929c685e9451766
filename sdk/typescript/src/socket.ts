// Opening a WebSocket: the runtime's own (browsers, Deno, Node 22+), else the `ws`
// package (Node 20). `ws` is imported by a name held in a variable so bundlers for the
// browser leave it out; package.json's "browser" field says the same.

import type { SocketLike } from './types.js';

type SocketConstructor = new (url: string) => SocketLike;

let wsPackage: Promise<SocketConstructor> | null = null;

export async function openWebSocket(url: string): Promise<SocketLike> {
  const native = (globalThis as { WebSocket?: SocketConstructor }).WebSocket;
  if (native) return new native(url);
  wsPackage ??= (async () => {
    const name = 'ws';
    const module = (await import(/* @vite-ignore */ name)) as { default?: SocketConstructor; WebSocket?: SocketConstructor };
    const constructor = module.WebSocket ?? module.default;
    if (!constructor) throw new Error('no WebSocket in this runtime, and the ws package has none');
    return constructor;
  })();
  return new (await wsPackage)(url);
}

/** The text of a message event's data (a string in browsers; a Buffer from `ws`). */
export function messageText(data: unknown): string {
  if (typeof data === 'string') return data;
  if (data instanceof ArrayBuffer) return new TextDecoder().decode(data);
  if (ArrayBuffer.isView(data)) return new TextDecoder().decode(data);
  return String(data);
}
