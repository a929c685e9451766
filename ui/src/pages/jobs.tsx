// Jobs: flushes, compactions and the rest with their status, duration and result; a table
// can be flushed from here.
import { useEffect } from 'preact/hooks';
import type { Session } from '../session';
import { display, objects } from '../sql';
import { Empty, fields, PageHeader, Show, SimpleTable, useAction, useAsync } from '../ui';

function duration(job: Record<string, unknown>): string {
  const start = job['started_at'] ? Date.parse(String(job['started_at'])) : NaN;
  const end = job['completed_at'] ? Date.parse(String(job['completed_at'])) : Date.now();
  if (Number.isNaN(start)) return '';
  const ms = end - start;
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}

export function JobsPage(props: { session: Session }) {
  const { session } = props;
  const [jobs, reload] = useAsync(async () => objects((await session.sql('SELECT job_id, job_type, status, namespace_id, table_name, result, error_message, created_at, started_at, completed_at FROM system.jobs ORDER BY created_at DESC LIMIT 200')).results[0])
    .map((j) => ({ ...j, table: j['table_name'] ? `${display(j['namespace_id'])}.${display(j['table_name'])}` : '', duration: duration(j), outcome: j['error_message'] ?? j['result'] })), []);
  const [tables] = useAsync(async () => objects((await session.sql("SELECT namespace_id, table_name FROM system.tables WHERE table_type IN ('user', 'shared') ORDER BY 1, 2")).results[0]).map((t) => `${display(t['namespace_id'])}.${display(t['table_name'])}`), []);
  const action = useAction(session, reload);
  useEffect(() => {
    const timer = setInterval(reload, 3000);
    return () => clearInterval(timer);
  }, []);
  return (
    <div class="page jobs">
      <PageHeader title="Jobs" sub="Background work: flushes, compactions, evictions and backups. Refreshes every 3 s." />
      <form class="toolbar" onSubmit={(e) => { const f = fields(e); if (f['table']) void action.run(`FLUSH TABLE ${f['table']}`); }}>
        <label><span class="label">Table</span>
          <select name="table" id="flush-table" aria-label="Table to flush">{tables.state === 'ready' && tables.data.map((t) => <option value={t}>{t}</option>)}</select></label>
        <button type="submit" class="primary" id="flush" disabled={action.busy || tables.state !== 'ready' || tables.data.length === 0}>Flush table</button>
        <button type="button" class="ghost" onClick={reload}>Refresh</button>
      </form>
      {action.view}
      <Show value={jobs} what="jobs" retry={reload}>
        {(rows) => rows.length === 0 ? <Empty title="No jobs yet">Flush a table above; automatic flushes show here too.</Empty> : (
          <SimpleTable label="Jobs" rows={rows} columns={[['job_type', 'Type'], ['status', 'Status'], ['table', 'Table'], ['created_at', 'Created'], ['duration', 'Duration'], ['outcome', 'Result'], ['job_id', 'Id']]} />
        )}
      </Show>
    </div>
  );
}
