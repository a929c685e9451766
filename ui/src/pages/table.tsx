// A table's rows: a virtualised grid that loads pages of rows as they scroll into view,
// a WHERE filter, sorting by a column, and a form that adds, edits and deletes rows,
// showing the SQL each change ran.
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { SqlParam } from '@kalamdb/client';
import { href } from '../route';
import type { Session } from '../session';
import { display, ident, objects, tableRef, withParams } from '../sql';
import { DataGrid, Empty, ErrorBox, Link, Loading, Modal, PageHeader, SqlShown, useAsync } from '../ui';

export const PAGE_SIZE = 100;

interface Column { name: string; type: string; nullable: boolean; primaryKey: boolean; hasDefault: boolean }

export function TablePage(props: { session: Session; namespace: string; table: string }) {
  const { session, namespace, table } = props;
  const ref = tableRef(namespace, table);
  const [info, reloadInfo] = useAsync(async () => {
    const kind = (await session.sql('SELECT table_type FROM system.tables WHERE namespace_id = $1 AND table_name = $2', [namespace, table])).results[0]?.rows?.[0]?.[0];
    if (kind === undefined) throw new Error(`There is no table ${namespace}.${table}.`);
    const columns: Column[] = objects((await session.sql(`DESCRIBE TABLE ${ref}`)).results[0]).map((c) => ({
      name: String(c['column_name']), type: String(c['data_type']).toUpperCase(), nullable: c['is_nullable'] === true,
      primaryKey: c['is_primary_key'] === true, hasDefault: c['column_default'] !== null,
    }));
    return { kind: String(kind), columns };
  }, [ref]);

  return (
    <div class="page table-page">
      <PageHeader title={`${namespace}.${table}`} sub={info.state === 'ready' ? <><span class={`kind kind-${info.data.kind}`}>{info.data.kind}</span> table · {info.data.columns.length} columns</> : undefined}>
        <Link class="button ghost" href={href()}>← Explorer</Link>
      </PageHeader>
      {info.state === 'loading' && <Loading what="the table" />}
      {info.state === 'error' && <ErrorBox error={info.error} onRetry={reloadInfo} />}
      {info.state === 'ready' && <Rows session={session} tableRef={ref} kind={info.data.kind} columns={info.data.columns} />}
    </div>
  );
}

