/**
 * `gpuflow init`: the first-run wizard. Which provider (the catalogs' best spot availability in
 * the user's country is suggested), its API key (hidden; proven by a real call, then stored
 * encrypted), spending cap, region preferences, default GPU, the default project and tenant, then
 * an offer to run the smoke-test recipe on the new connection. Every question has a flag; with
 * --yes the rest take their defaults, so scripts never see a prompt.
 */
import { join } from 'node:path';
import { type Command, InvalidArgumentError } from 'commander';
import countries from 'i18n-iso-countries';
import { readSkypilotCatalog } from '../catalog/skypilot/reader.js';
import { rankProviders } from '../catalog/suggestProvider.js';
import { defaultConnectionsFile } from '../config/connectionsFile.js';
import { Secret } from '../config/credentials/secret.js';
import { loadUserDefaults, saveUserDefaults, userDefaultsFile } from '../config/userDefaults.js';
import { rootMessage } from './follow.js';
import { addProviderConnection, connectionInput, connectionKinds, describeProbe, parseDefaultGpuFlag, parseSpendingCapFlag, secretFromFlags, type AddedConnection } from './providers.js';
import { followWorkload } from './follow.js';
import { withWorkloadBackend } from './workloadBackend.js';

const CATALOG_DIR = join(import.meta.dirname, '..', '..', 'data', 'skypilot-catalog');

interface InitFlags {
  yes?: boolean;
  country?: string;
  provider?: string;
  name?: string;
  apiKeyStdin?: boolean;
  apiKeyEnv?: string;
  baseUrl?: string;
  spendingCap?: string;
  regionPrefer?: string;
  defaultGpu?: string;
  project?: string;
  tenant?: string;
  smokeTest?: boolean;
  connections: string;
  catalog: string;
}

/** ISO 3166 alpha-3 from a flag ("de", "DEU") or the locale (LANG=en_US.UTF-8 → USA). */
export function userCountry(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const code = (flag ?? /^[a-z]{2,3}_([A-Z]{2})/.exec(env.LC_ALL ?? env.LANG ?? '')?.[1])?.toUpperCase();
  if (!code) return undefined;
  const a3 = code.length === 2 ? countries.alpha2ToAlpha3(code) : countries.isValid(code) ? code : undefined;
  if (!a3 && flag) throw new InvalidArgumentError(`--country: "${flag}" is not an ISO 3166 country code (e.g. US, DE, USA)`);
  return a3;
}

/** The answer from the flag, else the prompt, else (with --yes) the default. */
async function ask<T>(flag: T | undefined, yes: boolean | undefined, fallback: T, prompt: () => Promise<T>): Promise<T> {
  if (flag !== undefined) return flag;
  return yes ? fallback : prompt();
}

const validated =
  <T>(parse: (v: string) => T) =>
  (v: string): true | string => {
    if (!v.trim()) return true;
    try {
      parse(v);
      return true;
    } catch (e) {
      return (e as Error).message;
    }
  };

