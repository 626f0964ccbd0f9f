/**
 * Brings up the production-shaped Temporal server on the local PostgreSQL and keeps it running:
 *
 *   node --import tsx scripts/topology/up.ts [--namespace gpuflow] [--db gpuflow_temporal] [--fresh]
 *
 * then, in other shells, as many workers as you like on one task queue:
 *
 *   TEMPORAL_ADDRESS=<printed> TEMPORAL_NAMESPACE=gpuflow npx gpuflow worker --connections ...
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_POSTGRES, ensureNamespace, resolveServerBinaries, setupSchema, startServer } from './topology.js';

const { values } = parseArgs({
  options: { namespace: { type: 'string', default: 'gpuflow' }, db: { type: 'string', default: DEFAULT_POSTGRES.dbPrefix }, fresh: { type: 'boolean', default: false } },
});
const bins = await resolveServerBinaries();
if ('reason' in bins) {
  console.error(`cannot build the Temporal server: ${bins.reason}`);
  process.exit(1);
}
const pg = { ...DEFAULT_POSTGRES, dbPrefix: values.db! };
await setupSchema(bins.dir, pg, { fresh: values.fresh! });
const server = await startServer(bins.dir, pg, mkdtempSync(join(tmpdir(), 'gpuflow-temporal-')));
await ensureNamespace(server.address, values.namespace!);
console.log(`Temporal server ${server.address} on PostgreSQL ${pg.host}:${pg.port} (databases ${pg.dbPrefix}, ${pg.dbPrefix}_visibility)`);
console.log(`namespace ${values.namespace} with gpuflow's search attributes; Ctrl-C to stop.`);
console.log(`\n  export TEMPORAL_ADDRESS=${server.address} TEMPORAL_NAMESPACE=${values.namespace}`);
const stop = async () => {
  await server.stop();
  process.exit(0);
};
process.once('SIGINT', () => void stop());
process.once('SIGTERM', () => void stop());
