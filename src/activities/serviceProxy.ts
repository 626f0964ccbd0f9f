/**
 * The service group's one endpoint: a reverse proxy (http-proxy-3) that this activity owns for the
 * group's life, on the worker that runs it.
 *
 * Every tick it reads the group's membership (a query) and each replica's workload status (its
 * health and host:port), sets the pool, and signals the group when something it acts on changed:
 * a replica's health or target, a draining replica with no request left in flight, or a replica
 * count that load asks for. Requests go to the pooled replica with the fewest in flight; a request
 * that could not reach its replica (connection refused or reset before any response: a replica
 * just lost) is retried on another once it is safe to (no request body), and that replica is
 * ejected for a few seconds. Answers carry x-gpuflow-replica (who answered) and x-gpuflow-tries.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { createProxyServer } from 'http-proxy-3';
import { statusQuery, type WorkloadStatus } from '../workload/messages.js';
import { groupMembershipQuery, proxyReportSignal, type GroupMembership, type ProxyReport, type ReplicaReport } from '../workflows/serviceGroupMessages.js';
import { replicasForLoad } from '../workflows/serviceGroupPolicy.js';
import { ReplicaPool } from './replicaPool.js';

export interface ServiceProxyInput {
  groupId: string;
  host: string;
  port: number;
  /** The replicas' port the proxy sends to (its host port is read from each replica's status). */
  servicePort: number;
  /** How often membership is read (default 250 ms). */
  tickMs?: number;
}

const RETRYABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'ETIMEDOUT']);
const MAX_TRIES = 3;
const EJECT_MS = 5_000;
/** A report is re-sent this often while its counters moved, even if nothing the group acts on did. */
const REFRESH_MS = 30_000;

interface Counters {
  served: number;
  failed: number;
  retried: number;
}

/** Whether a failed attempt may be sent again: nothing answered yet, and no body that was already read. */
function retryable(err: NodeJS.ErrnoException, req: IncomingMessage, res: ServerResponse): boolean {
  const hasBody = req.headers['content-length'] !== undefined ? req.headers['content-length'] !== '0' : req.headers['transfer-encoding'] !== undefined;
  return !res.headersSent && !hasBody && RETRYABLE.has(err.code ?? '') || (!res.headersSent && !hasBody && /socket hang up/.test(err.message));
}

/** The proxy server: the pool decides where each request goes; counters are the proxy's own. */
export function startProxyServer(pool: ReplicaPool, counters: Counters): Server {
  const proxy = createProxyServer({ xfwd: true, proxyTimeout: 120_000 });
  const handle = (req: IncomingMessage, res: ServerResponse, tried: Set<string>): void => {
    const member = pool.pick(tried, Date.now());
    if (!member) {
      counters.failed++;
      res.writeHead(503, { 'content-type': 'text/plain', 'retry-after': '1' });
      res.end(tried.size ? `no replica answered (tried ${tried.size})\n` : 'no healthy replica\n');
      return;
    }
    tried.add(member.id);
    // Which replica answered, and on which try: for clients and tests, as a load balancer's trace headers.
    res.setHeader('x-gpuflow-replica', member.id);
    res.setHeader('x-gpuflow-tries', String(tried.size));
    const end = pool.begin(member.id);
    res.once('close', end);
    res.once('finish', () => counters.served++);
    proxy.web(req, res, { target: `http://${member.target}`, ...(tried.size > 1 ? { buffer: Readable.from([]) } : {}) }, (err) => {
      end();
      const e = err as NodeJS.ErrnoException;
      if (retryable(e, req, res) && tried.size < MAX_TRIES) {
        pool.eject(member.id, Date.now() + EJECT_MS);
        counters.retried++;
        res.removeAllListeners('finish');
        res.once('finish', () => counters.served++);
        handle(req, res, tried);
        return;
      }
      counters.failed++;
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`replica ${member.id} failed: ${e.code ?? e.message}\n`);
    });
  };
  return createServer((req, res) => handle(req, res, new Set()));
}

function replicaView(id: string, status: WorkloadStatus | undefined, servicePort: number): Omit<ReplicaReport, 'inFlight'> {
  if (!status) return { workloadId: id, healthy: false };
  const ep = status.service?.endpoints.find((e) => e.port === servicePort);
  const target = ep?.host ? `${ep.host}:${ep.hostPort}` : undefined;
  return { workloadId: id, healthy: !!status.service?.healthy && status.state === 'running' && !!target, state: status.state, ...(target ? { target } : {}) };
}

/** What the group acts on: a change in any of it is signalled at once. */
function decisionKey(r: ProxyReport): string {
  return JSON.stringify([r.replicas.map((x) => [x.workloadId, x.healthy, x.target ?? '', x.state ?? '']), [...r.drained].sort(), r.loadWants ?? null]);
}

function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

