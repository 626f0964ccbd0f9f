/**
 * A RunPod connection in connections.yaml (`kind: runpod`, the API-key fields, `baseUrl`: default
 * https://api.runpod.io/graphql, tests point it at a replica), and the adapter the registry makes its credential with.
 */
import type { z } from 'zod';
import { PER_SECOND } from '../../money/billing.js';
import { defineApiKeyAdapter } from '../adapter/adapter.js';
import { RunPodCredential } from './credential.js';

export const runpodAdapter = defineApiKeyAdapter({
  kind: 'runpod',
  baseUrlExample: 'https://api.runpod.io/graphql',
  // "All compute and storage charges per second" (docs.runpod.io/accounts-billing/billing).
  defaultBilling: PER_SECOND,
  makeCredential: (input) => new RunPodCredential(input),
});

export const RunPodConnectionSchema = runpodAdapter.connectionSchema;
export type RunPodConnection = z.output<typeof RunPodConnectionSchema>;
