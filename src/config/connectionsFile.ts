/**
 * Edits connections.yaml in place for `gpuflow providers add|remove`: the YAML document is edited,
 * not regenerated, so the user's comments and other connections stay as written. Every write is
 * validated as a whole file first and replaces the file atomically (0600).
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { isMap, isSeq, parseDocument, type Document } from 'yaml';
import { ConnectionsFileSchema } from './connections.js';
import { gpuflowHome } from './paths.js';

export const CONNECTIONS_FILE_ENV = 'GPUFLOW_CONNECTIONS';

/** The file `gpuflow worker`, `gpuflow providers` and `gpuflow run` read unless told otherwise. */
export function defaultConnectionsFile(): string {
  return process.env[CONNECTIONS_FILE_ENV] ?? join(gpuflowHome(), 'dev', 'connections.yaml');
}

function readDocument(file: string): Document {
  const doc = parseDocument(existsSync(file) ? readFileSync(file, 'utf8') : 'connections: []\n');
  if (doc.errors.length) throw new Error(`${file} is not valid YAML: ${doc.errors[0]!.message}`);
  if (!doc.has('connections')) doc.set('connections', doc.createNode([]));
  return doc;
}

function connectionNames(doc: Document): string[] {
  const seq = doc.get('connections');
  if (!isSeq(seq)) return [];
  return seq.items.map((item) => (isMap(item) ? String(item.get('name')) : ''));
}

function writeDocument(file: string, doc: Document): void {
  const check = ConnectionsFileSchema.safeParse(doc.toJS());
  if (!check.success) {
    throw new Error(`${file} would be invalid, nothing was changed:\n${check.error.issues.map((i) => `  - ${i.path.join('.')}: ${i.message}`).join('\n')}`);
  }
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(tmp, doc.toString(), { mode: 0o600, flag: 'wx' });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
}

/** Appends a connection; a name already in the file is refused. */
export function appendConnection(file: string, connection: Record<string, unknown> & { name: string }): void {
  const doc = readDocument(file);
  if (connectionNames(doc).includes(connection.name)) {
    throw new Error(`a connection named "${connection.name}" already exists in ${file}: pick another --name, or \`gpuflow providers remove ${connection.name}\` first`);
  }
  doc.addIn(['connections'], doc.createNode(connection));
  writeDocument(file, doc);
}

/** Removes the connection named `name`; false when there is none. */
export function deleteConnection(file: string, name: string): boolean {
  const doc = readDocument(file);
  const i = connectionNames(doc).indexOf(name);
  if (i < 0) return false;
  doc.deleteIn(['connections', i]);
  writeDocument(file, doc);
  return true;
}
