/**
 * Runs the local cloud daemon:
 *
 *   node --import tsx src/providers/local/daemon/main.ts --data-dir DIR --port P --token-file FILE [--catalog catalog.yaml | --from-skypilot DIR]
 *
 * Prints one JSON line `{"url":..., "pid":...}` on stdout once listening (logs go to stderr) and
 * shuts down cleanly on SIGTERM/SIGINT, leaving the state in DIR for the next start.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { pino } from 'pino';
import { skypilotToLocalCatalog } from '../../../catalog/skypilot/toLocalCatalog.js';
import { loadCatalogFile, parseCatalog } from './catalog.js';
import { startLocalCloud } from './server.js';

function parsePort(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('port must be an integer from 0 to 65535');
  return n;
}

function readToken(file: string, init: boolean): string {
  if (!existsSync(file)) {
    if (!init) throw new Error(`token file ${file} does not exist (pass --init-token to create one)`);
    mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    writeFileSync(file, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600 });
  }
  const token = readFileSync(file, 'utf8').trim();
  if (token.length < 8) throw new Error(`token file ${file} must hold a token of at least 8 characters`);
  return token;
}

async function main(): Promise<void> {
  const program = new Command()
    .name('local-cloud')
    .description('gpuflow local cloud: a provider whose instances are real sshd-backed machines on this host')
    .requiredOption('--data-dir <dir>', 'directory for state and instances')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--port <port>', 'port to listen on (0 = any free port)', parsePort, 0)
    .requiredOption('--token-file <file>', 'file holding the bearer token clients must send')
    .option('--init-token', 'create the token file with a random token if it does not exist', false)
    .option('--catalog <file>', 'catalog YAML (regions, instance types, prices, capacity); default: built-in')
    .option('--from-skypilot <dir>', 'catalog from a SkyPilot catalog directory (<cloud>/vms.csv), as `gpuflow catalog seed-local` writes it')
    .option('--log-level <level>', 'pino log level', process.env.GPUFLOW_LOG_LEVEL ?? 'info')
    .parse(process.argv);
  const o = program.opts<{
    dataDir: string;
    host: string;
    port: number;
    tokenFile: string;
    initToken: boolean;
    catalog?: string;
    fromSkypilot?: string;
    logLevel: string;
  }>();

  const logger = pino(
    { name: 'local-cloud', level: o.logLevel, redact: { paths: ['token', 'authorization', '*.authorization'], censor: '[redacted]' } },
    pino.destination(2),
  );
  const token = readToken(o.tokenFile, o.initToken);
  if (o.catalog && o.fromSkypilot) throw new Error('give --catalog or --from-skypilot, not both');
  const catalog = o.catalog
    ? loadCatalogFile(o.catalog)
    : o.fromSkypilot
      ? parseCatalog(skypilotToLocalCatalog(o.fromSkypilot).catalog, `catalog from SkyPilot ${o.fromSkypilot}`)
      : undefined;
  const handle = await startLocalCloud({ dataDir: o.dataDir, host: o.host, port: o.port, token, catalog, logger });
  process.stdout.write(`${JSON.stringify({ url: handle.url, pid: process.pid })}\n`);

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    handle
      .close()
      .then(() => process.exit(0))
      .catch((err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      });
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`local-cloud: ${(err as Error)?.message ?? String(err)}\n`);
  process.exit(1);
});
