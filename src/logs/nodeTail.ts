/** The job's `output` read live from the node over SSH (ssh2), from a byte offset: `tail -c +N -F`. */
import ssh2 from 'ssh2';
import type { SshTarget } from '../ssh/sshClient.js';
import { OUTPUT_FILE } from './nodeOutput.js';

/**
 * Streams bytes from `offset` until the connection drops, `signal` aborts, or `stopWhen` (checked
 * each second) says the job is over and no byte came for a second. Resolves with how it ended;
 * the caller resumes from its own offset, so an end in the middle loses nothing.
 */
export function tailNodeOutput(
  target: SshTarget,
  jobDir: string,
  offset: number,
  onData: (b: Buffer) => void,
  opts: { signal?: AbortSignal; stopWhen?: () => Promise<boolean> | boolean } = {},
): Promise<'closed' | 'aborted' | 'stopped'> {
  return new Promise((resolve) => {
    const conn = new ssh2.Client();
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    const end = (how: 'closed' | 'aborted' | 'stopped') => {
      if (settled) return;
      settled = true;
      if (timer) clearInterval(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      conn.end();
      resolve(how);
    };
    const onAbort = () => end('aborted');
    if (opts.signal?.aborted) return end('aborted');
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    let lastData = Date.now();
    conn
      .on('ready', () => {
        conn.exec(`cd "${jobDir}" && exec tail -c +${offset + 1} -F ${OUTPUT_FILE} 2>/dev/null`, (err, stream) => {
          if (err) return end('closed');
          stream.on('data', (d: Buffer) => {
            lastData = Date.now();
            onData(d);
          });
          stream.stderr.resume();
          stream.on('close', () => end('closed'));
          timer = setInterval(() => {
            void (async () => {
              if (Date.now() - lastData >= 1_000 && opts.stopWhen && (await opts.stopWhen())) end('stopped');
            })().catch(() => undefined);
          }, 1_000);
        });
      })
      .on('error', () => end('closed'))
      .on('close', () => end('closed'))
      .connect({ host: target.host, port: target.port, username: target.username, privateKey: target.privateKey, readyTimeout: 15_000, hostVerifier: () => true, keepaliveInterval: 5_000, keepaliveCountMax: 3 });
  });
}
