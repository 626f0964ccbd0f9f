/**
 * The user's defaults (`gpuflow init` writes them): the project and tenant a spec gets when it
 * names none. `~/.gpuflow/defaults.yaml`; a spec's own fields and `--project` win.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parse as parseYaml, stringify } from 'yaml';
import { z } from 'zod';
import { gpuflowHome } from './paths.js';

const entityName = z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'names are 1-64 letters, digits, ".", "_" or "-"');

export const UserDefaultsSchema = z.object({ project: entityName.optional(), tenant: entityName.optional() }).strict();
export type UserDefaults = z.output<typeof UserDefaultsSchema>;

export function userDefaultsFile(): string {
  return join(gpuflowHome(), 'defaults.yaml');
}

export function loadUserDefaults(file = userDefaultsFile()): UserDefaults {
  if (!existsSync(file)) return {};
  const r = UserDefaultsSchema.safeParse(parseYaml(readFileSync(file, 'utf8')) ?? {});
  if (!r.success) throw new Error(`${file}: ${r.error.issues.map((i) => `${i.path.join('.') || '(top)'}: ${i.message}`).join('; ')} (fix it or run gpuflow init again)`);
  return r.data;
}

export function saveUserDefaults(d: UserDefaults, file = userDefaultsFile()): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, stringify(UserDefaultsSchema.parse(d)));
}
