// KalamDBClient: SQL over HTTP, live queries over one shared WebSocket, topics over HTTP.

import { AuthSession } from './auth_session.js';
import { type RowData, wrapRowArray } from './cell.js';
import { LiveConnection } from './connection.js';
import { KalamError } from './errors.js';
import { getJson, postJson } from './http.js';
import { stringifyJson } from './json.js';
import { LiveQuery, tableOfSql } from './live_query.js';
import { SeqId } from './seq_id.js';
import { openWebSocket } from './socket.js';
import { Subscription, type ResumeMode, type SubscriptionListener } from './subscription.js';
import { TopicConsumer } from './topic_consumer.js';
import { ackTopic, consumeTopic, type Post } from './topics.js';
import {
  type AckOptions,
  type ClientOptions,
  type ConsumeOptions,
  type ConsumeResult,
  type ConsumerHandle,
  type ConsumerOptions,
  type ConnectionState,
  type HealthCheckResponse,
  type JsonValue,
  type LiveRowsCallback,
  type LiveRowsOptions,
  LogLevel,
  type LoginResponse,
  type OnConnectCallback,
  type OnConnectionChangeCallback,
  type OnDisconnectCallback,
  type OnErrorCallback,
  type OnReceiveCallback,
  type OnSendCallback,
  type QueryResponse,
  type ServerMessage,
  type SubscriptionCallback,
  type SubscriptionInfo,
  type SubscriptionOptions,
  type Unsubscribe,
} from './types.js';

/** A value for `$n`: JSON scalars, bigints (sent with all digits), Dates (RFC 3339), and
 *  objects or arrays (sent as their JSON text, for Json columns). */
export type SqlParam = null | undefined | boolean | number | bigint | string | Date | SeqId | object;

const TOKEN_REFUSED = new Set(['TOKEN_EXPIRED', 'INVALID_TOKEN']);

export class KalamDBClient {
  private readonly url: string;
  private readonly namespace?: string;
  private readonly session: AuthSession;
  private readonly connection: LiveConnection;
  private readonly lazy: boolean;
  private logLevel: LogLevel;
  private nextId = 0;
  private readonly keyColumns = new Map<string, Promise<string[]>>();
  private readonly stateListeners = new Set<OnConnectionChangeCallback>();
  private connectCallback?: OnConnectCallback;
  private disconnectCallback?: OnDisconnectCallback;
  private errorCallback?: OnErrorCallback;
  private receiveCallback?: OnReceiveCallback;
  private sendCallback?: OnSendCallback;
  private readonly topicPost: Post = (path, body, signal) => this.post(path, body, signal);

  constructor(options: ClientOptions) {
    if (!options || !options.url) throw new KalamError('INVALID_INPUT', 'createClient: url is required');
    if (typeof options.authProvider !== 'function') {
      throw new KalamError('INVALID_INPUT', 'createClient: authProvider is required');
    }
    this.url = options.url.replace(/\/+$/, '');
    this.namespace = options.namespace;
    this.lazy = options.wsLazyConnect ?? true;
    this.logLevel = options.logLevel ?? LogLevel.Warn;
    this.connectCallback = options.onConnect;
    this.disconnectCallback = options.onDisconnect;
    this.errorCallback = options.onError;
    this.receiveCallback = options.onReceive;
    this.sendCallback = options.onSend;
    if (options.onConnectionChange) this.stateListeners.add(options.onConnectionChange);
    this.session = new AuthSession(this.url, options.authProvider, (m) => this.log(LogLevel.Warn, m));
    const wsUrl = this.url.replace(/^http/i, 'ws') + '/v1/ws';
    this.connection = new LiveConnection(
      wsUrl,
      options.webSocketFactory ?? openWebSocket,
      {
        autoReconnect: options.autoReconnect ?? true,
        initialDelayMs: options.reconnectDelayMs ?? 250,
        maxDelayMs: options.maxReconnectDelayMs ?? 10_000,
        maxAttempts: options.maxReconnectAttempts ?? 0,
        pingIntervalMs: options.pingIntervalMs ?? 10_000,
      },
      {
        authenticate: async () => {
          const token = await this.session.accessToken();
          if (!token) throw new KalamError('AUTH_REQUIRED', 'live queries need credentials: Auth.basic() or Auth.jwt()');
          return { type: 'authenticate', method: 'jwt', token };
        },
        authRefused: () => this.session.refused(),
        stateChanged: (state) => {
          this.log(LogLevel.Debug, `connection: ${state}`);
          for (const listener of this.stateListeners) listener(state);
        },
        connected: () => this.connectCallback?.(),
        disconnected: (reason) => this.disconnectCallback?.(reason),
        error: (error) => {
          this.log(LogLevel.Debug, `connection error: ${error.message}`);
          this.errorCallback?.(error);
        },
        received: (text) => this.receiveCallback?.(text),
        sent: (text) => this.sendCallback?.(text),
        log: (message) => this.log(LogLevel.Debug, message),
      },
    );
  }

