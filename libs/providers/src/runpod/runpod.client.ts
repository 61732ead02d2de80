/**
 * A small client for RunPod's REST API (pods): create, get, delete, stop, with a Bearer key and a
 * configurable base URL. Non-2xx answers become `RunpodApiError` (status + RunPod's error text),
 * which the mapper turns into the port's typed errors.
 */

/** The pod fields the adapter reads (RunPod returns more). */
export interface RunpodPod {
  id: string;
  name?: string;
  /** RUNNING | EXITED | TERMINATED */
  desiredStatus: string;
  costPerHr?: number | string;
  gpuCount?: number;
  interruptible?: boolean;
  lastStartedAt?: string | null;
  lastStatusChange?: string | null;
  publicIp?: string | null;
  machine?: { gpuTypeId?: string; dataCenterId?: string; location?: string } | null;
  gpu?: { id?: string; count?: number; displayName?: string } | null;
  env?: Record<string, string>;
}

export interface RunpodCreatePodRequest {
  name: string;
  imageName: string;
  gpuTypeIds: string[];
  gpuCount: number;
  cloudType: 'SECURE' | 'COMMUNITY';
  computeType: 'GPU';
  containerDiskInGb: number;
  volumeInGb: number;
  interruptible: boolean;
  env: Record<string, string>;
  /** Overrides the image's CMD. */
  dockerStartCmd?: string[];
  dataCenterIds?: string[];
}

export class RunpodApiError extends Error {
  constructor(
    readonly status: number,
    readonly providerMessage: string,
  ) {
    super(`RunPod API answered ${status}: ${providerMessage}`);
    this.name = 'RunpodApiError';
  }
}

export class RunpodRestClient {
  readonly #apiKey: string;
  readonly #baseUrl: string;
  readonly #timeoutMs: number;

  constructor(options: { apiKey: string; baseUrl: string; timeoutMs: number }) {
    this.#apiKey = options.apiKey;
    this.#baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.#timeoutMs = options.timeoutMs;
  }

  createPod(request: RunpodCreatePodRequest): Promise<RunpodPod> {
    return this.#call<RunpodPod>('POST', '/pods', request);
  }

  getPod(podId: string): Promise<RunpodPod> {
    return this.#call<RunpodPod>('GET', `/pods/${encodeURIComponent(podId)}`);
  }

  async deletePod(podId: string): Promise<void> {
    await this.#call<unknown>('DELETE', `/pods/${encodeURIComponent(podId)}`);
  }

  stopPod(podId: string): Promise<RunpodPod> {
    return this.#call<RunpodPod>('POST', `/pods/${encodeURIComponent(podId)}/stop`);
  }

  async #call<T>(method: string, path: string, body?: unknown): Promise<T> {
    let response: Response;
    try {
      response = await fetch(`${this.#baseUrl}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${this.#apiKey}`,
          accept: 'application/json',
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
    } catch (error) {
      const reason = error instanceof Error && error.name === 'TimeoutError' ? `no answer within ${this.#timeoutMs} ms` : 'network error';
      throw new RunpodApiError(0, reason);
    }
    const text = await response.text();
    if (!response.ok) throw new RunpodApiError(response.status, errorText(text, response.statusText));
    return (text ? JSON.parse(text) : undefined) as T;
  }

  toString(): string {
    return `RunpodRestClient(${this.#baseUrl})`;
  }

  toJSON(): { baseUrl: string } {
    return { baseUrl: this.#baseUrl };
  }
}

/** RunPod's error bodies: `{ "error": "...", "status": N }`, sometimes `{ "message": ... }` or plain text. */
function errorText(text: string, fallback: string): string {
  try {
    const parsed = JSON.parse(text) as { error?: unknown; message?: unknown };
    if (typeof parsed.error === 'string') return parsed.error;
    if (typeof parsed.message === 'string') return parsed.message;
  } catch {
    // not JSON
  }
  return text.trim().slice(0, 500) || fallback;
}
