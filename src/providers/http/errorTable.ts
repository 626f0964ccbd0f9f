/**
 * The shared half of every adapter's error mapping: an HTTP error answer (status, the provider's
 * native code and text, Retry-After) goes through the provider's table of rules, first match wins,
 * and comes out as one of the contract's typed errors. What a provider's codes *mean* is its
 * table (src/providers/<name>/http.ts); building the errors, the message and the waits is here.
 */
import {
  AuthenticationError,
  type CloudError,
  InstanceNotFoundError,
  InsufficientCapacityError,
  InvalidRequestError,
  NotImplementedError,
  OutOfQuotaError,
  ResourceNotFoundError,
  ServiceUnavailableError,
} from '../sdk/errors.js';
import { bodySnippet, parseRetryAfter, serviceUnavailable } from './request.js';

/** One error answer, as the rules see it. `Op` names what the call was about ("instance", "create", …). */
export interface ErrorFacts<Op extends string> {
  status: number;
  /** The provider's machine-readable code, '' when it gave none. */
  code: string;
  /** The provider's human-readable text, '' when it gave none. */
  text: string;
  /** The parsed body (or its text when it was not JSON). */
  body: unknown;
  op: Op;
  /** Retry-After, in ms, when the answer carried one. */
  retryAfterMs: number | undefined;
  /** Which try of this request (from 0), for backoffs. */
  attempt: number;
  /** Prefix of the error message, e.g. "lambda POST /api/v1/instance-operations/launch". */
  what: string;
}

/**
 * What a rule maps to:
 * - `auth`: AuthenticationError (nothing works until a human acts)
 * - `capacity-zone` / `capacity-region`: InsufficientCapacityError of that scope (fail over)
 * - `quota-provider`: OutOfQuotaError for the whole provider; `quota`: OutOfQuotaError's default scope
 * - `rate-limited`: ServiceUnavailableError waiting Retry-After, else the table's `rateLimitWaitMs`
 * - `unavailable`: ServiceUnavailableError, waiting Retry-After only when one was given
 * - `not-implemented`: NotImplementedError
 * - `not-found`: what the table's `notFound` says for the call's operation
 * - `instance-not-found` / `resource-not-found` / `invalid`: that error regardless of operation
 * - a function: anything else (e.g. RunPod's GraphQL errors inside an HTTP 400)
 */
export type ErrorOutcome<Op extends string> =
  | 'auth'
  | 'capacity-zone'
  | 'capacity-region'
  | 'quota'
  | 'quota-provider'
  | 'rate-limited'
  | 'unavailable'
  | 'not-implemented'
  | 'not-found'
  | 'instance-not-found'
  | 'resource-not-found'
  | 'invalid'
  | ((facts: ErrorFacts<Op>, message: string) => CloudError);

/** Status matcher: a status, "5xx" (500–599 and above), or a list of these. */
export type StatusMatch = number | '5xx' | readonly (number | '5xx')[];

/** One row of a table. Every condition given must hold; a row with none matches every answer. */
export interface ErrorRule<Op extends string> {
  status?: StatusMatch;
  /** The native code: equal to a string, or matching a RegExp. */
  code?: string | RegExp;
  /** The native text matches. */
  text?: RegExp;
  /** Only for these operations. */
  ops?: readonly Op[];
  /** Anything the fields above cannot say. */
  when?: (facts: ErrorFacts<Op>) => boolean;
  then: ErrorOutcome<Op>;
}

export interface ErrorTable<Op extends string> {
  /** Checked in order; the first matching row decides. No match: InvalidRequestError. */
  rules: readonly ErrorRule<Op>[];
  /** What a `not-found` row means per operation. */
  notFound: Readonly<Record<Op, 'instance' | 'resource' | 'invalid'>>;
  /** The wait of a `rate-limited` answer that carried no Retry-After. */
  rateLimitWaitMs: (facts: ErrorFacts<Op>) => number;
  /** The error message; default `${what}: ${text} (HTTP ${status}[ ${code}])`. */
  message?: (facts: ErrorFacts<Op>) => string;
}

