/**
 * `gpuflow providers add|list|test|remove`: provider connections in connections.yaml, their secrets
 * in the encrypted credential store. A key is never taken as a flag value (it would land in shell
 * history and `ps`): only from stdin or a named environment variable. `add` proves the key with a
 * real call before anything is stored.
 */
import { type Command, InvalidArgumentError } from 'commander';
import { ConnectionSchema, loadConnections, type Connection } from '../config/connections.js';
import { appendConnection, defaultConnectionsFile, deleteConnection } from '../config/connectionsFile.js';
import { describeSecretSource } from '../config/credentials/lookup.js';
import { resolveStoreKey, type StoreKey } from '../config/credentials/key.js';
import { Secret } from '../config/credentials/secret.js';
import { CredentialStore, defaultStoreFile } from '../config/credentials/store.js';
import { GPU_SHORTHAND_HINT, parseGpuShorthand } from '../config/gpuShorthand.js';
import { adapterFor, PROVIDER_ADAPTERS, type ConnectionKind } from '../providers/adapters.js';
import { probeCredential, type ProbeResult } from '../providers/probe.js';
import { credentialFor } from '../providers/registry.js';
import { rootMessage } from './follow.js';

/** The kinds connections.yaml accepts, from its schema (new adapters appear here by themselves). */
export function connectionKinds(): string[] {
  return PROVIDER_ADAPTERS.map((a) => a.kind);
}

/** Which flag sets each connection field, so a schema error names what the user typed. */
const FLAG_OF: Record<string, string> = {
  name: '--name',
  url: '--base-url',
  baseUrl: '--base-url',
  endpoint: '--base-url',
  spendingCap: '--spending-cap',
  regionPreferences: '--region-prefer',
  defaultGpu: '--default-gpu',
  credentialRef: '--name',
};

/** "100/day", "100.00 USD/day", "250 EUR/month". */
export function parseSpendingCapFlag(v: string): { amount: string; currency?: string; period: string } {
  const m = /^\s*([0-9][0-9_.,]*)\s*([A-Za-z]{3})?\s*\/\s*([a-z]+)\s*$/.exec(v);
  if (!m) throw new InvalidArgumentError(`use AMOUNT[ CURRENCY]/PERIOD, e.g. 100/day or "250.00 EUR/month" (got "${v}")`);
  return { amount: m[1]!, ...(m[2] ? { currency: m[2].toUpperCase() } : {}), period: m[3]! };
}

export function parseDefaultGpuFlag(v: string): string {
  if (!parseGpuShorthand(v)) throw new InvalidArgumentError(`${GPU_SHORTHAND_HINT} (got "${v}")`);
  return v;
}

interface AddFlags {
  name?: string;
  apiKeyStdin?: boolean;
  apiKeyEnv?: string;
  baseUrl?: string;
  spendingCap?: ReturnType<typeof parseSpendingCapFlag>;
  regionPrefer?: string[];
  defaultGpu?: string;
  connections: string;
  json?: boolean;
}

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) process.stderr.write('paste the API key, then press Enter and Ctrl-D: ');
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function secretFromFlags(o: Pick<AddFlags, 'apiKeyStdin' | 'apiKeyEnv'>): Promise<Secret> {
  if (!!o.apiKeyStdin === !!o.apiKeyEnv) {
    throw new InvalidArgumentError('give the API key with exactly one of --api-key-stdin (e.g. `pass lambda | gpuflow providers add ...`) or --api-key-env VAR (never as a flag value: it would be kept in shell history)');
  }
  const text = o.apiKeyStdin ? await readStdin() : process.env[o.apiKeyEnv!];
  const value = (text ?? '').trim();
  if (!value) {
    throw new InvalidArgumentError(o.apiKeyStdin ? '--api-key-stdin: stdin was empty; pipe the key in' : `--api-key-env: the environment variable ${o.apiKeyEnv} is not set or empty`);
  }
  if (/\s/.test(value)) throw new InvalidArgumentError('the API key contains whitespace: pass the key alone, without spaces or extra lines');
  return new Secret(value);
}

