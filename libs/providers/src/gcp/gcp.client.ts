import { InstancesClient, ZoneOperationsClient, type protos } from '@google-cloud/compute';
import type { GcpProviderConfig } from './gcp.config.js';

export type GcpInstance = protos.google.cloud.compute.v1.IInstance;
export type GcpOperation = protos.google.cloud.compute.v1.IOperation;

/**
 * A minimal auth client for a plain OAuth access token: google-gax's REST transport asks it for
 * `fetch` (and checks for `getRequestHeaders`). Its token lives in a private field, never printed.
 */
class AccessTokenAuthClient {
  readonly #accessToken: string;

  constructor(accessToken: string) {
    this.#accessToken = accessToken;
  }

  async getRequestHeaders(): Promise<Headers> {
    return new Headers({ authorization: `Bearer ${this.#accessToken}` });
  }

  fetch(url: string | URL, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    headers.set('authorization', `Bearer ${this.#accessToken}`);
    return fetch(url, { ...init, headers });
  }

  toString(): string {
    return 'AccessTokenAuthClient';
  }

  toJSON(): string {
    return 'AccessTokenAuthClient';
  }
}

type ClientOptions = NonNullable<ConstructorParameters<typeof InstancesClient>[0]>;

function clientOptions(config: GcpProviderConfig): ClientOptions {
  const endpoint = config.endpoint ? { apiEndpoint: config.endpoint.host, port: config.endpoint.port, protocol: config.endpoint.protocol } : {};
  const credentials = config.credentials;
  const auth =
    credentials.type === 'service_account'
      ? { credentials: { client_email: credentials.clientEmail, private_key: credentials.privateKey }, projectId: config.projectId }
      : { authClient: new AccessTokenAuthClient(credentials.accessToken) as unknown as ClientOptions['authClient'] };
  return { fallback: true, ...endpoint, ...auth } as ClientOptions;
}

/** The few Compute Engine calls the adapter makes, through the real client library. */
export class GcpComputeClient {
  readonly #instances: InstancesClient;
  readonly #operations: ZoneOperationsClient;
  readonly #projectId: string;

  constructor(config: GcpProviderConfig) {
    this.#projectId = config.projectId;
    this.#instances = new InstancesClient(clientOptions(config));
    this.#operations = new ZoneOperationsClient(clientOptions(config));
  }

  /** Inserts an instance; returns the insert operation as GCP answered it (usually still RUNNING). */
  async insertInstance(zone: string, instance: GcpInstance, requestId: string): Promise<GcpOperation> {
    const [operation] = await this.#instances.insert({ project: this.#projectId, zone, instanceResource: instance, requestId });
    return operation.latestResponse as GcpOperation;
  }

  async getInstance(zone: string, name: string): Promise<GcpInstance> {
    const [instance] = await this.#instances.get({ project: this.#projectId, zone, instance: name });
    return instance;
  }

  async deleteInstance(zone: string, name: string): Promise<GcpOperation> {
    const [operation] = await this.#instances.delete({ project: this.#projectId, zone, instance: name });
    return operation.latestResponse as GcpOperation;
  }

  /** Waits (GCP's operations.wait, repeated) until the operation is DONE or the timeout passes. */
  async waitForOperation(zone: string, operation: GcpOperation, timeoutMs: number): Promise<GcpOperation> {
    const deadline = Date.now() + timeoutMs;
    let current = operation;
    while (current.status !== 'DONE') {
      if (Date.now() >= deadline) return current;
      const [next] = await this.#operations.wait(
        { project: this.#projectId, zone, operation: String(current.name) },
        { timeout: Math.max(1000, deadline - Date.now()) },
      );
      current = next;
    }
    return current;
  }

  async listOperations(zone: string, filter: string): Promise<GcpOperation[]> {
    const [operations] = await this.#operations.list({ project: this.#projectId, zone, filter }, { autoPaginate: true });
    return operations;
  }

  async close(): Promise<void> {
    await Promise.all([this.#instances.close(), this.#operations.close()]);
  }

  toString(): string {
    return `GcpComputeClient(project=${this.#projectId})`;
  }

  toJSON(): { projectId: string } {
    return { projectId: this.#projectId };
  }
}
