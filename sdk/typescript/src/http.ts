// One JSON request to the server: the body written with exact integers, the answer read
// with them (json.ts), and every failure turned into a KalamError.

import { KalamError } from './errors.js';
import { type JsonValue, parseJson, stringifyJson } from './json.js';

/** POSTs `body`; resolves to the parsed answer of a 2xx, rejects with the server's error
 *  (or `ABORTED` once `signal` aborts). */
export async function postJson(
  url: string,
  body: unknown,
  authorization?: string,
  signal?: AbortSignal,
): Promise<Record<string, JsonValue>> {
  return request(url, 'POST', stringifyJson(body), authorization, signal);
}

export async function getJson(url: string, authorization?: string): Promise<Record<string, JsonValue>> {
  return request(url, 'GET', undefined, authorization);
}

async function request(
  url: string,
  method: string,
  body: string | undefined,
  authorization: string | undefined,
  signal?: AbortSignal,
): Promise<Record<string, JsonValue>> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (authorization) headers['Authorization'] = authorization;
  let response: Response;
  let text: string;
  try {
    response = await fetch(url, { method, headers, body, signal });
    text = await response.text();
  } catch (error) {
    if (signal?.aborted) throw new KalamError('ABORTED', `${method} ${url}: aborted`, { cause: error });
    throw new KalamError('NETWORK_ERROR', `${method} ${url}: ${(error as Error).message}`, { cause: error });
  }
  let parsed: Record<string, JsonValue>;
  try {
    parsed = parseJson(text) as Record<string, JsonValue>;
  } catch {
    throw new KalamError('INVALID_RESPONSE', `${method} ${url}: HTTP ${response.status}, not JSON`, {
      httpStatus: response.status,
    });
  }
  const error = parsed?.['error'] as { code?: string; message?: string; statement_index?: number } | undefined;
  if (!response.ok || parsed?.['status'] === 'error' || error) {
    throw new KalamError(error?.code ?? 'INTERNAL_ERROR', error?.message ?? `HTTP ${response.status}`, {
      httpStatus: response.status,
      statementIndex: typeof error?.statement_index === 'number' ? error.statement_index : undefined,
      results: Array.isArray(parsed?.['results']) ? (parsed['results'] as unknown[]) : undefined,
    });
  }
  return parsed;
}
