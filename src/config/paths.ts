import { homedir } from 'node:os';
import { join } from 'node:path';

/** Where gpuflow keeps its state on this machine (keys, connections, dev server data). */
export function gpuflowHome(): string {
  return process.env.GPUFLOW_HOME ?? join(homedir(), '.gpuflow');
}