/** 401 and 403: the key is wrong or lacks access. */
export const AUTH_STATUS_RULE = { status: [401, 403], then: 'auth' } as const satisfies ErrorRule<string>;
/** 429: refused, safe to repeat after the wait. */
export const RATE_LIMIT_RULE = { status: 429, then: 'rate-limited' } as const satisfies ErrorRule<string>;
/** 408 and 5xx: the provider's trouble; retried durably, never blindly in place (a create may have happened). */
export const UNAVAILABLE_RULE = { status: [408, '5xx'], then: 'unavailable' } as const satisfies ErrorRule<string>;
/** The three above, in that order: what most tables start with. */
export const STANDARD_STATUS_RULES = [AUTH_STATUS_RULE, RATE_LIMIT_RULE, UNAVAILABLE_RULE] as const;

function statusMatches(m: StatusMatch, status: number): boolean {
  const list: readonly (number | '5xx')[] = Array.isArray(m) ? m : [m as number | '5xx'];
  return list.some((s) => (s === '5xx' ? status >= 500 : s === status));
}

function matches<Op extends string>(r: ErrorRule<Op>, f: ErrorFacts<Op>): boolean {
  if (r.status !== undefined && !statusMatches(r.status, f.status)) return false;
  if (r.code !== undefined && (typeof r.code === 'string' ? f.code !== r.code : !r.code.test(f.code))) return false;
  if (r.text !== undefined && !r.text.test(f.text)) return false;
  if (r.ops !== undefined && !r.ops.includes(f.op)) return false;
  return r.when === undefined || r.when(f);
}

function defaultMessage(f: ErrorFacts<string>): string {
  const text = f.text || bodySnippet(f.body) || `HTTP ${f.status}`;
  return `${f.what}: ${text} (HTTP ${f.status}${f.code ? ` ${f.code}` : ''})`;
}

function build<Op extends string>(table: ErrorTable<Op>, outcome: ErrorOutcome<Op>, f: ErrorFacts<Op>, message: string): CloudError {
  if (typeof outcome === 'function') return outcome(f, message);
  switch (outcome) {
    case 'auth':
      return new AuthenticationError(message);
    case 'capacity-zone':
      return new InsufficientCapacityError(message, { scope: 'zone' });
    case 'capacity-region':
      return new InsufficientCapacityError(message, { scope: 'region' });
    case 'quota':
      return new OutOfQuotaError(message);
    case 'quota-provider':
      return new OutOfQuotaError(message, { scope: 'provider' });
    case 'rate-limited':
      return new ServiceUnavailableError(message, { retryAfterMs: f.retryAfterMs ?? table.rateLimitWaitMs(f) });
    case 'unavailable':
      return serviceUnavailable(message, f.retryAfterMs);
    case 'not-implemented':
      return new NotImplementedError(message);
    case 'not-found': {
      const meaning = table.notFound[f.op];
      return build(table, meaning === 'invalid' ? 'invalid' : meaning === 'instance' ? 'instance-not-found' : 'resource-not-found', f, message);
    }
    case 'instance-not-found':
      return new InstanceNotFoundError(message);
    case 'resource-not-found':
      return new ResourceNotFoundError(message);
    case 'invalid':
      return new InvalidRequestError(message);
  }
}

/** The answer as the provider's table maps it. `native` is what the provider's error body says. */
export function errorFromTable<Op extends string>(
  table: ErrorTable<Op>,
  answer: { status: number; body: unknown; retryAfter: string | null; what: string; op: Op; attempt?: number },
  native: { code: string; text: string },
): CloudError {
  const facts: ErrorFacts<Op> = {
    status: answer.status,
    code: native.code,
    text: native.text,
    body: answer.body,
    op: answer.op,
    retryAfterMs: parseRetryAfter(answer.retryAfter),
    attempt: answer.attempt ?? 0,
    what: answer.what,
  };
  const message = (table.message ?? defaultMessage)(facts);
  const rule = table.rules.find((r) => matches(r, facts));
  return build(table, rule?.then ?? 'invalid', facts, message);
}
