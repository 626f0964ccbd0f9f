/** How to start one of our own entry points as a child process, from sources (tsx) or from dist. */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SRC_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/** `relative` is from src/ (or dist/) without extension, e.g. "providers/local/daemon/main". */
export function nodeEntryArgs(relative: string): string[] {
  const ts = join(SRC_ROOT, `${relative}.ts`);
  if (existsSync(ts)) return ['--import', 'tsx', ts];
  return [join(SRC_ROOT, `${relative}.js`)];
}
