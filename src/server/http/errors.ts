/** HTTP errors and the one place that turns any thrown error into a JSON answer. */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { WorkflowNotFoundError } from '@temporalio/common';
import { InvalidBudgetError } from '../../budget/config.js';
import { InvalidScheduleError } from '../../schedules/schedule.js';
import { InvalidWorkloadSpecError } from '../../workload/spec.js';
import { IdentityError } from '../identity/store.js';

export interface ErrorBody {
  error: string;
  issues?: { path: string; message: string }[];
}

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** Why access was refused, for the audit log (never shown beyond the message). */
    readonly denial?: string,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export const notFound = (what: string, denial?: string) => new HttpError(404, `${what} not found`, denial);
export const forbidden = (message: string, denial = message) => new HttpError(403, message, denial);

export function errorHandler(error: FastifyError | Error, req: FastifyRequest, reply: FastifyReply): FastifyReply {
  const send = (status: number, body: ErrorBody) => reply.status(status).send(body);
  if (hasZodFastifySchemaValidationErrors(error)) {
    const where = (error as unknown as { validationContext?: string }).validationContext ?? 'body';
    return send(400, {
      error: `invalid ${where}`,
      issues: error.validation.map((v) => ({ path: [where, ...String(v.instancePath).split('/').filter(Boolean)].join('.'), message: v.message ?? 'invalid' })),
    });
  }
  if (error instanceof InvalidWorkloadSpecError || error instanceof InvalidBudgetError || error instanceof InvalidScheduleError) {
    return send(400, { error: error.message.split('\n')[0]!.replace(/:$/, ''), issues: error.issues });
  }
  if (error instanceof HttpError) {
    if (error.denial) req.auditDenial = error.denial;
    return send(error.status, { error: error.message });
  }
  if (error instanceof IdentityError) return send(error.status, { error: error.message });
  if (error instanceof WorkflowNotFoundError) return send(404, { error: 'not found' });
  const fe = error as FastifyError;
  if (fe.statusCode && fe.statusCode < 500) return send(fe.statusCode, { error: fe.message });
  req.log.error({ err: error }, 'request failed');
  return send(500, { error: `internal error: ${error.message}` });
}
