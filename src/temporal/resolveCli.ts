/**
 * Finds a real Temporal CLI (which embeds the dev server): an explicit path, then `temporal` on
 * PATH, then our cached build, then a Go build from the module proxy (scripts/install-temporal.sh).
 * Returns undefined when none works, so callers can fall back to the SDK's own download.
 */
import { execFileSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const INSTALL_SCRIPT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'scripts', 'install-temporal.sh');

function isExecutable(p: string): boolean {
  try {
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export function resolveTemporalCli(opts: { explicitPath?: string; allowBuild?: boolean } = {}): string | undefined {
  const explicit = opts.explicitPath ?? process.env.TEMPORAL_CLI;
  if (explicit) {
    if (!isExecutable(explicit)) throw new Error(`TEMPORAL_CLI=${explicit} is not an executable file`);
    return explicit;
  }
  // The install script checks PATH and the cache before building; it prints the path it resolved.
  try {
    const out = execFileSync('bash', [INSTALL_SCRIPT], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, ...(opts.allowBuild === false ? { GPUFLOW_NO_BUILD: '1' } : {}) },
    }).trim();
    const path = out.split('\n').pop();
    return path && isExecutable(path) ? path : undefined;
  } catch {
    return undefined;
  }
}