/** The connection as it goes into connections.yaml (input form: defaults stay implicit). */
function connectionFromFlags(kind: string, o: Pick<AddFlags, 'name' | 'baseUrl' | 'spendingCap' | 'regionPrefer' | 'defaultGpu'>): Record<string, unknown> & { name: string } {
  const name = o.name ?? '';
  return {
    kind,
    name,
    ...(o.baseUrl ? { [adapterFor(kind as ConnectionKind).urlField]: o.baseUrl } : {}),
    credentialRef: name,
    ...(o.spendingCap ? { spendingCap: o.spendingCap } : {}),
    ...(o.regionPrefer?.length ? { regionPreferences: o.regionPrefer } : {}),
    ...(o.defaultGpu ? { defaultGpu: o.defaultGpu } : {}),
  };
}

function validateConnection(raw: Record<string, unknown>): Connection {
  const r = ConnectionSchema.safeParse(raw);
  if (r.success) return r.data;
  const lines = r.error.issues.map((i) => {
    const field = i.path.map(String);
    const flag = FLAG_OF[field[0] ?? ''];
    const at = field.join('.');
    return `  - ${flag ? `${flag} (${at})` : at}: ${i.message}`;
  });
  // credentialRef is the name: its issues repeat the name's
  const unique = lines.filter((l, i) => !l.includes('(credentialRef)') || !lines.some((m, j) => j !== i && m.includes('(name)')));
  throw new InvalidArgumentError(`invalid connection:\n${unique.join('\n')}`);
}

export function describeProbe(p: ProbeResult): string {
  const gpus = p.gpuModels.length ? `; GPUs: ${p.gpuModels.join(', ')}` : '';
  return `${p.instanceTypes} instance types (${p.availableInstanceTypes} available) in ${p.locations} locations${gpus} (${p.latencyMs} ms)`;
}

function keyNotice(key: StoreKey): string | undefined {
  if (!key.created) return undefined;
  return `created the credentials key ${key.source} (mode 0600): back it up, since the stored secrets cannot be read without it (or set GPUFLOW_CREDENTIALS_KEY instead)`;
}

export interface AddedConnection {
  connection: Connection;
  probe: ProbeResult;
  storeFile: string;
  /** Set when this call created the credentials key: tell the user to back it up. */
  keyNotice?: string;
}

/**
 * Validates the connection, proves the key with a real call, stores the key encrypted and appends
 * the connection, in that order: a failure at any step leaves nothing behind.
 */
export async function addProviderConnection(raw: Record<string, unknown> & { name: string }, secret: Secret, connectionsFile: string): Promise<AddedConnection> {
  const connection = validateConnection(raw);
  if (loadConnections(connectionsFile).some((c) => c.name === connection.name)) {
    throw new InvalidArgumentError(`--name: a connection named "${connection.name}" already exists in ${connectionsFile}; pick another name or \`gpuflow providers remove ${connection.name}\` first`);
  }
  let probe: ProbeResult;
  try {
    probe = await probeCredential(credentialFor(connection, () => ({ get: () => secret })));
  } catch (e) {
    throw new Error(`${connection.kind} connection "${connection.name}" was not added, nothing was stored: the validation call failed: ${rootMessage(e as Error)}`);
  }
  const key = resolveStoreKey({ create: true });
  const store = CredentialStore.open(key);
  store.set(connection.name, secret, connection.kind);
  try {
    appendConnection(connectionsFile, raw);
  } catch (e) {
    store.delete(connection.name); // no secret without its connection
    throw e;
  }
  const notice = keyNotice(key);
  return { connection, probe, storeFile: store.file, ...(notice ? { keyNotice: notice } : {}) };
}

/** A connection as `providers add` flags describe it; `init` builds the same from its answers. */
export function connectionInput(kind: string, o: Pick<AddFlags, 'name' | 'baseUrl' | 'spendingCap' | 'regionPrefer' | 'defaultGpu'>): Record<string, unknown> & { name: string } {
  return connectionFromFlags(kind, o);
}

