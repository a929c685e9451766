// The shapes of what the server sends (HTTP answers and WebSocket messages, as in
// docs/api.md) and of the client's options and callbacks.

import type { AuthProvider } from './auth.js';
import type { RowData } from './cell.js';
import type { JsonValue } from './json.js';
import type { SeqId } from './seq_id.js';

export type { JsonValue };

export type Role = 'user' | 'service' | 'dba' | 'system';

export interface SchemaField {
  name: string;
  /** `Boolean SmallInt Int BigInt Float Double Decimal(p,s) Text Bytes Json Timestamp Date Time Uuid` */
  data_type: string;
  index: number;
}

export interface QueryResult {
  schema?: SchemaField[];
  /** Rows as arrays in schema order; integers past 2^53 are bigints. */
  rows?: JsonValue[][];
  row_count: number;
  message?: string;
  as_user?: string;
}

export interface ErrorDetail {
  code: string;
  message: string;
  statement_index?: number;
}

export interface QueryResponse {
  status: 'success' | 'error';
  results: QueryResult[];
  /** Server-side milliseconds. */
  took: number;
  error?: ErrorDetail;
}

export interface LoginUserInfo {
  user_id: string;
  username: string;
  role: Role;
}

export interface LoginResponse {
  access_token: string;
  refresh_token: string;
  token_type: 'Bearer';
  /** Seconds the access token lives. */
  expires_in: number;
  user: LoginUserInfo;
}

export interface HealthCheckResponse {
  status: string;
  version?: string;
  api_version: string;
}

/* ---- WebSocket messages (server → client) ------------------------------------------ */

export type BatchStatus = 'loading' | 'ready';

export interface BatchControl {
  batch_num: number;
  has_more: boolean;
  status: BatchStatus;
  /** The snapshot holds the commits up to this `_seq`. */
  last_seq_id?: bigint | number;
}

export type ChangeTypeRaw = 'insert' | 'update' | 'delete';

export interface SubscriptionAckEvent {
  type: 'subscription_ack';
  subscription_id: string;
  live_id: string;
  total_rows: number;
  schema: SchemaField[];
  batch_control: BatchControl;
}

export interface InitialDataBatchEvent<T extends object = Record<string, unknown>> {
  type: 'initial_data_batch';
  subscription_id: string;
  rows: RowData<T>[];
  batch_control: BatchControl;
}

export interface ChangeEvent<T extends object = Record<string, unknown>> {
  type: 'change';
  subscription_id: string;
  change_type: ChangeTypeRaw;
  /** insert, update: the rows now (with `_seq`). */
  rows?: RowData<T>[];
  /** update: the same rows before; delete: the rows as they were. */
  old_values?: RowData<T>[];
}

export interface SubscriptionErrorEvent {
  type: 'error';
  subscription_id?: string;
  code: string;
  message: string;
}

/** What `subscribeWithSql` hands its callback: the protocol's events, rows as cells. */
export type ServerMessage<T extends object = Record<string, unknown>> =
  | SubscriptionAckEvent
  | InitialDataBatchEvent<T>
  | ChangeEvent<T>
  | SubscriptionErrorEvent;

export enum MessageType {
  SubscriptionAck = 'subscription_ack',
  InitialDataBatch = 'initial_data_batch',
  Change = 'change',
  Error = 'error',
}

export enum ChangeType {
  Insert = 'insert',
  Update = 'update',
  Delete = 'delete',
}

/* ---- subscriptions ------------------------------------------------------------------ */

export interface SubscriptionOptions {
  /** Rows per initial_data_batch message (server default 1000, at most 10000). */
  batch_size?: number;
  /** Only the newest N rows of the snapshot. */
  last_rows?: number;
  /** Resume after a checkpoint: only rows with a `_seq` greater than it. */
  from?: SeqId | bigint | string | number;
}

export type SubscriptionCallback<T extends object = Record<string, unknown>> = (
  event: ServerMessage<T>,
) => void;

export type LiveRowsCallback<T> = (rows: T[]) => void;

