// Storages: where flushed (cold) rows are written.
import { useState } from 'preact/hooks';
import type { Session } from '../session';
import { ident, literal, objects } from '../sql';
import { Empty, fields, Modal, PageHeader, Show, SimpleTable, useAction, useAsync } from '../ui';

export function StoragesPage(props: { session: Session }) {
  const { session } = props;
  const [storages, reload] = useAsync(async () => objects((await session.sql('SELECT storage_id, storage_name, storage_type, base_directory, shared_tables_template, user_tables_template, description FROM system.storages ORDER BY storage_id')).results[0]), []);
  const action = useAction(session, reload);
  const [creating, setCreating] = useState(false);
  return (
    <div class="page storages">
      <PageHeader title="Storages" sub="Where flushes write a table's cold rows (Parquet segments and manifests).">
        <button class="primary" onClick={() => setCreating(true)}>New storage</button>
      </PageHeader>
      {action.view}
      <Show value={storages} what="storages" retry={reload}>
        {(rows) => rows.length === 0 ? <Empty title="No storages" /> : (
          <SimpleTable label="Storages" rows={rows} columns={[['storage_id', 'Id'], ['storage_name', 'Name'], ['storage_type', 'Type'], ['base_directory', 'Base directory'], ['shared_tables_template', 'Shared template'], ['user_tables_template', 'User template'], ['description', 'Description']]}
            actions={(s) => s['storage_id'] === 'local' ? null : <button class="ghost small danger" onClick={() => void action.run(`DROP STORAGE ${ident(String(s['storage_id']))}`)}>Drop</button>} />
        )}
      </Show>
      {creating && (
        <Modal title="New storage" onClose={() => setCreating(false)}>
          <form class="stack" onSubmit={async (e) => {
            const f = fields(e);
            const sql = `CREATE STORAGE ${ident(f['id']!)} TYPE 'filesystem' NAME ${literal(f['name']!)}${f['description'] ? ` DESCRIPTION ${literal(f['description'])}` : ''} BASE_DIRECTORY ${literal(f['base']!)}`;
            if (await action.run(sql)) setCreating(false);
          }}>
            <label>Id<input name="id" required pattern="[a-z][a-z0-9_]*" /></label>
            <label>Name<input name="name" required /></label>
            <label>Description<input name="description" /></label>
            <label>Base directory (absolute, or relative to the data directory's storage/)<input name="base" required /></label>
            <footer class="modal-actions"><span class="grow" /><button type="button" class="ghost" onClick={() => setCreating(false)}>Cancel</button><button class="primary" type="submit" disabled={action.busy}>Create</button></footer>
          </form>
        </Modal>
      )}
    </div>
  );
}
