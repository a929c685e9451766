// The admin console: sign-in (or first-visit set-up), then the pages in a sidebar layout.
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { describeError, Link } from './ui';
import { href, navigate, useRoute } from './route';
import { post, Session } from './session';
import { ExplorerPage } from './pages/explorer';
import { TablePage } from './pages/table';
import { StudioPage } from './pages/studio';
import { LivePage } from './pages/live';
import { UsersPage } from './pages/users';
import { StoragesPage } from './pages/storages';
import { NamespacesPage } from './pages/namespaces';
import { JobsPage } from './pages/jobs';
import { TopicsPage } from './pages/topics';
import { TopicPage } from './pages/topic';
import { LogsPage } from './pages/logs';
import { HealthPage } from './pages/health';
import './style.css';

type Theme = 'light' | 'dark';

function initialTheme(): Theme {
  const kept = localStorage.getItem('kalamdb.theme');
  if (kept === 'light' || kept === 'dark') return kept;
  return matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
}

interface NavItem { path: string; label: string; key: string; shown: (s: Session) => boolean }
const NAV: NavItem[] = [
  { path: '', label: 'Explorer', key: 'e', shown: () => true },
  { path: 'sql', label: 'SQL studio', key: 'q', shown: () => true },
  { path: 'live', label: 'Live view', key: 'l', shown: () => true },
  { path: 'namespaces', label: 'Namespaces', key: 'n', shown: () => true },
  { path: 'users', label: 'Users & roles', key: 'u', shown: (s) => s.isAdmin() },
  { path: 'storages', label: 'Storages', key: 's', shown: (s) => s.isService() },
  { path: 'jobs', label: 'Jobs', key: 'j', shown: (s) => s.isService() },
  { path: 'topics', label: 'Topics', key: 't', shown: (s) => s.isService() },
  { path: 'health', label: 'Health', key: 'h', shown: (s) => s.isAdmin() },
  { path: 'logs', label: 'Logs', key: 'o', shown: (s) => s.isAdmin() },
];

function App() {
  const [theme, setTheme] = useState<Theme>(initialTheme);
  const [notice, setNotice] = useState<string | null>(null);
  const ended = (reason?: string) => { setSession(null); if (reason) setNotice(reason); };
  const [session, setSession] = useState<Session | null>(() => Session.restore(ended));
  const route = useRoute();

  useEffect(() => {
    document.documentElement.dataset['theme'] = theme;
    localStorage.setItem('kalamdb.theme', theme);
  }, [theme]);

  // g then a letter moves between pages (as in many consoles); ignored while typing.
  useEffect(() => {
    let armed = false;
    const onKey = (e: KeyboardEvent) => {
      const target = e.target as HTMLElement;
      if (!session || e.ctrlKey || e.metaKey || e.altKey || target.closest('input, textarea, select, .cm-host')) return;
      if (armed) {
        armed = false;
        const item = NAV.find((n) => n.key === e.key && n.shown(session));
        if (item) navigate(href(...(item.path ? [item.path] : [])));
      } else if (e.key === 'g') {
        armed = true;
      }
    };
    addEventListener('keydown', onKey);
    return () => removeEventListener('keydown', onKey);
  }, [session]);

  const toggleTheme = () => setTheme(theme === 'dark' ? 'light' : 'dark');
  if (!session) {
    return <SignIn onSession={(s) => { setNotice(null); setSession(s); }} notice={notice} ended={ended} theme={theme} toggleTheme={toggleTheme} />;
  }
  const page = route[0] ?? '';
  return (
    <div class="shell">
      <a class="skip" href="#main">Skip to content</a>
      <nav class="sidebar" aria-label="Pages">
        <div class="brand"><img src="/ui/favicon.svg" alt="" width="24" height="24" /> KalamDB</div>
        <ul>
          {NAV.filter((n) => n.shown(session)).map((n) => (
            <li><Link href={href(...(n.path ? [n.path] : []))} class={(page === n.path || (n.path === '' && page === 'table')) ? 'active' : ''}>{n.label}</Link></li>
          ))}
        </ul>
        <div class="sidebar-foot">
          <div class="who" title={session.user.user_id}><span class="name">{session.user.username}</span> <span class={`role role-${session.user.role}`}>{session.user.role}</span></div>
          <div class="foot-buttons">
            <button class="ghost" onClick={toggleTheme} aria-label="Switch theme" id="theme-toggle">{theme === 'dark' ? '☀ Light' : '☾ Dark'}</button>
            <button class="ghost" id="sign-out" onClick={async () => { await session.signOut(); setSession(null); navigate(href()); }}>Sign out</button>
          </div>
        </div>
      </nav>
      <main id="main" tabIndex={-1}>
        <Page route={route} session={session} />
      </main>
    </div>
  );
}

