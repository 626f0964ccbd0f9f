/**
 * One Shadeform API call: `X-API-KEY`, timeout, zod-validated body (Shadeform answers bare objects,
 * no envelope; delete/update/restart answer an empty 200), and every failure mapped to the
 * contract's typed errors.
 *
 * Retries: as the Lambda adapter (../http/rateLimit.ts). Only 429 is repeated here, boundedly,
 * honouring Retry-After (Shadeform documents no rate limits, so without the header the wait is
 * 1 s); everything else surfaces as a typed error for Temporal to retry durably.
 */
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
import { retryShortRateLimits } from '../http/rateLimit.js';
import { type ApiKeyHttpTarget, bodySnippet, parseJsonOr, parseRetryAfter, sendRequest, serviceUnavailable, unexpectedResponse } from '../http/request.js';
import { SHADEFORM_API_KEY_HEADER, SHADEFORM_ERROR_CODES, ShadeformErrorBodySchema } from './api.js';

export type ShadeformOperation = 'create' | 'instance' | 'ssh-key' | 'catalog';

/** Shadeform documents no rate limits: a 429 without Retry-After waits this long. */
export const SHADEFORM_DEFAULT_RATE_LIMIT_WAIT_MS = 1_000;

/** The shared API-key target (../http/request.ts). */
export type ShadeformHttpTarget = ApiKeyHttpTarget;

export interface ShadeformRequestOptions {
  body?: unknown;
  query?: [string, string][];
  op: ShadeformOperation;
  rateLimitRetries?: number;
}

/** Maps a Shadeform error response to a typed cloud error. */
export function shadeformErrorFromResponse(status: number, body: unknown, retryAfter: string | null, what: string, op: ShadeformOperation): CloudError {
  const parsed = typeof body === 'object' && body !== null ? ShadeformErrorBodySchema.safeParse(body) : undefined;
  const code = parsed?.success ? parsed.data.error_code : '';
  const text = (parsed?.success ? parsed.data.error : '') || bodySnippet(body) || `HTTP ${status}`;
  const message = `${what}: ${text} (HTTP ${status}${code ? ` ${code}` : ''})`;
  const headerWait = parseRetryAfter(retryAfter);

  if (status === 401 || status === 403) return new AuthenticationError(message);
  if (status === 429) return new ServiceUnavailableError(message, { retryAfterMs: headerWait ?? SHADEFORM_DEFAULT_RATE_LIMIT_WAIT_MS });
  if (status === 408 || status >= 500) return serviceUnavailable(message, headerWait);
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
  const policy = {
    retries: opts.rateLimitRetries ?? target.rateLimitRetries,
    maxWaitMs: target.rateLimitMaxWaitMs,
    fallbackWaitMs: SHADEFORM_DEFAULT_RATE_LIMIT_WAIT_MS,
    sleep: target.sleep,
    logger: target.logger,
    provider: 'shadeform',
    path,
  };
  return retryShortRateLimits(policy, async (attempt) => {
    const { response: res, text, ms } = await sendRequest({
      method,
      url: u,
      headers: { [SHADEFORM_API_KEY_HEADER]: target.apiKey },
      body: opts.body,
      timeoutMs: target.timeoutMs,
      what,
      secret: target.apiKey,
    });
    // delete/update/restart answer an empty 200; a non-JSON body is kept as text for the error mapping to quote.
    const body = text.trim() ? parseJsonOr(text, text) : undefined;
    target.logger?.debug({ method, path, status: res.status, ms, attempt }, 'shadeform api request');
    if (!res.ok) return { ok: false, status: res.status, error: shadeformErrorFromResponse(res.status, body, res.headers.get('retry-after'), what, opts.op) };
    if (!schema) return { ok: true, value: undefined as z.output<T> };
    const r = schema.safeParse(body);
    if (!r.success) throw unexpectedResponse(what, r.error);
    return { ok: true, value: r.data as z.output<T> };
  });
}
