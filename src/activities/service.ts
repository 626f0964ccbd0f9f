/**
 * Long-running services on a node: start (or restart on the same instance) until healthy, then
 * supervise until the process exits, is lost, or fails its health check too often. Each call does
 * one run; how many restarts, and when, is the workflow's policy. Both re-attach after a worker
 * restart: the node's job directory, not the worker, holds the state (see node.ts).
 *
 * Ports: the command binds `$GPUFLOW_PORT_<port>` (see jobScript). Public ports are checked from the
 * worker at the instance's public address and host port, as a client would reach them;
 * internal-only ports are checked on the node over SSH.
 */
import { CancelledFailure, Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { Instance } from '../providers/sdk/types.js';
import { SshSession, type ExecResult } from '../ssh/sshClient.js';
import { launchWithAgeCommand, parseLaunch, pollCommand } from './node.js';
import { assertHealthPath, nodeProbeCommand, parseNodeProbe, probeFromWorker, type ProbeResult } from './serviceHealth.js';
import { endpointsFor, healthCheckPort } from './servicePorts.js';
import { instanceAccess, prepareRun, stopAfterCancel, type SshActivityDeps } from './ssh.js';
import type { HealthCheckSpec, ServicePort, ServiceRunInput, StartServiceResult, SuperviseServiceResult } from './types.js';

type Exec = (command: string, timeoutMs: number) => Promise<ExecResult>;

/** One poll of the process: its exit code, running, or gone without one. */
type ProcessState = { kind: 'exited'; exitCode: number } | { kind: 'running' } | { kind: 'lost' };

/** SSH calls stay well inside the 20 s heartbeat timeout the workflow gives these activities. */
const POLL_TIMEOUT_MS = 15_000;

export interface ServiceStartFailureDetails {
  reason: 'exited' | 'lost' | 'startup-timeout';
  exitCode?: number;
}

function serviceStartFailed(message: string, details: ServiceStartFailureDetails): ApplicationFailure {
  return ApplicationFailure.create({ type: 'ServiceStartFailed', message, nonRetryable: true, details: [details] });
}

/** Bad input is a bug in the caller, not something a retry fixes. */
function validate(input: ServiceRunInput): void {
  const problems: string[] = [];
  if (!Number.isInteger(input.run) || input.run < 0) problems.push(`run must be an integer >= 0 (got ${input.run})`);
  for (const [i, p] of input.ports.entries()) {
    for (const [field, v] of [['port', p.port], ['hostPort', p.hostPort]] as const) {
      if (v !== undefined && !(Number.isInteger(v) && v >= 1 && v <= 65535)) problems.push(`ports[${i}].${field} must be 1-65535 (got ${v})`);
    }
  }
  const hc = input.healthCheck;
  if (hc) {
    if (hc.path !== undefined) {
      try {
        assertHealthPath(hc.path);
      } catch (e) {
        problems.push((e as Error).message);
      }
    }
    for (const f of ['intervalMs', 'timeoutMs', 'failureThreshold', 'startupTimeoutMs'] as const) {
      if (!(Number.isFinite(hc[f]) && hc[f] > 0)) problems.push(`healthCheck.${f} must be > 0 (got ${hc[f]})`);
    }
  }
  if (!(input.pollMs > 0)) problems.push(`pollMs must be > 0 (got ${input.pollMs})`);
  if (problems.length > 0) throw ApplicationFailure.nonRetryable(`invalid service input: ${problems.join('; ')}`, 'InvalidServiceInput');
}

async function pollProcess(exec: Exec, workloadId: string): Promise<ProcessState> {
  const r = await exec(pollCommand(workloadId), POLL_TIMEOUT_MS);
  const line = r.stdout.trim();
  if (line.startsWith('EXIT ')) return { kind: 'exited', exitCode: Number(line.slice(5)) };
  if (line === 'RUNNING') return { kind: 'running' };
  if (line === 'LOST') return { kind: 'lost' };
  throw ApplicationFailure.retryable(`polling the service failed (exit ${r.code}): ${r.stderr.trim().slice(0, 500)}`, 'PollFailed');
}

async function probe(exec: Exec, hc: HealthCheckSpec, ports: ServicePort[], inst: Instance): Promise<ProbeResult> {
  const { hostPort, public: isPublic } = healthCheckPort(ports, hc.port);
  const host = inst.publicIp || inst.publicDns;
  if (isPublic && host) return probeFromWorker(host, hostPort, hc.path, hc.timeoutMs);
  const r = await exec(nodeProbeCommand(hostPort, hc.path, hc.timeoutMs), hc.timeoutMs + POLL_TIMEOUT_MS);
  return parseNodeProbe(r.stdout);
}

/**
 * The process reads LOST (no process, no exit code) only when seen twice in a row: one odd reading
 * on a loaded node is not a lost service.
 */
class LostTracker {
  private lostOnce = false;

  /** True when this reading confirms the process is lost. */
  see(state: ProcessState): boolean {
    const confirmed = state.kind === 'lost' && this.lostOnce;
    this.lostOnce = state.kind === 'lost';
    return confirmed;
  }

  get suspicious(): boolean {
    return this.lostOnce;
  }
}

export function serviceActivities(deps: SshActivityDeps) {
  return {
    /**
     * Launches run `input.run` of the service (stopping and rotating the previous run first when
     * run > 0) and waits, heartbeating, until it is healthy: its health check passes, or without
     * one, its process is still alive two poll intervals after launch. Fails non-retryably with
     * ServiceStartFailed when the process ends first or the startup timeout passes.
     */
    async startService(input: ServiceRunInput): Promise<StartServiceResult> {
      validate(input);
      const ctx = Context.current();
      const { instance, target } = await instanceAccess(deps, input.ref);
      const session = new SshSession(target);
      const exec: Exec = (command, timeoutMs) => session.exec(command, { timeoutMs, signal: ctx.cancellationSignal });
      try {
        if (input.run > 0) await prepareRun(exec, input.workloadId, input.run, input.stopGraceMs);
        const launchCalledAt = Date.now();
        const launched = await exec(launchWithAgeCommand(input.workloadId), POLL_TIMEOUT_MS * 2);
        if (launched.code !== 0) throw ApplicationFailure.retryable(`launching the service failed: ${launched.stderr.trim().slice(0, 500)}`, 'LaunchFailed');
        const { state, ageSeconds } = parseLaunch(launched.stdout);
        const reattached = state !== 'STARTED';
        ctx.log.info(reattached ? 're-attached to service run' : 'service started', { workloadId: input.workloadId, run: input.run });
        // The deadline runs from the launch, so a retried attempt does not get a fresh one (the
        // node's clock, to the second, for a run an earlier attempt launched).
        const launchedAt = state === 'STARTED' ? launchCalledAt : Date.now() - ageSeconds * 1000;
        const hc = input.healthCheck;
        const aliveFor = 2 * input.pollMs;
        const deadline = launchedAt + (hc ? hc.startupTimeoutMs : aliveFor + 60_000);
        const lost = new LostTracker();
        let last = 'not checked yet';
        for (;;) {
          ctx.heartbeat({ phase: 'starting', run: input.run });
          const proc = await pollProcess(exec, input.workloadId);
          if (proc.kind === 'exited') {
            throw serviceStartFailed(`run ${input.run} exited with code ${proc.exitCode} before it became healthy (last check: ${last})`, {
              reason: 'exited',
              exitCode: proc.exitCode,
            });
          }
          if (lost.see(proc)) throw serviceStartFailed(`run ${input.run}: the process is gone without an exit code`, { reason: 'lost' });
          if (proc.kind === 'running') {
            if (hc) {
              const r = await probe(exec, hc, input.ports, instance);
              last = r.detail;
              if (r.healthy) return { endpoints: endpointsFor(input.ports, instance), readyAfterMs: Date.now() - launchedAt, reattached };
            } else if (Date.now() - launchedAt >= aliveFor) {
              return { endpoints: endpointsFor(input.ports, instance), readyAfterMs: Date.now() - launchedAt, reattached };
            }
          }
          if (Date.now() > deadline) {
            throw serviceStartFailed(`run ${input.run} not healthy within ${deadline - launchedAt} ms of launch (last check: ${last})`, { reason: 'startup-timeout' });
          }
          await ctx.sleep(lost.suspicious ? 1_000 : Math.min(input.pollMs, hc?.intervalMs ?? input.pollMs));
        }
      } catch (e) {
        if (!(e instanceof CancelledFailure) && !ctx.cancellationSignal.aborted) throw e;
        // The workflow run is gone (not a cancel): it continued as new and its next run re-attaches,
        // so stopping here would kill the job under it. (A run terminated from outside leaves the
        // node to its watchdog, as it leaves the instance to the orphan sweep.)
        if (ctx.cancellationDetails?.notFound) throw e;
        throw await stopAfterCancel(target, input.workloadId, input.stopGraceMs, e, 'service');
      } finally {
        session.close();
      }
    },

    /**
     * Watches a started service, heartbeating: its process every pollMs, its health check every
     * intervalMs. Returns when the process exited or was lost, or after failureThreshold failed
     * checks in a row (the process is left running: the next startService stops it). The count of
     * failures survives a worker restart in the heartbeat details. On cancellation it stops the
     * service gracefully and rethrows the cancellation.
     */
    async superviseService(input: ServiceRunInput): Promise<SuperviseServiceResult> {
      validate(input);
      const ctx = Context.current();
      const { instance, target } = await instanceAccess(deps, input.ref);
      const session = new SshSession(target);
      const exec: Exec = (command, timeoutMs) => session.exec(command, { timeoutMs, signal: ctx.cancellationSignal });
      const hc = input.healthCheck;
      const previous = ctx.info.heartbeatDetails as { failures?: number } | undefined;
      let failures = typeof previous?.failures === 'number' ? previous.failures : 0;
      let nextCheck = Date.now() + (hc?.intervalMs ?? 0);
      const lost = new LostTracker();
      try {
        for (;;) {
          ctx.heartbeat({ phase: 'supervising', run: input.run, failures });
          const proc = await pollProcess(exec, input.workloadId);
          if (proc.kind === 'exited') return { reason: 'exited', exitCode: proc.exitCode, detail: `run ${input.run} exited with code ${proc.exitCode}` };
          if (lost.see(proc)) return { reason: 'lost', detail: `run ${input.run}: the process is gone without an exit code` };
          if (hc && proc.kind === 'running' && Date.now() >= nextCheck) {
            const r = await probe(exec, hc, input.ports, instance);
            failures = r.healthy ? 0 : failures + 1;
            nextCheck = Date.now() + hc.intervalMs;
            ctx.heartbeat({ phase: 'supervising', run: input.run, failures });
            if (failures >= hc.failureThreshold) {
              return { reason: 'unhealthy', detail: `run ${input.run}: ${failures} health checks failed in a row; last: ${r.detail}` };
            }
          }
          const untilCheck = hc ? Math.max(0, nextCheck - Date.now()) : input.pollMs;
          await ctx.sleep(lost.suspicious ? 1_000 : Math.max(50, Math.min(input.pollMs, untilCheck)));
        }
      } catch (e) {
        if (!(e instanceof CancelledFailure) && !ctx.cancellationSignal.aborted) throw e;
        // The workflow run is gone (not a cancel): it continued as new and its next run re-attaches,
        // so stopping here would kill the job under it. (A run terminated from outside leaves the
        // node to its watchdog, as it leaves the instance to the orphan sweep.)
        if (ctx.cancellationDetails?.notFound) throw e;
        throw await stopAfterCancel(target, input.workloadId, input.stopGraceMs, e, 'service');
      } finally {
        session.close();
      }
    },
  };
}
