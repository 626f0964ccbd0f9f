import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { MIN_NEXT_RETRY_DELAY_MS, toApplicationFailure } from '../../../src/activities/failures.js';
import { InsufficientCapacityError, ServiceUnavailableError } from '../../../src/providers/sdk/errors.js';

const failure = (e: unknown) => toApplicationFailure(e) as ApplicationFailure;

describe('provider errors as activity failures', () => {
  it("a rate limit's wait becomes the next retry delay", () => {
    const f = failure(new ServiceUnavailableError('slow down', { retryAfterMs: 90_000 }));
    assert.equal(f.type, 'ServiceUnavailableError');
    assert.equal(f.nonRetryable, false);
    assert.equal(f.nextRetryDelay, 90_000);
  });

  it('a wait of zero (Retry-After: 0, or a date just passed) still retries: the server ends retries on a zero delay', () => {
    assert.equal(failure(new ServiceUnavailableError('slow down', { retryAfterMs: 0 })).nextRetryDelay, MIN_NEXT_RETRY_DELAY_MS);
    assert.equal(failure(new ServiceUnavailableError('slow down', { retryAfterMs: 250.5 })).nextRetryDelay, MIN_NEXT_RETRY_DELAY_MS);
    assert.equal(failure(new ServiceUnavailableError('slow down', { retryAfterMs: 1500.2 })).nextRetryDelay, 1501);
  });

  it('without a wait the retry policy decides; a non-retryable error carries none', () => {
    assert.equal(failure(new ServiceUnavailableError('down')).nextRetryDelay, undefined);
    const cap = failure(new InsufficientCapacityError('full'));
    assert.equal(cap.nonRetryable, true);
    assert.equal(cap.nextRetryDelay, undefined);
    assert.deepEqual(cap.details, [{ code: 'INSUFFICIENT_CAPACITY', scope: 'zone' }]);
  });
});