async function add(kind: string, o: AddFlags): Promise<void> {
  const kinds = connectionKinds();
  if (!kinds.includes(kind)) throw new InvalidArgumentError(`<kind>: "${kind}" is not a provider kind (known: ${kinds.join(', ')})`);
  const configuredInFile = adapterFor(kind as ConnectionKind).configuredInFile;
  if (configuredInFile) throw new InvalidArgumentError(`<kind>: ${kind} connections are not added with flags: ${configuredInFile}`);
  if (!o.name) throw new InvalidArgumentError('--name is required: the connection name, e.g. lambda-us');
  const raw = connectionFromFlags(kind, o);
  // Flags are checked before the key is read (a typo should not cost a paste).
  const connection = validateConnection(raw);
  if (loadConnections(o.connections).some((c) => c.name === connection.name)) {
    throw new InvalidArgumentError(`--name: a connection named "${connection.name}" already exists in ${o.connections}; pick another name or \`gpuflow providers remove ${connection.name}\` first`);
  }
  const secret = await secretFromFlags(o);
  const added = await addProviderConnection(raw, secret, o.connections);
  if (added.keyNotice) console.error(added.keyNotice);
  if (o.json) {
    console.log(JSON.stringify({ name: connection.name, kind, credential: describeSecretSource(connection), store: added.storeFile, connectionsFile: o.connections, probe: added.probe }));
    return;
  }
  console.log(`added ${kind} connection ${connection.name}: ${describeProbe(added.probe)}`);
  console.log(`the key is stored encrypted in ${added.storeFile} (credentialRef ${connection.name}); the connection is in ${o.connections}`);
}

function capText(c: Connection): string {
  const cap = c.spendingCap;
  return cap ? `${String(cap.amount)} ${cap.currency}/${cap.period}` : '-';
}

function listRow(c: Connection) {
  return {
    name: c.name,
    kind: c.kind,
    credential: describeSecretSource(c),
    ...(c.spendingCap ? { spendingCap: { amount: String(c.spendingCap.amount), currency: c.spendingCap.currency, period: c.spendingCap.period } } : {}),
    regionPreferences: c.regionPreferences ?? [],
    ...(c.defaultGpu ? { defaultGpu: c.defaultGpu } : {}),
    endpoint: 'url' in c ? c.url : 'baseUrl' in c && c.baseUrl ? c.baseUrl : 'default',
  };
}

function formatTable(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}

function list(o: { connections: string; json?: boolean }): void {
  const connections = loadConnections(o.connections);
  if (o.json) return console.log(JSON.stringify(connections.map(listRow)));
  if (connections.length === 0) return console.log(`no provider connections in ${o.connections}: add one with \`gpuflow providers add <kind> --name NAME --api-key-env VAR\``);
  console.log(
    formatTable([
      ['NAME', 'KIND', 'CREDENTIAL', 'SPENDING CAP', 'REGION PREFERENCES', 'DEFAULT GPU', 'ENDPOINT'],
      ...connections.map((c) => {
        const r = listRow(c);
        return [r.name, r.kind, r.credential, capText(c), r.regionPreferences.join(',') || '-', r.defaultGpu ?? '-', r.endpoint];
      }),
    ]),
  );
}

function findConnection(file: string, name: string): Connection {
  const all = loadConnections(file);
  const c = all.find((x) => x.name === name);
  if (!c) throw new InvalidArgumentError(`<name>: no connection "${name}" in ${file} (known: ${all.map((x) => x.name).join(', ') || 'none'})`);
  return c;
}