  /* ---- lifecycle ------------------------------------------------------------------ */

  /** Obtains credentials (signing in for Basic ones); with `wsLazyConnect: false` also
   *  opens the socket. */
  async initialize(): Promise<void> {
    await this.session.accessToken();
    if (!this.lazy) await this.connection.connect();
  }

  /** Opens the shared socket now; resolves once it is authenticated. */
  async connect(): Promise<void> {
    await this.connection.connect();
  }

  /** Ends every subscription and closes the socket; queries still work. */
  async disconnect(): Promise<void> {
    this.connection.close('disconnect()');
  }

  /** disconnect(), and forget the tokens (the next call signs in again). */
  async shutdown(): Promise<void> {
    this.connection.close('shutdown()');
    this.session.close();
  }

  isConnected(): boolean {
    return this.connection.isConnected();
  }

  isReconnecting(): boolean {
    return this.connection.state === 'reconnecting';
  }

  getConnectionState(): ConnectionState {
    return this.connection.state;
  }

  getReconnectAttempts(): number {
    return this.connection.attempts;
  }

  setAutoReconnect(enabled: boolean): void {
    this.connection.policy.autoReconnect = enabled;
  }

  setReconnectDelay(initialMs: number, maxMs: number): void {
    this.connection.policy.initialDelayMs = initialMs;
    this.connection.policy.maxDelayMs = Math.max(initialMs, maxMs);
  }

  /** 0: never give up. */
  setMaxReconnectAttempts(attempts: number): void {
    this.connection.policy.maxAttempts = attempts;
  }

  /** Drops the socket as a network failure would (the client reconnects and resumes). */
  dropConnection(): void {
    this.connection.dropSocket('dropped by dropConnection()');
  }

  onConnect(callback: OnConnectCallback): void {
    this.connectCallback = callback;
  }

  onDisconnect(callback: OnDisconnectCallback): void {
    this.disconnectCallback = callback;
  }

  onError(callback: OnErrorCallback): void {
    this.errorCallback = callback;
  }

  onReceive(callback: OnReceiveCallback): void {
    this.receiveCallback = callback;
  }

  onSend(callback: OnSendCallback): void {
    this.sendCallback = callback;
  }

  /** Calls `callback` with every change of the connection's state; returns a remover. */
  onConnectionChange(callback: OnConnectionChangeCallback): () => void {
    this.stateListeners.add(callback);
    return () => this.stateListeners.delete(callback);
  }

  setLogLevel(level: LogLevel): void {
    this.logLevel = level;
  }

  /* ---- authentication --------------------------------------------------------------- */

  /** Trades the provider's Basic credentials for tokens, kept and refreshed before expiry. */
  login(): Promise<LoginResponse> {
    return this.session.login();
  }

  /** Trades a refresh token (default: the one kept) for a new pair. */
  refreshToken(refreshToken?: string): Promise<LoginResponse> {
    return this.session.refreshToken(refreshToken);
  }

  getAuthType(): 'basic' | 'jwt' | null {
    return this.session.authType();
  }

  async healthCheck(): Promise<HealthCheckResponse> {
    return (await getJson(`${this.url}/v1/api/healthcheck`)) as unknown as HealthCheckResponse;
  }

  /* ---- SQL -------------------------------------------------------------------------- */

  /** Runs SQL (one statement or several separated by `;`). Rejects with a KalamError
   *  carrying the server's code, message and the failed statement's index. */
  async query(sql: string, params?: SqlParam[]): Promise<QueryResponse> {
    const body: Record<string, unknown> = { sql };
    if (params && params.length > 0) body['params'] = params.map(toParam);
    if (this.namespace) body['namespace_id'] = this.namespace;
    return (await this.post('/v1/api/sql', body)) as unknown as QueryResponse;
  }

  /** The first row of the (last) result as cells, or null. */
  async queryOne<T extends object = Record<string, unknown>>(sql: string, params?: SqlParam[]): Promise<RowData<T> | null> {
    return (await this.queryAll<T>(sql, params))[0] ?? null;
  }

  /** The rows of the (last) result as cells. */
  async queryAll<T extends object = Record<string, unknown>>(sql: string, params?: SqlParam[]): Promise<RowData<T>[]> {
    const response = await this.query(sql, params);
    const result = response.results[response.results.length - 1];
    if (!result?.schema || !result.rows) return [];
    const names = result.schema.map((field) => field.name);
    return result.rows.map((values) => wrapRowArray(names, values) as unknown as RowData<T>);
  }

