/**
 * The instance-side metadata endpoint: what a process inside an instance may ask of its cloud
 * without the API token, as real clouds offer (EC2's instance metadata, GCE's metadata server).
 * Only self-terminate exists: a node whose control plane is gone (gpuflow's watchdog lease) ends
 * its own billing. Each instance authenticates with its own token, so one instance can never
 * terminate another, and no instance ever holds the API bearer token.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { writeFile, rename } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { shellQuote } from '../../../ssh/shellQuote.js';

export const METADATA_TOKEN_HEADER = 'x-gpuflow-metadata-token';
export const SELF_TERMINATE_PATH = '/metadata/v1/self-terminate';
/** The command name in each instance's bin/, exported to sessions as $GPUFLOW_SELF_TERMINATE. */
export const SELF_TERMINATE_COMMAND = 'gpuflow-self-terminate';
/** Status message prefix of an instance that terminated itself (no `interruption`: not a preemption). */
export const SELF_TERMINATED_MESSAGE = 'terminated from inside the instance';

export const SelfTerminateBodySchema = z
  .object({ reason: z.string().max(200, 'reason is at most 200 characters').optional() })
  .strict();

export function newMetadataToken(): string {
  return randomBytes(24).toString('hex');
}

/** Where the daemon writes `HOST PORT` of its HTTP server; rewritten at each start (the port may change). */
export function metadataEndpointFile(dataDir: string): string {
  return path.join(path.resolve(dataDir), 'metadata-endpoint');
}

export async function writeMetadataEndpoint(dataDir: string, address: string, port: number): Promise<void> {
  // Instances reach a wildcard listener through loopback.
  const host = address === '0.0.0.0' || address === '::' ? '127.0.0.1' : address;
  const file = metadataEndpointFile(dataDir);
  const tmp = `${file}.tmp-${process.pid}`;
  await writeFile(tmp, `${host} ${port}\n`);
  await rename(tmp, file);
}

/**
 * `bin/gpuflow-self-terminate [reason]`: POSTs to the metadata endpoint over bash's /dev/tcp (no
 * curl on minimal images). Prints the response body; exits 0 on a 2xx answer.
 */
export function selfTerminateScript(a: { instanceId: string; endpointFile: string; tokenFile: string }): string {
  return `#!/usr/bin/env bash
# Asks the gpuflow local cloud to terminate this instance (${a.instanceId}) from inside.
set -u
read -r host port < ${shellQuote(a.endpointFile)} || { echo "${SELF_TERMINATE_COMMAND}: the metadata endpoint is unknown" >&2; exit 2; }
token=$(cat ${shellQuote(a.tokenFile)}) || { echo "${SELF_TERMINATE_COMMAND}: no metadata token" >&2; exit 2; }
# The reason goes into JSON unescaped, so it is cut down to characters that need no escaping.
reason=$(printf '%s' "\${1:-requested from inside the instance}" | tr -cd 'A-Za-z0-9 ._:,()/+=-' | cut -c1-200)
body="{\\"reason\\":\\"$reason\\"}"
exec 3<>"/dev/tcp/$host/$port" || { echo "${SELF_TERMINATE_COMMAND}: cannot connect to $host:$port" >&2; exit 3; }
printf 'POST ${SELF_TERMINATE_PATH} HTTP/1.1\\r\\nHost: %s:%s\\r\\n${METADATA_TOKEN_HEADER}: %s\\r\\nContent-Type: application/json\\r\\nContent-Length: %d\\r\\nConnection: close\\r\\n\\r\\n%s' \\
  "$host" "$port" "$token" "\${#body}" "$body" >&3
IFS=' ' read -r -t 10 _ status _ <&3 || { echo "${SELF_TERMINATE_COMMAND}: no answer from $host:$port" >&2; exit 3; }
while IFS= read -r -t 10 line <&3 && [ "\${line%$'\\r'}" != "" ]; do :; done
answer=$(cat <&3)
exec 3<&-
echo "$answer"
case "$status" in 2??) exit 0 ;; *) echo "${SELF_TERMINATE_COMMAND}: HTTP $status" >&2; exit 1 ;; esac
`;
}

const digest = (s: string) => createHash('sha256').update(s).digest();

/** Constant-time token comparison (digests first, so lengths never leak). */
export function sameToken(expected: string, given: string): boolean {
  return timingSafeEqual(digest(expected), digest(given));
}
