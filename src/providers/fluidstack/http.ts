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
import {
  AuthenticationError,
  CloudError,
  InstanceNotFoundError,
  InvalidRequestError,
  NotImplementedError,
  ResourceNotFoundError,
  ServiceUnavailableError,
} from '../sdk/errors.js';
import { retryShortRateLimits } from '../http/rateLimit.js';
import { bodySnippet, parseJsonOr, parseRetryAfter, sendRequest, serviceUnavailable, unexpectedResponse } from '../http/request.js';
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

/** Maps a FluidStack error response to a typed cloud error. */
export function fluidstackErrorFromResponse(status: number, body: unknown, retryAfter: string | null, what: string, op: FluidstackOperation): CloudError {
  const parsed = typeof body === 'object' && body !== null ? FluidstackErrorBodySchema.safeParse(body) : undefined;
  const text = (parsed?.success ? parsed.data.message : '') || bodySnippet(body) || `HTTP ${status}`;
  const message = `${what}: ${text} (HTTP ${status})`;
  const headerWait = parseRetryAfter(retryAfter);

  // 403 is the spec's answer for a token without access to the project: nothing works until a human acts.
  if (status === 401 || status === 403) return new AuthenticationError(message);
  if (status === 429) return new ServiceUnavailableError(message, { retryAfterMs: headerWait ?? FLUIDSTACK_DEFAULT_RATE_LIMIT_WAIT_MS });
  // 501: the region does not implement the endpoint; repeating will not change that.
  if (status === 501) return new NotImplementedError(message);
  if (status === 408 || status >= 500) return serviceUnavailable(message, headerWait);
  if (status === 404) {
    if (op === 'instance') return new InstanceNotFoundError(message);
    // A create naming something that is not there (the project, a filesystem): this offer cannot work.
    if (op === 'create') return new InvalidRequestError(message);
    return new ResourceNotFoundError(message);
  }
  // 400 invalid input, 409 instance state conflict, anything else.
  return new InvalidRequestError(message);
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
  const policy = {
    retries: target.rateLimitRetries,
    maxWaitMs: target.rateLimitMaxWaitMs,
    fallbackWaitMs: FLUIDSTACK_DEFAULT_RATE_LIMIT_WAIT_MS,
    sleep: target.sleep,
    logger: target.logger,
    provider: 'fluidstack',
    path,
  };
  const headers: Record<string, string> = { authorization: `Bearer ${target.apiToken}` };
  if (endpoint.projectId) headers[FLUIDSTACK_PROJECT_HEADER] = endpoint.projectId;
  return retryShortRateLimits(policy, async (attempt) => {
    const { response: res, text, ms } = await sendRequest({ method, url, headers, body: opts.body, timeoutMs: target.timeoutMs, what, secret: target.apiToken });
    // A non-JSON body is kept as text for the error mapping to quote.
    const body = text.trim() ? parseJsonOr(text, text) : undefined;
    target.logger?.debug({ method, url, status: res.status, ms, attempt }, 'fluidstack api request');
    if (!res.ok) return { ok: false, status: res.status, error: fluidstackErrorFromResponse(res.status, body, res.headers.get('retry-after'), what, opts.op) };
    if (!schema) return { ok: true, value: undefined as z.output<T> };
    const r = schema.safeParse(body);
    if (!r.success) throw unexpectedResponse(what, r.error);
    return { ok: true, value: r.data as z.output<T> };
  });
}
