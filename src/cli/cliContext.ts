/** Shared helpers for command modules that register themselves on the root program. */
import { readFileSync } from 'node:fs';
import { Command, InvalidArgumentError } from 'commander';
import { parse as parseYaml } from 'yaml';
import { GpuflowClient } from '../client/gpuflowClient.js';
import type { TemporalConfig } from '../config/temporalConfig.js';

/** The root program's --address/--namespace, as seen from any subcommand. */
export function temporalOverridesOf(cmd: Command): Partial<TemporalConfig> {
  const o = cmd.optsWithGlobals<{ address?: string; namespace?: string }>();
  return { ...(o.address ? { address: o.address } : {}), ...(o.namespace ? { namespace: o.namespace } : {}) };
}

export async function withGpuflowClient<T>(cmd: Command, fn: (c: GpuflowClient) => Promise<T>): Promise<T> {
  const c = await GpuflowClient.connect(temporalOverridesOf(cmd));
  try {
    return await fn(c);
  } finally {
    await c.close();
  }
}

/** commander collector for repeatable `--param key=value`. */
export function collectParam(v: string, acc: Record<string, string> = {}): Record<string, string> {
  const i = v.indexOf('=');
  if (i <= 0) throw new InvalidArgumentError(`use KEY=VALUE, e.g. --param model=Qwen/Qwen2.5-7B-Instruct (got "${v}")`);
  return { ...acc, [v.slice(0, i).trim()]: v.slice(i + 1) };
}

/** commander collector for repeatable options. */
export function collectList(v: string, acc: string[] = []): string[] {
  return [...acc, v];
}

/** Makes `--recipes-dir` directories visible to recipe lookups (including spec expansion) in this process. */
export function useRecipesDirs(dirs: string[] | undefined): void {
  if (!dirs?.length) return;
  const existing = process.env.GPUFLOW_RECIPES_DIR ? process.env.GPUFLOW_RECIPES_DIR.split(':') : [];
  process.env.GPUFLOW_RECIPES_DIR = [...dirs, ...existing].join(':');
}

export function readSpecFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new Error(`cannot read spec file ${file}`);
  }
  let doc: unknown;
  try {
    doc = parseYaml(text) as unknown;
  } catch (e) {
    throw new Error(`${file}: not valid YAML: ${(e as Error).message.trim()}`);
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) throw new Error(`${file} must hold a YAML mapping (a workload spec)`);
  return doc as Record<string, unknown>;
}
