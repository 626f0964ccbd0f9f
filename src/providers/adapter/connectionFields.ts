/**
 * The connections.yaml fields every provider kind shares. A provider's own connection schema
 * (src/providers/<name>/connection.ts) spreads these next to its `kind` and its own fields.
 */
import { z } from 'zod';
import { SpendingCapSchema } from '../../budget/config.js';
import { GpuShorthandSchema } from '../../config/gpuShorthand.js';
import { BillingPolicySchema } from '../../money/billing.js';

export const connectionName = z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'connection names are lower-case letters, digits and "-"');

/** Fields of every connection: its name, where its secret lives, timeouts, money and routing preferences. */
export const commonConnectionFields = {
  name: connectionName,
  /** A secret in the encrypted credential store (`gpuflow providers add`), instead of a secret file. */
  credentialRef: connectionName.optional(),
  provisioningTimeout: z.number().int().positive().optional(),
  /** A hard spending ceiling per period on this connection, e.g. { amount: "100.00", currency: USD, period: day }. */
  spendingCap: SpendingCapSchema.optional(),
  /** How the provider bills an instance's lifetime; defaults per kind (the adapter's `defaultBilling`). */
  billing: BillingPolicySchema.optional(),
  /** Region globs, most preferred first: among offers of equal price, these regions win (src/routing/regionPreferences.ts). */
  regionPreferences: z
    .array(z.string().regex(/^[A-Za-z0-9*?._-]+$/, 'regionPreferences entries are region names or globs such as "us-*" or "eu-central-?"'))
    .min(1, 'regionPreferences needs at least one region glob, or leave it out')
    .optional(),
  /** GPU for workloads that name none ("H100:8"): see src/cli/defaultGpu.ts. */
  defaultGpu: GpuShorthandSchema.optional(),
};

/** Fields of API-key clouds: the key lives in a file (0600) or the encrypted store, never in the YAML. */
export const apiKeyConnectionFields = {
  ...commonConnectionFields,
  apiKeyFile: z.string().min(1, 'apiKeyFile must point to the file holding the API key').optional(),
  /** Test only: a local replica's URL (test/replicas). Real connections leave it out. */
  testReplica: z.boolean().optional(),
};

/** An API-key cloud's `baseUrl`: its default in the comment, tests point it at a replica. */
export function baseUrlField(example: string) {
  return z.url(`baseUrl must be a URL such as ${example}`).optional();
}
