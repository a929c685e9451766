// SQL text the UI writes, and values as the UI shows and exports them.
import { parseJson, stringifyJson } from '@kalamdb/client';

type JsonValue = ReturnType<typeof parseJson>;

/** An identifier, quoted when it is not a plain lower-case name. */
export function ident(name: string): string {
  return /^[a-z_][a-z0-9_]*$/.test(name) ? name : `"${name.replace(/"/g, '""')}"`;
}

export function tableRef(namespace: string, table: string): string {
  return `${ident(namespace)}.${ident(table)}`;
}

/** "ns.name" (as system tables write a table or topic) split at its first dot. */
export function splitQualified(name: string): [string, string] {
  const dot = name.indexOf('.');
  return [name.slice(0, dot), name.slice(dot + 1)];
}

/** "ns.name" as SQL. */
export function qualifiedRef(name: string): string {
  return tableRef(...splitQualified(name));
}

/** A string literal. */
export function literal(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

/** A value as the grid shows it: text, never HTML. */
export function display(value: unknown): string {
  if (value === null || value === undefined) return 'NULL';
  if (typeof value === 'object') return stringifyJson(value);
  return String(value);
}

/** JSON text indented two spaces a level (big integers keep their digits); text that is
 *  not JSON comes back as it was. */
export function prettyJson(text: string): string {
  let value: JsonValue;
  try { value = parseJson(text); } catch { return text; }
  const write = (v: JsonValue, pad: string): string => {
    const inner = `${pad}  `;
    if (Array.isArray(v)) return v.length ? `[\n${v.map((x) => inner + write(x, inner)).join(',\n')}\n${pad}]` : '[]';
    if (v !== null && typeof v === 'object') {
      const entries = Object.entries(v);
      return entries.length ? `{\n${entries.map(([k, x]) => `${inner}${JSON.stringify(k)}: ${write(x, inner)}`).join(',\n')}\n${pad}}` : '{}';
    }
    return stringifyJson(v);
  };
  return write(value, '');
}

/** The SQL with its parameters written in, for showing what runs (not for running). */
export function withParams(sql: string, params: unknown[]): string {
  return sql.replace(/\$(\d+)/g, (whole, n: string) => {
    const value = params[Number(n) - 1];
    if (value === undefined) return whole;
    if (value === null) return 'NULL';
    if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') return String(value);
    return literal(typeof value === 'object' ? stringifyJson(value) : String(value));
  });
}

export interface Statement {
  text: string;
  from: number; // offset in the whole text
}

/** Splits at `;` outside quotes and comments, as the server does. */
export function splitStatements(sql: string): Statement[] {
  const out: Statement[] = [];
  let start = 0;
  let i = 0;
  const push = (end: number) => {
    const text = sql.slice(start, end);
    const lead = text.length - text.trimStart().length;
    if (text.trim()) out.push({ text: text.trim(), from: start + lead });
  };
  while (i < sql.length) {
    const c = sql[i];
    if (c === "'" || c === '"') {
      const close = sql.indexOf(c, i + 1);
      i = close < 0 ? sql.length : close + 1;
    } else if (c === '-' && sql[i + 1] === '-') {
      const nl = sql.indexOf('\n', i);
      i = nl < 0 ? sql.length : nl + 1;
    } else if (c === '/' && sql[i + 1] === '*') {
      const close = sql.indexOf('*/', i + 2);
      i = close < 0 ? sql.length : close + 2;
    } else if (c === ';') {
      push(i);
      start = ++i;
    } else {
      i++;
    }
  }
  push(sql.length);
  return out;
}

/** Rows as CSV (RFC 4180). */
export function toCsv(columns: string[], rows: unknown[][]): string {
  const cell = (v: unknown) => {
    if (v === null || v === undefined) return '';
    const text = typeof v === 'object' ? stringifyJson(v) : String(v);
    return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
  };
  return [columns.map(cell).join(','), ...rows.map((row) => row.map(cell).join(','))].join('\r\n') + '\r\n';
}

/** Rows as a JSON array of objects (big integers keep their digits). */
export function toJsonText(columns: string[], rows: unknown[][]): string {
  return stringifyJson(rows.map((row) => Object.fromEntries(columns.map((c, i) => [c, row[i]]))));
}

/** Offers text as a file download. */
export function download(name: string, type: string, text: string): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/** Rows of a result as objects (for small system-table reads). */
export function objects(result: { schema?: { name: string }[]; rows?: unknown[][] } | undefined): Record<string, unknown>[] {
  const names = result?.schema?.map((f) => f.name) ?? [];
  return (result?.rows ?? []).map((row) => Object.fromEntries(names.map((n, i) => [n, row[i]])));
}
