import { cleanup, fireEvent, screen } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { json, renderWithApi } from '../../../test-utils.js';
import { AdminDisputePage } from './admin-disputes-pages.js';

afterEach(cleanup);

const money = (micros: string) => ({ micros, usd: '' });
const dispute = {
  id: '0193a0c8-7a2e-7c4e-9d41-3f2b8c1d5e6f',
  role: 'admin',
  jobId: '0193a0c8-0000-7c4e-9d41-3f2b8c1d5e6f',
  attemptId: 'a',
  nodeId: 'n',
  providerKind: 'community',
  reason: 'node_failed',
  status: 'answered',
  charged: money('2400000'),
  resolution: null,
  refund: null,
  createdAt: '2026-11-22T08:00:00Z',
  resolvedAt: null,
  description: 'The node vanished after ten minutes.',
  providerStatement: 'Power cut at the host.',
  providerRespondedAt: '2026-11-22T08:10:00Z',
  suggestion: { outcome: 'partial_refund', refund: money('1800000'), reason: 'The node was offline for the last 45 min of the attempt.', findings: ['offline 45 min before the end'] },
  evidence: {
    assembledAt: '',
    attempt: { id: 'a', number: 1, providerKind: 'community', status: 'ended', endReason: 'node_lost', runningAt: '2026-11-22T07:00:00Z', endedAt: '2026-11-22T08:00:00Z' },
    gpu: { offeredModel: 'rtx-4090', offeredCount: 1, reportedName: 'NVIDIA GeForce RTX 4090', reportedCount: 1, matches: true },
    heartbeats: { gaps: [{ from: '2026-11-22T07:15:00Z', to: '2026-11-22T08:00:00Z', seconds: 2700, state: 'offline' }], offlineBeforeEndSeconds: 2700, events: [] },
    telemetry: { summary: { sampleCount: 15, utilizationPctMean: 91, temperatureCMax: 77, powerWMean: 400 } },
    stepTime: { measured: null, benchmark: null, ratioToP90: null },
    events: [],
    logs: [],
    metering: { billableSeconds: 3600, priceMicrosPerGpuHour: '2400000', gpuCount: 1, costMicros: '2400000', chargedMicros: '2400000', providerShareMicros: '1920000', platformFeeMicros: '480000' },
    ledger: [],
  },
  resolutionNote: null,
  updatedAt: '',
};

describe('AdminDisputePage', () => {
  it('shows the evidence and the suggestion, and resolves with the suggested partial refund in dollars', async () => {
    const { requests } = renderWithApi(<AdminDisputePage disputeId={dispute.id} />, (url, init) => {
      if (init.method === 'POST') return json(200, { ...dispute, status: 'resolved', resolution: 'partial_refund', refund: money('1800000') });
      return json(200, dispute);
    });
    await screen.findByText(/offline 45 min from 07:15 UTC/);
    // The suggestion, and the note it prefills (filled in once the evidence has rendered).
    await vi.waitFor(() => expect(screen.getAllByText(/The node was offline for the last 45 min/)).toHaveLength(2));
    expect((screen.getByLabelText('Resolution') as HTMLSelectElement).value).toBe('partial_refund');
    expect((screen.getByLabelText('Refund (USD)') as HTMLInputElement).value).toBe('1.80');
    fireEvent.change(screen.getByLabelText('Reliability penalty for the node'), { target: { value: '0.25' } });
    fireEvent.click(screen.getByRole('checkbox', { name: /Quarantine the node/ }));
    fireEvent.click(screen.getByRole('button', { name: 'Resolve dispute' }));
    await vi.waitFor(() => expect(requests.some((r) => r.method === 'POST')).toBe(true));
    expect(requests.find((r) => r.method === 'POST')).toEqual({
      url: `/v1/admin/disputes/${dispute.id}/resolve`,
      method: 'POST',
      body: { resolution: 'partial_refund', refundUsd: '1.80', note: 'The node was offline for the last 45 min of the attempt.', reliabilityPenalty: 0.25, quarantineNode: true },
    });
  });
});
