/**
 * A self-signed TLS certificate for 127.0.0.1, made at replica start with Debian's `openssl`
 * (Azure's bearer-token policy refuses http endpoints, so the replica must speak https). The
 * test trusts it through the credential's `caFile` (the adapter adds it to the SDKs' TLS settings).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface ReplicaTls {
  key: string;
  cert: string;
  /** The certificate as a file, for `caFile`. */
  certFile: string;
  dispose(): void;
}

export function makeReplicaTls(): ReplicaTls {
  const dir = mkdtempSync(join(tmpdir(), 'gpuflow-azure-tls-'));
  const keyFile = join(dir, 'key.pem');
  const certFile = join(dir, 'cert.pem');
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost', '-keyout', keyFile, '-out', certFile],
    { stdio: 'ignore' },
  );
  return { key: readFileSync(keyFile, 'utf8'), cert: readFileSync(certFile, 'utf8'), certFile, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}
