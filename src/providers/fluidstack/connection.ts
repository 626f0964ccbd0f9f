/**
 * A FluidStack connection in connections.yaml: the API token in the file or store; regions (each
 * its own host and project) and prices (the API has none). And the adapter the registry makes its
 * credential with.
 */
import { z } from 'zod';
import { defineProviderAdapter } from '../adapter/adapter.js';
import { apiKeyConnectionFields } from '../adapter/connectionFields.js';
import { FluidstackCredential } from './credential.js';
import { FluidstackPriceListSchema } from './prices.js';
import { FluidstackRegionConfigSchema } from './regions.js';

export const FluidstackConnectionSchema = z
  .object({
    kind: z.literal('fluidstack'),
    ...apiKeyConnectionFields,
    regions: z.array(FluidstackRegionConfigSchema).min(1, 'regions must list at least one FluidStack region: { name, projectId, country }'),
    prices: FluidstackPriceListSchema,
  })
  .strict();
export type FluidstackConnection = z.output<typeof FluidstackConnectionSchema>;

export const fluidstackAdapter = defineProviderAdapter({
  kind: 'fluidstack',
  connectionSchema: FluidstackConnectionSchema,
  secretFileField: 'apiKeyFile',
  // FluidStack has no single base URL (each region is its own host): `--base-url` is refused by the schema.
  urlField: 'baseUrl',
  // FluidStack states no billing increment in its API docs: assumed per minute, as before.
  defaultBilling: { granularity: 'minute', minimumSeconds: 0 },
  credential: (c, secret) =>
    new FluidstackCredential({ refId: c.name, apiToken: secret, regions: c.regions, prices: c.prices, ...(c.testReplica ? { testReplica: true } : {}) }),
});
