/**
 * What a provider adapter exports for the rest of gpuflow: its connections.yaml schema and the
 * factory that turns a parsed connection (and its resolved secret) into a CloudCredential. The
 * registry and connections.yaml map over the list of these (src/providers/adapters.ts); nothing
 * outside a provider's folder switches on its kind. See docs/adding-a-provider.md.
 */
import { z } from 'zod';
import type { BillingPolicy } from '../../money/billing.js';
import type { CloudCredential } from '../sdk/client.js';
import { apiKeyConnectionFields, baseUrlField } from './connectionFields.js';

/** A connection schema: a strict object whose `kind` is the provider's literal. */
export type ConnectionSchemaOf<K extends string> = z.ZodObject<{ kind: z.ZodLiteral<K> } & z.ZodRawShape, z.core.$strict>;

export interface ProviderAdapter<K extends string = string, S extends ConnectionSchemaOf<K> = ConnectionSchemaOf<K>> {
  /** connections.yaml `kind`, e.g. "lambda". */
  kind: K;
  /** The connection's fields: `kind`, ../adapter/connectionFields.ts, and the provider's own. */
  connectionSchema: S;
  /** The file field holding the secret when the connection does not use `credentialRef`. */
  secretFileField: 'apiKeyFile' | 'tokenFile';
  /** The field `gpuflow providers add --base-url` sets. */
  urlField: 'url' | 'baseUrl' | 'endpoint';
  /** How the provider bills when the connection declares no `billing` (cite the provider's terms). */
  defaultBilling: BillingPolicy;
  /** The connection's credential; `secret` is already read from the file or the store. */
  credential(connection: z.output<S>, secret: string): CloudCredential;
  /**
   * Only for a provider whose SDK finds credentials itself (AWS's default chain): the credential of
   * a connection naming no secret source. With it, the secret source is optional; without it, required.
   */
  credentialWithoutSecret?(connection: z.output<S>): CloudCredential;
  /**
   * Set for a kind whose connection `gpuflow providers add` cannot build from its flags (an API key
   * and a URL): what to do instead, shown to the user.
   */
  configuredInFile?: string;
}

/** Declares an adapter, keeping its literal kind and schema type (the registry's union is built from them). */
export function defineProviderAdapter<K extends string, S extends ConnectionSchemaOf<K>>(adapter: ProviderAdapter<K, S>): ProviderAdapter<K, S> {
  return adapter;
}

/** What an API-key connection gives its credential: the key, and the replica URL in tests. */
export interface ApiKeyCredentialInput {
  refId: string;
  apiKey: string;
  baseUrl?: string;
  testReplica?: boolean;
}

/**
 * The adapter of a cloud reached with one API key at one base URL (Lambda, Shadeform, RunPod,
 * Vast.ai): its connection is `kind`, the shared API-key fields and `baseUrl`.
 */
export function defineApiKeyAdapter<K extends string>(p: {
  kind: K;
  /** The provider's real API URL, for the `baseUrl` error message. */
  baseUrlExample: string;
  defaultBilling: BillingPolicy;
  makeCredential: (input: ApiKeyCredentialInput) => CloudCredential;
}) {
  const connectionSchema = z.object({ kind: z.literal(p.kind), ...apiKeyConnectionFields, baseUrl: baseUrlField(p.baseUrlExample) }).strict();
  return defineProviderAdapter({
    kind: p.kind,
    connectionSchema,
    secretFileField: 'apiKeyFile',
    urlField: 'baseUrl',
    defaultBilling: p.defaultBilling,
    credential: (c, secret) => p.makeCredential({ refId: c.name, apiKey: secret, ...(c.baseUrl ? { baseUrl: c.baseUrl } : {}), ...(c.testReplica ? { testReplica: true } : {}) }),
  });
}
