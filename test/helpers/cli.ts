/** Runs the gpuflow CLI as a user would: a real child process, exit code and both streams captured. */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { nodeEntryArgs } from '../../src/cli/nodeEntry.js';

const run = promisify(execFile);

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export async function runGpuflow(env: NodeJS.ProcessEnv, args: string[], timeoutMs = 120_000): Promise<CliResult> {
  try {
    const r = await run(process.execPath, [...nodeEntryArgs('cli/main'), ...args], { env, timeout: timeoutMs });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const err = e as CliResult;
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}
