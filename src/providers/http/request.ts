/**
 * The transport half of one provider API call, the same for every HTTP adapter: send with a
 * timeout, read the body, and turn what never became an HTTP answer (network error, timeout, a
 * body that cannot be read) into ServiceUnavailableError. What an HTTP error *means* (which
 * status or native code is which typed error) stays in each adapter's own mapping.
 */
import type { Logger } from 'pino';
import type { z } from 'zod';
import { ServiceUnavailableError } from '../sdk/errors.js';

// Part of this module's surface: every adapter reads Retry-After through here.
export { parseRetryAfter } from './retryAfter.js';

/** Where an API-key adapter sends its calls, and how it handles 429s (see ./rateLimit.ts). */
export interface ApiKeyHttpTarget {
  baseUrl: string;
  apiKey: string;
  timeoutMs: number;
  /** How many times a 429 is retried in place (0 = never). */
  rateLimitRetries: number;
  /** A 429 asking for a longer wait than this is not retried in place. */
  rateLimitMaxWaitMs: number;
  logger?: Logger;
  /** Test seam. */
  sleep?: (ms: number) => Promise<void>;
}

export interface SendRequestArgs {
  method: string;
  url: string | URL;
  /** The adapter's auth header(s); `accept` and, with a body, `content-type` are added here. */
  headers: Record<string, string>;
  /** Sent as JSON when defined. */
  body?: unknown;
  timeoutMs: number;
  /** Prefix of every error message, e.g. "lambda GET /api/v1/instances". */
  what: string;
  /**
   * The credential's secret, when the request carries one: it is redacted from error messages and
   * from the response text (a proxy echoing request headers must not carry it into errors, logs or
   * workflow history), and the native error is then not attached as `cause`, since that would
   * bypass the redaction.
   */
  secret?: string;
}

export interface SentRequest {
  response: Response;
  /** The response body as text (redacted when a secret was given). */
  text: string;
  /** Milliseconds from sending to having read the body, for request logs. */
  ms: number;
}

/** Replaces every occurrence of `secret` in `s`. */
export function redact(s: string, secret: string | undefined): string {
  return secret ? s.split(secret).join('[redacted]') : s;
}

/** Sends one request and reads its body. Throws ServiceUnavailableError when no HTTP answer was read. */
export async function sendRequest(args: SendRequestArgs): Promise<SentRequest> {
  const { what, secret } = args;
  const started = Date.now();
  let response: Response;
  try {
    response = await fetch(args.url, {
      method: args.method,
      headers: {
        ...args.headers,
        accept: 'application/json',
        ...(args.body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(args.body !== undefined ? { body: JSON.stringify(args.body) } : {}),
      signal: AbortSignal.timeout(args.timeoutMs),
    });
  } catch (e) {
    const err = e as Error & { cause?: { code?: string; message?: string } };
    const reason = err.name === 'TimeoutError' ? `timed out after ${args.timeoutMs} ms` : `${err.message}: ${err.cause?.code ?? err.cause?.message ?? 'network error'}`;
    throw new ServiceUnavailableError(redact(`${what}: ${reason}`, secret), secret ? undefined : { cause: e });
  }
  let text: string;
  try {
    text = redact(await response.text(), secret);
  } catch (e) {
    throw new ServiceUnavailableError(redact(`${what}: reading the response failed: ${(e as Error).message}`, secret), secret ? undefined : { cause: e });
  }
  return { response, text, ms: Date.now() - started };
}

/**
 * The body as JSON, or `fallback` when it is not JSON (an empty body is not). Adapters differ on
 * the fallback: the raw text when their error mapping quotes non-JSON bodies, else undefined.
 */
export function parseJsonOr(text: string, fallback: unknown): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return fallback;
  }
}

/** A non-JSON error body (an HTML error page, a proxy's text) shortened for an error message. */
export function bodySnippet(body: unknown): string {
  return typeof body === 'string' ? body.replace(/\s+/g, ' ').trim().slice(0, 200) : '';
}

/** A retryable error carrying the provider's requested wait only when it named one. */
export function serviceUnavailable(message: string, retryAfterMs: number | undefined): ServiceUnavailableError {
  return new ServiceUnavailableError(message, retryAfterMs !== undefined ? { retryAfterMs } : undefined);
}

/**
 * A 2xx whose body does not have the documented shape. A provider answering with the wrong shape
 * is a fault on its side (or an API change), not a bad request of ours: retryable, not a 4xx.
 */
export function unexpectedResponse(what: string, error: z.ZodError): ServiceUnavailableError {
  return new ServiceUnavailableError(
    `${what}: unexpected response: ${error.issues
      .slice(0, 5)
      .map((i) => `${i.path.join('.')}: ${i.message}`)
      .join('; ')}`,
  );
}
