// Namespaces: create and drop (service and above).
import { useState } from 'preact/hooks';
import type { Session } from '../session';
import { ident, objects } from '../sql';
import { Empty, fields, Modal, PageHeader, Show, SimpleTable, useAction, useAsync } from '../ui';

export function NamespacesPage(props: { session: Session }) {
  const { session } = props;
  const [namespaces, reload] = useAsync(async () => objects((await session.sql('SELECT namespace_id, table_count, options, created_at FROM system.namespaces ORDER BY namespace_id')).results[0]), []);
  const action = useAction(session, reload);
  const [creating, setCreating] = useState(false);
  const [dropping, setDropping] = useState<string | null>(null);
  return (
    <div class="page namespaces">
      <PageHeader title="Namespaces" sub="A namespace holds tables; `default` always exists.">
        {session.isService() && <button class="primary" id="create-namespace" onClick={() => setCreating(true)}>New namespace</button>}
      </PageHeader>
      {action.view}
      <Show value={namespaces} what="namespaces" retry={reload}>
        {(rows) => rows.length === 0 ? <Empty title="No namespaces" /> : (
          <SimpleTable label="Namespaces" rows={rows} columns={[['namespace_id', 'Namespace'], ['table_count', 'Tables'], ['options', 'Options'], ['created_at', 'Created']]}
            actions={session.isService() ? (n) => n['namespace_id'] === 'default' ? null : <button class="ghost small danger" onClick={() => setDropping(String(n['namespace_id']))}>Drop</button> : undefined} />
        )}
      </Show>
      {creating && (
        <Modal title="New namespace" onClose={() => setCreating(false)}>
          <form class="stack" onSubmit={async (e) => { const f = fields(e); if (await action.run(`CREATE NAMESPACE ${ident(f['name']!)}`)) setCreating(false); }}>
            <label>Name (lower-case letters, digits and _)<input name="name" required pattern="[a-z][a-z0-9_]*" maxLength={64} /></label>
            <footer class="modal-actions"><span class="grow" /><button type="button" class="ghost" onClick={() => setCreating(false)}>Cancel</button><button class="primary" type="submit" disabled={action.busy}>Create</button></footer>
          </form>
        </Modal>
      )}
      {dropping && (
        <Modal title={`Drop ${dropping}?`} onClose={() => setDropping(null)}>
          <form class="stack" onSubmit={async (e) => { const f = fields(e); if (await action.run(`DROP NAMESPACE ${ident(dropping)}${f['cascade'] ? ' CASCADE' : ''}`)) setDropping(null); }}>
            <label class="check"><input type="checkbox" name="cascade" /> Also drop its tables and their rows (CASCADE)</label>
            <footer class="modal-actions"><span class="grow" /><button type="button" class="ghost" onClick={() => setDropping(null)}>Cancel</button><button class="danger" type="submit" disabled={action.busy}>Drop</button></footer>
          </form>
        </Modal>
      )}
    </div>
  );
}
