// One topic: its sources (add, drop), its consumer groups per partition with committed
// offset and lag (reset: dba and system), and a peek at its latest messages, read without
// a group so that nothing is reserved or recorded.
import { useEffect, useState } from 'preact/hooks';
import { href, navigate } from '../route';
import type { Session } from '../session';
import { display, literal, objects, prettyJson, qualifiedRef } from '../sql';
import { Empty, ErrorBox, fields, Link, Loading, Modal, PageHeader, SimpleTable, SqlShown, useAction, useAsync } from '../ui';
import { NeedsRole, ShowTopics, sourcesOf, TopicConfirm } from './topics';

const REFRESH_MS = 5000;
const OPS = ['INSERT', 'UPDATE', 'DELETE'];
const PAYLOADS: [string, string][] = [['full', 'full: the whole row'], ['key', 'key: the primary key columns'], ['diff', 'diff: changed columns, old and new']];
const PEEK_SIZES = [10, 25, 100];

interface Bounds { earliest: number; end: number }
interface Message { partition_id: number; offset: number; op: string; key: string; payload: string; timestamp_ms: number; user: string | null }


/**
 * Where each partition's retained messages lie: offsets [earliest, end).
 *
 * A group's lag is what it has still to read: end - max(committed + 1, earliest). The end
 * (the offset the partition's next message will get) is in no system table: message_count
 * in system.topics counts the messages retained over all partitions, which says nothing of
 * offsets once CLEAR TOPIC or retention removed some (offsets are never reused), and
 * CONSUME answers rows only. The HTTP consume route answers next_offset as well; read
 * without a group it reserves and records nothing. From Latest it reads no message and
 * next_offset is the end; from Earliest with limit 1 it reads at most one message, whose
 * offset is the earliest (none: the partition is empty and its earliest is its end). So
 * two requests a partition, each O(1) on the server.
 */
async function boundsOf(session: Session, topicId: string, partitions: number): Promise<Bounds[]> {
  const read = (partition: number, start: string) => session.post('/v1/api/topics/consume', { topic_id: topicId, partition_id: partition, start, limit: 1 });
  return Promise.all(Array.from({ length: partitions }, async (_, p) => {
    const [latest, earliest] = await Promise.all([read(p, 'Latest'), read(p, 'Earliest')]);
    const end = Number(latest['next_offset'] ?? 0);
    const first = (earliest['messages'] as { offset: number }[] | undefined)?.[0];
    return { earliest: Math.min(end, first ? Number(first.offset) : end), end };
  }));
}

/** A timestamp as the page's subtitle shows it: to the second, UTC. */
function when(value: unknown): string {
  return display(value).replace('T', ' ').replace(/(\.\d+)?Z$/, ' UTC');
}

