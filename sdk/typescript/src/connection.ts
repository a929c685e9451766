// The one WebSocket a client shares between all its subscriptions, and its life:
//
//   disconnected ──connect──▶ connecting ──auth_success──▶ connected
//        ▲                        │                           │ socket lost
//        │ gave up / closed       ▼ failed                    ▼
//        └──────────────────── reconnecting ◀── backoff ──────┘
//
// Each socket has a generation; events of an older socket are ignored, so a late close
// or message can't touch the state of its successor. After auth_success every
// subscription not closed is sent again (Subscription decides from where it resumes).
// A subscription added while the socket is down waits in the map and goes out then.

import { KalamError } from './errors.js';
import { type JsonValue, parseJson, stringifyJson } from './json.js';
import { messageText } from './socket.js';
import type { Subscription } from './subscription.js';
import type {
  ConnectionError,
  ConnectionState,
  DisconnectReason,
  SocketLike,
  WebSocketFactory,
} from './types.js';

export interface ConnectionHooks {
  /** The authenticate message for a new socket (may log in or refresh first). */
  authenticate(): Promise<Record<string, unknown>>;
  /** The server refused the credentials: get others before the next attempt. */
  authRefused(): Promise<void>;
  stateChanged(state: ConnectionState): void;
  connected(): void;
  disconnected(reason: DisconnectReason): void;
  error(error: ConnectionError): void;
  received(text: string): void;
  sent(text: string): void;
  log(message: string): void;
}

export interface ReconnectPolicy {
  autoReconnect: boolean;
  initialDelayMs: number;
  maxDelayMs: number;
  /** 0: never give up. */
  maxAttempts: number;
  pingIntervalMs: number;
}

/** Failures worth waiting out: the server unreachable, busy or throttling. */
const TRANSIENT = new Set(['NETWORK_ERROR', 'SERVICE_UNAVAILABLE', 'RATE_LIMIT_EXCEEDED', 'INVALID_RESPONSE', 'INTERNAL_ERROR']);

/** How long stop() waits for the server's `unsubscribed`. */
const UNSUBSCRIBE_TIMEOUT_MS = 5_000;

export class LiveConnection {
  state: ConnectionState = 'disconnected';
  attempts = 0;
  private socket: SocketLike | null = null;
  private generation = 0;
  private wanted = false;
  private readonly subscriptions = new Map<string, Subscription>();
  private readonly unsubscribing = new Map<string, () => void>();
  private waiters: Array<{ resolve: () => void; reject: (e: Error) => void }> = [];
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  private pingTimer: ReturnType<typeof setInterval> | null = null;
  private lastHeardMs = 0;

  constructor(
    private readonly wsUrl: string,
    private readonly open: WebSocketFactory,
    readonly policy: ReconnectPolicy,
    private readonly hooks: ConnectionHooks,
  ) {}

  isConnected(): boolean {
    return this.state === 'connected';
  }

  /** Opens the socket if need be; resolves once authenticated. Rejects when reconnecting
   *  gives up or close() is called first. */
  connect(): Promise<void> {
    this.wanted = true;
    if (this.state === 'connected') return Promise.resolve();
    const ready = new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
    if (this.state === 'disconnected') void this.attempt();
    return ready;
  }

  /** Registers a subscription; it is sent now if the socket is up, else when it is. */
  add(subscription: Subscription): void {
    this.subscriptions.set(subscription.id, subscription);
    this.wanted = true;
    if (this.state === 'connected') {
      this.send(subscription.subscribeMessage(this.generation));
    } else if (this.state === 'disconnected') {
      void this.attempt();
    }
  }

