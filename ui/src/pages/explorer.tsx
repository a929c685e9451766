// Namespaces and their tables; a table's kind, columns, schema versions and hot/cold rows.
import { useState } from 'preact/hooks';
import { href } from '../route';
import type { Session } from '../session';
import { display, objects, tableRef } from '../sql';
import { Empty, ErrorBox, Link, Loading, PageHeader, Show, SimpleTable, useAsync } from '../ui';

interface TableRow { namespace_id: string; table_name: string; table_type: string; storage_id: string | null; schema_version: number; access_level: string | null; flush_policy: string | null; ttl_seconds: unknown }

export function ExplorerPage(props: { session: Session }) {
  const { session } = props;
  const [filter, setFilter] = useState('');
  const [selected, setSelected] = useState<TableRow | null>(null);
  const [tables, reload] = useAsync(async () => {
    const r = await session.sql('SELECT namespace_id, table_name, table_type, storage_id, schema_version, access_level, flush_policy, ttl_seconds FROM system.tables ORDER BY namespace_id, table_name');
    return objects(r.results[0]) as unknown as TableRow[];
  }, []);
  const [namespaces] = useAsync(async () => objects((await session.sql('SELECT namespace_id FROM system.namespaces ORDER BY namespace_id')).results[0]).map((n) => String(n['namespace_id'])), []);

  return (
    <div class="page explorer">
      <PageHeader title="Explorer" sub="Namespaces and their tables. Pick a table to see its schema and rows.">
        <button class="ghost" onClick={reload}>Refresh</button>
      </PageHeader>
      <div class="split">
        <aside class="tree" aria-label="Namespaces and tables">
          <input type="search" placeholder="Filter tables…" aria-label="Filter tables" value={filter} onInput={(e) => setFilter((e.target as HTMLInputElement).value)} />
          <Show value={tables} what="tables" retry={reload}>
            {(rows) => {
              const names = namespaces.state === 'ready' ? namespaces.data : [];
              const groups = new Map<string, TableRow[]>();
              for (const ns of names) groups.set(ns, []);
              for (const t of rows) {
                if (filter && !`${t.namespace_id}.${t.table_name}`.includes(filter.toLowerCase())) continue;
                (groups.get(t.namespace_id) ?? groups.set(t.namespace_id, []).get(t.namespace_id)!).push(t);
              }
              return (
                <ul class="tree-list">
                  {[...groups].map(([ns, list]) => (
                    <li class="ns">
                      <div class="ns-name">{ns}</div>
                      {list.length === 0 ? <div class="tree-empty">no tables</div> : (
                        <ul>
                          {list.map((t) => (
                            <li>
                              <button class={`tree-item${selected?.namespace_id === t.namespace_id && selected.table_name === t.table_name ? ' active' : ''}`}
                                onClick={() => setSelected(t)} data-table={`${t.namespace_id}.${t.table_name}`}>
                                <span>{t.table_name}</span><span class={`kind kind-${t.table_type}`}>{t.table_type}</span>
                              </button>
                            </li>
                          ))}
                        </ul>
                      )}
                    </li>
                  ))}
                </ul>
              );
            }}
          </Show>
        </aside>
        <section class="detail">
          {selected ? <TableDetail session={session} table={selected} key={`${selected.namespace_id}.${selected.table_name}`} /> : (
            <Empty title="No table selected">Choose a table on the left, or create one in the <Link href={href('sql')}>SQL studio</Link> with <code>CREATE TABLE ns.name (...)</code>.</Empty>
          )}
        </section>
      </div>
    </div>
  );
}

function TableDetail(props: { session: Session; table: TableRow }) {
  const { session, table } = props;
  const ref = tableRef(table.namespace_id, table.table_name);
  const [columns] = useAsync(async () => objects((await session.sql(`DESCRIBE TABLE ${ref}`)).results[0]), [ref]);
  const [history] = useAsync(async () => objects((await session.sql(`DESCRIBE TABLE ${ref} HISTORY`)).results[0]), [ref]);
  const system = ['system', 'information_schema', 'pg_catalog'].includes(table.namespace_id);
  const [stats, reloadStats] = useAsync(async () => {
    if (system || !session.isService()) return null;
    return Object.fromEntries((await session.sql(`SHOW STATS FOR TABLE ${ref}`)).results[0]?.rows?.map((r) => [String(r[0]), r[1]]) ?? []);
  }, [ref]);

  return (
    <div class="table-detail">
      <header class="detail-head">
        <h2>{table.namespace_id}.{table.table_name} <span class={`kind kind-${table.table_type}`}>{table.table_type}</span></h2>
        <div class="actions">
          <Link class="button primary" href={href('table', table.namespace_id, table.table_name)}>Open rows</Link>
          {!system && table.table_type !== 'system' && <Link class="button" href={`${href('live')}?table=${encodeURIComponent(`${table.namespace_id}.${table.table_name}`)}`}>Watch live</Link>}
        </div>
      </header>
      <dl class="facts">
        <div><dt>Schema version</dt><dd>{display(table.schema_version)}</dd></div>
        <div><dt>Storage</dt><dd>{display(table.storage_id)}</dd></div>
        {table.access_level && <div><dt>Access</dt><dd>{table.access_level}</dd></div>}
        {table.flush_policy && <div><dt>Flush policy</dt><dd>{table.flush_policy}</dd></div>}
        {table.ttl_seconds !== null && <div><dt>TTL (s)</dt><dd>{display(table.ttl_seconds)}</dd></div>}
        {stats.state === 'ready' && stats.data && (
          <>
            <div><dt>Hot rows</dt><dd data-stat="hot_rows">{display(stats.data['hot_rows'])}</dd></div>
            <div><dt>Cold rows</dt><dd data-stat="cold_rows">{display(stats.data['cold_rows'])}</dd></div>
            <div><dt>Cold files</dt><dd>{display(stats.data['cold_files'])} ({display(stats.data['cold_bytes'])} bytes)</dd></div>
            <div><dt>Last flush</dt><dd>{display(stats.data['last_flush_at'] ?? 'never')}</dd></div>
          </>
        )}
      </dl>
      {stats.state === 'error' && <ErrorBox error={stats.error} onRetry={reloadStats} />}
      {stats.state === 'ready' && !stats.data && !system && <p class="hint">Row counts (hot and cold) are shown to service, dba and system users.</p>}
      <h3>Columns</h3>
      <Show value={columns} what="columns">
        {(rows) => <SimpleTable label="Columns" rows={rows} columns={[['column_name', 'Name'], ['data_type', 'Type'], ['is_nullable', 'Nullable'], ['is_primary_key', 'Primary key'], ['column_default', 'Default']]} />}
      </Show>
      <h3>Schema versions</h3>
      {history.state === 'loading' ? <Loading what="versions" /> : history.state === 'error' ? <ErrorBox error={history.error} /> : history.data.length === 0 ? <p class="hint">No recorded versions.</p> : (
        <SimpleTable label="Schema versions" rows={history.data} columns={[['version', 'Version'], ['changes', 'Change'], ['created_at', 'When']]} />
      )}
    </div>
  );
}
