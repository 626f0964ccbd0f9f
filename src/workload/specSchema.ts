/**
 * The workload spec's schemas: what a user declares. Pure (zod, ms, money, country codes; no I/O),
 * so workflow code may import them; parsing with recipe expansion is in spec.ts.
 */
import ms from 'ms';
import { z } from 'zod';
import { moneyFromDecimal, toJSON, type MoneyJSON } from '../money/money.js';
import { COUNTRY_GROUPS, normalizeCountryPin } from '../routing/countries.js';
import { unknownGpuClassMessage } from '../routing/gpuClassNames.js';
import { checkRemotePath, DIGEST_RE } from '../sync/manifest.js';

const duration = (field: string) =>
  z
    .union([z.number().int().positive(), z.string()])
    .transform((v, ctx): number => {
      if (typeof v === 'number') return v * 1000;
      const parsed = /^\d+$/.test(v.trim()) ? Number(v) * 1000 : ms(v as ms.StringValue);
      if (typeof parsed !== 'number' || !Number.isFinite(parsed) || parsed <= 0) {
        ctx.addIssue({ code: 'custom', message: `${field} must be a duration such as "90s", "30m" or "2h" (got "${v}")` });
        return z.NEVER;
      }
      return Math.round(parsed);
    });

const decimalPrice = z
  .union([z.string(), z.number()])
  .transform((v, ctx): MoneyJSON => {
    const s = typeof v === 'number' ? String(v) : v.replace(/^\$/, '').replace(/\s*USD$/i, '');
    try {
      const m = moneyFromDecimal(s, 'USD', 6);
      return toJSON(m);
    } catch {
      ctx.addIssue({ code: 'custom', message: `must be a price in USD per hour such as "2.50" (got "${v}")` });
      return z.NEVER;
    }
  });

/** An ISO 3166-1 code (alpha-2 or alpha-3, normalized to alpha-3) or a named group such as "EU". */
const countryCode = z.string().transform((v, ctx) => {
  const pin = normalizeCountryPin(v);
  if (!pin) {
    ctx.addIssue({
      code: 'custom',
      message: `"${v}" is not an ISO 3166-1 country code: use alpha-2 (DE), alpha-3 (DEU) or a group (${Object.keys(COUNTRY_GROUPS).join(', ')})`,
    });
    return z.NEVER;
  }
  return pin;
});

/** GPUs per instance: a number, or an inclusive range { min, max }. */
const gpuCount = z.union([
  z.number().int().min(1).max(64),
  z
    .object({ min: z.number().int().min(1).max(64), max: z.number().int().min(1).max(64) })
    .strict()
    .refine((r) => r.min <= r.max, { message: 'gpu.count.min must be <= gpu.count.max' }),
]);

const INTERCONNECTS: Record<string, string> = { PCIE: 'PCIe', SXM: 'SXM', SXM2: 'SXM2', SXM3: 'SXM3', SXM4: 'SXM4', SXM5: 'SXM5', SXM6: 'SXM6', NVLINK: 'NVLink', NVL: 'NVL' };
const interconnect = z.string().transform((v, ctx) => {
  const spelled = INTERCONNECTS[v.trim().toUpperCase().replace(/[\s_-]+/g, '')];
  if (!spelled) {
    ctx.addIssue({ code: 'custom', message: `"${v}" is not an interconnect: use one of ${Object.values(INTERCONNECTS).join(', ')}` });
    return z.NEVER;
  }
  return spelled;
});

const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'environment variable names are letters, digits and _');

/** A port the workload serves (`ports[]`). */
export const ServicePortSchema = z
  .object({
    port: z.number().int().min(1).max(65535),
    /** true: opened to the internet by the firewall rules; false: internal only (provider network, SSH tunnel). */
    public: z.boolean().default(false),
    /** Where the node exposes the port, when it differs (Docker port mapping). */
    hostPort: z.number().int().min(1).max(65535).optional(),
  })
  .strict();
export type ServicePort = z.output<typeof ServicePortSchema>;

export const AutoShutdownSchema = z.union([
  z.literal('off'),
  z
    .object({
      /** GPU utilization (percent, all GPUs) under which the instance counts as idle. */
      utilizationBelowPercent: z.number().min(0).max(100).default(5),
      /** How long it must stay idle before shutdown. */
      idleWindow: duration('autoShutdown.idleWindow').default(300_000),
      /** How often utilization is sampled over SSH. */
      sampleInterval: duration('autoShutdown.sampleInterval').default(30_000),
      /** Also require that nobody is logged in interactively (an SSH session with a pty). */
      requireNoSshSessions: z.boolean().default(false),
    })
    .strict(),
]);
export type AutoShutdown = z.output<typeof AutoShutdownSchema>;