async function init(o: InitFlags, cmd: Command): Promise<void> {
  // The prompts load with the wizard, not with every CLI command.
  const { confirm, input, password, select } = await import('@inquirer/prompts');
  const interactive = !o.yes;
  if (interactive && !process.stdin.isTTY) throw new InvalidArgumentError('gpuflow init asks questions: run it in a terminal, or pass --yes with flags (--provider, --name, --api-key-stdin ...) for scripts');
  const kinds = connectionKinds();
  if (o.provider && !kinds.includes(o.provider)) throw new InvalidArgumentError(`--provider: "${o.provider}" is not a provider kind (known: ${kinds.join(', ')})`);
  const country = userCountry(o.country);
  let offers: ReturnType<typeof readSkypilotCatalog>['offers'] = [];
  try {
    offers = readSkypilotCatalog(o.catalog).offers;
  } catch {
    // No catalog at hand: no suggestion, every kind is still offered.
  }
  const ranked = rankProviders(offers, country, kinds.filter((k) => k !== 'local').concat('local'));
  const suggested = ranked[0]!.kind;

  const kind = await ask(o.provider, o.yes, suggested, () =>
    select({
      message: `Which provider?${country ? ` (suggested for ${countries.getName(country, 'en') ?? country}: best spot availability in the catalogs)` : ''}`,
      choices: ranked.map((r) => ({ name: `${r.kind}${r.kind === suggested ? ' (suggested)' : ''}`, value: r.kind, description: r.why })),
      default: suggested,
    }),
  );
  const name = await ask(o.name, o.yes, kind, () => input({ message: 'Connection name', default: kind, validate: (v) => /^[a-z0-9][a-z0-9-]{0,62}$/.test(v) || 'lower-case letters, digits and "-"' }));

  // The key: from stdin/env for scripts, else a hidden prompt, asked again until a real call accepts it.
  const fromFlags = o.apiKeyStdin || o.apiKeyEnv ? await secretFromFlags(o) : undefined;
  if (!fromFlags && o.yes) throw new InvalidArgumentError('--yes needs the API key from --api-key-stdin or --api-key-env VAR (a prompt would wait for it)');
  const capText = await ask(o.spendingCap, o.yes, '100/day', () => input({ message: 'Spending cap for this connection (AMOUNT[ CURRENCY]/PERIOD, empty: none)', default: '100/day', validate: validated(parseSpendingCapFlag) }));
  const regionsText = await ask(o.regionPrefer, o.yes, '', () => input({ message: 'Preferred regions, most preferred first (globs, comma-separated; empty: any)', default: '' }));
  const gpuText = await ask(o.defaultGpu, o.yes, '', () => input({ message: 'Default GPU for workloads that name none (e.g. L4:1, H100:8; empty: none)', default: '', validate: validated(parseDefaultGpuFlag) }));
  const raw = connectionInput(kind, {
    name,
    ...(o.baseUrl ? { baseUrl: o.baseUrl } : {}),
    ...(capText.trim() ? { spendingCap: parseSpendingCapFlag(capText) } : {}),
    ...(regionsText.trim() ? { regionPrefer: regionsText.split(',').map((s) => s.trim()).filter(Boolean) } : {}),
    ...(gpuText.trim() ? { defaultGpu: parseDefaultGpuFlag(gpuText.trim()) } : {}),
  });

  let added: AddedConnection | undefined;
  for (let secret = fromFlags; !added; secret = undefined) {
    const key = secret ?? new Secret((await password({ message: `${kind} API key (hidden; checked with a real call, stored encrypted)`, mask: '*', validate: (v) => !!v.trim() || 'paste the key' })).trim());
    try {
      added = await addProviderConnection(raw, key, o.connections);
    } catch (e) {
      if (fromFlags || e instanceof InvalidArgumentError) throw e;
      console.error(`${rootMessage(e as Error)}\ntry the key again (Ctrl-C to stop)`);
    }
  }
  console.log(`added ${kind} connection ${name}: ${describeProbe(added.probe)}`);
  console.log(`the key is stored encrypted in ${added.storeFile}; the connection is in ${o.connections}`);
  if (added.keyNotice) console.error(added.keyNotice);

  const prior = loadUserDefaults();
  const project = await ask(o.project, o.yes, prior.project ?? 'default', () => input({ message: 'Default project (cost attribution and budgets)', default: prior.project ?? 'default', validate: (v) => /^[A-Za-z0-9._-]{1,64}$/.test(v) || '1-64 letters, digits, ".", "_" or "-"' }));
  const tenant = await ask(o.tenant, o.yes, prior.tenant ?? 'default', () => input({ message: 'Tenant (organization) of that project', default: prior.tenant ?? 'default', validate: (v) => /^[A-Za-z0-9._-]{1,64}$/.test(v) || '1-64 letters, digits, ".", "_" or "-"' }));
  saveUserDefaults({ project, tenant });
  console.log(`defaults in ${userDefaultsFile()}: project ${project}, tenant ${tenant}`);

  const runSmoke = await ask(o.smokeTest, o.yes, false, () => confirm({ message: `Run the smoke-test recipe on ${name} now? (a worker must have loaded this connection: restart \`gpuflow worker\`/\`gpuflow dev\` first)`, default: false }));
  if (!runSmoke) {
    console.log(`done. Try: gpuflow offers --connection ${name}   then   gpuflow run smoke-test --project ${project}`);
    return;
  }
  const spec = { name: 'smoke-test', project, tenant, recipe: { name: 'smoke-test', params: { seconds: 3 } }, placement: { providers: { allow: [name] } } };
  await withWorkloadBackend(cmd, async (b) => {
    const { handle } = await b.launch(spec);
    console.log(`smoke test ${handle.workloadId} on ${name}${b.viaServer ? ` via ${b.via}` : ''}`);
    const r = await followWorkload(handle, (l) => console.log(l), { output: true });
    if (r.error) process.exitCode = 1;
  });
}

export function registerInitCommand(program: Command): void {
  program
    .command('init')
    .description('first-run wizard: a provider connection (key checked and stored encrypted), spending cap, regions, default GPU, project; then a smoke test')
    .option('-y, --yes', 'ask nothing: flags or defaults for every answer (for scripts)')
    .option('--country <code>', 'your country for the provider suggestion (ISO 3166, e.g. US, DE; default from LANG)')
    .option('--provider <kind>', `provider kind: ${connectionKinds().join(', ')}`)
    .option('--name <name>', 'connection name (default: the kind)')
    .option('--api-key-stdin', 'read the API key from stdin')
    .option('--api-key-env <var>', 'read the API key from this environment variable')
    .option('--base-url <url>', 'API endpoint (the daemon URL for kind local; default: the provider\'s public API)')
    .option('--spending-cap <cap>', 'AMOUNT[ CURRENCY]/PERIOD, e.g. 100/day (default 100/day)')
    .option('--region-prefer <globs>', 'preferred regions, comma-separated, e.g. "eu-*,us-east-1"')
    .option('--default-gpu <gpu>', 'GPU for workloads that name none, e.g. L4:1')
    .option('--project <name>', 'default project for workloads (default "default")')
    .option('--tenant <name>', 'tenant of that project (default "default")')
    .option('--smoke-test', 'run the smoke-test recipe on the new connection at the end')
    .option('--no-smoke-test', 'do not offer the smoke test')
    .option('--connections <file>', 'connections file (env GPUFLOW_CONNECTIONS)', defaultConnectionsFile())
    .option('--catalog <dir>', 'SkyPilot catalog directory for the suggestion', CATALOG_DIR)
    .addHelpText('after', '\nExamples:\n  $ gpuflow init\n  $ pass lambda | gpuflow init --yes --provider lambda --api-key-stdin --spending-cap 50/day --default-gpu A10:1 --project research\n')
    .action((o: InitFlags, cmd: Command) => init(o, cmd));
}
