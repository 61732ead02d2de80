import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local fake of the Compute Engine REST endpoints the GCP adapter uses, speaking the real shapes
 * (Operation and Instance resources, Google error JSON), so tests drive the real
 * `@google-cloud/compute` client against it:
 *
 *   POST   /compute/v1/projects/P/zones/Z/instances                  insert → Operation
 *   GET    /compute/v1/projects/P/zones/Z/instances/NAME             get → Instance | 404
 *   DELETE /compute/v1/projects/P/zones/Z/instances/NAME             delete → Operation | 404
 *   GET    /compute/v1/projects/P/zones/Z/operations/OP              get → Operation
 *   POST   /compute/v1/projects/P/zones/Z/operations/OP/wait         wait → Operation (DONE)
 *   GET    /compute/v1/projects/P/zones/Z/operations?filter=…        list → OperationList
 *
 * Requests without `Authorization: Bearer <acceptedToken>` get 401. Tests script failures with
 * `failNextInsert` (an HTTP error) and `failNextInsertOperation` (an error inside the finished
 * operation), move instances with `setInstanceStatus`, and reclaim spot VMs with `preempt`.
 */

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  body: unknown;
  authorization: string | undefined;
}

export interface FakeInstance {
  name: string;
  zone: string;
  project: string;
  status: string;
  resource: Record<string, unknown>;
}

export interface GoogleErrorBody {
  error: { code: number; message: string; status?: string; errors: { reason: string; domain: string; message: string }[]; details?: unknown[] };
}

export interface OperationErrorItem {
  code: string;
  message: string;
}

type Operation = Record<string, unknown> & { name: string; status: string };

export class ComputeFake {
  readonly requests: RecordedRequest[] = [];
  readonly instances = new Map<string, FakeInstance>();
  acceptedToken: string;
  #server: Server | null = null;
  #port = 0;
  #nextId = 1_000_000_000_000n;
  #operations = new Map<string, Operation>();
  #pendingErrors = new Map<string, OperationErrorItem[]>();
  #nextInsertHttpError: { status: number; body: GoogleErrorBody } | null = null;
  #nextInsertOperationErrors: OperationErrorItem[] | null = null;

  constructor(acceptedToken = 'fake-gcp-token') {
    this.acceptedToken = acceptedToken;
  }

  get port(): number {
    return this.#port;
  }