export { AutoShutdownSettingsSchema } from './autoShutdownSettings.js';

/** The most replicas one service group runs. */
export const MAX_REPLICAS = 64;

export const ServiceReplicasSchema = z
  .object({
    min: z.number().int().min(1, 'service.replicas.min must be at least 1').max(MAX_REPLICAS),
    max: z.number().int().min(1).max(MAX_REPLICAS, `service.replicas.max must be at most ${MAX_REPLICAS}`),
    /**
     * Replica slot i exposes each port at its hostPort + i × portStride: for replicas that may share
     * one host network (the local cloud, several replicas on a fleet host). 0: every replica on the
     * same ports (each on its own instance).
     */
    portStride: z.number().int().min(0).max(1000).default(0),
  })
  .strict()
  .refine((r) => r.min <= r.max, { message: 'service.replicas.min must be <= service.replicas.max, e.g. { min: 1, max: 4 }' });

export const ServiceEndpointSchema = z
  .object({
    /** Where the proxy listens, on the worker that runs it. */
    port: z.number().int().min(1).max(65535),
    host: z.string().min(1).default('0.0.0.0'),
    /** Longest a draining replica may take to finish its in-flight requests before it is stopped anyway. */
    drainTimeout: duration('service.endpoint.drainTimeout').default(30_000),
  })
  .strict();

export const ServiceAutoscaleSchema = z
  .object({
    /** Target requests in flight per replica (averaged over `window`): more scales up, less scales down. */
    targetInFlight: z.number().positive('service.autoscale.targetInFlight must be > 0, e.g. 4'),
    window: duration('service.autoscale.window').default(5_000),
    /** Least time between two load-driven changes (scale-down also waits this long after any change). */
    cooldown: duration('service.autoscale.cooldown').default(60_000),
  })
  .strict();

/** A standard 5-field cron expression (minute hour day-of-month month day-of-week), as Temporal Schedules take. */
const CRON_RE = /^(\S+\s+){4}\S+$/;

export const ServiceScaleEntrySchema = z
  .object({
    at: z.string().regex(CRON_RE, 'service.scale[].at must be a 5-field cron expression such as "0 18 * * FRI"'),
    replicas: z.number().int().min(1).max(MAX_REPLICAS),
    for: duration('service.scale[].for'),
  })
  .strict();