  /** Stops a subscription; resolves when the server has dropped it (or the socket has). */
  async remove(subscription: Subscription): Promise<void> {
    if (!this.subscriptions.delete(subscription.id)) return;
    const onServer = subscription.sentOn === this.generation && this.state === 'connected' &&
      subscription.state !== 'closed';
    subscription.close();
    if (!onServer) return;  // never sent, or sent on a socket now gone (gone with it)
    // The server handles a connection's messages in order: the unsubscribe follows the
    // subscribe even when the snapshot is still loading.
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, UNSUBSCRIBE_TIMEOUT_MS);
      const id = subscription.id;
      const self = this;
      function done() {
        clearTimeout(timer);
        self.unsubscribing.delete(id);
        resolve();
      }
      this.unsubscribing.set(id, done);
      this.send({ type: 'unsubscribe', subscription_id: id });
    });
  }

  all(): Subscription[] {
    return Array.from(this.subscriptions.values());
  }

  get(id: string): Subscription | undefined {
    return this.subscriptions.get(id);
  }

  /** Closes the socket and stops reconnecting; subscriptions are forgotten. */
  close(reason = 'closed by the client'): void {
    this.wanted = false;
    this.clearTimers();
    for (const subscription of this.subscriptions.values()) {
      subscription.close(new KalamError('CLIENT_CLOSED', reason));
    }
    this.subscriptions.clear();
    for (const done of Array.from(this.unsubscribing.values())) done();
    const socket = this.socket;
    this.socket = null;
    this.generation++;
    if (socket) {
      try {
        socket.close(1000, 'client closed');
      } catch {
        // already closing
      }
    }
    const wasConnected = this.state === 'connected';
    this.attempts = 0;
    this.setState('disconnected');
    if (wasConnected) this.hooks.disconnected({ message: reason, code: 1000 });
    this.rejectWaiters(new KalamError('CLIENT_CLOSED', reason));
  }

  /** Drops the socket as if the network had: the usual reconnect follows. */
  dropSocket(why = 'connection dropped'): void {
    const socket = this.socket;
    if (!socket) return;
    try {
      socket.close(4000, why);
    } catch {
      // already closing
    }
    this.lost(this.generation, { message: why });
  }

  private async attempt(): Promise<void> {
    const generation = ++this.generation;
    this.setState(this.attempts > 0 ? 'reconnecting' : 'connecting');
    let authenticate: Record<string, unknown>;
    let socket: SocketLike;
    try {
      authenticate = await this.hooks.authenticate();
      if (generation !== this.generation) return;
      socket = await this.open(this.wsUrl);
    } catch (error) {
      if (generation !== this.generation) return;
      if (error instanceof KalamError && !TRANSIENT.has(error.code)) {
        // Credentials refused (a wrong password, say): whoever waits is told now; the
        // provider is asked again before the next attempt.
        void this.hooks.authRefused().catch(() => {});
        for (const subscription of this.subscriptions.values()) subscription.fail(error);
        this.rejectWaiters(error);
      }
      this.hooks.error({ message: (error as Error).message, recoverable: this.willRetry() });
      this.lost(generation, { message: (error as Error).message });
      return;
    }
    if (generation !== this.generation) {
      socket.close();
      return;
    }
    this.socket = socket;
    socket.onopen = () => {
      if (generation === this.generation) this.send(authenticate);
    };
    socket.onmessage = (event) => this.receive(generation, messageText(event.data));
    socket.onclose = (event) => {
      this.lost(generation, { message: event.reason || 'connection closed', code: event.code });
    };
    socket.onerror = () => {
      // a close event follows; it decides what happens next
    };
  }

  private receive(generation: number, text: string): void {
    if (generation !== this.generation) return;
    this.lastHeardMs = Date.now();
    this.hooks.received(text);
    let message: Record<string, JsonValue>;
    try {
      message = parseJson(text) as Record<string, JsonValue>;
    } catch {
      this.hooks.log(`ignored a message that is not JSON: ${text.slice(0, 200)}`);
      return;
    }
    const type = message['type'];
    const id = message['subscription_id'];
    if (typeof id === 'string' && id !== '') {
      const unsubscribed = this.unsubscribing.get(id);
      if (unsubscribed && (type === 'unsubscribed' || type === 'error')) {
        unsubscribed();
        return;
      }
      const subscription = this.subscriptions.get(id);
      if (subscription && subscription.sentOn === generation) subscription.handle(message);
      return;
    }
    switch (type) {
      case 'auth_success':
        this.authenticated(generation);
        return;
      case 'auth_error':
        // The server closes the socket next; new credentials before the next attempt.
        this.hooks.error({ message: `${message['code']}: ${message['message']}`, recoverable: this.willRetry() });
        void this.hooks.authRefused().catch(() => {});
        return;
      case 'error':
        this.hooks.error({ message: `${message['code']}: ${message['message']}`, recoverable: true });
        return;
      default:
        return;  // pong
    }
  }

  private authenticated(generation: number): void {
    this.attempts = 0;
    this.setState('connected');
    this.startPing(generation);
    for (const waiter of this.waiters.splice(0)) waiter.resolve();
    this.hooks.connected();
    for (const subscription of this.subscriptions.values()) {
      if (subscription.state !== 'closed') this.send(subscription.subscribeMessage(generation));
    }
  }

  private lost(generation: number, reason: DisconnectReason): void {
    if (generation !== this.generation) return;
    this.generation++;  // whatever the old socket still says is ignored
    this.socket = null;
    this.clearTimers();
    const wasConnected = this.state === 'connected';
    for (const done of Array.from(this.unsubscribing.values())) done();
    for (const subscription of this.subscriptions.values()) subscription.connectionLost();
    if (wasConnected) this.hooks.disconnected(reason);
    if (!this.wanted || !this.policy.autoReconnect) {
      this.attempts = 0;
      this.setState('disconnected');
      this.rejectWaiters(new KalamError('NETWORK_ERROR', `WebSocket lost: ${reason.message}`));
      return;
    }
    this.attempts++;
    if (this.policy.maxAttempts > 0 && this.attempts > this.policy.maxAttempts) {
      this.setState('disconnected');
      this.hooks.error({ message: `gave up after ${this.policy.maxAttempts} reconnect attempts`, recoverable: false });
      const error = new KalamError('NETWORK_ERROR', `WebSocket lost and not regained: ${reason.message}`);
      for (const subscription of this.subscriptions.values()) subscription.fail(error);
      this.rejectWaiters(error);
      this.attempts = 0;
      return;
    }
    this.setState('reconnecting');
    const base = Math.min(this.policy.maxDelayMs, this.policy.initialDelayMs * 2 ** (this.attempts - 1));
    const delay = base / 2 + Math.random() * (base / 2);  // jitter: clients don't return in step
    this.hooks.log(`reconnecting in ${Math.round(delay)} ms (attempt ${this.attempts})`);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      void this.attempt();
    }, delay);
  }

  /** Whether a failure now is followed by another attempt (giving up is reported apart). */
  private willRetry(): boolean {
    return this.wanted && this.policy.autoReconnect;
  }

  private send(message: Record<string, unknown>): void {
    const socket = this.socket;
    if (!socket) return;
    const text = stringifyJson(message);
    this.hooks.sent(text);
    try {
      socket.send(text);
    } catch (error) {
      this.hooks.log(`send failed: ${(error as Error).message}`);
    }
  }

  /** Pings keep idle proxies from closing the socket; silence for two intervals means the
   *  socket is dead though no close came (a cable pulled, a host gone). */
  private startPing(generation: number): void {
    const every = this.policy.pingIntervalMs;
    if (every <= 0) return;
    this.lastHeardMs = Date.now();
    this.pingTimer = setInterval(() => {
      if (generation !== this.generation) return;
      if (Date.now() - this.lastHeardMs > 2 * every) {
        this.dropSocket('no answer to pings');
        return;
      }
      this.send({ type: 'ping' });
    }, every);
  }

  private clearTimers(): void {
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    if (this.pingTimer) clearInterval(this.pingTimer);
    this.reconnectTimer = null;
    this.pingTimer = null;
  }

  private setState(state: ConnectionState): void {
    if (this.state === state) return;
    this.state = state;
    this.hooks.stateChanged(state);
  }

  private rejectWaiters(error: Error): void {
    for (const waiter of this.waiters.splice(0)) waiter.reject(error);
  }
}