  /** Runs one statement as another user, named by user id (a topic message's `user`) or
   *  by user name (`EXECUTE AS`): service and above. */
  executeAsUser(sql: string, user: string, params?: SqlParam[]): Promise<QueryResponse> {
    const inner = sql.trim().replace(/;\s*$/, '');
    if (!inner) throw new KalamError('INVALID_INPUT', 'executeAsUser: empty statement');
    return this.query(`EXECUTE AS ${quoteLiteral(user)} (${inner})`, params);
  }

  /** INSERT of one row given as an object of column values. */
  insert(table: string, row: Record<string, SqlParam>): Promise<QueryResponse> {
    const columns = Object.keys(row).filter((column) => row[column] !== undefined);
    if (columns.length === 0) throw new KalamError('INVALID_INPUT', 'insert: no columns');
    const placeholders = columns.map((_, i) => `$${i + 1}`);
    return this.query(
      `INSERT INTO ${table} (${columns.map(quoteIdent).join(', ')}) VALUES (${placeholders.join(', ')})`,
      columns.map((column) => row[column]),
    );
  }

  /** UPDATE of the row whose `id` is `id`. */
  update(table: string, id: SqlParam, changes: Record<string, SqlParam>): Promise<QueryResponse> {
    const columns = Object.keys(changes).filter((column) => changes[column] !== undefined);
    if (columns.length === 0) throw new KalamError('INVALID_INPUT', 'update: no columns');
    const sets = columns.map((column, i) => `${quoteIdent(column)} = $${i + 1}`);
    return this.query(`UPDATE ${table} SET ${sets.join(', ')} WHERE id = $${columns.length + 1}`, [
      ...columns.map((column) => changes[column]),
      id,
    ]);
  }

  /** DELETE of the row whose `id` is `id`. */
  delete(table: string, id: SqlParam): Promise<QueryResponse> {
    return this.query(`DELETE FROM ${table} WHERE id = $1`, [id]);
  }

  /* ---- topics ---------------------------------------------------------------------- */

  /** One read of a topic's partition (service and above): as a member of `group`, the
   *  messages after what the group was handed (reserved for it until acknowledged or the
   *  visibility timeout passes); without a group, a read that records nothing. With
   *  `timeoutSeconds` it waits for messages when none are ready. */
  consume<T = JsonValue>(options: ConsumeOptions): Promise<ConsumeResult<T>> {
    return consumeTopic<T>(this.topicPost, options);
  }

  /** Commits the group's progress in the partition up to `uptoOffset` (inclusive); resolves
   *  to the group's acknowledged offset, which never goes back. */
  ack(options: AckOptions): Promise<number> {
    return ackTopic(this.topicPost, options);
  }

  /** A worker loop: long-polls the topic as a member of `group`, hands each message to the
   *  handler and acknowledges it once the handler returned; a handler that throws leaves
   *  its message to come back after the visibility timeout. Failed requests are retried
   *  with backoff. Throws INVALID_INPUT at once for bad options. */
  runConsumer<T = JsonValue>(options: ConsumerOptions<T>): ConsumerHandle {
    return new TopicConsumer<T>(this.topicPost, options, (message) => this.log(LogLevel.Warn, message));
  }

  /* ---- live queries ----------------------------------------------------------------- */

  /** The raw events of a live query (rows as cells): subscription_ack, initial_data_batch,
   *  change, error. Resolves once the server acknowledged it; the function it gives stops it. */
  subscribeWithSql<T extends object = Record<string, unknown>>(
    sql: string,
    onEvent: SubscriptionCallback<T>,
    options: SubscriptionOptions = {},
  ): Promise<Unsubscribe> {
    return this.start(sql, options, 'seq', (event) => onEvent(event as ServerMessage<T>));
  }

  /** subscribeWithSql of `SELECT * FROM table`. */
  subscribe<T extends object = Record<string, unknown>>(
    table: string,
    onEvent: SubscriptionCallback<T>,
    options: SubscriptionOptions = {},
  ): Promise<Unsubscribe> {
    return this.subscribeWithSql(`SELECT * FROM ${table}`, onEvent, options);
  }

  /** The current row set of a live query, reconciled by key and handed whole to `onRows`
   *  after the snapshot and after every change. */
  live<T = RowData>(sql: string, onRows: LiveRowsCallback<T>, options: LiveRowsOptions<T> = {}): Promise<Unsubscribe> {
    const subscriptionOptions = options.subscriptionOptions ?? {};
    const query = new LiveQuery<T>(sql, onRows, options, (text) => this.primaryKey(text));
    // A set started from a checkpoint continues from `_seq`; a whole set is reloaded after
    // a reconnect, because a resume from `_seq` can't tell which rows were deleted meanwhile.
    const resume: ResumeMode = subscriptionOptions.from === undefined ? 'snapshot' : 'seq';
    return this.start(sql, subscriptionOptions, resume, (event, subscription) => query.handle(event, subscription));
  }

