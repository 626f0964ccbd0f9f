/**
 * SSH to instances with ssh2: one connection per command (instances come and go; pooling would
 * outlive them). Host keys are not pinned: instances are fresh and their keys unknown in advance,
 * as in the Brev contract; authentication is by our key only.
 */
import ssh2 from 'ssh2';

export interface SshTarget {
  host: string;
  port: number;
  username: string;
  /** OpenSSH private key text. Never logged. */
  privateKey: string;
}

export interface ExecResult {
  code: number | null;
  signal?: string;
  stdout: string;
  stderr: string;
}

export interface ExecOptions {
  /** Text, or a stream piped to the command's stdin with backpressure (a tar archive). */
  stdin?: string | NodeJS.ReadableStream;
  timeoutMs?: number;
  signal?: AbortSignal | undefined;
  /** Keeps at most this many characters of each stream (the tail). */
  maxOutputChars?: number;
}

export class SshConnectError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SshConnectError';
  }
}

/**
 * What an aborted call rejects with: the signal's own reason when it is an error (an activity's
 * cancellation signal carries Temporal's CancelledFailure, so a cancelled activity reports
 * cancelled, not failed), else `fallback`.
 */
function abortError(signal: AbortSignal | undefined, fallback: () => Error): Error {
  return signal?.reason instanceof Error ? signal.reason : fallback();
}

function connect(target: SshTarget, readyTimeoutMs: number, signal?: AbortSignal): Promise<ssh2.Client> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortError(signal, () => new SshConnectError('aborted')));
    const conn = new ssh2.Client();
    const onAbort = () => {
      conn.end();
      reject(abortError(signal, () => new SshConnectError('aborted')));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    conn
      .on('ready', () => {
        signal?.removeEventListener('abort', onAbort);
        resolve(conn);
      })
      .on('error', (err) => {
        signal?.removeEventListener('abort', onAbort);
        reject(new SshConnectError(`ssh ${target.username}@${target.host}:${target.port}: ${err.message}`, { cause: err }));
      })
      .connect({
        host: target.host,
        port: target.port,
        username: target.username,
        privateKey: target.privateKey,
        readyTimeout: readyTimeoutMs,
        hostVerifier: () => true,
        keepaliveInterval: 10_000,
      });
  });
}

function keepTail(s: string, max: number): string {
  return s.length > max ? s.slice(s.length - max) : s;
}

function execOn(conn: ssh2.Client, command: string, opts: ExecOptions, onTimeout: () => void): Promise<ExecResult> {
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const max = opts.maxOutputChars ?? 1_000_000;
  return new Promise<ExecResult>((resolve, reject) => {
    if (opts.signal?.aborted) return reject(abortError(opts.signal, () => new Error('ssh command aborted')));
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => {
      // A long activity's signal outlives many calls: a timed-out call must not leave its listener on it.
      opts.signal?.removeEventListener('abort', onAbort);
      onTimeout();
      reject(new Error(`ssh command timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    const onAbort = () => {
      clearTimeout(timer);
      onTimeout();
      reject(abortError(opts.signal, () => new Error('ssh command aborted')));
    };
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    conn.exec(command, (err, stream) => {
      if (err) {
        clearTimeout(timer);
        opts.signal?.removeEventListener('abort', onAbort);
        reject(err);
        return;
      }
      stream
        .on('close', (code: number | null, sig?: string) => {
          clearTimeout(timer);
          opts.signal?.removeEventListener('abort', onAbort);
          resolve({ code: code ?? null, ...(sig ? { signal: sig } : {}), stdout, stderr });
        })
        .on('data', (d: Buffer) => {
          stdout = keepTail(stdout + d.toString('utf8'), max);
        });
      stream.stderr.on('data', (d: Buffer) => {
        stderr = keepTail(stderr + d.toString('utf8'), max);
      });
      if (typeof opts.stdin === 'string') stream.end(opts.stdin);
      else if (opts.stdin) {
        const input = opts.stdin;
        input.on('error', (e: Error) => {
          clearTimeout(timer);
          opts.signal?.removeEventListener('abort', onAbort);
          onTimeout();
          reject(e);
        });
        input.pipe(stream);
      } else stream.end();
    });
  });
}

/** One command on its own connection. */
export async function sshExec(target: SshTarget, command: string, opts: ExecOptions = {}): Promise<ExecResult> {
  const conn = await connect(target, Math.min(opts.timeoutMs ?? 60_000, 30_000), opts.signal);
  try {
    return await execOn(conn, command, opts, () => conn.end());
  } finally {
    conn.end();
  }
}

/**
 * A connection kept open for many commands (a job's poll loop): one handshake instead of one per
 * poll. Reconnects on the next command after the connection drops.
 */
export class SshSession {
  private conn: ssh2.Client | undefined;

  constructor(private readonly target: SshTarget) {}

  async exec(command: string, opts: ExecOptions = {}): Promise<ExecResult> {
    if (!this.conn) {
      const conn = await connect(this.target, Math.min(opts.timeoutMs ?? 60_000, 30_000), opts.signal);
      conn.on('close', () => {
        if (this.conn === conn) this.conn = undefined;
      });
      conn.on('error', () => {
        if (this.conn === conn) this.conn = undefined;
      });
      this.conn = conn;
    }
    const conn = this.conn;
    try {
      return await execOn(conn, command, opts, () => this.drop(conn));
    } catch (e) {
      this.drop(conn);
      throw e;
    }
  }

  private drop(conn: ssh2.Client): void {
    if (this.conn === conn) this.conn = undefined;
    conn.end();
  }

  close(): void {
    if (this.conn) this.drop(this.conn);
  }
}

export interface WaitForSshOptions {
  timeoutMs?: number;
  attemptTimeoutMs?: number;
  intervalMs?: number;
  signal?: AbortSignal;
  onAttempt?: (attempt: number, error?: Error) => void;
}

/** Retries `echo connected` until it works or the deadline passes (contract: 10 min, 30 s per try, 1 s apart). */
export async function waitForSsh(target: SshTarget, opts: WaitForSshOptions = {}): Promise<number> {
  const timeoutMs = opts.timeoutMs ?? 10 * 60_000;
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 1; ; attempt++) {
    try {
      const r = await sshExec(target, "echo 'connected'", { timeoutMs: opts.attemptTimeoutMs ?? 30_000, signal: opts.signal });
      if (r.code === 0 && r.stdout.includes('connected')) {
        opts.onAttempt?.(attempt);
        return attempt;
      }
      opts.onAttempt?.(attempt, new Error(`exit ${r.code}: ${r.stderr.trim()}`));
    } catch (e) {
      opts.onAttempt?.(attempt, e as Error);
      if (opts.signal?.aborted) throw e;
    }
    if (Date.now() + (opts.intervalMs ?? 1_000) > deadline) {
      throw new SshConnectError(`ssh to ${target.host}:${target.port} not reachable within ${timeoutMs} ms`);
    }
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 1_000));
  }
}

/** A fresh ed25519 key pair in OpenSSH format. */
export function generateSshKeyPair(comment = 'gpuflow'): { privateKey: string; publicKey: string } {
  const kp = ssh2.utils.generateKeyPairSync('ed25519', { comment });
  return { privateKey: kp.private, publicKey: kp.public.trim() };
}

export { shellQuote } from './shellQuote.js';
