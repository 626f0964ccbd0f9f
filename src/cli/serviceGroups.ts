/**
 * Service groups in the CLI: `gpuflow status <groupId>` shows the group and its replicas (one
 * line each), `gpuflow scale <groupId> <n>` sets the replica count. Straight to Temporal only:
 * the gpuflow server does not serve groups yet.
 */
import { Command, InvalidArgumentError } from 'commander';
import type { GpuflowClient } from '../client/gpuflowClient.js';
import type { ServiceGroupStatus } from '../workflows/serviceGroupMessages.js';
import { withGpuflowClient } from './cliContext.js';
import { configuredServer } from './workloadBackend.js';

/** The group and one line per replica: slot, phase, health, capacity, where it answers, its workload. */
export function formatGroupStatus(s: ServiceGroupStatus): string {
  const lines = [
    `service group ${s.groupId} (${s.name}): ${s.state}, ${s.members.length} replica(s), aiming for ${s.desired} (min ${s.min}, max ${s.max}, on-demand floor ${s.onDemandMin})`,
    `endpoint: ${s.endpoint ? `http://${s.endpoint}` : 'starting'}${s.proxy ? `  (served ${s.proxy.served}, failed ${s.proxy.failed}, retried ${s.proxy.retried}${s.proxy.loadPerReplica !== undefined ? `, ${s.proxy.loadPerReplica} in flight per replica` : ''})` : ''}`,
  ];
  if (s.burst) lines.push(`scheduled burst: at least ${s.burst.replicas} until ${s.burst.until}`);
  lines.push('replicas:');
  const rows = [...s.members].sort((a, b) => a.slot - b.slot);
  if (rows.length === 0) lines.push('  (none)');
  for (const m of rows) {
    const health = m.healthy ? 'healthy' : (m.state ?? 'pending');
    lines.push(`  ${m.slot}  ${m.phase.padEnd(8)}  ${health.padEnd(12)}  ${(m.onDemand ? 'on-demand' : 'spot-pref').padEnd(9)}  ${(m.target ?? '-').padEnd(21)}  ${m.workloadId}${m.replaces ? ` (replaces ${m.replaces})` : ''}`);
  }
  if (s.replaced) lines.push(`replaced: ${s.replaced} replica(s) whose workload ended unasked`);
  const last = s.scaleEvents.slice(-5);
  if (last.length) lines.push('scaling:', ...last.map((e) => `  ${e.at}  ${e.by.padEnd(12)} ${e.from} → ${e.to}  ${e.why}`));
  return lines.join('\n');
}

/** True when `id` names a service group (its workflow type), false for anything else or nothing. */
export async function isServiceGroup(c: GpuflowClient, id: string): Promise<boolean> {
  try {
    return (await c.temporal.workflow.getHandle(id).describe()).type === 'serviceGroupWorkflow';
  } catch {
    return false;
  }
}

/** `gpuflow status` for a group: printed (true) when `id` is one, reached straight through Temporal. */
export async function printGroupStatusIfGroup(cmd: Command, id: string, json: boolean): Promise<boolean> {
  if (configuredServer(cmd)) return false;
  return withGpuflowClient(cmd, async (c) => {
    if (!(await isServiceGroup(c, id))) return false;
    const s = await c.serviceGroup(id).status();
    console.log(json ? JSON.stringify(s) : formatGroupStatus(s));
    return true;
  });
}

function replicaCount(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('a replica count: 1, 2, ...');
  return n;
}

export function registerScaleCommand(program: Command, examples: (...lines: string[]) => string): void {
  program
    .command('scale')
    .argument('<groupId>')
    .argument('<replicas>', 'replicas to run, within the spec\'s service.replicas', replicaCount)
    .option('--reason <text>', 'kept with the scale event')
    .description('set how many replicas a service group runs (scale-down drains before it stops a replica)')
    .addHelpText('after', examples('gpuflow scale chat-api-1b79c0de 4', 'gpuflow scale chat-api-1b79c0de 1 --reason "event over"'))
    .action(async (id: string, n: number, o: { reason?: string }, cmd: Command) => {
      if (configuredServer(cmd)) throw new Error('gpuflow scale goes straight to Temporal: the gpuflow server does not serve service groups yet (use --address)');
      await withGpuflowClient(cmd, async (c) => {
        if (!(await isServiceGroup(c, id))) throw new Error(`no service group ${id}: \`gpuflow ps\` lists workloads; a group is started from a spec with service.replicas`);
        const now = await c.serviceGroup(id).scale(n, o.reason);
        console.log(`${id}: aiming for ${now} replica(s)`);
      });
    });
}
