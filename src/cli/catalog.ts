/**
 * `gpuflow catalog sync|status|changes|pause|resume`: the synced provider catalogs (one catalog entity and one
 * sync loop per connection, see src/catalog/sync/README.md). Registered on the `catalog`
 * command next to `catalog seed-local`.
 */
import type { Client } from '@temporalio/client';
import { Command, InvalidArgumentError } from 'commander';
import ms from 'ms';
import { CatalogStoreClient } from '../catalog/sync/client.js';
import type { CatalogChange } from '../catalog/sync/diff.js';
import { catalogSyncLoopWorkflowId, type CatalogSyncLoopState } from '../catalog/sync/loopMessages.js';
import { catalogSyncLoopState, configureCatalogSync, requestCatalogSync, syncedConnections } from '../catalog/sync/loops.js';
import { isSnapshotStale } from '../catalog/sync/snapshot.js';
import type { CatalogStatus } from '../catalog/sync/store.js';
import { DEFAULT_STALE_POLL_MULTIPLE } from '../routing/rankOffers.js';
import { SyncedCatalogs } from '../catalog/sync/syncedCatalogs.js';
import { temporalConfigFromEnv } from '../config/temporalConfig.js';
import { connectClient } from '../temporal/connect.js';
import { temporalOverridesOf, withGpuflowClient } from './cliContext.js';
import { parseSince } from '../time/since.js';
import { formatDuration, localTime, relativeTime } from './format.js';

function formatBytes(n: number): string {
  return n >= 1e6 ? `${(n / 1e6).toFixed(1)} MB` : n >= 1e3 ? `${(n / 1e3).toFixed(1)} KB` : `${n} B`;
}

const collect = (v: string, prev: string[]) => [...prev, ...v.split(',').map((s) => s.trim()).filter(Boolean)];

function positiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('must be a whole number above 0');
  return n;
}

/** Status plus what the reader needs to judge it: age and staleness now. */
export interface CatalogStatusView extends CatalogStatus {
  /** The connection's sync loop (one long-lived execution). */
  syncWorkflowId: string;
  ageMs?: number;
  stale: boolean;
  /** The loop's own state (paused, next sync); absent when no worker answered for it. */
  loop?: CatalogSyncLoopState;
  /** Why the loop's state is missing. */
  loopError?: string;
}

export function statusView(s: CatalogStatus, now = Date.now(), loop?: CatalogSyncLoopState | { error: string }): CatalogStatusView {
  const synced = s.syncedAt && s.pollMs ? { syncedAt: s.syncedAt, pollMs: s.pollMs } : undefined;
  return {
    ...s,
    syncWorkflowId: catalogSyncLoopWorkflowId(s.connection),
    ...(synced ? { ageMs: now - Date.parse(synced.syncedAt) } : {}),
    stale: !synced || isSnapshotStale(synced, now, DEFAULT_STALE_POLL_MULTIPLE),
    ...(loop && 'error' in loop ? { loopError: loop.error } : loop ? { loop } : {}),
  };
}

/** The loop's line of `catalog status`: paused (since when, why, how to resume) or when it syncs next. */
export function loopLine(v: CatalogStatusView, now = Date.now()): string | undefined {
  const l = v.loop;
  if (!l) return v.loopError ? `  sync loop: ${v.loopError}` : undefined;
  if (l.paused) {
    const since = l.pausedAt ? ` since ${localTime(l.pausedAt, now)} (${relativeTime(l.pausedAt, now)})` : '';
    return `  PAUSED${since}${l.pauseReason ? `: ${l.pauseReason}` : ''}; no timed syncs (\`gpuflow catalog resume ${v.connection}\` restarts them)`;
  }
  if (l.syncing) return '  syncing now';
  if (l.nextAt) {
    const inMs = Date.parse(l.nextAt) - now;
    return `  next sync ${inMs <= 0 ? 'due now' : `in ${formatDuration(inMs)}`}`;
  }
  return undefined;
}

