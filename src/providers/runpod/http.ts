/**
 * One RunPod GraphQL call: `POST` with `Authorization: Bearer <key>` (never the `?api_key=` query
 * form RunPod also accepts: URLs end up in logs), a timeout, the `{data, errors}` envelope
 * validated with zod, and every failure mapped to the contract's typed errors.
 *
 * RunPod answers its own errors with **HTTP 200** and an `errors` array (dstack's client says so;
 * the capacity error is recorded verbatim in runpod-python #21), so the mapping reads the messages:
 * RunPod puts no machine-readable reason in `extensions.code` (it is "RUNPOD" for all of them).
 *
 * Retries: only a 429 is repeated here, boundedly (../http/rateLimit.ts); RunPod documents no
 * GraphQL rate limits, so a 429 without Retry-After waits 1 s. 5xx and network errors surface as
 * ServiceUnavailableError for Temporal to retry durably (a create is never repeated blindly).
 */
import type { z } from 'zod';
import { callProviderApi } from '../http/call.js';
import { type ErrorTable, errorFromTable, STANDARD_STATUS_RULES } from '../http/errorTable.js';
import { type ApiKeyHttpTarget, bodySnippet, unexpectedResponse } from '../http/request.js';
import {
  AuthenticationError,
  CloudError,
  InstanceNotFoundError,
  InsufficientCapacityError,
  InvalidRequestError,
  OutOfQuotaError,
  ServiceUnavailableError,
} from '../sdk/errors.js';
import { RUNPOD_ERROR_CODES, RunPodEnvelopeSchema, type RunPodGraphQlError } from './api.js';

export type RunPodOperation = 'catalog' | 'create' | 'instance' | 'terminate';

/** RunPod documents no GraphQL rate limits: a 429 without Retry-After waits this long. */
export const RUNPOD_DEFAULT_RATE_LIMIT_WAIT_MS = 1_000;

/** The shared API-key target (../http/request.ts); baseUrl is the GraphQL endpoint, e.g. https://api.runpod.io/graphql. */
export type RunPodHttpTarget = ApiKeyHttpTarget;

/** What RunPod's messages say, in the words it uses (see notes/provider-apis.md §2a). */
const CAPACITY = [/no longer any instances available/i, /not enough free GPUs/i, /no (gpu|machine)s? (is |are )?available/i];
const BID_TOO_LOW = /bid.*(below|lower than|too low|minimum)/i;
/** Balance and spend limits: RunPod's wording is unverified, so the words are matched loosely. */
const BALANCE = /(insufficient|not enough|low) (funds|balance|credit)|spend limit|quota/i;
const NOT_FOUND = /pod not found|could not find pod|no pod (found|with)/i;
const AUTH = /unauthori[sz]ed|api key|forbidden|not authenticated/i;
const INTERNAL = /something went wrong/i;

/** Maps the first GraphQL error of an answer (HTTP 200 or 400) to a typed error. */
export function runpodErrorFromGraphQl(errors: readonly RunPodGraphQlError[], what: string, op: RunPodOperation): CloudError {
  const first = errors[0] ?? { message: '' };
  const code = first.extensions?.code ?? '';
  const text = errors.map((e) => e.message).filter(Boolean).join('; ') || 'unknown GraphQL error';
  const message = `${what}: ${text}${code ? ` (${code})` : ''}`;
  const msg = first.message;

  if (code === RUNPOD_ERROR_CODES.unauthenticated || code === RUNPOD_ERROR_CODES.forbidden || AUTH.test(msg)) return new AuthenticationError(message);
  if (code === RUNPOD_ERROR_CODES.internal || INTERNAL.test(msg)) return new ServiceUnavailableError(message);
  if (CAPACITY.some((re) => re.test(msg))) return new InsufficientCapacityError(message, { scope: 'zone' });
  // The spot market moved above what we bid: this (type, data center, spot) will not work now.
  if (BID_TOO_LOW.test(msg)) return new InsufficientCapacityError(message, { scope: 'zone' });
  if (BALANCE.test(msg)) return new OutOfQuotaError(message, { scope: 'provider' });
  if (NOT_FOUND.test(msg) && (op === 'instance' || op === 'terminate')) return new InstanceNotFoundError(message);
  return new InvalidRequestError(message);
}

