// The reconciled row set behind `live()`: a snapshot, then inserts, updates and deletes
// applied by key, bounded by `limit`.
//
// Rows keep their order of arrival (the snapshot comes in `_seq` order, so oldest first);
// an update replaces its row in place; past `limit` the oldest rows go. A snapshot that
// replaces the set (after a reconnect) is built aside and swapped in when complete, so
// the app never sees a half-loaded set.

import type { RowData } from './cell.js';
import type { ChangeEvent } from './types.js';

export type RowKey = (row: RowData) => string;

/** A key function over `columns`: one column's value as text, several as a JSON array. */
export function keyOfColumns(columns: readonly string[]): RowKey {
  if (columns.length === 1) {
    const column = columns[0]!;
    return (row) => keyText(row, column);
  }
  return (row) => JSON.stringify(columns.map((column) => keyText(row, column)));
}

function keyText(row: RowData, column: string): string {
  const cell = (row as Record<string, { asJson(): unknown } | undefined>)[column];
  if (cell === undefined) throw new Error(`row has no key column '${column}'`);
  const value = cell.asJson();
  return typeof value === 'string' ? value : String(value);
}

export class LiveRowSet<T = RowData> {
  private rows = new Map<string, T>();
  private loading: Map<string, T> | null = null;

  constructor(
    private readonly keyOf: RowKey,
    private readonly limit?: number,
    private readonly mapRow: (row: RowData) => T = (row) => row as unknown as T,
  ) {}

  /** A snapshot starts: `replace` builds a new set (swapped in at endSnapshot), otherwise
   *  its rows are applied to the current set as upserts (a resume from `_seq`). */
  beginSnapshot(replace: boolean): void {
    this.loading = replace ? new Map() : null;
  }

  addSnapshotRows(rows: readonly RowData[]): void {
    this.upsert(this.loading ?? this.rows, rows);
  }

  endSnapshot(): void {
    if (this.loading) {
      this.rows = this.loading;
      this.loading = null;
    }
  }

  apply(change: Pick<ChangeEvent, 'change_type' | 'rows' | 'old_values'>): void {
    const target = this.loading ?? this.rows;
    const rows = change.rows ?? [];
    const old = change.old_values ?? [];
    switch (change.change_type) {
      case 'insert':
        this.upsert(target, rows);
        return;
      case 'update':
        // A key column that is not the primary key may change: drop the row's old key.
        for (let i = 0; i < old.length && i < rows.length; i++) {
          const before = this.keyOf(old[i]!);
          if (before !== this.keyOf(rows[i]!)) target.delete(before);
        }
        this.upsert(target, rows);
        return;
      case 'delete':
        for (const row of old.length > 0 ? old : rows) target.delete(this.keyOf(row));
        return;
    }
  }

  values(): T[] {
    return Array.from(this.rows.values());
  }

  get size(): number {
    return this.rows.size;
  }

  private upsert(target: Map<string, T>, rows: readonly RowData[]): void {
    for (const row of rows) target.set(this.keyOf(row), this.mapRow(row));
    const limit = this.limit;
    if (limit === undefined || limit < 0) return;
    while (target.size > limit) {
      const oldest = target.keys().next().value as string;
      target.delete(oldest);
    }
  }
}
