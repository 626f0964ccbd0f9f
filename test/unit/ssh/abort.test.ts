/**
 * An SSH call aborted by its signal rejects with the signal's reason: an activity cancelled while it
 * waits on SSH (a budget stop during bootstrap) reports Temporal's CancelledFailure, so the workflow
 * sees a cancellation, not a failed activity. Against a real sshd.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getEventListeners } from 'node:events';
import { after, before, it } from 'node:test';
import { CancelledFailure } from '@temporalio/common';
import { SshSession, sshExec, type SshTarget } from '../../../src/ssh/sshClient.js';
import { startFleetHost, type FleetHost } from '../../helpers/fleetHost.js';

let dir: string;
let host: FleetHost;
let target: SshTarget;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gpuflow-ssh-abort-'));
  host = await startFleetHost(dir, 'box', { productName: 'NVIDIA L4', count: 1, memoryGiB: 24 });
  target = { host: host.host, port: host.port, username: host.user, privateKey: host.privateKey };
});

after(async () => {
  await host?.close();
  rmSync(dir, { recursive: true, force: true });
});

it('a command aborted while it runs rejects with the signal’s reason', async () => {
  const ac = new AbortController();
  const reason = new CancelledFailure('CANCELLED');
  const started = Date.now();
  setTimeout(() => ac.abort(reason), 500);
  await assert.rejects(sshExec(target, 'sleep 30', { timeoutMs: 60_000, signal: ac.signal }), (e) => e === reason);
  assert.ok(Date.now() - started < 20_000, 'it does not wait for the command');
});

it('an already aborted signal rejects at once, on a session too', async () => {
  const ac = new AbortController();
  const reason = new CancelledFailure('CANCELLED');
  ac.abort(reason);
  await assert.rejects(sshExec(target, 'true', { signal: ac.signal }), (e) => e === reason);
  const session = new SshSession(target);
  try {
    await assert.rejects(session.exec('true', { signal: ac.signal }), (e) => e === reason);
  } finally {
    session.close();
  }
});

it('without a reason it is still an error that says it was aborted', async () => {
  const ac = new AbortController();
  setTimeout(() => ac.abort(), 300);
  // A reason-less abort() sets a DOMException reason, which is an Error: that is what comes back.
  await assert.rejects(sshExec(target, 'sleep 30', { timeoutMs: 60_000, signal: ac.signal }), (e: Error) => e.name === 'AbortError');
});

it('calls that end (done or timed out) leave no listener on a long-lived signal', async () => {
  // A job's activity signal lives as long as the job and sees a poll every few seconds.
  const ac = new AbortController();
  const session = new SshSession(target);
  try {
    for (let i = 0; i < 3; i++) await session.exec('true', { signal: ac.signal });
    await assert.rejects(session.exec('sleep 30', { timeoutMs: 300, signal: ac.signal }), /timed out after 300 ms/);
  } finally {
    session.close();
  }
  await assert.rejects(sshExec(target, 'sleep 30', { timeoutMs: 300, signal: ac.signal }), /timed out after 300 ms/);
  assert.equal(getEventListeners(ac.signal, 'abort').length, 0);
});