export function formatStatusView(v: CatalogStatusView, now = Date.now()): string {
  const lines = [
    `${v.connection}${v.provider ? ` (${v.provider})` : ''}: ${v.seq === 0 ? 'never synced' : `sync ${v.seq}, ${formatDuration(v.ageMs ?? 0)} ago${v.stale ? ` STALE (older than ${DEFAULT_STALE_POLL_MULTIPLE} polls: routing reads it live)` : ''}`}`,
  ];
  const everyMs = v.loop?.everyMs ?? v.pollMs;
  if (everyMs) lines.push(`  poll every ${formatDuration(everyMs)} (sync ${v.syncWorkflowId})`);
  const loop = loopLine(v, now);
  if (loop) lines.push(loop);
  lines.push(`  instance types: ${v.listed} listed, ${v.removed} removed (kept), ${v.unusable} not routable`);
  if (v.digest) lines.push(`  catalog ${v.digest.slice(0, 19)}… (${formatBytes(v.bytes ?? 0)}) in the catalog store`);
  if (v.lastFailure) lines.push(`  last failure ${v.lastFailure.at}: ${v.lastFailure.error}`);
  if (v.issues.length) {
    lines.push(`  integrity problems (${v.issues.length}):`);
    for (const i of v.issues.slice(0, 20)) lines.push(`    ${i.kind}: ${i.message}`);
    if (v.issues.length > 20) lines.push(`    ... and ${v.issues.length - 20} more (--json has them all)`);
  } else if (v.seq > 0) lines.push('  integrity: IDs unique and stable, every location has a country');
  return lines.join('\n');
}

export function formatChange(c: CatalogChange): string {
  const head = `${c.at}  ${c.connection.padEnd(10)} ${c.kind.padEnd(7)} ${c.what} [${c.id}]`;
  if (c.kind === 'removed') return `${head} (kept as unavailable)`;
  if (!c.changes?.length) return head;
  return `${head}: ${c.changes.map((f) => `${f.field} ${f.from} -> ${f.to}`).join('; ')}`;
}

/**
 * Whether a command that can read providers live should use the synced catalogs: only when the
 * Temporal environment is known to be the one these connections belong to (an explicit
 * TEMPORAL_ADDRESS/--address, or `gpuflow dev`'s own connections file), so another environment's
 * catalog of a same-named connection is never used.
 */
export function readsSyncedCatalogs(cmd: Command, o: { live: boolean; connectionsFile: string; devConnectionsFile: string }): boolean {
  if (o.live) return false;
  const explicit = !!process.env.TEMPORAL_ADDRESS || !!cmd.optsWithGlobals<{ address?: string }>().address;
  return explicit || o.connectionsFile === o.devConnectionsFile;
}

/** How long `gpuflow offers` waits for Temporal before it plans from live reads alone. */
const OFFERS_CONNECT_TIMEOUT_MS = 3_000;

/**
 * The synced catalogs when a worker environment (Temporal) is reachable, else undefined: for
 * commands that can also work from live provider reads.
 */
export async function withSyncedCatalogs<T>(cmd: Command, fn: (synced: SyncedCatalogs | undefined) => Promise<T>): Promise<T> {
  const cfg = temporalConfigFromEnv(temporalOverridesOf(cmd));
  const connecting = connectClient(cfg);
  const client = await Promise.race([
    connecting.catch(() => undefined),
    new Promise<undefined>((r) => setTimeout(() => r(undefined), OFFERS_CONNECT_TIMEOUT_MS).unref()),
  ]);
  if (!client) {
    connecting.then((c) => c.connection.close()).catch(() => undefined); // connected too late: not needed
    return fn(undefined);
  }
  try {
    return await fn(new SyncedCatalogs(new CatalogStoreClient(client, cfg.taskQueue, { queryTimeoutMs: OFFERS_CONNECT_TIMEOUT_MS })));
  } finally {
    await client.connection.close();
  }
}

/** How long `catalog status` waits for a loop's state (a worker answers it) before it shows the rest. */
const LOOP_QUERY_TIMEOUT_MS = 5_000;

async function connectionsFor(store: CatalogStoreClient, given: string[]): Promise<string[]> {
  if (given.length) return given;
  const [looping, stored] = await Promise.all([syncedConnections(store.temporal), store.connections()]);
  return [...new Set([...looping, ...stored])].sort();
}