export function TopicPage(props: { session: Session; topicId: string }) {
  const { session, topicId } = props;
  const ref = qualifiedRef(topicId);
  const allowed = session.isService();
  const [detail, reload] = useAsync(async () => {
    if (!allowed) return null;
    const [topic, offsets] = await Promise.all([
      session.sql('SELECT partitions, message_count, sources, created_at FROM system.topics WHERE topic_id = $1', [topicId]),
      session.sql('SELECT group_id, partition_id, committed_offset, reserved_until, updated_at FROM system.topic_offsets WHERE topic_id = $1 ORDER BY group_id, partition_id', [topicId]),
    ]);
    const row = objects(topic.results[0])[0];
    if (!row) throw new Error(`There is no topic ${topicId}.`);
    const partitions = Number(row['partitions']);
    const bounds = await boundsOf(session, topicId, partitions);
    const groups = objects(offsets.results[0]).map((g) => {
      const partition = Number(g['partition_id']);
      const committed = Number(g['committed_offset']);
      const b = bounds[partition] ?? { earliest: 0, end: 0 };
      return {
        group_id: String(g['group_id']), partition_id: partition, committed: committed < 0 ? 'none' : String(committed),
        end: b.end, lag: Math.max(0, b.end - Math.max(committed + 1, b.earliest)), reserved_until: g['reserved_until'] ?? 'nothing held', updated_at: g['updated_at'],
      };
    });
    return { partitions, messages: row['message_count'], created: row['created_at'], sources: sourcesOf(row['sources']), bounds, groups };
  }, [topicId]);
  const action = useAction(session, reload);
  const [dialog, setDialog] = useState<{ kind: 'source' } | { kind: 'clear' | 'drop' } | { kind: 'reset'; group: string; partition: number } | null>(null);
  const close = () => setDialog(null);
  useEffect(() => {
    const timer = setInterval(reload, REFRESH_MS);
    return () => clearInterval(timer);
  }, []);

  if (!allowed) return <div class="page topic"><PageHeader title="Topics" /><NeedsRole /></div>;
  const data = detail.state === 'ready' ? detail.data : null;
  return (
    <div class="page topic">
      <PageHeader title={topicId} sub={data ? `${data.partitions} partition${data.partitions === 1 ? '' : 's'} · created ${when(data.created)} · refreshes every ${REFRESH_MS / 1000} s` : undefined}>
        <Link class="button ghost" href={href('topics')}>← Topics</Link>
        <button class="ghost" id="refresh-topic" onClick={reload}>Refresh</button>
        {data && <button id="clear-topic" onClick={() => setDialog({ kind: 'clear' })}>Clear</button>}
        {data && <button class="danger" id="drop-topic" onClick={() => setDialog({ kind: 'drop' })}>Drop</button>}
      </PageHeader>
      {action.view}
      <ShowTopics value={detail} what="the topic" retry={reload}>
        {(d) => d && (
          <>
            <dl class="facts">
              <div><dt>Partitions</dt><dd data-fact="partitions">{d.partitions}</dd></div>
              <div><dt>Messages retained</dt><dd data-fact="messages">{display(d.messages)}</dd></div>
              <div><dt>Next offsets</dt><dd data-fact="ends">{d.bounds.map((b) => b.end).join(' · ')}</dd></div>
              <div><dt>Groups</dt><dd data-fact="groups">{new Set(d.groups.map((g) => g.group_id)).size}</dd></div>
            </dl>
            <section class="topic-section" aria-label="Sources">
              <div class="section-head"><h3>Sources</h3><button class="small" id="add-source" onClick={() => setDialog({ kind: 'source' })}>Add source</button></div>
              {d.sources.length === 0 ? <Empty title="No sources">Add a table and an operation: each committed change that matches is appended to this topic.</Empty> : (
                <SimpleTable label="Sources" rows={d.sources.map((s) => ({ ...s, where: s.where ?? 'every row' }))} columns={[['table', 'Table'], ['op', 'Operation'], ['where', 'Where'], ['payload', 'Payload']]}
                  actions={(s) => <button class="ghost small danger" data-drop-source={`${display(s['table'])} ON ${display(s['op'])}`}
                    onClick={() => void action.run(`ALTER TOPIC ${ref} DROP SOURCE ${qualifiedRef(String(s['table']))} ON ${String(s['op'])}`)}>Drop</button>} />
              )}
            </section>
            <section class="topic-section" aria-label="Consumer groups">
              <div class="section-head"><h3>Consumer groups</h3></div>
              {d.groups.length === 0 ? (
                <Empty title="No consumer groups yet">A group appears when a worker first reads with it: <code>CONSUME FROM {topicId} GROUP 'workers'</code> or <code>POST /v1/api/topics/consume</code> with a <code>group_id</code>.</Empty>
              ) : (
                <SimpleTable label="Consumer groups" rows={d.groups} columns={[['group_id', 'Group'], ['partition_id', 'Partition'], ['committed', 'Committed'], ['end', 'Next offset'], ['lag', 'Lag'], ['reserved_until', 'Reserved until'], ['updated_at', 'Updated']]}
                  actions={session.isAdmin() ? (g) => <button class="ghost small" data-reset={`${display(g['group_id'])}/${display(g['partition_id'])}`}
                    onClick={() => setDialog({ kind: 'reset', group: String(g['group_id']), partition: Number(g['partition_id']) })}>Reset</button> : undefined} />
              )}
              <p class="hint">Lag: the messages a group has still to read, from past its committed offset to the partition's next offset.</p>
            </section>
            <Peek session={session} topicId={topicId} bounds={d.bounds} />
          </>
        )}
      </ShowTopics>
      {dialog?.kind === 'source' && <AddSource session={session} busy={action.busy} onClose={close}
        onAdd={async (sql) => { if (await action.run(sql)) close(); }} topicRef={ref} />}
      {(dialog?.kind === 'clear' || dialog?.kind === 'drop') && (
        <TopicConfirm kind={dialog.kind} topic={topicId} messages={data ? display(data.messages) : '?'} busy={action.busy} onClose={close}
          onConfirm={async (sql) => {
            if (!(await action.run(sql))) return;
            close();
            if (dialog.kind === 'drop') navigate(href('topics'));
          }} />
      )}
      {dialog?.kind === 'reset' && (
        <Modal title={`Reset group ${dialog.group}`} onClose={close}>
          <ResetForm group={dialog.group} partition={dialog.partition} partitions={data?.partitions ?? 1} busy={action.busy} onClose={close}
            onReset={async (partition, to) => {
              const sql = `RESET CONSUMER GROUP ${literal(dialog.group)} ON ${ref}${partition === null ? '' : ` PARTITION ${partition}`} TO ${to}`;
              if (await action.run(sql)) close();
            }} />
        </Modal>
      )}
    </div>
  );
}

