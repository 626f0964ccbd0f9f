/**
 * One Shadeform API call: `X-API-KEY`, timeout, zod-validated body (Shadeform answers bare objects,
 * no envelope; delete/update/restart answer an empty 200), and every failure mapped to the
 * contract's typed errors.
 *
 * Retries: as the Lambda adapter. Only 429 is repeated here, boundedly, honouring Retry-After
 * (Shadeform documents no rate limits, so without the header the wait is 1 s); everything else
 * surfaces as a typed error for Temporal to retry durably.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { z } from 'zod';
import {
  AuthenticationError,
  CloudError,
  InstanceNotFoundError,
  InsufficientCapacityError,
  InvalidRequestError,
  OutOfQuotaError,
  ResourceNotFoundError,
  ServiceUnavailableError,
} from '../sdk/errors.js';
import { parseRetryAfter } from '../local/http.js';
import { SHADEFORM_API_KEY_HEADER, SHADEFORM_ERROR_CODES, ShadeformErrorBodySchema } from './api.js';

export type ShadeformOperation = 'create' | 'instance' | 'ssh-key' | 'catalog';

/** Shadeform documents no rate limits: a 429 without Retry-After waits this long. */
export const SHADEFORM_DEFAULT_RATE_LIMIT_WAIT_MS = 1_000;

export interface ShadeformHttpTarget {
  baseUrl: string;
  apiKey: string;
  timeoutMs: number;
  rateLimitRetries: number;
  rateLimitMaxWaitMs: number;
  logger?: Logger;
  sleep?: (ms: number) => Promise<void>;
}

export interface ShadeformRequestOptions {
  body?: unknown;
  query?: [string, string][];
  op: ShadeformOperation;
  rateLimitRetries?: number;
}

function bodyText(body: unknown): string {
  return typeof body === 'string' ? body.replace(/\s+/g, ' ').trim().slice(0, 200) : '';
}

/** Maps a Shadeform error response to a typed cloud error. */
export function shadeformErrorFromResponse(status: number, body: unknown, retryAfter: string | null, what: string, op: ShadeformOperation): CloudError {
  const parsed = typeof body === 'object' && body !== null ? ShadeformErrorBodySchema.safeParse(body) : undefined;
  const code = parsed?.success ? parsed.data.error_code : '';
  const text = (parsed?.success ? parsed.data.error : '') || bodyText(body) || `HTTP ${status}`;
  const message = `${what}: ${text} (HTTP ${status}${code ? ` ${code}` : ''})`;
  const headerWait = parseRetryAfter(retryAfter);

  if (status === 401 || status === 403) return new AuthenticationError(message);
  if (status === 429) return new ServiceUnavailableError(message, { retryAfterMs: headerWait ?? SHADEFORM_DEFAULT_RATE_LIMIT_WAIT_MS });
  if (status === 408 || status >= 500) return new ServiceUnavailableError(message, headerWait !== undefined ? { retryAfterMs: headerWait } : undefined);
  if (code === SHADEFORM_ERROR_CODES.outOfStock) {
    // Brev also gets OUT_OF_STOCK for a region that does not offer the type: this (type, region) will not work.
    return new InsufficientCapacityError(message, { scope: 'zone' });
  }
  if (/QUOTA|LIMIT_EXCEEDED/i.test(code)) return new OutOfQuotaError(message, { scope: 'provider' });
  if (status === 404) {
    if (op === 'instance') return new InstanceNotFoundError(message);
    if (op === 'create') return new InvalidRequestError(message);
    return new ResourceNotFoundError(message);
  }
  return new InvalidRequestError(message);
}

function scrub(s: string, secret: string): string {
  return secret ? s.split(secret).join('[redacted]') : s;
}

/** Sends one request (repeating it only on a short 429). Returns the parsed body, or undefined for an empty one. */
export async function callShadeform<T extends z.ZodTypeAny>(
  target: ShadeformHttpTarget,
  method: 'GET' | 'POST',
  path: string,
  schema: T | undefined,
  opts: ShadeformRequestOptions,
): Promise<z.output<T>> {
  const what = `shadeform ${method} ${path}`;
  const u = new URL(`${target.baseUrl}${path}`);
  for (const [k, v] of opts.query ?? []) u.searchParams.append(k, v);
  const retries = opts.rateLimitRetries ?? target.rateLimitRetries;
  const wait = target.sleep ?? ((ms: number) => sleep(ms));
  for (let attempt = 0; ; attempt++) {
    const started = Date.now();
    let res: Response;
    try {
      res = await fetch(u, {
        method,
        headers: {
          [SHADEFORM_API_KEY_HEADER]: target.apiKey,
          accept: 'application/json',
          ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
        signal: AbortSignal.timeout(target.timeoutMs),
      });
    } catch (e) {
      const err = e as Error & { cause?: { code?: string; message?: string } };
      const reason = err.name === 'TimeoutError' ? `timed out after ${target.timeoutMs} ms` : `${err.message}: ${err.cause?.code ?? err.cause?.message ?? 'network error'}`;
      throw new ServiceUnavailableError(scrub(`${what}: ${reason}`, target.apiKey));
    }
    let text = '';
    try {
      // Defensive: a proxy echoing request headers must not carry the key into errors, logs or history.
      text = scrub(await res.text(), target.apiKey);
    } catch (e) {
      throw new ServiceUnavailableError(`${what}: reading the response failed: ${(e as Error).message}`);
    }
    let body: unknown = text;
    if (text.trim()) {
      try {
        body = JSON.parse(text);
      } catch {
        body = text;
      }
    } else {
      body = undefined;
    }
    target.logger?.debug({ method, path, status: res.status, ms: Date.now() - started, attempt }, 'shadeform api request');
    if (res.ok) {
      if (!schema) return undefined as z.output<T>;
      const r = schema.safeParse(body);
      if (!r.success) {
        throw new ServiceUnavailableError(
          `${what}: unexpected response: ${r.error.issues
            .slice(0, 5)
            .map((i) => `${i.path.join('.')}: ${i.message}`)
            .join('; ')}`,
        );
      }
      return r.data as z.output<T>;
    }
    const err = shadeformErrorFromResponse(res.status, body, res.headers.get('retry-after'), what, opts.op);
    if (res.status === 429 && attempt < retries && (err.retryAfterMs ?? 0) <= target.rateLimitMaxWaitMs) {
      target.logger?.warn({ path, waitMs: err.retryAfterMs, attempt: attempt + 1, of: retries }, 'shadeform rate limit: waiting before retrying');
      await wait(err.retryAfterMs ?? SHADEFORM_DEFAULT_RATE_LIMIT_WAIT_MS);
      continue;
    }
    throw err;
  }
}
