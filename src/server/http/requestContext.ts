/** What the server attaches to each request: who asked, and what the audit log records about it. */
import type { Principal } from '../identity/store.js';

export interface AuditTarget {
  action: string;
  resource?: string;
  project?: string;
  tenant?: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
    audit?: AuditTarget;
    auditDenial?: string;
  }
}
