/**
 * A Shadeform connection in connections.yaml (`kind: shadeform`, the API-key fields, `baseUrl`: default
 * https://api.shadeform.ai/v1, tests point it at a replica), and the adapter the registry makes its credential with.
 */
import type { z } from 'zod';
import { defineApiKeyAdapter } from '../adapter/adapter.js';
import { ShadeformCredential } from './credential.js';

export const shadeformAdapter = defineApiKeyAdapter({
  kind: 'shadeform',
  baseUrlExample: 'https://api.shadeform.ai/v1',
  // Shadeform passes through its underlying clouds' terms, assumed per minute here.
  defaultBilling: { granularity: 'minute', minimumSeconds: 0 },
  makeCredential: (input) => new ShadeformCredential(input),
});

export const ShadeformConnectionSchema = shadeformAdapter.connectionSchema;
export type ShadeformConnection = z.output<typeof ShadeformConnectionSchema>;
