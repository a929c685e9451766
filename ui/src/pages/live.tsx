// A live query through the SDK: the rows as they are now, each insert, update and delete
// highlighted as it arrives, and a log of the events.
import { useEffect, useRef, useState } from 'preact/hooks';
import type { RowData, ServerMessage, Unsubscribe } from '@kalamdb/client';
import type { Session } from '../session';
import { display, objects, tableRef } from '../sql';
import { describeError, Empty, ErrorBox, PageHeader } from '../ui';

interface LiveRow { values: Record<string, unknown>; change?: 'insert' | 'update' | 'delete'; at: number }
interface LogLine { at: string; kind: string; text: string }

const FLASH_MS = 2500;

/** The table a subscription's SQL reads (namespace, table). */
function tableOf(sql: string): [string, string] | null {
  const m = /\bfrom\s+("?[A-Za-z_]\w*"?)(?:\s*\.\s*("?[A-Za-z_]\w*"?))?/i.exec(sql);
  if (!m) return null;
  const name = (n: string) => (n.startsWith('"') ? n.slice(1, -1) : n.toLowerCase());
  return m[2] ? [name(m[1]!), name(m[2])] : ['default', name(m[1]!)];
}

async function keyColumns(session: Session, sql: string): Promise<string[]> {
  const table = tableOf(sql);
  if (!table) return ['_seq'];
  const kind = (await session.sql('SELECT table_type FROM system.tables WHERE namespace_id = $1 AND table_name = $2', table)).results[0]?.rows?.[0]?.[0];
  if (kind === 'stream') return ['_seq'];
  const key = objects((await session.sql(`DESCRIBE TABLE ${tableRef(table[0], table[1])}`)).results[0])
    .filter((c) => c['is_primary_key'] === true).map((c) => String(c['column_name']));
  return key.length ? key : ['_seq'];
}

