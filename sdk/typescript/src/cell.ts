// Cell values: what a row's column holds, with typed accessors.
//
// The server encodes values so (docs/api.md, "Value encoding"): integers as JSON numbers
// with all digits (here: a bigint past 2^53, see json.ts), Decimal as a string, Bytes as
// base64, Timestamp as RFC 3339 with microseconds, Date as YYYY-MM-DD, Json as the value
// itself, NULL as null.

import type { JsonValue } from './json.js';

export class KalamCellValue {
  readonly #raw: JsonValue;

  private constructor(raw: JsonValue) {
    this.#raw = raw;
  }

  static from(raw: unknown): KalamCellValue {
    return new KalamCellValue(raw === undefined ? null : (raw as JsonValue));
  }

  /** The value as decoded from JSON (a bigint for integers past 2^53). */
  asJson(): JsonValue {
    return this.#raw;
  }

  toJson(): JsonValue {
    return this.#raw;
  }

  isNull(): boolean {
    return this.#raw === null;
  }

  isString(): boolean {
    return typeof this.#raw === 'string';
  }

  isNumber(): boolean {
    return typeof this.#raw === 'number' || typeof this.#raw === 'bigint';
  }

  isBool(): boolean {
    return typeof this.#raw === 'boolean';
  }

  /** Text as is; numbers and booleans as their literal; JSON values as JSON text. */
  asString(): string | null {
    const raw = this.#raw;
    if (raw === null) return null;
    if (typeof raw === 'string') return raw;
    if (typeof raw === 'object') return JSON.stringify(plainJson(raw));
    return String(raw);
  }

  /** A number (a Decimal's string parsed too); integers past 2^53 lose digits: use asBigInt. */
  asNumber(): number | null {
    const raw = this.#raw;
    if (raw === null) return null;
    if (typeof raw === 'number') return raw;
    if (typeof raw === 'bigint') return Number(raw);
    if (typeof raw === 'boolean') return raw ? 1 : 0;
    if (typeof raw === 'string' && raw.trim() !== '') {
      const n = Number(raw);
      return Number.isNaN(n) ? null : n;
    }
    return null;
  }

  /** asNumber truncated to an integer. */
  asInt(): number | null {
    const n = this.asNumber();
    return n === null ? null : Math.trunc(n);
  }

  asFloat(): number | null {
    return this.asNumber();
  }

  /** The exact integer: a BIGINT past 2^53 keeps every digit. */
  asBigInt(): bigint | null {
    const raw = this.#raw;
    if (raw === null) return null;
    if (typeof raw === 'bigint') return raw;
    if (typeof raw === 'number') return Number.isInteger(raw) ? BigInt(raw) : BigInt(Math.trunc(raw));
    if (typeof raw === 'string' && /^\s*-?\d+\s*$/.test(raw)) return BigInt(raw.trim());
    if (typeof raw === 'boolean') return raw ? 1n : 0n;
    return null;
  }

  asBoolean(): boolean | null {
    const raw = this.#raw;
    if (raw === null) return null;
    if (typeof raw === 'boolean') return raw;
    if (typeof raw === 'number') return raw !== 0;
    if (typeof raw === 'bigint') return raw !== 0n;
    if (typeof raw === 'string') {
      const text = raw.trim().toLowerCase();
      if (text === 'true' || text === 't' || text === '1') return true;
      if (text === 'false' || text === 'f' || text === '0') return false;
    }
    return null;
  }

  asBool(): boolean | null {
    return this.asBoolean();
  }

  /** A Timestamp (`2026-11-24T05:00:00.123456Z`) or Date (`2026-11-24`, UTC midnight); ms precision. */
  asDate(): Date | null {
    const raw = this.#raw;
    if (raw === null) return null;
    if (typeof raw === 'string') {
      const text = /^\d{4}-\d{2}-\d{2}$/.test(raw) ? `${raw}T00:00:00Z` : raw;
      const date = new Date(text);
      return Number.isNaN(date.getTime()) ? null : date;
    }
    if (typeof raw === 'number' || typeof raw === 'bigint') {
      const date = new Date(Number(raw));
      return Number.isNaN(date.getTime()) ? null : date;
    }
    return null;
  }

  /** A Decimal's exact digits. */
  asDecimal(): string | null {
    const raw = this.#raw;
    if (raw === null) return null;
    if (typeof raw === 'string' || typeof raw === 'number' || typeof raw === 'bigint') return String(raw);
    return null;
  }

  /** Bytes, decoded from the server's base64. */
  asBytes(): Uint8Array | null {
    const raw = this.#raw;
    if (typeof raw !== 'string') return null;
    try {
      const binary = atob(raw);
      const out = new Uint8Array(binary.length);
      for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
      return out;
    } catch {
      return null;
    }
  }

  asObject(): Record<string, JsonValue> | null {
    const raw = this.#raw;
    return raw !== null && typeof raw === 'object' && !Array.isArray(raw) ? raw : null;
  }

  asArray(): JsonValue[] | null {
    return Array.isArray(this.#raw) ? this.#raw : null;
  }

  toString(): string {
    return this.asString() ?? '';
  }

  /** JSON has no bigint: an integer past 2^53 serializes as its decimal string. */
  toJSON(): unknown {
    return plainJson(this.#raw);
  }
}

/** A row: its columns' cells, and `toJSON()` of the whole row as plain values. */
export type RowData<T extends object = Record<string, unknown>> = {
  [K in keyof T]: KalamCellValue;
} & RowMethods<T>;

interface RowMethods<T> {
  /** The row as plain values (bigints as decimal strings, so JSON.stringify works). */
  toJSON(): { [K in keyof T]: unknown };
}

const rowPrototype: RowMethods<Record<string, unknown>> = Object.create(null, {
  toJSON: {
    value(this: Record<string, KalamCellValue>) {
      const out: Record<string, unknown> = {};
      for (const key of Object.keys(this)) out[key] = this[key]!.toJSON();
      return out;
    },
  },
});

/** Wraps a row object of raw values (a WebSocket row) as cells. */
export function wrapRowMap(raw: Record<string, unknown>): RowData {
  const row = Object.create(rowPrototype) as Record<string, KalamCellValue>;
  for (const key in raw) row[key] = KalamCellValue.from(raw[key]);
  return row as unknown as RowData;
}

/** Wraps a row given as an array in schema order (an HTTP result row) as cells. */
export function wrapRowArray(names: readonly string[], values: readonly unknown[]): RowData {
  const row = Object.create(rowPrototype) as Record<string, KalamCellValue>;
  for (let i = 0; i < names.length; i++) row[names[i]!] = KalamCellValue.from(values[i]);
  return row as unknown as RowData;
}

/** A JSON value with its bigints turned into decimal strings. */
export function plainJson(value: JsonValue): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(plainJson);
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) out[key] = plainJson(value[key]!);
  return out;
}
