import { describe, expect, it } from 'vitest';
import { buildAssignment } from '../../testing/agent-fixtures.js';
import { assignmentNeedsStorageApi, AttemptStorageClient, AttemptStorageError } from './attempt-storage.client.js';

const TOKEN = 'att_secret-token-0123456789abcdefghij';
const URL_OK = { key: 'jobs/o/j/a/checkpoints/checkpoint-001.bin', putUrl: 'http://s3.test/b/k?X-Amz-Signature=deadbeef', headers: { 'x-amz-server-side-encryption': 'AES256' }, expiresAt: '2026-11-22T07:45:00.000Z' };

type Answer = { status: number; body?: unknown; headers?: Record<string, string> } | Error;

/** A fetch that answers from a script and records what it was asked. */
function scripted(...answers: Answer[]) {
  const calls: Array<{ url: string; method: string; authorization: string | null }> = [];
  const fetchFn = (async (url: string, init: RequestInit) => {
    calls.push({ url, method: init.method ?? 'GET', authorization: new Headers(init.headers).get('authorization') });
    const answer = answers.shift() ?? { status: 500 };
    if (answer instanceof Error) throw answer;
    return new Response(answer.body === undefined ? '' : JSON.stringify(answer.body), { status: answer.status, headers: { 'content-type': 'application/json', ...answer.headers } });
  }) as unknown as typeof fetch;
  return { fetchFn, calls };
}

const client = (fetchFn: typeof fetch, apiUrl = 'https://api.anneal.test/') =>
  new AttemptStorageClient({ apiUrl, attemptId: 'att-1', attemptToken: TOKEN, fetch: fetchFn, tries: 4, retryInitialMs: 1, retryMaxMs: 5 });

const failure = async (promise: Promise<unknown>) => {
  const error = await promise.then(() => null, (e: unknown) => e);
  expect(error).toBeInstanceOf(AttemptStorageError);
  return error as AttemptStorageError;
};

