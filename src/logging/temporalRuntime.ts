/** Sends the Temporal SDK's own logs (worker, workflow and activity loggers) through pino. */
import { DefaultLogger, Runtime, type LogLevel } from '@temporalio/worker';
import { createLogger } from './logger.js';

const LEVELS: Record<string, LogLevel> = { trace: 'TRACE', debug: 'DEBUG', info: 'INFO', warn: 'WARN', error: 'ERROR' };

let installed = false;

export function installTemporalLogging(level = process.env.GPUFLOW_LOG_LEVEL ?? 'warn'): void {
  if (installed) return;
  installed = true;
  const log = createLogger('temporal', level);
  Runtime.install({
    logger: new DefaultLogger(LEVELS[level] ?? 'WARN', (entry) => {
      // The SDK adds task tokens to activity log metadata; they are noise in our logs.
      const { taskToken: _t, ...meta } = (entry.meta ?? {}) as Record<string, unknown>;
      const fields = { ...meta, sdkLevel: entry.level };
      // Watchers (instance watch, lease renewal) are abandoned with TRY_CANCEL when a workload
      // moves on; their late completion is expected, not a problem worth a warning.
      const level = entry.message.startsWith('Activity not found on completion') ? 'DEBUG' : entry.level;
      switch (level) {
        case 'ERROR':
          return log.error(fields, entry.message);
        case 'WARN':
          return log.warn(fields, entry.message);
        case 'INFO':
          return log.info(fields, entry.message);
        default:
          return log.debug(fields, entry.message);
      }
    }),
    // Core's own (Rust) logs go through the same pino logger instead of straight to the console.
    telemetryOptions: { logging: { filter: { core: 'WARN', other: 'ERROR' }, forward: {} } },
  });
}