export function LivePage(props: { session: Session }) {
  const { session } = props;
  const fromUrl = new URLSearchParams(location.search).get('table');
  const [sql, setSql] = useState(fromUrl ? `SELECT * FROM ${fromUrl}` : '');
  const [state, setState] = useState<'idle' | 'starting' | 'loading' | 'live'>('idle');
  const [error, setError] = useState<unknown>(null);
  const [columns, setColumns] = useState<string[]>([]);
  const [, setTick] = useState(0);
  const rows = useRef(new Map<string, LiveRow>());
  const [log, setLog] = useState<LogLine[]>([]);
  const stop = useRef<Unsubscribe | null>(null);

  useEffect(() => () => { void stop.current?.(); }, []);
  // Highlights fade; deleted rows leave once their highlight has shown.
  useEffect(() => {
    const timer = setInterval(() => {
      let changed = false;
      const now = Date.now();
      for (const [k, r] of rows.current) {
        if (r.change && now - r.at > FLASH_MS) {
          if (r.change === 'delete') rows.current.delete(k);
          else r.change = undefined;
          changed = true;
        }
      }
      if (changed) setTick((t) => t + 1);
    }, 250);
    return () => clearInterval(timer);
  }, []);

  const addLog = (kind: string, text: string) => setLog((l) => [{ at: new Date().toLocaleTimeString('en-GB'), kind, text }, ...l].slice(0, 200));

  const start = async (e?: Event) => {
    e?.preventDefault();
    await stop.current?.();
    stop.current = null;
    rows.current = new Map();
    setColumns([]);
    setError(null);
    setState('starting');
    try {
      const key = await keyColumns(session, sql);
      const keyOf = (v: Record<string, unknown>) => key.map((k) => display(v[k])).join('\u0000');
      const plain = (r: RowData) => r.toJSON() as Record<string, unknown>;
      const apply = (event: ServerMessage) => {
        const now = Date.now();
        if (event.type === 'subscription_ack') {
          setColumns(event.schema.map((f) => f.name));
          setState(event.batch_control.status === 'ready' ? 'live' : 'loading');
          addLog('ack', `subscribed: ${event.total_rows} row(s) in the snapshot`);
        } else if (event.type === 'initial_data_batch') {
          for (const r of event.rows) { const v = plain(r); rows.current.set(keyOf(v), { values: v, at: now }); }
          if (event.batch_control.status === 'ready') setState('live');
          addLog('snapshot', `${event.rows.length} row(s)`);
        } else if (event.type === 'change') {
          const changed = event.change_type === 'delete' ? event.old_values ?? [] : event.rows ?? [];
          for (const r of changed) {
            const v = plain(r);
            const k = keyOf(v);
            if (event.change_type === 'delete') {
              const old = rows.current.get(k);
              rows.current.set(k, { values: old?.values ?? v, change: 'delete', at: now });
            } else {
              rows.current.set(k, { values: v, change: event.change_type, at: now });
            }
          }
          addLog(event.change_type, changed.map((r) => JSON.stringify(plain(r))).join(', '));
        } else if (event.type === 'error') {
          setError(event);
          setState('idle');
          addLog('error', `${event.code}: ${event.message}`);
        }
        setTick((t) => t + 1);
      };
      stop.current = await session.client.subscribeWithSql(sql, apply);
    } catch (err) {
      setError(err);
      setState('idle');
      addLog('error', describeError(err).message);
    }
  };
  const end = async () => {
    await stop.current?.();
    stop.current = null;
    setState('idle');
    addLog('stop', 'unsubscribed');
  };

  const list = [...rows.current.values()];
  const shown = columns.length ? columns : Object.keys(list[0]?.values ?? {});
  return (
    <div class="page live">
      <PageHeader title="Live view" sub="Subscribe to a query: rows arrive, change and leave as other clients write." />
      <form class="toolbar" onSubmit={start}>
        <label class="grow"><span class="label">Query</span>
          <input id="live-sql" type="text" value={sql} spellcheck={false} placeholder="SELECT * FROM app.messages WHERE room = 'general'"
            onInput={(e) => setSql((e.target as HTMLInputElement).value)} /></label>
        <button type="submit" class="primary" id="live-start" disabled={!sql.trim() || state === 'starting'}>{state === 'idle' ? 'Subscribe' : 'Restart'}</button>
        {state !== 'idle' && <button type="button" id="live-stop" onClick={end}>Stop</button>}
        <span class={`live-state state-${state}`} id="live-state" data-state={state}>{state === 'live' ? '● live' : state}</span>
      </form>
      {error !== null && <ErrorBox error={error} />}
      <div class="live-body">
        <section class="live-rows" aria-label="Rows">
          {state === 'idle' && list.length === 0 ? (
            <Empty title="Not subscribed">Write a query such as <code>SELECT * FROM ns.table</code> (with an optional WHERE) and press Subscribe. USER, SHARED and STREAM tables can be watched.</Empty>
          ) : list.length === 0 ? <Empty title={state === 'live' ? 'No rows match yet' : 'Waiting for the snapshot…'}>New rows show here as they are inserted.</Empty> : (
            <div class="table-wrap">
              <table class="simple live-table">
                <thead><tr>{shown.map((c) => <th>{c}</th>)}</tr></thead>
                <tbody>
                  {list.map((r) => (
                    <tr class={r.change ? `flash-${r.change}` : ''} data-change={r.change ?? ''}>
                      {shown.map((c) => <td class={r.values[c] === null ? 'null' : ''}>{display(r.values[c])}</td>)}
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </section>
        <aside class="event-log" aria-label="Event log">
          <h3>Events</h3>
          {log.length === 0 ? <p class="hint">Events appear here.</p> : (
            <ol>
              {log.map((l) => <li class={`log-${l.kind}`}><time>{l.at}</time> <strong>{l.kind}</strong> <span>{l.text}</span></li>)}
            </ol>
          )}
        </aside>
      </div>
    </div>
  );
}
