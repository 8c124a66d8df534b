// Auth strategies: small objects the client applies to each outgoing attempt (fresh per attempt where needed).

import type { HttpClient } from './client.js';

/** The attempt being prepared; auth sets query params and headers on it. */
export interface OutgoingRequest {
  readonly method: string;
  /** The full URL; auth may set search params on it. */
  readonly url: URL;
  /** Lower-case header names. */
  readonly headers: Record<string, string>;
}

export interface AuthContext {
  /** The client, for auth that must call the API itself (a token endpoint). Such calls pass `auth: false`. */
  readonly http: HttpClient;
  /** Register a value discovered at run time (token, signature) so it is redacted everywhere. */
  addSecret(value: string): void;
}

export interface Auth {
  /** Query parameter and header names this auth writes; their values are redacted from logs and errors. */
  readonly secretNames: readonly string[];
  apply(request: OutgoingRequest, ctx: AuthContext): void | Promise<void>;
  /**
   * Re-authenticate after a `refresh_auth` outcome. The client calls it at most once per request;
   * implementations share one refresh between concurrent callers.
   */
  refresh?(ctx: AuthContext): Promise<void>;
}

type ValueSource = string | (() => string | Promise<string>);

async function resolve(source: ValueSource): Promise<string> {
  return typeof source === 'function' ? await source() : source;
}

/**
 * Query-parameter auth computed per attempt, e.g. ClassMarker's `api_key`, `signature`, `timestamp`
 * (a signature is only valid for minutes, so it must be recomputed for every retry).
 */
export function queryAuth(params: () => Record<string, string> | Promise<Record<string, string>>, secretNames: readonly string[]): Auth {
  return {
    secretNames,
    async apply(request, ctx) {
      const values = await params();
      for (const [name, value] of Object.entries(values)) {
        if (secretNames.some((s) => s.toLowerCase() === name.toLowerCase())) ctx.addSecret(value);
        request.url.searchParams.set(name, value);
      }
    },
  };
}

/** Header auth, static or computed per attempt, e.g. CBTHost's `cbt-pass-code`. All values are treated as secret. */
export function headerAuth(headers: Record<string, ValueSource> | (() => Record<string, string> | Promise<Record<string, string>>)): Auth {
  const names = typeof headers === 'function' ? [] : Object.keys(headers);
  return {
    secretNames: names,
    async apply(request, ctx) {
      const entries: Array<[string, string]> =
        typeof headers === 'function'
          ? Object.entries(await headers())
          : await Promise.all(Object.entries(headers).map(async ([k, v]) => [k, await resolve(v)] as [string, string]));
      for (const [name, value] of entries) {
        ctx.addSecret(value);
        request.headers[name.toLowerCase()] = value;
      }
    },
  };
}

export interface TokenAuthOptions {
  /** Obtain a token, e.g. Testpress `POST /api/v2.5/auth-token/`; called once, then again only on refresh. */
  fetchToken: (ctx: AuthContext) => Promise<string>;
  /** Authorization scheme word: 'Bearer' (default), 'JWT' (Testpress), 'Token'. */
  scheme?: string;
  /** Header to write; default 'authorization'. */
  header?: string;
}

/** A token fetched once, cached, sent as `<scheme> <token>`, and re-fetched on a `refresh_auth` outcome. */
export function tokenAuth(options: TokenAuthOptions): Auth {
  const header = (options.header ?? 'authorization').toLowerCase();
  const scheme = options.scheme ?? 'Bearer';
  let token: Promise<string> | null = null;
  let refreshing: Promise<void> | null = null;

  const fetchOnce = (ctx: AuthContext): Promise<string> => {
    const pending = options.fetchToken(ctx).then((t) => {
      if (typeof t !== 'string' || t === '') throw new Error('the token endpoint returned no token');
      ctx.addSecret(t);
      return t;
    });
    // A failed fetch must not be cached: the next request tries again.
    pending.catch(() => {
      if (token === pending) token = null;
    });
    return pending;
  };

  return {
    secretNames: [header],
    async apply(request, ctx) {
      if (refreshing) await refreshing;
      token ??= fetchOnce(ctx);
      request.headers[header] = `${scheme} ${await token}`;
    },
    refresh(ctx) {
      // Concurrent 401s share one re-authentication.
      refreshing ??= (async () => {
        token = fetchOnce(ctx);
        await token;
      })().finally(() => {
        refreshing = null;
      });
      return refreshing;
    },
  };
}

/** Static bearer/scheme token from config (no fetch, nothing to refresh). */
export function staticTokenAuth(token: ValueSource, scheme = 'Bearer', header = 'authorization'): Auth {
  return headerAuth({ [header]: async () => `${scheme} ${await resolve(token)}` });
}