export interface LiveRowsOptions<T> {
  /** Columns that identify a row. Default: the table's primary key. */
  keyColumns?: string[];
  /** Keep at most this many rows (the newest by arrival); older ones are dropped. */
  limit?: number;
  /** Map each row (cells) to the application's shape; default: the cells. */
  mapRow?: (row: RowData) => T;
  subscriptionOptions?: SubscriptionOptions;
  /** Errors after the start: the subscription ended (table dropped, killed, ...). */
  onError?: (event: SubscriptionErrorEvent) => void;
}

/** Stops a subscription; resolves once the server has dropped it. */
export type Unsubscribe = () => Promise<void>;

export interface SubscriptionInfo {
  id: string;
  /** The subscription's SQL. */
  sql: string;
  /** The SQL too (the name KalamDB's client gives it). */
  tableName: string;
  createdAt: Date;
  /** The last `_seq` applied: a checkpoint for `subscriptionOptions.from`. */
  lastSeqId?: SeqId;
  /** pending (waiting for the socket), loading, ready, or closed (ended by the server). */
  state: SubscriptionState;
  closed: boolean;
}

export type SubscriptionState = 'pending' | 'loading' | 'ready' | 'closed';

/* ---- connection ----------------------------------------------------------------------- */

/** disconnected → connecting → connected; reconnecting between attempts after a loss. */
export type ConnectionState = 'disconnected' | 'connecting' | 'connected' | 'reconnecting';

export interface DisconnectReason {
  message: string;
  /** WebSocket close code, when there was a close frame. */
  code?: number;
}

export interface ConnectionError {
  message: string;
  /** Whether reconnecting goes on. */
  recoverable: boolean;
}

export type OnConnectCallback = () => void;
export type OnDisconnectCallback = (reason: DisconnectReason) => void;
export type OnErrorCallback = (error: ConnectionError) => void;
export type OnReceiveCallback = (message: string) => void;
export type OnSendCallback = (message: string) => void;
export type OnConnectionChangeCallback = (state: ConnectionState) => void;

export enum LogLevel {
  Verbose = 0,
  Debug = 1,
  Info = 2,
  Warn = 3,
  Error = 4,
  None = 5,
}

/** The part of the WebSocket interface the client uses (browsers', Node's, `ws`'s). */
export interface SocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code?: number; reason?: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
}

export type WebSocketFactory = (url: string) => SocketLike | Promise<SocketLike>;

export interface ClientOptions {
  /** The server, e.g. `http://localhost:8080`. */
  url: string;
  authProvider: AuthProvider;
  /** true (default): the socket opens with the first subscription; false: `initialize()` opens it. */
  wsLazyConnect?: boolean;
  /** Milliseconds between keep-alive pings on the socket (default 10000; 0: none). A
   *  socket that hears nothing for two intervals is taken for dead and reopened. */
  pingIntervalMs?: number;
  /** Reconnect after a lost socket (default true). */
  autoReconnect?: boolean;
  /** First and largest delay between reconnect attempts (defaults 250 ms and 10 s). */
  reconnectDelayMs?: number;
  maxReconnectDelayMs?: number;
  /** Attempts before giving up (default: never give up). */
  maxReconnectAttempts?: number;
  /** Namespace of unqualified table names in `query` (server default `default`). */
  namespace?: string;
  /** Opens the socket; default: the global WebSocket, or the `ws` package in Node. */
  webSocketFactory?: WebSocketFactory;
  logLevel?: LogLevel;
  onConnect?: OnConnectCallback;
  onDisconnect?: OnDisconnectCallback;
  onError?: OnErrorCallback;
  onReceive?: OnReceiveCallback;
  onSend?: OnSendCallback;
  onConnectionChange?: OnConnectionChangeCallback;
}

/* ---- topics --------------------------------------------------------------------------- */

export type TopicOp = 'insert' | 'update' | 'delete';

/** Where a consumer group without a committed position (or a read without a group)
 *  begins: after the last message now, at the oldest one kept, or at an offset. */
export type TopicStart = 'latest' | 'earliest' | { offset: number };