function Rows(props: { session: Session; tableRef: string; kind: string; columns: Column[] }) {
  const { session, tableRef: ref, columns } = props;
  const [filterText, setFilterText] = useState('');
  const [filter, setFilter] = useState('');
  const [sort, setSort] = useState<{ column: string; desc: boolean } | null>(null);
  const [round, setRound] = useState(0);
  const [count, setCount] = useState<number | null>(null);
  const [schema, setSchema] = useState<string[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [, setLoaded] = useState(0); // re-render when a page arrives
  const pages = useRef(new Map<number, unknown[][]>());
  const asked = useRef(new Set<number>());
  const [editing, setEditing] = useState<{ row: unknown[] | null } | null>(null);
  const [lastSql, setLastSql] = useState<string | null>(null);
  const key = columns.filter((c) => c.primaryKey).map((c) => c.name);
  // dba and system read every user's rows of USER and STREAM tables, but write their own:
  // a row shown may be another user's, so rows are not edited from here.
  const everyUser = session.isAdmin() && (props.kind === 'user' || props.kind === 'stream');
  const editable = props.kind !== 'system' && props.kind !== 'stream' && key.length > 0 && !everyUser;
  const writable = props.kind !== 'system';

  const where = filter.trim() ? ` WHERE ${filter}` : '';
  // Pages need a total order: the key, and, where every user's rows show (a key per user),
  // _seq after it.
  const unique = [...key.map(ident), ...(everyUser ? ['_seq'] : [])];
  const order = sort ? ` ORDER BY ${ident(sort.column)} ${sort.desc ? 'DESC' : 'ASC'}${unique.length ? ', ' + unique.join(', ') : ''}`
    : unique.length ? ` ORDER BY ${unique.join(', ')}` : '';

  useEffect(() => {
    pages.current = new Map();
    asked.current = new Set();
    setCount(null);
    setError(null);
    let live = true;
    session.sql(`SELECT count(*) AS n FROM ${ref}${where}`).then(
      (r) => live && setCount(Number(r.results[0]?.rows?.[0]?.[0] ?? 0)),
      (e) => live && setError(e),
    );
    if (!schema) {
      session.sql(`SELECT * FROM ${ref} LIMIT 0`).then((r) => live && setSchema(r.results[0]?.schema?.map((f) => f.name) ?? []), (e) => live && setError(e));
    }
    return () => { live = false; };
  }, [ref, where, order, round]);

  const load = (first: number, last: number) => {
    for (let p = Math.floor(first / PAGE_SIZE); p <= Math.floor(last / PAGE_SIZE); p++) {
      if (asked.current.has(p)) continue;
      asked.current.add(p);
      const mine = pages.current;
      session.sql(`SELECT * FROM ${ref}${where}${order} LIMIT ${PAGE_SIZE} OFFSET ${p * PAGE_SIZE}`).then((r) => {
        if (mine !== pages.current) return;
        mine.set(p, r.results[0]?.rows ?? []);
        if (!schema) setSchema(r.results[0]?.schema?.map((f) => f.name) ?? []);
        setLoaded((n) => n + 1);
      }, (e) => { asked.current.delete(p); setError(e); });
    }
  };
  const rowAt = (i: number) => pages.current.get(Math.floor(i / PAGE_SIZE))?.[i % PAGE_SIZE];

  const run = async (sql: string, params: SqlParam[]) => {
    setLastSql(withParams(sql, params));
    await session.sql(sql, params);
    setRound((r) => r + 1);
  };

  return (
    <>
      <form class="toolbar" onSubmit={(e) => { e.preventDefault(); setFilter(filterText); }}>
        <label class="grow"><span class="label">WHERE</span>
          <input id="filter" type="text" value={filterText} placeholder="e.g. body LIKE '%hello%' AND id > 10" spellcheck={false}
            onInput={(e) => setFilterText((e.target as HTMLInputElement).value)} /></label>
        <button type="submit">Filter</button>
        {filter && <button type="button" class="ghost" onClick={() => { setFilter(''); setFilterText(''); }}>Clear</button>}
        <span class="count" id="row-count" aria-live="polite">{count === null ? '…' : `${count.toLocaleString('en')} row${count === 1 ? '' : 's'}`}</span>
        {writable && <button type="button" class="primary" id="add-row" onClick={() => setEditing({ row: null })}>Add row</button>}
      </form>
      {everyUser && <p class="hint" id="every-user">Every user’s rows, as your role reads them. Rows you add are your own; to change another user’s, use <code>EXECUTE AS USER 'name' (…)</code> in the SQL studio.</p>}
      <SqlShown sql={lastSql} />
      {error !== null && <ErrorBox error={error} onRetry={() => setRound((r) => r + 1)} />}
      {count === null || !schema ? (error === null && <Loading what="rows" />) : count === 0 ? (
        <Empty title={filter ? 'No rows match the filter' : 'This table has no rows yet'}>{writable ? 'Add one with “Add row”, or INSERT in the SQL studio.' : ''}</Empty>
      ) : (
        <DataGrid label="Rows" columns={schema} rowCount={count} row={rowAt} onRange={load}
          sort={sort} onSort={(c) => setSort(sort?.column === c ? (sort.desc ? null : { column: c, desc: true }) : { column: c, desc: false })}
          onActivate={(i) => { const row = rowAt(i); if (row && editable) setEditing({ row }); }} />
      )}
      {count !== null && count > 0 && editable && <p class="hint">Double-click a row (or select it and press Enter) to edit or delete it.</p>}
      {editing && schema && (
        <RowEditor columns={columns} schema={schema} row={editing.row} tableRef={ref} keyColumns={key}
          onClose={() => setEditing(null)} run={async (sql, params) => { await run(sql, params); setEditing(null); }} />
      )}
    </>
  );
}

type Kind = 'boolean' | 'integer' | 'float' | 'decimal' | 'json' | 'timestamp' | 'date' | 'time' | 'bytes' | 'uuid' | 'text';
function kindOf(type: string): Kind {
  if (type.startsWith('BOOL')) return 'boolean';
  if (/^(SMALLINT|INT|INTEGER|BIGINT|TINYINT|HUGEINT|UBIGINT|UINTEGER|USMALLINT)/.test(type)) return 'integer';
  if (/^(FLOAT|DOUBLE|REAL)/.test(type)) return 'float';
  if (type.startsWith('DECIMAL') || type.startsWith('NUMERIC')) return 'decimal';
  if (type.startsWith('JSON')) return 'json';
  if (type.startsWith('TIMESTAMP')) return 'timestamp';
  if (type === 'DATE') return 'date';
  if (type.startsWith('TIME')) return 'time';
  if (type.startsWith('BYTE') || type === 'BLOB') return 'bytes';
  if (type === 'UUID') return 'uuid';
  return 'text';
}

/** The form's text of a stored value. */
function formText(kind: Kind, value: unknown): string {
  if (value === null || value === undefined) return '';
  if (kind === 'timestamp') return String(value).replace(/Z$/, '').slice(0, 23);
  return display(value);
}

/** The parameter of the form's text, or an error message. */
function paramOf(column: Column, text: string): SqlParam | Error {
  switch (kindOf(column.type)) {
    case 'boolean': return text === 'true';
    case 'integer': {
      if (!/^-?\d+$/.test(text.trim())) return new Error(`${column.name}: a whole number`);
      const n = BigInt(text.trim());
      return n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n;
    }
    case 'float': return Number.isNaN(Number(text)) || text.trim() === '' ? new Error(`${column.name}: a number`) : Number(text);
    case 'json':
      try { JSON.parse(text); return text; } catch { return new Error(`${column.name}: not valid JSON`); }
    case 'timestamp': return /Z$|[+-]\d\d:?\d\d$/.test(text) ? text : `${text}Z`;
    default: return text;
  }
}

function RowEditor(props: {
  columns: Column[]; schema: string[]; row: unknown[] | null; tableRef: string; keyColumns: string[];
  onClose: () => void; run: (sql: string, params: SqlParam[]) => Promise<void>;
}) {
  const { columns, row } = props;
  const initial = useMemo(() => Object.fromEntries(columns.map((c) => {
    const value = row ? row[props.schema.indexOf(c.name)] : undefined;
    return [c.name, { text: formText(kindOf(c.type), value), isNull: row ? value === null : false, useDefault: !row && (c.hasDefault || c.nullable) }];
  })), [row]);
  const [values, setValues] = useState(initial);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const set = (name: string, change: Partial<{ text: string; isNull: boolean; useDefault: boolean }>) =>
    setValues((v) => ({ ...v, [name]: { ...v[name]!, ...change } }));

  const keyParams = () => props.keyColumns.map((k) => row![props.schema.indexOf(k)] as SqlParam);
  const submit = async (e: Event) => {
    e.preventDefault();
    setError(null);
    const names: string[] = [];
    const params: SqlParam[] = [];
    for (const c of columns) {
      const v = values[c.name]!;
      if (row && c.primaryKey) continue; // the key can't change
      if (!row && v.useDefault) continue;
      if (row && v.text === initial[c.name]!.text && v.isNull === initial[c.name]!.isNull) continue;
      const param = v.isNull ? null : paramOf(c, v.text);
      if (param instanceof Error) { setError(param); return; }
      names.push(c.name);
      params.push(param);
    }
    let sql: string;
    if (row) {
      if (names.length === 0) { props.onClose(); return; }
      const keys = props.keyColumns.map((k, i) => `${ident(k)} = $${names.length + i + 1}`).join(' AND ');
      sql = `UPDATE ${props.tableRef} SET ${names.map((n, i) => `${ident(n)} = $${i + 1}`).join(', ')} WHERE ${keys}`;
      params.push(...keyParams());
    } else {
      sql = names.length === 0 ? `INSERT INTO ${props.tableRef} DEFAULT VALUES`
        : `INSERT INTO ${props.tableRef} (${names.map(ident).join(', ')}) VALUES (${names.map((_, i) => `$${i + 1}`).join(', ')})`;
    }
    setBusy(true);
    try { await props.run(sql, params); } catch (err) { setError(err); } finally { setBusy(false); }
  };
  const remove = async () => {
    const sql = `DELETE FROM ${props.tableRef} WHERE ${props.keyColumns.map((k, i) => `${ident(k)} = $${i + 1}`).join(' AND ')}`;
    setBusy(true);
    try { await props.run(sql, keyParams()); } catch (err) { setError(err); } finally { setBusy(false); }
  };

  return (
    <Modal title={row ? 'Edit row' : 'Add row'} onClose={props.onClose} wide>
      <form class="row-form" onSubmit={submit}>
        {columns.map((c) => {
          const v = values[c.name]!;
          const kind = kindOf(c.type);
          const locked = (row !== null && c.primaryKey) || v.isNull || v.useDefault;
          const id = `field-${c.name}`;
          const onInput = (e: Event) => set(c.name, { text: (e.target as HTMLInputElement).value });
          let input;
          if (kind === 'boolean') {
            input = <select id={id} value={v.text || 'false'} disabled={locked} onChange={onInput}><option value="true">true</option><option value="false">false</option></select>;
          } else if (kind === 'json' || (kind === 'text' && v.text.length > 60)) {
            input = <textarea id={id} rows={3} value={v.text} disabled={locked} onInput={onInput} spellcheck={false} />;
          } else {
            const type = { integer: 'text', float: 'number', date: 'date', time: 'time', timestamp: 'datetime-local' }[kind as string] ?? 'text';
            input = <input id={id} type={type} value={v.text} disabled={locked} onInput={onInput} step={kind === 'float' ? 'any' : kind === 'timestamp' || kind === 'time' ? '0.001' : undefined}
              inputMode={kind === 'integer' ? 'numeric' : undefined} placeholder={kind === 'uuid' ? '00000000-0000-0000-0000-000000000000' : kind === 'bytes' ? 'base64' : undefined} />;
          }
          return (
            <div class="field" data-column={c.name}>
              <label for={id}>{c.name} <span class="type">{c.type}{c.primaryKey ? ' · key' : ''}{kind === 'timestamp' ? ' · UTC' : ''}</span></label>
              {input}
              <div class="field-options">
                {!row && (c.hasDefault || c.nullable) && <label class="check"><input type="checkbox" checked={v.useDefault} onChange={(e) => set(c.name, { useDefault: (e.target as HTMLInputElement).checked })} /> default</label>}
                {c.nullable && !v.useDefault && <label class="check"><input type="checkbox" checked={v.isNull} onChange={(e) => set(c.name, { isNull: (e.target as HTMLInputElement).checked })} /> NULL</label>}
              </div>
            </div>
          );
        })}
        {error !== null && <ErrorBox error={error} />}
        <footer class="modal-actions">
          {row && (confirmDelete
            ? <button type="button" class="danger" id="confirm-delete" disabled={busy} onClick={remove}>Really delete</button>
            : <button type="button" class="danger ghost" id="delete-row" onClick={() => setConfirmDelete(true)}>Delete row</button>)}
          <span class="grow" />
          <button type="button" class="ghost" onClick={props.onClose}>Cancel</button>
          <button type="submit" class="primary" id="save-row" disabled={busy}>{row ? 'Save' : 'Insert'}</button>
        </footer>
      </form>
    </Modal>
  );
}