describe('AttemptStorageClient', () => {
  it('POSTs to the slot route under the API base URL with the attempt token, and returns the parsed URL', async () => {
    const { fetchFn, calls } = scripted({ status: 200, body: URL_OK });
    expect(await client(fetchFn, 'https://api.anneal.test/v1/').upload({ kind: 'checkpoint', number: 1 })).toEqual(URL_OK);
    expect(calls).toEqual([{ url: 'https://api.anneal.test/v1/attempts/att-1/uploads/checkpoint-001', method: 'POST', authorization: `Bearer ${TOKEN}` }]);
    const second = scripted({ status: 200, body: { getUrl: 'http://s3.test/d?X-Amz-Signature=a', expiresAt: URL_OK.expiresAt } }, { status: 200, body: { getUrl: 'http://s3.test/c', step: 4, sizeBytes: null, expiresAt: URL_OK.expiresAt } });
    await client(second.fetchFn).datasetDownload();
    await client(second.fetchFn).resumeCheckpointDownload();
    expect(second.calls.map((call) => call.url)).toEqual(['https://api.anneal.test/v1/attempts/att-1/downloads/dataset', 'https://api.anneal.test/v1/attempts/att-1/downloads/resume-checkpoint']);
  });

  it('retries network failures, 5xx and 429 with backoff, then succeeds', async () => {
    const { fetchFn, calls } = scripted(new TypeError('fetch failed'), { status: 503, body: { code: 'service_unavailable' } }, { status: 429, headers: { 'retry-after': '0' } }, { status: 200, body: URL_OK });
    expect((await client(fetchFn).upload({ kind: 'artifact' })).key).toBe(URL_OK.key);
    expect(calls).toHaveLength(4);
  });

  it('gives up after its tries, saying what it last saw', async () => {
    const { fetchFn, calls } = scripted({ status: 502 }, { status: 503 }, new TypeError('fetch failed'), { status: 500, body: { code: 'internal_error' } });
    const error = await failure(client(fetchFn).upload({ kind: 'logs' }));
    expect(error.code).toBe('unreachable');
    expect(error.message).toBe('could not get an upload URL for logs from the API after 4 tries (last: HTTP 500 internal_error)');
    expect(calls).toHaveLength(4);
  });

  it('never retries a 401: the attempt has ended (attempt_token_revoked) or the token is wrong', async () => {
    const revoked = scripted({ status: 401, body: { code: 'attempt_token_revoked', message: 'This attempt has ended.' } }, { status: 200, body: URL_OK });
    const ended = await failure(client(revoked.fetchFn).upload({ kind: 'artifact' }));
    expect([ended.code, ended.status, ended.apiCode]).toEqual(['attempt_ended', 401, 'attempt_token_revoked']);
    expect(revoked.calls).toHaveLength(1);
    const invalid = scripted({ status: 401, body: { code: 'attempt_token_invalid' } });
    expect((await failure(client(invalid.fetchFn).datasetDownload())).code).toBe('refused');
  });

  it('never retries other refusals, and keeps the API code and sentence', async () => {
    const { fetchFn, calls } = scripted({ status: 400, body: { code: 'invalid_upload_slot', message: "There is no upload slot 'checkpoint-009'." } });
    const error = await failure(client(fetchFn).upload({ kind: 'checkpoint', number: 9 }));
    expect([error.code, error.status, error.apiCode]).toEqual(['refused', 400, 'invalid_upload_slot']);
    expect(error.message).toBe("the API refused an upload URL for checkpoint-009: HTTP 400 invalid_upload_slot: There is no upload slot 'checkpoint-009'.");
    expect(calls).toHaveLength(1);
    const none = scripted({ status: 404, body: { code: 'no_resume_checkpoint', message: 'none' } });
    expect((await failure(client(none.fetchFn).resumeCheckpointDownload())).apiCode).toBe('no_resume_checkpoint');
  });

  it('refuses a 200 whose body is not a presigned URL', async () => {
    const { fetchFn } = scripted({ status: 200, body: { key: 'k', putUrl: 'not a url', expiresAt: URL_OK.expiresAt } });
    expect((await failure(client(fetchFn).upload({ kind: 'artifact' }))).code).toBe('invalid_response');
  });

  it('stops retrying when its signal aborts', async () => {
    const controller = new AbortController();
    const fetchFn = (async () => {
      controller.abort();
      throw new TypeError('fetch failed');
    }) as unknown as typeof fetch;
    const error = await failure(client(fetchFn).datasetDownload(controller.signal));
    expect(error.message).toBe('asking the API for the dataset URL was stopped');
  });

  it('never puts the token or a URL into an error message', async () => {
    const network = new TypeError('fetch failed', { cause: new Error(`connect ECONNREFUSED https://api.anneal.test/v1?token=${TOKEN}`) });
    const { fetchFn } = scripted(network, network, network, network);
    const error = await failure(client(fetchFn).upload({ kind: 'artifact' }));
    expect(error.message).not.toContain(TOKEN);
    expect(error.message).toContain('[url]');
  });
});

describe('assignmentNeedsStorageApi', () => {
  it('is false only when the assignment carries every URL it needs', () => {
    const full = buildAssignment('n1', 'a1');
    expect(assignmentNeedsStorageApi(full)).toBe(false);
    expect(assignmentNeedsStorageApi(buildAssignment('n1', 'a1', { urls: false }))).toBe(true);
    expect(assignmentNeedsStorageApi({ ...full, dataset: { sizeBytes: 1, sha256: null } })).toBe(true);
    expect(assignmentNeedsStorageApi({ ...full, resumeCheckpoint: { step: 3, sizeBytes: null } })).toBe(true);
    expect(assignmentNeedsStorageApi({ ...full, resumeCheckpoint: { step: 3, sizeBytes: null, getUrl: 'http://s3.test/c' } })).toBe(false);
    expect(assignmentNeedsStorageApi({ ...full, uploads: { ...full.uploads!, logs: undefined } })).toBe(true);
    expect(assignmentNeedsStorageApi({ ...full, uploads: { ...full.uploads!, artifact: undefined } })).toBe(true);
    expect(assignmentNeedsStorageApi({ ...full, uploads: { ...full.uploads!, checkpoints: undefined } })).toBe(true);
  });
});
