// The pieces every page is built of: states (loading, error, empty), a virtualised grid,
// dialogs, the shown SQL, and a hook that runs a query.
import type { ComponentChildren } from 'preact';
import { useCallback, useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { KalamError } from '@kalamdb/client';
import { linkClick } from './route';
import type { Session } from './session';
import { display } from './sql';

export function Link(props: { href: string; children: ComponentChildren; class?: string }) {
  return <a href={props.href} class={props.class} onClick={linkClick}>{props.children}</a>;
}

export function Loading(props: { what?: string }) {
  return <div class="state loading" role="status"><span class="spinner" aria-hidden="true" />Loading{props.what ? ` ${props.what}` : ''}…</div>;
}

export function describeError(error: unknown): { code: string; message: string } {
  if (error instanceof KalamError) return { code: error.code, message: error.message };
  return { code: 'ERROR', message: error instanceof Error ? error.message : String(error) };
}

export function ErrorBox(props: { error: unknown; onRetry?: () => void }) {
  const { code, message } = describeError(props.error);
  return (
    <div class="state error" role="alert">
      <strong class="code">{code}</strong> <span class="message">{message}</span>
      {props.onRetry && <button class="ghost" onClick={props.onRetry}>Try again</button>}
    </div>
  );
}

export function Empty(props: { title: string; children?: ComponentChildren }) {
  return <div class="state empty"><strong>{props.title}</strong>{props.children && <div class="hint">{props.children}</div>}</div>;
}

export function PageHeader(props: { title: string; sub?: ComponentChildren; children?: ComponentChildren }) {
  return (
    <header class="page-header">
      <div><h1>{props.title}</h1>{props.sub && <p class="sub">{props.sub}</p>}</div>
      <div class="actions">{props.children}</div>
    </header>
  );
}

/** The SQL a change ran, shown with it. */
export function SqlShown(props: { sql: string | null }) {
  if (!props.sql) return null;
  return <pre class="sql-shown" aria-label="SQL that ran"><code>{props.sql}</code></pre>;
}

export type Async<T> = { state: 'loading' } | { state: 'error'; error: unknown } | { state: 'ready'; data: T };

/** Runs `load` when `deps` change; `reload` runs it again. */
export function useAsync<T>(load: () => Promise<T>, deps: unknown[]): [Async<T>, () => void] {
  const [value, setValue] = useState<Async<T>>({ state: 'loading' });
  const [round, setRound] = useState(0);
  useEffect(() => {
    let live = true;
    setValue((v) => (v.state === 'ready' ? v : { state: 'loading' }));
    load().then(
      (data) => live && setValue({ state: 'ready', data }),
      (error) => live && setValue({ state: 'error', error }),
    );
    return () => { live = false; };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, round]);
  return [value, useCallback(() => setRound((r) => r + 1), [])];
}

export function Show<T>(props: { value: Async<T>; what?: string; retry?: () => void; children: (data: T) => ComponentChildren }) {
  const v = props.value;
  if (v.state === 'loading') return <Loading what={props.what} />;
  if (v.state === 'error') return <ErrorBox error={v.error} onRetry={props.retry} />;
  return <>{props.children(v.data)}</>;
}

export function Modal(props: { title: string; onClose: () => void; children: ComponentChildren; wide?: boolean }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const previous = document.activeElement as HTMLElement | null;
    box.current?.querySelector<HTMLElement>('input, select, textarea, button')?.focus();
    return () => previous?.focus?.();
  }, []);
  return (
    <div class="backdrop" onMouseDown={(e) => e.target === e.currentTarget && props.onClose()}>
      <div class={`modal${props.wide ? ' wide' : ''}`} role="dialog" aria-modal="true" aria-label={props.title} ref={box}
        onKeyDown={(e) => e.key === 'Escape' && props.onClose()}>
        <header><h2>{props.title}</h2><button class="ghost icon" aria-label="Close" onClick={props.onClose}>×</button></header>
        {props.children}
      </div>
    </div>
  );
}

const ROW_HEIGHT = 30;

export interface GridProps {
  columns: string[];
  rowCount: number;
  /** The row at index i, or undefined while it loads. */
  row: (i: number) => unknown[] | undefined;
  /** Told which rows are on screen (with some margin), to load them. */
  onRange?: (first: number, last: number) => void;
  /** A class for row i (highlights). */
  rowClass?: (i: number) => string | undefined;
  onActivate?: (i: number) => void;
  sort?: { column: string; desc: boolean } | null;
  onSort?: (column: string) => void;
  label?: string;
  height?: number;
}

/**
 * Only the rows on screen exist in the DOM: a table of a million rows scrolls as one of
 * thirty. Keyboard: arrows and Page Up/Down move the selection, Enter opens the row.
 */
