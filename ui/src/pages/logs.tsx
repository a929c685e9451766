// Logs: the server's most recent log lines (system.server_logs, dba and system), newest
// first, filtered by level and text, refreshed every 3 s.
import { useEffect, useState } from 'preact/hooks';
import type { Session } from '../session';
import { display, objects } from '../sql';
import { Empty, PageHeader, Show, useAsync } from '../ui';

const LEVELS = ['all', 'warn', 'error'];

export function LogsPage(props: { session: Session }) {
  const { session } = props;
  const [level, setLevel] = useState('all');
  const [text, setText] = useState('');
  const [lines, reload] = useAsync(async () => objects((await session.sql('SELECT logged_at, level, message FROM system.server_logs')).results[0]).reverse(), []);
  useEffect(() => {
    const timer = setInterval(reload, 3000);
    return () => clearInterval(timer);
  }, []);
  const shown = (rows: Record<string, unknown>[]) => rows.filter((row) => {
    const l = display(row['level']);
    if (level === 'warn' && !['warning', 'warn', 'error', 'critical'].includes(l)) return false;
    if (level === 'error' && !['error', 'critical'].includes(l)) return false;
    return text === '' || display(row['message']).toLowerCase().includes(text.toLowerCase());
  });
  return (
    <div class="page logs">
      <PageHeader title="Logs" sub="The server's last 500 log lines, newest first. Refreshes every 3 s." />
      <div class="toolbar">
        <label><span class="label">Level</span>
          <select id="log-level" aria-label="Lowest level shown" value={level} onChange={(e) => setLevel((e.target as HTMLSelectElement).value)}>
            {LEVELS.map((l) => <option value={l}>{l === 'all' ? 'all levels' : `${l} and above`}</option>)}
          </select></label>
        <input id="log-filter" type="search" placeholder="Filter by text" aria-label="Filter by text" value={text} onInput={(e) => setText((e.target as HTMLInputElement).value)} />
        <button type="button" class="ghost" onClick={reload}>Refresh</button>
      </div>
      <Show value={lines} what="log lines" retry={reload}>
        {(rows) => {
          const visible = shown(rows);
          if (visible.length === 0) return <Empty title="No lines to show">{rows.length === 0 ? 'The server has logged nothing since it started.' : 'No line matches the level and text above.'}</Empty>;
          return (
            <div class="table-wrap">
              <table class="simple log-lines" aria-label="Log lines">
                <thead><tr><th>Time</th><th>Level</th><th>Message</th></tr></thead>
                <tbody>
                  {visible.map((row) => (
                    <tr data-level={display(row['level'])}>
                      <td class="nowrap">{display(row['logged_at'])}</td>
                      <td><span class={`level level-${display(row['level'])}`}>{display(row['level'])}</span></td>
                      <td class="message">{display(row['message'])}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          );
        }}
      </Show>
    </div>
  );
}
