/**
 * An instance's sshd is ready when it says it listens, not when its port merely accepts a
 * connection: the port freePort picked may be bound by someone else first (a concurrent start given
 * the same port), and a connect then reaches that listener while this sshd exits. Without the
 * check the instance was reported running on a port another sshd answered, and every SSH attempt
 * failed until bootstrap gave up (600 s).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import net from 'node:net';
import pino from 'pino';
import { instancePaths, prepareInstanceDir, startSshd, stopSshd, DEFAULT_SSHD_TOOLS } from '../../../../src/providers/local/daemon/sshd.js';

/** Not sshd: binds the configured port (as the other listener would), answers, then exits 255 as a failed bind does. */
const IMPOSTOR = `#!/usr/bin/env node
const fs = require('node:fs');
const net = require('node:net');
const cfg = fs.readFileSync(process.argv[process.argv.indexOf('-f') + 1], 'utf8');
const port = Number(/^Port (\\d+)$/m.exec(cfg)[1]);
net.createServer((s) => s.end('SSH-2.0-OpenSSH_9.2 someone else\\r\\n')).listen(port, '127.0.0.1');
process.stderr.write('Bind to port ' + port + ' on 127.0.0.1 failed: Address already in use.\\n');
setTimeout(() => process.exit(255), 400);
`;

describe('local cloud sshd start', () => {
  it('does not take a port that answers for a started sshd: it retries, then fails naming the cause', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'gpuflow-sshd-ready-'));
    try {
      const fake = path.join(dir, 'impostor-sshd');
      writeFileSync(fake, IMPOSTOR);
      chmodSync(fake, 0o755);
      const p = instancePaths(dir, 'i-1');
      mkdirSync(p.dir, { recursive: true });
      await assert.rejects(
        startSshd(p, { tools: { ...DEFAULT_SSHD_TOOLS, sshdPath: fake }, logger: pino({ level: 'silent' }) }),
        /sshd did not start on port \d+: .*Address already in use/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a real sshd is ready on the port it reports, answering with its banner', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'gpuflow-sshd-ready-'));
    try {
      const p = await prepareInstanceDir({ dataDir: dir, id: 'i-2', publicKey: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl test', gpu: undefined, env: {}, tools: DEFAULT_SSHD_TOOLS });
      const s = await startSshd(p, { tools: DEFAULT_SSHD_TOOLS, logger: pino({ level: 'silent' }) });
      try {
        const banner = await new Promise<string>((resolve, reject) => {
          const c = net.connect({ host: '127.0.0.1', port: s.port });
          c.once('data', (d) => {
            resolve(d.toString());
            c.destroy();
          });
          c.once('error', reject);
        });
        assert.match(banner, /^SSH-2\.0-OpenSSH/);
      } finally {
        await stopSshd(s, 1_000);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
