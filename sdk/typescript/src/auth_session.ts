// Who the client is to the server: the credentials the app's authProvider gives, and the
// tokens a login trades Basic credentials for, refreshed before they expire.
//
// One refresh (or login) at a time: the server rotates refresh tokens and revokes every
// token of a user when a rotated one is presented twice, so two concurrent refreshes with
// one token would sign the user out.

import type { AuthCredentials, AuthProvider } from './auth.js';
import { KalamError } from './errors.js';
import { postJson } from './http.js';
import type { LoginResponse } from './types.js';

interface Tokens {
  access: string;
  refresh: string;
  /** When to refresh: most of the access token's life, and never closer than a few
   *  seconds to its end. */
  refreshAtMs: number;
}

export class AuthSession {
  private credentials: AuthCredentials | null = null;
  private tokens: Tokens | null = null;
  private pending: Promise<void> | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private closed = false;

  constructor(
    private readonly baseUrl: string,
    private readonly provider: AuthProvider,
    private readonly warn: (message: string) => void,
  ) {}

  authType(): 'basic' | 'jwt' | null {
    const type = this.credentials?.type;
    return type === 'basic' || type === 'jwt' ? type : null;
  }

  /** The Authorization header value of the next request (none for Auth.none()). */
  async authorization(): Promise<string | undefined> {
    const token = await this.accessToken();
    return token ? `Bearer ${token}` : undefined;
  }

  /** The access token for the next request or socket, logging in or refreshing first
   *  when needed; null for Auth.none(). */
  async accessToken(): Promise<string | null> {
    this.closed = false;
    for (let round = 0; round < 3; round++) {
      if (this.pending) {
        await this.pending;
        continue;
      }
      const credentials = this.credentials ?? (await this.resolve());
      if (credentials.type === 'none') return null;
      if (credentials.type === 'jwt') {
        if (!expiredJwt(credentials.token)) return credentials.token;
        this.credentials = null;  // ask the provider for a fresh one
        if (round > 0) return credentials.token;
        continue;
      }
      if (this.tokens && Date.now() < this.tokens.refreshAtMs) return this.tokens.access;
      await this.single(() => (this.tokens ? this.refreshOrLogin() : this.loginWith(credentials)));
    }
    if (this.tokens) return this.tokens.access;
    throw new KalamError('INVALID_CREDENTIALS', 'no credentials could be obtained');
  }

  /** The server refused the last token: refresh it, or ask the provider again. */
  async refused(): Promise<void> {
    if (this.pending) return this.pending;
    const credentials = this.credentials;
    if (credentials?.type === 'basic' && this.tokens) {
      return this.single(() => this.refreshOrLogin());
    }
    this.credentials = null;
    this.tokens = null;
  }

  /** POST /v1/api/auth/login with the provider's Basic credentials; keeps the tokens. */
  async login(): Promise<LoginResponse> {
    const credentials = this.credentials ?? (await this.resolve());
    if (credentials.type !== 'basic') {
      throw new KalamError('INVALID_INPUT', 'login() needs Basic credentials: have the authProvider return Auth.basic(user, password)');
    }
    let answer!: LoginResponse;
    await this.single(async () => { answer = await this.loginWith(credentials); });
    return answer;
  }

  /** POST /v1/api/auth/refresh with the given refresh token (default: the one kept). */
  async refreshToken(refreshToken?: string): Promise<LoginResponse> {
    const token = refreshToken ?? this.tokens?.refresh;
    if (!token) throw new KalamError('INVALID_INPUT', 'no refresh token: call login() first');
    let answer!: LoginResponse;
    await this.single(async () => {
      answer = (await postJson(`${this.baseUrl}/v1/api/auth/refresh`, { refresh_token: token })) as unknown as LoginResponse;
      this.keep(answer);
    });
    return answer;
  }

  /** Forgets tokens and stops the refresh timer. */
  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.tokens = null;
    this.credentials = null;
  }

  private async resolve(): Promise<AuthCredentials> {
    const credentials = await this.provider();
    if (!credentials || !['basic', 'jwt', 'none'].includes(credentials.type)) {
      throw new KalamError('INVALID_INPUT', 'authProvider must return Auth.basic(), Auth.jwt() or Auth.none()');
    }
    this.credentials = credentials;
    return credentials;
  }

  private single(work: () => Promise<unknown>): Promise<void> {
    if (!this.pending) {
      this.pending = work().then(
        () => { this.pending = null; },
        (error) => { this.pending = null; throw error; },
      );
    }
    return this.pending;
  }

  private async loginWith(credentials: { user: string; password: string }): Promise<LoginResponse> {
    const answer = (await postJson(`${this.baseUrl}/v1/api/auth/login`, {
      username: credentials.user,
      password: credentials.password,
    })) as unknown as LoginResponse;
    this.keep(answer);
    return answer;
  }

  private async refreshOrLogin(): Promise<void> {
    try {
      await this.refreshTokenUnlocked();
    } catch (error) {
      if (error instanceof KalamError && error.code === 'NETWORK_ERROR') throw error;
      // The refresh token was refused (expired, revoked, or the server lost its families):
      // sign in again with what the provider gives now.
      this.warn(`token refresh refused (${(error as Error).message}); signing in again`);
      this.tokens = null;
      const credentials = await this.resolve();
      if (credentials.type === 'basic') await this.loginWith(credentials);
    }
  }

  private async refreshTokenUnlocked(): Promise<void> {
    const answer = (await postJson(`${this.baseUrl}/v1/api/auth/refresh`, {
      refresh_token: this.tokens!.refresh,
    })) as unknown as LoginResponse;
    this.keep(answer);
  }

  private keep(answer: LoginResponse): void {
    const lifeMs = Math.max(1, Number(answer.expires_in)) * 1000;
    const margin = Math.max(Math.min(lifeMs * 0.2, 60_000), Math.min(2_000, lifeMs / 2));
    this.tokens = {
      access: answer.access_token,
      refresh: answer.refresh_token,
      refreshAtMs: Date.now() + lifeMs - margin,
    };
    if (this.credentials?.type !== 'basic') {
      // Tokens obtained through refreshToken(refresh) by an app that gave a JWT: use them.
      this.credentials = { type: 'jwt', token: answer.access_token };
      this.tokens = null;
      return;
    }
    this.schedule(lifeMs - margin);
  }

  /** Refreshes before expiry even while the client is idle, so a socket that reopens
   *  later has a token that still works. */
  private schedule(inMs: number): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      if (this.closed || !this.tokens) return;
      this.single(() => this.refreshOrLogin()).catch((error) => {
        this.warn(`token refresh failed: ${(error as Error).message}`);
        this.schedule(5_000);
      });
    }, Math.max(0, inMs));
    (this.timer as { unref?: () => void }).unref?.();
  }
}

/** Whether a JWT's `exp` has passed (false when it can't be read). */
function expiredJwt(token: string): boolean {
  const payload = token.split('.')[1];
  if (!payload) return false;
  try {
    const json = atob(payload.replace(/-/g, '+').replace(/_/g, '/'));
    const exp = (JSON.parse(json) as { exp?: number }).exp;
    return typeof exp === 'number' && exp * 1000 <= Date.now();
  } catch {
    return false;
  }
}
