// Who is signed in: the tokens a login gave, kept in memory and in this tab's session
// storage (never in a URL, never in local storage), refreshed before they expire, and the
// SDK client every page talks to the server through.
import { Auth, createClient, type KalamDBClient, KalamError, type QueryResponse, type SqlParam } from '@kalamdb/client';

export type Role = 'user' | 'service' | 'dba' | 'system';
export interface User {
  user_id: string;
  username: string;
  role: Role;
}
interface Tokens {
  access: string;
  refresh: string;
  expiresAt: number; // ms since the epoch
  refreshAt: number; // most of the way to expiresAt
  user: User;
}
interface TokenAnswer {
  access_token: string;
  refresh_token: string;
  expires_in: number;
  user: User;
}

const STORAGE_KEY = 'kalamdb.session';

/** POSTs JSON to the server; the answer's body, or a KalamError of its error. */
export async function post(path: string, body: unknown, token?: string): Promise<Record<string, unknown>> {
  const headers: Record<string, string> = { 'Content-Type': 'application/json' };
  if (token) headers['Authorization'] = `Bearer ${token}`;
  let response: Response;
  try {
    response = await fetch(path, { method: 'POST', headers, body: JSON.stringify(body) });
  } catch (error) {
    throw new KalamError('NETWORK_ERROR', `The server could not be reached (${(error as Error).message})`);
  }
  const answer = (await response.json().catch(() => ({}))) as Record<string, unknown>;
  const error = answer['error'] as { code?: string; message?: string } | undefined;
  if (!response.ok || error) {
    throw new KalamError(error?.code ?? 'INTERNAL_ERROR', error?.message ?? `HTTP ${response.status}`, { httpStatus: response.status });
  }
  return answer;
}

export class Session {
  readonly client: KalamDBClient;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private refreshing: Promise<void> | null = null;

  private constructor(private tokens: Tokens, private readonly ended: (reason?: string) => void) {
    this.client = createClient({
      url: location.origin,
      authProvider: async () => Auth.jwt(await this.accessToken()),
    });
    this.keep(tokens);
  }

  get user(): User {
    return this.tokens.user;
  }

  isAdmin(): boolean {
    return this.user.role === 'dba' || this.user.role === 'system';
  }

  /** service and above manage namespaces, read jobs and storages. */
  isService(): boolean {
    return this.user.role !== 'user';
  }

  static async signIn(username: string, password: string, ended: (reason?: string) => void): Promise<Session> {
    const answer = (await post('/v1/api/auth/login', { username, password })) as unknown as TokenAnswer;
    return new Session(tokensOf(answer), ended);
  }

  /** The session this tab kept, if its refresh token has not expired. */
  static restore(ended: (reason?: string) => void): Session | null {
    try {
      const text = sessionStorage.getItem(STORAGE_KEY);
      if (!text) return null;
      const tokens = JSON.parse(text) as Tokens;
      if (!tokens.access || !tokens.refresh || !tokens.user) return null;
      return new Session(tokens, ended);
    } catch {
      return null;
    }
  }

  /** The access token, refreshed first when it is about to expire. */
  async accessToken(): Promise<string> {
    if (Date.now() >= this.tokens.refreshAt) await this.refresh();
    return this.tokens.access;
  }

  /** Runs SQL; resolves to the server's answer, rejects with a KalamError. */
  async sql(sql: string, params?: SqlParam[], retried = false): Promise<QueryResponse> {
    try {
      return await this.client.query(sql, params);
    } catch (error) {
      if (!retried && error instanceof KalamError && (error.code === 'TOKEN_EXPIRED' || error.code === 'INVALID_TOKEN')) {
        await this.refresh();
        return this.sql(sql, params, true);
      }
      throw error;
    }
  }

  /** GET with the session's token: for /metrics and /v1/api/auth/me. */
  async get(path: string): Promise<Response> {
    return fetch(path, { headers: { Authorization: `Bearer ${await this.accessToken()}` } });
  }

  /** POST JSON with the session's token: for the topic routes. */
  async post(path: string, body: unknown): Promise<Record<string, unknown>> {
    return post(path, body, await this.accessToken());
  }

  async signOut(): Promise<void> {
    this.forget();
    await this.client.shutdown().catch(() => undefined);
  }

  private refresh(): Promise<void> {
    this.refreshing ??= (async () => {
      try {
        const answer = (await post('/v1/api/auth/refresh', { refresh_token: this.tokens.refresh })) as unknown as TokenAnswer;
        this.keep(tokensOf(answer));
      } catch (error) {
        if (error instanceof KalamError && error.code !== 'NETWORK_ERROR') {
          this.forget();
          this.ended('Your session ended; please sign in again.');
        }
        throw error;
      } finally {
        this.refreshing = null;
      }
    })();
    return this.refreshing;
  }

  private keep(tokens: Tokens): void {
    this.tokens = tokens;
    sessionStorage.setItem(STORAGE_KEY, JSON.stringify(tokens));
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.refresh().catch(() => undefined), Math.max(500, tokens.refreshAt - Date.now()));
  }

  private forget(): void {
    clearTimeout(this.timer);
    sessionStorage.removeItem(STORAGE_KEY);
  }
}

function tokensOf(answer: TokenAnswer): Tokens {
  const lifeMs = Number(answer.expires_in) * 1000;
  const now = Date.now();
  return {
    access: answer.access_token,
    refresh: answer.refresh_token,
    expiresAt: now + lifeMs,
    refreshAt: now + lifeMs - Math.min(60_000, lifeMs * 0.2),
    user: answer.user,
  };
}
