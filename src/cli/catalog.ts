/**
 * `gpuflow catalog sync|status|changes`: the synced provider catalogs (one catalog entity and one
 * sync schedule per connection, see src/catalog/sync/README.md). Registered on the `catalog`
 * command next to `catalog seed-local`.
 */
import { Command, InvalidArgumentError } from 'commander';
import ms from 'ms';
import { CatalogStoreClient } from '../catalog/sync/client.js';
import type { CatalogChange } from '../catalog/sync/diff.js';
import { catalogScheduleId, scheduledConnections, triggerCatalogSync } from '../catalog/sync/schedules.js';
import { isSnapshotStale } from '../catalog/sync/snapshot.js';
import type { CatalogStatus } from '../catalog/sync/store.js';
import { DEFAULT_STALE_POLL_MULTIPLE } from '../routing/rankOffers.js';
import { SyncedCatalogs } from '../catalog/sync/syncedCatalogs.js';
import { temporalConfigFromEnv } from '../config/temporalConfig.js';
import { connectClient } from '../temporal/connect.js';
import { temporalOverridesOf, withGpuflowClient } from './cliContext.js';
import { formatDuration } from './format.js';

const collect = (v: string, prev: string[]) => [...prev, ...v.split(',').map((s) => s.trim()).filter(Boolean)];

/** "1h", "30m", "7d" (that long ago) or an ISO date/time: epoch ms. */
export function parseSince(v: string, now = Date.now()): number {
  const rel = ms(v.trim() as ms.StringValue) as number | undefined;
  if (typeof rel === 'number' && Number.isFinite(rel) && rel >= 0) return now - rel;
  const abs = Date.parse(v);
  if (Number.isFinite(abs)) return abs;
  throw new InvalidArgumentError(`use a duration such as 1h, 30m or 7d, or a date such as 2026-11-23T10:00:00Z (got "${v}")`);
}

function positiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('must be a whole number above 0');
  return n;
}

/** Status plus what the reader needs to judge it: age and staleness now. */
export interface CatalogStatusView extends CatalogStatus {
  scheduleId: string;
  ageMs?: number;
  stale: boolean;
}

export function statusView(s: CatalogStatus, now = Date.now()): CatalogStatusView {
  const synced = s.syncedAt && s.pollMs ? { syncedAt: s.syncedAt, pollMs: s.pollMs } : undefined;
  return {
    ...s,
    scheduleId: catalogScheduleId(s.connection),
    ...(synced ? { ageMs: now - Date.parse(synced.syncedAt) } : {}),
    stale: !synced || isSnapshotStale(synced, now, DEFAULT_STALE_POLL_MULTIPLE),
  };
}

export function formatStatusView(v: CatalogStatusView): string {
  const lines = [
    `${v.connection}${v.provider ? ` (${v.provider})` : ''}: ${v.seq === 0 ? 'never synced' : `sync ${v.seq}, ${formatDuration(v.ageMs ?? 0)} ago${v.stale ? ` STALE (older than ${DEFAULT_STALE_POLL_MULTIPLE} polls: routing reads it live)` : ''}`}`,
  ];
  if (v.pollMs) lines.push(`  poll every ${formatDuration(v.pollMs)} (schedule ${v.scheduleId})`);
  lines.push(`  instance types: ${v.listed} listed, ${v.removed} removed (kept), ${v.unusable} not routable`);
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

async function connectionsFor(store: CatalogStoreClient, given: string[]): Promise<string[]> {
  if (given.length) return given;
  const [scheduled, stored] = await Promise.all([scheduledConnections(store.temporal), store.connections()]);
  return [...new Set([...scheduled, ...stored])].sort();
}

export function registerCatalogSyncCommands(catalog: Command): void {
  catalog
    .command('sync')
    .description('sync connections\' catalogs now (triggers their schedules) and wait for the result')
    .option('--connection <names>', 'only these connections (comma-separated or repeated; default: every scheduled one)', collect, [])
    .option('--timeout <duration>', 'how long to wait for the syncs', '60s')
    .option('--json')
    .action(async (o: { connection: string[]; timeout: string; json?: boolean }, cmd: Command) => {
      const timeoutMs = ms(o.timeout as ms.StringValue) as number | undefined;
      if (typeof timeoutMs !== 'number' || !(timeoutMs > 0)) throw new InvalidArgumentError(`--timeout must be a duration such as 60s (got "${o.timeout}")`);
      await withGpuflowClient(cmd, async (c) => {
        const store = new CatalogStoreClient(c.temporal, c.taskQueue);
        const names = await connectionsFor(store, o.connection);
        if (names.length === 0) throw new Error('no catalog sync schedules: start a worker (`gpuflow worker` or `gpuflow dev`), which creates one per connection');
        const results = await Promise.all(
          names.map(async (name) => {
            const before = await store.status(name);
            const startedAt = new Date().toISOString();
            await triggerCatalogSync(c.temporal, name);
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
          names.map(async (name) => statusView((await store.status(name)) ?? { connection: name, seq: 0, listed: 0, removed: 0, unusable: 0, issues: [], recentSyncs: [] })),
        );
        if (o.json) return console.log(JSON.stringify(views, null, 2));
        if (views.length === 0) return console.log('no synced catalogs: start a worker (`gpuflow worker` or `gpuflow dev`)');
        console.log(views.map(formatStatusView).join('\n\n'));
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
        const changes = (await Promise.all(names.map((n) => store.changes(n, { sinceMs, limit: o.limit })))).flat().sort((a, b) => a.at.localeCompare(b.at) || a.connection.localeCompare(b.connection));
        if (o.json) return console.log(JSON.stringify(changes, null, 2));
        if (changes.length === 0) return console.log(`no catalog changes since ${new Date(sinceMs).toISOString()}${names.length ? '' : ' (no synced catalogs)'}`);
        for (const ch of changes) console.log(formatChange(ch));
      });
    });
}
