import { createHeartbeatKey, createNodeKeys, type JoinRequest } from '@anneal/providers';
import { describe, expect, it } from 'vitest';
import { joinNode, joinUrl, type FetchFn } from './join.client.js';

const request: JoinRequest = {
  schemaVersion: 1,
  joinToken: 'join-token-123',
  publicKey: createNodeKeys().publicKey,
  gpus: [{ index: 0, name: 'NVIDIA L4', gpuId: 'l4', vramTotalMb: 23034, vramUsedMb: 0, utilizationPct: 0, temperatureC: 40, powerW: 16 }],
  priceMicrosPerGpuHour: '450000',
  region: null,
  agentVersion: '0.1.0',
  hostname: 'gpu-box',
  simulated: false,
};

const respond = (status: number, body: unknown): FetchFn => async () => ({ ok: status < 300, status, text: async () => JSON.stringify(body) });

describe('joinNode', () => {
  it('posts to /v1/provider/nodes/join whatever the base URL looks like', () => {
    expect(joinUrl('https://api.anneal.dev')).toBe('https://api.anneal.dev/v1/provider/nodes/join');
    expect(joinUrl('https://api.anneal.dev/v1/')).toBe('https://api.anneal.dev/v1/provider/nodes/join');
  });

  it('sends the request as JSON and returns the validated response', async () => {
    const response = {
      schemaVersion: 1,
      nodeId: 'node-1',
      natsUrl: 'nats://127.0.0.1:4222',
      natsAuth: { kind: 'none' },
      subjectPrefix: '',
      nodeToken: 'node-token-0123456789',
      apiPublicKey: createNodeKeys().publicKey,
      heartbeatKey: createHeartbeatKey(),
    };
    let sent: { url: string; body: string } | null = null;
    const fetchFn: FetchFn = async (url, init) => {
      sent = { url, body: init.body };
      return { ok: true, status: 201, text: async () => JSON.stringify(response) };
    };
    await expect(joinNode(fetchFn, 'http://api', request)).resolves.toEqual(response);
    expect(sent!.url).toBe('http://api/v1/provider/nodes/join');
    expect(JSON.parse(sent!.body)).toEqual(request);
  });

  it("passes the API's error code and message on", async () => {
    await expect(joinNode(respond(401, { code: 'join_token_invalid', message: 'This join token has expired.' }), 'http://api', request)).rejects.toThrow(
      'The API refused the registration (HTTP 401, join_token_invalid): This join token has expired.',
    );
  });

  it('refuses a response that does not match the contract', async () => {
    await expect(joinNode(respond(201, { nodeId: 'n1' }), 'http://api', request)).rejects.toMatchObject({ code: 'join_failed' });
  });
});
