import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local fake of the RunPod endpoints the adapter uses, with RunPod's response shapes:
 *
 *   REST (pods), base `<url>/v1`:
 *     POST   /v1/pods            → 201 Pod | { error, status }
 *     GET    /v1/pods/{id}       → 200 Pod | 404
 *     DELETE /v1/pods/{id}       → 200 (empty) | 404
 *     POST   /v1/pods/{id}/stop  → 200 Pod (desiredStatus EXITED)
 *   Serverless, base `<url>/v2` (runpod-sdk):
 *     POST   /v2/{endpointId}/run            → { id, status: 'IN_QUEUE' }
 *     GET    /v2/{endpointId}/status/{jobId} → { id, status, output?, executionTime, delayTime }
 *     POST   /v2/{endpointId}/cancel/{jobId} → { id, status: 'CANCELLED' }
 *
 * Every request needs `Authorization: Bearer <apiKey>` (else 401). Tests script failures with
 * `failNextCreate`, start pods with `startPod`, reclaim spot pods with `outbid`, and finish
 * serverless jobs with `completeJob`.
 */

export interface RecordedRunpodRequest {
  method: string;
  path: string;
  body: unknown;
  authorization: string | undefined;
}

interface FakeJob {
  id: string;
  endpointId: string;
  status: string;
  input: unknown;
  output?: unknown;
}

export class RunpodFake {
  readonly requests: RecordedRunpodRequest[] = [];
  readonly pods = new Map<string, Record<string, unknown>>();
  readonly jobs = new Map<string, FakeJob>();
  apiKey: string;
  #server: Server | null = null;
  #port = 0;
  #nextCreateError: { status: number; body: unknown } | null = null;

  constructor(apiKey = 'rpa_FAKEKEY') {
    this.apiKey = apiKey;
  }

  get port(): number {
    return this.#port;
  }

  get restBaseUrl(): string {
    return `http://127.0.0.1:${this.#port}/v1`;
  }

  get serverlessBaseUrl(): string {
    return `http://127.0.0.1:${this.#port}/v2`;
  }

