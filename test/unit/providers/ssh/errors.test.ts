/** The SSH fleet's error table: every row, by how a host call failed. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AuthenticationError, InsufficientCapacityError, InvalidRequestError, ServiceUnavailableError } from '../../../../src/providers/sdk/errors.js';
import { EXIT_NO_FREE_GPUS, EXIT_NO_FREE_PORT, hostError } from '../../../../src/providers/ssh/index.js';

describe('ssh fleet errors', () => {
  it('maps each way a host call fails', () => {
    const cases: [Parameters<typeof hostError>[2], new (...a: never[]) => Error][] = [
      [{ connect: 'ssh gpu@10.0.0.7:22: All configured authentication methods failed' }, AuthenticationError],
      [{ connect: 'ssh gpu@10.0.0.7:22: connect ECONNREFUSED 10.0.0.7:22' }, ServiceUnavailableError],
      [{ connect: 'ssh command timed out after 60000 ms' }, ServiceUnavailableError],
      [{ exit: EXIT_NO_FREE_GPUS, stderr: 'only 1 of 2 GPUs free' }, InsufficientCapacityError],
      [{ exit: EXIT_NO_FREE_PORT, stderr: 'no free port in 22000-22099' }, InsufficientCapacityError],
      [{ exit: 1, stderr: 'lock busy' }, ServiceUnavailableError],
      [{ exit: null, stderr: '' }, ServiceUnavailableError],
      [{ exit: 1, stderr: "the lease's sshd does not start: no sshd on this host (install openssh-server)" }, InvalidRequestError],
    ];
    for (const [failure, want] of cases) {
      const e = hostError('box', 'claim', failure);
      assert.ok(e instanceof want, `${JSON.stringify(failure)} → ${e.name}, want ${want.name}`);
      assert.match(e.message, /^ssh fleet host box: /);
    }
    assert.equal(hostError('box', 'claim', { exit: EXIT_NO_FREE_GPUS }).retryable, false, 'capacity fails over, it is not retried in place');
    assert.equal(hostError('box', 'state', { connect: 'ECONNREFUSED' }).retryable, true);
  });
});
