// The SQL studio: an editor (loaded on first visit), results in tabs, errors placed where
// they happened, history kept per user in this browser, export as CSV or JSON.
import { useEffect, useRef, useState } from 'preact/hooks';
import type { QueryResult } from '@kalamdb/client';
import type { SqlEditor } from '../editor';
import type { Session } from '../session';
import { download, splitStatements, toCsv, toJsonText } from '../sql';
import { DataGrid, describeError, Empty, Loading, PageHeader } from '../ui';

interface Tab { id: number; title: string; result?: QueryResult; took?: number; error?: { code: string; message: string; where?: string } }
interface HistoryEntry { sql: string; at: string; ok: boolean }

const HISTORY_LIMIT = 100;
const historyKey = (userId: string) => `kalamdb.history.${userId}`;
const draftKey = (userId: string) => `kalamdb.draft.${userId}`;

function readHistory(userId: string): HistoryEntry[] {
  try { return JSON.parse(localStorage.getItem(historyKey(userId)) ?? '[]') as HistoryEntry[]; } catch { return []; }
}

/** Where in the text an error points: DuckDB's "LINE n:" caret, or "at or near" a token. */
function errorOffset(statement: string, message: string): number | null {
  const caret = /LINE (\d+): (.*)\n(\s*)\^/.exec(message);
  if (caret) {
    const lines = statement.split('\n');
    const line = Number(caret[1]) - 1;
    const prefix = caret[2]!.startsWith('...') ? null : caret[3]!.length - `LINE ${caret[1]}: `.length;
    if (prefix !== null && line < lines.length) return lines.slice(0, line).reduce((n, l) => n + l.length + 1, 0) + Math.max(0, prefix);
  }
  const near = /at or near "([^"]+)"/.exec(message);
  if (near) {
    const at = statement.indexOf(near[1]!);
    if (at >= 0) return at;
  }
  return null;
}

function lineCol(text: string, offset: number): string {
  const before = text.slice(0, offset).split('\n');
  return `line ${before.length}, column ${before[before.length - 1]!.length + 1}`;
}

