/**
 * Every provider adapter gpuflow knows, in the order `gpuflow providers add` lists their kinds.
 * Adding a provider is one line here (docs/adding-a-provider.md); connections.yaml's schema and the
 * registry are built from this list.
 */
import type { z } from 'zod';
import type { ProviderAdapter } from './adapter/adapter.js';
import { awsAdapter } from './aws/connection.js';
import { fluidstackAdapter } from './fluidstack/connection.js';
import { azureAdapter } from './azure/connection.js';
import { gcpAdapter } from './gcp/connection.js';
import { nebiusAdapter } from './nebius/connection.js';
import { lambdaAdapter } from './lambda/connection.js';
import { localAdapter } from './local/connection.js';
import { runpodAdapter } from './runpod/connection.js';
import { shadeformAdapter } from './shadeform/connection.js';
import { sshFleetAdapter } from './ssh/connection.js';
import { vastaiAdapter } from './vastai/connection.js';

export const PROVIDER_ADAPTERS = [localAdapter, lambdaAdapter, shadeformAdapter, fluidstackAdapter, runpodAdapter, vastaiAdapter, awsAdapter, gcpAdapter, azureAdapter, nebiusAdapter, sshFleetAdapter] as const;

type Adapters = typeof PROVIDER_ADAPTERS;

/** The connection schemas, as a tuple (what z.discriminatedUnion takes). */
type SchemasOf<T extends readonly unknown[]> = T extends readonly [infer H, ...infer R] ? [H extends { connectionSchema: infer S } ? S : never, ...SchemasOf<R>] : [];
export type ConnectionSchemas = SchemasOf<Adapters>;
export const CONNECTION_SCHEMAS = PROVIDER_ADAPTERS.map((a) => a.connectionSchema) as unknown as ConnectionSchemas;

/** A parsed connection of any kind. */
export type AnyConnection = z.output<ConnectionSchemas[number]>;
export type ConnectionKind = AnyConnection['kind'];

/** The adapter of a kind; its factory takes connections of that kind. */
export function adapterFor<K extends ConnectionKind>(kind: K): ProviderAdapter<K> & {
  credential(c: Extract<AnyConnection, { kind: K }>, secret: string): ReturnType<ProviderAdapter['credential']>;
  credentialWithoutSecret?(c: Extract<AnyConnection, { kind: K }>): ReturnType<ProviderAdapter['credential']>;
} {
  const a = PROVIDER_ADAPTERS.find((x) => x.kind === kind);
  if (!a) throw new Error(`no provider adapter for kind "${kind}" (known: ${PROVIDER_ADAPTERS.map((x) => x.kind).join(', ')})`);
  // One cast, here: the list's entries differ in their connection type, and `kind` picks the one that matches.
  return a as unknown as ReturnType<typeof adapterFor<K>>;
}
