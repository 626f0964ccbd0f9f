/** A service on its instance: start it, keep it healthy, restart it when it dies or fails its health check. */
import { ActivityFailure, ApplicationFailure, log } from '@temporalio/workflow';
import type { InstanceRef } from '../../activities/types.js';
import { ON_NODE, onNode } from '../activityOptions.js';
import { now, setAttached, setState, type WorkloadContext } from '../context.js';
import type { AttemptRecord } from '../messages.js';
import { recordServiceDown, recordServiceUp } from '../state.js';

const POLL_MS = 2_000;
const STOP_GRACE_MS = 10_000;

/** `resumeRun`: a continued run re-attaches to the service started as run number `resumeRun` (already healthy once). */
export async function superviseService(ctx: WorkloadContext, target: InstanceRef, record: AttemptRecord, resumeRun?: number): Promise<void> {
  const { run: wl } = ctx;
  const hc = wl.spec.service?.healthCheck;
  const maxRestarts = wl.spec.service?.maxRestarts ?? 5;
  for (let run = resumeRun ?? 0; ; run++) {
    const runInput = {
      ref: target,
      workloadId: wl.workloadId,
      run,
      ports: wl.spec.ports,
      ...(hc
        ? {
            healthCheck: {
              port: hc.port,
              ...(hc.path ? { path: hc.path } : {}),
              intervalMs: hc.interval,
              timeoutMs: hc.timeout,
              failureThreshold: hc.failureThreshold,
              startupTimeoutMs: hc.startupTimeout,
            },
          }
        : {}),
      pollMs: POLL_MS,
      stopGraceMs: STOP_GRACE_MS,
    };
    let why: string;
    try {
      if (run !== resumeRun) {
        setState(ctx, 'bootstrapping', `starting the service on ${target.cloudId}${run ? ` (restart ${run})` : ''}`);
        const started = await onNode.startService.executeWithOptions(
          {
            ...ON_NODE,
            startToCloseTimeout: (hc?.startupTimeout ?? 600_000) + 300_000,
            summary: `start the service on ${target.cloudId}${run ? ` (restart ${run})` : ''}${hc ? `, healthy when ${hc.path ? `GET :${hc.port}${hc.path}` : `:${hc.port} accepts`}` : ''}`,
          },
          [runInput],
        );
        record.jobStartedAt ??= now();
        recordServiceUp(wl, started.endpoints);
        setState(ctx, 'running', `service healthy on ${started.endpoints.map((e) => e.url ?? `${e.host}:${e.hostPort}`).join(', ') || target.cloudId}`);
      }
      wl.resume = { run };
      let end: { reason: string; exitCode?: number; detail: string };
      setAttached(ctx, true);
      try {
        end = await onNode.superviseService.executeWithOptions({ ...ON_NODE, summary: `supervise the service on ${target.cloudId}` }, [runInput]);
      } finally {
        setAttached(ctx, false);
      }
      why = `${end.reason}${end.exitCode !== undefined ? ` (exit code ${end.exitCode})` : ''}: ${end.detail}`;
    } catch (e) {
      const cause = e instanceof ActivityFailure ? e.cause : undefined;
      if (!(cause instanceof ApplicationFailure && cause.type === 'ServiceStartFailed')) throw e;
      why = `did not become healthy: ${cause.message}`;
    }
    wl.resume = undefined;
    if (wl.stopReason) return;
    recordServiceDown(wl, why);
    if (wl.restarts >= maxRestarts) {
      throw ApplicationFailure.nonRetryable(`the service failed ${wl.restarts + 1} times (service.maxRestarts ${maxRestarts}); last: ${why}`, 'ServiceFailed');
    }
    wl.restarts++;
    wl.service!.restarts = wl.restarts;
    log.warn('service down: restarting it', { why, restart: wl.restarts });
    setState(ctx, 'recovering', `service ${why}: restart ${wl.restarts} of ${maxRestarts}`);
  }
}