/** The loop's state; for a connection with no loop, an error that lists the ones that have one. */
async function loopStateOf(temporal: Client, connection: string): Promise<CatalogSyncLoopState> {
  try {
    return await catalogSyncLoopState(temporal, connection);
  } catch (e) {
    if (!/no catalog sync running/.test((e as Error).message)) throw e;
    const known = await syncedConnections(temporal).catch(() => []);
    throw new Error(`${(e as Error).message}; ${known.length ? `synced connections: ${known.join(', ')}` : 'none is synced yet'} (\`gpuflow catalog status\`)`);
  }
}

export function registerCatalogSyncCommands(catalog: Command): void {
  catalog
    .command('sync')
    .description('sync connections\' catalogs now (signals their sync loops) and wait for the result')
    .option('--connection <names>', 'only these connections (comma-separated or repeated; default: every synced one)', collect, [])
    .option('--timeout <duration>', 'how long to wait for the syncs', '60s')
    .option('--json')
    .action(async (o: { connection: string[]; timeout: string; json?: boolean }, cmd: Command) => {
      const timeoutMs = ms(o.timeout as ms.StringValue) as number | undefined;
      if (typeof timeoutMs !== 'number' || !(timeoutMs > 0)) throw new InvalidArgumentError(`--timeout must be a duration such as 60s (got "${o.timeout}")`);
      await withGpuflowClient(cmd, async (c) => {
        const store = new CatalogStoreClient(c.temporal, c.taskQueue);
        const names = await connectionsFor(store, o.connection);
        if (names.length === 0) throw new Error('no catalog syncs running: start a worker (`gpuflow worker` or `gpuflow dev`), which starts one per connection');
        const results = await Promise.all(
          names.map(async (name) => {
            const before = await store.status(name);
            const startedAt = new Date().toISOString();
            await requestCatalogSync(c.temporal, name);
            const deadline = Date.now() + timeoutMs;
            for (;;) {
              const st = await store.status(name);
              if (st && st.seq > (before?.seq ?? 0)) return { connection: name, ok: true, status: statusView(st) };
              if (st?.lastFailure && st.lastFailure.at >= startedAt) return { connection: name, ok: false, error: st.lastFailure.error, status: statusView(st) };
              if (Date.now() > deadline) return { connection: name, ok: false, error: `no sync finished within ${o.timeout}` };
              await new Promise((r) => setTimeout(r, 250));
            }
          }),
        );
        if (o.json) console.log(JSON.stringify(results, null, 2));
        else for (const r of results) console.log(r.status ? formatStatusView(r.status) + (r.ok ? '' : `\n  sync failed: ${r.error}`) : `${r.connection}: ${r.error}`);
        if (results.some((r) => !r.ok)) process.exitCode = 1;
      });
    });

  catalog
    .command('status')
    .description('each connection\'s synced catalog: last sync, poll time, staleness, types, integrity problems')
    .option('--connection <names>', 'only these connections (comma-separated or repeated)', collect, [])
    .option('--json')
    .action(async (o: { connection: string[]; json?: boolean }, cmd: Command) => {
      await withGpuflowClient(cmd, async (c) => {
        const store = new CatalogStoreClient(c.temporal, c.taskQueue);
        const names = await connectionsFor(store, o.connection);
        const views = await Promise.all(
          names.map(async (name) => {
            const [st, loop] = await Promise.all([
              store.status(name),
              catalogSyncLoopState(c.temporal, name, { timeoutMs: LOOP_QUERY_TIMEOUT_MS }).catch((e: Error) => ({ error: e.message })),
            ]);
            return statusView(st ?? { connection: name, seq: 0, listed: 0, removed: 0, unusable: 0, issues: [], recentSyncs: [] }, Date.now(), loop);
          }),
        );
        if (o.json) return console.log(JSON.stringify(views, null, 2));
        if (views.length === 0) return console.log('no synced catalogs: start a worker (`gpuflow worker` or `gpuflow dev`)');
        console.log(views.map((v) => formatStatusView(v)).join('\n\n'));
      });
    });

  catalog
    .command('changes')
    .description('what changed in the synced catalogs: types added, removed, prices and availability')
    .option('--connection <names>', 'only these connections (comma-separated or repeated)', collect, [])
    .option('--since <when>', 'since this long ago (1h, 7d) or this time (ISO)', '24h')
    .option('--limit <n>', 'at most the newest N changes per connection', positiveInt, 500)
    .option('--json')
    .action(async (o: { connection: string[]; since: string; limit: number; json?: boolean }, cmd: Command) => {
      const sinceMs = parseSince(o.since);
      await withGpuflowClient(cmd, async (c) => {
        const store = new CatalogStoreClient(c.temporal, c.taskQueue);
        const names = await connectionsFor(store, o.connection);
        const read = await Promise.all(names.map((n) => store.changesDetailed(n, { sinceMs, limit: o.limit })));
        const changes = read.flatMap((r) => r.changes).sort((a, b) => a.at.localeCompare(b.at) || a.connection.localeCompare(b.connection));
        read.forEach((r, i) => {
          for (const x of r.incomplete) console.error(`warning: ${names[i]} sync ${x.seq} (${x.at}) changed ${x.total} entries; only ${x.shown} are kept in Temporal: ${x.error}`);
        });
        if (o.json) return console.log(JSON.stringify(changes, null, 2));
        if (changes.length === 0) return console.log(`no catalog changes since ${new Date(sinceMs).toISOString()}${names.length ? '' : ' (no synced catalogs)'}`);
        for (const ch of changes) console.log(formatChange(ch));
      });
    });

  catalog
    .command('pause')
    .description("stop a connection's timed catalog syncs (no provider polling) until `catalog resume`; kept across worker restarts")
    .argument('<connection>', 'the provider connection (`gpuflow catalog status` lists them)')
    .option('--reason <text>', 'why, shown by `gpuflow catalog status`')
    .option('--json')
    .addHelpText(
      'after',
      `
While paused the catalog ages: once it is older than ${DEFAULT_STALE_POLL_MULTIPLE} polls, routing reads the provider live
for each launch instead. \`gpuflow catalog sync --connection NAME\` still syncs once on request.

Examples:
  $ gpuflow catalog pause lambda --reason "API rate limit, ticket 123"
  $ gpuflow catalog status --connection lambda
  $ gpuflow catalog resume lambda`,
    )
    .action(async (connection: string, o: { reason?: string; json?: boolean }, cmd: Command) => {
      if (o.reason !== undefined && !o.reason.trim()) throw new InvalidArgumentError('--reason must not be empty');
      await withGpuflowClient(cmd, async (c) => {
        const before = await loopStateOf(c.temporal, connection);
        const st = await configureCatalogSync(c.temporal, connection, { paused: true, ...(o.reason ? { reason: o.reason.trim() } : {}) });
        if (o.json) return console.log(JSON.stringify(st, null, 2));
        console.log(
          before.paused
            ? `${connection}: already paused since ${st.pausedAt ? localTime(st.pausedAt) : 'before'}${st.pauseReason ? ` (${st.pauseReason})` : ''}`
            : `${connection}: timed catalog syncs paused (every ${formatDuration(st.everyMs)} until now)${st.syncing ? '; the sync in flight finishes' : ''}`,
        );
        console.log(`  \`gpuflow catalog resume ${connection}\` restarts them; routing reads the provider live once the catalog is older than ${DEFAULT_STALE_POLL_MULTIPLE} polls`);
      });
    });

  catalog
    .command('resume')
    .description("restart a connection's timed catalog syncs after `catalog pause` (syncs at once when one is due)")
    .argument('<connection>', 'the provider connection')
    .option('--json')
    .addHelpText('after', '\nExamples:\n  $ gpuflow catalog resume lambda')
    .action(async (connection: string, o: { json?: boolean }, cmd: Command) => {
      await withGpuflowClient(cmd, async (c) => {
        const before = await loopStateOf(c.temporal, connection);
        const st = await configureCatalogSync(c.temporal, connection, { paused: false });
        if (o.json) return console.log(JSON.stringify(st, null, 2));
        const next = st.nextAt ? Date.parse(st.nextAt) - Date.now() : 0;
        const when = next <= 0 ? 'a sync is due now' : `next sync in ${formatDuration(next)}`;
        console.log(before.paused ? `${connection}: timed catalog syncs resumed, every ${formatDuration(st.everyMs)}; ${when}` : `${connection}: not paused (syncs every ${formatDuration(st.everyMs)}; ${when})`);
      });
    });
}
