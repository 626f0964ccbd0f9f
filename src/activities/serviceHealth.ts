/**
 * A service's health check, run from where the port can be reached: public ports from the worker
 * (what a client sees, through the firewall), internal-only ports on the node itself over SSH.
 * HTTP GET with a path (2xx/3xx is healthy, redirects are not followed), a TCP connect without one.
 */
import { request } from 'node:http';
import { connect } from 'node:net';
import { shellQuote } from '../ssh/shellQuote.js';

export interface ProbeResult {
  healthy: boolean;
  detail: string;
}

export function isHealthyStatus(status: number): boolean {
  return status >= 200 && status < 400;
}

/**
 * A path goes into an HTTP request line (and a shell word on the node): absolute, printable URL
 * characters only, so it can neither break the request nor carry shell text.
 */
export function assertHealthPath(path: string): void {
  if (!/^\/[A-Za-z0-9._~&+,=:@%/?-]*$/.test(path)) {
    throw new RangeError(`healthCheck.path "${path}" must start with "/" and hold only URL characters (no spaces or quotes), e.g. /health`);
  }
}

/** From the worker: HTTP GET http://host:port/path, or a TCP connect. */
export function probeFromWorker(host: string, port: number, path: string | undefined, timeoutMs: number): Promise<ProbeResult> {
  const where = `${host}:${port}`;
  if (path === undefined) {
    return new Promise((resolve) => {
      const socket = connect({ host, port, timeout: timeoutMs });
      socket.once('connect', () => {
        socket.destroy();
        resolve({ healthy: true, detail: `tcp ${where} accepted` });
      });
      socket.once('timeout', () => {
        socket.destroy();
        resolve({ healthy: false, detail: `tcp ${where}: no answer within ${timeoutMs} ms` });
      });
      socket.once('error', (e) => resolve({ healthy: false, detail: `tcp ${where}: ${e.message}` }));
    });
  }
  assertHealthPath(path);
  return new Promise((resolve) => {
    const req = request({ host, port, path, method: 'GET', timeout: timeoutMs, headers: { connection: 'close' } }, (res) => {
      res.resume();
      const status = res.statusCode ?? 0;
      resolve({ healthy: isHealthyStatus(status), detail: `GET http://${where}${path}: ${status}` });
    });
    req.once('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.once('error', (e) => resolve({ healthy: false, detail: `GET http://${where}${path}: ${e.message}` }));
    req.end();
  });
}

/**
 * On the node, with bash's /dev/tcp (no curl or nc needed on the image): a TCP connect, or a raw
 * HTTP/1.0 GET whose status line is read back. `timeout` bounds it where coreutils has it. Prints
 * one line, `HEALTHY <detail>` or `UNHEALTHY <detail>`.
 */
export function nodeProbeCommand(port: number, path: string | undefined, timeoutMs: number): string {
  const seconds = (Math.max(100, timeoutMs) / 1000).toFixed(1);
  const bounded = `if command -v timeout >/dev/null 2>&1; then gpuflow_t=(timeout ${seconds}); else gpuflow_t=(); fi`;
  const where = `127.0.0.1:${port}`;
  if (path === undefined) {
    return [
      bounded,
      `if "\${gpuflow_t[@]}" bash -c 'exec 3<>/dev/tcp/127.0.0.1/${port}' 2>/dev/null; then echo 'HEALTHY tcp ${where} accepted'; else echo 'UNHEALTHY tcp ${where} refused or timed out'; fi`,
    ].join('\n');
  }
  assertHealthPath(path);
  const get = `exec 3<>/dev/tcp/127.0.0.1/${port} || exit 0; printf 'GET %s HTTP/1.0\\r\\nHost: ${where}\\r\\nConnection: close\\r\\n\\r\\n' "$0" >&3; read -r _ code _ <&3; echo "$code"`;
  return [
    bounded,
    `code=$("\${gpuflow_t[@]}" bash -c ${shellQuote(get)} ${shellQuote(path)} 2>/dev/null | tr -d '\\r')`,
    `case "$code" in`,
    `  [23][0-9][0-9]) echo "HEALTHY GET http://${where}${path}: $code" ;;`,
    `  '') echo 'UNHEALTHY GET http://${where}${path}: no answer' ;;`,
    `  *) echo "UNHEALTHY GET http://${where}${path}: $code" ;;`,
    `esac`,
  ].join('\n');
}

export function parseNodeProbe(out: string): ProbeResult {
  const line = out.trim().split('\n').pop() ?? '';
  if (line.startsWith('HEALTHY ')) return { healthy: true, detail: line.slice(8) };
  if (line.startsWith('UNHEALTHY ')) return { healthy: false, detail: line.slice(10) };
  return { healthy: false, detail: `health check on the node printed ${JSON.stringify(line.slice(0, 200))}` };
}