export const WorkloadSpecSchema = z
  .object({
    name: z
      .string()
      .regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, 'name must be 1-63 lower-case letters, digits or "-", like "llama-finetune"'),
    /** Container image (run with Docker on hosts that have it). */
    image: z.string().min(1).optional(),
    /** Shell command the job runs. */
    command: z.string().min(1).optional(),
    /**
     * A local directory synced to the node before `setup` (honouring .gitignore and .gpuflowignore);
     * the job and setup run in it (~/gpuflow_workdir, $GPUFLOW_WORKDIR). Relative to the current directory.
     */
    workdir: z.string().min(1).optional(),
    /** More to ship: `{ "/remote/path": "./local/path" }`, files or directories; remote paths absolute or `~/...`. */
    files: z
      .record(
        z.string().superRefine((remote, ctx) => {
          const bad = checkRemotePath(remote);
          if (bad) ctx.addIssue({ code: 'custom', message: bad });
        }),
        z.string().min(1),
      )
      .optional(),
    /** Limits on what workdir and files may hold, checked when the client packs them. */
    syncLimits: z
      .object({
        maxFiles: z.number().int().positive().default(20_000),
        maxMiB: z.number().positive().default(2048),
      })
      .strict()
      .optional(),
    /**
     * Set by the client when it packs workdir and files into the content store: the manifest's
     * digest and counts. The workflow carries this, never the content.
     */
    sync: z
      .object({
        manifest: z.string().regex(DIGEST_RE, 'sync.manifest is a content digest, sha256:<64 hex>'),
        files: z.number().int().min(0),
        bytes: z.number().int().min(0),
      })
      .strict()
      .optional(),
    /** Shell commands run once per instance, after the sync and before the first run of `command`. */
    setup: z.string().min(1).optional(),
    /** Set by recipe expansion: which recipe and parameters produced `command`. */
    recipeRef: z
      .object({ name: z.string().min(1), params: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])) })
      .strict()
      .optional(),
    gpu: z
      .object({
        /** Acceptable GPU models, e.g. ["H100", "A100"]. */
        classes: z
          .array(
            z
              .string()
              .min(1)
              .superRefine((c, ctx) => {
                const unknown = unknownGpuClassMessage(c); // a typo fails here, not in selection
                if (unknown) ctx.addIssue({ code: 'custom', message: unknown });
              }),
          )
          .min(1, 'gpu.classes needs at least one GPU model, e.g. ["H100"]'),
        /** GPUs per instance: 8, or { min: 1, max: 8 }. */
        count: gpuCount.default(1),
        /** Memory of each GPU, whole GiB. */
        minMemoryGiB: z.number().positive().optional(),
        /** Acceptable interconnects / form factors: "SXM", ["SXM", "NVLink"], "PCIe"... */
        interconnect: z.preprocess((v) => (typeof v === 'string' ? [v] : v), z.array(interconnect).min(1)).optional(),
      })
      .strict(),
    /** Minimum host resources. Offers that do not state a fixed disk size pass minDiskGiB (sized at create). */
    resources: z
      .object({
        minVcpu: z.number().int().positive().optional(),
        minMemoryGiB: z.number().positive().optional(),
        minDiskGiB: z.number().positive().optional(),
      })
      .strict()
      .optional(),
    spot: z.enum(['never', 'allow', 'only']).default('never'),
    /**
     * With spot "allow": how long to wait for spot capacity before falling back to on-demand
     * (dstack #125). Without it, "allow" takes on-demand at once when no spot offer has capacity.
     */
    spotWait: duration('spotWait').optional(),
    /**
     * Keep re-planning with capped backoff until this long after the workload started when no
     * offer has capacity (SkyPilot's --retry-until-up). Without it placement gives up after a few passes.
     */
    retryUntilUp: duration('retryUntilUp').optional(),
    /** What happens when the instance is lost (spot preemption, host failure) or the job fails. */
    recovery: z
      .object({
        /**
         * eager-next-region: block the lost instance's region and re-route to everything else,
         * falling back to the full space when nothing else has capacity. failover: same region first.
         */
        strategy: z.enum(['eager-next-region', 'failover']).default('eager-next-region'),
        /** Instance losses recovered before the workload fails. */
        maxRecoveries: z.number().int().min(0).max(100).default(3),
        /** Reruns of a failed job (non-zero exit) on the same instance. */
        maxRestartsOnError: z.number().int().min(0).max(100).default(0),
        /** Only these exit codes restart the job (default: any non-zero code). */
        restartExitCodes: z.array(z.number().int().min(1).max(255)).min(1).optional(),
      })
      .strict()
      .default({ strategy: 'eager-next-region', maxRecoveries: 3, maxRestartsOnError: 0 }),
    /**
     * Where the job keeps checkpoints so an attempt on another instance resumes instead of
     * restarting: `dir` (a path every node mounts, e.g. a network volume) becomes
     * GPUFLOW_CHECKPOINT_DIR=<dir>/<task id>; `uri` (e.g. s3://bucket/prefix) becomes
     * GPUFLOW_CHECKPOINT_URI=<uri>/<task id>. Without either, GPUFLOW_CHECKPOINT_DIR is on the
     * instance's own disk and survives only restarts on the same instance.
     */
    checkpoint: z
      .object({
        dir: z.string().regex(/^\//, 'checkpoint.dir must be an absolute path mounted on every node, e.g. /mnt/checkpoints').optional(),
        uri: z.string().regex(/^[a-z][a-z0-9+.-]*:\/\/.+/, 'checkpoint.uri must be a URI such as s3://bucket/prefix').optional(),
      })
      .strict()
      .optional(),
    /**
     * A lease on the node that the workflow renews: if renewals stop for longer (control plane
     * gone), the node stops the job and terminates itself. Default on for jobs (10m), off for services.
     */
    watchdog: z
      .union([z.literal('off'), z.object({ lease: duration('watchdog.lease').default(600_000) }).strict()])
      .optional(),
    /** Services (lifecycle.kind "service"): readiness/health check and restarts. */
    service: z
      .object({
        healthCheck: z
          .object({
            /** A port from `ports`. */
            port: z.number().int().min(1).max(65535),
            /** HTTP GET path answering 2xx/3xx when healthy; without it, a TCP connect. */
            path: z.string().regex(/^\//, 'service.healthCheck.path must start with "/"').optional(),
            interval: duration('service.healthCheck.interval').default(10_000),
            timeout: duration('service.healthCheck.timeout').default(5_000),
            failureThreshold: z.number().int().min(1).max(100).default(3),
            /** How long the service may take to become healthy after each start. */
            startupTimeout: duration('service.healthCheck.startupTimeout').default(600_000),
          })
          .strict()
          .optional(),
        /** Restarts after the process dies or turns unhealthy before the workload fails. */
        maxRestarts: z.number().int().min(0).max(1000).default(5),
        /** Several replicas behind one endpoint (a service group; see src/workflows/serviceGroup.ts). */
        replicas: ServiceReplicasSchema.optional(),
        /** Replicas kept on on-demand capacity; the rest prefer spot (spot: allow). Needs replicas. */
        onDemandMin: z.number().int().min(0).max(MAX_REPLICAS).optional(),
        /** The group's one endpoint: the reverse proxy in front of the replicas. Needs replicas. */
        endpoint: ServiceEndpointSchema.optional(),
        /** Scale by load: requests in flight per replica, measured by the endpoint's proxy. Needs replicas. */
        autoscale: ServiceAutoscaleSchema.optional(),
        /** Scale by schedule, for a known traffic event: at each cron time, at least `replicas` for `for`. Needs replicas. */
        scale: z.array(ServiceScaleEntrySchema).max(20).optional(),
      })
      .strict()
      .optional(),
    placement: z
      .object({
        regions: z.array(z.string().min(1)).optional(),
        countries: z.array(countryCode).optional(),
        providers: z
          .object({
            allow: z.array(z.string()).optional(),
            deny: z.array(z.string()).optional(),
            prefer: z.array(z.string()).optional(),
          })
          .strict()
          .default({}),
        /**
         * Live migration (make-before-break): a running job with a checkpoint location moves when
         * the catalog shows a satisfying offer enough cheaper to pay for the move, checked every
         * `interval`. See migrationPolicy.ts for the rule.
         */
        rebalance: z
          .object({
            interval: duration('placement.rebalance.interval').default(600_000),
            /** The new offer must be at least this much cheaper per hour, in percent of the current price. */
            minSavingsPercent: z.number().min(0).max(100).default(10),
            /** Run time the savings are counted over (capped by what lifecycle.maxDuration leaves). */
            horizon: duration('placement.rebalance.horizon').default(3_600_000),
            /** Estimated time to create, boot and bootstrap the new instance (billed on it before it works). */
            provisionEstimate: duration('placement.rebalance.provisionEstimate').default(300_000),
            /** Estimated time for the job to restore its checkpoint on the new instance. */
            resyncEstimate: duration('placement.rebalance.resyncEstimate').default(60_000),
            /** How often the job checkpoints; unset: it checkpoints on SIGTERM (the resume convention), so no progress is lost. */
            checkpointInterval: duration('placement.rebalance.checkpointInterval').optional(),
          })
          .strict()
          .optional(),
        /** After a placement update excludes where the job runs, it must have moved within this long (else it stops). */
        residencyDeadline: duration('placement.residencyDeadline').optional(),
      })
      .strict()
      .default({ providers: {} }),
    maxPricePerHour: decimalPrice.optional(),
    /** Per GPU and hour: the instance price divided by its GPU count. */
    maxPricePerGpuHour: decimalPrice.optional(),
    lifecycle: z
      .object({
        kind: z.enum(['job', 'service']).default('job'),
        maxDuration: duration('lifecycle.maxDuration').optional(),
      })
      .strict()
      .default({ kind: 'job' }),
    autoShutdown: AutoShutdownSchema.default('off'),
    /**
     * Budget reservation: without lifecycle.maxDuration, `estimate` is the duration reserved
     * (price × estimate) against capped budgets; running longer tops the reservation up.
     */
    budget: z.object({ estimate: duration('budget.estimate').optional() }).strict().optional(),
    project: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'project is 1-64 letters, digits, ".", "_" or "-"').default('default'),
    tenant: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'tenant is 1-64 letters, digits, ".", "_" or "-"').default('default'),
    /** Plain environment for the job. Goes into workflow history: no secrets here. */
    env: z.record(envName, z.string()).default({}),
    /**
     * Secret environment, resolved by the worker at bootstrap so values never enter workflow history:
     * `{ HF_TOKEN: "env:HF_TOKEN" }` (worker's environment) or `"file:/run/secrets/hf"`.
     */
    secretEnv: z
      .record(envName, z.string().regex(/^(env|file):.+$/, 'secretEnv values are references: "env:VAR" or "file:/path"'))
      .default({}),
    ports: z
      .array(
        ServicePortSchema,
      )
      .default([]),
  })
  .strict()
  .superRefine((s, ctx) => {
    if (!s.command) {
      ctx.addIssue({ code: 'custom', path: ['command'], message: 'set command (a shell command) or recipe: { name, params }' });
    }
    if (s.spotWait !== undefined && s.spot !== 'allow') {
      ctx.addIssue({ code: 'custom', path: ['spotWait'], message: 'spotWait needs spot: allow (wait for spot, then fall back to on-demand)' });
    }
    if (s.watchdog && s.watchdog !== 'off' && s.watchdog.lease < 5_000) {
      ctx.addIssue({ code: 'custom', path: ['watchdog', 'lease'], message: 'watchdog.lease must be at least "5s" (the node checks it every few seconds)' });
    }
    if (s.service && s.lifecycle.kind !== 'service') {
      ctx.addIssue({ code: 'custom', path: ['service'], message: 'service settings need lifecycle: { kind: service }' });
    }
    serviceGroupIssues(s, ctx);
    const hc = s.service?.healthCheck;
    if (hc && !s.ports.some((p) => p.port === hc.port)) {
      ctx.addIssue({ code: 'custom', path: ['service', 'healthCheck', 'port'], message: `port ${hc.port} is not in ports: add { port: ${hc.port} } to ports` });
    }
    const seen = new Set<number>();
    for (const [i, p] of s.ports.entries()) {
      if (seen.has(p.port)) ctx.addIssue({ code: 'custom', path: ['ports', i, 'port'], message: `port ${p.port} is declared twice` });
      seen.add(p.port);
    }
    if (s.placement.rebalance && !s.checkpoint) {
      ctx.addIssue({ code: 'custom', path: ['placement', 'rebalance'], message: 'placement.rebalance needs a checkpoint location to resume from: add checkpoint: { dir } or { uri }' });
    }
    if (s.placement.rebalance && s.lifecycle.kind === 'service') {
      ctx.addIssue({ code: 'custom', path: ['placement', 'rebalance'], message: 'placement.rebalance moves jobs; services are not migrated yet' });
    }
    const deny = new Set(s.placement.providers.deny ?? []);
    for (const p of s.placement.providers.allow ?? []) {
      if (deny.has(p)) ctx.addIssue({ code: 'custom', path: ['placement', 'providers'], message: `provider "${p}" is both allowed and denied` });
    }
  });

