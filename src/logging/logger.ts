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
  return pino({ name, level, redact: { paths: REDACT_PATHS, censor: '[redacted]' } });
}

/** A logger created on first use (modules that log rarely should not build one at import). */
export function lazyLogger(name: string): () => Logger {
  let logger: Logger | undefined;
  return () => (logger ??= createLogger(name, process.env.GPUFLOW_LOG_LEVEL ?? 'warn'));
}

export type { Logger };
