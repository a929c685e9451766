// One live query of the client: what to send to subscribe (and re-subscribe after a
// lost socket), and the server's events for it turned into rows of cells.
//
// Invariant: `lastSeq` is the newest `_seq` handed to the listener. A re-subscription
// asks for rows after it (`from_seq_id`), and `floor` drops anything at or below the
// `from_seq_id` last sent, so across reconnects every change reaches the listener once,
// in commit order.

import { KalamError } from './errors.js';
import { wrapRowMap, type RowData } from './cell.js';
import type { JsonValue } from './json.js';
import { SeqId } from './seq_id.js';
import type {
  BatchControl,
  ServerMessage,
  SubscriptionInfo,
  SubscriptionOptions,
  SubscriptionState,
} from './types.js';

/** How a subscription comes back after a lost socket. */
export type ResumeMode =
  | 'seq'        // from the last `_seq` applied: the rows written meanwhile, then changes
  | 'snapshot';  // a whole new snapshot (what a reconciled row set needs to see deletes)

export type SubscriptionListener = (event: ServerMessage, subscription: Subscription) => void;

type WireRow = Record<string, JsonValue>;

export class Subscription {
  state: SubscriptionState = 'pending';
  /** The socket generation the subscribe message went out on (-1: not sent). */
  sentOn = -1;
  lastSeq: bigint | null;
  /** Whether the snapshot now arriving continues the rows already applied (a resume
   *  from `_seq`) rather than replacing them. */
  resumingFromSeq = false;
  readonly createdAt = new Date();
  private floor: bigint | null = null;
  private readonly acked: Promise<void>;
  private settle!: { resolve: () => void; reject: (error: Error) => void };
  private settled = false;

  constructor(
    readonly id: string,
    readonly sql: string,
    private readonly options: SubscriptionOptions,
    private readonly resume: ResumeMode,
    private readonly listener: SubscriptionListener,
  ) {
    this.lastSeq = options.from === undefined ? null : SeqId.from(options.from).toBigInt();
    this.acked = new Promise((resolve, reject) => { this.settle = { resolve, reject }; });
    this.acked.catch(() => {});  // observed through started()
  }

  /** Resolves at the server's subscription_ack; rejects when the server refuses it. */
  started(): Promise<void> {
    return this.acked;
  }

  /** The subscribe message for the socket of generation `generation`. */
  subscribeMessage(generation: number): Record<string, unknown> {
    const options: Record<string, unknown> = {};
    if (this.options.batch_size !== undefined) options['batch_size'] = this.options.batch_size;
    this.resumingFromSeq = this.sentOn >= 0 && this.resume === 'seq' && this.lastSeq !== null;
    if (this.resumingFromSeq) {
      // last_rows would cut the rows written while away: not on a resume.
      options['from_seq_id'] = this.lastSeq;
      this.floor = this.lastSeq;
    } else {
      if (this.options.last_rows !== undefined) options['last_rows'] = this.options.last_rows;
      const from = this.options.from === undefined ? null : SeqId.from(this.options.from).toBigInt();
      if (from !== null) options['from_seq_id'] = from;
      this.floor = from;
    }
    this.sentOn = generation;
    this.state = 'loading';
    return { type: 'subscribe', subscription: { id: this.id, sql: this.sql, options } };
  }

  connectionLost(): void {
    if (this.state !== 'closed') this.state = 'pending';
  }

  /** Ends it locally: it is not re-sent, and a caller still waiting for the ack is told. */
  close(error?: KalamError): void {
    this.state = 'closed';
    this.fail(error ?? new KalamError('CLIENT_CLOSED', 'the subscription was stopped'));
  }

  fail(error: Error): void {
    if (this.settled) return;
    this.settled = true;
    this.settle.reject(error);
  }

  /** A server message of this subscription (parsed, integers exact). */
  handle(message: Record<string, JsonValue>): void {
    switch (message['type']) {
      case 'subscription_ack': {
        const control = message['batch_control'] as unknown as BatchControl;
        this.listener(message as unknown as ServerMessage, this);
        if (!this.settled) {
          this.settled = true;
          this.settle.resolve();
        }
        this.afterBatch(control);
        return;
      }
      case 'initial_data_batch': {
        const rows = this.fresh(message['rows'] as WireRow[] | undefined);
        const control = message['batch_control'] as unknown as BatchControl;
        this.listener({ ...(message as object), rows: rows.map(wrapRowMap) } as ServerMessage, this);
        this.advance(rows);
        this.afterBatch(control);
        return;
      }
      case 'change': {
        const rows = this.fresh(message['rows'] as WireRow[] | undefined);
        const old = message['old_values'] as WireRow[] | undefined;
        const event: Record<string, unknown> = {
          type: 'change',
          subscription_id: this.id,
          change_type: message['change_type'],
        };
        if (message['change_type'] === 'delete') {
          const gone = this.fresh(old);
          if (gone.length === 0) return;
          event['old_values'] = gone.map(wrapRowMap);
          this.listener(event as unknown as ServerMessage, this);
          this.advance(gone);
          return;
        }
        if (rows.length === 0) return;
        event['rows'] = rows.map(wrapRowMap);
        if (old) {
          // update: old_values pair with rows by position; keep the pairs that are new.
          const all = message['rows'] as WireRow[];
          const kept = rows.length === all.length ? old : old.filter((_, i) => rows.includes(all[i]!));
          event['old_values'] = kept.map(wrapRowMap);
        }
        this.listener(event as unknown as ServerMessage, this);
        this.advance(rows);
        return;
      }
      case 'error': {
        const error = new KalamError(String(message['code']), String(message['message']));
        this.state = 'closed';  // the server ended it (or never started it)
        if (!this.settled) {
          this.fail(error);
          return;
        }
        this.listener(message as unknown as ServerMessage, this);
        return;
      }
      default:
        return;
    }
  }

  info(): SubscriptionInfo {
    return {
      id: this.id,
      sql: this.sql,
      tableName: this.sql,
      createdAt: this.createdAt,
      lastSeqId: this.lastSeq === null ? undefined : SeqId.from(this.lastSeq),
      state: this.state,
      closed: this.state === 'closed',
    };
  }

  /** The rows not already applied (above the floor of this subscribe). */
  private fresh(rows: WireRow[] | undefined): WireRow[] {
    if (!rows) return [];
    const floor = this.floor;
    if (floor === null) return rows;
    return rows.filter((row) => {
      const seq = row['_seq'];
      return seq === undefined || seq === null || BigInt(seq as bigint | number) > floor;
    });
  }

  private advance(rows: WireRow[]): void {
    for (const row of rows) {
      const seq = row['_seq'];
      if (seq === undefined || seq === null) continue;
      const value = BigInt(seq as bigint | number);
      if (this.lastSeq === null || value > this.lastSeq) this.lastSeq = value;
    }
  }

  private afterBatch(control: BatchControl | undefined): void {
    if (!control || control.status !== 'ready') return;
    this.state = 'ready';
    // The snapshot held every commit up to last_seq_id: later ones arrive as changes.
    if (control.last_seq_id !== undefined && control.last_seq_id !== null) {
      const seq = BigInt(control.last_seq_id);
      if (this.lastSeq === null || seq > this.lastSeq) this.lastSeq = seq;
    }
  }
}

export type { RowData };
