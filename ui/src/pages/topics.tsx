// Topics: durable streams of table changes that consumer groups read. The list with its
// message counts and sources; create, clear and drop (service and above; a plain user is
// told the page is not for that role). A topic's own page is topic.tsx.
import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { href } from '../route';
import type { Session } from '../session';
import { display, objects, qualifiedRef, splitQualified, tableRef } from '../sql';
import { describeError, Empty, fields, Link, Modal, PageHeader, Show, SimpleTable, useAction, useAsync, type Async } from '../ui';

export interface Source { table: string; op: string; where: string | null; payload: string }

/** system.topics.sources: JSON text, [{"table","op","where","payload"}]. */
export function sourcesOf(text: unknown): Source[] {
  try {
    const list = JSON.parse(String(text ?? '[]')) as Source[];
    return Array.isArray(list) ? list : [];
  } catch {
    return [];
  }
}

export function describeSource(s: Source): string {
  return `${s.table} ON ${s.op}${s.where ? ` WHERE ${s.where}` : ''} (${s.payload})`;
}

/** What a plain user sees instead of the server's refusal. */
export function NeedsRole() {
  return (
    <div class="state empty needs-role" role="status">
      <strong>Topics need the service, dba or system role</strong>
      <div class="hint">Reading topics, their messages and consumer groups is for workers and operators. Ask an administrator for the service role, or sign in as such a user.</div>
    </div>
  );
}

/** Show, with a refusal (the role changed since sign-in) shown as NeedsRole. */
export function ShowTopics<T>(props: { value: Async<T>; what: string; retry: () => void; children: (data: T) => ComponentChildren }) {
  const v = props.value;
  if (v.state === 'error' && describeError(v.error).code === 'PERMISSION_DENIED') return <NeedsRole />;
  return <Show value={v} what={props.what} retry={props.retry}>{props.children}</Show>;
}

type Dialog = { kind: 'create' } | { kind: 'clear' | 'drop'; topic: string; messages: string };

export function TopicsPage(props: { session: Session }) {
  const { session } = props;
  const allowed = session.isService();
  const [topics, reload] = useAsync(async () => {
    if (!allowed) return [];
    const rows = objects((await session.sql('SELECT topic_id, partitions, message_count, sources, created_at FROM system.topics ORDER BY topic_id')).results[0]);
    return rows.map((t) => ({ ...t, sources: sourcesOf(t['sources']).map(describeSource).join(', ') || 'none' }));
  }, []);
  const action = useAction(session, reload);
  const [dialog, setDialog] = useState<Dialog | null>(null);
  const close = () => setDialog(null);
  const [namespaces] = useAsync(async () => allowed ? objects((await session.sql('SELECT namespace_id FROM system.namespaces ORDER BY namespace_id')).results[0]).map((n) => String(n['namespace_id'])) : [], []);

  if (!allowed) {
    return <div class="page topics"><PageHeader title="Topics" /><NeedsRole /></div>;
  }
  return (
    <div class="page topics">
      <PageHeader title="Topics" sub="Durable, ordered streams of table changes; workers read them in consumer groups and acknowledge what they processed.">
        <button class="ghost" onClick={reload}>Refresh</button>
        <button class="primary" id="create-topic" onClick={() => setDialog({ kind: 'create' })}>New topic</button>
      </PageHeader>
      {action.view}
      <ShowTopics value={topics} what="topics" retry={reload}>
        {(rows) => rows.length === 0 ? (
          <Empty title="No topics yet">Create one with <strong>New topic</strong>, then add its sources: the tables and operations whose changes it records.</Empty>
        ) : (
          <SimpleTable label="Topics" rows={rows} columns={[['topic_id', 'Topic'], ['partitions', 'Partitions'], ['message_count', 'Messages'], ['sources', 'Sources'], ['created_at', 'Created']]}
            actions={(t) => {
              const id = String(t['topic_id']);
              const messages = display(t['message_count']);
              return (
                <>
                  <Link class="button ghost small" href={href('topics', ...splitQualified(id))}>Open</Link>
                  <button class="ghost small" data-clear={id} onClick={() => setDialog({ kind: 'clear', topic: id, messages })}>Clear</button>
                  <button class="ghost small danger" data-drop={id} onClick={() => setDialog({ kind: 'drop', topic: id, messages })}>Drop</button>
                </>
              );
            }} />
        )}
      </ShowTopics>
      {dialog?.kind === 'create' && (
        <Modal title="New topic" onClose={close}>
          <form class="stack" onSubmit={async (e) => {
            const f = fields(e);
            const partitions = Number(f['partitions'] || '1');
            if (await action.run(`CREATE TOPIC ${tableRef(f['namespace']!, f['name']!)}${partitions === 1 ? '' : ` PARTITIONS ${partitions}`}`)) close();
          }}>
            <label>Name (lower-case letters, digits and _)<input name="name" id="topic-name" required pattern="[a-z][a-z0-9_]*" maxLength={64} /></label>
            <label>Namespace
              <select name="namespace" id="topic-namespace">{namespaces.state === 'ready' && namespaces.data.filter((n) => n !== 'system').map((n) => <option value={n}>{n}</option>)}</select></label>
            <label>Partitions (1 to 256: messages are spread by the row's primary key; each partition keeps its own order)
              <input name="partitions" id="topic-partitions" type="number" min={1} max={256} value="1" required /></label>
            <footer class="modal-actions"><span class="grow" /><button type="button" class="ghost" onClick={close}>Cancel</button><button class="primary" type="submit" disabled={action.busy}>Create</button></footer>
          </form>
        </Modal>
      )}
      {(dialog?.kind === 'clear' || dialog?.kind === 'drop') && (
        <TopicConfirm kind={dialog.kind} topic={dialog.topic} messages={dialog.messages} busy={action.busy} onClose={close}
          onConfirm={async (sql) => { if (await action.run(sql)) close(); }} />
      )}
    </div>
  );
}

/** Confirms CLEAR or DROP of a topic (the list's and the topic page's). */
export function TopicConfirm(props: { kind: 'clear' | 'drop'; topic: string; messages: string; busy: boolean; onClose: () => void; onConfirm: (sql: string) => void }) {
  const clear = props.kind === 'clear';
  return (
    <Modal title={`${clear ? 'Clear' : 'Drop'} ${props.topic}?`} onClose={props.onClose}>
      <form class="stack" onSubmit={(e) => { e.preventDefault(); props.onConfirm(`${clear ? 'CLEAR' : 'DROP'} TOPIC ${qualifiedRef(props.topic)}`); }}>
        <p>{clear
          ? `Its ${props.messages} message(s) are removed; sources and consumer groups stay, and offsets go on from where they were.`
          : `The topic, its ${props.messages} message(s), its sources and its consumer groups are removed. Workers reading it get NOT_FOUND.`}</p>
        <footer class="modal-actions"><span class="grow" /><button type="button" class="ghost" onClick={props.onClose}>Cancel</button>
          <button class="danger" type="submit" id={`confirm-${props.kind}`} disabled={props.busy}>{clear ? 'Clear messages' : 'Drop topic'}</button></footer>
      </form>
    </Modal>
  );
}
