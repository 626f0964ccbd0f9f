/**
 * The CloudCredential half of a client. A client made by a credential answers every credential
 * question (API type, capabilities, provider, reference and tenant IDs, making more clients) as
 * that credential does, so it forwards them instead of repeating the answers per adapter.
 */
import type { Capability } from './capabilities.js';
import type { ApiType, CloudClient, CloudCredential } from './client.js';

export abstract class CredentialBoundClient<C extends CloudCredential> implements CloudCredential {
  protected constructor(
    protected readonly credential: C,
    /** The location the client was made for (for a global API only its default; informational). */
    readonly location: string,
  ) {}

  getApiType(): ApiType {
    return this.credential.getApiType();
  }

  getCapabilities(): Promise<Capability[]> {
    return this.credential.getCapabilities();
  }

  getCloudProviderId(): string {
    return this.credential.getCloudProviderId();
  }

  getReferenceId(): string {
    return this.credential.getReferenceId();
  }

  getTenantId(): Promise<string> {
    return this.credential.getTenantId();
  }

  makeClient(location: string): Promise<CloudClient> {
    return this.credential.makeClient(location);
  }
}
