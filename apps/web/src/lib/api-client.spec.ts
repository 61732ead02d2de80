import { describe, expect, it } from 'vitest';
import { ApiClient, memoryStore } from './api-client.js';
import { ApiError, errorSentence } from './api-error.js';

type Call = { url: string; init: RequestInit };

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
}

/** A fake API: answers from a list of handlers, records every call. */
function fakeFetch(handler: (call: Call, index: number) => Response | Promise<Response>) {
  const calls: Call[] = [];
  const impl = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const call = { url: String(input), init: init ?? {} };
    calls.push(call);
    return handler(call, calls.length - 1);
  }) as typeof fetch;
  return { calls, impl };
}

const header = (call: Call | undefined, name: string) => (call?.init.headers as Record<string, string> | undefined)?.[name];

describe('ApiClient', () => {
  it('refreshes once on 401 token_expired and retries with the new token', async () => {
    const { calls, impl } = fakeFetch((call) => {
      if (call.url.endsWith('/v1/auth/refresh')) return json(200, { tokenType: 'Bearer', accessToken: 'new-access', refreshToken: 'new-refresh', expiresInSeconds: 900, userId: 'u' });
      if (header(call, 'Authorization') === 'Bearer old-access') return json(401, { code: 'token_expired', message: 'Your session token has expired.', requestId: 'r1' });
      return json(200, { ok: true });
    });
    const storage = memoryStore();
    const api = new ApiClient({ fetch: impl, storage });
    api.setTokens({ accessToken: 'old-access', refreshToken: 'old-refresh' });

    await expect(api.get('/v1/me')).resolves.toEqual({ ok: true });
    expect(calls.map((c) => c.url)).toEqual(['/v1/me', '/v1/auth/refresh', '/v1/me']);
    expect(JSON.parse(String(calls[1]?.init.body))).toEqual({ refreshToken: 'old-refresh' });
    expect(header(calls[1], 'Authorization')).toBeUndefined();
    expect(header(calls[2], 'Authorization')).toBe('Bearer new-access');
    expect(storage.getItem('anneal.refreshToken')).toBe('new-refresh');
  });

  it('shares one refresh between concurrent requests', async () => {
    let refreshes = 0;
    let refused = 0;
    // The refresh answers only once all three requests have been refused: they overlap for sure.
    let releaseRefresh!: () => void;
    const allRefused = new Promise<void>((resolve) => (releaseRefresh = resolve));
    const { impl } = fakeFetch(async (call) => {
      if (call.url.endsWith('/v1/auth/refresh')) {
        refreshes++;
        await allRefused;
        return json(200, { accessToken: 'fresh', refreshToken: 'r2' });
      }
      if (header(call, 'Authorization') === 'Bearer fresh') return json(200, { path: call.url });
      refused += 1;
      if (refused === 3) releaseRefresh();
      return json(401, { code: 'token_expired', message: 'expired' });
    });
    const api = new ApiClient({ fetch: impl });
    api.setTokens({ accessToken: 'stale', refreshToken: 'r1' });
    const results = await Promise.all([api.get('/v1/a'), api.get('/v1/b'), api.get('/v1/c')]);
    expect(results).toEqual([{ path: '/v1/a' }, { path: '/v1/b' }, { path: '/v1/c' }]);
    expect(refreshes).toBe(1);
  });

  it('ends the session when the refresh token is refused', async () => {
    const { impl } = fakeFetch((call) =>
      call.url.endsWith('/v1/auth/refresh')
        ? json(401, { code: 'token_expired', message: 'This refresh token was already used: sign in again.' })
        : json(401, { code: 'token_expired', message: 'Your session token has expired: refresh it or sign in again.' }),
    );
    const api = new ApiClient({ fetch: impl });
    let changes = 0;
    api.subscribe(() => changes++);
    api.setTokens({ accessToken: 'a', refreshToken: 'r' });
    const error = await api.get('/v1/me').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).code).toBe('token_expired');
    expect(api.hasSession).toBe(false);
    expect(changes).toBe(2);
  });

  it('after a reload (refresh token only) refreshes before the first request', async () => {
    const storage = memoryStore();
    storage.setItem('anneal.refreshToken', 'kept');
    const { calls, impl } = fakeFetch((call) => (call.url.endsWith('/refresh') ? json(200, { accessToken: 'A', refreshToken: 'R' }) : json(200, {})));
    const api = new ApiClient({ fetch: impl, storage });
    await api.get('/v1/me');
    expect(calls.map((c) => c.url)).toEqual(['/v1/auth/refresh', '/v1/me']);
    expect(header(calls[1], 'Authorization')).toBe('Bearer A');
  });

  it('sends the acting org and idempotency key, and turns errors into their sentence', async () => {
    const { calls, impl } = fakeFetch(() =>
      json(400, {
        code: 'validation_failed',
        message: 'Some fields are not valid: name must be shorter than or equal to 100 characters.',
        requestId: 'req-7',
        details: { fields: [{ field: 'name', message: 'name must be shorter than or equal to 100 characters' }] },
      }),
    );
    const api = new ApiClient({ fetch: impl });
    api.setTokens({ accessToken: 'a', refreshToken: 'r' });
    api.setOrgId('org-1');
    const error = (await api.post('/v1/api-keys', { name: 'x' }, { idempotencyKey: 'k-1' }).catch((e: unknown) => e)) as ApiError;
    expect(header(calls[0], 'Anneal-Org')).toBe('org-1');
    expect(header(calls[0], 'Idempotency-Key')).toBe('k-1');
    expect(error.status).toBe(400);
    expect(error.requestId).toBe('req-7');
    expect(error.fields).toEqual([{ field: 'name', message: 'name must be shorter than or equal to 100 characters' }]);
    expect(errorSentence(error)).toBe('Some fields are not valid: name must be shorter than or equal to 100 characters.');
  });

  it('gives a sentence for a body that is not JSON, and for a network failure', async () => {
    const { impl } = fakeFetch(() => new Response('<html>Bad gateway</html>', { status: 502 }));
    const api = new ApiClient({ fetch: impl });
    const error = (await api.get('/v1/offers').catch((e: unknown) => e)) as ApiError;
    expect(error.code).toBe('http_502');
    expect(errorSentence(error)).toBe('Anneal had a problem on its side. Try again in a moment.');
    expect(errorSentence(new TypeError('Failed to fetch'))).toBe('Anneal could not be reached. Check your connection and try again.');
    expect(errorSentence(new Error('at Object.<anonymous> (/app/x.js:1:1)'))).not.toContain('/app/x.js');
  });

  it('returns undefined for 204', async () => {
    const { impl } = fakeFetch(() => new Response(null, { status: 204 }));
    const api = new ApiClient({ fetch: impl });
    await expect(api.post('/v1/auth/logout')).resolves.toBeUndefined();
  });
});