  async start(): Promise<this> {
    const server = createServer((req, res) => {
      this.#handle(req, res).catch((error: unknown) => {
        this.#send(res, 500, googleError(500, `fake failure: ${String(error)}`, 'backendError', 'INTERNAL'));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.#server = server;
    this.#port = (server.address() as AddressInfo).port;
    return this;
  }

  async stop(): Promise<void> {
    const server = this.#server;
    this.#server = null;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** The next insert answers with this HTTP error (Google error JSON) and creates nothing. */
  failNextInsert(status: number, body: GoogleErrorBody): void {
    this.#nextInsertHttpError = { status, body };
  }

  /** The next insert is accepted (RUNNING operation) but finishes DONE with these errors, creating nothing. */
  failNextInsertOperation(errors: OperationErrorItem[]): void {
    this.#nextInsertOperationErrors = errors;
  }

  setInstanceStatus(zone: string, name: string, status: string): void {
    const instance = this.instances.get(`${zone}/${name}`);
    if (!instance) throw new Error(`fake: no instance ${zone}/${name}`);
    instance.status = status;
  }

  /** GCP reclaims a spot VM: with instanceTerminationAction DELETE it disappears, and a preempted operation is recorded. */
  preempt(zone: string, name: string): void {
    const instance = this.instances.get(`${zone}/${name}`);
    if (!instance) throw new Error(`fake: no instance ${zone}/${name}`);
    this.instances.delete(`${zone}/${name}`);
    const op = this.#operation(instance.project, zone, name, 'compute.instances.preempted', 'DONE');
    op['user'] = 'system';
    op['statusMessage'] = 'Instance was preempted.';
  }

  requestsTo(method: string, pathSuffix: RegExp): RecordedRequest[] {
    return this.requests.filter((r) => r.method === method && pathSuffix.test(r.path));
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const text = await readBody(req);
    const body: unknown = text ? JSON.parse(text) : undefined;
    const method = req.method ?? 'GET';
    this.requests.push({ method, path: url.pathname, query: Object.fromEntries(url.searchParams), body, authorization: req.headers.authorization });

    if (req.headers.authorization !== `Bearer ${this.acceptedToken}`) {
      this.#send(res, 401, googleError(401, 'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.', 'authError', 'UNAUTHENTICATED'));
      return;
    }

    const base = /^\/compute\/v1\/projects\/([^/]+)\/zones\/([^/]+)\/(instances|operations)(?:\/([^/]+))?(\/wait)?$/.exec(url.pathname);
    if (!base) {
      this.#send(res, 404, googleError(404, `The requested URL ${url.pathname} was not found.`, 'notFound', 'NOT_FOUND'));
      return;
    }
    const [, project = '', zone = '', collection, name, wait] = base;

    if (collection === 'instances' && method === 'POST' && !name) return this.#insert(res, project, zone, body as Record<string, unknown>);
    if (collection === 'instances' && method === 'GET' && name) return this.#getInstance(res, project, zone, name);
    if (collection === 'instances' && method === 'DELETE' && name) return this.#deleteInstance(res, project, zone, name);
    if (collection === 'operations' && name && (method === 'GET' || (method === 'POST' && wait))) {
      return this.#getOperation(res, project, zone, name, Boolean(wait));
    }
    if (collection === 'operations' && method === 'GET' && !name) return this.#listOperations(res, project, zone, url.searchParams.get('filter') ?? '');
    this.#send(res, 404, googleError(404, `The requested URL ${url.pathname} was not found.`, 'notFound', 'NOT_FOUND'));
  }

  #insert(res: ServerResponse, project: string, zone: string, resource: Record<string, unknown>): void {
    if (this.#nextInsertHttpError) {
      const { status, body } = this.#nextInsertHttpError;
      this.#nextInsertHttpError = null;
      this.#send(res, status, body);
      return;
    }
    const name = String(resource['name'] ?? '');
    if (this.instances.has(`${zone}/${name}`)) {
      this.#send(res, 409, googleError(409, `The resource 'projects/${project}/zones/${zone}/instances/${name}' already exists`, 'alreadyExists', 'ALREADY_EXISTS'));
      return;
    }
    const op = this.#operation(project, zone, name, 'insert', 'RUNNING');
    const errors = this.#nextInsertOperationErrors;
    this.#nextInsertOperationErrors = null;
    if (errors) {
      this.#pendingErrors.set(op.name, errors);
    } else {
      const id = String(this.#nextId++);
      this.instances.set(`${zone}/${name}`, {
        name,
        zone,
        project,
        status: 'PROVISIONING',
        resource: {
          ...resource,
          kind: 'compute#instance',
          id,
          creationTimestamp: new Date().toISOString(),
          zone: zoneLink(project, zone),
          selfLink: `${zoneLink(project, zone)}/instances/${name}`,
        },
      });
      op['targetId'] = id;
    }
    this.#send(res, 200, op);
  }

  #getInstance(res: ServerResponse, project: string, zone: string, name: string): void {
    const instance = this.instances.get(`${zone}/${name}`);
    if (!instance || instance.project !== project) {
      this.#send(res, 404, googleError(404, `The resource 'projects/${project}/zones/${zone}/instances/${name}' was not found`, 'notFound', 'NOT_FOUND'));
      return;
    }
    this.#send(res, 200, { ...instance.resource, status: instance.status });
  }

  #deleteInstance(res: ServerResponse, project: string, zone: string, name: string): void {
    const instance = this.instances.get(`${zone}/${name}`);
    if (!instance || instance.project !== project) {
      this.#send(res, 404, googleError(404, `The resource 'projects/${project}/zones/${zone}/instances/${name}' was not found`, 'notFound', 'NOT_FOUND'));
      return;
    }
    instance.status = 'STOPPING';
    const op = this.#operation(project, zone, name, 'delete', 'RUNNING');
    this.#send(res, 200, op);
  }

  #getOperation(res: ServerResponse, project: string, zone: string, name: string, wait: boolean): void {
    const op = this.#operations.get(name);
    if (!op) {
      this.#send(res, 404, googleError(404, `The resource 'projects/${project}/zones/${zone}/operations/${name}' was not found`, 'notFound', 'NOT_FOUND'));
      return;
    }
    if (wait && op.status !== 'DONE') this.#finish(op, zone);
    this.#send(res, 200, op);
  }

