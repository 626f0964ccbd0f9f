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
      switch (entry.level) {
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
  });
}
