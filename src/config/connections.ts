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

const connectionName = z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'connection names are lower-case letters, digits and "-"');

/** Money settings every connection may carry (see src/budget). */
const moneyFields = {
  /** A hard spending ceiling per period on this connection, e.g. { amount: "100.00", currency: USD, period: day }. */
  spendingCap: SpendingCapSchema.optional(),
  /** How the provider bills an instance's lifetime; defaults per kind (local: per second). */
  billing: BillingPolicySchema.optional(),
};

const LocalConnectionSchema = z
  .object({
    kind: z.literal('local'),
    name: connectionName,
    url: z.url('url must be the local cloud daemon URL, e.g. http://127.0.0.1:7600'),
    tokenFile: z.string().min(1, 'tokenFile must point to the file holding the bearer token'),
    provisioningTimeout: z.number().int().positive().optional(),
    ...moneyFields,
  })
  .strict();

/** Fields shared by API-key clouds: the key lives in a file (0600), never in the YAML. */
const apiKeyConnection = {
  name: connectionName,
  apiKeyFile: z.string().min(1, 'apiKeyFile must point to the file holding the API key'),
  provisioningTimeout: z.number().int().positive().optional(),
  /** Test only: a local replica's URL (test/replicas). Real connections leave it out. */
  testReplica: z.boolean().optional(),
  ...moneyFields,
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

export const ConnectionSchema = z.discriminatedUnion('kind', [LocalConnectionSchema, LambdaConnectionSchema, ShadeformConnectionSchema]);
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
