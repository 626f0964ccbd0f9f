/**
 * serviceGroupWorkflow: N replicas of one service behind one endpoint, durably.
 *
 *   the proxy (an activity-owned reverse proxy on a worker) ← reads membership by query,
 *                                                          → reports health, drained, load by signal
 *   each replica: a child workloadWorkflow (unchanged: it places, boots, supervises, recovers its
 *   own instance); the group starts one per missing replica, replaces one whose workload ends
 *   unasked, and on scale-down drains one (out of the pool, its in-flight requests finished) before
 *   it cancels its workload.
 *
 * The count: `scale` updates and load (service.autoscale, with cool-down) move the target; a
 * schedule burst (service.scale, on Temporal Schedules) raises the floor for its duration;
 * service.replicas bounds it all.
 */
import {
  ApplicationFailure,
  CancellationScope,
  ChildWorkflowFailure,
  condition,
  getExternalWorkflowHandle,
  isCancellation,
  log,
  ParentClosePolicy,
  proxyActivities,
  setHandler,
  startChild,
  workflowInfo,
  ActivityCancellationType,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import { SA_PROJECT, SA_STATE, SA_TENANT } from '../workload/messages.js';
import { workloadWorkflow } from '../workload/workflow.js';
import {
  burstSignal,
  groupMembershipQuery,
  groupStatusQuery,
  proxyReportSignal,
  scaleUpdate,
  stopGroupUpdate,
  type ProxyReport,
  type ReplicaMember,
  type ScaleEvent,
  type ServiceGroupInput,
  type ServiceGroupResult,
  type ServiceGroupStatus,
} from './serviceGroupMessages.js';
import { clamp, desiredReplicas, freeSlot, loadChangeAllowed, nextIsOnDemand, pickToDrain, replicaSpec, serving, servicePortOf } from './serviceGroupPolicy.js';

/** The proxy lives as long as the group: heartbeating, retried on another worker if its worker dies. */
const proxy = proxyActivities<Activities>({
  startToCloseTimeout: '3650 days',
  heartbeatTimeout: '10s',
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  retry: { initialInterval: '1s', maximumInterval: '10s', nonRetryableErrorTypes: ['InvalidProxyInput'] },
});
const schedules = proxyActivities<Activities>({
  startToCloseTimeout: '1m',
  heartbeatTimeout: '10s',
  retry: { initialInterval: '1s', maximumInterval: '30s', maximumAttempts: 10, nonRetryableErrorTypes: ['InvalidScaleSchedule'] },
});

/** Replicas in a row that end without ever becoming healthy before the group gives up (a broken command, not bad luck). */
const MAX_UNHEALTHY_IN_A_ROW = 3;
/** Scale events kept in status. */
const SCALE_EVENTS_KEPT = 50;

export async function serviceGroupWorkflow(input: ServiceGroupInput): Promise<ServiceGroupResult> {
  const { spec } = input;
  const svc = spec.service;
  if (!svc?.replicas || !svc.endpoint) throw ApplicationFailure.nonRetryable('a service group needs service.replicas and service.endpoint', 'InvalidServiceGroup');
  const { min, max } = svc.replicas;
  const onDemandMin = svc.onDemandMin ?? 0;
  const groupId = workflowInfo().workflowId;
  const members: ReplicaMember[] = [];
  const scaleEvents: ScaleEvent[] = [];
  const drained = new Set<string>();
  const lostQueue: string[] = [];
  const ends: Promise<void>[] = [];
  let target = min;
  let burst: { replicas: number; untilMs: number } | undefined;
  let stopping: string | undefined;
  let report: ProxyReport | undefined;
  let lastChangeMs: number | undefined;
  let lastLoadChangeMs: number | undefined;
  let generation = 0;
  let started = 0;
  let replaced = 0;
  let unhealthyInARow = 0;
  let failure: string | undefined;
  let dirty = true;

  const desired = () => desiredReplicas(target, burst, Date.now(), min, max);
  const record = (by: ScaleEvent['by'], from: number, to: number, why: string) => {
    if (from === to) return;
    scaleEvents.push({ at: new Date().toISOString(), from, to, by, why });
    if (scaleEvents.length > SCALE_EVENTS_KEPT) scaleEvents.shift();
    lastChangeMs = Date.now();
    log.info('scaling', { by, from, to, why });
  };
  const setTarget = (by: ScaleEvent['by'], to: number, why: string) => {
    const before = desired();
    target = clamp(to, min, max);
    record(by, before, desired(), why);
    dirty = true;
  };
  const cooldownMs = svc.autoscale?.cooldown ?? 0;

  setHandler(groupStatusQuery, (): ServiceGroupStatus => ({
    groupId,
    name: spec.name,
    state: stopping ? (members.length ? 'stopping' : 'stopped') : 'running',
    desired: stopping ? 0 : desired(),
    min,
    max,
    onDemandMin,
    ...(report ? { endpoint: report.endpoint, proxy: { served: report.served, failed: report.failed, retried: report.retried, ...(report.loadPerReplica !== undefined ? { loadPerReplica: report.loadPerReplica } : {}) } } : {}),
    members: members.map((m) => ({ ...m })),
    replaced,
    ...(burst && Date.now() < burst.untilMs ? { burst: { replicas: burst.replicas, until: new Date(burst.untilMs).toISOString() } } : {}),
    scaleEvents: [...scaleEvents],
  }));
  setHandler(groupMembershipQuery, () => ({
    groupId,
    desired: stopping ? 0 : desired(),
    min,
    max,
    members: members.map((m) => ({ workloadId: m.workloadId, phase: m.phase })),
    servicePort: servicePortOf(spec),
    ...(svc.autoscale
      ? {
          autoscale: {
            targetInFlight: svc.autoscale.targetInFlight,
            windowMs: svc.autoscale.window,
            // The proxy stays quiet while a change would be refused anyway.
            upAfter: new Date((lastLoadChangeMs ?? 0) + cooldownMs).toISOString(),
            downAfter: new Date((lastChangeMs ?? 0) + cooldownMs).toISOString(),
          },
        }
      : {}),
    ended: !!stopping && members.length === 0,
  }));
  setHandler(proxyReportSignal, (r) => {
    report = r;
    for (const rep of r.replicas) {
      const m = members.find((x) => x.workloadId === rep.workloadId);
      if (!m) continue;
      m.healthy = rep.healthy;
      if (rep.target) m.target = rep.target;
      if (rep.state) m.state = rep.state;
      if (rep.healthy && m.phase === 'starting') {
        m.phase = 'active';
        unhealthyInARow = 0;
      }
    }
    for (const id of r.drained) drained.add(id);
    if (svc.autoscale && r.loadWants !== undefined && !stopping) {
      const now = Date.now();
      const current = desired();
      if (loadChangeAllowed(r.loadWants, current, now, lastLoadChangeMs, lastChangeMs, cooldownMs)) {
        setTarget('load', r.loadWants, `${r.loadPerReplica?.toFixed(2) ?? '?'} requests in flight per replica (target ${svc.autoscale.targetInFlight})`);
        lastLoadChangeMs = now;
      }
    }
    dirty = true;
  });
  setHandler(
    scaleUpdate,
    ({ replicas, why }) => {
      setTarget('manual', replicas, why ?? 'scale requested');
      return desired();
    },
    {
      validator: ({ replicas }) => {
        if (stopping) throw new Error(`the group is stopping (${stopping})`);
        if (!Number.isInteger(replicas) || replicas < min || replicas > max) throw new Error(`replicas must be an integer from ${min} to ${max} (service.replicas), got ${replicas}`);
      },
    },
  );
  setHandler(burstSignal, ({ replicas, forMs, why }) => {
    if (stopping) return;
    const before = desired();
    burst = { replicas: clamp(replicas, min, max), untilMs: Date.now() + forMs };
    record('schedule', before, desired(), why ?? `scheduled burst to ${replicas} for ${Math.round(forMs / 1000)} s`);
    dirty = true;
  });
  setHandler(
    stopGroupUpdate,
    ({ reason }) => {
      stopping = reason ?? 'stopped';
      dirty = true;
      return 'stopping';
    },
    {
      validator: (_args) => {
        if (stopping) throw new Error(`the group is already stopping (${stopping})`);
      },
    },
  );

  function startReplica(): void {
    const slot = freeSlot(members);
    const onDemand = nextIsOnDemand(members, onDemandMin);
    const workloadId = `${groupId}-r${++generation}`;
    const replaces = lostQueue.shift();
    const member: ReplicaMember = { workloadId, slot, phase: 'starting', onDemand, healthy: false, startedAt: new Date().toISOString(), ...(replaces ? { replaces } : {}) };
    members.push(member);
    started++;
    const childSpec = replicaSpec(spec, slot, onDemand);
    ends.push(
      (async () => {
        let why: string;
        try {
          const child = await startChild(workloadWorkflow, {
            workflowId: workloadId,
            args: [{ spec: childSpec }],
            // Ending the group (or its cancellation) stops every replica gracefully.
            parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
            typedSearchAttributes: [
              { key: SA_STATE, value: 'pending' },
              { key: SA_PROJECT, value: spec.project },
              { key: SA_TENANT, value: spec.tenant },
            ],
            memo: { name: spec.name, group: groupId, slot },
            staticSummary: `${spec.name} replica ${slot} of group ${groupId}${onDemand ? ' (on-demand floor)' : ''}`,
          });
          const r = await child.result();
          why = `ended: ${r.outcome}`;
        } catch (e) {
          why = e instanceof ChildWorkflowFailure && e.cause ? `failed: ${e.cause.message}` : `failed: ${(e as Error).message}`;
        }
        const asked = member.phase === 'stopping' || member.phase === 'draining';
        members.splice(members.indexOf(member), 1);
        drained.delete(workloadId);
        if (!asked && !stopping) {
          replaced++;
          lostQueue.push(workloadId);
          if (member.phase === 'starting') unhealthyInARow++;
          log.warn('replica lost: replacing it', { workloadId, why });
          if (unhealthyInARow >= MAX_UNHEALTHY_IN_A_ROW) failure = `${unhealthyInARow} replicas in a row ended before they became healthy; last ${workloadId} ${why}`;
        }
        dirty = true;
      })(),
    );
  }

  async function drain(m: ReplicaMember): Promise<void> {
    m.phase = 'draining';
    // The proxy takes it out of the pool, then reports it drained once its last request finished.
    const inTime = await condition(() => drained.has(m.workloadId), svc!.endpoint!.drainTimeout);
    if (!inTime) log.warn('drain timed out: stopping the replica with requests in flight', { workloadId: m.workloadId });
    // A drain started earlier (scale-down, then the group stopped) may have stopped it already.
    if ((m.phase as ReplicaMember['phase']) === 'stopping' || !members.includes(m)) return;
    m.phase = 'stopping';
    try {
      await getExternalWorkflowHandle(m.workloadId).cancel();
    } catch (e) {
      // Its workload ended meanwhile: nothing left to stop.
      log.info('replica already ended', { workloadId: m.workloadId, error: (e as Error).message });
    }
  }

  function reconcile(): void {
    if (burst && Date.now() >= burst.untilMs) {
      // What the burst held the group at (desired() already leaves an expired burst out).
      const before = clamp(Math.max(target, burst.replicas), min, max);
      burst = undefined;
      record('schedule-end', before, desired(), 'scheduled burst over');
    }
    const want = desired();
    const live = members.filter(serving);
    for (let n = live.length; n < want; n++) startReplica();
    if (live.length > want) for (const m of pickToDrain(members, live.length - want, onDemandMin)) void drain(m).catch(() => undefined); // a cancelled group drains again in its finally
  }

  const proxyScope = new CancellationScope();
  const proxyRun = proxyScope.run(() =>
    proxy.runServiceProxy({ groupId, host: svc.endpoint!.host, port: svc.endpoint!.port, servicePort: servicePortOf(spec) }),
  );
  proxyRun.catch(() => undefined);
  if (svc.scale?.length) await schedules.ensureScaleSchedules({ groupId, taskQueue: workflowInfo().taskQueue, entries: svc.scale });
  record('start', 0, desired(), `service.replicas.min ${min}`);

  try {
    while (!stopping && !failure) {
      if (dirty) {
        dirty = false;
        reconcile();
      }
      const untilBurstEnds = burst ? Math.max(1, burst.untilMs - Date.now()) : undefined;
      const woken = () => dirty || !!stopping || !!failure;
      if (untilBurstEnds === undefined) await condition(woken);
      else await condition(woken, untilBurstEnds);
      if (burst && Date.now() >= burst.untilMs) dirty = true;
    }
  } catch (e) {
    if (!isCancellation(e)) throw e;
    stopping = 'cancelled';
  } finally {
    // Drain and stop every replica, even when the group is cancelled.
    await CancellationScope.nonCancellable(async () => {
      stopping ??= failure ? 'failed' : 'stopped';
      await Promise.all(members.filter((m) => m.phase !== 'stopping').map(drain));
      await Promise.all(ends);
      if (svc.scale?.length) await schedules.deleteScaleSchedules({ groupId, count: svc.scale.length });
      proxyScope.cancel();
      await proxyRun.catch(() => undefined);
    });
  }
  if (failure) throw ApplicationFailure.nonRetryable(failure, 'ServiceGroupFailed');
  return { groupId, replicasStarted: started, replaced, scaleEvents };
}
