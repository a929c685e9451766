// Users and roles: create, change role, reset password, drop (dba and system).
import { useState } from 'preact/hooks';
import type { Session } from '../session';
import { literal, objects } from '../sql';
import { Empty, fields, Modal, PageHeader, Show, SimpleTable, useAction, useAsync } from '../ui';

const ROLES = ['user', 'service', 'dba', 'system'];

export function UsersPage(props: { session: Session }) {
  const { session } = props;
  const [users, reload] = useAsync(async () => objects((await session.sql('SELECT user_id, username, role, email, created_at, last_seen FROM system.users ORDER BY username')).results[0]), []);
  const action = useAction(session, reload);
  const [dialog, setDialog] = useState<{ kind: 'create' } | { kind: 'password' | 'role' | 'drop'; username: string; role?: string } | null>(null);
  const close = () => setDialog(null);
  const submit = (build: (f: Record<string, string>) => string, hide?: string) => async (e: Event) => {
    const f = fields(e);
    const sql = build(f);
    if (await action.run(sql, hide ? sql.replace(literal(hide), "'********'") : sql)) close();
  };

  return (
    <div class="page users">
      <PageHeader title="Users & roles" sub="Roles: user < service < dba < system. Changing a password or role signs the user out everywhere.">
        <button class="primary" id="create-user" onClick={() => setDialog({ kind: 'create' })}>New user</button>
      </PageHeader>
      {action.view}
      <Show value={users} what="users" retry={reload}>
        {(rows) => rows.length === 0 ? <Empty title="No users" /> : (
          <SimpleTable label="Users" rows={rows} columns={[['username', 'User'], ['role', 'Role'], ['email', 'Email'], ['user_id', 'Id'], ['created_at', 'Created'], ['last_seen', 'Last seen']]}
            actions={(u) => (
              <>
                <button class="ghost small" onClick={() => setDialog({ kind: 'role', username: String(u['username']), role: String(u['role']) })}>Role</button>
                <button class="ghost small" onClick={() => setDialog({ kind: 'password', username: String(u['username']) })}>Password</button>
                {u['username'] !== 'root' && <button class="ghost small danger" onClick={() => setDialog({ kind: 'drop', username: String(u['username']) })}>Drop</button>}
              </>
            )} />
        )}
      </Show>
      {dialog?.kind === 'create' && (
        <Modal title="New user" onClose={close}>
          <form class="stack" onSubmit={(e) => { const f = fields(e); void submit(() => `CREATE USER ${literal(f['username']!)} WITH PASSWORD ${literal(f['password']!)} ROLE ${f['role']}${f['email'] ? ` EMAIL ${literal(f['email'])}` : ''}`, f['password'])(e); }}>
            <label>User name<input name="username" required pattern="[A-Za-z0-9_.@\-]{1,64}" /></label>
            <label>Password (8 to 72 characters)<input name="password" type="password" minLength={8} maxLength={72} required autocomplete="new-password" /></label>
            <label>Role<select name="role">{ROLES.map((r) => <option value={r}>{r}</option>)}</select></label>
            <label>Email (optional)<input name="email" type="email" /></label>
            <footer class="modal-actions"><span class="grow" /><button type="button" class="ghost" onClick={close}>Cancel</button><button class="primary" type="submit" disabled={action.busy}>Create</button></footer>
          </form>
        </Modal>
      )}
      {dialog?.kind === 'role' && (
        <Modal title={`Role of ${dialog.username}`} onClose={close}>
          <form class="stack" onSubmit={submit((f) => `ALTER USER ${literal(dialog.username)} SET ROLE ${f['role']}`)}>
            <label>Role<select name="role" value={dialog.role}>{ROLES.map((r) => <option value={r}>{r}</option>)}</select></label>
            <footer class="modal-actions"><span class="grow" /><button type="button" class="ghost" onClick={close}>Cancel</button><button class="primary" type="submit" disabled={action.busy}>Change role</button></footer>
          </form>
        </Modal>
      )}
      {dialog?.kind === 'password' && (
        <Modal title={`New password for ${dialog.username}`} onClose={close}>
          <form class="stack" onSubmit={(e) => { const f = fields(e); void submit(() => `ALTER USER ${literal(dialog.username)} SET PASSWORD ${literal(f['password']!)}`, f['password'])(e); }}>
            <label>Password (8 to 72 characters)<input name="password" type="password" minLength={8} maxLength={72} required autocomplete="new-password" /></label>
            <footer class="modal-actions"><span class="grow" /><button type="button" class="ghost" onClick={close}>Cancel</button><button class="primary" type="submit" disabled={action.busy}>Set password</button></footer>
          </form>
        </Modal>
      )}
      {dialog?.kind === 'drop' && (
        <Modal title={`Drop ${dialog.username}?`} onClose={close}>
          <form class="stack" onSubmit={submit(() => `DROP USER ${literal(dialog.username)}`)}>
            <p>The user can no longer sign in; the user's rows in USER tables stay but no new user inherits them.</p>
            <footer class="modal-actions"><span class="grow" /><button type="button" class="ghost" onClick={close}>Cancel</button><button class="danger" type="submit" disabled={action.busy}>Drop user</button></footer>
          </form>
        </Modal>
      )}
    </div>
  );
}
