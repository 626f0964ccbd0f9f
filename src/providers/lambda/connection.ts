/**
 * A Lambda Cloud connection in connections.yaml (`kind: lambda`, the API-key fields, `baseUrl`: default
 * https://cloud.lambda.ai, tests point it at a replica), and the adapter the registry makes its credential with.
 */
import type { z } from 'zod';
import { defineApiKeyAdapter } from '../adapter/adapter.js';
import { LambdaCredential } from './credential.js';

export const lambdaAdapter = defineApiKeyAdapter({
  kind: 'lambda',
  baseUrlExample: 'https://cloud.lambda.ai',
  // On-demand instances bill in one-minute increments (docs.lambda.ai/public-cloud/billing).
  defaultBilling: { granularity: 'minute', minimumSeconds: 0 },
  makeCredential: (input) => new LambdaCredential(input),
});

export const LambdaConnectionSchema = lambdaAdapter.connectionSchema;
export type LambdaConnection = z.output<typeof LambdaConnectionSchema>;
