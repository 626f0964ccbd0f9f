/**
 * `gpuflow replay <workflowId>` / `gpuflow replay --history file.json...`: replays recorded
 * histories against this gpuflow's workflow code and exits 1 on any non-determinism.
 */
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { HistoryItem } from '../replay/replay.js';
import { collectList, withGpuflowClient } from './cliContext.js';

export function register(program: Command): void {
  program
    .command('replay')
    .description("replay workflow histories against the current workflow code; exit 1 on non-determinism")
    .argument('[workflowId]', 'fetch this workflow’s history from the server')
    .option('--run-id <runId>', 'a specific run of the workflow')
    .option('--history <file>', 'a history file (`temporal workflow show --output json`) instead of the server (repeatable)', collectList)
    .option('--save <file>', 'also write the fetched history to this file (JSON, as `temporal workflow show --output json`)')
    .option('--workflows <path>', 'replay against this workflow module or bundle instead of the built-in one')
    .option('--json', 'machine-readable output')
    .action(async (workflowId: string | undefined, o: { runId?: string; history?: string[]; save?: string; workflows?: string; json?: boolean }, cmd: Command) => {
      // The replayer (@temporalio/worker, the workflow bundle) loads only for this command.
      const { fetchHistoryItem, formatReplayReport, historyJSON, loadHistoryFile, replayHistories } = await import('../replay/replay.js');
      const items: HistoryItem[] = [];
      for (const f of o.history ?? []) items.push(loadHistoryFile(f, o.history!.length === 1 ? workflowId : undefined));
      if (items.length === 0) {
        if (!workflowId) throw new Error('name a workflow ID to fetch, or --history <file>');
        const item = await withGpuflowClient(cmd, (c) => fetchHistoryItem(c.temporal, workflowId, o.runId));
        if (o.save) writeFileSync(o.save, historyJSON(item.history));
        items.push(item);
      }
      const code = o.workflows ? (/bundle/.test(o.workflows) ? { workflowBundle: { codePath: o.workflows } } : { workflowsPath: o.workflows }) : undefined;
      const reports = await replayHistories(items, code ? { code } : {});
      if (o.json) console.log(JSON.stringify(reports));
      else for (const r of reports) console.log(formatReplayReport(r));
      const failed = reports.filter((r) => !r.ok);
      if (!o.json) console.log(failed.length ? `\n${failed.length} of ${reports.length} history(ies) do not replay` : `\nall ${reports.length} history(ies) replay deterministically`);
      if (failed.length) process.exitCode = 1;
    });
}
