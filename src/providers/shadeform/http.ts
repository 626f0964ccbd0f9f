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
import { bodyOf, callProviderApi } from '../http/call.js';
import { type ErrorTable, errorFromTable, STANDARD_STATUS_RULES } from '../http/errorTable.js';
import { type ApiKeyHttpTarget, bodySnippet } from '../http/request.js';
import type { CloudError } from '../sdk/errors.js';
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

/** Shadeform's errors: statuses first, then its `error_code`. */
export const SHADEFORM_ERRORS: ErrorTable<ShadeformOperation> = {
  rules: [
    ...STANDARD_STATUS_RULES,
    // Brev also gets OUT_OF_STOCK for a region that does not offer the type: this (type, region) will not work.
    { code: SHADEFORM_ERROR_CODES.outOfStock, then: 'capacity-zone' },
    { code: /QUOTA|LIMIT_EXCEEDED/i, then: 'quota-provider' },
    { status: 404, then: 'not-found' },
  ],
  notFound: { instance: 'instance', create: 'invalid', 'ssh-key': 'resource', catalog: 'resource' },
  rateLimitWaitMs: () => SHADEFORM_DEFAULT_RATE_LIMIT_WAIT_MS,
};

function shadeformNativeError(body: unknown): { code: string; text: string } {
  const parsed = typeof body === 'object' && body !== null ? ShadeformErrorBodySchema.safeParse(body) : undefined;
  return parsed?.success ? { code: parsed.data.error_code, text: parsed.data.error } : { code: '', text: bodySnippet(body) };
}

/** Maps a Shadeform error response to a typed cloud error (see {@link SHADEFORM_ERRORS}). */
export function shadeformErrorFromResponse(status: number, body: unknown, retryAfter: string | null, what: string, op: ShadeformOperation): CloudError {
  return errorFromTable(SHADEFORM_ERRORS, { status, body, retryAfter, what, op }, shadeformNativeError(body));
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
  const url = new URL(`${target.baseUrl}${path}`);
  for (const [k, v] of opts.query ?? []) url.searchParams.append(k, v);
  return callProviderApi({
    provider: 'shadeform',
    what,
    method,
    url,
    headers: { [SHADEFORM_API_KEY_HEADER]: target.apiKey },
    body: opts.body,
    timeoutMs: target.timeoutMs,
    secret: target.apiKey,
    logFields: { method, path },
    logPath: path,
    logger: target.logger,
    rateLimit: { retries: opts.rateLimitRetries ?? target.rateLimitRetries, maxWaitMs: target.rateLimitMaxWaitMs, fallbackWaitMs: SHADEFORM_DEFAULT_RATE_LIMIT_WAIT_MS, sleep: target.sleep },
    errorFrom: (status, body, retryAfter) => shadeformErrorFromResponse(status, body, retryAfter, what, opts.op),
    // delete/update/restart answer an empty 200.
    decode: schema ? bodyOf(schema, what) : () => undefined as z.output<T>,
  });
}
