/**
 * For bodies whose zod schema transforms (durations to ms, prices to Money): the schema documents
 * the body in OpenAPI, but the handler receives the raw JSON and hands it to the same parse
 * function the CLI and embedding API use (parseWorkloadSpec, budgets.set), which names each bad
 * field. Other parts (params, querystring) validate as usual.
 */
import type { FastifySchema, FastifySchemaCompiler } from 'fastify';
import { validatorCompiler } from 'fastify-type-provider-zod';

export const rawBodyValidator: FastifySchemaCompiler<FastifySchema> = (route) =>
  route.httpPart === 'body' ? (data: unknown) => ({ value: data }) : (validatorCompiler as FastifySchemaCompiler<FastifySchema>)(route);