  async start(): Promise<this> {
    const server = createServer((req, res) => {
      this.#handle(req, res).catch((error: unknown) => this.#send(res, 500, { error: `fake failure: ${String(error)}`, status: 500 }));
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

  /** The next create-pod answers with this status and body (RunPod's `{ error, status }`). */
  failNextCreate(status: number, error: string): void {
    this.#nextCreateError = { status, body: { error, status } };
  }

  /** The pod's container started (RunPod sets lastStartedAt and a public IP). */
  startPod(podId: string): void {
    const pod = this.pods.get(podId);
    if (!pod) throw new Error(`fake: no pod ${podId}`);
    pod['lastStartedAt'] = new Date().toISOString();
    pod['publicIp'] = '203.0.113.10';
    pod['lastStatusChange'] = `Rented by User: ${new Date().toUTCString()}`;
  }

  /**
   * RunPod reclaims an interruptible (spot) pod for a higher bid, as its backend records it: the pod
   * stopped (EXITED; or TERMINATED, the path that destroys it) with `lastStatusChange` "Outbid: <date>".
   */
  outbid(podId: string, path: 'exited' | 'terminated' = 'exited'): void {
    const pod = this.pods.get(podId);
    if (!pod) throw new Error(`fake: no pod ${podId}`);
    if (pod['interruptible'] !== true) throw new Error(`fake: pod ${podId} is not interruptible; only spot pods are outbid`);
    pod['desiredStatus'] = path === 'exited' ? 'EXITED' : 'TERMINATED';
    pod['lastStatusChange'] = `Outbid: ${new Date().toUTCString()}`;
  }

  completeJob(jobId: string, output: unknown): void {
    const job = this.jobs.get(jobId);
    if (!job) throw new Error(`fake: no job ${jobId}`);
    job.status = 'COMPLETED';
    job.output = output;
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const text = await readBody(req);
    const body: unknown = text ? JSON.parse(text) : undefined;
    const method = req.method ?? 'GET';
    this.requests.push({ method, path: url.pathname, body, authorization: req.headers.authorization });
    if (req.headers.authorization !== `Bearer ${this.apiKey}`) {
      this.#send(res, 401, { error: 'Unauthorized', status: 401 });
      return;
    }
    const path = url.pathname;
    let match: RegExpExecArray | null;
    if (method === 'POST' && path === '/v1/pods') return this.#createPod(res, body as Record<string, unknown>);
    if ((match = /^\/v1\/pods\/([^/]+)$/.exec(path))) {
      const pod = this.pods.get(match[1] as string);
      if (!pod) return this.#send(res, 404, { error: 'pod not found', status: 404 });
      if (method === 'GET') return this.#send(res, 200, pod);
      if (method === 'DELETE') {
        this.pods.delete(match[1] as string);
        res.writeHead(200).end();
        return;
      }
    }
    if (method === 'POST' && (match = /^\/v1\/pods\/([^/]+)\/stop$/.exec(path))) {
      const pod = this.pods.get(match[1] as string);
      if (!pod) return this.#send(res, 404, { error: 'pod not found', status: 404 });
      pod['desiredStatus'] = 'EXITED';
      pod['lastStatusChange'] = `Exited by User: ${new Date().toUTCString()}`;
      return this.#send(res, 200, pod);
    }
    if (method === 'POST' && (match = /^\/v2\/([^/]+)\/run$/.exec(path))) {
      const id = `${randomBytes(4).toString('hex')}-${randomBytes(2).toString('hex')}-u1`;
      this.jobs.set(id, { id, endpointId: match[1] as string, status: 'IN_QUEUE', input: (body as { input?: unknown } | undefined)?.input });
      return this.#send(res, 200, { id, status: 'IN_QUEUE' });
    }
    if (method === 'GET' && (match = /^\/v2\/([^/]+)\/status\/([^/]+)$/.exec(path))) {
      const job = this.jobs.get(match[2] as string);
      if (!job || job.endpointId !== match[1]) return this.#send(res, 404, { error: 'request does not exist' });
      return this.#send(res, 200, {
        id: job.id,
        status: job.status,
        delayTime: 812,
        ...(job.status === 'COMPLETED' ? { executionTime: 1534, output: job.output } : {}),
      });
    }
    if (method === 'POST' && (match = /^\/v2\/([^/]+)\/cancel\/([^/]+)$/.exec(path))) {
      const job = this.jobs.get(match[2] as string);
      if (!job || job.endpointId !== match[1]) return this.#send(res, 404, { error: 'request does not exist' });
      job.status = 'CANCELLED';
      return this.#send(res, 200, { id: job.id, status: 'CANCELLED' });
    }
    this.#send(res, 404, { error: `no route ${method} ${path}`, status: 404 });
  }

  #createPod(res: ServerResponse, body: Record<string, unknown>): void {
    if (this.#nextCreateError) {
      const { status, body: errorBody } = this.#nextCreateError;
      this.#nextCreateError = null;
      this.#send(res, status, errorBody);
      return;
    }
    const id = randomBytes(7).toString('hex').slice(0, 14);
    const gpuTypeId = (body['gpuTypeIds'] as string[] | undefined)?.[0] ?? 'unknown';
    const gpuCount = Number(body['gpuCount'] ?? 1);
    const pod = {
      id,
      name: body['name'],
      image: body['imageName'],
      desiredStatus: 'RUNNING',
      costPerHr: 0.69 * gpuCount,
      adjustedCostPerHr: 0.69 * gpuCount,
      gpuCount,
      gpu: { id: gpuTypeId, count: gpuCount, displayName: gpuTypeId.replace(/^NVIDIA (GeForce )?/, '') },
      machine: { gpuTypeId, dataCenterId: (body['dataCenterIds'] as string[] | undefined)?.[0] ?? 'EU-RO-1', location: 'RO' },
      machineId: randomBytes(6).toString('hex'),
      interruptible: Boolean(body['interruptible']),
      env: body['env'] ?? {},
      containerDiskInGb: body['containerDiskInGb'],
      volumeInGb: body['volumeInGb'],
      lastStartedAt: null,
      lastStatusChange: `Rented by User: ${new Date().toUTCString()}`,
      publicIp: null,
      portMappings: {},
    };
    this.pods.set(id, pod);
    this.#send(res, 201, pod);
  }

  #send(res: ServerResponse, status: number, body: unknown): void {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  }
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
