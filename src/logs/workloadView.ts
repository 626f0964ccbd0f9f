/** The reader's view of a workload (see reader.ts), from its workflow through a Temporal client. */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { jobDir } from '../activities/node.js';
import { gpuflowHome } from '../config/paths.js';
import type { WorkloadStatus } from '../workload/messages.js';
import type { LiveAttempt, WorkloadLogView } from './reader.js';

/** Queries need a worker: without one they would hang; the reader then goes by the store alone. */
const QUERY_TIMEOUT_MS = 5_000;

/** The worker's key as `gpuflow dev` and `gpuflow worker` keep it (GPUFLOW_SSH_KEY overrides), if readable here. */
export function defaultSshKeyFile(): string | undefined {
  const f = process.env.GPUFLOW_SSH_KEY ?? join(gpuflowHome(), 'dev', 'ssh', 'id_ed25519');
  return existsSync(f) ? f : undefined;
}

export function workflowLogView(
  workloadId: string,
  handle: WorkflowHandle,
  status: () => Promise<WorkloadStatus>,
  sshKeyFile: string | undefined,
): WorkloadLogView {
  // A gRPC deadline, not a race: a query left retrying in the background would outlive the
  // reader and throw once the client's connection is closed.
  const query = () => handle.client.connection.withDeadline(Date.now() + QUERY_TIMEOUT_MS, status);
  let key: string | undefined;
  return {
    async running() {
      const d = await handle.client.connection.withDeadline(Date.now() + QUERY_TIMEOUT_MS, () => handle.describe());
      return d.status.name === 'RUNNING' || d.status.name === 'CONTINUED_AS_NEW';
    },
    async attempts(): Promise<LiveAttempt[]> {
      const st = await query();
      return st.attempts.flatMap((a, i) => (a.cloudId ? [{ attempt: i + 1, cloudId: a.cloudId }] : []));
    },
    async liveTarget() {
      if (!sshKeyFile) return undefined;
      const st = await query();
      const i = st.instance;
      if (st.state === 'terminated' || !i?.sshHost || !i.sshPort || !i.sshUser) return undefined;
      key ??= readFileSync(sshKeyFile, 'utf8');
      return { target: { host: i.sshHost, port: i.sshPort, username: i.sshUser, privateKey: key }, jobDir: jobDir(workloadId), cloudId: i.cloudId };
    },
  };
}