/** A service group's settings that need `replicas`, and its bounds. */
function serviceGroupIssues(s: { service?: { replicas?: { min: number; max: number } | undefined; onDemandMin?: number | undefined; endpoint?: unknown; autoscale?: unknown; scale?: { replicas: number }[] | undefined } | undefined }, ctx: z.RefinementCtx): void {
  const svc = s.service;
  if (!svc) return;
  const r = svc.replicas;
  if (!r) {
    for (const f of ['onDemandMin', 'endpoint', 'autoscale', 'scale'] as const) {
      if (svc[f] !== undefined) ctx.addIssue({ code: 'custom', path: ['service', f], message: `service.${f} needs service.replicas: { min, max }` });
    }
    return;
  }
  if (!svc.endpoint) ctx.addIssue({ code: 'custom', path: ['service', 'endpoint'], message: 'service.replicas needs service.endpoint: { port } (where the proxy in front of the replicas listens)' });
  if (svc.onDemandMin !== undefined && svc.onDemandMin > r.max) {
    ctx.addIssue({ code: 'custom', path: ['service', 'onDemandMin'], message: `service.onDemandMin (${svc.onDemandMin}) must be <= service.replicas.max (${r.max})` });
  }
  for (const [i, e] of (svc.scale ?? []).entries()) {
    if (e.replicas > r.max) ctx.addIssue({ code: 'custom', path: ['service', 'scale', i, 'replicas'], message: `${e.replicas} replicas is more than service.replicas.max (${r.max})` });
  }
}

export type WorkloadSpecInput = z.input<typeof WorkloadSpecSchema>;
export type WorkloadSpec = z.output<typeof WorkloadSpecSchema>;
