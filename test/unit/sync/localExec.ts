/** A NodeExec that runs commands in a local bash with HOME pointed at a temp "node" (no SSH): the real tar and shell. */
import { spawn } from 'node:child_process';
import type { NodeExec } from '../../../src/sync/nodeSync.js';

export function localExec(home: string): NodeExec & { wire: number } {
  const exec = ((command, opts) =>
    new Promise((resolve, reject) => {
      const child = spawn('bash', ['-c', command], { env: { ...process.env, HOME: home }, stdio: ['pipe', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, stderr }));
      if (typeof opts.stdin === 'string') child.stdin.end(opts.stdin);
      // Late, as over SSH (the channel opens after a round trip): a source that starts flowing
      // before it is piped loses its first bytes, and this catches it.
      else if (opts.stdin) {
        const input = opts.stdin;
        setTimeout(() => input.pipe(child.stdin), 50);
      }
      else child.stdin.end();
    })) as NodeExec & { wire: number };
  exec.wire = 0;
  return exec;
}
