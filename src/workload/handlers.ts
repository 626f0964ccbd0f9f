/** The workload's messages wired to its run: status, stop, setAutoShutdown, logs, budget cap. */
import { log, setHandler } from '@temporalio/workflow';
import { budgetCapReachedSignal } from '../budget/messages.js';
import { probes } from './activityOptions.js';
import { stop, type WorkloadContext } from './context.js';
import { logsUpdate, setAutoShutdownUpdate, statusQuery, stopUpdate } from './messages.js';
import { autoShutdownSettingsError } from './autoShutdownSettings.js';
import { setAutoShutdown, stopRefusal } from './state.js';
import { statusOf } from './status.js';

export function registerHandlers(ctx: WorkloadContext): void {
  const { run } = ctx;
  setHandler(statusQuery, () => statusOf(run, Date.now()));

  setHandler(
    stopUpdate,
    ({ reason }) => {
      log.info('stop requested', { reason });
      stop(ctx, 'stopped');
      return run.state;
    },
    {
      validator: (_args) => {
        const refusal = stopRefusal(run);
        if (refusal) throw new Error(refusal);
      },
    },
  );

  setHandler(setAutoShutdownUpdate, (next) => setAutoShutdown(run, next), {
    validator: (next) => {
      const error = autoShutdownSettingsError(next);
      if (error) throw new Error(error);
    },
  });

  setHandler(
    logsUpdate,
    async ({ lines }) => {
      if (!run.ref || !run.live) return '';
      return probes.tailJobLogs({ ref: run.ref, workloadId: run.workloadId, lines: lines ?? 100 });
    },
    {
      validator: (_args) => {
        if (!run.ref || !run.live) throw new Error(`no instance to read logs from (state: ${run.state})`);
      },
    },
  );

  // A budget whose actual spend reached its cap (policy "stop") tells its running workloads.
  setHandler(budgetCapReachedSignal, ({ key, message }) => {
    if (!ctx.budget.counts(key) || run.finished || run.stopReason) return;
    log.warn('budget cap reached: stopping', { key, message });
    run.error = message;
    stop(ctx, 'budget-exceeded');
  });
}