async function test(name: string, o: { connections: string; json?: boolean }): Promise<void> {
  const c = findConnection(o.connections, name);
  let probe: ProbeResult;
  try {
    probe = await probeCredential(credentialFor(c));
  } catch (e) {
    if (o.json) console.log(JSON.stringify({ name, kind: c.kind, ok: false, error: rootMessage(e as Error) }));
    throw new Error(`${c.kind} connection "${name}" failed: ${rootMessage(e as Error)}`);
  }
  if (o.json) return console.log(JSON.stringify({ name, kind: c.kind, ok: true, credential: describeSecretSource(c), probe }));
  console.log(`ok: ${name} (${c.kind}, credential ${describeSecretSource(c)}) answered: ${describeProbe(probe)}`);
}

function remove(name: string, o: { connections: string; json?: boolean }): void {
  const all = loadConnections(o.connections);
  const c = findConnection(o.connections, name);
  const ref = c.credentialRef;
  const sharedWith = ref ? all.filter((x) => x.name !== name && x.credentialRef === ref).map((x) => x.name) : [];
  // Open the store first: if its key is missing or wrong, nothing is changed.
  const store = ref && sharedWith.length === 0 ? CredentialStore.open(resolveStoreKey({ create: false })) : undefined;
  deleteConnection(o.connections, name);
  const secretDeleted = store ? store.delete(ref!) : false;
  if (o.json) return console.log(JSON.stringify({ name, removed: true, secretDeleted, ...(sharedWith.length ? { secretKeptFor: sharedWith } : {}) }));
  console.log(`removed connection ${name} from ${o.connections}`);
  if (secretDeleted) console.log(`deleted its secret "${ref}" from ${store!.file}`);
  else if (sharedWith.length) console.log(`kept the secret "${ref}": connection(s) ${sharedWith.join(', ')} still use it`);
  else if (ref) console.log(`no secret "${ref}" was in ${store!.file}`);
}

export function registerProvidersCommands(program: Command): void {
  const providers = program.command('providers').description('provider connections: add (validated, key stored encrypted), list, test, remove');
  const connectionsOption = ['--connections <file>', 'connections file (env GPUFLOW_CONNECTIONS)', defaultConnectionsFile()] as const;

  providers
    .command('add')
    .description(`add a connection after a real call proves the key; the key is stored encrypted (${defaultStoreFile()})`)
    .argument('<kind>', `provider kind: ${connectionKinds().join(', ')}`)
    .option('--name <name>', 'connection name (lower-case letters, digits, "-")')
    .option('--api-key-stdin', 'read the API key (or local cloud token) from stdin')
    .option('--api-key-env <var>', 'read the API key from this environment variable')
    .option('--base-url <url>', 'API endpoint (the daemon URL for kind local; default: the provider\'s public API)')
    .option('--spending-cap <cap>', 'hard ceiling per period: AMOUNT[ CURRENCY]/PERIOD, e.g. 100/day', parseSpendingCapFlag)
    .option('--region-prefer <globs>', 'preferred regions, most preferred first (repeatable or comma-separated, e.g. "eu-*,us-east-1"); win ties on price', (v: string, acc: string[] = []) => [...acc, ...v.split(',').map((s) => s.trim()).filter(Boolean)])
    .option('--default-gpu <gpu>', 'GPU for workloads that name none, e.g. H100:8', parseDefaultGpuFlag)
    .option(...connectionsOption)
    .option('--json', 'machine-readable output')
    .action((kind: string, o: AddFlags) => add(kind, o));

  providers
    .command('list')
    .description('connections with kind, credential source, spending cap, region preferences and default GPU (never a secret)')
    .option(...connectionsOption)
    .option('--json', 'machine-readable output')
    .action((o: { connections: string; json?: boolean }) => list(o));

  providers
    .command('test')
    .description("make a real call with a connection's credential: latency and what it offers")
    .argument('<name>', 'connection name')
    .option(...connectionsOption)
    .option('--json', 'machine-readable output')
    .action((name: string, o: { connections: string; json?: boolean }) => test(name, o));

  providers
    .command('remove')
    .description('remove a connection and delete its stored secret')
    .argument('<name>', 'connection name')
    .option(...connectionsOption)
    .option('--json', 'machine-readable output')
    .action((name: string, o: { connections: string; json?: boolean }) => remove(name, o));
}
