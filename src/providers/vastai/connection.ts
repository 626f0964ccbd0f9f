/**
 * A Vast.ai connection in connections.yaml (`kind: vastai`, the API-key fields, `baseUrl`: default
 * https://console.vast.ai, tests point it at a replica), and the adapter the registry makes its credential with.
 */
import type { z } from 'zod';
import { PER_SECOND } from '../../money/billing.js';
import { defineApiKeyAdapter } from '../adapter/adapter.js';
import { VastaiCredential } from './credential.js';

export const vastaiAdapter = defineApiKeyAdapter({
  kind: 'vastai',
  baseUrlExample: 'https://console.vast.ai',
  // "On-Demand: Per-second billing" (vast.ai/pricing).
  defaultBilling: PER_SECOND,
  makeCredential: (input) => new VastaiCredential(input),
});

export const VastaiConnectionSchema = vastaiAdapter.connectionSchema;
export type VastaiConnection = z.output<typeof VastaiConnectionSchema>;
