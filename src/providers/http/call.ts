/**
 * One provider API call, the skeleton every HTTP adapter shares: send (./request.ts), read the
 * body as JSON (or keep its text for the error mapping to quote), log the request, map a non-2xx
 * answer through the adapter's error mapping (./errorTable.ts), repeat only a short 429
 * (./rateLimit.ts), and hand a 2xx body to the adapter's decoder. What differs per provider is
 * its arguments: the URL and auth headers, the error mapping, and how a success body is read.
 */
import type { Logger } from 'pino';
import type { z } from 'zod';
import type { CloudError } from '../sdk/errors.js';
import { retryShortRateLimits } from './rateLimit.js';
import { parseJsonOr, sendRequest, unexpectedResponse } from './request.js';

export interface ProviderCall<T> {
  /** Names the provider in log lines, e.g. "lambda". */
  provider: string;
  /** Prefix of every error message, e.g. "lambda GET /api/v1/instances". */
  what: string;
  method: string;
  url: string | URL;
  /** Auth (and any other provider) headers. */
  headers: Record<string, string>;
  body?: unknown;
  timeoutMs: number;
  /** The secret the request carries, redacted from errors and response text. */
  secret?: string;
  /** What identifies the request in log lines, e.g. `{ method, path }` (never variables or bodies). */
  logFields: Record<string, unknown>;
  /** The path or operation in the rate-limit log line. */
  logPath: string;
  logger?: Logger | undefined;
  rateLimit: {
    /** How many times a short 429 is repeated in place (0 = never). */
    retries: number;
    maxWaitMs: number;
    /** The wait when the mapped error names none. */
    fallbackWaitMs: number;
    sleep?: ((ms: number) => Promise<void>) | undefined;
  };
  /** The typed error for a non-2xx answer. `body` is the parsed JSON, its text, or undefined when empty. */
  errorFrom: (status: number, body: unknown, retryAfter: string | null, attempt: number) => CloudError;
  /** The value of a 2xx answer (`text`: the body as read); throws a CloudError when the body says the call failed. */
  decode: (body: unknown, response: Response, text: string) => T;
}

/** Sends the call (repeating it only on a short 429) and returns what `decode` makes of the answer. */
export async function callProviderApi<T>(call: ProviderCall<T>): Promise<T> {
  const policy = { ...call.rateLimit, logger: call.logger, provider: call.provider, path: call.logPath };
  return retryShortRateLimits(policy, async (attempt) => {
    const { response, text, ms } = await sendRequest({
      method: call.method,
      url: call.url,
      headers: call.headers,
      body: call.body,
      timeoutMs: call.timeoutMs,
      what: call.what,
      ...(call.secret !== undefined ? { secret: call.secret } : {}),
    });
    // A non-JSON body is kept as text: error mappings quote it (and Vast reads its 429 threshold from it).
    const body = text.trim() ? parseJsonOr(text, text) : undefined;
    call.logger?.debug({ ...call.logFields, status: response.status, ms, attempt }, `${call.provider} api request`);
    if (!response.ok) return { ok: false, status: response.status, error: call.errorFrom(response.status, body, response.headers.get('retry-after'), attempt) };
    return { ok: true, value: call.decode(body, response, text) };
  });
}

/** A decoder validating the whole body with `schema`. */
export function bodyOf<S extends z.ZodTypeAny>(schema: S, what: string): (body: unknown) => z.output<S> {
  return (body) => {
    const r = schema.safeParse(body);
    if (!r.success) throw unexpectedResponse(what, r.error);
    return r.data as z.output<S>;
  };
}