  /** live() of `SELECT * FROM table`. */
  liveTableRows<T = RowData>(table: string, onRows: LiveRowsCallback<T>, options: LiveRowsOptions<T> = {}): Promise<Unsubscribe> {
    return this.live(`SELECT * FROM ${table}`, onRows, options);
  }

  async unsubscribe(subscriptionId: string): Promise<void> {
    const subscription = this.connection.get(subscriptionId);
    if (subscription) await this.connection.remove(subscription);
  }

  async unsubscribeAll(): Promise<void> {
    await Promise.all(this.connection.all().map((subscription) => this.connection.remove(subscription)));
  }

  getSubscriptions(): SubscriptionInfo[] {
    return this.connection.all().map((subscription) => subscription.info());
  }

  getSubscriptionCount(): number {
    return this.connection.all().filter((subscription) => subscription.state !== 'closed').length;
  }

  isSubscribedTo(sqlOrTable: string): boolean {
    return this.connection.all().some((s) => s.state !== 'closed' &&
      (s.sql === sqlOrTable || s.sql === `SELECT * FROM ${sqlOrTable}`));
  }

  /** The last `_seq` a subscription applied: store it, resume with `subscriptionOptions.from`. */
  getLastSeqId(subscriptionId: string): SeqId | undefined {
    const seq = this.connection.get(subscriptionId)?.lastSeq;
    return seq === null || seq === undefined ? undefined : SeqId.from(seq);
  }

  private async start(
    sql: string,
    options: SubscriptionOptions,
    resume: ResumeMode,
    listener: SubscriptionListener,
  ): Promise<Unsubscribe> {
    if (!sql || !sql.trim()) throw new KalamError('INVALID_INPUT', 'empty subscription SQL');
    const subscription = new Subscription(`sub-${++this.nextId}`, sql, options, resume, listener);
    this.connection.add(subscription);
    try {
      await subscription.started();
    } catch (error) {
      await this.connection.remove(subscription);
      throw error;
    }
    return () => this.connection.remove(subscription);
  }

  /** POSTs to the server with the session's token; a refused token is renewed and the
   *  request sent once more. */
  private async post(path: string, body: unknown, signal?: AbortSignal): Promise<Record<string, JsonValue>> {
    const url = `${this.url}${path}`;
    try {
      return await postJson(url, body, await this.session.authorization(), signal);
    } catch (error) {
      if (!(error instanceof KalamError) || !TOKEN_REFUSED.has(error.code) || !this.session.authType()) throw error;
      await this.session.refused();
      return await postJson(url, body, await this.session.authorization(), signal);
    }
  }

  /** The primary key of the table `sql` reads (`_seq` for STREAM tables), asked once per table. */
  private primaryKey(sql: string): Promise<string[]> {
    const table = tableOfSql(sql);
    if (!table) return Promise.reject(new Error('no table in the SQL'));
    const [namespace, name] = table;
    const id = `${namespace}.${name}`;
    let found = this.keyColumns.get(id);
    if (!found) {
      found = (async () => {
        const response = await this.query(
          `SELECT table_type FROM system.tables WHERE namespace_id = $1 AND table_name = $2`,
          [namespace, name],
        );
        if (response.results[0]?.rows?.[0]?.[0] === 'stream') return ['_seq'];
        const columns = await this.queryAll(`DESCRIBE TABLE ${quoteIdent(namespace)}.${quoteIdent(name)}`);
        const key = columns.filter((c) => c['is_primary_key']?.asBoolean()).map((c) => c['column_name']!.asString()!);
        return key.length > 0 ? key : ['_seq'];
      })();
      found.catch(() => this.keyColumns.delete(id));
      this.keyColumns.set(id, found);
    }
    return found;
  }

  private log(level: LogLevel, message: string): void {
    if (level < this.logLevel) return;
    const line = `[@kalamdb/client] ${message}`;
    if (level >= LogLevel.Error) console.error(line);
    else if (level >= LogLevel.Warn) console.warn(line);
    else console.log(line);
  }
}

/** A client; throws at once on a missing `url` or `authProvider`. */
export function createClient(options: ClientOptions): KalamDBClient {
  return new KalamDBClient(options);
}

function toParam(value: SqlParam): unknown {
  if (value === undefined) return null;
  if (value instanceof SeqId) return value.toBigInt();
  if (value instanceof Date) return value.toISOString();
  if (value !== null && typeof value === 'object') return stringifyJson(value);
  return value;
}

function quoteLiteral(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

/** Names are written as given when plain, quoted otherwise. */
function quoteIdent(name: string): string {
  return /^[a-z_][a-z0-9_]*$/.test(name) ? name : `"${name.replace(/"/g, '""')}"`;
}
