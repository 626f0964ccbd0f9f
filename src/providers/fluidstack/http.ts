/**
 * One FluidStack API call: `Authorization: Bearer <token>`, `X-PROJECT-ID` on project-scoped paths,
 * timeout, zod-validated body (bare JSON, no envelope; DELETE answers 204 and the start/stop
 * actions 202, both without a body), and every failure mapped to the contract's typed errors.
 *
 * The spec's only error shape is `{"message"}`; statuses carry the meaning: 400 invalid input,
 * 403 forbidden, 404 not found, 409 instance state conflict, 500 server error, 501 not implemented.
 * Capacity shortage is not an HTTP error at all: it is the instance state `out-of-stock` (see
 * ./client.ts). FluidStack documents no rate limits: a 429 is honoured by its Retry-After, else
 * one second, through the shared in-place retry (../http/rateLimit.ts); everything else surfaces
 * as a typed error for Temporal to retry durably.
 */
import type { Logger } from 'pino';
import type { z } from 'zod';
import { bodyOf, callProviderApi } from '../http/call.js';
import { AUTH_STATUS_RULE, type ErrorTable, errorFromTable, RATE_LIMIT_RULE, UNAVAILABLE_RULE } from '../http/errorTable.js';
import { bodySnippet } from '../http/request.js';
import type { CloudError } from '../sdk/errors.js';
import { FLUIDSTACK_PROJECT_HEADER, FluidstackErrorBodySchema } from './api.js';

/** What a call is about, which decides what "not found" means. */
export type FluidstackOperation = 'create' | 'instance' | 'catalog';

/** FluidStack documents no rate limits: a 429 without Retry-After waits this long. */
export const FLUIDSTACK_DEFAULT_RATE_LIMIT_WAIT_MS = 1_000;

export interface FluidstackHttpTarget {
  apiToken: string;
  timeoutMs: number;
  rateLimitRetries: number;
  rateLimitMaxWaitMs: number;
  logger?: Logger;
  sleep?: (ms: number) => Promise<void>;
}

/** Where a call goes: a region's base URL, and its project when the path is project-scoped. */
export interface FluidstackEndpoint {
  url: string;
  projectId?: string;
}

export interface FluidstackRequestOptions {
  body?: unknown;
  op: FluidstackOperation;
}

/** FluidStack's errors: the spec's statuses carry the meaning (its body is only `{"message"}`). */
export const FLUIDSTACK_ERRORS: ErrorTable<FluidstackOperation> = {
  rules: [
    // 403 is the spec's answer for a token without access to the project: nothing works until a human acts.
    AUTH_STATUS_RULE,
    RATE_LIMIT_RULE,
    // 501: the region does not implement the endpoint; repeating will not change that.
    { status: 501, then: 'not-implemented' },
    UNAVAILABLE_RULE,
    { status: 404, then: 'not-found' },
    // 400 invalid input, 409 instance state conflict, anything else: invalid.
  ],
  // A create naming something that is not there (the project, a filesystem): this offer cannot work.
  notFound: { instance: 'instance', create: 'invalid', catalog: 'resource' },
  rateLimitWaitMs: () => FLUIDSTACK_DEFAULT_RATE_LIMIT_WAIT_MS,
};

/** Maps a FluidStack error response to a typed cloud error (see {@link FLUIDSTACK_ERRORS}). */
export function fluidstackErrorFromResponse(status: number, body: unknown, retryAfter: string | null, what: string, op: FluidstackOperation): CloudError {
  const parsed = typeof body === 'object' && body !== null ? FluidstackErrorBodySchema.safeParse(body) : undefined;
  const text = (parsed?.success ? parsed.data.message : '') || bodySnippet(body);
  return errorFromTable(FLUIDSTACK_ERRORS, { status, body, retryAfter, what, op }, { code: '', text });
}

/** Sends one request (repeating it only on a short 429). Returns the parsed body, or undefined for an empty one. */
export async function callFluidstack<T extends z.ZodTypeAny>(
  target: FluidstackHttpTarget,
  endpoint: FluidstackEndpoint,
  method: 'GET' | 'POST' | 'DELETE',
  path: string,
  schema: T | undefined,
  opts: FluidstackRequestOptions,
): Promise<z.output<T>> {
  const url = `${endpoint.url}${path}`;
  const what = `fluidstack ${method} ${url}`;
  const headers: Record<string, string> = { authorization: `Bearer ${target.apiToken}` };
  if (endpoint.projectId) headers[FLUIDSTACK_PROJECT_HEADER] = endpoint.projectId;
  return callProviderApi({
    provider: 'fluidstack',
    what,
    method,
    url,
    headers,
    body: opts.body,
    timeoutMs: target.timeoutMs,
    secret: target.apiToken,
    logFields: { method, url },
    logPath: path,
    logger: target.logger,
    rateLimit: { retries: target.rateLimitRetries, maxWaitMs: target.rateLimitMaxWaitMs, fallbackWaitMs: FLUIDSTACK_DEFAULT_RATE_LIMIT_WAIT_MS, sleep: target.sleep },
    errorFrom: (status, body, retryAfter) => fluidstackErrorFromResponse(status, body, retryAfter, what, opts.op),
    // DELETE answers 204 and the start/stop actions 202, both without a body.
    decode: schema ? bodyOf(schema, what) : () => undefined as z.output<T>,
  });
}
