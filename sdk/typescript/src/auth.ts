// Credentials an app hands the client through its `authProvider`.

export interface BasicAuthCredentials {
  type: 'basic';
  user: string;
  password: string;
}

export interface JwtAuthCredentials {
  type: 'jwt';
  token: string;
}

export interface NoAuthCredentials {
  type: 'none';
}

export type AuthCredentials = BasicAuthCredentials | JwtAuthCredentials | NoAuthCredentials;

/**
 * Asked for credentials before the first request, and again whenever the server refuses
 * the ones it gave (an expired or revoked token) and they can't be refreshed.
 */
export type AuthProvider = () => Promise<AuthCredentials> | AuthCredentials;

export const Auth = {
  /** A username and password: the client trades them for tokens (`login()`). */
  basic(user: string, password: string): BasicAuthCredentials {
    return { type: 'basic', user, password };
  },
  /** An access token obtained elsewhere. */
  jwt(token: string): JwtAuthCredentials {
    return { type: 'jwt', token };
  },
  /** No credentials: only the health checks answer. */
  none(): NoAuthCredentials {
    return { type: 'none' };
  },
} as const;