function AddSource(props: { session: Session; topicRef: string; busy: boolean; onClose: () => void; onAdd: (sql: string) => void }) {
  const [tables] = useAsync(async () => objects((await props.session.sql("SELECT namespace_id, table_name, table_type FROM system.tables WHERE table_type IN ('user', 'shared', 'stream') ORDER BY 1, 2")).results[0]), []);
  return (
    <Modal title="Add source" onClose={props.onClose}>
      <form class="stack" onSubmit={(e) => {
        const f = fields(e);
        const where = f['where']!.trim();
        props.onAdd(`ALTER TOPIC ${props.topicRef} ADD SOURCE ${qualifiedRef(f['table']!)} ON ${f['op']}${where ? ` WHERE ${where}` : ''} WITH (payload = ${literal(f['payload']!)})`);
      }}>
        <label>Table
          <select name="table" id="source-table" required>
            {tables.state === 'ready' && tables.data.map((t) => {
              const name = `${display(t['namespace_id'])}.${display(t['table_name'])}`;
              return <option value={name}>{name} ({display(t['table_type'])})</option>;
            })}
          </select></label>
        {tables.state === 'loading' && <Loading what="tables" />}
        {tables.state === 'error' && <ErrorBox error={tables.error} />}
        {tables.state === 'ready' && tables.data.length === 0 && <p class="hint">There are no tables yet: create one first.</p>}
        <label>Operation<select name="op" id="source-op">{OPS.map((op) => <option value={op}>{op}</option>)}</select></label>
        <label>Only rows where (optional; the new row for INSERT and UPDATE, the old one for DELETE)
          <input name="where" id="source-where" class="mono" spellcheck={false} placeholder="price > 10 AND note IS NOT NULL" /></label>
        <label>Payload<select name="payload" id="source-payload">{PAYLOADS.map(([value, text]) => <option value={value}>{text}</option>)}</select></label>
        <footer class="modal-actions"><span class="grow" /><button type="button" class="ghost" onClick={props.onClose}>Cancel</button>
          <button class="primary" type="submit" disabled={props.busy || tables.state !== 'ready' || tables.data.length === 0}>Add source</button></footer>
      </form>
    </Modal>
  );
}