export function DataGrid(props: GridProps) {
  const viewport = useRef<HTMLDivElement>(null);
  const [scrollTop, setScrollTop] = useState(0);
  const [height, setHeight] = useState(props.height ?? 400);
  const [selected, setSelected] = useState(-1);
  const first = Math.max(0, Math.floor(scrollTop / ROW_HEIGHT) - 5);
  const last = Math.min(props.rowCount - 1, Math.ceil((scrollTop + height) / ROW_HEIGHT) + 5);
  // Columns as wide as their name and the widest value seen so far (they only grow, so
  // the grid does not jump while it scrolls), within bounds.
  const seen = useRef<number[]>([]);
  if (seen.current.length !== props.columns.length) seen.current = props.columns.map((c) => c.length);
  for (let i = first; i <= last; i++) {
    props.row(i)?.forEach((v, c) => { seen.current[c] = Math.max(seen.current[c] ?? 0, Math.min(48, display(v).length)); });
  }
  const widths = seen.current.map((chars) => Math.max(70, chars * 8.2 + 30));
  const template = widths.map((w) => `${w}px`).join(' ');
  const totalWidth = widths.reduce((a, b) => a + b, 0);

  useLayoutEffect(() => {
    const el = viewport.current;
    if (!el) return;
    const observer = new ResizeObserver(() => setHeight(el.clientHeight));
    observer.observe(el);
    return () => observer.disconnect();
  }, []);

  useEffect(() => {
    if (props.rowCount > 0) props.onRange?.(first, last);
  }, [first, last, props.rowCount]);

  const move = (to: number) => {
    const i = Math.max(0, Math.min(props.rowCount - 1, to));
    setSelected(i);
    const el = viewport.current!;
    const top = i * ROW_HEIGHT;
    if (top < el.scrollTop) el.scrollTop = top;
    else if (top + ROW_HEIGHT * 2 > el.scrollTop + el.clientHeight) el.scrollTop = top + ROW_HEIGHT * 2 - el.clientHeight;
  };
  const onKey = (e: KeyboardEvent) => {
    const page = Math.max(1, Math.floor(height / ROW_HEIGHT) - 1);
    const moves: Record<string, number> = { ArrowDown: 1, ArrowUp: -1, PageDown: page, PageUp: -page };
    if (e.key in moves) { e.preventDefault(); move(selected + moves[e.key]!); }
    else if (e.key === 'Home') { e.preventDefault(); move(0); }
    else if (e.key === 'End') { e.preventDefault(); move(props.rowCount - 1); }
    else if (e.key === 'Enter' && selected >= 0) props.onActivate?.(selected);
  };

  const rows = [];
  for (let i = first; i <= last; i++) {
    const row = props.row(i);
    const cls = ['grid-row', i === selected ? 'selected' : '', row ? '' : 'pending', props.rowClass?.(i) ?? ''].join(' ');
    rows.push(
      <div class={cls} role="row" aria-rowindex={i + 2} style={{ top: `${i * ROW_HEIGHT}px`, gridTemplateColumns: template, width: `${totalWidth}px` }}
        key={i} onClick={() => setSelected(i)} onDblClick={() => props.onActivate?.(i)}>
        {props.columns.map((_, c) => {
          const v = row?.[c];
          return <div role="gridcell" class={v === null ? 'cell null' : 'cell'} title={row ? display(v) : ''}>{row ? display(v) : ''}</div>;
        })}
      </div>,
    );
  }
  return (
    <div class="grid" role="grid" aria-label={props.label} aria-rowcount={props.rowCount + 1}>
      <div class="grid-viewport" ref={viewport} tabIndex={0} onKeyDown={onKey} style={props.height ? { height: `${props.height}px` } : undefined}
        onScroll={(e) => setScrollTop((e.currentTarget as HTMLDivElement).scrollTop)}>
        <div class="grid-head" role="row" style={{ gridTemplateColumns: template, width: `${totalWidth}px` }}>
          {props.columns.map((c) => {
            const sorted = props.sort?.column === c;
            return (
              <div role="columnheader" class="cell head" aria-sort={sorted ? (props.sort!.desc ? 'descending' : 'ascending') : undefined}>
                {props.onSort ? <button class="head-button" onClick={() => props.onSort!(c)}>{c}{sorted ? (props.sort!.desc ? ' ↓' : ' ↑') : ''}</button> : c}
              </div>
            );
          })}
        </div>
        <div class="grid-body" style={{ height: `${props.rowCount * ROW_HEIGHT}px`, width: `${totalWidth}px` }}>{rows}</div>
      </div>
    </div>
  );
}

/** A small table for system rows (users, storages, jobs): rows as objects. */
export function SimpleTable(props: { columns: [string, string][]; rows: Record<string, unknown>[]; actions?: (row: Record<string, unknown>) => ComponentChildren; label: string }) {
  return (
    <div class="table-wrap">
      <table class="simple" aria-label={props.label}>
        <thead><tr>{props.columns.map(([, title]) => <th>{title}</th>)}{props.actions && <th />}</tr></thead>
        <tbody>
          {props.rows.map((row) => (
            <tr>
              {props.columns.map(([key]) => <td class={row[key] === null ? 'null' : ''}>{display(row[key])}</td>)}
              {props.actions && <td class="row-actions">{props.actions(row)}</td>}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** Runs management statements: remembers the SQL that ran and the error, then reloads. */
export function useAction(session: Session, after: () => void) {
  const [lastSql, setLastSql] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const run = async (sql: string, shown = sql): Promise<boolean> => {
    setBusy(true);
    setError(null);
    setLastSql(shown);
    try {
      await session.sql(sql);
      after();
      return true;
    } catch (e) {
      setError(e);
      return false;
    } finally {
      setBusy(false);
    }
  };
  const view = <>{<SqlShown sql={lastSql} />}{error !== null && <ErrorBox error={error} />}</>;
  return { run, busy, view };
}

/** A form's fields by name. */
export function fields(event: Event): Record<string, string> {
  event.preventDefault();
  return Object.fromEntries([...new FormData(event.currentTarget as HTMLFormElement)].map(([k, v]) => [k, String(v)]));
}
