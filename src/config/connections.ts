/**
 * Provider connections the worker loads at start: which clouds it may use, with which credentials.
 * Credentials are read here, on the worker, and referenced by connection name everywhere else, so
 * they never enter workflow inputs or history.
 */
import { readFileSync, existsSync } from 'node:fs';
import { z } from 'zod';
import { parse as parseYaml } from 'yaml';
import { SpendingCapSchema } from '../budget/config.js';
import { BillingPolicySchema } from '../money/billing.js';
import { GpuShorthandSchema } from './gpuShorthand.js';
import { FluidstackPriceListSchema } from '../providers/fluidstack/prices.js';
import { FluidstackRegionConfigSchema } from '../providers/fluidstack/regions.js';

const connectionName = z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'connection names are lower-case letters, digits and "-"');

/** Money settings every connection may carry (see src/budget). */
const moneyFields = {
  /** A hard spending ceiling per period on this connection, e.g. { amount: "100.00", currency: USD, period: day }. */
  spendingCap: SpendingCapSchema.optional(),
  /** How the provider bills an instance's lifetime; defaults per kind (local: per second). */
  billing: BillingPolicySchema.optional(),
};

/** Routing preferences every connection may carry. */
const preferenceFields = {
  /** Region globs, most preferred first: among offers of equal price, these regions win (src/routing/regionPreferences.ts). */
  regionPreferences: z
    .array(z.string().regex(/^[A-Za-z0-9*?._-]+$/, 'regionPreferences entries are region names or globs such as "us-*" or "eu-central-?"'))
    .min(1, 'regionPreferences needs at least one region glob, or leave it out')
    .optional(),
  /** GPU for workloads that name none ("H100:8"): see src/cli/defaultGpu.ts. */
  defaultGpu: GpuShorthandSchema.optional(),
};

/** A secret in the encrypted credential store (`gpuflow providers add`), instead of a secret file. */
const credentialRef = connectionName.optional();

const LocalConnectionSchema = z
  .object({
    kind: z.literal('local'),
    name: connectionName,
    url: z.url('url must be the local cloud daemon URL, e.g. http://127.0.0.1:7600'),
    tokenFile: z.string().min(1, 'tokenFile must point to the file holding the bearer token').optional(),
    credentialRef,
    provisioningTimeout: z.number().int().positive().optional(),
    ...moneyFields,
    ...preferenceFields,
  })
  .strict();

/** Fields shared by API-key clouds: the key lives in a file (0600) or the encrypted store, never in the YAML. */
const apiKeyConnection = {
  name: connectionName,
  apiKeyFile: z.string().min(1, 'apiKeyFile must point to the file holding the API key').optional(),
  credentialRef,
  provisioningTimeout: z.number().int().positive().optional(),
  /** Test only: a local replica's URL (test/replicas). Real connections leave it out. */
  testReplica: z.boolean().optional(),
  ...moneyFields,
  ...preferenceFields,
};

const LambdaConnectionSchema = z
  .object({
    kind: z.literal('lambda'),
    ...apiKeyConnection,
    /** Default https://cloud.lambda.ai; tests point it at a replica. */
    baseUrl: z.url('baseUrl must be a URL such as https://cloud.lambda.ai').optional(),
  })
  .strict();

const ShadeformConnectionSchema = z
  .object({
    kind: z.literal('shadeform'),
    ...apiKeyConnection,
    /** Default https://api.shadeform.ai/v1; tests point it at a replica. */
    baseUrl: z.url('baseUrl must be a URL such as https://api.shadeform.ai/v1').optional(),
  })
  .strict();

const RunPodConnectionSchema = z
  .object({
    kind: z.literal('runpod'),
    ...apiKeyConnection,
    /** Default https://api.runpod.io/graphql (RunPod's GraphQL API); tests point it at a replica. */
    baseUrl: z.url('baseUrl must be a URL such as https://api.runpod.io/graphql').optional(),
  })
  .strict();

/** FluidStack: the API token in the file or store; regions (each its own host and project) and prices (the API has none). */
const FluidstackConnectionSchema = z
  .object({
    kind: z.literal('fluidstack'),
    ...apiKeyConnection,
    regions: z.array(FluidstackRegionConfigSchema).min(1, 'regions must list at least one FluidStack region: { name, projectId, country }'),
    prices: FluidstackPriceListSchema,
  })
  .strict();

const VastaiConnectionSchema = z
  .object({
    kind: z.literal('vastai'),
    ...apiKeyConnection,
    /** Default https://console.vast.ai; tests point it at a replica. */
    baseUrl: z.url('baseUrl must be a URL such as https://console.vast.ai').optional(),
  })
  .strict();

/** Every kind: exactly one secret source, the store (`credentialRef`) or the kind's secret file. */
function requireOneSecretSource(c: { kind: string; credentialRef?: string | undefined; apiKeyFile?: string | undefined; tokenFile?: string | undefined }, ctx: z.RefinementCtx): void {
  const fileField = c.kind === 'local' ? 'tokenFile' : 'apiKeyFile';
  const given = [c.credentialRef, c.apiKeyFile, c.tokenFile].filter((v) => v !== undefined).length;
  if (given === 1) return;
  ctx.addIssue({
    code: 'custom',
    path: [given === 0 ? fileField : 'credentialRef'],
    message:
      given === 0
        ? `set ${fileField} (a 0600 file holding the secret) or credentialRef (a secret stored by \`gpuflow providers add\`)`
        : `set only one of ${fileField} and credentialRef`,
  });
}

export const ConnectionSchema = z.discriminatedUnion('kind', [LocalConnectionSchema, LambdaConnectionSchema, ShadeformConnectionSchema, FluidstackConnectionSchema, RunPodConnectionSchema, VastaiConnectionSchema]).superRefine(requireOneSecretSource);
export type Connection = z.infer<typeof ConnectionSchema>;

export const ConnectionsFileSchema = z.object({ connections: z.array(ConnectionSchema) }).strict();

export function loadConnections(file: string): Connection[] {
  if (!existsSync(file)) return [];
  const raw = parseYaml(readFileSync(file, 'utf8')) as unknown;
  const r = ConnectionsFileSchema.safeParse(raw);
  if (!r.success) {
    throw new Error(
      `invalid connections file ${file}:\n${r.error.issues.map((i) => `  - ${i.path.join('.')}: ${i.message}`).join('\n')}`,
    );
  }
  return r.data.connections;
}

export function readSecretFile(path: string): string {
  return readFileSync(path, 'utf8').trim();
}