function ResetForm(props: { group: string; partition: number; partitions: number; busy: boolean; onClose: () => void; onReset: (partition: number | null, to: string) => void }) {
  const [to, setTo] = useState('EARLIEST');
  return (
    <form class="stack" onSubmit={(e) => {
      const f = fields(e);
      props.onReset(f['partition'] === 'all' ? null : Number(f['partition']), to === 'offset' ? String(Number(f['offset'])) : to);
    }}>
      <p>Where the group reads next. Messages it has reserved and not acknowledged are handed out again.</p>
      <label>Partitions
        <select name="partition" id="reset-partition">
          <option value="all">All partitions</option>
          {Array.from({ length: props.partitions }, (_, p) => <option value={String(p)} selected={props.partitions > 1 && p === props.partition}>Partition {p}</option>)}
        </select></label>
      <label>To
        <select name="to" id="reset-to" value={to} onChange={(e) => setTo((e.target as HTMLSelectElement).value)}>
          <option value="EARLIEST">Earliest: every retained message again</option>
          <option value="LATEST">Latest: skip to the end</option>
          <option value="offset">An offset</option>
        </select></label>
      {to === 'offset' && <label>Offset (the next one read)<input name="offset" id="reset-offset" type="number" min={0} required /></label>}
      <footer class="modal-actions"><span class="grow" /><button type="button" class="ghost" onClick={props.onClose}>Cancel</button>
        <button class="primary" type="submit" id="confirm-reset" disabled={props.busy}>Reset</button></footer>
    </form>
  );
}

/** The latest messages of one partition or all, newest first: a CONSUME without a group
 *  per partition, from n before its end. */
function Peek(props: { session: Session; topicId: string; bounds: Bounds[] }) {
  const [partition, setPartition] = useState('all');
  const [size, setSize] = useState(PEEK_SIZES[0]!);
  const [round, setRound] = useState(0);
  const ref = qualifiedRef(props.topicId);
  const chosen = props.bounds.map((b, p) => ({ ...b, p })).filter((b) => (partition === 'all' || String(b.p) === partition) && b.end > b.earliest);
  const sql = chosen.map((b) => `CONSUME FROM ${ref} PARTITION ${b.p} FROM ${Math.max(b.earliest, b.end - size)} LIMIT ${size}`).join(';\n');
  const [messages] = useAsync(async () => {
    if (!sql) return [];
    const answer = await props.session.sql(sql);
    const all = answer.results.flatMap((r) => objects(r) as unknown as Message[]);
    all.sort((a, b) => Number(b.timestamp_ms) - Number(a.timestamp_ms) || Number(b.offset) - Number(a.offset));
    return all.slice(0, size);
  }, [sql, round]);
  return (
    <section class="topic-section" aria-label="Recent messages">
      <div class="section-head"><h3>Recent messages</h3>
        <div class="toolbar">
          <label><span class="label">Partition</span>
            <select id="peek-partition" value={partition} onChange={(e) => setPartition((e.target as HTMLSelectElement).value)}>
              <option value="all">all</option>
              {props.bounds.map((_, p) => <option value={String(p)}>{p}</option>)}
            </select></label>
          <label><span class="label">Latest</span>
            <select id="peek-size" value={String(size)} onChange={(e) => setSize(Number((e.target as HTMLSelectElement).value))}>
              {PEEK_SIZES.map((n) => <option value={String(n)}>{n}</option>)}
            </select></label>
          <button class="ghost small" id="peek-refresh" onClick={() => setRound((r) => r + 1)}>Peek again</button>
        </div>
      </div>
      <p class="hint">Read without a group: nothing is reserved or acknowledged.</p>
      {sql && <SqlShown sql={sql} />}
      {!sql ? <Empty title="No messages">Messages appear here once a source's table changes.</Empty> : messages.state === 'loading' ? <Loading what="messages" />
        : messages.state === 'error' ? <ErrorBox error={messages.error} onRetry={() => setRound((r) => r + 1)} /> : (
          <ol class="messages" aria-label="Messages">
            {messages.data.map((m) => (
              <li class="message" data-offset={`${m.partition_id}/${m.offset}`}>
                <div class="message-head">
                  <span class={`op op-${m.op}`}>{m.op}</span>
                  <span>partition {display(m.partition_id)} · offset {display(m.offset)}</span>
                  <span>key <code>{m.key}</code></span>
                  {m.user !== null && <span>user <code>{m.user}</code></span>}
                  <time>{new Date(Number(m.timestamp_ms)).toISOString()}</time>
                </div>
                <pre class="payload">{prettyJson(m.payload)}</pre>
              </li>
            ))}
          </ol>
        )}
    </section>
  );
}
