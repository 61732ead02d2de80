import { cleanup, fireEvent, screen } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { json, renderWithApi } from '../../../test-utils.js';
import type { ProviderNode } from '../api/nodes.api.js';
import { NodeControls, dollarsFromMicros } from './node-controls.js';
import { seriesOf } from './telemetry-charts.js';

afterEach(cleanup);

const node: ProviderNode = {
  id: '0193a0c8-7a2e-7c4e-9d41-3f2b8c1d5e6f',
  hostname: 'gpu-box-1',
  status: 'online',
  statusSince: '2026-11-22T07:00:00Z',
  agentState: 'idle',
  agentVersion: '0.1.0',
  lastHeartbeatAt: '2026-11-22T07:59:58Z',
  gpuModelId: 'rtx-4090',
  gpuName: 'RTX 4090',
  gpuCount: 2,
  vramGb: 24,
  region: 'eu-west',
  priceMicrosPerGpuHour: '450000',
  listed: true,
  draining: false,
  simulated: true,
  reliability: 0.987,
  runningAttempt: null,
  telemetry: [],
  createdAt: '2026-11-22T06:00:00Z',
};

describe('NodeControls', () => {
  it('sends the typed price as integer micro-dollars, and unlists', async () => {
    const { requests } = renderWithApi(<NodeControls node={node} />, (_url, init) => json(200, { ...node, ...JSON.parse(String(init.body)) }));
    const price = screen.getByLabelText('Price per GPU-hour (USD)') as HTMLInputElement;
    expect(price.value).toBe('0.45');
    expect((screen.getByRole('button', { name: 'Set price' }) as HTMLButtonElement).disabled).toBe(true); // unchanged
    fireEvent.change(price, { target: { value: '0.1234567' } });
    expect(screen.getByText('Enter a price in dollars, like 0.45.')).toBeTruthy();
    fireEvent.change(price, { target: { value: '0.52' } });
    fireEvent.click(screen.getByRole('button', { name: 'Set price' }));
    await vi.waitFor(() => expect(requests).toHaveLength(1));
    expect(requests[0]).toEqual({ url: `/v1/provider/nodes/${node.id}`, method: 'PATCH', body: { priceMicrosPerGpuHour: '520000' } });
    await screen.findByText('Saved: new jobs see this price.');
    fireEvent.click(screen.getByRole('button', { name: 'Unlist' }));
    await vi.waitFor(() => expect(requests).toHaveLength(2));
    expect(requests[1]?.body).toEqual({ listed: false });
  });

  it('shows the API sentence when the price is refused', async () => {
    renderWithApi(<NodeControls node={node} />, () =>
      json(400, { code: 'validation_failed', message: 'Some fields are not valid: priceMicrosPerGpuHour must be a positive integer number of micro-dollars (at most 1000 USD).', requestId: 'r9' }),
    );
    fireEvent.change(screen.getByLabelText('Price per GPU-hour (USD)'), { target: { value: '5000' } });
    fireEvent.click(screen.getByRole('button', { name: 'Set price' }));
    expect((await screen.findByRole('alert')).textContent).toContain('at most 1000 USD');
  });
});

describe('provider helpers', () => {
  it('turns micro-dollars into the dollars a person types', () => {
    expect(dollarsFromMicros('450000')).toBe('0.45');
    expect(dollarsFromMicros('3673000')).toBe('3.673');
    expect(dollarsFromMicros('1000000')).toBe('1.00');
    expect(dollarsFromMicros('1234567')).toBe('1.234567');
  });

  it('makes one chart series per GPU from telemetry samples', () => {
    const { points, keys } = seriesOf(
      [
        { at: '2026-11-22T07:00:00Z', runningAttemptId: null, gpus: [{ index: 0, utilizationPct: 10, temperatureC: 40 }, { index: 1, utilizationPct: 90, temperatureC: 70 }] },
        { at: '2026-11-22T07:00:02Z', runningAttemptId: null, gpus: [{ index: 0, utilizationPct: null }, { index: 1, utilizationPct: 95 }] },
      ],
      'utilizationPct',
    );
    expect(keys).toEqual(['gpu0', 'gpu1']);
    expect(points).toEqual([
      { at: Date.parse('2026-11-22T07:00:00Z'), gpu0: 10, gpu1: 90 },
      { at: Date.parse('2026-11-22T07:00:02Z'), gpu0: null, gpu1: 95 },
    ]);
  });
});
