/**
 * Shared pieces of the per-provider end-to-end tests: a worker whose debug output the test reads,
 * and the check that a provider's secret stays out of workflow histories and worker logs.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { waitFor, type TestEnv } from './environment.js';
import { historyText } from './historyText.js';

/** A secret in a 0600 file next to the environment, as a connection's apiKeyFile points at. */
export function writeSecretFile(dir: string, name: string, secret: string): string {
  const file = join(dir, name);
  writeFileSync(file, secret, { mode: 0o600 });
  return file;
}

/** A worker child process logging at debug level; `logs()` is everything it printed so far. */
export async function spawnDebugWorker(env: TestEnv): Promise<{ logs: () => string }> {
  const output: string[] = [];
  const worker = await env.spawnWorker({ captureOutput: true, env: { GPUFLOW_LOG_LEVEL: 'debug' } });
  worker.stdout!.on('data', (d: Buffer) => output.push(d.toString('utf8')));
  worker.stderr!.on('data', (d: Buffer) => output.push(d.toString('utf8')));
  return { logs: () => output.join('') };
}

/**
 * Asserts `secret` is in none of the workloads' histories and not in the worker's logs, after the
 * adapter has logged its API requests (`<provider> api request`) through the worker. Returns the
 * logs for provider-specific checks.
 */
export async function assertSecretKeptOut(
  env: TestEnv,
  opts: { secret: string; workloadIds: string[]; logs: () => string; provider: string; what?: string },
): Promise<string> {
  const what = opts.what ?? 'API key';
  assert.ok(opts.workloadIds.length >= 1, 'at least one workload ran through the provider');
  for (const id of opts.workloadIds) {
    const history = historyText(await env.client.temporal.workflow.getHandle(id).fetchHistory());
    assert.ok(history.length > 1000);
    assert.ok(!history.includes(opts.secret), `the ${what} is in the history of ${id}`);
  }
  await waitFor('worker logs', async () => opts.logs().includes(`${opts.provider} api request`), 10_000);
  const logs = opts.logs();
  assert.ok(logs.includes(`"name":"${opts.provider}"`), 'the adapter logged (debug) through the worker');
  assert.ok(!logs.includes(opts.secret), `the ${what} is in the worker logs`);
  return logs;
}
