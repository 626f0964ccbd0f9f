/** Runs `temporal server start-dev` as a child process and waits until it serves. */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { Connection } from '@temporalio/client';
import { SEARCH_ATTRIBUTES } from '../workflows/messages.js';
import { resolveTemporalCli } from './resolveCli.js';

export interface DevServerOptions {
  /** Persist to this SQLite file; omitted = in memory. */
  dbFile?: string;
  ip?: string;
  /** 0 = pick a free port. */
  port?: number;
  /** Web UI port; undefined with headless=false = port + 1000. */
  uiPort?: number;
  headless?: boolean;
  namespace?: string;
  executable?: string;
  logLevel?: 'debug' | 'info' | 'warn' | 'error';
  stdio?: 'inherit' | 'ignore';
}

export interface DevServer {
  address: string;
  namespace: string;
  uiUrl?: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

export async function freePort(host = '127.0.0.1'): Promise<number> {
  const srv = createServer();
  srv.listen(0, host);
  await once(srv, 'listening');
  const port = (srv.address() as { port: number }).port;
  srv.close();
  await once(srv, 'close');
  return port;
}

function searchAttributeFlags(): string[] {
  return SEARCH_ATTRIBUTES.flatMap((k) => ['--search-attribute', `${k.name}=${k.type === 'BOOL' ? 'Bool' : 'Keyword'}`]);
}

/** How many times a dev server on a port it picked itself is retried on another port. */
const PORT_RACE_ATTEMPTS = 3;

export async function startDevServer(opts: DevServerOptions = {}): Promise<DevServer> {
  // A port picked by freePort can be taken by another process before the server binds it (or the
  // server's derived ports, such as the UI's, can be in use): retry on a fresh port in that case.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startDevServerOnce(opts);
    } catch (e) {
      if (opts.port || !(e instanceof DevServerExitedError) || attempt >= PORT_RACE_ATTEMPTS) throw e;
    }
  }
}

/** The dev server process ended before it served; the message carries the end of its stderr. */
export class DevServerExitedError extends Error {
  constructor(code: number | null, args: string[], stderrTail: string) {
    super(`temporal dev server exited early with code ${code} (args: ${args.join(' ')})${stderrTail ? `\n${stderrTail}` : ''}`);
    this.name = 'DevServerExitedError';
  }
}

async function startDevServerOnce(opts: DevServerOptions): Promise<DevServer> {
  const exe = opts.executable ?? resolveTemporalCli();
  if (!exe) {
    throw new Error(
      'no Temporal CLI found: set TEMPORAL_CLI, put `temporal` on PATH, or install Go so scripts/install-temporal.sh can build it',
    );
  }
  const ip = opts.ip ?? '127.0.0.1';
  const port = opts.port || (await freePort(ip));
  const namespace = opts.namespace ?? 'default';
  const args = ['server', 'start-dev', '--ip', ip, '--port', String(port), '--namespace', namespace, '--log-level', opts.logLevel ?? 'error'];
  if (opts.dbFile) args.push('--db-filename', opts.dbFile);
  let uiUrl: string | undefined;
  if (opts.headless ?? true) args.push('--headless');
  else {
    const uiPort = opts.uiPort ?? port + 1000;
    args.push('--ui-port', String(uiPort));
    uiUrl = `http://${ip}:${uiPort}`;
  }
  args.push(...searchAttributeFlags());
  const inheritStderr = (opts.stdio ?? 'inherit') === 'inherit';
  const child = spawn(exe, args, { stdio: ['ignore', opts.stdio ?? 'ignore', inheritStderr ? 'pipe' : 'ignore'] });
  // Stderr is passed through as before, and its last lines are kept for the early-exit error.
  let stderrTail = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    process.stderr.write(chunk);
    stderrTail = (stderrTail + chunk.toString('utf8')).slice(-2_000);
  });
  const address = `${ip}:${port}`;
  const exited = once(child, 'exit').then(([code]) => {
    throw new DevServerExitedError(code as number | null, args, stderrTail.trim());
  });
  exited.catch(() => undefined);
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      const conn = await Promise.race([Connection.connect({ address, connectTimeout: 1_000 }), exited]);
      await conn.workflowService.getSystemInfo({});
      await conn.close();
      break;
    } catch (e) {
      if (child.exitCode !== null || Date.now() > deadline) {
        child.kill('SIGKILL');
        // A connect error while the process was dying: report the exit (and its stderr) instead.
        if (child.exitCode !== null && !(e instanceof DevServerExitedError)) await exited;
        throw e;
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  return {
    address,
    namespace,
    ...(uiUrl ? { uiUrl } : {}),
    process: child,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await once(child, 'exit');
      clearTimeout(t);
    },
  };
}