  #listOperations(res: ServerResponse, project: string, zone: string, filter: string): void {
    const type = /operationType\s*=\s*"([^"]+)"/.exec(filter)?.[1];
    const target = /targetLink\s*=\s*"([^"]+)"/.exec(filter)?.[1];
    const items = [...this.#operations.values()].filter(
      (op) => op['zone'] === zoneLink(project, zone) && (!type || op['operationType'] === type) && (!target || op['targetLink'] === target),
    );
    this.#send(res, 200, { kind: 'compute#operationList', id: `projects/${project}/zones/${zone}/operations`, items, selfLink: `${zoneLink(project, zone)}/operations` });
  }

  #finish(op: Operation, zone: string): void {
    op.status = 'DONE';
    op['progress'] = 100;
    op['endTime'] = new Date().toISOString();
    const errors = this.#pendingErrors.get(op.name);
    if (errors) {
      this.#pendingErrors.delete(op.name);
      op['error'] = { errors };
      op['httpErrorStatusCode'] = errors.some((e) => e.code.startsWith('QUOTA')) ? 403 : 503;
      op['httpErrorMessage'] = errors.some((e) => e.code.startsWith('QUOTA')) ? 'FORBIDDEN' : 'SERVICE UNAVAILABLE';
      return;
    }
    const target = String(op['targetLink']).split('/').pop() ?? '';
    if (op['operationType'] === 'insert') {
      const instance = this.instances.get(`${zone}/${target}`);
      if (instance && instance.status === 'PROVISIONING') instance.status = 'STAGING';
    }
    if (op['operationType'] === 'delete') this.instances.delete(`${zone}/${target}`);
  }

  #operation(project: string, zone: string, target: string, type: string, status: string): Operation {
    const id = String(this.#nextId++);
    const name = `operation-${id}-${type.replace(/\W/g, '')}`;
    const now = new Date().toISOString();
    const op: Operation = {
      kind: 'compute#operation',
      id,
      name,
      zone: zoneLink(project, zone),
      operationType: type,
      targetLink: `${zoneLink(project, zone)}/instances/${target}`,
      status,
      user: 'anneal@example.iam.gserviceaccount.com',
      progress: status === 'DONE' ? 100 : 0,
      insertTime: now,
      startTime: now,
      selfLink: `${zoneLink(project, zone)}/operations/${name}`,
    };
    this.#operations.set(name, op);
    return op;
  }

  #send(res: ServerResponse, status: number, body: unknown): void {
    res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8' });
    res.end(JSON.stringify(body));
  }
}

export function zoneLink(project: string, zone: string): string {
  return `https://www.googleapis.com/compute/v1/projects/${project}/zones/${zone}`;
}

/** Google's error JSON, with the legacy `errors[]` and an ErrorInfo detail, as Compute sends it. */
export function googleError(code: number, message: string, reason: string, status?: string, errorInfoReason?: string): GoogleErrorBody {
  return {
    error: {
      code,
      message,
      ...(status ? { status } : {}),
      errors: [{ message, domain: errorInfoReason ? 'usageLimits' : 'global', reason }],
      ...(errorInfoReason
        ? {
            details: [
              {
                '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
                reason: errorInfoReason,
                domain: 'compute.googleapis.com',
                metadata: {},
              },
            ],
          }
        : {}),
    },
  };
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