export function StudioPage(props: { session: Session }) {
  const { session } = props;
  const userId = session.user.user_id;
  const host = useRef<HTMLDivElement>(null);
  const editor = useRef<SqlEditor | null>(null);
  const [editorState, setEditorState] = useState<'loading' | 'ready' | Error>('loading');
  const [tabs, setTabs] = useState<Tab[]>([]);
  const [active, setActive] = useState(0);
  const [running, setRunning] = useState(false);
  const [historyOpen, setHistoryOpen] = useState(false);
  const [history, setHistory] = useState<HistoryEntry[]>(() => readHistory(userId));
  const nextId = useRef(1);
  const runRef = useRef<() => void>(() => undefined);

  useEffect(() => {
    let editorInstance: SqlEditor | null = null;
    let live = true;
    (async () => {
      const [{ createSqlEditor }, schema] = await Promise.all([import('../editor'), completionSchema(session)]);
      if (!live || !host.current) return;
      editorInstance = createSqlEditor(host.current, {
        doc: localStorage.getItem(draftKey(userId)) ?? '',
        schema,
        onRun: () => runRef.current(),
        onChange: (text) => localStorage.setItem(draftKey(userId), text),
      });
      editor.current = editorInstance;
      setEditorState('ready');
      editorInstance.focus();
    })().catch((e) => live && setEditorState(e instanceof Error ? e : new Error(String(e))));
    return () => { live = false; editorInstance?.destroy(); };
  }, []);

  const run = async () => {
    const ed = editor.current;
    if (!ed || running) return;
    const whole = ed.text();
    const text = ed.selection().trim() || whole;
    if (!text.trim()) return;
    const base = ed.selection().trim() ? whole.indexOf(text) : 0;
    setRunning(true);
    const added: Tab[] = [];
    let ok = true;
    try {
      const answer = await session.sql(text);
      answer.results.forEach((result, i) => added.push({ id: nextId.current++, title: titleOf(result, i), result, took: answer.took }));
    } catch (error) {
      ok = false;
      const { code, message } = describeError(error);
      const index = (error as { statementIndex?: number }).statementIndex;
      const ran = ((error as { results?: QueryResult[] }).results ?? []);
      ran.forEach((result, i) => added.push({ id: nextId.current++, title: titleOf(result, i), result }));
      let where: string | undefined;
      if (index) {
        const statement = splitStatements(text)[index - 1];
        if (statement) {
          const offset = errorOffset(statement.text, message);
          const from = base + statement.from + (offset ?? 0);
          ed.select(from, offset === null ? base + statement.from + statement.text.length : from);
          where = `statement ${index}${offset === null ? '' : `, ${lineCol(whole, from)}`}`;
        }
      }
      added.push({ id: nextId.current++, title: 'Error', error: { code, message, where } });
    } finally {
      setRunning(false);
    }
    setTabs((old) => {
      const all = [...old, ...added].slice(-8);
      setActive(ok ? all.length - added.length : all.length - 1); // an error shows first
      return all;
    });
    const entry = { sql: text, at: new Date().toISOString(), ok };
    const next = [entry, ...readHistory(userId).filter((h) => h.sql !== text)].slice(0, HISTORY_LIMIT);
    localStorage.setItem(historyKey(userId), JSON.stringify(next));
    setHistory(next);
  };
  runRef.current = run;

  const tab = tabs[Math.min(active, tabs.length - 1)];
  const columns = tab?.result?.schema?.map((f) => f.name) ?? [];
  const rows = (tab?.result?.rows ?? []) as unknown[][];
  return (
    <div class="page studio">
      <PageHeader title="SQL studio" sub={<>Run with <kbd>Ctrl</kbd>+<kbd>Enter</kbd> (<kbd>⌘</kbd>+<kbd>Enter</kbd> on a Mac); a selection runs alone.</>}>
        <button class="ghost" id="history-toggle" aria-expanded={historyOpen} onClick={() => setHistoryOpen(!historyOpen)}>History ({history.length})</button>
        <button class="primary" id="run" disabled={running || editorState !== 'ready'} onClick={run}>{running ? 'Running…' : 'Run'}</button>
      </PageHeader>
      <div class="studio-body">
        <div class="editor-host">
          <div class="cm-host" ref={host} />
          {editorState === 'loading' && <Loading what="the editor" />}
          {editorState instanceof Error && <div class="state error">The editor could not load: {editorState.message}</div>}
        </div>
        {historyOpen && (
          <aside class="history" aria-label="Query history">
            {history.length === 0 ? <Empty title="No history yet">Statements you run are kept here, in this browser, for you only.</Empty> : (
              <ul>
                {history.map((h) => (
                  <li><button class={`history-item${h.ok ? '' : ' failed'}`} title={h.at} onClick={() => { editor.current?.setText(h.sql); editor.current?.focus(); }}>{h.sql}</button></li>
                ))}
              </ul>
            )}
            {history.length > 0 && <button class="ghost" onClick={() => { localStorage.removeItem(historyKey(userId)); setHistory([]); }}>Clear history</button>}
          </aside>
        )}
      </div>
      <div class="results">
        {tabs.length === 0 ? <Empty title="No results yet">Write a statement above and press Ctrl+Enter. Try <code>SELECT * FROM system.namespaces</code>.</Empty> : (
          <>
            <div class="tabs" role="tablist">
              {tabs.map((t, i) => (
                <div class={`tab${t === tab ? ' active' : ''}${t.error ? ' failed' : ''}`}>
                  <button role="tab" aria-selected={t === tab} onClick={() => setActive(i)}>{t.title}</button>
                  <button class="close" aria-label={`Close ${t.title}`} onClick={() => { setTabs(tabs.filter((x) => x !== t)); setActive(Math.max(0, i - 1)); }}>×</button>
                </div>
              ))}
              {tab?.result?.schema && (
                <div class="tab-actions">
                  <button class="ghost" id="export-csv" onClick={() => download('result.csv', 'text/csv', toCsv(columns, rows))}>Export CSV</button>
                  <button class="ghost" id="export-json" onClick={() => download('result.json', 'application/json', toJsonText(columns, rows))}>Export JSON</button>
                </div>
              )}
            </div>
            <div class="tab-panel" role="tabpanel">
              {tab?.error ? (
                <div class="state error query-error" role="alert">
                  <strong class="code">{tab.error.code}</strong>{tab.error.where && <span class="where"> at {tab.error.where}</span>}
                  <pre class="message">{tab.error.message}</pre>
                </div>
              ) : tab?.result?.schema ? (
                <>
                  <p class="result-meta">{rows.length.toLocaleString('en')} row{rows.length === 1 ? '' : 's'}{tab.took !== undefined ? ` · ${tab.took.toFixed(1)} ms` : ''}</p>
                  {rows.length === 0 ? <Empty title="No rows" /> : <DataGrid label="Result" columns={columns} rowCount={rows.length} row={(i) => rows[i]} />}
                </>
              ) : (
                <p class="result-message" role="status">{tab?.result?.message ?? `${tab?.result?.row_count ?? 0} row(s)`}</p>
              )}
            </div>
          </>
        )}
      </div>
    </div>
  );
}

function titleOf(result: QueryResult, i: number): string {
  return result.schema ? `Result ${i + 1} (${result.row_count})` : `Statement ${i + 1}`;
}

/** Namespaces → tables → columns, for completion. */
async function completionSchema(session: Session): Promise<Record<string, Record<string, string[]>>> {
  const schema: Record<string, Record<string, string[]>> = {};
  try {
    const r = await session.sql('SELECT table_schema, table_name, column_name FROM information_schema.columns');
    for (const [ns, table, column] of (r.results[0]?.rows ?? []) as string[][]) {
      ((schema[ns!] ??= {})[table!] ??= []).push(column!);
    }
  } catch {
    // completion of keywords still works
  }
  return schema;
}