function Page(props: { route: string[]; session: Session }) {
  const [page, ...rest] = props.route;
  const s = props.session;
  switch (page ?? '') {
    case '': return <ExplorerPage session={s} />;
    case 'table': return <TablePage session={s} namespace={rest[0] ?? ''} table={rest[1] ?? ''} />;
    case 'sql': return <StudioPage session={s} />;
    case 'live': return <LivePage session={s} />;
    case 'users': return <UsersPage session={s} />;
    case 'storages': return <StoragesPage session={s} />;
    case 'namespaces': return <NamespacesPage session={s} />;
    case 'jobs': return <JobsPage session={s} />;
    // topics/<namespace>/<name>: no dot in the path, which the server would take for a file.
    case 'topics': return rest.length === 2 ? <TopicPage session={s} topicId={rest.join('.')} key={rest.join('.')} /> : <TopicsPage session={s} />;
    case 'health': return <HealthPage session={s} />;
    case 'logs': return <LogsPage session={s} />;
    default: return <div class="state empty"><strong>No page here.</strong><div class="hint"><Link href={href()}>Go to the explorer</Link></div></div>;
  }
}

function SignIn(props: { onSession: (s: Session) => void; notice: string | null; ended: (r?: string) => void; theme: Theme; toggleTheme: () => void }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [setup, setSetup] = useState(false);
  useEffect(() => {
    fetch('/v1/api/auth/setup').then((r) => r.json()).then((b: { needs_setup?: boolean }) => setSetup(!!b.needs_setup)).catch(() => undefined);
  }, []);

  const submit = async (e: Event) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget as HTMLFormElement);
    const username = String(form.get('username') ?? '');
    const password = String(form.get('password') ?? '');
    setBusy(true);
    setError(null);
    try {
      if (setup) {
        if (password.length < 8) throw new Error('The password needs at least 8 characters.');
        if (password !== String(form.get('confirm') ?? '')) throw new Error('The two passwords differ.');
        const first = await post('/v1/api/auth/login', { username: 'root', password: '' });
        await post('/v1/api/sql', { sql: `ALTER USER 'root' SET PASSWORD '${password.replace(/'/g, "''")}'` }, String(first['access_token']));
        props.onSession(await Session.signIn('root', password, props.ended));
      } else {
        props.onSession(await Session.signIn(username, password, props.ended));
      }
    } catch (err) {
      setError(describeError(err).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div class="signin-page">
      <form class="signin" id="sign-in" onSubmit={submit} aria-label={setup ? 'Set up' : 'Sign in'}>
        <div class="brand"><img src="/ui/favicon.svg" alt="" width="28" height="28" /> KalamDB</div>
        {setup ? (
          <>
            <h1>Set up</h1>
            <p class="sub">This server's <code>root</code> user has no password yet. Choose one (8 to 72 characters); you sign in with it from now on.</p>
            <label>New password for root<input id="password" name="password" type="password" autocomplete="new-password" required /></label>
            <label>The same again<input id="confirm" name="confirm" type="password" autocomplete="new-password" required /></label>
          </>
        ) : (
          <>
            <h1>Sign in</h1>
            {props.notice && <p class="notice" role="status">{props.notice}</p>}
            <label>User<input id="username" name="username" autocomplete="username" required autoFocus /></label>
            <label>Password<input id="password" name="password" type="password" autocomplete="current-password" /></label>
          </>
        )}
        {error && <p class="form-error" role="alert">{error}</p>}
        <button type="submit" class="primary" disabled={busy}>{busy ? 'Signing in…' : setup ? 'Set password and sign in' : 'Sign in'}</button>
        <button type="button" class="ghost theme-small" onClick={props.toggleTheme}>{props.theme === 'dark' ? '☀ Light theme' : '☾ Dark theme'}</button>
      </form>
    </div>
  );
}

render(<App />, document.getElementById('app')!);
