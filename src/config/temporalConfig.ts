import { z } from 'zod';

export const TASK_QUEUE_DEFAULT = 'gpuflow';

export const TemporalConfigSchema = z.object({
  address: z.string().regex(/^[^:\s]+:\d+$/, 'TEMPORAL_ADDRESS must be host:port, e.g. 127.0.0.1:7233'),
  namespace: z.string().min(1),
  taskQueue: z.string().min(1),
  /** Temporal Cloud: API key, or mTLS cert/key files. */
  apiKey: z.string().optional(),
  tlsCertFile: z.string().optional(),
  tlsKeyFile: z.string().optional(),
});
export type TemporalConfig = z.infer<typeof TemporalConfigSchema>;

export function temporalConfigFromEnv(overrides: Partial<TemporalConfig> = {}): TemporalConfig {
  return TemporalConfigSchema.parse({
    address: process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233',
    namespace: process.env.TEMPORAL_NAMESPACE ?? 'default',
    taskQueue: process.env.GPUFLOW_TASK_QUEUE ?? TASK_QUEUE_DEFAULT,
    ...(process.env.TEMPORAL_API_KEY ? { apiKey: process.env.TEMPORAL_API_KEY } : {}),
    ...(process.env.TEMPORAL_TLS_CERT ? { tlsCertFile: process.env.TEMPORAL_TLS_CERT } : {}),
    ...(process.env.TEMPORAL_TLS_KEY ? { tlsKeyFile: process.env.TEMPORAL_TLS_KEY } : {}),
    ...Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined)),
  });
}
