/** pino with redaction: keys, tokens and secret env never reach a log line. */
import { pino, type Logger } from 'pino';

export const REDACT_PATHS = [
  'privateKey',
  '*.privateKey',
  'token',
  '*.token',
  'apiKey',
  '*.apiKey',
  'authorization',
  '*.authorization',
  'headers.authorization',
  'secretEnv',
  '*.secretEnv',
  'env',
  '*.env',
  'password',
  '*.password',
  // the credential store's values and key (Secret objects also print as [redacted] on their own)
  'secret',
  '*.secret',
  'secrets',
  '*.secrets',
  'credentialsKey',
  '*.credentialsKey',
];

export function createLogger(name: string, level = process.env.GPUFLOW_LOG_LEVEL ?? 'info'): Logger {
  // GPUFLOW_LOG_FILE: log lines go to that file instead of stdout (the test runs, whose reporter
  // would otherwise interleave them).
  const file = process.env.GPUFLOW_LOG_FILE;
  const options = { name, level, redact: { paths: REDACT_PATHS, censor: '[redacted]' } };
  return file ? pino(options, pino.destination({ dest: file, append: true, mkdir: true, sync: true })) : pino(options);
}

/** A logger created on first use (modules that log rarely should not build one at import). */
export function lazyLogger(name: string): () => Logger {
  let logger: Logger | undefined;
  return () => (logger ??= createLogger(name, process.env.GPUFLOW_LOG_LEVEL ?? 'warn'));
}

export type { Logger };