export function serviceProxyActivities() {
  return {
    /** Runs the group's proxy until cancelled (the group ended); see the file comment. */
    async runServiceProxy(input: ServiceProxyInput): Promise<void> {
      if (!(Number.isInteger(input.port) && input.port >= 1 && input.port <= 65535)) throw ApplicationFailure.nonRetryable(`service.endpoint.port must be 1-65535 (got ${input.port})`, 'InvalidProxyInput');
      const ctx = Context.current();
      const client = ctx.client;
      const group = client.workflow.getHandle(input.groupId);
      const pool = new ReplicaPool();
      const counters: Counters = { served: 0, failed: 0, retried: 0 };
      const server = startProxyServer(pool, counters);
      try {
        await listen(server, input.host, input.port);
      } catch (e) {
        throw ApplicationFailure.retryable(`the proxy cannot listen on ${input.host}:${input.port}: ${(e as Error).message}`, 'ProxyListenFailed');
      }
      const endpoint = `${input.host === '0.0.0.0' ? '127.0.0.1' : input.host}:${input.port}`;
      ctx.log.info('service proxy listening', { groupId: input.groupId, endpoint });
      const tickMs = input.tickMs ?? 250;
      const samples: { at: number; total: number }[] = [];
      const statuses = new Map<string, WorkloadStatus>();
      let lastKey = '';
      let lastSentAt = 0;
      let lastCounters = '';
      let membership: GroupMembership | undefined;
      try {
        for (let tick = 0; ; tick++) {
          try {
            membership = await group.query(groupMembershipQuery);
          } catch (e) {
            ctx.log.warn('reading the group membership failed; keeping the last', { error: (e as Error).message });
          }
          if (membership) {
            // Each replica's status every other tick: health changes come from its workflow, not by the millisecond.
            if (tick % 2 === 0) {
              await Promise.all(
                membership.members.map(async (m) => {
                  try {
                    statuses.set(m.workloadId, await client.workflow.getHandle(m.workloadId).query(statusQuery));
                  } catch {
                    statuses.delete(m.workloadId); // not started yet, or gone
                  }
                }),
              );
              for (const id of statuses.keys()) if (!membership.members.some((m) => m.workloadId === id)) statuses.delete(id);
            }
            const views = membership.members.map((m) => ({ m, v: replicaView(m.workloadId, statuses.get(m.workloadId), input.servicePort) }));
            pool.setPool(views.filter(({ m, v }) => (m.phase === 'starting' || m.phase === 'active') && v.healthy && v.target).map(({ m, v }) => ({ id: m.workloadId, target: v.target! })));
            // Drained: out of the pool (set just above) and nothing left in flight.
            const drained = membership.members.filter((m) => (m.phase === 'draining' || m.phase === 'stopping') && pool.inFlight(m.workloadId) === 0).map((m) => m.workloadId);

            const now = Date.now();
            samples.push({ at: now, total: pool.totalInFlight() });
            const windowMs = membership.autoscale?.windowMs ?? 5_000;
            while (samples.length && samples[0]!.at < now - windowMs) samples.shift();
            const avgTotal = samples.reduce((s, x) => s + x.total, 0) / samples.length;
            const pooled = pool.pooledCount();
            let loadWants: number | undefined;
            const as = membership.autoscale;
            // A full window first, so one burst of a few requests does not scale.
            if (as && pooled > 0 && samples.length && now - samples[0]!.at >= windowMs * 0.9) {
              const wants = replicasForLoad(avgTotal, as.targetInFlight, membership.min, membership.max);
              const allowed = wants > membership.desired ? now >= Date.parse(as.upAfter) : wants < membership.desired && now >= Date.parse(as.downAfter);
              if (allowed) loadWants = wants;
            }
            const report: ProxyReport = {
              endpoint,
              replicas: views.map(({ m, v }) => ({ ...v, inFlight: pool.inFlight(m.workloadId) })),
              drained,
              ...(pooled > 0 ? { loadPerReplica: Math.round((avgTotal / pooled) * 100) / 100 } : {}),
              ...(loadWants !== undefined ? { loadWants } : {}),
              ...counters,
            };
            const key = decisionKey(report);
            const countersKey = JSON.stringify(counters);
            if (!membership.ended && (key !== lastKey || (countersKey !== lastCounters && now - lastSentAt >= REFRESH_MS) || lastSentAt === 0)) {
              try {
                await group.signal(proxyReportSignal, report);
                lastKey = key;
                lastSentAt = now;
                lastCounters = countersKey;
              } catch (e) {
                ctx.log.warn('reporting to the group failed; retrying next tick', { error: (e as Error).message });
              }
            }
          }
          ctx.heartbeat({ served: counters.served, failed: counters.failed, inFlight: pool.totalInFlight() });
          await ctx.sleep(tickMs);
        }
      } finally {
        // Stop taking connections; let requests in flight finish (bounded), then close the rest.
        server.close();
        const deadline = Date.now() + 5_000;
        while (pool.totalInFlight() > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
        server.closeAllConnections();
        ctx.log.info('service proxy stopped', { groupId: input.groupId, ...counters });
      }
    },
  };
}
