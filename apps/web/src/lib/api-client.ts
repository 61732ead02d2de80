import { ApiError, apiErrorFrom } from './api-error.js';

/** What `POST /v1/auth/signup|login|refresh` return. */
export interface TokenPair {
  tokenType: 'Bearer';
  accessToken: string;
  expiresInSeconds: number;
  refreshToken: string;
  userId: string;
}

export interface RequestOptions {
  method?: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  body?: unknown;
  /** Send no Authorization header (sign-up, login, refresh). */
  anonymous?: boolean;
  idempotencyKey?: string;
  signal?: AbortSignal;
  /** The `Accept` header; JSON unless said. */
  accept?: string;
}

const REFRESH_KEY = 'anneal.refreshToken';
const ORG_KEY = 'anneal.orgId';

/** Where the refresh token lives between page loads: sessionStorage in the browser. */
export interface TokenStore {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

export interface ApiClientOptions {
  baseUrl?: string;
  fetch?: typeof fetch;
  storage?: TokenStore;
}

/**
 * The one way the consoles talk to the API. The access token lives in memory only, the refresh
 * token in sessionStorage; a 401 `token_expired` refreshes once (shared by concurrent requests)
 * and retries. Failures become {@link ApiError}s carrying the API's sentence.
 */
export class ApiClient {
  private accessToken: string | null = null;
  private refreshing: Promise<boolean> | null = null;
  private readonly listeners = new Set<() => void>();
  private readonly baseUrl: string;
  private readonly fetchImpl: typeof fetch;
  private readonly storage: TokenStore;

  constructor(options: ApiClientOptions = {}) {
    this.baseUrl = options.baseUrl ?? '';
    this.fetchImpl = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.storage = options.storage ?? memoryStore();
  }

  /** Called when the session starts or ends (tokens set or cleared). */
  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get hasSession(): boolean {
    return this.accessToken !== null || this.storage.getItem(REFRESH_KEY) !== null;
  }

  get hasAccessToken(): boolean {
    return this.accessToken !== null;
  }

  /** The organization requests act for (`Anneal-Org`); null lets the API pick the default. */
  get orgId(): string | null {
    return this.storage.getItem(ORG_KEY);
  }

  setOrgId(orgId: string | null): void {
    if (orgId) this.storage.setItem(ORG_KEY, orgId);
    else this.storage.removeItem(ORG_KEY);
    this.emit();
  }

  setTokens(tokens: Pick<TokenPair, 'accessToken' | 'refreshToken'>): void {
    this.accessToken = tokens.accessToken;
    this.storage.setItem(REFRESH_KEY, tokens.refreshToken);
    this.emit();
  }

  clearSession(): void {
    const had = this.hasSession;
    this.accessToken = null;
    this.storage.removeItem(REFRESH_KEY);
    this.storage.removeItem(ORG_KEY);
    if (had) this.emit();
  }

  /** Trades the stored refresh token for a new pair; false (and signed out) when it is no longer valid. */
  refresh(): Promise<boolean> {
    this.refreshing ??= this.doRefresh().finally(() => {
      this.refreshing = null;
    });
    return this.refreshing;
  }

  private async doRefresh(): Promise<boolean> {
    const refreshToken = this.storage.getItem(REFRESH_KEY);
    if (!refreshToken) return false;
    // A network failure throws and keeps the session: the caller shows the sentence.
    const response = await this.send('/v1/auth/refresh', { method: 'POST', body: { refreshToken }, anonymous: true });
    if (!response.ok) {
      if (response.status === 401 || response.status === 400) {
        this.clearSession();
        return false;
      }
      throw await apiErrorFrom(response);
    }
    this.setTokens((await response.json()) as TokenPair);
    return true;
  }

  async request<T>(path: string, options: RequestOptions = {}): Promise<T> {
    const response = await this.fetchOk(path, options);
    if (response.status === 204) return undefined as T;
    const text = await response.text();
    return (text === '' ? undefined : JSON.parse(text)) as T;
  }

  /**
   * Opens a server-sent event stream with the session's bearer token in the header (an
   * `EventSource` cannot send one, and the token must not go in a URL); the body is the stream.
   */
  openStream(path: string, signal: AbortSignal): Promise<Response> {
    return this.fetchOk(path, { signal, accept: 'text/event-stream' });
  }

  /** The response of a successful call, after refreshing once on `token_expired`; else an ApiError. */
  private async fetchOk(path: string, options: RequestOptions): Promise<Response> {
    if (!options.anonymous && this.accessToken === null && this.storage.getItem(REFRESH_KEY) !== null) await this.refresh();
    let response = await this.send(path, options);
    if (response.status === 401 && !options.anonymous) {
      const error = await apiErrorFrom(response.clone());
      if (error.code === 'token_expired' && (await this.refresh())) response = await this.send(path, options);
      else if (error.code === 'token_expired' || error.code === 'unauthenticated') this.clearSession();
    }
    if (!response.ok) throw await apiErrorFrom(response);
    return response;
  }

  get<T>(path: string, signal?: AbortSignal): Promise<T> {
    return this.request<T>(path, signal ? { signal } : {});
  }

  post<T>(path: string, body?: unknown, options: Omit<RequestOptions, 'method' | 'body'> = {}): Promise<T> {
    return this.request<T>(path, { ...options, method: 'POST', body });
  }

  patch<T>(path: string, body?: unknown): Promise<T> {
    return this.request<T>(path, { method: 'PATCH', body });
  }

  delete<T>(path: string): Promise<T> {
    return this.request<T>(path, { method: 'DELETE' });
  }

  private send(path: string, options: RequestOptions): Promise<Response> {
    const headers: Record<string, string> = { Accept: options.accept ?? 'application/json' };
    if (options.body !== undefined) headers['Content-Type'] = 'application/json';
    if (!options.anonymous && this.accessToken) headers.Authorization = `Bearer ${this.accessToken}`;
    const orgId = this.orgId;
    if (!options.anonymous && orgId) headers['Anneal-Org'] = orgId;
    if (options.idempotencyKey) headers['Idempotency-Key'] = options.idempotencyKey;
    return this.fetchImpl(`${this.baseUrl}${path}`, {
      method: options.method ?? 'GET',
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: options.signal ?? null,
    });
  }

  private emit(): void {
    for (const listener of this.listeners) listener();
  }
}

/** A store that forgets on reload: tests, and browsers without sessionStorage. */
export function memoryStore(): TokenStore {
  const map = new Map<string, string>();
  return {
    getItem: (key) => map.get(key) ?? null,
    setItem: (key, value) => void map.set(key, value),
    removeItem: (key) => void map.delete(key),
  };
}

/** sessionStorage when the browser has it, else memory. */
export function browserStore(): TokenStore {
  try {
    const probe = '__anneal_probe__';
    window.sessionStorage.setItem(probe, '1');
    window.sessionStorage.removeItem(probe);
    return window.sessionStorage;
  } catch {
    return memoryStore();
  }
}

export { ApiError };
