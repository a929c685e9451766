// What `live()` runs on each event of its subscription: the key columns found at the
// first ack (given, or the table's primary key), then the LiveRowSet kept and handed
// whole to the app after every snapshot and change.

import type { RowData } from './cell.js';
import { LiveRowSet, keyOfColumns } from './live_rows.js';
import type { Subscription } from './subscription.js';
import type { LiveRowsCallback, LiveRowsOptions, SchemaField, ServerMessage, SubscriptionErrorEvent } from './types.js';

/** The key columns of the table a subscription reads (its primary key; `_seq` when it
 *  has none, as STREAM tables). */
export type KeyResolver = (sql: string) => Promise<string[]>;

export class LiveQuery<T> {
  private set: LiveRowSet<T> | null = null;
  private loading = false;
  /** Events that arrived while the key columns were being looked up. */
  private queue: Array<[ServerMessage, Subscription]> | null = null;
  private failed = false;

  constructor(
    private readonly sql: string,
    private readonly onRows: LiveRowsCallback<T>,
    private readonly options: LiveRowsOptions<T>,
    private readonly resolveKey: KeyResolver,
  ) {}

  handle(event: ServerMessage, subscription: Subscription): void {
    if (this.failed) return;
    if (this.queue) {
      this.queue.push([event, subscription]);
      return;
    }
    if (event.type === 'subscription_ack' && !this.set) {
      this.queue = [[event, subscription]];
      void this.start(event.schema);
      return;
    }
    this.apply(event, subscription);
  }

  private async start(schema: SchemaField[]): Promise<void> {
    let columns = this.options.keyColumns;
    if (!columns || columns.length === 0) {
      try {
        columns = await this.resolveKey(this.sql);
      } catch {
        columns = schema.some((field) => field.name === 'id') ? ['id'] : ['_seq'];
      }
    }
    const names = new Set(schema.map((field) => field.name));
    const missing = columns.filter((column) => !names.has(column));
    if (missing.length > 0) {
      this.failed = true;
      this.queue = null;
      this.error({
        type: 'error',
        code: 'INVALID_INPUT',
        message: `live() keys rows by ${columns.join(', ')}, which the query does not select: ` +
          `select ${missing.join(', ')} or pass keyColumns`,
      });
      return;
    }
    this.set = new LiveRowSet<T>(keyOfColumns(columns), this.options.limit, this.options.mapRow);
    const queued = this.queue ?? [];
    this.queue = null;
    for (const [event, subscription] of queued) this.apply(event, subscription);
  }

  private apply(event: ServerMessage, subscription: Subscription): void {
    const set = this.set;
    if (!set) return;
    switch (event.type) {
      case 'subscription_ack':
        set.beginSnapshot(!subscription.resumingFromSeq);
        this.loading = true;
        if (event.batch_control?.status === 'ready') this.ready(set);
        return;
      case 'initial_data_batch':
        set.addSnapshotRows(event.rows as RowData[]);
        if (event.batch_control?.status === 'ready') this.ready(set);
        return;
      case 'change':
        set.apply(event as Parameters<LiveRowSet<T>['apply']>[0]);
        if (!this.loading) this.onRows(set.values());
        return;
      case 'error':
        this.error(event);
        return;
    }
  }

  private ready(set: LiveRowSet<T>): void {
    set.endSnapshot();
    this.loading = false;
    this.onRows(set.values());
  }

  private error(event: SubscriptionErrorEvent): void {
    if (this.options.onError) this.options.onError(event);
    else console.error(`[@kalamdb/client] live query ended: ${event.code}: ${event.message}`);
  }
}

/** The table a `SELECT ... FROM ns.t [WHERE ...]` reads, as [namespace, table]. */
export function tableOfSql(sql: string): [string, string] | null {
  const match = /\bfrom\s+("?[A-Za-z_][\w]*"?)(?:\s*\.\s*("?[A-Za-z_][\w]*"?))?/i.exec(sql);
  if (!match) return null;
  const unquote = (name: string) => (name.startsWith('"') ? name.slice(1, -1) : name.toLowerCase());
  return match[2] ? [unquote(match[1]!), unquote(match[2])] : ['default', unquote(match[1]!)];
}
