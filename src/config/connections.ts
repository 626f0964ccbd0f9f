/**
 * Provider connections the worker loads at start: which clouds it may use, with which credentials.
 * Credentials are read here, on the worker, and referenced by connection name everywhere else, so
 * they never enter workflow inputs or history.
 */
import { readFileSync, existsSync } from 'node:fs';
import { z } from 'zod';
import { parse as parseYaml } from 'yaml';
import { adapterFor, CONNECTION_SCHEMAS, type AnyConnection } from '../providers/adapters.js';
import { secretSourceCount } from './credentials/lookup.js';

/**
 * Every kind: exactly one secret source, the store (`credentialRef`) or the kind's secret file
 * (the adapter's `secretFileField`); none only where the adapter makes credentials without one.
 */
function requireOneSecretSource(c: AnyConnection, ctx: z.RefinementCtx): void {
  const adapter = adapterFor(c.kind);
  const fileField = adapter.secretFileField;
  const given = secretSourceCount(c);
  if (given === 1 || (given === 0 && adapter.credentialWithoutSecret)) return;
  ctx.addIssue({
    code: 'custom',
    path: [given === 0 ? fileField : 'credentialRef'],
    message:
      given === 0
        ? `set ${fileField} (a 0600 file holding the secret) or credentialRef (a secret stored by \`gpuflow providers add\`)`
        : `set only one of ${fileField} and credentialRef`,
  });
}

/** A connection of any kind: each provider's own schema (src/providers/<name>/connection.ts), by `kind`. */
export const ConnectionSchema = z.discriminatedUnion('kind', CONNECTION_SCHEMAS).superRefine(requireOneSecretSource);
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