function graphQlErrorsOf(body: unknown): RunPodGraphQlError[] {
  const env = typeof body === 'object' && body !== null ? RunPodEnvelopeSchema.safeParse(body) : undefined;
  return env?.success ? (env.data.errors ?? []) : [];
}

/** RunPod's non-2xx answers: statuses first; a 400 carrying GraphQL errors is mapped like a 200 error. */
export const RUNPOD_HTTP_ERRORS: ErrorTable<RunPodOperation> = {
  rules: [
    ...STANDARD_STATUS_RULES,
    // 400: a query RunPod's server refused to run (validation, parse errors).
    { when: (f) => graphQlErrorsOf(f.body).length > 0, then: (f) => runpodErrorFromGraphQl(graphQlErrorsOf(f.body), `${f.what} (HTTP ${f.status})`, f.op) },
  ],
  // Without GraphQL errors a 404 names no pod: the query itself was wrong.
  notFound: { catalog: 'invalid', create: 'invalid', instance: 'invalid', terminate: 'invalid' },
  rateLimitWaitMs: () => RUNPOD_DEFAULT_RATE_LIMIT_WAIT_MS,
};

/** Maps a non-2xx HTTP answer (whatever its body) to a typed error (see {@link RUNPOD_HTTP_ERRORS}). */
export function runpodErrorFromResponse(status: number, body: unknown, retryAfter: string | null, what: string, op: RunPodOperation): CloudError {
  const text = graphQlErrorsOf(body).map((e) => e.message).join('; ') || bodySnippet(body);
  return errorFromTable(RUNPOD_HTTP_ERRORS, { status, body, retryAfter, what, op }, { code: '', text });
}

/**
 * Sends one GraphQL operation (repeating it only on a short 429) and returns its `data`, validated.
 * `operationName` names it in logs and errors; variables are never logged (they carry public keys
 * and the env of a pod).
 */
export async function callRunPod<T extends z.ZodTypeAny>(
  target: RunPodHttpTarget,
  operationName: string,
  query: string,
  variables: Record<string, unknown>,
  schema: T,
  op: RunPodOperation,
): Promise<z.output<T>> {
  const what = `runpod ${operationName}`;
  return callProviderApi({
    provider: 'runpod',
    what,
    method: 'POST',
    url: target.baseUrl,
    headers: { authorization: `Bearer ${target.apiKey}` },
    body: { operationName, query, variables },
    timeoutMs: target.timeoutMs,
    secret: target.apiKey,
    logFields: { operation: operationName },
    logPath: operationName,
    logger: target.logger,
    rateLimit: { retries: target.rateLimitRetries, maxWaitMs: target.rateLimitMaxWaitMs, fallbackWaitMs: RUNPOD_DEFAULT_RATE_LIMIT_WAIT_MS, sleep: target.sleep },
    errorFrom: (status, body, retryAfter) => runpodErrorFromResponse(status, body, retryAfter, what, op),
    decode: (body, _response, text) => {
      const env = RunPodEnvelopeSchema.safeParse(body);
      if (!env.success || (env.data.errors === undefined && env.data.data === undefined)) {
        throw new ServiceUnavailableError(`${what}: the answer is not a GraphQL response: ${bodySnippet(text) || '(empty)'}`);
      }
      if (env.data.errors && env.data.errors.length > 0) throw runpodErrorFromGraphQl(env.data.errors, what, op);
      const data = schema.safeParse(env.data.data);
      if (!data.success) throw unexpectedResponse(what, data.error);
      return data.data as z.output<T>;
    },
  });
}