/** One change of a source table, as a topic keeps it. */
export interface TopicMessage<T = JsonValue> {
  /** `namespace.name`. */
  topic: string;
  partition: number;
  /** Dense per partition, from 0. */
  offset: number;
  op: TopicOp;
  /** The row's primary key as text. */
  key: string;
  /** The user id owning the row of a USER or STREAM table; null for SHARED tables. */
  user: string | null;
  /** When the change was committed (milliseconds since the epoch). */
  timestampMs: number;
  /** The payload parsed (integers past 2^53 as bigint): the full row, its key columns, or
   *  for a `diff` source `{column: {old, new}}` of the changed columns. */
  payload: T;
  /** The payload's JSON text as the server sent it. */
  payloadText: string;
}

export interface ConsumeOptions {
  /** `namespace.name` of the topic. */
  topic: string;
  /** A consumer group: what it is handed stays reserved for it until acknowledged or the
   *  server's visibility timeout (default 30 s) passes. Without a group: a read that
   *  reserves and records nothing. */
  group?: string;
  /** Where a group begins on its first read (later reads go on from its position), or
   *  where a read without a group begins. Default `'latest'`. */
  start?: TopicStart;
  /** Messages at most (server default 100). */
  limit?: number;
  /** Default 0. */
  partition?: number;
  /** Long poll: when no message is ready, wait up to this many seconds (server max 60)
   *  for one. Default 0: answer at once. */
  timeoutSeconds?: number;
  /** Aborts the request (a waiting long poll included): rejects with code `ABORTED`. */
  signal?: AbortSignal;
}

export interface ConsumeResult<T = JsonValue> {
  messages: TopicMessage<T>[];
  /** The offset after the last message returned (for a group: after all it was handed). */
  nextOffset: number;
  /** More messages were ready than `limit` allowed. */
  hasMore: boolean;
}

export interface AckOptions {
  topic: string;
  group: string;
  /** Default 0. */
  partition?: number;
  /** The group has handled every message of the partition up to this offset (inclusive). */
  uptoOffset: number;
  signal?: AbortSignal;
}

/** Where a consumer loop's error arose: consuming, the handler (with its messages), or
 *  acknowledging. */
export interface ConsumerErrorContext<T = JsonValue> {
  stage: 'consume' | 'handler' | 'ack';
  partition: number;
  /** stage `handler`: the message (or batch) whose handler threw. */
  messages?: TopicMessage<T>[];
}

export interface ConsumerOptions<T = JsonValue> {
  topic: string;
  group: string;
  /** Called once per message, in offset order within a partition; the message is
   *  acknowledged once it (and every message before it in the partition that this loop
   *  was handed) has returned. A handler that throws leaves the message unacknowledged:
   *  it comes back after the visibility timeout. Give `handler` or `batchHandler`. */
  handler?: (message: TopicMessage<T>) => void | Promise<void>;
  /** Called with each batch instead; when it throws, the whole batch comes back. */
  batchHandler?: (messages: TopicMessage<T>[]) => void | Promise<void>;
  /** Partitions to consume, each by a loop of its own (default `[0]`). */
  partitions?: number[];
  /** Messages per consume request (default 100). */
  batchSize?: number;
  /** Seconds each long poll waits for messages (default 20, at least 1, server max 60). */
  timeoutSeconds?: number;
  /** Where the group begins on its very first read (default `'latest'`). */
  start?: TopicStart;
  /** Stops the loop as `stop()` does. */
  signal?: AbortSignal;
  /** Errors the loop goes on after: failed consume or ack requests (retried with backoff)
   *  and handlers that threw. Default: logged as warnings. */
  onError?: (error: unknown, context: ConsumerErrorContext<T>) => void;
}

export interface ConsumerHandle {
  /** Ends the loop: a waiting long poll is aborted, a running handler finishes (and its
   *  acknowledgement is sent). Resolves when the loop has ended. */
  stop(): Promise<void>;
  /** Resolves when the loop has ended (after `stop()` or the signal's abort). */
  readonly done: Promise<void>;
}
