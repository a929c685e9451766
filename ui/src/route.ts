// Client-side routes under /ui/: the server answers index.html for every page path.
import { useEffect, useState } from 'preact/hooks';

const BASE = '/ui';

/** The page path after /ui (e.g. "/table/app/messages"), decoded segments. */
export function currentPath(): string[] {
  const rest = location.pathname.startsWith(BASE) ? location.pathname.slice(BASE.length) : '/';
  return rest.split('/').filter(Boolean).map(decodeURIComponent);
}

export function href(...segments: string[]): string {
  return `${BASE}/${segments.map(encodeURIComponent).join('/')}`;
}

export function navigate(path: string): void {
  if (path !== location.pathname) history.pushState(null, '', path);
  dispatchEvent(new Event('ui:navigate'));
}

export function useRoute(): string[] {
  const [path, setPath] = useState(currentPath);
  useEffect(() => {
    const update = () => setPath(currentPath());
    addEventListener('popstate', update);
    addEventListener('ui:navigate', update);
    return () => {
      removeEventListener('popstate', update);
      removeEventListener('ui:navigate', update);
    };
  }, []);
  return path;
}

/** A click on an in-app link: navigate without reloading (ctrl/cmd-click opens a tab). */
export function linkClick(event: MouseEvent): void {
  const a = (event.currentTarget as HTMLAnchorElement);
  if (event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return;
  event.preventDefault();
  navigate(a.pathname);
}
